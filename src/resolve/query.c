/*-------------------------------------------------------------------------
 *
 * query.c
 *	  The index queries of src/resolve/ through one SPI connection per
 *	  call: fixed statements prepared once and kept across calls, their
 *	  columns read by number, and the snapshot they run on.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"
#include "utils/builtins.h"
#include "utils/pg_lsn.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"

#include "resolve/query.h"
#include "util/pitr_spi.h"

typedef struct ResolvePlan
{
	const char *sql;
	SPIPlanPtr	plan;
} ResolvePlan;

#define MAX_PLANS 48
static ResolvePlan plans[MAX_PLANS];
static int	nplans = 0;

/*
 * Read-only queries (ours and the walker's) run on the active snapshot:
 * after a query that may write (refreshing the index), a new one is pushed
 * that sees what it wrote.
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

void
pitr_resolve_query_begin(void)
{
	SPI_connect();
	/* an ERROR's abort pops the snapshot stack */
	snapshot_pushed = false;
}

void
pitr_resolve_query_end(void)
{
	if (snapshot_pushed)
		PopActiveSnapshot();
	snapshot_pushed = false;
	SPI_finish();
}

static SPIPlanPtr
plan_for(const char *sql, int nargs, const Oid *types)
{
	SPIPlanPtr	plan;

	for (int i = 0; i < nplans; i++)
		if (plans[i].sql == sql)
			return plans[i].plan;
	plan = pitr_spi_prepare(sql, nargs, types, nplans < MAX_PLANS);
	if (nplans < MAX_PLANS)
	{
		plans[nplans].sql = sql;
		plans[nplans].plan = plan;
		nplans++;
	}
	return plan;
}

uint64
pitr_resolve_query(const char *sql, int nargs, const Oid *types,
				   const Datum *values, const char *nulls, bool read_only,
				   long limit)
{
	SPIPlanPtr	plan = plan_for(sql, nargs, types);
	int			ret;
	uint64		n;

	ret = SPI_execute_plan(plan, (Datum *) values, nulls, read_only, limit);
	pitr_spi_check(ret, 0, "querying the archive index");
	n = SPI_processed;
	if (!read_only)
		fresh_snapshot();
	return n;
}

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

XLogRecPtr
pitr_resolve_col_lsn(int row, int col)
{
	return pitr_resolve_col_null(row, col) ? InvalidXLogRecPtr :
		DatumGetLSN(pitr_resolve_col(row, col));
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
