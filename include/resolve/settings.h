/*-------------------------------------------------------------------------
 *
 * settings.h
 *	  The recovery settings a resolution emits: restore_command for an
 *	  archive and postgresql.conf lines.
 *
 *-------------------------------------------------------------------------
 */
#ifndef PITR_RESOLVE_SETTINGS_H
#define PITR_RESOLVE_SETTINGS_H

#include "format/compression.h"

/*
 * restore_command for a flat archive directory: it fetches a file (segment
 * or history) by trying its copies in pitr_fetch_order, the same order in
 * which the scanner chooses the copy it indexes.  held[c] says whether the
 * archive holds any file compressed with c (plain copies are always tried).
 */
extern char *pitr_flat_restore_command(const char *dir,
									   const bool held[PITR_NUM_COMPRESSIONS]);

#endif							/* PITR_RESOLVE_SETTINGS_H */
