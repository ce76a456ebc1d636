# Shared set-up for test/run.sh and test/demo.sh: packages, build, install,
# and a tree the unprivileged postgres user may write.

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
