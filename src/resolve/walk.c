/*-------------------------------------------------------------------------
 *
 * walk.c
 *	  Find the record at which recovery stops, by replaying the decision of
 *	  recoveryStopsBefore() / recoveryStopsAfter() (xlogrecovery.c, 15) over
 *	  the archive's WAL along one timeline's history, and the transactions
 *	  on either side of it.
 *
 * Segments are looked up in the index as they are needed, so a walk reads
 * only the segments it passes through; the source is kept for the next
 * walk of the same resolution (see path_source_get).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/rmgr.h"
#include "access/xact.h"
#include "access/xlog_internal.h"
#include "catalog/pg_control.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "storage/proc.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/hsearch.h"
#include "utils/memutils.h"
#include "utils/pg_lsn.h"
#include "utils/timestamp.h"

#include "archive_files.h"
#include "compat/pg_compat.h"
#include "index/index_store.h"
#include "util/privilege.h"
#include "resolve/walk.h"
#include "segment_source.h"
#include "source/archive_source.h"
#include "util/display.h"
#include "walscan.h"
#include "util/local_hash.h"

PG_FUNCTION_INFO_V1(pitr_walk_to_stop);

/* How far past the stop point to look for the first transaction lost. */
#define NEXT_XACT_SEGMENTS 8

typedef PitrXact XactInfo;

typedef struct StopSearch
{
	PitrStopQuery q;			/* the caller's, target_name never NULL, and
								 * check_checkpoint only with kind lsn (then
								 * inclusive) */
	int			segsize;
	XLogRecPtr	redo;			/* the walk's start */
	char	   *checkpoint_problem;

	bool		found;
	XLogRecPtr	stop_lsn;
	XLogRecPtr	stop_end;
	bool		stop_before;
	bool		after_stop;
	XLogSegNo	stop_segno;
	XactInfo	last;
	XactInfo	next;
	int64		records;
} StopSearch;

/* The archive's segments along one timeline history, found lazily. */
typedef struct PathSource
{
	int			archive_id;
	int			segsize;
	int			npath;
	TimeLineID *tli;			/* oldest first */
	XLogSegNo  *beginseg;
	PitrSegmentSource *src;
	HTAB	   *files;			/* segno -> PitrArchiveFile * */
	SPIPlanPtr	lookup;			/* prepared anew in each call's SPI */
	MemoryContext cxt;			/* holds all of the above */
	uint64		sysid;
	char	   *dir;
} PathSource;

/*
 * One resolution calls the walk several times along the same path (the
 * stop, the transactions before and after it, the backup's own segment):
 * the source, with the segments it has read and decompressed, is kept for
 * the next call as long as nothing was written meanwhile (same transaction,
 * same command id), so each segment is read at most once per resolution.
 * The key lives outside the cached memory, which the end of the transaction
 * frees; an ERROR in the middle of a walk leaves it invalid.
 */
static PathSource *cached_ps = NULL;
static bool cached_valid = false;
static LocalTransactionId cached_lxid = InvalidLocalTransactionId;
static CommandId cached_cid = InvalidCommandId;

typedef struct PathFile
{
	XLogSegNo	segno;
	PitrArchiveFile *file;		/* NULL: not in the archive */
} PathFile;

static PitrArchiveFile *
path_file(PathSource *ps, XLogSegNo segno)
{
	PathFile   *pf;
	bool		found;
	MemoryContext oldcxt;

	pf = hash_search(ps->files, &segno, HASH_ENTER, &found);
	if (found)
		return pf->file;
	pf->file = NULL;
	oldcxt = CurrentMemoryContext;

	/* As recovery does: newest timeline first, if it began by then. */
	for (int i = ps->npath - 1; i >= 0 && pf->file == NULL; i--)
	{
		Datum		v[3];

		if (segno < ps->beginseg[i])
			continue;
		v[0] = Int32GetDatum(ps->archive_id);
		v[1] = Int32GetDatum((int32) ps->tli[i]);
		v[2] = Int64GetDatum((int64) segno);
		pitr_spi_check(SPI_execute_plan(ps->lookup, v, NULL, true, 1),
					   SPI_OK_SELECT, "finding a segment of the path");
		if (SPI_processed > 0)
		{
			char	   *name = SPI_getvalue(SPI_tuptable->vals[0],
											SPI_tuptable->tupdesc, 1);
			PitrArchiveFile *f;

			/*
			 * SPI returns in its own procedure context, which ends with
			 * this call: what the cached source keeps goes in its context.
			 */
			MemoryContextSwitchTo(ps->cxt);
			f = palloc(sizeof(PitrArchiveFile));

			if (pitr_classify_file_name(name, f))
			{
				f->name = pstrdup(name);
				pf->file = f;
			}
		}
	}
	MemoryContextSwitchTo(oldcxt);
	return pf->file;
}

static bool
path_get(void *arg, XLogRecPtr pageptr, char *dest, TimeLineID *tli)
{
	PathSource *ps = (PathSource *) arg;
	XLogSegNo	segno;

	XLByteToSeg(pageptr, segno, ps->segsize);
	return pitr_segsrc_get_page(ps->src, path_file(ps, segno), pageptr, dest,
								tli);
}

/* The name recovery would look for, for a segment on this path. */
static char *
path_segment_name(PathSource *ps, XLogSegNo segno)
{
	char		fname[MAXFNAMELEN];
	TimeLineID	tli = ps->tli[pitr_path_serving(ps->npath, ps->beginseg, segno)];

	XLogFileName(fname, tli, segno, ps->segsize);
	return pstrdup(fname);
}

static void
note_xact(XactInfo *x, XLogReaderState *r, TransactionId xid, TimestampTz t,
		  bool commit)
{
	x->valid = true;
	x->xid = xid;
	x->time = t;
	x->commit = commit;
	x->lsn = r->ReadRecPtr;
}

static bool
is_restore_point(XLogReaderState *r, const char *name)
{
	xl_restore_point *rp;

	/* a record too short for its kind is never read past its end */
	if (XLogRecGetRmid(r) != RM_XLOG_ID ||
		(XLogRecGetInfo(r) & ~XLR_INFO_MASK) != XLOG_RESTORE_POINT ||
		XLogRecGetDataLen(r) < sizeof(xl_restore_point))
		return false;
	rp = (xl_restore_point *) XLogRecGetData(r);
	/* as the index stores it: invalid bytes escaped (util/display.c) */
	return strcmp(pitr_db_text(pnstrdup(rp->rp_name, MAXFNAMELEN - 1)), name) == 0;
}

/*
 * Is the record at a base backup's CHECKPOINT LOCATION what recovery will
 * accept (ReadCheckpointRecord), with the backup's start as its redo point?
 * NULL if so, else why not.
 */
static char *
checkpoint_problem(XLogReaderState *r, const StopSearch *s)
{
	uint8		info = XLogRecGetInfo(r) & ~XLR_INFO_MASK;
	CheckPoint	cp;

	if (r->ReadRecPtr != s->q.target_lsn)
		return psprintf("no WAL record starts at its checkpoint location %X/%X",
						LSN_FORMAT_ARGS(s->q.target_lsn));
	if (XLogRecGetRmid(r) != RM_XLOG_ID ||
		(info != XLOG_CHECKPOINT_SHUTDOWN && info != XLOG_CHECKPOINT_ONLINE) ||
		XLogRecGetDataLen(r) != sizeof(CheckPoint))
		return psprintf("the record at its checkpoint location %X/%X is not a checkpoint record",
						LSN_FORMAT_ARGS(s->q.target_lsn));
	memcpy(&cp, XLogRecGetData(r), sizeof(cp));
	if (cp.redo != s->redo)
		return psprintf("the checkpoint at %X/%X has its redo point at %X/%X, not at the backup's start %X/%X",
						LSN_FORMAT_ARGS(s->q.target_lsn), LSN_FORMAT_ARGS(cp.redo),
						LSN_FORMAT_ARGS(s->redo));
	return NULL;
}

static bool
stop_visit(XLogReaderState *r, void *arg)
{
	StopSearch *s = (StopSearch *) arg;
	TransactionId xid = InvalidTransactionId;
	TimestampTz t = 0;
	bool		commit = false;
	bool		xact = pitr_xact_end(r, &xid, &t, &commit);
	bool		stop = false;
	bool		before = false;

	s->records++;

	if (s->after_stop)
	{
		XLogSegNo	segno;

		if (xact)
		{
			note_xact(&s->next, r, xid, t, commit);
			return false;
		}
		XLByteToSeg(r->ReadRecPtr, segno, s->segsize);
		return segno <= s->stop_segno + NEXT_XACT_SEGMENTS;
	}

	if (!XLogRecPtrIsInvalid(s->q.limit_lsn) && r->ReadRecPtr >= s->q.limit_lsn)
		return false;

	switch (s->q.kind)
	{
		case PITR_STOP_NONE:
			break;
		case PITR_STOP_TIME:
			/* recoveryStopsBefore: only commits and aborts, in WAL order */
			if (xact && (s->q.inclusive ? t > s->q.target_time : t >= s->q.target_time))
				stop = before = true;
			break;
		case PITR_STOP_LSN:
			if (r->ReadRecPtr >= s->q.target_lsn)
			{
				stop = true;
				before = !s->q.inclusive;
			}
			break;
		case PITR_STOP_XID:
			if (xact && xid == s->q.target_xid)
			{
				stop = true;
				before = !s->q.inclusive;
			}
			break;
		case PITR_STOP_NAME:
			/* recoveryStopsAfter: the first restore point of that name */
			if (is_restore_point(r, s->q.target_name))
				stop = true;
			break;
	}

	if (!stop)
	{
		if (xact)
			note_xact(&s->last, r, xid, t, commit);
		return true;
	}

	if (s->q.check_checkpoint)
	{
		/* Only the one record matters: no transactions after it. */
		s->checkpoint_problem = checkpoint_problem(r, s);
		s->found = (s->checkpoint_problem == NULL);
		s->stop_lsn = r->ReadRecPtr;
		s->stop_end = r->EndRecPtr;
		return false;
	}

	s->found = true;
	s->stop_lsn = r->ReadRecPtr;
	s->stop_end = r->EndRecPtr;
	s->stop_before = before;
	XLByteToSeg(r->ReadRecPtr, s->stop_segno, s->segsize);
	if (before && xact)
	{
		/* The stop record is itself the first transaction lost. */
		note_xact(&s->next, r, xid, t, commit);
		return false;
	}
	if (!before && xact)
		note_xact(&s->last, r, xid, t, commit);
	s->after_stop = true;
	return true;
}

/*
 * The path source for this call: the cached one when it serves the same
 * archive and path and nothing was written since it was made, else a new
 * one (which becomes the cached one).  Runs inside SPI.
 */
static PathSource *
path_source_get(int archive_id, const TimeLineID *tlis, const XLogRecPtr *begins,
				int ntli)
{
	PathSource *ps;
	MemoryContext oldcxt;
	char	   *dir;
	uint64		sysid;
	int			segsize;

	if (cached_valid && cached_lxid == pitr_my_lxid() &&
		cached_cid == GetCurrentCommandId(false) &&
		cached_ps->archive_id == archive_id && cached_ps->npath == ntli)
	{
		bool		same = true;

		for (int i = 0; i < ntli && same; i++)
		{
			XLogSegNo	b;

			XLByteToSeg(begins[i], b, cached_ps->segsize);
			same = cached_ps->tli[i] == tlis[i] &&
				cached_ps->beginseg[i] == b;
		}
		if (same)
			return cached_ps;
	}

	pitr_store_load_archive(archive_id, &dir, &sysid, &segsize);

	/* Replace the cached source; the old one goes with its context. */
	if (cached_valid && cached_lxid == pitr_my_lxid())
		MemoryContextDelete(cached_ps->cxt);
	cached_valid = false;
	cached_ps = NULL;

	{
		MemoryContext cxt = AllocSetContextCreate(TopTransactionContext,
												  "pitr_restore walk source",
												  ALLOCSET_DEFAULT_SIZES);

		oldcxt = MemoryContextSwitchTo(cxt);
		ps = palloc0(sizeof(PathSource));
		ps->cxt = cxt;
	}
	ps->archive_id = archive_id;
	ps->segsize = segsize;
	ps->dir = pstrdup(dir);
	ps->sysid = sysid;
	ps->npath = ntli;
	ps->tli = palloc(sizeof(TimeLineID) * ntli);
	ps->beginseg = palloc(sizeof(XLogSegNo) * ntli);
	for (int i = 0; i < ntli; i++)
	{
		ps->tli[i] = tlis[i];
		XLByteToSeg(begins[i], ps->beginseg[i], ps->segsize);
	}
	ps->src = pitr_segsrc_create(ps->dir, ps->segsize);
	if (pitr_source_maybe_tool(ps->dir))
	{
		/* A backup tool's archive: files are where the tool stored them. */
		PitrArchiveSource *as = pitr_source_open(ps->dir);

		if (as->layout != PITR_LAYOUT_FLAT)
			pitr_segsrc_use_source(ps->src, as, pitr_source_list(as));
	}
	ps->files = pitr_hash_create("pitr_restore path files", 64,
			sizeof(XLogSegNo), sizeof(PathFile),
			false, ps->cxt);
	MemoryContextSwitchTo(oldcxt);

	cached_ps = ps;
	cached_lxid = pitr_my_lxid();
	cached_cid = GetCurrentCommandId(false);
	return ps;
}

/*
 * Walk from start (a record start) along a path whose timelines are given
 * oldest first with the LSN at which each begins; the outcome's problem is
 * allocated in the caller's memory context.
 */
void
pitr_walk_path(int archive_id, int npath, const TimeLineID *tlis,
			   const XLogRecPtr *begins, XLogRecPtr start,
			   const PitrStopQuery *q, PitrWalkOutcome *out)
{
	MemoryContext caller = CurrentMemoryContext;
	PathSource *ps;
	StopSearch	s;
	PitrWalk	walk;
	Oid			types[3] = {INT4OID, INT4OID, INT8OID};

	if (npath <= 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("timeline path and its begin points must have the same, non-zero length")));

	memset(&s, 0, sizeof(s));
	s.q = *q;
	if (s.q.target_name == NULL)
		s.q.target_name = "";
	s.q.check_checkpoint = (q->kind == PITR_STOP_LSN && q->check_checkpoint);
	if (s.q.check_checkpoint)
		s.q.inclusive = true;
	s.redo = start;

	SPI_connect();
	ps = path_source_get(archive_id, tlis, begins, npath);
	s.segsize = ps->segsize;
	ps->lookup = pitr_spi_prepare("SELECT file_name FROM pitr_restore.archive_file "
							 "WHERE archive_id OPERATOR(pg_catalog.=) $1 "
							 "AND timeline OPERATOR(pg_catalog.=) $2 "
							 "AND segno OPERATOR(pg_catalog.=) $3 "
							 "AND kind OPERATOR(pg_catalog.=) 'segment' "
							 "AND status IN ('ok', 'corrupt') "
							 "ORDER BY compression OPERATOR(pg_catalog.=) 'none' DESC LIMIT 1",
							 3, types, false);

	cached_valid = false;
	pitr_wal_walk(ps->segsize, ps->sysid, path_get, ps, start, false,
				  stop_visit, &s, &walk);
	pitr_segsrc_close(ps->src);
	ps->lookup = NULL;
	cached_valid = (ps == cached_ps);

	memset(out, 0, sizeof(*out));
	out->found = s.found;
	out->stop_lsn = s.stop_lsn;
	out->stop_end = s.stop_end;
	out->stop_before = s.stop_before;
	out->last = s.last;
	out->next = s.next;
	out->walk_end = walk.last_end;
	out->records = s.records;
	if (!s.found && s.q.kind != PITR_STOP_NONE)
	{
		char	   *seg = walk.missing ? path_segment_name(ps, walk.missing_segno) : NULL;
		MemoryContext oldcxt = MemoryContextSwitchTo(caller);

		if (s.checkpoint_problem)
			out->problem = pstrdup(s.checkpoint_problem);
		else if (walk.missing)
			out->problem = psprintf("WAL segment %s is missing from the archive", seg);
		else if (walk.error)
			out->problem = psprintf("valid WAL ends at %X/%X: %s",
									LSN_FORMAT_ARGS(walk.last_end), walk.error);
		MemoryContextSwitchTo(oldcxt);
	}
	SPI_finish();
}

/*
 * walk_to_stop: the released 1.1 script declares it and 1.3 drops it.  Its
 * symbol stays only because CREATE EXTENSION runs the 1.1 script, whose
 * CREATE FUNCTION looks the symbol up; the walk is asked through
 * pitr_walk_path alone.
 */
Datum
pitr_walk_to_stop(PG_FUNCTION_ARGS)
{
	ereport(ERROR,
			(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
			 errmsg("function walk_to_stop is no longer provided"),
			 errhint("Update the extension: ALTER EXTENSION pitr_restore UPDATE.")));
	PG_RETURN_NULL();
}
