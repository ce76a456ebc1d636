#!/usr/bin/env bash
# Benchmark: pitr_restore.scan_archive() against its peer, pg_waldump --stats.
#
# What it does: a throwaway cluster archives every WAL segment twice, plain
# into $T/plain and zstd-compressed (default level) into $T/zst, while
# pgbench writes BENCH_WAL_MB (default 1024) of WAL: pgbench -i, then many
# small TPC-B-like transactions mixed with batch INSERTs, a restore point
# every ~100 MB and a CHECKPOINT every ~200 MB.  The cluster is then restarted
# without archiving (so the archive stays fixed) and, with the page cache
# warm (one untimed warm-up run of each side first), each case is timed best
# of BENCH_RUNS (default 3):
#
#   plain  ours: SELECT * FROM pitr_restore.scan_archive('$T/plain') on a
#               fresh index (DROP/CREATE EXTENSION before each run, untimed),
#               timed by psql's \timing (server round trip, no connect);
#          peer: pg_waldump --stats -p $T/plain FIRSTSEG LASTSEG.
#   zstd   ours: scan_archive('$T/zst');
#          peer: zstd -d of every .zst into an empty directory, then
#               pg_waldump --stats over it (both steps timed together).
#
# Three more cases in the same run: "plain/serial" and "zst/serial" are the
# same scans with pitr_restore.scan_workers = 0 (all in the backend; the
# other rows use the default, one worker per CPU); "module" scans $T/mod, the
# same segments archived again through archive_library = 'pitr_restore'
# (zstd level 1, a sidecar per segment), against pg_waldump --stats over
# the plain segments: that scan reads only sidecars.
#
# Reading the output: the first table gives seconds for each side and the
# ratio ours/peer; lower is better and the target is <= 1.0.  The second
# table is the scanning backend's memory for the full archive and for its
# first half: "VmHWM-base" is the backend's resident high-water mark
# (/proc/<pid>/status VmHWM) after the scan minus the same value read just
# before it in the same session (after a trivial query and loading the
# library) -- it includes shared buffers the scan touches; "RssAnon peak" is
# the backend's private anonymous memory sampled every ~20 ms during the scan
# (absolute, baseline included).  Target: <= 64 MB and about the same for the
# half archive as for the full one (flat in archive size).
#
# Called by test/bench/run.sh, which installs packages and builds/installs
# the extension; runs as root (the cluster runs as postgres).  KEEP=1 keeps
# the temporary directory.
set -euo pipefail
WAL_MB=${BENCH_WAL_MB:-1024}
RUNS=${BENCH_RUNS:-3}
. "$(dirname "$0")/common.bash"
poller=
bench_cleanup_extra='[ -n "$poller" ] && kill "$poller" 2>/dev/null || true'

# ---------------------------------------------------------------- 1. cluster
as_postgres mkdir -p "$T/plain" "$T/zst"
bench_cluster <<CONF
archive_command = 'cp %p $T/plain/%f && zstd -q -c %p > $T/zst/%f.zst'
max_wal_size = '4GB'
# generation phase only: the WAL's content does not depend on these
fsync = off
synchronous_commit = off
CONF

# ------------------------------------------------------------ 2. make WAL
bench_pgbench_wal "$WAL_MB" 200
last_seg=$(sql "SELECT pg_walfile_name(pg_switch_wal())")
log "wrote $mb MB of WAL, $rp restore points; waiting for the archiver up to $last_seg"
wait_archived "$T" "$port" "$last_seg" 300
sql "SELECT 'archiver failures: ' || failed_count FROM pg_stat_archiver" | grep -v ': 0$' || true

segs=($(ls "$T/plain" | grep -E '^[0-9A-F]{24}$' | LC_ALL=C sort))
nseg=${#segs[@]}
first=${segs[0]}
last=${segs[$((nseg - 1))]}

# The same segments archived again, through the archive module: put them
# back in pg_wal marked ready, with archive_library = 'pitr_restore'.
stop_cluster "$T/data"
as_postgres mkdir -p "$T/mod"
cat >>"$T/data/postgresql.conf" <<CONF
archive_command = ''
archive_library = 'pitr_restore'
pitr_restore.archive_dir = '$T/mod'
pitr_restore.archive_compression = 1
fsync = on
CONF
for s in "${segs[@]}"; do
	as_postgres cp -f "$T/plain/$s" "$T/data/pg_wal/$s"
	rm -f "$T/data/pg_wal/archive_status/$s.done"
	as_postgres touch "$T/data/pg_wal/archive_status/$s.ready"
done
start_cluster "$T/data" "$T/server.log"
log "archiving $nseg segments again through the archive module into $T/mod"
for _ in $(seq 1200); do
	n=$(ls "$T/mod" | grep -cE '^[0-9A-F]{24}\.zst\.pitrsum$' || true)
	[ "$n" -ge "$nseg" ] && break
	sleep 0.5
done
if [ "$n" -lt "$nseg" ]; then
	echo "the archive module archived $n of $nseg segments" >&2
	exit 1
fi

# Restart without archiving (our scans write the index, i.e. WAL) and with
# the usual durability settings.
stop_cluster "$T/data"
cat >>"$T/data/postgresql.conf" <<CONF
archive_mode = off
fsync = on
synchronous_commit = on
CONF
start_cluster "$T/data" "$T/server.log"
plain_mb=$(du -sm --apparent-size "$T/plain" | cut -f1)
zst_mb=$(du -sm --apparent-size "$T/zst" | cut -f1)
log "archive: $nseg segments $first..$last, plain $plain_mb MB, zstd $zst_mb MB"

# The first half of the archive, hard-linked (same files, no copy).
half=$((nseg / 2))
as_postgres mkdir "$T/half_plain" "$T/half_zst"
for s in "${segs[@]:0:$half}"; do
	ln "$T/plain/$s" "$T/half_plain/$s"
	ln "$T/zst/$s.zst" "$T/half_zst/$s.zst"
done

# ------------------------------------------------------------ 3. timings
# ours DIR [poll]: one scan on a fresh index ($workers, if set, is
# pitr_restore.scan_workers).  Prints
#   "seconds hwm_growth_kB rssanon_peak_kB segments_scanned bytes_read"
ours()
{
	local dir=$1 poll=${2:-} out hwm0 hwm1 ms row anon=0
	psql_ -d bench -c "SET client_min_messages = warning" \
		-c "DROP EXTENSION IF EXISTS pitr_restore" \
		-c "CREATE EXTENSION pitr_restore" >/dev/null
	rm -f "$T/pid" "$T/anon"
	cat >"$T/scan.sql" <<SQL
SET client_min_messages = warning;
${workers:+SET pitr_restore.scan_workers = $workers;}
SELECT 'lib|' || pitr_restore.archive_path('$dir');
COPY (SELECT pg_backend_pid()) TO '$T/pid';
SELECT 'hwm0|' || (regexp_match(pg_read_file('/proc/self/status'), 'VmHWM:\s+(\d+)'))[1];
\timing on
SELECT 'row|' || s.segments_scanned || '|' || s.bytes_read FROM pitr_restore.scan_archive('$dir') s;
\timing off
SELECT 'hwm1|' || (regexp_match(pg_read_file('/proc/self/status'), 'VmHWM:\s+(\d+)'))[1];
SQL
	if [ -n "$poll" ]; then
		(
			while [ ! -s "$T/pid" ]; do sleep 0.01; done
			pid=$(cat "$T/pid") max=0
			while [ -r "/proc/$pid/status" ]; do
				while read -r k v _; do
					[ "$k" = RssAnon: ] && [ "$v" -gt "$max" ] && max=$v
				done 2>/dev/null <"/proc/$pid/status" || true
				echo "$max" >"$T/anon.tmp"
				sleep 0.02
			done
		) &
		poller=$!
	fi
	out=$(psql_ -d bench -f "$T/scan.sql")
	if [ -n "$poll" ]; then
		wait "$poller" 2>/dev/null || true
		poller=
		anon=$(cat "$T/anon.tmp" 2>/dev/null || echo 0)
	fi
	hwm0=$(echo "$out" | sed -n 's/^hwm0|//p')
	hwm1=$(echo "$out" | sed -n 's/^hwm1|//p')
	ms=$(echo "$out" | sed -n 's/^Time: \([0-9.]*\) ms.*/\1/p')
	if [ -z "$ms" ] || [ -z "$hwm1" ]; then
		echo "scan of $dir gave no timing: $out" >&2
		return 1
	fi
	row=$(echo "$out" | sed -n 's/^row|//p' | tr '|' ' ')
	echo "$(awk -v m="$ms" 'BEGIN { printf "%.3f", m / 1000 }') $((hwm1 - hwm0)) $anon $row"
}

# peer_plain DIR / peer_zstd ZDIR: seconds
peer_plain()
{
	as_postgres bash -c 's=$(date +%s.%N)
		pg_waldump --stats -p "$1" "$2" "$3" >"$4/waldump.out" 2>&1 || { cat "$4/waldump.out" >&2; exit 1; }
		e=$(date +%s.%N); echo "$s $e"' _ "$1" "$first" "$last" "$T" |
		{ read -r s e; elapsed "$s" "$e"; }
}
peer_zstd()
{
	rm -rf "$T/unz"
	as_postgres mkdir "$T/unz"
	as_postgres bash -c 's=$(date +%s.%N)
		zstd -q -d --output-dir-flat "$4/unz" "$1"/*.zst || exit 1
		pg_waldump --stats -p "$4/unz" "$2" "$3" >"$4/waldump.out" 2>&1 || { cat "$4/waldump.out" >&2; exit 1; }
		e=$(date +%s.%N); echo "$s $e"' _ "$1" "$first" "$last" "$T" |
		{ read -r s e; elapsed "$s" "$e"; }
	rm -rf "$T/unz"
}

min() { printf '%s\n' "$@" | LC_ALL=C sort -g | head -1; }

declare -A best_ours best_peer scanned
cases="plain zst plain/serial zst/serial module"
case_dir() { case $1 in plain*) echo "$T/plain" ;; zst*) echo "$T/zst" ;; module) echo "$T/mod" ;; esac; }
case_workers() { case $1 in */serial) echo 0 ;; *) echo "" ;; esac; }
peer_of() { case $1 in zst*) peer_zstd "$T/zst" ;; *) peer_plain "$T/plain" ;; esac; }
for c in $cases; do
	workers=$(case_workers $c)
	log "timing $c: warm-up"
	r=$(ours "$(case_dir $c)")
	set -- $r
	scanned[$c]="$4 segments, $(($5 / 1024)) kB read"
	# (the module's archive may hold one more: the segment ended by the restart)
	if [ "$4" -lt "$nseg" ]; then
		echo "scan_archive('$(case_dir $c)') scanned $4 segments, expected $nseg" >&2
	fi
	peer_of $c >/dev/null
	grep -q '^Total' "$T/waldump.out" || { echo "pg_waldump gave no stats:" >&2; tail "$T/waldump.out" >&2; exit 1; }
	o=() p=()
	for i in $(seq "$RUNS"); do
		r=$(ours "$(case_dir $c)")
		set -- $r
		o+=("$1")
		p+=("$(peer_of $c)")
		log "  run $i: ours ${o[-1]} s, peer ${p[-1]} s"
	done
	best_ours[$c]=$(min "${o[@]}")
	best_peer[$c]=$(min "${p[@]}")
done
workers=

# ------------------------------------------------------------ 4. memory
declare -A mem
for c in plain zst; do
	for h in full half; do
		d="$T/$c"; [ $h = half ] && d="$T/half_$c"
		r=$(ours "$d" poll)
		set -- $r
		mem[$h,$c]="$2 $3"
		log "memory $h $c: ${1} s, VmHWM growth $2 kB, RssAnon peak $3 kB ($4 segments)"
	done
done

# ------------------------------------------------------------ report
echo
echo "scan_archive benchmark: $nseg segments ($first..$last), $plain_mb MB plain, $zst_mb MB zstd,"
echo "$rp restore points; best of $RUNS after one warm-up each, page cache warm; ours = psql \\timing"
echo "of the scan on a fresh index, peer = wall clock of the peer command(s)."
echo "scan_workers default here: $(sql "SET client_min_messages = warning; LOAD 'pitr_restore'; SHOW pitr_restore.scan_workers") on $(nproc) CPUs; load average $(cut -d' ' -f1-3 /proc/loadavg)."
for c in $cases; do echo "ours read ($c): ${scanned[$c]}."; done
printf '%-13s %10s %10s %12s   %s\n' case "ours (s)" "peer (s)" "ours/peer" "peer"
for c in $cases; do
	peer="pg_waldump --stats (plain)"
	case $c in zst*) peer="zstd -d + pg_waldump --stats" ;; esac
	printf '%-13s %10s %10s %12s   %s\n' "$c" "${best_ours[$c]}" "${best_peer[$c]}" \
		"$(awk -v a="${best_ours[$c]}" -v b="${best_peer[$c]}" 'BEGIN { printf "%.2f", a / b }')" "$peer"
done
echo
echo "scanning backend memory (MB); VmHWM-base = VmHWM after scan - VmHWM before it,"
echo "same session (includes shared buffers touched); RssAnon = sampled private peak."
printf '%-8s %-22s %12s %14s\n' case archive "VmHWM-base" "RssAnon peak"
for c in plain zst; do
	for h in full half; do
		n=$nseg; [ $h = half ] && n=$half
		set -- ${mem[$h,$c]}
		printf '%-8s %-22s %12s %14s\n' "$c" "$h ($n segments)" \
			"$(awk -v k="$1" 'BEGIN { printf "%.1f", k / 1024 }')" \
			"$(awk -v k="$2" 'BEGIN { printf "%.1f", k / 1024 }')"
	done
done
echo
echo "total time: $(elapsed "$started" "$(now)") s"
