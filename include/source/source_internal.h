/*-------------------------------------------------------------------------
 *
 * source_internal.h
 *	  What the archive source layouts (archive_source.c,
 *	  pgbackrest_source.c, barman_source.c) share; not for other layers.
 *
 *-------------------------------------------------------------------------
 */
#ifndef PITR_SOURCE_INTERNAL_H
#define PITR_SOURCE_INTERNAL_H

#include "lib/stringinfo.h"

#include "source/archive_source.h"

extern bool pitr_source_is_dir(const char *path);
extern bool pitr_source_is_file(const char *path);
extern bool pitr_source_is_hex16(const char *s);

/* A whole small file; NULL with *err set if it cannot be read. */
extern char *pitr_source_read_small_file(const char *path, size_t *len,
										 char **err);

/*
 * Append a stored file to "files" if "name" (PostgreSQL's name for it) is
 * an archive file; size and mtime from stat().
 */
extern List *pitr_source_add_file(List *files, const char *name,
								  const char *path, const char *sha1,
								  PitrCompression compression);

/* A shell word in single quotes, with '%' doubled for restore_command. */
extern void pitr_restore_command_word(StringInfo buf, const char *s);

/* pgbackrest_source.c */
extern void pitr_pgbackrest_read_archive_info(PitrArchiveSource *src);
extern List *pitr_pgbackrest_list(PitrArchiveSource *src);
extern int64 pitr_pgbackrest_read_binary(PitrArchiveSource *src,
										 PitrFileReader *r,
										 const PitrSourceFile *sf, char *buf,
										 int64 want, bool exact,
										 int64 *disk_bytes, char **err);
extern List *pitr_pgbackrest_backups(PitrArchiveSource *src);

/* barman_source.c */
extern List *pitr_barman_list(PitrArchiveSource *src);
extern List *pitr_barman_backups(PitrArchiveSource *src);

#endif							/* PITR_SOURCE_INTERNAL_H */
