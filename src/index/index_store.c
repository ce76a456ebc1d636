/*-------------------------------------------------------------------------
 *
 * index_store.c
 *	  The SPI store of the archive index (index_store.h).  Every query on
 *	  the index tables the scanner runs lives here; all are executed as
 *	  non-read-only SPI calls, so each sees what other scans committed
 *	  after this one took the archive's lock.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"
#include "catalog/pg_type.h"
#include "miscadmin.h"
#include "executor/spi.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/pg_lsn.h"
#include "utils/timestamp.h"

#include "history.h"
#include "index_store.h"
#include "util/display.h"
#include "scan_workers.h"
#include "util/local_hash.h"

/* The advisory lock space of archive scans ("pitr" in ASCII). */
#define PITR_LOCK_CLASS 0x70697472

/*
 * The two inserts a scan runs per file and per WAL event, prepared once per
 * backend and kept (the plan cache revalidates them if the tables change):
 * preparing them per scan would keep two more plans in every scan.
 */
static SPIPlanPtr insert_file_plan[2];	/* without, with the link columns */
static SPIPlanPtr insert_event_plan = NULL;

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

/*
 * Run one of the store's queries, without NULL arguments, and ERROR unless
 * SPI answers "expected"; "what" says what was being done.
 */
static void
store_exec(const char *sql, int nargs, Oid *types, Datum *v,
		   bool read_only, long count, int expected, const char *what)
{
	pitr_spi_check(SPI_execute_with_args(sql, nargs, types, v, NULL,
										 read_only, count),
				   expected, what);
}

static int
first_int(void)
{
	bool		isnull;
	Datum		d;

	if (SPI_processed == 0)
		return 0;
	d = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull);
	return isnull ? 0 : DatumGetInt32(d);
}

/*
 * Does an index table have this column?  The library may run against the
 * schema of an older version until ALTER EXTENSION ... UPDATE.
 */
static bool
has_column(const char *table, const char *column)
{
	store_exec("SELECT 1 FROM pg_catalog.pg_attribute "
			   "WHERE attrelid OPERATOR(pg_catalog.=) "
			   "pg_catalog.to_regclass('pitr_restore.' OPERATOR(pg_catalog.||) $1) "
			   "AND attname OPERATOR(pg_catalog.=) $2 AND NOT attisdropped",
			   2, (Oid[]) {TEXTOID, TEXTOID},
			   (Datum[]) {text_datum(table), text_datum(column)},
			   true, 1, SPI_OK_SELECT, "reading an index table's columns");
	return SPI_processed == 1;
}

/* Does archive_file have the link columns (1.2)? */
bool
pitr_store_has_link_columns(void)
{
	return has_column("archive_file", "last_lsn");
}

/* Does archive have index_generation (1.3: the stamps cache's key)? */
bool
pitr_store_has_generation(void)
{
	return has_column("archive", "index_generation");
}

/* Does base_backup have the repository column (1.1)? */
static bool
has_repository_column(void)
{
	return has_column("base_backup", "repository");
}

/* Does base_backup have the incremental-chain columns (1.2)? */
static bool
has_chain_columns(void)
{
	return has_column("base_backup", "chain");
}

/*
 * Call the advisory lock function "fn" on an archive's lock: the scans'
 * class and the hash of its directory.  The function's boolean answer
 * (false for those that return void).
 */
static bool
archive_lock(const char *fn, const char *dir, const char *what)
{
	char	   *sql = psprintf("SELECT pg_catalog.%s($1, pg_catalog.hashtext($2))",
							   fn);
	bool		isnull;
	Datum		d;

	store_exec(sql, 2, (Oid[]) {INT4OID, TEXTOID},
			   (Datum[]) {Int32GetDatum(PITR_LOCK_CLASS), text_datum(dir)},
			   false, 0, SPI_OK_SELECT, what);
	pfree(sql);
	d = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull);
	return !isnull && DatumGetBool(d);
}

bool
pitr_store_open(PitrStore *store, const char *dir, bool wait)
{
	Oid			types[1] = {TEXTOID};
	Datum		v[1];
	bool		isnull;
	char	   *s;
	Datum		d;

	memset(store, 0, sizeof(*store));
	store->dir = pstrdup(dir);

	/* One scan of an archive at a time; the lock is released at commit. */
	if (!archive_lock("pg_try_advisory_xact_lock", dir, "locking the archive"))
	{
		if (!wait)
			return false;

		/*
		 * A transaction-wide snapshot taken before the other scan commits
		 * would not see what it indexed: refuse plainly rather than fail
		 * on a duplicate key.
		 */
		if (IsolationUsesXactSnapshot())
			ereport(ERROR,
					(errcode(ERRCODE_T_R_SERIALIZATION_FAILURE),
					 errmsg("could not serialize access to WAL archive \"%s\" due to a concurrent scan", dir),
					 errhint("Scan the archive in a READ COMMITTED transaction, or retry.")));
		/* Waiting respects lock_timeout. */
		(void) archive_lock("pg_advisory_xact_lock", dir, "locking the archive");
	}

	v[0] = text_datum(dir);
	store_exec("INSERT INTO pitr_restore.archive (directory) "
			   "VALUES ($1) ON CONFLICT (directory) DO NOTHING",
			   1, types, v, false, 0, SPI_OK_INSERT, "registering the archive");
	store_exec("SELECT archive_id, system_identifier::text, segment_size "
			   "FROM pitr_restore.archive "
			   "WHERE directory OPERATOR(pg_catalog.=) $1",
			   1, types, v, false, 0, SPI_OK_SELECT, "reading the archive");
	if (SPI_processed != 1)
		elog(ERROR, "archive row for \"%s\" vanished", dir);

	store->archive_id = DatumGetInt32(SPI_getbinval(SPI_tuptable->vals[0],
													SPI_tuptable->tupdesc, 1, &isnull));
	s = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2);
	store->sysid = s ? strtou64(s, NULL, 10) : 0;
	d = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 3, &isnull);
	store->segsize = isnull ? 0 : DatumGetInt32(d);
	return true;
}

bool
pitr_store_scan_running(const char *dir)
{
	bool		got;

	/*
	 * A session-level probe of the scans' transaction-level lock: it
	 * conflicts with it, and is released at once.
	 */
	got = archive_lock("pg_try_advisory_lock", dir, "probing the archive's lock");
	if (got)
		(void) archive_lock("pg_advisory_unlock", dir, "probing the archive's lock");
	return !got;
}

int
pitr_store_indexed_id(const char *dir)
{
	store_exec("SELECT archive_id FROM pitr_restore.archive "
			   "WHERE directory OPERATOR(pg_catalog.=) $1 "
			   "AND last_scan IS NOT NULL",
			   1, (Oid[]) {TEXTOID},
			   (Datum[]) {text_datum(dir)},
			   false, 1, SPI_OK_SELECT, "looking up the archive");
	return first_int();
}

/* The archive's segment size; 0 when it is not indexed or holds no WAL. */
int
pitr_store_segment_size(int archive_id)
{
	store_exec("SELECT segment_size FROM pitr_restore.archive "
			   "WHERE archive_id OPERATOR(pg_catalog.=) $1",
			   1, (Oid[]) {INT4OID},
			   (Datum[]) {Int32GetDatum(archive_id)},
			   true, 1, SPI_OK_SELECT, "looking up the archive's segment size");
	return first_int();
}

int
pitr_store_unchanged_id(const char *dir, const char *mtime)
{
	store_exec("SELECT archive_id FROM pitr_restore.archive "
			   "WHERE directory OPERATOR(pg_catalog.=) $1 "
			   "AND dir_mtime OPERATOR(pg_catalog.=) $2 "
			   "AND last_scan IS NOT NULL",
			   2, (Oid[]) {TEXTOID, TEXTOID},
			   (Datum[]) {text_datum(dir), text_datum(mtime)},
			   false, 1, SPI_OK_SELECT, "checking the archive");
	return first_int();
}

HTAB *
pitr_store_known_files(PitrStore *store)
{
	Oid			types[1] = {INT4OID};
	Datum		values[1];
	HTAB	   *known;

	known = pitr_hash_create("pitr_restore known files", 1024,
			MAXPGPATH, sizeof(PitrKnownFile),
			true, CurrentMemoryContext);

	values[0] = Int32GetDatum(store->archive_id);
	store->has_link = pitr_store_has_link_columns();

	/*
	 * A segment indexed without its link to the predecessor (before 1.2)
	 * is read again, so every segment's chain can be checked.
	 */
	store_exec(store->has_link ?
			   "SELECT file_name, file_size, "
			   "pg_catalog.date_part('epoch', file_mtime)::bigint, "
			   "status = 'ok' AND kind = 'segment', "
			   "next_lsn, status IN ('unreadable', 'duplicate') OR "
			   "(status = 'ok' AND kind = 'segment' AND records > 0 AND last_lsn IS NULL), "
			   "status = 'unused', last_lsn, file_stamp "
			   "FROM pitr_restore.archive_file WHERE archive_id = $1" :
			   "SELECT file_name, file_size, "
			   "pg_catalog.date_part('epoch', file_mtime)::bigint, "
			   "status = 'ok' AND kind = 'segment', "
			   "next_lsn, status = 'unreadable', status = 'unused', "
			   "NULL::pg_catalog.pg_lsn, NULL::text "
			   "FROM pitr_restore.archive_file WHERE archive_id = $1",
			   1, types, values, false, 0, SPI_OK_SELECT, "reading the index");

	for (uint64 i = 0; i < SPI_processed; i++)
	{
		HeapTuple	tup = SPI_tuptable->vals[i];
		TupleDesc	desc = SPI_tuptable->tupdesc;
		char	   *name = SPI_getvalue(tup, desc, 1);
		PitrKnownFile *k;
		bool		isnull;
		Datum		d;

		if (strlen(name) >= MAXPGPATH)
			continue;
		k = hash_search(known, name, HASH_ENTER, NULL);
		k->size = DatumGetInt64(SPI_getbinval(tup, desc, 2, &isnull));
		k->mtime = DatumGetInt64(SPI_getbinval(tup, desc, 3, &isnull));
		k->seen = false;
		k->complete = DatumGetBool(SPI_getbinval(tup, desc, 4, &isnull));
		d = SPI_getbinval(tup, desc, 5, &isnull);
		k->next_lsn = isnull ? InvalidXLogRecPtr : DatumGetLSN(d);
		k->retry = DatumGetBool(SPI_getbinval(tup, desc, 6, &isnull));
		k->unused = DatumGetBool(SPI_getbinval(tup, desc, 7, &isnull));
		d = SPI_getbinval(tup, desc, 8, &isnull);
		k->last_lsn = isnull ? InvalidXLogRecPtr : DatumGetLSN(d);
		{
			char	   *stamp = SPI_getvalue(tup, desc, 9);

			strlcpy(k->stamp, stamp ? stamp : "", sizeof(k->stamp));
			k->cur_valid = false;
		}
	}
	return known;
}

bool
pitr_store_each_file(int archive_id, PitrIndexedFileFn fn, void *arg)
{
	store_exec(!pitr_store_has_link_columns() ?
			   "SELECT file_name, file_size, "
			   "pg_catalog.date_part('epoch', file_mtime)::bigint, NULL::text "
			   "FROM pitr_restore.archive_file WHERE archive_id = $1" :
			   "SELECT file_name, file_size, "
			   "pg_catalog.date_part('epoch', file_mtime)::bigint, "
			   "file_stamp "
			   "FROM pitr_restore.archive_file WHERE archive_id = $1",
			   1, (Oid[]) {INT4OID},
			   (Datum[]) {Int32GetDatum(archive_id)},
			   true, 0, SPI_OK_SELECT, "reading the index");
	for (uint64 i = 0; i < SPI_processed; i++)
	{
		HeapTuple	tup = SPI_tuptable->vals[i];
		TupleDesc	desc = SPI_tuptable->tupdesc;
		bool		isnull;

		if ((i & 1023) == 0)
			CHECK_FOR_INTERRUPTS();
		if (!fn(SPI_getvalue(tup, desc, 1),
				DatumGetInt64(SPI_getbinval(tup, desc, 2, &isnull)),
				DatumGetInt64(SPI_getbinval(tup, desc, 3, &isnull)),
				SPI_getvalue(tup, desc, 4), arg))
			return false;
	}
	return true;
}

void
pitr_store_delete_file(PitrStore *store, const char *name)
{
	store_exec("DELETE FROM pitr_restore.archive_file "
			   "WHERE archive_id = $1 AND file_name = $2",
			   2, (Oid[]) {INT4OID, TEXTOID},
			   (Datum[]) {Int32GetDatum(store->archive_id),
			   text_datum(name)},
			   false, 0, SPI_OK_DELETE, "dropping a file from the index");
}

#define FILE_COLS 28

/*
 * The insert into archive_file: the columns up to 1.1, then those 1.2
 * added ("more", with their parameters), when the schema has them.
 */
#define INSERT_FILE(more, more_params) \
	"INSERT INTO pitr_restore.archive_file (archive_id, " \
	"file_name, kind, compression, file_size, file_mtime, " \
	"timeline, segno, status, detail, system_identifier, " \
	"page_magic, first_lsn, next_lsn, records, commits, aborts, " \
	"first_commit_time, last_commit_time, min_commit_time, " \
	"max_commit_time, min_xid, max_xid, has_switch, " \
	"wal_level_minimal" more ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, " \
	"$9, $10, $11::pg_catalog.numeric, $12, $13, $14, $15, $16, $17, $18, " \
	"$19, $20, $21, $22, $23, $24, $25" more_params ")"

void
pitr_store_insert_file(PitrStore *store, const PitrFileRow *row)
{
	PitrArchiveFile *f = row->file;
	const PitrSegmentHead *head = row->head;
	const PitrSegmentSummary *sum = row->sum;
	Datum		v[FILE_COLS];
	char		n[FILE_COLS];

	if (insert_file_plan[store->has_link] == NULL)
	{
		Oid			types[FILE_COLS] = {INT4OID, TEXTOID, TEXTOID, TEXTOID, INT8OID,
			TIMESTAMPTZOID, INT4OID, INT8OID, TEXTOID, TEXTOID, TEXTOID, INT4OID,
			LSNOID, LSNOID, INT8OID, INT8OID, INT8OID, TIMESTAMPTZOID,
			TIMESTAMPTZOID, TIMESTAMPTZOID, TIMESTAMPTZOID, INT8OID, INT8OID,
		BOOLOID, BOOLOID, LSNOID, LSNOID, TEXTOID};

		insert_file_plan[store->has_link] =
			pitr_spi_prepare(store->has_link ?
							 INSERT_FILE(", first_prev, last_lsn, file_stamp",
										 ", $26, $27, $28") :
							 INSERT_FILE("", ""),
							 store->has_link ? FILE_COLS : FILE_COLS - 3, types,
							 true);
	}

	memset(n, 'n', sizeof(n));
	v[0] = Int32GetDatum(store->archive_id);
	v[1] = text_datum(f->name);
	v[2] = text_datum(pitr_file_kind_name(f->kind));
	v[3] = text_datum(pitr_compression_name(f->compression));
	v[4] = Int64GetDatum(f->size);
	v[5] = TimestampTzGetDatum(time_t_to_timestamptz((pg_time_t) f->mtime));
	v[6] = Int32GetDatum((int32) f->tli);
	memset(n, ' ', 7);
	if ((f->kind == PITR_FILE_SEGMENT || f->kind == PITR_FILE_PARTIAL) &&
		store->segsize > 0)
	{
		v[7] = Int64GetDatum((int64) pitr_file_segno(f, store->segsize));
		n[7] = ' ';
	}
	v[8] = text_datum(row->status);
	n[8] = ' ';
	if (row->detail)
	{
		v[9] = text_datum(row->detail);
		n[9] = ' ';
	}
	if (head)
	{
		v[10] = uint64_datum(head->sysid);
		v[11] = Int32GetDatum(head->magic);
		n[10] = n[11] = ' ';
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
		v[24] = BoolGetDatum(sum->wal_level_minimal);
		n[23] = n[24] = ' ';
		if (sum->has_link && sum->records > 0)
		{
			v[25] = LSNGetDatum(sum->first_prev);
			v[26] = LSNGetDatum(sum->last_lsn);
			n[25] = n[26] = ' ';
		}
	}

	if (row->stamp)
	{
		v[27] = text_datum(row->stamp);
		n[27] = ' ';
	}
	pitr_spi_check(SPI_execute_plan(insert_file_plan[store->has_link], v, n, false, 0),
				   SPI_OK_INSERT, "adding a file to the index");
}

#define EVENT_COLS 13

void
pitr_store_insert_event(PitrStore *store, PitrArchiveFile *f, PitrWalEvent *ev)
{
	Datum		v[EVENT_COLS];
	char		n[EVENT_COLS];

	if (insert_event_plan == NULL)
	{
		Oid			types[EVENT_COLS] = {INT4OID, TEXTOID, INT4OID, TEXTOID, LSNOID,
			LSNOID, TEXTOID, INT8OID, TIMESTAMPTZOID, LSNOID, INT4OID, INT4OID,
		TEXTOID};

		insert_event_plan =
			pitr_spi_prepare("INSERT INTO pitr_restore.wal_event (archive_id, file_name, "
					  "timeline, kind, lsn, end_lsn, name, xid, event_time, "
					  "ref_lsn, event_timeline, prev_timeline, outcome) VALUES ($1, $2, "
					  "$3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)",
					  EVENT_COLS, types, true);
	}

	memset(n, ' ', sizeof(n));
	v[0] = Int32GetDatum(store->archive_id);
	v[1] = text_datum(f->name);
	v[2] = Int32GetDatum((int32) f->tli);
	v[3] = text_datum(pitr_event_kind_name(ev->kind));
	v[4] = LSNGetDatum(ev->lsn);
	v[5] = LSNGetDatum(ev->end_lsn);
	/* a name invalid in the database encoding is stored escaped */
	v[6] = ev->name ? text_datum(pitr_db_text(ev->name)) : (n[6] = 'n', (Datum) 0);
	v[7] = TransactionIdIsValid(ev->xid) ? Int64GetDatum((int64) ev->xid) : (n[7] = 'n', (Datum) 0);
	v[8] = ev->has_time ? TimestampTzGetDatum(ev->time) : (n[8] = 'n', (Datum) 0);
	v[9] = !XLogRecPtrIsInvalid(ev->ref_lsn) ? LSNGetDatum(ev->ref_lsn) : (n[9] = 'n', (Datum) 0);
	if (ev->tli)
	{
		v[10] = Int32GetDatum((int32) ev->tli);
		v[11] = Int32GetDatum((int32) ev->prev_tli);
	}
	else
		n[10] = n[11] = 'n';
	v[12] = ev->outcome ? text_datum(ev->outcome) : (n[12] = 'n', (Datum) 0);

	pitr_spi_check(SPI_execute_plan(insert_event_plan, v, n, false, 0),
				   SPI_OK_INSERT, "adding a WAL event to the index");
}

void
pitr_store_insert_history(PitrStore *store, PitrArchiveFile *f, List *entries)
{
	int			pos = 0;
	ListCell   *lc;

	foreach(lc, entries)
	{
		PitrHistoryEntry *e = lfirst(lc);
		Oid			types[7] = {INT4OID, TEXTOID, INT4OID, INT4OID, INT4OID, LSNOID, TEXTOID};
		Datum		v[7];

		v[0] = Int32GetDatum(store->archive_id);
		v[1] = text_datum(f->name);
		v[2] = Int32GetDatum((int32) f->tli);
		v[3] = Int32GetDatum(++pos);
		v[4] = Int32GetDatum((int32) e->tli);
		v[5] = LSNGetDatum(e->switchpoint);
		v[6] = text_datum(e->reason);
		store_exec("INSERT INTO pitr_restore.timeline_history "
				   "(archive_id, file_name, timeline, position, "
				   "parent, branch_lsn, reason) "
				   "VALUES ($1, $2, $3, $4, $5, $6, $7)",
				   7, types, v, false, 0, SPI_OK_INSERT,
				   "adding a timeline history");
	}
}

void
pitr_store_insert_backup_history(PitrStore *store, PitrArchiveFile *f,
								 PitrBackup *b)
{
	Oid			types[11] = {INT4OID, TEXTOID, TEXTOID, INT4OID, INT4OID, LSNOID,
	LSNOID, LSNOID, TIMESTAMPTZOID, TIMESTAMPTZOID, TEXTOID};
	Datum		v[11];
	char		n[11];

	memset(n, ' ', sizeof(n));
	v[0] = Int32GetDatum(store->archive_id);
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
	pitr_spi_check(SPI_execute_with_args("INSERT INTO pitr_restore.backup_history "
										 "(archive_id, file_name, label, start_timeline, "
										 "stop_timeline, start_lsn, checkpoint_lsn, stop_lsn, "
										 "start_time, stop_time, backup_from) "
										 "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
										 11, types, v, n, false, 0),
				   SPI_OK_INSERT, "adding a backup history file");
}

void
pitr_store_load_histories(PitrStore *store, PitrSegmentSource *src,
						  PitrScanSetup *setup)
{
	TimeLineID	cur = 0;
	List	   *entries = NIL;

	store_exec("SELECT timeline, parent, branch_lsn "
			   "FROM pitr_restore.timeline_history "
			   "WHERE archive_id = $1 ORDER BY timeline, position",
			   1, (Oid[]) {INT4OID},
			   (Datum[]) {Int32GetDatum(store->archive_id)},
			   false, 0, SPI_OK_SELECT, "reading timeline histories");
	for (uint64 i = 0; i < SPI_processed; i++)
	{
		HeapTuple	tup = SPI_tuptable->vals[i];
		TupleDesc	desc = SPI_tuptable->tupdesc;
		bool		isnull;
		TimeLineID	tli = DatumGetInt32(SPI_getbinval(tup, desc, 1, &isnull));
		PitrHistoryEntry *e = palloc(sizeof(PitrHistoryEntry));

		if (tli != cur && entries != NIL)
		{
			pitr_segsrc_set_history(src, cur, entries);
			entries = NIL;
		}
		cur = tli;
		e->tli = DatumGetInt32(SPI_getbinval(tup, desc, 2, &isnull));
		e->switchpoint = DatumGetLSN(SPI_getbinval(tup, desc, 3, &isnull));
		e->reason = NULL;
		if (setup)
			pitr_scan_setup_history(setup, tli, e->tli, e->switchpoint);
		entries = lappend(entries, e);
	}
	if (entries != NIL)
		pitr_segsrc_set_history(src, cur, entries);
}

void
pitr_store_set_identity(PitrStore *store, uint64 sysid, int segsize)
{
	Oid			types[3] = {INT4OID, TEXTOID, INT4OID};
	Datum		v[3];

	store->sysid = sysid;
	store->segsize = segsize;
	v[0] = Int32GetDatum(store->archive_id);
	v[1] = uint64_datum(sysid);
	v[2] = Int32GetDatum(segsize);
	store_exec("UPDATE pitr_restore.archive "
			   "SET system_identifier = $2::pg_catalog.numeric, segment_size = $3 "
			   "WHERE archive_id = $1",
			   3, types, v, false, 0, SPI_OK_UPDATE,
			   "recording the archive's system");
}

void
pitr_store_finish_scan(PitrStore *store, const char *dir_mtime)
{
	Oid			types[2] = {INT4OID, TEXTOID};
	Datum		v[2];

	v[0] = Int32GetDatum(store->archive_id);
	v[1] = text_datum(dir_mtime);

	/* Runs of consecutive usable segments per timeline (lo to hi). */
	store_exec("DELETE FROM pitr_restore.segment_run WHERE archive_id = $1",
			   1, types, v, false, 0, SPI_OK_DELETE,
			   "recording runs of segments");
	store_exec("INSERT INTO pitr_restore.segment_run (archive_id, timeline, lo, hi) "
			   "SELECT $1, s.timeline, pg_catalog.min(s.segno), pg_catalog.max(s.segno) "
			   "FROM (SELECT d.timeline, d.segno, "
			   "d.segno OPERATOR(pg_catalog.-) pg_catalog.row_number() OVER "
			   "(PARTITION BY d.timeline ORDER BY d.segno) AS grp "
			   "FROM (SELECT DISTINCT f.timeline, f.segno FROM pitr_restore.archive_file f "
			   "WHERE f.archive_id = $1 AND f.kind = 'segment' AND f.status = 'ok') d) s "
			   "GROUP BY s.timeline, s.grp",
			   1, types, v, false, 0, SPI_OK_INSERT,
			   "recording runs of segments");
	store_exec("UPDATE pitr_restore.archive SET last_scan = pg_catalog.now(), "
			   "dir_mtime = $2, compressions = ARRAY("
			   "SELECT DISTINCT compression FROM pitr_restore.archive_file "
			   "WHERE archive_id = $1) WHERE archive_id = $1",
			   2, types, v, false, 0, SPI_OK_UPDATE, "recording the scan");
}


List *
pitr_store_backup_signatures(void)
{
	List	   *sigs = NIL;
	const char *query;

	/*
	 * A usable backup recorded before 1.2 has no chain: read it again, as
	 * if it had changed.
	 */
	if (has_chain_columns())
		query = "SELECT location, CASE WHEN chain IS NULL AND problem IS NULL "
			"THEN '' ELSE signature END FROM pitr_restore.base_backup "
			"WHERE repository IS NULL";
	else if (has_repository_column())
		query = "SELECT location, signature FROM pitr_restore.base_backup "
			"WHERE repository IS NULL";
	else
		query = "SELECT location, signature FROM pitr_restore.base_backup";
	pitr_spi_check(SPI_execute(query, false, 0), SPI_OK_SELECT,
				   "reading base backups");
	for (uint64 i = 0; i < SPI_processed; i++)
		sigs = lappend(sigs,
					   list_make2(SPI_getvalue(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 1),
								  SPI_getvalue(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 2)));
	return sigs;
}

/* The segments a backup carries in its own pg_wal, as a text[]. */
static Datum
carried_datum(List *names)
{
	Datum	   *elems = palloc(sizeof(Datum) * (list_length(names) + 1));
	int			i = 0;
	ListCell   *lc;

	foreach(lc, names)
		elems[i++] = text_datum(lfirst(lc));
	return PointerGetDatum(construct_array(elems, i, TEXTOID, -1, false,
										   TYPALIGN_INT));
}

/*
 * An incremental backup's link to the backup it builds on, and the chain
 * of every usable backup (backup_dir.c links them).
 */
static void
store_chain(const char *location, const PitrBackup *b)
{
	Oid			types[5] = {TEXTOID, LSNOID, INT4OID, TEXTOID, TEXTARRAYOID};
	Datum		v[5];
	char		n[5] = {' ', ' ', ' ', ' ', ' '};

	v[0] = text_datum(location);
	v[1] = b->incremental_from_lsn ? LSNGetDatum(b->incremental_from_lsn) : (n[1] = 'n', (Datum) 0);
	v[2] = b->incremental_from_tli ? Int32GetDatum(b->incremental_from_tli) : (n[2] = 'n', (Datum) 0);
	v[3] = b->incremental_from ? text_datum(b->incremental_from) : (n[3] = 'n', (Datum) 0);
	v[4] = b->chain ? carried_datum(b->chain) : (n[4] = 'n', (Datum) 0);
	pitr_spi_check(SPI_execute_with_args("UPDATE pitr_restore.base_backup "
										 "SET incremental_from_lsn = $2, incremental_from_timeline = $3, "
										 "incremental_from = $4, chain = $5 "
										 "WHERE location OPERATOR(pg_catalog.=) $1",
										 5, types, v, n, false, 0),
				   SPI_OK_UPDATE, "recording an incremental backup's chain");
}

/*
 * Insert base backups; "repository" is the archive location whose
 * repository lists them, NULL for those of backup_dir.  A 1.0 schema
 * (the library updated before ALTER EXTENSION) has neither wal_carried
 * nor repository.
 */
static void
insert_backups(const char *dir, List *backups, List *sigs,
			   const char *repository)
{
	ListCell   *lc;
	bool		with_repository = has_repository_column();
	bool		with_chain = has_chain_columns();

	foreach(lc, backups)
	{
		PitrBackup *b = lfirst(lc);
		Oid			types[20] = {TEXTOID, TEXTOID, TEXTOID, TEXTOID, TEXTOID, TEXTOID,
			INT4OID, INT4OID, LSNOID, LSNOID, LSNOID, TIMESTAMPTZOID,
		TIMESTAMPTZOID, INT4OID, TEXTOID, INT8OID, BOOLOID, TEXTOID, TEXTARRAYOID,
		TEXTOID};
		Datum		v[20];
		char		n[20];
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
		v[18] = carried_datum(b->wal_carried);
		v[19] = repository ? text_datum(repository) : (n[19] = 'n', (Datum) 0);
		pitr_spi_check(SPI_execute_with_args(with_repository ?
											 "INSERT INTO pitr_restore.base_backup "
											 "(location, signature, name, format, label, "
											 "backup_from, start_timeline, stop_timeline, "
											 "start_lsn, checkpoint_lsn, stop_lsn, start_time, "
											 "stop_time, pg_version, system_identifier, bytes, "
											 "has_manifest, problem, wal_carried, repository) "
											 "VALUES ($1, $2, $3, $4, $5, "
											 "$6, $7, $8, $9, $10, $11, $12, $13, $14, "
											 "$15::pg_catalog.numeric, $16, $17, $18, $19, $20) "
											 "ON CONFLICT (location) DO NOTHING" :
											 "INSERT INTO pitr_restore.base_backup "
											 "(location, signature, name, format, label, "
											 "backup_from, start_timeline, stop_timeline, "
											 "start_lsn, checkpoint_lsn, stop_lsn, start_time, "
											 "stop_time, pg_version, system_identifier, bytes, "
											 "has_manifest, problem) VALUES ($1, $2, $3, $4, $5, "
											 "$6, $7, $8, $9, $10, $11, $12, $13, $14, "
											 "$15::pg_catalog.numeric, $16, $17, $18) "
											 "ON CONFLICT (location) DO NOTHING",
											 with_repository ? 20 : 18, types, v, n, false, 0),
					   SPI_OK_INSERT, "adding a base backup");
		if (with_chain && (b->chain != NIL || b->incremental_from_lsn != InvalidXLogRecPtr))
			store_chain(TextDatumGetCString(v[0]), b);
	}
}

void
pitr_store_replace_backups(const char *dir, List *backups, List *sigs)
{
	pitr_spi_check(SPI_execute(has_repository_column() ?
							   "DELETE FROM pitr_restore.base_backup WHERE repository IS NULL" :
							   "DELETE FROM pitr_restore.base_backup", false, 0),
				   SPI_OK_DELETE, "clearing base backups");
	insert_backups(dir, backups, sigs, NULL);
}

void
pitr_store_replace_repo_backups(const char *archive, List *backups)
{
	Oid			types[1] = {TEXTOID};
	Datum		v[1];

	if (!has_repository_column())
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("reading pgBackRest or Barman archives needs pitr_restore 1.1"),
				 errhint("Run ALTER EXTENSION pitr_restore UPDATE.")));
	v[0] = text_datum(archive);
	store_exec("DELETE FROM pitr_restore.base_backup "
			   "WHERE repository OPERATOR(pg_catalog.=) $1",
			   1, types, v, false, 0, SPI_OK_DELETE,
			   "clearing a repository's base backups");
	insert_backups(NULL, backups, NIL, archive);
}

void
pitr_store_counts(const char *dir, Datum *restore_points, Datum *timelines,
				  Datum *backups)
{
	bool		isnull;

	store_exec("SELECT "
			   "(SELECT pg_catalog.count(*) FROM pitr_restore.restore_points($1)), "
			   "(SELECT pg_catalog.count(*) FROM pitr_restore.timelines($1))::int, "
			   "(SELECT pg_catalog.count(*) FROM pitr_restore.backups($1))::int",
			   1, (Oid[]) {TEXTOID},
			   (Datum[]) {text_datum(dir)},
			   false, 0, SPI_OK_SELECT, "counting");
	*restore_points = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull);
	*timelines = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2, &isnull);
	*backups = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 3, &isnull);
}

/*
 * An indexed archive's directory, system identifier and segment size, as
 * the WAL readers need them; ERROR if it is not indexed or holds no
 * readable segment (then it has neither).
 */
void
pitr_store_load_archive(int archive_id, char **dir, uint64 *sysid, int *segsize)
{
	Oid			types[1] = {INT4OID};
	Datum		v[1];
	bool		isnull;
	char	   *sysid_text;

	v[0] = Int32GetDatum(archive_id);
	if (SPI_execute_with_args("SELECT directory, system_identifier::text, segment_size "
							  "FROM pitr_restore.archive "
							  "WHERE archive_id OPERATOR(pg_catalog.=) $1",
							  1, types, v, NULL, true, 1) != SPI_OK_SELECT ||
		SPI_processed != 1)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("archive %d is not indexed", archive_id)));
	*dir = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1);
	sysid_text = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2);
	*segsize = DatumGetInt32(SPI_getbinval(SPI_tuptable->vals[0],
										   SPI_tuptable->tupdesc, 3, &isnull));
	if (isnull || sysid_text == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("archive \"%s\" holds no readable WAL segment", *dir)));
	*sysid = strtou64(sysid_text, NULL, 10);
}
