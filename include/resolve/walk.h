/*-------------------------------------------------------------------------
 *
 * walk.h
 *	  Replaying recovery's stop decision over the archive's WAL along one
 *	  timeline history (src/resolve/walk.c).
 *
 *-------------------------------------------------------------------------
 */
#ifndef PITR_RESOLVE_WALK_H
#define PITR_RESOLVE_WALK_H

#include "fmgr.h"

extern Datum pitr_walk_to_stop(PG_FUNCTION_ARGS);

#endif							/* PITR_RESOLVE_WALK_H */
