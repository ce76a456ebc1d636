/*-------------------------------------------------------------------------
 *
 * side_restore.c
 *	  What restore_table and restore_database share: the target resolved
 *	  (resolve_target, pausing), the side server built and started there
 *	  (prepare_restore into its private directory, side_server.c), and a
 *	  table's rows streamed out of it: the side server's COPY TO STDOUT
 *	  over libpq fed to the server's own COPY FROM, in the current
 *	  transaction (no second login to this server).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/table.h"
#include "catalog/pg_type.h"
#include "commands/copy.h"
#include "executor/spi.h"
#include "funcapi.h"
#include "mb/pg_wchar.h"
#include "miscadmin.h"
#include "nodes/makefuncs.h"
#include "parser/parse_node.h"
#include "parser/parse_relation.h"
#include "pgstat.h"
#include "storage/latch.h"
#include "utils/builtins.h"
#include "utils/rel.h"

#include "restore/side_restore.h"

/* The SQL argument list "target_time => $1, ..." for resolve and prepare. */
static const char *const target_args[PITR_SIDE_NTARGET] = {
	"target_time", "target_name", "target_lsn", "target_xid", "target_mark",
	"inclusive", "target_timeline", "mark_after", "backup_label", "archive_dir"
};
static const Oid target_types[PITR_SIDE_NTARGET] = {
	TIMESTAMPTZOID, TEXTOID, PG_LSNOID, XID8OID, TEXTOID, BOOLOID, INT4OID,
	TIMESTAMPTZOID, TEXTOID, TEXTOID
};

/* The libpq COPY stream that COPY FROM reads (its callback has no arg). */
static PitrSideServer *copy_side = NULL;
static char *copy_buf = NULL;
static int	copy_len = 0;
static int	copy_off = 0;
static bool copy_done = false;

static void
target_params(FunctionCallInfo fcinfo, StringInfo sql, Datum *v, char *nulls,
			  Oid *types, int first)
{
	for (int i = 0; i < PITR_SIDE_NTARGET; i++)
	{
		appendStringInfo(sql, ", %s => $%d", target_args[i], first + i + 1);
		v[first + i] = PG_ARGISNULL(i + 2) ? (Datum) 0 : PG_GETARG_DATUM(i + 2);
		nulls[first + i] = PG_ARGISNULL(i + 2) ? 'n' : ' ';
		types[first + i] = target_types[i];
	}
}

TupleDesc
pitr_side_call_start(FunctionCallInfo fcinfo, const char *what)
{
	TupleDesc	tupdesc;

	if (PG_ARGISNULL(0) || PG_ARGISNULL(1))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("%s and new_name must not be null", what)));
	if (get_call_result_type(fcinfo, NULL, &tupdesc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "return type must be a row type");
	return tupdesc;
}

void
pitr_side_resolve(FunctionCallInfo fcinfo, Datum *values, bool *nulls,
				  int64 *backup_bytes)
{
	StringInfoData sql;
	Datum		v[PITR_SIDE_NTARGET];
	char		n[PITR_SIDE_NTARGET];
	Oid			types[PITR_SIDE_NTARGET];
	TupleDesc	desc;
	HeapTuple	tup;
	bool		isnull;

	initStringInfo(&sql);
	appendStringInfoString(&sql, "SELECT r.reachable, r.reason, r.stop_lsn, r.stop_before, "
						   "r.last_xid, r.last_commit_time, r.next_xid, r.next_commit_time, "
						   "r.timeline, r.backup_label, "
						   "(SELECT b.bytes FROM pitr_restore.base_backup b "
						   "  WHERE b.location OPERATOR(pg_catalog.=) r.backup_location) "
						   "FROM pitr_restore.resolve_target(recovery_action => 'pause'");
	target_params(fcinfo, &sql, v, n, types, 0);
	appendStringInfoString(&sql, ") r");
	if (SPI_execute_with_args(sql.data, PITR_SIDE_NTARGET, types, v, n, false, 1) != SPI_OK_SELECT ||
		SPI_processed != 1)
		elog(ERROR, "could not resolve the target");
	desc = SPI_tuptable->tupdesc;
	tup = SPI_tuptable->vals[0];
	if (!DatumGetBool(SPI_getbinval(tup, desc, 1, &isnull)))
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("restore target is not reachable"),
				 errdetail("%s", SPI_getvalue(tup, desc, 2))));
	for (int i = 0; i < PITR_SIDE_NRESOLUTION; i++)
	{
		Form_pg_attribute att = TupleDescAttr(desc, i + 2);

		values[i] = SPI_getbinval(tup, desc, i + 3, &nulls[i]);
		if (!nulls[i])
			values[i] = SPI_datumTransfer(values[i], att->attbyval, att->attlen);
	}
	*backup_bytes = DatumGetInt64(SPI_getbinval(tup, desc, 11, &isnull));
	if (isnull)
		*backup_bytes = 0;
}

static void
prepare(FunctionCallInfo fcinfo, PitrSideServer *s)
{
	StringInfoData sql;
	Datum		v[PITR_SIDE_NTARGET + 1];
	char		nulls[PITR_SIDE_NTARGET + 1];
	Oid			types[PITR_SIDE_NTARGET + 1];

	initStringInfo(&sql);
	appendStringInfoString(&sql, "SELECT 1 FROM pitr_restore.prepare_restore("
						   "target_dir => $1, recovery_action => 'pause', archive_mode => 'off'");
	v[0] = CStringGetTextDatum(s->datadir);
	nulls[0] = ' ';
	types[0] = TEXTOID;
	target_params(fcinfo, &sql, v, nulls, types, 1);
	appendStringInfoChar(&sql, ')');
	if (SPI_execute_with_args(sql.data, PITR_SIDE_NTARGET + 1, types, v, nulls, false, 1) != SPI_OK_SELECT)
		elog(ERROR, "could not prepare the side server");
}

void
pitr_side_build(FunctionCallInfo fcinfo, PitrSideServer *s, int64 backup_bytes,
				const char *dbname)
{
	pitr_side_check_space(s, backup_bytes + backup_bytes / 10);
	ereport(NOTICE, (errmsg("building the side server in \"%s\"", s->dir)));
	prepare(fcinfo, s);
	pitr_side_configure(s);
	ereport(NOTICE, (errmsg("replaying WAL to the target")));
	pitr_side_start_and_wait(s, dbname);
}

/* COPY FROM's data source: the side server's COPY TO STDOUT. */
static int
copy_source(void *outbuf, int minread, int maxread)
{
	int			given = 0;

	while (given < minread && !copy_done)
	{
		if (copy_off >= copy_len)
		{
			int			n;

			if (copy_buf)
				PQfreemem(copy_buf);
			copy_buf = NULL;
			copy_off = copy_len = 0;
			n = PQgetCopyData(copy_side->conn, &copy_buf, 1);
			if (n == 0)
			{
				(void) WaitLatchOrSocket(MyLatch,
										 WL_LATCH_SET | WL_SOCKET_READABLE | WL_EXIT_ON_PM_DEATH,
										 PQsocket(copy_side->conn), -1L, PG_WAIT_EXTENSION);
				ResetLatch(MyLatch);
				CHECK_FOR_INTERRUPTS();
				if (!PQconsumeInput(copy_side->conn))
					ereport(ERROR,
							(errcode(ERRCODE_CONNECTION_FAILURE),
							 errmsg("lost the side server during the copy: %s",
									PQerrorMessage(copy_side->conn))));
				continue;
			}
			if (n < 0)
			{
				copy_done = true;
				break;
			}
			copy_len = n;
		}
		{
			int			take = Min(copy_len - copy_off, maxread - given);

			memcpy((char *) outbuf + given, copy_buf + copy_off, take);
			copy_off += take;
			given += take;
		}
	}
	return given;
}

uint64
pitr_side_copy_rows(PitrSideServer *s, const char *select_sql, RangeVar *rv,
					List *attnames)
{
	PGresult   *res;
	Relation	rel;
	CopyFromState cstate;
	ParseState *pstate;
	uint64		n;
	List	   *options;
	char	   *copy_sql = psprintf("COPY (%s) TO STDOUT", select_sql);

	res = pitr_side_query(s, copy_sql, PGRES_COPY_OUT);
	PQclear(res);
	if (PQsetnonblocking(s->conn, 1) != 0)
		elog(ERROR, "could not read the side server without blocking");

	copy_side = s;
	copy_buf = NULL;
	copy_len = copy_off = 0;
	copy_done = false;
	rel = table_openrv(rv, RowExclusiveLock);
	options = list_make1(makeDefElem("encoding",
									 (Node *) makeString(pstrdup(GetDatabaseEncodingName())), -1));
	/* COPY FROM takes its range table from the parse state, as DoCopy's. */
	pstate = make_parsestate(NULL);
	(void) addRangeTableEntryForRelation(pstate, rel, RowExclusiveLock, NULL,
										 false, false);
	cstate = BeginCopyFrom(pstate, rel, NULL, NULL, false,
						   copy_source, attnames, options);
	n = CopyFrom(cstate);
	EndCopyFrom(cstate);
	table_close(rel, NoLock);
	if (copy_buf)
		PQfreemem(copy_buf);
	copy_buf = NULL;
	copy_side = NULL;

	/* The COPY's own result. */
	while ((res = PQgetResult(s->conn)) != NULL)
	{
		if (PQresultStatus(res) != PGRES_COMMAND_OK)
			ereport(ERROR,
					(errcode(ERRCODE_CONNECTION_EXCEPTION),
					 errmsg("the side server's COPY failed: %s", PQresultErrorMessage(res))));
		PQclear(res);
	}
	PQsetnonblocking(s->conn, 0);
	return n;
}
