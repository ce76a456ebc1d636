/*-------------------------------------------------------------------------
 *
 * resolution.h
 *	  The resolution pipeline (src/resolve/): target -> candidate timelines
 *	  -> backup choice -> walk -> settings, and the result it fills.
 *
 *-------------------------------------------------------------------------
 */
#ifndef PITR_RESOLVE_RESOLUTION_H
#define PITR_RESOLVE_RESOLUTION_H

#include "access/xlogdefs.h"
#include "datatype/timestamp.h"
#include "nodes/pg_list.h"

#include "source/tool_command.h"

/* The target as the caller gave it. */
typedef enum PitrTargetKind
{
	PITR_TARGET_TIME,
	PITR_TARGET_NAME,
	PITR_TARGET_LSN,
	PITR_TARGET_XID,
	PITR_TARGET_MARK,
	PITR_TARGET_IMMEDIATE
} PitrTargetKind;

/*
 * What resolve_target returns, plus what the settings are made of.  Strings
 * NULL and timeline 0 stand for SQL NULL.
 */
typedef struct PitrResolution
{
	bool		reachable;
	char	   *reason;
	TimeLineID	timeline;
	int			npath;
	TimeLineID *path;			/* from the backup's timeline to timeline */
	char	   *backup_label;
	char	   *backup_location;
	char	   *backup_format;
	XLogRecPtr	backup_stop_lsn;
	XLogRecPtr	stop_lsn;
	bool		stop_before;
	XLogRecPtr	end_lsn;
	bool		has_last;
	TransactionId last_xid;
	TimestampTz last_time;
	bool		has_next;
	TransactionId next_xid;
	TimestampTz next_time;
	char	   *wal_first;
	char	   *wal_last;
	int			wal_segments;
	int64		wal_bytes;
	List	   *warnings;		/* of char *; NIL and !has_warnings: NULL */
	bool		has_warnings;
	char	   *why;

	/*
	 * The settings: emit_lsn says a restore point is named by its record's
	 * LSN, because recovery_target_name would stop at an earlier one of the
	 * same name.
	 */
	bool		emit_lsn;
	PitrToolTargetKind setting; /* the recovery_target_* setting emitted:
								 * the kinds the backup tools take too */
	char	   *setting_value;	/* as recovery_target_<setting> takes it */
	bool		emit_inclusive; /* write recovery_target_inclusive */
	bool		inclusive;
	const char *action;			/* pause, promote, shutdown */
	int			archive_id;
	char	   *archive_dir;
	char	   *restore_command;
	char	   *recovery_conf;
	char	   *tool_command;
} PitrResolution;

/* settings.c */
extern char *pitr_resolution_recovery_conf(const PitrResolution *res);
extern char *pitr_resolution_tool_command(PitrResolution *res);
extern char *pitr_archive_restore_command(int archive_id);

#endif							/* PITR_RESOLVE_RESOLUTION_H */
