#!/usr/bin/env bash
# The whole test suite (test/run.sh) with the extension built under
# AddressSanitizer and UndefinedBehaviorSanitizer.  Fails on any sanitizer
# report, or if the suite itself fails.
#
# The server is not instrumented, only pitr_restore.so is, so the ASan
# runtime must be the first library of every postgres process: the script
# works on a private copy of the PostgreSQL installation whose "postgres"
# is a wrapper that preloads libasan.  Nothing outside that copy and a copy
# of the source tree is changed, so other builds and installs are left
# alone.  Reports go to files (log_path), scanned at the end.
#
#   PG_BIN=/usr/lib/postgresql/15/bin bash test/sanitize.sh
#   (REGRESS=..., PROVE_TESTS=..., TAP_TESTS=, KEEP=1 as for test/run.sh)
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
. "$top/test/lib.sh"
ensure_packages

# clang's shared ASan runtime (it carries UBSan's too).  GCC 12's libasan
# deadlocks when preloaded into Debian's postgres (bindtextdomain's rwlock
# in set_pglocale_pgservice, before main does anything else).
CC=clang-15
SAN_FLAGS="-fsanitize=address,undefined -fno-omit-frame-pointer -shared-libasan -fno-sanitize-recover=undefined -Wno-ignored-attributes -Wno-unknown-warning-option"
if ! command -v $CC >/dev/null; then
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq && apt-get install -y -qq clang-15 >/dev/null
fi
libasan=$($CC -print-file-name=libclang_rt.asan-x86_64.so)
[ -f "$libasan" ] || { echo "no ASan runtime for $CC" >&2; exit 1; }

start=$(date +%s)
work=$(mktemp -d /tmp/pitr_sanitize.XXXXXX)
chmod 755 "$work"
cleanup()
{
	if [ "${KEEP:-}" = "" ]; then rm -rf "$work"; else echo "kept $work"; fi
}
trap cleanup EXIT

# 1. A private, relocated copy of the installation (PostgreSQL finds its
#    share and lib directories relative to its binaries).
pg_config=$PG_BIN/pg_config
bindir=$($pg_config --bindir)
sharedir=$($pg_config --sharedir)
incdir=$($pg_config --includedir)
pgroot="$work/pg"
mkdir -p "$pgroot/usr/lib/postgresql" "$pgroot/usr/share/postgresql" "$pgroot/usr/include"
cp -a "$(dirname "$bindir")" "$pgroot/usr/lib/postgresql/"
cp -a "$sharedir" "$pgroot/usr/share/postgresql/"
cp -a "$incdir" "$pgroot/usr/include/"
san_bin="$pgroot/usr/lib/postgresql/$(basename "$(dirname "$bindir")")/bin"
[ -x "$san_bin/pg_config" ] && [ "$("$san_bin/pg_config" --bindir)" = "$san_bin" ] ||
	{ echo "could not relocate $PG_BIN into $pgroot" >&2; exit 1; }

# The wrapper: the ASan runtime first, then the real server binary under
# its usual name (it locates share/ and lib/ from argv[0]).
asan_logs="$work/reports"
mkdir -p "$asan_logs"
chmod 1777 "$asan_logs"
mv "$san_bin/postgres" "$san_bin/postgres.real"
cat >"$san_bin/postgres" <<EOF
#!/bin/bash
LD_PRELOAD="$libasan\${LD_PRELOAD:+:\$LD_PRELOAD}"
LD_LIBRARY_PATH="$(dirname "$libasan")\${LD_LIBRARY_PATH:+:\$LD_LIBRARY_PATH}"
ASAN_OPTIONS="detect_leaks=0:abort_on_error=0:log_path=$asan_logs/asan:log_exe_name=1:handle_segv=1:detect_stack_use_after_return=0:allow_user_segv_handler=1"
UBSAN_OPTIONS="print_stacktrace=1:log_path=$asan_logs/ubsan:log_exe_name=1"
export LD_PRELOAD LD_LIBRARY_PATH ASAN_OPTIONS UBSAN_OPTIONS
exec -a "\$0" "$san_bin/postgres.real" "\$@"
EOF
chmod 755 "$san_bin/postgres"

# 2. A copy of the source tree, built with the sanitizers (PGXS hard-sets
#    CC, so build here with CC on the command line; test/run.sh's own make
#    then finds everything up to date and installs it).
src="$work/src"
mkdir -p "$src"
tar -C "$top" --exclude=.git --exclude='*.o' --exclude='*.so' --exclude='*.bc' --exclude='*.d' \
	--exclude=test/fuzz/build -cf - . | tar -C "$src" -xf -
make -C "$src" -s CC=$CC COPT="$SAN_FLAGS" PG_CONFIG="$san_bin/pg_config" >"$work/build.log" 2>&1 ||
	{ grep -E 'error' "$work/build.log" | head -20; exit 1; }
nm -u "$src/pitr_restore.so" | grep -c __asan_ >/dev/null ||
	{ echo "pitr_restore.so was not built with ASan" >&2; exit 1; }
export COPT="$SAN_FLAGS"
chown -R postgres:postgres "$work"

# 3. The suite.
status=0
PG_BIN="$san_bin" bash "$src/test/run.sh" || status=$?
elapsed=$(( $(date +%s) - start ))

# 4. The reports.  Sanitizer output of the server goes to log_path files;
#    a report printed to stderr instead would land in the server logs,
#    which run.sh has removed unless KEEP=1, so check log files too.
reports=$(find "$asan_logs" -type f -size +0 | sort)
if [ -n "$reports" ]; then
	echo "sanitizer reports:"
	for r in $reports; do
		echo "== $r"
		grep -E '^(==[0-9]+==ERROR|SUMMARY|.*runtime error|    #[0-9]+ )' "$r" | head -30
	done
	[ $status -eq 0 ] && status=1
fi
echo "sanitize: suite exit $status, $(echo "$reports" | grep -c . || true) report file(s), ${elapsed}s"
exit $status
