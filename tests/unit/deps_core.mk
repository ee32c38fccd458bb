# Unit tests of the daemon's core modules (included by tests/unit/deps.mk).
# Each links the module it tests and only what that module cannot do
# without (common/util for clocks and strict parsing). UNIT_DEPS_util and
# UNIT_DEPS_config are in tests/unit/deps.mk.
UNIT_DEPS_queue     := daemon/queue common/util
UNIT_DEPS_loop      := daemon/loop common/util
UNIT_DEPS_jbuf      := common/jbuf common/log common/util
UNIT_DEPS_heartbeat_schema := common/heartbeat_schema common/jbuf common/log common/util
UNIT_DEPS_scheduler := daemon/deadline
UNIT_DEPS_validate  := daemon/validate common/util
# test_providers replays real recordings through parse() and then
# validate_quote() (where minor units become major ones), and checks the text
# jbuf_num would store: the figure a real answer ends up as.
UNIT_DEPS_providers := daemon/provider daemon/providers/yahoo daemon/providers/coingecko \
                       daemon/providers/fx daemon/providers/kraken daemon/providers/erapi \
                       daemon/providers/twelvedata daemon/providers/coinbase daemon/validate \
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
                       common/util
# test_sql: the statement table's idempotency rule, and statements replayed
# against a migrated database of its own (skipped without PGLOCAL_PORT)
UNIT_DEPS_sql       := daemon/sql common/migrate common/db common/resolve common/log common/util
# test_scheduler_loop: the real scheduler on a clock the test moves; the
# loop, cycles, asset cache, dbconn_is_up and the logs are stand-ins in the
# test file itself
UNIT_DEPS_scheduler_loop := daemon/scheduler daemon/deadline common/util
