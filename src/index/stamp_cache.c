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
 * trusted: it may still roll back.  Nothing here skips a file: only the
 * reading of the index is saved.
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

static const char Q_STAMPS[] =
"SELECT f.timeline, f.segno, f.file_name, f.file_size, "
"pg_catalog.date_part('epoch', f.file_mtime)::bigint, f.file_stamp "
"FROM pitr_restore.archive_file f "
"WHERE f.archive_id OPERATOR(pg_catalog.=) $1 AND f.segno IS NOT NULL "
"ORDER BY f.timeline, f.segno";

/* The same on a schema older than 1.2 (no stamps yet). */
static const char Q_STAMPS_OLD[] =
"SELECT f.timeline, f.segno, f.file_name, f.file_size, "
"pg_catalog.date_part('epoch', f.file_mtime)::bigint, NULL::text "
"FROM pitr_restore.archive_file f "
"WHERE f.archive_id OPERATOR(pg_catalog.=) $1 AND f.segno IS NOT NULL "
"ORDER BY f.timeline, f.segno";

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

/* Read the archive's stamps from the index into a new segment. */
static dsm_segment *
load_stamps(int archive_id)
{
	Oid			types[1] = {INT4OID};
	Datum		v[1];
	Size		names;
	Size		size;
	Size		pos = 1;
	dsm_segment *seg;
	PitrStampSet *set;

	v[0] = Int32GetDatum(archive_id);
	pitr_spi_check(SPI_execute_with_args(pitr_store_has_link_columns() ?
										 Q_STAMPS : Q_STAMPS_OLD,
										 1, types, v, NULL, true, 0),
				   SPI_OK_SELECT, "reading the index's stamps");
	if (SPI_processed >= (uint64) (INT_MAX / sizeof(PitrStampEntry)))
		elog(ERROR, "too many indexed files: " UINT64_FORMAT, SPI_processed);
	names = names_size();
	size = add_size(offsetof(PitrStampSet, entries),
					mul_size(SPI_processed, sizeof(PitrStampEntry)));
	size = add_size(MAXALIGN(size), names);
	if (size >= (Size) UINT32_MAX)
		elog(ERROR, "the index's stamps need %zu bytes", size);

	seg = dsm_create(size, 0);
	set = dsm_segment_address(seg);
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
	return seg;
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

const PitrStampSet *
pitr_stamps_get(int archive_id, dsm_segment **seg)
{
	TransactionId xmin;
	int64		generation;
	bool		keep;

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
	forget_kept();
	*seg = load_stamps(archive_id);
	if (keep)
	{
		/* Kept beyond this transaction, until the index changes. */
		dsm_pin_mapping(*seg);
		kept.seg = *seg;
		kept.archive_id = archive_id;
		kept.xmin = xmin;
		kept.generation = generation;
	}
	return dsm_segment_address(*seg);
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
	dsm_segment *seg;
	const PitrStampSet *set = pitr_stamps_get(archive_id, &seg);
	TimeLineID *sorted = palloc(sizeof(TimeLineID) * Max(ntlis, 1));
	PitrStampRange *ranges = palloc(sizeof(PitrStampRange) * Max(ntlis, 1));
	int			nranges = 0;
	const char *changed;

	/* Each timeline once (the index query was "timeline = ANY (tlis)"). */
	memcpy(sorted, tlis, sizeof(TimeLineID) * ntlis);
	qsort(sorted, ntlis, sizeof(TimeLineID), cmp_tli);
	for (int i = 0; i < ntlis; i++)
	{
		PitrStampRange r;

		if (i > 0 && sorted[i] == sorted[i - 1])
			continue;
		r.lo = first_at(set, sorted[i], lo);
		r.hi = first_at(set, sorted[i], hi + 1);
		if (r.hi > r.lo)
			ranges[nranges++] = r;
	}
	changed = pitr_stamp_check_ranges(set, seg, dir, ranges, nranges);
	if (changed != NULL)
		changed = pstrdup(changed);
	if (seg != kept.seg)
		dsm_detach(seg);
	return (char *) changed;
}
