/*-------------------------------------------------------------------------
 *
 * segment_relations.c
 *	  Store the relation files a segment touches: one row per segment in
 *	  pitr_restore.segment_relations (database and relfilenode arrays, in
 *	  step).  Written by the scan for every summary that knows them (read
 *	  in the backend, by a scan worker, or from a format 3 sidecar) and by
 *	  table_history() for the segments it had to read in full; a segment
 *	  without a row (a format 1 or 2 sidecar, or one whose segment touches
 *	  more files than a sidecar lists) is simply read in full, once.  The
 *	  row goes with its archive_file row (foreign key).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "utils/array.h"
#include "utils/builtins.h"

#include "index_store.h"
#include "segment_relations.h"

static ArrayType *
oid_array(Oid *v, int n)
{
	Datum	   *d = palloc(sizeof(Datum) * (n + 1));

	for (int i = 0; i < n; i++)
		d[i] = ObjectIdGetDatum(v[i]);
	return construct_array(d, n, OIDOID, sizeof(Oid), true, TYPALIGN_INT);
}

void
pitr_store_segment_relations(int archive_id, const char *file_name,
							 PitrRelSet *set)
{
	static SPIPlanPtr plan = NULL;
	Oid			types[4] = {INT4OID, TEXTOID, OIDARRAYOID, OIDARRAYOID};
	Datum		v[4];
	Oid		   *dbs;
	Oid		   *rels;
	int			n;

	if (set == NULL)
		return;
	n = pitr_relset_arrays(set, &dbs, &rels);
	if (plan == NULL)
	{
		plan = pitr_spi_prepare("INSERT INTO pitr_restore.segment_relations "
								"(archive_id, file_name, dbs, relfilenodes) "
								"VALUES ($1, $2, $3, $4) "
								"ON CONFLICT (archive_id, file_name) DO UPDATE "
								"SET dbs = excluded.dbs, relfilenodes = excluded.relfilenodes",
								4, types, true);
	}
	v[0] = Int32GetDatum(archive_id);
	v[1] = CStringGetTextDatum(file_name);
	v[2] = PointerGetDatum(oid_array(dbs, n));
	v[3] = PointerGetDatum(oid_array(rels, n));
	pitr_spi_check(SPI_execute_plan(plan, v, NULL, false, 0),
				   SPI_OK_INSERT, "recording a segment's relations");
}
