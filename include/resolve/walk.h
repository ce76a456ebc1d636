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

#include "access/xlogdefs.h"
#include "datatype/timestamp.h"
#include "fmgr.h"

typedef enum PitrStopKind
{
	PITR_STOP_NONE,				/* walk to limit_lsn, noting transactions */
	PITR_STOP_TIME,
	PITR_STOP_LSN,
	PITR_STOP_XID,
	PITR_STOP_NAME
} PitrStopKind;

/* What recovery would stop at (recoveryStopsBefore/After). */
typedef struct PitrStopQuery
{
	PitrStopKind kind;
	TimestampTz target_time;
	XLogRecPtr	target_lsn;
	TransactionId target_xid;
	const char *target_name;
	bool		inclusive;
	XLogRecPtr	limit_lsn;		/* stop looking here; invalid: no limit */

	/*
	 * With kind PITR_STOP_LSN: the record at target_lsn must be a checkpoint
	 * whose redo point is the walk's start (a base backup's CHECKPOINT
	 * LOCATION, which recovery reads first); else not found, with a problem.
	 */
	bool		check_checkpoint;
} PitrStopQuery;

/* A transaction end seen by the walk. */
typedef struct PitrXact
{
	bool		valid;
	TransactionId xid;
	TimestampTz time;
	bool		commit;
	XLogRecPtr	lsn;
} PitrXact;

typedef struct PitrWalkOutcome
{
	bool		found;
	XLogRecPtr	stop_lsn;		/* the stop record's start */
	XLogRecPtr	stop_end;		/* and end */
	bool		stop_before;
	PitrXact	last;			/* last transaction end before the stop */
	PitrXact	next;			/* first one at or after it */
	XLogRecPtr	walk_end;		/* end of the last record read */
	char	   *problem;		/* not found: why (missing or bad WAL) */
	int64		records;
} PitrWalkOutcome;

/*
 * Which timeline of a path (oldest first, each with the segment in which
 * it begins) serves a segment: the newest that had begun by then, whose
 * file recovery reads.  Returns its index in the path.
 */
static inline int
pitr_path_serving(int npath, const XLogSegNo *beginseg, XLogSegNo segno)
{
	int			serving = 0;

	for (int i = 0; i < npath; i++)
		if (beginseg[i] <= segno)
			serving = i;
	return serving;
}

/*
 * The same rule as ranges: the segment numbers timeline i of the path
 * serves, lo to hi exclusive (PG_INT64_MAX for the last), from the segment
 * it begins in to the one the next begins in.
 */
static inline void
pitr_path_served(int npath, const XLogSegNo *beginseg, int i,
				 int64 *lo, int64 *hi)
{
	*lo = (int64) beginseg[i];
	*hi = (i + 1 < npath) ? (int64) beginseg[i + 1] : PG_INT64_MAX;
}

/*
 * Walk from start along a path (timelines oldest first, each with the LSN
 * at which it begins).  Within one transaction and command, successive
 * walks of the same archive and path share one segment source, so each
 * segment is read and decompressed at most once per resolution.
 */
extern void pitr_walk_path(int archive_id, int npath, const TimeLineID *tlis,
						   const XLogRecPtr *begins, XLogRecPtr start,
						   const PitrStopQuery *q, PitrWalkOutcome *out);

#endif							/* PITR_RESOLVE_WALK_H */
