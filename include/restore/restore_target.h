/*-------------------------------------------------------------------------
 *
 * restore_target.h
 *	  Where a restore may be written: real-path checks of a target
 *	  directory, and the stamped temporary directory a restore is built in.
 *
 *-------------------------------------------------------------------------
 */
#ifndef PITR_RESTORE_TARGET_H
#define PITR_RESTORE_TARGET_H

/* Suffix of the temporary sibling of a target directory: "<dir>" SUFFIX "<pid>" */
#define RESTORE_TMP_SUFFIX ".pitr_restore_tmp."

/* The stamp file inside a temporary directory, removed before the rename. */
#define RESTORE_STAMP_FILE "pitr_restore.building"

/*
 * The real path "target" names: realpath of its parent, which must exist,
 * plus its last component; an ERROR if the target exists already or is not
 * absolute.  *parent receives the real parent.
 */
extern char *restore_real_target(const char *target, char **parent);

/*
 * ERROR unless the real target lies outside (and does not contain) the
 * running server's data directory, pg_wal, its tablespaces, the archive
 * directories (pitr_restore.archive_dir and "archive_dir" when not NULL),
 * pitr_restore.backup_dir, and "backup" when not NULL.
 */
extern void restore_check_target_clear(const char *real_target,
									   const char *archive_dir,
									   const char *backup);

/* Create the temporary directory "path" and its stamp; ERROR on failure. */
extern void restore_make_tmpdir(const char *path);

/* Remove the stamp before the directory becomes the restore. */
extern void restore_unstamp(const char *path);

/*
 * Remove temporary directories in "parent" left by backends that are gone,
 * but only those that prove they were made by us (a directory, not a link,
 * owned by our user, holding a stamp naming the pid in its name); report
 * every other candidate and leave it alone.
 */
extern void restore_sweep_stale(const char *parent);

/*
 * The same sweep, calling "before_remove" on each directory it has proven
 * stale, before removing it: dirfd is open on that directory (opened
 * without following a link), path names it.  For what a dead backend may
 * have left running in it (a side server).
 */
typedef void (*restore_stale_hook) (int dirfd, const char *path);
extern void restore_sweep_stale_with(const char *parent,
									 restore_stale_hook before_remove);

/*
 * Remove the tree at "path" without following any symbolic link (openat
 * relative removal).  Allocates no memory, raises no ERROR: usable from an
 * exit callback.  Returns false if anything was left.
 */
extern bool restore_remove_tree(const char *path);

#endif							/* PITR_RESTORE_TARGET_H */
