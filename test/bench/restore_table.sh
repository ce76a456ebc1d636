#!/usr/bin/env bash
# Benchmark: restore_table() end to end against the same steps by hand.
#
# What it does: a throwaway cluster (archive_command cp) holds a table
# "big" of about BENCH_TABLE_MB (default 1024) MB (an int primary key, a
# date, a numeric and an 80-character text, plus a second index), and a
# plain pg_basebackup of it.  Then half of "big" is deleted (the mistake)
# and the archive catches up.  Each side then brings "big" back as it was
# just before the DELETE, BENCH_RUNS times (default 1), alternating, the
# copy dropped between runs (untimed):
#
#   ours  SELECT ... FROM pitr_restore.restore_table('big', 'big_ours',
#         target_xid => <the DELETE>, inclusive => false), timed by psql's
#         \timing (server round trip, no connect)
#   hand  what a DBA types: prepare_restore(<dir>, <the same target>,
#         recovery_action => 'pause', archive_mode => 'off'); a private port
#         and socket appended to its postgresql.auto.conf; pg_ctl start -w;
#         wait until replay pauses at the target; pg_wal_replay_resume()
#         and wait for the promotion (as restore_table does: a paused copy
#         still holds the locks of transactions open at the target); the
#         table and its indexes renamed there (the live ones have their
#         names); pg_dump -t | psql into the live database (the plain
#         format: no compression, COPY streamed as restore_table does;
#         -Fc | pg_restore compresses and is slower); pg_ctl stop -m
#         immediate; rm -rf <dir>.  Timed as one shell command.
#
# Reading the output: seconds for each side (best of the runs) and the
# ratio ours/hand; lower is better, the target is <= 1.2.
#
# Called by test/bench/run.sh (installs packages, builds and installs the
# extension); runs as root (the cluster runs as postgres).  KEEP=1 keeps the
# temporary directory.
set -euo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top"
. test/lib.sh

TABLE_MB=${BENCH_TABLE_MB:-1024}
RUNS=${BENCH_RUNS:-1}
. test/bench/common.bash

as_postgres mkdir -p "$T/arch" "$T/backups" "$T/side" "$T/hand"
bench_cluster <<CONF
archive_command = 'cp %p $T/arch/%f'
shared_preload_libraries = 'pitr_restore'
pitr_restore.archive_dir = '$T/arch'
pitr_restore.backup_dir = '$T/backups'
pitr_restore.side_server_dir = '$T/side'
max_wal_size = '8GB'
checkpoint_timeout = '1h'
CONF
sql "CREATE EXTENSION pitr_restore"

# About 116 bytes a row on disk (tuple, line pointer, free space): 9000 a MB.
rows=$((TABLE_MB * 9000))
log "filling \"big\" with $rows rows (about $TABLE_MB MB)"
sql "CREATE TABLE big (id int PRIMARY KEY, placed date NOT NULL, amount numeric(12,2), note text)"
sql "INSERT INTO big SELECT g, date '2026-01-01' + g % 365, g / 7.0, lpad(g::text, 80, 'x')
	 FROM generate_series(1, $rows) g"
sql "CREATE INDEX big_placed ON big (placed)"
sql "VACUUM ANALYZE big"
size=$(sql "SELECT pg_size_pretty(pg_total_relation_size('big'))")
log "\"big\" is $size with its indexes; taking a base backup"
as_postgres pg_basebackup -h "$T" -p "$port" -U postgres -D "$T/backups/bk" -Fp \
	--checkpoint=fast

xid=$(psql_ -d bench -c "BEGIN" -c "DELETE FROM big WHERE id % 2 = 0" \
	-c "SELECT pg_current_xact_id()" -c "COMMIT")
sql "CHECKPOINT"
seg=$(sql "SELECT pg_walfile_name(pg_current_wal_lsn())")
sql "SELECT pg_switch_wal()" >/dev/null
for _ in $(seq 1200); do
	[ "$(sql "SELECT coalesce(last_archived_wal >= '$seg', false) FROM pg_stat_archiver")" = t ] && break
	sleep 0.5
done
log "the DELETE is transaction $xid; indexing the archive"
sql "SELECT reachable FROM pitr_restore.resolve_target(target_xid => '$xid', inclusive => false)" >/dev/null

ours_once()
{
	sql "DROP TABLE IF EXISTS big_ours" >/dev/null
	psql_ -d bench -c '\timing on' -c "SELECT rows_copied FROM pitr_restore.restore_table('big', 'big_ours',
		target_xid => '$xid', inclusive => false)" 2>/dev/null |
		awk '/^Time:/ { printf "%.3f\n", $2 / 1000 }'
}

# The side server of the steps by hand: its own port and socket in $T/hand.
hport=$(free_port)
hand_once()
{
	local d="$T/hand/data" t0 t1
	sql "DROP TABLE IF EXISTS big_hand" >/dev/null
	t0=$(now)
	sql "SELECT files FROM pitr_restore.prepare_restore('$d', target_xid => '$xid', inclusive => false,
		recovery_action => 'pause', archive_mode => 'off')" >/dev/null
	as_postgres bash -e -c "
		hq() { psql -X -q -At -v ON_ERROR_STOP=1 -h '$T/hand' -p $hport -d bench -c \"\$1\"; }
		printf '%s\n' \"port = $hport\" \"listen_addresses = ''\" \"unix_socket_directories = '$T/hand'\" \
			\"shared_preload_libraries = ''\" >>'$d/postgresql.auto.conf'
		pg_ctl -D '$d' -l '$T/hand/server.log' -w start >/dev/null
		until [ \"\$(hq 'SELECT pg_get_wal_replay_pause_state()')\" = paused ]; do sleep 0.1; done
		hq 'SELECT pg_wal_replay_resume()' >/dev/null
		until [ \"\$(hq 'SELECT pg_is_in_recovery()')\" = f ]; do sleep 0.1; done
		hq 'ALTER TABLE public.big RENAME TO big_hand'
		hq 'ALTER INDEX public.big_pkey RENAME TO big_hand_pkey'
		hq 'ALTER INDEX public.big_placed RENAME TO big_hand_placed'
		pg_dump -h '$T/hand' -p $hport -t public.big_hand bench |
			psql -X -q -v ON_ERROR_STOP=1 -h '$T' -p $port -d bench >/dev/null
		pg_ctl -D '$d' -m immediate stop >/dev/null
		rm -rf '$d'"
	t1=$(now)
	elapsed "$t0" "$t1"
	echo
}

best() { sort -n | head -1; }
ours_all=""
hand_all=""
for i in $(seq "$RUNS"); do
	log "run $i: by hand"
	hand_all="$hand_all $(hand_once)"
	log "run $i: restore_table"
	ours_all="$ours_all $(ours_once)"
done
ours=$(echo $ours_all | tr ' ' '\n' | best)
hand=$(echo $hand_all | tr ' ' '\n' | best)

# Both copies hold the same rows, or the times mean nothing.
same=$(sql "SELECT (SELECT count(*) FROM big_ours) = (SELECT count(*) FROM big_hand)
	AND NOT EXISTS (SELECT * FROM big_ours EXCEPT SELECT * FROM big_hand)")
[ "$same" = t ] || { echo "the two copies differ" >&2; exit 1; }
copied=$(sql "SELECT count(*) FROM big_ours")

printf '%-48s %10s %10s %8s\n' case ours_s hand_s ratio
printf '%-48s %10s %10s %8s\n' "restore_table of $size ($copied rows)" \
	"$ours" "$hand" "$(awk -v a="$ours" -v b="$hand" 'BEGIN { printf "%.2f", a / b }')"
