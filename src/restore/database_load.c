/*-------------------------------------------------------------------------
 *
 * database_load.c
 *	  restore_database's load: in a worker connected to the new database as
 *	  the caller, the source database as it was in the side server is
 *	  recreated, in one transaction.
 *
 * The schema comes from the server's own pg_dump (found beside the
 * server's programs, of its own version) run against the side server's
 * private socket: --section=pre-data first, the rows, then
 * --section=post-data (indexes, constraints, foreign keys, triggers), with
 * --no-owner and --no-privileges, so every object belongs to the caller.
 * Each script runs here through SPI as one string of statements; the only
 * lines that are not SQL, psql's \restrict and \unrestrict around the
 * script (PostgreSQL 15.14 and later), are taken out by the key the
 * script itself names.  The rows of each table pg_dump would dump
 * (permanent tables of the database, and extensions' configuration tables
 * with their filter) are streamed table by table from the side server's
 * COPY TO STDOUT into the server's own COPY FROM (side_restore.c), and
 * each sequence is set to the value and state it had.  Then, when asked,
 * the cleanup hooks restored with the data run once on the new database,
 * as the cleanup worker runs them after a restore (src/cleanup/).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"
#include "catalog/pg_authid.h"
#include "catalog/pg_type.h"
#include "commands/extension.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "nodes/makefuncs.h"
#include "storage/fd.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/lsyscache.h"
#include "utils/snapmgr.h"

#include "cleanup/cleanup.h"
#include "format/archive_files.h"
#include "format/quote.h"
#include "restore/database_worker.h"
#include "restore/side_restore.h"

#define DUMP_PROGRAM "pg_dump"
#define DUMP_VERSIONSTR "pg_dump (PostgreSQL) " PG_VERSION "\n"

/* The server's own pg_dump, found as the server finds its programs. */
static char *
dump_program(void)
{
	char		path[MAXPGPATH];

	if (find_other_exec(my_exec_path, DUMP_PROGRAM, DUMP_VERSIONSTR, path) < 0)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_FILE),
				 errmsg("could not find the program \"%s\" of PostgreSQL %s beside the server's own programs",
						DUMP_PROGRAM, PG_VERSION),
				 errhint("Restoring a database needs the server's client programs installed.")));
	return pstrdup(path);
}

/* A value in a libpq connection string. */
static char *
conninfo_value(const char *v)
{
	StringInfoData b;

	initStringInfo(&b);
	appendStringInfoChar(&b, '\'');
	for (; *v; v++)
	{
		if (*v == '\'' || *v == '\\')
			appendStringInfoChar(&b, '\\');
		appendStringInfoChar(&b, *v);
	}
	appendStringInfoChar(&b, '\'');
	return b.data;
}

/* pg_dump's script of one section of the source database, in memory. */
static char *
dump_section(PitrDbTask *task, const char *section)
{
	char	   *errfile = psprintf("%s/pg_dump.err", task->side_dir);
	char	   *conninfo = psprintf("host=%s port=%d dbname=%s user=%s",
									conninfo_value(task->side_dir), task->side_port,
									conninfo_value(NameStr(task->source)),
									conninfo_value(GetUserNameFromId(BOOTSTRAP_SUPERUSERID, false)));
	char	   *cmd = psprintf("%s --section=%s --no-owner --no-privileges --no-subscriptions "
							   "--no-password --dbname=%s 2>%s",
							   pitr_quote_shell(dump_program()), section,
							   pitr_quote_shell(conninfo), pitr_quote_shell(errfile));
	StringInfoData out;
	char		chunk[8192];
	size_t		n;
	FILE	   *p;
	int			rc;

	initStringInfo(&out);
	fflush(NULL);
	p = OpenPipeStream(cmd, PG_BINARY_R);
	if (p == NULL)
		ereport(ERROR,
				(errcode_for_file_access(),
				 errmsg("could not execute command \"%s\": %m", cmd)));
	while ((n = fread(chunk, 1, sizeof(chunk), p)) > 0)
	{
		appendBinaryStringInfo(&out, chunk, n);
		CHECK_FOR_INTERRUPTS();
	}
	rc = ClosePipeStream(p);
	if (rc != 0)
	{
		int64		len = 0;
		char	   *err = pitr_read_whole_file_or_error(errfile, "pg_dump's messages",
														1024 * 1024, true, &len);

		ereport(ERROR,
				(errcode(ERRCODE_EXTERNAL_ROUTINE_EXCEPTION),
				 errmsg("%s of the database as it was failed: %s", DUMP_PROGRAM,
						wait_result_to_str(rc)),
				 errdetail("%s", err && len > 0 ? err : "It wrote nothing.")));
	}
	return out.data;
}

/*
 * Take out psql's "\restrict KEY" and "\unrestrict KEY" lines (whole
 * lines, with the key the first one names); any other line starting with
 * a backslash is left for the parser to refuse.
 */
static void
strip_restrict(char *script)
{
	char	   *line = script;
	char	   *key = NULL;

	while (*line)
	{
		char	   *end = strchr(line, '\n');
		size_t		len = end ? (size_t) (end - line) : strlen(line);

		if (key == NULL && strncmp(line, "\\restrict ", 10) == 0)
			key = pnstrdup(line + 10, len - 10);
		if (key != NULL &&
			((len == 10 + strlen(key) && strncmp(line, "\\restrict ", 10) == 0 &&
			  strncmp(line + 10, key, strlen(key)) == 0) ||
			 (len == 12 + strlen(key) && strncmp(line, "\\unrestrict ", 12) == 0 &&
			  strncmp(line + 12, key, strlen(key)) == 0)))
			memset(line, ' ', len);
		if (end == NULL)
			break;
		line = end + 1;
	}
}

/* One section of the source database's schema, run here. */
static void
load_section(PitrDbTask *task, const char *section)
{
	char	   *script = dump_section(task, section);

	strip_restrict(script);
	if (SPI_execute(script, false, 0) < 0)
		elog(ERROR, "could not run the %s part of the schema", section);
	/* the script turns NOTICEs off for its session: progress goes on */
	(void) set_config_option("client_min_messages", "notice", PGC_SUSET,
							 PGC_S_SESSION, GUC_ACTION_SET, true, 0, false);
	pfree(script);
}

/*
 * The rows of each table pg_dump would dump: the database's permanent
 * tables, and the configuration tables of its extensions with their
 * filter.  The rows CREATE EXTENSION put in a configuration table that
 * its filter selects go first, so it holds what it held at the target.
 */
static void
copy_tables(PitrDbTask *task, PitrSideServer *s)
{
	PGresult   *res = pitr_side_query(s,
									  "SELECT n.nspname, c.relname, "
									  " (SELECT string_agg(quote_ident(a.attname), ', ' ORDER BY a.attnum) "
									  "    FROM pg_attribute a WHERE a.attrelid = c.oid AND a.attnum > 0 "
									  "     AND NOT a.attisdropped AND a.attgenerated = ''), "
									  " x.cond "
									  "FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
									  "LEFT JOIN LATERAL (SELECT e.extcondition[array_position(e.extconfig, c.oid)] AS cond "
									  "  FROM pg_extension e WHERE c.oid = ANY (e.extconfig) LIMIT 1) x ON true "
									  "WHERE c.relkind = 'r' AND c.relpersistence = 'p' "
									  "  AND n.nspname NOT IN ('pg_catalog', 'information_schema') "
									  "  AND n.nspname !~ '^pg_toast' "
									  "  AND (x.cond IS NOT NULL OR NOT EXISTS (SELECT 1 FROM pg_depend d "
									  "       WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid "
									  "         AND d.deptype = 'e')) "
									  "ORDER BY 1, 2",
									  PGRES_TUPLES_OK);

	ereport(NOTICE,
			(errmsg("copying the rows of %d tables", PQntuples(res))));
	for (int i = 0; i < PQntuples(res); i++)
	{
		const char *nsp = PQgetvalue(res, i, 0);
		const char *rel = PQgetvalue(res, i, 1);
		const char *cond = PQgetisnull(res, i, 3) ? "" : PQgetvalue(res, i, 3);

		CHECK_FOR_INTERRUPTS();
		task->tables++;
		if (!PQgetisnull(res, i, 3) &&
			SPI_execute(psprintf("DELETE FROM %s %s", quote_qualified_identifier(nsp, rel), cond),
						false, 0) != SPI_OK_DELETE)
			elog(ERROR, "could not empty configuration table %s.%s", nsp, rel);
		if (PQgetisnull(res, i, 2))
			continue;			/* no column to copy */
		task->rows += pitr_side_copy_rows(s,
										  psprintf("SELECT %s FROM ONLY %s %s",
												   PQgetvalue(res, i, 2),
												   quote_qualified_identifier(nsp, rel), cond),
										  makeRangeVar(pstrdup(nsp), pstrdup(rel), -1), NIL);
	}
	PQclear(res);
}

/* Each sequence's value and state as they were (pg_dump's SEQUENCE SET). */
static void
set_sequences(PitrSideServer *s)
{
	PGresult   *res = pitr_side_query(s,
									  "SELECT format('%I.%I', n.nspname, c.relname) "
									  "FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
									  "WHERE c.relkind = 'S' "
									  "  AND (EXISTS (SELECT 1 FROM pg_extension e WHERE c.oid = ANY (e.extconfig)) "
									  "       OR NOT EXISTS (SELECT 1 FROM pg_depend d "
									  "       WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid "
									  "         AND d.deptype = 'e')) ORDER BY 1",
									  PGRES_TUPLES_OK);

	for (int i = 0; i < PQntuples(res); i++)
	{
		const char *seq = PQgetvalue(res, i, 0);
		PGresult   *v = pitr_side_query(s, psprintf("SELECT last_value, is_called FROM %s", seq),
										PGRES_TUPLES_OK);

		if (SPI_execute(psprintf("SELECT pg_catalog.setval(%s, %s, %s)",
								 quote_literal_cstr(seq), PQgetvalue(v, 0, 0),
								 strcmp(PQgetvalue(v, 0, 1), "t") == 0 ? "true" : "false"),
						false, 0) != SPI_OK_SELECT)
			elog(ERROR, "could not set sequence %s", seq);
		PQclear(v);
	}
	PQclear(res);
}

/* The cleanup hooks restored with the data, once, on the new database. */
static void
run_hooks(PitrDbTask *task)
{
	bool		have;

	StartTransactionCommand();
	have = OidIsValid(get_extension_oid("pitr_restore", true));
	CommitTransactionCommand();
	if (!have)
	{
		ereport(NOTICE,
				(errmsg("no cleanup hooks to run: pitr_restore was not installed in database \"%s\" at the target",
						NameStr(task->source))));
		return;
	}
	ereport(NOTICE,
			(errmsg("running the cleanup hooks of database \"%s\" on the new database",
					NameStr(task->source))));
	SetConfigOption("search_path", PITR_SEARCH_PATH, PGC_SUSET, PGC_S_SESSION);
	cleanup_run_automatic("restore_database", task->restore_key);
}

void
pitr_database_load(PitrDbTask *task)
{
	PitrSideServer *s;

	SetCurrentStatementStartTimestamp();
	StartTransactionCommand();
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	PushActiveSnapshot(GetTransactionSnapshot());
	s = pitr_side_attach(task->side_dir, task->side_port, NameStr(task->source));

	ereport(NOTICE,
			(errmsg("loading the schema of database \"%s\" as it was",
					NameStr(task->source))));
	load_section(task, "pre-data");
	copy_tables(task, s);
	ereport(NOTICE, (errmsg("building indexes, constraints and triggers")));
	load_section(task, "post-data");
	set_sequences(s);
	pitr_side_detach(s);

	SPI_finish();
	PopActiveSnapshot();
	CommitTransactionCommand();
	if (task->run_hooks)
		run_hooks(task);
}
