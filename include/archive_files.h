/*-------------------------------------------------------------------------
 *
 * archive_files.h
 *	  The files of a WAL archive: naming, listing and reading them, plain
 *	  or compressed.
 *
 *-------------------------------------------------------------------------
 */
#ifndef PITR_ARCHIVE_FILES_H
#define PITR_ARCHIVE_FILES_H

#include "access/xlogdefs.h"
#include "nodes/pg_list.h"

#include "format/compression.h"

typedef enum PitrFileKind
{
	PITR_FILE_SEGMENT,			/* 000000010000000000000001 */
	PITR_FILE_PARTIAL,			/* 000000010000000000000001.partial */
	PITR_FILE_HISTORY,			/* 00000002.history */
	PITR_FILE_BACKUP			/* 000000010000000000000002.00000028.backup */
} PitrFileKind;


typedef struct PitrArchiveFile
{
	char	   *name;			/* file name in the archive directory */
	PitrFileKind kind;
	PitrCompression compression;
	TimeLineID	tli;
	uint32		log;			/* middle 8 hex digits of a segment name */
	uint32		seg;			/* last 8 hex digits of a segment name */
	int64		size;			/* on disk */
	int64		mtime;			/* seconds since the epoch */
} PitrArchiveFile;

/*
 * Classify an archive file name; false if it is not one PostgreSQL's
 * archiver writes (with an optional .zst or .gz suffix).
 */
extern bool pitr_classify_file_name(const char *name, PitrArchiveFile *f);

/* Every archive file in a directory, sorted by name; ERROR if unreadable. */
extern List *pitr_list_archive(const char *dir);

extern const char *pitr_file_kind_name(PitrFileKind k);

/* The segment number a segment file name stands for, given the size. */
extern XLogSegNo pitr_file_segno(const PitrArchiveFile *f, int segsize);

/*
 * A reader of archive files.  It owns the decompression state, which is
 * freed when the memory context it was created in is reset or deleted, so
 * an ERROR or a cancel leaks nothing.
 */
typedef struct PitrFileReader PitrFileReader;

extern PitrFileReader *pitr_file_reader_create(void);

/*
 * Read up to "want" bytes of the decompressed content of a file into buf.
 * Returns the number of bytes read, or -1 with *err set (a palloc'd
 * sentence fragment) when the file is unreadable, corrupt or, with
 * "exact", larger than "want".  *disk_bytes is increased by the bytes read
 * from disk.
 */
extern int64 pitr_read_file(PitrFileReader *r, const char *path,
							PitrCompression compression, char *buf,
							int64 want, bool exact, int64 *disk_bytes,
							char **err);

#endif							/* PITR_ARCHIVE_FILES_H */
