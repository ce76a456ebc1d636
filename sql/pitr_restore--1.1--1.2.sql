/* pitr_restore 1.1 -> 1.2: only what changed, as DDL. */

-- complain if script is sourced in psql, rather than via ALTER EXTENSION
\echo Use "ALTER EXTENSION pitr_restore UPDATE TO '1.2'" to load this file. \quit

-- reliability: segments must chain.  Each segment's link to its
-- predecessor: the xl_prev of the record at first_lsn (the start of the
-- predecessor's last record when the two chain) and the start of its own
-- last record.  NULL for segments indexed before 1.2 (read again).
ALTER TABLE pitr_restore.archive_file ADD COLUMN first_prev pg_lsn;
ALTER TABLE pitr_restore.archive_file ADD COLUMN last_lsn pg_lsn;
-- The file as it was read: mtime and ctime to the nanosecond and inode
-- (a rewrite in place, even with its mtime put back, changes the ctime).
ALTER TABLE pitr_restore.archive_file ADD COLUMN file_stamp text;

-- reliability: refresh_archive(dir) also compares every indexed file's size
-- and mtime with the directory (a file rewritten in place does not change
-- its directory's mtime); resolve_target calls the form below, which skips
-- that and checks only the files on the path it certifies.  Internal.
CREATE FUNCTION pitr_restore.refresh_archive(archive_dir text, check_files boolean)
RETURNS integer
AS 'MODULE_PATHNAME', 'pitr_refresh_archive_sql'
LANGUAGE C CALLED ON NULL INPUT VOLATILE
SET search_path = pg_catalog, pitr_restore, pg_temp;
REVOKE EXECUTE ON FUNCTION pitr_restore.refresh_archive(text, boolean) FROM PUBLIC;
