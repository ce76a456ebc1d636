/*-------------------------------------------------------------------------
 *
 * archive_module.h
 *	  archive_library = 'pitr_restore': the archiver's side of the
 *	  extension (see src/archive_module/archive_module.c).
 *
 *-------------------------------------------------------------------------
 */
#ifndef PITR_ARCHIVE_MODULE_H
#define PITR_ARCHIVE_MODULE_H

/*
 * Define the archive module's settings.  Called from _PG_init, so that
 * every process that loads the library knows them before the
 * "pitr_restore" prefix is reserved.
 */
extern void pitr_archive_module_define_gucs(void);

/*
 * The archive module's callbacks, without the per-version signatures:
 * src/compat/archive_module.c hands them to the archiver.
 */
extern void pitr_archive_startup(void);
extern bool pitr_archive_configured(void);
extern bool pitr_archive_file(const char *file, const char *path);

/* The zstd level archived segments get; 0 means they are stored plain. */
extern int	pitr_archive_compression_level;

#endif							/* PITR_ARCHIVE_MODULE_H */
