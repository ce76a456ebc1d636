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
