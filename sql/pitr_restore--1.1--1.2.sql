/* pitr_restore 1.1 -> 1.2: only what changed, as DDL. */

-- complain if script is sourced in psql, rather than via ALTER EXTENSION
\echo Use "ALTER EXTENSION pitr_restore UPDATE TO '1.2'" to load this file. \quit

-- incremental backups (PostgreSQL 17+): the backup each one builds on and
-- its whole chain, full backup first (backup_dir.c links them; a broken
-- chain makes the backup unusable, with the missing link in "problem").
ALTER TABLE pitr_restore.base_backup
	ADD COLUMN incremental_from_lsn pg_lsn,
	ADD COLUMN incremental_from_timeline integer,
	ADD COLUMN incremental_from text,
	ADD COLUMN chain text[];

-- backups() gains those columns (at the end, so existing ones keep their
-- place); a missing link is also named by the archive's backup history
-- file, when it has one.
DROP FUNCTION pitr_restore.backups(text);
CREATE FUNCTION pitr_restore.backups(archive_dir text DEFAULT NULL)
RETURNS TABLE (label text, location text, format text, timeline integer,
			   start_lsn pg_lsn, stop_lsn pg_lsn, start_time timestamptz,
			   stop_time timestamptz, pg_version integer,
			   system_identifier numeric, bytes bigint,
			   checkpoint_lsn pg_lsn, backup_history_file text,
			   has_manifest boolean, problem text, wal_carried text[],
			   incremental_from_lsn pg_lsn, incremental_from_timeline integer,
			   incremental_from text, chain text[])
LANGUAGE sql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pitr_restore, pg_temp
AS $$
	-- Index first, in a statement of its own: the query below must see it.
	SELECT pitr_restore.indexed_archive(archive_dir);
	WITH a AS (SELECT * FROM pitr_restore.archive
			   WHERE archive_id = pitr_restore.indexed_archive(archive_dir)),
	h AS (SELECT b.* FROM a JOIN pitr_restore.backup_history b USING (archive_id)),
	d AS (SELECT b.* FROM pitr_restore.base_backup b, a
		   WHERE (b.repository IS NULL
				  AND (b.system_identifier IS NULL OR a.system_identifier IS NULL
					   OR b.system_identifier = a.system_identifier))
			  OR b.repository = a.directory)
	SELECT coalesce(d.label, h.label), d.location, d.format,
		   coalesce(d.start_timeline, h.start_timeline),
		   coalesce(d.start_lsn, h.start_lsn),
		   coalesce(d.stop_lsn, h.stop_lsn),
		   coalesce(h.start_time, d.start_time),
		   coalesce(h.stop_time, d.stop_time),
		   d.pg_version, coalesce(d.system_identifier, a.system_identifier),
		   d.bytes, coalesce(d.checkpoint_lsn, h.checkpoint_lsn),
		   h.file_name, coalesce(d.has_manifest, false),
		   CASE WHEN d.incremental_from IS NULL AND prior.label IS NOT NULL
				THEN d.problem || format(' (backup history file %s names it "%s")',
										 prior.file_name, prior.label)
				ELSE d.problem END,
		   d.wal_carried, d.incremental_from_lsn, d.incremental_from_timeline,
		   d.incremental_from, d.chain
	  FROM d FULL JOIN h
		ON d.start_lsn = h.start_lsn AND d.start_timeline = h.start_timeline
	  CROSS JOIN a
	  LEFT JOIN LATERAL (SELECT p.label, p.file_name FROM h p
						  WHERE p.start_lsn = d.incremental_from_lsn
							AND p.start_timeline = d.incremental_from_timeline
						  ORDER BY p.file_name LIMIT 1) prior
		ON d.problem IS NOT NULL
	 ORDER BY coalesce(d.start_lsn, h.start_lsn), d.location
$$;
REVOKE EXECUTE ON FUNCTION pitr_restore.backups(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION pitr_restore.backups(text) TO pg_read_server_files;
