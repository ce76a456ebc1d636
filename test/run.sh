#!/usr/bin/env bash
# The whole test suite: pg_regress against a throwaway cluster, then the TAP
# suites (real clusters, archives, recoveries).  Run as root on a fresh
# Debian 12 machine: it installs what it needs.  Exits non-zero on failure.
# PG_BIN=<bin directory> runs it against another server, e.g. the
# PostgreSQL 18 that test/pg.sh builds.
. "$(dirname "$0")/lib.sh"

ensure_packages
build_and_install
server=$(server_version)
echo "=== test suite on $server ($PG_BIN)"
started=$SECONDS

# The tree's shape (doc/architecture.md): no include runs from a lower layer
# up, and no C function is longer than 150 lines.
bash "$top/test/check_layers.sh"
bash "$top/test/function_sizes.sh" 1 |
	awk '{ print "longest C function: " $0 } $1 > 150 { print "  over 150 lines"; bad = 1 } END { exit bad }'

work=$(copy_tree_for_postgres "$top")
port=$(free_port)
cleanup()
{
	local rc=$?
	echo "=== test suite on $server: $([ $rc = 0 ] && echo passed || echo FAILED) in $((SECONDS - started)) s"
	as_postgres pg_ctl -D "$work/regress_data" -m immediate stop >/dev/null 2>&1 || true
	mountpoint -q "$work/small_fs" && umount "$work/small_fs"
	if [ "${KEEP:-}" = "" ]; then rm -rf "$work"; else echo "kept $work"; fi
}
trap cleanup EXIT

# A 4 MB file system, too small for any side server's copy of a backup:
# 111 and 112 check the "not enough disk space" refusal on it.  Only root
# may mount one; without it those checks are skipped, saying why.
small_fs=
if [ "$(id -u)" = 0 ] && mkdir "$work/small_fs" &&
	mount -t tmpfs -o size=4m,mode=0700 tmpfs "$work/small_fs" 2>/dev/null; then
	chown postgres: "$work/small_fs"
	small_fs="$work/small_fs"
fi

# A throwaway cluster for pg_regress.
init_cluster "$work/regress_data" "$work" "$port" <<CONF
shared_preload_libraries = 'pitr_restore'
pitr_restore.archive_dir = '$work/regress_archive'
# read by 004_cleanup's hooks: a hook reads the server's configuration only
app.admin_email = 'admin@staging.example'
CONF
as_postgres mkdir -p "$work/regress_archive"
start_cluster "$work/regress_data" "$work/regress.log"

status=0
cd "$work"
# REGRESS=..., PROVE_TESTS=... or TAP_TESTS= narrow a run while developing.
narrow=()
[ -n "${REGRESS+x}" ] && narrow+=("REGRESS=$REGRESS")
[ -n "${PROVE_TESTS+x}" ] && narrow+=("PROVE_TESTS=$PROVE_TESTS")
[ -n "${TAP_TESTS+x}" ] && narrow+=("TAP_TESTS=$TAP_TESTS")
as_postgres env PITR_SMALL_FS="$small_fs" make -s PG_CONFIG=$PG_BIN/pg_config installcheck \
	PGHOST="$work" PGPORT=$port PGUSER=postgres \
	PROVE_FLAGS="${PROVE_FLAGS--j2}" "${narrow[@]}" || status=$?
if [ -n "${SAVE_RESULTS:-}" ] && [ -d results ]; then
	cp results/*.out "$SAVE_RESULTS"/
fi
if [ $status -ne 0 ]; then
	[ -f regression.diffs ] && head -200 regression.diffs
	for f in tmp_check/log/regress_log_*; do
		[ -f "$f" ] && grep -q 'not ok\|Dubious\|died' "$f" && tail -80 "$f"
	done
fi
exit $status
