/*-------------------------------------------------------------------------
 *
 * cleanup_trigger.c
 *	  Which restore this cluster came from, as a key that names it: the
 *	  marker file the restore builder leaves, or a timeline created by a
 *	  point-in-time recovery.
 *
 * A plain standby promotion writes "no recovery target specified" as the
 * reason of its timeline and is no restore.  The key stays the same across
 * restarts, which is what makes each restore's cleanup run once.
 *
 * Anyone who may write server files can write the marker, or overwrite a
 * history file, so neither is taken on its word: evidence is "fresh" only
 * when this server's own life shows the recovery it describes, i.e. the
 * current timeline was created by a recovery that ended after this
 * postmaster started, and (for the marker) the marker was there before that
 * timeline began.  The worker acts on evidence that is not fresh only to
 * resume a run it already started.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <sys/stat.h>

#include "access/xlog.h"
#include "access/xlog_internal.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "storage/fd.h"
#include "utils/builtins.h"
#include "utils/timestamp.h"

#include "cleanup.h"
#include "format/archive_files.h"
#include "history.h"

PG_FUNCTION_INFO_V1(pitr_cleanup_restore_key);

/* Marker content beyond this is not part of the restore's name. */
#define MAX_MARKER_LEN 1024
/* A history file has one short line per timeline. */
#define MAX_HISTORY_LEN (1024 * 1024)

/* A whole file of at most maxlen bytes, NULL if it does not exist. */
static char *
read_small_file(const char *path, size_t maxlen)
{
	int64		len;

	return pitr_read_whole_file_or_error(path, "file", (int64) maxlen, true,
										 &len);
}

/* Trim white space at both ends, in place. */
static char *
trim(char *s)
{
	char	   *end;

	while (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r')
		s++;
	end = s + strlen(s);
	while (end > s && (end[-1] == ' ' || end[-1] == '\t' ||
					   end[-1] == '\n' || end[-1] == '\r'))
		*--end = '\0';
	return s;
}

/* A file's modification time, as a timestamp; false when it is absent. */
static bool
file_mtime(const char *path, TimestampTz *result)
{
	struct stat st;

	if (stat(path, &st) != 0)
	{
		if (errno == ENOENT)
			return false;
		ereport(ERROR,
				(errcode_for_file_access(),
				 errmsg("could not stat file \"%s\": %m", path)));
	}
	*result = time_t_to_timestamptz(st.st_mtim.tv_sec) +
		st.st_mtim.tv_nsec / 1000;
	return true;
}

/*
 * When the current timeline began, if a recovery that ended while this
 * postmaster runs created it (its history file is written then); else 0.
 */
static TimestampTz
timeline_born_in_this_run(void)
{
	char		path[MAXPGPATH];
	TimestampTz born;
	TimeLineID	tli;

	if (RecoveryInProgress())
		return 0;
	tli = GetWALInsertionTimeLine();
	if (tli <= 1)
		return 0;
	snprintf(path, sizeof(path), XLOGDIR "/%08X.history", tli);
	if (!file_mtime(path, &born) || born < PgStartTime)
		return 0;
	return born;
}

char *
cleanup_marker_key(bool *fresh)
{
	char		path[MAXPGPATH];
	char	   *content;
	char	   *name;
	TimestampTz written;
	TimestampTz born;

	*fresh = false;
	snprintf(path, sizeof(path), "%s/%s", DataDir, PITR_RESTORE_MARKER_FILE);
	if ((content = read_small_file(path, MAX_MARKER_LEN)) == NULL)
		return NULL;
	if (!file_mtime(path, &written))
		return NULL;
	born = timeline_born_in_this_run();
	/* the restore builder writes the marker before the server starts */
	*fresh = born != 0 && written <= born;

	name = trim(content);
	/* an empty marker still names one restore: its creation time */
	if (name[0] == '\0')
		return psprintf("marker: created %s", timestamptz_to_str(written));
	return psprintf("marker: %s", name);
}

char *
cleanup_pitr_key(bool *fresh)
{
	char		path[MAXPGPATH];
	char	   *content;
	TimeLineID	tli;
	char	   *reason;
	List	   *entries;
	char	   *err;

	*fresh = false;
	/* a standby has not finished its recovery: no restore to speak of yet */
	if (RecoveryInProgress())
		return NULL;
	tli = GetWALInsertionTimeLine();
	if (tli <= 1)
		return NULL;
	snprintf(path, sizeof(path), XLOGDIR "/%08X.history", tli);
	if ((content = read_small_file(path, MAX_HISTORY_LEN)) == NULL)
		return NULL;
	if (!pitr_parse_history(content, strlen(content), tli, &entries, &err))
		ereport(ERROR,
				(errcode(ERRCODE_DATA_CORRUPTED),
				 errmsg("invalid timeline history file \"%s\": %s", path, err)));
	/* the last entry is the switch into the current timeline */
	if (entries == NIL)
		return NULL;
	reason = ((PitrHistoryEntry *) llast(entries))->reason;
	if (reason == NULL || strcmp(reason, PITR_NO_TARGET_REASON) == 0)
		return NULL;
	*fresh = timeline_born_in_this_run() != 0;
	return psprintf("timeline %u: %s", tli, reason);
}

char *
cleanup_file_restore_key(const char **trigger)
{
	bool		fresh;
	char	   *key = cleanup_marker_key(&fresh);

	if (key != NULL && fresh)
	{
		*trigger = CLEANUP_TRIGGER_MARKER;
		return key;
	}
	*trigger = CLEANUP_TRIGGER_PITR;
	if ((key = cleanup_pitr_key(&fresh)) == NULL)
		*trigger = NULL;
	return key;
}

/* cleanup_restore_key(): the key of the restore this cluster came from. */
Datum
pitr_cleanup_restore_key(PG_FUNCTION_ARGS)
{
	const char *trigger;
	char	   *key = cleanup_file_restore_key(&trigger);

	if (key == NULL)
		PG_RETURN_NULL();
	PG_RETURN_TEXT_P(cstring_to_text(key));
}
