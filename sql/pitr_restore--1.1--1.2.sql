/* pitr_restore 1.1 -> 1.2: only what changed, as DDL. */

-- complain if script is sourced in psql, rather than via ALTER EXTENSION
\echo Use "ALTER EXTENSION pitr_restore UPDATE TO '1.2'" to load this file. \quit

-- The moment before the mistake: table_history (issue 22) -------------------

/*
 * The relation files (relfilenodes) each archived segment touches: every
 * block reference, every file created, every file a transaction's end
 * drops.  Written by the scan for the segments it reads itself, and by
 * table_history for segments it had to read in full (those summarised from
 * a sidecar or by a scan worker have no row until then).  dbs and
 * relfilenodes are in step.
 */
CREATE TABLE pitr_restore.segment_relations (
	archive_id integer NOT NULL,
	file_name text NOT NULL,
	dbs oid[] NOT NULL,
	relfilenodes oid[] NOT NULL,
	PRIMARY KEY (archive_id, file_name),
	FOREIGN KEY (archive_id, file_name)
		REFERENCES pitr_restore.archive_file ON DELETE CASCADE
);
GRANT SELECT ON pitr_restore.segment_relations TO pg_read_server_files;

/*
 * The relation journal: each table's relfilenodes and names over time, in
 * this database, written in the transaction of the DDL that assigns them
 * (so xid is that DDL's).  event: create, rewrite (ALTER TABLE, VACUUM
 * FULL, CLUSTER, REFRESH), truncate, rename, drop, or seen (a table found
 * as it is, journalled before a DROP or a history so that its name stays
 * known).
 */
CREATE TABLE pitr_restore.relation_journal (
	journal_id bigserial PRIMARY KEY,
	reloid oid NOT NULL,
	relfilenode oid NOT NULL,
	reltablespace oid NOT NULL,
	toast_relfilenode oid NOT NULL,
	nspname name NOT NULL,
	relname name NOT NULL,
	relkind "char" NOT NULL,
	event text NOT NULL CHECK (event IN ('create', 'rewrite', 'truncate',
										 'rename', 'drop', 'seen')),
	xid xid8 NOT NULL,
	noted_at timestamptz NOT NULL DEFAULT pg_catalog.clock_timestamp()
);
CREATE INDEX ON pitr_restore.relation_journal (reloid, journal_id);
CREATE INDEX ON pitr_restore.relation_journal (relname);
GRANT SELECT ON pitr_restore.relation_journal TO pg_read_server_files;

-- Internal: journal the tables (all, or those in oids) whose relfilenode or
-- name differs from their last journal row.
CREATE FUNCTION pitr_restore.journal_note(ev text, oids oid[])
RETURNS void
LANGUAGE sql VOLATILE
SET search_path = pg_catalog, pitr_restore, pg_temp
AS $$
	INSERT INTO pitr_restore.relation_journal
		(reloid, relfilenode, reltablespace, toast_relfilenode, nspname,
		 relname, relkind, event, xid)
	SELECT c.oid, c.relfilenode, c.reltablespace, coalesce(t.relfilenode, 0),
		   n.nspname, c.relname, c.relkind,
		   CASE WHEN last.reloid IS NULL OR last.event = 'drop' THEN
					CASE WHEN ev = 'create' THEN 'create' ELSE 'seen' END
				WHEN last.relfilenode <> c.relfilenode THEN
					-- found changed by a history or a DROP: not a DDL of
					-- this transaction (the WAL tells what happened)
					CASE WHEN ev IN ('truncate', 'rewrite') THEN ev
						 WHEN ev = 'seen' THEN 'seen' ELSE 'rewrite' END
				ELSE 'rename' END,
		   pg_current_xact_id()
	  FROM pg_class c
	  JOIN pg_namespace n ON n.oid = c.relnamespace
	  LEFT JOIN pg_class t ON t.oid = c.reltoastrelid
	  LEFT JOIN LATERAL (
		SELECT j.reloid, j.relfilenode, j.nspname, j.relname, j.event
		  FROM pitr_restore.relation_journal j
		 WHERE j.reloid = c.oid
		 ORDER BY j.journal_id DESC LIMIT 1) last ON true
	 WHERE c.relkind IN ('r', 'm') AND c.relpersistence = 'p'
	   AND c.relfilenode <> 0
	   AND n.nspname NOT IN ('pg_catalog', 'information_schema', 'pitr_restore')
	   AND n.nspname !~ '^pg_(toast|temp)'
	   AND (oids IS NULL OR c.oid = ANY (oids))
	   AND (last.reloid IS NULL OR last.event = 'drop'
			OR last.relfilenode <> c.relfilenode
			OR last.nspname <> n.nspname OR last.relname <> c.relname)
$$;
REVOKE EXECUTE ON FUNCTION pitr_restore.journal_note(text, oid[]) FROM PUBLIC;

-- Event triggers: CREATE / ALTER (ddl_command_end), DROP (sql_drop, and
-- ddl_command_start of any DROP to journal tables not yet known).  A
-- failure to journal is a WARNING: it never fails the user's command.
CREATE FUNCTION pitr_restore.journal_ddl_end()
RETURNS event_trigger
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pitr_restore, pg_temp
AS $$
DECLARE
	oids oid[];
BEGIN
	SELECT array_agg(DISTINCT d.objid) INTO oids
	  FROM pg_event_trigger_ddl_commands() d
	 WHERE d.classid = 'pg_class'::regclass AND d.objsubid = 0;
	IF oids IS NOT NULL THEN
		PERFORM pitr_restore.journal_note(
			CASE WHEN tg_tag IN ('CREATE TABLE', 'CREATE TABLE AS', 'SELECT INTO',
								 'CREATE MATERIALIZED VIEW')
				 THEN 'create' ELSE 'rewrite' END, oids);
	END IF;
EXCEPTION WHEN OTHERS THEN
	RAISE WARNING 'could not update pitr_restore''s relation journal: %', SQLERRM;
END
$$;
REVOKE EXECUTE ON FUNCTION pitr_restore.journal_ddl_end() FROM PUBLIC;

CREATE FUNCTION pitr_restore.journal_drop_start()
RETURNS event_trigger
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pitr_restore, pg_temp
AS $$
BEGIN
	IF tg_tag LIKE 'DROP %' THEN
		PERFORM pitr_restore.journal_note('seen', NULL);
	END IF;
EXCEPTION WHEN OTHERS THEN
	RAISE WARNING 'could not update pitr_restore''s relation journal: %', SQLERRM;
END
$$;
REVOKE EXECUTE ON FUNCTION pitr_restore.journal_drop_start() FROM PUBLIC;

CREATE FUNCTION pitr_restore.journal_dropped()
RETURNS event_trigger
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pitr_restore, pg_temp
AS $$
BEGIN
	INSERT INTO pitr_restore.relation_journal
		(reloid, relfilenode, reltablespace, toast_relfilenode, nspname,
		 relname, relkind, event, xid)
	SELECT d.objid, last.relfilenode, last.reltablespace, last.toast_relfilenode,
		   d.schema_name, d.object_name, last.relkind, 'drop', pg_current_xact_id()
	  FROM pg_event_trigger_dropped_objects() d
	  JOIN LATERAL (
		SELECT j.* FROM pitr_restore.relation_journal j
		 WHERE j.reloid = d.objid
		 ORDER BY j.journal_id DESC LIMIT 1) last ON last.event <> 'drop'
	 WHERE d.classid = 'pg_class'::regclass AND d.objsubid = 0
	   AND d.object_type IN ('table', 'materialized view');
EXCEPTION WHEN OTHERS THEN
	RAISE WARNING 'could not update pitr_restore''s relation journal: %', SQLERRM;
END
$$;
REVOKE EXECUTE ON FUNCTION pitr_restore.journal_dropped() FROM PUBLIC;

CREATE EVENT TRIGGER pitr_restore_journal_ddl ON ddl_command_end
	EXECUTE FUNCTION pitr_restore.journal_ddl_end();
CREATE EVENT TRIGGER pitr_restore_journal_drop_start ON ddl_command_start
	EXECUTE FUNCTION pitr_restore.journal_drop_start();
CREATE EVENT TRIGGER pitr_restore_journal_dropped ON sql_drop
	EXECUTE FUNCTION pitr_restore.journal_dropped();

-- Internal: the WAL walk behind table_history (src/history/table_history.c).
CREATE FUNCTION pitr_restore._history_walk(arch integer, tlis integer[],
	begins pg_lsn[], rels oid[], watch xid8[], until timestamptz,
	OUT xid xid8, OUT commit_time timestamptz, OUT commit_lsn pg_lsn,
	OUT committed boolean, OUT op text, OUT relfilenode oid, OUT n bigint)
RETURNS SETOF record
AS 'MODULE_PATHNAME', 'pitr_history_walk'
LANGUAGE C CALLED ON NULL INPUT VOLATILE
SET search_path = pg_catalog, pitr_restore, pg_temp;
REVOKE EXECUTE ON FUNCTION pitr_restore._history_walk FROM PUBLIC;

-- Internal: table_history's body (run as the extension's owner).
CREATE FUNCTION pitr_restore._table_history(rel text, since timestamptz,
	until timestamptz, archive_dir text)
RETURNS TABLE (h_xid xid8, h_commit_time timestamptz, h_commit_lsn pg_lsn,
			   h_committed boolean, h_operation text, h_rows bigint,
			   h_relation text)
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pitr_restore, pg_temp
AS $$
#variable_conflict use_column
DECLARE
	parts text[];
	want_nsp name;
	want_rel name;
	arch integer;
	newest integer;
	p record;
	rels oid[];
	watch xid8[];
	reloids oid[];
BEGIN
	IF rel IS NULL THEN
		RAISE EXCEPTION 'relation must not be null'
			USING ERRCODE = 'null_value_not_allowed';
	END IF;
	parts := parse_ident(rel);
	IF array_length(parts, 1) > 2 THEN
		RAISE EXCEPTION 'relation name "%" has too many dotted parts', rel
			USING ERRCODE = 'invalid_parameter_value';
	END IF;
	want_rel := parts[array_length(parts, 1)];
	want_nsp := CASE WHEN array_length(parts, 1) = 2 THEN parts[1] END;

	arch := pitr_restore.refresh_archive(archive_dir);
	-- Tables as they are now keep their names even if dropped later.
	PERFORM pitr_restore.journal_note('seen', NULL);

	SELECT array_agg(DISTINCT o) INTO reloids FROM (
		SELECT j.reloid AS o FROM pitr_restore.relation_journal j
		 WHERE j.relname = want_rel AND (want_nsp IS NULL OR j.nspname = want_nsp)
		UNION
		SELECT c.oid FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
		 WHERE c.relname = want_rel AND (want_nsp IS NULL OR n.nspname = want_nsp)
		   AND c.relkind IN ('r', 'm')) s;
	IF reloids IS NULL THEN
		RAISE EXCEPTION 'relation "%" was never seen in this database', rel
			USING ERRCODE = 'undefined_table',
				  DETAIL = 'Neither the database nor pitr_restore''s relation journal knows a table of that name.';
	END IF;

	SELECT array_agg(DISTINCT f) INTO rels FROM (
		SELECT j.relfilenode AS f FROM pitr_restore.relation_journal j
		 WHERE j.reloid = ANY (reloids) AND j.relfilenode <> 0
		UNION
		SELECT c.relfilenode FROM pg_class c
		 WHERE c.oid = ANY (reloids) AND c.relfilenode <> 0) s;
	SELECT coalesce(array_agg(DISTINCT j.xid), '{}') INTO watch
	  FROM pitr_restore.relation_journal j
	 WHERE j.reloid = ANY (reloids)
	   AND j.event IN ('create', 'rewrite', 'truncate', 'drop');

	-- The archive's timeline this server is on, when it is this server's
	-- archive (a restore elsewhere may have added newer ones); else the
	-- newest.
	SELECT t.timeline INTO newest FROM pitr_restore.timeline_list(arch) t
	  JOIN pitr_restore.archive a ON a.archive_id = arch
	 WHERE a.system_identifier = (SELECT s.system_identifier FROM pg_control_system() s)
	   AND t.timeline = (SELECT c.timeline_id FROM pg_control_checkpoint() c);
	IF newest IS NULL THEN
		SELECT max(t.timeline) INTO newest FROM pitr_restore.timeline_list(arch) t;
	END IF;
	IF newest IS NULL THEN
		RETURN;
	END IF;
	SELECT * INTO p FROM pitr_restore.timeline_path(arch, newest);

	RETURN QUERY
	WITH facts AS (
		SELECT w.*, coalesce(jf.reloid, lc.oid) AS reloid
		  FROM pitr_restore._history_walk(arch, p.tlis, p.begins,
										  coalesce(rels, '{}'), watch, until) w
		  LEFT JOIN LATERAL (
			SELECT j.reloid FROM pitr_restore.relation_journal j
			 WHERE j.relfilenode = w.relfilenode AND j.reloid = ANY (reloids)
			 LIMIT 1) jf ON true
		  LEFT JOIN pg_class lc
			ON lc.relfilenode = w.relfilenode AND lc.oid = ANY (reloids)
	),
	-- Journalled DDL of the table, placed by its transaction's end.
	ddl AS (
		SELECT DISTINCT ON (j.reloid, j.xid, j.event)
			   j.xid, e.commit_time, e.commit_lsn, e.committed,
			   j.event AS operation, NULL::bigint AS rows, j.reloid
		  FROM pitr_restore.relation_journal j
		  JOIN (SELECT DISTINCT f.xid, f.commit_time, f.commit_lsn, f.committed
				  FROM facts f WHERE f.commit_lsn IS NOT NULL) e ON e.xid = j.xid
		 WHERE j.reloid = ANY (reloids)
		   AND j.event IN ('create', 'rewrite', 'truncate', 'drop')
	),
	-- File creations and drops the journal did not explain (a TRUNCATE in
	-- a session without the library loaded, a DDL before the journal).
	files AS (
		SELECT f.xid, f.commit_time, f.commit_lsn, f.committed, f.reloid,
			   bool_or(f.op = 'created') AS created,
			   bool_or(f.op = 'dropped') AS dropped,
			   bool_or(f.op = 'written') AS written
		  FROM facts f
		 WHERE f.op IN ('created', 'dropped', 'written') AND f.reloid IS NOT NULL
		 GROUP BY 1, 2, 3, 4, 5
	),
	inferred AS (
		SELECT x.xid, x.commit_time, x.commit_lsn, x.committed,
			   CASE WHEN x.created AND x.dropped THEN
						CASE WHEN x.written THEN 'rewrite' ELSE 'truncate' END
					WHEN x.created THEN 'create'
					ELSE 'drop' END, NULL::bigint, x.reloid
		  FROM files x
		 WHERE (x.created OR x.dropped)
		   AND NOT EXISTS (SELECT 1 FROM ddl d
							WHERE d.xid = x.xid AND d.reloid = x.reloid)
	),
	dml AS (
		SELECT f.xid, f.commit_time, f.commit_lsn, f.committed, f.op,
			   sum(f.n)::bigint, f.reloid
		  FROM facts f
		 WHERE f.op IN ('insert', 'update', 'delete')
		 GROUP BY 1, 2, 3, 4, 5, 7
	),
	everything AS (
		SELECT * FROM ddl UNION ALL SELECT * FROM inferred UNION ALL SELECT * FROM dml
	)
	SELECT e.xid, e.commit_time, e.commit_lsn, e.committed, e.operation,
		   e.rows, nm.name
	  FROM everything e
	  LEFT JOIN LATERAL (
		SELECT coalesce(
			(SELECT format('%I.%I', j.nspname, j.relname)
			   FROM pitr_restore.relation_journal j
			  WHERE j.reloid = e.reloid
				AND (e.commit_time IS NULL OR j.noted_at <= e.commit_time)
			  ORDER BY j.journal_id DESC LIMIT 1),
			(SELECT format('%I.%I', j.nspname, j.relname)
			   FROM pitr_restore.relation_journal j
			  WHERE j.reloid = e.reloid ORDER BY j.journal_id LIMIT 1),
			(SELECT format('%I.%I', n.nspname, c.relname)
			   FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
			  WHERE c.oid = e.reloid)) AS name) nm ON true
	 WHERE (since IS NULL OR e.commit_time >= since)
	   AND (until IS NULL OR e.commit_time <= until)
	 ORDER BY e.commit_lsn NULLS LAST, e.xid,
			  array_position(ARRAY['create', 'truncate', 'rewrite', 'insert',
								   'update', 'delete', 'drop'], e.operation);
END
$$;
REVOKE EXECUTE ON FUNCTION pitr_restore._table_history FROM PUBLIC;

/*
 * table_history: one row per transaction and operation that touched a
 * table in the archive's WAL (along this server's timeline when the archive
 * is its own, else the newest), ordered by
 * commit.  relation is "name" (any schema) or "schema.name"; a live table
 * of that name and every table the journal knew by it are followed across
 * their relfilenodes.  Only this database's transactions.
 */
CREATE FUNCTION pitr_restore.table_history(relation text,
	since timestamptz DEFAULT NULL,
	until timestamptz DEFAULT NULL,
	archive_dir text DEFAULT NULL)
RETURNS TABLE (xid xid8, commit_time timestamptz, commit_lsn pg_lsn,
			   committed boolean, operation text, rows bigint, relation text)
LANGUAGE sql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pitr_restore, pg_temp
AS $$ SELECT * FROM pitr_restore._table_history($1, $2, $3, $4) $$;
REVOKE EXECUTE ON FUNCTION pitr_restore.table_history FROM PUBLIC;
GRANT EXECUTE ON FUNCTION pitr_restore.table_history TO pg_read_server_files;

-- The moment before the mistake: restore_table (issue 22) -------------------

/*
 * restore_table: the table as it was at the target, copied into this
 * database as new_name (schema-qualified or in the creation schema; the
 * schema must exist, the table must not) with its columns, types,
 * defaults, constraints (not foreign keys) and indexes, owned by the
 * caller.  Built in a private side server (prepare_restore into a
 * temporary directory, archiving off, a private Unix socket, paused at the
 * target), always stopped and removed afterwards.  Runs as the caller:
 * superuser, or privileges of pg_read_server_files, pg_write_server_files
 * and pg_execute_server_program.
 */
CREATE FUNCTION pitr_restore.restore_table(relation text, new_name text,
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
	OUT stop_lsn pg_lsn, OUT stop_before boolean,
	OUT last_xid xid, OUT last_commit_time timestamptz,
	OUT next_xid xid, OUT next_commit_time timestamptz,
	OUT timeline integer, OUT backup text, OUT rows_copied bigint)
RETURNS record
AS 'MODULE_PATHNAME', 'pitr_restore_table'
LANGUAGE C CALLED ON NULL INPUT VOLATILE;
-- Not SECURITY DEFINER and no pinned search_path: it creates the table as
-- the caller, and an unqualified new_name lands in the caller's creation
-- schema as CREATE TABLE's would; every name it runs itself is qualified.
REVOKE EXECUTE ON FUNCTION pitr_restore.restore_table FROM PUBLIC;
GRANT EXECUTE ON FUNCTION pitr_restore.restore_table TO pg_execute_server_program;
