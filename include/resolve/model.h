/*-------------------------------------------------------------------------
 *
 * model.h
 *	  The recovery model (src/resolve/model.c): what recovery reads along a
 *	  timeline's history and which base backups it can start from.  Both
 *	  resolve_target and recovery_windows ask it; no rule is written twice.
 *
 *	  - a path: the timeline's ancestors and itself, each with the LSN
 *	    where it begins and ends, and for each segment number the timeline
 *	    whose file recovery reads (the newest one that had begun by then);
 *	  - gaps: the first segment recovery would miss between two LSNs, a
 *	    backup's own pg_wal bridging the archive's holes (carried WAL);
 *	  - backups: eligible when on the path, usable, consistent before the
 *	    stop; WAL they carry is not indexed, so a time target must lie a
 *	    second past their stop time;
 *	  - transactions: the latest one ending before an LSN, the last before
 *	    a stop and the first after it.
 *
 *-------------------------------------------------------------------------
 */
#ifndef PITR_RESOLVE_MODEL_H
#define PITR_RESOLVE_MODEL_H

#include "access/xlogdefs.h"
#include "datatype/timestamp.h"
#include "resolve/resolution.h"
#include "resolve/walk.h"

/* The archive being read. */
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
	XLogSegNo  *beginseg;		/* the segment each begins in */
	Datum		tli_arr;		/* the same as SQL arrays, for queries */
	Datum		begin_arr;
} PitrPath;

/* A base backup recovery may start from (backups(), usable, stopped). */
typedef struct PitrModelBackup
{
	char	   *label;
	char	   *location;
	char	   *format;
	TimeLineID	tli;
	XLogRecPtr	start;
	XLogRecPtr	stop;
	XLogRecPtr	checkpoint;		/* invalid when unknown */
	bool		has_stop_time;
	TimestampTz stop_time;
	bool		primary;		/* taken from a primary (backup_label) */
	Datum		carried;		/* text[] of the segments in its pg_wal */
	bool		has_carried;
} PitrModelBackup;

/* Segments a path took from a backup's own pg_wal. */
typedef struct PitrCarriedUse
{
	int			count;
	XLogSegNo	lo;
	XLogSegNo	hi;
	TimeLineID	tli;
} PitrCarriedUse;

/* The first segment recovery would miss. */
typedef struct PitrGap
{
	TimeLineID	tli;
	XLogSegNo	segno;
	bool		in_archive;		/* a file exists but cannot be used */
	char	   *status;			/* its status and detail, or NULL */
} PitrGap;

/* The parts of an archive_file row the searches use. */
typedef struct PitrSegmentRow
{
	bool		valid;
	XLogSegNo	segno;
	XLogRecPtr	first_lsn;
	XLogRecPtr	next_lsn;
	bool		has_max_time;
	TimestampTz max_commit_time;
} PitrSegmentRow;

/* A run of usable segments along a path, lo to hi inclusive. */
typedef struct PitrRun
{
	XLogSegNo	lo;
	XLogSegNo	hi;
	XLogRecPtr	end_lsn;		/* where its WAL ends */
} PitrRun;

/*
 * The archive: indexed archive "id" into *a; false if it holds no readable
 * WAL (a->directory NULL too if there is no such archive).
 */
extern bool pitr_model_archive(int id, PitrArchiveInfo *a);

/*
 * The archive "dir" (NULL: the session's archive_dir), indexed up to now
 * first (refresh_archive; check_files: every indexed file's size and
 * mtime compared with the directory too), into *a; false if it holds no
 * readable WAL.
 */
extern bool pitr_model_open_archive(const char *dir, bool check_files,
									PitrArchiveInfo *a);

/* paths */
extern PitrPath *pitr_model_path(const PitrArchiveInfo *a, TimeLineID tli);

/*
 * The archive a resolution read (its id and directory, with "segsize")
 * into *a, and the path to the resolution's timeline.
 */
extern PitrPath *pitr_model_resolution_path(const PitrResolution *r,
											int segsize, PitrArchiveInfo *a);

/*
 * The number of the segment a resolution's wal_first or wal_last names;
 * false if it names none (NULL, or not a segment's file name).
 */
extern bool pitr_model_wal_segno(const char *wal, int segsize,
								 XLogSegNo *segno);
extern XLogSegNo pitr_model_segno(const PitrArchiveInfo *a, XLogRecPtr lsn);
extern void pitr_model_path_range(const PitrArchiveInfo *a, const PitrPath *p,
								  int i, int64 *lo, int64 *hi);
extern TimeLineID pitr_model_serving_tli(const PitrArchiveInfo *a,
										 const PitrPath *p, XLogSegNo segno);
extern int	pitr_model_path_index(const PitrPath *p, TimeLineID tli,
								  XLogRecPtr lsn);
extern char *pitr_model_segment_name(const PitrArchiveInfo *a, TimeLineID tli,
									 XLogSegNo segno);
extern bool pitr_model_path_end(const PitrArchiveInfo *a, const PitrPath *p,
								XLogRecPtr *end);

extern PitrRun *pitr_model_runs(const PitrArchiveInfo *a, const PitrPath *p,
								int *n);

/* gaps */
extern bool pitr_model_gap(const PitrArchiveInfo *a, const PitrPath *p,
						   const PitrModelBackup *b, XLogRecPtr from, XLogRecPtr to,
						   PitrCarriedUse *use, PitrGap *gap);
extern char *pitr_model_gap_text(const PitrArchiveInfo *a, const PitrGap *gap);
extern bool pitr_model_carried_bridges(const PitrArchiveInfo *a,
									   const PitrPath *p, const PitrModelBackup *b,
									   XLogSegNo upto);

/* backups */
extern PitrModelBackup *pitr_model_backups(const PitrArchiveInfo *a, const char *pin,
									  int *n);
extern TimestampTz pitr_model_carried_time_floor(const PitrModelBackup *b);
extern bool pitr_model_carried_times_known(const PitrModelBackup *b);
extern bool pitr_model_carried_time_ok(const PitrModelBackup *b, TimestampTz t);

/* transactions */
extern void pitr_model_walk(const PitrArchiveInfo *a, const PitrPath *p,
							XLogRecPtr start, const PitrStopQuery *q,
							PitrWalkOutcome *o);
/* the nearest segment that ends a transaction (xact_segment.c) */
extern PitrSegmentRow pitr_model_xact_segment(const PitrArchiveInfo *a,
											  const PitrPath *p, XLogSegNo s,
											  bool forward, bool has_t,
											  TimestampTz t, bool incl);
extern bool pitr_model_latest_xact_before(const PitrArchiveInfo *a,
										  const PitrPath *p, XLogRecPtr lsn,
										  TimestampTz *t);
extern void pitr_model_find_last_xact(const PitrArchiveInfo *a,
									  const PitrPath *p, XLogRecPtr floor,
									  XLogRecPtr start,
									  const PitrCarriedUse *use,
									  PitrXact *last, bool *unknown);
extern PitrSegmentRow pitr_model_last_xact_segment(const PitrArchiveInfo *a,
												   const PitrPath *p,
												   XLogSegNo lo, XLogSegNo hi);
extern void pitr_model_find_next_xact(const PitrArchiveInfo *a,
									  const PitrPath *p, XLogRecPtr stop_point,
									  PitrXact *next);

#endif							/* PITR_RESOLVE_MODEL_H */
