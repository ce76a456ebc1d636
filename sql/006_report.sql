-- What can be restored, at a glance: argument checks, an empty archive,
-- and privileges.  test/t/070_windows.pl checks them on real archives.
-- (An earlier file of the schedule may have left the extension installed.)
SET client_min_messages = warning;
DROP EXTENSION IF EXISTS pitr_restore;
RESET client_min_messages;
CREATE EXTENSION pitr_restore;

-- An empty archive: no window, one critical problem, an empty picture.
\set empty `mktemp -d`
SELECT * FROM pitr_restore.recovery_windows(:'empty');
SELECT severity, problem FROM pitr_restore.check_archive(:'empty');
SELECT line FROM pitr_restore.timeline_chart(:'empty') AS line
 WHERE line NOT LIKE 'timelines of %';
SELECT svg LIKE '<?xml version="1.0" encoding="UTF-8"?>%</svg>' || E'\n' AS is_svg,
	   svg LIKE '%Timelines of ' || :'empty' || '%' AS names_archive
  FROM pitr_restore.timeline_svg(:'empty') AS svg;

-- Malformed arguments are errors (terse: the archive's path varies).
\set VERBOSITY terse
SELECT * FROM pitr_restore.timeline_chart(:'empty', width => 10);
SELECT * FROM pitr_restore.timeline_chart(:'empty', ascii => NULL);
SELECT pitr_restore.timeline_svg(:'empty', 5000);
SELECT * FROM pitr_restore.check_archive(:'empty', max_age => NULL);
SELECT * FROM pitr_restore.recovery_windows('relative/archive');

-- A plain role may use none of it.
CREATE ROLE pitr_report_plain;
SET ROLE pitr_report_plain;
SELECT * FROM pitr_restore.recovery_windows(:'empty');
SELECT * FROM pitr_restore.check_archive(:'empty');
SELECT * FROM pitr_restore.timeline_chart(:'empty');
SELECT pitr_restore.timeline_svg(:'empty');
RESET ROLE;
\set VERBOSITY default

-- Public functions are SECURITY INVOKER entry points with a pinned
-- search_path: they check the caller, then their _<name>_body runs as the
-- owner; internal ones are granted to nobody.
SELECT p.proname, p.prosecdef, p.proconfig,
	   has_function_privilege('pg_read_server_files', p.oid, 'EXECUTE') AS reader_may_run
  FROM pg_proc p
 WHERE p.pronamespace = 'pitr_restore'::regnamespace
   AND p.proname IN ('recovery_windows', 'check_archive', 'timeline_chart',
					 'timeline_svg', 'chart_items', 'named_backups', 'xml_text')
 ORDER BY p.proname;

DROP ROLE pitr_report_plain;
DROP EXTENSION pitr_restore;
