#!/usr/bin/env bash
# Fuzz every byte parser of pitr_restore, then run the in-server mutation
# campaign.  Run as root on Debian 12; installs what it needs.  Fails on any
# crash; each crash input is saved under test/fuzz/regressions/<harness>/
# (commit it: every later run replays it).
#
#   RUNS=200000     executions per harness (libFuzzer -runs)
#   MUTATIONS=5000  mutants in the in-server campaign (0 to skip it)
#   SEED=...        the campaign's seed (default: a random one, printed;
#                   make test runs 090_mutations.pl with a fixed seed)
#   HARNESSES="history tar"   a subset
#   REFRESH_SEEDS=1 rewrite the committed seed corpus from a new cluster
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
. "$top/test/lib.sh"
RUNS=${RUNS:-200000}
MUTATIONS=${MUTATIONS:-5000}
export PG_BIN

# 1. Packages: the project's, and the fuzzing toolchain.
ensure_packages
for p in clang-15 libfuzzer-15-dev libssl-dev; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
		export DEBIAN_FRONTEND=noninteractive
		apt-get update -qq
		apt-get install -y -qq clang-15 libfuzzer-15-dev libssl-dev >/dev/null
		break
	fi
done

# 2. The harnesses.
bash "$here/build.sh"
harnesses=${HARNESSES:-"history backup_label backup_manifest tar file_name archive_read page_header sidecar quote repo_info"}

work=$(mktemp -d /tmp/pitr_fuzz.XXXXXX)
chmod 755 "$work"
trap 'rm -rf "$work"' EXIT

# 3. Fresh seeds from real files: a throwaway cluster that archives, takes
#    a plain and a tar backup, and is recovered into a second timeline.
make_seeds()
{
	local d=$1 port=$((20000 + RANDOM % 20000))
	local pg="runuser -u postgres -- env PATH=$PG_BIN:$PATH"
	mkdir -p "$d"
	chown postgres: "$d"
	$pg initdb -D "$d/data" -A trust -U postgres >/dev/null
	cat >>"$d/data/postgresql.conf" <<EOF
port = $port
listen_addresses = ''
unix_socket_directories = '$d'
archive_mode = on
archive_command = 'cp %p $d/archive/%f'
EOF
	$pg mkdir "$d/archive"
	$pg pg_ctl -D "$d/data" -l "$d/log" -w start >/dev/null
	local sql="$pg psql -X -q -h $d -p $port -U postgres -d postgres"
	$sql -c "CREATE TABLE t AS SELECT g FROM generate_series(1, 1000) g" \
		-c "SELECT pg_create_restore_point('seed')" -c "SELECT pg_switch_wal()"
	$pg pg_basebackup -h "$d" -p $port -U postgres -D "$d/plain" -X fetch -c fast
	$pg pg_basebackup -h "$d" -p $port -U postgres -D "$d/tar" -Ft -X fetch -c fast
	$sql -c "INSERT INTO t SELECT 1" -c "SELECT pg_switch_wal()"
	sleep 2
	$pg pg_ctl -D "$d/data" -m fast -w stop >/dev/null
	# a second timeline, for a real history file
	$pg cp -a "$d/plain" "$d/rec"
	cat >>"$d/rec/postgresql.conf" <<EOF
restore_command = 'cp $d/archive/%f %p'
recovery_target = 'immediate'
recovery_target_action = 'promote'
EOF
	$pg touch "$d/rec/recovery.signal"
	$pg pg_ctl -D "$d/rec" -l "$d/reclog" -w start >/dev/null
	# pg_ctl returns once hot standby accepts connections: wait for the
	# promotion, which writes the history file
	for _ in $(seq 60); do
		[ "$($pg psql -X -At -h $d -p $port -U postgres -d postgres \
			-c 'SELECT pg_is_in_recovery()')" = f ] && break
		sleep 1
	done
	$pg psql -X -q -h $d -p $port -U postgres -d postgres -c "SELECT pg_switch_wal()" >/dev/null
	sleep 2
	$pg pg_ctl -D "$d/rec" -m fast -w stop >/dev/null
	perl "$here/seeds.pl" "$d" "$d/seeds"
}

seeds="$work/seeds"
fresh=1
make_seeds "$work/cluster" >"$work/seeds.log" 2>&1 || {
	echo "could not make fresh seeds (see below); fuzzing from the committed corpus"
	tail -20 "$work/seeds.log"
	fresh=0
}
if [ $fresh = 1 ] && [ -n "${REFRESH_SEEDS:-}" ]; then
	for d in "$work"/cluster/seeds/*; do
		rm -rf "$here/corpus/$(basename "$d")"
		cp -r "$d" "$here/corpus/"
	done
fi

# 4. Replay the regressions, then fuzz.
status=0
report=()
for h in $harnesses; do
	bin="$here/build/fuzz_$h"
	reg="$here/regressions/$h"
	if [ -d "$reg" ] && [ -n "$(ls -A "$reg" 2>/dev/null | grep -v '^\.gitkeep$' || true)" ]; then
		if ! "$bin" $(ls -d "$reg"/* | grep -v '\.gitkeep$') >"$work/replay_$h.log" 2>&1; then
			echo "REGRESSION: fuzz_$h crashes on a saved input again:"
			grep -E 'ERROR|SUMMARY|#[0-9] |reached|Running' "$work/replay_$h.log" | head -20
			status=1
		fi
	fi
	mkdir -p "$work/new_$h" "$work/art_$h"
	dirs=("$work/new_$h")
	[ -d "$here/corpus/$h" ] && dirs+=("$here/corpus/$h")
	[ $fresh = 1 ] && [ -d "$work/cluster/seeds/$h" ] && dirs+=("$work/cluster/seeds/$h")
	rc=0
	"$bin" -runs="$RUNS" -max_len=65536 -timeout=20 -rss_limit_mb=2048 \
		-artifact_prefix="$work/art_$h/" -print_final_stats=1 "${dirs[@]}" \
		>"$work/fuzz_$h.log" 2>&1 || rc=$?
	execs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$work/fuzz_$h.log" | grep -o '[0-9]*$' || echo '?')
	cov=$(grep -oE 'cov: [0-9]+' "$work/fuzz_$h.log" | tail -1 || true)
	if [ $rc -ne 0 ] || [ -n "$(ls -A "$work/art_$h")" ]; then
		mkdir -p "$reg"
		cp "$work/art_$h"/* "$reg"/ 2>/dev/null || true
		echo "CRASH in fuzz_$h (exit $rc); inputs saved in $reg:"
		grep -E '==ERROR|SUMMARY|runtime error|#[0-9] |reached|unexpected ERROR' "$work/fuzz_$h.log" | head -25
		status=1
		report+=("fuzz_$h: $execs executions, $cov, CRASH")
	else
		report+=("fuzz_$h: $execs executions, $cov, no crash")
	fi
done
printf '%s\n' "${report[@]}"

# 5. The in-server mutation campaign (the WAL reader runs only in a server):
#    first the mutants that failed before (regressions/mutations/<seed>
#    lists their indices), then a new campaign.
cd "$top"
for f in "$here"/regressions/mutations/*; do
	[ -f "$f" ] || continue
	only=$(grep -v '^#' "$f" | tr -s ',\n ' ',' | sed 's/^,//; s/,$//')
	[ -n "$only" ] || continue
	last=$(echo "$only" | tr ',' '\n' | sort -n | tail -1)
	echo "replaying mutants $only of SEED=$(basename "$f")"
	SEED=$(basename "$f") ONLY=$only MUTATIONS=$((last + 1)) REGRESS= \
		PROVE_TESTS=test/t/090_mutations.pl PROVE_FLAGS=-v bash test/run.sh || status=1
done
if [ "$MUTATIONS" -gt 0 ]; then
	rc=0
	SEED=${SEED:-$((RANDOM * 32768 + RANDOM))} \
		MUTATIONS=$MUTATIONS REGRESS= PROVE_TESTS=test/t/090_mutations.pl \
		PROVE_FLAGS=-v bash test/run.sh 2>&1 | tee "$work/campaign.log" || rc=$?
	# the failed mutants become regressions, replayed by every later run
	seed=$(grep -o 'SEED=[0-9]*' "$work/campaign.log" | head -1 | cut -d= -f2)
	failed=$(grep -oE '# mutant [0-9]+: .* => ' "$work/campaign.log" |
		grep -oE '^# mutant [0-9]+' | grep -oE '[0-9]+$' | sort -un | paste -sd, || true)
	if [ -n "$seed" ] && [ -n "$failed" ]; then
		mkdir -p "$here/regressions/mutations"
		{
			echo "# 090_mutations.pl mutants that failed with SEED=$seed (see the run's log)"
			echo "$failed"
		} >"$here/regressions/mutations/$seed"
		echo "failed mutants saved in test/fuzz/regressions/mutations/$seed"
	fi
	[ $rc -eq 0 ] || status=1
fi
exit $status
