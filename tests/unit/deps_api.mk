# Unit tests of fetcher-api's pure modules (included by tests/unit/deps.mk).
UNIT_DEPS_api_query := api/query common/util
# routes alone: the test stubs every handler and reply function.
UNIT_DEPS_api_routes := api/routes common/util
UNIT_DEPS_api_status_rule := api/status_rule
