/*-------------------------------------------------------------------------
 *
 * restore_build.h
 *	  Restore building: materialise a base backup (plain, tar, tar.gz,
 *	  tar.lz4, tar.zst) into a new data directory, verified against its
 *	  backup_manifest while it is written.
 *
 * restore_build.c owns the SQL function, the temporary directory, the
 * recovery settings and the final rename; restore_copy.c copies a plain
 * backup or extracts tars into the temporary directory.
 *
 *-------------------------------------------------------------------------
 */
#ifndef PITR_RESTORE_BUILD_H
#define PITR_RESTORE_BUILD_H

#include "backup.h"

/* Where a restore is being built, and what it has written so far. */
typedef struct RestoreState
{
	const char *tmpdir;			/* absolute path of the directory being built */
	PitrManifestFile **mf;		/* manifest files sorted by path */
	bool	   *seen;			/* parallel to mf: written already */
	int			nmf;
	int64		files;			/* files written */
	int64		bytes;			/* bytes written */
	int64		expected_bytes; /* sum of manifest sizes, for progress */
	int64		next_notice;	/* bytes at which the next NOTICE is due */
	char	   *buf;			/* copy buffer, RESTORE_BUFSIZE bytes */
	char		last_dir[MAXPGPATH];	/* last directory known to exist */
	bool		verify_only;	/* check files against the manifest, write
								 * nothing (restore_combine.c) */
} RestoreState;

#define RESTORE_BUFSIZE (1024 * 1024)

/*
 * Files pg_verifybackup does not verify either: pg_basebackup -R rewrites
 * postgresql.auto.conf and adds standby.signal on the client side, after
 * the server has written the manifest.  Returns true for them.
 */
extern bool restore_unverified_file(const char *relpath);

/* Files of a backup that are not copied into a restore at all. */
extern bool restore_skipped_file(const char *relpath);

/*
 * Copy the plain backup in "srcdir" into st->tmpdir.  Tablespaces (symbolic
 * links in pg_tblspc) become directories under pg_tblspc/<oid>.
 */
extern void restore_copy_plain(RestoreState *st, const char *srcdir);

/*
 * Extract one tar of a tar-format backup.  "compression" is "none", "gzip",
 * "lz4" or "zstd"; every entry goes under "prefix" ("" for base.tar,
 * "pg_tblspc/<oid>/" for a tablespace, "pg_wal/" for pg_wal.tar); entries
 * are checked against the manifest when "verify" is true.
 */
extern void restore_extract_tar(RestoreState *st, const char *path,
								const char *compression, const char *prefix,
								bool verify);

/*
 * Move what directory "from" holds up into "to", then remove "from"; the
 * names "skip" picks are removed instead of moved.
 */
extern void restore_move_up(const char *from, const char *to,
							bool (*skip) (const char *name));

/* Copy one file into st->tmpdir as it is, unverified. */
extern void restore_copy_file_as_is(RestoreState *st, const char *src,
									const char *relpath);

/*
 * Read a backup_manifest into st (its files, sorted, for verification);
 * returns the files as PitrManifestFile pointers.  ERROR if it is missing
 * or invalid.
 */
extern List *restore_load_manifest(RestoreState *st, const char *path);

/* Extract every tar of a tar-format backup into st->tmpdir. */
extern void restore_extract_tars(RestoreState *st, const char *location);

/* ERROR unless every file the manifest lists was written. */
extern void restore_check_all_written(RestoreState *st);

/*
 * Incremental backups (PostgreSQL 17+), restore_combine.c.  Is the backup
 * at "location" (whose manifest lists "files") incremental?  Its chain,
 * full backup first, as PitrBackup pointers: an ERROR naming the missing
 * or damaged link if it is broken.  The chain combined with the server's
 * own pg_combinebackup into st->tmpdir, every link and the result verified
 * against their manifests; st then holds the result's manifest.
 */
extern bool restore_is_incremental(const char *location, const char *format,
								   List *files);
extern List *restore_chain_of(const char *location);
extern void restore_check_combine_privilege(void);
extern int64 restore_chain_bytes(List *chain);
extern void restore_combine_chain(RestoreState *st, List *chain);

#endif							/* PITR_RESTORE_BUILD_H */
