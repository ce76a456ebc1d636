#!/usr/bin/env bash
# Benchmark: pitr_restore.prepare_restore() against its peer,
# `zstd -dc base.tar.zst | tar -x`.
#
# What it does: a throwaway cluster (archiving zstd-compressed WAL) is
# filled by pgbench -i -s BENCH_SCALE (default 80: about 1.2 GiB of data
# files), then pg_basebackup -Ft --compress=server-zstd takes a backup of it
# into the backup directory.  With the page cache warm (one untimed run of
# each side first) each side is timed best of BENCH_RUNS (default 3), the
# target directory removed between runs (untimed):
#
#   ours: SELECT ... FROM pitr_restore.prepare_restore(dir,
#         target => 'immediate', backup_label => 'bk'), timed by psql's
#         \timing (server round trip, no connect).  It resolves the target
#         (the archive index is refreshed first, untimed, so this is a
#         no-op scan), extracts base.tar.zst and pg_wal.tar, checks every
#         file's size and CRC32C against backup_manifest while writing,
#         writes the recovery settings, fsyncs the tree and renames it into
#         place.
#   peer: mkdir dir && zstd -dc base.tar.zst | tar -x -C dir, as postgres
#         (no verification, no fsync).
#   peer+sync: the same followed by `sync -f dir` (what ours pays for
#         durability), for reference.
#
# Reading the output: seconds for each side and the ratio ours/peer; lower
# is better, the target is <= 1.1.  The ratio against peer+sync shows how
# much of the difference is the fsync.
#
# Called by test/bench/run.sh, which installs packages and builds/installs
# the extension; runs as root (the cluster runs as postgres).  KEEP=1 keeps
# the temporary directory.
set -euo pipefail

SCALE=${BENCH_SCALE:-80}
RUNS=${BENCH_RUNS:-3}
. "$(dirname "$0")/common.bash"

as_postgres mkdir -p "$T/archive" "$T/backups" "$T/out"
bench_cluster <<CONF
archive_command = 'zstd -q -c %p > $T/archive/%f.zst'
max_wal_size = 4GB
pitr_restore.archive_dir = '$T/archive'
pitr_restore.backup_dir = '$T/backups'
CONF

echo "filling: pgbench -i -s $SCALE"
as_postgres pgbench -h "$T" -p "$port" -i -q -s "$SCALE" bench >/dev/null 2>&1
sql 'CREATE EXTENSION pitr_restore'
as_postgres pg_basebackup -h "$T" -p "$port" -D "$T/backups/bk" -Ft \
	--compress=server-zstd --checkpoint=fast
seg=$(sql 'SELECT pg_walfile_name(pg_current_wal_lsn())')
sql 'SELECT pg_switch_wal()' >/dev/null
wait_archived "$T" "$port" "$seg" 60
tar_bytes=$(zstd -dc "$T/backups/bk/base.tar.zst" | wc -c)
zst_bytes=$(stat -c %s "$T/backups/bk/base.tar.zst")
echo "backup: base.tar $((tar_bytes / 1048576)) MB, base.tar.zst $((zst_bytes / 1048576)) MB"
# warm the index: the timed runs resolve against an up-to-date one
sql "SELECT reachable FROM pitr_restore.resolve_target(target => 'immediate', backup_label => 'bk')" >/dev/null

ours_once()
{
	rm -rf "$T/out/ours"
	psql_ -d bench -c '\timing on' -c "SELECT files, bytes FROM pitr_restore.prepare_restore('$T/out/ours', target => 'immediate', backup_label => 'bk')" 2>&1 |
		awk '/^Time:/ { printf "%.3f\n", $2 / 1000 }'
}

peer_once()
{
	local sync=$1
	rm -rf "$T/out/peer"
	as_postgres bash -c "
		s=\$(date +%s.%N)
		mkdir -m 700 '$T/out/peer'
		zstd -dc '$T/backups/bk/base.tar.zst' | tar -x -C '$T/out/peer'
		[ $sync = 1 ] && sync -f '$T/out/peer'
		e=\$(date +%s.%N)
		awk -v s=\$s -v e=\$e 'BEGIN { printf \"%.3f\\n\", e - s }'"
}

best()
{
	sort -n | head -1
}

# untimed warm-up of each side
ours_once >/dev/null
peer_once 0 >/dev/null
ours=$(for i in $(seq 1 "$RUNS"); do ours_once; done | best)
peer=$(for i in $(seq 1 "$RUNS"); do peer_once 0; done | best)
peersync=$(for i in $(seq 1 "$RUNS"); do peer_once 1; done | best)

printf '%-44s %10s %10s %8s\n' case ours_s peer_s ratio
printf '%-44s %10s %10s %8s\n' "tar.zst $((tar_bytes / 1048576)) MB: prepare_restore vs zstd|tar" \
	"$ours" "$peer" "$(awk -v a="$ours" -v b="$peer" 'BEGIN { printf "%.2f", a / b }')"
printf '%-44s %10s %10s %8s\n' "  same, peer followed by sync -f" \
	"$ours" "$peersync" "$(awk -v a="$ours" -v b="$peersync" 'BEGIN { printf "%.2f", a / b }')"
