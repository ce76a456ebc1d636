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

#endif							/* PITR_BACKUP_DIR_H */
