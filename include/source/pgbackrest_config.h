/*-------------------------------------------------------------------------
 *
 * pgbackrest_config.h
 *	  "pgbackrest:stanza=<name> [config=<file>] [repo=<n>]": the repository
 *	  exactly as pgBackRest's own configuration defines it.
 *
 *-------------------------------------------------------------------------
 */
#ifndef PITR_PGBACKREST_CONFIG_H
#define PITR_PGBACKREST_CONFIG_H

typedef struct PitrPgbrRepo
{
	char	   *stanza;
	char	   *config;			/* config= as given, or NULL (the default) */
	int			repo;			/* repo= as given, or 0 */
	int			repo_index;		/* the repository used */
	char	   *type;			/* repoN-type: posix, s3, azure, gcs, sftp, cifs */
	char	   *path;			/* repoN-path */
	char	   *cipher;			/* repoN-cipher-type: none or aes-256-cbc */
	bool		local;			/* posix or cifs and not encrypted: its files
								 * can be read directly */
} PitrPgbrRepo;

/*
 * Parse the keywords (after "pgbackrest:") and read pgBackRest's
 * configuration; ERROR on unknown keywords, a missing stanza or an
 * unreadable configuration file that was named explicitly.
 */
extern void pitr_pgbackrest_resolve(const char *keywords, PitrPgbrRepo *out);

/*
 * The root of the local pgBackRest repository "location" (keyword form or
 * "<repo>/archive/<stanza>") belongs to, with its stanza; NULL if none.
 */
extern char *pitr_pgbackrest_local_repo(const char *location, char **stanza);

#endif							/* PITR_PGBACKREST_CONFIG_H */
