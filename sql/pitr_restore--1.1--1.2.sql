/* pitr_restore 1.1 -> 1.2: only what changed, as DDL. */

-- complain if script is sourced in psql, rather than via ALTER EXTENSION
\echo Use "ALTER EXTENSION pitr_restore UPDATE TO '1.2'" to load this file. \quit

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

ALTER FUNCTION pitr_restore.backups(text) RENAME TO _backups_body;
REVOKE ALL ON FUNCTION pitr_restore._backups_body(text) FROM PUBLIC, pg_read_server_files;
CREATE FUNCTION pitr_restore.backups(archive_dir text DEFAULT NULL)
RETURNS TABLE (label text, location text, format text, timeline integer,
			   start_lsn pg_lsn, stop_lsn pg_lsn, start_time timestamptz,
			   stop_time timestamptz, pg_version integer,
			   system_identifier numeric, bytes bigint,
			   checkpoint_lsn pg_lsn, backup_history_file text,
			   has_manifest boolean, problem text, wal_carried text[])
AS 'MODULE_PATHNAME', 'pitr_entry_read'
LANGUAGE C VOLATILE SECURITY INVOKER
SET search_path = pg_catalog, pitr_restore, pg_temp;
REVOKE EXECUTE ON FUNCTION pitr_restore.backups(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION pitr_restore.backups(text) TO pg_read_server_files;

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

CREATE OR REPLACE FUNCTION pitr_restore._backups_body(archive_dir text DEFAULT NULL)
RETURNS TABLE (label text, location text, format text, timeline integer,
			   start_lsn pg_lsn, stop_lsn pg_lsn, start_time timestamptz,
			   stop_time timestamptz, pg_version integer,
			   system_identifier numeric, bytes bigint,
			   checkpoint_lsn pg_lsn, backup_history_file text,
			   has_manifest boolean, problem text, wal_carried text[])
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
		   h.file_name, coalesce(d.has_manifest, false), d.problem,
		   d.wal_carried
	  FROM d FULL JOIN h
		ON d.start_lsn = h.start_lsn AND d.start_timeline = h.start_timeline
	  CROSS JOIN a
	 ORDER BY coalesce(d.start_lsn, h.start_lsn), d.location
$$;
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
