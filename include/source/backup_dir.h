/*-------------------------------------------------------------------------
 *
 * backup_dir.h
 *	  The directory of base backups, one pg_basebackup run per
 *	  subdirectory (backup_dir.c).
 *
 *-------------------------------------------------------------------------
 */
#ifndef PITR_BACKUP_DIR_H
#define PITR_BACKUP_DIR_H

#include "backup.h"

/*
 * One PitrBackup per immediate subdirectory of "dir" (names starting with a
 * dot are skipped), sorted by name.  A subdirectory that is not a usable
 * backup still gets an entry, with "problem" set.  ERRORs only when "dir"
 * itself cannot be read.  A relative "dir" is taken from the data directory.
 */
extern List *pitr_scan_backup_dir(const char *dir);

/*
 * Link the incremental backups of a list (PostgreSQL 17+) to the backups
 * they build on: set "chain" (locations, full backup first) on every
 * usable backup, "incremental_from" on incremental ones, and a problem
 * naming the missing or unusable link on those whose chain is broken.
 * pitr_scan_backup_dir does this already.
 */
extern void pitr_link_backup_chains(List *backups);

/*
 * As pitr_scan_backup_dir, but only the backup at "location" (a
 * subdirectory of "dir") and the backups its chain could be made of are
 * scanned and linked: what a restore of it needs, without reading every
 * backup of the directory in full.
 */
extern List *pitr_scan_backup_chain(const char *dir, const char *location);

/*
 * The order backups are listed in, wherever they come from: by start LSN,
 * then by name (the label, for a tool's repository).  A comparator's
 * answer.
 */
extern int	pitr_backup_start_order(XLogRecPtr a_start, const char *a_name,
									XLogRecPtr b_start, const char *b_name);

/* The backup at "location" in a list, or NULL. */
extern PitrBackup *pitr_find_backup(List *backups, const char *location);

#endif							/* PITR_BACKUP_DIR_H */
