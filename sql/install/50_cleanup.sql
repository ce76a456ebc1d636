
-- Post-restore cleanup (issue 5): an ordered registry of hooks, run by hand
-- or by the background worker once per restore, and the audit of each run.
-- Only superusers add hooks (a hook names the role it runs as); a table
-- action runs as the table's owner and a sql hook as its run_as role, never
-- as whoever runs the hooks.  Only the extension's own code writes the
-- audit: nobody is granted INSERT, UPDATE or DELETE on these tables.

CREATE TABLE pitr_restore.cleanup_hook (
	name		text PRIMARY KEY,
	run_order	integer NOT NULL,
	enabled		boolean NOT NULL DEFAULT true,
	action		text NOT NULL CHECK (action IN ('reset_admin', 'jobs_waiting',
								'disable_subscriptions', 'set_column',
								'expect_rows', 'sql')),
	options		jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(options) = 'object'),
	description text,
	created_at	timestamptz NOT NULL DEFAULT now(),
	created_by	name NOT NULL DEFAULT current_user
);
COMMENT ON TABLE pitr_restore.cleanup_hook IS
	'post-restore cleanup hooks, run in run_order by run_cleanup() and after each restore';
REVOKE ALL ON pitr_restore.cleanup_hook FROM PUBLIC;
-- Hooks are part of the database's configuration: keep them across pg_dump.
SELECT pg_catalog.pg_extension_config_dump('pitr_restore.cleanup_hook', '');

-- One row per run, manual or automatic; restore_key names the restore an
-- automatic run followed, and makes that run happen once.
CREATE TABLE pitr_restore.cleanup_runs (
	run_id		bigserial PRIMARY KEY,
	started_at	timestamptz NOT NULL DEFAULT clock_timestamp(),
	finished_at timestamptz,
	trigger		text NOT NULL,
	restore_key text UNIQUE,
	dry_run		boolean NOT NULL DEFAULT false,
	run_by		name NOT NULL DEFAULT current_user,
	hooks_ok	integer,
	hooks_failed integer,
	hooks_skipped integer,
	results		jsonb
);
COMMENT ON TABLE pitr_restore.cleanup_runs IS
	'audit of cleanup runs: when, why (manual or which restore), per-hook outcome in results';
REVOKE ALL ON pitr_restore.cleanup_runs FROM PUBLIC;
-- explicit, as in an updated 1.0 whose grant on it was revoked
REVOKE ALL ON SEQUENCE pitr_restore.cleanup_runs_run_id_seq FROM PUBLIC;

-- Per-hook outcome, committed together with the hook's own effects: what
-- makes an interrupted automatic run resume without repeating a hook.
CREATE TABLE pitr_restore.cleanup_run_hooks (
	run_id		bigint NOT NULL REFERENCES pitr_restore.cleanup_runs ON DELETE CASCADE,
	hook		text NOT NULL,
	action		text NOT NULL,
	status		text NOT NULL CHECK (status IN ('ok', 'failed', 'skipped', 'would run')),
	rows_affected bigint,
	detail		text,
	duration	interval,
	finished_at timestamptz NOT NULL DEFAULT clock_timestamp(),
	PRIMARY KEY (run_id, hook)
);
REVOKE ALL ON pitr_restore.cleanup_run_hooks FROM PUBLIC;

-- System identifiers of the clusters this database has lived in.  Dumped
-- with the database, so after pg_restore into another cluster a row of the
-- old cluster is there, which is how an import is told from a restart.
CREATE TABLE pitr_restore.cluster_identity (
	system_identifier bigint PRIMARY KEY,
	recorded_at timestamptz NOT NULL DEFAULT now()
);
REVOKE ALL ON pitr_restore.cluster_identity FROM PUBLIC;
SELECT pg_catalog.pg_extension_config_dump('pitr_restore.cluster_identity', '');
INSERT INTO pitr_restore.cluster_identity (system_identifier)
	SELECT system_identifier FROM pg_catalog.pg_control_system();

-- The restore this cluster came from (point-in-time recovery or marker
-- file), or NULL.
CREATE FUNCTION pitr_restore.cleanup_restore_key()
RETURNS text
LANGUAGE C VOLATILE
SET search_path = pg_catalog, pitr_restore, pg_temp
AS 'MODULE_PATHNAME', 'pitr_cleanup_restore_key';
REVOKE EXECUTE ON FUNCTION pitr_restore.cleanup_restore_key() FROM PUBLIC;

-- A restore that happened before the extension existed is not this
-- extension's to clean up: record it as seen.
INSERT INTO pitr_restore.cleanup_runs (trigger, restore_key, finished_at,
									   hooks_ok, hooks_failed, hooks_skipped)
	SELECT 'extension created', k, clock_timestamp(), 0, 0, 0
	FROM pitr_restore.cleanup_restore_key() AS k
	WHERE k IS NOT NULL;

-- For superusers only (no grant): not SECURITY DEFINER, so that unqualified
-- table names are resolved with the caller's search_path; the C code stores
-- them schema-qualified and pins search_path for its own queries.
CREATE FUNCTION pitr_restore.add_cleanup_hook(
	name text,
	action text,
	options jsonb DEFAULT '{}',
	run_order integer DEFAULT NULL,
	description text DEFAULT NULL)
RETURNS pitr_restore.cleanup_hook
LANGUAGE C CALLED ON NULL INPUT VOLATILE
AS 'MODULE_PATHNAME', 'pitr_add_cleanup_hook';
REVOKE EXECUTE ON FUNCTION pitr_restore.add_cleanup_hook(text, text, jsonb, integer, text) FROM PUBLIC;

-- Check a hook's options without adding it (also what add_cleanup_hook runs).
CREATE FUNCTION pitr_restore.validate_cleanup_hook(action text, options jsonb)
RETURNS void
LANGUAGE C STRICT VOLATILE
AS 'MODULE_PATHNAME', 'pitr_validate_cleanup_hook';
REVOKE EXECUTE ON FUNCTION pitr_restore.validate_cleanup_hook(text, jsonb) FROM PUBLIC;

CREATE FUNCTION pitr_restore.run_cleanup(
	dry_run boolean DEFAULT false,
	OUT hook text,
	OUT action text,
	OUT status text,
	OUT rows_affected bigint,
	OUT detail text,
	OUT duration interval)
RETURNS SETOF record
LANGUAGE C STRICT VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pitr_restore, pg_temp
AS 'MODULE_PATHNAME', 'pitr_run_cleanup';
REVOKE EXECUTE ON FUNCTION pitr_restore.run_cleanup(boolean) FROM PUBLIC;
-- Running the hooks is for pg_write_server_files: each hook runs as its
-- table's owner or run_as role, and the audit is written as the owner.
-- Adding hooks stays superuser-only.
GRANT EXECUTE ON FUNCTION pitr_restore.run_cleanup(boolean) TO pg_write_server_files;
GRANT SELECT ON pitr_restore.cleanup_hook, pitr_restore.cleanup_runs,
	pitr_restore.cleanup_run_hooks TO pg_write_server_files;
