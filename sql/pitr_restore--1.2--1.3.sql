/* pitr_restore 1.2 -> 1.3: only what changed, as DDL. */

-- complain if script is sourced in psql, rather than via ALTER EXTENSION
\echo Use "ALTER EXTENSION pitr_restore UPDATE TO '1.3'" to load this file. \quit

-- Each concern has its own section below, in this order; a section starts
-- with a comment that says what changed and why.

-- (reliability: sections for issue 19 go here)

-- (model and helpers: sections for issue 20 go here)

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
 * pg_execute_server_program and CREATEDB.
 */
CREATE FUNCTION pitr_restore._restore_database_body(database name, new_name name,
	target_time timestamptz DEFAULT NULL,
	target_name text DEFAULT NULL,
	target_lsn pg_lsn DEFAULT NULL,
	target_xid xid8 DEFAULT NULL,
	target_mark text DEFAULT NULL,
	inclusive boolean DEFAULT true,
	target_timeline integer DEFAULT NULL,
	mark_after timestamptz DEFAULT NULL,
	backup_label text DEFAULT NULL,
	archive_dir text DEFAULT NULL,
	run_hooks boolean DEFAULT false,
	OUT stop_lsn pg_lsn, OUT stop_before boolean,
	OUT last_xid xid, OUT last_commit_time timestamptz,
	OUT next_xid xid, OUT next_commit_time timestamptz,
	OUT timeline integer, OUT backup text,
	OUT tables_copied bigint, OUT rows_copied bigint)
RETURNS record
AS 'MODULE_PATHNAME', 'pitr_restore_database'
LANGUAGE C CALLED ON NULL INPUT VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pitr_restore, pg_temp;
REVOKE ALL ON FUNCTION pitr_restore._restore_database_body(name, name, timestamptz, text, pg_lsn, xid8, text, boolean, integer, timestamptz, text, text, boolean) FROM PUBLIC;

CREATE FUNCTION pitr_restore.restore_database(database name, new_name name,
	target_time timestamptz DEFAULT NULL,
	target_name text DEFAULT NULL,
	target_lsn pg_lsn DEFAULT NULL,
	target_xid xid8 DEFAULT NULL,
	target_mark text DEFAULT NULL,
	inclusive boolean DEFAULT true,
	target_timeline integer DEFAULT NULL,
	mark_after timestamptz DEFAULT NULL,
	backup_label text DEFAULT NULL,
	archive_dir text DEFAULT NULL,
	run_hooks boolean DEFAULT false,
	OUT stop_lsn pg_lsn, OUT stop_before boolean,
	OUT last_xid xid, OUT last_commit_time timestamptz,
	OUT next_xid xid, OUT next_commit_time timestamptz,
	OUT timeline integer, OUT backup text,
	OUT tables_copied bigint, OUT rows_copied bigint)
RETURNS record
AS 'MODULE_PATHNAME', 'pitr_entry_database'
LANGUAGE C CALLED ON NULL INPUT VOLATILE SECURITY INVOKER
SET search_path = pg_catalog, pitr_restore, pg_temp;
REVOKE EXECUTE ON FUNCTION pitr_restore.restore_database(name, name, timestamptz, text, pg_lsn, xid8, text, boolean, integer, timestamptz, text, text, boolean) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION pitr_restore.restore_database(name, name, timestamptz, text, pg_lsn, xid8, text, boolean, integer, timestamptz, text, text, boolean) TO pg_execute_server_program;
