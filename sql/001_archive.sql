-- The archive index API: argument checks and privileges.
CREATE EXTENSION pitr_restore;

-- A relative path is refused before anything is read.
SELECT * FROM pitr_restore.scan_archive('relative/archive');

-- A missing directory is an error that names it.
SELECT * FROM pitr_restore.scan_archive('/nonexistent/pitr_archive');

-- Without the setting or an argument there is nothing to scan.
SET pitr_restore.archive_dir = '';
SELECT * FROM pitr_restore.scan_archive();
RESET pitr_restore.archive_dir;

-- A file is not an archive directory.
SELECT * FROM pitr_restore.scan_archive('/etc/hostname');

-- An empty archive scans to zeros.
\set empty `mktemp -d`
SELECT * FROM pitr_restore.scan_archive(:'empty');
SELECT count(*) FROM pitr_restore.segments(:'empty');

-- Aliases of a directory are one archive: its canonical real path.
SELECT pitr_restore.archive_path(:'empty' || '/') = pitr_restore.archive_path('/proc/self/root' || :'empty');
SELECT segments_total FROM pitr_restore.scan_archive(:'empty' || '/./');
SELECT count(*) FROM pitr_restore.archive;

-- The settings are for superusers only.
CREATE ROLE pitr_plain LOGIN;
SET ROLE pitr_plain;
SET pitr_restore.archive_dir = '/tmp';
-- No function, table or setting is open to a plain role.
SELECT * FROM pitr_restore.scan_archive('/tmp');
SELECT * FROM pitr_restore.segments('/tmp');
SELECT * FROM pitr_restore.restore_points('/tmp');
SELECT * FROM pitr_restore.timelines('/tmp');
SELECT * FROM pitr_restore.backups('/tmp');
SELECT count(*) FROM pitr_restore.archive_file;
RESET ROLE;

-- EXECUTE alone is not enough: reading server files needs the role.
GRANT USAGE ON SCHEMA pitr_restore TO pitr_plain;
GRANT EXECUTE ON FUNCTION pitr_restore.scan_archive(text) TO pitr_plain;
SET ROLE pitr_plain;
SELECT * FROM pitr_restore.scan_archive('/tmp');
RESET ROLE;
REVOKE EXECUTE ON FUNCTION pitr_restore.scan_archive(text) FROM pitr_plain;
REVOKE USAGE ON SCHEMA pitr_restore FROM pitr_plain;

-- pg_read_server_files is enough to read the archive.
GRANT pg_read_server_files TO pitr_plain;
SET ROLE pitr_plain;
SELECT segments_total FROM pitr_restore.scan_archive(:'empty');
SELECT count(*) FROM pitr_restore.segments(:'empty');
-- ... through the public functions only: internals and writes are closed.
SELECT pitr_restore.refresh_archive(:'empty');
SELECT pitr_restore.indexed_archive(:'empty');
SELECT pitr_restore.archive_path(:'empty');
SELECT pitr_restore.timeline_begin(1, 1);
DELETE FROM pitr_restore.archive;
INSERT INTO pitr_restore.archive (directory) VALUES ('/x');
SELECT count(*) FROM pitr_restore.archive WHERE directory = :'empty';
RESET ROLE;
REVOKE pg_read_server_files FROM pitr_plain;

-- Every function of the extension is closed to PUBLIC.
SELECT p.proname
  FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
 WHERE n.nspname = 'pitr_restore'
   AND has_function_privilege('public', p.oid, 'EXECUTE')
   AND p.prokind = 'f';

DROP ROLE pitr_plain;
DROP EXTENSION pitr_restore;
