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

#include "cleanup.h"
#include "history.h"

PG_FUNCTION_INFO_V1(pitr_cleanup_restore_key);

/* Marker content beyond this is not part of the restore's name. */
#define MAX_MARKER_LEN 1024
/* A history file has one short line per timeline. */
#define MAX_HISTORY_LEN (1024 * 1024)

/* Read up to maxlen bytes of a file, NULL if it does not exist. */
static char *
read_small_file(const char *path, size_t maxlen)
{
	FILE	   *f = AllocateFile(path, "r");
	char	   *buf;
	size_t		n;

	if (f == NULL)
	{
		if (errno == ENOENT)
			return NULL;
		ereport(ERROR,
				(errcode_for_file_access(),
				 errmsg("could not open file \"%s\": %m", path)));
	}
	buf = palloc(maxlen + 1);
	n = fread(buf, 1, maxlen, f);
	if (ferror(f))
		ereport(ERROR,
				(errcode_for_file_access(),
				 errmsg("could not read file \"%s\": %m", path)));
	FreeFile(f);
	buf[n] = '\0';
	return buf;
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

char *
cleanup_file_restore_key(const char **trigger)
{
	char		path[MAXPGPATH];
	char	   *content;
	TimeLineID	tli;
	char	   *reason;
	List	   *entries;
	char	   *err;

	*trigger = NULL;
	snprintf(path, sizeof(path), "%s/%s", DataDir, PITR_RESTORE_MARKER_FILE);
	if ((content = read_small_file(path, MAX_MARKER_LEN)) != NULL)
	{
		char	   *name = trim(content);

		*trigger = "restore built by pitr_restore";
		if (name[0] == '\0')
		{
			struct stat st;

			/* an empty marker still names one restore: its creation time */
			if (stat(path, &st) != 0)
				ereport(ERROR,
						(errcode_for_file_access(),
						 errmsg("could not stat file \"%s\": %m", path)));
			return psprintf("marker: created %ld", (long) st.st_mtime);
		}
		return psprintf("marker: %s", name);
	}

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
	*trigger = "point-in-time recovery";
	return psprintf("timeline %u: %s", tli, reason);
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
