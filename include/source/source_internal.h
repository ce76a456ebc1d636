/*-------------------------------------------------------------------------
 *
 * source_internal.h
 *	  The archive source drivers behind one method table, and what they
 *	  share (source_files.c); not for other layers.
 *
 * Calls run one way: the dispatcher (archive_source.c) asks a layout's
 * driver through its PitrSourceMethods (flat_source.c,
 * pgbackrest_source.c, barman_source.c), and the drivers call only
 * source_files.c, never the dispatcher.
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

/* pitr_read_file() of a file stored where the server can read it. */
extern int64 pitr_source_read_local(PitrArchiveSource *src, PitrFileReader *r,
									const PitrSourceFile *sf, char *buf,
									int64 want, bool exact, int64 *disk_bytes,
									char **err);

/* A shell word in single quotes, with '%' doubled for restore_command. */
extern void pitr_restore_command_word(StringInfo buf, const char *s);

/*
 * What every layout answers; archive_source.h says what each call returns
 * (pitr_source_list, pitr_source_read, pitr_source_backups,
 * pitr_source_tool_restore_command).  The dispatcher sorts what list and
 * backups return, and checks a read's SHA-1.
 */
typedef struct PitrSourceMethods
{
	List	   *(*list) (PitrArchiveSource *src);
	int64		(*read) (PitrArchiveSource *src, PitrFileReader *r,
						 const PitrSourceFile *sf, char *buf, int64 want,
						 bool exact, int64 *disk_bytes, char **err);
	List	   *(*backups) (PitrArchiveSource *src);
	char	   *(*restore_command) (const PitrArchiveSource *src,
									const char *barman_config);
} PitrSourceMethods;

extern const PitrSourceMethods pitr_flat_source;
extern const PitrSourceMethods pitr_pgbackrest_source;
extern const PitrSourceMethods pitr_barman_source;

/*
 * pgbackrest_source.c: archive.info of a stanza found by the dispatcher
 * (sets archive_info and system_identifier; ERROR if unreadable).
 */
extern void pitr_pgbackrest_read_archive_info(PitrArchiveSource *src);

#endif							/* PITR_SOURCE_INTERNAL_H */
