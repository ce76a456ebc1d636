/*-------------------------------------------------------------------------
 *
 * resolve_internal.h
 *	  Shared by the files of the resolution pipeline (src/resolve/):
 *	  resolving a target along one timeline (backup_choice.c), called by
 *	  the pipeline (pipeline.c).  Everything here runs inside the SPI
 *	  connection resolve_target opens (query.c).
 *
 *-------------------------------------------------------------------------
 */
#ifndef PITR_RESOLVE_INTERNAL_H
#define PITR_RESOLVE_INTERNAL_H

#include "resolve/model.h"
#include "resolve/query.h"
#include "resolve/resolution.h"
#include "resolve/walk.h"

/* What one timeline's resolution is asked (the stop kinds of the walk). */
typedef struct PitrTimelineQuery
{
	PitrTargetKind kind;		/* TIME, LSN, XID, MARK, NAME, IMMEDIATE */
	TimestampTz t;
	XLogRecPtr	lsn;
	TransactionId xid;
	const char *name;
	bool		inclusive;
	const char *pin_backup;		/* backup_label argument, or NULL */
	XLogRecPtr	want_lsn;		/* name: the restore point's record */
} PitrTimelineQuery;

extern void pitr_resolve_on_timeline(const PitrArchiveInfo *a, TimeLineID tli,
									 const PitrTimelineQuery *q,
									 PitrResolution *r);

#endif							/* PITR_RESOLVE_INTERNAL_H */
