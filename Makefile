# pitr_restore: point-in-time restore with certainty, from SQL

MODULE_big = pitr_restore
OBJS = $(patsubst %.c,%.o,$(wildcard src/*.c))
PGFILEDESC = "pitr_restore - resolve, build and clean up point-in-time restores"

EXTENSION = pitr_restore
DATA_built = pitr_restore--1.0.sql

# The install script is assembled from one file per concern, in name order.
INSTALL_PARTS = $(sort $(wildcard sql/install/*.sql))

REGRESS = $(patsubst sql/%.sql,%,$(sort $(wildcard sql/[0-9]*.sql)))
TAP_TESTS = 1
PROVE_TESTS = $(sort $(wildcard test/t/*.pl))

PG_CPPFLAGS = -Iinclude -Wall -Wextra -Wno-unused-parameter -Wno-sign-compare \
	-Wno-missing-field-initializers
SHLIB_LINK = -lzstd -larchive -lz

PG_CONFIG ?= pg_config
PGXS := $(shell $(PG_CONFIG) --pgxs)
include $(PGXS)

pitr_restore--1.0.sql: $(INSTALL_PARTS)
	cat $^ > $@

.PHONY: test demo bench
test:
	bash test/run.sh

demo:
	bash test/demo.sh

bench:
	bash test/bench/run.sh
