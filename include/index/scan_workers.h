/*-------------------------------------------------------------------------
 *
 * scan_workers.h
 *	  The parallel first scan: segments summarised by dynamic background
 *	  workers, handed back to the scanning backend through shm_mq as
 *	  sidecar text, which the backend checks and stores.
 *
 *-------------------------------------------------------------------------
 */
#ifndef PITR_SCAN_WORKERS_H
#define PITR_SCAN_WORKERS_H

#include "lib/stringinfo.h"

#include "archive_files.h"
#include "segment_head.h"
#include "sidecar.h"

extern void pitr_scan_define_gucs(void);

typedef struct PitrScanPool PitrScanPool;

/* One segment for a worker, with the head the backend read of it. */
typedef struct PitrScanItem
{
	PitrArchiveFile *file;
	PitrSegmentHead head;
} PitrScanItem;

/*
 * Start workers over items[0..nitems), in WAL order.  "setup" holds the
 * archive (pitr_scan_setup_*).  NULL when no worker could be started:
 * the caller reads the segments itself.
 */
extern PitrScanPool *pitr_scan_pool_start(const char *setup,
										  PitrScanItem *items, int nitems,
										  int nworkers);

/*
 * The summary of items[i], asked for in order.  True with *sc set (a
 * sidecar made by a worker, its prev_file and start saying which
 * predecessor it used); false when the worker left the segment to the
 * backend (a file it could not read).  ERROR if a worker failed.
 * *bytes_read grows by what the worker read for it.
 */
extern bool pitr_scan_pool_next(PitrScanPool *pool, int i, PitrSidecar **sc,
								int64 *bytes_read);

/* Wait for the workers to exit and release the pool. */
extern void pitr_scan_pool_finish(PitrScanPool *pool);

/* Stop the workers now (on ERROR). */
extern void pitr_scan_pool_terminate(PitrScanPool *pool);

/* The archive's description for the workers. */
extern void pitr_scan_setup_archive(StringInfo setup, const char *dir,
									int segsize, uint64 sysid);
extern void pitr_scan_setup_history(StringInfo setup, TimeLineID tli,
									TimeLineID parent, XLogRecPtr switchpoint);
extern void pitr_scan_setup_file(StringInfo setup, const PitrArchiveFile *f);

extern PGDLLEXPORT void pitr_scan_worker_main(Datum arg);

#endif							/* PITR_SCAN_WORKERS_H */
