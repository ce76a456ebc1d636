/*-------------------------------------------------------------------------
 *
 * database_worker.c
 *	  restore_database's background workers: CREATE DATABASE and DROP
 *	  DATABASE run top-level, each in a transaction of its own, in a worker
 *	  connected to the caller's database as the caller; the load runs in a
 *	  worker connected to the new database as the caller (database_load.c).
 *
 * CREATE and DROP DATABASE refuse to run inside a transaction block or a
 * function (PreventInTransactionBlock), and a libpq connection back to
 * this server would need authentication pitr_restore does not control.
 * A dynamic background worker connects without one, as the role the
 * backend names (BackgroundWorkerInitializeConnectionByOid), and runs the
 * statement as exec_simple_query would: parsed, then ProcessUtility at
 * top level with a snapshot, then committed.
 *
 * A create or load worker shares a PitrDbTask and a queue with the
 * backend (one dynamic shared memory segment).  Its messages (NOTICE,
 * ERROR ...) go through the queue in the frontend/backend protocol
 * (pqmq.c) and are raised again in the backend with their SQLSTATE; an
 * ERROR or cancel in the backend terminates the worker and waits for it.
 * A drop worker is told everything in its bgw_extra, so a backend that
 * exits can still launch one and leave it to run.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"
#include "commands/dbcommands.h"
#include "libpq/pqmq.h"
#include "miscadmin.h"
#include "parser/parser.h"
#include "pgstat.h"
#include "postmaster/bgworker.h"
#include "storage/dsm.h"
#include "storage/ipc.h"
#include "storage/latch.h"
#include "storage/proc.h"
#include "storage/procsignal.h"
#include "storage/shm_mq.h"
#include "tcop/utility.h"
#include "utils/builtins.h"
#include "utils/snapmgr.h"

#include "restore/database_worker.h"
#include "util/worker_message.h"

#define QUEUE_SIZE		(64 * 1024)

StaticAssertDecl(sizeof(PitrDbWorkerArgs) <= BGW_EXTRALEN,
				 "a worker's arguments must fit in bgw_extra");

/* A worker of ours, connected to a database, started once. */
static void
init_worker(BackgroundWorker *w, const PitrDbWorkerArgs *args, const char *what,
			dsm_segment *seg, bool notify)
{
	memset(w, 0, sizeof(*w));
	w->bgw_flags = BGWORKER_SHMEM_ACCESS | BGWORKER_BACKEND_DATABASE_CONNECTION;
	w->bgw_start_time = BgWorkerStart_RecoveryFinished;
	w->bgw_restart_time = BGW_NEVER_RESTART;
	snprintf(w->bgw_library_name, BGW_MAXLEN, "pitr_restore");
	snprintf(w->bgw_function_name, BGW_MAXLEN, "pitr_database_worker_main");
	snprintf(w->bgw_name, BGW_MAXLEN, "%s for PID %d", what, MyProcPid);
	snprintf(w->bgw_type, BGW_MAXLEN, "pitr_restore database worker");
	w->bgw_main_arg = UInt32GetDatum(seg ? dsm_segment_handle(seg) : 0);
	memcpy(w->bgw_extra, args, sizeof(PitrDbWorkerArgs));
	w->bgw_notify_pid = notify ? MyProcPid : 0;
}

static void
no_slot(void)
{
	ereport(ERROR,
			(errcode(ERRCODE_INSUFFICIENT_RESOURCES),
			 errmsg("could not start a background worker for restore_database"),
			 errhint("Raise max_worker_processes: restore_database needs one free background worker slot.")));
}

/*
 * Wait until the worker has exited, interrupts held (on the way out of an
 * ERROR), still answering barriers: DROP DATABASE waits for every backend
 * to absorb one, this one included.
 */
static void
wait_shutdown(BackgroundWorkerHandle *handle)
{
	pid_t		pid;

	while (GetBackgroundWorkerPid(handle, &pid) != BGWH_STOPPED)
	{
		(void) WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH,
						 100L, PG_WAIT_EXTENSION);
		ResetLatch(MyLatch);
		if (ProcSignalBarrierPending)
			ProcessProcSignalBarrier();
	}
}

/* Raise what the worker sends until it detaches (it exited). */
static void
relay_messages(shm_mq_handle *mqh, const char *what)
{
	for (;;)
	{
		Size		len;
		void	   *data;
		shm_mq_result res = shm_mq_receive(mqh, &len, &data, true);

		if (res == SHM_MQ_SUCCESS)
		{
			if (pitr_is_worker_message(data, len))
				pitr_raise_worker_message(data, len, what);
			continue;
		}
		if (res == SHM_MQ_DETACHED)
			return;
		(void) WaitLatch(MyLatch, WL_LATCH_SET | WL_EXIT_ON_PM_DEATH, -1L,
						 PG_WAIT_EXTENSION);
		ResetLatch(MyLatch);
		CHECK_FOR_INTERRUPTS();
	}
}

void
pitr_dbtask_run(PitrDbTask *task, const char *what)
{
	Size		off = MAXALIGN(sizeof(PitrDbTask));
	dsm_segment *seg = dsm_create(off + QUEUE_SIZE, 0);
	PitrDbTask *shared = dsm_segment_address(seg);
	shm_mq	   *mq;
	shm_mq_handle *mqh;
	BackgroundWorker w;
	BackgroundWorkerHandle *handle;

	memcpy(shared, task, sizeof(PitrDbTask));
	shared->done = false;
	shared->created_oid = InvalidOid;
	mq = shm_mq_create((char *) shared + off, QUEUE_SIZE);
	shm_mq_set_receiver(mq, MyProc);
	mqh = shm_mq_attach(mq, seg, NULL);
	init_worker(&w, &task->args, what, seg, true);
	if (!RegisterDynamicBackgroundWorker(&w, &handle))
		no_slot();
	shm_mq_set_handle(mqh, handle);

	PG_TRY();
	{
		relay_messages(mqh, what);
	}
	PG_CATCH();
	{
		HOLD_INTERRUPTS();
		TerminateBackgroundWorker(handle);
		wait_shutdown(handle);
		task->created_oid = shared->created_oid;
		RESUME_INTERRUPTS();
		PG_RE_THROW();
	}
	PG_END_TRY();
	(void) WaitForBackgroundWorkerShutdown(handle);
	memcpy(task, shared, sizeof(PitrDbTask));
	dsm_detach(seg);
	if (!task->done)
		ereport(ERROR,
				(errcode(ERRCODE_INTERNAL_ERROR),
				 errmsg("the %s exited before finishing", what),
				 errhint("The server log may say why.")));
}

bool
pitr_dbtask_drop(Oid dboid, Oid roleoid, const char *name, Oid oid, bool wait)
{
	PitrDbWorkerArgs args;
	BackgroundWorker w;
	BackgroundWorkerHandle *handle;

	memset(&args, 0, sizeof(args));
	args.kind = PITR_DBTASK_DROP;
	args.dboid = dboid;
	args.roleoid = roleoid;
	args.target_oid = oid;
	namestrcpy(&args.target_name, name);
	init_worker(&w, &args, "pitr_restore drop worker", NULL, wait);
	if (!RegisterDynamicBackgroundWorker(&w, &handle))
		return false;
	if (wait)
		wait_shutdown(handle);
	return true;
}

/*
 * Run one utility statement as exec_simple_query would, and commit.  With
 * only_if_oid, only while database "name" is *oid (false otherwise);
 * else *oid gets the OID of database "name" after it.
 */
static bool
run_toplevel(const char *sql, const char *name, Oid *oid, bool only_if_oid)
{
	List	   *raw;
	RawStmt    *stmt;
	PlannedStmt *pstmt;

	SetCurrentStatementStartTimestamp();
	StartTransactionCommand();
	PushActiveSnapshot(GetTransactionSnapshot());
	if (only_if_oid && get_database_oid(name, true) != *oid)
	{
		/* not the database this restore created: never dropped */
		PopActiveSnapshot();
		CommitTransactionCommand();
		return false;
	}
	pgstat_report_activity(STATE_RUNNING, sql);
	raw = raw_parser(sql, RAW_PARSE_DEFAULT);
	stmt = linitial_node(RawStmt, raw);
	pstmt = makeNode(PlannedStmt);
	pstmt->commandType = CMD_UTILITY;
	pstmt->canSetTag = true;
	pstmt->utilityStmt = stmt->stmt;
	pstmt->stmt_location = stmt->stmt_location;
	pstmt->stmt_len = stmt->stmt_len;
	ProcessUtility(pstmt, sql, false, PROCESS_UTILITY_TOPLEVEL, NULL, NULL,
				   None_Receiver, NULL);
	if (!only_if_oid)
	{
		CommandCounterIncrement();
		/* recorded before the commit: an abort after it leaves nothing */
		*oid = get_database_oid(name, false);
	}
	PopActiveSnapshot();
	CommitTransactionCommand();
	pgstat_report_activity(STATE_IDLE, NULL);
	return true;
}

void
pitr_database_worker_main(Datum arg)
{
	PitrDbWorkerArgs args;
	dsm_segment *seg = NULL;
	PitrDbTask *task = NULL;

	pqsignal(SIGTERM, die);
	BackgroundWorkerUnblockSignals();
	memcpy(&args, MyBgworkerEntry->bgw_extra, sizeof(args));
	if (DatumGetUInt32(arg) != 0)
	{
		shm_mq	   *mq;

		/* No resource owner yet: the mapping lasts until exit. */
		seg = dsm_attach(DatumGetUInt32(arg));
		if (seg == NULL)
			ereport(ERROR,
					(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
					 errmsg("could not map restore_database's dynamic shared memory segment")));
		task = dsm_segment_address(seg);
		mq = (shm_mq *) ((char *) task + MAXALIGN(sizeof(PitrDbTask)));
		shm_mq_set_sender(mq, MyProc);
		/* every message from here, a FATAL at connection included */
		pq_redirect_to_shm_mq(seg, shm_mq_attach(mq, seg, NULL));
	}
	BackgroundWorkerInitializeConnectionByOid(args.dboid, args.roleoid, 0);
	pgstat_report_appname("pitr_restore restore_database");

	switch ((PitrDbTaskKind) args.kind)
	{
		case PITR_DBTASK_CREATE:
			(void) run_toplevel(task->create_sql, NameStr(args.target_name),
								&task->created_oid, false);
			break;
		case PITR_DBTASK_LOAD:
			pitr_database_load(task);
			break;
		case PITR_DBTASK_DROP:
			if (run_toplevel(psprintf("DROP DATABASE %s WITH (FORCE)",
									  quote_identifier(NameStr(args.target_name))),
							 NameStr(args.target_name), &args.target_oid, true))
				ereport(LOG,
						(errmsg("pitr_restore: dropped the half-built database \"%s\"",
								NameStr(args.target_name))));
			break;
	}
	if (task)
		task->done = true;
	if (seg)
		dsm_detach(seg);
	proc_exit(0);
}
