/*-------------------------------------------------------------------------
 *
 * journal_hook.c
 *	  Keep the relation journal (pitr_restore.relation_journal) up to date
 *	  across the commands that give a table a new relfilenode without
 *	  firing an event trigger: TRUNCATE, VACUUM FULL and CLUSTER.
 *
 * CREATE, ALTER (rewrites, renames) and DROP are journalled by the
 * extension's event triggers, in every session.  This ProcessUtility hook
 * is active in the sessions that have loaded the library:
 * shared_preload_libraries or session_preload_libraries, or any earlier
 * call of one of the extension's C functions in the session.  TRUNCATE is
 * journalled in its own transaction, so the journal row carries its xid;
 * VACUUM FULL and CLUSTER commit their own transactions, and the row comes
 * after them.  The journal is written as the extension's owner (who owns
 * the table), only in databases that have the extension, and a failure to
 * write it is a WARNING, never a failed command.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"
#include "access/xlog.h"
#include "catalog/namespace.h"
#include "catalog/pg_type.h"
#include "commands/extension.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "nodes/parsenodes.h"
#include "tcop/utility.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/syscache.h"

#include "history/journal_hook.h"
#include "util/subxact.h"

static ProcessUtility_hook_type prev_utility = NULL;

/* What the statement does to relfilenodes, as the journal names it. */
static const char *
journal_event(Node *stmt)
{
	switch (nodeTag(stmt))
	{
		case T_TruncateStmt:
			return "truncate";
		case T_VacuumStmt:
		case T_ClusterStmt:
			return "rewrite";
		default:
			return NULL;
	}
}

/* The journal's owner, or InvalidOid when this database has no journal. */
static Oid
journal_owner(void)
{
	Oid			nsp;
	Oid			rel;
	HeapTuple	tup;
	Oid			owner;

	if (!OidIsValid(get_extension_oid("pitr_restore", true)))
		return InvalidOid;
	nsp = get_namespace_oid("pitr_restore", true);
	if (!OidIsValid(nsp))
		return InvalidOid;
	rel = get_relname_relid("relation_journal", nsp);
	if (!OidIsValid(rel))
		return InvalidOid;		/* an older version of the extension */
	tup = SearchSysCache1(RELOID, ObjectIdGetDatum(rel));
	if (!HeapTupleIsValid(tup))
		return InvalidOid;
	owner = ((Form_pg_class) GETSTRUCT(tup))->relowner;
	ReleaseSysCache(tup);
	return owner;
}

static void
write_journal(const char *event, Oid owner)
{
	Oid			save_user;
	int			save_sec;
	Oid			types[1] = {TEXTOID};
	Datum		v[1];

	GetUserIdAndSecContext(&save_user, &save_sec);
	SetUserIdAndSecContext(owner, save_sec | SECURITY_LOCAL_USERID_CHANGE);
	PG_TRY();
	{
		v[0] = CStringGetTextDatum(event);
		SPI_connect();
		if (SPI_execute_with_args("SELECT pitr_restore.journal_note($1, NULL)",
								  1, types, v, NULL, false, 0) != SPI_OK_SELECT)
			elog(ERROR, "could not write the relation journal");
		SPI_finish();
	}
	PG_FINALLY();
	{
		SetUserIdAndSecContext(save_user, save_sec);
	}
	PG_END_TRY();
}

/* Journal new relfilenodes; a failure warns, in a subtransaction. */
static void
journal_after(const char *event)
{
	MemoryContext cxt = CurrentMemoryContext;
	ResourceOwner owner = CurrentResourceOwner;
	Oid			jowner;

	if (!IsTransactionState() || RecoveryInProgress() || creating_extension)
		return;
	jowner = journal_owner();
	if (!OidIsValid(jowner))
		return;

	BeginInternalSubTransaction(NULL);
	MemoryContextSwitchTo(cxt);
	PG_TRY();
	{
		write_journal(event, jowner);
		pitr_subxact_end(true, cxt, owner);
	}
	PG_CATCH();
	{
		ErrorData  *edata = pitr_subxact_catch(cxt, owner);

		ereport(WARNING,
				(errmsg("could not update pitr_restore's relation journal: %s",
						edata->message)));
	}
	PG_END_TRY();
}

static void
journal_utility(PlannedStmt *pstmt, const char *queryString,
				bool readOnlyTree, ProcessUtilityContext context,
				ParamListInfo params, QueryEnvironment *queryEnv,
				DestReceiver *dest, QueryCompletion *qc)
{
	const char *event = journal_event(pstmt->utilityStmt);

	if (prev_utility)
		prev_utility(pstmt, queryString, readOnlyTree, context, params,
					 queryEnv, dest, qc);
	else
		standard_ProcessUtility(pstmt, queryString, readOnlyTree, context,
								params, queryEnv, dest, qc);
	if (event)
		journal_after(event);
}

void
pitr_history_init(void)
{
	prev_utility = ProcessUtility_hook;
	ProcessUtility_hook = journal_utility;
}
