/*-------------------------------------------------------------------------
 *
 * pgbackrest_info.h
 *	  pgBackRest's repository files: archive.info, backup.info and a
 *	  backup's backup.manifest (INI with JSON values).  Pure parsers.
 *
 *-------------------------------------------------------------------------
 */
#ifndef PITR_PGBACKREST_INFO_H
#define PITR_PGBACKREST_INFO_H

#include "format/repo_backup.h"
#include "format/tool_ini.h"

/* One database a stanza has archived for ([db:history]). */
typedef struct PitrPgbrDb
{
	int			id;
	uint64		system_identifier;
	char	   *version;		/* "15" */
	char	   *archive_id;		/* "15-1": the archive's subdirectory */
} PitrPgbrDb;

typedef struct PitrPgbrArchiveInfo
{
	PitrPgbrDb	current;		/* [db] */
	int			n_history;
	PitrPgbrDb *history;
} PitrPgbrArchiveInfo;

extern PitrParseStatus pitr_parse_pgbackrest_archive_info(const char *buf,
														  size_t len,
														  PitrPgbrArchiveInfo *out,
														  char **msg);

/*
 * backup.info: every backup of [backup:current], in file order (oldest
 * first), each with the system identifier of its db-id.
 */
extern PitrParseStatus pitr_parse_pgbackrest_backup_info(const char *buf,
														 size_t len,
														 PitrRepoBackup ***backups,
														 int *n, char **msg);

/* A backup's backup.manifest ([backup] and [backup:db]). */
extern PitrParseStatus pitr_parse_pgbackrest_manifest(const char *buf,
													  size_t len,
													  PitrRepoBackup *out,
													  char **msg);

/*
 * A pgBackRest archive file name: "<segment>-<40 hex sha1>[.ext]" for
 * segments, the plain name for .history and .backup files.  Fills the
 * archive name (without sha1 and extension), the sha1 (or "") and the
 * compression suffix (or ""); false if it is not such a name.
 */
extern bool pitr_pgbackrest_file_name(const char *name, char *wal_name,
									  char *sha1, const char **ext);

/* One entry of "pgbackrest repo-ls --output=json --recurse". */
typedef struct PitrRepoLsEntry
{
	char	   *path;			/* relative to the listed directory */
	bool		is_file;
	int64		size;
	int64		mtime;			/* seconds since the epoch */
} PitrRepoLsEntry;

extern PitrParseStatus pitr_parse_pgbackrest_repo_ls(const char *buf,
													 size_t len,
													 PitrRepoLsEntry **entries,
													 int *n, char **msg);

#endif							/* PITR_PGBACKREST_INFO_H */
