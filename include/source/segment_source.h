/*-------------------------------------------------------------------------
 *
 * segment_source.h
 *	  Whole WAL segments out of an archive directory, chosen along a
 *	  timeline's history the way recovery chooses them.
 *
 *-------------------------------------------------------------------------
 */
#ifndef PITR_SEGMENT_SOURCE_H
#define PITR_SEGMENT_SOURCE_H

#include "archive_files.h"

typedef struct PitrSegmentSource PitrSegmentSource;

extern PitrSegmentSource *pitr_segsrc_create(const char *dir, int segsize);

/*
 * Read the files of a backup tool's archive (pgBackRest, Barman) through
 * its source: "files" is pitr_source_list()'s answer, files are then asked
 * for by PostgreSQL's name and read from where the tool stored them, with
 * the tool's compression (the first listed copy of a name serves).
 */
struct PitrArchiveSource;
extern void pitr_segsrc_use_source(PitrSegmentSource *src,
								   struct PitrArchiveSource *archive,
								   List *files);

/*
 * Make a segment file (not a .partial) available to timeline lookups.  Of
 * several copies of one segment, the first in pitr_fetch_order serves.
 */
extern void pitr_segsrc_add(PitrSegmentSource *src, PitrArchiveFile *f);

/* Is this the copy of its segment that recovery fetches? */
extern bool pitr_segsrc_is_fetched(PitrSegmentSource *src, PitrArchiveFile *f);

/* The parsed history (oldest first) of a timeline that has a file. */
extern void pitr_segsrc_set_history(PitrSegmentSource *src, TimeLineID tli,
									List *entries);

/* Follow this timeline's history when a segment is asked for. */
extern void pitr_segsrc_follow(PitrSegmentSource *src, TimeLineID tli);

/* Serve exactly this file for its segment number (NULL to stop). */
extern void pitr_segsrc_pin(PitrSegmentSource *src, PitrArchiveFile *f);

/* The file recovery would read for segno when following a timeline. */
extern PitrArchiveFile *pitr_segsrc_find(PitrSegmentSource *src,
										 TimeLineID tli, XLogSegNo segno);

/*
 * The content of a file, decompressed, exactly one segment long; NULL with
 * *err set when it cannot be had.  The buffer stays valid until the next
 * load of another file.
 */
extern const char *pitr_segsrc_load(PitrSegmentSource *src,
									PitrArchiveFile *f, char **err);

/*
 * Copy one page of a file into dest: plain files are read in place, like
 * pg_waldump does, compressed ones come out of the decompressed segment.
 */
extern bool pitr_segsrc_read_page(PitrSegmentSource *src, PitrArchiveFile *f,
								  XLogRecPtr pageptr, char *dest, char **err);

/*
 * A page getter's answer from file f (NULL: no file serves the page): the
 * page at pageptr read into dest, *tli the file's timeline.
 */
extern bool pitr_segsrc_get_page(PitrSegmentSource *src, PitrArchiveFile *f,
								 XLogRecPtr pageptr, char *dest,
								 TimeLineID *tli);

/* A PitrPageGetter over the source (arg is the source). */
extern bool pitr_segsrc_get(void *arg, XLogRecPtr pageptr, char *dest,
							TimeLineID *tli);

/*
 * Check that a file can serve as a whole segment: a plain one by its size,
 * a compressed one by decompressing it.  PITR_READ_OK when it can, else
 * what is wrong, with *err saying why.
 */
extern PitrReadStatus pitr_segsrc_check(PitrSegmentSource *src,
										PitrArchiveFile *f, char **err);

extern int64 pitr_segsrc_bytes_read(PitrSegmentSource *src);

/* Close the file the source holds open (an ERROR closes it by itself). */
extern void pitr_segsrc_close(PitrSegmentSource *src);

/* Read only the first page of a file; *err says why when not ok. */
extern PitrReadStatus pitr_segsrc_read_head(PitrSegmentSource *src, PitrArchiveFile *f,
								  char *page, char **err);

#endif							/* PITR_SEGMENT_SOURCE_H */
