/*-------------------------------------------------------------------------
 *
 * source_sql.c
 *	  SQL views of the archive sources, for the test suites and for a DBA
 *	  checking what pitr_restore sees in a pgBackRest or Barman
 *	  repository.  They are internal: no role is granted EXECUTE.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xlog.h"
#include "access/xlog_internal.h"
#include "catalog/pg_type.h"
#include "fmgr.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/pg_lsn.h"
#include "utils/timestamp.h"

#include "source/archive_source.h"
#include "source/tool_command.h"
#include "util/row_values.h"

PG_FUNCTION_INFO_V1(pitr_source_info_sql);
PG_FUNCTION_INFO_V1(pitr_source_files_sql);
PG_FUNCTION_INFO_V1(pitr_source_read_sql);
PG_FUNCTION_INFO_V1(pitr_source_backups_sql);

static Datum
uint64_numeric(uint64 v)
{
	return DirectFunctionCall3(numeric_in,
							   CStringGetDatum(psprintf(UINT64_FORMAT, v)),
							   ObjectIdGetDatum(InvalidOid),
							   Int32GetDatum(-1));
}

/*
 * The start of a set-returning function on an archive: its materialized
 * result set, and the source its first argument (location) names.
 */
static PitrArchiveSource *
open_source_srf(FunctionCallInfo fcinfo)
{
	InitMaterializedSRF(fcinfo, 0);
	return pitr_source_open(text_to_cstring(PG_GETARG_TEXT_PP(0)));
}

/*
 * _source_info(location, barman_config): the layout recognised, where it
 * reads WAL and backups, the system identifier the repository states, and
 * the tool's restore_command.
 */
Datum
pitr_source_info_sql(PG_FUNCTION_ARGS)
{
	char	   *location;
	char	   *barman_config;
	PitrArchiveSource *src;
	TupleDesc	tupdesc;
	Datum		values[7];
	bool		nulls[7] = {0};

	if (PG_ARGISNULL(0))
		PG_RETURN_NULL();
	location = text_to_cstring(PG_GETARG_TEXT_PP(0));
	barman_config = PG_ARGISNULL(1) ? NULL : text_to_cstring(PG_GETARG_TEXT_PP(1));
	src = pitr_source_open(location);
	if (get_call_result_type(fcinfo, NULL, &tupdesc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "return type must be a row type");
	values[0] = CStringGetTextDatum(pitr_source_layout_name(src->layout));
	values[1] = CStringGetTextDatum(src->wal_dir);
	pitr_put_text(values, nulls, 2, src->backup_dir);
	pitr_put_text(values, nulls, 3, src->stanza);
	if (src->system_identifier != 0)
		values[4] = uint64_numeric(src->system_identifier);
	else
		nulls[4] = true;
	pitr_put_text(values, nulls, 5, src->layout == PITR_LAYOUT_PGBACKREST ?
				  src->archive_info.current.archive_id : NULL);
	pitr_put_text(values, nulls, 6,
				  pitr_source_tool_restore_command(src, barman_config));
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(tupdesc, values, nulls)));
}

/* The system identifier in a segment's first page header, or 0. */
static uint64
page_sysid(PitrArchiveSource *src, PitrFileReader *r, const PitrSourceFile *sf)
{
	char	   *page = palloc(XLOG_BLCKSZ);
	int64		disk = 0;
	char	   *err;
	int64		got = pitr_source_read(src, r, sf, page, XLOG_BLCKSZ, false,
									   &disk, &err);
	XLogLongPageHeader hdr = (XLogLongPageHeader) page;
	uint64		sysid = 0;

	if (got >= (int64) SizeOfXLogLongPHD &&
		hdr->std.xlp_magic == XLOG_PAGE_MAGIC &&
		(hdr->std.xlp_info & XLP_LONG_HEADER))
		sysid = hdr->xlp_sysid;
	pfree(page);
	return sysid;
}

/*
 * _source_files(location): every archive file under the name PostgreSQL
 * gave it, where it is stored, the tool's SHA-1, and for segments the
 * system identifier of their first page.
 */
Datum
pitr_source_files_sql(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	PitrArchiveSource *src = open_source_srf(fcinfo);
	PitrFileReader *r;
	List	   *files;
	ListCell   *lc;

	files = pitr_source_list(src);
	r = pitr_file_reader_create();
	foreach(lc, files)
	{
		PitrSourceFile *sf = lfirst(lc);
		Datum		values[11];
		bool		nulls[11] = {0};

		CHECK_FOR_INTERRUPTS();
		values[0] = CStringGetTextDatum(sf->f.name);
		values[1] = CStringGetTextDatum(pitr_file_kind_name(sf->f.kind));
		values[2] = CStringGetTextDatum(pitr_compression_name(sf->f.compression));
		values[3] = Int32GetDatum((int32) sf->f.tli);
		values[4] = Int64GetDatum(sf->f.log);
		values[5] = Int64GetDatum(sf->f.seg);
		values[6] = Int64GetDatum(sf->f.size);
		values[7] = TimestampTzGetDatum(time_t_to_timestamptz((pg_time_t) sf->f.mtime));
		values[8] = CStringGetTextDatum(sf->path);
		pitr_put_text(values, nulls, 9, sf->sha1[0] ? sf->sha1 : NULL);
		nulls[10] = true;
		if (sf->f.kind == PITR_FILE_SEGMENT || sf->f.kind == PITR_FILE_PARTIAL)
		{
			uint64		sysid = page_sysid(src, r, sf);

			if (sysid != 0)
			{
				values[10] = uint64_numeric(sysid);
				nulls[10] = false;
			}
		}
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	return (Datum) 0;
}

/*
 * _source_read(location, name): a file's whole decompressed content,
 * checked against the SHA-1 the tool recorded.  Segments up to the
 * server's own segment size.
 */
Datum
pitr_source_read_sql(PG_FUNCTION_ARGS)
{
	char	   *location = text_to_cstring(PG_GETARG_TEXT_PP(0));
	char	   *name = text_to_cstring(PG_GETARG_TEXT_PP(1));
	PitrArchiveSource *src = pitr_source_open(location);
	List	   *files = pitr_source_list(src);
	ListCell   *lc;

	foreach(lc, files)
	{
		PitrSourceFile *sf = lfirst(lc);

		if (strcmp(sf->f.name, name) == 0)
		{
			int64		want = wal_segment_size;
			bytea	   *out = palloc(VARHDRSZ + want);
			int64		disk = 0;
			char	   *err;
			int64		got = pitr_source_read(src, pitr_file_reader_create(),
											   sf, VARDATA(out), want, true,
											   &disk, &err);

			if (got < 0)
				ereport(ERROR,
						(errcode(ERRCODE_DATA_CORRUPTED),
						 errmsg("could not read archive file \"%s\" stored as \"%s\": %s",
								name, sf->path, err)));
			SET_VARSIZE(out, VARHDRSZ + got);
			PG_RETURN_BYTEA_P(out);
		}
	}
	ereport(ERROR,
			(errcode(ERRCODE_UNDEFINED_FILE),
			 errmsg("archive \"%s\" has no file \"%s\"", location, name)));
	PG_RETURN_NULL();
}

/*
 * _source_backups(location): the base backups the repository describes,
 * and whether each can be used (its whole chain present and not failed).
 */
Datum
pitr_source_backups_sql(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	PitrArchiveSource *src = open_source_srf(fcinfo);
	List	   *backups;
	PitrRepoBackup **all;
	int			n;

	backups = pitr_source_backups(src);
	n = list_length(backups);
	all = palloc(sizeof(PitrRepoBackup *) * (n + 1));
	for (int i = 0; i < n; i++)
		all[i] = list_nth(backups, i);

	for (int i = 0; i < n; i++)
	{
		PitrRepoBackup *b = all[i];
		Datum		values[16];
		bool		nulls[16] = {0};
		char	   *why = NULL;
		bool		usable;
		TimestampTz t = 0;

		usable = pitr_repo_backup_usable(b, all, n, &why);
		values[0] = CStringGetTextDatum(b->label);
		values[1] = CStringGetTextDatum(b->format);
		values[2] = CStringGetTextDatum(pitr_repo_backup_type_name(b->type));
		pitr_put_text(values, nulls, 3, b->prior);
		values[4] = Int32GetDatum((int32) b->tli);
		nulls[4] = (b->tli == 0);
		values[5] = LSNGetDatum(b->start_lsn);
		nulls[5] = (b->wal_start == NULL);
		values[6] = LSNGetDatum(b->stop_lsn);
		nulls[6] = (b->wal_stop == NULL);
		pitr_put_text(values, nulls, 7, b->wal_start);
		pitr_put_text(values, nulls, 8, b->wal_stop);
		nulls[9] = !pitr_source_repo_time(b->start_time, b->start_epoch, &t);
		values[9] = TimestampTzGetDatum(t);
		nulls[10] = !pitr_source_repo_time(b->stop_time, b->stop_epoch, &t);
		values[10] = TimestampTzGetDatum(t);
		pitr_put_text(values, nulls, 11, b->status);
		values[12] = BoolGetDatum(b->error);
		values[13] = BoolGetDatum(usable);
		pitr_put_text(values, nulls, 14, usable ? NULL : why);
		if (b->system_identifier)
			values[15] = uint64_numeric(b->system_identifier);
		else
			nulls[15] = true;
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	return (Datum) 0;
}

PG_FUNCTION_INFO_V1(pitr_source_tool_command_sql);

/*
 * _source_tool_command(location, backup_label, target_kind, target,
 * inclusive, timeline, action, destination, barman_config): the tool's own
 * restore command for a target.
 */
Datum
pitr_source_tool_command_sql(PG_FUNCTION_ARGS)
{
	PitrArchiveSource *src;
	PitrToolTarget t = {0};
	char	   *label;
	char	   *dest;
	char	   *kind;

	for (int i = 0; i < 8; i++)
		if (PG_ARGISNULL(i) && i != 3 && i != 5 && i != 7)
			ereport(ERROR,
					(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
					 errmsg("argument %d must not be null", i + 1)));
	src = pitr_source_open(text_to_cstring(PG_GETARG_TEXT_PP(0)));
	label = text_to_cstring(PG_GETARG_TEXT_PP(1));
	kind = text_to_cstring(PG_GETARG_TEXT_PP(2));
	if (!pitr_tool_target_kind(kind, &t.kind))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid target kind \"%s\"", kind)));
	t.value = PG_ARGISNULL(3) ? NULL : text_to_cstring(PG_GETARG_TEXT_PP(3));
	t.inclusive = PG_GETARG_BOOL(4);
	t.tli = PG_ARGISNULL(5) ? 0 : PG_GETARG_INT32(5);
	t.action = text_to_cstring(PG_GETARG_TEXT_PP(6));
	dest = PG_ARGISNULL(7) ? NULL : text_to_cstring(PG_GETARG_TEXT_PP(7));

	switch (src->layout)
	{
		case PITR_LAYOUT_PGBACKREST:
			PG_RETURN_TEXT_P(cstring_to_text(pitr_pgbackrest_restore_command(src, label, &t, dest)));
		case PITR_LAYOUT_BARMAN:
			if (dest == NULL)
				ereport(ERROR,
						(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
						 errmsg("barman recover needs a destination directory")));
			PG_RETURN_TEXT_P(cstring_to_text(pitr_barman_recover_command(src,
																		 PG_ARGISNULL(8) ? NULL : text_to_cstring(PG_GETARG_TEXT_PP(8)),
																		 label, &t, dest)));
		case PITR_LAYOUT_FLAT:
			break;
	}
	PG_RETURN_NULL();
}
