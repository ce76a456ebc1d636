#!/usr/bin/env bash
# replay.sh OUT: build every fuzz harness around a plain main() (replay.c;
# gcc, no libFuzzer, no sanitizer) into OUT, run each once over its
# committed corpus (test/fuzz/corpus/<harness>/) and saved crash inputs
# (test/fuzz/regressions/<harness>/), and write what the parser said of
# each input to OUT/<harness>.out.  test/t/002_parsers.pl compares those
# with test/fuzz/expected/<harness>.out.  Exits non-zero if a harness
# cannot be built or breaks one of its promises (abort).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
out=$1
PG_BIN=${PG_BIN:-$(dirname "$(command -v pg_config)")}
export PG_BIN
harnesses="history backup_label backup_manifest tar file_name archive_read page_header sidecar quote repo_info"
mkdir -p "$out"

FUZZ_REPLAY=1 FUZZ_BUILD="$out/build" HARNESSES="$harnesses" bash "$here/build.sh" >"$out/build.log" 2>&1 || {
	cat "$out/build.log" >&2
	exit 1
}

status=0
for h in $harnesses; do
	inputs=()
	for d in "$here/corpus/$h" "$here/regressions/$h"; do
		[ -d "$d" ] || continue
		for f in "$d"/*; do
			[ -f "$f" ] && [ "$(basename "$f")" != .gitkeep ] && inputs+=("$f")
		done
	done
	[ ${#inputs[@]} -gt 0 ] || continue
	if ! (cd "$out" && "$out/build/fuzz_$h" "${inputs[@]}") >"$out/$h.out" 2>"$out/$h.err"; then
		echo "fuzz_$h broke a promise on the last input of $out/$h.out:" >&2
		tail -5 "$out/$h.out" "$out/$h.err" >&2
		status=1
	fi
done
exit $status
