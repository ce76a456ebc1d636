-- Who may do what (issue 9), read from the catalog rather than listed by
-- hand: every function, table and sequence that belongs to the extension,
-- and what PUBLIC, a plain role and the predefined roles may do with it.
-- The README's "Who may do what" is this table in prose.
CREATE EXTENSION pitr_restore;
CREATE ROLE pitr_plain;

CREATE TEMP VIEW pitr_members AS
SELECT d.classid, d.objid
  FROM pg_depend d
 WHERE d.refclassid = 'pg_extension'::regclass
   AND d.refobjid = (SELECT oid FROM pg_extension WHERE extname = 'pitr_restore')
   AND d.deptype = 'e';

CREATE TEMP VIEW pitr_roles(ord, role) AS
VALUES (1, 'public'), (2, 'pitr_plain'), (3, 'pg_read_server_files'),
	   (4, 'pg_write_server_files'), (5, 'pg_monitor');

-- Functions: who may EXECUTE; whether SECURITY DEFINER; whether search_path
-- is pinned to pg_catalog, pitr_restore, pg_temp.
SELECT p.oid::regprocedure AS function,
	   p.prosecdef AS secdef,
	   coalesce('search_path=pg_catalog, pitr_restore, pg_temp' = ANY (p.proconfig), false) AS pinned,
	   (SELECT string_agg(r.role, ', ' ORDER BY r.ord) FROM pitr_roles r
		 WHERE has_function_privilege(r.role, p.oid, 'EXECUTE')) AS execute_by
  FROM pitr_members m JOIN pg_proc p ON m.classid = 'pg_proc'::regclass AND p.oid = m.objid
 ORDER BY p.oid::regprocedure::text;

-- Tables and sequences: each role's privileges (r = SELECT, a = INSERT,
-- w = UPDATE, d = DELETE, U = USAGE).
SELECT c.oid::regclass AS relation, c.relkind,
	   (SELECT string_agg(r.role || '=' ||
			CASE WHEN c.relkind = 'S' THEN
				CASE WHEN has_sequence_privilege(r.role, c.oid, 'SELECT') THEN 'r' ELSE '' END ||
				CASE WHEN has_sequence_privilege(r.role, c.oid, 'UPDATE') THEN 'w' ELSE '' END ||
				CASE WHEN has_sequence_privilege(r.role, c.oid, 'USAGE') THEN 'U' ELSE '' END
			ELSE
				CASE WHEN has_table_privilege(r.role, c.oid, 'SELECT') THEN 'r' ELSE '' END ||
				CASE WHEN has_table_privilege(r.role, c.oid, 'INSERT') THEN 'a' ELSE '' END ||
				CASE WHEN has_table_privilege(r.role, c.oid, 'UPDATE') THEN 'w' ELSE '' END ||
				CASE WHEN has_table_privilege(r.role, c.oid, 'DELETE') THEN 'd' ELSE '' END
			END, ', ' ORDER BY r.ord)
		  FROM pitr_roles r
		 WHERE CASE WHEN c.relkind = 'S'
					THEN has_sequence_privilege(r.role, c.oid, 'SELECT, UPDATE, USAGE')
					ELSE has_table_privilege(r.role, c.oid, 'SELECT, INSERT, UPDATE, DELETE') END
	   ) AS privileges
  FROM pitr_members m JOIN pg_class c ON m.classid = 'pg_class'::regclass AND c.oid = m.objid
 ORDER BY c.oid::regclass::text;

-- The schema: who may use it.
SELECT string_agg(r.role, ', ' ORDER BY r.ord) AS schema_usage_by
  FROM pitr_roles r WHERE has_schema_privilege(r.role, 'pitr_restore', 'USAGE');

-- Nobody but the extension writes its tables: every INSERT, UPDATE and
-- DELETE of every extension table, tried as each role, is refused.
CREATE TEMP TABLE write_attempts (role text, relation text, op text, outcome text);
DO $$
DECLARE
	r record;
	t record;
	op text;
	outcome text;
	results text[] := '{}';
BEGIN
	FOR r IN SELECT role FROM pitr_roles WHERE role <> 'public' ORDER BY ord LOOP
		FOR t IN SELECT c.oid::regclass::text AS rel
				   FROM pitr_members m JOIN pg_class c
					 ON m.classid = 'pg_class'::regclass AND c.oid = m.objid
				  WHERE c.relkind IN ('r', 'p') ORDER BY 1 LOOP
			FOREACH op IN ARRAY ARRAY['INSERT', 'UPDATE', 'DELETE'] LOOP
				BEGIN
					EXECUTE format('SET LOCAL ROLE %I', r.role);
					EXECUTE CASE op
						WHEN 'INSERT' THEN format('INSERT INTO %s DEFAULT VALUES', t.rel)
						WHEN 'UPDATE' THEN format('UPDATE %s SET %I = DEFAULT WHERE false', t.rel,
							(SELECT attname FROM pg_attribute WHERE attrelid = t.rel::regclass
							   AND attnum > 0 AND NOT attisdropped ORDER BY attnum LIMIT 1))
						ELSE format('DELETE FROM %s WHERE false', t.rel) END;
					RAISE EXCEPTION 'allowed';
				EXCEPTION
					WHEN insufficient_privilege THEN outcome := 'permission denied';
					WHEN OTHERS THEN outcome := 'ALLOWED';	-- got past the privilege check
				END;
				results := results || ARRAY[r.role, t.rel, op, outcome];
			END LOOP;
		END LOOP;
	END LOOP;
	INSERT INTO write_attempts
		SELECT results[i], results[i + 1], results[i + 2], results[i + 3]
		  FROM generate_series(1, array_length(results, 1), 4) AS i;
END
$$;
SELECT outcome, count(*) AS attempts, count(DISTINCT relation) AS tables,
	   string_agg(DISTINCT role, ', ') AS roles
  FROM write_attempts GROUP BY outcome ORDER BY outcome;
-- The writes that got through, if any.
SELECT role, relation, op FROM write_attempts WHERE outcome <> 'permission denied'
 ORDER BY 1, 2, 3;

DROP TABLE write_attempts;
DROP VIEW pitr_roles;
DROP VIEW pitr_members;
DROP ROLE pitr_plain;
DROP EXTENSION pitr_restore;
