# Unit tests of the daemon's core modules (included by tests/unit/deps.mk).
# Each links the module it tests and only what that module cannot do
# without (common/util for clocks and strict parsing). UNIT_DEPS_util and
# UNIT_DEPS_config are in tests/unit/deps.mk.
UNIT_DEPS_queue     := daemon/queue common/util
UNIT_DEPS_loop      := daemon/loop common/util
UNIT_DEPS_jbuf      := common/jbuf common/log common/util
UNIT_DEPS_heartbeat_schema := common/heartbeat_schema common/jbuf common/log common/util
UNIT_DEPS_scheduler := daemon/deadline
UNIT_DEPS_validate  := daemon/validate common/currency common/util
# test_providers replays real recordings through parse() and then
# validate_quote() (where minor units become major ones), and checks the text
# jbuf_num would store: the figure a real answer ends up as.
UNIT_DEPS_providers := daemon/provider daemon/history daemon/providers/yahoo daemon/providers/coingecko \
                       daemon/providers/fx daemon/providers/kraken daemon/providers/erapi \
                       daemon/providers/twelvedata daemon/providers/coinbase daemon/providers/binance daemon/validate common/currency \
                       common/jbuf common/log common/util
# the second source of each class (kraken, erapi, twelvedata): the same
# modules, since the registry in daemon/provider.c names every provider
UNIT_DEPS_providers2 := $(UNIT_DEPS_providers)
# source order: the registry's normalize() functions do the symbol mapping
UNIT_DEPS_sources := daemon/sources $(UNIT_DEPS_providers)
# test_dbconn runs against tests/run.sh's PostgreSQL through a relay of its
# own on the same loop (skipped without PGLOCAL_PORT).
UNIT_DEPS_dbconn    := daemon/dbconn daemon/loop common/db common/resolve common/log common/util
# test_writer: the buffer's drop rules, with a dbconn that stays down
UNIT_DEPS_writer    := daemon/writer daemon/dbconn daemon/loop common/jbuf common/db common/resolve common/log \
                       common/util tests/unit/alloc_fail
# test_sql: the statement table's idempotency rule, and statements replayed
# against a migrated database of its own (skipped without PGLOCAL_PORT)
UNIT_DEPS_sql       := daemon/sql daemon/staleness common/migrate common/db common/resolve common/log common/util
# test_scheduler_loop: the real scheduler on a clock the test moves; the
# loop, cycles, asset cache, dbconn_is_up and the logs are stand-ins in the
# test file itself
UNIT_DEPS_scheduler_loop := daemon/scheduler daemon/deadline daemon/staleness common/util
# test_history: the providers' history requests against real recordings
UNIT_DEPS_history := $(UNIT_DEPS_providers)
# /proc/self/stat parsing for the process_* series
UNIT_DEPS_procstat  := common/procstat common/util
# test_fetch: real HTTP over loopback to tests/unit/wire_server.c, a server
# of the test's own that resets, stalls, truncates, oversizes, redirects
UNIT_DEPS_fetch     := daemon/fetch daemon/loop tests/unit/wire_server common/resolve common/log common/util
# test_upstream: the real queue, upstream, fetch and providers against
# recorded answers (and faults) served over loopback by wire_server.c
UNIT_DEPS_upstream  := daemon/upstream daemon/queue daemon/fetch daemon/loop tests/unit/wire_server \
                       tests/unit/alloc_fail common/resolve $(UNIT_DEPS_providers)
# The daemon's modules wired as main.c wires them (tests/unit/daemon_rig.c),
# for the tests of the modules that need more than one of them: against
# wire_server.c over loopback and run.sh's PostgreSQL through the relay of
# tests/unit/pg_fault.c (skipped without PGLOCAL_PORT)
UNIT_DEPS_daemon_rig := daemon/cycle daemon/crosscheck daemon/assets daemon/record daemon/sources \
                        daemon/staleness daemon/stats daemon/writer daemon/dbconn daemon/sql \
                        daemon/upstream daemon/queue daemon/fetch daemon/loop common/db \
                        common/resolve common/migrate common/config tests/unit/wire_server tests/unit/pg_fault \
                        tests/unit/daemon_rig $(UNIT_DEPS_providers)
# test_cycle: a cycle's bookkeeping when fetches fail, the database refuses
# its rows, goes away mid-cycle or is away at the start, or fetcherd stops
UNIT_DEPS_cycle := $(UNIT_DEPS_daemon_rig)
# test_send_failure: the real writer and heartbeat (and scheduler) through
# a send that fails inside PQsendQueryPrepared; both must resume
UNIT_DEPS_send_failure := $(UNIT_DEPS_daemon_rig) daemon/heartbeat daemon/backfill daemon/scheduler daemon/fleet \
                          daemon/deadline common/heartbeat_schema common/procstat
# test_alloc_torture: every allocation of the readers of outside input fails
# in turn (tests/unit/alloc_fail.c): our own calls to the allocator and the
# json-c calls that allocate, wrapped at link time
UNIT_DEPS_alloc_torture := tests/unit/alloc_fail daemon/upstream daemon/queue daemon/fetch \
                           daemon/loop api/assetreq api/crosssite api/events api/http api/cache \
                           api/query common/db common/resolve common/config $(UNIT_DEPS_providers)
ALLOC_FAIL_WRAP := $(foreach f,malloc calloc realloc strdup strndup json_tokener_new \
                   json_tokener_new_ex json_tokener_parse json_tokener_parse_ex \
                   json_object_to_json_string_ext,-Wl,--wrap=$(f))
UNIT_LDFLAGS_alloc_torture := $(ALLOC_FAIL_WRAP)
# test_upstream fails one json-c read on purpose (tests/unit/alloc_fail.c)
UNIT_LDFLAGS_upstream := $(ALLOC_FAIL_WRAP)
# test_writer fails json-c's printer once (a log line's context)
UNIT_LDFLAGS_writer := $(ALLOC_FAIL_WRAP)
# the cross-check's rules: which price is kept, conversion, the WARNING
UNIT_DEPS_crosscheck := daemon/crosscheck
