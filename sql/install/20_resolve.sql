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
	tool_command text			-- pgBackRest/Barman: the tool's own restore
								-- doing the same; NULL for a flat archive
);

-- The resolver's searches by commit time and by xid look only at segments
-- in which a transaction ends.
CREATE INDEX archive_file_xact_time ON pitr_restore.archive_file
	(archive_id, timeline, max_commit_time)
	WHERE kind = 'segment' AND commits + aborts > 0;
CREATE INDEX archive_file_xact_xid ON pitr_restore.archive_file
	(archive_id, timeline, max_xid)
	WHERE kind = 'segment' AND commits + aborts > 0;

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


-- A literal for postgresql.conf (quote.c: quotes and backslashes doubled,
-- control characters escaped).
CREATE FUNCTION pitr_restore.conf_literal(v text)
RETURNS text
AS 'MODULE_PATHNAME', 'pitr_conf_literal'
LANGUAGE C IMMUTABLE STRICT
SET search_path = pg_catalog, pitr_restore, pg_temp;
REVOKE EXECUTE ON FUNCTION pitr_restore.conf_literal FROM PUBLIC;

/*
 * restore_command for the archive as it is (settings.c): each file's copies
 * tried in the order the scanner chose the one it indexed, the directory
 * quoted as a shell word with its '%' doubled.
 */
CREATE FUNCTION pitr_restore.restore_command(arch integer)
RETURNS text
AS 'MODULE_PATHNAME', 'pitr_restore_command'
LANGUAGE C STABLE
SET search_path = pg_catalog, pitr_restore, pg_temp;
REVOKE EXECUTE ON FUNCTION pitr_restore.restore_command FROM PUBLIC;

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
 * Does a base backup's data already hold a transaction that ended after a
 * time?  Recovery cannot take it back: any commit before the backup's redo
 * point is in its files.
 */
CREATE FUNCTION pitr_restore.backup_holds_after(arch integer, tlis integer[],
	begins pg_lsn[], start_lsn pg_lsn, t timestamptz, incl boolean)
RETURNS boolean
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pitr_restore, pg_temp
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

/*
 * Resolve a target along one timeline's history: try base backups from the
 * latest back, and take the first that recovery can bring to the stop.
 * kind is time, lsn, xid, name (want_lsn: the restore point's record) or
 * immediate.  emit_lsn: the settings must name the restore point's record
 * by its LSN, because recovery_target_name would stop at an earlier point
 * of the same name.
 */
CREATE FUNCTION pitr_restore.resolve_on_timeline(arch integer, tli integer,
	kind text, t timestamptz, l pg_lsn, x bigint, n text, incl boolean,
	pin_backup text, want_lsn pg_lsn,
	OUT res pitr_restore.resolution, OUT emit_lsn boolean)
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pitr_restore, pg_temp
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
	walked boolean;
	no_stop boolean;
	bname text;
BEGIN
	emit_lsn := false;
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
		emit_lsn := false;
		start := NULL;			-- where the walk starts: a record's start
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
				start := greatest(f.first_lsn, b.start_lsn);
				w := pitr_restore.walk_to_stop(arch, path.tlis, path.begins,
											   start, 'xid',
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
					emit_lsn := true;
				ELSE
					want_lsn := ev.lsn;
				END IF;
				SELECT greatest(af.first_lsn, b.start_lsn) INTO start
				  FROM pitr_restore.archive_file af
				 WHERE af.archive_id = arch AND af.file_name = ev.file_name;
				start := coalesce(start, b.start_lsn);
				w := pitr_restore.walk_to_stop(arch, path.tlis, path.begins,
											   start, 'lsn',
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
				start := coalesce(start, b.start_lsn);
				w := pitr_restore.walk_to_stop(arch, path.tlis, path.begins,
											   start, 'lsn',
											   target_lsn => ev.lsn, inclusive => true);
				walked := true;
			ELSE
				start := b.start_lsn;
				w := pitr_restore.walk_to_stop(arch, path.tlis, path.begins,
											   start, 'lsn',
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
		IF w.last_xid IS NULL THEN
			/*
			 * No transaction ended between the walk's start and the stop:
			 * look back from the walk's start, segment by segment (the index
			 * counts the transactions that end in each, and a segment's
			 * first_lsn is where the first record ending in it begins), down
			 * to the backup's start.  The segment holding the walk's start
			 * is searched too: records before it may end there.
			 */
			s0 := lsn_segno(start, a.segment_size) + 1;
			LOOP
				f := pitr_restore.path_xact_segment(arch, path.tlis, path.begins,
													s0, false);
				EXIT WHEN f.file_name IS NULL OR f.next_lsn <= b.start_lsn;
				lw := pitr_restore.walk_to_stop(arch, path.tlis, path.begins,
					greatest(f.first_lsn, b.start_lsn), 'none',
					limit_lsn => least(f.next_lsn, start));
				IF lw.last_xid IS NOT NULL THEN
					w.last_xid := lw.last_xid;
					w.last_time := lw.last_time;
					EXIT;
				END IF;
				s0 := f.segno;
			END LOOP;
		END IF;
		r.last_xid := w.last_xid::text::xid;
		r.last_commit_time := w.last_time;
		IF w.next_xid IS NULL THEN
			/*
			 * The walk looks a few segments past the stop; past a long run
			 * of records without a transaction end, the index finds the
			 * next segment where one ends.
			 */
			s0 := lsn_segno(stop_point, a.segment_size);
			LOOP
				f := pitr_restore.path_xact_segment(arch, path.tlis, path.begins,
													s0, true);
				EXIT WHEN f.file_name IS NULL;
				lw := pitr_restore.walk_to_stop(arch, path.tlis, path.begins,
					f.first_lsn, 'lsn', target_lsn => stop_point, inclusive => false);
				IF lw.next_xid IS NOT NULL THEN
					w.next_xid := lw.next_xid;
					w.next_time := lw.next_time;
					EXIT;
				END IF;
				s0 := f.segno + 1;
			END LOOP;
		END IF;
		r.next_xid := w.next_xid::text::xid;
		r.next_commit_time := w.next_time;

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
		IF w.last_xid IS NULL THEN
			r.why := r.why || format('; no transaction ended between the start of base backup %s (%s) and the stop point, so last_xid is NULL',
									 bname, b.start_lsn);
		END IF;
		IF emit_lsn THEN
			r.warnings := r.warnings || format('restore point "%s" occurs earlier after the start of base backup %s: recovery_target_name would stop there, so the settings use recovery_target_lsn',
											   n, bname);
			r.why := r.why || '; recovery_target_lsn stands for the restore point';
		END IF;
		r.reason := NULL;
		res := r;
		RETURN;
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
	res := r;
	RETURN;
END
$$;
REVOKE EXECUTE ON FUNCTION pitr_restore.resolve_on_timeline FROM PUBLIC;

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
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pitr_restore, pg_temp
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
	occurrences integer; own_marks integer;
	live integer;
	live_since timestamptz;
	x bigint;
	want pg_lsn;
	first_r pitr_restore.resolution;
	note text;
	o record; emit_lsn boolean;
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
	-- An empty name would mean no target at all to recovery.
	IF coalesce(target_name, target_mark) = '' THEN
		RAISE EXCEPTION USING ERRCODE = 'invalid_parameter_value',
			MESSAGE = 'recovery target name must not be empty';
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
			o := pitr_restore.resolve_on_timeline(arch, occ.timeline, 'name', NULL,
				NULL, NULL, target_name, true, backup_label, occ.lsn);
			r := o.res;
			emit_lsn := o.emit_lsn;
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
		SELECT count(*), count(*) FILTER (WHERE rp.kind <> 'restore_point')
		  INTO occurrences, own_marks
		  FROM pitr_restore.restore_points(a.directory) rp
		 WHERE rp.name = target_mark;
		-- The first occurrence (after mark_after) that recovery can reach:
		-- a transaction mark keeps (inclusive) or loses its transaction, a
		-- restore-point mark stops after its own record (by its LSN when a
		-- restore point of the same name comes first).  A plain restore
		-- point of that name counts only when the marks table has no
		-- record of the mark (a restore rolled it back).
		FOR occ IN
			SELECT rp.* FROM pitr_restore.restore_points(a.directory) rp
			 WHERE rp.name = target_mark AND (mark_after IS NULL OR rp.created > mark_after)
			   AND (target_timeline IS NULL OR rp.timeline = target_timeline)
			   AND (own_marks = 0 OR rp.kind <> 'restore_point')
			 ORDER BY rp.created, rp.lsn
		LOOP
			IF occ.kind = 'transaction_mark' THEN
				x := occ.xid;
				o := pitr_restore.resolve_on_timeline(arch, occ.timeline, 'mark', NULL,
					NULL, x, target_mark, inclusive, backup_label, NULL);
				r := o.res;
				emit_lsn := o.emit_lsn;
			ELSE
				o := pitr_restore.resolve_on_timeline(arch, occ.timeline, 'name', NULL,
					NULL, NULL, target_mark, true, backup_label, occ.lsn);
				r := o.res;
				emit_lsn := o.emit_lsn;
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
		o := pitr_restore.resolve_on_timeline(arch, tl,
			CASE WHEN kind = 'mark' THEN 'xid' ELSE kind END,
			target_time, target_lsn, x, target_name, inclusive, backup_label, want);
		r := o.res;
		emit_lsn := o.emit_lsn;
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
	conf := ARRAY[format('restore_command = %s', conf_literal(pitr_restore.restore_command(arch)))];
	IF kind = 'time' THEN
		conf := conf || format('recovery_target_time = %s',
			conf_literal(to_char(target_time AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS.US') || '+00'));
	ELSIF kind = 'name' AND NOT emit_lsn THEN
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
	IF kind IN ('time', 'lsn', 'xid', 'mark') OR emit_lsn THEN
		conf := conf || format('recovery_target_inclusive = %s',
			CASE WHEN inclusive OR emit_lsn THEN '''on''' ELSE '''off''' END);
	END IF;
	conf := conf || format('recovery_target_timeline = ''%s''', r.timeline)
				 || format('recovery_target_action = %s', conf_literal(recovery_action));
	r.recovery_conf := array_to_string(conf, E'\n') || E'\n';
	r.tool_command := pitr_restore.tool_command(arch, r.backup_label, r.recovery_conf);
	RETURN r;
END
$$;
REVOKE EXECUTE ON FUNCTION pitr_restore.resolve_target FROM PUBLIC;
GRANT EXECUTE ON FUNCTION pitr_restore.resolve_target TO pg_read_server_files;
