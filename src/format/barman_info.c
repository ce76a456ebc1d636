/*-------------------------------------------------------------------------
 *
 * barman_info.c
 *	  Barman's base/<backup id>/backup.info: begin/end WAL and LSN,
 *	  timeline, status.  Values are Python's text for them (None for
 *	  absent ones).
 *
 *-------------------------------------------------------------------------
 */
/* Frontend too, for the fuzzing harness (test/fuzz/). */
#ifdef FRONTEND
#include "postgres_fe.h"
#else
#include "postgres.h"
#endif

#include "access/xlog_internal.h"
#include "common/string.h"

#include "format/barman_info.h"

static const char *
value(const PitrIni *ini, const char *key)
{
	const char *v = pitr_ini_get(ini, "", key);

	return (v == NULL || strcmp(v, "None") == 0) ? NULL : v;
}

static bool
is_wal_name(const char *s)
{
	return s && strlen(s) == XLOG_FNAME_LEN &&
		strspn(s, "0123456789ABCDEF") == XLOG_FNAME_LEN;
}

PitrParseStatus
pitr_parse_barman_backup_info(const char *buf, size_t len,
							  const char *backup_id, PitrRepoBackup *out,
							  char **msg)
{
	PitrIni		ini;
	PitrParseStatus rc;
	const char *s;

	memset(out, 0, sizeof(*out));
	if ((rc = pitr_ini_parse(buf, len, true, &ini, msg)) != PITR_PARSE_OK)
		return rc;
	out->format = "barman";
	out->label = pstrdup(backup_id);
	out->type = PITR_REPO_BACKUP_FULL;

	s = value(&ini, "status");
	if (s == NULL)
	{
		*msg = pstrdup("key \"status\" is missing");
		return PITR_PARSE_MISSING;
	}
	out->status = pstrdup(s);
	/* Only DONE backups are complete (others: STARTED, FAILED, WAITING_FOR_WALS...). */
	out->error = strcmp(s, "DONE") != 0;

	s = value(&ini, "begin_xlog");
	if (s == NULL || !pitr_parse_lsn_text(s, &out->start_lsn))
	{
		*msg = pstrdup("begin_xlog is missing or malformed");
		return s ? PITR_PARSE_INVALID : PITR_PARSE_MISSING;
	}
	s = value(&ini, "begin_wal");
	if (!is_wal_name(s))
	{
		*msg = pstrdup("begin_wal is missing or malformed");
		return PITR_PARSE_INVALID;
	}
	out->wal_start = pstrdup(s);

	s = value(&ini, "timeline");
	if (s == NULL || strspn(s, "0123456789") != strlen(s) || strlen(s) > 10 ||
		(out->tli = strtoul(s, NULL, 10)) == 0)
	{
		*msg = pstrdup("timeline is missing or malformed");
		return PITR_PARSE_INVALID;
	}
	s = value(&ini, "systemid");
	if (s && strspn(s, "0123456789") == strlen(s) && strlen(s) <= 20)
		out->system_identifier = strtou64(s, NULL, 10);
	s = value(&ini, "begin_time");
	out->start_time = s ? pstrdup(s) : NULL;

	/* A backup still running or failed has no end yet. */
	if (!out->error)
	{
		s = value(&ini, "end_xlog");
		if (s == NULL || !pitr_parse_lsn_text(s, &out->stop_lsn) ||
			out->stop_lsn < out->start_lsn)
		{
			*msg = pstrdup("end_xlog is missing or malformed");
			return PITR_PARSE_INVALID;
		}
		s = value(&ini, "end_wal");
		if (!is_wal_name(s))
		{
			*msg = pstrdup("end_wal is missing or malformed");
			return PITR_PARSE_INVALID;
		}
		out->wal_stop = pstrdup(s);
		s = value(&ini, "end_time");
		out->stop_time = s ? pstrdup(s) : NULL;
	}
	return PITR_PARSE_OK;
}
