
/*
 * pgBackRest and Barman archives (issue 12): the backups a tool's
 * repository lists are indexed with the archive location they belong to,
 * and backups() shows an archive only its own repository's backups.
 */
ALTER TABLE pitr_restore.base_backup ADD COLUMN repository text;

CREATE OR REPLACE FUNCTION pitr_restore.backups(archive_dir text DEFAULT NULL)
RETURNS TABLE (label text, location text, format text, timeline integer,
			   start_lsn pg_lsn, stop_lsn pg_lsn, start_time timestamptz,
			   stop_time timestamptz, pg_version integer,
			   system_identifier numeric, bytes bigint,
			   checkpoint_lsn pg_lsn, backup_history_file text,
			   has_manifest boolean, problem text)
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
		   h.file_name, coalesce(d.has_manifest, false), d.problem
	  FROM d FULL JOIN h
		ON d.start_lsn = h.start_lsn AND d.start_timeline = h.start_timeline
	  CROSS JOIN a
	 ORDER BY coalesce(d.start_lsn, h.start_lsn), d.location
$$;

-- Resolutions over a pgBackRest or Barman archive give the tool's own
-- restore command.
ALTER TYPE pitr_restore.resolution ADD ATTRIBUTE tool_command text;

/*
 * Internal: the backup tool's own restore command doing what a
 * resolution's recovery settings do (pgBackRest restore --type ...,
 * barman recover --target-...); NULL for a flat archive.
 */
CREATE FUNCTION pitr_restore.tool_command(arch integer, backup_label text,
	recovery_conf text)
RETURNS text
AS 'MODULE_PATHNAME', 'pitr_tool_command_sql'
LANGUAGE C VOLATILE
SET search_path = pg_catalog, pitr_restore, pg_temp;
REVOKE ALL ON FUNCTION pitr_restore.tool_command(integer, text, text) FROM PUBLIC;

CREATE OR REPLACE FUNCTION pitr_restore.resolve_target(
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
