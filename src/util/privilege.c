/*-------------------------------------------------------------------------
 *
 * privilege.c
 *	  Who may do what (see privilege.h): the privilege checks, asked of the
 *	  role whose code is running, and the SQL entry points that make them
 *	  before calling a function's body as the extension's owner.
 *
 * An entry point is SECURITY INVOKER, so GetUserId() there is the role
 * whose code called it: a superuser's own session, the owner of a table
 * whose index expression ANALYZE or autovacuum evaluates, the owner of a
 * SECURITY DEFINER function.  It checks that role, records it, and calls
 * the body "_<name>_body" (SECURITY DEFINER, search_path pinned): fmgr
 * switches to the owner there, and restores the caller on every exit, an
 * ERROR included (transaction or subtransaction abort).  Checks made below
 * the body, such as the one before a program runs, ask pitr_priv_caller(),
 * which answers the recorded caller while the owner runs the body.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "catalog/pg_authid.h"
#include "catalog/pg_proc.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "nodes/value.h"
#include "parser/parse_func.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/syscache.h"

#include "util/privilege.h"

/* The caller of the innermost entry point, and the owner its body runs as. */
static Oid	entry_caller = InvalidOid;
static Oid	entry_owner = InvalidOid;

/* What an entry point checks before calling its body. */
typedef enum EntryRule
{
	ENTRY_READ,					/* pg_read_server_files */
	ENTRY_RESTORE,				/* read and write; no restricted operation */
	ENTRY_WRITE,				/* pg_write_server_files; no restricted op. */
	ENTRY_DATABASE				/* a side server, and CREATEDB */
} EntryRule;

/* An entry point's body, looked up once per call site. */
typedef struct EntryBody
{
	FmgrInfo	flinfo;
	Oid			owner;
} EntryBody;

Oid
pitr_priv_caller(void)
{
	if (OidIsValid(entry_caller) && GetUserId() == entry_owner)
		return entry_caller;
	return GetUserId();
}

void
pitr_check_read_privilege(void)
{
	if (!has_privs_of_role(pitr_priv_caller(), ROLE_PG_READ_SERVER_FILES))
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("permission denied to read the WAL archive or base backups"),
				 errdetail("Only roles with privileges of the \"%s\" role may read server files.",
						   "pg_read_server_files")));
}

void
pitr_check_write_privilege(void)
{
	if (!has_privs_of_role(pitr_priv_caller(), ROLE_PG_WRITE_SERVER_FILES))
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("permission denied to write server files"),
				 errdetail("Only roles with privileges of the \"%s\" role may write server files.",
						   "pg_write_server_files")));
}

void
pitr_check_not_restricted(const char *what)
{
	if (InSecurityRestrictedOperation())
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("cannot %s within a security-restricted operation", what),
				 errdetail("ANALYZE, VACUUM, REFRESH MATERIALIZED VIEW and index expressions run a table owner's code; pitr_restore runs no program and writes no file there.")));
}

void
pitr_check_restore_privilege(void)
{
	Oid			caller = pitr_priv_caller();

	if (!has_privs_of_role(caller, ROLE_PG_READ_SERVER_FILES))
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("permission denied to build a restore"),
				 errdetail("Building a restore reads the base backup and the archive."),
				 errhint("Grant the role privileges of both \"%s\" and \"%s\".",
						 "pg_read_server_files", "pg_write_server_files")));
	if (!has_privs_of_role(caller, ROLE_PG_WRITE_SERVER_FILES))
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("permission denied to build a restore"),
				 errdetail("Building a restore writes a new data directory."),
				 errhint("Grant the role privileges of both \"%s\" and \"%s\".",
						 "pg_read_server_files", "pg_write_server_files")));
	pitr_check_not_restricted("build a restore");
}

void
pitr_check_program_privilege(const char *what)
{
	pitr_check_not_restricted("run a program");
	if (!has_privs_of_role(pitr_priv_caller(), ROLE_PG_EXECUTE_SERVER_PROGRAM))
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("permission denied to %s", what),
				 errdetail("It runs a program on the server as the operating system user of PostgreSQL."),
				 errhint("Only roles with privileges of the \"%s\" role may run programs on the server.",
						 "pg_execute_server_program")));
}

/*
 * Reading and writing server files and running programs at once (a side
 * server: restore_table): superuser, or members of all three roles.
 */
void
pitr_check_side_server_privilege(const char *what)
{
	Oid			caller = pitr_priv_caller();

	pitr_check_not_restricted(what);
	if (!has_privs_of_role(caller, ROLE_PG_READ_SERVER_FILES) ||
		!has_privs_of_role(caller, ROLE_PG_WRITE_SERVER_FILES) ||
		!has_privs_of_role(caller, ROLE_PG_EXECUTE_SERVER_PROGRAM))
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("permission denied to %s", what),
				 errdetail("Only roles with privileges of the \"%s\", \"%s\" and \"%s\" roles may run a side server.",
						   "pg_read_server_files", "pg_write_server_files",
						   "pg_execute_server_program")));
}

/*
 * Creating a database: superuser, or a role with CREATEDB (as CREATE
 * DATABASE asks, of the caller rather than the extension's owner).
 */
void
pitr_check_createdb_privilege(const char *what)
{
	Oid			caller = pitr_priv_caller();
	HeapTuple	tup;
	bool		createdb;

	if (superuser_arg(caller))
		return;
	tup = SearchSysCache1(AUTHOID, ObjectIdGetDatum(caller));
	createdb = HeapTupleIsValid(tup) && ((Form_pg_authid) GETSTRUCT(tup))->rolcreatedb;
	if (HeapTupleIsValid(tup))
		ReleaseSysCache(tup);
	if (!createdb)
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("permission denied to %s", what),
				 errdetail("Only roles with the %s attribute may create databases.",
						   "CREATEDB")));
}

/*
 * The body of the entry point being called: "_<name>_body" in the same
 * schema, with the same arguments, SECURITY DEFINER.
 */
static EntryBody *
entry_body(FunctionCallInfo fcinfo)
{
	FmgrInfo   *self = fcinfo->flinfo;
	EntryBody  *body = (EntryBody *) self->fn_extra;
	HeapTuple	tup;
	Form_pg_proc proc;
	char	   *name;
	List	   *qname;
	Oid			oid;

	if (body != NULL)
		return body;
	tup = SearchSysCache1(PROCOID, ObjectIdGetDatum(self->fn_oid));
	if (!HeapTupleIsValid(tup))
		elog(ERROR, "cache lookup failed for function %u", self->fn_oid);
	proc = (Form_pg_proc) GETSTRUCT(tup);
	name = psprintf("_%s_body", NameStr(proc->proname));
	qname = list_make2(makeString(get_namespace_name(proc->pronamespace)),
					   makeString(name));
	oid = LookupFuncName(qname, proc->pronargs, proc->proargtypes.values, false);
	ReleaseSysCache(tup);

	tup = SearchSysCache1(PROCOID, ObjectIdGetDatum(oid));
	if (!HeapTupleIsValid(tup))
		elog(ERROR, "cache lookup failed for function %u", oid);
	proc = (Form_pg_proc) GETSTRUCT(tup);
	if (!proc->prosecdef)
		elog(ERROR, "function \"%s\" must be SECURITY DEFINER", name);
	body = MemoryContextAllocZero(self->fn_mcxt, sizeof(EntryBody));
	body->owner = proc->proowner;
	ReleaseSysCache(tup);
	fmgr_info_cxt(oid, &body->flinfo, self->fn_mcxt);
	body->flinfo.fn_expr = self->fn_expr;
	self->fn_extra = body;
	return body;
}

/* Check the caller, then run the body as the owner with the caller recorded. */
static Datum
entry_call(FunctionCallInfo fcinfo, EntryRule rule)
{
	EntryBody  *body = entry_body(fcinfo);
	Oid			caller = pitr_priv_caller();
	Oid			save_caller = entry_caller;
	Oid			save_owner = entry_owner;
	LOCAL_FCINFO(inner, FUNC_MAX_ARGS);
	Datum		result;

	switch (rule)
	{
		case ENTRY_READ:
			pitr_check_read_privilege();
			break;
		case ENTRY_RESTORE:
			pitr_check_restore_privilege();
			break;
		case ENTRY_WRITE:
			pitr_check_write_privilege();
			pitr_check_not_restricted("run cleanup hooks");
			break;
		case ENTRY_DATABASE:
			pitr_check_side_server_privilege("restore a database");
			pitr_check_createdb_privilege("restore a database");
			break;
	}

	InitFunctionCallInfoData(*inner, &body->flinfo, fcinfo->nargs,
							 fcinfo->fncollation, fcinfo->context,
							 fcinfo->resultinfo);
	memcpy(inner->args, fcinfo->args, fcinfo->nargs * sizeof(NullableDatum));

	entry_caller = caller;
	entry_owner = body->owner;
	PG_TRY();
	{
		result = FunctionCallInvoke(inner);
	}
	PG_FINALLY();
	{
		entry_caller = save_caller;
		entry_owner = save_owner;
	}
	PG_END_TRY();
	fcinfo->isnull = inner->isnull;
	return result;
}

/* The SQL-callable entry point "fn": entry_call for callers of "kind". */
#define PITR_ENTRY_POINT(fn, kind) \
	PG_FUNCTION_INFO_V1(fn); \
	Datum \
	fn(PG_FUNCTION_ARGS) \
	{ \
		return entry_call(fcinfo, kind); \
	}

/* Entry points for readers of server files (pg_read_server_files). */
PITR_ENTRY_POINT(pitr_entry_read, ENTRY_READ)

/* prepare_restore: reads and writes server files. */
PITR_ENTRY_POINT(pitr_entry_restore, ENTRY_RESTORE)

/* run_cleanup: writers of server files (pg_write_server_files). */
PITR_ENTRY_POINT(pitr_entry_write, ENTRY_WRITE)

/* restore_database: a side server, and a new database of the caller's. */
PITR_ENTRY_POINT(pitr_entry_database, ENTRY_DATABASE)
