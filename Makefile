# pitr_restore: point-in-time restore with certainty, from SQL

MODULE_big = pitr_restore
# One folder per layer (src/format, src/source, src/index, src/resolve,
# src/restore, src/cleanup, ...); see doc/architecture.md.
OBJS = $(patsubst %.c,%.o,$(sort $(wildcard src/*.c src/*/*.c)))
PGFILEDESC = "pitr_restore - resolve, build and clean up point-in-time restores"

EXTENSION = pitr_restore
EXTVERSION = 1.1

# Released install scripts are kept as they were released, and every change
# since goes through an update script (sql/); the current install script is
# assembled from one file per concern (sql/install/).
DATA = sql/pitr_restore--1.0.sql sql/pitr_restore--1.0.control \
	sql/pitr_restore--1.0--1.1.sql
DATA_built = pitr_restore--$(EXTVERSION).sql

INSTALL_PARTS = $(sort $(wildcard sql/install/*.sql))

REGRESS = $(patsubst sql/%.sql,%,$(sort $(wildcard sql/[0-9]*.sql)))
TAP_TESTS = 1
PROVE_TESTS = $(sort $(wildcard test/t/*.pl))

PG_CPPFLAGS = -Iinclude $(patsubst %/,-I%,$(wildcard include/*/)) -Wall -Wextra -Wno-unused-parameter -Wno-sign-compare \
	-Wno-missing-field-initializers
SHLIB_LINK = -lzstd -larchive -lz -llz4 -lbz2

PG_CONFIG ?= pg_config
PGXS := $(shell $(PG_CONFIG) --pgxs)
include $(PGXS)

pitr_restore--$(EXTVERSION).sql: $(INSTALL_PARTS)
	cat $^ > $@

.PHONY: test demo bench
test:
	bash test/run.sh

demo:
	bash test/demo.sh

bench:
	bash test/bench/run.sh
