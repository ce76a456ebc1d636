/*-------------------------------------------------------------------------
 *
 * walscan.h
 *	  Walking WAL with the server's XLogReader over any source of segments,
 *	  and summarising one segment for the archive index.
 *
 *-------------------------------------------------------------------------
 */
#ifndef PITR_WALSCAN_H
#define PITR_WALSCAN_H

#include "access/rmgr.h"
#include "access/xlog_internal.h"
#include "access/xlogreader.h"
#include "catalog/pg_control.h"
#include "datatype/timestamp.h"
#include "nodes/pg_list.h"

/* pitr_record_layout_error and pitr_xact_end, for the walk's callers. */
#include "xact_record.h"

/*
 * Where pages come from: copy the XLOG_BLCKSZ page at pageptr into dest and
 * give the timeline of the file it came from; false when the segment is not
 * available.
 */
typedef bool (*PitrPageGetter) (void *arg, XLogRecPtr pageptr, char *dest,
								TimeLineID *tli);

/* Called for each record in WAL order; return false to stop the walk. */
typedef bool (*PitrRecordVisitor) (XLogReaderState *reader, void *arg);

typedef struct PitrWalk
{
	XLogRecPtr	first_lsn;		/* start of the first record read */
	XLogRecPtr	last_lsn;		/* start of the last record read */
	XLogRecPtr	last_end;		/* end of the last record read */
	bool		stopped;		/* the visitor asked to stop */
	bool		missing;		/* a segment was not available */
	XLogSegNo	missing_segno;
	char	   *error;			/* the reader's complaint about the WAL */
	XLogSegNo	error_segno;	/* the segment being read at the time */
} PitrWalk;

extern void pitr_wal_walk(int segsize, uint64 sysid,
						  PitrPageGetter getter, void *getter_arg,
						  XLogRecPtr start, bool find_first,
						  PitrRecordVisitor visit, void *visit_arg,
						  PitrWalk *walk);

typedef enum PitrEventKind
{
	PITR_EVENT_RESTORE_POINT,
	PITR_EVENT_BACKUP_END,
	PITR_EVENT_END_OF_RECOVERY,
	PITR_EVENT_WAL_LEVEL,
	PITR_EVENT_PREPARE,
	PITR_EVENT_FINISH_PREPARED,
	PITR_EVENT_SWITCH,
	PITR_EVENT_SHUTDOWN,
	PITR_EVENT_MARK				/* a transaction marked by mark_transaction() */
} PitrEventKind;

/* The logical message prefix mark_transaction() writes. */
#define PITR_MARK_PREFIX "pitr_restore.mark"

/* A record worth remembering in the index. */
typedef struct PitrWalEvent
{
	PitrEventKind kind;
	XLogRecPtr	lsn;
	XLogRecPtr	end_lsn;
	char	   *name;			/* restore point name, prepared GID, wal_level */
	TimestampTz time;
	bool		has_time;
	TransactionId xid;
	XLogRecPtr	ref_lsn;		/* backup end: the backup's start */
	TimeLineID	tli;			/* end of recovery: new and previous TLI */
	TimeLineID	prev_tli;
	const char *outcome;		/* mark: "committed", "aborted" or NULL */
} PitrWalEvent;

extern const char *pitr_event_kind_name(PitrEventKind kind);

/* What the index keeps of one segment: the records that end in it. */
typedef struct PitrSegmentSummary
{
	XLogRecPtr	first_lsn;
	XLogRecPtr	next_lsn;		/* end of the last record ending here */
	/*
	 * The link to the predecessor: the xl_prev of the record at first_lsn,
	 * which must be the start of the predecessor's last record, and the
	 * start of this segment's own last record (has_link: both known).
	 */
	bool		has_link;
	XLogRecPtr	first_prev;
	XLogRecPtr	last_lsn;
	int64		records;
	int64		commits;
	int64		aborts;
	bool		has_xact_time;
	TimestampTz first_xact_time;	/* in WAL order */
	TimestampTz last_xact_time;
	TimestampTz min_xact_time;
	TimestampTz max_xact_time;
	bool		has_xid;
	TransactionId min_xid;
	TransactionId max_xid;
	bool		has_switch;
	bool		wal_level_minimal;
	List	   *events;			/* PitrWalEvent * */
	int			pending_marks;	/* marks whose transaction has not ended */
	bool		complete;		/* valid WAL runs through the segment */
	char	   *error;			/* why valid WAL stops inside it */
	struct PitrRelSet *rels;	/* relation files touched (relset.h); NULL
								 * when not known (a format 1 or 2 sidecar,
								 * or one that touches too many to list) */
} PitrSegmentSummary;

/*
 * Summarise segment "segno".  "start" is where the first record ending in
 * it begins (the previous segment's next_lsn), or invalid to find the first
 * record that begins in it.
 */
extern void pitr_summarize_segment(int segsize, uint64 sysid,
								   PitrPageGetter getter, void *getter_arg,
								   XLogSegNo segno, XLogRecPtr start,
								   PitrSegmentSummary *sum);

/*
 * The segment in which a record ends.  Inline: it runs for every record.
 * After a switch EndRecPtr jumps to the next segment, so use the start.
 */
static inline XLogSegNo
pitr_record_end_segno(XLogReaderState *reader, int segsize)
{
	XLogSegNo	segno;

	if (XLogRecGetRmid(reader) == RM_XLOG_ID &&
		(XLogRecGetInfo(reader) & ~XLR_INFO_MASK) == XLOG_SWITCH)
		XLByteToSeg(reader->ReadRecPtr, segno, segsize);
	else
		XLByteToSeg(reader->EndRecPtr - 1, segno, segsize);
	return segno;
}

#endif							/* PITR_WALSCAN_H */
