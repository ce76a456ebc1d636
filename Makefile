# pitr_restore: point-in-time restore with certainty, from SQL

MODULE_big = pitr_restore
# One folder per layer (src/format, src/source, src/index, src/resolve,
# src/restore, src/cleanup, ...); see doc/architecture.md.
OBJS = $(patsubst %.c,%.o,$(sort $(wildcard src/*.c src/*/*.c)))
PGFILEDESC = "pitr_restore - resolve, build and clean up point-in-time restores"

EXTENSION = pitr_restore

# As contrib keeps them: the base script (1.1) and one small update script
# per later version; CREATE EXTENSION runs the base and then each update.
DATA = sql/pitr_restore--1.1.sql $(sort $(wildcard sql/pitr_restore--*--*.sql))

REGRESS = $(patsubst sql/%.sql,%,$(sort $(wildcard sql/[0-9]*.sql)))
TAP_TESTS = 1
# The slowest files first: test/run.sh runs two at a time (prove -j2), and
# the run ends soonest when neither slot is left with a long file at the end.
SLOW_TESTS = test/t/100_tool_archives.pl test/t/090_mutations.pl
PROVE_TESTS = $(SLOW_TESTS) $(filter-out $(SLOW_TESTS),$(sort $(wildcard test/t/*.pl)))

# libpq (Debian's libpq-dev): restore_table talks to its side server, as
# dblink does.
PG_CPPFLAGS = -I$(libpq_srcdir) -Iinclude $(patsubst %/,-I%,$(wildcard include/*/)) -Wall -Wextra -Wno-unused-parameter -Wno-sign-compare \
	-Wno-missing-field-initializers
SHLIB_LINK = -lzstd -larchive -lz -llz4 -lbz2 -lpq

# Header dependencies: gcc writes src/<layer>/<file>.d beside each object
# (-MMD; -MP keeps a deleted header from breaking the build), so touching a
# header rebuilds every object that includes it.  PGXS's own autodepend
# cannot serve: it is set only by configure and keeps one flat .deps/ by
# file name, and two of our files share a name.  In CFLAGS, not CPPFLAGS:
# the bitcode rule (clang) reads CPPFLAGS and would write the same .d.
PG_CFLAGS = -MMD -MP
EXTRA_CLEAN = $(OBJS:.o=.d)

PG_CONFIG ?= pg_config
PGXS := $(shell $(PG_CONFIG) --pgxs)
include $(PGXS)

-include $(OBJS:.o=.d)
# Bitcode (JIT inlining, with_llvm) is rebuilt whenever its object is.
$(OBJS:.o=.bc): %.bc: %.o

.PHONY: test demo bench
test:
	bash test/run.sh

demo:
	bash test/demo.sh

bench:
	bash test/bench/run.sh
