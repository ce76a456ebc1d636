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
#include "util/display.h"
#include "util/row_values.h"

PG_FUNCTION_INFO_V1(pitr_resolve_target);

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

/* resolve_target's arguments, in order. */
enum
{
	ARG_TARGET_TIME,
	ARG_TARGET_NAME,
	ARG_TARGET_LSN,
	ARG_TARGET_XID,
	ARG_TARGET_MARK,
	ARG_INCLUSIVE,
	ARG_TARGET_TIMELINE,
	ARG_MARK_AFTER,
	ARG_BACKUP_LABEL,
	ARG_TARGET,
	ARG_ARCHIVE_DIR,
	ARG_RECOVERY_ACTION,
	RESOLVE_NARGS
};

/* The arguments that each name a target: exactly one is given. */
static const int target_args[] = {
	ARG_TARGET_TIME, ARG_TARGET_NAME, ARG_TARGET_LSN, ARG_TARGET_XID,
	ARG_TARGET_MARK, ARG_TARGET
};

static char *
text_arg(FunctionCallInfo fcinfo, int n)
{
	return PG_ARGISNULL(n) ? NULL : text_to_cstring(PG_GETARG_TEXT_PP(n));
}

static void
parse_args(FunctionCallInfo fcinfo, TargetArgs *t)
{
	int			kinds = 0;
	const char *named = NULL;
	const char *name_or_mark;

	memset(t, 0, sizeof(*t));
	if (PG_NARGS() != RESOLVE_NARGS)
		elog(ERROR, "resolve_target takes %d arguments, got %d",
			 RESOLVE_NARGS, PG_NARGS());
	for (int i = 0; i < lengthof(target_args); i++)
		kinds += !PG_ARGISNULL(target_args[i]);
	if (kinds != 1)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg(kinds == 0 ? "no recovery target given" :
						"more than one recovery target given"),
				 errhint("Give exactly one of target_time, target_name, target_lsn, target_xid, target_mark or target => 'immediate'.")));
	if (!PG_ARGISNULL(ARG_TARGET))
	{
		named = text_to_cstring(PG_GETARG_TEXT_PP(ARG_TARGET));
		if (strcmp(named, "immediate") != 0)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("invalid recovery target \"%s\"", named),
					 errhint("The only named target is 'immediate'.")));
	}
	t->name = text_arg(fcinfo, ARG_TARGET_NAME);
	t->mark = text_arg(fcinfo, ARG_TARGET_MARK);
	name_or_mark = t->name ? t->name : t->mark;
	if (name_or_mark && strlen(name_or_mark) >= MAXFNAMELEN)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("recovery target name is too long"),
				 errdetail("Restore point names are at most 63 bytes.")));
	t->action = text_arg(fcinfo, ARG_RECOVERY_ACTION);
	if (t->action == NULL ||
		(strcmp(t->action, "pause") != 0 && strcmp(t->action, "promote") != 0 &&
		 strcmp(t->action, "shutdown") != 0))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid recovery_action \"%s\"", t->action ? t->action : ""),
				 errhint("Use pause, promote or shutdown.")));
	if (!PG_ARGISNULL(ARG_MARK_AFTER) && t->name == NULL && t->mark == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("mark_after applies only to target_name and target_mark")));
	if (!PG_ARGISNULL(ARG_TARGET_TIMELINE) && PG_GETARG_INT32(ARG_TARGET_TIMELINE) < 1)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid timeline %d", PG_GETARG_INT32(ARG_TARGET_TIMELINE))));
	if (PG_ARGISNULL(ARG_INCLUSIVE))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("inclusive must not be null")));
	/* An empty name would mean no target at all to recovery. */
	if (name_or_mark && name_or_mark[0] == '\0')
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("recovery target name must not be empty")));

	t->inclusive = PG_GETARG_BOOL(ARG_INCLUSIVE);
	t->timeline = PG_ARGISNULL(ARG_TARGET_TIMELINE) ? 0 :
		(TimeLineID) PG_GETARG_INT32(ARG_TARGET_TIMELINE);
	t->has_mark_after = !PG_ARGISNULL(ARG_MARK_AFTER);
	if (t->has_mark_after)
		t->mark_after = PG_GETARG_TIMESTAMPTZ(ARG_MARK_AFTER);
	t->backup_label = text_arg(fcinfo, ARG_BACKUP_LABEL);
	t->archive_dir = text_arg(fcinfo, ARG_ARCHIVE_DIR);

	if (!PG_ARGISNULL(ARG_TARGET_TIME))
	{
		t->kind = PITR_TARGET_TIME;
		t->time = PG_GETARG_TIMESTAMPTZ(ARG_TARGET_TIME);
	}
	else if (t->name)
		t->kind = PITR_TARGET_NAME;
	else if (!PG_ARGISNULL(ARG_TARGET_LSN))
	{
		t->kind = PITR_TARGET_LSN;
		t->lsn = PG_GETARG_LSN(ARG_TARGET_LSN);
	}
	else if (!PG_ARGISNULL(ARG_TARGET_XID))
	{
		t->kind = PITR_TARGET_XID;
		/* recovery_target_xid takes the 32-bit xid */
		t->xid = XidFromFullTransactionId(PG_GETARG_FULLTRANSACTIONID(ARG_TARGET_XID));
	}
	else if (t->mark)
		t->kind = PITR_TARGET_MARK;
	else
		t->kind = PITR_TARGET_IMMEDIATE;
}

/* ---- candidate timelines and occurrences ---- */

/* the path's files are compared by certify.c, not every file */
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

/* The columns of Q_OCCURRENCES. */
enum
{
	OCC_TIMELINE = 1,
	OCC_LSN,
	OCC_CREATED,
	OCC_KIND,
	OCC_XID,
	OCC_COUNT,
	OCC_OWN_MARKS
};

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
		out[i] = DatumGetInt32(pitr_resolve_col(i, OCC_TIMELINE));
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
	*occurrences = rows > 0 ? DatumGetInt64(pitr_resolve_col(0, OCC_COUNT)) : 0;
	if (rows > 0)
		own_marks = DatumGetInt64(pitr_resolve_col(0, OCC_OWN_MARKS));
	occ = palloc0(sizeof(Occurrence) * (rows + 1));
	for (uint64 i = 0; i < rows; i++)
	{
		char	   *kind = pitr_resolve_col_text(i, OCC_KIND);
		bool		xact_mark = strcmp(kind, "transaction_mark") == 0;

		occ[i].tli = DatumGetInt32(pitr_resolve_col(i, OCC_TIMELINE));
		occ[i].lsn = DatumGetLSN(pitr_resolve_col(i, OCC_LSN));
		occ[i].has_created = !pitr_resolve_col_null(i, OCC_CREATED);
		if (occ[i].has_created)
			occ[i].created = DatumGetTimestampTz(pitr_resolve_col(i, OCC_CREATED));
		occ[i].is_restore_point = strcmp(kind, "restore_point") == 0;
		/* a transaction mark stops at its transaction, others by name */
		occ[i].xid = (mark && xact_mark) ?
			(TransactionId) DatumGetInt64(pitr_resolve_col(i, OCC_XID)) : InvalidTransactionId;

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

/* ---- the story of one resolution ---- */

/* What the steps of one resolution share. */
typedef struct Resolve
{
	const TargetArgs *t;
	PitrArchiveInfo a;
	TimeLineID *cand;			/* timelines to try, best first */
	int			ncand;
	char	   *note;			/* why these timelines, for why */
	int			occurrences;	/* of a name or mark */
	char	   *first_reason;	/* the best timeline's, when another served */
	PitrTargetKind kind;		/* what is resolved: a mark may become a name */
	const char *name;
	TransactionId xid;
	XLogRecPtr	want;			/* the restore point's record */
} Resolve;

/* The archive, indexed up to now; false (with a reason) if it has no WAL. */
static bool
open_archive(Resolve *s, PitrResolution *r)
{
	/* the files on the path are checked where it is certified, not here */
	if (!pitr_model_open_archive(s->t->archive_dir, false, &s->a))
	{
		r->reason = psprintf("the archive \"%s\" holds no readable PostgreSQL " PG_MAJORVERSION " WAL segment",
							 s->a.directory);
		return false;
	}
	r->archive_id = s->a.id;
	r->archive_dir = s->a.directory;
	return true;
}

/*
 * A time: the history as it was lived then, the newest timeline created by
 * that time (its end-of-recovery record, else its first commit), then the
 * others.
 */
static void
live_candidates(Resolve *s)
{
	Oid			types[2] = {INT4OID, TIMESTAMPTZOID};
	Datum		v[2];
	TimeLineID	live = 0;
	bool		has_since = false;
	TimestampTz since = 0;
	TimeLineID *all;
	int			nall;
	const char *at = pitr_timestamptz_text(s->t->time);

	v[0] = Int32GetDatum(s->a.id);
	v[1] = TimestampTzGetDatum(s->t->time);
	if (pitr_resolve_query(Q_LIVE, 2, types, v, NULL, true, 1) > 0)
	{
		live = DatumGetInt32(pitr_resolve_col(0, 1));
		has_since = !pitr_resolve_col_null(0, 2);
		if (has_since)
			since = DatumGetTimestampTz(pitr_resolve_col(0, 2));
	}
	if (live == 0 &&
		pitr_resolve_query(Q_FIRST_TIMELINE, 1, types, v, NULL, true, 1) > 0 &&
		!pitr_resolve_col_null(0, 1))
		live = DatumGetInt32(pitr_resolve_col(0, 1));
	all = timelines_desc(&s->a, false, 0, &nall);
	s->cand = palloc(sizeof(TimeLineID) * (nall + 1));
	s->cand[s->ncand++] = live;
	for (int i = 0; i < nall; i++)
		if (all[i] != live)
			s->cand[s->ncand++] = all[i];
	s->note = has_since ?
		psprintf("timeline %u was the live timeline at %s (it began at %s)",
				 live, at, pitr_timestamptz_text(since)) :
		psprintf("timeline %u was the live timeline at %s", live, at);
}

/* Why no occurrence of a name or mark qualifies. */
static char *
no_occurrence_reason(const Resolve *s, bool mark, const char *n)
{
	Oid			types[1] = {TEXTOID};
	Datum		v[1];
	const char *after = s->t->has_mark_after ?
		pitr_timestamptz_text(s->t->mark_after) : NULL;

	if (!mark)
		return after == NULL ?
			psprintf("no restore point named \"%s\" in the archive", n) :
			psprintf("no restore point named \"%s\" created after %s in the archive",
					 n, after);
	v[0] = CStringGetTextDatum(n);
	if (pitr_resolve_query(Q_IN_MARKS, 1, types, v, NULL, true, 1) > 0)
		return psprintf("mark \"%s\" is in pitr_restore.marks but not (yet) in the archive: its WAL has not been archived", n);
	if (after != NULL)
		return psprintf("no mark named \"%s\" made after %s in the archive", n, after);
	return psprintf("no mark named \"%s\" in the archive", n);
}

/*
 * A name or mark: its first occurrence recovery can reach, resolved here
 * (no candidates are left to try).  False when r is final.
 */
static bool
named_target(Resolve *s, PitrResolution *r)
{
	bool		mark = (s->kind == PITR_TARGET_MARK);
	const char *n = mark ? s->t->mark : s->t->name;
	bool		first_failed;
	Occurrence *occ = resolve_occurrences(&s->a, s->t, n, mark,
										  &s->occurrences, r, &first_failed);

	if (first_failed)
		return false;
	if (occ == NULL)
	{
		memset(r, 0, sizeof(*r));
		r->reason = no_occurrence_reason(s, mark, n);
		return false;
	}
	s->want = occ->lsn;
	if (mark && TransactionIdIsValid(occ->xid))
		s->xid = occ->xid;
	else
	{
		s->kind = PITR_TARGET_NAME;
		s->name = n;
	}
	if (s->occurrences > 1)
		s->note = psprintf(mark ?
						   "mark \"%s\" occurs %d times in the archive; this is the one made at %s on timeline %u, the first%s that recovery can reach" :
						   "restore point \"%s\" occurs %d times in the archive; this is the one created at %s on timeline %u, the first%s that recovery can reach",
						   n, s->occurrences,
						   occ->has_created ? pitr_timestamptz_text(occ->created) : "",
						   occ->tli, s->t->has_mark_after ? " after mark_after" : "");
	return true;
}

/* The timelines to try, best first.  False when r is final. */
static bool
choose_candidates(Resolve *s, PitrResolution *r)
{
	const TargetArgs *t = s->t;

	if (t->timeline != 0)
	{
		Datum		v[2] = {Int32GetDatum(s->a.id), Int32GetDatum((int32) t->timeline)};

		if (pitr_resolve_query(Q_HAS_TIMELINE, 2, (Oid[]) {INT4OID, INT4OID},
							   v, NULL, true, 1) == 0)
		{
			r->reason = psprintf("timeline %u is not in the archive", t->timeline);
			return false;
		}
	}
	if (t->timeline != 0 && s->kind != PITR_TARGET_MARK)
	{
		/* a name on a given timeline: its first restore point there */
		s->cand = palloc(sizeof(TimeLineID));
		s->cand[0] = t->timeline;
		s->ncand = 1;
	}
	else if (s->kind == PITR_TARGET_TIME)
		live_candidates(s);
	else if (s->kind == PITR_TARGET_NAME || s->kind == PITR_TARGET_MARK)
		return named_target(s, r);
	else if (s->kind == PITR_TARGET_LSN)
		s->cand = timelines_desc(&s->a, true, t->lsn, &s->ncand);
	else
		s->cand = timelines_desc(&s->a, false, 0, &s->ncand);
	return true;
}

/*
 * An xid or LSN target belongs to the timeline whose own stretch holds the
 * stop point.
 */
static void
check_stop_on_own_stretch(const Resolve *s, TimeLineID tli, PitrResolution *r)
{
	Datum		v[2] = {Int32GetDatum(s->a.id), Int32GetDatum((int32) tli)};

	if (!r->reachable || s->ncand <= 1 ||
		(s->kind != PITR_TARGET_XID && s->kind != PITR_TARGET_LSN))
		return;
	pitr_resolve_query(Q_TIMELINE_BEGIN, 2, (Oid[]) {INT4OID, INT4OID},
					   v, NULL, true, 1);
	if (r->stop_lsn < DatumGetLSN(pitr_resolve_col(0, 1)))
	{
		r->reachable = false;
		r->reason = psprintf("the stop point lies before timeline %u begins", tli);
	}
}

/* Each candidate in turn, until one is reachable.  False when r is final. */
static bool
try_candidates(Resolve *s, PitrResolution *r)
{
	PitrResolution first;

	for (int i = 0; i < s->ncand; i++)
	{
		PitrTimelineQuery q = {0};

		CHECK_FOR_INTERRUPTS();
		memset(r, 0, sizeof(*r));
		q.kind = s->kind == PITR_TARGET_MARK ? PITR_TARGET_XID : s->kind;
		q.t = s->t->time;
		q.lsn = s->t->lsn;
		q.xid = s->xid;
		q.name = s->name;
		q.inclusive = s->t->inclusive;
		q.pin_backup = s->t->backup_label;
		q.want_lsn = s->want;
		pitr_resolve_on_timeline(&s->a, s->cand[i], &q, r);
		check_stop_on_own_stretch(s, s->cand[i], r);
		if (i == 0)
			first = *r;
		if (r->reachable)
			break;
	}
	if (s->ncand > 0 && !r->reachable)
	{
		*r = first;
		return false;
	}
	if (s->ncand > 0)
		s->first_reason = first.reason;
	if (s->kind != PITR_TARGET_NAME && s->kind != PITR_TARGET_MARK && s->ncand == 0)
	{
		memset(r, 0, sizeof(*r));
		r->reason = pstrdup("no timeline of the archive holds the target");
		return false;
	}
	return true;
}

/* How the timeline was chosen, and what recovery will not bring back. */
static void
annotate(const Resolve *s, PitrResolution *r)
{
	const TargetArgs *t = s->t;
	Datum		v[1] = {Int32GetDatum(s->a.id)};
	uint64		rows;

	if (s->kind == PITR_TARGET_TIME && r->timeline != s->cand[0])
		add_warning(r, psprintf("the target is not reachable on timeline %u, the live one at that time: %s",
								s->cand[0], s->first_reason ? s->first_reason : ""));
	if (s->note)
		r->why = psprintf("%s; %s", s->note, r->why);
	if ((s->kind == PITR_TARGET_XID || s->kind == PITR_TARGET_LSN) &&
		t->timeline == 0 && s->ncand > 1)
		r->why = psprintf("timeline %u is the newest whose history holds the stop point; %s",
						  r->timeline, r->why);
	if ((t->kind == PITR_TARGET_NAME || t->kind == PITR_TARGET_MARK) &&
		s->occurrences > 1)
		add_warning(r, s->note);

	/*
	 * Unlogged tables are not in WAL: when the archive is this server's,
	 * name the ones of this database.
	 */
	rows = pitr_resolve_query(Q_UNLOGGED, 1, (Oid[]) {INT4OID}, v, NULL, true, 0);
	for (uint64 i = 0; i < rows; i++)
		add_warning(r, pitr_resolve_col_text(i, 1));
}

/* The settings that produce exactly this. */
static void
write_settings(const Resolve *s, PitrResolution *r)
{
	const TargetArgs *t = s->t;

	r->archive_id = s->a.id;
	r->archive_dir = s->a.directory;
	r->action = t->action;
	r->inclusive = t->inclusive;
	r->emit_inclusive = true;
	switch (s->kind)
	{
		case PITR_TARGET_TIME:
			r->setting = PITR_TOOL_TARGET_TIME;
			r->setting_value = time_setting(t->time);
			break;
		case PITR_TARGET_NAME:
			/* a name stored escaped is not the bytes recovery compares */
			if (r->emit_lsn || pitr_db_text_escaped(s->name))
			{
				r->setting = PITR_TOOL_TARGET_LSN;
				r->setting_value = pitr_lsn_text(s->want);
				r->inclusive = true;
			}
			else
			{
				r->setting = PITR_TOOL_TARGET_NAME;
				r->setting_value = pstrdup(s->name);
				r->emit_inclusive = false;
			}
			break;
		case PITR_TARGET_LSN:
			r->setting = PITR_TOOL_TARGET_LSN;
			r->setting_value = pitr_lsn_text(t->lsn);
			break;
		case PITR_TARGET_XID:
		case PITR_TARGET_MARK:
			r->setting = PITR_TOOL_TARGET_XID;
			r->setting_value = psprintf("%u", s->xid);
			break;
		case PITR_TARGET_IMMEDIATE:
			r->setting = PITR_TOOL_TARGET_IMMEDIATE;
			r->setting_value = NULL;
			r->emit_inclusive = false;
			break;
	}
	r->restore_command = pitr_archive_restore_command(s->a.id);
	r->recovery_conf = pitr_resolution_recovery_conf(r);
	r->tool_command = pitr_resolution_tool_command(r);
}

static void
resolve(const TargetArgs *t, PitrResolution *r)
{
	Resolve		s = {0};

	memset(r, 0, sizeof(*r));
	s.t = t;
	s.kind = t->kind;
	s.name = t->name;
	s.xid = t->xid;
	s.want = InvalidXLogRecPtr;
	if (open_archive(&s, r) && choose_candidates(&s, r) &&
		try_candidates(&s, r))
	{
		annotate(&s, r);
		write_settings(&s, r);
	}
}

/* ---- the result ---- */

/* The columns of pitr_restore.resolution, in order. */
enum
{
	COL_REACHABLE,
	COL_REASON,
	COL_TIMELINE,
	COL_TIMELINE_PATH,
	COL_BACKUP_LABEL,
	COL_BACKUP_LOCATION,
	COL_BACKUP_FORMAT,
	COL_BACKUP_STOP_LSN,
	COL_STOP_LSN,
	COL_STOP_BEFORE,
	COL_END_LSN,
	COL_LAST_XID,
	COL_LAST_COMMIT_TIME,
	COL_NEXT_XID,
	COL_NEXT_COMMIT_TIME,
	COL_WAL_FIRST,
	COL_WAL_LAST,
	COL_WAL_SEGMENTS,
	COL_WAL_BYTES,
	COL_RECOVERY_CONF,
	COL_WARNINGS,
	COL_WHY,
	COL_TOOL_COMMAND,
	RESOLUTION_NCOLS
};

static Datum
path_array(const PitrResolution *r)
{
	Datum	   *d = palloc(sizeof(Datum) * (r->npath + 1));

	for (int i = 0; i < r->npath; i++)
		d[i] = Int32GetDatum((int32) r->path[i]);
	return PointerGetDatum(construct_array(d, r->npath, INT4OID, 4, true,
										   TYPALIGN_INT));
}

/* pitr_display() of a string that may be NULL. */
static char *
display_or_null(char *s)
{
	return s ? (char *) pitr_display(s, false) : NULL;
}

static Datum
warnings_array(const PitrResolution *r)
{
	int			n = list_length(r->warnings);
	Datum	   *d = palloc(sizeof(Datum) * (n + 1));
	int			i = 0;
	ListCell   *lc;

	foreach(lc, r->warnings)
		d[i++] = CStringGetTextDatum(pitr_display((char *) lfirst(lc), false));
	return PointerGetDatum(construct_array(d, n, TEXTOID, -1, false,
										   TYPALIGN_INT));
}

/* The row, built in the caller's memory (SPI's goes at SPI_finish). */
static HeapTuple
resolution_tuple(TupleDesc tupdesc, const PitrResolution *r)
{
	Datum		values[RESOLUTION_NCOLS];
	bool		nulls[RESOLUTION_NCOLS];

	memset(nulls, 0, sizeof(nulls));
	values[COL_REACHABLE] = BoolGetDatum(r->reachable);
	/* text for people: names shown by the one display rule */
	pitr_put_text(values, nulls, COL_REASON, display_or_null(r->reason));
	values[COL_TIMELINE] = Int32GetDatum((int32) r->timeline);
	nulls[COL_TIMELINE] = (r->timeline == 0);
	nulls[COL_TIMELINE_PATH] = !r->reachable;
	if (r->reachable)
		values[COL_TIMELINE_PATH] = path_array(r);
	pitr_put_text(values, nulls, COL_BACKUP_LABEL, r->backup_label);
	pitr_put_text(values, nulls, COL_BACKUP_LOCATION, r->backup_location);
	pitr_put_text(values, nulls, COL_BACKUP_FORMAT, r->backup_format);
	values[COL_BACKUP_STOP_LSN] = LSNGetDatum(r->backup_stop_lsn);
	values[COL_STOP_LSN] = LSNGetDatum(r->stop_lsn);
	values[COL_STOP_BEFORE] = BoolGetDatum(r->stop_before);
	values[COL_END_LSN] = LSNGetDatum(r->end_lsn);
	nulls[COL_BACKUP_STOP_LSN] = nulls[COL_STOP_LSN] = !r->reachable;
	nulls[COL_STOP_BEFORE] = nulls[COL_END_LSN] = !r->reachable;
	values[COL_LAST_XID] = TransactionIdGetDatum(r->last_xid);
	values[COL_LAST_COMMIT_TIME] = TimestampTzGetDatum(r->last_time);
	nulls[COL_LAST_XID] = nulls[COL_LAST_COMMIT_TIME] = !r->has_last;
	values[COL_NEXT_XID] = TransactionIdGetDatum(r->next_xid);
	values[COL_NEXT_COMMIT_TIME] = TimestampTzGetDatum(r->next_time);
	nulls[COL_NEXT_XID] = nulls[COL_NEXT_COMMIT_TIME] = !r->has_next;
	pitr_put_text(values, nulls, COL_WAL_FIRST, r->wal_first);
	pitr_put_text(values, nulls, COL_WAL_LAST, r->wal_last);
	values[COL_WAL_SEGMENTS] = Int32GetDatum(r->wal_segments);
	values[COL_WAL_BYTES] = Int64GetDatum(r->wal_bytes);
	nulls[COL_WAL_SEGMENTS] = nulls[COL_WAL_BYTES] = !r->reachable;
	pitr_put_text(values, nulls, COL_RECOVERY_CONF, r->recovery_conf);
	nulls[COL_WARNINGS] = !r->has_warnings;
	if (r->has_warnings)
		values[COL_WARNINGS] = warnings_array(r);
	pitr_put_text(values, nulls, COL_WHY, display_or_null(r->why));
	pitr_put_text(values, nulls, COL_TOOL_COMMAND, r->tool_command);
	return heap_form_tuple(tupdesc, values, nulls);
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
	MemoryContext caller = CurrentMemoryContext;
	HeapTuple	tup;

	if (get_call_result_type(fcinfo, NULL, &tupdesc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "return type must be a row type");
	if (tupdesc->natts != RESOLUTION_NCOLS)
		elog(ERROR, "resolution type has %d columns, expected %d",
			 tupdesc->natts, RESOLUTION_NCOLS);
	parse_args(fcinfo, &t);

	pitr_resolve_query_begin();
	/* Certified against the archive as it is now (certify.c). */
	for (int attempt = 0;; attempt++)
	{
		resolve(&t, &r);
		if (!pitr_certify_resolution(&r, t.kind,
									 t.kind == PITR_TARGET_MARK ? t.mark : t.name,
									 attempt))
			break;
	}
	MemoryContextSwitchTo(caller);
	tup = resolution_tuple(BlessTupleDesc(tupdesc), &r);
	pitr_resolve_query_end();
	PG_RETURN_DATUM(HeapTupleGetDatum(tup));
}
