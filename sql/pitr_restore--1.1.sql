/* pitr_restore 1.1: the base install script.  Every later change to SQL
   objects is a small update script, pitr_restore--1.1--1.2.sql and on. */

-- complain if script is sourced in psql, rather than via CREATE EXTENSION
\echo Use "CREATE EXTENSION pitr_restore" to load this file. \quit

-- The schema belongs to the extension, so DROP EXTENSION removes it too.
CREATE SCHEMA pitr_restore;

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
	problem text,
	-- segments in the backup's own pg_wal that recovery can read, from
	-- its start to its stop (when the archive lacks them)
	wal_carried text[],
	-- the archive location (pgBackRest stanza, Barman server) whose
	-- repository lists this backup; NULL for pitr_restore.backup_dir
	repository text
);

REVOKE ALL ON pitr_restore.archive, pitr_restore.archive_file,
	pitr_restore.wal_event, pitr_restore.timeline_history,
	pitr_restore.backup_history, pitr_restore.segment_run,
	pitr_restore.base_backup FROM PUBLIC;
-- Readable by the reading role; written only by the extension's own code.
GRANT SELECT ON pitr_restore.archive,
	pitr_restore.archive_file, pitr_restore.wal_event,
	pitr_restore.timeline_history, pitr_restore.backup_history,
	pitr_restore.segment_run, pitr_restore.base_backup TO pg_read_server_files;
REVOKE ALL ON SEQUENCE pitr_restore.archive_archive_id_seq FROM PUBLIC;


-- Internal: the canonical real path of the archive a call speaks of (the
-- argument, else the session's pitr_restore.archive_dir).
CREATE FUNCTION pitr_restore.archive_path(archive_dir text DEFAULT NULL)
RETURNS text
AS 'MODULE_PATHNAME', 'pitr_archive_path'
LANGUAGE C STABLE PARALLEL SAFE;
REVOKE EXECUTE ON FUNCTION pitr_restore.archive_path(text) FROM PUBLIC;

/*
 * scan_archive: bring the index up to date with the archive directory.
 * Files whose name, size and mtime are unchanged are not read again
 * (except those that were unreadable).  Concurrent scans of one archive
 * wait for each other.
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
LANGUAGE C CALLED ON NULL INPUT VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pitr_restore, pg_temp;
REVOKE EXECUTE ON FUNCTION pitr_restore.scan_archive(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION pitr_restore.scan_archive(text) TO pg_read_server_files;

-- Internal: refresh the index unless the directory is as it was at the
-- last scan (adding, removing or renaming a file changes a directory's
-- mtime); while another session scans it, use the committed index.
CREATE FUNCTION pitr_restore.refresh_archive(archive_dir text DEFAULT NULL)
RETURNS integer
AS 'MODULE_PATHNAME', 'pitr_refresh_archive_sql'
LANGUAGE C CALLED ON NULL INPUT VOLATILE
SET search_path = pg_catalog, pitr_restore, pg_temp;
REVOKE EXECUTE ON FUNCTION pitr_restore.refresh_archive(text) FROM PUBLIC;

-- Internal: the archive's id, scanning it first if it was never indexed.
CREATE FUNCTION pitr_restore.indexed_archive(archive_dir text DEFAULT NULL)
RETURNS integer
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pitr_restore, pg_temp
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

-- Internal: where each timeline begins (its branch point; 0/0 for the first).
CREATE FUNCTION pitr_restore.timeline_begin(archive integer, tli integer)
RETURNS pg_lsn
LANGUAGE sql STABLE
SET search_path = pg_catalog, pitr_restore, pg_temp
AS $$
	SELECT coalesce((SELECT h.branch_lsn FROM pitr_restore.timeline_history h
					 WHERE h.archive_id = archive AND h.timeline = tli
					 ORDER BY h.position DESC LIMIT 1), '0/0'::pg_lsn)
$$;
REVOKE EXECUTE ON FUNCTION pitr_restore.timeline_begin(integer, integer) FROM PUBLIC;

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
LANGUAGE sql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pitr_restore, pg_temp
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
LANGUAGE sql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pitr_restore, pg_temp
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
 * backups: base backups under pitr_restore.backup_dir, those the archive's
 * own repository lists (pgBackRest, Barman: format 'pgbackrest'/'barman')
 * and those the archive's backup history files speak of, matched by start
 * LSN; location is NULL for a backup found only in a history file.
 * wal_carried names the segments of a backup's own pg_wal (-X fetch,
 * -X stream) that recovery reads when the archive lacks them.
 */
CREATE FUNCTION pitr_restore.backups(archive_dir text DEFAULT NULL)
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
	WITH a AS (SELECT * FROM pitr_restore.archive
			   WHERE archive_id = pitr_restore.indexed_archive(archive_dir)),
	h AS (SELECT b.* FROM a JOIN pitr_restore.backup_history b USING (archive_id)),
	d AS (SELECT b.* FROM pitr_restore.base_backup b, a
		   WHERE (b.repository IS NULL
				  AND (b.system_identifier IS NULL OR a.system_identifier IS NULL
					   OR b.system_identifier = a.system_identifier))
			  OR b.repository = a.directory)
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
REVOKE EXECUTE ON FUNCTION pitr_restore.backups(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION pitr_restore.backups(text) TO pg_read_server_files;

-- Internal: does the WAL a base backup carries in its own pg_wal bridge
-- the path from its start to segment upto (exclusive)?  Each segment on
-- the way is usable in the archive, or the archive has no file for it and
-- the backup carries it within its start..stop: what resolve_target
-- counts for that backup.  Only a stretch that ends within the backup's
-- own WAL can be bridged, which bounds the series.
CREATE FUNCTION pitr_restore.carried_bridge(arch integer, tlis integer[],
	begins pg_lsn[], loc text, upto bigint)
RETURNS boolean
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pitr_restore, pg_temp
AS $$
BEGIN
	RETURN coalesce((
		SELECT bool_and(
				 EXISTS (SELECT 1 FROM pitr_restore.archive_file f
						  WHERE f.archive_id = arch AND f.kind = 'segment'
							AND f.timeline = r.tli AND f.segno = s.s
							AND f.status = 'ok')
				 OR (pitr_restore.segment_file_name(r.tli, s.s, a.segment_size)
						 = ANY (bb.wal_carried)
					 AND NOT EXISTS (SELECT 1 FROM pitr_restore.archive_file f
									  WHERE f.archive_id = arch AND f.kind = 'segment'
										AND f.timeline = r.tli AND f.segno = s.s)))
		  FROM pitr_restore.base_backup bb
		  JOIN pitr_restore.archive a ON a.archive_id = arch
		  CROSS JOIN LATERAL generate_series(
				pitr_restore.lsn_segno(bb.start_lsn, a.segment_size), upto - 1) AS s(s)
		  JOIN pitr_restore.path_ranges(arch, tlis, begins) r
			ON r.lo <= s.s AND (r.hi IS NULL OR s.s < r.hi)
		 WHERE bb.location = loc AND bb.wal_carried IS NOT NULL
		   AND bb.stop_lsn > bb.start_lsn
		   AND upto - 1 <= pitr_restore.lsn_segno(bb.stop_lsn - 1, a.segment_size)),
		false);
END
$$;
REVOKE EXECUTE ON FUNCTION pitr_restore.carried_bridge(integer, integer[],
	pg_lsn[], text, bigint) FROM PUBLIC;
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
SET search_path = pg_catalog, pitr_restore, pg_temp
AS $$
BEGIN
	IF mark_name IS NULL OR mark_name = '' THEN
		RAISE EXCEPTION USING ERRCODE = 'invalid_parameter_value',
			MESSAGE = 'mark name must not be empty';
	END IF;
	-- a newline or tab in recovery_target_name breaks postgresql.auto.conf
	IF mark_name ~ '[[:cntrl:]]' THEN
		RAISE EXCEPTION USING ERRCODE = 'invalid_parameter_value',
			MESSAGE = 'mark name must not contain control characters',
			DETAIL = format('Character %s of the name is a newline, tab or other control character.',
							length(substring(mark_name from '^[^[:cntrl:]]*')) + 1),
			HINT = 'A restored server reads the name back from postgresql.auto.conf, one setting a line: use printable characters only.';
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
SET search_path = pg_catalog, pitr_restore, pg_temp
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
SET search_path = pg_catalog, pitr_restore, pg_temp
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
SET search_path = pg_catalog, pitr_restore, pg_temp
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
LANGUAGE sql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pitr_restore, pg_temp
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
	why text,					-- how the backup and timeline were chosen
	tool_command text			-- the backup tool's own restore command
);

-- The resolver's searches by commit time and by xid look only at segments
-- in which a transaction ends.
CREATE INDEX archive_file_xact_time ON pitr_restore.archive_file
	(archive_id, timeline, max_commit_time)
	WHERE kind = 'segment' AND commits + aborts > 0;
CREATE INDEX archive_file_xact_xid ON pitr_restore.archive_file
	(archive_id, timeline, max_xid)
	WHERE kind = 'segment' AND commits + aborts > 0;

-- Replays recovery's stop decision over the archive (src/resolve/walk.c),
-- for the report's SQL (40_report.sql); resolve_target walks in C.
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
LANGUAGE C CALLED ON NULL INPUT VOLATILE
SET search_path = pg_catalog, pitr_restore, pg_temp;
REVOKE EXECUTE ON FUNCTION pitr_restore.walk_to_stop FROM PUBLIC;

-- The segment number of an LSN.
CREATE FUNCTION pitr_restore.lsn_segno(lsn pg_lsn, segment_size integer)
RETURNS bigint
LANGUAGE sql IMMUTABLE
SET search_path = pg_catalog, pitr_restore, pg_temp
AS $$ SELECT floor((lsn - '0/0'::pg_lsn) / segment_size)::bigint $$;
REVOKE EXECUTE ON FUNCTION pitr_restore.lsn_segno FROM PUBLIC;

-- A timeline's path: its ancestors and itself, oldest first, each with the
-- LSN where it begins and where the next one branched off it.
CREATE FUNCTION pitr_restore.timeline_path(arch integer, tli integer,
	OUT tlis integer[], OUT begins pg_lsn[], OUT ends pg_lsn[])
LANGUAGE sql STABLE
SET search_path = pg_catalog, pitr_restore, pg_temp
AS $$
	SELECT coalesce(array_agg(h.parent ORDER BY h.position), '{}') || tli,
		   ARRAY['0/0'::pg_lsn] || coalesce(array_agg(h.branch_lsn ORDER BY h.position), '{}'),
		   coalesce(array_agg(h.branch_lsn ORDER BY h.position), '{}') || NULL::pg_lsn
	  FROM pitr_restore.timeline_history h
	 WHERE h.archive_id = arch AND h.timeline = tli
$$;
REVOKE EXECUTE ON FUNCTION pitr_restore.timeline_path FROM PUBLIC;

-- path_ranges, path_files and path_events have no SET clause, so that the
-- planner inlines them and a lookup of one segment is an index scan; every
-- name in them is schema-qualified.  Like every internal function they are
-- granted to nobody: only resolve_target (SECURITY DEFINER, search_path
-- pinned) calls them.

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

/*
 * The first segment missing (or unusable) that recovery would need between
 * two LSNs along a path, as "NAME (why)", or NULL when WAL is continuous.
 */
CREATE FUNCTION pitr_restore.path_gap(arch integer, tlis integer[],
	begins pg_lsn[], from_lsn pg_lsn, to_lsn pg_lsn)
RETURNS text
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pitr_restore, pg_temp
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

CREATE FUNCTION pitr_restore.segment_file_name(tli integer, segno bigint,
	segment_size integer)
RETURNS text
LANGUAGE sql IMMUTABLE
SET search_path = pg_catalog, pitr_restore, pg_temp
AS $$
	SELECT upper(lpad(to_hex(tli), 8, '0') ||
				 lpad(to_hex(segno / (4294967296 / segment_size)), 8, '0') ||
				 lpad(to_hex(segno % (4294967296 / segment_size)), 8, '0'))
$$;
REVOKE EXECUTE ON FUNCTION pitr_restore.segment_file_name FROM PUBLIC;

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
SET search_path = pg_catalog, pitr_restore, pg_temp
AS $$
DECLARE
	p record;
	f pitr_restore.archive_file;
	q text;
BEGIN
	FOR p IN
		SELECT * FROM pitr_restore.path_ranges(arch, tlis, begins) r
		 ORDER BY CASE WHEN forward THEN r.lo ELSE -r.lo END
	LOOP
		IF forward THEN
			CONTINUE WHEN p.hi IS NOT NULL AND p.hi <= s;
			IF t IS NULL THEN
				SELECT * INTO f FROM pitr_restore.archive_file af
				 WHERE af.archive_id = arch AND af.timeline = p.tli AND af.kind = 'segment'
				   AND af.segno >= greatest(s, p.lo) AND (p.hi IS NULL OR af.segno < p.hi)
				   AND af.status IN ('ok', 'corrupt') AND af.commits + af.aborts > 0
				 ORDER BY af.segno LIMIT 1;
			ELSE
				/*
				 * The nearest 1024 segments in order first (commit times
				 * are past t from some point on, usually soon); beyond
				 * them, the index by commit time finds the few segments
				 * that end transactions past t, whatever the archive's size.
				 */
				q := 'SELECT * FROM pitr_restore.archive_file af'
					' WHERE af.archive_id OPERATOR(pg_catalog.=) $1'
					' AND af.timeline OPERATOR(pg_catalog.=) $2'
					' AND af.kind OPERATOR(pg_catalog.=) ''segment'''
					' AND af.segno OPERATOR(pg_catalog.>=) $3'
					' AND ($4 IS NULL OR af.segno OPERATOR(pg_catalog.<) $4)'
					' AND af.status IN (''ok'', ''corrupt'')'
					' AND af.commits OPERATOR(pg_catalog.+) af.aborts OPERATOR(pg_catalog.>) 0'
					' AND af.max_commit_time '
					|| CASE WHEN incl THEN 'OPERATOR(pg_catalog.>)' ELSE 'OPERATOR(pg_catalog.>=)' END
					|| ' $5';
				EXECUTE q || ' AND af.segno OPERATOR(pg_catalog.<) $6 ORDER BY af.segno LIMIT 1'
				  INTO f USING arch, p.tli, greatest(s, p.lo), p.hi, t, greatest(s, p.lo) + 1024;
				IF f.file_name IS NULL THEN
					-- segno + 0: not in segment order, which would read them all
					EXECUTE q || ' ORDER BY af.segno OPERATOR(pg_catalog.+) 0 LIMIT 1'
					  INTO f USING arch, p.tli, greatest(s, p.lo) + 1024, p.hi, t;
				END IF;
			END IF;
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

/*
 * The archive's timelines, cheaply (whatever the number of segments): the
 * first timeline of its segments and every one with a history file, with
 * its parent, branch point and when it was created (its end-of-recovery
 * record, else its first commit past the branch point).
 */
CREATE FUNCTION pitr_restore.timeline_list(arch integer)
RETURNS TABLE (timeline integer, parent integer, branch_lsn pg_lsn, created timestamptz)
LANGUAGE sql STABLE
SET search_path = pg_catalog, pitr_restore, pg_temp
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

/*
 * resolve_target: exactly one target kind; ERROR on malformed arguments,
 * reachable = false with a reason when recovery cannot get there.  The
 * whole resolution is one C call (src/resolve/pipeline.c): target ->
 * candidate timelines -> backup choice -> walk -> settings.
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
AS 'MODULE_PATHNAME', 'pitr_resolve_target'
LANGUAGE C CALLED ON NULL INPUT VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pitr_restore, pg_temp;
REVOKE EXECUTE ON FUNCTION pitr_restore.resolve_target FROM PUBLIC;
GRANT EXECUTE ON FUNCTION pitr_restore.resolve_target TO pg_read_server_files;
/*
 * Restore building: a ready-to-start data directory for a target, built
 * from the base backup the resolver chose, verified against its manifest,
 * created whole or not at all.
 */

-- Internal functions: no grants, so only the extension's owner (from the
-- SECURITY DEFINER prepare_restore) runs them.

-- The target directory's checks, made before anything is resolved or read:
-- absolute, not existing, its parent existing, and by real path clear of the
-- running cluster (data directory, pg_wal, tablespaces), the archive and
-- the base backups.  Returns the real path the restore is built at.
CREATE FUNCTION pitr_restore.check_restore_target(target_dir text,
												  archive_dir text DEFAULT NULL)
RETURNS text
AS 'MODULE_PATHNAME', 'pitr_check_restore_target'
LANGUAGE C VOLATILE PARALLEL UNSAFE;
REVOKE ALL ON FUNCTION pitr_restore.check_restore_target(text, text) FROM PUBLIC;

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
REVOKE ALL ON FUNCTION pitr_restore.materialise_backup(text, text, text, text, text) FROM PUBLIC;

-- A word for a POSIX shell command line.
CREATE FUNCTION pitr_restore.shell_quote(s text)
RETURNS text
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
SET search_path = pg_catalog, pitr_restore, pg_temp
RETURN '''' OPERATOR(pg_catalog.||) pg_catalog.replace(s, '''', '''\''''')
	OPERATOR(pg_catalog.||) '''';
REVOKE ALL ON FUNCTION pitr_restore.shell_quote(text) FROM PUBLIC;

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
	tool_command text,
	files bigint,
	bytes bigint,
	start_command text
);

-- Resolve the target, then build target_dir from the chosen backup.
-- archive_mode => 'off' starts the restored cluster with archiving off, so
-- a test or forensic restore never writes into production's archive;
-- 'keep' (the default) leaves the backup's own setting.  Runs as the
-- extension's owner; the C functions check that the caller may both read
-- and write server files.
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
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pitr_restore, pg_temp
AS $$
DECLARE
	r pitr_restore.resolution;
	m record;
	dir text;
	conf text;
	marker text;
	result pitr_restore.prepared_restore;
BEGIN
	IF target_dir IS NULL THEN
		RAISE EXCEPTION 'target_dir must not be NULL'
			USING ERRCODE = 'null_value_not_allowed';
	END IF;
	-- a bad target directory is an ERROR before the archive is read; this
	-- also checks that the caller may read and write server files
	dir := pitr_restore.check_restore_target(target_dir, archive_dir);
	IF archive_mode IS NULL OR archive_mode NOT IN ('keep', 'off') THEN
		RAISE EXCEPTION 'invalid archive_mode "%"', archive_mode
			USING ERRCODE = 'invalid_parameter_value',
				  HINT = 'Use ''off'' to start the restore with archiving off, or ''keep'' for the backup''s own setting.';
	END IF;

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

	conf := r.recovery_conf;
	IF archive_mode = 'off' THEN
		conf := conf || E'\n# a copy: it never archives into the source''s archive\narchive_mode = off\n';
	END IF;

	-- names this restore for the cleanup worker; C adds a time and a token
	marker := translate(format('pitr_restore: backup %s (%s), stop %s %s on timeline %s',
							   r.backup_label, r.backup_location,
							   CASE WHEN r.stop_before THEN 'before' ELSE 'after' END,
							   r.stop_lsn, r.timeline), E'\r\n', '  ');
	m := pitr_restore.materialise_backup(r.backup_location, r.backup_format,
										 dir, conf, marker);

	-- the resolver's columns by name (its type may grow), then what was
	-- built; the start command uses the port next to this server's, so
	-- both can run on one host
	result.reachable := r.reachable;
	result.reason := r.reason;
	result.timeline := r.timeline;
	result.timeline_path := r.timeline_path;
	result.backup_label := r.backup_label;
	result.backup_location := r.backup_location;
	result.backup_format := r.backup_format;
	result.backup_stop_lsn := r.backup_stop_lsn;
	result.stop_lsn := r.stop_lsn;
	result.stop_before := r.stop_before;
	result.end_lsn := r.end_lsn;
	result.last_xid := r.last_xid;
	result.last_commit_time := r.last_commit_time;
	result.next_xid := r.next_xid;
	result.next_commit_time := r.next_commit_time;
	result.wal_first := r.wal_first;
	result.wal_last := r.wal_last;
	result.wal_segments := r.wal_segments;
	result.wal_bytes := r.wal_bytes;
	result.recovery_conf := conf;
	result.warnings := r.warnings;
	result.why := r.why;
	result.tool_command := r.tool_command;
	result.files := m.files;
	result.bytes := m.bytes;
	result.start_command :=
		format('pg_ctl -D %s -l %s -o %s start',
			   shell_quote(dir), shell_quote(dir || '.log'),
			   shell_quote('-p ' || (current_setting('port')::integer + 1)));
	RETURN result;
END
$$;
REVOKE ALL ON FUNCTION pitr_restore.prepare_restore FROM PUBLIC;
GRANT EXECUTE ON FUNCTION pitr_restore.prepare_restore TO pg_write_server_files;
/*
 * What can be restored, at a glance: the continuous restorable stretches of
 * each timeline (recovery_windows), the problems a monitoring job pages on
 * (check_archive), and a picture of the timelines as text (timeline_chart)
 * or SVG (timeline_svg).  Windows are computed with the resolver's own
 * path functions, so they agree with resolve_target by construction; the
 * pictures are drawn from one list of items (chart_items).
 */

/*
 * The archive's base backups as the windows name them: by label, or by
 * directory name when several share a label (pg_basebackup's default one);
 * resolve_target's backup_label accepts either.  Internal: no grants.
 */
CREATE FUNCTION pitr_restore.named_backups(archive_dir text)
RETURNS TABLE (ident text, label text, location text, timeline integer,
			   start_lsn pg_lsn, stop_lsn pg_lsn, stop_time timestamptz,
			   problem text)
LANGUAGE sql VOLATILE
SET search_path = pg_catalog, pitr_restore, pg_temp
AS $$
	SELECT CASE WHEN b.label IS NOT NULL AND count(*) OVER (PARTITION BY b.label) = 1
				THEN b.label ELSE regexp_replace(b.location, '^.*/', '') END,
		   b.label, b.location, b.timeline, b.start_lsn, b.stop_lsn,
		   b.stop_time, b.problem
	  FROM pitr_restore.backups(archive_dir) b
	 WHERE b.location IS NOT NULL
$$;
REVOKE ALL ON FUNCTION pitr_restore.named_backups(text) FROM PUBLIC;

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
CREATE FUNCTION pitr_restore.recovery_windows(archive_dir text DEFAULT NULL)
RETURNS TABLE (timeline integer, from_lsn pg_lsn, from_time timestamptz,
			   to_lsn pg_lsn, to_time timestamptz, backups text[],
			   ended_by text)
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pitr_restore, pg_temp
AS $$
#variable_conflict use_column
DECLARE
	arch integer;
	dir text;
	sz integer;
	tl record;
	p record;
	n integer;
	own_lo bigint;
	tl_hi bigint;
	run record;
	b0 record;
	f pitr_restore.archive_file;
	w record;
	nxt_tli integer;
	nxt_status text;
	child integer;
	child_lsn pg_lsn;
	last_xact pg_lsn;
	labels text[];
	t_from timestamptz;
	t_to timestamptz;
	l_from pg_lsn;
BEGIN
	arch := pitr_restore.refresh_archive(archive_dir);
	SELECT a.directory, a.segment_size INTO dir, sz
	  FROM pitr_restore.archive a WHERE a.archive_id = arch;
	IF sz IS NULL THEN
		RETURN;					-- no readable WAL: nothing is restorable
	END IF;

	FOR tl IN SELECT t.* FROM pitr_restore.timeline_list(arch) t ORDER BY t.timeline
	LOOP
		SELECT * INTO p FROM pitr_restore.timeline_path(arch, tl.timeline);
		n := array_length(p.tlis, 1);
		own_lo := pitr_restore.lsn_segno(p.begins[n], sz);
		-- the last segment holding the timeline's own WAL, whatever its state
		SELECT max(af.segno) INTO tl_hi FROM pitr_restore.archive_file af
		 WHERE af.archive_id = arch AND af.timeline = tl.timeline
		   AND af.kind = 'segment' AND af.segno >= own_lo;
		CONTINUE WHEN tl_hi IS NULL;

		-- Runs of usable segments along the timeline's path (for each
		-- segment number the file recovery reads), reaching its own WAL.
		FOR run IN
			WITH f AS (
				SELECT pf.segno, max(pf.next_lsn) AS next_lsn,
					   max(pf.max_commit_time) AS max_commit_time
				  FROM pitr_restore.path_files(arch, p.tlis, p.begins) pf
				 WHERE pf.status = 'ok'
				 GROUP BY pf.segno),
			g AS (SELECT f.*, f.segno - row_number() OVER (ORDER BY f.segno) AS grp FROM f)
			SELECT min(g.segno) AS lo, max(g.segno) AS hi, max(g.next_lsn) AS end_lsn
			  FROM g GROUP BY g.grp
			HAVING max(g.segno) >= own_lo AND min(g.segno) <= tl_hi
			 ORDER BY 1
		LOOP
			-- Base backups on the path whose WAL from start to consistency
			-- lies within the run.
			labels := ARRAY(
				SELECT bk.ident FROM pitr_restore.named_backups(dir) bk
				 WHERE bk.problem IS NULL
				   AND bk.stop_lsn IS NOT NULL AND bk.stop_lsn <= run.end_lsn
				   AND bk.timeline = ANY (p.tlis)
				   AND bk.start_lsn >= p.begins[array_position(p.tlis, bk.timeline)]
				   AND (p.ends[array_position(p.tlis, bk.timeline)] IS NULL
						OR bk.start_lsn < p.ends[array_position(p.tlis, bk.timeline)])
				   AND (pitr_restore.lsn_segno(bk.start_lsn, sz) >= run.lo
						-- or its own pg_wal bridges the hole before the run
						OR pitr_restore.carried_bridge(arch, p.tlis, p.begins,
													   bk.location, run.lo))
				 ORDER BY bk.stop_lsn, bk.ident);
			CONTINUE WHEN cardinality(labels) = 0;
			SELECT bk.* INTO b0 FROM pitr_restore.named_backups(dir) bk
			 WHERE bk.ident = labels[1];

			l_from := greatest(b0.stop_lsn, p.begins[n]);
			CONTINUE WHEN l_from >= run.end_lsn;

			-- from_time: the latest commit recovery must replay to get
			-- there (a time target earlier than that stops too soon, or
			-- the backup's data is already newer); resolve_target decides
			-- the same from the same index rows.
			SELECT max(pf.max_commit_time) INTO t_from
			  FROM pitr_restore.path_files(arch, p.tlis, p.begins) pf
			 WHERE pf.segno < pitr_restore.lsn_segno(l_from, sz);
			SELECT pf.* INTO f FROM pitr_restore.path_files(arch, p.tlis, p.begins) pf
			 WHERE pf.segno = pitr_restore.lsn_segno(l_from, sz)
			 ORDER BY pf.status = 'ok' DESC LIMIT 1;
			IF f.first_lsn IS NOT NULL AND f.first_lsn < l_from THEN
				w := pitr_restore.walk_to_stop(arch, p.tlis, p.begins, f.first_lsn,
											   'none', limit_lsn => l_from);
				t_from := greatest(t_from, w.last_time);
			END IF;
			t_from := coalesce(t_from, b0.stop_time);
			-- WAL from the backup's own pg_wal is not indexed: resolve_target
			-- takes a time target only a second past its stop time
			IF pitr_restore.lsn_segno(b0.start_lsn, sz) < run.lo THEN
				t_from := greatest(t_from, b0.stop_time + interval '1 second');
			END IF;

			-- to_time: the last commit of the stretch (a time target stops
			-- at the first commit past it, so one must follow).
			SELECT max(pf.max_commit_time) INTO t_to
			  FROM pitr_restore.path_files(arch, p.tlis, p.begins) pf
			 WHERE pf.status = 'ok' AND pf.segno BETWEEN greatest(run.lo, own_lo) AND run.hi
			   AND pf.segno >= pitr_restore.lsn_segno(l_from, sz);

			timeline := tl.timeline;
			from_lsn := l_from;
			from_time := t_from;
			to_lsn := run.end_lsn;
			to_time := greatest(t_to, t_from);
			backups := labels;
			IF run.hi < tl_hi THEN
				-- a hole: name the segment recovery would miss
				SELECT pr.tli INTO nxt_tli
				  FROM pitr_restore.path_ranges(arch, p.tlis, p.begins) pr
				 WHERE pr.lo <= run.hi + 1 AND (pr.hi IS NULL OR pr.hi > run.hi + 1)
				 ORDER BY pr.lo DESC LIMIT 1;
				SELECT af.status INTO nxt_status FROM pitr_restore.archive_file af
				 WHERE af.archive_id = arch AND af.kind = 'segment'
				   AND af.timeline = nxt_tli AND af.segno = run.hi + 1
				 ORDER BY af.status = 'ok' DESC LIMIT 1;
				ended_by := CASE WHEN nxt_status IS NULL THEN 'missing segment '
								 ELSE 'corrupt segment ' END ||
					pitr_restore.segment_file_name(nxt_tli, run.hi + 1, sz);
			ELSE
				-- Abandoned for a child that branched off after this
				-- timeline's last transaction (what follows is at most a
				-- shutdown checkpoint); else it simply ends here.
				SELECT pf.* INTO f FROM pitr_restore.path_files(arch, p.tlis, p.begins) pf
				 WHERE pf.status = 'ok' AND pf.segno BETWEEN greatest(run.lo, own_lo) AND run.hi
				   AND pf.commits + pf.aborts > 0
				 ORDER BY pf.segno DESC LIMIT 1;
				last_xact := NULL;
				IF f.file_name IS NOT NULL THEN
					w := pitr_restore.walk_to_stop(arch, p.tlis, p.begins, f.first_lsn,
												   'none', limit_lsn => f.next_lsn);
					last_xact := w.last_lsn;
				END IF;
				SELECT c.timeline, c.branch_lsn INTO child, child_lsn
				  FROM pitr_restore.timeline_list(arch) c
				 WHERE c.parent = tl.timeline AND c.branch_lsn <= run.end_lsn
				   AND c.branch_lsn > coalesce(last_xact, from_lsn)
				 ORDER BY c.branch_lsn, c.timeline LIMIT 1;
				IF child IS NULL THEN
					ended_by := 'end of archive';
				ELSE
					ended_by := format('branch to timeline %s', child);
					to_lsn := greatest(child_lsn, from_lsn);
				END IF;
			END IF;
			RETURN NEXT;
		END LOOP;
	END LOOP;
END
$$;
REVOKE ALL ON FUNCTION pitr_restore.recovery_windows(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION pitr_restore.recovery_windows(text) TO pg_read_server_files;

/*
 * check_archive: what a monitoring job should page on, one row each; no
 * row means healthy.  Critical: recovery to some recent time would fail
 * (a hole in the live timeline's history, no usable backup, archiving
 * stalled, a backup that cannot be made consistent).  Warning: degraded
 * (old backups, bad files, ambiguous restore-point names, holes on an
 * abandoned branch).
 */
CREATE FUNCTION pitr_restore.check_archive(archive_dir text DEFAULT NULL,
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
					   coalesce(pitr_restore.path_gap(arch, tp.tlis, tp.begins, r.start_lsn, r.stop_lsn),
								format('the archive does not hold its WAL from %s to %s', r.start_lsn, r.stop_lsn)))
			  FROM pitr_restore.timeline_path(arch, r.timeline) tp;
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
REVOKE ALL ON FUNCTION pitr_restore.check_archive(text, interval, interval) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION pitr_restore.check_archive(text, interval, interval) TO pg_read_server_files;

/*
 * What the pictures show, one row per item, for both renderers: a lane per
 * timeline with its WAL, its windows and the holes between them, base
 * backups (at their consistency point), restore points and marks, and
 * branches (a lane starting off its parent).  Internal: no grants.
 */
CREATE TYPE pitr_restore.chart_item AS (lane integer, kind text,
	t0 timestamptz, t1 timestamptz, parent integer, label text);

CREATE FUNCTION pitr_restore.chart_items(archive_dir text)
RETURNS SETOF pitr_restore.chart_item
LANGUAGE sql VOLATILE
SET search_path = pg_catalog, pitr_restore, pg_temp
AS $$
	SELECT pitr_restore.refresh_archive(archive_dir);
	WITH a AS (SELECT pitr_restore.refresh_archive(archive_dir) AS arch),
	w AS (SELECT w.*, lead(w.from_time) OVER (PARTITION BY w.timeline ORDER BY w.from_lsn) AS next_from
			FROM pitr_restore.recovery_windows(archive_dir) w),
	-- A lane begins where its timeline branched off, in the time of the
	-- data: the parent's state at the branch point (a time target between
	-- then and the new timeline's first commit restores that state on it).
	tl AS (SELECT t.*, coalesce((SELECT min(w.from_time) FROM w
								  WHERE w.timeline = t.timeline AND w.from_lsn = t.branch_lsn),
								 l.created) AS began
			 FROM pitr_restore.timelines(archive_dir) t
			 JOIN a ON true
			 LEFT JOIN pitr_restore.timeline_list(a.arch) l USING (timeline))
	SELECT tl.timeline, 'wal', coalesce(tl.began, tl.first_commit_time),
		   tl.last_commit_time, tl.parent, NULL
	  FROM tl WHERE coalesce(tl.began, tl.first_commit_time) IS NOT NULL
	UNION ALL
	SELECT tl.timeline, 'branch', tl.began, NULL, tl.parent,
		   format('timeline %s branches off timeline %s at %s', tl.timeline, tl.parent, tl.branch_lsn)
	  FROM tl WHERE tl.parent IS NOT NULL AND tl.began IS NOT NULL
	UNION ALL
	SELECT w.timeline, 'window', w.from_time, w.to_time, NULL,
		   format('%s to %s from %s', w.from_time, w.to_time, array_to_string(w.backups, ', '))
	  FROM w
	UNION ALL
	SELECT w.timeline, 'gap', w.to_time, w.next_from, NULL, w.ended_by
	  FROM w WHERE w.ended_by LIKE '% segment %'
	UNION ALL
	SELECT b.timeline, 'backup', b.stop_time, NULL, NULL, b.ident
	  FROM pitr_restore.named_backups(archive_dir) b
	 WHERE b.stop_time IS NOT NULL
	UNION ALL
	SELECT rp.timeline, CASE WHEN rp.kind = 'restore_point' THEN 'restore_point' ELSE 'mark' END,
		   rp.created, NULL, NULL, rp.name
	  FROM pitr_restore.restore_points(archive_dir) rp
	 WHERE rp.created IS NOT NULL
$$;
REVOKE ALL ON FUNCTION pitr_restore.chart_items(text) FROM PUBLIC;

/*
 * timeline_chart: the timelines as text lanes along time, for psql.  Each
 * lane is a timeline; a heavy line marks its restorable windows, a dotted
 * one WAL that no usable backup reaches, a cross the hole that ends a
 * window; B, R and M are backups (where they become consistent), restore
 * points and marks; a lane that branched off another starts with a hook
 * under the parent's branch point.  ascii => true draws with plain ASCII.
 */
CREATE FUNCTION pitr_restore.timeline_chart(archive_dir text DEFAULT NULL,
	width integer DEFAULT 100, ascii boolean DEFAULT false)
RETURNS SETOF text
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pitr_restore, pg_temp
AS $$
DECLARE
	-- glyphs: window, WAL only, hole, branch (child), branch (parent),
	-- axis, tick, lane edge
	g text[] := CASE WHEN ascii THEN ARRAY['=', '.', 'x', '\', '+', '-', '+', '|']
					 ELSE ARRAY['━', '┄', '✕', '╰', '┬', '─', '┴', '│'] END;
	dir text := pitr_restore.archive_path(archive_dir);
	cols integer;
	lanes integer[];
	ln integer;
	tmin timestamptz;
	tmax timestamptz;
	span double precision;
	line text[];
	it record;
	c0 integer;
	c1 integer;
	fmt text;
	axis text[];
	labels text;
	pos integer;
	lbl text;
	w record;
	items pitr_restore.chart_item[];
BEGIN
	IF width IS NULL OR width < 40 OR width > 1000 THEN
		RAISE EXCEPTION USING ERRCODE = 'invalid_parameter_value',
			MESSAGE = format('invalid width %s', coalesce(width::text, 'NULL')),
			HINT = 'Give a width between 40 and 1000 characters.';
	END IF;
	IF ascii IS NULL THEN
		RAISE EXCEPTION USING ERRCODE = 'invalid_parameter_value',
			MESSAGE = 'ascii must not be null';
	END IF;
	items := ARRAY(SELECT i FROM pitr_restore.chart_items(dir) i);

	SELECT min(least(i.t0, i.t1)), max(greatest(i.t0, i.t1)) INTO tmin, tmax
	  FROM unnest(items) i;
	RETURN NEXT format('timelines of %s', dir);
	IF tmin IS NULL THEN
		RETURN NEXT '(no WAL with a known time in the archive)';
		RETURN;
	END IF;
	span := greatest(extract(epoch FROM tmax - tmin), 1);
	fmt := CASE WHEN tmax - tmin < interval '20 hours' AND tmin::date = tmax::date
				THEN 'HH24:MI:SS' ELSE 'YYYY-MM-DD HH24:MI' END;
	cols := width - 8;				-- "TL 123 │" before each lane
	lanes := ARRAY(SELECT DISTINCT i.lane FROM unnest(items) i
					WHERE i.lane IS NOT NULL ORDER BY 1);

	FOREACH ln IN ARRAY lanes LOOP
		line := array_fill(' '::text, ARRAY[cols]);
		-- Ranges first, then points over them, so markers stay visible;
		-- a hole last, as it matters most.
		FOR it IN
			SELECT i.*, 1 + round((cols - 1) * extract(epoch FROM i.t0 - tmin) / span)::integer AS c0,
				   1 + round((cols - 1) * extract(epoch FROM coalesce(i.t1, i.t0) - tmin) / span)::integer AS c1
			  FROM unnest(items) i
			 WHERE i.t0 IS NOT NULL
			   AND (i.lane = ln OR (i.kind = 'branch' AND i.parent = ln))
			 ORDER BY array_position(ARRAY['wal', 'window', 'branch', 'backup',
										   'restore_point', 'mark', 'gap'], i.kind), i.t0
		LOOP
			c0 := it.c0;
			c1 := greatest(it.c1, it.c0);
			IF it.kind IN ('wal', 'window') THEN
				FOR pos IN c0 .. c1 LOOP
					line[pos] := g[CASE WHEN it.kind = 'window' THEN 1 ELSE 2 END];
				END LOOP;
			ELSIF it.kind = 'gap' THEN
				-- the hole sits just after the window it ends
				line[least(c0 + 1, cols)] := g[3];
			ELSIF it.kind = 'branch' THEN
				line[c0] := CASE WHEN it.lane = ln THEN g[4] ELSE g[5] END;
			ELSE
				line[c0] := CASE it.kind WHEN 'backup' THEN 'B'
										 WHEN 'restore_point' THEN 'R' ELSE 'M' END;
			END IF;
		END LOOP;
		RETURN NEXT rpad('TL ' || ln, greatest(7, length('TL ' || ln))) || g[8] || array_to_string(line, '');
	END LOOP;

	-- The time axis: ticks at the ends and three between, labelled.
	axis := array_fill(g[6], ARRAY[cols]);
	labels := repeat(' ', cols + 8);
	FOR pos IN 0 .. 4 LOOP
		c0 := 1 + round((cols - 1) * pos / 4.0)::integer;
		axis[c0] := g[7];
		lbl := to_char(tmin + (tmax - tmin) * pos / 4.0, fmt);
		c1 := greatest(1, least(8 + c0 - length(lbl) / 2, cols + 8 - length(lbl) + 1));
		IF pos = 0 THEN
			c1 := 9;
		END IF;
		labels := overlay(labels PLACING lbl FROM c1 FOR length(lbl));
	END LOOP;
	RETURN NEXT repeat(' ', 7) || g[8] || array_to_string(axis, '');
	RETURN NEXT rtrim(labels);
	RETURN NEXT format('from %s to %s', tmin, tmax);
	RETURN NEXT '';
	RETURN NEXT format('legend: %s restorable window   %s WAL no usable backup reaches   %s missing or corrupt segment',
					   g[1] || g[1], g[2] || g[2], g[3]);
	RETURN NEXT format('        B base backup (consistent)   R restore point   M mark   %s branch: new timeline off %s', g[4], g[5]);
	RETURN NEXT '';
	FOR w IN SELECT rw.* FROM pitr_restore.recovery_windows(dir) rw ORDER BY rw.timeline, rw.from_lsn LOOP
		RETURN NEXT format('TL %s  %s %s %s  (%s to %s)  backups: %s  ended by %s',
						   w.timeline, to_char(w.from_time, fmt), CASE WHEN ascii THEN '->' ELSE '→' END,
						   to_char(w.to_time, fmt), w.from_lsn, w.to_lsn,
						   array_to_string(w.backups, ', '), w.ended_by);
	END LOOP;
END
$$;
REVOKE ALL ON FUNCTION pitr_restore.timeline_chart(text, integer, boolean) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION pitr_restore.timeline_chart(text, integer, boolean) TO pg_read_server_files;

-- Text for an XML document (element content or an attribute value).
CREATE FUNCTION pitr_restore.xml_text(v text)
RETURNS text
LANGUAGE sql IMMUTABLE
SET search_path = pg_catalog, pitr_restore, pg_temp
AS $$
	SELECT replace(replace(replace(replace(replace(coalesce(v, ''),
		'&', '&amp;'), '<', '&lt;'), '>', '&gt;'), '"', '&quot;'), '''', '&#39;')
$$;
REVOKE ALL ON FUNCTION pitr_restore.xml_text(text) FROM PUBLIC;

/*
 * timeline_svg: the picture of timeline_chart as a standalone SVG document
 * (width characters become width * 10 pixels).  Every shape has a <title>
 * saying what it is, for a browser's tooltip.
 */
CREATE FUNCTION pitr_restore.timeline_svg(archive_dir text DEFAULT NULL,
	width integer DEFAULT 100, ascii boolean DEFAULT false)
RETURNS text
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pitr_restore, pg_temp
AS $$
DECLARE
	dir text := pitr_restore.archive_path(archive_dir);
	items pitr_restore.chart_item[];
	lanes integer[];
	px integer;
	left_m integer := 80;
	right_m integer := 40;
	top_m integer := 70;
	lane_h integer := 64;
	height integer;
	axis_y integer;
	tmin timestamptz;
	tmax timestamptz;
	span double precision;
	fmt text;
	out text[] := '{}';
	it record;
	x0 numeric;
	x1 numeric;
	y numeric;
	yp numeric;
	k integer := 0;
	pos integer;
	arrow text := CASE WHEN ascii THEN '->' ELSE '→' END;
BEGIN
	IF width IS NULL OR width < 40 OR width > 1000 THEN
		RAISE EXCEPTION USING ERRCODE = 'invalid_parameter_value',
			MESSAGE = format('invalid width %s', coalesce(width::text, 'NULL')),
			HINT = 'Give a width between 40 and 1000 characters.';
	END IF;
	items := ARRAY(SELECT i FROM pitr_restore.chart_items(dir) i);
	lanes := ARRAY(SELECT DISTINCT i.lane FROM unnest(items) i
					WHERE i.lane IS NOT NULL ORDER BY 1);
	SELECT min(least(i.t0, i.t1)), max(greatest(i.t0, i.t1)) INTO tmin, tmax
	  FROM unnest(items) i;
	tmin := coalesce(tmin, now());
	tmax := coalesce(tmax, tmin);
	span := greatest(extract(epoch FROM tmax - tmin), 1);
	fmt := CASE WHEN tmax - tmin < interval '20 hours' AND tmin::date = tmax::date
				THEN 'HH24:MI:SS' ELSE 'YYYY-MM-DD HH24:MI' END;
	px := width * 10;
	axis_y := top_m + greatest(cardinality(lanes), 1) * lane_h;
	height := axis_y + 110;

	out := out || format('<?xml version="1.0" encoding="UTF-8"?>
<svg xmlns="http://www.w3.org/2000/svg" width="%s" height="%s" viewBox="0 0 %s %s" font-family="DejaVu Sans, Helvetica, Arial, sans-serif" font-size="11">
<rect x="0" y="0" width="%s" height="%s" fill="#ffffff"/>
<text x="%s" y="24" font-size="15" font-weight="bold" fill="#1b1f24">Timelines of %s</text>
<text x="%s" y="42" fill="#57606a">%s %s %s (UTC offset %s)</text>',
		px, height, px, height, px, height, left_m, pitr_restore.xml_text(dir),
		left_m, pitr_restore.xml_text(tmin::text), arrow, pitr_restore.xml_text(tmax::text),
		to_char(tmin, 'OF'));

	-- Lanes, with their names.
	FOR pos IN 1 .. coalesce(cardinality(lanes), 0) LOOP
		y := top_m + (pos - 0.5) * lane_h;
		out := out || format('<text x="12" y="%s" font-weight="bold" fill="#1b1f24">TL %s</text>
<line x1="%s" y1="%s" x2="%s" y2="%s" stroke="#eaeef2" stroke-width="1"/>',
			y + 4, lanes[pos], left_m, y, px - right_m, y);
	END LOOP;

	-- Ranges first, then points over them.
	FOR it IN
		SELECT i.*, array_position(lanes, i.lane) AS li, array_position(lanes, i.parent) AS pi,
			   left_m + (px - left_m - right_m) * extract(epoch FROM i.t0 - tmin)::numeric / span::numeric AS x0,
			   left_m + (px - left_m - right_m) * extract(epoch FROM coalesce(i.t1, i.t0) - tmin)::numeric / span::numeric AS x1
		  FROM unnest(items) i
		 WHERE i.t0 IS NOT NULL AND i.lane IS NOT NULL
		 ORDER BY coalesce(array_position(ARRAY['wal', 'window', 'gap', 'branch'], i.kind), 5), i.t0
	LOOP
		x0 := round(it.x0, 1);
		x1 := round(greatest(it.x1, it.x0), 1);
		y := top_m + (it.li - 0.5) * lane_h;
		IF it.kind = 'wal' THEN
			out := out || format('<line x1="%s" y1="%s" x2="%s" y2="%s" stroke="#8c959f" stroke-width="2" stroke-dasharray="4 3"><title>WAL of timeline %s</title></line>',
				x0, y, greatest(x1, x0 + 1), y, it.lane);
		ELSIF it.kind = 'window' THEN
			out := out || format('<rect x="%s" y="%s" width="%s" height="12" rx="3" fill="#2da44e"><title>restorable: %s</title></rect>',
				x0, y - 6, greatest(x1 - x0, 2), pitr_restore.xml_text(it.label));
		ELSIF it.kind = 'gap' THEN
			x0 := x0 + 6;
			out := out || format('<g stroke="#cf222e" stroke-width="3"><title>%s</title><line x1="%s" y1="%s" x2="%s" y2="%s"/><line x1="%s" y1="%s" x2="%s" y2="%s"/></g>
<text x="%s" y="%s" fill="#cf222e" font-size="10">%s</text>',
				pitr_restore.xml_text(it.label), x0 - 6, y - 6, x0 + 6, y + 6, x0 - 6, y + 6, x0 + 6, y - 6,
				x0 + 8, y + 22, pitr_restore.xml_text(it.label));
		ELSIF it.kind = 'branch' AND it.pi IS NOT NULL THEN
			yp := top_m + (it.pi - 0.5) * lane_h;
			out := out || format('<path d="M %s %s C %s %s, %s %s, %s %s" fill="none" stroke="#57606a" stroke-width="2"><title>%s</title></path><circle cx="%s" cy="%s" r="3.5" fill="#57606a"/>',
				x0, yp, x0, y, x0, y, x0 + 14, y, pitr_restore.xml_text(it.label), x0, yp);
		ELSIF it.kind IN ('backup', 'restore_point', 'mark') THEN
			k := k + 1;
			out := out || CASE it.kind
				WHEN 'backup' THEN format('<circle cx="%s" cy="%s" r="6.5" fill="#0969da" stroke="#ffffff" stroke-width="1.5"><title>base backup %s (consistent at %s)</title></circle>',
					x0, y, pitr_restore.xml_text(it.label), it.t0)
				WHEN 'restore_point' THEN format('<polygon points="%s,%s %s,%s %s,%s %s,%s" fill="#bc4c00" stroke="#ffffff" stroke-width="1"><title>restore point %s (%s)</title></polygon>',
					x0, y - 7, x0 + 7, y, x0, y + 7, x0 - 7, y, pitr_restore.xml_text(it.label), it.t0)
				ELSE format('<polygon points="%s,%s %s,%s %s,%s" fill="#8250df" stroke="#ffffff" stroke-width="1"><title>mark %s (%s)</title></polygon>',
					x0, y - 7, x0 + 7, y + 6, x0 - 7, y + 6, pitr_restore.xml_text(it.label), it.t0)
				END
				-- labels alternate between two heights so neighbours do not collide
				|| format('<text x="%s" y="%s" text-anchor="middle" font-size="10" fill="#1b1f24">%s</text>',
					x0, CASE WHEN k % 2 = 1 THEN y - 12 ELSE y - 24 END, pitr_restore.xml_text(it.label));
		END IF;
	END LOOP;

	-- The time axis.
	out := out || format('<line x1="%s" y1="%s" x2="%s" y2="%s" stroke="#57606a" stroke-width="1"/>',
		left_m, axis_y, px - right_m, axis_y);
	FOR pos IN 0 .. 4 LOOP
		x0 := round(left_m + (px - left_m - right_m) * pos / 4.0, 1);
		out := out || format('<line x1="%s" y1="%s" x2="%s" y2="%s" stroke="#57606a"/><text x="%s" y="%s" text-anchor="%s" fill="#57606a">%s</text>',
			x0, axis_y, x0, axis_y + 5, x0, axis_y + 18,
			CASE pos WHEN 0 THEN 'start' WHEN 4 THEN 'end' ELSE 'middle' END,
			to_char(tmin + (tmax - tmin) * pos / 4.0, fmt));
	END LOOP;

	-- The legend, two rows of symbols with their meaning.
	y := axis_y + 50;
	out := out || format('<rect x="%s" y="%s" width="24" height="10" rx="3" fill="#2da44e"/><text x="%s" y="%s">restorable window</text>
<line x1="%s" y1="%s" x2="%s" y2="%s" stroke="#8c959f" stroke-width="2" stroke-dasharray="4 3"/><text x="%s" y="%s">WAL no usable backup reaches</text>
<g stroke="#cf222e" stroke-width="3"><line x1="%s" y1="%s" x2="%s" y2="%s"/><line x1="%s" y1="%s" x2="%s" y2="%s"/></g><text x="%s" y="%s">missing or corrupt segment</text>',
		left_m, y - 5, left_m + 32, y + 4,
		left_m + 200, y, left_m + 224, y, left_m + 232, y + 4,
		left_m + 440, y - 6, left_m + 452, y + 6, left_m + 440, y + 6, left_m + 452, y - 6, left_m + 462, y + 4);
	y := y + 24;
	out := out || format('<circle cx="%s" cy="%s" r="6" fill="#0969da"/><text x="%s" y="%s">base backup (consistent)</text>
<polygon points="%s,%s %s,%s %s,%s %s,%s" fill="#bc4c00"/><text x="%s" y="%s">restore point</text>
<polygon points="%s,%s %s,%s %s,%s" fill="#8250df"/><text x="%s" y="%s">mark</text>
<path d="M %s %s C %s %s, %s %s, %s %s" fill="none" stroke="#57606a" stroke-width="2"/><text x="%s" y="%s">branch: a new timeline</text>',
		left_m + 12, y, left_m + 32, y + 4,
		left_m + 212, y - 7, left_m + 219, y, left_m + 212, y + 7, left_m + 205, y, left_m + 232, y + 4,
		left_m + 446, y - 7, left_m + 453, y + 6, left_m + 439, y + 6, left_m + 462, y + 4,
		left_m + 560, y - 10, left_m + 560, y + 4, left_m + 560, y + 4, left_m + 574, y + 4, left_m + 582, y + 4);
	out := out || '</svg>'::text;
	RETURN array_to_string(out, E'\n') || E'\n';
END
$$;
REVOKE ALL ON FUNCTION pitr_restore.timeline_svg(text, integer, boolean) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION pitr_restore.timeline_svg(text, integer, boolean) TO pg_read_server_files;

-- Post-restore cleanup (issue 5): an ordered registry of hooks, run by hand
-- or by the background worker once per restore, and the audit of each run.
-- Only superusers add hooks (a hook names the role it runs as); a table
-- action runs as the table's owner and a sql hook as its run_as role, never
-- as whoever runs the hooks.  Only the extension's own code writes the
-- audit: nobody is granted INSERT, UPDATE or DELETE on these tables.

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
-- explicit, as in an updated 1.0 whose grant on it was revoked
REVOKE ALL ON SEQUENCE pitr_restore.cleanup_runs_run_id_seq FROM PUBLIC;

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
SET search_path = pg_catalog, pitr_restore, pg_temp
AS 'MODULE_PATHNAME', 'pitr_cleanup_restore_key';
REVOKE EXECUTE ON FUNCTION pitr_restore.cleanup_restore_key() FROM PUBLIC;

-- A restore that happened before the extension existed is not this
-- extension's to clean up: record it as seen.
INSERT INTO pitr_restore.cleanup_runs (trigger, restore_key, finished_at,
									   hooks_ok, hooks_failed, hooks_skipped)
	SELECT 'extension created', k, clock_timestamp(), 0, 0, 0
	FROM pitr_restore.cleanup_restore_key() AS k
	WHERE k IS NOT NULL;

-- For superusers only (no grant): not SECURITY DEFINER, so that unqualified
-- table names are resolved with the caller's search_path; the C code stores
-- them schema-qualified and pins search_path for its own queries.
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
LANGUAGE C STRICT VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pitr_restore, pg_temp
AS 'MODULE_PATHNAME', 'pitr_run_cleanup';
REVOKE EXECUTE ON FUNCTION pitr_restore.run_cleanup(boolean) FROM PUBLIC;
-- Running the hooks is for pg_write_server_files: each hook runs as its
-- table's owner or run_as role, and the audit is written as the owner.
-- Adding hooks stays superuser-only.
GRANT EXECUTE ON FUNCTION pitr_restore.run_cleanup(boolean) TO pg_write_server_files;
GRANT SELECT ON pitr_restore.cleanup_hook, pitr_restore.cleanup_runs,
	pitr_restore.cleanup_run_hooks TO pg_write_server_files;

/*
 * The archive module (archive_library = 'pitr_restore') writes a segment
 * summary sidecar next to each segment.  These internal functions read one
 * back (tests compare it with the index); they are granted to nobody.
 */
CREATE FUNCTION pitr_restore.sidecar_summary(path text,
	OUT status text, OUT matches boolean, OUT problem text,
	OUT file_name text, OUT file_size bigint, OUT segment_name text,
	OUT compression text, OUT system_identifier numeric, OUT page_magic integer,
	OUT prev_file text, OUT start_lsn pg_lsn,
	OUT first_lsn pg_lsn, OUT next_lsn pg_lsn,
	OUT records bigint, OUT commits bigint, OUT aborts bigint,
	OUT first_commit_time timestamptz, OUT last_commit_time timestamptz,
	OUT min_commit_time timestamptz, OUT max_commit_time timestamptz,
	OUT min_xid bigint, OUT max_xid bigint,
	OUT has_switch boolean, OUT wal_level_minimal boolean,
	OUT complete boolean, OUT error text)
RETURNS record
AS 'MODULE_PATHNAME', 'pitr_sidecar_summary'
LANGUAGE C STRICT VOLATILE
SET search_path = pg_catalog, pitr_restore, pg_temp;
REVOKE ALL ON FUNCTION pitr_restore.sidecar_summary(text) FROM PUBLIC;

CREATE FUNCTION pitr_restore.sidecar_events(path text,
	OUT kind text, OUT lsn pg_lsn, OUT end_lsn pg_lsn, OUT name text,
	OUT xid bigint, OUT event_time timestamptz, OUT ref_lsn pg_lsn,
	OUT event_timeline integer, OUT prev_timeline integer, OUT outcome text)
RETURNS SETOF record
AS 'MODULE_PATHNAME', 'pitr_sidecar_events'
LANGUAGE C STRICT VOLATILE
SET search_path = pg_catalog, pitr_restore, pg_temp;
REVOKE ALL ON FUNCTION pitr_restore.sidecar_events(text) FROM PUBLIC;

/*
 * Archive sources: what pitr_restore reads in a flat directory, a
 * pgBackRest stanza archive ("<repo>/archive/<stanza>" or
 * "pgbackrest:stanza=<name> [config=<file>] [repo=<n>]") or a Barman server
 * directory.  Internal views for tests and diagnosis: no role is granted
 * EXECUTE, only the extension owner (a superuser) runs them.
 */
CREATE FUNCTION pitr_restore._source_info(location text,
	barman_config text DEFAULT NULL, OUT layout text, OUT wal_dir text, OUT backup_dir text, OUT stanza text,
	OUT system_identifier numeric, OUT archive_id text,
	OUT restore_command text)
RETURNS record
AS 'MODULE_PATHNAME', 'pitr_source_info_sql'
LANGUAGE C VOLATILE;
REVOKE ALL ON FUNCTION pitr_restore._source_info(text, text) FROM PUBLIC;

CREATE FUNCTION pitr_restore._source_files(location text,
	OUT name text, OUT kind text, OUT compression text, OUT timeline integer,
	OUT log bigint, OUT seg bigint, OUT size bigint, OUT mtime timestamptz,
	OUT path text, OUT sha1 text, OUT page_system_identifier numeric)
RETURNS SETOF record
AS 'MODULE_PATHNAME', 'pitr_source_files_sql'
LANGUAGE C STRICT VOLATILE;
REVOKE ALL ON FUNCTION pitr_restore._source_files(text) FROM PUBLIC;

CREATE FUNCTION pitr_restore._source_read(location text, name text)
RETURNS bytea
AS 'MODULE_PATHNAME', 'pitr_source_read_sql'
LANGUAGE C STRICT VOLATILE;
REVOKE ALL ON FUNCTION pitr_restore._source_read(text, text) FROM PUBLIC;

CREATE FUNCTION pitr_restore._source_backups(location text,
	OUT label text, OUT format text, OUT type text, OUT prior text,
	OUT timeline integer, OUT start_lsn pg_lsn, OUT stop_lsn pg_lsn,
	OUT wal_start text, OUT wal_stop text, OUT start_time timestamptz,
	OUT stop_time timestamptz, OUT status text, OUT error boolean,
	OUT usable boolean, OUT reason text, OUT system_identifier numeric)
RETURNS SETOF record
AS 'MODULE_PATHNAME', 'pitr_source_backups_sql'
LANGUAGE C STRICT VOLATILE;
REVOKE ALL ON FUNCTION pitr_restore._source_backups(text) FROM PUBLIC;

-- The tool's own restore command for a target (NULL for a flat archive).
CREATE FUNCTION pitr_restore._source_tool_command(location text,
	backup_label text, target_kind text, target text, inclusive boolean,
	timeline integer, action text, destination text,
	barman_config text DEFAULT NULL)
RETURNS text
AS 'MODULE_PATHNAME', 'pitr_source_tool_command_sql'
LANGUAGE C VOLATILE;
REVOKE ALL ON FUNCTION pitr_restore._source_tool_command(text, text, text,
	text, boolean, integer, text, text, text) FROM PUBLIC;
