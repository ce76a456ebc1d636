/*-------------------------------------------------------------------------
 *
 * read_ahead.c
 *	  How far past the stop record recovery reads WAL, and the check that
 *	  what it reads there cannot stop it with FATAL.
 *
 * On PostgreSQL 15 and later recovery reads records through the
 * prefetcher (xlogprefetcher.c).  With recovery_prefetch on (or "try", the
 * default) it decodes records ahead of replay until the decode buffer
 * (wal_decode_buffer_size) or its queue of block references
 * (maintenance_io_concurrency times 4) is full, and it reads the page of
 * the next record's header before it finds the buffer full: how far that
 * goes past the stop depends on the restoring server's configuration and
 * on the records themselves.  With recovery_prefetch = off the queue holds
 * one entry (max_distance 1), the reader decodes a record only when replay
 * asks for the next one, and recovery decides to stop before or after the
 * record it has just read (recoveryStopsBefore / recoveryStopsAfter in
 * xlogrecovery.c): it reads the WAL up to the end of the stop record and
 * no further.  The settings pitr_restore emits carry recovery_prefetch =
 * off (settings.c, and the tools' commands, tool_command.c), so the
 * segments recovery reads are exactly those from the backup's start to
 * the one holding the stop record's end (wal_last).
 *
 * Those are certified with the path; this check adds what
 * RestoreArchivedFile() does with them: a plain copy of the wrong size
 * stops the server with FATAL ("archive file ... has wrong size") even
 * where a compressed copy of the segment is whole.  It looks at the files
 * as they are at the call.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <sys/stat.h>

#include "access/xlog_internal.h"
#include "miscadmin.h"

#include "resolve/model.h"
#include "resolve/read_ahead.h"

char *
pitr_read_ahead_problem(const PitrResolution *r, int segsize)
{
	PitrArchiveInfo a = {0};
	PitrPath   *p;
	XLogSegNo	stopseg;
	XLogSegNo	last;

	if (!pitr_model_wal_segno(r->wal_last, segsize, &last))
		return NULL;
	p = pitr_model_resolution_path(r, segsize, &a);
	XLByteToSeg(r->stop_lsn, stopseg, segsize);
	for (XLogSegNo seg = stopseg; seg <= last; seg++)
	{
		char	   *name = pitr_model_segment_name(&a,
												   pitr_model_serving_tli(&a, p, seg),
												   seg);
		char	   *path = psprintf("%s/%s", r->archive_dir, name);
		struct stat st;

		CHECK_FOR_INTERRUPTS();
		if (lstat(path, &st) == 0 && S_ISREG(st.st_mode) &&
			st.st_size != segsize)
			return psprintf("recovery reads segment %s, which holds %s, and its archived copy holds %lld bytes, not %d: PostgreSQL stops with FATAL when it restores a segment of the wrong size",
							name,
							seg == stopseg ? "the stop record" : "the end of the stop record",
							(long long) st.st_size, segsize);
		pfree(path);
		pfree(name);
	}
	return NULL;
}
