/*-------------------------------------------------------------------------
 *
 * table_history.c
 *	  The WAL walk behind table_history(): every transaction of the current
 *	  database that inserted, updated or deleted rows of a set of relation
 *	  files (a table's relfilenodes over time), created them or dropped
 *	  them, with its commit or abort.
 *
 * The SQL side (table_history() in the update script) decides which files
 * belong to the table (the relation journal and pg_class) and names the
 * operations; this file reads the archive along a timeline path, one
 * segment at a time, and only the segments that can matter:
 *
 *	- a segment whose relations are known (pitr_restore.segment_relations)
 *	  and include none of the files is skipped, unless a transaction seen
 *	  earlier has not ended yet or a watched xid (a journalled DDL) falls in
 *	  its xid range;
 *	- a segment whose relations are not known is read in full, and what it
 *	  touches is recorded, so the next history skips it.
 *
 * Rows are counted per top-level transaction: a subtransaction's records
 * carry its own xid and are moved to their top level by the commit or
 * abort record's list of subtransactions.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/transam.h"
#include "access/xlog_internal.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/fmgrprotos.h"
#include "utils/hsearch.h"
#include "utils/memutils.h"
#include "utils/pg_lsn.h"
#include "utils/timestamp.h"
#include "utils/tuplestore.h"
#include "utils/xid8.h"

#include "archive_files.h"
#include "index/index_store.h"
#include "index/segment_relations.h"
#include "relscan.h"
#include "segment_source.h"
#include "source/archive_source.h"
#include "util/privilege.h"
#include "walscan.h"
#include "util/local_hash.h"

PG_FUNCTION_INFO_V1(pitr_history_walk);

/* One segment of the path, as the index knows it. */
typedef struct HistSegment
{
	PitrArchiveFile *file;
	XLogSegNo	segno;
	XLogRecPtr	first_lsn;		/* first record ending in it */
	bool		known;			/* its relations are recorded */
	bool		touched;		/* ... and include one of ours */
	bool		has_xids;
	TransactionId min_xid;
	TransactionId max_xid;
	bool		has_time;
	TimestampTz min_time;		/* earliest transaction end in it */
} HistSegment;

/* What a transaction did to one file, before its end is seen. */
typedef struct Fact
{
	Oid			rel;
	PitrRelOp	op;				/* or NONE for "dropped" */
	int64		rows;
} Fact;

typedef struct PendingXact
{
	TransactionId xid;			/* key */
	List	   *facts;			/* Fact * */
} PendingXact;

typedef struct History
{
	int			segsize;
	PitrSegmentSource *src;
	HistSegment *segs;
	int			nsegs;
	XLogSegNo	lo;				/* segno of segs[0]; the path has no holes */
	PitrArchiveFile **byseg;	/* by segno - lo; NULL where missing */
	int			nbyseg;
	Oid		   *ours;			/* the table's relfilenodes, sorted */
	int			nours;
	TransactionId *watch;
	int			nwatch;
	HTAB	   *pending;		/* PendingXact by xid */
	MemoryContext factcxt;		/* where facts live */
	Tuplestorestate *out;
	TupleDesc	outdesc;
	int64		segments_read;

	/* the segment being walked */
	XLogSegNo	cur;
	bool		passed_end;
	PitrRelSet *seen;			/* what it touches, when not known */
} History;

static bool
hist_get(void *arg, XLogRecPtr pageptr, char *dest, TimeLineID *tli)
{
	History    *h = (History *) arg;
	XLogSegNo	segno;
	PitrArchiveFile *f;
	char	   *err;

	XLByteToSeg(pageptr, segno, h->segsize);
	if (segno < h->lo || segno - h->lo >= (XLogSegNo) h->nbyseg)
		return false;
	f = h->byseg[segno - h->lo];
	if (f == NULL || !pitr_segsrc_read_page(h->src, f, pageptr, dest, &err))
		return false;
	*tli = f->tli;
	return true;
}

/* A 32-bit xid from the archive as an xid8, by this server's epoch. */
static FullTransactionId
full_xid(TransactionId xid)
{
	FullTransactionId next = ReadNextFullTransactionId();
	uint32		epoch = EpochFromFullTransactionId(next);

	if (!TransactionIdIsNormal(xid))
		return FullTransactionIdFromEpochAndXid(0, xid);
	if (xid > XidFromFullTransactionId(next) && epoch > 0)
		epoch--;
	return FullTransactionIdFromEpochAndXid(epoch, xid);
}

/*
 * Asked for every row change read: a binary search of a few sorted oids
 * costs less than a dynahash lookup.
 */
static bool
is_ours(History *h, Oid db, Oid rel)
{
	int			lo = 0;
	int			hi = h->nours;

	if (db != MyDatabaseId)
		return false;
	while (lo < hi)
	{
		int			mid = (lo + hi) / 2;

		if (h->ours[mid] == rel)
			return true;
		if (h->ours[mid] < rel)
			lo = mid + 1;
		else
			hi = mid;
	}
	return false;
}

static bool
is_watched(History *h, TransactionId xid)
{
	for (int i = 0; i < h->nwatch; i++)
		if (h->watch[i] == xid)
			return true;
	return false;
}

static void
add_fact(List **facts, Oid rel, PitrRelOp op, int64 rows)
{
	ListCell   *lc;
	Fact	   *f;

	foreach(lc, *facts)
	{
		f = lfirst(lc);
		if (f->rel == rel && f->op == op)
		{
			f->rows += rows;
			return;
		}
	}
	f = palloc(sizeof(Fact));
	f->rel = rel;
	f->op = op;
	f->rows = rows;
	*facts = lappend(*facts, f);
}

static void
note_fact(History *h, TransactionId xid, Oid rel, PitrRelOp op, int64 rows)
{
	PendingXact *p;
	bool		found;
	MemoryContext old;

	if (!TransactionIdIsValid(xid))
		return;					/* not attributable to a transaction */
	p = hash_search(h->pending, &xid, HASH_ENTER, &found);
	if (!found)
		p->facts = NIL;
	old = MemoryContextSwitchTo(h->factcxt);
	add_fact(&p->facts, rel, op, rows);
	MemoryContextSwitchTo(old);
}

/* Take the pending facts of xid into *facts. */
static void
take_facts(History *h, TransactionId xid, List **facts)
{
	PendingXact *p = hash_search(h->pending, &xid, HASH_FIND, NULL);
	ListCell   *lc;

	if (p == NULL)
		return;
	foreach(lc, p->facts)
	{
		Fact	   *f = lfirst(lc);

		add_fact(facts, f->rel, f->op, f->rows);
	}
	hash_search(h->pending, &xid, HASH_REMOVE, NULL);
}

static void
emit(History *h, TransactionId xid, const PitrXactEnd *end, XLogRecPtr lsn,
	 const char *op, Oid rel, int64 rows)
{
	Datum		v[7];
	bool		n[7] = {false, false, false, false, false, false, false};

	v[0] = FullTransactionIdGetDatum(full_xid(xid));
	if (end)
	{
		v[1] = TimestampTzGetDatum(end->time);
		v[2] = LSNGetDatum(lsn);
		v[3] = BoolGetDatum(end->commit);
	}
	else
		n[1] = n[2] = n[3] = true;	/* not ended in the archive */
	v[4] = CStringGetTextDatum(op);
	v[5] = ObjectIdGetDatum(rel);
	v[6] = Int64GetDatum(rows);
	tuplestore_putvalues(h->out, h->outdesc, v, n);
}

static void
emit_facts(History *h, TransactionId xid, const PitrXactEnd *end,
		   XLogRecPtr lsn, List *facts)
{
	ListCell   *lc;

	foreach(lc, facts)
	{
		Fact	   *f = lfirst(lc);

		emit(h, xid, end, lsn,
			 f->op == PITR_RELOP_NONE ? "dropped" : pitr_relop_name(f->op),
			 f->rel, f->rows);
	}
}

/* A transaction ends: its facts and its subtransactions' go out. */
static void
xact_ended(History *h, XLogReaderState *r, PitrXactEnd *end)
{
	List	   *facts = NIL;
	MemoryContext old = MemoryContextSwitchTo(h->factcxt);

	take_facts(h, end->xid, &facts);
	for (int i = 0; i < end->nsubxacts; i++)
		take_facts(h, end->subxacts[i], &facts);
	for (int i = 0; i < end->nrels; i++)
		if (is_ours(h, end->rels[i].db, end->rels[i].rel))
			add_fact(&facts, end->rels[i].rel, PITR_RELOP_NONE, 0);
	MemoryContextSwitchTo(old);

	if (facts != NIL)
		emit_facts(h, end->xid, end, r->ReadRecPtr, facts);
	else if (is_watched(h, end->xid))
		emit(h, end->xid, end, r->ReadRecPtr, "ended", InvalidOid, 0);
	list_free_deep(facts);
}

static bool
hist_visit(XLogReaderState *r, void *arg)
{
	History    *h = (History *) arg;
	XLogSegNo	endseg = pitr_record_end_segno(r, h->segsize);
	PitrRelFile rel;
	PitrRelOp	op;
	PitrXactEnd end;
	int			rows;

	if (endseg < h->cur)
		return true;			/* the previous segment's */
	if (endseg > h->cur)
	{
		h->passed_end = true;
		return false;
	}
	if (pitr_record_layout_error(r) != NULL)
		return false;			/* valid WAL ends here, as the scan says */
	if (h->seen)
		pitr_relset_note_record(h->seen, r);

	if (XLogRecGetRmid(r) == RM_XACT_ID)
	{
		if (pitr_relscan_xact_end(r, &end))
			xact_ended(h, r, &end);
		return true;
	}
	op = pitr_relscan_classify(r, &rel, &rows);
	if (op != PITR_RELOP_NONE && is_ours(h, rel.db, rel.rel))
		note_fact(h, XLogRecGetXid(r), rel.rel, op, rows);
	return true;
}

static bool
watch_in_range(History *h, HistSegment *s)
{
	if (!s->has_xids)
		return false;
	for (int i = 0; i < h->nwatch; i++)
		if (!TransactionIdPrecedes(h->watch[i], s->min_xid) &&
			!TransactionIdFollows(h->watch[i], s->max_xid))
			return true;
	return false;
}

/* Walk the records that end in one segment. */
static void
read_segment(History *h, HistSegment *s, int archive_id, uint64 sysid)
{
	PitrWalk	walk;
	MemoryContext cxt = AllocSetContextCreate(CurrentMemoryContext,
											  "pitr_restore history segment",
											  ALLOCSET_DEFAULT_SIZES);
	MemoryContext old = MemoryContextSwitchTo(cxt);

	h->cur = s->segno;
	h->passed_end = false;
	h->seen = s->known ? NULL : pitr_relset_create();
	pitr_wal_walk(h->segsize, sysid, hist_get, h, s->first_lsn, false,
				  hist_visit, h, &walk);
	h->segments_read++;
	MemoryContextSwitchTo(old);
	if (walk.error || (walk.missing && walk.missing_segno <= s->segno))
		elog(DEBUG1, "table history: segment \"%s\" read up to %X/%X: %s",
			 s->file->name, LSN_FORMAT_ARGS(walk.last_end),
			 walk.error ? walk.error : "a segment is missing");

	/* Remember what it touches, when all of it was read. */
	if (h->seen && (h->passed_end ||
					(walk.missing && walk.missing_segno > s->segno)))
		pitr_store_segment_relations(archive_id, s->file->name, h->seen);
	h->seen = NULL;
	MemoryContextDelete(cxt);
}

/* The segments of the path, in order, with what the index says of them. */
static void
load_segments(History *h, int archive_id, ArrayType *tlis, ArrayType *begins,
			  ArrayType *rels)
{
	Oid			types[4] = {INT4OID, INT4ARRAYOID, PG_LSNARRAYOID, OIDARRAYOID};
	Datum		v[4];
	int			ret;

	v[0] = Int32GetDatum(archive_id);
	v[1] = PointerGetDatum(tlis);
	v[2] = PointerGetDatum(begins);
	v[3] = PointerGetDatum(rels);
	ret = SPI_execute_with_args(
		"SELECT DISTINCT ON (f.segno) f.file_name, f.segno, f.first_lsn, "
		"       s.relfilenodes IS NOT NULL, "
		"       coalesce(s.relfilenodes OPERATOR(pg_catalog.&&) $4, false), "
		"       f.min_xid, f.max_xid, f.min_commit_time "
		"  FROM pitr_restore.path_files($1, $2, $3) f "
		"  LEFT JOIN pitr_restore.segment_relations s "
		"    ON s.archive_id OPERATOR(pg_catalog.=) f.archive_id "
		"   AND s.file_name OPERATOR(pg_catalog.=) f.file_name "
		" WHERE f.status IN ('ok', 'corrupt') "
		" ORDER BY f.segno, f.compression OPERATOR(pg_catalog.=) 'none' DESC",
		4, types, v, NULL, true, 0);
	pitr_spi_check(ret, SPI_OK_SELECT, "reading the path's segments");

	h->nsegs = SPI_processed;
	h->segs = palloc0(sizeof(HistSegment) * (h->nsegs + 1));
	for (int i = 0; i < h->nsegs; i++)
	{
		HeapTuple	tup = SPI_tuptable->vals[i];
		TupleDesc	d = SPI_tuptable->tupdesc;
		HistSegment *s = &h->segs[i];
		bool		null;
		bool		null2;

		char	   *name = SPI_getvalue(tup, d, 1);

		s->file = palloc0(sizeof(PitrArchiveFile));
		if (!pitr_classify_file_name(name, s->file))
			elog(ERROR, "unexpected segment name \"%s\"", name);
		s->file->name = name;
		s->file->regular = true;
		s->segno = DatumGetInt64(SPI_getbinval(tup, d, 2, &null));
		s->first_lsn = DatumGetLSN(SPI_getbinval(tup, d, 3, &null));
		if (null)
			s->first_lsn = InvalidXLogRecPtr;
		s->known = DatumGetBool(SPI_getbinval(tup, d, 4, &null));
		s->touched = DatumGetBool(SPI_getbinval(tup, d, 5, &null));
		s->min_xid = (TransactionId) DatumGetInt64(SPI_getbinval(tup, d, 6, &null));
		s->max_xid = (TransactionId) DatumGetInt64(SPI_getbinval(tup, d, 7, &null2));
		s->has_xids = !null && !null2;
		s->min_time = DatumGetTimestampTz(SPI_getbinval(tup, d, 8, &null));
		s->has_time = !null;
	}
}

static void
setup_source(History *h, const char *dir)
{
	h->src = pitr_segsrc_create(dir, h->segsize);
	if (pitr_source_maybe_tool(dir))
	{
		/* A backup tool's archive: files are where the tool stored them. */
		PitrArchiveSource *as = pitr_source_open(dir);

		if (as->layout != PITR_LAYOUT_FLAT)
			pitr_segsrc_use_source(h->src, as, pitr_source_list(as));
	}
	if (h->nsegs == 0)
		return;
	h->lo = h->segs[0].segno;
	h->nbyseg = (int) (h->segs[h->nsegs - 1].segno - h->lo + 1);
	h->byseg = palloc0(sizeof(PitrArchiveFile *) * h->nbyseg);
	for (int i = 0; i < h->nsegs; i++)
		h->byseg[h->segs[i].segno - h->lo] = h->segs[i].file;
}

static void
setup_sets(History *h, ArrayType *rels, ArrayType *watch)
{
	Datum	   *d;
	int			n;

	deconstruct_array(rels, OIDOID, sizeof(Oid), true, TYPALIGN_INT,
					  &d, NULL, &n);
	h->ours = palloc(sizeof(Oid) * (n + 1));
	h->nours = n;
	for (int i = 0; i < n; i++)
		h->ours[i] = DatumGetObjectId(d[i]);
	qsort(h->ours, n, sizeof(Oid), oid_cmp);
	deconstruct_array(watch, XID8OID, sizeof(FullTransactionId), FLOAT8PASSBYVAL,
					  TYPALIGN_DOUBLE, &d, NULL, &n);
	h->watch = palloc(sizeof(TransactionId) * (n + 1));
	h->nwatch = n;
	for (int i = 0; i < n; i++)
		h->watch[i] = XidFromFullTransactionId(DatumGetFullTransactionId(d[i]));

	h->pending = pitr_hash_create("pitr_restore history transactions", 64,
			sizeof(TransactionId), sizeof(PendingXact),
			false, CurrentMemoryContext);
	h->factcxt = CurrentMemoryContext;
}

/* Read what can matter, in WAL order; stop past "until" once idle. */
static void
walk_history(History *h, int archive_id, uint64 sysid, bool has_until,
			 TimestampTz until)
{
	for (int i = 0; i < h->nsegs; i++)
	{
		HistSegment *s = &h->segs[i];
		bool		busy = hash_get_num_entries(h->pending) > 0;

		CHECK_FOR_INTERRUPTS();
		if (has_until && !busy && s->has_time && s->min_time > until)
			break;
		if (XLogRecPtrIsInvalid(s->first_lsn))
			continue;			/* no record ends in it */
		if (s->known && !s->touched && !busy && !watch_in_range(h, s))
			continue;
		read_segment(h, s, archive_id, sysid);
	}
}

/*
 * _history_walk(arch integer, tlis integer[], begins pg_lsn[], rels oid[],
 *				 watch xid8[], until timestamptz)
 *	-> (xid xid8, commit_time, commit_lsn, committed, op, relfilenode, rows)
 *
 * op is insert, update, delete (rows counted), created (the file was
 * created), written (a whole page written into it: a rewrite fills its new
 * file so), dropped (the transaction's end drops it) or ended (a watched
 * transaction ended without touching the files).  Transactions not ended
 * in the archive come last, with commit_time, commit_lsn and committed
 * NULL.
 */
Datum
pitr_history_walk(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	int			archive_id = PG_GETARG_INT32(0);
	History		h;
	char	   *dir;
	uint64		sysid;
	HASH_SEQ_STATUS hs;
	PendingXact *p;

	pitr_check_read_privilege();
	for (int i = 0; i < 5; i++)
		if (PG_ARGISNULL(i))
			ereport(ERROR,
					(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
					 errmsg("archive, path, relation files and watched transactions must not be null")));
	InitMaterializedSRF(fcinfo, 0);
	memset(&h, 0, sizeof(h));
	h.out = rsinfo->setResult;
	h.outdesc = rsinfo->setDesc;

	SPI_connect();
	pitr_store_load_archive(archive_id, &dir, &sysid, &h.segsize);
	load_segments(&h, archive_id, PG_GETARG_ARRAYTYPE_P(1),
				  PG_GETARG_ARRAYTYPE_P(2), PG_GETARG_ARRAYTYPE_P(3));
	setup_sets(&h, PG_GETARG_ARRAYTYPE_P(3), PG_GETARG_ARRAYTYPE_P(4));
	setup_source(&h, dir);
	walk_history(&h, archive_id, sysid, !PG_ARGISNULL(5),
				 PG_ARGISNULL(5) ? 0 : PG_GETARG_TIMESTAMPTZ(5));
	pitr_segsrc_close(h.src);

	/* What has not ended in the archive: in progress at its end. */
	hash_seq_init(&hs, h.pending);
	while ((p = hash_seq_search(&hs)) != NULL)
		emit_facts(&h, p->xid, NULL, InvalidXLogRecPtr, p->facts);
	elog(DEBUG1, "table history read %lld of %d segments",
		 (long long) h.segments_read, h.nsegs);
	SPI_finish();
	return (Datum) 0;
}
