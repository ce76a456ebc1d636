
/*
 * The archive module (archive_library = 'pitr_restore') writes a segment
 * summary sidecar next to each segment.  These internal functions read one
 * back (tests compare it with the index); they are granted to nobody.
 */
CREATE FUNCTION pitr_restore.sidecar_summary(path text,
	OUT status text, OUT matches boolean, OUT problem text,
	OUT file_name text, OUT file_size bigint, OUT segment_name text,
	OUT compression text, OUT system_identifier numeric, OUT page_magic integer,
	OUT prev_file text, OUT start_lsn pg_lsn,
	OUT first_lsn pg_lsn, OUT next_lsn pg_lsn,
	OUT records bigint, OUT commits bigint, OUT aborts bigint,
	OUT first_commit_time timestamptz, OUT last_commit_time timestamptz,
	OUT min_commit_time timestamptz, OUT max_commit_time timestamptz,
	OUT min_xid bigint, OUT max_xid bigint,
	OUT has_switch boolean, OUT wal_level_minimal boolean,
	OUT complete boolean, OUT error text)
RETURNS record
AS 'MODULE_PATHNAME', 'pitr_sidecar_summary'
LANGUAGE C STRICT VOLATILE
SET search_path = pg_catalog, pitr_restore, pg_temp;
REVOKE ALL ON FUNCTION pitr_restore.sidecar_summary(text) FROM PUBLIC;

CREATE FUNCTION pitr_restore.sidecar_events(path text,
	OUT kind text, OUT lsn pg_lsn, OUT end_lsn pg_lsn, OUT name text,
	OUT xid bigint, OUT event_time timestamptz, OUT ref_lsn pg_lsn,
	OUT event_timeline integer, OUT prev_timeline integer, OUT outcome text)
RETURNS SETOF record
AS 'MODULE_PATHNAME', 'pitr_sidecar_events'
LANGUAGE C STRICT VOLATILE
SET search_path = pg_catalog, pitr_restore, pg_temp;
REVOKE ALL ON FUNCTION pitr_restore.sidecar_events(text) FROM PUBLIC;
