/*-------------------------------------------------------------------------
 *
 * xact_segment.c
 *	  The recovery model's search for the nearest segment of a path that
 *	  ends a transaction: one indexed lookup per stretch of the path that a
 *	  timeline serves (model.c's rule), nearest stretch first, so it costs
 *	  the same at a terabyte of WAL as at a gigabyte.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "utils/timestamp.h"

#include "resolve/model.h"
#include "resolve/query.h"
#include "util/pitr_spi.h"

/* The columns every lookup returns, in the order row_of() reads them. */
#define XACT_COLUMNS \
	"SELECT af.segno, af.first_lsn, af.next_lsn, af.max_commit_time " \
	"FROM pitr_restore.archive_file af " \
	"WHERE af.archive_id OPERATOR(pg_catalog.=) $1 " \
	"AND af.timeline OPERATOR(pg_catalog.=) $2 " \
	"AND af.kind OPERATOR(pg_catalog.=) 'segment' " \
	"AND af.commits OPERATOR(pg_catalog.+) af.aborts OPERATOR(pg_catalog.>) 0 " \
	"AND af.segno OPERATOR(pg_catalog.>=) $3 " \
	"AND af.segno OPERATOR(pg_catalog.<) $4 "

/* Read whole, or readable up to the damage. */
#define READABLE \
	"AND af.status OPERATOR(pg_catalog.=) ANY ('{ok,corrupt}'::pg_catalog.text[]) "

/* Readable segments from $3 up to $4, the first. */
static const char Q_FORWARD[] =
XACT_COLUMNS
READABLE
"ORDER BY af.segno LIMIT 1";

/* Any segment from $3 up to $4, the last (what precedes a point). */
static const char Q_BACKWARD[] =
XACT_COLUMNS
"ORDER BY af.segno DESC LIMIT 1";

/*
 * Readable segments from $3 up to $4 ending a transaction past $5, the
 * first in segment order, or (ANY_ORDER) any: segno + 0 keeps the planner
 * from reading them all in segment order, so the index by commit time
 * finds the few past $5 whatever the archive's size.
 */
#define PAST_TIME(op, order) \
	XACT_COLUMNS READABLE \
	"AND af.max_commit_time OPERATOR(pg_catalog." op ") $5 " \
	"ORDER BY af.segno" order " LIMIT 1"

static const char *const Q_PAST_TIME[2][2] = {
	/* not inclusive: recovery stops before an end at t, so it counts */
	{PAST_TIME(">=", ""), PAST_TIME(">=", " OPERATOR(pg_catalog.+) 0")},
	/* inclusive: only ends after t */
	{PAST_TIME(">", ""), PAST_TIME(">", " OPERATOR(pg_catalog.+) 0")},
};

/* The nearest segments in order first, before the index by commit time. */
#define NEAR_SEGMENTS 1024

static const Oid lookup_types[5] = {INT4OID, INT4OID, INT8OID, INT8OID,
TIMESTAMPTZOID};

/* The first row of the lookup just run, if any. */
static PitrSegmentRow
row_of(uint64 nrows)
{
	PitrSegmentRow f = {0};

	if (nrows == 0)
		return f;
	f.valid = true;
	f.segno = (XLogSegNo) DatumGetInt64(pitr_resolve_col(0, 1));
	f.first_lsn = pitr_resolve_col_lsn(0, 2);
	f.next_lsn = pitr_resolve_col_lsn(0, 3);
	f.has_max_time = !pitr_resolve_col_null(0, 4);
	if (f.has_max_time)
		f.max_commit_time = DatumGetTimestampTz(pitr_resolve_col(0, 4));
	return f;
}

/* One of the fixed lookups over segments lo to hi (exclusive) of tli. */
static PitrSegmentRow
lookup(const char *sql, const PitrArchiveInfo *a, TimeLineID tli,
	   int64 lo, int64 hi)
{
	Datum		v[4];

	v[0] = Int32GetDatum(a->id);
	v[1] = Int32GetDatum((int32) tli);
	v[2] = Int64GetDatum(lo);
	v[3] = Int64GetDatum(hi);
	return row_of(pitr_resolve_query(sql, 4, lookup_types, v, NULL, true, 1));
}

/*
 * A lookup by commit time, planned for this t (as PL/pgSQL's EXECUTE
 * would): a plan kept for any t may not choose the index by commit time.
 */
static PitrSegmentRow
lookup_past(const char *sql, const PitrArchiveInfo *a, TimeLineID tli,
			int64 lo, int64 hi, TimestampTz t)
{
	Datum		v[5];

	v[0] = Int32GetDatum(a->id);
	v[1] = Int32GetDatum((int32) tli);
	v[2] = Int64GetDatum(lo);
	v[3] = Int64GetDatum(hi);
	v[4] = TimestampTzGetDatum(t);
	pitr_spi_check(SPI_execute_with_args(sql, 5, (Oid *) lookup_types, v,
										 NULL, true, 1),
				   SPI_OK_SELECT, "querying the archive index");
	return row_of(SPI_processed);
}

/*
 * The first segment from lo to hi of tli that ends a transaction past t:
 * the nearest NEAR_SEGMENTS in order (commit times are past t from some
 * point on, usually soon), then the index by commit time beyond them.
 */
static PitrSegmentRow
first_past(const PitrArchiveInfo *a, TimeLineID tli, int64 lo, int64 hi,
		   TimestampTz t, bool incl)
{
	const char *const *q = Q_PAST_TIME[incl ? 1 : 0];
	int64		near = Min(hi, lo + NEAR_SEGMENTS);
	PitrSegmentRow f = lookup_past(q[0], a, tli, lo, near, t);

	if (!f.valid && near < hi)
		f = lookup_past(q[1], a, tli, near, hi, t);
	return f;
}

/*
 * The nearest segment of the path from segment s on (forward) or before it
 * that holds a transaction end, past time t when given: ends at t count
 * when not incl (recovery stops before them).
 */
PitrSegmentRow
pitr_model_xact_segment(const PitrArchiveInfo *a, const PitrPath *p,
						XLogSegNo s, bool forward, bool has_t, TimestampTz t,
						bool incl)
{
	PitrSegmentRow f = {0};

	for (int k = 0; k < p->n && !f.valid; k++)
	{
		int			i = forward ? k : p->n - 1 - k;
		int64		lo,
					hi;

		pitr_model_path_range(a, p, i, &lo, &hi);
		if (forward)
		{
			lo = Max(lo, (int64) s);
			if (lo >= hi)
				continue;
			f = has_t ? first_past(a, p->tli[i], lo, hi, t, incl)
				: lookup(Q_FORWARD, a, p->tli[i], lo, hi);
		}
		else
		{
			hi = Min(hi, (int64) s);
			if (lo >= hi)
				continue;
			f = lookup(Q_BACKWARD, a, p->tli[i], lo, hi);
		}
	}
	return f;
}
