/*-------------------------------------------------------------------------
 *
 * pitr_restore.h
 *	  Settings and small helpers shared by every part of pitr_restore.
 *
 *-------------------------------------------------------------------------
 */
#ifndef PITR_RESTORE_H
#define PITR_RESTORE_H

/* GUC variables (pitr_restore.c) */
extern char *pitr_archive_dir;
extern char *pitr_backup_dir;

/* Raise an ERROR unless the caller (GetOuterUserId()) may read server files. */
extern void pitr_check_read_privilege(void);

/* Raise an ERROR unless the caller (GetOuterUserId()) may write server files. */
extern void pitr_check_write_privilege(void);

/*
 * The archive directory a call speaks of: the argument when given, else the
 * session's pitr_restore.archive_dir.  The result is canonicalised.
 */
extern char *pitr_archive_dir_arg(text *arg);

#endif							/* PITR_RESTORE_H */
