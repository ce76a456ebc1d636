# Shared set-up for test/run.sh, test/demo.sh and the benchmarks (sourced):
# packages, build, install, a tree the unprivileged postgres user may write,
# and the throwaway clusters they start.  Sourcing it turns on strict mode
# and moves to the top of the repository ($top).

set -euo pipefail
top=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$top"

PG_BIN=${PG_BIN:-/usr/lib/postgresql/15/bin}
PACKAGES="postgresql-15 postgresql-server-dev-15 postgresql-15-cron libpq-dev libzstd-dev
libarchive-dev zlib1g-dev liblz4-dev libbz2-dev libipc-run-perl zstd lz4 bzip2 gzip
make gcc libssl-dev pgbackrest barman barman-cli libxml2-utils chromium"

ensure_packages()
{
	local missing=""
	for p in $PACKAGES; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' ||
			missing="$missing $p"
	done
	[ -z "$missing" ] && return 0
	if [ "$(id -u)" != 0 ]; then
		echo "missing packages:$missing (run as root to install them)" >&2
		return 1
	fi
	echo "installing:$missing"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq
	apt-get install -y -qq $missing >/dev/null
}

# "PostgreSQL 18.6", the server PG_BIN names.
server_version()
{
	"$PG_BIN/pg_config" --version
}

# Objects built for one server are useless to another: a tree last built
# against a different pg_config (.built_with says which) is cleaned first.
build_and_install()
{
	local built_with=""
	[ -f .built_with ] && built_with=$(cat .built_with)
	if [ "$built_with" != "$PG_BIN/pg_config" ]; then
		make -s PG_CONFIG=$PG_BIN/pg_config clean
		echo "$PG_BIN/pg_config" >.built_with
	fi
	make -s PG_CONFIG=$PG_BIN/pg_config
	make -s PG_CONFIG=$PG_BIN/pg_config install >/dev/null
}

# Copy the source tree somewhere the postgres user owns; print its path.
copy_tree_for_postgres()
{
	local dest
	dest=$(mktemp -d /tmp/pitr_restore.XXXXXX)
	tar -C "$1" --exclude=.git -cf - . | tar -C "$dest" -xf -
	chown -R postgres:postgres "$dest"
	echo "$dest"
}

# Run a command as the postgres user (or as we are, if not root).
as_postgres()
{
	if [ "$(id -u)" = 0 ]; then
		runuser -u postgres -- env PATH="$PG_BIN:$PATH" "$@"
	else
		env PATH="$PG_BIN:$PATH" "$@"
	fi
}

# A free TCP port (the clusters listen only on a unix socket, but the port
# names the socket file and must not clash with another cluster's).
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

# init_cluster DATA SOCKET_DIR PORT: initdb DATA for a cluster that listens
# only on its unix socket in SOCKET_DIR, with WAL an archive can use; the
# settings read from stdin are appended.
init_cluster()
{
	as_postgres initdb -D "$1" -A trust -U postgres >/dev/null
	{
		printf '%s\n' "port = $3" "listen_addresses = ''" \
			"unix_socket_directories = '$2'" "wal_level = replica"
		cat
	} >>"$1/postgresql.conf"
}

# start_cluster DATA LOG / stop_cluster DATA
start_cluster() { as_postgres pg_ctl -D "$1" -l "$2" -w start >/dev/null; }
stop_cluster() { as_postgres pg_ctl -D "$1" -m fast stop >/dev/null; }

# wait_archived SOCKET_DIR PORT SEGMENT [SECONDS]: wait until the cluster
# has archived SEGMENT; after SECONDS (default 120) fail, showing
# pg_stat_archiver.
wait_archived()
{
	local q="SELECT coalesce(last_archived_wal, '') >= '$3' FROM pg_stat_archiver"
	for _ in $(seq $((${4:-120} * 4))); do
		[ "$(as_postgres psql -X -At -h "$1" -p "$2" -d postgres -c "$q")" = t ] && return 0
		sleep 0.25
	done
	echo "the archiver did not reach $3 in ${4:-120} s" >&2
	as_postgres psql -X -h "$1" -p "$2" -d postgres -c "SELECT * FROM pg_stat_archiver" >&2
	return 1
}
