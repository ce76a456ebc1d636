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

/*
 * A file's stamp: mtime and ctime to the nanosecond and inode, as text
 * ("" and false if it cannot be had).  Any write, rename over or touch
 * changes it.
 */
#define PITR_STAMP_LEN 96
extern bool pitr_file_stamp(const char *dir, const char *name, char *out);
struct stat;
extern void pitr_stat_stamp(const struct stat *st, char *out);

/* The archive the last refresh_archive() call refreshed. */
extern char pitr_refresh_last_dir[];

/*
 * If a file the index holds of the archive changed (size, mtime, gone),
 * refresh the index and return true.  The caller is inside SPI.
 */
extern bool pitr_refresh_if_files_changed(const char *dir);

#endif							/* PITR_ARCHIVE_INDEX_H */
