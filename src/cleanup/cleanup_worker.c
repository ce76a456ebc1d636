/*-------------------------------------------------------------------------
 *
 * cleanup_worker.c
 *	  The background workers that run the cleanup hooks once after a
 *	  restore, and their settings.
 *
 * With shared_preload_libraries = 'pitr_restore', a launcher starts when
 * the server finishes recovery, lists the databases and starts, one after
 * the other, a worker in each.  That worker does nothing unless the
 * database has the extension and came out of a restore that has not been
 * cleaned up yet: a marker file or a point-in-time recovery (see
 * cleanup_trigger.c), or an import from another cluster (the system
 * identifier recorded in pitr_restore.cluster_identity is not ours).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "access/heapam.h"
#include "access/table.h"
#include "access/tableam.h"
#include "access/xact.h"
#include "access/xlog.h"
#include "catalog/pg_database.h"
#include "catalog/pg_type.h"
#include "commands/dbcommands.h"
#include "commands/extension.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "postmaster/bgworker.h"
#include "storage/ipc.h"
#include "tcop/tcopprot.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/memutils.h"
#include "utils/snapmgr.h"
#include "utils/varlena.h"

#include "cleanup.h"
#include "util/gucs.h"

bool		pitr_cleanup_on_restore = true;
char	   *pitr_cleanup_databases = NULL;

PGDLLEXPORT void pitr_cleanup_launcher_main(Datum main_arg);
PGDLLEXPORT void pitr_cleanup_db_main(Datum main_arg);

static void
fill_worker(BackgroundWorker *w, const char *function, const char *name)
{
	memset(w, 0, sizeof(BackgroundWorker));
	w->bgw_flags = BGWORKER_SHMEM_ACCESS | BGWORKER_BACKEND_DATABASE_CONNECTION;
	w->bgw_start_time = BgWorkerStart_RecoveryFinished;
	/* an interrupted run is resumed at the next start, not in a loop */
	w->bgw_restart_time = BGW_NEVER_RESTART;
	strlcpy(w->bgw_library_name, "pitr_restore", BGW_MAXLEN);
	strlcpy(w->bgw_function_name, function, BGW_MAXLEN);
	strlcpy(w->bgw_name, name, BGW_MAXLEN);
	strlcpy(w->bgw_type, "pitr_restore cleanup", BGW_MAXLEN);
}

void
pitr_cleanup_init(void)
{
	BackgroundWorker w;

	DefineCustomBoolVariable("pitr_restore.cleanup_on_restore",
							 "Runs the cleanup hooks once after each restore or import.",
							 "Needs shared_preload_libraries = 'pitr_restore'.",
							 &pitr_cleanup_on_restore,
							 true,
							 PGC_SIGHUP,
							 0,
							 NULL, NULL, NULL);

	DefineCustomStringVariable("pitr_restore.cleanup_databases",
							   "Databases in which the cleanup hooks run after a restore.",
							   "A comma-separated list; empty means every database "
							   "that has the extension.",
							   &pitr_cleanup_databases,
							   "",
							   PGC_SIGHUP,
							   GUC_LIST_INPUT,
							   NULL, NULL, NULL);

	if (!process_shared_preload_libraries_in_progress)
		return;
	fill_worker(&w, "pitr_cleanup_launcher_main", "pitr_restore cleanup launcher");
	RegisterBackgroundWorker(&w);
}

/* Whether pitr_restore.cleanup_databases lets the hooks run in dbname. */
static bool
database_allowed(const char *dbname)
{
	char	   *raw;
	List	   *names;
	ListCell   *lc;

	if (pitr_cleanup_databases == NULL || pitr_cleanup_databases[0] == '\0')
		return true;
	raw = pstrdup(pitr_cleanup_databases);
	if (!SplitIdentifierString(raw, ',', &names))
	{
		ereport(WARNING,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid list syntax in \"pitr_restore.cleanup_databases\"")));
		return false;
	}
	foreach(lc, names)
		if (strcmp(lfirst(lc), dbname) == 0)
			return true;
	return false;
}

/* Databases one can connect to, templates aside. */
static List *
list_databases(void)
{
	List	   *result = NIL;
	MemoryContext cxt = CurrentMemoryContext;
	Relation	rel;
	TableScanDesc scan;
	HeapTuple	tup;

	StartTransactionCommand();
	(void) GetTransactionSnapshot();
	rel = table_open(DatabaseRelationId, AccessShareLock);
	scan = table_beginscan_catalog(rel, 0, NULL);
	while ((tup = heap_getnext(scan, ForwardScanDirection)) != NULL)
	{
		Form_pg_database db = (Form_pg_database) GETSTRUCT(tup);

		CHECK_FOR_INTERRUPTS();
		if (!db->datallowconn || db->datistemplate)
			continue;
		result = lappend(result, MemoryContextStrdup(cxt, NameStr(db->datname)));
	}
	table_endscan(scan);
	table_close(rel, AccessShareLock);
	CommitTransactionCommand();
	return result;
}

/* The launcher: one worker per database, one at a time (they are short). */
void
pitr_cleanup_launcher_main(Datum main_arg)
{
	List	   *dbs;
	ListCell   *lc;

	pqsignal(SIGTERM, die);
	BackgroundWorkerUnblockSignals();
	if (!pitr_cleanup_on_restore)
		proc_exit(0);

	BackgroundWorkerInitializeConnection(NULL, NULL, 0);
	dbs = list_databases();
	foreach(lc, dbs)
	{
		const char *dbname = lfirst(lc);
		BackgroundWorker w;
		BackgroundWorkerHandle *handle;

		CHECK_FOR_INTERRUPTS();
		if (!database_allowed(dbname))
			continue;
		fill_worker(&w, "pitr_cleanup_db_main",
					psprintf("pitr_restore cleanup in database %s", dbname));
		strlcpy(w.bgw_extra, dbname, BGW_EXTRALEN);
		w.bgw_notify_pid = MyProcPid;
		if (!RegisterDynamicBackgroundWorker(&w, &handle))
		{
			ereport(WARNING,
					(errcode(ERRCODE_CONFIGURATION_LIMIT_EXCEEDED),
					 errmsg("pitr_restore: could not start the cleanup worker for database \"%s\"", dbname),
					 errhint("Raise \"max_worker_processes\"; the hooks run at the next start.")));
			continue;
		}
		if (WaitForBackgroundWorkerShutdown(handle) == BGWH_POSTMASTER_DIED)
			proc_exit(1);
	}
	proc_exit(0);
}

typedef enum RunState
{
	RUN_NONE,
	RUN_UNFINISHED,
	RUN_FINISHED
} RunState;

/* Whether this database has a run for the restore key.  SPI is connected. */
static RunState
run_state(const char *key)
{
	Oid			types[1] = {TEXTOID};
	Datum		values[1];
	bool		isnull;

	values[0] = CStringGetTextDatum(key);
	if (SPI_execute_with_args("SELECT finished_at IS NOT NULL FROM pitr_restore.cleanup_runs "
							  "WHERE restore_key OPERATOR(pg_catalog.=) $1",
							  1, types, values, NULL, true, 0) != SPI_OK_SELECT)
		elog(ERROR, "SPI_execute_with_args failed");
	if (SPI_processed == 0)
		return RUN_NONE;
	return DatumGetBool(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc,
									  1, &isnull)) ? RUN_FINISHED : RUN_UNFINISHED;
}

/*
 * Whether to run (or resume) the hooks for a restore key: a fresh one that
 * has not been cleaned up after, or one whose run was interrupted.  Stale
 * evidence (a marker or history file this server's recovery did not
 * produce, maybe written by anyone who may write server files) is logged
 * and ignored.
 */
static bool
key_pending(const char *key, bool fresh, const char *what)
{
	RunState	state = run_state(key);

	if (state == RUN_UNFINISHED || (state == RUN_NONE && fresh))
		return true;
	if (state == RUN_NONE)
		ereport(LOG,
				(errmsg("pitr_restore: ignoring %s in database \"%s\": no recovery of this server shows it",
						what, get_database_name(MyDatabaseId)),
				 errdetail("Restore key: %s.", key),
				 errhint("The hooks run after a restore only when the server's current timeline was "
						 "created by a recovery that ended after the server started and after the "
						 "marker was written; run pitr_restore.run_cleanup() to run them by hand.")));
	return false;
}

/*
 * The restore this database has not been cleaned up after, or NULL.  SPI is
 * connected; the result is allocated in cxt.
 */
static char *
pending_restore(MemoryContext cxt, const char **trigger)
{
	Oid			types[1] = {INT8OID};
	Datum		values[1];
	bool		fresh;
	bool		isnull;
	char	   *key;
	Datum		old;

	if ((key = cleanup_marker_key(&fresh)) != NULL &&
		key_pending(key, fresh, "marker file \"" PITR_RESTORE_MARKER_FILE "\""))
	{
		*trigger = CLEANUP_TRIGGER_MARKER;
		return MemoryContextStrdup(cxt, key);
	}
	if ((key = cleanup_pitr_key(&fresh)) != NULL &&
		key_pending(key, fresh, "the current timeline's history file"))
	{
		*trigger = CLEANUP_TRIGGER_PITR;
		return MemoryContextStrdup(cxt, key);
	}

	values[0] = Int64GetDatum((int64) GetSystemIdentifier());
	if (SPI_execute_with_args("SELECT min(system_identifier) FROM pitr_restore.cluster_identity "
							  "WHERE system_identifier OPERATOR(pg_catalog.<>) $1",
							  1, types, values, NULL, true, 0) != SPI_OK_SELECT)
		elog(ERROR, "SPI_execute_with_args failed");
	old = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull);
	if (isnull)
		return NULL;
	*trigger = "import from another cluster";
	return MemoryContextStrdup(cxt,
							   psprintf("import: system identifier " INT64_FORMAT " into " INT64_FORMAT,
										DatumGetInt64(old), (int64) GetSystemIdentifier()));
}

/* The worker of one database. */
void
pitr_cleanup_db_main(Datum main_arg)
{
	char		dbname[NAMEDATALEN];
	const char *trigger = NULL;
	char	   *key = NULL;

	strlcpy(dbname, MyBgworkerEntry->bgw_extra, NAMEDATALEN);
	pqsignal(SIGTERM, die);
	BackgroundWorkerUnblockSignals();
	BackgroundWorkerInitializeConnection(dbname, NULL, 0);
	pgstat_report_appname("pitr_restore cleanup");

	/*
	 * The worker is a superuser: no object a database owner put on the
	 * database's search_path (ALTER DATABASE ... SET search_path) may be
	 * reached from its queries.  This beats the database's setting.
	 */
	SetConfigOption("search_path", PITR_SEARCH_PATH, PGC_SUSET, PGC_S_SESSION);

	SetCurrentStatementStartTimestamp();
	StartTransactionCommand();
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	PushActiveSnapshot(GetTransactionSnapshot());
	/* most databases do not have the extension: leave them alone */
	if (OidIsValid(get_extension_oid("pitr_restore", true)))
		key = pending_restore(TopMemoryContext, &trigger);
	SPI_finish();
	PopActiveSnapshot();
	CommitTransactionCommand();

	if (key != NULL)
		cleanup_run_automatic(trigger, key);
	else
		elog(DEBUG1, "pitr_restore: nothing to clean up in database \"%s\"", dbname);
	proc_exit(0);
}
