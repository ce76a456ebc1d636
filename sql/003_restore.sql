-- The restore builder: argument checks and privileges.  Nothing here needs
-- a backup: every call is refused before anything is read or written.
CREATE EXTENSION pitr_restore;

-- Errors whose text holds a machine-specific path print it as <dir>.
CREATE FUNCTION pg_temp.try(q text, dir text DEFAULT NULL) RETURNS text
LANGUAGE plpgsql AS $$
BEGIN
	EXECUTE q;
	RETURN 'ok';
EXCEPTION WHEN OTHERS THEN
	RETURN SQLSTATE || ': ' ||
		CASE WHEN dir IS NULL THEN SQLERRM ELSE replace(SQLERRM, dir, '<dir>') END;
END
$$;

-- The target directory must be absolute, new, and have a parent.
SELECT pitr_restore.check_restore_target('relative/restore');
SELECT pitr_restore.check_restore_target('/etc');
SELECT pitr_restore.check_restore_target('/nonexistent/pitr_restore/restore');
SELECT pitr_restore.check_restore_target('/tmp/./pitr_restore_regress/../pitr_restore_new');
-- Never inside the running cluster, nor around it.
SELECT pg_temp.try(format($q$SELECT pitr_restore.check_restore_target(%L)$q$,
	current_setting('data_directory') || '/restore'), current_setting('data_directory'));
SELECT pg_temp.try($q$SELECT pitr_restore.check_restore_target('/')$q$);

-- prepare_restore checks the target before resolving anything.
\set VERBOSITY terse
SELECT * FROM pitr_restore.prepare_restore(NULL);
SELECT * FROM pitr_restore.prepare_restore('relative', target => 'immediate');
SELECT * FROM pitr_restore.prepare_restore('/etc', target => 'immediate');
\set VERBOSITY default

-- materialise_backup: format, marker, backup location.
SELECT * FROM pitr_restore.materialise_backup('/nonexistent/bk', 'zip', '/tmp/pitr_restore_x', '', 'm');
SELECT * FROM pitr_restore.materialise_backup('/nonexistent/bk', 'tar', '/tmp/pitr_restore_x', '', E'two\nlines');
SELECT * FROM pitr_restore.materialise_backup('relative/bk', 'tar', '/tmp/pitr_restore_x', '', 'm');
SELECT * FROM pitr_restore.materialise_backup('/nonexistent/bk', 'tar', '/nonexistent/bk/restore', '', 'm');
SELECT * FROM pitr_restore.materialise_backup('/etc', 'tar', '/etc/restore', '', 'm');
-- No manifest, no restore: nothing can be verified.
\set bk `mktemp -d`
SELECT pg_temp.try(format($q$SELECT * FROM pitr_restore.materialise_backup(%L, 'plain', %L, '', 'm')$q$,
	:'bk', :'bk' || '_restore'), :'bk');
-- A manifest that is not one.
\set bad :bk/backup_manifest
\setenv BADMANIFEST :bad
\! echo '{"PostgreSQL-Backup-Manifest-Version": 1}' > "$BADMANIFEST"
SELECT pg_temp.try(format($q$SELECT * FROM pitr_restore.materialise_backup(%L, 'plain', %L, '', 'm')$q$,
	:'bk', :'bk' || '_restore'), :'bk');
\! rm -r "$(dirname "$BADMANIFEST")"

-- archive_mode is 'keep' or 'off', nothing else.
SELECT * FROM pitr_restore.prepare_restore('/tmp/pitr_restore_x', target => 'immediate', archive_mode => 'on');
SELECT * FROM pitr_restore.prepare_restore('/tmp/pitr_restore_x', target => 'immediate', archive_mode => NULL);

-- No function is open to a plain role.
SELECT current_setting('data_directory') AS datadir \gset
CREATE ROLE pitr_restore_plain LOGIN;
SET ROLE pitr_restore_plain;
SELECT * FROM pitr_restore.prepare_restore('/tmp/pitr_restore_x', target => 'immediate');
SELECT * FROM pitr_restore.materialise_backup('/nonexistent/bk', 'tar', '/tmp/pitr_restore_x', '', 'm');
SELECT pitr_restore.check_restore_target('/tmp/pitr_restore_x');
RESET ROLE;

-- Reading server files alone does not open prepare_restore.
GRANT pg_read_server_files TO pitr_restore_plain;
SET ROLE pitr_restore_plain;
SELECT * FROM pitr_restore.prepare_restore('/tmp/pitr_restore_x', target => 'immediate');
RESET ROLE;
REVOKE pg_read_server_files FROM pitr_restore_plain;

-- Writing them alone runs it, but a restore reads the backup and the
-- archive too: refused.  Its internal functions stay closed.
GRANT pg_write_server_files TO pitr_restore_plain;
SET ROLE pitr_restore_plain;
SELECT * FROM pitr_restore.prepare_restore('/tmp/pitr_restore_x', target => 'immediate');
SELECT * FROM pitr_restore.materialise_backup('/nonexistent/bk', 'tar', '/tmp/pitr_restore_x', '', 'm');
SELECT pitr_restore.check_restore_target('/tmp/pitr_restore_x');
SELECT pitr_restore.shell_quote('x');
RESET ROLE;

-- Both: it goes on to check the target (here inside the data directory).
GRANT pg_read_server_files TO pitr_restore_plain;
SET ROLE pitr_restore_plain;
SELECT pg_temp.try(format($q$SELECT * FROM pitr_restore.prepare_restore(%L, target => 'immediate')$q$,
	:'datadir' || '/restore'), :'datadir');
RESET ROLE;

REVOKE pg_read_server_files, pg_write_server_files FROM pitr_restore_plain;
DROP ROLE pitr_restore_plain;
DROP EXTENSION pitr_restore;
