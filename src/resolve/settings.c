/*-------------------------------------------------------------------------
 *
 * settings.c
 *	  The recovery settings a resolution emits (see settings.h and
 *	  resolution.h): restore_command, the postgresql.conf lines and the
 *	  backup tool's own restore command.
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
#include "resolve/resolution.h"
#include "resolve/settings.h"

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
 * The restore_command for an indexed flat archive, from the compressions
 * the index saw in it; NULL if the archive is not indexed.  Allocated in
 * the caller's memory context.
 */
char *
pitr_archive_restore_command(int archive_id)
{
	Oid			types[1] = {INT4OID};
	Datum		v[1];
	bool		held[PITR_NUM_COMPRESSIONS] = {0};
	char	   *dir;
	char	   *cmd;
	bool		isnull;
	MemoryContext caller = CurrentMemoryContext;

	v[0] = Int32GetDatum(archive_id);
	SPI_connect();
	if (SPI_execute_with_args("SELECT directory, compressions FROM pitr_restore.archive "
							  "WHERE archive_id OPERATOR(pg_catalog.=) $1",
							  1, types, v, NULL, true, 1) != SPI_OK_SELECT)
		elog(ERROR, "could not read the archive's row");
	if (SPI_processed != 1)
	{
		SPI_finish();
		return NULL;
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
	/* The result must outlive SPI's memory. */
	MemoryContextSwitchTo(caller);
	cmd = pitr_flat_restore_command(dir, held);
	SPI_finish();
	return cmd;
}

static const char *const setting_names[] = {
	[PITR_SETTING_IMMEDIATE] = "recovery_target",
	[PITR_SETTING_TIME] = "recovery_target_time",
	[PITR_SETTING_NAME] = "recovery_target_name",
	[PITR_SETTING_LSN] = "recovery_target_lsn",
	[PITR_SETTING_XID] = "recovery_target_xid",
};

/*
 * The lines for postgresql.auto.conf that make recovery stop exactly where
 * the resolution says: restore_command, the target, its inclusiveness, a
 * numeric timeline and the action.
 */
char *
pitr_resolution_recovery_conf(const PitrResolution *res)
{
	StringInfoData buf;

	initStringInfo(&buf);
	appendStringInfo(&buf, "restore_command = %s\n",
					 pitr_quote_conf(res->restore_command ? res->restore_command : ""));
	if (res->setting == PITR_SETTING_IMMEDIATE)
		appendStringInfoString(&buf, "recovery_target = 'immediate'\n");
	else
		appendStringInfo(&buf, "%s = %s\n", setting_names[res->setting],
						 pitr_quote_conf(res->setting_value));
	if (res->emit_inclusive)
		appendStringInfo(&buf, "recovery_target_inclusive = '%s'\n",
						 res->inclusive ? "on" : "off");
	appendStringInfo(&buf, "recovery_target_timeline = '%u'\n", res->timeline);
	appendStringInfo(&buf, "recovery_target_action = %s\n",
					 pitr_quote_conf(res->action));
	return buf.data;
}

/*
 * The backup tool's own restore command for a resolution, stopping at the
 * same point as recovery_conf; NULL for a flat archive.  This is the one
 * place where pgBackRest and Barman sources plug in their command builders
 * (from the fields setting, setting_value, inclusive, timeline, action and
 * backup_label).
 */
char *
pitr_resolution_tool_command(const PitrResolution *res)
{
	if (!res->reachable)
		return NULL;
	/* Only flat archives so far: they have no tool of their own. */
	return NULL;
}
