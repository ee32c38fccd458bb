# Which modules each unit test links (sources without .c): a unit test links
# the one module it tests and the few it cannot do without.
UNIT_DEPS_config := common/config common/util common/log
UNIT_DEPS_util   := common/util
-include tests/unit/deps_*.mk
UNIT_DEPS_staleness := daemon/staleness common/util
