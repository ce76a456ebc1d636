/*-------------------------------------------------------------------------
 *
 * backup_choice.c
 *	  Resolve a target along one timeline's history: try the base backups
 *	  from the latest back and take the first that recovery can bring to
 *	  the stop (consistent before it, continuous WAL, no wal_level =
 *	  minimal on the way); then the transactions on either side of the
 *	  stop, the WAL replayed and the caveats.
 *
 * A segment the archive lacks but the chosen backup carries in its own
 * pg_wal, between its start and its stop, counts as present for that
 * backup: recovery reads it from there (see backup_path_gap).
 *
 * The index is read with set-based queries; the WAL around the stop is
 * walked with walk.c, whose segment source is shared by every walk of one
 * resolution.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xlog_internal.h"
#include "catalog/pg_type.h"
#include "miscadmin.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/datum.h"
#include "utils/guc.h"
#include "utils/pg_lsn.h"
#include "utils/timestamp.h"

#include "resolve/resolve_internal.h"

/* A base backup as backups() lists it. */
typedef struct Backup
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
} Backup;

/* Segments a path took from a backup's own pg_wal (backup_path_gap). */
typedef struct CarriedUse
{
	int			count;
	int64		lo;
	int64		hi;
	TimeLineID	tli;
} CarriedUse;

/* The parts of an archive_file row the searches use. */
typedef struct SegmentRow
{
	bool		valid;
	int64		segno;
	XLogRecPtr	first_lsn;
	XLogRecPtr	next_lsn;
	bool		has_max_time;
	TimestampTz max_commit_time;
} SegmentRow;

static const char Q_BACKUPS[] =
"SELECT bk.label, bk.location, bk.format, bk.timeline, bk.start_lsn, bk.stop_lsn, "
"bk.checkpoint_lsn, bk.stop_time, bk.wal_carried, "
"(SELECT bb.backup_from FROM pitr_restore.base_backup bb "
"  WHERE bb.location OPERATOR(pg_catalog.=) bk.location) "
"FROM pitr_restore.backups($1) bk "
"WHERE bk.location IS NOT NULL AND bk.problem IS NULL AND bk.stop_lsn IS NOT NULL "
"AND ($2::text IS NULL OR bk.label OPERATOR(pg_catalog.=) $2 "
"     OR bk.location OPERATOR(pg_catalog.=) $2 "
"     OR bk.location LIKE '%/' OPERATOR(pg_catalog.||) $2) "
"ORDER BY bk.start_lsn DESC";

static const char Q_XACT_SEGMENT[] =
"SELECT f.segno, f.first_lsn, f.next_lsn, f.max_commit_time "
"FROM pitr_restore.path_xact_segment($1, $2, $3, $4, $5, $6, $7) f "
"WHERE f.file_name IS NOT NULL";

static const char Q_PATH_FILE[] =
"SELECT pf.first_lsn FROM pitr_restore.path_files($1, $2, $3) pf "
"WHERE pf.segno OPERATOR(pg_catalog.=) $4 LIMIT 1";

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

static const char Q_PATH_END[] =
"SELECT max(pf.next_lsn) FROM pitr_restore.path_files($1, $2, $3) pf";

static const char Q_PATH_GAP[] =
"SELECT pitr_restore.path_gap($1, $2, $3, $4, $5)";

/* Does the archive have any file recovery would fetch for this segment? */
static const char Q_ARCHIVE_HAS[] =
"SELECT 1 FROM pitr_restore.archive_file f "
"WHERE f.archive_id OPERATOR(pg_catalog.=) $1 AND f.timeline OPERATOR(pg_catalog.=) $2 "
"AND f.segno OPERATOR(pg_catalog.=) $3 AND f.kind OPERATOR(pg_catalog.=) 'segment' LIMIT 1";

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

/*
 * Incremental backups whose chain is broken (PostgreSQL 17+): backups()
 * gives them a problem naming the missing link, so Q_BACKUPS never lists
 * them; an unreachable target names them (chain_problems).
 */
static const char Q_BROKEN_CHAINS[] =
"SELECT pg_catalog.string_agg(pg_catalog.format('incremental backup \"%s\" in %s cannot be used: %s', "
"bk.label, bk.location, bk.problem), '; ' ORDER BY bk.start_lsn DESC) "
"FROM pitr_restore.backups($1) bk "
"WHERE bk.incremental_from_lsn IS NOT NULL AND bk.problem IS NOT NULL "
"AND ($2::text IS NULL OR bk.label OPERATOR(pg_catalog.=) $2 "
"     OR bk.location OPERATOR(pg_catalog.=) $2 "
"     OR bk.location LIKE '%/' OPERATOR(pg_catalog.||) $2)";

static int64
segno_of(const PitrArchiveInfo *a, XLogRecPtr lsn)
{
	return (int64) (lsn / a->segsize);
}

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
	if (pitr_resolve_query(Q_BROKEN_CHAINS, 2, types, v, nulls, false, 1) == 0)
		return NULL;
	return pitr_resolve_col_text(0, 1);
}

static Backup *
list_backups(const PitrArchiveInfo *a, const char *pin, int *n)
{
	Oid			types[2] = {TEXTOID, TEXTOID};
	Datum		v[2];
	char		nulls[2] = {' ', ' '};
	uint64		rows;
	Backup	   *b;

	v[0] = CStringGetTextDatum(a->directory);
	if (pin)
		v[1] = CStringGetTextDatum(pin);
	else
		nulls[1] = 'n';
	rows = pitr_resolve_query(Q_BACKUPS, 2, types, v, nulls, false, 0);
	b = palloc0(sizeof(Backup) * (rows + 1));
	for (uint64 i = 0; i < rows; i++)
	{
		b[i].label = pitr_resolve_col_text(i, 1);
		b[i].location = pitr_resolve_col_text(i, 2);
		b[i].format = pitr_resolve_col_text(i, 3);
		b[i].tli = pitr_resolve_col_null(i, 4) ? 0 : DatumGetInt32(pitr_resolve_col(i, 4));
		b[i].start = DatumGetLSN(pitr_resolve_col(i, 5));
		b[i].stop = DatumGetLSN(pitr_resolve_col(i, 6));
		b[i].checkpoint = pitr_resolve_col_null(i, 7) ? InvalidXLogRecPtr :
			DatumGetLSN(pitr_resolve_col(i, 7));
		b[i].has_stop_time = !pitr_resolve_col_null(i, 8);
		if (b[i].has_stop_time)
			b[i].stop_time = DatumGetTimestampTz(pitr_resolve_col(i, 8));
		b[i].has_carried = !pitr_resolve_col_null(i, 9);
		if (b[i].has_carried)
			b[i].carried = datumCopy(pitr_resolve_col(i, 9), false, -1);
		b[i].primary = !pitr_resolve_col_null(i, 10) &&
			strcmp(pitr_resolve_col_text(i, 10), "primary") == 0;
	}
	*n = (int) rows;
	return b;
}

/*
 * The nearest segment of the path from segment s on (forward) or before it
 * that holds a transaction end, past time t when given (path_xact_segment).
 */
static SegmentRow
xact_segment(const PitrArchiveInfo *a, const PitrPath *p, int64 s,
			 bool forward, bool has_t, TimestampTz t, bool incl)
{
	Oid			types[7] = {INT4OID, INT4ARRAYOID, PG_LSNARRAYOID, INT8OID,
	BOOLOID, TIMESTAMPTZOID, BOOLOID};
	Datum		v[7];
	char		nulls[7] = {' ', ' ', ' ', ' ', ' ', ' ', ' '};
	SegmentRow	f = {0};

	v[0] = Int32GetDatum(a->id);
	v[1] = p->tli_arr;
	v[2] = p->begin_arr;
	v[3] = Int64GetDatum(s);
	v[4] = BoolGetDatum(forward);
	v[5] = TimestampTzGetDatum(t);
	if (!has_t)
		nulls[5] = 'n';
	v[6] = BoolGetDatum(incl);
	if (pitr_resolve_query(Q_XACT_SEGMENT, 7, types, v, nulls, true, 1) == 0)
		return f;
	f.valid = true;
	f.segno = DatumGetInt64(pitr_resolve_col(0, 1));
	f.first_lsn = pitr_resolve_col_null(0, 2) ? InvalidXLogRecPtr : DatumGetLSN(pitr_resolve_col(0, 2));
	f.next_lsn = pitr_resolve_col_null(0, 3) ? InvalidXLogRecPtr : DatumGetLSN(pitr_resolve_col(0, 3));
	f.has_max_time = !pitr_resolve_col_null(0, 4);
	if (f.has_max_time)
		f.max_commit_time = DatumGetTimestampTz(pitr_resolve_col(0, 4));
	return f;
}

static void
walk(const PitrArchiveInfo *a, const PitrPath *p, XLogRecPtr start,
	 const PitrStopQuery *q, PitrWalkOutcome *o)
{
	pitr_walk_path(a->id, p->n, p->tli, p->begin, start, q, o);
}

static bool carried_covers(const PitrArchiveInfo *a, const Backup *b,
						   const char *gap, TimeLineID *tli, XLogSegNo *segno);

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
backup_checkpoint_problem(const PitrArchiveInfo *a, const PitrPath *p,
						  const Backup *b)
{
	PitrStopQuery cq = {0};
	PitrWalkOutcome cw;
	char		fname[MAXFNAMELEN];
	TimeLineID	ctli;
	XLogSegNo	csegno;

	if (XLogRecPtrIsInvalid(b->checkpoint))
		return NULL;
	if (b->checkpoint < b->start)
		return psprintf("its checkpoint location %X/%X comes before its start %X/%X",
						LSN_FORMAT_ARGS(b->checkpoint), LSN_FORMAT_ARGS(b->start));
	XLogFileName(fname, b->tli, segno_of(a, b->checkpoint), a->segsize);
	if (carried_covers(a, b, fname, &ctli, &csegno))
		return NULL;
	cq.kind = PITR_STOP_LSN;
	cq.target_lsn = b->checkpoint;
	cq.inclusive = true;
	cq.check_checkpoint = true;
	walk(a, p, b->start, &cq, &cw);
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
backup_holds_after(const PitrArchiveInfo *a, const PitrPath *p,
				   XLogRecPtr start, TimestampTz t, bool incl)
{
	SegmentRow	f;
	bool		has_latest;
	TimestampTz latest = 0;
	Oid			types[4] = {INT4OID, INT4ARRAYOID, PG_LSNARRAYOID, INT8OID};
	Datum		v[4];

	/* The last segment before the backup's that holds transactions... */
	f = xact_segment(a, p, segno_of(a, start), false, false, 0, true);
	has_latest = f.valid && f.has_max_time;
	if (has_latest)
		latest = f.max_commit_time;

	/* ...and what its own segment holds before the redo point. */
	v[0] = Int32GetDatum(a->id);
	v[1] = p->tli_arr;
	v[2] = p->begin_arr;
	v[3] = Int64GetDatum(segno_of(a, start));
	if (pitr_resolve_query(Q_PATH_FILE, 4, types, v, NULL, true, 1) > 0 &&
		!pitr_resolve_col_null(0, 1) &&
		DatumGetLSN(pitr_resolve_col(0, 1)) < start)
	{
		PitrStopQuery q = {0};
		PitrWalkOutcome o;

		q.kind = PITR_STOP_NONE;
		q.inclusive = true;
		q.limit_lsn = start;
		walk(a, p, DatumGetLSN(pitr_resolve_col(0, 1)), &q, &o);
		if (o.last.valid && (!has_latest || o.last.time > latest))
		{
			latest = o.last.time;
			has_latest = true;
		}
	}
	if (!has_latest)
		return false;
	return incl ? latest > t : latest >= t;
}

/* path_gap(): the first segment recovery would miss, or NULL. */
static char *
path_gap(const PitrArchiveInfo *a, const PitrPath *p, XLogRecPtr from,
		 XLogRecPtr to, bool to_null)
{
	Oid			types[5] = {INT4OID, INT4ARRAYOID, PG_LSNARRAYOID, LSNOID, LSNOID};
	Datum		v[5];
	char		nulls[5] = {' ', ' ', ' ', ' ', ' '};

	v[0] = Int32GetDatum(a->id);
	v[1] = p->tli_arr;
	v[2] = p->begin_arr;
	v[3] = LSNGetDatum(from);
	v[4] = LSNGetDatum(to);
	if (to_null)
		nulls[4] = 'n';
	pitr_resolve_query(Q_PATH_GAP, 5, types, v, nulls, true, 1);
	return pitr_resolve_col_text(0, 1);
}

/*
 * Is the segment path_gap() named (its message begins with the file name)
 * one that recovery reads from the backup's own pg_wal?  PostgreSQL 15's
 * XLogFileReadAnyTLI tries, for each timeline, restore_command and then
 * pg_wal: so the backup's copy serves when the archive has no file of the
 * segment at all (a damaged file would be fetched and fail).  The scan
 * listed only full segments between the backup's start and its stop.
 */
static bool
carried_covers(const PitrArchiveInfo *a, const Backup *b, const char *gap,
			   TimeLineID *tli, XLogSegNo *segno)
{
	Datum	   *names;
	bool	   *nulls;
	int			n;
	bool		carried = false;
	char		fname[MAXFNAMELEN];
	Oid			types[3] = {INT4OID, INT4OID, INT8OID};
	Datum		v[3];

	if (!b->has_carried || strlen(gap) < XLOG_FNAME_LEN)
		return false;
	memcpy(fname, gap, XLOG_FNAME_LEN);
	fname[XLOG_FNAME_LEN] = '\0';
	if (!IsXLogFileName(fname))
		return false;
	XLogFromFileName(fname, tli, segno, a->segsize);
	if ((int64) *segno < segno_of(a, b->start) ||
		(int64) *segno > segno_of(a, b->stop - 1))
		return false;
	deconstruct_array(DatumGetArrayTypeP(b->carried), TEXTOID, -1, false,
					  TYPALIGN_INT, &names, &nulls, &n);
	for (int i = 0; i < n && !carried; i++)
		carried = !nulls[i] && strcmp(TextDatumGetCString(names[i]), fname) == 0;
	if (!carried)
		return false;
	v[0] = Int32GetDatum(a->id);
	v[1] = Int32GetDatum((int32) *tli);
	v[2] = Int64GetDatum((int64) *segno);
	return pitr_resolve_query(Q_ARCHIVE_HAS, 3, types, v, NULL, true, 1) == 0;
}

/*
 * path_gap() along the path from one backup: the segments it carries
 * (carried_covers) do not break it; those used are counted in *use.
 */
static char *
backup_path_gap(const PitrArchiveInfo *a, const PitrPath *p, const Backup *b,
				XLogRecPtr from, XLogRecPtr to, bool to_null, CarriedUse *use)
{
	for (;;)
	{
		char	   *gap = path_gap(a, p, from, to, to_null);
		TimeLineID	tli;
		XLogSegNo	segno;

		CHECK_FOR_INTERRUPTS();
		if (gap == NULL || !carried_covers(a, b, gap, &tli, &segno))
			return gap;
		if (use->count == 0 || (int64) segno < use->lo)
			use->lo = (int64) segno;
		if (use->count == 0 || (int64) segno > use->hi)
			use->hi = (int64) segno;
		use->tli = tli;
		use->count++;
		/* segments only grow: the loop ends within the backup's stretch */
		from = (XLogRecPtr) (segno + 1) * a->segsize;
	}
}

/*
 * The first event of a kind on the path (by name, from an LSN, referring to
 * an LSN), and where the walk to it starts: the first record ending in its
 * segment, or the backup's start if later.
 */
static bool
event_start(const PitrArchiveInfo *a, const PitrPath *p, const char *kind,
			const char *name, XLogRecPtr from, XLogRecPtr ref,
			XLogRecPtr backup_start, XLogRecPtr *lsn, XLogRecPtr *start)
{
	Oid			types[7] = {INT4OID, INT4ARRAYOID, PG_LSNARRAYOID, TEXTOID,
	TEXTOID, LSNOID, LSNOID};
	Datum		v[7];
	char		nulls[7] = {' ', ' ', ' ', ' ', ' ', ' ', ' '};

	v[0] = Int32GetDatum(a->id);
	v[1] = p->tli_arr;
	v[2] = p->begin_arr;
	v[3] = CStringGetTextDatum(kind);
	if (name)
		v[4] = CStringGetTextDatum(name);
	else
		nulls[4] = 'n';
	v[5] = LSNGetDatum(from);
	if (XLogRecPtrIsInvalid(from))
		nulls[5] = 'n';
	v[6] = LSNGetDatum(ref);
	if (XLogRecPtrIsInvalid(ref))
		nulls[6] = 'n';
	if (pitr_resolve_query(Q_EVENT_START, 7, types, v, nulls, true, 1) == 0)
		return false;
	*lsn = DatumGetLSN(pitr_resolve_col(0, 1));
	*start = backup_start;
	if (!pitr_resolve_col_null(0, 2) &&
		DatumGetLSN(pitr_resolve_col(0, 2)) > backup_start)
		*start = DatumGetLSN(pitr_resolve_col(0, 2));
	return true;
}

static char *
segment_name(const PitrArchiveInfo *a, TimeLineID tli, int64 segno)
{
	char		fname[MAXFNAMELEN];

	XLogFileName(fname, tli, (XLogSegNo) segno, a->segsize);
	return pstrdup(fname);
}

void
pitr_resolve_on_timeline(const PitrArchiveInfo *a, TimeLineID tli,
						 const PitrTimelineQuery *q, PitrResolution *r)
{
	PitrPath   *p = pitr_resolve_path(a, tli);
	Backup	   *backups;
	int			nbackups;
	int			tried = 0;
	char	   *fail_first = NULL;
	char	   *fail_last = NULL;

	r->timeline = tli;
	r->reachable = false;
	r->emit_lsn = false;

	backups = list_backups(a, q->pin_backup, &nbackups);
	for (int bi = 0; bi < nbackups; bi++)
	{
		Backup	   *b = &backups[bi];
		char	   *bname = psprintf("\"%s\" in %s", b->label, b->location);
		char	   *fail = NULL;
		bool		walked = false;
		bool		emit_lsn = false;
		XLogRecPtr	want_lsn = q->want_lsn;
		XLogRecPtr	start = InvalidXLogRecPtr;
		XLogRecPtr	stop_point;
		PitrWalkOutcome w = {0};
		PitrStopQuery sq = {0};
		int			idx = -1;
		char	   *gap;
		char	   *cp_problem;
		int64		s0,
					s1;
		CarriedUse	use = {0};
		bool		last_unknown = false;
		StringInfoData why;

		CHECK_FOR_INTERRUPTS();
		tried++;
		for (int i = 0; i < p->n; i++)
			if (p->tli[i] == b->tli)
			{
				idx = i;
				break;
			}

		if (idx < 0 || b->start < p->begin[idx] ||
			(!XLogRecPtrIsInvalid(p->end[idx]) && b->start >= p->end[idx]))
			fail = psprintf("base backup %s is not on the history of timeline %u",
							bname, tli);
		else if ((cp_problem = backup_checkpoint_problem(a, p, b)) != NULL)
			fail = psprintf("recovery from base backup %s would fail at its start: %s",
							bname, cp_problem);
		else if (q->kind == PITR_TARGET_TIME &&
				 backup_holds_after(a, p, b->start, q->t, q->inclusive))
			fail = psprintf("base backup %s already holds transactions that ended after %s: its data is newer than the target",
							bname, pitr_timestamptz_text(q->t));
		else if (q->kind == PITR_TARGET_TIME)
		{
			SegmentRow	f = xact_segment(a, p, segno_of(a, b->start), true,
										 true, q->t, q->inclusive);

			if (!f.valid)
				fail = psprintf("no transaction ended after %s on timeline %u: recovery would end before reaching the target",
								pitr_timestamptz_text(q->t), tli);
			else
			{
				start = Max(f.first_lsn, b->start);
				sq.kind = PITR_STOP_TIME;
				sq.target_time = q->t;
				sq.inclusive = q->inclusive;
				walk(a, p, start, &sq, &w);
				walked = true;
			}
		}
		else if (q->kind == PITR_TARGET_LSN)
		{
			Oid			types[6] = {INT4OID, INT4ARRAYOID, PG_LSNARRAYOID, INT8OID,
			INT8OID, LSNOID};
			Datum		v[6];

			v[0] = Int32GetDatum(a->id);
			v[1] = p->tli_arr;
			v[2] = p->begin_arr;
			v[3] = Int64GetDatum(segno_of(a, q->lsn) - 1);
			v[4] = Int64GetDatum(segno_of(a, q->lsn));
			v[5] = LSNGetDatum(q->lsn);
			start = b->start;
			if (pitr_resolve_query(Q_LSN_START, 6, types, v, NULL, true, 1) > 0 &&
				!pitr_resolve_col_null(0, 1))
				start = Max(DatumGetLSN(pitr_resolve_col(0, 1)), b->start);
			sq.kind = PITR_STOP_LSN;
			sq.target_lsn = q->lsn;
			sq.inclusive = q->inclusive;
			walk(a, p, start, &sq, &w);
			walked = true;
		}
		else if (q->kind == PITR_TARGET_XID || q->kind == PITR_TARGET_MARK)
		{
			Oid			types[5] = {INT4OID, INT4ARRAYOID, PG_LSNARRAYOID, INT8OID, INT8OID};
			Datum		v[5];
			uint64		rows;
			XLogRecPtr *firsts;
			XLogRecPtr *nexts;

			v[0] = Int32GetDatum(a->id);
			v[1] = p->tli_arr;
			v[2] = p->begin_arr;
			v[3] = Int64GetDatum(segno_of(a, b->start));
			v[4] = Int64GetDatum((int64) q->xid);
			rows = pitr_resolve_query(Q_XID_SEGMENTS, 5, types, v, NULL, true, 0);
			firsts = palloc(sizeof(XLogRecPtr) * (rows + 1));
			nexts = palloc(sizeof(XLogRecPtr) * (rows + 1));
			for (uint64 i = 0; i < rows; i++)
			{
				firsts[i] = DatumGetLSN(pitr_resolve_col(i, 1));
				nexts[i] = pitr_resolve_col_null(i, 2) ? InvalidXLogRecPtr :
					DatumGetLSN(pitr_resolve_col(i, 2));
			}
			/* Each candidate segment walked once, sharing one source. */
			for (uint64 i = 0; i < rows; i++)
			{
				start = Max(firsts[i], b->start);
				memset(&sq, 0, sizeof(sq));
				sq.kind = PITR_STOP_XID;
				sq.target_xid = q->xid;
				sq.inclusive = q->inclusive;
				sq.limit_lsn = nexts[i];
				walk(a, p, start, &sq, &w);
				walked = true;
				if (w.found)
					break;
			}
			if (walked && !w.found)
				walked = false;
			if (!walked)
				fail = psprintf("transaction %u does not end on the history of timeline %u after the start of base backup %s",
								q->xid, tli, bname);
			else if (q->kind == PITR_TARGET_MARK &&
					 !((w.stop_before && w.next.commit) ||
					   (!w.stop_before && w.last.commit)))
			{
				fail = psprintf("the transaction marked \"%s\" (%u) aborted: the mark does not exist",
								q->name, q->xid);
				walked = false;
			}
		}
		else if (q->kind == PITR_TARGET_NAME)
		{
			XLogRecPtr	ev_lsn;
			bool		has_ev = event_start(a, p, "restore_point", q->name,
											 b->start, InvalidXLogRecPtr,
											 b->start, &ev_lsn, &start);

			if (!XLogRecPtrIsInvalid(want_lsn) && want_lsn < b->start)
				fail = psprintf("restore point \"%s\" at %s lies before base backup %s starts",
								q->name, pitr_lsn_text(want_lsn), bname);
			else if (!has_ev)
				fail = psprintf("no restore point named \"%s\" on the history of timeline %u after the start of base backup %s",
								q->name, tli, bname);
			else
			{
				/*
				 * recovery_target_name stops after the first one replayed;
				 * if that is not the one wanted, an LSN target reaches it.
				 */
				if (!XLogRecPtrIsInvalid(want_lsn) && ev_lsn != want_lsn)
					emit_lsn = true;
				else
					want_lsn = ev_lsn;
				sq.kind = PITR_STOP_LSN;
				sq.target_lsn = want_lsn;
				sq.inclusive = true;
				walk(a, p, start, &sq, &w);
				walked = true;
			}
		}
		else
		{
			/* immediate: the end of this backup */
			XLogRecPtr	ev_lsn;

			sq.kind = PITR_STOP_LSN;
			if (event_start(a, p, "backup_end", NULL, InvalidXLogRecPtr,
							b->start, b->start, &ev_lsn, &start))
			{
				sq.target_lsn = ev_lsn;
				sq.inclusive = true;
			}
			else
			{
				start = b->start;
				sq.target_lsn = b->stop;
				sq.inclusive = false;
			}
			walk(a, p, start, &sq, &w);
			walked = true;
		}

		/* Not found: if WAL has a hole on the way, that is why. */
		if ((fail != NULL || !w.found) && idx >= 0 && b->start >= p->begin[idx])
		{
			Oid			types[3] = {INT4OID, INT4ARRAYOID, PG_LSNARRAYOID};
			Datum		v[3];
			bool		end_null;
			XLogRecPtr	end = InvalidXLogRecPtr;

			v[0] = Int32GetDatum(a->id);
			v[1] = p->tli_arr;
			v[2] = p->begin_arr;
			pitr_resolve_query(Q_PATH_END, 3, types, v, NULL, true, 1);
			end_null = pitr_resolve_col_null(0, 1);
			if (!end_null)
				end = DatumGetLSN(pitr_resolve_col(0, 1));
			gap = backup_path_gap(a, p, b, b->start, end, end_null, &use);
			if (gap != NULL)
				fail = psprintf("WAL from base backup %s is not continuous: segment %s, and recovery would stop there before reaching the target",
								bname, gap);
		}
		if (fail == NULL && !w.found)
		{
			if (w.problem)
				fail = psprintf("recovery from base backup %s would end before reaching the target: %s",
								bname, w.problem);
			else
				fail = psprintf("recovery from base backup %s would end before reaching the target: the archive's WAL on timeline %u ends at %s",
								bname, tli, pitr_lsn_text(w.walk_end));
		}
		stop_point = w.stop_before ? w.stop_lsn : w.stop_end;
		if (fail == NULL)
		{
			if (stop_point < b->stop)
			{
				fail_last = psprintf("the stop point %s comes before base backup %s is consistent (at %s): recovery would fail with \"requested recovery stop point is before consistent recovery point\"",
									 pitr_lsn_text(stop_point), bname,
									 pitr_lsn_text(b->stop));
				continue;
			}
			memset(&use, 0, sizeof(use));
			gap = backup_path_gap(a, p, b, b->start, w.stop_end, false, &use);
			if (gap != NULL)
				fail = psprintf("WAL from base backup %s to the target is not continuous: segment %s",
								bname, gap);
			else
			{
				Oid			types[5] = {INT4OID, INT4ARRAYOID, PG_LSNARRAYOID, LSNOID, LSNOID};
				Datum		v[5];

				v[0] = Int32GetDatum(a->id);
				v[1] = p->tli_arr;
				v[2] = p->begin_arr;
				v[3] = LSNGetDatum(b->start);
				v[4] = LSNGetDatum(w.stop_end);
				if (pitr_resolve_query(Q_MINIMAL, 5, types, v, NULL, true, 1) > 0)
					fail = psprintf("WAL between base backup %s and the target was written with wal_level = minimal: recovery cannot replay it",
									bname);
			}
		}

		/*
		 * WAL taken from the backup's own pg_wal is not in the index: no
		 * event in it is known.  All of it lies before the stop, written
		 * before the end-of-backup record, so on a primary every commit in
		 * it is stamped no later than the backup's STOP TIME (taken after
		 * that record, rounded down to the second): a time target at least
		 * a second past it cannot stop recovery in there, nor can the
		 * backup's data hold a later commit.  A restore point in there
		 * could stop recovery_target_name: the settings use the LSN.
		 */
		if (fail == NULL && use.count > 0 && q->kind == PITR_TARGET_TIME &&
			!(b->primary && b->has_stop_time &&
			  q->t >= b->stop_time + USECS_PER_SEC))
			fail = psprintf("WAL from base backup %s comes partly from its own pg_wal (segments %s to %s are not in the archive), whose transactions are not indexed: only a target time at least a second after its stop time (%s) is certain not to stop recovery in them",
							bname, segment_name(a, use.tli, use.lo),
							segment_name(a, use.tli, use.hi),
							b->has_stop_time ? pitr_timestamptz_text(b->stop_time) : "unknown");
		if (fail == NULL && use.count > 0 && q->kind == PITR_TARGET_NAME)
			emit_lsn = true;

		if (fail != NULL)
		{
			if (fail_first == NULL)
				fail_first = fail;
			fail_last = fail;
			continue;
		}

		/* Reachable. */
		r->reachable = true;
		r->npath = p->n - idx;
		r->path = &p->tli[idx];
		r->backup_label = b->label;
		r->backup_location = b->location;
		r->backup_format = b->format;
		r->backup_stop_lsn = b->stop;
		r->stop_lsn = w.stop_lsn;
		r->stop_before = w.stop_before;
		r->end_lsn = stop_point;

		if (!w.last.valid)
		{
			/*
			 * No transaction ended between the walk's start and the stop:
			 * look back from the walk's start, segment by segment (the index
			 * counts the transactions that end in each, and a segment's
			 * first_lsn is where the first record ending in it begins), down
			 * to the backup's start.  The segment holding the walk's start
			 * is searched too: records before it may end there.
			 */
			int64		s = segno_of(a, start) + 1;

			for (;;)
			{
				SegmentRow	f = xact_segment(a, p, s, false, false, 0, true);
				PitrStopQuery lq = {0};
				PitrWalkOutcome lw;

				CHECK_FOR_INTERRUPTS();
				/* past WAL carried only by the backup, unread: unknown */
				if (use.count > 0 && (!f.valid || f.segno < use.hi))
				{
					last_unknown = true;
					break;
				}
				if (!f.valid || f.next_lsn <= b->start)
					break;
				lq.kind = PITR_STOP_NONE;
				lq.inclusive = true;
				lq.limit_lsn = Min(f.next_lsn, start);
				walk(a, p, Max(f.first_lsn, b->start), &lq, &lw);
				if (lw.last.valid)
				{
					w.last = lw.last;
					break;
				}
				s = f.segno;
			}
		}
		r->has_last = w.last.valid;
		r->last_xid = w.last.xid;
		r->last_time = w.last.time;
		if (!w.next.valid)
		{
			/*
			 * The walk looks a few segments past the stop; past a long run
			 * of records without a transaction end, the index finds the next
			 * segment where one ends.
			 */
			int64		s = segno_of(a, stop_point);

			for (;;)
			{
				SegmentRow	f = xact_segment(a, p, s, true, false, 0, true);
				PitrStopQuery nq = {0};
				PitrWalkOutcome nw;

				CHECK_FOR_INTERRUPTS();
				if (!f.valid)
					break;
				nq.kind = PITR_STOP_LSN;
				nq.target_lsn = stop_point;
				nq.inclusive = false;
				walk(a, p, f.first_lsn, &nq, &nw);
				if (nw.next.valid)
				{
					w.next = nw.next;
					break;
				}
				s = f.segno + 1;
			}
		}
		r->has_next = w.next.valid;
		r->next_xid = w.next.xid;
		r->next_time = w.next.time;

		/* Continuity is proven: the count follows from the ends. */
		s0 = segno_of(a, b->start);
		s1 = segno_of(a, w.stop_end - 1);
		r->wal_segments = (int) (s1 - s0 + 1);
		r->wal_bytes = (int64) r->wal_segments * a->segsize;
		r->wal_first = segment_name(a, p->tli[idx], s0);
		{
			/* recovery reads the newest timeline that had begun by then */
			TimeLineID last_tli = p->tli[0];

			for (int i = 0; i < p->n; i++)
				if (segno_of(a, p->begin[i]) <= s1)
					last_tli = p->tli[i];
			r->wal_last = segment_name(a, last_tli, s1);
		}

		initStringInfo(&why);
		appendStringInfo(&why, "base backup %s is the latest that is consistent (at %s) before the stop point, with continuous WAL from its start at %s",
						 bname, pitr_lsn_text(b->stop), pitr_lsn_text(b->start));
		if (tried > 1)
			appendStringInfo(&why, "; %d later backup(s) could not be used: %s",
							 tried - 1, fail_first ? fail_first : "");

		/* Caveats. */
		r->has_warnings = true;
		r->warnings = NIL;
		{
			Oid			types[4] = {INT4OID, INT4ARRAYOID, PG_LSNARRAYOID, LSNOID};
			Datum		v[4];
			uint64		rows;

			v[0] = Int32GetDatum(a->id);
			v[1] = p->tli_arr;
			v[2] = p->begin_arr;
			v[3] = LSNGetDatum(stop_point);
			rows = pitr_resolve_query(Q_PREPARED, 4, types, v, NULL, true, 0);
			for (uint64 i = 0; i < rows; i++)
				r->warnings = lappend(r->warnings, pitr_resolve_col_text(i, 1));
		}
		if (last_unknown)
			appendStringInfo(&why, "; no transaction ended in the indexed WAL between the start of base backup %s and the stop point, but segments %s to %s come from its own pg_wal and were not read, so last_xid is NULL (unknown)",
							 bname, segment_name(a, use.tli, use.lo),
							 segment_name(a, use.tli, use.hi));
		else if (!w.last.valid)
			appendStringInfo(&why, "; no transaction ended between the start of base backup %s (%s) and the stop point, so last_xid is NULL",
							 bname, pitr_lsn_text(b->start));
		if (use.count > 0)
		{
			r->warnings = lappend(r->warnings,
								  psprintf("segments %s to %s are not in the archive: recovery reads them from the pg_wal of base backup %s; they were not read here, so prepared transactions in them are not listed",
										   segment_name(a, use.tli, use.lo),
										   segment_name(a, use.tli, use.hi),
										   bname));
			appendStringInfo(&why, "; segments %s to %s come from the backup's own pg_wal",
							 segment_name(a, use.tli, use.lo),
							 segment_name(a, use.tli, use.hi));
		}
		if (emit_lsn && use.count > 0 && q->kind == PITR_TARGET_NAME)
		{
			r->warnings = lappend(r->warnings,
								  psprintf("restore points in the WAL that base backup %s carries in its own pg_wal are not indexed: recovery_target_name could stop at one there, so the settings use recovery_target_lsn",
										   bname));
			appendStringInfoString(&why, "; recovery_target_lsn stands for the restore point");
		}
		else if (emit_lsn)
		{
			r->warnings = lappend(r->warnings,
								  psprintf("restore point \"%s\" occurs earlier after the start of base backup %s: recovery_target_name would stop there, so the settings use recovery_target_lsn",
										   q->name, bname));
			appendStringInfoString(&why, "; recovery_target_lsn stands for the restore point");
		}
		r->emit_lsn = emit_lsn;
		r->why = why.data;
		r->reason = NULL;
		return;
	}

	if (tried == 0)
	{
		if (q->pin_backup == NULL)
		{
			const char *dir = GetConfigOption("pitr_restore.backup_dir", true, false);

			r->reason = psprintf("no usable base backup of this archive in pitr_restore.backup_dir (\"%s\")",
								 dir ? dir : "");
		}
		else
			r->reason = psprintf("no usable base backup %s in pitr_restore.backup_dir",
								 q->pin_backup);
	}
	else

		/*
		 * The earliest backup's complaint, unless a later backup failed for
		 * a reason other than consistency (that one says more).
		 */
		r->reason = fail_first ? fail_first : fail_last;

	/* an incremental backup skipped for its broken chain: name the link */
	{
		char	   *broken = chain_problems(a, q->pin_backup);

		if (broken != NULL)
			r->reason = r->reason ? psprintf("%s; %s", r->reason, broken) : broken;
	}
}
