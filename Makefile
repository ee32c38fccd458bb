# fetcherd — hand-written Makefile. pkg-config finds the four libraries;
# -MMD writes header dependencies next to each object.
#
#   make            build/fetcherd, build/fetcher-api, build/fakemarket
#   make test       bootstrap, then unit + integration (+ sanitizer build)
#   make run        the local stack against the real providers
#   make demo       the local stack against fakemarket (no internet needed)
#   make bench      benchmarks; every figure as "bench <name> <value> <unit>"
#   make fuzz       libFuzzer targets, FUZZ_SECONDS (300) each
#   make valgrind   the daemons under memcheck through faults and API load
#   make check-style  clang-format and banned functions
#   make install    PREFIX=/usr/local DESTDIR=

BUILD   ?= build
PREFIX  ?= /usr/local
DESTDIR ?=
CC      ?= cc
VERSION := 0.1.0

PKGS        := libpq libcurl json-c libmicrohttpd
PKG_CFLAGS   = $(shell pkg-config --cflags $(PKGS))
PKG_LIBS     = $(shell pkg-config --libs $(PKGS))

# A fresh machine has neither the compiler's libraries nor pkg-config: any
# goal that compiles first installs the build profile (scripts/bootstrap,
# Debian packages; quick and silent when all is there), or stops with one
# line saying what to run, instead of a screen of pkg-config errors.
NO_BUILD_GOALS := bootstrap clean check-style
ifneq ($(filter-out $(NO_BUILD_GOALS),$(or $(MAKECMDGOALS),all)),)
ifneq ($(shell pkg-config --exists $(PKGS) 2>/dev/null && echo yes),yes)
$(info make: the build libraries ($(PKGS)) are missing; installing them (scripts/bootstrap, build profile))
ifneq ($(shell BOOTSTRAP_PROFILE=build scripts/bootstrap >&2 && pkg-config --exists $(PKGS) && echo yes),yes)
$(error the build libraries are missing and could not be installed: run `make bootstrap` as root (or with sudo), then `make`)
endif
endif
endif

# SAN=1 builds with AddressSanitizer + UndefinedBehaviorSanitizer, halting
# on the first report (used by `make test` in build/asan).
ifeq ($(SAN),1)
SANFLAGS := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
OPT      := -O1 -g
# the build the tests run: FETCHER_ASSERT aborts on our bugs (common/log.h)
TESTDEFS := -DFETCHER_TEST_BUILD
else
SANFLAGS :=
OPT      := -O2 -g
TESTDEFS :=
endif

CFLAGS   ?= $(OPT)
CFLAGS   += -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes \
            -Wno-missing-field-initializers -MMD -MP $(SANFLAGS) $(TESTDEFS) \
            -DFETCHER_VERSION='"$(VERSION)"' -Icommon -Idaemon -Iapi
LDFLAGS  += $(SANFLAGS)

COMMON_SRC := $(wildcard common/*.c)
DAEMON_SRC := $(wildcard daemon/*.c daemon/providers/*.c)
API_SRC    := $(wildcard api/*.c)
FAKE_SRC   := $(wildcard tests/fakemarket/*.c)

obj = $(patsubst %.c,$(BUILD)/obj/%.o,$(1))
COMMON_OBJ := $(call obj,$(COMMON_SRC))
DAEMON_OBJ := $(call obj,$(DAEMON_SRC))
API_OBJ    := $(call obj,$(API_SRC))
FAKE_OBJ   := $(call obj,$(FAKE_SRC))

PROGRAMS := $(BUILD)/fetcherd $(BUILD)/fetcher-api $(BUILD)/fakemarket

# Unit tests: tests/unit/test_NAME.c links the modules listed in
# UNIT_DEPS_NAME (sources without .c) and nothing else, with UNIT_LDFLAGS_NAME
# (the allocation-failure run wraps the allocator with -Wl,--wrap).
UNIT_TESTS := $(patsubst tests/unit/test_%.c,%,$(wildcard tests/unit/test_*.c))
UNIT_BINS  := $(patsubst %,$(BUILD)/tests/test_%,$(UNIT_TESTS))
-include tests/unit/deps.mk

.PHONY: all test unit run demo bench clean install bootstrap check-style asan fuzz valgrind
# dbtool too: tests/integration/partitions.sh EXPLAINs fetcher-api's own
# statements with it. Only where bench/ is: the Docker build context leaves
# it out (.dockerignore), and the image builds the programs alone.
all: $(PROGRAMS) $(if $(wildcard bench/dbtool.c),$(BUILD)/bench/dbtool)

$(BUILD)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(PKG_CFLAGS) -c $< -o $@

$(BUILD)/fetcherd: $(DAEMON_OBJ) $(COMMON_OBJ)
	$(CC) $(LDFLAGS) -o $@ $^ $(PKG_LIBS) -lm -lpthread

# ep_start.c builds api/openapi.json and demo/seed.sql into the binary
# (.incbin), which -MMD cannot see.
$(BUILD)/obj/api/ep_start.o: api/openapi.json demo/seed.sql

$(BUILD)/fetcher-api: $(API_OBJ) $(COMMON_OBJ)
	$(CC) $(LDFLAGS) -o $@ $^ $(PKG_LIBS) -lm -lpthread

$(BUILD)/fakemarket: $(FAKE_OBJ) $(COMMON_OBJ)
	$(CC) $(LDFLAGS) -o $@ $^ $(PKG_LIBS) -lm

.SECONDEXPANSION:
$(BUILD)/tests/test_%: $(BUILD)/obj/tests/unit/test_%.o $$(call obj,$$(addsuffix .c,$$(UNIT_DEPS_$$*)))
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) $(UNIT_LDFLAGS_$*) -o $@ $^ $(PKG_LIBS) -lcmocka -lm

unit: $(UNIT_BINS)

$(BUILD)/bench/queue_bench: $(BUILD)/obj/bench/queue_bench.o $(BUILD)/obj/daemon/queue.o $(BUILD)/obj/common/util.o
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^

# bench/scale.sh's helper: the programs' statements for EXPLAIN, and one
# cycle's writes through fetcherd's own record_updates.
$(BUILD)/bench/dbtool: $(BUILD)/obj/bench/dbtool.o $(BUILD)/obj/api/sql.o $(BUILD)/obj/daemon/sql.o \
                       $(BUILD)/obj/common/db.o $(BUILD)/obj/common/jbuf.o $(BUILD)/obj/common/util.o \
                       $(BUILD)/obj/common/log.o $(BUILD)/obj/common/resolve.o
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(PKG_LIBS) -lm

bootstrap:
	@scripts/bootstrap

NPROC := $(shell nproc 2>/dev/null || echo 2)

# The normal build and the sanitizer build both run the suites (a few that
# test no C of ours under ASan, or mostly wait out real time, run in the
# normal pass only: tests/lib.sh normal_pass_only); the runner prints one
# "N passed, N failed, N skipped" line summing them all. The
# browser test needs Debian's chromium, so `make test` installs it too.
test:
	@BOOTSTRAP_PROFILE=browser scripts/bootstrap
	@$(MAKE) --no-print-directory -j$(NPROC) all unit
	@$(MAKE) --no-print-directory -j$(NPROC) BUILD=build/asan SAN=1 all unit
	@tests/run.sh build build/asan

asan:
	@$(MAKE) --no-print-directory BUILD=build/asan SAN=1 all unit

run: bootstrap all
	@scripts/stack run

demo: bootstrap all
	@scripts/stack demo

bench: bootstrap all $(BUILD)/bench/queue_bench $(BUILD)/bench/dbtool
	@bench/run.sh

check-style:
	@scripts/check-style

# libFuzzer targets (clang), FUZZ_SECONDS each (make test runs them briefly).
fuzz: bootstrap
	@for s in tests/fuzz/run*.sh; do bash $$s $${FUZZ_SECONDS:-300} || exit 1; done

# fetcherd and fetcher-api under valgrind memcheck through cycles with faults
# and API traffic: 0 errors, 0 bytes definitely or indirectly lost.
valgrind: bootstrap all
	@scripts/valgrind-run

install: all
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/share/fetcherd/migrations \
	           $(DESTDIR)$(PREFIX)/share/fetcherd/dashboard $(DESTDIR)$(PREFIX)/share/fetcherd/demo
	install -m 0755 $(BUILD)/fetcherd $(BUILD)/fetcher-api $(BUILD)/fakemarket $(DESTDIR)$(PREFIX)/bin/
	install -m 0644 migrations/*.sql $(DESTDIR)$(PREFIX)/share/fetcherd/migrations/
	install -m 0644 dashboard/* $(DESTDIR)$(PREFIX)/share/fetcherd/dashboard/
	install -m 0644 demo/*.sql $(DESTDIR)$(PREFIX)/share/fetcherd/demo/

clean:
	rm -rf build

-include $(shell find $(BUILD)/obj -name '*.d' 2>/dev/null)
