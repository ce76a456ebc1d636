/* pitr_restore 1.1 -> 1.2: only what changed, as DDL. */

-- complain if script is sourced in psql, rather than via ALTER EXTENSION
\echo Use "ALTER EXTENSION pitr_restore UPDATE TO '1.2'" to load this file. \quit

-- reliability: segments must chain.  Each segment's link to its
-- predecessor: the xl_prev of the record at first_lsn (the start of the
-- predecessor's last record when the two chain) and the start of its own
-- last record.  NULL for segments indexed before 1.2 (read again).
ALTER TABLE pitr_restore.archive_file ADD COLUMN first_prev pg_lsn;
ALTER TABLE pitr_restore.archive_file ADD COLUMN last_lsn pg_lsn;
-- The file as it was read: mtime and ctime to the nanosecond and inode
-- (a rewrite in place, even with its mtime put back, changes the ctime).
ALTER TABLE pitr_restore.archive_file ADD COLUMN file_stamp text;

-- reliability: refresh_archive(dir) also compares every indexed file's size
-- and mtime with the directory (a file rewritten in place does not change
-- its directory's mtime); resolve_target calls the form below, which skips
-- that and checks only the files on the path it certifies.  Internal.
CREATE FUNCTION pitr_restore.refresh_archive(archive_dir text, check_files boolean)
RETURNS integer
AS 'MODULE_PATHNAME', 'pitr_refresh_archive_sql'
LANGUAGE C CALLED ON NULL INPUT VOLATILE
SET search_path = pg_catalog, pitr_restore, pg_temp;
REVOKE EXECUTE ON FUNCTION pitr_restore.refresh_archive(text, boolean) FROM PUBLIC;

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
			format('The archive "%s" holds no readable PostgreSQL %s WAL segment.', dir,
				   current_setting('server_version_num')::integer / 10000);
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

-- privileges: check the role whose code runs (issue 18).  Every public
-- function that reads server files, runs a program or builds a restore is
-- now a SECURITY INVOKER entry point (util/privilege.c): it checks
-- GetUserId() -- the role whose code called it, which inside an index
-- expression, ANALYZE, autovacuum or a SECURITY DEFINER function is that
-- code's owner, never the session's outer role -- records it, and calls
-- the former function, renamed _<name>_body (SECURITY DEFINER, search_path
-- pinned, granted to nobody), which runs as the extension's owner.  A
-- program runs only for a caller with pg_execute_server_program, and
-- nothing runs a program, builds a restore or runs cleanup hooks inside a
-- security-restricted operation.  create_mark and mark_transaction stay
-- SECURITY DEFINER: they read no server file and run no program.

ALTER FUNCTION pitr_restore.scan_archive(text) RENAME TO _scan_archive_body;
REVOKE ALL ON FUNCTION pitr_restore._scan_archive_body(text) FROM PUBLIC, pg_read_server_files;
CREATE FUNCTION pitr_restore.scan_archive(archive_dir text DEFAULT NULL,
	OUT segments_total bigint,
	OUT segments_scanned bigint,
	OUT bytes_read bigint,
	OUT restore_points bigint,
	OUT timelines integer,
	OUT backups integer)
RETURNS record
AS 'MODULE_PATHNAME', 'pitr_entry_read'
LANGUAGE C CALLED ON NULL INPUT VOLATILE SECURITY INVOKER
SET search_path = pg_catalog, pitr_restore, pg_temp;
REVOKE EXECUTE ON FUNCTION pitr_restore.scan_archive(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION pitr_restore.scan_archive(text) TO pg_read_server_files;

ALTER FUNCTION pitr_restore.segments(text) RENAME TO _segments_body;
REVOKE ALL ON FUNCTION pitr_restore._segments_body(text) FROM PUBLIC, pg_read_server_files;
CREATE FUNCTION pitr_restore.segments(archive_dir text DEFAULT NULL)
RETURNS TABLE (file_name text, timeline integer, start_lsn pg_lsn,
			   end_lsn pg_lsn, kind text, compression text,
			   file_size bigint, file_mtime timestamptz, status text,
			   detail text, first_record_lsn pg_lsn, next_record_lsn pg_lsn,
			   records bigint, commits bigint, aborts bigint,
			   first_commit_time timestamptz, last_commit_time timestamptz,
			   min_xid bigint, max_xid bigint, restore_points bigint,
			   has_switch boolean, wal_level_minimal boolean)
AS 'MODULE_PATHNAME', 'pitr_entry_read'
LANGUAGE C VOLATILE SECURITY INVOKER
SET search_path = pg_catalog, pitr_restore, pg_temp;
REVOKE EXECUTE ON FUNCTION pitr_restore.segments(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION pitr_restore.segments(text) TO pg_read_server_files;

ALTER FUNCTION pitr_restore.timelines(text) RENAME TO _timelines_body;
REVOKE ALL ON FUNCTION pitr_restore._timelines_body(text) FROM PUBLIC, pg_read_server_files;
CREATE FUNCTION pitr_restore.timelines(archive_dir text DEFAULT NULL)
RETURNS TABLE (timeline integer, parent integer, branch_lsn pg_lsn,
			   end_lsn pg_lsn, first_commit_time timestamptz,
			   last_commit_time timestamptz, reason text, segments bigint,
			   history_file text)
AS 'MODULE_PATHNAME', 'pitr_entry_read'
LANGUAGE C VOLATILE SECURITY INVOKER
SET search_path = pg_catalog, pitr_restore, pg_temp;
REVOKE EXECUTE ON FUNCTION pitr_restore.timelines(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION pitr_restore.timelines(text) TO pg_read_server_files;

-- backups(): its entry point and body are made with the chain columns
-- (incremental backups, below).

ALTER FUNCTION pitr_restore.restore_points(text) RENAME TO _restore_points_body;
REVOKE ALL ON FUNCTION pitr_restore._restore_points_body(text) FROM PUBLIC, pg_read_server_files;
CREATE FUNCTION pitr_restore.restore_points(archive_dir text DEFAULT NULL)
RETURNS TABLE (name text, lsn pg_lsn, end_lsn pg_lsn, timeline integer,
			   created timestamptz, kind text, description text,
			   occurrence bigint, xid bigint)
AS 'MODULE_PATHNAME', 'pitr_entry_read'
LANGUAGE C VOLATILE SECURITY INVOKER
SET search_path = pg_catalog, pitr_restore, pg_temp;
REVOKE EXECUTE ON FUNCTION pitr_restore.restore_points(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION pitr_restore.restore_points(text) TO pg_read_server_files;

ALTER FUNCTION pitr_restore.resolve_target(timestamptz, text, pg_lsn, xid8, text, boolean, integer, timestamptz, text, text, text, text) RENAME TO _resolve_target_body;
REVOKE ALL ON FUNCTION pitr_restore._resolve_target_body(timestamptz, text, pg_lsn, xid8, text, boolean, integer, timestamptz, text, text, text, text) FROM PUBLIC, pg_read_server_files;
CREATE FUNCTION pitr_restore.resolve_target(
	target_time timestamptz DEFAULT NULL,
	target_name text DEFAULT NULL,
	target_lsn pg_lsn DEFAULT NULL,
	target_xid xid8 DEFAULT NULL,
	target_mark text DEFAULT NULL,
	inclusive boolean DEFAULT true,
	target_timeline integer DEFAULT NULL,
	mark_after timestamptz DEFAULT NULL,
	backup_label text DEFAULT NULL,
	target text DEFAULT NULL,
	archive_dir text DEFAULT NULL,
	recovery_action text DEFAULT 'pause')
RETURNS pitr_restore.resolution
AS 'MODULE_PATHNAME', 'pitr_entry_read'
LANGUAGE C CALLED ON NULL INPUT VOLATILE SECURITY INVOKER
SET search_path = pg_catalog, pitr_restore, pg_temp;
REVOKE EXECUTE ON FUNCTION pitr_restore.resolve_target(timestamptz, text, pg_lsn, xid8, text, boolean, integer, timestamptz, text, text, text, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION pitr_restore.resolve_target(timestamptz, text, pg_lsn, xid8, text, boolean, integer, timestamptz, text, text, text, text) TO pg_read_server_files;

ALTER FUNCTION pitr_restore.recovery_windows(text) RENAME TO _recovery_windows_body;
REVOKE ALL ON FUNCTION pitr_restore._recovery_windows_body(text) FROM PUBLIC, pg_read_server_files;
CREATE FUNCTION pitr_restore.recovery_windows(archive_dir text DEFAULT NULL)
RETURNS TABLE (timeline integer, from_lsn pg_lsn, from_time timestamptz,
			   to_lsn pg_lsn, to_time timestamptz, backups text[],
			   ended_by text)
AS 'MODULE_PATHNAME', 'pitr_entry_read'
LANGUAGE C VOLATILE SECURITY INVOKER
SET search_path = pg_catalog, pitr_restore, pg_temp;
REVOKE EXECUTE ON FUNCTION pitr_restore.recovery_windows(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION pitr_restore.recovery_windows(text) TO pg_read_server_files;

ALTER FUNCTION pitr_restore.check_archive(text, interval, interval) RENAME TO _check_archive_body;
REVOKE ALL ON FUNCTION pitr_restore._check_archive_body(text, interval, interval) FROM PUBLIC, pg_read_server_files;
CREATE FUNCTION pitr_restore.check_archive(archive_dir text DEFAULT NULL,
	max_age interval DEFAULT '1 hour',
	max_backup_age interval DEFAULT '7 days')
RETURNS TABLE (severity text, problem text, detail text)
AS 'MODULE_PATHNAME', 'pitr_entry_read'
LANGUAGE C VOLATILE SECURITY INVOKER
SET search_path = pg_catalog, pitr_restore, pg_temp;
REVOKE EXECUTE ON FUNCTION pitr_restore.check_archive(text, interval, interval) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION pitr_restore.check_archive(text, interval, interval) TO pg_read_server_files;

ALTER FUNCTION pitr_restore.timeline_chart(text, integer, boolean) RENAME TO _timeline_chart_body;
REVOKE ALL ON FUNCTION pitr_restore._timeline_chart_body(text, integer, boolean) FROM PUBLIC, pg_read_server_files;
CREATE FUNCTION pitr_restore.timeline_chart(archive_dir text DEFAULT NULL,
	width integer DEFAULT 100, ascii boolean DEFAULT false)
RETURNS SETOF text
AS 'MODULE_PATHNAME', 'pitr_entry_read'
LANGUAGE C VOLATILE SECURITY INVOKER
SET search_path = pg_catalog, pitr_restore, pg_temp;
REVOKE EXECUTE ON FUNCTION pitr_restore.timeline_chart(text, integer, boolean) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION pitr_restore.timeline_chart(text, integer, boolean) TO pg_read_server_files;

ALTER FUNCTION pitr_restore.timeline_svg(text, integer, boolean) RENAME TO _timeline_svg_body;
REVOKE ALL ON FUNCTION pitr_restore._timeline_svg_body(text, integer, boolean) FROM PUBLIC, pg_read_server_files;
CREATE FUNCTION pitr_restore.timeline_svg(archive_dir text DEFAULT NULL,
	width integer DEFAULT 100, ascii boolean DEFAULT false)
RETURNS text
AS 'MODULE_PATHNAME', 'pitr_entry_read'
LANGUAGE C VOLATILE SECURITY INVOKER
SET search_path = pg_catalog, pitr_restore, pg_temp;
REVOKE EXECUTE ON FUNCTION pitr_restore.timeline_svg(text, integer, boolean) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION pitr_restore.timeline_svg(text, integer, boolean) TO pg_read_server_files;

ALTER FUNCTION pitr_restore.prepare_restore(text, timestamptz, text, pg_lsn, xid8, text, boolean, integer, timestamptz, text, text, text, text, text) RENAME TO _prepare_restore_body;
REVOKE ALL ON FUNCTION pitr_restore._prepare_restore_body(text, timestamptz, text, pg_lsn, xid8, text, boolean, integer, timestamptz, text, text, text, text, text) FROM PUBLIC, pg_write_server_files;
CREATE FUNCTION pitr_restore.prepare_restore(
	target_dir text,
	target_time timestamptz DEFAULT NULL,
	target_name text DEFAULT NULL,
	target_lsn pg_lsn DEFAULT NULL,
	target_xid xid8 DEFAULT NULL,
	target_mark text DEFAULT NULL,
	inclusive boolean DEFAULT true,
	target_timeline integer DEFAULT NULL,
	mark_after timestamptz DEFAULT NULL,
	backup_label text DEFAULT NULL,
	target text DEFAULT NULL,
	archive_dir text DEFAULT NULL,
	recovery_action text DEFAULT 'pause',
	archive_mode text DEFAULT 'keep')
RETURNS pitr_restore.prepared_restore
AS 'MODULE_PATHNAME', 'pitr_entry_restore'
LANGUAGE C VOLATILE SECURITY INVOKER
SET search_path = pg_catalog, pitr_restore, pg_temp;
REVOKE EXECUTE ON FUNCTION pitr_restore.prepare_restore(text, timestamptz, text, pg_lsn, xid8, text, boolean, integer, timestamptz, text, text, text, text, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION pitr_restore.prepare_restore(text, timestamptz, text, pg_lsn, xid8, text, boolean, integer, timestamptz, text, text, text, text, text) TO pg_write_server_files;

ALTER FUNCTION pitr_restore.run_cleanup(boolean) RENAME TO _run_cleanup_body;
REVOKE ALL ON FUNCTION pitr_restore._run_cleanup_body(boolean) FROM PUBLIC, pg_write_server_files;
CREATE FUNCTION pitr_restore.run_cleanup(
	dry_run boolean DEFAULT false,
	OUT hook text,
	OUT action text,
	OUT status text,
	OUT rows_affected bigint,
	OUT detail text,
	OUT duration interval)
RETURNS SETOF record
AS 'MODULE_PATHNAME', 'pitr_entry_write'
LANGUAGE C STRICT VOLATILE SECURITY INVOKER
SET search_path = pg_catalog, pitr_restore, pg_temp;
REVOKE EXECUTE ON FUNCTION pitr_restore.run_cleanup(boolean) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION pitr_restore.run_cleanup(boolean) TO pg_write_server_files;

-- repositories: the directory form ("<repo>/archive/<stanza>") and the
-- keyword form ("pgbackrest:stanza=...") of one local pgBackRest repository
-- list the same backups, whichever scanned first (a backup's row is keyed
-- by its location, which both forms share).
CREATE FUNCTION pitr_restore._repository_backup_dir(location text)
RETURNS text
AS 'MODULE_PATHNAME', 'pitr_repository_backup_dir'
LANGUAGE C STRICT VOLATILE
SET search_path = pg_catalog, pitr_restore, pg_temp;
REVOKE ALL ON FUNCTION pitr_restore._repository_backup_dir(text) FROM PUBLIC;

-- _backups_body (incremental backups, below) carries this rule.
-- display: one display rule for names from the archive (util/display.c).
-- Control characters are written as escapes (\n, \x1b ...) and bytes
-- invalid in the database encoding as \xNN in every text for people:
-- resolve_target's why, reason and warnings (in C), check_archive's detail,
-- the chart's lines and the SVG (through xml_text), so no terminal
-- sequence, forged report line or ill-formed XML reaches a reader.
CREATE FUNCTION pitr_restore.display_text(v text, keep_lines boolean DEFAULT false)
RETURNS text
AS 'MODULE_PATHNAME', 'pitr_display_text'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
REVOKE ALL ON FUNCTION pitr_restore.display_text(text, boolean) FROM PUBLIC;

CREATE OR REPLACE FUNCTION pitr_restore.xml_text(v text)
RETURNS text
LANGUAGE sql IMMUTABLE
SET search_path = pg_catalog, pitr_restore, pg_temp
AS $$
	SELECT replace(replace(replace(replace(replace(
		pitr_restore.display_text(coalesce(v, '')),
		'&', '&amp;'), '<', '&lt;'), '>', '&gt;'), '"', '&quot;'), '''', '&#39;')
$$;

ALTER FUNCTION pitr_restore._check_archive_body(text, interval, interval)
	RENAME TO _check_archive_rows;
CREATE FUNCTION pitr_restore._check_archive_body(archive_dir text,
	max_age interval, max_backup_age interval)
RETURNS TABLE (severity text, problem text, detail text)
LANGUAGE sql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pitr_restore, pg_temp
AS $$
	SELECT c.severity, c.problem, pitr_restore.display_text(c.detail)
	  FROM pitr_restore._check_archive_rows(archive_dir, max_age, max_backup_age) c
$$;
REVOKE ALL ON FUNCTION pitr_restore._check_archive_body(text, interval, interval) FROM PUBLIC;

ALTER FUNCTION pitr_restore._timeline_chart_body(text, integer, boolean)
	RENAME TO _timeline_chart_lines;
CREATE FUNCTION pitr_restore._timeline_chart_body(archive_dir text,
	width integer, ascii boolean)
RETURNS SETOF text
LANGUAGE sql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pitr_restore, pg_temp
AS $$
	SELECT pitr_restore.display_text(l)
	  FROM pitr_restore._timeline_chart_lines(archive_dir, width, ascii) l
$$;
REVOKE ALL ON FUNCTION pitr_restore._timeline_chart_body(text, integer, boolean) FROM PUBLIC;

-- quoting: one shell quoter (src/format/quote.c, fuzzed by test/fuzz), also
-- behind the SQL shell_quote prepare_restore uses.
CREATE OR REPLACE FUNCTION pitr_restore.shell_quote(s text)
RETURNS text
AS 'MODULE_PATHNAME', 'pitr_shell_quote_text'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE
SET search_path = pg_catalog, pitr_restore, pg_temp;

-- incremental backups (PostgreSQL 17+): the backup each one builds on and
-- its whole chain, full backup first (backup_dir.c links them; a broken
-- chain makes the backup unusable, with the missing link in "problem").
ALTER TABLE pitr_restore.base_backup
	ADD COLUMN incremental_from_lsn pg_lsn,
	ADD COLUMN incremental_from_timeline integer,
	ADD COLUMN incremental_from text,
	ADD COLUMN chain text[];

-- backups() gains those columns (at the end, so existing ones keep their
-- place); a missing link is also named by the archive's backup history
-- file, when it has one.  As every reader: an entry point over a body run
-- as the extension's owner (util/privilege.c).
DROP FUNCTION pitr_restore.backups(text);
CREATE FUNCTION pitr_restore._backups_body(archive_dir text DEFAULT NULL)
RETURNS TABLE (label text, location text, format text, timeline integer,
			   start_lsn pg_lsn, stop_lsn pg_lsn, start_time timestamptz,
			   stop_time timestamptz, pg_version integer,
			   system_identifier numeric, bytes bigint,
			   checkpoint_lsn pg_lsn, backup_history_file text,
			   has_manifest boolean, problem text, wal_carried text[],
			   incremental_from_lsn pg_lsn, incremental_from_timeline integer,
			   incremental_from text, chain text[])
LANGUAGE sql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pitr_restore, pg_temp
AS $$
	-- Index first, in a statement of its own: the query below must see it.
	SELECT pitr_restore.indexed_archive(archive_dir);
	WITH a AS (SELECT ar.*, pitr_restore._repository_backup_dir(ar.directory) AS repo_backups
				 FROM pitr_restore.archive ar
				WHERE ar.archive_id = pitr_restore.indexed_archive(archive_dir)),
	h AS (SELECT b.* FROM a JOIN pitr_restore.backup_history b USING (archive_id)),
	d AS (SELECT b.* FROM pitr_restore.base_backup b, a
		   WHERE (b.repository IS NULL
				  AND (b.system_identifier IS NULL OR a.system_identifier IS NULL
					   OR b.system_identifier = a.system_identifier))
			  OR b.repository = a.directory
			  -- the same local pgBackRest repository named in the other form
			  OR (b.repository IS NOT NULL AND a.repo_backups IS NOT NULL
				  AND left(b.location, length(a.repo_backups) + 1)
					  = a.repo_backups || '/'))
	SELECT coalesce(d.label, h.label), d.location, d.format,
		   coalesce(d.start_timeline, h.start_timeline),
		   coalesce(d.start_lsn, h.start_lsn),
		   coalesce(d.stop_lsn, h.stop_lsn),
		   coalesce(h.start_time, d.start_time),
		   coalesce(h.stop_time, d.stop_time),
		   d.pg_version, coalesce(d.system_identifier, a.system_identifier),
		   d.bytes, coalesce(d.checkpoint_lsn, h.checkpoint_lsn),
		   h.file_name, coalesce(d.has_manifest, false),
		   CASE WHEN d.incremental_from IS NULL AND prior.label IS NOT NULL
				THEN d.problem || format(' (backup history file %s names it "%s")',
										 prior.file_name, prior.label)
				ELSE d.problem END,
		   d.wal_carried, d.incremental_from_lsn, d.incremental_from_timeline,
		   d.incremental_from, d.chain
	  FROM d FULL JOIN h
		ON d.start_lsn = h.start_lsn AND d.start_timeline = h.start_timeline
	  CROSS JOIN a
	  LEFT JOIN LATERAL (SELECT p.label, p.file_name FROM h p
						  WHERE p.start_lsn = d.incremental_from_lsn
							AND p.start_timeline = d.incremental_from_timeline
						  ORDER BY p.file_name LIMIT 1) prior
		ON d.problem IS NOT NULL
	 ORDER BY coalesce(d.start_lsn, h.start_lsn), d.location
$$;
REVOKE ALL ON FUNCTION pitr_restore._backups_body(text) FROM PUBLIC;
CREATE FUNCTION pitr_restore.backups(archive_dir text DEFAULT NULL)
RETURNS TABLE (label text, location text, format text, timeline integer,
			   start_lsn pg_lsn, stop_lsn pg_lsn, start_time timestamptz,
			   stop_time timestamptz, pg_version integer,
			   system_identifier numeric, bytes bigint,
			   checkpoint_lsn pg_lsn, backup_history_file text,
			   has_manifest boolean, problem text, wal_carried text[],
			   incremental_from_lsn pg_lsn, incremental_from_timeline integer,
			   incremental_from text, chain text[])
AS 'MODULE_PATHNAME', 'pitr_entry_read'
LANGUAGE C VOLATILE SECURITY INVOKER
SET search_path = pg_catalog, pitr_restore, pg_temp;
REVOKE EXECUTE ON FUNCTION pitr_restore.backups(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION pitr_restore.backups(text) TO pg_read_server_files;

-- The moment before the mistake: table_history (issue 22) -------------------

/*
 * The relation files (relfilenodes) each archived segment touches: every
 * block reference, every file created, every file a transaction's end
 * drops.  Written by the scan for the segments it reads itself, and by
 * table_history for segments it had to read in full (those summarised from
 * a sidecar or by a scan worker have no row until then).  dbs and
 * relfilenodes are in step.
 */
CREATE TABLE pitr_restore.segment_relations (
	archive_id integer NOT NULL,
	file_name text NOT NULL,
	dbs oid[] NOT NULL,
	relfilenodes oid[] NOT NULL,
	PRIMARY KEY (archive_id, file_name),
	FOREIGN KEY (archive_id, file_name)
		REFERENCES pitr_restore.archive_file ON DELETE CASCADE
);
GRANT SELECT ON pitr_restore.segment_relations TO pg_read_server_files;

/*
 * The relation journal: each table's relfilenodes and names over time, in
 * this database, written in the transaction of the DDL that assigns them
 * (so xid is that DDL's).  event: create, rewrite (ALTER TABLE, VACUUM
 * FULL, CLUSTER, REFRESH), truncate, rename, drop, or seen (a table found
 * as it is, journalled before a DROP or a history so that its name stays
 * known).
 */
CREATE TABLE pitr_restore.relation_journal (
	journal_id bigserial PRIMARY KEY,
	reloid oid NOT NULL,
	relfilenode oid NOT NULL,
	reltablespace oid NOT NULL,
	toast_relfilenode oid NOT NULL,
	nspname name NOT NULL,
	relname name NOT NULL,
	relkind "char" NOT NULL,
	event text NOT NULL CHECK (event IN ('create', 'rewrite', 'truncate',
										 'rename', 'drop', 'seen')),
	xid xid8 NOT NULL,
	noted_at timestamptz NOT NULL DEFAULT pg_catalog.clock_timestamp()
);
CREATE INDEX ON pitr_restore.relation_journal (reloid, journal_id);
CREATE INDEX ON pitr_restore.relation_journal (relname);
GRANT SELECT ON pitr_restore.relation_journal TO pg_read_server_files;

-- Internal: journal the tables (all, or those in oids) whose relfilenode or
-- name differs from their last journal row.
CREATE FUNCTION pitr_restore.journal_note(ev text, oids oid[])
RETURNS void
LANGUAGE sql VOLATILE
SET search_path = pg_catalog, pitr_restore, pg_temp
AS $$
	INSERT INTO pitr_restore.relation_journal
		(reloid, relfilenode, reltablespace, toast_relfilenode, nspname,
		 relname, relkind, event, xid)
	SELECT c.oid, c.relfilenode, c.reltablespace, coalesce(t.relfilenode, 0),
		   n.nspname, c.relname, c.relkind,
		   CASE WHEN last.reloid IS NULL OR last.event = 'drop' THEN
					CASE WHEN ev = 'create' THEN 'create' ELSE 'seen' END
				WHEN last.relfilenode <> c.relfilenode THEN
					-- found changed by a history or a DROP: not a DDL of
					-- this transaction (the WAL tells what happened)
					CASE WHEN ev IN ('truncate', 'rewrite') THEN ev
						 WHEN ev = 'seen' THEN 'seen' ELSE 'rewrite' END
				ELSE 'rename' END,
		   pg_current_xact_id()
	  FROM pg_class c
	  JOIN pg_namespace n ON n.oid = c.relnamespace
	  LEFT JOIN pg_class t ON t.oid = c.reltoastrelid
	  LEFT JOIN LATERAL (
		SELECT j.reloid, j.relfilenode, j.nspname, j.relname, j.event
		  FROM pitr_restore.relation_journal j
		 WHERE j.reloid = c.oid
		 ORDER BY j.journal_id DESC LIMIT 1) last ON true
	 WHERE c.relkind IN ('r', 'm') AND c.relpersistence = 'p'
	   AND c.relfilenode <> 0
	   AND n.nspname NOT IN ('pg_catalog', 'information_schema', 'pitr_restore')
	   AND n.nspname !~ '^pg_(toast|temp)'
	   AND (oids IS NULL OR c.oid = ANY (oids))
	   AND (last.reloid IS NULL OR last.event = 'drop'
			OR last.relfilenode <> c.relfilenode
			OR last.nspname <> n.nspname OR last.relname <> c.relname)
$$;
REVOKE EXECUTE ON FUNCTION pitr_restore.journal_note(text, oid[]) FROM PUBLIC;

-- Event triggers: CREATE / ALTER (ddl_command_end), DROP (sql_drop, and
-- ddl_command_start of any DROP to journal tables not yet known).  A
-- failure to journal is a WARNING: it never fails the user's command.
CREATE FUNCTION pitr_restore.journal_ddl_end()
RETURNS event_trigger
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pitr_restore, pg_temp
AS $$
DECLARE
	oids oid[];
BEGIN
	SELECT array_agg(DISTINCT d.objid) INTO oids
	  FROM pg_event_trigger_ddl_commands() d
	 WHERE d.classid = 'pg_class'::regclass AND d.objsubid = 0;
	IF oids IS NOT NULL THEN
		PERFORM pitr_restore.journal_note(
			CASE WHEN tg_tag IN ('CREATE TABLE', 'CREATE TABLE AS', 'SELECT INTO',
								 'CREATE MATERIALIZED VIEW')
				 THEN 'create' ELSE 'rewrite' END, oids);
	END IF;
EXCEPTION WHEN OTHERS THEN
	RAISE WARNING 'could not update pitr_restore''s relation journal: %', SQLERRM;
END
$$;
REVOKE EXECUTE ON FUNCTION pitr_restore.journal_ddl_end() FROM PUBLIC;

CREATE FUNCTION pitr_restore.journal_drop_start()
RETURNS event_trigger
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pitr_restore, pg_temp
AS $$
BEGIN
	IF tg_tag LIKE 'DROP %' THEN
		PERFORM pitr_restore.journal_note('seen', NULL);
	END IF;
EXCEPTION WHEN OTHERS THEN
	RAISE WARNING 'could not update pitr_restore''s relation journal: %', SQLERRM;
END
$$;
REVOKE EXECUTE ON FUNCTION pitr_restore.journal_drop_start() FROM PUBLIC;

CREATE FUNCTION pitr_restore.journal_dropped()
RETURNS event_trigger
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pitr_restore, pg_temp
AS $$
BEGIN
	INSERT INTO pitr_restore.relation_journal
		(reloid, relfilenode, reltablespace, toast_relfilenode, nspname,
		 relname, relkind, event, xid)
	SELECT d.objid, last.relfilenode, last.reltablespace, last.toast_relfilenode,
		   d.schema_name, d.object_name, last.relkind, 'drop', pg_current_xact_id()
	  FROM pg_event_trigger_dropped_objects() d
	  JOIN LATERAL (
		SELECT j.* FROM pitr_restore.relation_journal j
		 WHERE j.reloid = d.objid
		 ORDER BY j.journal_id DESC LIMIT 1) last ON last.event <> 'drop'
	 WHERE d.classid = 'pg_class'::regclass AND d.objsubid = 0
	   AND d.object_type IN ('table', 'materialized view');
EXCEPTION WHEN OTHERS THEN
	RAISE WARNING 'could not update pitr_restore''s relation journal: %', SQLERRM;
END
$$;
REVOKE EXECUTE ON FUNCTION pitr_restore.journal_dropped() FROM PUBLIC;

CREATE EVENT TRIGGER pitr_restore_journal_ddl ON ddl_command_end
	EXECUTE FUNCTION pitr_restore.journal_ddl_end();
CREATE EVENT TRIGGER pitr_restore_journal_drop_start ON ddl_command_start
	EXECUTE FUNCTION pitr_restore.journal_drop_start();
CREATE EVENT TRIGGER pitr_restore_journal_dropped ON sql_drop
	EXECUTE FUNCTION pitr_restore.journal_dropped();

-- Internal: the WAL walk behind table_history (src/history/table_history.c).
CREATE FUNCTION pitr_restore._history_walk(arch integer, tlis integer[],
	begins pg_lsn[], rels oid[], watch xid8[], until timestamptz,
	OUT xid xid8, OUT commit_time timestamptz, OUT commit_lsn pg_lsn,
	OUT committed boolean, OUT op text, OUT relfilenode oid, OUT n bigint)
RETURNS SETOF record
AS 'MODULE_PATHNAME', 'pitr_history_walk'
LANGUAGE C CALLED ON NULL INPUT VOLATILE
SET search_path = pg_catalog, pitr_restore, pg_temp;
REVOKE EXECUTE ON FUNCTION pitr_restore._history_walk FROM PUBLIC;

-- Internal: table_history's body (run as the extension's owner).
CREATE FUNCTION pitr_restore._table_history(rel text, since timestamptz,
	until timestamptz, archive_dir text)
RETURNS TABLE (h_xid xid8, h_commit_time timestamptz, h_commit_lsn pg_lsn,
			   h_committed boolean, h_operation text, h_rows bigint,
			   h_relation text)
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pitr_restore, pg_temp
AS $$
#variable_conflict use_column
DECLARE
	parts text[];
	want_nsp name;
	want_rel name;
	arch integer;
	newest integer;
	p record;
	rels oid[];
	watch xid8[];
	reloids oid[];
BEGIN
	IF rel IS NULL THEN
		RAISE EXCEPTION 'relation must not be null'
			USING ERRCODE = 'null_value_not_allowed';
	END IF;
	parts := parse_ident(rel);
	IF array_length(parts, 1) > 2 THEN
		RAISE EXCEPTION 'relation name "%" has too many dotted parts', rel
			USING ERRCODE = 'invalid_parameter_value';
	END IF;
	want_rel := parts[array_length(parts, 1)];
	want_nsp := CASE WHEN array_length(parts, 1) = 2 THEN parts[1] END;

	arch := pitr_restore.refresh_archive(archive_dir);
	-- Tables as they are now keep their names even if dropped later.
	PERFORM pitr_restore.journal_note('seen', NULL);

	SELECT array_agg(DISTINCT o) INTO reloids FROM (
		SELECT j.reloid AS o FROM pitr_restore.relation_journal j
		 WHERE j.relname = want_rel AND (want_nsp IS NULL OR j.nspname = want_nsp)
		UNION
		SELECT c.oid FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
		 WHERE c.relname = want_rel AND (want_nsp IS NULL OR n.nspname = want_nsp)
		   AND c.relkind IN ('r', 'm')) s;
	IF reloids IS NULL THEN
		RAISE EXCEPTION 'relation "%" was never seen in this database', rel
			USING ERRCODE = 'undefined_table',
				  DETAIL = 'Neither the database nor pitr_restore''s relation journal knows a table of that name.';
	END IF;

	SELECT array_agg(DISTINCT f) INTO rels FROM (
		SELECT j.relfilenode AS f FROM pitr_restore.relation_journal j
		 WHERE j.reloid = ANY (reloids) AND j.relfilenode <> 0
		UNION
		SELECT c.relfilenode FROM pg_class c
		 WHERE c.oid = ANY (reloids) AND c.relfilenode <> 0) s;
	SELECT coalesce(array_agg(DISTINCT j.xid), '{}') INTO watch
	  FROM pitr_restore.relation_journal j
	 WHERE j.reloid = ANY (reloids)
	   AND j.event IN ('create', 'rewrite', 'truncate', 'drop');

	-- The archive's timeline this server is on, when it is this server's
	-- archive (a restore elsewhere may have added newer ones); else the
	-- newest.
	SELECT t.timeline INTO newest FROM pitr_restore.timeline_list(arch) t
	  JOIN pitr_restore.archive a ON a.archive_id = arch
	 WHERE a.system_identifier = (SELECT s.system_identifier FROM pg_control_system() s)
	   AND t.timeline = (SELECT c.timeline_id FROM pg_control_checkpoint() c);
	IF newest IS NULL THEN
		SELECT max(t.timeline) INTO newest FROM pitr_restore.timeline_list(arch) t;
	END IF;
	IF newest IS NULL THEN
		RETURN;
	END IF;
	SELECT * INTO p FROM pitr_restore.timeline_path(arch, newest);

	RETURN QUERY
	WITH facts AS (
		SELECT w.*, coalesce(jf.reloid, lc.oid) AS reloid
		  FROM pitr_restore._history_walk(arch, p.tlis, p.begins,
										  coalesce(rels, '{}'), watch, until) w
		  LEFT JOIN LATERAL (
			SELECT j.reloid FROM pitr_restore.relation_journal j
			 WHERE j.relfilenode = w.relfilenode AND j.reloid = ANY (reloids)
			 LIMIT 1) jf ON true
		  LEFT JOIN pg_class lc
			ON lc.relfilenode = w.relfilenode AND lc.oid = ANY (reloids)
	),
	-- Journalled DDL of the table, placed by its transaction's end.
	ddl AS (
		SELECT DISTINCT ON (j.reloid, j.xid, j.event)
			   j.xid, e.commit_time, e.commit_lsn, e.committed,
			   j.event AS operation, NULL::bigint AS rows, j.reloid
		  FROM pitr_restore.relation_journal j
		  JOIN (SELECT DISTINCT f.xid, f.commit_time, f.commit_lsn, f.committed
				  FROM facts f WHERE f.commit_lsn IS NOT NULL) e ON e.xid = j.xid
		 WHERE j.reloid = ANY (reloids)
		   AND j.event IN ('create', 'rewrite', 'truncate', 'drop')
	),
	-- File creations and drops the journal did not explain (a TRUNCATE in
	-- a session without the library loaded, a DDL before the journal).
	files AS (
		SELECT f.xid, f.commit_time, f.commit_lsn, f.committed, f.reloid,
			   bool_or(f.op = 'created') AS created,
			   bool_or(f.op = 'dropped') AS dropped,
			   bool_or(f.op = 'written') AS written
		  FROM facts f
		 WHERE f.op IN ('created', 'dropped', 'written') AND f.reloid IS NOT NULL
		 GROUP BY 1, 2, 3, 4, 5
	),
	inferred AS (
		SELECT x.xid, x.commit_time, x.commit_lsn, x.committed,
			   CASE WHEN x.created AND x.dropped THEN
						CASE WHEN x.written THEN 'rewrite' ELSE 'truncate' END
					WHEN x.created THEN 'create'
					ELSE 'drop' END, NULL::bigint, x.reloid
		  FROM files x
		 WHERE (x.created OR x.dropped)
		   AND NOT EXISTS (SELECT 1 FROM ddl d
							WHERE d.xid = x.xid AND d.reloid = x.reloid)
	),
	dml AS (
		SELECT f.xid, f.commit_time, f.commit_lsn, f.committed, f.op,
			   sum(f.n)::bigint, f.reloid
		  FROM facts f
		 WHERE f.op IN ('insert', 'update', 'delete')
		 GROUP BY 1, 2, 3, 4, 5, 7
	),
	everything AS (
		SELECT * FROM ddl UNION ALL SELECT * FROM inferred UNION ALL SELECT * FROM dml
	)
	SELECT e.xid, e.commit_time, e.commit_lsn, e.committed, e.operation,
		   e.rows, nm.name
	  FROM everything e
	  LEFT JOIN LATERAL (
		SELECT coalesce(
			(SELECT format('%I.%I', j.nspname, j.relname)
			   FROM pitr_restore.relation_journal j
			  WHERE j.reloid = e.reloid
				AND (e.commit_time IS NULL OR j.noted_at <= e.commit_time)
			  ORDER BY j.journal_id DESC LIMIT 1),
			(SELECT format('%I.%I', j.nspname, j.relname)
			   FROM pitr_restore.relation_journal j
			  WHERE j.reloid = e.reloid ORDER BY j.journal_id LIMIT 1),
			(SELECT format('%I.%I', n.nspname, c.relname)
			   FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
			  WHERE c.oid = e.reloid)) AS name) nm ON true
	 WHERE (since IS NULL OR e.commit_time >= since)
	   AND (until IS NULL OR e.commit_time <= until)
	 ORDER BY e.commit_lsn NULLS LAST, e.xid,
			  array_position(ARRAY['create', 'truncate', 'rewrite', 'insert',
								   'update', 'delete', 'drop'], e.operation);
END
$$;
REVOKE EXECUTE ON FUNCTION pitr_restore._table_history FROM PUBLIC;

/*
 * table_history: one row per transaction and operation that touched a
 * table in the archive's WAL (along this server's timeline when the archive
 * is its own, else the newest), ordered by
 * commit.  relation is "name" (any schema) or "schema.name"; a live table
 * of that name and every table the journal knew by it are followed across
 * their relfilenodes.  Only this database's transactions.
 */
-- The body runs as the extension's owner; the entry point checks the role
-- whose code calls it (util/privilege.c), as every reader of server files.
CREATE FUNCTION pitr_restore._table_history_body(relation text,
	since timestamptz DEFAULT NULL,
	until timestamptz DEFAULT NULL,
	archive_dir text DEFAULT NULL)
RETURNS TABLE (xid xid8, commit_time timestamptz, commit_lsn pg_lsn,
			   committed boolean, operation text, rows bigint, relation text)
LANGUAGE sql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pitr_restore, pg_temp
AS $$ SELECT * FROM pitr_restore._table_history($1, $2, $3, $4) $$;
REVOKE ALL ON FUNCTION pitr_restore._table_history_body FROM PUBLIC;
CREATE FUNCTION pitr_restore.table_history(relation text,
	since timestamptz DEFAULT NULL,
	until timestamptz DEFAULT NULL,
	archive_dir text DEFAULT NULL)
RETURNS TABLE (xid xid8, commit_time timestamptz, commit_lsn pg_lsn,
			   committed boolean, operation text, rows bigint, relation text)
AS 'MODULE_PATHNAME', 'pitr_entry_read'
LANGUAGE C VOLATILE SECURITY INVOKER
SET search_path = pg_catalog, pitr_restore, pg_temp;
REVOKE EXECUTE ON FUNCTION pitr_restore.table_history FROM PUBLIC;
GRANT EXECUTE ON FUNCTION pitr_restore.table_history TO pg_read_server_files;

-- The moment before the mistake: restore_table (issue 22) -------------------

/*
 * restore_table: the table as it was at the target, copied into this
 * database as new_name (schema-qualified or in the creation schema; the
 * schema must exist, the table must not) with its columns, types,
 * defaults, constraints (not foreign keys) and indexes, owned by the
 * caller.  Built in a private side server (prepare_restore into a
 * temporary directory, archiving off, a private Unix socket, paused at the
 * target), always stopped and removed afterwards.  Runs as the caller:
 * superuser, or privileges of pg_read_server_files, pg_write_server_files
 * and pg_execute_server_program.
 */
CREATE FUNCTION pitr_restore.restore_table(relation text, new_name text,
	target_time timestamptz DEFAULT NULL,
	target_name text DEFAULT NULL,
	target_lsn pg_lsn DEFAULT NULL,
	target_xid xid8 DEFAULT NULL,
	target_mark text DEFAULT NULL,
	inclusive boolean DEFAULT true,
	target_timeline integer DEFAULT NULL,
	mark_after timestamptz DEFAULT NULL,
	backup_label text DEFAULT NULL,
	archive_dir text DEFAULT NULL,
	OUT stop_lsn pg_lsn, OUT stop_before boolean,
	OUT last_xid xid, OUT last_commit_time timestamptz,
	OUT next_xid xid, OUT next_commit_time timestamptz,
	OUT timeline integer, OUT backup text, OUT rows_copied bigint)
RETURNS record
AS 'MODULE_PATHNAME', 'pitr_restore_table'
LANGUAGE C CALLED ON NULL INPUT VOLATILE;
-- Not SECURITY DEFINER and no pinned search_path: it creates the table as
-- the caller, and an unqualified new_name lands in the caller's creation
-- schema as CREATE TABLE's would; every name it runs itself is qualified.
REVOKE EXECUTE ON FUNCTION pitr_restore.restore_table FROM PUBLIC;
GRANT EXECUTE ON FUNCTION pitr_restore.restore_table TO pg_execute_server_program;
