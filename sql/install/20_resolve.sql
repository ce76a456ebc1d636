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
