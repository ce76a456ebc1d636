/*-------------------------------------------------------------------------
 *
 * segment_head.h
 *	  What the first page of a WAL segment file says: whether it is a
 *	  PostgreSQL 15 segment of the archive's system, of the right size, at
 *	  the position its name gives.  Pure: no SPI, no file access.
 *
 *-------------------------------------------------------------------------
 */
#ifndef PITR_SEGMENT_HEAD_H
#define PITR_SEGMENT_HEAD_H

#include "access/xlogdefs.h"

#include "archive_files.h"

/* The long page header's fields that matter here. */
typedef struct PitrSegmentHead
{
	uint16		magic;
	uint16		info;
	uint64		sysid;
	uint32		seg_size;
	uint32		blcksz;
	XLogRecPtr	pageaddr;
} PitrSegmentHead;

typedef enum PitrHeadStatus
{
	PITR_HEAD_OK,
	PITR_HEAD_WRONG_VERSION,	/* WAL of another major version */
	PITR_HEAD_NOT_WAL,			/* no valid long page header */
	PITR_HEAD_WRONG_SEGMENT_SIZE,	/* not the archive's segment size */
	PITR_HEAD_FOREIGN,			/* another database system's */
	PITR_HEAD_MISPLACED			/* page address does not match the name */
} PitrHeadStatus;

/* Decode the header fields of an XLOG_BLCKSZ first page. */
extern void pitr_decode_head(const char *page, PitrSegmentHead *h);

/* Could this head be a PostgreSQL 15 segment's, whatever its system? */
extern bool pitr_head_is_wal(const PitrSegmentHead *h);

/*
 * Is the head that of a segment of the archive (sysid and segsize 0 when
 * not settled yet)?  If not, *detail (palloc'd) says why, naming the file.
 */
extern PitrHeadStatus pitr_classify_head(const PitrSegmentHead *h,
										 const PitrArchiveFile *f,
										 uint64 sysid, int segsize,
										 char **detail);

/* The index's status word for a head status. */
extern const char *pitr_head_status_name(PitrHeadStatus status);

#endif							/* PITR_SEGMENT_HEAD_H */
