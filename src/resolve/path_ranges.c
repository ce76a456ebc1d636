/*-------------------------------------------------------------------------
 *
 * path_ranges.c
 *	  path_ranges(arch, tlis, begins): a timeline's path as the SQL lookups
 *	  (path_files, path_events) select its files, one row
 *	  per timeline with the LSN where it begins, where the next one begins,
 *	  and the segment numbers it serves.  Which timeline serves a segment
 *	  is the recovery model's rule (model.c); SQL only looks rows up by it.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "funcapi.h"
#include "utils/array.h"
#include "utils/pg_lsn.h"

#include "index/index_store.h"
#include "resolve/model.h"

PG_FUNCTION_INFO_V1(pitr_path_ranges);

/* path_ranges' arguments and columns, in order. */
enum
{
	ARG_ARCH,
	ARG_TLIS,
	ARG_BEGINS,
	PATH_RANGES_NARGS
};

enum
{
	COL_TLI,
	COL_BEGIN,
	COL_END,
	COL_LO,
	COL_HI,
	PATH_RANGES_NCOLS
};

/* The path the arrays give: timelines oldest first, where each begins. */
static PitrPath *
path_of(const PitrArchiveInfo *a, ArrayType *tlis, ArrayType *begins)
{
	Datum	   *t,
			   *b;
	bool	   *tn,
			   *bn;
	int			nt,
				nb;
	PitrPath   *p = palloc0(sizeof(PitrPath));

	deconstruct_array(tlis, INT4OID, 4, true, TYPALIGN_INT, &t, &tn, &nt);
	deconstruct_array(begins, LSNOID, 8, FLOAT8PASSBYVAL, TYPALIGN_DOUBLE,
					  &b, &bn, &nb);
	if (nt != nb)
		elog(ERROR, "path_ranges: %d timelines but %d beginnings", nt, nb);
	p->n = nt;
	p->tli = palloc(sizeof(TimeLineID) * (nt + 1));
	p->begin = palloc(sizeof(XLogRecPtr) * (nt + 1));
	p->beginseg = palloc(sizeof(XLogSegNo) * (nt + 1));
	for (int i = 0; i < nt; i++)
	{
		if (tn[i] || bn[i])
			elog(ERROR, "path_ranges: NULL in the path");
		p->tli[i] = (TimeLineID) DatumGetInt32(t[i]);
		p->begin[i] = DatumGetLSN(b[i]);
		p->beginseg[i] = pitr_model_segno(a, p->begin[i]);
	}
	return p;
}

Datum
pitr_path_ranges(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	PitrArchiveInfo a = {0};
	PitrPath   *p;

	if (PG_NARGS() != PATH_RANGES_NARGS)
		elog(ERROR, "path_ranges takes %d arguments, got %d",
			 PATH_RANGES_NARGS, PG_NARGS());
	InitMaterializedSRF(fcinfo, 0);
	if (rsinfo->setDesc->natts != PATH_RANGES_NCOLS)
		elog(ERROR, "path_ranges returns %d columns, expected %d",
			 rsinfo->setDesc->natts, PATH_RANGES_NCOLS);

	a.id = PG_GETARG_INT32(ARG_ARCH);
	SPI_connect();
	a.segsize = pitr_store_segment_size(a.id);
	SPI_finish();
	/* an archive without WAL serves no segment */
	if (a.segsize <= 0)
		PG_RETURN_NULL();
	p = path_of(&a, PG_GETARG_ARRAYTYPE_P(ARG_TLIS),
				PG_GETARG_ARRAYTYPE_P(ARG_BEGINS));
	for (int i = 0; i < p->n; i++)
	{
		Datum		values[PATH_RANGES_NCOLS];
		bool		nulls[PATH_RANGES_NCOLS] = {false, false, false, false, false};
		int64		lo,
					hi;
		bool		last = (i + 1 == p->n);

		pitr_model_path_range(&a, p, i, &lo, &hi);
		values[COL_TLI] = Int32GetDatum((int32) p->tli[i]);
		values[COL_BEGIN] = LSNGetDatum(p->begin[i]);
		values[COL_END] = last ? (Datum) 0 : LSNGetDatum(p->begin[i + 1]);
		nulls[COL_END] = last;
		values[COL_LO] = Int64GetDatum(lo);
		values[COL_HI] = Int64GetDatum(hi);
		nulls[COL_HI] = last;
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	PG_RETURN_NULL();
}
