/*-------------------------------------------------------------------------
 *
 * row_values.h
 *	  Filling a result row's values and nulls arrays, one column at a time,
 *	  for columns that may be NULL (src/util/row_values.c).
 *
 *-------------------------------------------------------------------------
 */
#ifndef PITR_ROW_VALUES_H
#define PITR_ROW_VALUES_H

/* values[col] = d when "present", else the column is NULL. */
extern void pitr_put(Datum *values, bool *nulls, int col, bool present,
					 Datum d);

/* values[col] = "s" as text, or NULL when "s" is. */
extern void pitr_put_text(Datum *values, bool *nulls, int col, const char *s);

#endif							/* PITR_ROW_VALUES_H */
