/*-------------------------------------------------------------------------
 *
 * archive_index.h
 *	  The archive index tables, kept up to date by scan_archive()
 *	  (archive_scan.c; the SPI store is index_store.h).
 *
 *-------------------------------------------------------------------------
 */
#ifndef PITR_ARCHIVE_INDEX_H
#define PITR_ARCHIVE_INDEX_H

typedef struct PitrScanResult
{
	int			archive_id;
	int64		segments_total;
	int64		segments_scanned;
	int64		bytes_read;
	uint64		system_identifier;
	int			segment_size;
} PitrScanResult;

/*
 * The canonical real path of an archive directory (realpath): every alias
 * of one directory names one archive.  ERROR if it is not a directory.
 */
extern char *pitr_canonical_archive(const char *dir);

/* Refresh the index of an archive directory; the caller is inside SPI. */
extern void pitr_refresh_archive(const char *dir, PitrScanResult *res);

/*
 * Set by refresh_archive() to the archive's path when another session was
 * scanning it, so the index used is the one last committed; else "".
 */
extern char pitr_refresh_busy_dir[];

#endif							/* PITR_ARCHIVE_INDEX_H */
