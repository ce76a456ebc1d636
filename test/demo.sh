#!/usr/bin/env bash
# The main job end to end on a throwaway local cluster: archive (zstd),
# base backup, marks, a bad deploy, a timeline switch, resolve, restore and
# cleanup, and at last the bad deploy undone for one table (table_history,
# restore_table), printing what pitr_restore reports at each step.
# Run as root on a fresh Debian 12 machine: it installs what it needs.
. "$(dirname "$0")/lib.sh"

ensure_packages
build_and_install

demo=$(mktemp -d /tmp/pitr_restore_demo.XXXXXX)
chown postgres:postgres "$demo"
port=$(free_port)
rport=$(free_port)
stop_all()
{
	for d in "$demo/primary" "$demo/restored"; do
		[ -f "$d/postmaster.pid" ] && as_postgres pg_ctl -D "$d" -m fast stop >/dev/null 2>&1
	done
	[ -n "${KEEP:-}" ] && echo "kept $demo" || rm -rf "$demo"
}
trap stop_all EXIT

say() { printf '\n== %s\n' "$*"; }
sql() { as_postgres psql -X -q -h "$demo" -p "$port" -d postgres -v ON_ERROR_STOP=1 "$@"; }
rsql() { as_postgres psql -X -q -h "$demo" -p "$rport" -d postgres -v ON_ERROR_STOP=1 "$@"; }

say "a primary archiving zstd-compressed WAL into $demo/archive, through pitr_restore's archive module"
as_postgres mkdir -p "$demo/archive" "$demo/backups"
init_cluster "$demo/primary" "$demo" "$port" <<CONF
archive_mode = on
archive_library = 'pitr_restore'
shared_preload_libraries = 'pitr_restore'
pitr_restore.archive_dir = '$demo/archive'
pitr_restore.backup_dir = '$demo/backups'
app.admin_email = 'dba@staging.example'
CONF
start_cluster "$demo/primary" "$demo/primary.log"

sql <<'SQL'
CREATE EXTENSION pitr_restore;
CREATE SCHEMA app;
CREATE TABLE app.orders (id serial PRIMARY KEY, customer text, amount numeric);
CREATE TABLE app.users (user_id text PRIMARY KEY, email text, enabled boolean);
CREATE TABLE app.jobs (id serial PRIMARY KEY, name text, status text);
CREATE TABLE app.settings (key text PRIMARY KEY, enabled boolean);
INSERT INTO app.users VALUES ('Admin', 'admin@prod.example', true), ('alice', 'alice@example', false);
INSERT INTO app.jobs (name, status) VALUES ('nightly invoices', 'running'), ('reindex', 'waiting');
INSERT INTO app.settings VALUES ('smtp', true), ('webhook', true);
INSERT INTO app.orders (customer, amount) SELECT 'customer ' || i, i FROM generate_series(1, 1000) i;
SELECT pg_switch_wal() \gset
SQL

say "a base backup (tar, zstd-compressed) into $demo/backups/monday"
as_postgres pg_basebackup -h "$demo" -p "$port" -D "$demo/backups/monday" -Ft \
	--compress=server-zstd -c fast -l monday

say "the post-restore checklist, registered once"
sql <<'SQL'
SELECT pitr_restore.add_cleanup_hook('admin_from_this_server', 'reset_admin',
  '{"table": "app.users", "key": {"user_id": "Admin"}, "settings": {"email": "app.admin_email"}}');
SELECT pitr_restore.add_cleanup_hook('jobs_back_to_waiting', 'jobs_waiting',
  '{"table": "app.jobs", "from": ["running"], "to": "waiting"}');
SELECT pitr_restore.add_cleanup_hook('mail_and_webhooks_off', 'set_column',
  '{"table": "app.settings", "set": {"enabled": false}}');
SELECT pitr_restore.add_cleanup_hook('users_enabled', 'set_column',
  '{"table": "app.users", "set": {"enabled": true}}');
SELECT name, action, run_order FROM pitr_restore.cleanup_hook ORDER BY run_order;
SQL

say "the day goes on: orders, then a migration tool's import, marked before and during"
sql <<'SQL'
INSERT INTO app.orders (customer, amount) SELECT 'late ' || i, i FROM generate_series(1, 500) i;
CREATE PROCEDURE app.import_42() LANGUAGE plpgsql AS $$
BEGIN
	PERFORM pitr_restore.create_mark('before import 42', 'the way back if the import fails');
	COMMIT;
	INSERT INTO app.orders (customer, amount) SELECT 'import 42', 0 FROM generate_series(1, 2000);
	PERFORM pitr_restore.mark_transaction('import 42', 'the import itself');
	COMMIT;
END
$$;
CALL app.import_42();
SELECT name, kind, lsn, xid, created_by, description FROM pitr_restore.marks;
SQL
sleep 1
sql -c "SELECT now() AS good_time" -At > "$demo/good_time"
sleep 1
say "a bad deploy deletes orders"
sql <<'SQL'
DELETE FROM app.orders WHERE id % 3 = 0;
SELECT count(*) AS orders_left FROM app.orders;
SELECT pg_switch_wal() \gset
SQL
sleep 2

say "scan_archive(): the archive, indexed"
sql -c "SELECT * FROM pitr_restore.scan_archive()"
sql -c "SELECT file_name, timeline, status, records, commits, first_commit_time::time(0), last_commit_time::time(0), restore_points FROM pitr_restore.segments()"
sql -c "SELECT timeline, parent, branch_lsn, end_lsn, reason FROM pitr_restore.timelines()"
sql -c "SELECT label, format, timeline, start_lsn, stop_lsn, pg_version, pg_size_pretty(bytes) AS size FROM pitr_restore.backups()"
sql -c "SELECT name, kind, lsn, end_lsn, timeline, created::time(0), description, occurrence FROM pitr_restore.restore_points()"

good_time=$(cat "$demo/good_time")
say "resolve_target(): can we get back to $good_time, just before the bad deploy?"
sql -x -c "SELECT reachable, reason, timeline, backup_label, stop_lsn, stop_before, last_xid, last_commit_time, next_xid, next_commit_time, wal_first, wal_last, wal_segments, warnings, why FROM pitr_restore.resolve_target(target_time => '$good_time')"
say "and to the mark 'before import 42' (the way back from the import)?"
sql -x -c "SELECT reachable, stop_lsn, last_xid, next_xid, recovery_conf FROM pitr_restore.resolve_target(target_name => 'before import 42')"
say "and to just before the marked import transaction (STOPBEFOREMARK)?"
sql -x -c "SELECT reachable, stop_lsn, stop_before, last_xid, next_xid, recovery_conf FROM pitr_restore.resolve_target(target_mark => 'import 42', inclusive => false)"
say "a target past the end of the archive is refused, with the reason"
sql -x -c "SELECT reachable, reason FROM pitr_restore.resolve_target(target_time => now() + interval '1 day')"

say "restoring to $good_time into $demo/restored"
if [ -z "${DEMO_BY_HAND:-}" ] &&
	sql -Atc "SELECT 1 FROM pg_proc WHERE proname = 'prepare_restore'" | grep -q 1; then
	sql -x -c "SELECT reachable, stop_lsn, files, pg_size_pretty(bytes) AS size, start_command FROM pitr_restore.prepare_restore('$demo/restored', target_time => '$good_time', recovery_action => 'promote')"
else
	# Without prepare_restore: the resolver's answer, applied by hand.
	as_postgres mkdir -m 700 "$demo/restored"
	as_postgres tar -C "$demo/restored" --zstd -xf "$demo/backups/monday/base.tar.zst"
	sql -Atc "SELECT recovery_conf FROM pitr_restore.resolve_target(target_time => '$good_time', recovery_action => 'promote')" |
		as_postgres tee -a "$demo/restored/postgresql.auto.conf" >/dev/null
	as_postgres touch "$demo/restored/recovery.signal"
fi
cat >>"$demo/restored/postgresql.auto.conf" <<CONF
port = $rport
app.admin_email = 'dba@restored.example'
CONF
chown postgres:postgres "$demo/restored/postgresql.auto.conf"
start_cluster "$demo/restored" "$demo/restored.log"
for i in $(seq 1 60); do
	[ "$(rsql -Atc 'SELECT pg_is_in_recovery()')" = f ] && break
	sleep 1
done
grep -E 'recovery stopping|selected new timeline' "$demo/restored.log" | sed 's/^/  log: /'

say "the restored database: orders as of $good_time"
rsql -c "SELECT count(*) AS orders, count(*) FILTER (WHERE customer = 'import 42') AS imported FROM app.orders"
say "cleanup ran once, automatically, after the restore"
for i in $(seq 1 30); do
	[ "$(rsql -Atc 'SELECT count(*) FROM pitr_restore.cleanup_runs')" != 0 ] && break
	sleep 1
done
rsql -c "SELECT trigger, restore_key, hooks_ok, hooks_failed FROM pitr_restore.cleanup_runs" 2>/dev/null ||
	rsql -c "SELECT * FROM pitr_restore.cleanup_runs"
rsql -c "SELECT user_id, email, enabled FROM app.users ORDER BY user_id"
rsql -c "SELECT name, status FROM app.jobs ORDER BY id"
rsql -c "SELECT key, enabled FROM app.settings ORDER BY key"

say "the restore made timeline 2, archived into the same archive; the index follows"
seg=$(rsql -Atc "SELECT pg_walfile_name(pg_current_wal_lsn())")
rsql -qc "SELECT pg_switch_wal()" >/dev/null
wait_archived "$demo" "$rport" "$seg" 30
sql -c "SELECT segments_total, segments_scanned, timelines FROM pitr_restore.scan_archive()"
sql -c "SELECT timeline, parent, branch_lsn, reason FROM pitr_restore.timelines()"

say "what can still be restored, at a glance; and what a monitoring job would page on"
sql -c "SELECT timeline, from_time::time(0), to_time::time(0), backups, ended_by FROM pitr_restore.recovery_windows()"
sql -Atc "SELECT * FROM pitr_restore.timeline_chart(width => 90)"
sql -c "SELECT * FROM pitr_restore.check_archive(max_age => '1 day')"
say "undo a mistake on the primary: what happened to app.orders?"
sql -c "SELECT xid, commit_time::time(0), committed, operation, rows, relation FROM pitr_restore.table_history('app.orders')"
bad=$(sql -Atc "SELECT xid FROM pitr_restore.table_history('app.orders') WHERE operation = 'delete' AND committed ORDER BY commit_lsn DESC LIMIT 1")
say "the moment before the DELETE (xid $bad), and app.orders back from it as app.orders_before_delete"
sql -x -c "SELECT reachable, stop_lsn, stop_before, last_xid, next_xid FROM pitr_restore.resolve_target(target_xid => '$bad', inclusive => false)"
sql -c "SELECT stop_lsn, last_xid, next_xid, rows_copied FROM pitr_restore.restore_table('app.orders', 'app.orders_before_delete', target_xid => '$bad', inclusive => false)"
sql -c "SELECT (SELECT count(*) FROM app.orders) AS orders_now, (SELECT count(*) FROM app.orders_before_delete) AS orders_before_delete"
say "done"
