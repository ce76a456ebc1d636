/*-------------------------------------------------------------------------
 *
 * database_worker.h
 *	  The background workers of restore_database
 *	  (src/restore/database_worker.c): CREATE DATABASE and DROP DATABASE
 *	  run top-level in a worker of their own (never inside the caller's
 *	  transaction), and the load of the new database by a worker connected
 *	  to it (src/restore/database_load.c), each as the caller.
 *
 *-------------------------------------------------------------------------
 */
#ifndef PITR_DATABASE_WORKER_H
#define PITR_DATABASE_WORKER_H

typedef enum PitrDbTaskKind
{
	PITR_DBTASK_CREATE,			/* run create_sql, record the new OID */
	PITR_DBTASK_LOAD,			/* fill the new database from the side server */
	PITR_DBTASK_DROP			/* drop target_name if still target_oid */
} PitrDbTaskKind;

/*
 * What a worker is told in its bgw_extra: enough for a drop, which needs
 * no shared memory, so it can be launched as the backend exits.
 */
typedef struct PitrDbWorkerArgs
{
	int			kind;			/* PitrDbTaskKind */
	Oid			dboid;			/* the database it connects to */
	Oid			roleoid;		/* as whom: the caller */
	Oid			target_oid;		/* DROP: the database it created */
	NameData	target_name;	/* CREATE, DROP: the new database */
} PitrDbWorkerArgs;

/* A create or load worker's task, shared with it (dynamic shared memory). */
typedef struct PitrDbTask
{
	PitrDbWorkerArgs args;
	char		create_sql[2048];	/* CREATE: the statement */
	char		side_dir[MAXPGPATH];	/* LOAD: the side server's socket */
	int			side_port;
	NameData	source;			/* LOAD: the database there */
	bool		run_hooks;		/* LOAD: then the source's cleanup hooks */
	char		restore_key[256];	/* LOAD: names the hooks' run */
	/* written by the worker */
	bool		done;
	Oid			created_oid;
	int64		tables;
	int64		rows;
} PitrDbTask;

/*
 * Run the task in a worker and wait for it, raising its messages here
 * (its ERROR as an ERROR, with its SQLSTATE).  On an ERROR or cancel here
 * the worker is terminated and waited for; task->created_oid is copied
 * back in every case.
 */
extern void pitr_dbtask_run(PitrDbTask *task, const char *what);

/*
 * Drop database "name" if it still is "oid", from a worker connected to
 * database dboid as roleoid.  wait: until the worker is done; else it is
 * left to run (as the backend exits).  Never throws for a worker that
 * cannot start: false then.
 */
extern bool pitr_dbtask_drop(Oid dboid, Oid roleoid, const char *name, Oid oid,
							 bool wait);

extern PGDLLEXPORT void pitr_database_worker_main(Datum arg);

/* database_load.c: the LOAD task, in the worker connected to the new database. */
extern void pitr_database_load(PitrDbTask *task);

#endif							/* PITR_DATABASE_WORKER_H */
