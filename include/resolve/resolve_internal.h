/*-------------------------------------------------------------------------
 *
 * resolve_internal.h
 *	  Shared by the files of the resolution pipeline (src/resolve/): the
 *	  index queries it runs through SPI, a timeline's path, and resolving a
 *	  target along one timeline.  Everything here runs inside the SPI
 *	  connection resolve_target opens.
 *
 *-------------------------------------------------------------------------
 */
#ifndef PITR_RESOLVE_INTERNAL_H
#define PITR_RESOLVE_INTERNAL_H

#include "executor/spi.h"
#include "resolve/resolution.h"
#include "resolve/walk.h"

/* The archive being resolved against. */
typedef struct PitrArchiveInfo
{
	int			id;
	char	   *directory;
	int			segsize;
} PitrArchiveInfo;

/* A timeline's history, oldest first: where each begins and ends. */
typedef struct PitrPath
{
	int			n;
	TimeLineID *tli;
	XLogRecPtr *begin;
	XLogRecPtr *end;			/* InvalidXLogRecPtr for the last */
	Datum		tli_arr;		/* the same as SQL arrays, for queries */
	Datum		begin_arr;
} PitrPath;

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

/*
 * Run one of the pipeline's fixed queries (kept prepared across calls) and
 * return SPI_processed; the rows are in SPI_tuptable.
 */
extern uint64 pitr_resolve_query(const char *sql, int nargs, const Oid *types,
								 const Datum *values, const char *nulls,
								 bool read_only, long limit);
extern bool pitr_resolve_col_null(int row, int col);
extern Datum pitr_resolve_col(int row, int col);
extern char *pitr_resolve_col_text(int row, int col);

extern PitrPath *pitr_resolve_path(const PitrArchiveInfo *a, TimeLineID tli);
extern char *pitr_lsn_text(XLogRecPtr lsn);
extern char *pitr_timestamptz_text(TimestampTz t);

extern void pitr_resolve_on_timeline(const PitrArchiveInfo *a, TimeLineID tli,
									 const PitrTimelineQuery *q,
									 PitrResolution *r);

#endif							/* PITR_RESOLVE_INTERNAL_H */
