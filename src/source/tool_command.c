/*-------------------------------------------------------------------------
 *
 * tool_command.c
 *	  pgBackRest's and Barman's own restore commands for a target: the same
 *	  backup, target, inclusive flag, numeric timeline and action as the
 *	  recovery settings pitr_restore writes, in the options each tool
 *	  turns into exactly those settings (pgBackRest: --type, --target,
 *	  --target-exclusive, --target-timeline, --target-action; Barman:
 *	  --target-<kind>, --exclusive, --target-tli, --target-action), and
 *	  recovery_prefetch = off, which bounds what recovery reads past the
 *	  stop (pgBackRest: --recovery-option; Barman has no such option: the
 *	  line is appended to the postgresql.auto.conf it wrote).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "lib/stringinfo.h"

#include "format/quote.h"
#include "source/tool_command.h"

static const char *const kind_names[] = {
	[PITR_TOOL_TARGET_IMMEDIATE] = "immediate",
	[PITR_TOOL_TARGET_TIME] = "time",
	[PITR_TOOL_TARGET_NAME] = "name",
	[PITR_TOOL_TARGET_LSN] = "lsn",
	[PITR_TOOL_TARGET_XID] = "xid",
};

const char *
pitr_tool_target_kind_name(PitrToolTargetKind kind)
{
	Assert(kind >= 0 && kind < lengthof(kind_names));
	return kind_names[kind];
}

bool
pitr_tool_target_kind(const char *name, PitrToolTargetKind *kind)
{
	for (int i = 0; i < lengthof(kind_names); i++)
		if (strcmp(name, kind_names[i]) == 0)
		{
			*kind = (PitrToolTargetKind) i;
			return true;
		}
	return false;
}

static void
check_target(const PitrToolTarget *t)
{
	if ((t->kind == PITR_TOOL_TARGET_IMMEDIATE) != (t->value == NULL))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("a %s target %s a value", kind_names[t->kind],
						t->kind == PITR_TOOL_TARGET_IMMEDIATE ? "takes no" : "needs")));
	if (strcmp(t->action, "pause") != 0 && strcmp(t->action, "promote") != 0 &&
		strcmp(t->action, "shutdown") != 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid recovery action \"%s\"", t->action),
				 errhint("The actions are pause, promote and shutdown.")));
	if (t->value != NULL && !pitr_tool_value_safe(t->value))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("target value cannot be given to the backup tool"),
				 errdetail("pgBackRest and Barman write the target into postgresql.auto.conf without escaping quotes, backslashes, control or non-ASCII characters.")));
}

bool
pitr_tool_value_safe(const char *v)
{
	for (const unsigned char *p = (const unsigned char *) v; *p; p++)
		if (*p < 0x20 || *p >= 0x7f || *p == '\'' || *p == '\\')
			return false;
	return true;
}

/* One argument: a shell word (the one quoter). */
static void
word(StringInfo buf, const char *s)
{
	appendStringInfoChar(buf, ' ');
	appendStringInfoString(buf, pitr_quote_shell(s));
}

char *
pitr_pgbackrest_restore_command(const PitrArchiveSource *src, const char *label,
								const PitrToolTarget *t, const char *pgdata)
{
	StringInfoData buf;

	check_target(t);
	if (src->layout != PITR_LAYOUT_PGBACKREST)
		elog(ERROR, "not a pgBackRest archive");
	initStringInfo(&buf);
	appendStringInfoString(&buf, "pgbackrest");
	word(&buf, psprintf("--stanza=%s", src->stanza));
	if (src->config)
		word(&buf, psprintf("--config=%s", src->config));
	if (src->repo > 0)
		appendStringInfo(&buf, " --repo=%d", src->repo);
	if (!src->via_config && src->repo_path)
	{
		/* A stanza given as a directory: that repository, no configuration. */
		word(&buf, "--config=/dev/null");
		word(&buf, psprintf("--repo1-path=%s", src->repo_path));
	}
	if (pgdata)
		word(&buf, psprintf("--pg1-path=%s", pgdata));
	else if (!src->via_config)
		appendStringInfoString(&buf, " --pg1-path=\"$PGDATA\"");
	appendStringInfoString(&buf, " restore");
	word(&buf, psprintf("--set=%s", label));
	appendStringInfo(&buf, " --type=%s", kind_names[t->kind]);
	if (t->value)
		word(&buf, psprintf("--target=%s", t->value));
	/* Inclusive is the default; a name target has no exclusive form. */
	if (!t->inclusive && t->kind != PITR_TOOL_TARGET_IMMEDIATE &&
		t->kind != PITR_TOOL_TARGET_NAME)
		appendStringInfoString(&buf, " --target-exclusive");
	if (t->tli > 0 && t->kind != PITR_TOOL_TARGET_IMMEDIATE)
		appendStringInfo(&buf, " --target-timeline=%u", t->tli);
	appendStringInfo(&buf, " --target-action=%s", t->action);
	appendStringInfo(&buf, " --recovery-option=%s=%s",
					 PITR_READ_AHEAD_SETTING, PITR_READ_AHEAD_VALUE);
	return buf.data;
}

char *
pitr_barman_recover_command(const PitrArchiveSource *src, const char *config,
							const char *backup_id, const PitrToolTarget *t,
							const char *dest)
{
	StringInfoData buf;
	const char *server;

	check_target(t);
	if (src->layout != PITR_LAYOUT_BARMAN)
		elog(ERROR, "not a Barman archive");
	server = strrchr(src->wal_dir, '/');
	server = server ? server + 1 : src->wal_dir;
	initStringInfo(&buf);
	appendStringInfoString(&buf, "barman");
	if (config)
	{
		appendStringInfoString(&buf, " -c");
		word(&buf, config);
	}
	appendStringInfoString(&buf, " recover");
	if (t->kind == PITR_TOOL_TARGET_IMMEDIATE)
		appendStringInfoString(&buf, " --target-immediate");
	else
	{
		appendStringInfo(&buf, " --target-%s", kind_names[t->kind]);
		word(&buf, t->value);
	}
	if (!t->inclusive && (t->kind == PITR_TOOL_TARGET_TIME ||
						  t->kind == PITR_TOOL_TARGET_XID ||
						  t->kind == PITR_TOOL_TARGET_LSN))
		appendStringInfoString(&buf, " --exclusive");
	if (t->tli > 0 && t->kind != PITR_TOOL_TARGET_IMMEDIATE)
		appendStringInfo(&buf, " --target-tli %u", t->tli);
	appendStringInfo(&buf, " --target-action %s", t->action);
	word(&buf, server);
	word(&buf, backup_id);
	if (dest)
		word(&buf, dest);
	else
		appendStringInfoString(&buf, " \"$PGDATA\"");

	/*
	 * barman recover has no option for another setting: it is appended to
	 * the postgresql.auto.conf Barman wrote, after Barman's own lines.
	 */
	appendStringInfo(&buf, " && echo \"%s = '%s'\" >>",
					 PITR_READ_AHEAD_SETTING, PITR_READ_AHEAD_VALUE);
	if (dest)
		word(&buf, psprintf("%s/postgresql.auto.conf", dest));
	else
		appendStringInfoString(&buf, " \"$PGDATA\"/postgresql.auto.conf");
	return buf.data;
}
