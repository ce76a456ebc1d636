#!/usr/bin/env bash
# Benchmarks (`make bench`): installs what is needed, builds and installs the
# current tree, then runs every test/bench/*.sh other than this one, in name
# order.  Each benchmark times our code against its peer in the same run and
# prints the ratio ours/peer (lower is better; the target is <= 1.0).  Speed
# is part of the product, so these are benchmarks, not timed tests: they
# report, they do not fail on a slow ratio.  Run as root on Debian 12.
# BENCH=name narrows the run to test/bench/name.sh; PG_BIN=<bin directory>
# runs them on another server (e.g. the PostgreSQL 18 test/pg.sh builds).
. "$(dirname "$0")/../lib.sh"

ensure_packages
build_and_install
export PG_BIN
echo "=== benchmarks on $(server_version) ($PG_BIN)"

status=0
for b in $(ls test/bench/*.sh | LC_ALL=C sort); do
	[ "$(basename "$b")" = run.sh ] && continue
	[ -n "${BENCH:-}" ] && [ "$(basename "$b" .sh)" != "$BENCH" ] && continue
	echo "=== $(basename "$b")"
	bash "$b" || { echo "benchmark $(basename "$b") failed" >&2; status=1; }
done
exit $status
