#!/bin/bash
# Lists the longest C functions (lines from the line naming the function to
# its closing brace), longest first: bash test/function_sizes.sh [count].
# Relies on pgindent's layout: the name at column 0, braces at column 0.
cd "$(dirname "$0")/.." || exit 2
find src include -name '*.c' | sort | xargs awk '
	FNR == 1 { name = ""; start = 0; inbody = 0 }
	!inbody && /^[A-Za-z_][A-Za-z0-9_]*\(/ { name = $0; sub(/\(.*/, "", name); start = FNR }
	!inbody && /^\{/ && name != "" { inbody = 1 }
	inbody && /^\}/ {
		printf "%5d %s:%d %s\n", FNR - start + 1, FILENAME, start, name
		inbody = 0; name = ""
	}' | sort -rn | head -n "${1:-5}"
