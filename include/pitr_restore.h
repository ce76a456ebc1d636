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

/* The privilege checks (util/privilege.c). */
#include "util/privilege.h"

/*
 * The archive directory a call speaks of: the argument when given, else the
 * session's pitr_restore.archive_dir.  The result is canonicalised.
 */
extern char *pitr_archive_dir_arg(text *arg);

#endif							/* PITR_RESTORE_H */
