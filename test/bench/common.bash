# Shared set-up of the benchmarks (sourced, not run: run.sh runs *.sh).
# After sourcing: $T, a temporary directory the postgres user owns; $port,
# free; a trap that stops the cluster in $T/data and removes $T (KEEP=1
# keeps it); log(), psql_() and sql() for the cluster's "bench" database.
# A script may set bench_cleanup_extra to a command run first on exit.

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

# A free TCP port (the cluster listens only on its unix socket in $T, but the
# port names the socket file and must not clash with another cluster's).
free_port()
{
	local p
	for _ in $(seq 100); do
		p=$((20000 + RANDOM % 20000))
		if ! ss -Hltn "sport = :$p" 2>/dev/null | grep -q . &&
			[ ! -e "/tmp/.s.PGSQL.$p" ]; then
			echo "$p"
			return
		fi
	done
	echo "no free port" >&2
	return 1
}
port=$(free_port)

psql_() { as_postgres psql -X -q -At -v ON_ERROR_STOP=1 -h "$T" -p "$port" "$@"; }
sql() { psql_ -d bench -c "$1"; }
