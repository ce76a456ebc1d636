/*
 * Named restore marks: restore points recorded with who and why, and
 * marked transactions (SQL Server's BEGIN TRAN ... WITH MARK), found in the
 * WAL archive itself so that a restore that rolls this table back loses
 * nothing.
 */

CREATE TABLE pitr_restore.marks (
	name text PRIMARY KEY CHECK (octet_length(name) BETWEEN 1 AND 63),
	kind text NOT NULL CHECK (kind IN ('restore_point', 'transaction')),
	lsn pg_lsn,				-- restore point: where recovery_target_name stops;
							-- transaction: the mark's own record
	xid xid8,				-- transaction marks
	timeline integer,
	created_at timestamptz NOT NULL DEFAULT clock_timestamp(),
	created_by name NOT NULL DEFAULT current_user,
	description text
);
SELECT pg_catalog.pg_extension_config_dump('pitr_restore.marks', '');
REVOKE ALL ON pitr_restore.marks FROM PUBLIC;
GRANT SELECT ON pitr_restore.marks TO pg_read_server_files;

-- Checks shared by both kinds of mark.
CREATE FUNCTION pitr_restore.check_mark_name(mark_name text)
RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pitr_restore, pg_temp
AS $$
BEGIN
	IF mark_name IS NULL OR mark_name = '' THEN
		RAISE EXCEPTION USING ERRCODE = 'invalid_parameter_value',
			MESSAGE = 'mark name must not be empty';
	END IF;
	-- a newline or tab in recovery_target_name breaks postgresql.auto.conf
	IF mark_name ~ '[[:cntrl:]]' THEN
		RAISE EXCEPTION USING ERRCODE = 'invalid_parameter_value',
			MESSAGE = 'mark name must not contain control characters',
			DETAIL = format('Character %s of the name is a newline, tab or other control character.',
							length(substring(mark_name from '^[^[:cntrl:]]*')) + 1),
			HINT = 'A restored server reads the name back from postgresql.auto.conf, one setting a line: use printable characters only.';
	END IF;
	IF octet_length(mark_name) >= 64 THEN
		RAISE EXCEPTION USING ERRCODE = 'invalid_parameter_value',
			MESSAGE = 'mark name is too long',
			DETAIL = format('A mark is named by a restore point, whose name is at most 63 bytes; this one has %s.',
							octet_length(mark_name));
	END IF;
	IF EXISTS (SELECT 1 FROM pitr_restore.marks m WHERE m.name = mark_name) THEN
		RAISE EXCEPTION USING ERRCODE = 'unique_violation',
			MESSAGE = format('mark "%s" already exists', mark_name),
			HINT = 'Recovery stops at the first restore point of a name, so a second mark of the same name would restore to the wrong one: choose another name.';
	END IF;
END
$$;
REVOKE EXECUTE ON FUNCTION pitr_restore.check_mark_name FROM PUBLIC;

-- Who called: inside SECURITY DEFINER current_user is the owner, but the
-- role setting still names a SET ROLE, and session_user the login.
CREATE FUNCTION pitr_restore.invoker()
RETURNS name
LANGUAGE sql STABLE
SET search_path = pg_catalog, pitr_restore, pg_temp
AS $$
	SELECT CASE WHEN current_setting('role') = 'none' THEN session_user
				ELSE current_setting('role')::name END
$$;
REVOKE EXECUTE ON FUNCTION pitr_restore.invoker FROM PUBLIC;

/*
 * create_mark: a restore point, recorded.  Returns what
 * pg_create_restore_point returns: the LSN at which recovery_target_name
 * stops.  SECURITY DEFINER so that granting EXECUTE on it is enough.
 */
CREATE FUNCTION pitr_restore.create_mark(name text, description text DEFAULT NULL)
RETURNS pg_lsn
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pitr_restore, pg_temp
AS $$
DECLARE
	mark_lsn pg_lsn;
BEGIN
	PERFORM pitr_restore.check_mark_name(create_mark.name);
	-- The row first: a concurrent mark of the same name fails on the key.
	INSERT INTO pitr_restore.marks (name, kind, timeline, created_by, description)
	VALUES (create_mark.name, 'restore_point',
			(SELECT timeline_id FROM pg_control_checkpoint()), pitr_restore.invoker(),
			create_mark.description);
	mark_lsn := pg_create_restore_point(create_mark.name);
	UPDATE pitr_restore.marks m SET lsn = mark_lsn WHERE m.name = create_mark.name;
	RETURN mark_lsn;
END
$$;
REVOKE EXECUTE ON FUNCTION pitr_restore.create_mark FROM PUBLIC;

/*
 * mark_transaction: marks the calling transaction with a transactional
 * logical message carrying the name, tied to its xid.  If the transaction
 * aborts, the mark never existed.
 */
CREATE FUNCTION pitr_restore.mark_transaction(name text, description text DEFAULT NULL)
RETURNS xid8
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pitr_restore, pg_temp
AS $$
DECLARE
	msg_lsn pg_lsn;
BEGIN
	PERFORM pitr_restore.check_mark_name(mark_transaction.name);
	msg_lsn := pg_logical_emit_message(true, 'pitr_restore.mark', mark_transaction.name);
	INSERT INTO pitr_restore.marks (name, kind, lsn, xid, timeline, created_by, description)
	VALUES (mark_transaction.name, 'transaction', msg_lsn, pg_current_xact_id(),
			(SELECT timeline_id FROM pg_control_checkpoint()), pitr_restore.invoker(),
			mark_transaction.description);
	RETURN pg_current_xact_id();
END
$$;
REVOKE EXECUTE ON FUNCTION pitr_restore.mark_transaction FROM PUBLIC;

/*
 * restore_points: every restore point and marked transaction in the
 * archive, in WAL order, with the occurrence of its name.  lsn is where the
 * record starts (as pg_waldump shows it); end_lsn is where
 * recovery_target_name stops (what pg_create_restore_point returned).
 * kind: restore_point, mark (made by create_mark) or transaction_mark; a
 * transaction mark's created is its commit time.  Marks made on a cluster
 * whose marks table a restore rolled back are still listed.
 */
CREATE FUNCTION pitr_restore.restore_points(archive_dir text DEFAULT NULL)
RETURNS TABLE (name text, lsn pg_lsn, end_lsn pg_lsn, timeline integer,
			   created timestamptz, kind text, description text,
			   occurrence bigint, xid bigint)
LANGUAGE sql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pitr_restore, pg_temp
AS $$
	-- Index first, in a statement of its own: the query below must see it.
	SELECT pitr_restore.indexed_archive(archive_dir);
	WITH a AS (SELECT pitr_restore.indexed_archive(archive_dir) AS archive_id),
	rp AS (
		SELECT DISTINCT ON (e.lsn, e.timeline) e.*
		  FROM a JOIN pitr_restore.wal_event e USING (archive_id)
		 WHERE e.kind IN ('restore_point', 'mark')
		   AND e.outcome IS DISTINCT FROM 'aborted'
		   -- a record copied into a timeline's first segment is its parent's
		   AND e.lsn >= pitr_restore.timeline_begin(e.archive_id, e.timeline)
		 ORDER BY e.lsn, e.timeline, e.file_name
	),
	listed AS (
		SELECT rp.name, rp.lsn, rp.end_lsn, rp.timeline, rp.event_time,
			   CASE WHEN rp.kind = 'mark' THEN 'transaction_mark'
					WHEN m.name IS NOT NULL THEN 'mark'
					ELSE 'restore_point' END AS kind,
			   m.description,
			   CASE WHEN rp.kind = 'mark' THEN rp.xid END AS xid
		  FROM rp
		  LEFT JOIN pitr_restore.marks m
			ON m.name = rp.name
		   AND ((rp.kind = 'restore_point' AND m.kind = 'restore_point' AND m.lsn = rp.end_lsn)
				OR (rp.kind = 'mark' AND m.kind = 'transaction'
					AND (m.xid::text::numeric % 4294967296) = rp.xid))
	)
	SELECT l.name, l.lsn, l.end_lsn, l.timeline, l.event_time, l.kind,
		   l.description,
		   row_number() OVER (PARTITION BY l.name ORDER BY l.lsn, l.timeline),
		   l.xid
	  FROM listed l
	 ORDER BY l.lsn, l.timeline
$$;
REVOKE EXECUTE ON FUNCTION pitr_restore.restore_points(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION pitr_restore.restore_points(text) TO pg_read_server_files;
