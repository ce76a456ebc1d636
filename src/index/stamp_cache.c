/*-------------------------------------------------------------------------
 *
 * stamp_cache.c
 *	  The index's record of each file (size, mtime, stamp), kept by a
 *	  backend between calls, for the per-file check of a certified path.
 *
 * resolve_target compares every file on the path it certifies with the
 * index at every call.  Reading 65,536 rows through SPI and parsing their
 * stamp text cost more than the lstat()s themselves, so a backend keeps
 * them, parsed, in a dynamic shared memory segment of its own (which the
 * check's background workers map, see stamp_check.c).  They stay valid
 * exactly while the index does not change: every change of an archive's
 * archive_file rows bumps archive.index_generation in the same
 * transaction (the trigger below), so the kept stamps are used only when
 * the archive row visible now is the very version (xmin and generation)
 * they were read under.  A row version this transaction made is never
 * trusted: it may still roll back.  With nothing kept, a short path (up
 * to 4,096 segments) reads only its own rows, as a new session's first
 * call from a recent backup should not pay for the whole archive.
 * Nothing here skips a file: only the reading of the index is saved.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"
#include "catalog/pg_type.h"
#include "commands/trigger.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/memutils.h"
#include "utils/rel.h"

#include "archive_index.h"
#include "index/stamp_cache.h"
#include "index_store.h"

PG_FUNCTION_INFO_V1(pitr_index_changed);

/* ---- invalidation: the generation trigger ---- */

/* Archives whose generation this subtransaction already bumped. */
#define MAX_BUMPED 8
static int	bumped[MAX_BUMPED];
static int	nbumped = 0;
static bool callbacks_registered = false;

/* Any (sub)transaction boundary: bump again at the next change. */
static void
forget_bumps_xact(XactEvent event, void *arg)
{
	nbumped = 0;
}

static void
forget_bumps_subxact(SubXactEvent event, SubTransactionId mySubid,
					 SubTransactionId parentSubid, void *arg)
{
	nbumped = 0;
}

static void
bump_generation(int archive_id, bool all)
{
	Oid			types[1] = {INT4OID};
	Datum		v[1];

	if (!all)
	{
		for (int i = 0; i < nbumped; i++)
			if (bumped[i] == archive_id)
				return;
	}
	v[0] = Int32GetDatum(archive_id);
	SPI_connect();
	pitr_spi_check(SPI_execute_with_args(all ?
										 "UPDATE pitr_restore.archive "
										 "SET index_generation = index_generation OPERATOR(pg_catalog.+) 1" :
										 "UPDATE pitr_restore.archive "
										 "SET index_generation = index_generation OPERATOR(pg_catalog.+) 1 "
										 "WHERE archive_id OPERATOR(pg_catalog.=) $1",
										 all ? 0 : 1, types, v, NULL, false, 0),
				   SPI_OK_UPDATE, "recording a change of the index");
	SPI_finish();
	if (!all && nbumped < MAX_BUMPED)
		bumped[nbumped++] = archive_id;
}

static int
tuple_archive_id(TriggerData *td, HeapTuple tup)
{
	TupleDesc	desc = RelationGetDescr(td->tg_relation);
	int			att = SPI_fnumber(desc, "archive_id");
	bool		isnull;
	Datum		d;

	if (att <= 0)
		elog(ERROR, "archive_file has no archive_id column");
	d = heap_getattr(tup, att, desc, &isnull);
	return isnull ? 0 : DatumGetInt32(d);
}

/*
 * _index_changed(): AFTER ROW (INSERT, UPDATE, DELETE) and AFTER
 * STATEMENT (TRUNCATE) on archive_file: the archive's index generation
 * moves on, once per subtransaction.
 */
Datum
pitr_index_changed(PG_FUNCTION_ARGS)
{
	TriggerData *td = (TriggerData *) fcinfo->context;

	if (!CALLED_AS_TRIGGER(fcinfo) || !TRIGGER_FIRED_AFTER(td->tg_event))
		elog(ERROR, "_index_changed() must be called as an AFTER trigger");
	if (!callbacks_registered)
	{
		RegisterXactCallback(forget_bumps_xact, NULL);
		RegisterSubXactCallback(forget_bumps_subxact, NULL);
		callbacks_registered = true;
	}
	if (TRIGGER_FIRED_BY_TRUNCATE(td->tg_event))
		bump_generation(0, true);
	else
	{
		bump_generation(tuple_archive_id(td, td->tg_trigtuple), false);
		if (TRIGGER_FIRED_BY_UPDATE(td->tg_event))
			bump_generation(tuple_archive_id(td, td->tg_newtuple), false);
	}
	return PointerGetDatum(NULL);
}

/* ---- the kept stamps ---- */

typedef struct KeptStamps
{
	dsm_segment *seg;			/* NULL: nothing kept */
	int			archive_id;
	TransactionId xmin;			/* the archive row they were read under */
	int64		generation;
} KeptStamps;

static KeptStamps kept;

static SPIPlanPtr generation_plan = NULL;

/*
 * What the per-file check compares, ordered by timeline and segment:
 * every file of the archive (kept), or only a short path's ($2 .. $4).
 */
#define STAMP_COLS \
"SELECT f.timeline, f.segno, f.file_name, f.file_size, " \
"pg_catalog.date_part('epoch', f.file_mtime)::bigint, "
#define STAMP_WHERE \
"FROM pitr_restore.archive_file f " \
"WHERE f.archive_id OPERATOR(pg_catalog.=) $1 AND f.segno IS NOT NULL "
#define STAMP_PATH \
"AND f.timeline OPERATOR(pg_catalog.=) ANY ($2) AND f.segno BETWEEN $3 AND $4 "
#define STAMP_ORDER "ORDER BY f.timeline, f.segno"

static const char *const Q_STAMPS[2][2] = {
	/* schema older than 1.2: no stamps yet */
	{STAMP_COLS "NULL::text " STAMP_WHERE STAMP_ORDER,
	STAMP_COLS "NULL::text " STAMP_WHERE STAMP_PATH STAMP_ORDER},
	{STAMP_COLS "f.file_stamp " STAMP_WHERE STAMP_ORDER,
	STAMP_COLS "f.file_stamp " STAMP_WHERE STAMP_PATH STAMP_ORDER}
};

/* A path this short is read from the index at each call, not kept. */
#define SHORT_PATH_SEGMENTS 4096

/* A path of the check: timelines (each once, ascending) and segments. */
typedef struct StampPath
{
	TimeLineID *tlis;
	int			ntlis;
	XLogSegNo	lo;
	XLogSegNo	hi;
} StampPath;

bool
pitr_stamp_matches(const PitrStampSet *set, const PitrStampEntry *e,
				   const struct stat *st)
{
	if ((int64) st->st_size != e->size || (int64) st->st_mtime != e->mtime)
		return false;
	if (!e->has_stamp)
		return true;
	if (e->raw_off != 0)
	{
		char		cur[PITR_STAMP_LEN];

		pitr_stat_stamp(st, cur);
		return strcmp(cur, (const char *) set + set->names_off + e->raw_off) == 0;
	}
	return (int64) st->st_mtim.tv_sec == e->mt_sec &&
		(int32) st->st_mtim.tv_nsec == e->mt_nsec &&
		(int64) st->st_ctim.tv_sec == e->ct_sec &&
		(int32) st->st_ctim.tv_nsec == e->ct_nsec &&
		(uint64) st->st_ino == e->ino;
}

/*
 * Parse a stamp as pitr_stat_stamp() writes it; false if it is in another
 * form (it is then compared as text).
 */
static bool
parse_stamp(const char *text, PitrStampEntry *e)
{
	long long	ms,
				cs;
	long		mn,
				cn;
	unsigned long long ino;
	char		again[PITR_STAMP_LEN];

	if (sscanf(text, "%lld.%ld %lld.%ld %llu", &ms, &mn, &cs, &cn, &ino) != 5)
		return false;
	snprintf(again, sizeof(again), "%lld.%09ld %lld.%09ld %llu",
			 ms, mn, cs, cn, ino);
	if (strcmp(again, text) != 0)
		return false;
	e->mt_sec = ms;
	e->mt_nsec = (int32) mn;
	e->ct_sec = cs;
	e->ct_nsec = (int32) cn;
	e->ino = ino;
	return true;
}

/* Room for the names (and raw stamps) of SPI_tuptable's rows. */
static Size
names_size(void)
{
	Size		n = 1;			/* offset 0 means "none" */

	for (uint64 i = 0; i < SPI_processed; i++)
	{
		char	   *name = SPI_getvalue(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 3);
		char	   *stamp = SPI_getvalue(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 6);

		n += strlen(name) + 1 + (stamp ? strlen(stamp) + 1 : 0);
		pfree(name);
		if (stamp)
			pfree(stamp);
	}
	return n;
}

/* Fill one entry from row i of SPI_tuptable; its texts go at *pos. */
static void
fill_entry(PitrStampSet *set, uint64 i, Size *pos)
{
	HeapTuple	tup = SPI_tuptable->vals[i];
	TupleDesc	desc = SPI_tuptable->tupdesc;
	PitrStampEntry *e = &set->entries[i];
	char	   *area = (char *) set + set->names_off;
	char	   *name = SPI_getvalue(tup, desc, 3);
	char	   *stamp = SPI_getvalue(tup, desc, 6);
	bool		isnull;

	memset(e, 0, sizeof(*e));
	e->tli = (uint32) DatumGetInt32(SPI_getbinval(tup, desc, 1, &isnull));
	e->segno = (uint64) DatumGetInt64(SPI_getbinval(tup, desc, 2, &isnull));
	e->size = DatumGetInt64(SPI_getbinval(tup, desc, 4, &isnull));
	e->mtime = DatumGetInt64(SPI_getbinval(tup, desc, 5, &isnull));
	e->name_off = (uint32) *pos;
	strcpy(area + *pos, name);
	*pos += strlen(name) + 1;
	if (stamp != NULL)
	{
		e->has_stamp = 1;
		if (!parse_stamp(stamp, e))
		{
			e->raw_off = (uint32) *pos;
			strcpy(area + *pos, stamp);
			*pos += strlen(stamp) + 1;
		}
		pfree(stamp);
	}
	pfree(name);
}

/* Run the stamps query: the whole archive, or only path's files. */
static void
query_stamps(int archive_id, const StampPath *path)
{
	Oid			types[4] = {INT4OID, INT4ARRAYOID, INT8OID, INT8OID};
	Datum		v[4];
	bool		stamps = pitr_store_has_link_columns();

	v[0] = Int32GetDatum(archive_id);
	if (path != NULL)
	{
		Datum	   *d = palloc(sizeof(Datum) * Max(path->ntlis, 1));

		for (int i = 0; i < path->ntlis; i++)
			d[i] = Int32GetDatum((int32) path->tlis[i]);
		v[1] = PointerGetDatum(construct_array(d, path->ntlis, INT4OID, 4,
											   true, TYPALIGN_INT));
		v[2] = Int64GetDatum((int64) path->lo);
		v[3] = Int64GetDatum((int64) path->hi);
	}
	pitr_spi_check(SPI_execute_with_args(Q_STAMPS[stamps][path != NULL],
										 path ? 4 : 1, types, v, NULL, true, 0),
				   SPI_OK_SELECT, "reading the index's stamps");
}

/*
 * Read stamps from the index: the whole archive into a new segment
 * (path NULL), or a short path's into memory of this call (*seg NULL).
 */
static PitrStampSet *
load_stamps(int archive_id, const StampPath *path, dsm_segment **seg)
{
	Size		size;
	Size		pos = 1;
	PitrStampSet *set;

	query_stamps(archive_id, path);
	if (SPI_processed >= (uint64) (INT_MAX / sizeof(PitrStampEntry)))
		elog(ERROR, "too many indexed files: " UINT64_FORMAT, SPI_processed);
	size = MAXALIGN(add_size(offsetof(PitrStampSet, entries),
							 mul_size(SPI_processed, sizeof(PitrStampEntry))));
	size = add_size(size, names_size());
	if (size >= (Size) UINT32_MAX)
		elog(ERROR, "the index's stamps need %zu bytes", size);

	*seg = NULL;
	if (path == NULL)
	{
		*seg = dsm_create(size, 0);
		set = dsm_segment_address(*seg);
	}
	else
		set = palloc(size);
	set->archive_id = archive_id;
	set->nentries = (int) SPI_processed;
	set->names_off = MAXALIGN(offsetof(PitrStampSet, entries) +
							  SPI_processed * sizeof(PitrStampEntry));
	((char *) set + set->names_off)[0] = '\0';
	for (uint64 i = 0; i < SPI_processed; i++)
	{
		if ((i & 4095) == 0)
			CHECK_FOR_INTERRUPTS();
		fill_entry(set, i, &pos);
	}
	SPI_freetuptable(SPI_tuptable);
	return set;
}

static void
forget_kept(void)
{
	if (kept.seg != NULL)
		dsm_detach(kept.seg);
	kept.seg = NULL;
}

/*
 * The archive row's version and generation now; false if the schema has
 * no generation (older than 1.3) or there is no such archive.
 */
static bool
archive_generation(int archive_id, TransactionId *xmin, int64 *generation)
{
	Datum		v[1];
	bool		isnull;

	if (generation_plan == NULL)
	{
		Oid			types[1] = {INT4OID};
		SPIPlanPtr	plan;

		if (!pitr_store_has_generation())
			return false;
		plan = SPI_prepare("SELECT a.xmin, a.index_generation FROM pitr_restore.archive a "
						   "WHERE a.archive_id OPERATOR(pg_catalog.=) $1", 1, types);
		if (plan == NULL)
			elog(ERROR, "SPI_prepare failed: %s", SPI_result_code_string(SPI_result));
		SPI_keepplan(plan);
		generation_plan = plan;
	}
	v[0] = Int32GetDatum(archive_id);
	pitr_spi_check(SPI_execute_plan(generation_plan, v, NULL, true, 1),
				   SPI_OK_SELECT, "reading the index's generation");
	if (SPI_processed != 1)
		return false;
	*xmin = DatumGetTransactionId(SPI_getbinval(SPI_tuptable->vals[0],
												SPI_tuptable->tupdesc, 1, &isnull));
	*generation = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0],
											  SPI_tuptable->tupdesc, 2, &isnull));
	return true;
}

/*
 * The stamps for path: the kept ones if the archive row visible now is the
 * version they were read under; else a short path's read for this call;
 * else the whole archive's, read again (and kept, unless this transaction
 * made the archive row's version: it may roll back).  *seg is the set's
 * segment, NULL for a short path's.
 */
static const PitrStampSet *
stamps_for(int archive_id, const StampPath *path, dsm_segment **seg)
{
	TransactionId xmin;
	int64		generation;
	bool		keep;
	PitrStampSet *set;

	/* The schema may be updated (or the extension made again) any time. */
	if (generation_plan != NULL && !pitr_store_has_generation())
	{
		SPI_freeplan(generation_plan);
		generation_plan = NULL;
	}
	keep = archive_generation(archive_id, &xmin, &generation) &&
		!TransactionIdIsCurrentTransactionId(xmin);
	if (keep && kept.seg != NULL && kept.archive_id == archive_id &&
		TransactionIdEquals(kept.xmin, xmin) && kept.generation == generation)
	{
		*seg = kept.seg;
		return dsm_segment_address(kept.seg);
	}
	if ((path->hi - path->lo + 1) * path->ntlis <= SHORT_PATH_SEGMENTS)
		return load_stamps(archive_id, path, seg);

	forget_kept();
	set = load_stamps(archive_id, NULL, seg);
	if (keep)
	{
		/* Kept beyond this transaction, until the index changes. */
		dsm_pin_mapping(*seg);
		kept.seg = *seg;
		kept.archive_id = archive_id;
		kept.xmin = xmin;
		kept.generation = generation;
	}
	return set;
}

/* The first entry of timeline tli at or after segno (binary search). */
static int
first_at(const PitrStampSet *set, uint32 tli, uint64 segno)
{
	int			lo = 0;
	int			hi = set->nentries;

	while (lo < hi)
	{
		int			mid = lo + (hi - lo) / 2;
		const PitrStampEntry *e = &set->entries[mid];

		if (e->tli < tli || (e->tli == tli && e->segno < segno))
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static int
cmp_tli(const void *a, const void *b)
{
	TimeLineID	x = *(const TimeLineID *) a;
	TimeLineID	y = *(const TimeLineID *) b;

	return x < y ? -1 : x > y;
}

char *
pitr_stamps_changed_on_path(int archive_id, const char *dir,
							const TimeLineID *tlis, int ntlis,
							XLogSegNo lo, XLogSegNo hi)
{
	StampPath	path;
	const PitrStampSet *set;
	dsm_segment *seg;
	PitrStampRange *ranges = palloc(sizeof(PitrStampRange) * Max(ntlis, 1));
	int			nranges = 0;
	const char *changed;

	if (ntlis <= 0 || hi < lo)
		return NULL;

	/* Each timeline once (the index query was "timeline = ANY (tlis)"). */
	path.tlis = palloc(sizeof(TimeLineID) * ntlis);
	memcpy(path.tlis, tlis, sizeof(TimeLineID) * ntlis);
	qsort(path.tlis, ntlis, sizeof(TimeLineID), cmp_tli);
	path.ntlis = 0;
	for (int i = 0; i < ntlis; i++)
		if (i == 0 || path.tlis[i] != path.tlis[i - 1])
			path.tlis[path.ntlis++] = path.tlis[i];
	path.lo = lo;
	path.hi = hi;

	set = stamps_for(archive_id, &path, &seg);
	for (int i = 0; i < path.ntlis; i++)
	{
		PitrStampRange r;

		r.lo = first_at(set, path.tlis[i], lo);
		r.hi = first_at(set, path.tlis[i], hi + 1);
		if (r.hi > r.lo)
			ranges[nranges++] = r;
	}
	changed = pitr_stamp_check_ranges(set, seg, dir, ranges, nranges);
	if (changed != NULL)
		changed = pstrdup(changed);
	if (seg != NULL && seg != kept.seg)
		dsm_detach(seg);
	return (char *) changed;
}
