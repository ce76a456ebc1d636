/*-------------------------------------------------------------------------
 *
 * query.h
 *	  The index queries of src/resolve/, through SPI: fixed statements kept
 *	  prepared across calls, and their columns read by number.  Everything
 *	  here runs inside the SPI connection a call opens with
 *	  pitr_resolve_query_begin() and closes with pitr_resolve_query_end().
 *
 *-------------------------------------------------------------------------
 */
#ifndef PITR_RESOLVE_QUERY_H
#define PITR_RESOLVE_QUERY_H

#include "access/xlogdefs.h"
#include "datatype/timestamp.h"
#include "executor/spi.h"

extern void pitr_resolve_query_begin(void);
extern void pitr_resolve_query_end(void);

/*
 * Run one of the fixed queries (kept prepared across calls) and return
 * SPI_processed; the rows are in SPI_tuptable.  A query that may write is
 * followed by a new snapshot that sees what it wrote.
 */
extern uint64 pitr_resolve_query(const char *sql, int nargs, const Oid *types,
								 const Datum *values, const char *nulls,
								 bool read_only, long limit);

/* Column col (1-based) of result row. */
extern bool pitr_resolve_col_null(int row, int col);
extern Datum pitr_resolve_col(int row, int col);
extern char *pitr_resolve_col_text(int row, int col);
extern XLogRecPtr pitr_resolve_col_lsn(int row, int col);	/* NULL: invalid */

extern char *pitr_lsn_text(XLogRecPtr lsn);
extern char *pitr_timestamptz_text(TimestampTz t);

#endif							/* PITR_RESOLVE_QUERY_H */
