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

#endif							/* PITR_ARCHIVE_MODULE_H */
