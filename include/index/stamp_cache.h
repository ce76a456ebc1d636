/*-------------------------------------------------------------------------
 *
 * stamp_cache.h
 *	  What the index recorded of each file (size, mtime, stamp), kept by a
 *	  backend between calls for the per-file check of a certified path,
 *	  and the check itself (stamp_check.c), in this backend and, for a
 *	  long path, in background workers beside it.
 *
 *-------------------------------------------------------------------------
 */
#ifndef PITR_STAMP_CACHE_H
#define PITR_STAMP_CACHE_H

#include <sys/stat.h>

#include "access/xlogdefs.h"
#include "storage/dsm.h"

/* One indexed file, as the per-file check compares it. */
typedef struct PitrStampEntry
{
	uint32		tli;
	uint32		name_off;		/* its name, in the cache's name area */
	uint64		segno;
	int64		size;
	int64		mtime;			/* seconds, as the index's file_mtime */
	int64		mt_sec;			/* the stamp: mtime and ctime to the */
	int64		ct_sec;			/* nanosecond, and the inode */
	uint64		ino;
	int32		mt_nsec;
	int32		ct_nsec;
	uint32		raw_off;		/* a stamp in another form: its text, else 0 */
	uint8		has_stamp;
} PitrStampEntry;

/*
 * The cache: a header, the entries (ordered by timeline and segment), then
 * the names, all in one dynamic shared memory segment the backend keeps
 * mapped (so background workers can read it without a copy).
 */
typedef struct PitrStampSet
{
	int			archive_id;
	int			nentries;
	Size		names_off;		/* from the start of this struct */
	PitrStampEntry entries[FLEXIBLE_ARRAY_MEMBER];
} PitrStampSet;

#define PITR_STAMP_NAME(set, e) ((const char *) (set) + (set)->names_off + (e)->name_off)

/* One run of consecutive entries to check: [lo, hi). */
typedef struct PitrStampRange
{
	int			lo;
	int			hi;
} PitrStampRange;

/* Is the file as the entry says?  st from lstat/fstatat(AT_SYMLINK_NOFOLLOW). */
extern bool pitr_stamp_matches(const PitrStampSet *set, const PitrStampEntry *e,
							   const struct stat *st);

/*
 * The first file on the path (every indexed file of timelines tlis[] with
 * a segment number from lo to hi) of archive archive_id in directory dir
 * whose size, mtime or stamp is not what the index read, or that is gone;
 * NULL if none.  Inside SPI.
 */
extern char *pitr_stamps_changed_on_path(int archive_id, const char *dir,
										 const TimeLineID *tlis, int ntlis,
										 XLogSegNo lo, XLogSegNo hi);

/*
 * stamp_check.c: the check of ranges of a set, NULL if all match; seg is
 * the set's segment (NULL: the set is in local memory, no helpers).
 */
extern const char *pitr_stamp_check_ranges(const PitrStampSet *set,
										   dsm_segment *seg, const char *dir,
										   const PitrStampRange *ranges,
										   int nranges);

#endif							/* PITR_STAMP_CACHE_H */
