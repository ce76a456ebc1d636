/*-------------------------------------------------------------------------
 *
 * pgbackrest_exec.h
 *	  Reading a pgBackRest repository through the pgbackrest binary
 *	  (repo-ls, repo-get), for every repository type pitr_restore cannot
 *	  read directly: S3, Azure, GCS, SFTP, encrypted.
 *
 *-------------------------------------------------------------------------
 */
#ifndef PITR_PGBACKREST_EXEC_H
#define PITR_PGBACKREST_EXEC_H

typedef struct PitrPgbrCommand
{
	const char *stanza;
	const char *config;			/* NULL: pgBackRest's default */
	int			repo;			/* 0: not given */
} PitrPgbrCommand;

/*
 * ERROR unless the caller may run the pgbackrest program
 * (pitr_check_program_privilege).
 */
extern void pitr_pgbackrest_check_privilege(void);

/*
 * Run "pgbackrest <options> <args>" and return its standard output; NULL
 * with *err set (the exit status and what pgbackrest wrote on stderr) if
 * it fails.  "args" is already shell-quoted.
 */
extern char *pitr_pgbackrest_capture(const PitrPgbrCommand *cmd,
									 const char *args, size_t *len,
									 char **err);

/*
 * repo-get a repository file (path relative to the repository) into a new
 * temporary file, which is removed when the current memory context is
 * reset; returns its path, or NULL with *err set.
 */
extern char *pitr_pgbackrest_get_to_temp(const PitrPgbrCommand *cmd,
										 const char *repo_path, char **err);

/*
 * "pgbackrest restore" of the backup the index lists at "location" (see
 * pitr_source_backup_rows) into the existing empty directory "pgdata",
 * without recovery settings of pgBackRest's own (--type=none); false with
 * *err set if pgbackrest fails.  The caller checks the privileges.
 */
extern bool pitr_pgbackrest_restore_into(const char *location,
										 const char *pgdata, char **err);

#endif							/* PITR_PGBACKREST_EXEC_H */
