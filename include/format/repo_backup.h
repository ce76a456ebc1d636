/*-------------------------------------------------------------------------
 *
 * repo_backup.h
 *	  A base backup as a backup tool's repository describes it (pgBackRest
 *	  backup.info and backup.manifest, Barman backup.info), and the rule
 *	  deciding whether a differential or incremental backup can be used.
 *
 *-------------------------------------------------------------------------
 */
#ifndef PITR_REPO_BACKUP_H
#define PITR_REPO_BACKUP_H

#include "access/xlogdefs.h"

#include "format/tool_ini.h"

typedef enum PitrRepoBackupType
{
	PITR_REPO_BACKUP_FULL,
	PITR_REPO_BACKUP_DIFF,
	PITR_REPO_BACKUP_INCR
} PitrRepoBackupType;

typedef struct PitrRepoBackup
{
	const char *format;			/* "pgbackrest" or "barman" */
	char	   *label;			/* pgBackRest label or Barman backup id */
	PitrRepoBackupType type;
	char	   *prior;			/* the backup this one depends on, or NULL */
	XLogRecPtr	start_lsn;
	XLogRecPtr	stop_lsn;
	TimeLineID	tli;			/* from the first WAL file's name */
	char	   *wal_start;		/* first WAL segment needed */
	char	   *wal_stop;		/* last WAL segment needed */
	int64		start_epoch;	/* pgBackRest: seconds since the epoch */
	int64		stop_epoch;
	char	   *start_time;		/* Barman: timestamp text, else NULL */
	char	   *stop_time;
	bool		error;			/* the tool marks the backup failed */
	char	   *status;			/* the tool's word for its state */
	uint64		system_identifier;	/* 0 if the file does not say */
} PitrRepoBackup;

extern const char *pitr_repo_backup_type_name(PitrRepoBackupType t);

/*
 * Whether backup "b" can be restored given the backups "all" of the same
 * repository: it is not in error and, if differential or incremental,
 * every backup of its chain down to the full one is present and usable.
 * On false, *why says which link is missing or failed.
 */
extern bool pitr_repo_backup_usable(const PitrRepoBackup *b,
									PitrRepoBackup *const *all, int n,
									char **why);

/* Strict "X/X" hexadecimal LSN; false if malformed. */
extern bool pitr_parse_lsn_text(const char *s, XLogRecPtr *lsn);

#endif							/* PITR_REPO_BACKUP_H */
