#!/usr/bin/env bash
# Benchmark: table_history() against its peer, pg_waldump --relation over
# the same range of the same archive.
#
# What it does: a throwaway cluster archives with archive_library =
# 'pitr_restore' (plain segments plus sidecars, so the peer reads the same
# files) while batches of INSERTs write BENCH_WAL_MB (default 1024) of WAL;
# a table "watched" is touched (an UPDATE of a few rows) once every
# BENCH_EVERY (default 15) rounds of about 16 MB, so in under 10% of the
# segments.
# Then, BENCH_RUNS times (default 2, best kept):
#
#   peer    pg_waldump --path=ARCHIVE --relation=TBLSPC/DB/RELFILENODE over
#           the archive's range (what a DBA greps today; it still decodes
#           every record)
#   first   table_history('watched') on an index made from sidecars, which
#           list the relation files each segment touches (format 3): only
#           the segments that touched the table are read (format 2
#           sidecars listed none: every segment was read, once)
#   warm    table_history('watched') again: only the segments that touched
#           the table (and those its transactions end in) are read
#
# Reading the output: seconds for each, the segments read, and the ratio
# ours/peer (lower is better; the target for "first" and "warm" is <= 0.2).
#
# Called by test/bench/run.sh (installs packages, builds and installs the
# extension); runs as root (the cluster runs as postgres).  KEEP=1 keeps the
# temporary directory.
set -euo pipefail
WAL_MB=${BENCH_WAL_MB:-1024}
EVERY=${BENCH_EVERY:-15}
RUNS=${BENCH_RUNS:-2}
. "$(dirname "$0")/common.bash"

as_postgres mkdir -p "$T/arch"
bench_cluster <<CONF
archive_library = 'pitr_restore'
shared_preload_libraries = 'pitr_restore'
pitr_restore.archive_dir = '$T/arch'
pitr_restore.archive_compression = off
max_wal_size = '4GB'
checkpoint_timeout = '1h'
fsync = off
synchronous_commit = off
CONF
sql "CREATE EXTENSION pitr_restore"
sql "CREATE TABLE watched (id int PRIMARY KEY, v int); INSERT INTO watched SELECT g, 0 FROM generate_series(1, 1000) g"

log "generating $WAL_MB MB of WAL in rounds of about 16 MB, touching \"watched\" every $EVERY rounds"
sql "CREATE TABLE filler (id int, payload text)"
start_lsn=$(sql "SELECT pg_current_wal_lsn()")
round=0
while [ "$(written_mb)" -lt "$WAL_MB" ]; do
	round=$((round + 1))
	sql "INSERT INTO filler SELECT g, repeat('x', 150) FROM generate_series(1, 70000) g" >/dev/null
	[ $((round % EVERY)) -eq 0 ] &&
		sql "UPDATE watched SET v = v + 1 WHERE id <= 10" >/dev/null
	[ $((round % 20)) -eq 0 ] && sql "TRUNCATE filler" >/dev/null
done
end_lsn=$(sql "SELECT pg_current_wal_insert_lsn()")
seg=$(sql "SELECT pg_walfile_name(pg_current_wal_lsn())")
sql "SELECT pg_switch_wal()" >/dev/null
wait_archived "$T" "$port" "$seg" 600
rel=$(sql "SELECT format('%s/%s/%s', CASE WHEN reltablespace = 0 THEN (SELECT oid FROM pg_tablespace WHERE spcname = 'pg_default') ELSE reltablespace END, (SELECT oid FROM pg_database WHERE datname = 'bench'), relfilenode) FROM pg_class WHERE relname = 'watched'")
nsegs=$(ls "$T/arch" | grep -cE '^[0-9A-F]{24}$')
log "archived $nsegs segments; scanning the archive (sidecars)"
sql "SELECT segments_total, segments_scanned FROM pitr_restore.scan_archive()" >/dev/null

best() { sort -n | head -1; }
time_of() { local t0 t1; t0=$(now); "$@" >/dev/null 2>&1; t1=$(now); elapsed "$t0" "$t1"; }

# The peer over the archive's whole range.
range_lsn=$(sql "SELECT min(first_lsn) FROM pitr_restore.archive_file WHERE kind = 'segment'")
peer=$(for _ in $(seq "$RUNS"); do
	time_of as_postgres pg_waldump --path="$T/arch" --start="$range_lsn" --end="$end_lsn" \
		--relation="$rel" --quiet
	echo
done | best)

history() { psql_ -d bench -c "SET client_min_messages = debug1; SELECT count(*) FROM pitr_restore.table_history('watched')" 2>&1; }
t0=$(now); out=$(history); t1=$(now)
first=$(elapsed "$t0" "$t1")
first_read=$(echo "$out" | sed -n 's/.*table history read \([0-9]* of [0-9]*\) segments.*/\1/p')
warm=
for _ in $(seq "$RUNS"); do
	t0=$(now); out=$(history); t1=$(now)
	t=$(elapsed "$t0" "$t1")
	if [ -z "$warm" ] || awk -v a="$t" -v b="$warm" 'BEGIN { exit !(a < b) }'; then warm=$t; fi
done
warm_read=$(echo "$out" | sed -n 's/.*table history read \([0-9]* of [0-9]*\) segments.*/\1/p')
ops=$(echo "$out" | tail -1)

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
log "table_history found $ops operations of \"watched\" in $nsegs segments"
printf '%-8s %8ss  %s\n' "peer" "$peer" "pg_waldump --relation, every segment"
printf '%-8s %8ss  %-28s ratio %s\n' "first" "$first" "read $first_read segments" "$(ratio "$first" "$peer")"
printf '%-8s %8ss  %-28s ratio %s\n' "warm" "$warm" "read $warm_read segments" "$(ratio "$warm" "$peer")"
