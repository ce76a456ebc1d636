/*-------------------------------------------------------------------------
 *
 * cleanup.h
 *	  Post-restore cleanup hooks: registry, actions, runs and the worker
 *	  that runs them once after each restore.
 *
 *-------------------------------------------------------------------------
 */
#ifndef PITR_CLEANUP_H
#define PITR_CLEANUP_H

#include "utils/jsonb.h"
#include "utils/timestamp.h"

/*
 * File at the top of a data directory built by pitr_restore's restore
 * builder; its content names the restore, so the hooks run once per restore.
 */
#define PITR_RESTORE_MARKER_FILE "pitr_restore.restored"

/* The reason PostgreSQL writes in a history file after a plain promotion. */
#define PITR_NO_TARGET_REASON "no recovery target specified"

/* Called once from _PG_init: settings and the launcher worker. */
extern void pitr_cleanup_init(void);

/*
 * cleanup_actions.c: check a hook's options (ERROR when they are wrong) and
 * run it.  cleanup_execute runs with SPI connected and returns the number of
 * rows touched, or -1 when it cannot say; *detail gets a short sentence.
 */
extern void cleanup_validate(const char *action, Jsonb *options);
extern int64 cleanup_execute(const char *action, Jsonb *options,
							 bool dry_run, char **detail);
extern bool cleanup_stop_on_error(Jsonb *options);

/* The options with "table" qualified by schema, as search_path finds it now. */
extern Jsonb *cleanup_qualify_options(Jsonb *options);

/* The search_path of pitr_restore's own queries. */
#define PITR_SEARCH_PATH "pg_catalog, pitr_restore, pg_temp"

#define CLEANUP_TRIGGER_MARKER "restore built by pitr_restore"
#define CLEANUP_TRIGGER_PITR "point-in-time recovery"

/*
 * cleanup_trigger.c: the restore this cluster came from, as a stable key, or
 * NULL.  *fresh tells whether this server's own state shows that restore:
 * its current timeline was created by a recovery that ended since the
 * postmaster started (and, for the marker, after the marker was written).
 */
extern char *cleanup_marker_key(bool *fresh);
extern char *cleanup_pitr_key(bool *fresh);

/*
 * The key of a fresh marker, else of a point-in-time recovery (fresh or
 * not), else NULL; *trigger gets what kind of restore it was.
 */
extern char *cleanup_file_restore_key(const char **trigger);

/*
 * cleanup.c: one automatic run for a restore, resumed when a run with the
 * same key was interrupted.  Called outside any transaction; manages its
 * own, one per hook.
 */
extern void cleanup_run_automatic(const char *trigger, const char *restore_key);

#endif							/* PITR_CLEANUP_H */
