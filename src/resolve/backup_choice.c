/*-------------------------------------------------------------------------
 *
 * backup_choice.c
 *	  Resolve a target along one timeline's history: try the base backups
 *	  from the latest back and take the first that recovery can bring to
 *	  the stop.  For each backup, in order:
 *
 *		refuse_backup	not on the path, a bad checkpoint, newer data
 *		find_stop		one finder per target kind (stop_finders[])
 *		certify_path	consistent before the stop, continuous WAL (a
 *						backup's own pg_wal bridging holes), no
 *						wal_level = minimal on the way
 *		find_last_xact, find_next_xact, count_wal, explain
 *
 * The rules themselves (gaps, carried WAL, transactions around a point)
 * are the recovery model's (model.c); the WAL is walked with walk.c, whose
 * segment source is shared by every walk of one resolution.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xlog_internal.h"
#include "catalog/pg_type.h"
#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/pg_lsn.h"

#include "resolve/resolve_internal.h"

/* One base backup tried along one timeline. */
typedef struct Attempt
{
	const PitrArchiveInfo *a;
	const PitrPath *p;
	const PitrTimelineQuery *q;
	TimeLineID	tli;
	const PitrModelBackup *b;
	char	   *bname;			/* "label" in location, for messages */
	int			idx;			/* where on the path it starts, or -1 */
	XLogRecPtr	start;			/* where the walk to the stop began */
	XLogRecPtr	want_lsn;		/* name: the restore point's record */
	bool		emit_lsn;
	PitrWalkOutcome w;
	XLogRecPtr	stop_point;
	PitrCarriedUse use;			/* segments read from the backup's pg_wal */
	char	   *fail;			/* why this backup cannot be used */
	bool		inconsistent;	/* the stop comes before its consistency */
} Attempt;

static const char Q_LSN_START[] =
"SELECT max(pf.first_lsn) FROM pitr_restore.path_files($1, $2, $3) pf "
"WHERE pf.segno BETWEEN $4 AND $5 AND pf.first_lsn OPERATOR(pg_catalog.<=) $6";

static const char Q_XID_SEGMENTS[] =
"SELECT pf.first_lsn, pf.next_lsn FROM pitr_restore.path_files($1, $2, $3) pf "
"WHERE pf.segno OPERATOR(pg_catalog.>=) $4 AND pf.status IN ('ok', 'corrupt') "
"AND pf.commits OPERATOR(pg_catalog.+) pf.aborts OPERATOR(pg_catalog.>) 0 "
"AND pf.min_xid OPERATOR(pg_catalog.<=) $5 AND pf.max_xid OPERATOR(pg_catalog.>=) $5 "
"ORDER BY pf.segno LIMIT 64";

static const char Q_EVENT_START[] =
"SELECT e.lsn, af.first_lsn FROM pitr_restore.path_events($1, $2, $3) e "
"LEFT JOIN pitr_restore.archive_file af "
"  ON af.archive_id OPERATOR(pg_catalog.=) $1 AND af.file_name OPERATOR(pg_catalog.=) e.file_name "
"WHERE e.kind OPERATOR(pg_catalog.=) $4 "
"AND ($5::text IS NULL OR e.name OPERATOR(pg_catalog.=) $5) "
"AND ($6::pg_lsn IS NULL OR e.lsn OPERATOR(pg_catalog.>=) $6) "
"AND ($7::pg_lsn IS NULL OR e.ref_lsn OPERATOR(pg_catalog.=) $7) "
"ORDER BY e.lsn LIMIT 1";

static const char Q_MINIMAL[] =
"SELECT 1 FROM pitr_restore.path_events($1, $2, $3) e "
"WHERE e.kind OPERATOR(pg_catalog.=) 'wal_level' AND e.name OPERATOR(pg_catalog.=) 'minimal' "
"AND e.lsn BETWEEN $4 AND $5 LIMIT 1";

static const char Q_PREPARED[] =
"SELECT pg_catalog.format('prepared transaction %s (GID \"%s\") is open at the stop point: "
"it comes back prepared and holds its locks until COMMIT PREPARED or ROLLBACK PREPARED', p.xid, p.name) "
"FROM pitr_restore.path_events($1, $2, $3) p "
"WHERE p.kind OPERATOR(pg_catalog.=) 'prepare' AND p.lsn OPERATOR(pg_catalog.<) $4 "
"AND NOT EXISTS (SELECT 1 FROM pitr_restore.path_events($1, $2, $3) q "
"  WHERE q.kind OPERATOR(pg_catalog.=) 'finish_prepared' AND q.xid OPERATOR(pg_catalog.=) p.xid "
"  AND q.lsn OPERATOR(pg_catalog.>) p.lsn AND q.lsn OPERATOR(pg_catalog.<) $4) "
"ORDER BY p.lsn";

/* The first three arguments of every path query: archive, path, begins. */
#define PATH_ARGS 3

static void
path_args(const Attempt *at, Oid *types, Datum *v)
{
	types[0] = INT4OID;
	types[1] = INT4ARRAYOID;
	types[2] = PG_LSNARRAYOID;
	v[0] = Int32GetDatum(at->a->id);
	v[1] = at->p->tli_arr;
	v[2] = at->p->begin_arr;
}

static void
walk(Attempt *at, XLogRecPtr start, const PitrStopQuery *sq)
{
	at->start = start;
	pitr_model_walk(at->a, at->p, start, sq, &at->w);
}

static char *
segment_name(const Attempt *at, XLogSegNo segno)
{
	return pitr_model_segment_name(at->a, at->use.tli, segno);
}

/* ---- refuse_backup ---- */

/*
 * Recovery from a base backup first reads the checkpoint record its
 * backup_label names and fails ("could not locate required checkpoint
 * record") unless it is one whose redo point is the backup's start: is it?
 * NULL if so (or if the location is unknown), else why not.  When the
 * archive lacks the checkpoint's segment and the backup carries it in its
 * own pg_wal, recovery reads it from there, where the record was written
 * by the backup itself: only its place is checked then.
 */
static char *
checkpoint_problem(const Attempt *at)
{
	const PitrModelBackup *b = at->b;
	PitrStopQuery cq = {0};
	PitrWalkOutcome cw;
	PitrCarriedUse use = {0};
	PitrGap		gap;
	XLogSegNo	cseg = pitr_model_segno(at->a, b->checkpoint);

	if (XLogRecPtrIsInvalid(b->checkpoint))
		return NULL;
	if (b->checkpoint < b->start)
		return psprintf("its checkpoint location %X/%X comes before its start %X/%X",
						LSN_FORMAT_ARGS(b->checkpoint), LSN_FORMAT_ARGS(b->start));
	/* is the checkpoint's segment one the backup carries? */
	(void) pitr_model_gap(at->a, at->p, b, (XLogRecPtr) cseg * at->a->segsize,
						  (XLogRecPtr) (cseg + 1) * at->a->segsize, &use, &gap);
	if (use.count > 0)
		return NULL;
	cq.kind = PITR_STOP_LSN;
	cq.target_lsn = b->checkpoint;
	cq.inclusive = true;
	cq.check_checkpoint = true;
	pitr_model_walk(at->a, at->p, b->start, &cq, &cw);
	if (cw.found)
		return NULL;
	return cw.problem ? cw.problem :
		psprintf("the archive's WAL ends at %X/%X, before its checkpoint location %X/%X",
				 LSN_FORMAT_ARGS(cw.walk_end), LSN_FORMAT_ARGS(b->checkpoint));
}

/*
 * Does a base backup's data already hold a transaction that ended after t?
 * Recovery cannot take it back: any commit before the backup's redo point
 * is in its files.
 */
static bool
backup_holds_after(const Attempt *at)
{
	TimestampTz latest;

	if (!pitr_model_latest_xact_before(at->a, at->p, at->b->start, &latest))
		return false;
	return at->q->inclusive ? latest > at->q->t : latest >= at->q->t;
}

/* Why recovery cannot start from this backup at all, or NULL. */
static char *
refuse_backup(const Attempt *at)
{
	char	   *problem;

	if (at->idx < 0)
		return psprintf("base backup %s is not on the history of timeline %u",
						at->bname, at->tli);
	if ((problem = checkpoint_problem(at)) != NULL)
		return psprintf("recovery from base backup %s would fail at its start: %s",
						at->bname, problem);
	if (at->q->kind == PITR_TARGET_TIME && backup_holds_after(at))
		return psprintf("base backup %s already holds transactions that ended after %s: its data is newer than the target",
						at->bname, pitr_timestamptz_text(at->q->t));
	return NULL;
}

/* ---- the stop finders, one per target kind ---- */

/*
 * The first event of a kind on the path (by name, from an LSN, referring to
 * an LSN), and where the walk to it starts: the first record ending in its
 * segment, or the backup's start if later.
 */
static bool
event_start(const Attempt *at, const char *kind, const char *name,
			XLogRecPtr from, XLogRecPtr *lsn, XLogRecPtr *start)
{
	Oid			types[PATH_ARGS + 4];
	Datum		v[PATH_ARGS + 4];
	char		nulls[PATH_ARGS + 4] = {' ', ' ', ' ', ' ', ' ', ' ', 'n'};
	XLogRecPtr	first;

	path_args(at, types, v);
	types[3] = TEXTOID;
	types[4] = TEXTOID;
	types[5] = LSNOID;
	types[6] = LSNOID;
	v[3] = CStringGetTextDatum(kind);
	if (name)
		v[4] = CStringGetTextDatum(name);
	else
		nulls[4] = 'n';
	v[5] = LSNGetDatum(from);
	if (XLogRecPtrIsInvalid(from))
		nulls[5] = 'n';
	if (pitr_resolve_query(Q_EVENT_START, PATH_ARGS + 4, types, v, nulls,
						   true, 1) == 0)
		return false;
	*lsn = DatumGetLSN(pitr_resolve_col(0, 1));
	first = pitr_resolve_col_lsn(0, 2);
	*start = Max(first, at->b->start);
	return true;
}

static void
find_stop_time(Attempt *at)
{
	PitrSegmentRow f = pitr_model_xact_segment(at->a, at->p,
											   pitr_model_segno(at->a, at->b->start),
											   true, true, at->q->t,
											   at->q->inclusive);
	PitrStopQuery sq = {0};

	if (!f.valid)
	{
		at->fail = psprintf("no transaction ended after %s on timeline %u: recovery would end before reaching the target",
							pitr_timestamptz_text(at->q->t), at->tli);
		return;
	}
	sq.kind = PITR_STOP_TIME;
	sq.target_time = at->q->t;
	sq.inclusive = at->q->inclusive;
	walk(at, Max(f.first_lsn, at->b->start), &sq);
}

static void
find_stop_lsn(Attempt *at)
{
	Oid			types[PATH_ARGS + 3];
	Datum		v[PATH_ARGS + 3];
	XLogSegNo	seg = pitr_model_segno(at->a, at->q->lsn);
	XLogRecPtr	start = at->b->start;
	PitrStopQuery sq = {0};

	path_args(at, types, v);
	types[3] = INT8OID;
	types[4] = INT8OID;
	types[5] = LSNOID;
	v[3] = Int64GetDatum((int64) seg - 1);
	v[4] = Int64GetDatum((int64) seg);
	v[5] = LSNGetDatum(at->q->lsn);
	if (pitr_resolve_query(Q_LSN_START, PATH_ARGS + 3, types, v, NULL, true, 1) > 0 &&
		!pitr_resolve_col_null(0, 1))
		start = Max(DatumGetLSN(pitr_resolve_col(0, 1)), at->b->start);
	sq.kind = PITR_STOP_LSN;
	sq.target_lsn = at->q->lsn;
	sq.inclusive = at->q->inclusive;
	walk(at, start, &sq);
}

/* xid and mark: each segment that may end the transaction, walked once */
static void
find_stop_xid(Attempt *at)
{
	Oid			types[PATH_ARGS + 2];
	Datum		v[PATH_ARGS + 2];
	uint64		rows;
	XLogRecPtr *firsts;
	XLogRecPtr *nexts;

	path_args(at, types, v);
	types[3] = INT8OID;
	types[4] = INT8OID;
	v[3] = Int64GetDatum((int64) pitr_model_segno(at->a, at->b->start));
	v[4] = Int64GetDatum((int64) at->q->xid);
	rows = pitr_resolve_query(Q_XID_SEGMENTS, PATH_ARGS + 2, types, v, NULL, true, 0);
	firsts = palloc(sizeof(XLogRecPtr) * (rows + 1));
	nexts = palloc(sizeof(XLogRecPtr) * (rows + 1));
	for (uint64 i = 0; i < rows; i++)
	{
		firsts[i] = DatumGetLSN(pitr_resolve_col(i, 1));
		nexts[i] = pitr_resolve_col_lsn(i, 2);
	}
	for (uint64 i = 0; i < rows && !at->w.found; i++)
	{
		PitrStopQuery sq = {0};

		sq.kind = PITR_STOP_XID;
		sq.target_xid = at->q->xid;
		sq.inclusive = at->q->inclusive;
		sq.limit_lsn = nexts[i];
		walk(at, Max(firsts[i], at->b->start), &sq);
	}
	if (!at->w.found)
		at->fail = psprintf("transaction %u does not end on the history of timeline %u after the start of base backup %s",
							at->q->xid, at->tli, at->bname);
	else if (at->q->kind == PITR_TARGET_MARK &&
			 !((at->w.stop_before && at->w.next.commit) ||
			   (!at->w.stop_before && at->w.last.commit)))
		at->fail = psprintf("the transaction marked \"%s\" (%u) aborted: the mark does not exist",
							at->q->name, at->q->xid);
}

static void
find_stop_name(Attempt *at)
{
	XLogRecPtr	ev_lsn;
	XLogRecPtr	start;
	PitrStopQuery sq = {0};

	if (!XLogRecPtrIsInvalid(at->want_lsn) && at->want_lsn < at->b->start)
	{
		at->fail = psprintf("restore point \"%s\" at %s lies before base backup %s starts",
							at->q->name, pitr_lsn_text(at->want_lsn), at->bname);
		return;
	}
	if (!event_start(at, "restore_point", at->q->name, at->b->start, &ev_lsn, &start))
	{
		at->fail = psprintf("no restore point named \"%s\" on the history of timeline %u after the start of base backup %s",
							at->q->name, at->tli, at->bname);
		return;
	}

	/*
	 * recovery_target_name stops after the first one replayed; if that is
	 * not the one wanted, an LSN target reaches it.
	 */
	if (!XLogRecPtrIsInvalid(at->want_lsn) && ev_lsn != at->want_lsn)
		at->emit_lsn = true;
	else
		at->want_lsn = ev_lsn;
	sq.kind = PITR_STOP_LSN;
	sq.target_lsn = at->want_lsn;
	sq.inclusive = true;
	walk(at, start, &sq);
}

/* immediate: the end of this backup */
static void
find_stop_immediate(Attempt *at)
{
	XLogRecPtr	ev_lsn;
	XLogRecPtr	start;
	PitrStopQuery sq = {0};

	sq.kind = PITR_STOP_LSN;
	if (event_start(at, "backup_end", NULL, InvalidXLogRecPtr, &ev_lsn, &start))
	{
		sq.target_lsn = ev_lsn;
		sq.inclusive = true;
	}
	else
	{
		start = at->b->start;
		sq.target_lsn = at->b->stop;
		sq.inclusive = false;
	}
	walk(at, start, &sq);
}

typedef void (*StopFinder) (Attempt *at);

static const StopFinder stop_finders[] = {
	[PITR_TARGET_TIME] = find_stop_time,
	[PITR_TARGET_NAME] = find_stop_name,
	[PITR_TARGET_LSN] = find_stop_lsn,
	[PITR_TARGET_XID] = find_stop_xid,
	[PITR_TARGET_MARK] = find_stop_xid,
	[PITR_TARGET_IMMEDIATE] = find_stop_immediate,
};

/* ---- certify_path ---- */

/* Not found: if WAL has a hole on the way, that is why. */
static void
explain_not_found(Attempt *at)
{
	XLogRecPtr	end;
	PitrGap		gap;

	if (at->idx >= 0 &&
		pitr_model_path_end(at->a, at->p, &end) &&
		pitr_model_gap(at->a, at->p, at->b, at->b->start, end, &at->use, &gap))
		at->fail = psprintf("WAL from base backup %s is not continuous: segment %s, and recovery would stop there before reaching the target",
							at->bname, pitr_model_gap_text(at->a, &gap));
	if (at->fail == NULL && at->w.problem)
		at->fail = psprintf("recovery from base backup %s would end before reaching the target: %s",
							at->bname, at->w.problem);
	else if (at->fail == NULL)
		at->fail = psprintf("recovery from base backup %s would end before reaching the target: the archive's WAL on timeline %u ends at %s",
							at->bname, at->tli, pitr_lsn_text(at->w.walk_end));
}

static bool
minimal_wal_between(const Attempt *at, XLogRecPtr from, XLogRecPtr to)
{
	Oid			types[PATH_ARGS + 2];
	Datum		v[PATH_ARGS + 2];

	path_args(at, types, v);
	types[3] = LSNOID;
	types[4] = LSNOID;
	v[3] = LSNGetDatum(from);
	v[4] = LSNGetDatum(to);
	return pitr_resolve_query(Q_MINIMAL, PATH_ARGS + 2, types, v, NULL, true, 1) > 0;
}

/*
 * Can recovery from this backup replay all the way to the stop it found?
 * Consistent before the stop, continuous WAL from the backup's start (its
 * own pg_wal bridging holes), no wal_level = minimal on the way, and WAL
 * taken from its pg_wal (not indexed) cannot hold the stop of a time
 * target.  Sets at->fail (at->inconsistent for the first rule).
 */
static void
certify_path(Attempt *at)
{
	const PitrModelBackup *b = at->b;
	PitrGap		gap;

	if (at->stop_point < b->stop)
	{
		at->inconsistent = true;
		at->fail = psprintf("the stop point %s comes before base backup %s is consistent (at %s): recovery would fail with \"requested recovery stop point is before consistent recovery point\"",
							pitr_lsn_text(at->stop_point), at->bname,
							pitr_lsn_text(b->stop));
		return;
	}
	memset(&at->use, 0, sizeof(at->use));
	if (pitr_model_gap(at->a, at->p, b, b->start, at->w.stop_end, &at->use, &gap))
		at->fail = psprintf("WAL from base backup %s to the target is not continuous: segment %s",
							at->bname, pitr_model_gap_text(at->a, &gap));
	else if (minimal_wal_between(at, b->start, at->w.stop_end))
		at->fail = psprintf("WAL between base backup %s and the target was written with wal_level = minimal: recovery cannot replay it",
							at->bname);
	else if (at->use.count > 0 && at->q->kind == PITR_TARGET_TIME &&
			 !pitr_model_carried_time_ok(b, at->q->t))
		at->fail = psprintf("WAL from base backup %s comes partly from its own pg_wal (segments %s to %s are not in the archive), whose transactions are not indexed: only a target time at least a second after its stop time (%s) is certain not to stop recovery in them",
							at->bname, segment_name(at, at->use.lo),
							segment_name(at, at->use.hi),
							b->has_stop_time ? pitr_timestamptz_text(b->stop_time) : "unknown");
	/* a restore point in there could stop recovery_target_name */
	else if (at->use.count > 0 && at->q->kind == PITR_TARGET_NAME)
		at->emit_lsn = true;
}

/* ---- a reachable backup: what it gives ---- */

static void
count_wal(const Attempt *at, PitrResolution *r)
{
	XLogSegNo	s0 = pitr_model_segno(at->a, at->b->start);
	XLogSegNo	s1 = pitr_model_segno(at->a, at->w.stop_end - 1);

	/* Continuity is proven: the count follows from the ends. */
	r->wal_segments = (int) (s1 - s0 + 1);
	r->wal_bytes = (int64) r->wal_segments * at->a->segsize;
	r->wal_first = pitr_model_segment_name(at->a, at->p->tli[at->idx], s0);
	/* recovery reads the newest timeline that had begun by then */
	r->wal_last = pitr_model_segment_name(at->a,
										  pitr_model_serving_tli(at->a, at->p, s1),
										  s1);
}

static List *
prepared_open_at(const Attempt *at)
{
	Oid			types[PATH_ARGS + 1];
	Datum		v[PATH_ARGS + 1];
	uint64		rows;
	List	   *out = NIL;

	path_args(at, types, v);
	types[3] = LSNOID;
	v[3] = LSNGetDatum(at->stop_point);
	rows = pitr_resolve_query(Q_PREPARED, PATH_ARGS + 1, types, v, NULL, true, 0);
	for (uint64 i = 0; i < rows; i++)
		out = lappend(out, pitr_resolve_col_text(i, 1));
	return out;
}

/* why and the caveats of a reachable resolution. */
static void
explain(const Attempt *at, int tried, const char *fail_first,
		bool last_unknown, PitrResolution *r)
{
	StringInfoData why;

	initStringInfo(&why);
	appendStringInfo(&why, "base backup %s is the latest that is consistent (at %s) before the stop point, with continuous WAL from its start at %s",
					 at->bname, pitr_lsn_text(at->b->stop), pitr_lsn_text(at->b->start));
	if (tried > 1)
		appendStringInfo(&why, "; %d later backup(s) could not be used: %s",
						 tried - 1, fail_first ? fail_first : "");
	r->has_warnings = true;
	r->warnings = prepared_open_at(at);
	if (last_unknown)
		appendStringInfo(&why, "; no transaction ended in the indexed WAL between the start of base backup %s and the stop point, but segments %s to %s come from its own pg_wal and were not read, so last_xid is NULL (unknown)",
						 at->bname, segment_name(at, at->use.lo),
						 segment_name(at, at->use.hi));
	else if (!r->has_last)
		appendStringInfo(&why, "; no transaction ended between the start of base backup %s (%s) and the stop point, so last_xid is NULL",
						 at->bname, pitr_lsn_text(at->b->start));
	if (at->use.count > 0)
	{
		r->warnings = lappend(r->warnings,
							  psprintf("segments %s to %s are not in the archive: recovery reads them from the pg_wal of base backup %s; they were not read here, so prepared transactions in them are not listed",
									   segment_name(at, at->use.lo),
									   segment_name(at, at->use.hi), at->bname));
		appendStringInfo(&why, "; segments %s to %s come from the backup's own pg_wal",
						 segment_name(at, at->use.lo), segment_name(at, at->use.hi));
	}
	if (at->emit_lsn && at->use.count > 0 && at->q->kind == PITR_TARGET_NAME)
	{
		r->warnings = lappend(r->warnings,
							  psprintf("restore points in the WAL that base backup %s carries in its own pg_wal are not indexed: recovery_target_name could stop at one there, so the settings use recovery_target_lsn",
									   at->bname));
		appendStringInfoString(&why, "; recovery_target_lsn stands for the restore point");
	}
	else if (at->emit_lsn)
	{
		r->warnings = lappend(r->warnings,
							  psprintf("restore point \"%s\" occurs earlier after the start of base backup %s: recovery_target_name would stop there, so the settings use recovery_target_lsn",
									   at->q->name, at->bname));
		appendStringInfoString(&why, "; recovery_target_lsn stands for the restore point");
	}
	r->why = why.data;
}

static void
take_backup(Attempt *at, int tried, const char *fail_first, PitrResolution *r)
{
	bool		last_unknown = false;

	r->reachable = true;
	r->npath = at->p->n - at->idx;
	r->path = &at->p->tli[at->idx];
	r->backup_label = at->b->label;
	r->backup_location = at->b->location;
	r->backup_format = at->b->format;
	r->backup_stop_lsn = at->b->stop;
	r->stop_lsn = at->w.stop_lsn;
	r->stop_before = at->w.stop_before;
	r->end_lsn = at->stop_point;

	if (!at->w.last.valid)
		pitr_model_find_last_xact(at->a, at->p, at->b->start, at->start,
								  &at->use, &at->w.last, &last_unknown);
	r->has_last = at->w.last.valid;
	r->last_xid = at->w.last.xid;
	r->last_time = at->w.last.time;
	if (!at->w.next.valid)
		pitr_model_find_next_xact(at->a, at->p, at->stop_point, &at->w.next);
	r->has_next = at->w.next.valid;
	r->next_xid = at->w.next.xid;
	r->next_time = at->w.next.time;

	count_wal(at, r);
	explain(at, tried, fail_first, last_unknown, r);
	r->emit_lsn = at->emit_lsn;
	r->reason = NULL;
}

/* ---- the story ---- */

static void
try_backup(Attempt *at)
{
	Assert(at->q->kind < lengthof(stop_finders));
	at->fail = refuse_backup(at);
	if (at->fail == NULL)
		stop_finders[at->q->kind] (at);
	if (at->fail != NULL || !at->w.found)
	{
		explain_not_found(at);
		return;
	}
	at->stop_point = at->w.stop_before ? at->w.stop_lsn : at->w.stop_end;
	certify_path(at);
}

static char *
no_backup_reason(const PitrTimelineQuery *q)
{
	const char *dir;

	if (q->pin_backup != NULL)
		return psprintf("no usable base backup %s in pitr_restore.backup_dir",
						q->pin_backup);
	dir = GetConfigOption("pitr_restore.backup_dir", true, false);
	return psprintf("no usable base backup of this archive in pitr_restore.backup_dir (\"%s\")",
					dir ? dir : "");
}

/*
 * Incremental backups whose chain is broken (PostgreSQL 17+): backups()
 * gives them a problem naming the missing link, so the model never lists
 * them; an unreachable target names them.
 */
static const char Q_BROKEN_CHAINS[] =
"SELECT pg_catalog.string_agg(pg_catalog.format('incremental backup \"%s\" in %s cannot be used: %s', "
"bk.label, bk.location, bk.problem), '; ' ORDER BY bk.start_lsn DESC) "
"FROM pitr_restore.backups($1) bk "
"WHERE bk.incremental_from_lsn IS NOT NULL AND bk.problem IS NOT NULL "
"AND ($2::text IS NULL OR bk.label OPERATOR(pg_catalog.=) $2 "
"     OR bk.location OPERATOR(pg_catalog.=) $2 "
"     OR bk.location LIKE '%/' OPERATOR(pg_catalog.||) $2)";

/*
 * The incremental backups (the pinned one, or all) that are not eligible
 * because their chain is broken, with the link each lacks; NULL if none.
 */
static char *
chain_problems(const PitrArchiveInfo *a, const char *pin)
{
	Oid			types[2] = {TEXTOID, TEXTOID};
	Datum		v[2];
	char		nulls[2] = {' ', ' '};

	v[0] = CStringGetTextDatum(a->directory);
	if (pin)
		v[1] = CStringGetTextDatum(pin);
	else
		nulls[1] = 'n';
	if (pitr_resolve_query(Q_BROKEN_CHAINS, 2, types, v, nulls, false, 1) == 0 ||
		pitr_resolve_col_null(0, 1))
		return NULL;
	return pitr_resolve_col_text(0, 1);
}

void
pitr_resolve_on_timeline(const PitrArchiveInfo *a, TimeLineID tli,
						 const PitrTimelineQuery *q, PitrResolution *r)
{
	PitrPath   *p = pitr_model_path(a, tli);
	int			nbackups;
	PitrModelBackup *backups = pitr_model_backups(a, q->pin_backup, &nbackups);
	char	   *fail_first = NULL;
	char	   *fail_last = NULL;

	r->timeline = tli;
	r->reachable = false;
	r->emit_lsn = false;
	for (int bi = 0; bi < nbackups; bi++)
	{
		Attempt		at = {0};

		CHECK_FOR_INTERRUPTS();
		at.a = a;
		at.p = p;
		at.q = q;
		at.tli = tli;
		at.b = &backups[bi];
		at.bname = psprintf("\"%s\" in %s", at.b->label, at.b->location);
		at.want_lsn = q->want_lsn;
		at.idx = pitr_model_path_index(p, at.b->tli, at.b->start);

		try_backup(&at);
		if (at.fail == NULL)
		{
			take_backup(&at, bi + 1, fail_first, r);
			return;
		}
		if (fail_first == NULL && !at.inconsistent)
			fail_first = at.fail;
		fail_last = at.fail;
	}

	/*
	 * The earliest backup's complaint, unless a later backup failed for a
	 * reason other than consistency (that one says more).
	 */
	r->reason = nbackups == 0 ? no_backup_reason(q) :
		fail_first ? fail_first : fail_last;
	{
		char	   *broken = chain_problems(a, q->pin_backup);

		if (broken != NULL)
			r->reason = psprintf("%s; %s", r->reason, broken);
	}
}
