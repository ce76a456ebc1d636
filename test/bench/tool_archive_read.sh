#!/usr/bin/env bash
# Benchmark: reading a pgBackRest repository's WAL with pitr_restore's
# archive source against pgBackRest's own archive-get.
#
# What it does: a throwaway cluster archives into a local posix pgBackRest
# repository (compress-type=zst, pgBackRest's default level) while it writes
# BENCH_WAL_MB (default 1024) of WAL (batch INSERTs, a restore point every
# ~100 MB).  The cluster is then restarted without archiving and, with the
# page cache warm (one untimed run of each side first), each side is timed
# best of BENCH_RUNS (default 3):
#
#   ours: one query decompressing every segment of the stanza archive with
#         pitr_restore's source layer (list the repository, map
#         <segment>-<sha1>.zst names, zstd-decompress, check the SHA-1):
#         SELECT sum(length(_source_read(loc, name))) FROM _source_files(loc)
#   peer: pgbackrest archive-get of every segment into an empty directory,
#         one process per segment as restore_command runs it.
#
# Then the issue's scan benchmark, best of BENCH_RUNS with the index
# dropped before each run:
#
#   ours: SELECT * FROM scan_archive(loc): the first scan of the stanza
#         archive (list, decompress, check SHA-1, decode every record,
#         index segments, events, timelines);
#   peer: pgbackrest archive-get of every segment, then pg_waldump --stats
#         over the fetched segments (what a DBA would run to learn as much).
#
# Ratios are ours/peer, lower is better; the issue's target for the scan is
# <= 0.5.
#
# Called by test/bench/run.sh (runs as root; the cluster and pgBackRest run
# as postgres).  KEEP=1 keeps the temporary directory.
set -euo pipefail
. "$(dirname "$0")/../lib.sh"

# pgBackRest 2.45 (Debian 12's) knows PostgreSQL up to 15.
major=$(server_version | sed -E 's/^PostgreSQL ([0-9]+).*/\1/')
if [ "$major" -gt 15 ]; then
	echo "skipped: pgBackRest 2.45 (Debian 12's) does not support PostgreSQL $major"
	exit 0
fi

WAL_MB=${BENCH_WAL_MB:-1024}
RUNS=${BENCH_RUNS:-3}
. "$(dirname "$0")/common.bash"

# ------------------------------------------------- 1. cluster and repository
as_postgres mkdir -p "$T/repo" "$T/pblog" "$T/pblock" "$T/get"
cat >"$T/pgbackrest.conf" <<CONF
[global]
repo1-path=$T/repo
repo1-retention-full=2
compress-type=zst
log-path=$T/pblog
lock-path=$T/pblock
log-level-console=warn
start-fast=y

[bench]
pg1-path=$T/data
pg1-port=$port
pg1-socket-path=$T
CONF
chown postgres:postgres "$T/pgbackrest.conf"
pgbr="pgbackrest --config=$T/pgbackrest.conf --stanza=bench"

bench_cluster <<CONF
archive_command = '$pgbr archive-push %p'
max_wal_size = '4GB'
fsync = off
synchronous_commit = off
CONF
as_postgres $pgbr stanza-create >/dev/null
sql "CREATE TABLE load (id bigint, payload text)"

# ------------------------------------------------------------ 2. WAL
log "writing ${WAL_MB} MB of WAL into the pgBackRest repository"
start_lsn=$(sql "SELECT pg_current_wal_lsn()")
next_rp=100
while :; do
	sql "INSERT INTO load SELECT g, md5(g::text) || repeat('x', 60) FROM generate_series(1, 200000) g" >/dev/null
	mb=$(sql "SELECT (pg_current_wal_lsn() - '$start_lsn') / 1048576")
	if [ "${mb%.*}" -ge "$next_rp" ]; then
		sql "SELECT pg_create_restore_point('rp_$next_rp')" >/dev/null
		next_rp=$((next_rp + 100))
	fi
	[ "${mb%.*}" -ge "$WAL_MB" ] && break
done
last=$(sql "SELECT pg_walfile_name(pg_current_wal_lsn())")
sql "SELECT pg_switch_wal()" >/dev/null
wait_archived "$T" "$port" "$last" 600
# Archive stays fixed from here on.
stop_cluster "$T/data"
sed -i 's/^archive_mode = on/archive_mode = off/' "$T/data/postgresql.conf"
start_cluster "$T/data" "$T/server.log"
sql "CREATE EXTENSION pitr_restore"

loc="$T/repo/archive/bench"
segs=$(sql "SELECT count(*) FROM pitr_restore._source_files('$loc') WHERE kind = 'segment'")
repo_bytes=$(du -sb "$loc" | cut -f1)
log "$segs segments, $((repo_bytes / 1048576)) MB in the repository"

# ------------------------------------------------------------ 3. timings
cat >"$T/read.sql" <<SQL
\\timing on
SELECT count(*), sum(length(pitr_restore._source_read('$loc', name)))
  FROM pitr_restore._source_files('$loc') WHERE kind = 'segment';
\\timing off
SQL
chown postgres:postgres "$T/read.sql"
ours_once()
{
	psql_ -d bench -f "$T/read.sql" | awk '/^Time:/ { printf "%.3f", $2 / 1000 }'
}
names=$(sql "SELECT name FROM pitr_restore._source_files('$loc') WHERE kind = 'segment' ORDER BY name")
echo "$names" >"$T/names"
chown postgres:postgres "$T/names"
peer_once()
{
	as_postgres bash -c "rm -f $T/get/*; s=\$(date +%s.%N)
		while read -r f; do $pgbr archive-get \$f $T/get/\$f >/dev/null; done <$T/names
		e=\$(date +%s.%N); awk -v a=\$s -v b=\$e 'BEGIN { printf \"%.3f\", b - a }'"
}
best()
{
	local fn=$1 b= t
	$fn >/dev/null			# warm-up
	for _ in $(seq "$RUNS"); do
		t=$($fn)
		if [ -z "$b" ] || awk -v t="$t" -v b="$b" 'BEGIN { exit !(t < b) }'; then b=$t; fi
	done
	echo "$b"
}
ours=$(best ours_once)
peer=$(best peer_once)
# Same bytes on both sides, segment by segment.
got=$(as_postgres bash -c "cd $T/get && md5sum * | awk '{ print \$2 \" \" \$1 }'")
want=$(sql "SELECT string_agg(name || ' ' || md5(pitr_restore._source_read('$loc', name)), E'\\n' ORDER BY name) FROM pitr_restore._source_files('$loc') WHERE kind = 'segment'")
[ "$got" = "$want" ] || { echo "archive-get and pitr_restore read different bytes" >&2; exit 1; }

printf '\n%-34s %10s %10s %8s\n' "read $segs segments (zst)" "ours (s)" "peer (s)" "ratio"
printf '%-34s %10s %10s %8s\n' "pgBackRest posix repository" "$ours" "$peer" \
	"$(awk -v o="$ours" -v p="$peer" 'BEGIN { printf "%.2f", o / p }')"

# ------------------------------------------------------------ 4. first scan
first=$(head -1 "$T/names")
lastseg=$(tail -1 "$T/names")
cat >"$T/scan.sql" <<SQL
DELETE FROM pitr_restore.archive WHERE directory = '$loc';
DELETE FROM pitr_restore.base_backup WHERE repository = '$loc';
\\timing on
SELECT segments_total, segments_scanned FROM pitr_restore.scan_archive('$loc');
\\timing off
SQL
chown postgres:postgres "$T/scan.sql"
scan_once()
{
	psql_ -d bench -f "$T/scan.sql" | awk '/^Time:/ { printf "%.3f", $2 / 1000 }'
}
waldump_once()
{
	as_postgres bash -c "rm -f $T/get/*; s=\$(date +%s.%N)
		while read -r f; do $pgbr archive-get \$f $T/get/\$f >/dev/null; done <$T/names
		pg_waldump --stats --path=$T/get $first $lastseg >$T/waldump.out 2>&1 || true
		e=\$(date +%s.%N); awk -v a=\$s -v b=\$e 'BEGIN { printf \"%.3f\", b - a }'"
}
scan=$(best scan_once)
dump=$(best waldump_once)
grep -q '^Total' "$T/waldump.out" || { echo "pg_waldump --stats gave no totals" >&2; cat "$T/waldump.out" >&2; exit 1; }
scanned=$(sql "SELECT count(*) FROM pitr_restore.segments('$loc')")
[ "$scanned" -ge "$segs" ] || { echo "the scan indexed $scanned of $segs segments" >&2; exit 1; }

printf '%-34s %10s %10s %8s\n' "first scan vs archive-get+waldump" "$scan" "$dump" \
	"$(awk -v o="$scan" -v p="$dump" 'BEGIN { printf "%.2f", o / p }')"
