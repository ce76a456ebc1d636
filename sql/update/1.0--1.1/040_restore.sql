/*
 * Restore building (040): prepare_restore becomes SECURITY DEFINER with a
 * pinned search_path and gains archive_mode; its internal functions lose
 * their grants; check_restore_target also takes the archive to stay clear of.
 * prepared_restore gains tool_command after why (as the resolution does):
 * the type is created again, after the function that returns it is dropped.
 */
DROP FUNCTION pitr_restore.prepare_restore(text, timestamptz, text, pg_lsn,
	xid8, text, boolean, integer, timestamptz, text, text, text, text);
DROP TYPE pitr_restore.prepared_restore;
DROP FUNCTION pitr_restore.check_restore_target(text);
DROP FUNCTION pitr_restore.shell_quote(text);
REVOKE ALL ON FUNCTION pitr_restore.materialise_backup(text, text, text, text, text)
	FROM pg_write_server_files;

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
