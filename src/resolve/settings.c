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
#include "source/archive_source.h"
#include "source/tool_command.h"
#include "util/gucs.h"

/* pitr_restore.barman_config, NULL when empty (Barman's default). */
static const char *
barman_config(void)
{
	return pitr_barman_config && pitr_barman_config[0] ? pitr_barman_config : NULL;
}

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
	cmd = NULL;
	if (pitr_source_maybe_tool(dir))
	{
		/* pgBackRest or Barman: fetch with the tool itself. */
		PitrArchiveSource *src = pitr_source_open(dir);

		cmd = pitr_source_tool_restore_command(src, barman_config());
	}
	if (cmd == NULL)
		cmd = pitr_flat_restore_command(dir, held);
	SPI_finish();
	return cmd;
}

/*
 * The lines for postgresql.auto.conf that make recovery stop exactly where
 * the resolution says: restore_command, the target, its inclusiveness, a
 * numeric timeline, the action, and recovery_prefetch = off, so recovery
 * reads no segment the resolution did not certify.
 */
char *
pitr_resolution_recovery_conf(const PitrResolution *res)
{
	StringInfoData buf;

	initStringInfo(&buf);
	appendStringInfo(&buf, "restore_command = %s\n",
					 pitr_quote_conf(res->restore_command ? res->restore_command : ""));
	if (res->setting == PITR_TOOL_TARGET_IMMEDIATE)
		appendStringInfoString(&buf, "recovery_target = 'immediate'\n");
	else
		appendStringInfo(&buf, "recovery_target_%s = %s\n",
						 pitr_tool_target_kind_name(res->setting),
						 pitr_quote_conf(res->setting_value));
	if (res->emit_inclusive)
		appendStringInfo(&buf, "recovery_target_inclusive = '%s'\n",
						 res->inclusive ? "on" : "off");
	appendStringInfo(&buf, "recovery_target_timeline = '%u'\n", res->timeline);
	appendStringInfo(&buf, "recovery_target_action = %s\n",
					 pitr_quote_conf(res->action));
	/* Recovery reads no WAL past the stop record (see read_ahead.c). */
	appendStringInfo(&buf, "%s = '%s'\n", PITR_READ_AHEAD_SETTING,
					 PITR_READ_AHEAD_VALUE);
	return buf.data;
}


/*
 * The backup tool's own restore command for a resolution, stopping at the
 * same point as recovery_conf (same target, inclusiveness, numeric timeline
 * and action); NULL for a flat archive.  The one place where the archive
 * sources' command builders plug in.  pgBackRest restores into the stanza's
 * configured pg1-path (keyword form) or "$PGDATA"; Barman needs a
 * destination, which the resolution does not know: the command restores
 * into "$PGDATA", for the caller to set.
 *
 * pgBackRest and Barman write --target into postgresql.auto.conf without
 * escaping it: a restore point name they cannot carry (a quote, backslash,
 * control or non-ASCII character) is never given to them; the command
 * stops at the same record by its LSN instead, and a warning says so.
 */
char *
pitr_resolution_tool_command(PitrResolution *res)
{
	PitrArchiveSource *src;
	PitrToolTarget t = {0};

	if (!res->reachable || res->archive_dir == NULL || res->backup_label == NULL)
		return NULL;

	/*
	 * Only the keyword form or a directory with a tool's own marks is
	 * opened as a source: the detection reads the whole directory, which a
	 * flat archive of many segments need not pay for on every resolution.
	 */
	if (!pitr_source_maybe_tool(res->archive_dir))
		return NULL;
	src = pitr_source_open(res->archive_dir);
	if (src->layout == PITR_LAYOUT_FLAT)
		return NULL;

	t.kind = res->setting;
	t.value = res->setting_value;
	t.inclusive = res->inclusive;
	if (t.value != NULL && !pitr_tool_value_safe(t.value))
	{
		/* recovery_target_name stops after the restore point's record. */
		t.kind = PITR_TOOL_TARGET_LSN;
		t.value = psprintf("%X/%X", LSN_FORMAT_ARGS(res->stop_lsn));
		t.inclusive = true;
		res->warnings = lappend(res->warnings,
								psprintf("tool_command targets the restore point by its LSN %s: %s would write its name into postgresql.auto.conf unescaped",
										 t.value,
										 src->layout == PITR_LAYOUT_PGBACKREST ? "pgBackRest" : "Barman"));
		res->has_warnings = true;
	}
	t.tli = res->timeline;
	t.action = res->action;
	if (src->layout == PITR_LAYOUT_PGBACKREST)
		return pitr_pgbackrest_restore_command(src, res->backup_label, &t, NULL);
	return pitr_barman_recover_command(src, barman_config(),
									   res->backup_label, &t, NULL);
}
