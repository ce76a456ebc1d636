/*-------------------------------------------------------------------------
 *
 * check_archive.c
 *	  check_archive(): the problems a monitoring job pages on, one row each
 *	  (severity, problem, detail), read off the recovery model's windows
 *	  (windows.c) and the index, in this order: holes that cut a window
 *	  short, no window on the live timeline, a stalled archive, no recent
 *	  usable backup, backups that are unusable or cannot be made
 *	  consistent, files that are not WAL of this archive, restore points
 *	  whose name recovery_target_name cannot tell apart.
 *
 * No rule of the model is restated here: which backups are usable and
 * where the WAL has holes come from the windows and from pitr_model_gap.
 * Every detail is written through the display rule (util/display.c).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"
#include "catalog/pg_type.h"
#include "fmgr.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/pg_lsn.h"
#include "utils/timestamp.h"

#include "util/display.h"
#include "resolve/model.h"
#include "resolve/query.h"
#include "resolve/windows.h"

PG_FUNCTION_INFO_V1(pitr_check_archive);

/* check_archive's arguments and columns, in order. */
enum
{
	ARG_DIR,
	ARG_MAX_AGE,
	ARG_MAX_BACKUP_AGE,
	CHECK_NARGS
};

enum
{
	COL_SEVERITY,
	COL_PROBLEM,
	COL_DETAIL,
	CHECK_NCOLS
};

static const char Q_LIVE[] =
"SELECT max(t.timeline) FROM pitr_restore.timeline_list($1) t";

/* (the index rows themselves: segments() would count restore points) */
static const char Q_NEWEST[] =
"SELECT f.file_mtime, f.file_name FROM pitr_restore.archive_file f "
"WHERE f.archive_id OPERATOR(pg_catalog.=) $1 AND f.kind IN ('segment', 'partial') "
"ORDER BY f.file_mtime DESC LIMIT 1";

static const char Q_NAMED_BACKUPS[] =
"SELECT nb.ident, nb.location, nb.timeline, nb.start_lsn, nb.stop_lsn, "
"nb.stop_time, nb.problem FROM pitr_restore.named_backups($1) nb "
"ORDER BY nb.start_lsn";

/* The columns of Q_NAMED_BACKUPS. */
enum
{
	NB_IDENT = 1,
	NB_LOCATION,
	NB_TIMELINE,
	NB_START,
	NB_STOP,
	NB_STOP_TIME,
	NB_PROBLEM
};

static const char Q_BAD_FILES[] =
"SELECT f.file_name, f.timeline, f.status, f.detail "
"FROM pitr_restore.archive_file f "
"WHERE f.archive_id OPERATOR(pg_catalog.=) $1 AND f.status NOT IN ('ok', 'partial') "
"ORDER BY f.segno NULLS LAST, f.file_name";

static const char Q_REPEATED_NAMES[] =
"SELECT rp.name, count(*), min(rp.lsn), "
"(pg_catalog.array_agg(rp.timeline ORDER BY rp.lsn))[1], max(rp.lsn), "
"(pg_catalog.array_agg(rp.timeline ORDER BY rp.lsn DESC))[1] "
"FROM pitr_restore.restore_points($1) rp "
"WHERE rp.kind OPERATOR(pg_catalog.<>) 'transaction_mark' "
"GROUP BY rp.name HAVING count(*) OPERATOR(pg_catalog.>) 1 ORDER BY rp.name";

/* A base backup as the report names it (named_backups()). */
typedef struct NamedBackup
{
	const char *ident;
	const char *location;
	bool		has_tli;
	TimeLineID	tli;
	bool		has_start;
	XLogRecPtr	start;
	bool		has_stop;
	XLogRecPtr	stop;
	bool		has_stop_time;
	TimestampTz stop_time;
	char	   *problem;
} NamedBackup;

/* What the checks of one call share. */
typedef struct Check
{
	PitrArchiveInfo a;
	ReturnSetInfo *rsinfo;
	Interval   *max_age;
	Interval   *max_backup_age;
	List	   *usable;			/* report names of backups some window has */
	NamedBackup *backups;
	int			nbackups;
} Check;

/*
 * The checks' queries take the archive as their one argument: its id for
 * the index tables (read only), its directory for the functions that may
 * bring the index up to date first.  The rows they return.
 */
static uint64
query_by_id(const Check *c, const char *sql, long count)
{
	Datum		v[1] = {Int32GetDatum(c->a.id)};

	return pitr_resolve_query(sql, 1, (Oid[]) {INT4OID}, v, NULL, true, count);
}

static uint64
query_by_dir(const Check *c, const char *sql)
{
	Datum		v[1] = {CStringGetTextDatum(c->a.directory)};

	return pitr_resolve_query(sql, 1, (Oid[]) {TEXTOID}, v, NULL, false, 0);
}

static void
report(Check *c, const char *severity, const char *problem, const char *detail)
{
	Datum		values[CHECK_NCOLS];
	bool		nulls[CHECK_NCOLS] = {false, false, false};

	values[COL_SEVERITY] = CStringGetTextDatum(severity);
	values[COL_PROBLEM] = CStringGetTextDatum(problem);
	values[COL_DETAIL] = CStringGetTextDatum(pitr_display(detail, false));
	tuplestore_putvalues(c->rsinfo->setResult, c->rsinfo->setDesc, values, nulls);
}

/* Values as SQL's format('%s') writes them: NULL as nothing. */
static const char *
or_empty(const char *s)
{
	return s ? s : "";
}

static char *
lsn_text(XLogRecPtr lsn)
{
	return DatumGetCString(DirectFunctionCall1(pg_lsn_out, LSNGetDatum(lsn)));
}

static char *
interval_text(Interval *i)
{
	return DatumGetCString(DirectFunctionCall1(interval_out, IntervalPGetDatum(i)));
}

/* now() less an age */
static TimestampTz
age_limit(Interval *age)
{
	return DatumGetTimestampTz(DirectFunctionCall2(timestamptz_mi_interval,
												   TimestampTzGetDatum(GetCurrentTransactionStartTimestamp()),
												   IntervalPGetDatum(age)));
}

/* "s" without the periods at its end (SQL's rtrim(s, '.')) */
static char *
without_final_periods(const char *s)
{
	char	   *r = pstrdup(s);
	size_t		n = strlen(r);

	while (n > 0 && r[n - 1] == '.')
		r[--n] = '\0';
	return r;
}

static bool
is_usable(const Check *c, const char *ident)
{
	ListCell   *lc;

	foreach(lc, c->usable)
		if (strcmp((const char *) lfirst(lc), ident) == 0)
			return true;
	return false;
}

static bool
on_path(const PitrPath *p, TimeLineID tli)
{
	for (int i = 0; p != NULL && i < p->n; i++)
		if (p->tli[i] == tli)
			return true;
	return false;
}

/* The live timeline (the newest) and its history, or false. */
static bool
live_timeline(const Check *c, TimeLineID *live, PitrPath **path)
{
	query_by_id(c, Q_LIVE, 1);
	*path = NULL;
	if (pitr_resolve_col_null(0, 1))
		return false;
	*live = (TimeLineID) DatumGetInt32(pitr_resolve_col(0, 1));
	*path = pitr_model_path(&c->a, *live);
	return true;
}

/*
 * Holes that cut a window short (critical on the live timeline's history),
 * and whether the live timeline has a window at all.  Also notes which
 * backups some window can start from.
 */
static void
check_windows(Check *c)
{
	TimeLineID	live = 0;
	PitrPath   *live_path;
	bool		has_live = live_timeline(c, &live, &live_path);
	bool		live_ok = false;
	List	   *windows = pitr_windows(&c->a);

	for (int i = 0; i < list_length(windows); i++)
	{
		const PitrWindowRow *w = list_nth(windows, i);
		const PitrWindowRow *next = NULL;

		CHECK_FOR_INTERRUPTS();
		for (int b = 0; b < w->nbackups; b++)
			c->usable = lappend(c->usable, w->backups[b]);
		live_ok |= has_live && w->tli == live;
		if (!w->ended_by_gap)
			continue;
		if (i + 1 < list_length(windows))
			next = list_nth(windows, i + 1);
		if (next != NULL && (next->tli != w->tli || !next->has_from_time))
			next = NULL;
		report(c, on_path(live_path, w->tli) ? "critical" : "warning", "wal_gap",
			   psprintf("WAL on timeline %d is not continuous: %s, so times from %s %s cannot be restored on that timeline.",
						(int) w->tli, w->ended_by,
						w->has_to_time ? pitr_timestamptz_text(w->to_time) : "",
						next ? psprintf("to %s", pitr_timestamptz_text(next->from_time)) : "on"));
	}
	if (!live_ok)
		report(c, "critical", "no_window",
			   psprintf("No time on timeline %s, the live timeline, can be restored: no usable base backup has continuous WAL into it.",
						has_live ? psprintf("%d", (int) live) : ""));
}

/* Archiving stalled: the newest WAL file is older than max_age. */
static void
check_stale(Check *c)
{
	TimestampTz newest;

	if (query_by_id(c, Q_NEWEST, 1) == 0 ||
		pitr_resolve_col_null(0, 1))
		return;
	newest = DatumGetTimestampTz(pitr_resolve_col(0, 1));
	if (newest >= age_limit(c->max_age))
		return;
	report(c, "critical", "archive_stale",
		   psprintf("The newest archived WAL file, %s, was written at %s, more than %s ago: is archiving working?",
					or_empty(pitr_resolve_col_text(0, 2)),
					pitr_timestamptz_text(newest), interval_text(c->max_age)));
}

static void
load_named_backups(Check *c)
{
	uint64		rows = query_by_dir(c, Q_NAMED_BACKUPS);

	c->backups = palloc0(sizeof(NamedBackup) * (rows + 1));
	c->nbackups = (int) rows;
	for (uint64 i = 0; i < rows; i++)
	{
		NamedBackup *b = &c->backups[i];

		b->ident = or_empty(pitr_resolve_col_text(i, NB_IDENT));
		b->location = or_empty(pitr_resolve_col_text(i, NB_LOCATION));
		b->has_tli = !pitr_resolve_col_null(i, NB_TIMELINE);
		if (b->has_tli)
			b->tli = (TimeLineID) DatumGetInt32(pitr_resolve_col(i, NB_TIMELINE));
		b->has_start = !pitr_resolve_col_null(i, NB_START);
		b->start = pitr_resolve_col_lsn(i, NB_START);
		b->has_stop = !pitr_resolve_col_null(i, NB_STOP);
		b->stop = pitr_resolve_col_lsn(i, NB_STOP);
		b->has_stop_time = !pitr_resolve_col_null(i, NB_STOP_TIME);
		if (b->has_stop_time)
			b->stop_time = DatumGetTimestampTz(pitr_resolve_col(i, NB_STOP_TIME));
		b->problem = pitr_resolve_col_text(i, NB_PROBLEM);
	}
}

/*
 * The newest usable backup, as SQL's ORDER BY stop_time DESC LIMIT 1 finds
 * it (an unknown stop time first), or NULL.
 */
static const NamedBackup *
newest_usable(const Check *c)
{
	const NamedBackup *best = NULL;

	for (int i = 0; i < c->nbackups; i++)
	{
		const NamedBackup *b = &c->backups[i];

		if (!is_usable(c, b->ident))
			continue;
		if (best == NULL ||
			(best->has_stop_time &&
			 (!b->has_stop_time || b->stop_time > best->stop_time)))
			best = b;
	}
	return best;
}

/* No usable backup finished within max_backup_age. */
static void
check_backup_age(Check *c)
{
	TimestampTz limit = age_limit(c->max_backup_age);
	const NamedBackup *newest;
	bool		have_time = false;
	TimestampTz latest = 0;

	for (int i = 0; i < c->nbackups; i++)
	{
		const NamedBackup *b = &c->backups[i];

		if (!is_usable(c, b->ident) || !b->has_stop_time)
			continue;
		if (b->stop_time >= limit)
			return;
		if (!have_time || b->stop_time > latest)
			latest = b->stop_time;
		have_time = true;
	}
	if (c->usable == NIL)
	{
		report(c, "critical", "backup_old",
			   "No base backup in pitr_restore.backup_dir can be restored with this archive's WAL.");
		return;
	}
	newest = newest_usable(c);
	report(c, "warning", "backup_old",
		   psprintf("The newest usable base backup, %s, finished at %s, more than %s ago.",
					newest ? psprintf("\"%s\"", newest->ident) : "",
					have_time ? pitr_timestamptz_text(latest) : "",
					interval_text(c->max_backup_age)));
}

/* Why a backup's WAL cannot make it consistent, as the model names it. */
static char *
backup_wal_gap(const Check *c, const NamedBackup *b)
{
	PitrGap		gap;

	if (b->has_tli && b->has_start &&
		pitr_model_gap(&c->a, pitr_model_path(&c->a, b->tli), NULL,
					   b->start, b->stop, NULL, &gap))
		return pitr_model_gap_text(&c->a, &gap);
	return psprintf("the archive does not hold its WAL from %s to %s",
					b->has_start ? lsn_text(b->start) : "", lsn_text(b->stop));
}

/* Backups that cannot be used, or whose WAL no window starts from. */
static void
check_backups(Check *c)
{
	for (int i = 0; i < c->nbackups; i++)
	{
		const NamedBackup *b = &c->backups[i];

		CHECK_FOR_INTERRUPTS();
		if (b->problem != NULL)
			report(c, "warning", "backup_unusable",
				   psprintf("Base backup \"%s\" in %s cannot be used: %s.",
							b->ident, b->location,
							without_final_periods(b->problem)));
		else if (b->has_stop && !is_usable(c, b->ident))
			report(c, "critical", "backup_wal_incomplete",
				   psprintf("Base backup \"%s\" in %s cannot be made consistent: %s.",
							b->ident, b->location, backup_wal_gap(c, b)));
	}
}

/* Files that are not WAL of this archive, by the scan's status. */
static void
check_files(Check *c)
{
	uint64		rows = query_by_id(c, Q_BAD_FILES, 0);

	for (uint64 i = 0; i < rows; i++)
	{
		const char *status = or_empty(pitr_resolve_col_text(i, 3));
		char	   *detail = pitr_resolve_col_text(i, 4);
		char	   *spaced = pstrdup(status);

		CHECK_FOR_INTERRUPTS();
		for (char *s = spaced; *s; s++)
			if (*s == '_')
				*s = ' ';
		report(c, "warning", psprintf("%s_file", status),
			   psprintf("%s (timeline %s) is %s: %s.",
						or_empty(pitr_resolve_col_text(i, 1)),
						or_empty(pitr_resolve_col_text(i, 2)), spaced,
						without_final_periods(detail ? detail : "no detail")));
	}
}

/* Restore point names that occur more than once. */
static void
check_restore_points(Check *c)
{
	uint64		rows = query_by_dir(c, Q_REPEATED_NAMES);

	for (uint64 i = 0; i < rows; i++)
	{
		const char *col[6];

		for (int k = 0; k < 6; k++)
			col[k] = or_empty(pitr_resolve_col_text(i, k + 1));
		report(c, "warning", "repeated_restore_point",
			   psprintf("Restore point \"%s\" occurs %s times in the archive (first at %s on timeline %s, last at %s on timeline %s): recovery_target_name stops at the first one replayed.",
						col[0], col[1], col[2], col[3], col[4], col[5]));
	}
}

/*
 * check_archive(archive_dir text, max_age interval, max_backup_age
 * interval): the body the entry point calls (util/privilege.c).
 */
Datum
pitr_check_archive(PG_FUNCTION_ARGS)
{
	Check		c = {0};
	char	   *dir;

	if (PG_NARGS() != CHECK_NARGS)
		elog(ERROR, "check_archive takes %d arguments, got %d",
			 CHECK_NARGS, PG_NARGS());
	if (PG_ARGISNULL(ARG_MAX_AGE) || PG_ARGISNULL(ARG_MAX_BACKUP_AGE))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("max_age and max_backup_age must not be null")));
	dir = PG_ARGISNULL(ARG_DIR) ? NULL : text_to_cstring(PG_GETARG_TEXT_PP(ARG_DIR));
	c.max_age = PG_GETARG_INTERVAL_P(ARG_MAX_AGE);
	c.max_backup_age = PG_GETARG_INTERVAL_P(ARG_MAX_BACKUP_AGE);
	InitMaterializedSRF(fcinfo, 0);
	c.rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	if (c.rsinfo->setDesc->natts != CHECK_NCOLS)
		elog(ERROR, "check_archive returns %d columns, expected %d",
			 c.rsinfo->setDesc->natts, CHECK_NCOLS);

	pitr_resolve_query_begin();
	if (!pitr_model_open_archive(dir, true, &c.a))
		report(&c, "critical", "no_wal",
			   psprintf("The archive \"%s\" holds no readable PostgreSQL " PG_MAJORVERSION " WAL segment.",
						c.a.directory));
	else
	{
		check_windows(&c);
		check_stale(&c);
		load_named_backups(&c);
		check_backup_age(&c);
		check_backups(&c);
		check_files(&c);
		check_restore_points(&c);
	}
	pitr_resolve_query_end();
	PG_RETURN_NULL();
}
