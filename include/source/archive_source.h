/*-------------------------------------------------------------------------
 *
 * archive_source.h
 *	  Where a WAL archive lives and how its files are found: a flat
 *	  directory, a pgBackRest stanza archive (a directory or
 *	  "pgbackrest:stanza=<name> [config=<file>] [repo=<n>]"), or a Barman
 *	  server directory.  Each layout lists its files as the same
 *	  PitrArchiveFile records a flat archive gives, plus where each is
 *	  stored, and lists the base backups the repository describes.
 *
 *-------------------------------------------------------------------------
 */
#ifndef PITR_ARCHIVE_SOURCE_H
#define PITR_ARCHIVE_SOURCE_H

#include "datatype/timestamp.h"
#include "nodes/pg_list.h"

#include "archive_files.h"
#include "format/pgbackrest_info.h"
#include "format/repo_backup.h"

typedef enum PitrSourceLayout
{
	PITR_LAYOUT_FLAT,			/* files in one directory */
	PITR_LAYOUT_PGBACKREST,		/* <repo>/archive/<stanza>, read directly */
	PITR_LAYOUT_BARMAN			/* <barman_home>/<server> */
} PitrSourceLayout;

typedef struct PitrArchiveSource
{
	PitrSourceLayout layout;
	char	   *location;		/* as the caller gave it */
	char	   *wal_dir;		/* flat directory, stanza archive or
								 * Barman server directory */
	char	   *backup_dir;		/* <repo>/backup/<stanza>, <server>/base,
								 * or NULL */

	/* pgBackRest only */
	char	   *stanza;
	char	   *repo_path;		/* <repo> of a local repository, or NULL */
	char	   *config;			/* config= of the keyword form, or NULL */
	int			repo;			/* repo= of the keyword form, 0 if not given */
	bool		via_config;		/* given as "pgbackrest:...", so the tool's
								 * own configuration finds it */
	bool		through_binary; /* not a local unencrypted posix repository:
								 * listed and fetched with pgbackrest
								 * repo-ls/repo-get; wal_dir, backup_dir and
								 * file paths are then relative to the
								 * repository */
	PitrPgbrArchiveInfo archive_info;

	/*
	 * The system identifier the repository says its WAL belongs to
	 * (pgBackRest's archive.info); 0 when the layout does not say.  A
	 * segment whose page header carries another one is foreign.
	 */
	uint64		system_identifier;
} PitrArchiveSource;

typedef struct PitrSourceFile
{
	PitrArchiveFile f;			/* f.name is the name PostgreSQL gave the
								 * file (what restore_command's %f asks
								 * for) */
	char	   *path;			/* where the file is stored */
	char		sha1[41];		/* SHA-1 of the content the tool recorded,
								 * "" if none */
} PitrSourceFile;

/*
 * Recognise a location's layout.  ERROR if it is not a readable directory
 * or keyword string, or if its content fits no layout (saying what was
 * found).
 */
extern PitrArchiveSource *pitr_source_open(const char *location);

/*
 * The name an archive index is kept under: the keyword form of a
 * pgBackRest stanza rewritten in a fixed order (stanza, config as a real
 * path, repo); any other location as given (the caller takes its real
 * path).
 */
extern char *pitr_source_canonical_location(const char *location);

/* Declare pitr_restore.barman_config (pitr_barman_config, util/gucs.h). */
extern void pitr_source_define_gucs(void);

/*
 * Cheaply: could this location be a backup tool's archive (the keyword
 * form, archive.info, wals/)?  false means a flat directory, or an error
 * pitr_source_open() will report.
 */
extern bool pitr_source_maybe_tool(const char *location);

extern const char *pitr_source_layout_name(PitrSourceLayout layout);

/* Every archive file, as PitrSourceFile pointers sorted by f.name. */
extern List *pitr_source_list(PitrArchiveSource *src);

/*
 * pitr_read_file() for a listed file; with "exact" the content is also
 * checked against the SHA-1 the tool recorded in the name.
 */
extern int64 pitr_source_read(PitrArchiveSource *src, PitrFileReader *r,
							  const PitrSourceFile *sf, char *buf, int64 want,
							  bool exact, int64 *disk_bytes, char **err);

/*
 * The base backups the repository describes (PitrRepoBackup pointers,
 * oldest first); NIL for a flat archive.  ERROR if the repository's own
 * list (pgBackRest backup.info) is unreadable; a backup whose files are
 * missing or unreadable is listed in error.
 */
extern List *pitr_source_backups(PitrArchiveSource *src);

/*
 * A time a backup tool wrote (text, or seconds since the epoch when text is
 * NULL) as timestamptz; false if it has neither.
 */
extern bool pitr_source_repo_time(const char *text, int64 epoch,
								  TimestampTz *out);

/*
 * The same backups as PitrBackup rows for the index: location where the
 * repository keeps the backup (prefixed with "archive", the canonical
 * location, when the repository is read through pgbackrest), format
 * "pgbackrest" or "barman", problem set when pitr_repo_backup_usable()
 * refuses it.
 */
extern List *pitr_source_backup_rows(PitrArchiveSource *src,
									 const char *archive);

/*
 * The restore_command that fetches this archive's WAL with the tool
 * itself: "pgbackrest ... archive-get %f "%p"" for a pgBackRest stanza
 * (its configuration for the keyword form; for a stanza given as a
 * directory, no configuration but the repository path, and the restoring
 * cluster's own directory as pg1-path), "barman [-c <barman_config>]
 * get-wal <server> %f > "%p"" for a Barman server directory (barman_config
 * NULL: Barman's default).  Words shell-quoted, literal '%' doubled, %f and
 * %p left for the server; the caller quotes it for postgresql.conf.  NULL
 * for a flat archive.
 */
extern char *pitr_source_tool_restore_command(const PitrArchiveSource *src,
											  const char *barman_config);

#endif							/* PITR_ARCHIVE_SOURCE_H */
