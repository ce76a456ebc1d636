-- Post-restore cleanup hooks: registry, actions, runs, privileges.
CREATE EXTENSION pitr_restore;
SET client_min_messages = warning;

-- Fixtures: what an application database looks like after a restore.
CREATE SCHEMA app;
CREATE TABLE app.users (user_id text PRIMARY KEY, email text, enabled boolean,
	login_count int);
INSERT INTO app.users VALUES ('Admin', 'admin@prod.example', true, 7),
	('alice', 'alice@prod.example', false, 3), ('bob', 'bob@prod.example', false, 0);
CREATE TABLE app.settings (key text PRIMARY KEY, value text, enabled boolean);
INSERT INTO app.settings VALUES ('smtp', 'smtp.prod.example', true),
	('webhook', 'https://hooks.prod.example', true), ('theme', 'dark', true);
CREATE TABLE app.jobs (id int PRIMARY KEY, status text, worker text);
INSERT INTO app.jobs VALUES (1, 'running', 'w1'), (2, 'processing', 'w2'),
	(3, 'done', NULL), (4, 'waiting', NULL);
CREATE TABLE app.partitions (name text);
INSERT INTO app.partitions VALUES ('p2024');
-- pg_cron's tables, as far as the hook uses them.
CREATE SCHEMA cron;
CREATE TABLE cron.job (jobid bigint PRIMARY KEY, command text, active boolean);
INSERT INTO cron.job VALUES (1, 'VACUUM', true), (2, 'ANALYZE', true);
CREATE TABLE cron.job_run_details (runid bigint PRIMARY KEY, jobid bigint,
	status text, return_message text, end_time timestamptz);
INSERT INTO cron.job_run_details VALUES (1, 1, 'running', NULL, NULL),
	(2, 2, 'starting', NULL, NULL), (3, 1, 'succeeded', '1 row', now());

SET app.admin_email = 'admin@staging.example';

-- Validation: mistakes are errors when the hook is added.
SELECT pitr_restore.add_cleanup_hook('x', 'no_such_action');
SELECT pitr_restore.add_cleanup_hook('x', 'set_column',
	'{"table": "app.nope", "set": {"enabled": false}}');
SELECT pitr_restore.add_cleanup_hook('x', 'set_column',
	'{"table": "app.settings", "set": {"nope": false}}');
SELECT pitr_restore.add_cleanup_hook('x', 'set_column',
	'{"table": "app.users", "set": {"login_count": "many"}}');
SELECT pitr_restore.add_cleanup_hook('x', 'set_column',
	'{"table": "app.settings", "set": {"enabled": false}, "wehre": []}');
SELECT pitr_restore.add_cleanup_hook('x', 'set_column', '{"set": {"enabled": false}}');
SELECT pitr_restore.add_cleanup_hook('x', 'set_column',
	'{"table": "app.settings", "set": {"enabled": false},
	  "where": [{"column": "key", "op": "~", "value": "x"}]}');
SELECT pitr_restore.add_cleanup_hook('x', 'expect_rows', '{"table": "app.partitions"}');
SELECT pitr_restore.add_cleanup_hook('x', 'jobs_waiting',
	'{"table": "app.jobs", "from": "running", "to": "waiting"}');
SELECT pitr_restore.add_cleanup_hook('x', 'reset_admin', '{"role": "no_such_role"}');
SELECT pitr_restore.add_cleanup_hook('x', 'sql', '{"statement": "SELECT 1; SELECT 2"}');
SELECT pitr_restore.add_cleanup_hook('x', 'sql', '{"statement": "COMMIT"}');
SELECT pitr_restore.add_cleanup_hook('x', 'sql', '{"statement": "DELETE FROM app.nope"}');
SELECT pitr_restore.add_cleanup_hook('x', 'set_column', '[1, 2]');
SELECT pitr_restore.add_cleanup_hook('', 'sql', '{"statement": "SELECT 1"}');

-- Injection attempts: names are resolved and quoted, values bound.
SELECT pitr_restore.add_cleanup_hook('x', 'set_column',
	'{"table": "app.settings; DROP TABLE app.users", "set": {"enabled": false}}');
SELECT pitr_restore.add_cleanup_hook('x', 'set_column',
	'{"table": "app.settings", "set": {"enabled = true; DROP TABLE app.users; --": false}}');
SELECT pitr_restore.add_cleanup_hook('x', 'set_column',
	'{"table": "app.settings", "set": {"enabled": false},
	  "where": [{"column": "key", "op": "= key OR true --", "value": "x"}]}');
SELECT pitr_restore.add_cleanup_hook('x', 'reset_admin',
	'{"role": "postgres\" LOGIN; DROP TABLE app.users; --"}');
-- A hostile value is data: it lands in the column as written.
SELECT name, run_order FROM pitr_restore.add_cleanup_hook('inject_value', 'set_column',
	'{"table": "app.settings", "set": {"value": "x''); DROP TABLE app.users; --"},
	  "where": [{"column": "key", "value": "theme"}]}');

-- The hooks of a staging restore.
SELECT name, run_order, enabled, action FROM pitr_restore.add_cleanup_hook('admin', 'reset_admin',
	'{"table": "app.users", "key": {"user_id": "Admin"},
	  "settings": {"email": "app.admin_email"}, "set": {"enabled": true}}',
	description => 'admin e-mail from the target server');
SELECT name, run_order FROM pitr_restore.add_cleanup_hook('mail_off', 'set_column',
	'{"table": "app.settings", "set": {"enabled": false},
	  "where": [{"column": "key", "op": "in", "value": ["smtp", "webhook"]}]}');
SELECT name, run_order FROM pitr_restore.add_cleanup_hook('users_on', 'set_column',
	'{"table": "app.users", "set": {"enabled": true},
	  "where": [{"column": "enabled", "value": false}, {"column": "login_count", "op": ">", "value": 0}]}');
SELECT name, run_order FROM pitr_restore.add_cleanup_hook('jobs', 'jobs_waiting',
	'{"table": "app.jobs", "from": ["running", "processing"], "to": "waiting",
	  "set": {"worker": null}}');
SELECT name, run_order FROM pitr_restore.add_cleanup_hook('cron', 'jobs_waiting',
	'{"pg_cron": true, "pause_jobs": true}');
SELECT name, run_order FROM pitr_restore.add_cleanup_hook('one_partition', 'expect_rows',
	'{"table": "app.partitions", "expected": 1}');
SELECT name, run_order FROM pitr_restore.add_cleanup_hook('subs', 'disable_subscriptions');
SELECT name, run_order FROM pitr_restore.add_cleanup_hook('bump', 'sql',
	'{"statement": "UPDATE app.users SET login_count = login_count + 1 WHERE user_id = ''Admin''"}');
SELECT name, run_order FROM pitr_restore.add_cleanup_hook('admin', 'sql', '{"statement": "SELECT 1"}');
-- A disabled hook does not run.
SELECT name, run_order FROM pitr_restore.add_cleanup_hook('never', 'sql',
	'{"statement": "DELETE FROM app.users"}', run_order => 5);
UPDATE pitr_restore.cleanup_hook SET enabled = false WHERE name = 'never';
SELECT name, run_order, enabled, action, options FROM pitr_restore.cleanup_hook ORDER BY run_order;

-- A subscription that would reconnect to production after the restore
-- (the server's warning about connect = false differs between versions).
SET client_min_messages = error;
CREATE SUBSCRIPTION prod_sub CONNECTION 'dbname=pitr_restore_no_such_db'
	PUBLICATION p WITH (connect = false);
SET client_min_messages = warning;
ALTER SUBSCRIPTION prod_sub ENABLE;

-- Dry run: counts, no change.
CREATE TABLE before AS
	SELECT 'users' AS t, to_jsonb(u) AS r FROM app.users u
	UNION ALL SELECT 'settings', to_jsonb(s) FROM app.settings s
	UNION ALL SELECT 'jobs', to_jsonb(j) FROM app.jobs j
	UNION ALL SELECT 'cron.job', to_jsonb(c) FROM cron.job c
	UNION ALL SELECT 'cron.run', to_jsonb(c) FROM cron.job_run_details c;
SELECT hook, action, status, rows_affected, detail FROM pitr_restore.run_cleanup(dry_run => true);
SELECT count(*) AS changed_rows FROM (
	(SELECT * FROM before EXCEPT
	 (SELECT 'users', to_jsonb(u) FROM app.users u
	  UNION ALL SELECT 'settings', to_jsonb(s) FROM app.settings s
	  UNION ALL SELECT 'jobs', to_jsonb(j) FROM app.jobs j
	  UNION ALL SELECT 'cron.job', to_jsonb(c) FROM cron.job c
	  UNION ALL SELECT 'cron.run', to_jsonb(c) FROM cron.job_run_details c))) d;
SELECT subname, subenabled FROM pg_subscription;

-- The real run.  One check fails; the others keep their effects.
INSERT INTO app.partitions VALUES ('p2025');
SELECT hook, action, status, rows_affected, detail, duration >= '0' AS timed
FROM pitr_restore.run_cleanup();
SELECT * FROM app.users ORDER BY user_id;
SELECT * FROM app.settings ORDER BY key;
SELECT * FROM app.jobs ORDER BY id;
SELECT * FROM cron.job ORDER BY jobid;
SELECT runid, status, return_message, end_time IS NOT NULL AS ended
FROM cron.job_run_details ORDER BY runid;
SELECT subname, subenabled FROM pg_subscription;
ALTER SUBSCRIPTION prod_sub SET (slot_name = NONE);
DROP SUBSCRIPTION prod_sub;

-- The audit: every run, its reason and per-hook outcome.
SELECT run_id, trigger, restore_key, dry_run, hooks_ok, hooks_failed, hooks_skipped,
	finished_at IS NOT NULL AS finished, jsonb_array_length(results) AS results
FROM pitr_restore.cleanup_runs ORDER BY run_id;
SELECT run_id, hook, status, rows_affected FROM pitr_restore.cleanup_run_hooks
ORDER BY run_id, finished_at;

-- stop_on_error: the hooks after a failed one are skipped.
UPDATE pitr_restore.cleanup_hook SET options = options || '{"stop_on_error": true}'
WHERE name = 'one_partition';
SELECT hook, status, detail FROM pitr_restore.run_cleanup();

-- Role mode: LOGIN and a password verifier from a setting of this server's
-- configuration: a value the session sets (SET, set_config) is never used,
-- so whoever runs the hooks cannot choose the password (TAP 061 sets it
-- with ALTER SYSTEM).
CREATE ROLE regress_app_admin NOLOGIN;
DELETE FROM pitr_restore.cleanup_hook;
SELECT name FROM pitr_restore.add_cleanup_hook('role', 'reset_admin',
	'{"role": "regress_app_admin", "password_setting": "app.admin_verifier"}');
SELECT hook, status, detail FROM pitr_restore.run_cleanup();
SET app.admin_verifier = 'clear text';
SELECT hook, status, detail FROM pitr_restore.run_cleanup();
-- (SCRAM: PostgreSQL 18 warns about MD5 verifiers)
SELECT set_config('app.admin_verifier', 'SCRAM-SHA-256$4096:3NEyrYYnqE5mC+ZiAT6VnQ==$ee9GeWbf+BIxzXgYIkXQMtJwoTW8rWUaqq774qqaHMg=:naKZr+aFNwYETP9VoD68b8r/SEx+wH2dFNEHu0rJFOc=', false) IS NOT NULL AS set;
SELECT hook, status, detail FROM pitr_restore.run_cleanup();
SELECT rolcanlogin, rolpassword = current_setting('app.admin_verifier') AS password_reset
FROM pg_authid WHERE rolname = 'regress_app_admin';
DELETE FROM pitr_restore.cleanup_hook;
DROP ROLE regress_app_admin;

-- Privileges: nothing of this is for PUBLIC.
-- Even with the schema usable (as for pg_read_server_files members), the
-- functions and tables stay closed.
CREATE ROLE regress_cleanup_user IN ROLE pg_read_server_files;
SET ROLE regress_cleanup_user;
SELECT pitr_restore.add_cleanup_hook('x', 'sql', '{"statement": "SELECT 1"}');
SELECT * FROM pitr_restore.run_cleanup();
INSERT INTO pitr_restore.cleanup_hook (name, run_order, action) VALUES ('x', 1, 'sql');
SELECT count(*) FROM pitr_restore.cleanup_runs;
RESET ROLE;
-- pg_write_server_files members run the hooks (each as its table's owner
-- or run_as role); they still cannot add one, nor write the audit.
GRANT pg_write_server_files TO regress_cleanup_user;
SET ROLE regress_cleanup_user;
SELECT count(*) FROM pitr_restore.run_cleanup();
SELECT count(*) > 0 AS sees_runs FROM pitr_restore.cleanup_runs;
SELECT pitr_restore.add_cleanup_hook('x', 'sql', '{"statement": "SELECT 1"}');
INSERT INTO pitr_restore.cleanup_hook (name, run_order, action) VALUES ('x', 1, 'sql');
INSERT INTO pitr_restore.cleanup_runs (trigger, restore_key) VALUES ('forged', 'timeline 9: forged');
UPDATE pitr_restore.cleanup_runs SET run_by = 'someone else';
DELETE FROM pitr_restore.cleanup_run_hooks;
SELECT nextval('pitr_restore.cleanup_runs_run_id_seq');
RESET ROLE;
DROP ROLE regress_cleanup_user;
SELECT count(*) AS public_grants FROM information_schema.role_table_grants
WHERE table_schema = 'pitr_restore' AND table_name LIKE 'cleanup%' AND grantee = 'PUBLIC';

-- Outside the server that came out of a restore, nothing says "restore".
SELECT pitr_restore.cleanup_restore_key();

DROP TABLE before;
DROP SCHEMA app CASCADE;
DROP SCHEMA cron CASCADE;
DROP EXTENSION pitr_restore;
