/*-------------------------------------------------------------------------
 *
 * read_ahead.h
 *	  What recovery reads past its stop record, under the settings
 *	  pitr_restore emits, and the check that none of it stops recovery.
 *
 *-------------------------------------------------------------------------
 */
#ifndef PITR_RESOLVE_READ_AHEAD_H
#define PITR_RESOLVE_READ_AHEAD_H

#include "resolve/resolution.h"

/*
 * The first segment recovery reads from the stop's segment on (through the
 * one holding the end of the stop record, wal_last) whose plain copy in the
 * archive has the wrong size, as a sentence; NULL if none.  Runs inside
 * resolve_target's SPI connection.
 */
extern char *pitr_read_ahead_problem(const PitrResolution *r, int segsize);

#endif							/* PITR_RESOLVE_READ_AHEAD_H */
