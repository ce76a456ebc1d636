/* pitr_restore install script, assembled from sql/install/ by the Makefile. */

-- complain if script is sourced in psql, rather than via CREATE EXTENSION
\echo Use "CREATE EXTENSION pitr_restore" to load this file. \quit

-- Nothing in this schema is for PUBLIC: each object below states who may use it.
REVOKE ALL ON SCHEMA pitr_restore FROM PUBLIC;
GRANT USAGE ON SCHEMA pitr_restore TO pg_read_server_files, pg_write_server_files;
/*
 * The archive index: one row per archive file, the records worth knowing
 * (restore points, backup ends, timeline switches, wal_level changes,
 * prepared transactions), timeline histories and base backups.  It is a
 * cache of what the archive says and is rebuilt from it at will.
 */

CREATE TABLE pitr_restore.archive (
	archive_id serial PRIMARY KEY,
	directory text NOT NULL UNIQUE,
	system_identifier numeric,
	segment_size integer,
	last_scan timestamptz,
	dir_mtime text,					-- the directory's mtime when last scanned
	compressions text[]				-- the compressions its files use
);

CREATE TABLE pitr_restore.archive_file (
	archive_id integer NOT NULL REFERENCES pitr_restore.archive ON DELETE CASCADE,
	file_name text NOT NULL,
	kind text NOT NULL,				-- segment, partial, history, backup
	compression text NOT NULL,		-- none, zstd, gzip
	file_size bigint NOT NULL,
	file_mtime timestamptz NOT NULL,
	timeline integer NOT NULL,
	segno bigint,
	status text NOT NULL,			-- ok, partial, or what is wrong
	detail text,
	system_identifier numeric,
	page_magic integer,
	first_lsn pg_lsn,				-- first record ending in this segment
	next_lsn pg_lsn,				-- end of the last record ending in it
	records bigint,
	commits bigint,
	aborts bigint,
	first_commit_time timestamptz,	-- in WAL order
	last_commit_time timestamptz,
	min_commit_time timestamptz,
	max_commit_time timestamptz,
	min_xid bigint,
	max_xid bigint,
	has_switch boolean,
	wal_level_minimal boolean,
	PRIMARY KEY (archive_id, file_name)
);
CREATE INDEX ON pitr_restore.archive_file (archive_id, timeline, segno);

CREATE TABLE pitr_restore.wal_event (
	archive_id integer NOT NULL,
	file_name text NOT NULL,
	timeline integer NOT NULL,
	kind text NOT NULL,
	lsn pg_lsn NOT NULL,
	end_lsn pg_lsn NOT NULL,
	name text,
	xid bigint,
	event_time timestamptz,
	ref_lsn pg_lsn,
	event_timeline integer,
	prev_timeline integer,
	outcome text,					-- marks: committed, aborted, or NULL
	FOREIGN KEY (archive_id, file_name)
		REFERENCES pitr_restore.archive_file ON DELETE CASCADE
);
CREATE INDEX ON pitr_restore.wal_event (archive_id, kind, name);
CREATE INDEX ON pitr_restore.wal_event (archive_id, file_name);

CREATE TABLE pitr_restore.timeline_history (
	archive_id integer NOT NULL,
	file_name text NOT NULL,
	timeline integer NOT NULL,		-- the timeline the file describes
	position integer NOT NULL,		-- 1 = oldest ancestor
	parent integer NOT NULL,
	branch_lsn pg_lsn NOT NULL,
	reason text,
	FOREIGN KEY (archive_id, file_name)
		REFERENCES pitr_restore.archive_file ON DELETE CASCADE
);
CREATE INDEX ON pitr_restore.timeline_history (archive_id, file_name);

CREATE TABLE pitr_restore.backup_history (
	archive_id integer NOT NULL,
	file_name text NOT NULL,
	label text,
	start_timeline integer,
	stop_timeline integer,
	start_lsn pg_lsn NOT NULL,
	checkpoint_lsn pg_lsn,
	stop_lsn pg_lsn,
	start_time timestamptz,
	stop_time timestamptz,
	backup_from text,
	FOREIGN KEY (archive_id, file_name)
		REFERENCES pitr_restore.archive_file ON DELETE CASCADE
);
CREATE INDEX ON pitr_restore.backup_history (archive_id, file_name);

-- Runs of consecutive usable segments per timeline (lo to hi, inclusive):
-- what lets continuity over a terabyte of WAL be checked in a few rows.
CREATE TABLE pitr_restore.segment_run (
	archive_id integer NOT NULL REFERENCES pitr_restore.archive ON DELETE CASCADE,
	timeline integer NOT NULL,
	lo bigint NOT NULL,
	hi bigint NOT NULL
);
CREATE INDEX ON pitr_restore.segment_run (archive_id, timeline, lo);

-- Base backups found under pitr_restore.backup_dir, by directory.
CREATE TABLE pitr_restore.base_backup (
	location text PRIMARY KEY,
	signature text NOT NULL,		-- what, when changed, means read again
	name text NOT NULL,
	format text,
	label text,
	backup_from text,
	start_timeline integer,
	stop_timeline integer,
	start_lsn pg_lsn,
	checkpoint_lsn pg_lsn,
	stop_lsn pg_lsn,
	start_time timestamptz,
	stop_time timestamptz,
	pg_version integer,
	system_identifier numeric,
	bytes bigint,
	has_manifest boolean,
	problem text
);

REVOKE ALL ON pitr_restore.archive, pitr_restore.archive_file,
	pitr_restore.wal_event, pitr_restore.timeline_history,
	pitr_restore.backup_history, pitr_restore.segment_run,
	pitr_restore.base_backup FROM PUBLIC;
GRANT SELECT, INSERT, UPDATE, DELETE ON pitr_restore.archive,
	pitr_restore.archive_file, pitr_restore.wal_event,
	pitr_restore.timeline_history, pitr_restore.backup_history,
	pitr_restore.segment_run, pitr_restore.base_backup TO pg_read_server_files;

-- Recompute an archive's runs of consecutive usable segments.
CREATE FUNCTION pitr_restore.rebuild_segment_runs(arch integer)
RETURNS void
LANGUAGE sql VOLATILE
SET search_path = pg_catalog, pitr_restore
AS $$
	DELETE FROM pitr_restore.segment_run WHERE archive_id = arch;
	INSERT INTO pitr_restore.segment_run (archive_id, timeline, lo, hi)
	SELECT arch, s.timeline, min(s.segno), max(s.segno)
	  FROM (SELECT d.timeline, d.segno,
				   d.segno - row_number() OVER (PARTITION BY d.timeline ORDER BY d.segno) AS grp
			  FROM (SELECT DISTINCT f.timeline, f.segno FROM pitr_restore.archive_file f
					 WHERE f.archive_id = arch AND f.kind = 'segment' AND f.status = 'ok') d) s
	 GROUP BY s.timeline, s.grp;
$$;
REVOKE EXECUTE ON FUNCTION pitr_restore.rebuild_segment_runs(integer) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION pitr_restore.rebuild_segment_runs(integer) TO pg_read_server_files;
GRANT USAGE ON SEQUENCE pitr_restore.archive_archive_id_seq TO pg_read_server_files;

-- The canonical path of the archive a call speaks of (the argument, else
-- the session's pitr_restore.archive_dir).
CREATE FUNCTION pitr_restore.archive_path(archive_dir text DEFAULT NULL)
RETURNS text
AS 'MODULE_PATHNAME', 'pitr_archive_path'
LANGUAGE C STABLE PARALLEL SAFE;
REVOKE EXECUTE ON FUNCTION pitr_restore.archive_path(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION pitr_restore.archive_path(text) TO pg_read_server_files;

/*
 * scan_archive: bring the index up to date with the archive directory.
 * Files whose name, size and mtime are unchanged are not read again.
 */
CREATE FUNCTION pitr_restore.scan_archive(archive_dir text DEFAULT NULL,
	OUT segments_total bigint,
	OUT segments_scanned bigint,
	OUT bytes_read bigint,
	OUT restore_points bigint,
	OUT timelines integer,
	OUT backups integer)
RETURNS record
AS 'MODULE_PATHNAME', 'pitr_scan_archive'
LANGUAGE C CALLED ON NULL INPUT VOLATILE;
REVOKE EXECUTE ON FUNCTION pitr_restore.scan_archive(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION pitr_restore.scan_archive(text) TO pg_read_server_files;

-- Refresh the index unless the directory is as it was at the last scan
-- (adding, removing or renaming a file changes a directory's mtime).
CREATE FUNCTION pitr_restore.refresh_archive(archive_dir text DEFAULT NULL)
RETURNS integer
AS 'MODULE_PATHNAME', 'pitr_refresh_archive_sql'
LANGUAGE C CALLED ON NULL INPUT VOLATILE;
REVOKE EXECUTE ON FUNCTION pitr_restore.refresh_archive(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION pitr_restore.refresh_archive(text) TO pg_read_server_files;

-- The archive's id, scanning it first if it was never indexed.
CREATE FUNCTION pitr_restore.indexed_archive(archive_dir text DEFAULT NULL)
RETURNS integer
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pitr_restore
AS $$
DECLARE
	dir text := pitr_restore.archive_path(archive_dir);
	id integer;
BEGIN
	SELECT a.archive_id INTO id FROM pitr_restore.archive a
	 WHERE a.directory = dir AND a.last_scan IS NOT NULL;
	IF id IS NULL THEN
		PERFORM pitr_restore.scan_archive(dir);
		SELECT a.archive_id INTO id FROM pitr_restore.archive a
		 WHERE a.directory = dir;
	END IF;
	RETURN id;
END
$$;
REVOKE EXECUTE ON FUNCTION pitr_restore.indexed_archive(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION pitr_restore.indexed_archive(text) TO pg_read_server_files;

-- Where each timeline begins (its branch point; 0/0 for the first).
CREATE FUNCTION pitr_restore.timeline_begin(archive integer, tli integer)
RETURNS pg_lsn
LANGUAGE sql STABLE
SET search_path = pg_catalog, pitr_restore
AS $$
	SELECT coalesce((SELECT h.branch_lsn FROM pitr_restore.timeline_history h
					 WHERE h.archive_id = archive AND h.timeline = tli
					 ORDER BY h.position DESC LIMIT 1), '0/0'::pg_lsn)
$$;
REVOKE EXECUTE ON FUNCTION pitr_restore.timeline_begin(integer, integer) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION pitr_restore.timeline_begin(integer, integer) TO pg_read_server_files;

/*
 * segments: one row per archived segment (and .partial segment), with
 * what its records say.  Records belong to the segment in which they end.
 */
CREATE FUNCTION pitr_restore.segments(archive_dir text DEFAULT NULL)
RETURNS TABLE (file_name text, timeline integer, start_lsn pg_lsn,
			   end_lsn pg_lsn, kind text, compression text,
			   file_size bigint, file_mtime timestamptz, status text,
			   detail text, first_record_lsn pg_lsn, next_record_lsn pg_lsn,
			   records bigint, commits bigint, aborts bigint,
			   first_commit_time timestamptz, last_commit_time timestamptz,
			   min_xid bigint, max_xid bigint, restore_points bigint,
			   has_switch boolean, wal_level_minimal boolean)
LANGUAGE sql VOLATILE
SET search_path = pg_catalog, pitr_restore
AS $$
	-- Index first, in a statement of its own: the query below must see it.
	SELECT pitr_restore.indexed_archive(archive_dir);
	WITH a AS (SELECT * FROM pitr_restore.archive
			   WHERE archive_id = pitr_restore.indexed_archive(archive_dir))
	SELECT f.file_name, f.timeline,
		   CASE WHEN a.segment_size IS NOT NULL THEN
			   ('0/0'::pg_lsn + f.segno * a.segment_size::numeric) END,
		   CASE WHEN a.segment_size IS NOT NULL THEN
			   ('0/0'::pg_lsn + (f.segno + 1) * a.segment_size::numeric) END,
		   f.kind, f.compression, f.file_size, f.file_mtime, f.status,
		   f.detail, f.first_lsn, f.next_lsn, f.records, f.commits,
		   f.aborts, f.first_commit_time, f.last_commit_time, f.min_xid,
		   f.max_xid,
		   (SELECT count(*) FROM pitr_restore.wal_event e
			 WHERE e.archive_id = f.archive_id AND e.file_name = f.file_name
			   AND e.kind = 'restore_point'),
		   f.has_switch, f.wal_level_minimal
	  FROM a JOIN pitr_restore.archive_file f USING (archive_id)
	 WHERE f.kind IN ('segment', 'partial')
	 ORDER BY f.segno, f.timeline, f.file_name
$$;
REVOKE EXECUTE ON FUNCTION pitr_restore.segments(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION pitr_restore.segments(text) TO pg_read_server_files;

/*
 * timelines: every timeline of the archive, from its history file or, for
 * a timeline without one (the first), from its segments.
 */
CREATE FUNCTION pitr_restore.timelines(archive_dir text DEFAULT NULL)
RETURNS TABLE (timeline integer, parent integer, branch_lsn pg_lsn,
			   end_lsn pg_lsn, first_commit_time timestamptz,
			   last_commit_time timestamptz, reason text, segments bigint,
			   history_file text)
LANGUAGE sql VOLATILE
SET search_path = pg_catalog, pitr_restore
AS $$
	-- Index first, in a statement of its own: the query below must see it.
	SELECT pitr_restore.indexed_archive(archive_dir);
	WITH a AS (SELECT pitr_restore.indexed_archive(archive_dir) AS archive_id),
	tl AS (
		SELECT DISTINCT f.timeline FROM a JOIN pitr_restore.archive_file f
			USING (archive_id)
		 WHERE f.kind IN ('segment', 'partial', 'history')
	),
	own AS (
		-- each history file's last line names the timeline's parent
		SELECT DISTINCT ON (h.timeline) h.timeline, h.parent, h.branch_lsn,
			   h.reason, h.file_name
		  FROM a JOIN pitr_restore.timeline_history h USING (archive_id)
		 ORDER BY h.timeline, h.position DESC
	),
	seg AS (
		SELECT f.timeline, max(f.next_lsn) AS end_lsn,
			   count(*) AS segments
		  FROM a JOIN pitr_restore.archive_file f USING (archive_id)
		 WHERE f.kind IN ('segment', 'partial')
		 GROUP BY f.timeline
	),
	xact AS (
		-- commits copied from the parent into a timeline's first segment
		-- belong to the parent: count only what lies past the branch point
		SELECT f.timeline, min(f.min_commit_time) AS first_commit_time,
			   max(f.max_commit_time) AS last_commit_time
		  FROM a JOIN pitr_restore.archive_file f USING (archive_id)
		  LEFT JOIN own o ON o.timeline = f.timeline
		 WHERE f.kind IN ('segment', 'partial')
		   AND f.first_lsn >= coalesce(o.branch_lsn, '0/0')
		 GROUP BY f.timeline
	)
	SELECT tl.timeline, own.parent, own.branch_lsn, seg.end_lsn,
		   xact.first_commit_time, xact.last_commit_time, own.reason,
		   coalesce(seg.segments, 0), own.file_name
	  FROM tl
	  LEFT JOIN own USING (timeline)
	  LEFT JOIN seg USING (timeline)
	  LEFT JOIN xact USING (timeline)
	 ORDER BY tl.timeline
$$;
REVOKE EXECUTE ON FUNCTION pitr_restore.timelines(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION pitr_restore.timelines(text) TO pg_read_server_files;

/*
 * backups: base backups under pitr_restore.backup_dir and those the
 * archive's backup history files speak of, matched by start LSN; location
 * is NULL for a backup that is not in backup_dir.
 */
CREATE FUNCTION pitr_restore.backups(archive_dir text DEFAULT NULL)
RETURNS TABLE (label text, location text, format text, timeline integer,
			   start_lsn pg_lsn, stop_lsn pg_lsn, start_time timestamptz,
			   stop_time timestamptz, pg_version integer,
			   system_identifier numeric, bytes bigint,
			   checkpoint_lsn pg_lsn, backup_history_file text,
			   has_manifest boolean, problem text)
LANGUAGE sql VOLATILE
SET search_path = pg_catalog, pitr_restore
AS $$
	-- Index first, in a statement of its own: the query below must see it.
	SELECT pitr_restore.indexed_archive(archive_dir);
	WITH a AS (SELECT * FROM pitr_restore.archive
			   WHERE archive_id = pitr_restore.indexed_archive(archive_dir)),
	h AS (SELECT b.* FROM a JOIN pitr_restore.backup_history b USING (archive_id)),
	d AS (SELECT b.* FROM pitr_restore.base_backup b, a
		   WHERE b.system_identifier IS NULL OR a.system_identifier IS NULL
			  OR b.system_identifier = a.system_identifier)
	SELECT coalesce(d.label, h.label), d.location, d.format,
		   coalesce(d.start_timeline, h.start_timeline),
		   coalesce(d.start_lsn, h.start_lsn),
		   coalesce(d.stop_lsn, h.stop_lsn),
		   coalesce(h.start_time, d.start_time),
		   coalesce(h.stop_time, d.stop_time),
		   d.pg_version, coalesce(d.system_identifier, a.system_identifier),
		   d.bytes, coalesce(d.checkpoint_lsn, h.checkpoint_lsn),
		   h.file_name, coalesce(d.has_manifest, false), d.problem
	  FROM d FULL JOIN h
		ON d.start_lsn = h.start_lsn AND d.start_timeline = h.start_timeline
	  CROSS JOIN a
	 ORDER BY coalesce(d.start_lsn, h.start_lsn), d.location
$$;
REVOKE EXECUTE ON FUNCTION pitr_restore.backups(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION pitr_restore.backups(text) TO pg_read_server_files;

/*
 * Named restore marks: restore points recorded with who and why, and
 * marked transactions (SQL Server's BEGIN TRAN ... WITH MARK), found in the
 * WAL archive itself so that a restore that rolls this table back loses
 * nothing.
 */

CREATE TABLE pitr_restore.marks (
	name text PRIMARY KEY CHECK (octet_length(name) BETWEEN 1 AND 63),
	kind text NOT NULL CHECK (kind IN ('restore_point', 'transaction')),
	lsn pg_lsn,				-- restore point: where recovery_target_name stops;
							-- transaction: the mark's own record
	xid xid8,				-- transaction marks
	timeline integer,
	created_at timestamptz NOT NULL DEFAULT clock_timestamp(),
	created_by name NOT NULL DEFAULT current_user,
	description text
);
SELECT pg_catalog.pg_extension_config_dump('pitr_restore.marks', '');
REVOKE ALL ON pitr_restore.marks FROM PUBLIC;
GRANT SELECT ON pitr_restore.marks TO pg_read_server_files;

-- Checks shared by both kinds of mark.
CREATE FUNCTION pitr_restore.check_mark_name(mark_name text)
RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pitr_restore
AS $$
BEGIN
	IF mark_name IS NULL OR mark_name = '' THEN
		RAISE EXCEPTION USING ERRCODE = 'invalid_parameter_value',
			MESSAGE = 'mark name must not be empty';
	END IF;
	IF octet_length(mark_name) >= 64 THEN
		RAISE EXCEPTION USING ERRCODE = 'invalid_parameter_value',
			MESSAGE = 'mark name is too long',
			DETAIL = format('A mark is named by a restore point, whose name is at most 63 bytes; this one has %s.',
							octet_length(mark_name));
	END IF;
	IF EXISTS (SELECT 1 FROM pitr_restore.marks m WHERE m.name = mark_name) THEN
		RAISE EXCEPTION USING ERRCODE = 'unique_violation',
			MESSAGE = format('mark "%s" already exists', mark_name),
			HINT = 'Recovery stops at the first restore point of a name, so a second mark of the same name would restore to the wrong one: choose another name.';
	END IF;
END
$$;
REVOKE EXECUTE ON FUNCTION pitr_restore.check_mark_name FROM PUBLIC;

-- Who called: inside SECURITY DEFINER current_user is the owner, but the
-- role setting still names a SET ROLE, and session_user the login.
CREATE FUNCTION pitr_restore.invoker()
RETURNS name
LANGUAGE sql STABLE
AS $$
	SELECT CASE WHEN current_setting('role') = 'none' THEN session_user
				ELSE current_setting('role')::name END
$$;
REVOKE EXECUTE ON FUNCTION pitr_restore.invoker FROM PUBLIC;

/*
 * create_mark: a restore point, recorded.  Returns what
 * pg_create_restore_point returns: the LSN at which recovery_target_name
 * stops.  SECURITY DEFINER so that granting EXECUTE on it is enough.
 */
CREATE FUNCTION pitr_restore.create_mark(name text, description text DEFAULT NULL)
RETURNS pg_lsn
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pitr_restore
AS $$
DECLARE
	mark_lsn pg_lsn;
BEGIN
	PERFORM pitr_restore.check_mark_name(create_mark.name);
	-- The row first: a concurrent mark of the same name fails on the key.
	INSERT INTO pitr_restore.marks (name, kind, timeline, created_by, description)
	VALUES (create_mark.name, 'restore_point',
			(SELECT timeline_id FROM pg_control_checkpoint()), pitr_restore.invoker(),
			create_mark.description);
	mark_lsn := pg_create_restore_point(create_mark.name);
	UPDATE pitr_restore.marks m SET lsn = mark_lsn WHERE m.name = create_mark.name;
	RETURN mark_lsn;
END
$$;
REVOKE EXECUTE ON FUNCTION pitr_restore.create_mark FROM PUBLIC;

/*
 * mark_transaction: marks the calling transaction with a transactional
 * logical message carrying the name, tied to its xid.  If the transaction
 * aborts, the mark never existed.
 */
CREATE FUNCTION pitr_restore.mark_transaction(name text, description text DEFAULT NULL)
RETURNS xid8
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pitr_restore
AS $$
DECLARE
	msg_lsn pg_lsn;
BEGIN
	PERFORM pitr_restore.check_mark_name(mark_transaction.name);
	msg_lsn := pg_logical_emit_message(true, 'pitr_restore.mark', mark_transaction.name);
	INSERT INTO pitr_restore.marks (name, kind, lsn, xid, timeline, created_by, description)
	VALUES (mark_transaction.name, 'transaction', msg_lsn, pg_current_xact_id(),
			(SELECT timeline_id FROM pg_control_checkpoint()), pitr_restore.invoker(),
			mark_transaction.description);
	RETURN pg_current_xact_id();
END
$$;
REVOKE EXECUTE ON FUNCTION pitr_restore.mark_transaction FROM PUBLIC;

/*
 * restore_points: every restore point and marked transaction in the
 * archive, in WAL order, with the occurrence of its name.  lsn is where the
 * record starts (as pg_waldump shows it); end_lsn is where
 * recovery_target_name stops (what pg_create_restore_point returned).
 * kind: restore_point, mark (made by create_mark) or transaction_mark; a
 * transaction mark's created is its commit time.  Marks made on a cluster
 * whose marks table a restore rolled back are still listed.
 */
CREATE FUNCTION pitr_restore.restore_points(archive_dir text DEFAULT NULL)
RETURNS TABLE (name text, lsn pg_lsn, end_lsn pg_lsn, timeline integer,
			   created timestamptz, kind text, description text,
			   occurrence bigint, xid bigint)
LANGUAGE sql VOLATILE
SET search_path = pg_catalog, pitr_restore
AS $$
	-- Index first, in a statement of its own: the query below must see it.
	SELECT pitr_restore.indexed_archive(archive_dir);
	WITH a AS (SELECT pitr_restore.indexed_archive(archive_dir) AS archive_id),
	rp AS (
		SELECT DISTINCT ON (e.lsn, e.timeline) e.*
		  FROM a JOIN pitr_restore.wal_event e USING (archive_id)
		 WHERE e.kind IN ('restore_point', 'mark')
		   AND e.outcome IS DISTINCT FROM 'aborted'
		   -- a record copied into a timeline's first segment is its parent's
		   AND e.lsn >= pitr_restore.timeline_begin(e.archive_id, e.timeline)
		 ORDER BY e.lsn, e.timeline, e.file_name
	),
	listed AS (
		SELECT rp.name, rp.lsn, rp.end_lsn, rp.timeline, rp.event_time,
			   CASE WHEN rp.kind = 'mark' THEN 'transaction_mark'
					WHEN m.name IS NOT NULL THEN 'mark'
					ELSE 'restore_point' END AS kind,
			   m.description,
			   CASE WHEN rp.kind = 'mark' THEN rp.xid END AS xid
		  FROM rp
		  LEFT JOIN pitr_restore.marks m
			ON m.name = rp.name
		   AND ((rp.kind = 'restore_point' AND m.kind = 'restore_point' AND m.lsn = rp.end_lsn)
				OR (rp.kind = 'mark' AND m.kind = 'transaction'
					AND (m.xid::text::numeric % 4294967296) = rp.xid))
	)
	SELECT l.name, l.lsn, l.end_lsn, l.timeline, l.event_time, l.kind,
		   l.description,
		   row_number() OVER (PARTITION BY l.name ORDER BY l.lsn, l.timeline),
		   l.xid
	  FROM listed l
	 ORDER BY l.lsn, l.timeline
$$;
REVOKE EXECUTE ON FUNCTION pitr_restore.restore_points(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION pitr_restore.restore_points(text) TO pg_read_server_files;
/*
 * Resolution: given a target, prove whether recovery can reach it, with
 * which base backup and timeline, exactly where it stops and which
 * transactions fall on either side; and the settings that do just that.
 */

CREATE TYPE pitr_restore.resolution AS (
	reachable boolean,
	reason text,				-- NULL when reachable, else one sentence
	timeline integer,			-- recovery_target_timeline
	timeline_path integer[],	-- from the backup's timeline to it
	backup_label text,
	backup_location text,
	backup_format text,
	backup_stop_lsn pg_lsn,		-- the backup's consistency point
	stop_lsn pg_lsn,			-- the record at which recovery stops
	stop_before boolean,		-- before that record, or after it
	end_lsn pg_lsn,				-- where WAL ends: the new timeline's start
	last_xid xid,				-- last transaction kept
	last_commit_time timestamptz,
	next_xid xid,				-- first transaction lost
	next_commit_time timestamptz,
	wal_first text,
	wal_last text,
	wal_segments integer,
	wal_bytes bigint,			-- WAL bytes recovery replays (whole segments)
	recovery_conf text,			-- lines for postgresql.auto.conf
	warnings text[],
	why text					-- how the backup and timeline were chosen
);

-- Replays recovery's stop decision over the archive (resolve_walk.c).
CREATE FUNCTION pitr_restore.walk_to_stop(arch integer, path_tli integer[],
	path_begin pg_lsn[], start_lsn pg_lsn, kind text,
	target_time timestamptz DEFAULT NULL, target_lsn pg_lsn DEFAULT NULL,
	target_xid bigint DEFAULT NULL, target_name text DEFAULT NULL,
	inclusive boolean DEFAULT true, limit_lsn pg_lsn DEFAULT NULL,
	OUT found boolean, OUT stop_lsn pg_lsn, OUT stop_end_lsn pg_lsn,
	OUT stop_before boolean, OUT last_xid bigint, OUT last_time timestamptz,
	OUT last_commit boolean, OUT last_lsn pg_lsn, OUT next_xid bigint,
	OUT next_time timestamptz, OUT next_commit boolean, OUT next_lsn pg_lsn,
	OUT walk_end pg_lsn, OUT problem text, OUT records bigint)
RETURNS record
AS 'MODULE_PATHNAME', 'pitr_walk_to_stop'
LANGUAGE C CALLED ON NULL INPUT VOLATILE;
REVOKE EXECUTE ON FUNCTION pitr_restore.walk_to_stop FROM PUBLIC;
GRANT EXECUTE ON FUNCTION pitr_restore.walk_to_stop TO pg_read_server_files;

-- The segment number of an LSN.
CREATE FUNCTION pitr_restore.lsn_segno(lsn pg_lsn, segment_size integer)
RETURNS bigint
LANGUAGE sql IMMUTABLE
AS $$ SELECT floor((lsn - '0/0'::pg_lsn) / segment_size)::bigint $$;
REVOKE EXECUTE ON FUNCTION pitr_restore.lsn_segno FROM PUBLIC;
GRANT EXECUTE ON FUNCTION pitr_restore.lsn_segno TO pg_read_server_files;

-- A timeline's path: its ancestors and itself, oldest first, each with the
-- LSN where it begins and where the next one branched off it.
CREATE FUNCTION pitr_restore.timeline_path(arch integer, tli integer,
	OUT tlis integer[], OUT begins pg_lsn[], OUT ends pg_lsn[])
LANGUAGE sql STABLE
SET search_path = pg_catalog, pitr_restore
AS $$
	SELECT coalesce(array_agg(h.parent ORDER BY h.position), '{}') || tli,
		   ARRAY['0/0'::pg_lsn] || coalesce(array_agg(h.branch_lsn ORDER BY h.position), '{}'),
		   coalesce(array_agg(h.branch_lsn ORDER BY h.position), '{}') || NULL::pg_lsn
	  FROM pitr_restore.timeline_history h
	 WHERE h.archive_id = arch AND h.timeline = tli
$$;
REVOKE EXECUTE ON FUNCTION pitr_restore.timeline_path FROM PUBLIC;
GRANT EXECUTE ON FUNCTION pitr_restore.timeline_path TO pg_read_server_files;

-- path_ranges, path_files and path_events have no SET clause, so that the
-- planner inlines them and a lookup of one segment is an index scan; every
-- name in them is schema-qualified.

-- A path as ranges: each timeline with the LSN where it begins, where the
-- next one branched off it (NULL for the last), and the segment numbers it
-- serves, lo to hi exclusive (for each segment number recovery reads the
-- file of the newest timeline that had begun by then).
CREATE FUNCTION pitr_restore.path_ranges(arch integer, tlis integer[],
	begins pg_lsn[])
RETURNS TABLE (tli integer, begin_lsn pg_lsn, end_lsn pg_lsn, lo bigint, hi bigint)
LANGUAGE sql STABLE
AS $$
	SELECT t.tli, t.b, lead(t.b) OVER (ORDER BY t.n),
		   pitr_restore.lsn_segno(t.b, a.segment_size),
		   pitr_restore.lsn_segno(lead(t.b) OVER (ORDER BY t.n), a.segment_size)
	  FROM unnest(tlis, begins) WITH ORDINALITY AS t(tli, b, n),
		   pitr_restore.archive a
	 WHERE a.archive_id = arch
$$;
REVOKE EXECUTE ON FUNCTION pitr_restore.path_ranges FROM PUBLIC;
GRANT EXECUTE ON FUNCTION pitr_restore.path_ranges TO pg_read_server_files;

-- The segments recovery reads when following a path.
CREATE FUNCTION pitr_restore.path_files(arch integer, tlis integer[],
	begins pg_lsn[])
RETURNS SETOF pitr_restore.archive_file
LANGUAGE sql STABLE
AS $$
	SELECT f.* FROM pitr_restore.path_ranges(arch, tlis, begins) p
	  JOIN pitr_restore.archive_file f
		ON f.archive_id = arch AND f.timeline = p.tli AND f.kind = 'segment'
	   AND f.segno >= p.lo AND (p.hi IS NULL OR f.segno < p.hi)
$$;
REVOKE EXECUTE ON FUNCTION pitr_restore.path_files FROM PUBLIC;
GRANT EXECUTE ON FUNCTION pitr_restore.path_files TO pg_read_server_files;

-- Index events that lie on a path (a record copied into a timeline's first
-- segment belongs to its parent).
CREATE FUNCTION pitr_restore.path_events(arch integer, tlis integer[],
	begins pg_lsn[])
RETURNS SETOF pitr_restore.wal_event
LANGUAGE sql STABLE
AS $$
	SELECT DISTINCT ON (ev.lsn) ev.*
	  FROM pitr_restore.path_ranges(arch, tlis, begins) p
	  JOIN pitr_restore.wal_event ev
		ON ev.archive_id = arch AND ev.timeline = p.tli
	   AND ev.lsn >= p.begin_lsn AND (p.end_lsn IS NULL OR ev.lsn < p.end_lsn)
	 ORDER BY ev.lsn, ev.file_name
$$;
REVOKE EXECUTE ON FUNCTION pitr_restore.path_events FROM PUBLIC;
GRANT EXECUTE ON FUNCTION pitr_restore.path_events TO pg_read_server_files;

/*
 * The first segment missing (or unusable) that recovery would need between
 * two LSNs along a path, as "NAME (why)", or NULL when WAL is continuous.
 */
CREATE FUNCTION pitr_restore.path_gap(arch integer, tlis integer[],
	begins pg_lsn[], from_lsn pg_lsn, to_lsn pg_lsn)
RETURNS text
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pitr_restore
AS $$
DECLARE
	sz numeric;
	s0 bigint;
	s1 bigint;
	gap record;
BEGIN
	SELECT segment_size INTO sz FROM pitr_restore.archive WHERE archive_id = arch;
	s0 := floor((from_lsn - '0/0'::pg_lsn) / sz);
	-- to_lsn itself need not be read: the segment of the byte before it
	s1 := floor((to_lsn - '0/0'::pg_lsn - 1) / sz);
	IF s1 < s0 THEN
		RETURN NULL;
	END IF;
	-- Continuous when each stretch of the path lies within one run of
	-- usable segments of its timeline.
	IF NOT EXISTS (
		SELECT 1 FROM pitr_restore.path_ranges(arch, tlis, begins) p
		 WHERE greatest(p.lo, s0) <= least(coalesce(p.hi - 1, s1), s1)
		   AND NOT EXISTS (
			   SELECT 1 FROM pitr_restore.segment_run r
				WHERE r.archive_id = arch AND r.timeline = p.tli
				  AND r.lo <= greatest(p.lo, s0)
				  AND r.hi >= least(coalesce(p.hi - 1, s1), s1))) THEN
		RETURN NULL;
	END IF;
	-- Name the first one recovery would miss.
	WITH want AS (
		SELECT p.tli, s AS segno
		  FROM pitr_restore.path_ranges(arch, tlis, begins) p,
			   generate_series(greatest(p.lo, s0), least(coalesce(p.hi - 1, s1), s1)) s
	)
	SELECT w.tli, w.segno,
		   (SELECT f.status || coalesce(': ' || f.detail, '')
			  FROM pitr_restore.archive_file f
			 WHERE f.archive_id = arch AND f.kind = 'segment'
			   AND f.timeline = w.tli AND f.segno = w.segno LIMIT 1) AS why
	  INTO gap
	  FROM want w
	 WHERE NOT EXISTS (SELECT 1 FROM pitr_restore.archive_file f
						WHERE f.archive_id = arch AND f.kind = 'segment'
						  AND f.timeline = w.tli AND f.segno = w.segno
						  AND f.status = 'ok')
	 ORDER BY w.segno LIMIT 1;
	IF gap IS NULL THEN
		RETURN NULL;
	END IF;
	RETURN pitr_restore.segment_file_name(gap.tli, gap.segno, sz::integer) ||
		CASE WHEN gap.why IS NULL THEN ' is missing from the archive'
			 ELSE ' cannot be used (' || gap.why || ')' END;
END
$$;
REVOKE EXECUTE ON FUNCTION pitr_restore.path_gap FROM PUBLIC;
GRANT EXECUTE ON FUNCTION pitr_restore.path_gap TO pg_read_server_files;

CREATE FUNCTION pitr_restore.segment_file_name(tli integer, segno bigint,
	segment_size integer)
RETURNS text
LANGUAGE sql IMMUTABLE
AS $$
	SELECT upper(lpad(to_hex(tli), 8, '0') ||
				 lpad(to_hex(segno / (4294967296 / segment_size)), 8, '0') ||
				 lpad(to_hex(segno % (4294967296 / segment_size)), 8, '0'))
$$;
REVOKE EXECUTE ON FUNCTION pitr_restore.segment_file_name FROM PUBLIC;
GRANT EXECUTE ON FUNCTION pitr_restore.segment_file_name TO pg_read_server_files;


-- A single-quoted literal for postgresql.conf.
CREATE FUNCTION pitr_restore.conf_literal(v text)
RETURNS text
LANGUAGE sql IMMUTABLE
AS $$ SELECT '''' || replace(replace(v, '\', '\\'), '''', '''''') || '''' $$;
REVOKE EXECUTE ON FUNCTION pitr_restore.conf_literal FROM PUBLIC;
GRANT EXECUTE ON FUNCTION pitr_restore.conf_literal TO pg_read_server_files;

/*
 * restore_command for the archive as it is: plain copy, or decompression
 * for the compressed files it holds.
 */
CREATE FUNCTION pitr_restore.restore_command(arch integer)
RETURNS text
LANGUAGE sql STABLE
SET search_path = pg_catalog, pitr_restore
AS $$
	SELECT CASE WHEN NOT c.zstd AND NOT c.gzip THEN
				format('cp "%s/%%f" "%%p"', a.directory)
		   ELSE
				concat_ws(' ',
					CASE WHEN c.zstd THEN format('if [ -f "%s/%%f.zst" ]; then zstd -dq -c "%s/%%f.zst" > "%%p";', a.directory, a.directory) END,
					CASE WHEN c.gzip THEN format('%s [ -f "%s/%%f.gz" ]; then gzip -dc "%s/%%f.gz" > "%%p";',
												 CASE WHEN c.zstd THEN 'elif' ELSE 'if' END, a.directory, a.directory) END,
					format('else cp "%s/%%f" "%%p"; fi', a.directory))
		   END
	  FROM pitr_restore.archive a,
		   LATERAL (SELECT coalesce('zstd' = ANY (a.compressions), false) AS zstd,
						   coalesce('gzip' = ANY (a.compressions), false) AS gzip) c
	 WHERE a.archive_id = arch
$$;
REVOKE EXECUTE ON FUNCTION pitr_restore.restore_command FROM PUBLIC;
GRANT EXECUTE ON FUNCTION pitr_restore.restore_command TO pg_read_server_files;

/*
 * The nearest segment on a path, from segment s on (forward) or before it
 * (backward), that holds a transaction end -- past time t, when given.
 * One indexed scan per stretch of the path, nearest stretch first, so it
 * costs the same at a terabyte of WAL as at a gigabyte.
 */
CREATE FUNCTION pitr_restore.path_xact_segment(arch integer, tlis integer[],
	begins pg_lsn[], s bigint, forward boolean, t timestamptz DEFAULT NULL,
	incl boolean DEFAULT true)
RETURNS pitr_restore.archive_file
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pitr_restore
AS $$
DECLARE
	p record;
	f pitr_restore.archive_file;
BEGIN
	FOR p IN
		SELECT * FROM pitr_restore.path_ranges(arch, tlis, begins) r
		 ORDER BY CASE WHEN forward THEN r.lo ELSE -r.lo END
	LOOP
		IF forward THEN
			CONTINUE WHEN p.hi IS NOT NULL AND p.hi <= s;
			SELECT * INTO f FROM pitr_restore.archive_file af
			 WHERE af.archive_id = arch AND af.timeline = p.tli AND af.kind = 'segment'
			   AND af.segno >= greatest(s, p.lo) AND (p.hi IS NULL OR af.segno < p.hi)
			   AND af.status IN ('ok', 'corrupt') AND af.commits + af.aborts > 0
			   AND (t IS NULL OR CASE WHEN incl THEN af.max_commit_time > t
									  ELSE af.max_commit_time >= t END)
			 ORDER BY af.segno LIMIT 1;
		ELSE
			CONTINUE WHEN p.lo >= s;
			SELECT * INTO f FROM pitr_restore.archive_file af
			 WHERE af.archive_id = arch AND af.timeline = p.tli AND af.kind = 'segment'
			   AND af.segno >= p.lo AND af.segno < least(s, coalesce(p.hi, s))
			   AND af.commits + af.aborts > 0
			 ORDER BY af.segno DESC LIMIT 1;
		END IF;
		IF f.file_name IS NOT NULL THEN
			RETURN f;
		END IF;
	END LOOP;
	RETURN NULL;
END
$$;
REVOKE EXECUTE ON FUNCTION pitr_restore.path_xact_segment FROM PUBLIC;
GRANT EXECUTE ON FUNCTION pitr_restore.path_xact_segment TO pg_read_server_files;

/*
 * Does a base backup's data already hold a transaction that ended after a
 * time?  Recovery cannot take it back: any commit before the backup's redo
 * point is in its files.
 */
CREATE FUNCTION pitr_restore.backup_holds_after(arch integer, tlis integer[],
	begins pg_lsn[], start_lsn pg_lsn, t timestamptz, incl boolean)
RETURNS boolean
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pitr_restore
AS $$
DECLARE
	sz integer;
	f pitr_restore.archive_file;
	w record;
	latest timestamptz;
BEGIN
	SELECT segment_size INTO sz FROM pitr_restore.archive WHERE archive_id = arch;
	-- The last segment before the backup's that holds transactions...
	f := pitr_restore.path_xact_segment(arch, tlis, begins,
										lsn_segno(start_lsn, sz), false);
	latest := f.max_commit_time;
	-- ...and what its own segment holds before the redo point.
	SELECT pf.* INTO f FROM pitr_restore.path_files(arch, tlis, begins) pf
	 WHERE pf.segno = lsn_segno(start_lsn, sz) LIMIT 1;
	IF f.first_lsn IS NOT NULL AND f.first_lsn < start_lsn THEN
		w := pitr_restore.walk_to_stop(arch, tlis, begins, f.first_lsn, 'none',
									   limit_lsn => start_lsn);
		latest := greatest(latest, w.last_time);
	END IF;
	RETURN CASE WHEN incl THEN latest > t ELSE latest >= t END;
END
$$;
REVOKE EXECUTE ON FUNCTION pitr_restore.backup_holds_after FROM PUBLIC;
GRANT EXECUTE ON FUNCTION pitr_restore.backup_holds_after TO pg_read_server_files;

/*
 * Resolve a target along one timeline's history: try base backups from the
 * latest back, and take the first that recovery can bring to the stop.
 * kind is time, lsn, xid, name (want_lsn: the restore point's record) or
 * immediate.
 */
CREATE FUNCTION pitr_restore.resolve_on_timeline(arch integer, tli integer,
	kind text, t timestamptz, l pg_lsn, x bigint, n text, incl boolean,
	pin_backup text, want_lsn pg_lsn)
RETURNS pitr_restore.resolution
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pitr_restore
AS $$
DECLARE
	r pitr_restore.resolution;
	a record;
	path record;
	b record;
	w record;
	lw record;
	ev record;
	f pitr_restore.archive_file;
	idx integer;
	start pg_lsn;
	stop_point pg_lsn;
	gap text;
	fail text;
	fail_first text;
	fail_last text;
	tried integer := 0;
	s0 bigint;
	s1 bigint;
	emit text := kind;
	walked boolean;
	no_stop boolean;
	bname text;
BEGIN
	SELECT * INTO a FROM pitr_restore.archive WHERE archive_id = arch;
	SELECT * INTO path FROM pitr_restore.timeline_path(arch, tli);
	r.timeline := tli;
	r.reachable := false;

	FOR b IN
		SELECT bk.* FROM pitr_restore.backups(a.directory) bk
		 WHERE bk.location IS NOT NULL AND bk.problem IS NULL
		   AND bk.stop_lsn IS NOT NULL
		   AND (pin_backup IS NULL OR bk.label = pin_backup
				OR bk.location = pin_backup
				OR bk.location LIKE '%/' || pin_backup)
		 ORDER BY bk.start_lsn DESC
	LOOP
		tried := tried + 1;
		bname := format('"%s" in %s', b.label, b.location);
		fail := NULL;
		walked := false;
		idx := array_position(path.tlis, b.timeline);
		IF idx IS NULL OR b.start_lsn < path.begins[idx]
		   OR (path.ends[idx] IS NOT NULL AND b.start_lsn >= path.ends[idx]) THEN
			fail := format('base backup %s is not on the history of timeline %s',
						   bname, tli);
		ELSIF kind = 'time' AND pitr_restore.backup_holds_after(arch, path.tlis, path.begins,
				b.start_lsn, t, incl) THEN
			fail := format('base backup %s already holds transactions that ended after %s: its data is newer than the target',
						   bname, t);
		ELSIF kind = 'time' THEN
			f := pitr_restore.path_xact_segment(arch, path.tlis, path.begins,
				lsn_segno(b.start_lsn, a.segment_size), true, t, incl);
			IF f.file_name IS NULL THEN
				fail := format('no transaction ended after %s on timeline %s: recovery would end before reaching the target',
							   t, tli);
			ELSE
				start := greatest(f.first_lsn, b.start_lsn);
				w := pitr_restore.walk_to_stop(arch, path.tlis, path.begins, start,
											   'time', target_time => t, inclusive => incl);
				walked := true;
			END IF;
		ELSIF kind = 'lsn' THEN
			SELECT max(pf.first_lsn) INTO start
			  FROM pitr_restore.path_files(arch, path.tlis, path.begins) pf
			 WHERE pf.segno BETWEEN lsn_segno(l, a.segment_size) - 1 AND lsn_segno(l, a.segment_size)
			   AND pf.first_lsn <= l;
			start := greatest(coalesce(start, b.start_lsn), b.start_lsn);
			w := pitr_restore.walk_to_stop(arch, path.tlis, path.begins, start,
										   'lsn', target_lsn => l, inclusive => incl);
			walked := true;
		ELSIF kind IN ('xid', 'mark') THEN
			FOR f IN
				SELECT pf.* FROM pitr_restore.path_files(arch, path.tlis, path.begins) pf
				 WHERE pf.segno >= lsn_segno(b.start_lsn, a.segment_size)
				   AND pf.status IN ('ok', 'corrupt')
				   AND pf.commits + pf.aborts > 0
				   AND pf.min_xid <= x AND pf.max_xid >= x
				 ORDER BY pf.segno LIMIT 64
			LOOP
				w := pitr_restore.walk_to_stop(arch, path.tlis, path.begins,
											   greatest(f.first_lsn, b.start_lsn), 'xid',
											   target_xid => x, inclusive => incl,
											   limit_lsn => f.next_lsn);
				walked := true;
				EXIT WHEN w.found;
			END LOOP;
			IF walked THEN
				IF NOT w.found THEN
					walked := false;
				END IF;
			END IF;
			IF NOT walked THEN
				fail := format('transaction %s does not end on the history of timeline %s after the start of base backup %s',
							   x, tli, bname);
			ELSIF kind = 'mark' AND NOT ((w.stop_before AND w.next_commit)
										 OR (NOT w.stop_before AND w.last_commit)) THEN
				fail := format('the transaction marked "%s" (%s) aborted: the mark does not exist', n, x);
				walked := false;
			END IF;
		ELSIF kind = 'name' THEN
			SELECT e.* INTO ev FROM pitr_restore.path_events(arch, path.tlis, path.begins) e
			 WHERE e.kind = 'restore_point' AND e.name = n AND e.lsn >= b.start_lsn
			 ORDER BY e.lsn LIMIT 1;
			IF want_lsn < b.start_lsn THEN
				fail := format('restore point "%s" at %s lies before base backup %s starts',
							   n, want_lsn, bname);
			ELSIF ev.lsn IS NULL THEN
				fail := format('no restore point named "%s" on the history of timeline %s after the start of base backup %s',
							   n, tli, bname);
			ELSE
				-- recovery_target_name stops after the first one replayed;
				-- if that is not the one wanted, an LSN target reaches it.
				IF want_lsn IS NOT NULL AND ev.lsn <> want_lsn THEN
					emit := 'name_lsn';
				ELSE
					want_lsn := ev.lsn;
				END IF;
				SELECT greatest(af.first_lsn, b.start_lsn) INTO start
				  FROM pitr_restore.archive_file af
				 WHERE af.archive_id = arch AND af.file_name = ev.file_name;
				w := pitr_restore.walk_to_stop(arch, path.tlis, path.begins,
											   coalesce(start, b.start_lsn), 'lsn',
											   target_lsn => want_lsn, inclusive => true);
				walked := true;
			END IF;
		ELSIF kind = 'immediate' THEN
			SELECT e.* INTO ev FROM pitr_restore.path_events(arch, path.tlis, path.begins) e
			 WHERE e.kind = 'backup_end' AND e.ref_lsn = b.start_lsn
			 ORDER BY e.lsn LIMIT 1;
			IF ev.lsn IS NOT NULL THEN
				SELECT greatest(af.first_lsn, b.start_lsn) INTO start
				  FROM pitr_restore.archive_file af
				 WHERE af.archive_id = arch AND af.file_name = ev.file_name;
				w := pitr_restore.walk_to_stop(arch, path.tlis, path.begins,
											   coalesce(start, b.start_lsn), 'lsn',
											   target_lsn => ev.lsn, inclusive => true);
				walked := true;
			ELSE
				w := pitr_restore.walk_to_stop(arch, path.tlis, path.begins,
											   b.start_lsn, 'lsn',
											   target_lsn => b.stop_lsn, inclusive => false);
				walked := true;
			END IF;
		END IF;

		-- Not found: if WAL has a hole on the way, that is why.
		no_stop := fail IS NOT NULL;
		IF fail IS NULL THEN
			no_stop := NOT w.found;
		END IF;
		IF no_stop THEN
			IF idx IS NOT NULL AND b.start_lsn >= path.begins[idx] THEN
				gap := pitr_restore.path_gap(arch, path.tlis, path.begins, b.start_lsn,
					(SELECT max(pf.next_lsn) FROM pitr_restore.path_files(arch, path.tlis, path.begins) pf));
				IF gap IS NOT NULL THEN
					fail := format('WAL from base backup %s is not continuous: segment %s, and recovery would stop there before reaching the target',
								   bname, gap);
				END IF;
			END IF;
		END IF;
		IF fail IS NULL THEN
			IF NOT w.found THEN
			fail := coalesce(format('recovery from base backup %s would end before reaching the target: %s',
									bname, w.problem),
							 format('recovery from base backup %s would end before reaching the target: the archive''s WAL on timeline %s ends at %s',
									bname, tli, w.walk_end));
			END IF;
		END IF;
		IF fail IS NULL THEN
			stop_point := CASE WHEN w.stop_before THEN w.stop_lsn ELSE w.stop_end_lsn END;
			IF stop_point < b.stop_lsn THEN
				fail := format('the stop point %s comes before base backup %s is consistent (at %s): recovery would fail with "requested recovery stop point is before consistent recovery point"',
							   stop_point, bname, b.stop_lsn);
				fail_last := fail;
				CONTINUE;
			END IF;
			gap := pitr_restore.path_gap(arch, path.tlis, path.begins,
										 b.start_lsn, w.stop_end_lsn);
			IF gap IS NOT NULL THEN
				fail := format('WAL from base backup %s to the target is not continuous: segment %s',
							   bname, gap);
			ELSIF EXISTS (SELECT 1 FROM pitr_restore.path_events(arch, path.tlis, path.begins) e
						   WHERE e.kind = 'wal_level' AND e.name = 'minimal'
							 AND e.lsn BETWEEN b.start_lsn AND w.stop_end_lsn) THEN
				fail := format('WAL between base backup %s and the target was written with wal_level = minimal: recovery cannot replay it',
							   bname);
			END IF;
		END IF;
		IF fail IS NOT NULL THEN
			fail_first := coalesce(fail_first, fail);
			fail_last := fail;
			CONTINUE;
		END IF;

		-- Reachable.
		r.reachable := true;
		r.timeline_path := path.tlis[idx:];
		r.backup_label := b.label;
		r.backup_location := b.location;
		r.backup_format := b.format;
		r.backup_stop_lsn := b.stop_lsn;
		r.stop_lsn := w.stop_lsn;
		r.stop_before := w.stop_before;
		r.end_lsn := stop_point;
		r.next_xid := w.next_xid::text::xid;
		r.next_commit_time := w.next_time;
		IF w.last_xid IS NULL THEN
			-- No transaction ended in the stretch walked: look further back.
			f := pitr_restore.path_xact_segment(arch, path.tlis, path.begins,
				lsn_segno(start, a.segment_size), false);
			IF f.file_name IS NOT NULL THEN
				lw := pitr_restore.walk_to_stop(arch, path.tlis, path.begins,
												f.first_lsn, 'none', limit_lsn => f.next_lsn);
				w.last_xid := lw.last_xid;
				w.last_time := lw.last_time;
			END IF;
		END IF;
		r.last_xid := w.last_xid::text::xid;
		r.last_commit_time := w.last_time;

		s0 := lsn_segno(b.start_lsn, a.segment_size);
		s1 := lsn_segno(w.stop_end_lsn - 1, a.segment_size);
		-- Continuity is proven: the count follows from the ends.
		r.wal_segments := s1 - s0 + 1;
		r.wal_bytes := r.wal_segments::bigint * a.segment_size;
		r.wal_first := pitr_restore.segment_file_name(path.tlis[idx], s0, a.segment_size);
		r.wal_last := pitr_restore.segment_file_name(
			(SELECT pf.timeline FROM pitr_restore.path_files(arch, path.tlis, path.begins) pf
			  WHERE pf.segno = s1 LIMIT 1), s1, a.segment_size);

		r.why := format('base backup %s is the latest that is consistent (at %s) before the stop point, with continuous WAL from its start at %s',
						bname, b.stop_lsn, b.start_lsn);
		IF tried > 1 THEN
			r.why := r.why || format('; %s later backup(s) could not be used: %s',
									 tried - 1, fail_first);
		END IF;

		-- Caveats.
		r.warnings := ARRAY(
			SELECT format('prepared transaction %s (GID "%s") is open at the stop point: it comes back prepared and holds its locks until COMMIT PREPARED or ROLLBACK PREPARED',
						  p.xid, p.name)
			  FROM pitr_restore.path_events(arch, path.tlis, path.begins) p
			 WHERE p.kind = 'prepare' AND p.lsn < stop_point
			   AND NOT EXISTS (SELECT 1 FROM pitr_restore.path_events(arch, path.tlis, path.begins) q
								WHERE q.kind = 'finish_prepared' AND q.xid = p.xid
								  AND q.lsn > p.lsn AND q.lsn < stop_point)
			 ORDER BY p.lsn);
		IF emit = 'name_lsn' THEN
			r.warnings := r.warnings || format('restore point "%s" occurs earlier after the start of base backup %s: recovery_target_name would stop there, so the settings use recovery_target_lsn',
											   n, bname);
			r.why := r.why || '; recovery_target_lsn stands for the restore point';
		END IF;
		r.reason := NULL;
		-- The caller turns the emitted kind into settings.
		r.recovery_conf := emit || ':' || coalesce(want_lsn::text, '');
		RETURN r;
	END LOOP;

	IF tried = 0 THEN
		r.reason := CASE WHEN pin_backup IS NULL
			THEN format('no usable base backup of this archive in pitr_restore.backup_dir ("%s")',
						current_setting('pitr_restore.backup_dir', true))
			ELSE format('no usable base backup %s in pitr_restore.backup_dir', pin_backup) END;
	ELSE
		-- The earliest backup's complaint, unless a later backup failed for
		-- a reason other than consistency (that one says more).
		r.reason := coalesce(fail_first, fail_last);
	END IF;
	RETURN r;
END
$$;
REVOKE EXECUTE ON FUNCTION pitr_restore.resolve_on_timeline FROM PUBLIC;
GRANT EXECUTE ON FUNCTION pitr_restore.resolve_on_timeline TO pg_read_server_files;

/*
 * The archive's timelines, cheaply (whatever the number of segments): the
 * first timeline of its segments and every one with a history file, with
 * its parent, branch point and when it was created (its end-of-recovery
 * record, else its first commit past the branch point).
 */
CREATE FUNCTION pitr_restore.timeline_list(arch integer)
RETURNS TABLE (timeline integer, parent integer, branch_lsn pg_lsn, created timestamptz)
LANGUAGE sql STABLE
SET search_path = pg_catalog, pitr_restore
AS $$
	WITH t AS (
		SELECT min(f.timeline) AS timeline FROM pitr_restore.archive_file f
		 WHERE f.archive_id = arch AND f.kind = 'segment'
		UNION
		SELECT DISTINCT h.timeline FROM pitr_restore.timeline_history h
		 WHERE h.archive_id = arch
	)
	SELECT t.timeline, last.parent, last.branch_lsn,
		   CASE WHEN last.parent IS NOT NULL THEN
			   coalesce((SELECT min(e.event_time) FROM pitr_restore.wal_event e
						  WHERE e.archive_id = arch AND e.kind = 'end_of_recovery'
							AND e.event_timeline = t.timeline),
						(SELECT min(f.min_commit_time) FROM pitr_restore.archive_file f
						  WHERE f.archive_id = arch AND f.timeline = t.timeline
							AND f.kind = 'segment' AND f.first_lsn >= last.branch_lsn))
		   END
	  FROM t
	  LEFT JOIN LATERAL (
		SELECT h.parent, h.branch_lsn FROM pitr_restore.timeline_history h
		 WHERE h.archive_id = arch AND h.timeline = t.timeline
		 ORDER BY h.position DESC LIMIT 1) last ON true
	 WHERE t.timeline IS NOT NULL
$$;
REVOKE EXECUTE ON FUNCTION pitr_restore.timeline_list FROM PUBLIC;
GRANT EXECUTE ON FUNCTION pitr_restore.timeline_list TO pg_read_server_files;

/*
 * resolve_target: exactly one target kind; ERROR on malformed arguments,
 * reachable = false with a reason when recovery cannot get there.
 */
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
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pitr_restore
AS $$
DECLARE
	r pitr_restore.resolution;
	arch integer;
	a record;
	kind text;
	kinds integer;
	cand integer[];
	tl integer;
	occ record;
	occurrences integer;
	live integer;
	live_since timestamptz;
	x bigint;
	want pg_lsn;
	first_r pitr_restore.resolution;
	note text;
	emit text;
	conf text[];
BEGIN
	kinds := num_nonnulls(target_time, target_name, target_lsn, target_xid,
						  target_mark, target);
	IF kinds <> 1 THEN
		RAISE EXCEPTION USING ERRCODE = 'invalid_parameter_value',
			MESSAGE = CASE WHEN kinds = 0 THEN 'no recovery target given'
						   ELSE 'more than one recovery target given' END,
			HINT = 'Give exactly one of target_time, target_name, target_lsn, target_xid, target_mark or target => ''immediate''.';
	END IF;
	IF target IS NOT NULL AND target <> 'immediate' THEN
		RAISE EXCEPTION USING ERRCODE = 'invalid_parameter_value',
			MESSAGE = format('invalid recovery target "%s"', target),
			HINT = 'The only named target is ''immediate''.';
	END IF;
	IF octet_length(coalesce(target_name, target_mark, '')) >= 64 THEN
		RAISE EXCEPTION USING ERRCODE = 'invalid_parameter_value',
			MESSAGE = 'recovery target name is too long',
			DETAIL = 'Restore point names are at most 63 bytes.';
	END IF;
	IF recovery_action IS NULL OR recovery_action NOT IN ('pause', 'promote', 'shutdown') THEN
		RAISE EXCEPTION USING ERRCODE = 'invalid_parameter_value',
			MESSAGE = format('invalid recovery_action "%s"', recovery_action),
			HINT = 'Use pause, promote or shutdown.';
	END IF;
	IF mark_after IS NOT NULL AND target_name IS NULL AND target_mark IS NULL THEN
		RAISE EXCEPTION USING ERRCODE = 'invalid_parameter_value',
			MESSAGE = 'mark_after applies only to target_name and target_mark';
	END IF;
	IF target_timeline IS NOT NULL AND target_timeline < 1 THEN
		RAISE EXCEPTION USING ERRCODE = 'invalid_parameter_value',
			MESSAGE = format('invalid timeline %s', target_timeline);
	END IF;
	IF inclusive IS NULL THEN
		RAISE EXCEPTION USING ERRCODE = 'invalid_parameter_value',
			MESSAGE = 'inclusive must not be null';
	END IF;

	arch := pitr_restore.refresh_archive(archive_dir);
	SELECT * INTO a FROM pitr_restore.archive WHERE archive_id = arch;
	IF a.segment_size IS NULL THEN
		r.reachable := false;
		r.reason := format('the archive "%s" holds no readable PostgreSQL 15 WAL segment', a.directory);
		RETURN r;
	END IF;

	kind := CASE WHEN target_time IS NOT NULL THEN 'time'
				 WHEN target_name IS NOT NULL THEN 'name'
				 WHEN target_lsn IS NOT NULL THEN 'lsn'
				 WHEN target_xid IS NOT NULL THEN 'xid'
				 WHEN target_mark IS NOT NULL THEN 'mark'
				 ELSE 'immediate' END;
	x := (target_xid::text::numeric % 4294967296)::bigint;

	-- Timelines to try, best first.
	IF target_timeline IS NOT NULL THEN
		IF NOT EXISTS (SELECT 1 FROM pitr_restore.timeline_list(arch) t
						WHERE t.timeline = target_timeline) THEN
			r.reachable := false;
			r.reason := format('timeline %s is not in the archive', target_timeline);
			RETURN r;
		END IF;
		cand := ARRAY[target_timeline];
	ELSIF kind = 'time' THEN
		-- The history as it was lived then: the newest timeline created by
		-- that time (its end-of-recovery record, else its first commit).
		SELECT t.timeline, t.created INTO live, live_since
		  FROM pitr_restore.timeline_list(arch) t
		 WHERE t.parent IS NOT NULL AND t.created <= target_time
		 ORDER BY t.created DESC, t.timeline DESC LIMIT 1;
		live := coalesce(live, (SELECT min(t.timeline) FROM pitr_restore.timeline_list(arch) t));
		cand := ARRAY[live] || ARRAY(SELECT t.timeline FROM pitr_restore.timeline_list(arch) t
									  WHERE t.timeline <> live ORDER BY t.timeline DESC);
		note := CASE WHEN live_since IS NULL
			THEN format('timeline %s was the live timeline at %s', live, target_time)
			ELSE format('timeline %s was the live timeline at %s (it began at %s)', live, target_time, live_since) END;
	ELSIF kind = 'name' THEN
		SELECT count(*) INTO occurrences FROM pitr_restore.restore_points(a.directory) rp
		 WHERE rp.name = target_name;
		-- The first occurrence (after mark_after) that recovery can reach.
		FOR occ IN
			SELECT rp.* FROM pitr_restore.restore_points(a.directory) rp
			 WHERE rp.name = target_name AND (mark_after IS NULL OR rp.created > mark_after)
			   AND (target_timeline IS NULL OR rp.timeline = target_timeline)
			 ORDER BY rp.created, rp.lsn
		LOOP
			r := pitr_restore.resolve_on_timeline(arch, occ.timeline, 'name', NULL,
				NULL, NULL, target_name, true, backup_label, occ.lsn);
			first_r := coalesce(first_r, r);
			EXIT WHEN r.reachable;
		END LOOP;
		IF first_r.reachable IS NOT NULL AND NOT r.reachable THEN
			RETURN first_r;
		END IF;
		IF occ.name IS NULL THEN
			r.reachable := false;
			r.reason := CASE WHEN mark_after IS NULL
				THEN format('no restore point named "%s" in the archive', target_name)
				ELSE format('no restore point named "%s" created after %s in the archive', target_name, mark_after) END;
			RETURN r;
		END IF;
		want := occ.lsn;
		cand := '{}';
		IF occurrences > 1 THEN
			note := format('restore point "%s" occurs %s times in the archive; this is the one created at %s on timeline %s, the first%s that recovery can reach',
						   target_name, occurrences, occ.created, occ.timeline,
						   CASE WHEN mark_after IS NULL THEN '' ELSE ' after mark_after' END);
		END IF;
	ELSIF kind = 'lsn' THEN
		cand := ARRAY(SELECT t.timeline FROM pitr_restore.timeline_list(arch) t
					   WHERE coalesce(t.branch_lsn, '0/0') <= target_lsn
					   ORDER BY t.timeline DESC);
	ELSIF kind = 'mark' THEN
		SELECT count(*) INTO occurrences FROM pitr_restore.restore_points(a.directory) rp
		 WHERE rp.name = target_mark;
		-- The first occurrence (after mark_after) that recovery can reach:
		-- a transaction mark keeps (inclusive) or loses its transaction, a
		-- restore-point mark stops after its record.
		FOR occ IN
			SELECT rp.* FROM pitr_restore.restore_points(a.directory) rp
			 WHERE rp.name = target_mark AND (mark_after IS NULL OR rp.created > mark_after)
			   AND (target_timeline IS NULL OR rp.timeline = target_timeline)
			 ORDER BY rp.created, rp.lsn
		LOOP
			IF occ.kind = 'transaction_mark' THEN
				x := occ.xid;
				r := pitr_restore.resolve_on_timeline(arch, occ.timeline, 'mark', NULL,
					NULL, x, target_mark, inclusive, backup_label, NULL);
			ELSE
				r := pitr_restore.resolve_on_timeline(arch, occ.timeline, 'name', NULL,
					NULL, NULL, target_mark, true, backup_label, occ.lsn);
			END IF;
			first_r := coalesce(first_r, r);
			EXIT WHEN r.reachable;
		END LOOP;
		IF first_r.reachable IS NOT NULL AND NOT r.reachable THEN
			RETURN first_r;
		END IF;
		IF occ.name IS NULL THEN
			r.reachable := false;
			r.reason := CASE
				WHEN EXISTS (SELECT 1 FROM pitr_restore.marks m WHERE m.name = target_mark)
				THEN format('mark "%s" is in pitr_restore.marks but not (yet) in the archive: its WAL has not been archived', target_mark)
				WHEN mark_after IS NOT NULL
				THEN format('no mark named "%s" made after %s in the archive', target_mark, mark_after)
				ELSE format('no mark named "%s" in the archive', target_mark) END;
			RETURN r;
		END IF;
		cand := '{}';
		want := occ.lsn;
		IF occ.kind <> 'transaction_mark' THEN
			kind := 'name';
			target_name := target_mark;
		END IF;
		IF occurrences > 1 THEN
			note := format('mark "%s" occurs %s times in the archive; this is the one made at %s on timeline %s, the first%s that recovery can reach',
						   target_mark, occurrences, occ.created, occ.timeline,
						   CASE WHEN mark_after IS NULL THEN '' ELSE ' after mark_after' END);
		END IF;
	ELSE
		cand := ARRAY(SELECT t.timeline FROM pitr_restore.timeline_list(arch) t
					   ORDER BY t.timeline DESC);
	END IF;

	FOREACH tl IN ARRAY cand LOOP
		r := pitr_restore.resolve_on_timeline(arch, tl,
			CASE WHEN kind = 'mark' THEN 'xid' ELSE kind END,
			target_time, target_lsn, x, target_name, inclusive, backup_label, want);
		-- An xid or LSN target belongs to the timeline whose own stretch
		-- holds the stop point.
		IF r.reachable AND kind IN ('xid', 'lsn') AND array_length(cand, 1) > 1
		   AND r.stop_lsn < pitr_restore.timeline_begin(arch, tl) THEN
			r.reachable := false;
			r.reason := format('the stop point lies before timeline %s begins', tl);
		END IF;
		first_r := coalesce(first_r, r);
		EXIT WHEN r.reachable;
	END LOOP;
	IF NOT r.reachable THEN
		r := first_r;
	ELSIF kind = 'time' AND r.timeline <> cand[1] THEN
		r.warnings := r.warnings || format('the target is not reachable on timeline %s, the live one at that time: %s',
										   cand[1], first_r.reason);
	END IF;
	IF NOT r.reachable THEN
		RETURN r;
	END IF;

	IF note IS NOT NULL THEN
		r.why := note || '; ' || r.why;
	END IF;
	IF kind IN ('xid', 'lsn') AND target_timeline IS NULL AND array_length(cand, 1) > 1 THEN
		r.why := format('timeline %s is the newest whose history holds the stop point', r.timeline) || '; ' || r.why;
	END IF;
	IF kind IN ('name', 'mark') AND occurrences > 1 THEN
		r.warnings := r.warnings || note;
	END IF;
	-- Unlogged tables are not in WAL: when the archive is this server's,
	-- name the ones of this database.
	IF a.system_identifier = (SELECT system_identifier FROM pg_control_system()) THEN
		r.warnings := r.warnings || ARRAY(
			SELECT format('unlogged table %s comes back empty', c.oid::regclass)
			  FROM pg_class c
			 WHERE c.relpersistence = 'u' AND c.relkind IN ('r', 'p')
			 ORDER BY 1);
	END IF;

	-- The settings that produce exactly this.
	emit := split_part(r.recovery_conf, ':', 1);
	conf := ARRAY[format('restore_command = %s', conf_literal(pitr_restore.restore_command(arch)))];
	IF kind = 'time' THEN
		conf := conf || format('recovery_target_time = %s',
			conf_literal(to_char(target_time AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS.US') || '+00'));
	ELSIF kind = 'name' AND emit = 'name' THEN
		conf := conf || format('recovery_target_name = %s', conf_literal(target_name));
	ELSIF kind = 'name' THEN
		conf := conf || format('recovery_target_lsn = %s', conf_literal(want::text));
	ELSIF kind = 'lsn' THEN
		conf := conf || format('recovery_target_lsn = %s', conf_literal(target_lsn::text));
	ELSIF kind IN ('xid', 'mark') THEN
		conf := conf || format('recovery_target_xid = %s', conf_literal(x::text));
	ELSE
		conf := conf || 'recovery_target = ''immediate'''::text;
	END IF;
	IF kind IN ('time', 'lsn', 'xid', 'mark') OR emit = 'name_lsn' THEN
		conf := conf || format('recovery_target_inclusive = %s',
			CASE WHEN inclusive OR emit = 'name_lsn' THEN '''on''' ELSE '''off''' END);
	END IF;
	conf := conf || format('recovery_target_timeline = ''%s''', r.timeline)
				 || format('recovery_target_action = %s', conf_literal(recovery_action));
	r.recovery_conf := array_to_string(conf, E'\n') || E'\n';
	RETURN r;
END
$$;
REVOKE EXECUTE ON FUNCTION pitr_restore.resolve_target FROM PUBLIC;
GRANT EXECUTE ON FUNCTION pitr_restore.resolve_target TO pg_read_server_files;
/*
 * Restore building: a ready-to-start data directory for a target, built
 * from the base backup the resolver chose, verified against its manifest,
 * created whole or not at all.
 */

-- The target directory's checks, made before anything is resolved or read:
-- absolute, not existing, parent existing, clear of the running cluster.
-- Returns the canonical path.
CREATE FUNCTION pitr_restore.check_restore_target(target_dir text)
RETURNS text
AS 'MODULE_PATHNAME', 'pitr_check_restore_target'
LANGUAGE C STRICT VOLATILE PARALLEL UNSAFE;
REVOKE EXECUTE ON FUNCTION pitr_restore.check_restore_target(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION pitr_restore.check_restore_target(text) TO pg_write_server_files;

-- Copy or extract a backup into target_dir (restore_build.c), with
-- recovery.signal, recovery_conf appended to postgresql.auto.conf, and the
-- marker file (its first line is "marker" plus a time and a random token).
CREATE FUNCTION pitr_restore.materialise_backup(
	backup_location text,
	backup_format text,
	target_dir text,
	recovery_conf text,
	marker text,
	OUT files bigint,
	OUT bytes bigint)
RETURNS record
AS 'MODULE_PATHNAME', 'pitr_materialise_backup'
LANGUAGE C STRICT VOLATILE PARALLEL UNSAFE;
REVOKE EXECUTE ON FUNCTION pitr_restore.materialise_backup(text, text, text, text, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION pitr_restore.materialise_backup(text, text, text, text, text) TO pg_write_server_files;

-- A word for a POSIX shell command line.
CREATE FUNCTION pitr_restore.shell_quote(s text)
RETURNS text
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
RETURN '''' || replace(s, '''', '''\''''') || '''';
REVOKE EXECUTE ON FUNCTION pitr_restore.shell_quote(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION pitr_restore.shell_quote(text) TO pg_write_server_files;

-- What prepare_restore returns: the resolver's answer and what was built.
-- A composite type, as for resolve_target: an argument and a result column
-- may then both be called backup_label.
CREATE TYPE pitr_restore.prepared_restore AS (
	reachable boolean,
	reason text,
	timeline integer,
	timeline_path integer[],
	backup_label text,
	backup_location text,
	backup_format text,
	backup_stop_lsn pg_lsn,
	stop_lsn pg_lsn,
	stop_before boolean,
	end_lsn pg_lsn,
	last_xid xid,
	last_commit_time timestamptz,
	next_xid xid,
	next_commit_time timestamptz,
	wal_first text,
	wal_last text,
	wal_segments integer,
	wal_bytes bigint,
	recovery_conf text,
	warnings text[],
	why text,
	files bigint,
	bytes bigint,
	start_command text
);

-- Resolve the target, then build target_dir from the chosen backup.
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
	recovery_action text DEFAULT 'pause')
RETURNS pitr_restore.prepared_restore
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pitr_restore
AS $$
DECLARE
	r pitr_restore.resolution;
	m record;
	dir text;
	marker text;
	result pitr_restore.prepared_restore;
BEGIN
	IF target_dir IS NULL THEN
		RAISE EXCEPTION 'target_dir must not be NULL'
			USING ERRCODE = 'null_value_not_allowed';
	END IF;
	-- a bad target directory is an ERROR before the archive is read
	dir := pitr_restore.check_restore_target(target_dir);

	r := pitr_restore.resolve_target(target_time, target_name, target_lsn,
									 target_xid, target_mark, inclusive,
									 target_timeline, mark_after, backup_label,
									 target, archive_dir, recovery_action);
	IF NOT r.reachable THEN
		RAISE EXCEPTION 'restore target is not reachable'
			USING ERRCODE = 'object_not_in_prerequisite_state',
				  DETAIL = r.reason;
	END IF;
	IF r.backup_location IS NULL OR r.backup_format IS NULL THEN
		RAISE EXCEPTION 'base backup "%" has no directory to restore from', r.backup_label
			USING ERRCODE = 'undefined_file',
				  HINT = 'Keep the backups under "pitr_restore.backup_dir".';
	END IF;

	-- names this restore for the cleanup worker; C adds a time and a token
	marker := translate(format('pitr_restore: backup %s (%s), stop %s %s on timeline %s',
							   r.backup_label, r.backup_location,
							   CASE WHEN r.stop_before THEN 'before' ELSE 'after' END,
							   r.stop_lsn, r.timeline), E'\r\n', '  ');
	m := pitr_restore.materialise_backup(r.backup_location, r.backup_format,
										 dir, r.recovery_conf, marker);

	-- the resolver's columns, then what was built; the start command uses
	-- the port next to this server's, so both can run on one host
	SELECT (r).*, m.files, m.bytes,
		   format('pg_ctl -D %s -l %s -o %s start',
				  pitr_restore.shell_quote(dir),
				  pitr_restore.shell_quote(dir || '.log'),
				  pitr_restore.shell_quote('-p ' || (current_setting('port')::integer + 1)))
	  INTO result;
	RETURN result;
END
$$;
REVOKE EXECUTE ON FUNCTION pitr_restore.prepare_restore FROM PUBLIC;
GRANT EXECUTE ON FUNCTION pitr_restore.prepare_restore TO pg_write_server_files;

-- Post-restore cleanup (issue 5): an ordered registry of hooks, run by hand
-- or by the background worker once per restore, and the audit of each run.
-- Only superusers write hooks or run them: the worker runs hooks as the
-- bootstrap superuser, so being able to add one is as good as being one.

CREATE TABLE pitr_restore.cleanup_hook (
	name		text PRIMARY KEY,
	run_order	integer NOT NULL,
	enabled		boolean NOT NULL DEFAULT true,
	action		text NOT NULL CHECK (action IN ('reset_admin', 'jobs_waiting',
								'disable_subscriptions', 'set_column',
								'expect_rows', 'sql')),
	options		jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(options) = 'object'),
	description text,
	created_at	timestamptz NOT NULL DEFAULT now(),
	created_by	name NOT NULL DEFAULT current_user
);
COMMENT ON TABLE pitr_restore.cleanup_hook IS
	'post-restore cleanup hooks, run in run_order by run_cleanup() and after each restore';
REVOKE ALL ON pitr_restore.cleanup_hook FROM PUBLIC;
-- Hooks are part of the database's configuration: keep them across pg_dump.
SELECT pg_catalog.pg_extension_config_dump('pitr_restore.cleanup_hook', '');

-- One row per run, manual or automatic; restore_key names the restore an
-- automatic run followed, and makes that run happen once.
CREATE TABLE pitr_restore.cleanup_runs (
	run_id		bigserial PRIMARY KEY,
	started_at	timestamptz NOT NULL DEFAULT clock_timestamp(),
	finished_at timestamptz,
	trigger		text NOT NULL,
	restore_key text UNIQUE,
	dry_run		boolean NOT NULL DEFAULT false,
	run_by		name NOT NULL DEFAULT current_user,
	hooks_ok	integer,
	hooks_failed integer,
	hooks_skipped integer,
	results		jsonb
);
COMMENT ON TABLE pitr_restore.cleanup_runs IS
	'audit of cleanup runs: when, why (manual or which restore), per-hook outcome in results';
REVOKE ALL ON pitr_restore.cleanup_runs FROM PUBLIC;

-- Per-hook outcome, committed together with the hook's own effects: what
-- makes an interrupted automatic run resume without repeating a hook.
CREATE TABLE pitr_restore.cleanup_run_hooks (
	run_id		bigint NOT NULL REFERENCES pitr_restore.cleanup_runs ON DELETE CASCADE,
	hook		text NOT NULL,
	action		text NOT NULL,
	status		text NOT NULL CHECK (status IN ('ok', 'failed', 'skipped', 'would run')),
	rows_affected bigint,
	detail		text,
	duration	interval,
	finished_at timestamptz NOT NULL DEFAULT clock_timestamp(),
	PRIMARY KEY (run_id, hook)
);
REVOKE ALL ON pitr_restore.cleanup_run_hooks FROM PUBLIC;

-- System identifiers of the clusters this database has lived in.  Dumped
-- with the database, so after pg_restore into another cluster a row of the
-- old cluster is there, which is how an import is told from a restart.
CREATE TABLE pitr_restore.cluster_identity (
	system_identifier bigint PRIMARY KEY,
	recorded_at timestamptz NOT NULL DEFAULT now()
);
REVOKE ALL ON pitr_restore.cluster_identity FROM PUBLIC;
SELECT pg_catalog.pg_extension_config_dump('pitr_restore.cluster_identity', '');
INSERT INTO pitr_restore.cluster_identity (system_identifier)
	SELECT system_identifier FROM pg_catalog.pg_control_system();

-- The restore this cluster came from (point-in-time recovery or marker
-- file), or NULL.
CREATE FUNCTION pitr_restore.cleanup_restore_key()
RETURNS text
LANGUAGE C VOLATILE
AS 'MODULE_PATHNAME', 'pitr_cleanup_restore_key';
REVOKE EXECUTE ON FUNCTION pitr_restore.cleanup_restore_key() FROM PUBLIC;

-- A restore that happened before the extension existed is not this
-- extension's to clean up: record it as seen.
INSERT INTO pitr_restore.cleanup_runs (trigger, restore_key, finished_at,
									   hooks_ok, hooks_failed, hooks_skipped)
	SELECT 'extension created', k, clock_timestamp(), 0, 0, 0
	FROM pitr_restore.cleanup_restore_key() AS k
	WHERE k IS NOT NULL;

CREATE FUNCTION pitr_restore.add_cleanup_hook(
	name text,
	action text,
	options jsonb DEFAULT '{}',
	run_order integer DEFAULT NULL,
	description text DEFAULT NULL)
RETURNS pitr_restore.cleanup_hook
LANGUAGE C CALLED ON NULL INPUT VOLATILE
AS 'MODULE_PATHNAME', 'pitr_add_cleanup_hook';
REVOKE EXECUTE ON FUNCTION pitr_restore.add_cleanup_hook(text, text, jsonb, integer, text) FROM PUBLIC;

-- Check a hook's options without adding it (also what add_cleanup_hook runs).
CREATE FUNCTION pitr_restore.validate_cleanup_hook(action text, options jsonb)
RETURNS void
LANGUAGE C STRICT VOLATILE
AS 'MODULE_PATHNAME', 'pitr_validate_cleanup_hook';
REVOKE EXECUTE ON FUNCTION pitr_restore.validate_cleanup_hook(text, jsonb) FROM PUBLIC;

CREATE FUNCTION pitr_restore.run_cleanup(
	dry_run boolean DEFAULT false,
	OUT hook text,
	OUT action text,
	OUT status text,
	OUT rows_affected bigint,
	OUT detail text,
	OUT duration interval)
RETURNS SETOF record
LANGUAGE C STRICT VOLATILE
AS 'MODULE_PATHNAME', 'pitr_run_cleanup';
REVOKE EXECUTE ON FUNCTION pitr_restore.run_cleanup(boolean) FROM PUBLIC;
-- Running the hooks (with the caller's own privileges) is for superusers and
-- pg_write_server_files, as the design says; adding them stays superuser-only.
GRANT EXECUTE ON FUNCTION pitr_restore.run_cleanup(boolean) TO pg_write_server_files;
GRANT SELECT ON pitr_restore.cleanup_hook TO pg_write_server_files;
GRANT SELECT, INSERT, UPDATE ON pitr_restore.cleanup_runs, pitr_restore.cleanup_run_hooks
	TO pg_write_server_files;
GRANT USAGE ON SEQUENCE pitr_restore.cleanup_runs_run_id_seq TO pg_write_server_files;
