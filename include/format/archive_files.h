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
	bool		regular;		/* a regular file (lstat), not a FIFO, link ... */
} PitrArchiveFile;

/*
 * Classify an archive file name; false if it is not one PostgreSQL's
 * archiver writes (with an optional compression suffix, compression.h).
 */
extern bool pitr_classify_file_name(const char *name, PitrArchiveFile *f);

/*
 * Every archive file in a directory, sorted by name; ERROR if unreadable.
 * Entries that are not regular files are listed with regular = false (they
 * are reported, never opened).  Other archive layouts plug in here.
 */
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

/* What reading a file found; the index keeps it as the file's status. */
typedef enum PitrReadStatus
{
	PITR_READ_OK,
	PITR_READ_UNREADABLE,		/* could not open or read it: may be transient,
								 * so the next scan tries again */
	PITR_READ_NOT_REGULAR,		/* a FIFO, directory, symlink ... */
	PITR_READ_TRUNCATED,		/* content ends early */
	PITR_READ_TOO_LARGE,		/* content longer than wanted ("exact") */
	PITR_READ_CORRUPT			/* compressed data the decompression command
								 * would reject */
} PitrReadStatus;

extern const char *pitr_read_status_name(PitrReadStatus status);

/*
 * Open a file for reading without blocking and without following a
 * symlink; -1 (could not open, *msg set) or -2 (not a regular file, *msg
 * set) on failure.  Close it with CloseTransientFile.
 */
extern int	pitr_open_regular(const char *path, char **msg);

/*
 * Read up to "want" bytes of the decompressed content of a file into buf,
 * as the decompression command of its compression would give them.  With
 * "exact", more content than "want" is PITR_READ_TOO_LARGE.  *got is the
 * number of bytes read; on failure *msg says why in a sentence (palloc'd).
 * *disk_bytes is increased by the bytes read from disk.
 */
extern PitrReadStatus pitr_read_file(PitrFileReader *r, const char *path,
									 PitrCompression compression, char *buf,
									 int64 want, bool exact, int64 *disk_bytes,
									 int64 *got, char **msg);

/*
 * The whole content of a small file (at most "max" bytes), NUL-terminated;
 * NULL with *status and *msg set when it cannot be had.
 */
extern char *pitr_read_small_file(PitrFileReader *r, const char *path,
								  PitrCompression compression, int64 max,
								  int64 *len, int64 *disk_bytes,
								  PitrReadStatus *status, char **msg);

/*
 * The one reader of small configuration and metadata files (a pgBackRest
 * configuration, a tool's ini file, backup_label, a manifest, PG_VERSION,
 * a history file): the whole content, NUL-terminated, of a regular file of
 * at most "max" bytes, opened without blocking and without following a
 * symlink, interrupts checked.  "what" names the file in messages ("file",
 * "pgBackRest configuration file").  NULL on failure, with *msg a sentence
 * and *err_no the errno of a failed open (else 0).
 */
extern char *pitr_read_whole_file(const char *path, const char *what,
								  int64 max, int64 *len, int *err_no,
								  char **msg);

/* The same, raising the ERROR; NULL only for a missing file if missing_ok. */
extern char *pitr_read_whole_file_or_error(const char *path, const char *what,
										   int64 max, bool missing_ok,
										   int64 *len);

#endif							/* PITR_ARCHIVE_FILES_H */
