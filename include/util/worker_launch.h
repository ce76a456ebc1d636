/*-------------------------------------------------------------------------
 *
 * worker_launch.h
 *	  Launching one of a backend's numbered dynamic background workers
 *	  (src/util/worker_launch.c).
 *
 *-------------------------------------------------------------------------
 */
#ifndef PITR_WORKER_LAUNCH_H
#define PITR_WORKER_LAUNCH_H

#include "postmaster/bgworker.h"
#include "storage/dsm.h"

/*
 * Register worker number "n" of this backend: it runs pitr_restore's
 * "function" on the DSM segment "seg" (its bgw_main_arg), reads "n" from
 * bgw_extra, is named "<type> <n> for PID <pid>", is never restarted and
 * notifies this backend.  False when no worker slot is free.
 */
extern bool pitr_launch_worker(const char *function, const char *type, int n,
							   dsm_segment *seg,
							   BackgroundWorkerHandle **handle);

#endif							/* PITR_WORKER_LAUNCH_H */
