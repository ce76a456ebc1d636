/*-------------------------------------------------------------------------
 *
 * index_store.h
 *	  The SPI store of the archive index: every query the scanner runs on
 *	  the pitr_restore.archive* tables, in one place.  Callers are inside
 *	  SPI, in a function whose search_path is pinned.
 *
 *-------------------------------------------------------------------------
 */
#ifndef PITR_INDEX_STORE_H
#define PITR_INDEX_STORE_H

#include "executor/spi.h"
#include "lib/stringinfo.h"
#include "nodes/pg_list.h"
#include "utils/hsearch.h"

#include "archive_files.h"
#include "backup.h"
#include "segment_head.h"
#include "segment_source.h"
#include "walscan.h"

/* pitr_spi_check and pitr_spi_prepare, for the store's callers too. */
#include "util/pitr_spi.h"

/* An archive being scanned: its row, locked for this transaction. */
typedef struct PitrStore
{
	const char *dir;			/* canonical real path */
	int			archive_id;
	uint64		sysid;			/* 0 until settled */
	int			segsize;		/* 0 until settled */
	bool		has_link;		/* archive_file has first_prev, last_lsn: the 1.2 schema */
} PitrStore;

/* What the index already holds of a file. */
typedef struct PitrKnownFile
{
	char		name[MAXPGPATH];
	int64		size;
	int64		mtime;
	bool		seen;			/* still in the directory */
	bool		retry;			/* failed for a reason that may pass */
	bool		unused;			/* a copy recovery does not fetch */
	bool		complete;		/* an ok segment */
	XLogRecPtr	next_lsn;
	XLogRecPtr	last_lsn;		/* start of its last record, if known */
	char		stamp[96];		/* pitr_file_stamp(), "" if not recorded */
	bool		cur_valid;		/* cur_stamp taken in this scan */
	char		cur_stamp[96];	/* the file's stamp now, "" if gone */
} PitrKnownFile;

/*
 * Take the archive's transaction-level advisory lock (keyed on its
 * canonical path) and register it.  With wait = false, returns false at
 * once if another session holds the lock; waiting respects lock_timeout.
 */
extern bool pitr_store_open(PitrStore *store, const char *dir, bool wait);

/*
 * Is another session scanning the archive right now (holding its lock)?
 * Takes nothing: the probe is released at once.
 */
extern bool pitr_store_scan_running(const char *dir);

/* Does archive_file have the 1.2 columns (first_prev, last_lsn, file_stamp)? */
extern bool pitr_store_has_link_columns(void);

/* Does archive have index_generation (1.3)? */
extern bool pitr_store_has_generation(void);

/* The archive's id if it was indexed, else 0. */
extern int	pitr_store_indexed_id(const char *dir);

/* The archive's segment size; 0 when not indexed or without WAL. */
extern int	pitr_store_segment_size(int archive_id);

/* The archive's id if its directory's mtime is what the last scan saw. */
extern int	pitr_store_unchanged_id(const char *dir, const char *mtime);

/* Files the index holds for the archive, by name (PitrKnownFile). */
extern HTAB *pitr_store_known_files(PitrStore *store);

/*
 * Each file the index holds of archive "archive_id", with the size, mtime
 * (seconds) and stamp (NULL if none) it was read with, handed to "fn" until
 * fn returns false; returns fn's last answer (true if there is no file).
 */
typedef bool (*PitrIndexedFileFn) (const char *name, int64 size, int64 mtime,
								   const char *stamp, void *arg);
extern bool pitr_store_each_file(int archive_id, PitrIndexedFileFn fn,
								 void *arg);

extern void pitr_store_delete_file(PitrStore *store, const char *name);

/* One archive_file row; head and sum NULL when not read that far. */
typedef struct PitrFileRow
{
	PitrArchiveFile *file;
	const char *stamp;			/* pitr_file_stamp() when read, or NULL */
	const char *status;
	const char *detail;
	const PitrSegmentHead *head;
	const PitrSegmentSummary *sum;
} PitrFileRow;

extern void pitr_store_insert_file(PitrStore *store, const PitrFileRow *row);
extern void pitr_store_insert_event(PitrStore *store, PitrArchiveFile *f,
									PitrWalEvent *ev);
extern void pitr_store_insert_history(PitrStore *store, PitrArchiveFile *f,
									  List *entries);
extern void pitr_store_insert_backup_history(PitrStore *store,
											 PitrArchiveFile *f,
											 PitrBackup *b);

/*
 * Hand every timeline's history in the index to a segment source, and to
 * the scan workers' setup when not NULL.
 */
struct PitrScanSetup;
extern void pitr_store_load_histories(PitrStore *store, PitrSegmentSource *src,
									  struct PitrScanSetup *setup);

extern void pitr_store_set_identity(PitrStore *store, uint64 sysid, int segsize);

/* Recompute the runs of usable segments and record the scan. */
extern void pitr_store_finish_scan(PitrStore *store, const char *dir_mtime);

/* Base backups: what each location's signature was at the last read. */
extern List *pitr_store_backup_signatures(void);	/* list of (loc, sig) */

/* Replace the base backup rows; sigs is a list of (location, signature). */
extern void pitr_store_replace_backups(const char *dir, List *backups,
									   List *sigs);

/*
 * Replace the base backups a backup tool's repository lists for archive
 * location "archive" (their location must be set).
 */
extern void pitr_store_replace_repo_backups(const char *archive,
											List *backups);

/* restore points, timelines and backups of the archive, for scan_archive. */
extern void pitr_store_counts(const char *dir, Datum *restore_points,
							  Datum *timelines, Datum *backups);

/* An indexed archive's directory, system identifier and segment size. */
extern void pitr_store_load_archive(int archive_id, char **dir, uint64 *sysid,
									int *segsize);

#endif							/* PITR_INDEX_STORE_H */
