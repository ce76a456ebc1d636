#!/usr/bin/env bash
# Build the libFuzzer harness of the pgBackRest/Barman repository-file parsers and run it for
# FUZZ_SECONDS (default 60) over a corpus seeded with real-looking files.
# Needs clang-15 and libfuzzer-15-dev.  Exits non-zero on a crash.
set -euo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
PG_BIN=${PG_BIN:-/usr/lib/postgresql/15/bin}
inc=$($PG_BIN/pg_config --includedir-server)
lib=$($PG_BIN/pg_config --pkglibdir)
out=${FUZZ_DIR:-$(mktemp -d /tmp/pitr_fuzz.XXXXXX)}
mkdir -p "$out/corpus"
clang-15 -g -O1 -fsanitize=fuzzer,address,undefined -DFRONTEND \
	-I"$top/include" -I"$top/include/format" -I"$inc" \
	"$top/test/fuzz/fuzz_repo_info.c" "$top/test/fuzz/report.c" \
	"$top"/src/format/{tool_ini,repo_backup,pgbackrest_info,barman_info}.c "$top"/src/compat/json.c \
	"$lib/libpgcommon.a" "$lib/libpgport.a" -o "$out/fuzz_repo_info"
cp "$top"/test/fuzz/corpus/repo_info/* "$out/corpus/"
"$out/fuzz_repo_info" -max_total_time="${FUZZ_SECONDS:-60}" \
	-max_len=8192 "$out/corpus"
echo "fuzzed for ${FUZZ_SECONDS:-60}s without a crash ($out)"
