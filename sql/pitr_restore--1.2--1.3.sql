/* pitr_restore 1.2 -> 1.3: only what changed, as DDL. */

-- complain if script is sourced in psql, rather than via ALTER EXTENSION
\echo Use "ALTER EXTENSION pitr_restore UPDATE TO '1.3'" to load this file. \quit

-- Each concern has its own section below, in this order; a section starts
-- with a comment that says what changed and why.

-- (reliability: sections for issue 19 go here)

-- resolve speed: the per-file check of a certified path compares every
-- file with stamps a backend keeps in memory between calls; they are valid
-- exactly while the archive row's index_generation (and its row version)
-- is what they were read under.  Every change of an archive's
-- archive_file rows (INSERT, UPDATE, DELETE, TRUNCATE, by whoever) bumps
-- it in the same transaction, by this trigger (once per archive and
-- subtransaction: a scan writing 65,536 rows makes one new archive row).
-- Its query names everything with its schema, so it needs no pinned
-- search_path (which would cost a GUC save and restore on every row).
ALTER TABLE pitr_restore.archive
	ADD COLUMN index_generation bigint NOT NULL DEFAULT 0;

CREATE FUNCTION pitr_restore._index_changed()
RETURNS trigger
LANGUAGE C
AS 'MODULE_PATHNAME', 'pitr_index_changed';
REVOKE ALL ON FUNCTION pitr_restore._index_changed() FROM PUBLIC;

CREATE TRIGGER index_changed
	AFTER INSERT OR UPDATE OR DELETE ON pitr_restore.archive_file
	FOR EACH ROW EXECUTE FUNCTION pitr_restore._index_changed();
CREATE TRIGGER index_truncated
	AFTER TRUNCATE ON pitr_restore.archive_file
	FOR EACH STATEMENT EXECUTE FUNCTION pitr_restore._index_changed();
-- also under session_replication_role = replica (a restore, a replica)
ALTER TABLE pitr_restore.archive_file ENABLE ALWAYS TRIGGER index_changed;
ALTER TABLE pitr_restore.archive_file ENABLE ALWAYS TRIGGER index_truncated;

-- (model and helpers: sections for issue 20 go here)

-- walk_to_stop: nothing calls it since recovery_windows moved to C (1.2);
-- resolve_target asks the walk in C.  Its C symbol remains, raising an
-- error, only because the 1.1 script declares the function.
DROP FUNCTION pitr_restore.walk_to_stop(integer, integer[], pg_lsn[], pg_lsn,
										text, timestamptz, pg_lsn, bigint,
										text, boolean, pg_lsn);

-- check_archive in C: its problems are read off the recovery model's
-- windows and gaps (src/resolve/check_archive.c), with every detail
-- through the display rule, so no rule of the model is restated in
-- PL/pgSQL.  The entry point stays; its body becomes the C function and
-- the PL/pgSQL rows and their SQL wrapper go.  (wal_gap, which only they
-- called, stays: internal, granted to nobody.)
DROP FUNCTION pitr_restore._check_archive_body(text, interval, interval);
DROP FUNCTION pitr_restore._check_archive_rows(text, interval, interval);
CREATE FUNCTION pitr_restore._check_archive_body(archive_dir text,
	max_age interval, max_backup_age interval)
RETURNS TABLE (severity text, problem text, detail text)
AS 'MODULE_PATHNAME', 'pitr_check_archive'
LANGUAGE C VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pitr_restore, pg_temp;
REVOKE ALL ON FUNCTION pitr_restore._check_archive_body(text, interval, interval) FROM PUBLIC;

-- path_ranges in C: which timeline of a path serves each segment is the
-- recovery model's rule, stated once (pitr_path_served, resolve/walk.h, as
-- the model and the walk use it); path_files and path_events look rows up
-- by the ranges it gives.
-- CREATE OR REPLACE keeps its grants (none).
CREATE OR REPLACE FUNCTION pitr_restore.path_ranges(arch integer, tlis integer[],
	begins pg_lsn[])
RETURNS TABLE (tli integer, begin_lsn pg_lsn, end_lsn pg_lsn, lo bigint, hi bigint)
AS 'MODULE_PATHNAME', 'pitr_path_ranges'
LANGUAGE C STRICT STABLE ROWS 4;
-- lsn_segno, which only path_ranges called, goes (the model's
-- pitr_model_segno is the one segment-number rule).
DROP FUNCTION pitr_restore.lsn_segno(pg_lsn, integer);

-- path_xact_segment in C: the nearest segment of a path that ends a
-- transaction is the recovery model's search (src/resolve/xact_segment.c),
-- the same indexed lookup per stretch of the path, by the model's ranges.
-- Nothing else called the PL/pgSQL function.
DROP FUNCTION pitr_restore.path_xact_segment(integer, integer[], pg_lsn[],
											 bigint, boolean, timestamptz,
											 boolean);

-- (moment before the mistake: sections for issue 22 go here)

-- restore_database: a whole database as it was at a target, as a new
-- database of this server owned by the caller (issue 22, item 3).

/*
 * restore_database: the database as it was at the target, as the new
 * database new_name, owned by the caller, built from a private side server
 * (as restore_table's) by background workers running as the caller:
 * CREATE DATABASE top-level (committed on its own: the caller's ROLLBACK
 * does not undo it), then the schema (the server's pg_dump), the rows and
 * the sequences; any failure drops it again.  run_hooks: the source
 * database's cleanup hooks then run once on the new database.  Superuser,
 * or privileges of pg_read_server_files, pg_write_server_files and
 * pg_execute_server_program and CREATEDB.  The body is called only by
 * the entry point, with every argument: it takes them by position.
 */
CREATE FUNCTION pitr_restore._restore_database_body(name, name,
	timestamptz, text, pg_lsn, xid8, text, boolean, integer, timestamptz,
	text, text, boolean,
	OUT stop_lsn pg_lsn, OUT stop_before boolean, OUT last_xid xid, OUT last_commit_time timestamptz,
	OUT next_xid xid, OUT next_commit_time timestamptz, OUT timeline integer, OUT backup text,
	OUT tables_copied bigint, OUT rows_copied bigint)
RETURNS record
AS 'MODULE_PATHNAME', 'pitr_restore_database'
LANGUAGE C CALLED ON NULL INPUT VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pitr_restore, pg_temp;
REVOKE ALL ON FUNCTION pitr_restore._restore_database_body(name, name, timestamptz, text, pg_lsn, xid8, text, boolean, integer, timestamptz, text, text, boolean) FROM PUBLIC;

CREATE FUNCTION pitr_restore.restore_database(database name, new_name name,
	target_time timestamptz DEFAULT NULL, target_name text DEFAULT NULL,
	target_lsn pg_lsn DEFAULT NULL, target_xid xid8 DEFAULT NULL,
	target_mark text DEFAULT NULL, inclusive boolean DEFAULT true,
	target_timeline integer DEFAULT NULL, mark_after timestamptz DEFAULT NULL,
	backup_label text DEFAULT NULL, archive_dir text DEFAULT NULL,
	run_hooks boolean DEFAULT false,
	OUT stop_lsn pg_lsn, OUT stop_before boolean, OUT last_xid xid,
	OUT last_commit_time timestamptz, OUT next_xid xid, OUT next_commit_time timestamptz,
	OUT timeline integer, OUT backup text, OUT tables_copied bigint,
	OUT rows_copied bigint)
RETURNS record
AS 'MODULE_PATHNAME', 'pitr_entry_database'
LANGUAGE C CALLED ON NULL INPUT VOLATILE SECURITY INVOKER
SET search_path = pg_catalog, pitr_restore, pg_temp;
REVOKE EXECUTE ON FUNCTION pitr_restore.restore_database(name, name, timestamptz, text, pg_lsn, xid8, text, boolean, integer, timestamptz, text, text, boolean) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION pitr_restore.restore_database(name, name, timestamptz, text, pg_lsn, xid8, text, boolean, integer, timestamptz, text, text, boolean) TO pg_execute_server_program;
