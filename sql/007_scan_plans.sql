-- A scan's insert statements are prepared once per session, not once per
-- scan: twenty scans that each index a new file keep no plan more.
SET client_min_messages = warning;
DROP EXTENSION IF EXISTS pitr_restore;
CREATE EXTENSION pitr_restore;
RESET client_min_messages;
\set dir `mktemp -d`
SET pitr_restore.scan_workers = 0;
CREATE FUNCTION scan_with_new_file(i int) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
	EXECUTE format('COPY (SELECT %L) TO %L', 'not WAL ' || i,
				   current_setting('pitr_plans.dir') || '/0000000900000AAA' ||
				   upper(lpad(to_hex(i), 8, '0')) || '.partial');
	PERFORM pitr_restore.scan_archive(current_setting('pitr_plans.dir'));
END $$;
SET pitr_plans.dir = :'dir';
-- the first scan prepares the plan
SELECT scan_with_new_file(0);
SELECT count(*) AS plans_before FROM pg_backend_memory_contexts
 WHERE name = 'CachedPlanSource' \gset
SELECT count(scan_with_new_file(i)) FROM generate_series(1, 20) i;
SELECT count(*) FROM pitr_restore.archive_file f JOIN pitr_restore.archive a USING (archive_id)
 WHERE a.directory = pitr_restore.archive_path(:'dir');
SELECT count(*) - :plans_before AS plans_kept_by_20_scans FROM pg_backend_memory_contexts
 WHERE name = 'CachedPlanSource';
DROP FUNCTION scan_with_new_file(int);
\setenv PITR_PLANS_DIR :dir
\! rm -rf "$PITR_PLANS_DIR"
