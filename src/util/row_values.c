/*-------------------------------------------------------------------------
 *
 * row_values.c
 *	  One way to set a result column that may be NULL (see
 *	  util/row_values.h).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "utils/builtins.h"

#include "util/row_values.h"

void
pitr_put(Datum *values, bool *nulls, int col, bool present, Datum d)
{
	values[col] = present ? d : (Datum) 0;
	nulls[col] = !present;
}

void
pitr_put_text(Datum *values, bool *nulls, int col, const char *s)
{
	pitr_put(values, nulls, col, s != NULL,
			 s != NULL ? CStringGetTextDatum(s) : (Datum) 0);
}
