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

-- prepare_restore's body.  Its arguments are unnamed: PL/pgSQL cannot
-- have an argument and a result column both called backup_label.
CREATE FUNCTION pitr_restore.prepare_restore_run(
	text,
	timestamptz,
	text,
	pg_lsn,
	xid8,
	text,
	boolean,
	integer,
	timestamptz,
	text,
	text,
	text,
	text,
	OUT reachable boolean,
	OUT reason text,
	OUT timeline integer,
	OUT timeline_path integer[],
	OUT backup_label text,
	OUT backup_location text,
	OUT backup_format text,
	OUT backup_stop_lsn pg_lsn,
	OUT stop_lsn pg_lsn,
	OUT stop_before boolean,
	OUT end_lsn pg_lsn,
	OUT last_xid xid,
	OUT last_commit_time timestamptz,
	OUT next_xid xid,
	OUT next_commit_time timestamptz,
	OUT wal_first text,
	OUT wal_last text,
	OUT wal_segments integer,
	OUT wal_bytes bigint,
	OUT recovery_conf text,
	OUT warnings text[],
	OUT why text,
	OUT files bigint,
	OUT bytes bigint,
	OUT start_command text)
RETURNS record
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pitr_restore
AS $$
DECLARE
	r pitr_restore.resolution;
	m record;
	dir text;
	marker text;
BEGIN
	IF $1 IS NULL THEN
		RAISE EXCEPTION 'target_dir must not be NULL'
			USING ERRCODE = 'null_value_not_allowed';
	END IF;
	-- a bad target directory is an ERROR before the archive is read
	dir := pitr_restore.check_restore_target($1);

	r := pitr_restore.resolve_target($2, $3, $4, $5, $6, $7, $8, $9, $10,
									 $11, $12, $13);
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

	reachable := r.reachable;
	reason := r.reason;
	timeline := r.timeline;
	timeline_path := r.timeline_path;
	backup_label := r.backup_label;
	backup_location := r.backup_location;
	backup_format := r.backup_format;
	backup_stop_lsn := r.backup_stop_lsn;
	stop_lsn := r.stop_lsn;
	stop_before := r.stop_before;
	end_lsn := r.end_lsn;
	last_xid := r.last_xid;
	last_commit_time := r.last_commit_time;
	next_xid := r.next_xid;
	next_commit_time := r.next_commit_time;
	wal_first := r.wal_first;
	wal_last := r.wal_last;
	wal_segments := r.wal_segments;
	wal_bytes := r.wal_bytes;
	recovery_conf := r.recovery_conf;
	warnings := r.warnings;
	why := r.why;
	files := m.files;
	bytes := m.bytes;
	-- next to this server's port, so both can run on one host
	start_command := format('pg_ctl -D %s -l %s -o %s start',
							pitr_restore.shell_quote(dir),
							pitr_restore.shell_quote(dir || '.log'),
							pitr_restore.shell_quote('-p ' || (current_setting('port')::integer + 1)));
END
$$;
REVOKE EXECUTE ON FUNCTION pitr_restore.prepare_restore_run FROM PUBLIC;
GRANT EXECUTE ON FUNCTION pitr_restore.prepare_restore_run TO pg_write_server_files;

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
	recovery_action text DEFAULT 'pause',
	OUT reachable boolean,
	OUT reason text,
	OUT timeline integer,
	OUT timeline_path integer[],
	OUT backup_label text,
	OUT backup_location text,
	OUT backup_format text,
	OUT backup_stop_lsn pg_lsn,
	OUT stop_lsn pg_lsn,
	OUT stop_before boolean,
	OUT end_lsn pg_lsn,
	OUT last_xid xid,
	OUT last_commit_time timestamptz,
	OUT next_xid xid,
	OUT next_commit_time timestamptz,
	OUT wal_first text,
	OUT wal_last text,
	OUT wal_segments integer,
	OUT wal_bytes bigint,
	OUT recovery_conf text,
	OUT warnings text[],
	OUT why text,
	OUT files bigint,
	OUT bytes bigint,
	OUT start_command text)
RETURNS record
LANGUAGE sql VOLATILE
SET search_path = pg_catalog, pitr_restore
AS $$
	SELECT * FROM pitr_restore.prepare_restore_run($1, $2, $3, $4, $5, $6, $7, $8, $9,
												   $10, $11, $12, $13)
$$;
REVOKE EXECUTE ON FUNCTION pitr_restore.prepare_restore FROM PUBLIC;
GRANT EXECUTE ON FUNCTION pitr_restore.prepare_restore TO pg_write_server_files;
