/* pitr_restore 1.1 -> 1.2: only what changed, as DDL. */

-- complain if script is sourced in psql, rather than via ALTER EXTENSION
\echo Use "ALTER EXTENSION pitr_restore UPDATE TO '1.2'" to load this file. \quit

-- recovery model: recovery_windows reads the recovery model that
-- resolve_target uses (src/resolve/model.c, src/resolve/windows.c), so the
-- two agree by construction.  CREATE OR REPLACE keeps its owner and grants.

/*
 * recovery_windows: one row per continuous restorable stretch of a
 * timeline's own WAL.  A stretch begins at the earliest consistency point
 * of a base backup whose WAL (from its start) runs without a hole into it,
 * and ends at the last valid record before a missing or unusable segment,
 * at the end of the archive, or where the timeline was abandoned for a
 * branch.  A time target t resolves on the window's timeline when
 * from_time <= t < to_time (recovery stops at the first commit past t, so
 * the last commit itself is the exclusive end).
 */
CREATE OR REPLACE FUNCTION pitr_restore.recovery_windows(archive_dir text DEFAULT NULL)
RETURNS TABLE (timeline integer, from_lsn pg_lsn, from_time timestamptz,
			   to_lsn pg_lsn, to_time timestamptz, backups text[],
			   ended_by text)
AS 'MODULE_PATHNAME', 'pitr_recovery_windows'
LANGUAGE C CALLED ON NULL INPUT VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pitr_restore, pg_temp;
