/*-------------------------------------------------------------------------
 *
 * windows.h
 *	  The restorable windows of an archive (src/resolve/windows.c), read off
 *	  the recovery model: the rows of recovery_windows(), which
 *	  check_archive() reads too.
 *
 *-------------------------------------------------------------------------
 */
#ifndef PITR_RESOLVE_WINDOWS_H
#define PITR_RESOLVE_WINDOWS_H

#include "nodes/pg_list.h"
#include "resolve/model.h"

/* One continuous restorable stretch of a timeline's own WAL. */
typedef struct PitrWindowRow
{
	TimeLineID	tli;
	XLogRecPtr	from_lsn;
	bool		has_from_time;
	TimestampTz from_time;
	XLogRecPtr	to_lsn;
	bool		has_to_time;
	TimestampTz to_time;
	int			nbackups;
	char	  **backups;		/* report names, by consistency point */
	char	   *ended_by;
	bool		ended_by_gap;	/* a missing or corrupt segment ends it */
} PitrWindowRow;

/*
 * Refresh the archive's index and fill "a"; false when the archive holds
 * no readable WAL (nothing is restorable).  Inside the caller's
 * pitr_resolve_query_begin().
 */

/* The windows of an opened archive, by timeline and from_lsn. */
extern List *pitr_windows(const PitrArchiveInfo *a);

#endif							/* PITR_RESOLVE_WINDOWS_H */
