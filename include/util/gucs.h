/*-------------------------------------------------------------------------
 *
 * gucs.h
 *	  The settings of pitr_restore as C variables, for every layer.
 *
 * A leaf header: it includes nothing, so format, source and index code can
 * read a setting without including the module root (pitr_restore.h) or a
 * higher layer.  Each variable is defined, and its setting declared to the
 * server, in the file named beside it; _PG_init (pitr_restore.c) has them
 * all declared.
 *
 *-------------------------------------------------------------------------
 */
#ifndef PITR_GUCS_H
#define PITR_GUCS_H

/* pitr_restore.c */
extern char *pitr_archive_dir;	/* archive_dir: the archive, or NULL/"" */
extern char *pitr_backup_dir;	/* backup_dir: a directory per base backup */

/* source/archive_source.c */
extern char *pitr_barman_config;	/* barman_config: Barman's file, or NULL/"" */

/* index/scan_workers.c */
extern int	pitr_scan_workers;	/* scan_workers: 0 reads in the backend */

/*
 * archive_module/archive_module.c: the zstd level archive_compression gives
 * archived segments; 0 stores them plain
 */
extern int	pitr_archive_compression_level;

/* cleanup/cleanup_worker.c */
extern bool pitr_cleanup_on_restore;	/* cleanup_on_restore */
extern char *pitr_cleanup_databases;	/* cleanup_databases */

/*
 * The archive directory a call speaks of: the argument when given, else the
 * session's pitr_restore.archive_dir.  The result is canonicalised
 * (util/gucs.c).
 */
extern char *pitr_archive_dir_arg(text *arg);

#endif							/* PITR_GUCS_H */
