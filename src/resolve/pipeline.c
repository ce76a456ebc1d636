/*-------------------------------------------------------------------------
 *
 * pipeline.c
 *	  resolve_target(): the resolution pipeline in one C call.  The target
 *	  is checked, the candidate timelines chosen (the live one at a time,
 *	  the occurrence of a name or mark that recovery can reach, the newest
 *	  holding an LSN or xid), each resolved by backup_choice.c, and the
 *	  settings written by settings.c.
 *
 * One SPI connection serves the whole call; the index is read with
 * prepared set-based queries, kept across calls.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"
#include "access/xlog_internal.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/datum.h"
#include "utils/datetime.h"
#include "utils/pg_lsn.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"
#include "utils/xid8.h"

#include "resolve/certify.h"
#include "resolve/resolve_internal.h"

PG_FUNCTION_INFO_V1(pitr_resolve_target);

/* ---- SPI helpers shared by the pipeline's files ---- */

typedef struct ResolvePlan
{
	const char *sql;
	SPIPlanPtr	plan;
} ResolvePlan;

#define MAX_PLANS 32
static ResolvePlan plans[MAX_PLANS];
static int	nplans = 0;

/*
 * Read-only queries (ours and the walker's) run on the active snapshot:
 * after a query that may write (refreshing the index), the pipeline pushes
 * a new one that sees what it wrote.
 */
static bool snapshot_pushed = false;

static void
fresh_snapshot(void)
{
	CommandCounterIncrement();
	if (snapshot_pushed)
		PopActiveSnapshot();
	PushActiveSnapshot(GetTransactionSnapshot());
	snapshot_pushed = true;
}

uint64
pitr_resolve_query(const char *sql, int nargs, const Oid *types,
				   const Datum *values, const char *nulls, bool read_only,
				   long limit)
{
	SPIPlanPtr	plan = NULL;
	int			ret;

	for (int i = 0; i < nplans; i++)
		if (plans[i].sql == sql)
		{
			plan = plans[i].plan;
			break;
		}
	if (plan == NULL)
	{
		plan = SPI_prepare(sql, nargs, (Oid *) types);
		if (plan == NULL)
			elog(ERROR, "SPI_prepare failed: %s", SPI_result_code_string(SPI_result));
		if (nplans < MAX_PLANS)
		{
			SPI_keepplan(plan);
			plans[nplans].sql = sql;
			plans[nplans].plan = plan;
			nplans++;
		}
	}
	ret = SPI_execute_plan(plan, (Datum *) values, nulls, read_only, limit);
	if (ret < 0)
		elog(ERROR, "SPI_execute_plan failed: %s", SPI_result_code_string(ret));
	if (!read_only)
	{
		uint64		n = SPI_processed;

		fresh_snapshot();
		return n;
	}
	return SPI_processed;
}

/* Column col (1-based) of result row. */
bool
pitr_resolve_col_null(int row, int col)
{
	bool		isnull;

	(void) SPI_getbinval(SPI_tuptable->vals[row], SPI_tuptable->tupdesc, col, &isnull);
	return isnull;
}

Datum
pitr_resolve_col(int row, int col)
{
	bool		isnull;
	Datum		d = SPI_getbinval(SPI_tuptable->vals[row], SPI_tuptable->tupdesc,
								  col, &isnull);

	if (isnull)
		elog(ERROR, "unexpected NULL in column %d", col);
	return d;
}

char *
pitr_resolve_col_text(int row, int col)
{
	return SPI_getvalue(SPI_tuptable->vals[row], SPI_tuptable->tupdesc, col);
}

char *
pitr_lsn_text(XLogRecPtr lsn)
{
	return psprintf("%X/%X", LSN_FORMAT_ARGS(lsn));
}

char *
pitr_timestamptz_text(TimestampTz t)
{
	return DatumGetCString(DirectFunctionCall1(timestamptz_out,
											   TimestampTzGetDatum(t)));
}

static const char Q_PATH[] =
"SELECT tlis, begins, ends FROM pitr_restore.timeline_path($1, $2)";

PitrPath *
pitr_resolve_path(const PitrArchiveInfo *a, TimeLineID tli)
{
	Oid			types[2] = {INT4OID, INT4OID};
	Datum		v[2];
	Datum	   *d;
	bool	   *dn;
	int			n;
	PitrPath   *p = palloc0(sizeof(PitrPath));

	v[0] = Int32GetDatum(a->id);
	v[1] = Int32GetDatum((int32) tli);
	if (pitr_resolve_query(Q_PATH, 2, types, v, NULL, true, 1) != 1)
		elog(ERROR, "no path for timeline %u", tli);
	/* copies in the call's SPI memory, which outlives the next query */
	p->tli_arr = datumCopy(pitr_resolve_col(0, 1), false, -1);
	p->begin_arr = datumCopy(pitr_resolve_col(0, 2), false, -1);

	deconstruct_array(DatumGetArrayTypeP(p->tli_arr), INT4OID, 4, true,
					  TYPALIGN_INT, &d, &dn, &n);
	p->n = n;
	p->tli = palloc(sizeof(TimeLineID) * n);
	for (int i = 0; i < n; i++)
		p->tli[i] = DatumGetInt32(d[i]);
	deconstruct_array(DatumGetArrayTypeP(p->begin_arr), LSNOID, 8,
					  FLOAT8PASSBYVAL, TYPALIGN_DOUBLE, &d, &dn, &n);
	p->begin = palloc(sizeof(XLogRecPtr) * p->n);
	for (int i = 0; i < p->n && i < n; i++)
		p->begin[i] = dn[i] ? InvalidXLogRecPtr : DatumGetLSN(d[i]);
	deconstruct_array(DatumGetArrayTypeP(pitr_resolve_col(0, 3)), LSNOID, 8,
					  FLOAT8PASSBYVAL, TYPALIGN_DOUBLE, &d, &dn, &n);
	p->end = palloc(sizeof(XLogRecPtr) * p->n);
	for (int i = 0; i < p->n; i++)
		p->end[i] = (i >= n || dn[i]) ? InvalidXLogRecPtr : DatumGetLSN(d[i]);
	return p;
}

/* ---- the target ---- */

typedef struct TargetArgs
{
	PitrTargetKind kind;
	TimestampTz time;
	char	   *name;
	XLogRecPtr	lsn;
	TransactionId xid;
	char	   *mark;
	bool		inclusive;
	TimeLineID	timeline;		/* 0: any */
	bool		has_mark_after;
	TimestampTz mark_after;
	char	   *backup_label;
	char	   *archive_dir;
	char	   *action;
} TargetArgs;

static void
parse_args(FunctionCallInfo fcinfo, TargetArgs *t)
{
	int			kinds = 0;
	const char *named = NULL;
	const char *name_or_mark;

	memset(t, 0, sizeof(*t));
	for (int i = 0; i <= 4; i++)
		kinds += !PG_ARGISNULL(i);
	kinds += !PG_ARGISNULL(9);
	if (kinds != 1)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg(kinds == 0 ? "no recovery target given" :
						"more than one recovery target given"),
				 errhint("Give exactly one of target_time, target_name, target_lsn, target_xid, target_mark or target => 'immediate'.")));
	if (!PG_ARGISNULL(9))
	{
		named = text_to_cstring(PG_GETARG_TEXT_PP(9));
		if (strcmp(named, "immediate") != 0)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("invalid recovery target \"%s\"", named),
					 errhint("The only named target is 'immediate'.")));
	}
	if (!PG_ARGISNULL(1))
		t->name = text_to_cstring(PG_GETARG_TEXT_PP(1));
	if (!PG_ARGISNULL(4))
		t->mark = text_to_cstring(PG_GETARG_TEXT_PP(4));
	name_or_mark = t->name ? t->name : t->mark;
	if (name_or_mark && strlen(name_or_mark) >= MAXFNAMELEN)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("recovery target name is too long"),
				 errdetail("Restore point names are at most 63 bytes.")));
	t->action = PG_ARGISNULL(11) ? NULL : text_to_cstring(PG_GETARG_TEXT_PP(11));
	if (t->action == NULL ||
		(strcmp(t->action, "pause") != 0 && strcmp(t->action, "promote") != 0 &&
		 strcmp(t->action, "shutdown") != 0))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid recovery_action \"%s\"", t->action ? t->action : ""),
				 errhint("Use pause, promote or shutdown.")));
	if (!PG_ARGISNULL(7) && t->name == NULL && t->mark == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("mark_after applies only to target_name and target_mark")));
	if (!PG_ARGISNULL(6) && PG_GETARG_INT32(6) < 1)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid timeline %d", PG_GETARG_INT32(6))));
	if (PG_ARGISNULL(5))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("inclusive must not be null")));
	/* An empty name would mean no target at all to recovery. */
	if (name_or_mark && name_or_mark[0] == '\0')
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("recovery target name must not be empty")));

	t->inclusive = PG_GETARG_BOOL(5);
	t->timeline = PG_ARGISNULL(6) ? 0 : (TimeLineID) PG_GETARG_INT32(6);
	t->has_mark_after = !PG_ARGISNULL(7);
	if (t->has_mark_after)
		t->mark_after = PG_GETARG_TIMESTAMPTZ(7);
	t->backup_label = PG_ARGISNULL(8) ? NULL : text_to_cstring(PG_GETARG_TEXT_PP(8));
	t->archive_dir = PG_ARGISNULL(10) ? NULL : text_to_cstring(PG_GETARG_TEXT_PP(10));

	if (!PG_ARGISNULL(0))
	{
		t->kind = PITR_TARGET_TIME;
		t->time = PG_GETARG_TIMESTAMPTZ(0);
	}
	else if (t->name)
		t->kind = PITR_TARGET_NAME;
	else if (!PG_ARGISNULL(2))
	{
		t->kind = PITR_TARGET_LSN;
		t->lsn = PG_GETARG_LSN(2);
	}
	else if (!PG_ARGISNULL(3))
	{
		t->kind = PITR_TARGET_XID;
		/* recovery_target_xid takes the 32-bit xid */
		t->xid = XidFromFullTransactionId(PG_GETARG_FULLTRANSACTIONID(3));
	}
	else if (t->mark)
		t->kind = PITR_TARGET_MARK;
	else
		t->kind = PITR_TARGET_IMMEDIATE;
}

/* ---- candidate timelines and occurrences ---- */

/* the path's files are compared by certify.c, not every file */
static const char Q_REFRESH[] = "SELECT pitr_restore.refresh_archive($1, false)";
static const char Q_ARCHIVE[] =
"SELECT directory, segment_size FROM pitr_restore.archive "
"WHERE archive_id OPERATOR(pg_catalog.=) $1";
static const char Q_HAS_TIMELINE[] =
"SELECT 1 FROM pitr_restore.timeline_list($1) t WHERE t.timeline OPERATOR(pg_catalog.=) $2";
static const char Q_LIVE[] =
"SELECT t.timeline, t.created FROM pitr_restore.timeline_list($1) t "
"WHERE t.parent IS NOT NULL AND t.created OPERATOR(pg_catalog.<=) $2 "
"ORDER BY t.created DESC, t.timeline DESC LIMIT 1";
static const char Q_FIRST_TIMELINE[] =
"SELECT min(t.timeline) FROM pitr_restore.timeline_list($1) t";
static const char Q_TIMELINES_DESC[] =
"SELECT t.timeline FROM pitr_restore.timeline_list($1) t "
"WHERE ($2::pg_lsn IS NULL OR coalesce(t.branch_lsn, '0/0') OPERATOR(pg_catalog.<=) $2) "
"ORDER BY t.timeline DESC";
static const char Q_OCCURRENCES[] =
"SELECT rp.timeline, rp.lsn, rp.created, rp.kind, rp.xid, "
"  count(*) OVER (), count(*) FILTER (WHERE rp.kind OPERATOR(pg_catalog.<>) 'restore_point') OVER () "
"FROM pitr_restore.restore_points($1) rp WHERE rp.name OPERATOR(pg_catalog.=) $2 "
"ORDER BY rp.created, rp.lsn";
static const char Q_IN_MARKS[] =
"SELECT 1 FROM pitr_restore.marks m WHERE m.name OPERATOR(pg_catalog.=) $1";
static const char Q_TIMELINE_BEGIN[] =
"SELECT pitr_restore.timeline_begin($1, $2)";
static const char Q_UNLOGGED[] =
"SELECT pg_catalog.format('unlogged table %s comes back empty', c.oid::pg_catalog.regclass) "
"FROM pg_catalog.pg_class c "
"WHERE c.relpersistence OPERATOR(pg_catalog.=) 'u' AND c.relkind IN ('r', 'p') "
"AND (SELECT a.system_identifier FROM pitr_restore.archive a "
"     WHERE a.archive_id OPERATOR(pg_catalog.=) $1) "
"    OPERATOR(pg_catalog.=) (SELECT s.system_identifier FROM pg_catalog.pg_control_system() s) "
"ORDER BY 1";

typedef struct Occurrence
{
	TimeLineID	tli;
	XLogRecPtr	lsn;
	bool		has_created;
	TimestampTz created;
	bool		is_restore_point;
	TransactionId xid;
	bool		qualifies;		/* after mark_after, on target_timeline */
} Occurrence;

static TimeLineID *
timelines_desc(const PitrArchiveInfo *a, bool has_lsn, XLogRecPtr lsn, int *n)
{
	Oid			types[2] = {INT4OID, LSNOID};
	Datum		v[2];
	char		nulls[2] = {' ', has_lsn ? ' ' : 'n'};
	uint64		rows;
	TimeLineID *out;

	v[0] = Int32GetDatum(a->id);
	v[1] = LSNGetDatum(lsn);
	rows = pitr_resolve_query(Q_TIMELINES_DESC, 2, types, v, nulls, true, 0);
	out = palloc(sizeof(TimeLineID) * (rows + 1));
	for (uint64 i = 0; i < rows; i++)
		out[i] = DatumGetInt32(pitr_resolve_col(i, 1));
	*n = (int) rows;
	return out;
}

/*
 * The first occurrence of a name (after mark_after, on the given timeline)
 * that recovery can reach.  Returns the occurrence used, or NULL if none
 * qualifies; *r holds its resolution, or the first one's when none is
 * reachable.
 */
static Occurrence *
resolve_occurrences(const PitrArchiveInfo *a, const TargetArgs *t,
					const char *name, bool mark, int *occurrences,
					PitrResolution *r, bool *first_failed)
{
	Oid			types[2] = {TEXTOID, TEXTOID};
	Datum		v[2];
	uint64		rows;
	Occurrence *occ;
	int			own_marks = 0;
	PitrResolution first;
	bool		have_first = false;

	v[0] = CStringGetTextDatum(a->directory);
	v[1] = CStringGetTextDatum(name);
	rows = pitr_resolve_query(Q_OCCURRENCES, 2, types, v, NULL, false, 0);
	*occurrences = rows > 0 ? DatumGetInt64(pitr_resolve_col(0, 6)) : 0;
	if (rows > 0)
		own_marks = DatumGetInt64(pitr_resolve_col(0, 7));
	occ = palloc0(sizeof(Occurrence) * (rows + 1));
	for (uint64 i = 0; i < rows; i++)
	{
		char	   *kind = pitr_resolve_col_text(i, 4);
		bool		xact_mark = strcmp(kind, "transaction_mark") == 0;

		occ[i].tli = DatumGetInt32(pitr_resolve_col(i, 1));
		occ[i].lsn = DatumGetLSN(pitr_resolve_col(i, 2));
		occ[i].has_created = !pitr_resolve_col_null(i, 3);
		if (occ[i].has_created)
			occ[i].created = DatumGetTimestampTz(pitr_resolve_col(i, 3));
		occ[i].is_restore_point = strcmp(kind, "restore_point") == 0;
		/* a transaction mark stops at its transaction, others by name */
		occ[i].xid = (mark && xact_mark) ?
			(TransactionId) DatumGetInt64(pitr_resolve_col(i, 5)) : InvalidTransactionId;

		/*
		 * A plain restore point of a mark's name counts only when the marks
		 * table has no record of the mark (a restore rolled it back).
		 */
		occ[i].qualifies =
			(!t->has_mark_after ||
			 (occ[i].has_created && occ[i].created > t->mark_after)) &&
			(t->timeline == 0 || occ[i].tli == t->timeline) &&
			!(mark && own_marks > 0 && occ[i].is_restore_point);
	}
	*first_failed = false;
	for (uint64 i = 0; i < rows; i++)
	{
		PitrTimelineQuery q = {0};

		CHECK_FOR_INTERRUPTS();
		if (!occ[i].qualifies)
			continue;
		memset(r, 0, sizeof(*r));
		q.name = name;
		q.pin_backup = t->backup_label;
		if (mark && TransactionIdIsValid(occ[i].xid))
		{
			q.kind = PITR_TARGET_MARK;
			q.xid = occ[i].xid;
			q.inclusive = t->inclusive;
		}
		else
		{
			q.kind = PITR_TARGET_NAME;
			q.inclusive = true;
			q.want_lsn = occ[i].lsn;
		}
		pitr_resolve_on_timeline(a, occ[i].tli, &q, r);
		if (!have_first)
		{
			first = *r;
			have_first = true;
		}
		if (r->reachable)
			return &occ[i];
	}
	if (have_first)
	{
		*r = first;
		*first_failed = true;
	}
	return NULL;
}

/* ---- the entry point ---- */

static void
add_warning(PitrResolution *r, char *w)
{
	r->warnings = lappend(r->warnings, w);
	r->has_warnings = true;
}

static char *
time_setting(TimestampTz t)
{
	struct pg_tm tm;
	fsec_t		fsec;

	if (timestamp2tm(t, NULL, &tm, &fsec, NULL, NULL) != 0)
		ereport(ERROR,
				(errcode(ERRCODE_DATETIME_VALUE_OUT_OF_RANGE),
				 errmsg("target_time out of range")));
	return psprintf("%04d-%02d-%02d %02d:%02d:%02d.%06d+00",
					tm.tm_year, tm.tm_mon, tm.tm_mday,
					tm.tm_hour, tm.tm_min, tm.tm_sec, (int) fsec);
}

static void
resolve(const TargetArgs *t, PitrResolution *r)
{
	PitrArchiveInfo a;
	Oid			types[2] = {TEXTOID, INT4OID};
	Datum		v[2];
	char		nulls[2] = {' ', ' '};
	TimeLineID *cand = NULL;
	int			ncand = 0;
	char	   *note = NULL;
	int			occurrences = 0;
	PitrTargetKind kind = t->kind;
	const char *name = t->name;
	TransactionId x = t->xid;
	XLogRecPtr	want = InvalidXLogRecPtr;
	PitrResolution first;
	bool		have_first = false;

	memset(r, 0, sizeof(*r));
	memset(&a, 0, sizeof(a));

	/* The archive, indexed up to now. */
	if (t->archive_dir)
		v[0] = CStringGetTextDatum(t->archive_dir);
	else
		nulls[0] = 'n';
	pitr_resolve_query(Q_REFRESH, 1, types, v, nulls, false, 1);
	a.id = DatumGetInt32(pitr_resolve_col(0, 1));
	v[0] = Int32GetDatum(a.id);
	types[0] = INT4OID;
	if (pitr_resolve_query(Q_ARCHIVE, 1, types, v, NULL, true, 1) != 1)
		elog(ERROR, "archive %d vanished", a.id);
	a.directory = pitr_resolve_col_text(0, 1);
	if (pitr_resolve_col_null(0, 2))
	{
		r->reason = psprintf("the archive \"%s\" holds no readable PostgreSQL 15 WAL segment",
							 a.directory);
		return;
	}
	a.segsize = DatumGetInt32(pitr_resolve_col(0, 2));
	r->archive_id = a.id;
	r->archive_dir = a.directory;

	/* Timelines to try, best first. */
	types[1] = INT4OID;
	if (t->timeline != 0)
	{
		v[1] = Int32GetDatum((int32) t->timeline);
		if (pitr_resolve_query(Q_HAS_TIMELINE, 2, types, v, NULL, true, 1) == 0)
		{
			r->reason = psprintf("timeline %u is not in the archive", t->timeline);
			return;
		}
	}
	if (t->timeline != 0 && kind != PITR_TARGET_MARK)
	{
		/* a name on a given timeline: its first restore point there */
		cand = palloc(sizeof(TimeLineID));
		cand[0] = t->timeline;
		ncand = 1;
	}
	else if (kind == PITR_TARGET_TIME)
	{
		Oid			ltypes[2] = {INT4OID, TIMESTAMPTZOID};
		Datum		lv[2];
		TimeLineID	live = 0;
		bool		has_since = false;
		TimestampTz since = 0;
		TimeLineID *all;
		int			nall;

		lv[0] = Int32GetDatum(a.id);
		lv[1] = TimestampTzGetDatum(t->time);
		/*
		 * The history as it was lived then: the newest timeline created by
		 * that time (its end-of-recovery record, else its first commit).
		 */
		if (pitr_resolve_query(Q_LIVE, 2, ltypes, lv, NULL, true, 1) > 0)
		{
			live = DatumGetInt32(pitr_resolve_col(0, 1));
			has_since = !pitr_resolve_col_null(0, 2);
			if (has_since)
				since = DatumGetTimestampTz(pitr_resolve_col(0, 2));
		}
		if (live == 0 &&
			pitr_resolve_query(Q_FIRST_TIMELINE, 1, ltypes, lv, NULL, true, 1) > 0 &&
			!pitr_resolve_col_null(0, 1))
			live = DatumGetInt32(pitr_resolve_col(0, 1));
		all = timelines_desc(&a, false, 0, &nall);
		cand = palloc(sizeof(TimeLineID) * (nall + 1));
		cand[ncand++] = live;
		for (int i = 0; i < nall; i++)
			if (all[i] != live)
				cand[ncand++] = all[i];
		if (!has_since)
			note = psprintf("timeline %u was the live timeline at %s", live,
							pitr_timestamptz_text(t->time));
		else
			note = psprintf("timeline %u was the live timeline at %s (it began at %s)",
							live, pitr_timestamptz_text(t->time),
							pitr_timestamptz_text(since));
	}
	else if (kind == PITR_TARGET_NAME || kind == PITR_TARGET_MARK)
	{
		bool		mark = (kind == PITR_TARGET_MARK);
		const char *n = mark ? t->mark : t->name;
		bool		first_failed;
		Occurrence *occ = resolve_occurrences(&a, t, n, mark, &occurrences, r,
											  &first_failed);

		if (first_failed)
			return;
		if (occ == NULL)
		{
			memset(r, 0, sizeof(*r));
			if (!mark)
				r->reason = !t->has_mark_after ?
					psprintf("no restore point named \"%s\" in the archive", n) :
					psprintf("no restore point named \"%s\" created after %s in the archive",
							 n, pitr_timestamptz_text(t->mark_after));
			else
			{
				Oid			mtypes[1] = {TEXTOID};
				Datum		mv[1];

				mv[0] = CStringGetTextDatum(n);
				if (pitr_resolve_query(Q_IN_MARKS, 1, mtypes, mv, NULL, true, 1) > 0)
					r->reason = psprintf("mark \"%s\" is in pitr_restore.marks but not (yet) in the archive: its WAL has not been archived", n);
				else if (t->has_mark_after)
					r->reason = psprintf("no mark named \"%s\" made after %s in the archive",
										 n, pitr_timestamptz_text(t->mark_after));
				else
					r->reason = psprintf("no mark named \"%s\" in the archive", n);
			}
			return;
		}
		want = occ->lsn;
		if (mark && TransactionIdIsValid(occ->xid))
			x = occ->xid;
		else
		{
			kind = PITR_TARGET_NAME;
			name = n;
		}
		if (occurrences > 1)
			note = psprintf(mark ?
							"mark \"%s\" occurs %d times in the archive; this is the one made at %s on timeline %u, the first%s that recovery can reach" :
							"restore point \"%s\" occurs %d times in the archive; this is the one created at %s on timeline %u, the first%s that recovery can reach",
							n, occurrences,
							occ->has_created ? pitr_timestamptz_text(occ->created) : "",
							occ->tli, t->has_mark_after ? " after mark_after" : "");
	}
	else if (kind == PITR_TARGET_LSN)
		cand = timelines_desc(&a, true, t->lsn, &ncand);
	else
		cand = timelines_desc(&a, false, 0, &ncand);

	for (int i = 0; i < ncand; i++)
	{
		PitrTimelineQuery q = {0};

		CHECK_FOR_INTERRUPTS();
		memset(r, 0, sizeof(*r));
		q.kind = kind == PITR_TARGET_MARK ? PITR_TARGET_XID : kind;
		q.t = t->time;
		q.lsn = t->lsn;
		q.xid = x;
		q.name = name;
		q.inclusive = t->inclusive;
		q.pin_backup = t->backup_label;
		q.want_lsn = want;
		pitr_resolve_on_timeline(&a, cand[i], &q, r);

		/*
		 * An xid or LSN target belongs to the timeline whose own stretch
		 * holds the stop point.
		 */
		if (r->reachable && (kind == PITR_TARGET_XID || kind == PITR_TARGET_LSN) &&
			ncand > 1)
		{
			v[0] = Int32GetDatum(a.id);
			v[1] = Int32GetDatum((int32) cand[i]);
			pitr_resolve_query(Q_TIMELINE_BEGIN, 2, (Oid[]) {INT4OID, INT4OID},
							   v, NULL, true, 1);
			if (r->stop_lsn < DatumGetLSN(pitr_resolve_col(0, 1)))
			{
				r->reachable = false;
				r->reason = psprintf("the stop point lies before timeline %u begins",
									 cand[i]);
			}
		}
		if (!have_first)
		{
			first = *r;
			have_first = true;
		}
		if (r->reachable)
			break;
	}
	if (ncand > 0 && !r->reachable)
	{
		*r = first;
		return;
	}
	if (kind != PITR_TARGET_NAME && kind != PITR_TARGET_MARK && ncand == 0)
	{
		memset(r, 0, sizeof(*r));
		r->reason = pstrdup("no timeline of the archive holds the target");
		return;
	}
	if (kind == PITR_TARGET_TIME && r->timeline != cand[0])
		add_warning(r, psprintf("the target is not reachable on timeline %u, the live one at that time: %s",
								cand[0], first.reason ? first.reason : ""));

	if (note)
		r->why = psprintf("%s; %s", note, r->why);
	if ((kind == PITR_TARGET_XID || kind == PITR_TARGET_LSN) && t->timeline == 0 &&
		ncand > 1)
		r->why = psprintf("timeline %u is the newest whose history holds the stop point; %s",
						  r->timeline, r->why);
	if ((t->kind == PITR_TARGET_NAME || t->kind == PITR_TARGET_MARK) && occurrences > 1)
		add_warning(r, note);

	/*
	 * Unlogged tables are not in WAL: when the archive is this server's,
	 * name the ones of this database.
	 */
	{
		uint64		rows;

		v[0] = Int32GetDatum(a.id);
		rows = pitr_resolve_query(Q_UNLOGGED, 1, (Oid[]) {INT4OID}, v, NULL, true, 0);
		for (uint64 i = 0; i < rows; i++)
			add_warning(r, pitr_resolve_col_text(i, 1));
	}

	/* The settings that produce exactly this. */
	r->archive_id = a.id;
	r->archive_dir = a.directory;
	r->action = t->action;
	r->inclusive = t->inclusive;
	r->emit_inclusive = true;
	switch (kind)
	{
		case PITR_TARGET_TIME:
			r->setting = PITR_SETTING_TIME;
			r->setting_value = time_setting(t->time);
			break;
		case PITR_TARGET_NAME:
			if (r->emit_lsn)
			{
				r->setting = PITR_SETTING_LSN;
				r->setting_value = pitr_lsn_text(want);
				r->inclusive = true;
			}
			else
			{
				r->setting = PITR_SETTING_NAME;
				r->setting_value = pstrdup(name);
				r->emit_inclusive = false;
			}
			break;
		case PITR_TARGET_LSN:
			r->setting = PITR_SETTING_LSN;
			r->setting_value = pitr_lsn_text(t->lsn);
			break;
		case PITR_TARGET_XID:
		case PITR_TARGET_MARK:
			r->setting = PITR_SETTING_XID;
			r->setting_value = psprintf("%u", x);
			break;
		case PITR_TARGET_IMMEDIATE:
			r->setting = PITR_SETTING_IMMEDIATE;
			r->setting_value = NULL;
			r->emit_inclusive = false;
			break;
	}
	r->restore_command = pitr_archive_restore_command(a.id);
	r->recovery_conf = pitr_resolution_recovery_conf(r);
	r->tool_command = pitr_resolution_tool_command(r);
}

static Datum
text_or_null(const char *s, bool *isnull)
{
	*isnull = (s == NULL);
	return s ? CStringGetTextDatum(s) : (Datum) 0;
}

/*
 * resolve_target(target_time, target_name, target_lsn, target_xid,
 *				  target_mark, inclusive, target_timeline, mark_after,
 *				  backup_label, target, archive_dir, recovery_action)
 *
 * Malformed arguments are an ERROR; a target recovery cannot reach gives
 * reachable = false and a reason.
 */
Datum
pitr_resolve_target(PG_FUNCTION_ARGS)
{
	TargetArgs	t;
	PitrResolution r;
	TupleDesc	tupdesc;
	Datum		values[23];
	bool		nulls[23];
	MemoryContext caller = CurrentMemoryContext;
	HeapTuple	tup;
	Datum		result;

	if (get_call_result_type(fcinfo, NULL, &tupdesc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "return type must be a row type");
	if (tupdesc->natts != 23)
		elog(ERROR, "resolution type has %d columns, expected 23", tupdesc->natts);
	parse_args(fcinfo, &t);

	SPI_connect();
	/* an ERROR's abort pops the snapshot stack */
	snapshot_pushed = false;
	/* Certified against the archive as it is now (certify.c). */
	for (int attempt = 0;; attempt++)
	{
		resolve(&t, &r);
		if (!pitr_certify_resolution(&r, t.kind,
									 t.kind == PITR_TARGET_MARK ? t.mark : t.name,
									 attempt))
			break;
	}

	memset(nulls, 0, sizeof(nulls));
	values[0] = BoolGetDatum(r.reachable);
	values[1] = text_or_null(r.reason, &nulls[1]);
	values[2] = Int32GetDatum((int32) r.timeline);
	nulls[2] = (r.timeline == 0);
	nulls[3] = !r.reachable;
	if (r.reachable)
	{
		Datum	   *d = palloc(sizeof(Datum) * (r.npath + 1));

		for (int i = 0; i < r.npath; i++)
			d[i] = Int32GetDatum((int32) r.path[i]);
		MemoryContextSwitchTo(caller);
		values[3] = PointerGetDatum(construct_array(d, r.npath, INT4OID, 4, true,
													TYPALIGN_INT));
	}
	MemoryContextSwitchTo(caller);
	values[4] = text_or_null(r.backup_label, &nulls[4]);
	values[5] = text_or_null(r.backup_location, &nulls[5]);
	values[6] = text_or_null(r.backup_format, &nulls[6]);
	values[7] = LSNGetDatum(r.backup_stop_lsn);
	values[8] = LSNGetDatum(r.stop_lsn);
	values[9] = BoolGetDatum(r.stop_before);
	values[10] = LSNGetDatum(r.end_lsn);
	nulls[7] = nulls[8] = nulls[9] = nulls[10] = !r.reachable;
	values[11] = TransactionIdGetDatum(r.last_xid);
	values[12] = TimestampTzGetDatum(r.last_time);
	nulls[11] = nulls[12] = !r.has_last;
	values[13] = TransactionIdGetDatum(r.next_xid);
	values[14] = TimestampTzGetDatum(r.next_time);
	nulls[13] = nulls[14] = !r.has_next;
	values[15] = text_or_null(r.wal_first, &nulls[15]);
	values[16] = text_or_null(r.wal_last, &nulls[16]);
	values[17] = Int32GetDatum(r.wal_segments);
	values[18] = Int64GetDatum(r.wal_bytes);
	nulls[17] = nulls[18] = !r.reachable;
	values[19] = text_or_null(r.recovery_conf, &nulls[19]);
	nulls[20] = !r.has_warnings;
	if (r.has_warnings)
	{
		int			n = list_length(r.warnings);
		Datum	   *d = palloc(sizeof(Datum) * (n + 1));
		int			i = 0;
		ListCell   *lc;

		foreach(lc, r.warnings)
			d[i++] = CStringGetTextDatum((char *) lfirst(lc));
		values[20] = PointerGetDatum(construct_array(d, n, TEXTOID, -1, false,
													 TYPALIGN_INT));
	}
	values[21] = text_or_null(r.why, &nulls[21]);
	values[22] = text_or_null(r.tool_command, &nulls[22]);
	tup = heap_form_tuple(BlessTupleDesc(tupdesc), values, nulls);
	result = HeapTupleGetDatum(tup);
	if (snapshot_pushed)
		PopActiveSnapshot();
	snapshot_pushed = false;
	SPI_finish();
	PG_RETURN_DATUM(result);
}
