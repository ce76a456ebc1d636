/*-------------------------------------------------------------------------
 *
 * settings.c
 *	  The recovery settings a resolution emits (see settings.h), and their
 *	  SQL entry points for the resolver.
 *
 * Every value is quoted for the language it lands in with format/quote.h:
 * the archive's path becomes a shell word whose '%' are doubled, and the
 * command a postgresql.conf literal.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "lib/stringinfo.h"
#include "utils/array.h"
#include "utils/builtins.h"

#include "format/compression.h"
#include "format/quote.h"
#include "resolve/settings.h"
#include "source/archive_source.h"
#include "source/tool_command.h"

PG_FUNCTION_INFO_V1(pitr_restore_command);
PG_FUNCTION_INFO_V1(pitr_conf_literal);
PG_FUNCTION_INFO_V1(pitr_tool_command_sql);

char *
pitr_flat_restore_command(const char *dir, const bool held[PITR_NUM_COMPRESSIONS])
{
	StringInfoData buf;
	char	   *qdir = pitr_escape_percent(pitr_quote_shell(dir));
	int			ncompressed = 0;
	bool		first;

	for (int i = 0; i < PITR_NUM_COMPRESSIONS; i++)
		if (pitr_fetch_order[i].decompress != NULL && held[i])
			ncompressed++;

	initStringInfo(&buf);
	if (ncompressed == 0)
	{
		appendStringInfo(&buf, "cp %s/%%f '%%p'", qdir);
		return buf.data;
	}

	/*
	 * The file's path goes through a shell variable, so it is never parsed
	 * again whatever it holds.
	 */
	appendStringInfo(&buf, "f=%s/%%f; ", qdir);
	first = true;
	for (int i = 0; i < PITR_NUM_COMPRESSIONS; i++)
	{
		const PitrCompressionInfo *c = &pitr_fetch_order[i];

		if (c->decompress != NULL && !held[i])
			continue;
		appendStringInfo(&buf, "%s [ -f \"$f%s\" ]; then ",
						 first ? "if" : "elif", c->suffix);
		first = false;
		if (c->decompress == NULL)
			appendStringInfoString(&buf, "cp \"$f\" '%p'; ");
		else
			appendStringInfo(&buf, "%s \"$f%s\" > '%%p'; ", c->decompress, c->suffix);
	}
	appendStringInfoString(&buf, "else exit 1; fi");
	return buf.data;
}

/*
 * restore_command(archive_id): the command for an indexed flat archive,
 * from the compressions the index saw in it.
 */
Datum
pitr_restore_command(PG_FUNCTION_ARGS)
{
	Oid			types[1] = {INT4OID};
	Datum		v[1];
	bool		held[PITR_NUM_COMPRESSIONS] = {0};
	char	   *dir;
	char	   *cmd;
	bool		isnull;
	MemoryContext caller = CurrentMemoryContext;
	text	   *result;

	if (PG_ARGISNULL(0))
		PG_RETURN_NULL();
	v[0] = PG_GETARG_DATUM(0);
	SPI_connect();
	if (SPI_execute_with_args("SELECT directory, compressions FROM pitr_restore.archive "
							  "WHERE archive_id OPERATOR(pg_catalog.=) $1",
							  1, types, v, NULL, true, 1) != SPI_OK_SELECT)
		elog(ERROR, "could not read the archive's row");
	if (SPI_processed != 1)
	{
		SPI_finish();
		PG_RETURN_NULL();
	}
	dir = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1);
	{
		Datum		arr = SPI_getbinval(SPI_tuptable->vals[0],
										SPI_tuptable->tupdesc, 2, &isnull);

		if (!isnull)
		{
			Datum	   *names;
			bool	   *nulls;
			int			n;

			deconstruct_array(DatumGetArrayTypeP(arr), TEXTOID, -1, false,
							  TYPALIGN_INT, &names, &nulls, &n);
			for (int j = 0; j < n; j++)
			{
				char	   *name;

				if (nulls[j])
					continue;
				name = TextDatumGetCString(names[j]);
				for (int i = 0; i < PITR_NUM_COMPRESSIONS; i++)
					if (strcmp(pitr_fetch_order[i].name, name) == 0)
						held[i] = true;
			}
		}
	}
	cmd = NULL;
	if (pitr_source_maybe_tool(dir))
	{
		/* pgBackRest or Barman: fetch with the tool itself. */
		PitrArchiveSource *src = pitr_source_open(dir);

		cmd = pitr_source_tool_restore_command(src,
											   pitr_barman_config && pitr_barman_config[0] ?
											   pitr_barman_config : NULL);
	}
	if (cmd == NULL)
		cmd = pitr_flat_restore_command(dir, held);
	/* The result must outlive SPI's memory. */
	MemoryContextSwitchTo(caller);
	result = cstring_to_text(cmd);
	SPI_finish();
	PG_RETURN_TEXT_P(result);
}

/* conf_literal(text): a postgresql.conf string literal. */
Datum
pitr_conf_literal(PG_FUNCTION_ARGS)
{
	PG_RETURN_TEXT_P(cstring_to_text(pitr_quote_conf(text_to_cstring(PG_GETARG_TEXT_PP(0)))));
}

/*
 * tool_command(arch, backup_label, recovery_conf): the backup tool's own
 * restore command doing what recovery_conf does (tool_command.c); NULL for
 * a flat archive.
 */
Datum
pitr_tool_command_sql(PG_FUNCTION_ARGS)
{
	Oid			types[1] = {INT4OID};
	Datum		v[1];
	char	   *dir;
	char	   *cmd = NULL;
	MemoryContext caller = CurrentMemoryContext;
	text	   *result = NULL;

	if (PG_ARGISNULL(0) || PG_ARGISNULL(1) || PG_ARGISNULL(2))
		PG_RETURN_NULL();
	v[0] = PG_GETARG_DATUM(0);
	SPI_connect();
	if (SPI_execute_with_args("SELECT directory FROM pitr_restore.archive "
							  "WHERE archive_id OPERATOR(pg_catalog.=) $1",
							  1, types, v, NULL, true, 1) != SPI_OK_SELECT)
		elog(ERROR, "could not read the archive's row");
	if (SPI_processed == 1)
	{
		dir = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1);
		if (pitr_source_maybe_tool(dir))
		{
			PitrArchiveSource *src = pitr_source_open(dir);

			cmd = pitr_tool_command_for_settings(src,
												 text_to_cstring(PG_GETARG_TEXT_PP(1)),
												 text_to_cstring(PG_GETARG_TEXT_PP(2)),
												 pitr_barman_config && pitr_barman_config[0] ?
												 pitr_barman_config : NULL,
												 NULL);
		}
	}
	/* The result must outlive SPI's memory. */
	MemoryContextSwitchTo(caller);
	if (cmd)
		result = cstring_to_text(cmd);
	SPI_finish();
	if (result == NULL)
		PG_RETURN_NULL();
	PG_RETURN_TEXT_P(result);
}
