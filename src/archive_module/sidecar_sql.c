/*-------------------------------------------------------------------------
 *
 * sidecar_sql.c
 *	  Internal SQL functions that read a segment summary sidecar, so that
 *	  tests (and a curious superuser) can compare it with what scan_archive
 *	  stored.  They are granted to nobody.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <sys/stat.h>

#include "fmgr.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "storage/fd.h"
#include "utils/builtins.h"
#include "utils/pg_lsn.h"
#include "utils/timestamp.h"

#include "format/archive_files.h"
#include "format/sidecar.h"
#include "util/row_values.h"

PG_FUNCTION_INFO_V1(pitr_sidecar_summary);
PG_FUNCTION_INFO_V1(pitr_sidecar_events);

static const char *
status_name(PitrSidecarStatus s)
{
	switch (s)
	{
		case PITR_SIDECAR_OK:
			return "ok";
		case PITR_SIDECAR_TRUNCATED:
			return "truncated";
		case PITR_SIDECAR_BAD_VERSION:
			return "bad_version";
		case PITR_SIDECAR_SYNTAX:
			return "syntax";
		case PITR_SIDECAR_BAD_CHECKSUM:
			return "bad_checksum";
	}
	return "?";
}

/* Read and parse the sidecar at path; ERROR only if it cannot be read. */
static PitrSidecarStatus
load_sidecar(const char *path, PitrSidecar *sc, char **err)
{
	int64		len;
	char	   *buf = pitr_read_whole_file_or_error(path, "segment summary",
													PITR_SIDECAR_MAX_SIZE,
													false, &len);

	return pitr_sidecar_parse(buf, len, sc, err);
}

static char *
sidecar_path_arg(FunctionCallInfo fcinfo)
{
	char	   *path = text_to_cstring(PG_GETARG_TEXT_PP(0));
	size_t		len = strlen(path);
	size_t		slen = strlen(PITR_SIDECAR_SUFFIX);

	if (!is_absolute_path(path) || len <= slen ||
		strcmp(path + len - slen, PITR_SIDECAR_SUFFIX) != 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("\"%s\" is not an absolute path to a %s file",
						path, PITR_SIDECAR_SUFFIX)));
	return path;
}

/*
 * sidecar_summary(path): the parsed sidecar, whether it matches the
 * archived file next to it (by content), and why not.
 */
Datum
pitr_sidecar_summary(PG_FUNCTION_ARGS)
{
	char	   *path = sidecar_path_arg(fcinfo);
	char	   *file_path = pnstrdup(path, strlen(path) - strlen(PITR_SIDECAR_SUFFIX));
	TupleDesc	desc;
	Datum		v[26];
	bool		n[26];
	PitrSidecar sc;
	char	   *err = NULL;
	PitrSidecarStatus status;
	bool		matches = false;

	if (get_call_result_type(fcinfo, NULL, &desc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "return type must be a row type");
	desc = BlessTupleDesc(desc);
	if (desc->natts != 26)
		elog(ERROR, "sidecar_summary must return 26 columns");
	memset(n, true, sizeof(n));

	status = load_sidecar(path, &sc, &err);
	if (status == PITR_SIDECAR_OK)
		matches = pitr_sidecar_matches(&sc, file_path, PITR_SIDECAR_CHECK_CONTENT, &err);

	v[0] = CStringGetTextDatum(status_name(status));
	n[0] = false;
	v[1] = BoolGetDatum(matches);
	n[1] = false;
	pitr_put_text(v, n, 2, err);
	if (status == PITR_SIDECAR_OK)
	{
		PitrSegmentSummary *s = &sc.sum;
		char		sysid[32];

		v[3] = CStringGetTextDatum(sc.file_name);
		v[4] = Int64GetDatum(sc.file_size);
		v[5] = CStringGetTextDatum(sc.segment_name);
		v[6] = CStringGetTextDatum(pitr_compression_name(sc.compression));
		snprintf(sysid, sizeof(sysid), UINT64_FORMAT, sc.sysid);
		v[7] = DirectFunctionCall3(numeric_in, CStringGetDatum(sysid),
								   ObjectIdGetDatum(InvalidOid), Int32GetDatum(-1));
		v[8] = Int32GetDatum(sc.magic);
		for (int i = 3; i <= 8; i++)
			n[i] = false;
		pitr_put_text(v, n, 9, sc.prev_file);
		v[10] = LSNGetDatum(sc.start);
		n[10] = false;
		if (s->records > 0)
		{
			v[11] = LSNGetDatum(s->first_lsn);
			v[12] = LSNGetDatum(s->next_lsn);
			n[11] = n[12] = false;
		}
		v[13] = Int64GetDatum(s->records);
		v[14] = Int64GetDatum(s->commits);
		v[15] = Int64GetDatum(s->aborts);
		n[13] = n[14] = n[15] = false;
		if (s->has_xact_time)
		{
			v[16] = TimestampTzGetDatum(s->first_xact_time);
			v[17] = TimestampTzGetDatum(s->last_xact_time);
			v[18] = TimestampTzGetDatum(s->min_xact_time);
			v[19] = TimestampTzGetDatum(s->max_xact_time);
			n[16] = n[17] = n[18] = n[19] = false;
		}
		if (s->has_xid)
		{
			v[20] = Int64GetDatum((int64) s->min_xid);
			v[21] = Int64GetDatum((int64) s->max_xid);
			n[20] = n[21] = false;
		}
		v[22] = BoolGetDatum(s->has_switch);
		v[23] = BoolGetDatum(s->wal_level_minimal);
		n[22] = n[23] = false;
		v[24] = BoolGetDatum(s->complete);
		n[24] = false;
		pitr_put_text(v, n, 25, s->error);
	}
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(desc, v, n)));
}

/* sidecar_events(path): the sidecar's events, as wal_event holds them. */
Datum
pitr_sidecar_events(PG_FUNCTION_ARGS)
{
	char	   *path = sidecar_path_arg(fcinfo);
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	PitrSidecar sc;
	char	   *err = NULL;
	PitrSidecarStatus status;
	ListCell   *lc;

	InitMaterializedSRF(fcinfo, 0);
	status = load_sidecar(path, &sc, &err);
	if (status != PITR_SIDECAR_OK)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_CORRUPTED),
				 errmsg("invalid segment summary \"%s\": %s", path, err)));

	foreach(lc, sc.sum.events)
	{
		PitrWalEvent *ev = lfirst(lc);
		Datum		v[10];
		bool		n[10];

		memset(n, false, sizeof(n));
		v[0] = CStringGetTextDatum(pitr_event_kind_name(ev->kind));
		v[1] = LSNGetDatum(ev->lsn);
		v[2] = LSNGetDatum(ev->end_lsn);
		pitr_put_text(v, n, 3, ev->name);
		pitr_put(v, n, 4, TransactionIdIsValid(ev->xid),
				 Int64GetDatum((int64) ev->xid));
		pitr_put(v, n, 5, ev->has_time, TimestampTzGetDatum(ev->time));
		pitr_put(v, n, 6, !XLogRecPtrIsInvalid(ev->ref_lsn),
				 LSNGetDatum(ev->ref_lsn));
		pitr_put(v, n, 7, ev->tli != 0, Int32GetDatum((int32) ev->tli));
		pitr_put(v, n, 8, ev->tli != 0, Int32GetDatum((int32) ev->prev_tli));
		pitr_put_text(v, n, 9, ev->outcome);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, v, n);
	}
	return (Datum) 0;
}
