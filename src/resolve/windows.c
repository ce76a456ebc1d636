/*-------------------------------------------------------------------------
 *
 * windows.c
 *	  recovery_windows(): one row per continuous restorable stretch of a
 *	  timeline's own WAL, read off the recovery model (model.c) that
 *	  resolve_target uses, so the two agree by construction.
 *
 * A stretch begins at the earliest consistency point of a base backup
 * whose WAL (from its start) runs without a hole into it, its own pg_wal
 * bridging holes, and ends at the last valid record before a missing or
 * unusable segment, at the end of the archive, or where the timeline was
 * abandoned for a branch.  A time target t resolves on the window's
 * timeline when from_time <= t < to_time.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "fmgr.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/pg_lsn.h"
#include "utils/timestamp.h"

#include "resolve/model.h"
#include "resolve/query.h"
#include "resolve/windows.h"

PG_FUNCTION_INFO_V1(pitr_recovery_windows);

/* recovery_windows' columns, in order. */
enum
{
	WIN_TIMELINE,
	WIN_FROM_LSN,
	WIN_FROM_TIME,
	WIN_TO_LSN,
	WIN_TO_TIME,
	WIN_BACKUPS,
	WIN_ENDED_BY,
	WINDOWS_NCOLS
};

static const char Q_IDENTS[] =
"SELECT nb.location, nb.ident FROM pitr_restore.named_backups($1) nb";
static const char Q_TIMELINES[] =
"SELECT t.timeline FROM pitr_restore.timeline_list($1) t ORDER BY t.timeline";
static const char Q_TIMELINE_LAST[] =
"SELECT max(af.segno) FROM pitr_restore.archive_file af "
"WHERE af.archive_id OPERATOR(pg_catalog.=) $1 AND af.timeline OPERATOR(pg_catalog.=) $2 "
"AND af.kind OPERATOR(pg_catalog.=) 'segment' AND af.segno OPERATOR(pg_catalog.>=) $3";
static const char Q_CHILD[] =
"SELECT c.timeline, c.branch_lsn FROM pitr_restore.timeline_list($1) c "
"WHERE c.parent OPERATOR(pg_catalog.=) $2 AND c.branch_lsn OPERATOR(pg_catalog.<=) $3 "
"AND c.branch_lsn OPERATOR(pg_catalog.>) $4 "
"ORDER BY c.branch_lsn, c.timeline LIMIT 1";

/* What every window of one call shares. */
typedef struct Windows
{
	PitrArchiveInfo a;
	PitrModelBackup *backups;
	char	  **idents;			/* each backup's name in the report */
	int			nbackups;
	List	   *rows;			/* the windows found (PitrWindowRow) */
} Windows;

/* A timeline's own stretch of WAL. */
typedef struct Stretch
{
	TimeLineID	tli;
	PitrPath   *p;
	XLogSegNo	own_lo;			/* its first own segment */
	XLogSegNo	last;			/* its last segment, whatever its state */
} Stretch;

/* One window being found: its row, and its backups by index. */
typedef struct Window
{
	PitrWindowRow r;			/* tli and backups are set by emit() */
	int			nlabels;
	int		   *labels;			/* indexes into Windows.backups */
} Window;

/* The backups recovery may start from, each with its report name. */
static void
load_backups(Windows *w)
{
	Datum		v[1] = {CStringGetTextDatum(w->a.directory)};
	uint64		rows;
	char	  **locs;
	char	  **names;

	w->backups = pitr_model_backups(&w->a, NULL, &w->nbackups);
	rows = pitr_resolve_query(Q_IDENTS, 1, (Oid[]) {TEXTOID}, v, NULL, false, 0);
	locs = palloc(sizeof(char *) * (rows + 1));
	names = palloc(sizeof(char *) * (rows + 1));
	for (uint64 i = 0; i < rows; i++)
	{
		locs[i] = pitr_resolve_col_text(i, 1);
		names[i] = pitr_resolve_col_text(i, 2);
	}
	w->idents = palloc0(sizeof(char *) * (w->nbackups + 1));
	for (int b = 0; b < w->nbackups; b++)
	{
		w->idents[b] = w->backups[b].label ? w->backups[b].label :
			w->backups[b].location;
		for (uint64 i = 0; i < rows; i++)
			if (strcmp(locs[i], w->backups[b].location) == 0)
				w->idents[b] = names[i];
	}
}

/*
 * The backups that open a window on a run: on the path, consistent within
 * the run, their WAL from the start running into it (their own pg_wal
 * bridging the hole before it), by consistency point.
 */
static void
eligible_backups(const Windows *w, const Stretch *st, const PitrRun *run,
				 Window *win)
{
	win->labels = palloc(sizeof(int) * (w->nbackups + 1));
	win->nlabels = 0;
	for (int i = 0; i < w->nbackups; i++)
	{
		const PitrModelBackup *b = &w->backups[i];
		int			j;

		/* time targets past carried WAL need its times bounded */
		if (b->stop > run->end_lsn ||
			pitr_model_path_index(st->p, b->tli, b->start) < 0 ||
			(pitr_model_segno(&w->a, b->start) < run->lo &&
			 (!pitr_model_carried_times_known(b) ||
			  !pitr_model_carried_bridges(&w->a, st->p, b, run->lo))))
			continue;
		/* insertion by (stop, name) */
		for (j = win->nlabels; j > 0; j--)
		{
			const PitrModelBackup *o = &w->backups[win->labels[j - 1]];

			if (o->stop < b->stop ||
				(o->stop == b->stop &&
				 strcmp(w->idents[win->labels[j - 1]], w->idents[i]) <= 0))
				break;
			win->labels[j] = win->labels[j - 1];
		}
		win->labels[j] = i;
		win->nlabels++;
	}
}

/*
 * from_time: the latest commit recovery must replay to get there (a time
 * target earlier than that stops too soon, or the backup's data is already
 * newer), and a second past the stop time of a backup whose own pg_wal
 * bridges a hole.  to_time: the last commit of the stretch (a time target
 * stops at the first commit past it, so one must follow).
 */
static void
window_times(const Windows *w, const Stretch *st, const PitrRun *run,
			 const PitrModelBackup *b0, Window *win)
{
	PitrSegmentRow last;
	XLogSegNo	lo = Max(Max(run->lo, st->own_lo),
						 pitr_model_segno(&w->a, win->r.from_lsn));

	win->r.has_from_time = pitr_model_latest_xact_before(&w->a, st->p, win->r.from_lsn,
													   &win->r.from_time);
	if (!win->r.has_from_time && b0->has_stop_time)
	{
		win->r.from_time = b0->stop_time;
		win->r.has_from_time = true;
	}
	if (pitr_model_segno(&w->a, b0->start) < run->lo &&
		(!win->r.has_from_time ||
		 win->r.from_time < pitr_model_carried_time_floor(b0)))
	{
		win->r.from_time = pitr_model_carried_time_floor(b0);
		win->r.has_from_time = true;
	}

	last = pitr_model_last_xact_segment(&w->a, st->p, lo, run->hi);
	win->r.has_to_time = last.valid && last.has_max_time;
	win->r.to_time = last.max_commit_time;
	if (win->r.has_from_time &&
		(!win->r.has_to_time || win->r.to_time < win->r.from_time))
	{
		win->r.to_time = win->r.from_time;
		win->r.has_to_time = true;
	}
}

/*
 * What ends a run: a hole (the segment recovery would miss), a branch to a
 * child that left after the timeline's last transaction (what follows is
 * at most a shutdown checkpoint), or the end of the archive.
 */
static void
window_end(const Windows *w, const Stretch *st, const PitrRun *run,
		   Window *win)
{
	PitrGap		gap;
	PitrSegmentRow f;
	XLogRecPtr	after = win->r.from_lsn;
	Datum		v[4];

	win->r.to_lsn = run->end_lsn;
	if (run->hi < st->last &&
		pitr_model_gap(&w->a, st->p, NULL, (XLogRecPtr) (run->hi + 1) * w->a.segsize,
					   (XLogRecPtr) (run->hi + 2) * w->a.segsize, NULL, &gap))
	{
		win->r.ended_by = psprintf("%s segment %s",
								 gap.in_archive ? "corrupt" : "missing",
								 pitr_model_segment_name(&w->a, gap.tli, gap.segno));
		win->r.ended_by_gap = true;
		return;
	}
	f = pitr_model_last_xact_segment(&w->a, st->p, Max(run->lo, st->own_lo), run->hi);
	if (f.valid)
	{
		PitrStopQuery q = {0};
		PitrWalkOutcome o;

		q.kind = PITR_STOP_NONE;
		q.inclusive = true;
		q.limit_lsn = f.next_lsn;
		pitr_model_walk(&w->a, st->p, f.first_lsn, &q, &o);
		if (o.last.valid)
			after = o.last.lsn;
	}
	v[0] = Int32GetDatum(w->a.id);
	v[1] = Int32GetDatum((int32) st->tli);
	v[2] = LSNGetDatum(run->end_lsn);
	v[3] = LSNGetDatum(after);
	if (pitr_resolve_query(Q_CHILD, 4, (Oid[]) {INT4OID, INT4OID, LSNOID, LSNOID},
						   v, NULL, true, 1) == 0)
	{
		win->r.ended_by = pstrdup("end of archive");
		return;
	}
	win->r.ended_by = psprintf("branch to timeline %d",
							 DatumGetInt32(pitr_resolve_col(0, 1)));
	win->r.to_lsn = Max(DatumGetLSN(pitr_resolve_col(0, 2)), win->r.from_lsn);
}

static void
emit(Windows *w, const Stretch *st, const Window *win)
{
	PitrWindowRow *row = palloc(sizeof(PitrWindowRow));

	*row = win->r;
	row->tli = st->tli;
	row->nbackups = win->nlabels;
	row->backups = palloc(sizeof(char *) * (win->nlabels + 1));
	for (int i = 0; i < win->nlabels; i++)
		row->backups[i] = w->idents[win->labels[i]];
	w->rows = lappend(w->rows, row);
}

/* The windows of one timeline: one per run reaching its own WAL. */
static void
timeline_windows(Windows *w, TimeLineID tli)
{
	Stretch		st = {0};
	Datum		v[3];
	PitrRun    *runs;
	int			nruns;

	st.tli = tli;
	st.p = pitr_model_path(&w->a, tli);
	st.own_lo = pitr_model_segno(&w->a, st.p->begin[st.p->n - 1]);
	v[0] = Int32GetDatum(w->a.id);
	v[1] = Int32GetDatum((int32) tli);
	v[2] = Int64GetDatum((int64) st.own_lo);
	pitr_resolve_query(Q_TIMELINE_LAST, 3, (Oid[]) {INT4OID, INT4OID, INT8OID},
					   v, NULL, true, 1);
	if (pitr_resolve_col_null(0, 1))
		return;
	st.last = (XLogSegNo) DatumGetInt64(pitr_resolve_col(0, 1));

	runs = pitr_model_runs(&w->a, st.p, &nruns);
	for (int i = 0; i < nruns; i++)
	{
		const PitrRun *run = &runs[i];
		Window		win = {0};
		const PitrModelBackup *b0;

		CHECK_FOR_INTERRUPTS();
		if (run->hi < st.own_lo || run->lo > st.last)
			continue;
		eligible_backups(w, &st, run, &win);
		if (win.nlabels == 0)
			continue;
		b0 = &w->backups[win.labels[0]];
		win.r.from_lsn = Max(b0->stop, st.p->begin[st.p->n - 1]);
		if (win.r.from_lsn >= run->end_lsn)
			continue;
		window_times(w, &st, run, b0, &win);
		window_end(w, &st, run, &win);
		emit(w, &st, &win);
	}
}

List *
pitr_windows(const PitrArchiveInfo *a)
{
	Windows		w = {0};
	uint64		rows;
	TimeLineID *tlis;
	Datum		v[1] = {Int32GetDatum(a->id)};

	w.a = *a;
	load_backups(&w);
	rows = pitr_resolve_query(Q_TIMELINES, 1, (Oid[]) {INT4OID}, v, NULL, true, 0);
	tlis = palloc(sizeof(TimeLineID) * (rows + 1));
	for (uint64 i = 0; i < rows; i++)
		tlis[i] = DatumGetInt32(pitr_resolve_col(i, 1));
	for (uint64 i = 0; i < rows; i++)
		timeline_windows(&w, tlis[i]);
	return w.rows;
}

static void
put_row(ReturnSetInfo *rsinfo, const PitrWindowRow *row)
{
	Datum		values[WINDOWS_NCOLS];
	bool		nulls[WINDOWS_NCOLS];
	Datum	   *labels = palloc(sizeof(Datum) * (row->nbackups + 1));

	for (int i = 0; i < row->nbackups; i++)
		labels[i] = CStringGetTextDatum(row->backups[i]);
	memset(nulls, 0, sizeof(nulls));
	values[WIN_TIMELINE] = Int32GetDatum((int32) row->tli);
	values[WIN_FROM_LSN] = LSNGetDatum(row->from_lsn);
	values[WIN_FROM_TIME] = TimestampTzGetDatum(row->from_time);
	nulls[WIN_FROM_TIME] = !row->has_from_time;
	values[WIN_TO_LSN] = LSNGetDatum(row->to_lsn);
	values[WIN_TO_TIME] = TimestampTzGetDatum(row->to_time);
	nulls[WIN_TO_TIME] = !row->has_to_time;
	values[WIN_BACKUPS] = PointerGetDatum(construct_array(labels, row->nbackups,
														  TEXTOID, -1, false,
														  TYPALIGN_INT));
	values[WIN_ENDED_BY] = CStringGetTextDatum(row->ended_by);
	tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
}

/*
 * recovery_windows(archive_dir text DEFAULT NULL)
 */
Datum
pitr_recovery_windows(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	PitrArchiveInfo a = {0};
	char	   *dir = PG_ARGISNULL(0) ? NULL : text_to_cstring(PG_GETARG_TEXT_PP(0));

	if (PG_NARGS() != 1)
		elog(ERROR, "recovery_windows takes 1 argument, got %d", PG_NARGS());
	InitMaterializedSRF(fcinfo, 0);
	if (rsinfo->setDesc->natts != WINDOWS_NCOLS)
		elog(ERROR, "recovery_windows returns %d columns, expected %d",
			 rsinfo->setDesc->natts, WINDOWS_NCOLS);

	pitr_resolve_query_begin();
	/* no readable WAL: nothing is restorable */
	if (pitr_model_open_archive(dir, true, &a))
	{
		ListCell   *lc;

		foreach(lc, pitr_windows(&a))
			put_row(rsinfo, (const PitrWindowRow *) lfirst(lc));
	}
	pitr_resolve_query_end();
	PG_RETURN_NULL();
}

PG_FUNCTION_INFO_V1(pitr_wal_gap);

/*
 * wal_gap(arch, tli, from_lsn, to_lsn): the first segment recovery would
 * miss following the timeline's history between two LSNs, as the model
 * names it, or NULL.  check_archive as of 1.2 called it; since 1.3
 * check_archive.c asks the model itself.
 */
Datum
pitr_wal_gap(PG_FUNCTION_ARGS)
{
	enum
	{
		ARG_ARCH, ARG_TLI, ARG_FROM, ARG_TO, WAL_GAP_NARGS
	};
	MemoryContext caller = CurrentMemoryContext;
	PitrArchiveInfo a;
	PitrGap		gap;
	char	   *text = NULL;

	pitr_resolve_query_begin();
	if (PG_NARGS() != WAL_GAP_NARGS)
		elog(ERROR, "wal_gap takes %d arguments, got %d", WAL_GAP_NARGS, PG_NARGS());
	if (pitr_model_archive(PG_GETARG_INT32(ARG_ARCH), &a))
	{
		PitrPath   *p;

		p = pitr_model_path(&a, (TimeLineID) PG_GETARG_INT32(ARG_TLI));
		if (pitr_model_gap(&a, p, NULL, PG_GETARG_LSN(ARG_FROM),
						   PG_GETARG_LSN(ARG_TO), NULL, &gap))
		{
			char	   *s = pitr_model_gap_text(&a, &gap);

			text = MemoryContextStrdup(caller, s);
		}
	}
	pitr_resolve_query_end();
	if (text == NULL)
		PG_RETURN_NULL();
	PG_RETURN_TEXT_P(cstring_to_text(text));
}
