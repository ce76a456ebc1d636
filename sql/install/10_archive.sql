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
