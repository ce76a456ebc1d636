/*-------------------------------------------------------------------------
 *
 * tool_command.h
 *	  The backup tool's own restore command for a resolved target:
 *	  "pgbackrest ... restore --set ... --type ... --target ...
 *	  --target-timeline ..." or "barman recover ...", so a DBA who restores
 *	  with the tool stops where pitr_restore said.
 *
 *-------------------------------------------------------------------------
 */
#ifndef PITR_TOOL_COMMAND_H
#define PITR_TOOL_COMMAND_H

#include "source/archive_source.h"

typedef enum PitrToolTargetKind
{
	PITR_TOOL_TARGET_IMMEDIATE,
	PITR_TOOL_TARGET_TIME,
	PITR_TOOL_TARGET_NAME,
	PITR_TOOL_TARGET_LSN,
	PITR_TOOL_TARGET_XID
} PitrToolTargetKind;

typedef struct PitrToolTarget
{
	PitrToolTargetKind kind;
	const char *value;			/* the target as PostgreSQL's recovery_target_*
								 * setting takes it; NULL for immediate */
	bool		inclusive;
	TimeLineID	tli;			/* numeric recovery_target_timeline; 0 to
								 * leave the tool's default */
	const char *action;			/* pause, promote or shutdown */
} PitrToolTarget;

/*
 * The setting every restore pitr_restore describes carries, in
 * recovery_conf and in the tools' commands: with it recovery reads no WAL
 * past the end of the stop record (src/resolve/read_ahead.c), so nothing
 * archived after the stop can fail a restore the resolution certified.
 */
#define PITR_READ_AHEAD_SETTING "recovery_prefetch"
#define PITR_READ_AHEAD_VALUE "off"

/*
 * Whether pgBackRest and Barman carry a target value safely: they write it
 * into postgresql.auto.conf between single quotes without escaping, so
 * only printable ASCII without a quote or backslash is.
 */
extern bool pitr_tool_value_safe(const char *v);

/*
 * The kind's name: "immediate", "time", "name", "lsn" or "xid", as
 * recovery_target_<name> and the tools' options spell it.
 */
extern const char *pitr_tool_target_kind_name(PitrToolTargetKind kind);

/* "immediate", "time", "name", "lsn", "xid"; false if none of these. */
extern bool pitr_tool_target_kind(const char *name, PitrToolTargetKind *kind);

/*
 * The shell command restoring backup "label" of a pgBackRest source into
 * "pgdata" (NULL: the stanza's configured pg1-path).  Every word is
 * shell-quoted.
 */
extern char *pitr_pgbackrest_restore_command(const PitrArchiveSource *src,
											 const char *label,
											 const PitrToolTarget *t,
											 const char *pgdata);

/*
 * The shell command recovering Barman backup "backup_id" of a Barman
 * server directory into "dest"; "config" is Barman's configuration file
 * (NULL: Barman's default).  The server name is the directory's name.
 */
extern char *pitr_barman_recover_command(const PitrArchiveSource *src,
										 const char *config,
										 const char *backup_id,
										 const PitrToolTarget *t,
										 const char *dest);

#endif							/* PITR_TOOL_COMMAND_H */
