/*-------------------------------------------------------------------------
 *
 * scan_workers.h
 *	  The parallel first scan: segments summarised by dynamic background
 *	  workers, handed back to the scanning backend through shm_mq as
 *	  sidecar text, which the backend checks and stores.  A worker's ERROR
 *	  is raised again in the backend, SQLSTATE and detail included.
 *
 *-------------------------------------------------------------------------
 */
#ifndef PITR_SCAN_WORKERS_H
#define PITR_SCAN_WORKERS_H

#include "nodes/pg_list.h"

#include "archive_files.h"
#include "segment_head.h"
#include "sidecar.h"

extern void pitr_scan_define_gucs(void);

typedef struct PitrScanPool PitrScanPool;

/*
 * The archive's description for the workers, collected by the backend
 * (pitr_scan_setup_*) and copied into shared memory by pitr_scan_pool_start.
 */
typedef struct PitrScanSetup
{
	const char *dir;
	int			segsize;
	uint64		sysid;
	List	   *histories;		/* timeline, parent, switch point: in order */
	List	   *files;			/* the segment files (PitrArchiveFile *) */
} PitrScanSetup;

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
extern PitrScanPool *pitr_scan_pool_start(const PitrScanSetup *setup,
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

/* The archive's description for the workers (the first call resets it). */
extern void pitr_scan_setup_archive(PitrScanSetup *setup, const char *dir,
									int segsize, uint64 sysid);
extern void pitr_scan_setup_history(PitrScanSetup *setup, TimeLineID tli,
									TimeLineID parent, XLogRecPtr switchpoint);
extern void pitr_scan_setup_file(PitrScanSetup *setup, const PitrArchiveFile *f);

extern PGDLLEXPORT void pitr_scan_worker_main(Datum arg);

#endif							/* PITR_SCAN_WORKERS_H */
