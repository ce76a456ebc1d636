/*-------------------------------------------------------------------------
 *
 * certify.c
 *	  What resolve_target certifies is the archive as it is at the call.
 *
 * The resolution itself reads the index (a cache of what the archive said
 * when it was scanned, partly taken from the archive module's sidecars)
 * and walks the real WAL around the stop.  Before its answer is given:
 *
 *	- every segment file on the path from the backup to the stop is
 *	  compared (lstat: size, mtime, and the stamp of mtime and ctime to the
 *	  nanosecond and inode) with what the index read; if one
 *	  changed, vanished or was rewritten in place, the index is refreshed
 *	  (the changed file and the one after it are read again, their chain
 *	  checked) and the target resolved again;
 *	- the segment holding the stop is read from the last record of the one
 *	  before it: the first record's link (xl_prev) and CRC are checked by
 *	  the server's reader, so a same-named segment of another history
 *	  (whose sidecar may still describe the original) is found out;
 *	- the stop record of a restore point target is read in the real
 *	  segment: a restore point of that name must begin exactly where the
 *	  index places it, else the answer is unreachable (a sidecar is a
 *	  cache, never a proof);
 *	- an answer "unreachable" is given only after every file the index
 *	  holds was compared with the directory (a segment put right in place);
 *	- an answer "unreachable" given while another session was refreshing
 *	  the index is not given: the other scan is waited for (within
 *	  lock_timeout) and the target resolved again, or the reason says so.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <sys/stat.h>

#include "access/xlog_internal.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "storage/proc.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/pg_lsn.h"
#include "utils/timestamp.h"

#include "archive_index.h"
#include "index_store.h"
#include "index/stamp_cache.h"
#include "resolve/certify.h"
#include "resolve/read_ahead.h"
#include "resolve/resolve_internal.h"
#include "source/archive_source.h"

/* Resolutions one call may make before it gives up on a changing archive. */
#define MAX_ATTEMPTS 3

/* How often to look whether another session's scan has ended. */
#define SCAN_POLL_MS 20

static const char Q_SEGSIZE[] =
"SELECT segment_size FROM pitr_restore.archive "
"WHERE archive_id OPERATOR(pg_catalog.=) $1";

static void
unreachable(PitrResolution *r, char *reason)
{
	int			id = r->archive_id;
	char	   *dir = r->archive_dir;

	memset(r, 0, sizeof(*r));
	r->archive_id = id;
	r->archive_dir = dir;
	r->reason = reason;
}

/*
 * When "problem" says why the resolution's stop fails a check, make the
 * resolution unreachable: "the stop at <lsn> cannot be <verb>: <problem>".
 * True if it did.
 */
static bool
stop_refused(PitrResolution *r, const char *verb, const char *problem)
{
	XLogRecPtr	at = r->stop_lsn;

	if (problem == NULL)
		return false;
	unreachable(r, psprintf("the stop at %X/%X cannot be %s: %s",
							LSN_FORMAT_ARGS(at), verb, problem));
	return true;
}

/*
 * The first file on the resolution's path (flat archive) whose size,
 * mtime or stamp is not what the index read, or that is gone; NULL if
 * none.  Every indexed file of the path's timelines from the first
 * segment to the last is looked at, at every call (stamp_cache.c keeps
 * what the index says between calls, stamp_check.c looks).
 */
static char *
changed_path_file(const PitrResolution *r, int segsize)
{
	XLogSegNo	lo;
	XLogSegNo	hi;
	TimeLineID *tlis;

	if (r->wal_first == NULL || r->wal_last == NULL ||
		pitr_source_maybe_tool(r->archive_dir) ||
		!pitr_model_wal_segno(r->wal_first, segsize, &lo) ||
		!pitr_model_wal_segno(r->wal_last, segsize, &hi))
		return NULL;

	tlis = palloc(sizeof(TimeLineID) * Max(r->npath, 1));
	for (int i = 0; i < r->npath; i++)
		tlis[i] = r->path[i];
	return pitr_stamps_changed_on_path(r->archive_id, r->archive_dir, tlis,
									   r->npath, lo, hi);
}

/*
 * Does a restore point named "name" begin exactly at the stop the
 * resolution made?  Read in the real segment, along the resolution's path.
 */
static bool
stop_is_restore_point(const PitrResolution *r, const char *name, int segsize,
					  char **problem)
{
	PitrArchiveInfo a = {0};
	PitrPath   *p;
	PitrStopQuery q = {0};
	PitrWalkOutcome o;

	p = pitr_model_resolution_path(r, segsize, &a);
	q.kind = PITR_STOP_NAME;
	q.target_name = name;
	q.inclusive = true;
	q.limit_lsn = r->stop_lsn + 1;	/* the one record at stop_lsn */
	pitr_walk_path(a.id, p->n, p->tli, p->begin, r->stop_lsn, &q, &o);
	if (o.found && o.stop_lsn == r->stop_lsn)
		return true;
	*problem = o.problem;
	return false;
}

static const char Q_REPO_BACKUPS[] =
"SELECT b.name, coalesce(b.problem, 'usable') FROM pitr_restore.base_backup b "
"WHERE b.repository OPERATOR(pg_catalog.=) $1 ORDER BY b.name";

/*
 * "No usable base backup" over a backup tool's archive: its backups are
 * the repository's, not pitr_restore.backup_dir's; say what the repository
 * lists and why none of it serves.
 */
static void
explain_no_backup(PitrResolution *r, const char *dir)
{
	const char *generic = "no usable base backup of this archive in pitr_restore.backup_dir";
	Oid			types[1] = {TEXTOID};
	Datum		v[1];
	uint64		rows;
	StringInfoData buf;

	if (r->reason == NULL || strncmp(r->reason, generic, strlen(generic)) != 0 ||
		!pitr_source_maybe_tool(dir))
		return;
	v[0] = CStringGetTextDatum(dir);
	rows = pitr_resolve_query(Q_REPO_BACKUPS, 1, types, v, NULL, true, 0);
	if (rows == 0)
	{
		r->reason = psprintf("no usable base backup: the repository of \"%s\" lists none",
							 dir);
		return;
	}
	initStringInfo(&buf);
	for (uint64 i = 0; i < rows; i++)
		appendStringInfo(&buf, "%s%s: %s", i ? "; " : "",
						 pitr_resolve_col_text(i, 1), pitr_resolve_col_text(i, 2));
	r->reason = psprintf("no usable base backup: the repository of \"%s\" lists %llu, none usable (%s)",
						 dir, (unsigned long long) rows, buf.data);
}

/* The last record of one segment and the first of the next, on a timeline. */
static const char Q_LINK[] =
"SELECT p.last_lsn, s.first_lsn FROM pitr_restore.archive_file p, pitr_restore.archive_file s "
"WHERE p.archive_id OPERATOR(pg_catalog.=) $1 AND s.archive_id OPERATOR(pg_catalog.=) $1 "
"AND p.kind OPERATOR(pg_catalog.=) 'segment' AND s.kind OPERATOR(pg_catalog.=) 'segment' "
"AND p.timeline OPERATOR(pg_catalog.=) $2 AND s.timeline OPERATOR(pg_catalog.=) $3 "
"AND p.segno OPERATOR(pg_catalog.=) $4 AND s.segno OPERATOR(pg_catalog.=) ($4 OPERATOR(pg_catalog.+) 1) "
"AND p.last_lsn IS NOT NULL AND s.first_lsn IS NOT NULL "
"ORDER BY p.compression OPERATOR(pg_catalog.=) 'none' DESC, s.compression OPERATOR(pg_catalog.=) 'none' DESC "
"LIMIT 1";

/*
 * Does the segment holding the stop follow the one before it in the real
 * WAL?  Read from the last record of the one before (as the index knows
 * it) to the first record of the stop's segment: the server's reader
 * checks that record's link (xl_prev) and its CRC, which covers bytes of
 * both files when it crosses between them.  The walk that found the stop
 * read on from there, record by record.  NULL if it does (or if the index
 * does not know the link: indexed before 1.2, the backup's own segment),
 * else why not.
 */
static char *
stop_segment_unlinked(const PitrResolution *r, int segsize)
{
	PitrArchiveInfo a = {0};
	PitrPath   *p;
	XLogSegNo	stopseg;
	XLogSegNo	firstseg;
	Oid			types[4] = {INT4OID, INT4OID, INT4OID, INT8OID};
	Datum		v[4];
	XLogRecPtr	last;
	XLogRecPtr	first;
	PitrStopQuery q = {0};
	PitrWalkOutcome o;

	if (!pitr_model_wal_segno(r->wal_first, segsize, &firstseg))
		return NULL;
	XLByteToSeg(r->stop_lsn, stopseg, segsize);
	if (stopseg <= firstseg)
		return NULL;
	p = pitr_model_resolution_path(r, segsize, &a);
	v[0] = Int32GetDatum(r->archive_id);
	v[1] = Int32GetDatum((int32) pitr_model_serving_tli(&a, p, stopseg - 1));
	v[2] = Int32GetDatum((int32) pitr_model_serving_tli(&a, p, stopseg));
	v[3] = Int64GetDatum((int64) (stopseg - 1));
	if (pitr_resolve_query(Q_LINK, 4, types, v, NULL, true, 1) != 1)
		return NULL;
	last = DatumGetLSN(pitr_resolve_col(0, 1));
	first = DatumGetLSN(pitr_resolve_col(0, 2));
	if (first > r->stop_lsn || last >= first)
		return NULL;
	q.kind = PITR_STOP_LSN;
	q.target_lsn = first;
	q.inclusive = true;
	q.limit_lsn = first + 1;
	pitr_walk_path(a.id, p->n, p->tli, p->begin, last, &q, &o);
	if (o.found && o.stop_lsn == first)
		return NULL;
	return psprintf("its segment does not follow the one before it in the archive's WAL: from the record at %X/%X the WAL does not lead to the record at %X/%X%s%s",
					LSN_FORMAT_ARGS(last), LSN_FORMAT_ARGS(first),
					o.problem ? " (" : "", o.problem ? psprintf("%s)", o.problem) : "");
}

/*
 * Wait until no other session scans the archive, within lock_timeout
 * (0: as long as the statement may run).  False if it did not end in time.
 */
static bool
wait_for_other_scan(const char *dir)
{
	TimestampTz start = GetCurrentTimestamp();

	while (pitr_store_scan_running(dir))
	{
		CHECK_FOR_INTERRUPTS();
		if (LockTimeout > 0 &&
			TimestampDifferenceExceeds(start, GetCurrentTimestamp(), LockTimeout))
			return false;
		pg_usleep(SCAN_POLL_MS * 1000L);
	}
	return true;
}

bool
pitr_certify_resolution(PitrResolution *r, PitrTargetKind kind,
						const char *name, int attempt)
{
	Oid			types[1] = {INT4OID};
	Datum		v[1];
	int			segsize;
	char	   *changed;
	char	   *problem = NULL;

	/* Unreachable on an index another session is refreshing: wait, retry. */
	if (!r->reachable && pitr_refresh_busy_dir[0] != '\0')
	{
		char	   *dir = pstrdup(pitr_refresh_busy_dir);

		pitr_refresh_busy_dir[0] = '\0';
		if (attempt + 1 < MAX_ATTEMPTS && wait_for_other_scan(dir))
			return true;
		r->reason = psprintf("the archive index is being refreshed by another session; try again (%s)",
							 r->reason ? r->reason : "");
		return false;
	}
	/*
	 * Unreachable: perhaps because of a file the index read before it was
	 * put right in place.  Every indexed file is compared (an unreachable
	 * answer is rare and may cost that), once.
	 */
	if (!r->reachable)
	{
		if (pitr_refresh_last_dir[0] == '\0')
			return false;
		if (attempt == 0 && pitr_refresh_if_files_changed(pitr_refresh_last_dir))
			return true;
		explain_no_backup(r, pitr_refresh_last_dir);
		return false;
	}

	v[0] = Int32GetDatum(r->archive_id);
	if (pitr_resolve_query(Q_SEGSIZE, 1, types, v, NULL, true, 1) != 1 ||
		pitr_resolve_col_null(0, 1))
		return false;
	segsize = DatumGetInt32(pitr_resolve_col(0, 1));

	/* The path's files as they are now. */
	if ((changed = changed_path_file(r, segsize)) != NULL)
	{
		PitrScanResult res;

		if (attempt + 1 >= MAX_ATTEMPTS)
		{
			unreachable(r, psprintf("archive file \"%s\" on the path from the base backup changed while the target was being certified; try again",
									changed));
			return false;
		}
		pitr_refresh_archive(r->archive_dir, &res);
		return true;
	}

	/* The stop's segment chains to the one before it, in the WAL itself. */
	if (stop_refused(r, "certified", stop_segment_unlinked(r, segsize)))
		return false;

	/* A restore point's stop record, in the WAL itself. */
	if (name != NULL &&
		(kind == PITR_TARGET_NAME || kind == PITR_TARGET_MARK) &&
		(r->setting == PITR_TOOL_TARGET_NAME || r->setting == PITR_TOOL_TARGET_LSN) &&
		!stop_is_restore_point(r, name, segsize, &problem))
	{
		XLogRecPtr	at = r->stop_lsn;

		unreachable(r, psprintf("no restore point named \"%s\" begins at %X/%X in the archive's WAL, where its index places it%s%s: the index (or a segment summary sidecar) does not describe the segment as it is",
								name, LSN_FORMAT_ARGS(at),
								problem ? ": " : "", problem ? problem : ""));
		return false;
	}

	/* What recovery reads up to the stop's end must not stop it with FATAL. */
	(void) stop_refused(r, "reached", pitr_read_ahead_problem(r, segsize));
	return false;
}
