#!/bin/bash
# Checks that no #include runs from a lower layer up to a higher one (the
# table in doc/architecture.md). Prints each offending include and exits 1
# if there is one. Run from anywhere: bash test/check_layers.sh
cd "$(dirname "$0")/.." || exit 2

# The table of doc/architecture.md: what each layer may include besides
# itself, util/ and compat/ (compat/archive_module.c wraps the archive
# module's callbacks); the module root (src/pitr_restore.c) registers
# every part.
declare -A allowed=(
	[format]=""
	[source]="format"
	[index]="format source"
	[resolve]="format source index"
	[restore]="format source cleanup"
	[history]="format source index"
	[cleanup]="format"
	[archive_module]="format"
	[util]=""
	[compat]="archive_module"
	[root]="format source index resolve restore history cleanup archive_module"
)

# The layer of a file of ours: its folder under src/ or include/.
layer_of() {
	case "$1" in
	src/*/*|include/*/*) local rest=${1#*/}; echo "${rest%%/*}" ;;
	*) echo root ;;
	esac
}

# Our header an include names ("format/quote.h" or just "quote.h"), if any.
header_of() {
	if [ -f "include/$1" ]; then
		echo "include/$1"
	else
		find include -name "$(basename "$1")" -print -quit
	fi
}

bad=0
while IFS= read -r file; do
	from=$(layer_of "$file")
	while IFS= read -r name; do
		header=$(header_of "$name")
		[ -n "$header" ] || continue	# PostgreSQL's or the system's
		to=$(layer_of "$header")
		case " $from util compat ${allowed[$from]} " in
		*" $to "*) ;;
		*) echo "$file: includes $name ($from -> $to)"; bad=1 ;;
		esac
	done < <(sed -n 's/^#include "\(.*\)".*/\1/p' "$file")
done < <(find src include -name '*.[ch]' | sort)

[ $bad = 0 ] && echo "layers: no include runs from a lower layer up"
exit $bad
