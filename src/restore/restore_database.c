/*-------------------------------------------------------------------------
 *
 * restore_database.c
 *	  restore_database(): a whole database as it was at a recovery target,
 *	  as a new database of this server owned by the caller, while
 *	  everything else keeps running.
 *
 * The target is resolved and the side server built and paused there as
 * restore_table's (side_restore.c).  The source database's encoding and
 * locale are read there; then background workers (database_worker.c),
 * each as the caller: one runs CREATE DATABASE ... TEMPLATE template0
 * top-level (it cannot run in the caller's transaction), one connected to
 * the new database loads it from the side server (database_load.c).  The
 * new database is committed by its own worker, so the caller's ROLLBACK
 * does not undo it; any failure on the way (an ERROR, a cancel, the
 * backend's exit) drops it again, from another worker, and the side
 * server is always stopped and removed.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "commands/dbcommands.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "storage/ipc.h"
#include "utils/builtins.h"
#include "utils/pg_lsn.h"
#include "utils/timestamp.h"

#include "restore/database_worker.h"
#include "restore/side_restore.h"
#include "util/privilege.h"

PG_FUNCTION_INFO_V1(pitr_restore_database);

/* The run_hooks argument, after the two names and the target arguments. */
#define ARG_RUN_HOOKS (2 + PITR_SIDE_NTARGET)

/*
 * A new database not finished yet: dropped by a worker if the backend
 * exits before restore_database ends (its own ERROR drops it itself).
 */
static struct
{
	bool		pending;
	Oid			connect_db;
	Oid			role;
	Oid			oid;
	NameData	name;
}			half_built;
static bool exit_callback_registered = false;

static void
half_built_exit(int code, Datum arg)
{
	if (half_built.pending)
		(void) pitr_dbtask_drop(half_built.connect_db, half_built.role,
								NameStr(half_built.name), half_built.oid, false);
	half_built.pending = false;
}

/* Drop the half-built database now, waiting; never throws. */
static void
drop_half_built(void)
{
	if (!half_built.pending)
		return;
	half_built.pending = false;
	if (!pitr_dbtask_drop(half_built.connect_db, half_built.role,
						  NameStr(half_built.name), half_built.oid, true))
		elog(LOG, "pitr_restore: could not start a worker to drop the half-built database \"%s\"",
			 NameStr(half_built.name));
}

/*
 * CREATE DATABASE new_name with the source's encoding and locale as they
 * were at the target; an ERROR if the source did not exist then.
 */
static char *
create_statement(PitrSideServer *s, const char *source, const char *new_name)
{
	StringInfoData sql;
	PGresult   *res;
	const char *provider;

	res = pitr_side_query(s, psprintf(
									  "SELECT pg_encoding_to_char(d.encoding), d.datcollate, d.datctype, "
									  "  j->>'datlocprovider', coalesce(j->>'datlocale', j->>'daticulocale'), "
									  "  d.datallowconn "
									  "FROM pg_database d, LATERAL to_jsonb(d) j WHERE d.datname = %s",
									  quote_literal_cstr(source)),
						  PGRES_TUPLES_OK);
	if (PQntuples(res) == 0)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_DATABASE),
				 errmsg("database \"%s\" did not exist at the target", source)));
	if (strcmp(PQgetvalue(res, 0, 5), "t") != 0)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("database \"%s\" did not allow connections at the target", source)));
	initStringInfo(&sql);
	appendStringInfo(&sql, "CREATE DATABASE %s TEMPLATE template0 ENCODING %s "
					 "LC_COLLATE %s LC_CTYPE %s",
					 quote_identifier(new_name), quote_literal_cstr(PQgetvalue(res, 0, 0)),
					 quote_literal_cstr(PQgetvalue(res, 0, 1)),
					 quote_literal_cstr(PQgetvalue(res, 0, 2)));
	provider = PQgetisnull(res, 0, 3) ? "c" : PQgetvalue(res, 0, 3);
	if (provider[0] == 'i')
		appendStringInfo(&sql, " LOCALE_PROVIDER icu ICU_LOCALE %s",
						 quote_literal_cstr(PQgetvalue(res, 0, 4)));
	else if (provider[0] == 'b')
		appendStringInfo(&sql, " LOCALE_PROVIDER builtin BUILTIN_LOCALE %s",
						 quote_literal_cstr(PQgetvalue(res, 0, 4)));
	else
		appendStringInfoString(&sql, " LOCALE_PROVIDER libc");
	PQclear(res);
	if (sql.len >= sizeof(((PitrDbTask *) NULL)->create_sql))
		elog(ERROR, "CREATE DATABASE statement too long");
	return sql.data;
}

static PitrDbTask *
new_task(PitrDbTaskKind kind, Oid dboid, Oid role, const char *new_name)
{
	PitrDbTask *t = palloc0(sizeof(PitrDbTask));

	t->args.kind = kind;
	t->args.dboid = dboid;
	t->args.roleoid = role;
	namestrcpy(&t->args.target_name, new_name);
	return t;
}

/* Create the new database, then load it; the half-built one is recorded. */
static void
create_and_load(PitrSideServer *s, const char *source, const char *new_name,
				bool hooks, XLogRecPtr stop_lsn, PitrDbTask *load)
{
	Oid			caller = pitr_priv_caller();
	PitrDbTask *create = new_task(PITR_DBTASK_CREATE, MyDatabaseId, caller, new_name);

	strlcpy(create->create_sql, create_statement(s, source, new_name),
			sizeof(create->create_sql));
	ereport(NOTICE, (errmsg("creating database %s", quote_identifier(new_name))));
	PG_TRY();
	{
		pitr_dbtask_run(create, "pitr_restore create worker");
	}
	PG_FINALLY();
	{
		if (OidIsValid(create->created_oid))
		{
			half_built.connect_db = MyDatabaseId;
			half_built.role = caller;
			half_built.oid = create->created_oid;
			namestrcpy(&half_built.name, new_name);
			half_built.pending = true;
		}
	}
	PG_END_TRY();

	load->args.kind = PITR_DBTASK_LOAD;
	load->args.dboid = create->created_oid;
	load->args.roleoid = caller;
	namestrcpy(&load->args.target_name, new_name);
	strlcpy(load->side_dir, s->dir, sizeof(load->side_dir));
	load->side_port = s->port;
	namestrcpy(&load->source, source);
	load->run_hooks = hooks;
	snprintf(load->restore_key, sizeof(load->restore_key),
			 "restore_database %s into %s at %X/%X, %s", source, new_name,
			 LSN_FORMAT_ARGS(stop_lsn), timestamptz_to_str(GetCurrentTimestamp()));
	pitr_dbtask_run(load, "pitr_restore load worker");
	half_built.pending = false;
}

/*
 * restore_database(database, new_name, <target arguments>, run_hooks):
 * the body, run as the extension's owner; the workers run as the caller.
 */
Datum
pitr_restore_database(PG_FUNCTION_ARGS)
{
	const char *source;
	const char *new_name;
	bool		hooks;
	TupleDesc	tupdesc;
	Datum		values[PITR_SIDE_NRESOLUTION + 2];
	bool		nulls[PITR_SIDE_NRESOLUTION + 2];
	int64		backup_bytes;
	PitrSideServer *s;
	PitrDbTask *load = palloc0(sizeof(PitrDbTask));

	tupdesc = pitr_side_call_start(fcinfo, "database");
	source = pstrdup(NameStr(*PG_GETARG_NAME(0)));
	new_name = pstrdup(NameStr(*PG_GETARG_NAME(1)));
	hooks = !PG_ARGISNULL(ARG_RUN_HOOKS) && PG_GETARG_BOOL(ARG_RUN_HOOKS);
	if (OidIsValid(get_database_oid(new_name, true)))
		ereport(ERROR,
				(errcode(ERRCODE_DUPLICATE_DATABASE),
				 errmsg("database \"%s\" already exists", new_name)));
	if (!exit_callback_registered)
	{
		before_shmem_exit(half_built_exit, (Datum) 0);
		exit_callback_registered = true;
	}

	SPI_connect();
	pitr_side_resolve(fcinfo, values, nulls, &backup_bytes);
	s = pitr_side_create();
	PG_TRY();
	{
		/* template1: the source may be the one that is missing */
		pitr_side_build(fcinfo, s, backup_bytes, "template1");
		create_and_load(s, source, new_name, hooks,
						nulls[0] ? InvalidXLogRecPtr : DatumGetLSN(values[0]), load);
	}
	PG_CATCH();
	{
		HOLD_INTERRUPTS();
		drop_half_built();
		pitr_side_destroy(s);
		RESUME_INTERRUPTS();
		PG_RE_THROW();
	}
	PG_END_TRY();
	pitr_side_destroy(s);
	ereport(NOTICE, (errmsg("side server stopped and removed")));
	SPI_finish();

	values[PITR_SIDE_NRESOLUTION] = Int64GetDatum(load->tables);
	values[PITR_SIDE_NRESOLUTION + 1] = Int64GetDatum(load->rows);
	nulls[PITR_SIDE_NRESOLUTION] = nulls[PITR_SIDE_NRESOLUTION + 1] = false;
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(BlessTupleDesc(tupdesc), values, nulls)));
}
