/*-------------------------------------------------------------------------
 *
 * walscan.c
 *	  Walk WAL with the server's own XLogReader, over a page-read callback
 *	  that serves pages from whatever gives whole segments (the archive's
 *	  files, decompressed), and summarise a segment for the index.
 *
 * A record belongs to the segment in which it ends: a segment's summary is
 * then final as soon as the segment is in the archive, whatever arrives
 * later.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/rmgr.h"
#include "access/xact.h"
#include "access/xlog.h"
#include "access/xlog_internal.h"
#include "catalog/pg_control.h"
#include "miscadmin.h"
#include "replication/message.h"
#include "utils/memutils.h"

#include "compat/pg_compat.h"
#include "relscan.h"
#include "walscan.h"
#include "xact_record.h"

typedef struct WalkPrivate
{
	int			segsize;
	PitrPageGetter getter;
	void	   *getter_arg;
	bool		missing;
	XLogSegNo	missing_segno;
	XLogSegNo	last_segno;
} WalkPrivate;

static int
walk_page_read(XLogReaderState *state, XLogRecPtr targetPagePtr, int reqLen,
			   XLogRecPtr targetRecPtr, char *readBuf)
{
	WalkPrivate *priv = (WalkPrivate *) state->private_data;
	XLogSegNo	segno;
	TimeLineID	tli = 0;

	XLByteToSeg(targetPagePtr, segno, priv->segsize);
	priv->last_segno = segno;
	if (!priv->getter(priv->getter_arg, targetPagePtr, readBuf, &tli))
	{
		priv->missing = true;
		priv->missing_segno = segno;
		return XLREAD_FAIL;
	}
	state->seg.ws_tli = tli;
	return XLOG_BLCKSZ;
}

static void
walk_segment_close(XLogReaderState *state)
{
	/* Pages come from memory: there is no file to close. */
}

void
pitr_wal_walk(int segsize, uint64 sysid,
			  PitrPageGetter getter, void *getter_arg,
			  XLogRecPtr start, bool find_first,
			  PitrRecordVisitor visit, void *visit_arg, PitrWalk *walk)
{
	WalkPrivate priv;
	XLogReaderState *reader;
	MemoryContext cxt;
	MemoryContext old;

	memset(walk, 0, sizeof(*walk));
	memset(&priv, 0, sizeof(priv));
	priv.segsize = segsize;
	priv.getter = getter;
	priv.getter_arg = getter_arg;

	/* The reader allocates as it goes: give it a context of its own. */
	cxt = AllocSetContextCreate(CurrentMemoryContext, "pitr_restore WAL reader",
								ALLOCSET_DEFAULT_SIZES);
	old = MemoryContextSwitchTo(cxt);

	reader = XLogReaderAllocate(segsize, NULL,
								XL_ROUTINE(.page_read = walk_page_read,
										   .segment_open = NULL,
										   .segment_close = walk_segment_close),
								&priv);
	if (reader == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_OUT_OF_MEMORY),
				 errmsg("out of memory"),
				 errdetail("Failed while allocating a WAL reading processor.")));
	reader->system_identifier = sysid;

	if (find_first)
	{
		XLogRecPtr	first = XLogFindNextRecord(reader, start);

		if (XLogRecPtrIsInvalid(first))
		{
			if (priv.missing)
			{
				walk->missing = true;
				walk->missing_segno = priv.missing_segno;
			}
			else
				walk->error = psprintf("no valid record found after %X/%X%s%s",
									   LSN_FORMAT_ARGS(start),
									   reader->errormsg_buf[0] ? ": " : "",
									   reader->errormsg_buf);
			MemoryContextSwitchTo(old);
			walk->error = walk->error ? pstrdup(walk->error) : NULL;
			MemoryContextDelete(cxt);
			return;
		}
	}
	else
		XLogBeginRead(reader, start);
	MemoryContextSwitchTo(old);

	/* The reader allocates in its context; the visitor in the caller's. */

	for (;;)
	{
		char	   *errormsg = NULL;
		XLogRecord *record;

		CHECK_FOR_INTERRUPTS();
		MemoryContextSwitchTo(cxt);
		record = XLogReadRecord(reader, &errormsg);
		MemoryContextSwitchTo(old);
		if (record == NULL)
		{
			if (priv.missing)
			{
				walk->missing = true;
				walk->missing_segno = priv.missing_segno;
			}
			else if (errormsg)
				walk->error = errormsg;
			else
				walk->error = "could not read WAL";
			walk->error_segno = priv.last_segno;
			break;
		}
		if (XLogRecPtrIsInvalid(walk->first_lsn))
			walk->first_lsn = reader->ReadRecPtr;
		walk->last_lsn = reader->ReadRecPtr;
		walk->last_end = reader->EndRecPtr;
		if (!visit(reader, visit_arg))
		{
			walk->stopped = true;
			break;
		}
	}

	if (walk->error)
		walk->error = pstrdup(walk->error);
	XLogReaderFree(reader);
	MemoryContextDelete(cxt);
}

const char *
pitr_event_kind_name(PitrEventKind kind)
{
	switch (kind)
	{
		case PITR_EVENT_RESTORE_POINT:
			return "restore_point";
		case PITR_EVENT_BACKUP_END:
			return "backup_end";
		case PITR_EVENT_END_OF_RECOVERY:
			return "end_of_recovery";
		case PITR_EVENT_WAL_LEVEL:
			return "wal_level";
		case PITR_EVENT_PREPARE:
			return "prepare";
		case PITR_EVENT_FINISH_PREPARED:
			return "finish_prepared";
		case PITR_EVENT_SWITCH:
			return "switch";
		case PITR_EVENT_SHUTDOWN:
			return "shutdown_checkpoint";
		case PITR_EVENT_MARK:
			return "mark";
	}
	return "?";
}

/*
 * The subtransactions a (validated) commit or abort record lists: a mark
 * made inside a released savepoint carries the subtransaction's xid.
 */
static bool
xact_lists_subxact(XLogReaderState *r, TransactionId subxid)
{
	uint8		op = (XLogRecGetInfo(r) & ~XLR_INFO_MASK) & XLOG_XACT_OPMASK;
	TransactionId *subxacts;
	int			n;

	if (op == XLOG_XACT_COMMIT || op == XLOG_XACT_COMMIT_PREPARED)
	{
		xl_xact_parsed_commit parsed;

		ParseCommitRecord(XLogRecGetInfo(r), (xl_xact_commit *) XLogRecGetData(r), &parsed);
		subxacts = parsed.subxacts;
		n = parsed.nsubxacts;
	}
	else
	{
		xl_xact_parsed_abort parsed;

		ParseAbortRecord(XLogRecGetInfo(r), (xl_xact_abort *) XLogRecGetData(r), &parsed);
		subxacts = parsed.subxacts;
		n = parsed.nsubxacts;
	}
	for (int i = 0; i < n; i++)
	{
		TransactionId x;

		memcpy(&x, &subxacts[i], sizeof(x));
		if (x == subxid)
			return true;
	}
	return false;
}

typedef struct SummaryState
{
	int			segsize;
	XLogSegNo	segno;
	PitrSegmentSummary *sum;
	bool		passed_end;
	char	   *bad_record;		/* why a record's layout is impossible */
} SummaryState;

static PitrWalEvent *
add_event(PitrSegmentSummary *sum, PitrEventKind kind, XLogReaderState *r)
{
	PitrWalEvent *ev = palloc0(sizeof(PitrWalEvent));

	ev->kind = kind;
	ev->lsn = r->ReadRecPtr;
	ev->end_lsn = r->EndRecPtr;
	ev->xid = XLogRecGetXid(r);
	sum->events = lappend(sum->events, ev);
	return ev;
}

/*
 * Widen the segment's xid range.  Called for nearly every record, so the
 * wraparound-aware comparison is done inline (as TransactionIdPrecedes
 * does for normal xids).
 */
static inline void
note_xid(PitrSegmentSummary *sum, TransactionId xid)
{
	if (!TransactionIdIsNormal(xid))
		return;
	if (!sum->has_xid)
	{
		sum->has_xid = true;
		sum->min_xid = sum->max_xid = xid;
	}
	else if ((int32) (xid - sum->min_xid) < 0)
		sum->min_xid = xid;
	else if ((int32) (xid - sum->max_xid) > 0)
		sum->max_xid = xid;
}

/* A marked transaction that ends in this segment: say how. */
static void
note_mark_outcome(XLogReaderState *r, PitrSegmentSummary *sum,
				  TransactionId xid, TimestampTz t, bool commit)
{
	ListCell   *lc;

	if (sum->pending_marks == 0)
		return;
	foreach(lc, sum->events)
	{
		PitrWalEvent *ev = lfirst(lc);

		if (ev->kind != PITR_EVENT_MARK || ev->outcome != NULL)
			continue;
		/* A mark made in a subtransaction belongs to its top level. */
		if (ev->xid != xid && xact_lists_subxact(r, ev->xid))
			ev->xid = xid;
		if (ev->xid == xid)
		{
			ev->outcome = commit ? "committed" : "aborted";
			ev->time = t;
			ev->has_time = true;
			sum->pending_marks--;
		}
	}
}

/* A logical message from mark_transaction() names a marked transaction. */
static void
summarize_message_record(XLogReaderState *r, PitrSegmentSummary *sum)
{
	xl_logical_message *msg = (xl_logical_message *) XLogRecGetData(r);
	PitrWalEvent *ev;

	if ((XLogRecGetInfo(r) & ~XLR_INFO_MASK) != XLOG_LOGICAL_MESSAGE ||
		XLogRecGetDataLen(r) < SizeOfLogicalMessage ||
		!msg->transactional ||
		msg->prefix_size != sizeof(PITR_MARK_PREFIX) ||
		XLogRecGetDataLen(r) < SizeOfLogicalMessage + msg->prefix_size + msg->message_size ||
		memcmp(msg->message, PITR_MARK_PREFIX, sizeof(PITR_MARK_PREFIX)) != 0 ||
		msg->message_size == 0 || msg->message_size >= 64)
		return;
	ev = add_event(sum, PITR_EVENT_MARK, r);
	/* Recovery targets the top-level transaction, not a subtransaction. */
	if (TransactionIdIsValid(XLogRecGetTopXid(r)))
		ev->xid = XLogRecGetTopXid(r);
	ev->name = pnstrdup(msg->message + msg->prefix_size, msg->message_size);
	sum->pending_marks++;
}

static void
summarize_xlog_record(XLogReaderState *r, PitrSegmentSummary *sum)
{
	uint8		info = XLogRecGetInfo(r) & ~XLR_INFO_MASK;
	PitrWalEvent *ev;

	switch (info)
	{
		case XLOG_RESTORE_POINT:
			{
				xl_restore_point *rp = (xl_restore_point *) XLogRecGetData(r);

				ev = add_event(sum, PITR_EVENT_RESTORE_POINT, r);
				ev->name = pnstrdup(rp->rp_name, MAXFNAMELEN - 1);
				ev->time = rp->rp_time;
				ev->has_time = true;
				break;
			}
		case XLOG_BACKUP_END:
			ev = add_event(sum, PITR_EVENT_BACKUP_END, r);
			memcpy(&ev->ref_lsn, XLogRecGetData(r), sizeof(XLogRecPtr));
			break;
		case XLOG_END_OF_RECOVERY:
			{
				xl_end_of_recovery *eor = (xl_end_of_recovery *) XLogRecGetData(r);

				ev = add_event(sum, PITR_EVENT_END_OF_RECOVERY, r);
				ev->time = eor->end_time;
				ev->has_time = true;
				ev->tli = eor->ThisTimeLineID;
				ev->prev_tli = eor->PrevTimeLineID;
				break;
			}
		case XLOG_PARAMETER_CHANGE:
			{
				xl_parameter_change *pc = (xl_parameter_change *) XLogRecGetData(r);

				ev = add_event(sum, PITR_EVENT_WAL_LEVEL, r);
				ev->name = pstrdup(pc->wal_level == WAL_LEVEL_MINIMAL ? "minimal" :
								   pc->wal_level == WAL_LEVEL_REPLICA ? "replica" :
								   pc->wal_level == WAL_LEVEL_LOGICAL ? "logical" :
								   "unknown");
				if (pc->wal_level == WAL_LEVEL_MINIMAL)
					sum->wal_level_minimal = true;
				break;
			}
		case XLOG_SWITCH:
			add_event(sum, PITR_EVENT_SWITCH, r);
			sum->has_switch = true;
			break;
		case XLOG_CHECKPOINT_SHUTDOWN:
			add_event(sum, PITR_EVENT_SHUTDOWN, r);
			break;
		default:
			break;
	}
}

static void
summarize_xact_record(XLogReaderState *r, PitrSegmentSummary *sum)
{
	TransactionId xid;
	TimestampTz t;
	bool		commit;
	uint8		op = (XLogRecGetInfo(r) & ~XLR_INFO_MASK) & XLOG_XACT_OPMASK;

	if (pitr_xact_end(r, &xid, &t, &commit))
	{
		/* A prepared transaction's end carries its xid in the record body. */
		note_xid(sum, xid);
		if (commit)
			sum->commits++;
		else
			sum->aborts++;
		note_mark_outcome(r, sum, xid, t, commit);
		if (!sum->has_xact_time)
		{
			sum->has_xact_time = true;
			sum->first_xact_time = sum->min_xact_time = sum->max_xact_time = t;
		}
		sum->last_xact_time = t;
		sum->min_xact_time = Min(sum->min_xact_time, t);
		sum->max_xact_time = Max(sum->max_xact_time, t);
		if (op == XLOG_XACT_COMMIT_PREPARED || op == XLOG_XACT_ABORT_PREPARED)
		{
			PitrWalEvent *ev = add_event(sum, PITR_EVENT_FINISH_PREPARED, r);

			ev->xid = xid;
			ev->time = t;
			ev->has_time = true;
		}
	}
	else if (op == XLOG_XACT_PREPARE)
	{
		xl_xact_parsed_prepare parsed;
		PitrWalEvent *ev;

		ParsePrepareRecord(XLogRecGetInfo(r),
						   (xl_xact_prepare *) XLogRecGetData(r), &parsed);
		ev = add_event(sum, PITR_EVENT_PREPARE, r);
		ev->xid = parsed.twophase_xid;
		ev->name = pstrdup(parsed.twophase_gid);
		ev->time = parsed.xact_time;
		ev->has_time = true;
	}
}

static bool
summary_visit(XLogReaderState *r, void *arg)
{
	SummaryState *st = (SummaryState *) arg;
	PitrSegmentSummary *sum = st->sum;
	RmgrId		rmid = XLogRecGetRmid(r);
	XLogSegNo	endseg = pitr_record_end_segno(r, st->segsize);
	TransactionId xid = XLogRecGetXid(r);
	const char *bad;

	if (endseg < st->segno)
		return true;			/* the previous segment's */
	if (endseg > st->segno)
	{
		st->passed_end = true;
		return false;			/* the next segment's */
	}

	if (sum->records == 0)
	{
		sum->first_lsn = r->ReadRecPtr;
		sum->first_prev = XLogRecGetPrev(r);
		sum->has_link = true;
	}
	/* A record whose lengths lie ends the valid WAL of the segment. */
	if ((bad = pitr_record_layout_error(r)) != NULL)
	{
		st->bad_record = psprintf("record at %X/%X (resource manager %u, info 0x%02X) is corrupt: %s",
								  LSN_FORMAT_ARGS(r->ReadRecPtr),
								  (unsigned) rmid, XLogRecGetInfo(r), bad);
		return false;
	}

	sum->next_lsn = r->EndRecPtr;
	sum->last_lsn = r->ReadRecPtr;
	sum->records++;

	note_xid(sum, xid);
	pitr_relset_note_record(sum->rels, r);

	if (rmid == RM_XLOG_ID)
		summarize_xlog_record(r, sum);
	else if (rmid == RM_XACT_ID)
		summarize_xact_record(r, sum);
	else if (rmid == RM_LOGICALMSG_ID)
		summarize_message_record(r, sum);
	return true;
}

void
pitr_summarize_segment(int segsize, uint64 sysid,
					   PitrPageGetter getter, void *getter_arg,
					   XLogSegNo segno, XLogRecPtr start,
					   PitrSegmentSummary *sum)
{
	SummaryState st;
	PitrWalk	walk;
	XLogRecPtr	segstart;

	memset(sum, 0, sizeof(*sum));
	st.segsize = segsize;
	st.segno = segno;
	st.sum = sum;
	st.passed_end = false;
	st.bad_record = NULL;
	sum->rels = pitr_relset_create();

	XLogSegNoOffsetToRecPtr(segno, 0, segsize, segstart);
	if (XLogRecPtrIsInvalid(start))
		pitr_wal_walk(segsize, sysid, getter, getter_arg, segstart, true,
					  summary_visit, &st, &walk);
	else
		pitr_wal_walk(segsize, sysid, getter, getter_arg, start, false,
					  summary_visit, &st, &walk);

	/*
	 * Valid WAL runs through the segment when the walk went past its end, or
	 * stopped only for want of the next segment or because of what is in it.
	 */
	if (st.bad_record)
	{
		sum->complete = false;
		sum->error = st.bad_record;
	}
	else if (st.passed_end || (walk.missing && walk.missing_segno > segno) ||
		(walk.error && walk.error_segno > segno))
		sum->complete = true;
	else
	{
		sum->complete = false;
		if (walk.missing)
			sum->error = psprintf("segment %X/%X is not available",
								  (uint32) (walk.missing_segno >> 32),
								  (uint32) walk.missing_segno);
		else
			sum->error = walk.error;
	}
}
