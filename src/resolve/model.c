/*-------------------------------------------------------------------------
 *
 * model.c
 *	  The recovery model: what recovery reads along a timeline's history
 *	  (which file serves each segment, where the first hole is, what a base
 *	  backup's own pg_wal bridges) and the transactions around a point.
 *	  resolve_target (backup_choice.c) and recovery_windows (windows.c)
 *	  both ask it, so they agree by construction.
 *
 * Everything here reads the index through query.c, inside the caller's
 * SPI connection, and the WAL through walk.c.
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
#include "utils/pg_lsn.h"
#include "utils/timestamp.h"

#include "resolve/model.h"
#include "resolve/query.h"

static const char Q_REFRESH[] =
"SELECT pitr_restore.refresh_archive($1, $2)";

static const char Q_ARCHIVE[] =
"SELECT directory, segment_size FROM pitr_restore.archive "
"WHERE archive_id OPERATOR(pg_catalog.=) $1";

static const char Q_PATH[] =
"SELECT tlis, begins, ends FROM pitr_restore.timeline_path($1, $2)";

static const char Q_PATH_END[] =
"SELECT max(pf.next_lsn) FROM pitr_restore.path_files($1, $2, $3) pf";

static const char Q_RUNS[] =
"SELECT r.lo, r.hi FROM pitr_restore.segment_run r "
"WHERE r.archive_id OPERATOR(pg_catalog.=) $1 AND r.timeline OPERATOR(pg_catalog.=) $2 "
"AND r.hi OPERATOR(pg_catalog.>=) $3 AND r.lo OPERATOR(pg_catalog.<=) $4 "
"ORDER BY r.lo";

static const char Q_SEGMENT_OK[] =
"SELECT 1 FROM pitr_restore.archive_file f "
"WHERE f.archive_id OPERATOR(pg_catalog.=) $1 AND f.kind OPERATOR(pg_catalog.=) 'segment' "
"AND f.timeline OPERATOR(pg_catalog.=) $2 AND f.segno OPERATOR(pg_catalog.=) $3 "
"AND f.status OPERATOR(pg_catalog.=) 'ok' LIMIT 1";

static const char Q_SEGMENT_STATUS[] =
"SELECT f.status OPERATOR(pg_catalog.||) coalesce(': ' OPERATOR(pg_catalog.||) f.detail, '') "
"FROM pitr_restore.archive_file f "
"WHERE f.archive_id OPERATOR(pg_catalog.=) $1 AND f.kind OPERATOR(pg_catalog.=) 'segment' "
"AND f.timeline OPERATOR(pg_catalog.=) $2 AND f.segno OPERATOR(pg_catalog.=) $3 "
"ORDER BY f.status OPERATOR(pg_catalog.=) 'ok' DESC, f.file_name LIMIT 1";

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

/* The columns of Q_BACKUPS. */
enum
{
	BK_LABEL = 1,
	BK_LOCATION,
	BK_FORMAT,
	BK_TIMELINE,
	BK_START,
	BK_STOP,
	BK_CHECKPOINT,
	BK_STOP_TIME,
	BK_CARRIED,
	BK_FROM,
	BK_NCOLS = BK_FROM
};

static const char Q_PATH_FILE[] =
"SELECT pf.first_lsn FROM pitr_restore.path_files($1, $2, $3) pf "
"WHERE pf.segno OPERATOR(pg_catalog.=) $4 "
"ORDER BY pf.status OPERATOR(pg_catalog.=) 'ok' DESC LIMIT 1";

/* Does the archive have any file recovery would fetch for this segment? */
static const char Q_ARCHIVE_HAS[] =
"SELECT 1 FROM pitr_restore.archive_file f "
"WHERE f.archive_id OPERATOR(pg_catalog.=) $1 AND f.timeline OPERATOR(pg_catalog.=) $2 "
"AND f.segno OPERATOR(pg_catalog.=) $3 AND f.kind OPERATOR(pg_catalog.=) 'segment' LIMIT 1";

/* ---- paths ---- */

static void
lsn_array(Datum arr, int n, XLogRecPtr *out)
{
	Datum	   *d;
	bool	   *dn;
	int			nd;

	deconstruct_array(DatumGetArrayTypeP(arr), LSNOID, 8, FLOAT8PASSBYVAL,
					  TYPALIGN_DOUBLE, &d, &dn, &nd);
	for (int i = 0; i < n; i++)
		out[i] = (i >= nd || dn[i]) ? InvalidXLogRecPtr : DatumGetLSN(d[i]);
}

bool
pitr_model_archive(int id, PitrArchiveInfo *a)
{
	Datum		v[1] = {Int32GetDatum(id)};

	a->id = id;
	a->directory = NULL;
	a->segsize = 0;
	if (pitr_resolve_query(Q_ARCHIVE, 1, (Oid[]) {INT4OID}, v, NULL, true, 1) != 1)
		return false;
	a->directory = pitr_resolve_col_text(0, 1);
	if (pitr_resolve_col_null(0, 2))
		return false;
	a->segsize = DatumGetInt32(pitr_resolve_col(0, 2));
	return true;
}

bool
pitr_model_open_archive(const char *dir, bool check_files, PitrArchiveInfo *a)
{
	Datum		v[2];
	char		nulls[2] = {' ', ' '};
	int			id;
	bool		has_wal;

	if (dir)
		v[0] = CStringGetTextDatum(dir);
	else
		nulls[0] = 'n';
	v[1] = BoolGetDatum(check_files);
	pitr_resolve_query(Q_REFRESH, 2, (Oid[]) {TEXTOID, BOOLOID}, v, nulls,
					   false, 1);
	id = DatumGetInt32(pitr_resolve_col(0, 1));
	has_wal = pitr_model_archive(id, a);
	if (a->directory == NULL)
		elog(ERROR, "archive %d vanished", id);
	return has_wal;
}

PitrPath *
pitr_model_resolution_path(const PitrResolution *r, int segsize,
						   PitrArchiveInfo *a)
{
	a->id = r->archive_id;
	a->directory = r->archive_dir;
	a->segsize = segsize;
	return pitr_model_path(a, r->timeline);
}

bool
pitr_model_wal_segno(const char *wal, int segsize, XLogSegNo *segno)
{
	TimeLineID	tli;

	if (wal == NULL || !IsXLogFileName(wal))
		return false;
	XLogFromFileName(wal, &tli, segno, segsize);
	return true;
}

PitrPath *
pitr_model_path(const PitrArchiveInfo *a, TimeLineID tli)
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
	p->begin = palloc(sizeof(XLogRecPtr) * n);
	lsn_array(p->begin_arr, n, p->begin);
	p->end = palloc(sizeof(XLogRecPtr) * n);
	lsn_array(pitr_resolve_col(0, 3), n, p->end);
	p->beginseg = palloc(sizeof(XLogSegNo) * n);
	for (int i = 0; i < n; i++)
		p->beginseg[i] = pitr_model_segno(a, p->begin[i]);
	return p;
}

XLogSegNo
pitr_model_segno(const PitrArchiveInfo *a, XLogRecPtr lsn)
{
	return lsn / a->segsize;
}

/* The segment numbers timeline i of the path serves (walk.h). */
void
pitr_model_path_range(const PitrArchiveInfo *a, const PitrPath *p, int i,
					  int64 *lo, int64 *hi)
{
	pitr_path_served(p->n, p->beginseg, i, lo, hi);
}

/*
 * The timeline whose file recovery reads for a segment: the newest on the
 * path that had begun by then.
 */
TimeLineID
pitr_model_serving_tli(const PitrArchiveInfo *a, const PitrPath *p,
					   XLogSegNo segno)
{
	return p->tli[pitr_path_serving(p->n, p->beginseg, segno)];
}

/* Where on the path an LSN of timeline tli lies (-1: not on it). */
int
pitr_model_path_index(const PitrPath *p, TimeLineID tli, XLogRecPtr lsn)
{
	for (int i = 0; i < p->n; i++)
		if (p->tli[i] == tli)
		{
			if (lsn < p->begin[i] ||
				(!XLogRecPtrIsInvalid(p->end[i]) && lsn >= p->end[i]))
				return -1;
			return i;
		}
	return -1;
}

char *
pitr_model_segment_name(const PitrArchiveInfo *a, TimeLineID tli,
						XLogSegNo segno)
{
	char		fname[MAXFNAMELEN];

	XLogFileName(fname, tli, segno, a->segsize);
	return pstrdup(fname);
}

/* The end of the last segment the path holds; false if it holds none. */
bool
pitr_model_path_end(const PitrArchiveInfo *a, const PitrPath *p,
					XLogRecPtr *end)
{
	Oid			types[3] = {INT4OID, INT4ARRAYOID, PG_LSNARRAYOID};
	Datum		v[3];

	v[0] = Int32GetDatum(a->id);
	v[1] = p->tli_arr;
	v[2] = p->begin_arr;
	pitr_resolve_query(Q_PATH_END, 3, types, v, NULL, true, 1);
	*end = pitr_resolve_col_lsn(0, 1);
	return !XLogRecPtrIsInvalid(*end);
}

static const char Q_RUNS_OF[] =
"SELECT r.lo, r.hi FROM pitr_restore.segment_run r "
"WHERE r.archive_id OPERATOR(pg_catalog.=) $1 AND r.timeline OPERATOR(pg_catalog.=) $2 "
"AND r.hi OPERATOR(pg_catalog.>=) $3 AND r.lo OPERATOR(pg_catalog.<) $4 "
"ORDER BY r.lo";

static const char Q_SEGMENT_END[] =
"SELECT max(f.next_lsn) FROM pitr_restore.archive_file f "
"WHERE f.archive_id OPERATOR(pg_catalog.=) $1 AND f.kind OPERATOR(pg_catalog.=) 'segment' "
"AND f.timeline OPERATOR(pg_catalog.=) $2 AND f.segno OPERATOR(pg_catalog.=) $3 "
"AND f.status OPERATOR(pg_catalog.=) 'ok'";

static XLogRecPtr
segment_end(const PitrArchiveInfo *a, const PitrPath *p, XLogSegNo segno)
{
	Oid			types[3] = {INT4OID, INT4OID, INT8OID};
	Datum		v[3];

	v[0] = Int32GetDatum(a->id);
	v[1] = Int32GetDatum((int32) pitr_model_serving_tli(a, p, segno));
	v[2] = Int64GetDatum((int64) segno);
	pitr_resolve_query(Q_SEGMENT_END, 3, types, v, NULL, true, 1);
	return pitr_resolve_col_lsn(0, 1);
}

/*
 * The runs of usable segments recovery reads along a path, oldest first:
 * each timeline's runs within the segments it serves, joined where they
 * meet.
 */
PitrRun *
pitr_model_runs(const PitrArchiveInfo *a, const PitrPath *p, int *n)
{
	int			cap = 16;
	PitrRun    *runs = palloc(sizeof(PitrRun) * cap);

	*n = 0;
	for (int i = 0; i < p->n; i++)
	{
		Oid			types[4] = {INT4OID, INT4OID, INT8OID, INT8OID};
		Datum		v[4];
		int64		lo,
					hi;
		uint64		rows;

		pitr_model_path_range(a, p, i, &lo, &hi);
		if (lo >= hi)
			continue;
		v[0] = Int32GetDatum(a->id);
		v[1] = Int32GetDatum((int32) p->tli[i]);
		v[2] = Int64GetDatum(lo);
		v[3] = Int64GetDatum(hi);
		rows = pitr_resolve_query(Q_RUNS_OF, 4, types, v, NULL, true, 0);
		for (uint64 r = 0; r < rows; r++)
		{
			XLogSegNo	rlo = Max(DatumGetInt64(pitr_resolve_col(r, 1)), lo);
			XLogSegNo	rhi = Min(DatumGetInt64(pitr_resolve_col(r, 2)), hi - 1);

			if (*n > 0 && runs[*n - 1].hi + 1 == rlo)
			{
				runs[*n - 1].hi = rhi;
				continue;
			}
			if (*n == cap)
				runs = repalloc(runs, sizeof(PitrRun) * (cap *= 2));
			runs[*n].lo = rlo;
			runs[*n].hi = rhi;
			(*n)++;
		}
	}
	for (int i = 0; i < *n; i++)
		runs[i].end_lsn = segment_end(a, p, runs[i].hi);
	return runs;
}

/* ---- gaps ---- */

/*
 * The first segment from s0 to s1 of one timeline outside the runs of
 * usable segments the scan recorded.
 */
static bool
first_unusable(const PitrArchiveInfo *a, TimeLineID tli, int64 s0, int64 s1,
			   XLogSegNo *segno)
{
	Oid			types[4] = {INT4OID, INT4OID, INT8OID, INT8OID};
	Datum		v[4];
	uint64		rows;
	int64		cur = s0;

	v[0] = Int32GetDatum(a->id);
	v[1] = Int32GetDatum((int32) tli);
	v[2] = Int64GetDatum(s0);
	v[3] = Int64GetDatum(s1);
	rows = pitr_resolve_query(Q_RUNS, 4, types, v, NULL, true, 0);
	for (uint64 r = 0; r < rows && cur <= s1; r++)
	{
		int64		lo = DatumGetInt64(pitr_resolve_col(r, 1));
		int64		hi = DatumGetInt64(pitr_resolve_col(r, 2));

		if (lo > cur)
			break;
		cur = Max(cur, hi + 1);
	}
	if (cur > s1)
		return false;
	*segno = (XLogSegNo) cur;
	return true;
}

/*
 * Does recovery read this segment from the backup's own pg_wal?
 * PostgreSQL's XLogFileReadAnyTLI tries, for each timeline,
 * restore_command and then pg_wal: so the backup's copy serves when the
 * archive has no file of the segment at all (a damaged one would be
 * fetched and fail).  The scan listed only full segments between the
 * backup's start and its stop.
 */
static bool
carried_covers(const PitrArchiveInfo *a, const PitrModelBackup *b, TimeLineID tli,
			   XLogSegNo segno)
{
	Datum	   *names;
	bool	   *nulls;
	int			n;
	bool		carried = false;
	char	   *fname;
	Oid			types[3] = {INT4OID, INT4OID, INT8OID};
	Datum		v[3];

	if (b == NULL || !b->has_carried || b->stop <= b->start ||
		segno < pitr_model_segno(a, b->start) ||
		segno > pitr_model_segno(a, b->stop - 1))
		return false;
	fname = pitr_model_segment_name(a, tli, segno);
	deconstruct_array(DatumGetArrayTypeP(b->carried), TEXTOID, -1, false,
					  TYPALIGN_INT, &names, &nulls, &n);
	for (int i = 0; i < n && !carried; i++)
		carried = !nulls[i] && strcmp(TextDatumGetCString(names[i]), fname) == 0;
	if (!carried)
		return false;
	v[0] = Int32GetDatum(a->id);
	v[1] = Int32GetDatum((int32) tli);
	v[2] = Int64GetDatum((int64) segno);
	return pitr_resolve_query(Q_ARCHIVE_HAS, 3, types, v, NULL, true, 1) == 0;
}

/* Does the archive hold a usable file of the segment? */
static bool
segment_usable(const PitrArchiveInfo *a, TimeLineID tli, XLogSegNo segno)
{
	Oid			types[3] = {INT4OID, INT4OID, INT8OID};
	Datum		v[3];

	v[0] = Int32GetDatum(a->id);
	v[1] = Int32GetDatum((int32) tli);
	v[2] = Int64GetDatum((int64) segno);
	return pitr_resolve_query(Q_SEGMENT_OK, 3, types, v, NULL, true, 1) > 0;
}

/*
 * The first unusable segment of the path from segment s0 to s1.  The runs
 * are the fast path; the files themselves have the last word.
 */
static bool
path_first_unusable(const PitrArchiveInfo *a, const PitrPath *p, int64 s0,
					int64 s1, TimeLineID *tli, XLogSegNo *segno)
{
	for (int i = 0; i < p->n; i++)
	{
		int64		lo,
					hi;

		pitr_model_path_range(a, p, i, &lo, &hi);
		lo = Max(lo, s0);
		hi = Min(hi - 1, s1);
		while (lo <= hi && first_unusable(a, p->tli[i], lo, hi, segno))
		{
			CHECK_FOR_INTERRUPTS();
			if (!segment_usable(a, p->tli[i], *segno))
			{
				*tli = p->tli[i];
				return true;
			}
			lo = (int64) *segno + 1;
		}
	}
	return false;
}

static void
fill_gap(const PitrArchiveInfo *a, TimeLineID tli, XLogSegNo segno,
		 PitrGap *gap)
{
	Oid			types[3] = {INT4OID, INT4OID, INT8OID};
	Datum		v[3];

	v[0] = Int32GetDatum(a->id);
	v[1] = Int32GetDatum((int32) tli);
	v[2] = Int64GetDatum((int64) segno);
	gap->tli = tli;
	gap->segno = segno;
	gap->in_archive = pitr_resolve_query(Q_SEGMENT_STATUS, 3, types, v, NULL,
										 true, 1) > 0;
	gap->status = gap->in_archive ? pitr_resolve_col_text(0, 1) : NULL;
}

/*
 * The first segment recovery would miss reading the path from one LSN to
 * another (exclusive), or false when WAL is continuous.  With a backup,
 * segments it carries in its own pg_wal do not break the path; those used
 * are counted in *use (when given).
 */
bool
pitr_model_gap(const PitrArchiveInfo *a, const PitrPath *p,
			   const PitrModelBackup *b, XLogRecPtr from, XLogRecPtr to,
			   PitrCarriedUse *use, PitrGap *gap)
{
	int64		cur = (int64) pitr_model_segno(a, from);
	int64		s1;

	if (to == 0)
		return false;
	s1 = (int64) pitr_model_segno(a, to - 1);
	for (;;)
	{
		TimeLineID	tli;
		XLogSegNo	segno;

		CHECK_FOR_INTERRUPTS();
		if (cur > s1 || !path_first_unusable(a, p, cur, s1, &tli, &segno))
			return false;
		if (!carried_covers(a, b, tli, segno))
		{
			fill_gap(a, tli, segno, gap);
			return true;
		}
		if (use != NULL)
		{
			if (use->count == 0 || segno < use->lo)
				use->lo = segno;
			if (use->count == 0 || segno > use->hi)
				use->hi = segno;
			use->tli = tli;
			use->count++;
		}
		cur = (int64) segno + 1;
	}
}

/* A gap as the reasons name it. */
char *
pitr_model_gap_text(const PitrArchiveInfo *a, const PitrGap *gap)
{
	char	   *name = pitr_model_segment_name(a, gap->tli, gap->segno);

	if (!gap->in_archive)
		return psprintf("%s is missing from the archive", name);
	return psprintf("%s cannot be used (%s)", name, gap->status);
}

/*
 * Does the WAL a base backup carries bridge the path from its start to
 * segment upto (exclusive)?  Each segment on the way is usable in the
 * archive or carried by the backup; only a stretch that ends within the
 * backup's own WAL can be bridged.
 */
bool
pitr_model_carried_bridges(const PitrArchiveInfo *a, const PitrPath *p,
						   const PitrModelBackup *b, XLogSegNo upto)
{
	PitrGap		gap;

	if (!b->has_carried || b->stop <= b->start ||
		upto <= pitr_model_segno(a, b->start) ||
		upto - 1 > pitr_model_segno(a, b->stop - 1))
		return false;
	return !pitr_model_gap(a, p, b, b->start, (XLogRecPtr) upto * a->segsize,
						   NULL, &gap);
}

/* ---- backups ---- */

/*
 * The base backups recovery may start from, latest first (only the one
 * pin names, when given): found, usable, with a known stop.
 */
PitrModelBackup *
pitr_model_backups(const PitrArchiveInfo *a, const char *pin, int *n)
{
	Oid			types[2] = {TEXTOID, TEXTOID};
	Datum		v[2];
	char		nulls[2] = {' ', ' '};
	uint64		rows;
	PitrModelBackup *b;

	v[0] = CStringGetTextDatum(a->directory);
	if (pin)
		v[1] = CStringGetTextDatum(pin);
	else
		nulls[1] = 'n';
	rows = pitr_resolve_query(Q_BACKUPS, 2, types, v, nulls, false, 0);
	if (rows > 0 && SPI_tuptable->tupdesc->natts != BK_NCOLS)
		elog(ERROR, "backup query returned %d columns, expected %d",
			 SPI_tuptable->tupdesc->natts, BK_NCOLS);
	b = palloc0(sizeof(PitrModelBackup) * (rows + 1));
	for (uint64 i = 0; i < rows; i++)
	{
		b[i].label = pitr_resolve_col_text(i, BK_LABEL);
		b[i].location = pitr_resolve_col_text(i, BK_LOCATION);
		b[i].format = pitr_resolve_col_text(i, BK_FORMAT);
		b[i].tli = pitr_resolve_col_null(i, BK_TIMELINE) ? 0 :
			DatumGetInt32(pitr_resolve_col(i, BK_TIMELINE));
		b[i].start = DatumGetLSN(pitr_resolve_col(i, BK_START));
		b[i].stop = DatumGetLSN(pitr_resolve_col(i, BK_STOP));
		b[i].checkpoint = pitr_resolve_col_lsn(i, BK_CHECKPOINT);
		b[i].has_stop_time = !pitr_resolve_col_null(i, BK_STOP_TIME);
		if (b[i].has_stop_time)
			b[i].stop_time = DatumGetTimestampTz(pitr_resolve_col(i, BK_STOP_TIME));
		b[i].has_carried = !pitr_resolve_col_null(i, BK_CARRIED);
		if (b[i].has_carried)
			b[i].carried = datumCopy(pitr_resolve_col(i, BK_CARRIED), false, -1);
		b[i].primary = !pitr_resolve_col_null(i, BK_FROM) &&
			strcmp(pitr_resolve_col_text(i, BK_FROM), "primary") == 0;
	}
	*n = (int) rows;
	return b;
}

/*
 * WAL taken from a backup's own pg_wal is not in the index: no event in it
 * is known.  All of it lies before the stop, written before the
 * end-of-backup record, so on a primary every commit in it is stamped no
 * later than the backup's STOP TIME (taken after that record, rounded down
 * to the second): a time target at least a second past it cannot stop
 * recovery in there, nor can the backup's data hold a later commit.  A
 * standby's backup (another clock) gives no such bound.
 */
TimestampTz
pitr_model_carried_time_floor(const PitrModelBackup *b)
{
	return b->stop_time + USECS_PER_SEC;
}

bool
pitr_model_carried_times_known(const PitrModelBackup *b)
{
	return b->primary && b->has_stop_time;
}

bool
pitr_model_carried_time_ok(const PitrModelBackup *b, TimestampTz t)
{
	return pitr_model_carried_times_known(b) &&
		t >= pitr_model_carried_time_floor(b);
}

/* ---- transactions ---- */

void
pitr_model_walk(const PitrArchiveInfo *a, const PitrPath *p, XLogRecPtr start,
				const PitrStopQuery *q, PitrWalkOutcome *o)
{
	pitr_walk_path(a->id, p->n, p->tli, p->begin, start, q, o);
}

/*
 * The time of the latest transaction end before an LSN: the last segment
 * before the LSN's that holds one, and the LSN's own segment up to it.
 */
bool
pitr_model_latest_xact_before(const PitrArchiveInfo *a, const PitrPath *p,
							  XLogRecPtr lsn, TimestampTz *t)
{
	PitrSegmentRow f;
	bool		has_latest;
	TimestampTz latest = 0;
	Oid			types[4] = {INT4OID, INT4ARRAYOID, PG_LSNARRAYOID, INT8OID};
	Datum		v[4];
	XLogRecPtr	first;

	f = pitr_model_xact_segment(a, p, pitr_model_segno(a, lsn), false, false,
								0, true);
	has_latest = f.valid && f.has_max_time;
	if (has_latest)
		latest = f.max_commit_time;

	v[0] = Int32GetDatum(a->id);
	v[1] = p->tli_arr;
	v[2] = p->begin_arr;
	v[3] = Int64GetDatum((int64) pitr_model_segno(a, lsn));
	if (pitr_resolve_query(Q_PATH_FILE, 4, types, v, NULL, true, 1) > 0 &&
		!XLogRecPtrIsInvalid(first = pitr_resolve_col_lsn(0, 1)) &&
		first < lsn)
	{
		PitrStopQuery q = {0};
		PitrWalkOutcome o;

		q.kind = PITR_STOP_NONE;
		q.inclusive = true;
		q.limit_lsn = lsn;
		pitr_model_walk(a, p, first, &q, &o);
		if (o.last.valid && (!has_latest || o.last.time > latest))
		{
			latest = o.last.time;
			has_latest = true;
		}
	}
	*t = latest;
	return has_latest;
}

/*
 * The last transaction end before a walk's start, when the walk from there
 * to the stop saw none: look back segment by segment (the index counts the
 * transactions that end in each, and a segment's first_lsn is where the
 * first record ending in it begins), down to floor (a backup's start).
 * The segment holding start is searched too: records before it may end
 * there.  Past WAL a backup carries, which was not read, it is unknown.
 */
void
pitr_model_find_last_xact(const PitrArchiveInfo *a, const PitrPath *p,
						  XLogRecPtr floor, XLogRecPtr start,
						  const PitrCarriedUse *use, PitrXact *last,
						  bool *unknown)
{
	XLogSegNo	s = pitr_model_segno(a, start) + 1;

	*unknown = false;
	for (;;)
	{
		PitrSegmentRow f = pitr_model_xact_segment(a, p, s, false, false, 0, true);
		PitrStopQuery lq = {0};
		PitrWalkOutcome lw;

		CHECK_FOR_INTERRUPTS();
		if (use->count > 0 && (!f.valid || f.segno < use->hi))
		{
			*unknown = true;
			return;
		}
		if (!f.valid || f.next_lsn <= floor)
			return;
		lq.kind = PITR_STOP_NONE;
		lq.inclusive = true;
		lq.limit_lsn = Min(f.next_lsn, start);
		pitr_model_walk(a, p, Max(f.first_lsn, floor), &lq, &lw);
		if (lw.last.valid)
		{
			*last = lw.last;
			return;
		}
		s = f.segno;
	}
}

/*
 * The last segment from lo to hi (inclusive) along the path in which a
 * transaction ends.
 */
PitrSegmentRow
pitr_model_last_xact_segment(const PitrArchiveInfo *a, const PitrPath *p,
							 XLogSegNo lo, XLogSegNo hi)
{
	PitrSegmentRow f = pitr_model_xact_segment(a, p, hi + 1, false, false, 0, true);

	if (f.valid && f.segno < lo)
		f.valid = false;
	return f;
}

/*
 * The first transaction end after a stop point, when the walk (which looks
 * a few segments past the stop) saw none: the index finds the next segment
 * where one ends.
 */
void
pitr_model_find_next_xact(const PitrArchiveInfo *a, const PitrPath *p,
						  XLogRecPtr stop_point, PitrXact *next)
{
	XLogSegNo	s = pitr_model_segno(a, stop_point);

	for (;;)
	{
		PitrSegmentRow f = pitr_model_xact_segment(a, p, s, true, false, 0, true);
		PitrStopQuery nq = {0};
		PitrWalkOutcome nw;

		CHECK_FOR_INTERRUPTS();
		if (!f.valid)
			return;
		nq.kind = PITR_STOP_LSN;
		nq.target_lsn = stop_point;
		nq.inclusive = false;
		pitr_model_walk(a, p, f.first_lsn, &nq, &nw);
		if (nw.next.valid)
		{
			*next = nw.next;
			return;
		}
		s = f.segno + 1;
	}
}
