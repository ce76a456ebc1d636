/*-------------------------------------------------------------------------
 *
 * archive_index.c
 *	  The archive index tables and scan_archive(), which brings them up to
 *	  date with an archive directory and pitr_restore.backup_dir.
 *
 * Refresh is incremental: a file whose name, size and mtime are what the
 * index recorded is not read again; a changed file is read again; a
 * vanished one is dropped (its events, histories and backup rows go with
 * it, by foreign key).  Scans of one archive are serialised by a row lock
 * on its row in pitr_restore.archive.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <sys/stat.h>

#include "access/xlog.h"
#include "access/xlog_internal.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "storage/fd.h"
#include "utils/builtins.h"
#include "utils/hsearch.h"
#include "utils/memutils.h"
#include "utils/pg_lsn.h"
#include "utils/timestamp.h"

#include "archive_files.h"
#include "archive_index.h"
#include "backup.h"
#include "backup_dir.h"
#include "history.h"
#include "pitr_restore.h"
#include "segment_source.h"
#include "walscan.h"

PG_FUNCTION_INFO_V1(pitr_scan_archive);
PG_FUNCTION_INFO_V1(pitr_archive_path);
PG_FUNCTION_INFO_V1(pitr_refresh_archive_sql);

/* NOTICE progress every so many bytes read. */
#define PROGRESS_BYTES (256 * 1024 * 1024)

/* Largest history or backup history file we accept. */
#define SMALL_FILE_MAX (1024 * 1024)

/* What the index knows of a file, by name. */
typedef struct KnownFile
{
	char		name[MAXPGPATH];
	int64		size;
	int64		mtime;
	bool		seen;			/* still in the directory */
	bool		complete;
	XLogRecPtr	next_lsn;
} KnownFile;

/* The first page of a segment file, read before anything else. */
typedef struct SegmentHead
{
	PitrArchiveFile *file;
	bool		readable;
	char	   *error;
	uint16		magic;
	uint16		info;
	uint64		sysid;
	uint32		seg_size;
	uint32		blcksz;
	XLogRecPtr	pageaddr;
} SegmentHead;

typedef struct ArchiveScan
{
	char	   *dir;
	int			archive_id;
	uint64		sysid;
	int			segsize;
	HTAB	   *known;
	PitrSegmentSource *src;
	int64		bytes_read;
	int64		next_progress;
	int64		segments_scanned;
	SPIPlanPtr	insert_file;
	SPIPlanPtr	insert_event;
} ArchiveScan;

static Datum
text_datum(const char *s)
{
	return CStringGetTextDatum(s);
}

static Datum
uint64_datum(uint64 v)
{
	char		buf[32];

	snprintf(buf, sizeof(buf), UINT64_FORMAT, v);
	return CStringGetTextDatum(buf);
}

static void
spi_check(int ret, int expected, const char *what)
{
	if (ret != expected)
		elog(ERROR, "SPI failed while %s: %s", what, SPI_result_code_string(ret));
}

/*
 * Find or create the archive's row and lock it, so that concurrent scans
 * of one archive run one after the other.
 */
static void
lock_archive(ArchiveScan *st)
{
	Oid			types[1] = {TEXTOID};
	Datum		values[1];
	bool		isnull;

	values[0] = text_datum(st->dir);
	spi_check(SPI_execute_with_args("INSERT INTO pitr_restore.archive (directory) "
									"VALUES ($1) ON CONFLICT (directory) DO NOTHING",
									1, types, values, NULL, false, 0),
			  SPI_OK_INSERT, "registering the archive");
	spi_check(SPI_execute_with_args("SELECT archive_id, system_identifier::text, segment_size "
									"FROM pitr_restore.archive WHERE directory = $1 "
									"FOR UPDATE",
									1, types, values, NULL, false, 0),
			  SPI_OK_SELECT, "locking the archive");
	if (SPI_processed != 1)
		elog(ERROR, "archive row for \"%s\" vanished", st->dir);

	st->archive_id = DatumGetInt32(SPI_getbinval(SPI_tuptable->vals[0],
												 SPI_tuptable->tupdesc, 1, &isnull));
	{
		char	   *s = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2);

		st->sysid = s ? strtou64(s, NULL, 10) : 0;
	}
	{
		Datum		d = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 3, &isnull);

		st->segsize = isnull ? 0 : DatumGetInt32(d);
	}
}

/* Load what the index already holds of this archive. */
static void
load_known(ArchiveScan *st)
{
	Oid			types[1] = {INT4OID};
	Datum		values[1];
	HASHCTL		ctl;

	ctl.keysize = MAXPGPATH;
	ctl.entrysize = sizeof(KnownFile);
	ctl.hcxt = CurrentMemoryContext;
	st->known = hash_create("pitr_restore known files", 1024, &ctl,
							HASH_ELEM | HASH_STRINGS | HASH_CONTEXT);

	values[0] = Int32GetDatum(st->archive_id);
	spi_check(SPI_execute_with_args("SELECT file_name, file_size, "
									"extract(epoch FROM file_mtime)::bigint, "
									"status = 'ok' AND kind = 'segment', "
									"next_lsn "
									"FROM pitr_restore.archive_file WHERE archive_id = $1",
									1, types, values, NULL, true, 0),
			  SPI_OK_SELECT, "reading the index");

	for (uint64 i = 0; i < SPI_processed; i++)
	{
		HeapTuple	tup = SPI_tuptable->vals[i];
		TupleDesc	desc = SPI_tuptable->tupdesc;
		char	   *name = SPI_getvalue(tup, desc, 1);
		KnownFile  *k;
		bool		isnull;
		Datum		d;

		k = hash_search(st->known, name, HASH_ENTER, NULL);
		k->size = DatumGetInt64(SPI_getbinval(tup, desc, 2, &isnull));
		k->mtime = DatumGetInt64(SPI_getbinval(tup, desc, 3, &isnull));
		k->seen = false;
		k->complete = DatumGetBool(SPI_getbinval(tup, desc, 4, &isnull));
		d = SPI_getbinval(tup, desc, 5, &isnull);
		k->next_lsn = isnull ? InvalidXLogRecPtr : DatumGetLSN(d);
	}
}

static void
delete_file_row(ArchiveScan *st, const char *name)
{
	Oid			types[2] = {INT4OID, TEXTOID};
	Datum		values[2];

	values[0] = Int32GetDatum(st->archive_id);
	values[1] = text_datum(name);
	spi_check(SPI_execute_with_args("DELETE FROM pitr_restore.archive_file "
									"WHERE archive_id = $1 AND file_name = $2",
									2, types, values, NULL, false, 0),
			  SPI_OK_DELETE, "dropping a file from the index");
}

static void
progress(ArchiveScan *st)
{
	int64		total = st->bytes_read + pitr_segsrc_bytes_read(st->src);

	if (total >= st->next_progress)
	{
		ereport(NOTICE,
				(errmsg("scanning WAL archive \"%s\": %lld MB read, %lld segments scanned",
						st->dir, (long long) (total / (1024 * 1024)),
						(long long) st->segments_scanned)));
		st->next_progress = total + PROGRESS_BYTES;
	}
}

#define FILE_COLS 24

/* Insert one archive_file row; NULL summary/head for non-segments. */
static void
insert_file(ArchiveScan *st, PitrArchiveFile *f, const char *status,
			const char *detail, SegmentHead *head, PitrSegmentSummary *sum)
{
	Datum		v[FILE_COLS];
	char		n[FILE_COLS];

	if (st->insert_file == NULL)
	{
		Oid			types[FILE_COLS] = {INT4OID, TEXTOID, TEXTOID, TEXTOID, INT8OID,
			TIMESTAMPTZOID, INT4OID, INT8OID, TEXTOID, TEXTOID, TEXTOID, INT4OID,
			LSNOID, LSNOID, INT8OID, INT8OID, INT8OID, TIMESTAMPTZOID,
			TIMESTAMPTZOID, TIMESTAMPTZOID, TIMESTAMPTZOID, INT8OID, INT8OID,
		BOOLOID};

		st->insert_file =
			SPI_prepare("INSERT INTO pitr_restore.archive_file (archive_id, "
						"file_name, kind, compression, file_size, file_mtime, "
						"timeline, segno, status, detail, system_identifier, "
						"page_magic, first_lsn, next_lsn, records, commits, aborts, "
						"first_commit_time, last_commit_time, min_commit_time, "
						"max_commit_time, min_xid, max_xid, has_switch, "
						"wal_level_minimal) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, "
						"$9, $10, $11::numeric, $12, $13, $14, $15, $16, $17, $18, "
						"$19, $20, $21, $22, $23, $24, $24 AND false)",
						FILE_COLS, types);
		if (st->insert_file == NULL)
			elog(ERROR, "SPI_prepare failed: %s", SPI_result_code_string(SPI_result));
		SPI_keepplan(st->insert_file);
	}

	memset(n, 'n', sizeof(n));
	v[0] = Int32GetDatum(st->archive_id);
	n[0] = ' ';
	v[1] = text_datum(f->name);
	n[1] = ' ';
	v[2] = text_datum(pitr_file_kind_name(f->kind));
	n[2] = ' ';
	v[3] = text_datum(pitr_compression_name(f->compression));
	n[3] = ' ';
	v[4] = Int64GetDatum(f->size);
	n[4] = ' ';
	v[5] = TimestampTzGetDatum(time_t_to_timestamptz((pg_time_t) f->mtime));
	n[5] = ' ';
	v[6] = Int32GetDatum((int32) f->tli);
	n[6] = ' ';
	if ((f->kind == PITR_FILE_SEGMENT || f->kind == PITR_FILE_PARTIAL) &&
		st->segsize > 0)
	{
		v[7] = Int64GetDatum((int64) pitr_file_segno(f, st->segsize));
		n[7] = ' ';
	}
	v[8] = text_datum(status);
	n[8] = ' ';
	if (detail)
	{
		v[9] = text_datum(detail);
		n[9] = ' ';
	}
	if (head && head->readable)
	{
		v[10] = uint64_datum(head->sysid);
		n[10] = ' ';
		v[11] = Int32GetDatum(head->magic);
		n[11] = ' ';
	}
	if (sum && sum->records > 0)
	{
		v[12] = LSNGetDatum(sum->first_lsn);
		v[13] = LSNGetDatum(sum->next_lsn);
		n[12] = n[13] = ' ';
	}
	if (sum)
	{
		v[14] = Int64GetDatum(sum->records);
		v[15] = Int64GetDatum(sum->commits);
		v[16] = Int64GetDatum(sum->aborts);
		n[14] = n[15] = n[16] = ' ';
		if (sum->has_xact_time)
		{
			v[17] = TimestampTzGetDatum(sum->first_xact_time);
			v[18] = TimestampTzGetDatum(sum->last_xact_time);
			v[19] = TimestampTzGetDatum(sum->min_xact_time);
			v[20] = TimestampTzGetDatum(sum->max_xact_time);
			n[17] = n[18] = n[19] = n[20] = ' ';
		}
		if (sum->has_xid)
		{
			v[21] = Int64GetDatum((int64) sum->min_xid);
			v[22] = Int64GetDatum((int64) sum->max_xid);
			n[21] = n[22] = ' ';
		}
		v[23] = BoolGetDatum(sum->has_switch);
		n[23] = ' ';
	}

	spi_check(SPI_execute_plan(st->insert_file, v, n, false, 0),
			  SPI_OK_INSERT, "adding a file to the index");

	/* wal_level_minimal is not a plan parameter: set it when true. */
	if (sum && sum->wal_level_minimal)
	{
		Oid			types[2] = {INT4OID, TEXTOID};
		Datum		vals[2];

		vals[0] = Int32GetDatum(st->archive_id);
		vals[1] = text_datum(f->name);
		spi_check(SPI_execute_with_args("UPDATE pitr_restore.archive_file "
										"SET wal_level_minimal = true "
										"WHERE archive_id = $1 AND file_name = $2",
										2, types, vals, NULL, false, 0),
				  SPI_OK_UPDATE, "marking a wal_level change");
	}
}

#define EVENT_COLS 13

static void
insert_event(ArchiveScan *st, PitrArchiveFile *f, PitrWalEvent *ev)
{
	Datum		v[EVENT_COLS];
	char		n[EVENT_COLS];

	if (st->insert_event == NULL)
	{
		Oid			types[EVENT_COLS] = {INT4OID, TEXTOID, INT4OID, TEXTOID, LSNOID,
			LSNOID, TEXTOID, INT8OID, TIMESTAMPTZOID, LSNOID, INT4OID, INT4OID,
		TEXTOID};

		st->insert_event =
			SPI_prepare("INSERT INTO pitr_restore.wal_event (archive_id, file_name, "
						"timeline, kind, lsn, end_lsn, name, xid, event_time, "
						"ref_lsn, event_timeline, prev_timeline, outcome) VALUES ($1, $2, "
						"$3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)",
						EVENT_COLS, types);
		if (st->insert_event == NULL)
			elog(ERROR, "SPI_prepare failed: %s", SPI_result_code_string(SPI_result));
		SPI_keepplan(st->insert_event);
	}

	memset(n, ' ', sizeof(n));
	v[0] = Int32GetDatum(st->archive_id);
	v[1] = text_datum(f->name);
	v[2] = Int32GetDatum((int32) f->tli);
	v[3] = text_datum(pitr_event_kind_name(ev->kind));
	v[4] = LSNGetDatum(ev->lsn);
	v[5] = LSNGetDatum(ev->end_lsn);
	if (ev->name)
		v[6] = text_datum(ev->name);
	else
		n[6] = 'n';
	if (TransactionIdIsValid(ev->xid))
		v[7] = Int64GetDatum((int64) ev->xid);
	else
		n[7] = 'n';
	if (ev->has_time)
		v[8] = TimestampTzGetDatum(ev->time);
	else
		n[8] = 'n';
	if (!XLogRecPtrIsInvalid(ev->ref_lsn))
		v[9] = LSNGetDatum(ev->ref_lsn);
	else
		n[9] = 'n';
	if (ev->tli)
	{
		v[10] = Int32GetDatum((int32) ev->tli);
		v[11] = Int32GetDatum((int32) ev->prev_tli);
	}
	else
		n[10] = n[11] = 'n';
	if (ev->outcome)
		v[12] = text_datum(ev->outcome);
	else
		n[12] = 'n';

	spi_check(SPI_execute_plan(st->insert_event, v, n, false, 0),
			  SPI_OK_INSERT, "adding a WAL event to the index");
}

/* Read a small whole file (history, backup history). */
static char *
read_small_file(ArchiveScan *st, PitrArchiveFile *f, int64 *len, char **err)
{
	char		path[MAXPGPATH];
	char	   *buf = palloc(SMALL_FILE_MAX + 1);
	PitrFileReader *r = pitr_file_reader_create();

	snprintf(path, sizeof(path), "%s/%s", st->dir, f->name);
	*len = pitr_read_file(r, path, f->compression, buf, SMALL_FILE_MAX, true,
						  &st->bytes_read, err);
	if (*len < 0)
		return NULL;
	buf[*len] = '\0';
	return buf;
}

static void
index_history_file(ArchiveScan *st, PitrArchiveFile *f)
{
	int64		len;
	char	   *err;
	char	   *buf = read_small_file(st, f, &len, &err);
	List	   *entries = NIL;
	int			pos = 0;
	ListCell   *lc;

	if (buf && !pitr_parse_history(buf, len, f->tli, &entries, &err))
		buf = NULL;
	insert_file(st, f, buf ? "ok" : "corrupt", buf ? NULL : err, NULL, NULL);
	if (buf == NULL)
		return;

	foreach(lc, entries)
	{
		PitrHistoryEntry *e = lfirst(lc);
		Oid			types[7] = {INT4OID, TEXTOID, INT4OID, INT4OID, INT4OID, LSNOID, TEXTOID};
		Datum		v[7];

		v[0] = Int32GetDatum(st->archive_id);
		v[1] = text_datum(f->name);
		v[2] = Int32GetDatum((int32) f->tli);
		v[3] = Int32GetDatum(++pos);
		v[4] = Int32GetDatum((int32) e->tli);
		v[5] = LSNGetDatum(e->switchpoint);
		v[6] = text_datum(e->reason);
		spi_check(SPI_execute_with_args("INSERT INTO pitr_restore.timeline_history "
										"(archive_id, file_name, timeline, position, "
										"parent, branch_lsn, reason) "
										"VALUES ($1, $2, $3, $4, $5, $6, $7)",
										7, types, v, NULL, false, 0),
				  SPI_OK_INSERT, "adding a timeline history");
	}
}

static void
index_backup_history_file(ArchiveScan *st, PitrArchiveFile *f)
{
	int64		len;
	char	   *err;
	char	   *buf = read_small_file(st, f, &len, &err);
	PitrBackup *b = palloc0(sizeof(PitrBackup));
	Oid			types[11] = {INT4OID, TEXTOID, TEXTOID, INT4OID, INT4OID, LSNOID,
	LSNOID, LSNOID, TIMESTAMPTZOID, TIMESTAMPTZOID, TEXTOID};
	Datum		v[11];
	char		n[11];

	if (buf && !pitr_parse_backup_label(buf, len, b, &err))
		buf = NULL;
	insert_file(st, f, buf ? "ok" : "corrupt", buf ? NULL : err, NULL, NULL);
	if (buf == NULL)
		return;

	memset(n, ' ', sizeof(n));
	v[0] = Int32GetDatum(st->archive_id);
	v[1] = text_datum(f->name);
	v[2] = b->label ? text_datum(b->label) : (n[2] = 'n', (Datum) 0);
	v[3] = Int32GetDatum((int32) b->start_tli);
	v[4] = b->stop_tli ? Int32GetDatum((int32) b->stop_tli) : (n[4] = 'n', (Datum) 0);
	v[5] = LSNGetDatum(b->start_lsn);
	v[6] = LSNGetDatum(b->checkpoint_lsn);
	v[7] = !XLogRecPtrIsInvalid(b->stop_lsn) ? LSNGetDatum(b->stop_lsn) : (n[7] = 'n', (Datum) 0);
	v[8] = b->has_start_time ? TimestampTzGetDatum(b->start_time) : (n[8] = 'n', (Datum) 0);
	v[9] = b->has_stop_time ? TimestampTzGetDatum(b->stop_time) : (n[9] = 'n', (Datum) 0);
	v[10] = b->backup_from ? text_datum(b->backup_from) : (n[10] = 'n', (Datum) 0);
	spi_check(SPI_execute_with_args("INSERT INTO pitr_restore.backup_history "
									"(archive_id, file_name, label, start_timeline, "
									"stop_timeline, start_lsn, checkpoint_lsn, stop_lsn, "
									"start_time, stop_time, backup_from) "
									"VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
									11, types, v, n, false, 0),
			  SPI_OK_INSERT, "adding a backup history file");
}

/* Read and decode the first page of a segment file. */
static void
read_head(ArchiveScan *st, SegmentHead *h)
{
	char		page[XLOG_BLCKSZ];
	XLogPageHeader ph = (XLogPageHeader) page;
	XLogLongPageHeader lph = (XLogLongPageHeader) page;

	h->readable = pitr_segsrc_read_head(st->src, h->file, page, &h->error);
	if (!h->readable)
		return;
	h->magic = ph->xlp_magic;
	h->info = ph->xlp_info;
	h->pageaddr = ph->xlp_pageaddr;
	if (ph->xlp_info & XLP_LONG_HEADER)
	{
		h->sysid = lph->xlp_sysid;
		h->seg_size = lph->xlp_seg_size;
		h->blcksz = lph->xlp_xlog_blcksz;
	}
}

/* The PostgreSQL major version that writes a given WAL page magic. */
static const char *
magic_version(uint16 magic)
{
	switch (magic)
	{
		case 0xD101:
			return "12";
		case 0xD106:
			return "13";
		case 0xD10D:
			return "14";
		case 0xD113:
			return "16";
		case 0xD116:
			return "17";
		case 0xD118:
			return "18";
	}
	return NULL;
}

/*
 * Is the head that of a PostgreSQL 15 segment of this archive?  If not,
 * say what status and why.
 */
static bool
head_acceptable(ArchiveScan *st, SegmentHead *h, const char **status, char **detail)
{
	const char *name = h->file->name;

	if (!h->readable)
	{
		*status = strstr(h->error, "only") ? "truncated" : "unreadable";
		*detail = psprintf("could not read segment \"%s\": %s", name, h->error);
		return false;
	}
	if (h->magic != XLOG_PAGE_MAGIC)
	{
		const char *v = magic_version(h->magic);

		*status = v ? "wrong_version" : "not_wal";
		*detail = v ?
			psprintf("invalid magic number 0x%04X in segment \"%s\": it was written by PostgreSQL %s, not 15",
					 h->magic, name, v) :
			psprintf("invalid magic number 0x%04X in segment \"%s\": it is not a PostgreSQL WAL segment",
					 h->magic, name);
		return false;
	}
	if (!(h->info & XLP_LONG_HEADER) || h->blcksz != XLOG_BLCKSZ ||
		!IsValidWalSegSize(h->seg_size))
	{
		*status = "not_wal";
		*detail = psprintf("segment \"%s\" does not start with a valid long page header", name);
		return false;
	}
	if (st->segsize && h->seg_size != (uint32) st->segsize)
	{
		*status = "wrong_segment_size";
		*detail = psprintf("segment \"%s\" has segment size %u bytes, but the archive's segments have %d bytes",
						   name, h->seg_size, st->segsize);
		return false;
	}
	if (st->sysid && h->sysid != st->sysid)
	{
		*status = "foreign";
		*detail = psprintf("segment \"%s\" belongs to database system " UINT64_FORMAT ", not to the archive's system " UINT64_FORMAT,
						   name, h->sysid, st->sysid);
		return false;
	}
	if (h->pageaddr != pitr_file_segno(h->file, h->seg_size) * (uint64) h->seg_size)
	{
		*status = "corrupt";
		*detail = psprintf("segment \"%s\" starts with page address %X/%X, which does not match its name",
						   name, LSN_FORMAT_ARGS(h->pageaddr));
		return false;
	}
	return true;
}

/*
 * Settle which database system and segment size the archive holds.  Once
 * settled it stays; the first time, the running server's own system wins
 * if any segment is of it, else the system most segments are of.
 */
static void
settle_identity(ArchiveScan *st, SegmentHead *heads, int nheads)
{
	uint64		best = 0;
	int			best_count = 0;
	bool		own = false;
	uint32		size = 0;

	if (st->sysid != 0 && st->segsize != 0)
		return;

	for (int i = 0; i < nheads; i++)
	{
		int			count = 0;

		if (!heads[i].readable || heads[i].magic != XLOG_PAGE_MAGIC ||
			!(heads[i].info & XLP_LONG_HEADER) ||
			!IsValidWalSegSize(heads[i].seg_size))
			continue;
		if (heads[i].sysid == GetSystemIdentifier())
			own = true;
		for (int j = 0; j < nheads; j++)
			if (heads[j].readable && heads[j].magic == XLOG_PAGE_MAGIC &&
				heads[j].sysid == heads[i].sysid)
				count++;
		if (count > best_count)
		{
			best = heads[i].sysid;
			best_count = count;
		}
		/* Bounded work: the majority is clear well before the end. */
		if (i > 64)
			break;
	}
	if (own)
		best = GetSystemIdentifier();
	if (best == 0)
		return;

	for (int i = 0; i < nheads; i++)
		if (heads[i].readable && heads[i].magic == XLOG_PAGE_MAGIC &&
			heads[i].sysid == best && IsValidWalSegSize(heads[i].seg_size))
		{
			size = heads[i].seg_size;
			break;
		}

	st->sysid = best;
	st->segsize = size;
	{
		Oid			types[3] = {INT4OID, TEXTOID, INT4OID};
		Datum		v[3];

		v[0] = Int32GetDatum(st->archive_id);
		v[1] = uint64_datum(best);
		v[2] = Int32GetDatum(size);
		spi_check(SPI_execute_with_args("UPDATE pitr_restore.archive "
										"SET system_identifier = $2::numeric, segment_size = $3 "
										"WHERE archive_id = $1",
										3, types, v, NULL, false, 0),
				  SPI_OK_UPDATE, "recording the archive's system");
	}
}

static int
head_cmp(const void *a, const void *b)
{
	const SegmentHead *x = a;
	const SegmentHead *y = b;

	/* In WAL order, so each segment's predecessor is indexed before it. */
	if (x->file->log != y->file->log)
		return x->file->log < y->file->log ? -1 : 1;
	if (x->file->seg != y->file->seg)
		return x->file->seg < y->file->seg ? -1 : 1;
	if (x->file->tli != y->file->tli)
		return x->file->tli < y->file->tli ? -1 : 1;
	return strcmp(x->file->name, y->file->name);
}

static void
scan_segment(ArchiveScan *st, SegmentHead *h, MemoryContext filecxt)
{
	PitrArchiveFile *f = h->file;
	const char *status;
	char	   *detail = NULL;
	PitrSegmentSummary sum;
	XLogSegNo	segno;
	PitrArchiveFile *prev;
	XLogRecPtr	start = InvalidXLogRecPtr;
	KnownFile  *k;
	ListCell   *lc;
	MemoryContext old;

	if (!head_acceptable(st, h, &status, &detail))
	{
		insert_file(st, f, status, detail, h, NULL);
		return;
	}

	segno = pitr_file_segno(f, st->segsize);
	old = MemoryContextSwitchTo(filecxt);

	/* Check it now, so a bad file is reported as such. */
	if ((detail = pitr_segsrc_check(st->src, f)) != NULL)
	{
		MemoryContextSwitchTo(old);
		insert_file(st, f, strstr(detail, "not a whole segment") ||
					strstr(detail, "truncated") ? "truncated" : "corrupt",
					psprintf("could not read segment \"%s\": %s", f->name, detail),
					h, NULL);
		return;
	}

	/* Start at the end of the predecessor's last record, when known. */
	prev = segno > 0 ? pitr_segsrc_find(st->src, f->tli, segno - 1) : NULL;
	if (prev)
	{
		KnownFile  *pk = hash_search(st->known, prev->name, HASH_FIND, NULL);
		XLogRecPtr	prevstart;

		XLogSegNoOffsetToRecPtr(segno - 1, 0, st->segsize, prevstart);
		if (pk && pk->complete && pk->next_lsn >= prevstart)
			start = pk->next_lsn;
	}

	pitr_segsrc_follow(st->src, f->tli);
	pitr_segsrc_pin(st->src, f);
	pitr_summarize_segment(st->segsize, st->sysid, pitr_segsrc_get, st->src,
						   segno, start, &sum);
	pitr_segsrc_pin(st->src, NULL);
	MemoryContextSwitchTo(old);

	if (f->kind == PITR_FILE_PARTIAL)
	{
		status = "partial";
		detail = sum.complete ? NULL :
			psprintf("valid WAL ends at %X/%X: %s",
					 LSN_FORMAT_ARGS(sum.records ? sum.next_lsn : start), sum.error);
	}
	else if (sum.complete)
		status = "ok";
	else
	{
		status = "corrupt";
		detail = psprintf("valid WAL in segment \"%s\" ends at %X/%X: %s", f->name,
						  LSN_FORMAT_ARGS(sum.records ? sum.next_lsn : start),
						  sum.error);
	}
	insert_file(st, f, status, detail, h, &sum);
	foreach(lc, sum.events)
		insert_event(st, f, lfirst(lc));

	k = hash_search(st->known, f->name, HASH_ENTER, NULL);
	k->seen = true;
	k->complete = (f->kind == PITR_FILE_SEGMENT && sum.complete);
	k->next_lsn = sum.records ? sum.next_lsn : InvalidXLogRecPtr;
	st->segments_scanned++;
}

/* Histories of every timeline, from the index (after new files went in). */
static void
load_histories(ArchiveScan *st)
{
	Oid			types[1] = {INT4OID};
	Datum		v[1];
	TimeLineID	cur = 0;
	List	   *entries = NIL;

	v[0] = Int32GetDatum(st->archive_id);
	spi_check(SPI_execute_with_args("SELECT timeline, parent, branch_lsn, reason "
									"FROM pitr_restore.timeline_history "
									"WHERE archive_id = $1 ORDER BY timeline, position",
									1, types, v, NULL, true, 0),
			  SPI_OK_SELECT, "reading timeline histories");
	for (uint64 i = 0; i < SPI_processed; i++)
	{
		HeapTuple	tup = SPI_tuptable->vals[i];
		TupleDesc	desc = SPI_tuptable->tupdesc;
		bool		isnull;
		TimeLineID	tli = DatumGetInt32(SPI_getbinval(tup, desc, 1, &isnull));
		PitrHistoryEntry *e = palloc(sizeof(PitrHistoryEntry));

		if (tli != cur && entries != NIL)
		{
			pitr_segsrc_set_history(st->src, cur, entries);
			entries = NIL;
		}
		cur = tli;
		e->tli = DatumGetInt32(SPI_getbinval(tup, desc, 2, &isnull));
		e->switchpoint = DatumGetLSN(SPI_getbinval(tup, desc, 3, &isnull));
		e->reason = NULL;
		entries = lappend(entries, e);
	}
	if (entries != NIL)
		pitr_segsrc_set_history(st->src, cur, entries);
}

static int
name_cmp(const ListCell *a, const ListCell *b)
{
	return strcmp(lfirst(a), lfirst(b));
}

/* Cheap fingerprint of a backup directory: its top-level names, sizes, times. */
static char *
backup_signature(const char *path)
{
	StringInfoData s;
	DIR		   *d;
	struct dirent *de;
	List	   *names = NIL;
	ListCell   *lc;

	initStringInfo(&s);
	d = AllocateDir(path);
	if (d == NULL)
		return pstrdup("");
	while ((de = ReadDir(d, path)) != NULL)
	{
		if (de->d_name[0] != '.')
			names = lappend(names, pstrdup(de->d_name));
	}
	FreeDir(d);
	list_sort(names, name_cmp);
	foreach(lc, names)
	{
		char	   *fpath = psprintf("%s/%s", path, (char *) lfirst(lc));
		struct stat stb;

		if (stat(fpath, &stb) == 0)
			appendStringInfo(&s, "%s:%lld:%lld;", (char *) lfirst(lc),
							 (long long) stb.st_size, (long long) stb.st_mtime);
	}
	return s.data;
}

/*
 * Bring pitr_restore.base_backup up to date with backup_dir; backups whose
 * files did not change are not read again.
 */
static int64
refresh_backup_dir(void)
{
	DIR		   *d;
	struct dirent *de;
	List	   *sigs = NIL;
	bool		changed = false;
	char	   *dir;

	if (pitr_backup_dir == NULL || pitr_backup_dir[0] == '\0')
		return 0;
	dir = pstrdup(pitr_backup_dir);
	canonicalize_path(dir);

	d = AllocateDir(dir);
	if (d == NULL)
		ereport(ERROR,
				(errcode_for_file_access(),
				 errmsg("could not open base backup directory \"%s\": %m", dir)));
	while ((de = ReadDir(d, dir)) != NULL)
	{
		char	   *path;
		struct stat stb;

		if (de->d_name[0] == '.')
			continue;
		path = psprintf("%s/%s", dir, de->d_name);
		if (stat(path, &stb) != 0 || !S_ISDIR(stb.st_mode))
			continue;
		sigs = lappend(sigs, list_make2(path, backup_signature(path)));
	}
	FreeDir(d);

	/* Anything added, changed or gone? */
	spi_check(SPI_execute("SELECT location, signature FROM pitr_restore.base_backup",
						  true, 0), SPI_OK_SELECT, "reading base backups");
	if (SPI_processed != list_length(sigs))
		changed = true;
	else
	{
		for (uint64 i = 0; i < SPI_processed && !changed; i++)
		{
			char	   *loc = SPI_getvalue(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 1);
			char	   *sig = SPI_getvalue(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 2);
			ListCell   *lc;
			bool		match = false;

			foreach(lc, sigs)
			{
				List	   *p = lfirst(lc);

				if (strcmp(linitial(p), loc) == 0 && strcmp(lsecond(p), sig) == 0)
					match = true;
			}
			if (!match)
				changed = true;
		}
	}
	if (!changed)
		return 0;

	spi_check(SPI_execute("DELETE FROM pitr_restore.base_backup", false, 0),
			  SPI_OK_DELETE, "clearing base backups");
	{
		List	   *backups = pitr_scan_backup_dir(dir);
		ListCell   *lc;

		foreach(lc, backups)
		{
			PitrBackup *b = lfirst(lc);
			Oid			types[18] = {TEXTOID, TEXTOID, TEXTOID, TEXTOID, TEXTOID, TEXTOID,
				INT4OID, INT4OID, LSNOID, LSNOID, LSNOID, TIMESTAMPTZOID,
			TIMESTAMPTZOID, INT4OID, TEXTOID, INT8OID, BOOLOID, TEXTOID};
			Datum		v[18];
			char		n[18];
			char	   *sig = "";
			ListCell   *lc2;

			CHECK_FOR_INTERRUPTS();
			foreach(lc2, sigs)
			{
				List	   *p = lfirst(lc2);

				if (b->location && strcmp(linitial(p), b->location) == 0)
					sig = lsecond(p);
			}
			memset(n, ' ', sizeof(n));
			v[0] = text_datum(b->location ? b->location : psprintf("%s/%s", dir, b->name));
			v[1] = text_datum(sig);
			v[2] = text_datum(b->name);
			v[3] = b->format ? text_datum(b->format) : (n[3] = 'n', (Datum) 0);
			v[4] = b->label ? text_datum(b->label) : (n[4] = 'n', (Datum) 0);
			v[5] = b->backup_from ? text_datum(b->backup_from) : (n[5] = 'n', (Datum) 0);
			v[6] = b->start_tli ? Int32GetDatum(b->start_tli) : (n[6] = 'n', (Datum) 0);
			v[7] = b->stop_tli ? Int32GetDatum(b->stop_tli) : (n[7] = 'n', (Datum) 0);
			v[8] = b->start_lsn ? LSNGetDatum(b->start_lsn) : (n[8] = 'n', (Datum) 0);
			v[9] = b->checkpoint_lsn ? LSNGetDatum(b->checkpoint_lsn) : (n[9] = 'n', (Datum) 0);
			v[10] = b->stop_lsn ? LSNGetDatum(b->stop_lsn) : (n[10] = 'n', (Datum) 0);
			v[11] = b->has_start_time ? TimestampTzGetDatum(b->start_time) : (n[11] = 'n', (Datum) 0);
			v[12] = b->has_stop_time ? TimestampTzGetDatum(b->stop_time) : (n[12] = 'n', (Datum) 0);
			v[13] = b->pg_version ? Int32GetDatum(b->pg_version) : (n[13] = 'n', (Datum) 0);
			v[14] = b->system_identifier ? uint64_datum(b->system_identifier) : (n[14] = 'n', (Datum) 0);
			v[15] = Int64GetDatum(b->bytes);
			v[16] = BoolGetDatum(b->has_manifest);
			v[17] = b->problem ? text_datum(b->problem) : (n[17] = 'n', (Datum) 0);
			spi_check(SPI_execute_with_args("INSERT INTO pitr_restore.base_backup "
											"(location, signature, name, format, label, "
											"backup_from, start_timeline, stop_timeline, "
											"start_lsn, checkpoint_lsn, stop_lsn, start_time, "
											"stop_time, pg_version, system_identifier, bytes, "
											"has_manifest, problem) VALUES ($1, $2, $3, $4, $5, "
											"$6, $7, $8, $9, $10, $11, $12, $13, $14, "
											"$15::numeric, $16, $17, $18) "
											"ON CONFLICT (location) DO NOTHING",
											18, types, v, n, false, 0),
					  SPI_OK_INSERT, "adding a base backup");
		}
	}
	return 1;
}

/* A directory's mtime, to the nanosecond, as text. */
static char *
dir_mtime(const char *dir)
{
	struct stat st;

	if (stat(dir, &st) != 0)
		ereport(ERROR,
				(errcode_for_file_access(),
				 errmsg("could not open WAL archive directory \"%s\": %m", dir)));
	return psprintf("%lld.%09ld", (long long) st.st_mtim.tv_sec,
					(long) st.st_mtim.tv_nsec);
}

/*
 * Refresh the index of one archive directory.  Runs inside SPI.
 */
void
pitr_refresh_archive(const char *dir, PitrScanResult *res)
{
	ArchiveScan	st;
	List	   *files;
	ListCell   *lc;
	HASH_SEQ_STATUS hs;
	KnownFile  *k;
	SegmentHead *heads;
	int			nheads = 0;
	List	   *others = NIL;
	MemoryContext filecxt;
	char	   *mtime;

	memset(&st, 0, sizeof(st));
	memset(res, 0, sizeof(*res));
	st.dir = pstrdup(dir);
	st.next_progress = PROGRESS_BYTES;

	lock_archive(&st);
	mtime = dir_mtime(dir);
	load_known(&st);
	files = pitr_list_archive(dir);

	/* Unchanged files stay; changed ones are dropped, to be read again. */
	heads = palloc0(sizeof(SegmentHead) * (list_length(files) + 1));
	foreach(lc, files)
	{
		PitrArchiveFile *f = lfirst(lc);
		bool		found;

		k = hash_search(st.known, f->name, HASH_ENTER, &found);
		if (found && k->size == f->size && k->mtime == f->mtime)
		{
			k->seen = true;
			continue;
		}
		if (found)
			delete_file_row(&st, f->name);
		k->size = f->size;
		k->mtime = f->mtime;
		k->seen = true;
		k->complete = false;
		k->next_lsn = InvalidXLogRecPtr;
		if (f->kind == PITR_FILE_SEGMENT || f->kind == PITR_FILE_PARTIAL)
			heads[nheads++].file = f;
		else
			others = lappend(others, f);	/* history and backup files */
	}

	/* Files that vanished from the directory leave the index. */
	hash_seq_init(&hs, st.known);
	while ((k = hash_seq_search(&hs)) != NULL)
		if (!k->seen)
			delete_file_row(&st, k->name);

	/* New history and backup history files first: lookups need them. */
	foreach(lc, others)
	{
		PitrArchiveFile *f = lfirst(lc);

		CHECK_FOR_INTERRUPTS();
		if (f->kind == PITR_FILE_HISTORY)
			index_history_file(&st, f);
		else
			index_backup_history_file(&st, f);
	}

	/* Every segment of the archive serves lookups; new ones get scanned. */
	{
		SegmentHead *h;

		/* First pages tell the archive's system and segment size. */
		st.src = pitr_segsrc_create(dir, XLOG_BLCKSZ);
		for (int i = 0; i < nheads; i++)
		{
			CHECK_FOR_INTERRUPTS();
			read_head(&st, &heads[i]);
		}
		st.bytes_read += pitr_segsrc_bytes_read(st.src);
		settle_identity(&st, heads, nheads);

		if (st.segsize == 0)
		{
			/* Nothing that looks like WAL: record every file as such. */
			for (int i = 0; i < nheads; i++)
			{
				const char *status;
				char	   *detail;

				h = &heads[i];
				(void) head_acceptable(&st, h, &status, &detail);
				insert_file(&st, h->file, status, detail, h, NULL);
			}
		}
		else
		{
			st.src = pitr_segsrc_create(dir, st.segsize);
			foreach(lc, files)
			{
				PitrArchiveFile *f = lfirst(lc);

				k = hash_search(st.known, f->name, HASH_FIND, NULL);
				if (f->kind == PITR_FILE_SEGMENT)
					pitr_segsrc_add(st.src, f);
			}
			load_histories(&st);

			qsort(heads, nheads, sizeof(SegmentHead), head_cmp);
			filecxt = AllocSetContextCreate(CurrentMemoryContext,
											"pitr_restore segment scan",
											ALLOCSET_DEFAULT_SIZES);
			for (int i = 0; i < nheads; i++)
			{
				CHECK_FOR_INTERRUPTS();
				scan_segment(&st, &heads[i], filecxt);
				MemoryContextReset(filecxt);
				progress(&st);
			}
			st.bytes_read += pitr_segsrc_bytes_read(st.src);
			pitr_segsrc_close(st.src);
		}
	}

	refresh_backup_dir();

	{
		Oid			types[2] = {INT4OID, TEXTOID};
		Datum		v[2];

		v[0] = Int32GetDatum(st.archive_id);
		v[1] = text_datum(mtime);
		spi_check(SPI_execute_with_args("SELECT pitr_restore.rebuild_segment_runs($1)",
										1, types, v, NULL, false, 0),
				  SPI_OK_SELECT, "recording runs of segments");
		spi_check(SPI_execute_with_args("UPDATE pitr_restore.archive SET last_scan = now(), "
										"dir_mtime = $2, compressions = ARRAY("
										"SELECT DISTINCT compression FROM pitr_restore.archive_file "
										"WHERE archive_id = $1) WHERE archive_id = $1",
										2, types, v, NULL, false, 0),
				  SPI_OK_UPDATE, "recording the scan");
	}

	res->archive_id = st.archive_id;
	res->segments_scanned = st.segments_scanned;
	res->bytes_read = st.bytes_read;
	res->system_identifier = st.sysid;
	res->segment_size = st.segsize;
	foreach(lc, files)
	{
		PitrArchiveFile *f = lfirst(lc);

		if (f->kind == PITR_FILE_SEGMENT || f->kind == PITR_FILE_PARTIAL)
			res->segments_total++;
	}
}

/*
 * scan_archive(archive_dir text DEFAULT NULL)
 */
Datum
pitr_scan_archive(PG_FUNCTION_ARGS)
{
	char	   *dir;
	PitrScanResult res;
	TupleDesc	tupdesc;
	Datum		values[6];
	bool		nulls[6] = {0};
	Oid			types[1] = {TEXTOID};
	Datum		arg[1];

	pitr_check_read_privilege();
	dir = pitr_archive_dir_arg(PG_ARGISNULL(0) ? NULL : PG_GETARG_TEXT_PP(0));
	if (get_call_result_type(fcinfo, NULL, &tupdesc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "return type must be a row type");

	SPI_connect();
	pitr_refresh_archive(dir, &res);

	arg[0] = text_datum(dir);
	spi_check(SPI_execute_with_args("SELECT "
									"(SELECT count(*) FROM pitr_restore.restore_points($1)), "
									"(SELECT count(*) FROM pitr_restore.timelines($1))::int, "
									"(SELECT count(*) FROM pitr_restore.backups($1))::int",
									1, types, arg, NULL, false, 0),
			  SPI_OK_SELECT, "counting");
	{
		bool		isnull;

		values[3] = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull);
		values[4] = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2, &isnull);
		values[5] = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 3, &isnull);
	}
	SPI_finish();

	values[0] = Int64GetDatum(res.segments_total);
	values[1] = Int64GetDatum(res.segments_scanned);
	values[2] = Int64GetDatum(res.bytes_read);
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(BlessTupleDesc(tupdesc),
													  values, nulls)));
}

/*
 * archive_path(archive_dir text DEFAULT NULL): the canonical path.
 */
Datum
pitr_archive_path(PG_FUNCTION_ARGS)
{
	pitr_check_read_privilege();
	PG_RETURN_TEXT_P(cstring_to_text(pitr_archive_dir_arg(PG_ARGISNULL(0) ? NULL :
														  PG_GETARG_TEXT_PP(0))));
}

/*
 * refresh_archive(archive_dir text DEFAULT NULL) returns the archive's id,
 * after a scan if the directory changed since the last one.
 */
Datum
pitr_refresh_archive_sql(PG_FUNCTION_ARGS)
{
	char	   *dir;
	Oid			types[2] = {TEXTOID, TEXTOID};
	Datum		v[2];
	int			id = 0;

	pitr_check_read_privilege();
	dir = pitr_archive_dir_arg(PG_ARGISNULL(0) ? NULL : PG_GETARG_TEXT_PP(0));

	SPI_connect();
	v[0] = text_datum(dir);
	v[1] = text_datum(dir_mtime(dir));
	spi_check(SPI_execute_with_args("SELECT archive_id FROM pitr_restore.archive "
									"WHERE directory = $1 AND dir_mtime = $2 "
									"AND last_scan IS NOT NULL",
									2, types, v, NULL, true, 1),
			  SPI_OK_SELECT, "checking the archive");
	if (SPI_processed == 1)
	{
		bool		isnull;

		id = DatumGetInt32(SPI_getbinval(SPI_tuptable->vals[0],
										 SPI_tuptable->tupdesc, 1, &isnull));
	}
	else
	{
		PitrScanResult res;

		pitr_refresh_archive(dir, &res);
		id = res.archive_id;
	}
	SPI_finish();
	PG_RETURN_INT32(id);
}
