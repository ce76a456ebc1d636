/*-------------------------------------------------------------------------
 *
 * side_restore.h
 *	  The steps restore_table and restore_database share
 *	  (src/restore/side_restore.c): resolve the target, build the side
 *	  server paused there, and stream a table's rows out of it into the
 *	  server's own COPY FROM.
 *
 *-------------------------------------------------------------------------
 */
#ifndef PITR_SIDE_RESTORE_H
#define PITR_SIDE_RESTORE_H

#include "fmgr.h"
#include "nodes/primnodes.h"

#include "restore/side_server.h"

/*
 * The target arguments both functions take, at positions 2 .. 11 (after
 * the two names): target_time ... archive_dir, as resolve_target's.
 */
#define PITR_SIDE_NTARGET 10

/* The resolution columns both return first (stop_lsn ... backup). */
#define PITR_SIDE_NRESOLUTION 8

/*
 * The row type a restore function returns; ERROR if one of its two names
 * ("what", then new_name) is null.
 */
extern TupleDesc pitr_side_call_start(FunctionCallInfo fcinfo,
									  const char *what);

/*
 * Resolve the target (an unreachable one is an ERROR with the resolver's
 * reason); fill values/nulls with the resolution columns (copied out of
 * SPI, so they outlive SPI_finish), and *backup_bytes with the backup's size (0
 * when unknown).  SPI must be connected.
 */
extern void pitr_side_resolve(FunctionCallInfo fcinfo, Datum *values,
							  bool *nulls, int64 *backup_bytes);

/*
 * Build the side server in s (room checked, prepare_restore, private
 * settings), start it and wait until it is paused at the target and
 * promoted; then connect to dbname there.  SPI must be connected.
 */
extern void pitr_side_build(FunctionCallInfo fcinfo, PitrSideServer *s,
							int64 backup_bytes, const char *dbname);

/*
 * COPY (select_sql) TO STDOUT on the side server, streamed into COPY FROM
 * of the table rv here, in the current transaction; attnames the columns
 * filled (NIL: all but generated ones, in order).  The rows copied.
 */
extern uint64 pitr_side_copy_rows(PitrSideServer *s, const char *select_sql,
								  RangeVar *rv, List *attnames);

#endif							/* PITR_SIDE_RESTORE_H */
