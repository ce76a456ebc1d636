
/*
 * WAL carried in a backup's own pg_wal (sql/install/10_archive.sql): a
 * column of base_backup and of backups().  base_backup is a cache of
 * backup_dir: emptied so that the next scan reads every backup again and
 * fills the new column.
 */
ALTER TABLE pitr_restore.base_backup ADD COLUMN wal_carried text[];
DELETE FROM pitr_restore.base_backup;

DROP FUNCTION pitr_restore.backups(text);

/*
 * backups: base backups under pitr_restore.backup_dir and those the
 * archive's backup history files speak of, matched by start LSN; location
 * is NULL for a backup that is not in backup_dir.  wal_carried names the
 * segments of the backup's own pg_wal (-X fetch, -X stream) that recovery
 * reads when the archive lacks them.
 */
CREATE FUNCTION pitr_restore.backups(archive_dir text DEFAULT NULL)
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
		   WHERE b.system_identifier IS NULL OR a.system_identifier IS NULL
			  OR b.system_identifier = a.system_identifier)
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
REVOKE EXECUTE ON FUNCTION pitr_restore.backups(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION pitr_restore.backups(text) TO pg_read_server_files;

-- Internal: does the WAL a base backup carries in its own pg_wal bridge
-- the path from its start to segment upto (exclusive)?  Each segment on
-- the way is usable in the archive, or the archive has no file for it and
-- the backup carries it within its start..stop: what resolve_target
-- counts for that backup.  Only a stretch that ends within the backup's
-- own WAL can be bridged, which bounds the series.
CREATE FUNCTION pitr_restore.carried_bridge(arch integer, tlis integer[],
	begins pg_lsn[], loc text, upto bigint)
RETURNS boolean
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pitr_restore, pg_temp
AS $$
BEGIN
	RETURN coalesce((
		SELECT bool_and(
				 EXISTS (SELECT 1 FROM pitr_restore.archive_file f
						  WHERE f.archive_id = arch AND f.kind = 'segment'
							AND f.timeline = r.tli AND f.segno = s.s
							AND f.status = 'ok')
				 OR (pitr_restore.segment_file_name(r.tli, s.s, a.segment_size)
						 = ANY (bb.wal_carried)
					 AND NOT EXISTS (SELECT 1 FROM pitr_restore.archive_file f
									  WHERE f.archive_id = arch AND f.kind = 'segment'
										AND f.timeline = r.tli AND f.segno = s.s)))
		  FROM pitr_restore.base_backup bb
		  JOIN pitr_restore.archive a ON a.archive_id = arch
		  CROSS JOIN LATERAL generate_series(
				pitr_restore.lsn_segno(bb.start_lsn, a.segment_size), upto - 1) AS s(s)
		  JOIN pitr_restore.path_ranges(arch, tlis, begins) r
			ON r.lo <= s.s AND (r.hi IS NULL OR s.s < r.hi)
		 WHERE bb.location = loc AND bb.wal_carried IS NOT NULL
		   AND bb.stop_lsn > bb.start_lsn
		   AND upto - 1 <= pitr_restore.lsn_segno(bb.stop_lsn - 1, a.segment_size)),
		false);
END
$$;
REVOKE EXECUTE ON FUNCTION pitr_restore.carried_bridge(integer, integer[],
	pg_lsn[], text, bigint) FROM PUBLIC;
