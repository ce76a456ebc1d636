# Shared set-up of the benchmarks (sourced, not run: run.sh runs *.sh).
# Each benchmark sets its knobs (BENCH_* variables) and then sources this
# file, which sources test/lib.sh (strict mode, the repository's top as the
# working directory, as_postgres, init_cluster, wait_archived).
# After sourcing: $T, a temporary directory the postgres user owns; $port,
# free; a trap that stops the cluster in $T/data and removes $T (KEEP=1
# keeps it); log(), psql_() and sql() for the cluster's "bench" database,
# bench_cluster and bench_pgbench_wal below.
# A script may set bench_cleanup_extra to a command run first on exit.

. "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"
started=$(date +%s.%N)

if [ ! -f "$($PG_BIN/pg_config --sharedir)/extension/pitr_restore.control" ]; then
	echo "pitr_restore is not installed: run test/bench/run.sh (make bench)" >&2
	exit 1
fi

T=$(mktemp -d /tmp/pitr_bench.XXXXXX)
chown postgres:postgres "$T"
chmod 755 "$T"
bench_cleanup_extra=
bench_cleanup()
{
	[ -n "$bench_cleanup_extra" ] && eval "$bench_cleanup_extra"
	if [ -f "$T/data/postmaster.pid" ]; then
		as_postgres pg_ctl -D "$T/data" -m immediate stop >/dev/null 2>&1 || true
	fi
	if [ -n "${KEEP:-}" ]; then echo "kept $T"; else rm -rf "$T"; fi
}
trap bench_cleanup EXIT
trap 'exit 130' INT TERM

now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", b - a }'; }
log() { printf '[%6.1fs] %s\n' "$(elapsed "$started" "$(now)")" "$*"; }

port=$(free_port)

psql_() { as_postgres psql -X -q -At -v ON_ERROR_STOP=1 -h "$T" -p "$port" "$@"; }
sql() { psql_ -d bench -c "$1"; }

# bench_cluster: a cluster in $T/data (log $T/server.log) archiving
# (archive_mode = on) with the settings read from stdin, started, with a
# database "bench".  bench_start starts a cluster init_cluster made there.
bench_cluster()
{
	init_cluster "$T/data" "$T" "$port" < <(echo "archive_mode = on"; cat)
	bench_start
}
bench_start()
{
	start_cluster "$T/data" "$T/server.log"
	psql_ -d postgres -c "CREATE DATABASE bench"
}

# written_mb: MB of WAL written since $start_lsn.
written_mb() { sql "SELECT floor((pg_current_wal_lsn() - '$start_lsn'::pg_lsn) / 1048576)::bigint"; }

# bench_pgbench_wal MB [CHECKPOINT_MB]: at least MB of WAL in "bench" from
# pgbench (TPC-B-like transactions mixed with batch INSERTs), a restore
# point bench_rp_N every 100 MB and, given CHECKPOINT_MB, a checkpoint
# every CHECKPOINT_MB.  Sets mb (MB written) and rp (restore points made).
bench_pgbench_wal()
{
	local want=$1 every=${2:-0} scale ckpt=0
	scale=$((want / 100)); [ $scale -lt 1 ] && scale=1
	log "generating $want MB of WAL (pgbench scale $scale, port $port, dir $T)"
	start_lsn=$(sql "SELECT pg_current_wal_lsn()")
	as_postgres pgbench -i -q -s "$scale" -h "$T" -p "$port" bench >/dev/null 2>&1
	sql "CREATE TABLE bench_log (id bigserial PRIMARY KEY, aid int, at timestamptz DEFAULT now(), payload text)"
	cat >"$T/batch.sql" <<SQL
\\set aid random(1, $((100000 * scale)))
INSERT INTO bench_log (aid, payload)
  SELECT :aid, repeat(md5(random()::text), 4) FROM generate_series(1, 40);
SQL
	chown postgres "$T/batch.sql"
	rp=0
	mb=$(written_mb)
	while [ "$mb" -lt "$want" ]; do
		as_postgres pgbench -n -c 2 -j 2 -T 2 -b tpcb-like@9 -f "$T/batch.sql@1" \
			-h "$T" -p "$port" bench >/dev/null 2>&1
		mb=$(written_mb)
		while [ $(((rp + 1) * 100)) -le "$mb" ]; do
			rp=$((rp + 1))
			sql "SELECT pg_create_restore_point('bench_rp_$rp')" >/dev/null
		done
		if [ "$every" -gt 0 ] && [ $(((ckpt + 1) * every)) -le "$mb" ]; then
			ckpt=$((mb / every))
			sql "CHECKPOINT"
		fi
	done
}
