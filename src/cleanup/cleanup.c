/*-------------------------------------------------------------------------
 *
 * cleanup.c
 *	  Post-restore cleanup: adding hooks, and running them, by hand
 *	  (run_cleanup) or for a restore (cleanup_run_automatic).
 *
 * Every hook runs in its own subtransaction, so a failing hook is reported
 * and undone alone.  A manual run lives in the caller's transaction.  An
 * automatic run commits each hook's effects together with its outcome row
 * in cleanup_run_hooks: after a crash the run is resumed and a hook that
 * has an outcome row is never run again.
 *
 * Only this code writes the extension's cleanup tables: run_cleanup is
 * SECURITY DEFINER, add_cleanup_hook is for superusers, and the worker is
 * one.  Queries here run with search_path pinned to pitr_restore's.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "access/xact.h"
#include "access/xlog.h"
#include "catalog/pg_type.h"
#include "commands/dbcommands.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/jsonb.h"
#include "utils/memutils.h"
#include "utils/resowner.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"

#include "cleanup.h"
#include "util/pitr_spi.h"
#include "util/subxact.h"

PG_FUNCTION_INFO_V1(pitr_add_cleanup_hook);
PG_FUNCTION_INFO_V1(pitr_validate_cleanup_hook);
PG_FUNCTION_INFO_V1(pitr_run_cleanup);

typedef struct HookDef
{
	char	   *name;
	char	   *action;
	Jsonb	   *options;
} HookDef;

typedef struct HookOutcome
{
	const char *status;			/* ok, failed, skipped, would run */
	int64		rows;			/* -1 when unknown */
	char	   *detail;
	Datum		duration;		/* interval */
} HookOutcome;

/* Pin search_path for pitr_restore's own queries; undo with AtEOXact_GUC. */
static int
pin_search_path(void)
{
	int			nestlevel = NewGUCNestLevel();

	(void) set_config_option("search_path", PITR_SEARCH_PATH,
							 PGC_USERSET, PGC_S_SESSION,
							 GUC_ACTION_SAVE, true, 0, false);
	return nestlevel;
}

/* Enabled hooks in run order, copied into cxt.  SPI must be connected. */
static List *
fetch_hooks(MemoryContext cxt)
{
	List	   *hooks = NIL;
	uint64		i;

	pitr_spi_check(SPI_execute("SELECT name, action, options "
						  "FROM pitr_restore.cleanup_hook WHERE enabled "
						  "ORDER BY run_order, name", true, 0),
				   0, "reading the cleanup hooks");
	for (i = 0; i < SPI_processed; i++)
	{
		HeapTuple	tup = SPI_tuptable->vals[i];
		TupleDesc	desc = SPI_tuptable->tupdesc;
		MemoryContext old = MemoryContextSwitchTo(cxt);
		HookDef    *h = palloc(sizeof(HookDef));
		bool		isnull;

		h->name = SPI_getvalue(tup, desc, 1);
		h->action = SPI_getvalue(tup, desc, 2);
		h->options = DatumGetJsonbPCopy(SPI_getbinval(tup, desc, 3, &isnull));
		hooks = lappend(hooks, h);
		MemoryContextSwitchTo(old);
	}
	return hooks;
}

/*
 * Run one hook in a subtransaction, the way plpgsql runs an exception
 * block: its errors become a "failed" outcome; a dry run is always rolled
 * back.  A query cancel is not a hook failure and is re-thrown.
 */
static void
run_one_hook(HookDef *h, bool dry_run, HookOutcome *out)
{
	MemoryContext oldcxt = CurrentMemoryContext;
	ResourceOwner oldowner = CurrentResourceOwner;
	TimestampTz start = GetCurrentTimestamp();

	BeginInternalSubTransaction(NULL);
	MemoryContextSwitchTo(oldcxt);

	PG_TRY();
	{
		char	   *detail;
		int64		rows;

		if (SPI_connect() != SPI_OK_CONNECT)
			elog(ERROR, "SPI_connect failed");
		rows = cleanup_execute(h->action, h->options, dry_run, &detail);
		out->detail = detail ? MemoryContextStrdup(oldcxt, detail) : NULL;
		out->rows = rows;
		SPI_finish();

		pitr_subxact_end(!dry_run, oldcxt, oldowner);
		out->status = dry_run ? "would run" : "ok";
	}
	PG_CATCH();
	{
		ErrorData  *edata = pitr_subxact_catch(oldcxt, oldowner);

		if (edata->sqlerrcode == ERRCODE_QUERY_CANCELED)
			ReThrowError(edata);
		out->status = "failed";
		out->rows = -1;
		out->detail = edata->detail ?
			psprintf("%s: %s", edata->message, edata->detail) :
			pstrdup(edata->message);
	}
	PG_END_TRY();

	out->duration = DirectFunctionCall2(timestamp_mi,
										TimestampTzGetDatum(GetCurrentTimestamp()),
										TimestampTzGetDatum(start));
}

static void
skipped_outcome(HookOutcome *out, const char *failed_hook)
{
	out->status = "skipped";
	out->rows = -1;
	out->detail = psprintf("not run: hook \"%s\" failed and has stop_on_error",
						   failed_hook);
	out->duration = DirectFunctionCall2(timestamp_mi, TimestampTzGetDatum(0),
										TimestampTzGetDatum(0));
}

/* Insert a run row, return its id.  SPI must be connected. */
static int64
start_run(const char *trigger, const char *restore_key, bool dry_run)
{
	Oid			types[3] = {TEXTOID, TEXTOID, BOOLOID};
	Datum		values[3];
	char		nulls[3] = {' ', ' ', ' '};
	bool		isnull;

	values[0] = CStringGetTextDatum(trigger);
	values[1] = restore_key ? CStringGetTextDatum(restore_key) : (Datum) 0;
	nulls[1] = restore_key ? ' ' : 'n';
	values[2] = BoolGetDatum(dry_run);
	pitr_spi_check(SPI_execute_with_args("INSERT INTO pitr_restore.cleanup_runs "
									"(trigger, restore_key, dry_run) "
									"VALUES ($1, $2, $3) RETURNING run_id",
									3, types, values, nulls, false, 0),
				   0, "recording a cleanup run");
	return DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0],
									   SPI_tuptable->tupdesc, 1, &isnull));
}

static void
record_outcome(int64 run_id, HookDef *h, HookOutcome *o)
{
	Oid			types[7] = {INT8OID, TEXTOID, TEXTOID, TEXTOID, INT8OID,
	TEXTOID, INTERVALOID};
	Datum		values[7];
	char		nulls[7] = {' ', ' ', ' ', ' ', ' ', ' ', ' '};

	values[0] = Int64GetDatum(run_id);
	values[1] = CStringGetTextDatum(h->name);
	values[2] = CStringGetTextDatum(h->action);
	values[3] = CStringGetTextDatum(o->status);
	values[4] = Int64GetDatum(o->rows);
	nulls[4] = o->rows < 0 ? 'n' : ' ';
	values[5] = o->detail ? CStringGetTextDatum(o->detail) : (Datum) 0;
	nulls[5] = o->detail ? ' ' : 'n';
	values[6] = o->duration;
	pitr_spi_check(SPI_execute_with_args("INSERT INTO pitr_restore.cleanup_run_hooks "
									"(run_id, hook, action, status, rows_affected, detail, duration) "
									"VALUES ($1, $2, $3, $4, $5, $6, $7)",
									7, types, values, nulls, false, 0),
				   0, "recording a hook's outcome");
}

/* Close a run: counts and the per-hook outcomes, in run order. */
static void
finish_run(int64 run_id)
{
	Oid			types[1] = {INT8OID};
	Datum		values[1];

	values[0] = Int64GetDatum(run_id);
	pitr_spi_check(SPI_execute_with_args(
									"UPDATE pitr_restore.cleanup_runs r SET finished_at = pg_catalog.clock_timestamp(), "
									"hooks_ok = s.ok, hooks_failed = s.failed, hooks_skipped = s.skipped, "
									"results = s.results FROM ("
									"SELECT count(*) FILTER (WHERE status IN ('ok', 'would run')) AS ok, "
									"count(*) FILTER (WHERE status = 'failed') AS failed, "
									"count(*) FILTER (WHERE status = 'skipped') AS skipped, "
									"COALESCE(pg_catalog.jsonb_agg(pg_catalog.jsonb_build_object("
									"'hook', hook, 'action', action, 'status', status, "
									"'rows_affected', rows_affected, 'detail', detail, "
									"'duration', duration) ORDER BY finished_at, hook), '[]') AS results "
									"FROM pitr_restore.cleanup_run_hooks WHERE run_id = $1) s "
									"WHERE r.run_id = $1",
									1, types, values, NULL, false, 0),
				   0, "finishing a cleanup run");
}

/*
 * add_cleanup_hook(name, action, options, run_order, description): check the
 * options now, then add the hook.  run_order defaults to after the last.
 */
Datum
pitr_add_cleanup_hook(PG_FUNCTION_ARGS)
{
	MemoryContext upper = CurrentMemoryContext;
	Oid			types[5] = {TEXTOID, INT4OID, TEXTOID, JSONBOID, TEXTOID};
	Datum		values[5];
	char		nulls[5] = {' ', ' ', ' ', ' ', ' '};
	char	   *name;
	char	   *action;
	Jsonb	   *options;
	TupleDesc	tupdesc;
	HeapTuple	result;
	Datum		cols[16];
	bool		colnulls[16];
	int			nestlevel;

	if (PG_ARGISNULL(0) || PG_ARGISNULL(1))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("cleanup hook name and action must not be null")));
	name = text_to_cstring(PG_GETARG_TEXT_PP(0));
	action = text_to_cstring(PG_GETARG_TEXT_PP(1));
	if (name[0] == '\0')
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("cleanup hook name must not be empty")));
	if (PG_ARGISNULL(2))
		options = DatumGetJsonbP(DirectFunctionCall1(jsonb_in, CStringGetDatum("{}")));
	else
		options = PG_GETARG_JSONB_P(2);
	if (get_call_result_type(fcinfo, NULL, &tupdesc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "return type must be a row type");
	tupdesc = BlessTupleDesc(tupdesc);
	if (tupdesc->natts > lengthof(cols))
		elog(ERROR, "unexpected cleanup_hook row type");

	/* names as the caller sees them, then our own search_path */
	options = cleanup_qualify_options(options);
	nestlevel = pin_search_path();
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	cleanup_validate(action, options);

	values[0] = CStringGetTextDatum(name);
	pitr_spi_check(SPI_execute_with_args("SELECT 1 FROM pitr_restore.cleanup_hook WHERE name OPERATOR(pg_catalog.=) $1",
									1, types, values, NULL, false, 0),
				   0, "looking up a cleanup hook");
	if (SPI_processed > 0)
		ereport(ERROR,
				(errcode(ERRCODE_DUPLICATE_OBJECT),
				 errmsg("cleanup hook \"%s\" already exists", name),
				 errhint("Remove it with DELETE FROM pitr_restore.cleanup_hook first, or pick another name.")));

	values[1] = PG_ARGISNULL(3) ? (Datum) 0 : PG_GETARG_DATUM(3);
	nulls[1] = PG_ARGISNULL(3) ? 'n' : ' ';
	values[2] = CStringGetTextDatum(action);
	values[3] = JsonbPGetDatum(options);
	values[4] = PG_ARGISNULL(4) ? (Datum) 0 : PG_GETARG_DATUM(4);
	nulls[4] = PG_ARGISNULL(4) ? 'n' : ' ';
	pitr_spi_check(SPI_execute_with_args("INSERT INTO pitr_restore.cleanup_hook "
									"(name, run_order, action, options, description) "
									"VALUES ($1, COALESCE($2, (SELECT COALESCE(max(run_order), 0) + 10 "
									"FROM pitr_restore.cleanup_hook)), $3, $4, $5) RETURNING *",
									5, types, values, nulls, false, 0),
				   0, "adding a cleanup hook");
	heap_deform_tuple(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, cols, colnulls);
	/* form the result where it outlives SPI's memory */
	{
		MemoryContext spicxt = MemoryContextSwitchTo(upper);

		result = heap_form_tuple(tupdesc, cols, colnulls);
		MemoryContextSwitchTo(spicxt);
	}
	SPI_finish();
	AtEOXact_GUC(true, nestlevel);
	PG_RETURN_DATUM(HeapTupleGetDatum(result));
}

/* validate_cleanup_hook(action, options): the checks of add_cleanup_hook. */
Datum
pitr_validate_cleanup_hook(PG_FUNCTION_ARGS)
{
	char	   *action = text_to_cstring(PG_GETARG_TEXT_PP(0));
	Jsonb	   *options = PG_GETARG_JSONB_P(1);

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	cleanup_validate(action, options);
	SPI_finish();
	PG_RETURN_VOID();
}

/*
 * run_cleanup(dry_run): run the enabled hooks in run order, in the caller's
 * transaction, one row per hook.
 */
Datum
pitr_run_cleanup(PG_FUNCTION_ARGS)
{
	bool		dry_run = PG_GETARG_BOOL(0);
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	MemoryContext cxt;
	List	   *hooks;
	ListCell   *lc;
	int64		run_id;
	const char *stopped_by = NULL;

	InitMaterializedSRF(fcinfo, 0);
	cxt = CurrentMemoryContext;
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");

	run_id = start_run(dry_run ? "manual dry run" : "manual", NULL, dry_run);
	hooks = fetch_hooks(cxt);
	foreach(lc, hooks)
	{
		HookDef    *h = lfirst(lc);
		HookOutcome o;
		Datum		values[6];
		bool		nulls[6] = {false, false, false, false, false, false};

		CHECK_FOR_INTERRUPTS();
		if (stopped_by != NULL)
			skipped_outcome(&o, stopped_by);
		else
		{
			run_one_hook(h, dry_run, &o);
			if (strcmp(o.status, "failed") == 0 && cleanup_stop_on_error(h->options))
				stopped_by = h->name;
		}
		record_outcome(run_id, h, &o);

		values[0] = CStringGetTextDatum(h->name);
		values[1] = CStringGetTextDatum(h->action);
		values[2] = CStringGetTextDatum(o.status);
		values[3] = Int64GetDatum(o.rows);
		nulls[3] = o.rows < 0;
		values[4] = o.detail ? CStringGetTextDatum(o.detail) : (Datum) 0;
		nulls[4] = o.detail == NULL;
		values[5] = o.duration;
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	finish_run(run_id);
	SPI_finish();
	return (Datum) 0;
}

static void
begin_xact(void)
{
	SetCurrentStatementStartTimestamp();
	StartTransactionCommand();
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	PushActiveSnapshot(GetTransactionSnapshot());
}

static void
end_xact(void)
{
	SPI_finish();
	PopActiveSnapshot();
	CommitTransactionCommand();
}

/*
 * An automatic run for a restore.  The run row is committed first; then each
 * hook is one transaction holding its effects and its outcome row; then the
 * run is closed and this cluster recorded as the database's home, which
 * consumes an import trigger.
 */
void
cleanup_run_automatic(const char *trigger, const char *restore_key)
{
	MemoryContext cxt = AllocSetContextCreate(TopMemoryContext,
											  "pitr_restore cleanup run",
											  ALLOCSET_DEFAULT_SIZES);
	Oid			types[2] = {INT8OID, TEXTOID};
	Datum		values[2];
	List	   *hooks;
	ListCell   *lc;
	int64		run_id;
	const char *stopped_by = NULL;
	bool		isnull;
	int			ran = 0;
	char	   *dbname;

	begin_xact();
	dbname = MemoryContextStrdup(cxt, get_database_name(MyDatabaseId));
	values[0] = CStringGetTextDatum(restore_key);
	pitr_spi_check(SPI_execute_with_args("SELECT run_id, finished_at IS NOT NULL "
									"FROM pitr_restore.cleanup_runs WHERE restore_key OPERATOR(pg_catalog.=) $1",
									1, &types[1], values, NULL, false, 0),
				   0, "looking up the last cleanup run");
	if (SPI_processed > 0 &&
		DatumGetBool(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2, &isnull)))
	{
		end_xact();
		return;					/* done already */
	}
	if (SPI_processed > 0)
	{
		run_id = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0],
											 SPI_tuptable->tupdesc, 1, &isnull));
		ereport(LOG,
				(errmsg("pitr_restore: resuming interrupted cleanup run " INT64_FORMAT " in database \"%s\"",
						run_id, dbname),
				 errdetail("The run follows %s (%s).", trigger, restore_key)));
	}
	else
	{
		run_id = start_run(trigger, restore_key, false);
		ereport(LOG,
				(errmsg("pitr_restore: running cleanup hooks in database \"%s\" after %s",
						dbname, trigger),
				 errdetail("Restore: %s.", restore_key)));
	}
	hooks = fetch_hooks(cxt);
	end_xact();

	foreach(lc, hooks)
	{
		HookDef    *h = lfirst(lc);
		HookOutcome o;

		CHECK_FOR_INTERRUPTS();
		begin_xact();
		values[0] = Int64GetDatum(run_id);
		values[1] = CStringGetTextDatum(h->name);
		pitr_spi_check(SPI_execute_with_args("SELECT status FROM pitr_restore.cleanup_run_hooks "
										"WHERE run_id OPERATOR(pg_catalog.=) $1 AND hook OPERATOR(pg_catalog.=) $2",
										2, types, values, NULL, false, 0),
					   0, "reading a hook's last outcome");
		if (SPI_processed > 0)
		{
			/* finished before an interruption: never again */
			char	   *status = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1);

			if (strcmp(status, "failed") == 0 && cleanup_stop_on_error(h->options))
				stopped_by = MemoryContextStrdup(cxt, h->name);
			end_xact();
			continue;
		}
		if (stopped_by != NULL)
			skipped_outcome(&o, stopped_by);
		else
		{
			run_one_hook(h, false, &o);
			ran++;
			if (strcmp(o.status, "failed") == 0)
			{
				ereport(WARNING,
						(errmsg("pitr_restore: cleanup hook \"%s\" failed: %s", h->name, o.detail)));
				if (cleanup_stop_on_error(h->options))
					stopped_by = MemoryContextStrdup(cxt, h->name);
			}
		}
		record_outcome(run_id, h, &o);
		end_xact();
	}

	begin_xact();
	finish_run(run_id);
	values[0] = Int64GetDatum((int64) GetSystemIdentifier());
	pitr_spi_check(SPI_execute_with_args("DELETE FROM pitr_restore.cluster_identity "
									"WHERE system_identifier OPERATOR(pg_catalog.<>) $1",
									1, types, values, NULL, false, 0),
				   0, "forgetting the cluster's identity");
	pitr_spi_check(SPI_execute_with_args("INSERT INTO pitr_restore.cluster_identity (system_identifier) "
									"SELECT $1 WHERE NOT EXISTS (SELECT FROM pitr_restore.cluster_identity "
									"WHERE system_identifier OPERATOR(pg_catalog.=) $1)",
									1, types, values, NULL, false, 0),
				   0, "recording the cluster's identity");
	end_xact();
	ereport(LOG,
			(errmsg("pitr_restore: cleanup run " INT64_FORMAT " finished in database \"%s\", %d hooks run",
					run_id, dbname, ran)));
	MemoryContextDelete(cxt);
}
