
/*
 * Archive sources: what pitr_restore reads in a flat directory, a
 * pgBackRest stanza archive ("<repo>/archive/<stanza>" or
 * "pgbackrest:stanza=<name> [config=<file>] [repo=<n>]") or a Barman server
 * directory.  Internal views for tests and diagnosis: no role is granted
 * EXECUTE, only the extension owner (a superuser) runs them.
 */
CREATE FUNCTION pitr_restore._source_info(location text,
	barman_config text DEFAULT NULL, OUT layout text, OUT wal_dir text, OUT backup_dir text, OUT stanza text,
	OUT system_identifier numeric, OUT archive_id text,
	OUT restore_command text)
RETURNS record
AS 'MODULE_PATHNAME', 'pitr_source_info_sql'
LANGUAGE C VOLATILE;
REVOKE ALL ON FUNCTION pitr_restore._source_info(text, text) FROM PUBLIC;

CREATE FUNCTION pitr_restore._source_files(location text,
	OUT name text, OUT kind text, OUT compression text, OUT timeline integer,
	OUT log bigint, OUT seg bigint, OUT size bigint, OUT mtime timestamptz,
	OUT path text, OUT sha1 text, OUT page_system_identifier numeric)
RETURNS SETOF record
AS 'MODULE_PATHNAME', 'pitr_source_files_sql'
LANGUAGE C STRICT VOLATILE;
REVOKE ALL ON FUNCTION pitr_restore._source_files(text) FROM PUBLIC;

CREATE FUNCTION pitr_restore._source_read(location text, name text)
RETURNS bytea
AS 'MODULE_PATHNAME', 'pitr_source_read_sql'
LANGUAGE C STRICT VOLATILE;
REVOKE ALL ON FUNCTION pitr_restore._source_read(text, text) FROM PUBLIC;

CREATE FUNCTION pitr_restore._source_backups(location text,
	OUT label text, OUT format text, OUT type text, OUT prior text,
	OUT timeline integer, OUT start_lsn pg_lsn, OUT stop_lsn pg_lsn,
	OUT wal_start text, OUT wal_stop text, OUT start_time timestamptz,
	OUT stop_time timestamptz, OUT status text, OUT error boolean,
	OUT usable boolean, OUT reason text, OUT system_identifier numeric)
RETURNS SETOF record
AS 'MODULE_PATHNAME', 'pitr_source_backups_sql'
LANGUAGE C STRICT VOLATILE;
REVOKE ALL ON FUNCTION pitr_restore._source_backups(text) FROM PUBLIC;

-- The tool's own restore command for a target (NULL for a flat archive).
CREATE FUNCTION pitr_restore._source_tool_command(location text,
	backup_label text, target_kind text, target text, inclusive boolean,
	timeline integer, action text, destination text,
	barman_config text DEFAULT NULL)
RETURNS text
AS 'MODULE_PATHNAME', 'pitr_source_tool_command_sql'
LANGUAGE C VOLATILE;
REVOKE ALL ON FUNCTION pitr_restore._source_tool_command(text, text, text,
	text, boolean, integer, text, text, text) FROM PUBLIC;
