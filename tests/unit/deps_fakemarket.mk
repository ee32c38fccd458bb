# Unit tests of fakemarket's pure modules (tests/fakemarket/; included by
# tests/unit/deps.mk). Each links the module it tests and what it needs.
UNIT_DEPS_fakemarket_prices := tests/fakemarket/prices common/util
UNIT_DEPS_fakemarket_faults := tests/fakemarket/faults common/util
UNIT_DEPS_fakemarket_wire   := tests/fakemarket/wire tests/fakemarket/prices tests/fakemarket/faults common/util
UNIT_DEPS_fakemarket_stats  := tests/fakemarket/stats
UNIT_DEPS_fakemarket_replay := tests/fakemarket/replay tests/fakemarket/wire tests/fakemarket/prices tests/fakemarket/faults common/util
