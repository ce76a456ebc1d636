/*-------------------------------------------------------------------------
 *
 * certify.h
 *	  Certifying a resolution against the archive as it is at the call:
 *	  the files on its path against the index, its stop record against the
 *	  WAL itself, and an index being refreshed by another session.
 *
 *-------------------------------------------------------------------------
 */
#ifndef PITR_RESOLVE_CERTIFY_H
#define PITR_RESOLVE_CERTIFY_H

#include "resolve/resolution.h"

/*
 * Check a resolution just made (r), for a target of kind "kind" and, for a
 * restore point or mark, its name (else NULL).  Returns true when the
 * index was brought up to date meanwhile and the caller must resolve again
 * ("attempt" counts the resolutions so far, from 0); otherwise r is final:
 * still reachable only if every check passed, else unreachable with the
 * reason.  Runs inside resolve_target's SPI connection.
 */
extern bool pitr_certify_resolution(PitrResolution *r, PitrTargetKind kind,
									const char *name, int attempt);

#endif							/* PITR_RESOLVE_CERTIFY_H */
