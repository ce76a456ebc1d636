#!/usr/bin/env bash
# Benchmark: draining an archiving backlog with archive_library =
# 'pitr_restore' (zstd + segment summary sidecars) against its peer,
# archive_command = 'zstd -q %p -o DIR/%f.zst'.
#
# What it does: a throwaway cluster with archive_mode = on but nothing to
# archive with (archive_command = '') piles up BENCH_WAL_MB (default 1024)
# of WAL with pgbench (TPC-B-like transactions mixed with batch INSERTs, a
# restore point every ~100 MB), so every segment waits as .ready.  The
# cluster is stopped and pg_wal/archive_status saved.  Then, for each case
# and BENCH_RUNS times (default 2, best kept), the archive_status directory
# is put back (every segment .ready again), the archive emptied, the case's
# settings appended, and the time from "pg_ctl start" returning to
# no file being left .ready in pg_wal/archive_status is measured:
#
#   peer       archive_command = 'zstd -q %p -o $T/arch/%f.zst' (level 3,
#              zstd's default; the CLI does not fsync)
#   module     archive_library = 'pitr_restore' at its default level (1):
#              compress, summarise (sidecar), CRC-32C, fsync file, sidecar
#              and directory
#   module -3  the same at pitr_restore.archive_compression = 3, the
#              peer's level
#   module off pitr_restore.archive_compression = off (plain segments
#              plus sidecars)
#
# Reading the output: seconds for each case, the archive's size and the
# ratio case/peer; lower is better, the target for the module is <= 1.0.
# The drain runs with fsync = on (the generation phase does not).
#
# Called by test/bench/run.sh, which installs packages and builds/installs
# the extension; runs as root (the cluster runs as postgres).  KEEP=1 keeps
# the temporary directory.
set -euo pipefail
WAL_MB=${BENCH_WAL_MB:-1024}
RUNS=${BENCH_RUNS:-2}
. "$(dirname "$0")/common.bash"

# ---------------------------------------------------------------- 1. cluster
as_postgres mkdir -p "$T/arch"
init_cluster "$T/data" "$T" "$port" <<CONF
archive_mode = on
archive_command = ''
max_wal_size = '8GB'
min_wal_size = '2GB'
wal_keep_size = '8GB'
checkpoint_timeout = '1h'
CONF
cp "$T/data/postgresql.conf" "$T/postgresql.conf.base"
cat >>"$T/data/postgresql.conf" <<CONF
# generation phase only: the WAL's content does not depend on these
fsync = off
synchronous_commit = off
CONF
bench_start

# ------------------------------------------------------------ 2. make WAL
bench_pgbench_wal "$WAL_MB"
last_seg=$(sql "SELECT pg_walfile_name(pg_switch_wal())")
stop_cluster "$T/data"
nready=$(ls "$T/data/pg_wal/archive_status" | grep -c '\.ready$' || true)
log "wrote $mb MB of WAL: $nready files waiting to be archived, up to $last_seg"
cp -a "$T/data/pg_wal/archive_status" "$T/archive_status.saved"

# ------------------------------------------------------------ 3. timings
# drain NAME SETTINGS...: prints the seconds to archive the whole backlog.
drain()
{
	local t0 t1 done_=f
	as_postgres pg_ctl -D "$T/data" -m fast stop >/dev/null 2>&1 || true
	rm -rf "$T/data/pg_wal/archive_status" "$T/arch"
	cp -a "$T/archive_status.saved" "$T/data/pg_wal/archive_status"
	as_postgres mkdir "$T/arch"
	cp "$T/postgresql.conf.base" "$T/data/postgresql.conf"
	printf '%s\n' "$@" >>"$T/data/postgresql.conf"
	sync
	rm -f "$T/drain.log"
	t0=$(now)
	as_postgres pg_ctl -D "$T/data" -l "$T/drain.log" -w start >/dev/null
	# Done when nothing is left .ready (pg_stat_archiver survives restarts).
	for _ in $(seq 12000); do
		ls "$T/data/pg_wal/archive_status" | grep -q '\.ready$' || { done_=t; break; }
		sleep 0.05
	done
	t1=$(now)
	if [ "$done_" != t ]; then
		echo "the archiver did not drain the backlog" >&2
		exit 1
	fi
	if grep -E 'ERROR|failed' "$T/drain.log" >&2; then
		echo "the archiver failed (above)" >&2
		exit 1
	fi
	# The archiver's peak resident memory (flat: per-file contexts).
	pid=$(psql_ -d postgres -c "SELECT pid FROM pg_stat_activity WHERE backend_type = 'archiver'")
	echo "$* => archiver $(grep VmHWM /proc/$pid/status | tr -s ' \t' ' ')" >>"$T/mem.txt"
	elapsed "$t0" "$t1"
}

best()
{
	local name=$1 b='' s
	shift
	for _ in $(seq "$RUNS"); do
		s=$(drain "$@")
		log "$name: ${s}s" >&2
		b=$(awk -v a="$b" -v s="$s" 'BEGIN { print (a == "" || s < a) ? s : a }')
	done
	echo "$b $(du -sm --apparent-size "$T/arch" | cut -f1) $(ls "$T/arch" | grep -c '\.pitrsum$' || true)"
}

peer=$(best peer "archive_command = 'zstd -q %p -o $T/arch/%f.zst'")
mod=$(best module "archive_library = 'pitr_restore'" "pitr_restore.archive_dir = '$T/arch'")
mod3=$(best "module -3" "archive_library = 'pitr_restore'" "pitr_restore.archive_dir = '$T/arch'" \
	"pitr_restore.archive_compression = 3")
modoff=$(best "module off" "archive_library = 'pitr_restore'" "pitr_restore.archive_dir = '$T/arch'" \
	"pitr_restore.archive_compression = off")

# The module's last archive must be complete: every segment with a sidecar.
nseg=$(ls "$T/arch" | grep -cE '^[0-9A-F]{24}$' || true)
nsum=$(ls "$T/arch" | grep -cE '^[0-9A-F]{24}\.pitrsum$' || true)
[ "$nseg" -gt 0 ] && [ "$nseg" = "$nsum" ] || { echo "sidecars missing: $nseg segments, $nsum sidecars" >&2; exit 1; }

echo
echo "Draining a backlog of $nready files ($mb MB of WAL), best of $RUNS, fsync = on"
printf '%-34s %10s %10s %10s %8s\n' case seconds "archive MB" sidecars ratio
row()
{
	set -- "$1" $2
	printf '%-34s %10s %10s %10s %8s\n' "$1" "$2" "$3" "$4" \
		"$(awk -v a="$2" -v b="${peer%% *}" 'BEGIN { printf "%.2f", a / b }')"
}
row "archive_command zstd -q (peer)" "$peer"
row "archive module, zstd level 1" "$mod"
row "archive module, zstd level 3" "$mod3"
row "archive module, plain" "$modoff"
echo
echo "Archiver peak memory after each drain of $nready files:"
sed "s|$T|\$T|g" "$T/mem.txt"
