/* pitr_restore 1.1 -> 1.2: only what changed, as DDL. */

-- complain if script is sourced in psql, rather than via ALTER EXTENSION
\echo Use "ALTER EXTENSION pitr_restore UPDATE TO '1.2'" to load this file. \quit

-- recovery model: recovery_windows reads the recovery model that
-- resolve_target uses (src/resolve/model.c, src/resolve/windows.c), so the
-- two agree by construction; check_archive names a backup's missing WAL
-- from the same model (wal_gap); the PL/pgSQL copies of the model's rules
-- (carried_bridge, path_gap, segment_file_name) go.  CREATE OR REPLACE
-- keeps each function's owner and grants.

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

-- Internal: the first segment recovery would miss following timeline tli's
-- history from one LSN to another, as the recovery model names it
-- ("NAME is missing from the archive"), or NULL when WAL is continuous.
CREATE FUNCTION pitr_restore.wal_gap(arch integer, tli integer,
	from_lsn pg_lsn, to_lsn pg_lsn)
RETURNS text
AS 'MODULE_PATHNAME', 'pitr_wal_gap'
LANGUAGE C STRICT VOLATILE
SET search_path = pg_catalog, pitr_restore, pg_temp;
REVOKE EXECUTE ON FUNCTION pitr_restore.wal_gap(integer, integer, pg_lsn, pg_lsn) FROM PUBLIC;

CREATE OR REPLACE FUNCTION pitr_restore.check_archive(archive_dir text DEFAULT NULL,
	max_age interval DEFAULT '1 hour',
	max_backup_age interval DEFAULT '7 days')
RETURNS TABLE (severity text, problem text, detail text)
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pitr_restore, pg_temp
AS $$
#variable_conflict use_column
DECLARE
	arch integer;
	dir text;
	sz integer;
	live integer;
	live_path integer[];
	newest timestamptz;
	newest_file text;
	r record;
	usable text[];
	live_ok boolean;
BEGIN
	IF max_age IS NULL OR max_backup_age IS NULL THEN
		RAISE EXCEPTION USING ERRCODE = 'invalid_parameter_value',
			MESSAGE = 'max_age and max_backup_age must not be null';
	END IF;
	arch := pitr_restore.refresh_archive(archive_dir);
	SELECT a.directory, a.segment_size INTO dir, sz
	  FROM pitr_restore.archive a WHERE a.archive_id = arch;
	IF sz IS NULL THEN
		RETURN QUERY SELECT 'critical'::text, 'no_wal'::text,
			format('The archive "%s" holds no readable PostgreSQL 15 WAL segment.', dir);
		RETURN;
	END IF;

	-- The live timeline: the newest one.
	SELECT max(t.timeline) INTO live FROM pitr_restore.timeline_list(arch) t;
	SELECT tp.tlis INTO live_path FROM pitr_restore.timeline_path(arch, live) tp;

	-- Holes that cut a window short (one pass over the windows, which
	-- also tells which backups are usable and whether the live timeline
	-- has a window).
	usable := '{}';
	live_ok := false;
	FOR r IN SELECT w.*, lead(w.from_time) OVER (PARTITION BY w.timeline ORDER BY w.from_lsn) AS next_from
			   FROM pitr_restore.recovery_windows(dir) w
			  ORDER BY w.timeline, w.from_lsn
	LOOP
		usable := usable || r.backups;
		live_ok := live_ok OR r.timeline = live;
		CONTINUE WHEN r.ended_by NOT LIKE '% segment %';
		RETURN QUERY SELECT
			CASE WHEN r.timeline = ANY (live_path) THEN 'critical' ELSE 'warning' END,
			'wal_gap'::text,
			format('WAL on timeline %s is not continuous: %s, so times from %s %s cannot be restored on that timeline.',
				   r.timeline, r.ended_by, r.to_time,
				   coalesce('to ' || r.next_from, 'on'));
	END LOOP;
	IF NOT live_ok THEN
		RETURN QUERY SELECT 'critical'::text, 'no_window'::text,
			format('No time on timeline %s, the live timeline, can be restored: no usable base backup has continuous WAL into it.', live);
	END IF;

	-- Archiving stalled?
	-- (the index rows themselves: segments() would count each one's
	-- restore points, which costs seconds at a terabyte of WAL)
	SELECT f.file_mtime, f.file_name INTO newest, newest_file
	  FROM pitr_restore.archive_file f
	 WHERE f.archive_id = arch AND f.kind IN ('segment', 'partial')
	 ORDER BY f.file_mtime DESC LIMIT 1;
	IF newest < now() - max_age THEN
		RETURN QUERY SELECT 'critical'::text, 'archive_stale'::text,
			format('The newest archived WAL file, %s, was written at %s, more than %s ago: is archiving working?',
				   newest_file, newest, max_age);
	END IF;

	-- Backups: a recent usable one, and none that is useless.
	IF NOT EXISTS (SELECT 1 FROM pitr_restore.named_backups(dir) bk
					WHERE bk.ident = ANY (usable)
					  AND bk.stop_time >= now() - max_backup_age) THEN
		RETURN QUERY SELECT
			CASE WHEN cardinality(usable) = 0 THEN 'critical' ELSE 'warning' END,
			'backup_old'::text,
			CASE WHEN cardinality(usable) = 0
				THEN 'No base backup in pitr_restore.backup_dir can be restored with this archive''s WAL.'
				ELSE format('The newest usable base backup, %s, finished at %s, more than %s ago.',
					(SELECT format('"%s"', bk.ident) FROM pitr_restore.named_backups(dir) bk
					  WHERE bk.ident = ANY (usable) ORDER BY bk.stop_time DESC LIMIT 1),
					(SELECT max(bk.stop_time) FROM pitr_restore.named_backups(dir) bk
					  WHERE bk.ident = ANY (usable)),
					max_backup_age) END;
	END IF;
	FOR r IN SELECT bk.* FROM pitr_restore.named_backups(dir) bk ORDER BY bk.start_lsn
	LOOP
		IF r.problem IS NOT NULL THEN
			RETURN QUERY SELECT 'warning'::text, 'backup_unusable'::text,
				format('Base backup "%s" in %s cannot be used: %s.', r.ident, r.location,
					   rtrim(r.problem, '.'));
		ELSIF r.stop_lsn IS NOT NULL AND NOT (r.ident = ANY (usable)) THEN
			RETURN QUERY SELECT 'critical'::text, 'backup_wal_incomplete'::text,
				format('Base backup "%s" in %s cannot be made consistent: %s.', r.ident, r.location,
					   coalesce(pitr_restore.wal_gap(arch, r.timeline, r.start_lsn, r.stop_lsn),
								format('the archive does not hold its WAL from %s to %s', r.start_lsn, r.stop_lsn)));
		END IF;
	END LOOP;

	-- Files that are not WAL of this archive.
	RETURN QUERY
		SELECT 'warning'::text, f.status || '_file',
			   format('%s (timeline %s) is %s: %s.', f.file_name, f.timeline,
					  replace(f.status, '_', ' '), rtrim(coalesce(f.detail, 'no detail'), '.'))
		  FROM pitr_restore.archive_file f
		 WHERE f.archive_id = arch AND f.status NOT IN ('ok', 'partial')
		 ORDER BY f.segno NULLS LAST, f.file_name;

	-- Restore points whose name recovery_target_name cannot tell apart.
	RETURN QUERY
		SELECT 'warning'::text, 'repeated_restore_point'::text,
			   format('Restore point "%s" occurs %s times in the archive (first at %s on timeline %s, last at %s on timeline %s): recovery_target_name stops at the first one replayed.',
					  rp.name, count(*), min(rp.lsn), (array_agg(rp.timeline ORDER BY rp.lsn))[1],
					  max(rp.lsn), (array_agg(rp.timeline ORDER BY rp.lsn DESC))[1])
		  FROM pitr_restore.restore_points(dir) rp
		 WHERE rp.kind <> 'transaction_mark'
		 GROUP BY rp.name HAVING count(*) > 1
		 ORDER BY rp.name;
END
$$;

DROP FUNCTION pitr_restore.carried_bridge(integer, integer[], pg_lsn[], text, bigint);
DROP FUNCTION pitr_restore.path_gap(integer, integer[], pg_lsn[], pg_lsn, pg_lsn);
DROP FUNCTION pitr_restore.segment_file_name(integer, bigint, integer);
