
/*
 * pgBackRest and Barman archives (issue 12): the backups a tool's
 * repository lists are indexed with the archive location they belong to,
 * and backups() shows an archive only its own repository's backups.
 */
ALTER TABLE pitr_restore.base_backup ADD COLUMN repository text;

CREATE OR REPLACE FUNCTION pitr_restore.backups(archive_dir text DEFAULT NULL)
RETURNS TABLE (label text, location text, format text, timeline integer,
			   start_lsn pg_lsn, stop_lsn pg_lsn, start_time timestamptz,
			   stop_time timestamptz, pg_version integer,
			   system_identifier numeric, bytes bigint,
			   checkpoint_lsn pg_lsn, backup_history_file text,
			   has_manifest boolean, problem text, wal_carried text[])
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
		   h.file_name, coalesce(d.has_manifest, false), d.problem,
		   d.wal_carried
	  FROM d FULL JOIN h
		ON d.start_lsn = h.start_lsn AND d.start_timeline = h.start_timeline
	  CROSS JOIN a
	 ORDER BY coalesce(d.start_lsn, h.start_lsn), d.location
$$;
