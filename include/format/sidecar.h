/*-------------------------------------------------------------------------
 *
 * sidecar.h
 *	  The segment summary sidecar: a small text file that the archive
 *	  module writes next to each archived segment ("<file>.pitrsum"),
 *	  holding what scan_archive would store for that segment, and the
 *	  identity (size, mtime, CRC-32C) of the archived file it describes.
 *
 * The parser is pure (no SPI, no ERROR on bad input): it returns a status
 * code and a message.  Its output is walscan's own PitrSegmentSummary with
 * its PitrWalEvent list and (format 3) its set of relation files, so the
 * index can store it as if it had read the segment.
 *
 *-------------------------------------------------------------------------
 */
#ifndef PITR_SIDECAR_H
#define PITR_SIDECAR_H

#include "access/xlogdefs.h"
#include "lib/stringinfo.h"

#include "format/compression.h"
#include "walscan.h"

/* Appended to the archived file's name. */
#define PITR_SIDECAR_SUFFIX ".pitrsum"

/* First line of every sidecar; the number is the format version. */
#define PITR_SIDECAR_MAGIC "pitr_restore segment summary"
#define PITR_SIDECAR_VERSION 3

/*
 * Version 1 lacks the link to the predecessor (first_prev, last_lsn): it is
 * still read, but the scan reads such a segment rather than trust it.
 * Version 2 lacks the relations the segment touches (sum.rels NULL: not
 * known, table_history reads the segment once).
 */
#define PITR_SIDECAR_MIN_VERSION 1

/*
 * Most relation files a sidecar lists.  A segment that touches more (a
 * restore of a large schema, a CREATE DATABASE) is written "relations -",
 * not known, and read in full by the first table_history: a few kilobytes
 * per sidecar is the point of having them.
 */
#define PITR_SIDECAR_MAX_RELATIONS 2048

/* Longest sidecar the parser accepts (one line per event). */
#define PITR_SIDECAR_MAX_SIZE (64 * 1024 * 1024)

typedef struct PitrSidecar
{
	int			version;
	/* the archived file this describes */
	char	   *file_name;		/* e.g. 000000010000000000000003.zst */
	int64		file_size;
	int64		mtime_sec;
	int32		mtime_nsec;
	uint32		crc;			/* CRC-32C of the archived bytes */
	/* the segment inside it (the first page's long header) */
	char	   *segment_name;	/* file_name without its compression suffix */
	PitrCompression compression;
	uint64		sysid;
	uint16		magic;
	uint16		info;
	uint32		seg_size;
	uint32		blcksz;
	XLogRecPtr	pageaddr;
	/* how the summary was made: the predecessor used, and the walk's start */
	char	   *prev_file;		/* NULL: none, the first record was searched */
	XLogRecPtr	start;			/* the predecessor's next_lsn, or invalid */
	PitrSegmentSummary sum;
} PitrSidecar;

typedef enum PitrSidecarStatus
{
	PITR_SIDECAR_OK,
	PITR_SIDECAR_TRUNCATED,		/* no end line: an incomplete file */
	PITR_SIDECAR_BAD_VERSION,	/* not a sidecar, or a version we cannot read */
	PITR_SIDECAR_SYNTAX,		/* a line is not what the format says */
	PITR_SIDECAR_BAD_CHECKSUM	/* the sidecar's own CRC does not match */
} PitrSidecarStatus;

/* Append the sidecar's text to buf. */
extern void pitr_sidecar_format(const PitrSidecar *sc, StringInfo buf);

/*
 * Parse a sidecar held in buf[0..len).  On PITR_SIDECAR_OK *sc is filled
 * (palloc'd in the current context); otherwise *errmsg says why.
 */
extern PitrSidecarStatus pitr_sidecar_parse(const char *buf, size_t len,
											PitrSidecar *sc, char **errmsg);

/* How much of the archived file pitr_sidecar_matches checks. */
typedef enum PitrSidecarCheck
{
	PITR_SIDECAR_CHECK_STAT,	/* name, size and mtime (no read) */
	PITR_SIDECAR_CHECK_CONTENT	/* name, size and the CRC of every byte */
} PitrSidecarCheck;

/*
 * Does the sidecar describe exactly the file at path (whose base name must
 * be sc->file_name)?  False with *why set when not, or when the file
 * cannot be read.  Never raises an ERROR.
 */
extern bool pitr_sidecar_matches(const PitrSidecar *sc, const char *path,
								 PitrSidecarCheck check, char **why);

/* CRC-32C of a whole file; false with *why set when it cannot be read. */
extern bool pitr_file_crc32c(const char *path, uint32 *crc, int64 *size,
							 char **why);

#endif							/* PITR_SIDECAR_H */
