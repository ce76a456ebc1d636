
/*
 * The archive index (sql/install/10_archive.sql): public functions run as
 * the extension owner with a pinned search_path; internal helpers and
 * writes to the index tables are granted to nobody.  Runs of segments are
 * recomputed by the scanner in C.
 */
REVOKE INSERT, UPDATE, DELETE ON pitr_restore.archive,
	pitr_restore.archive_file, pitr_restore.wal_event,
	pitr_restore.timeline_history, pitr_restore.backup_history,
	pitr_restore.segment_run, pitr_restore.base_backup FROM pg_read_server_files;
REVOKE USAGE ON SEQUENCE pitr_restore.archive_archive_id_seq FROM pg_read_server_files;

DROP FUNCTION pitr_restore.rebuild_segment_runs(integer);

REVOKE EXECUTE ON FUNCTION pitr_restore.archive_path(text) FROM pg_read_server_files;
REVOKE EXECUTE ON FUNCTION pitr_restore.refresh_archive(text) FROM pg_read_server_files;
REVOKE EXECUTE ON FUNCTION pitr_restore.indexed_archive(text) FROM pg_read_server_files;
REVOKE EXECUTE ON FUNCTION pitr_restore.timeline_begin(integer, integer) FROM pg_read_server_files;

ALTER FUNCTION pitr_restore.refresh_archive(text)
	SET search_path = pg_catalog, pitr_restore, pg_temp;
ALTER FUNCTION pitr_restore.indexed_archive(text)
	SET search_path = pg_catalog, pitr_restore, pg_temp;
ALTER FUNCTION pitr_restore.timeline_begin(integer, integer)
	SET search_path = pg_catalog, pitr_restore, pg_temp;

ALTER FUNCTION pitr_restore.scan_archive(text) SECURITY DEFINER
	SET search_path = pg_catalog, pitr_restore, pg_temp;
ALTER FUNCTION pitr_restore.segments(text) SECURITY DEFINER
	SET search_path = pg_catalog, pitr_restore, pg_temp;
ALTER FUNCTION pitr_restore.timelines(text) SECURITY DEFINER
	SET search_path = pg_catalog, pitr_restore, pg_temp;
ALTER FUNCTION pitr_restore.backups(text) SECURITY DEFINER
	SET search_path = pg_catalog, pitr_restore, pg_temp;
