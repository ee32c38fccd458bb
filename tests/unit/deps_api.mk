# Unit tests of fetcher-api's pure modules (included by tests/unit/deps.mk).
UNIT_DEPS_api_query := api/query common/util
# routes alone: the test stubs every handler and reply function (cache.c is
# linked but off).
UNIT_DEPS_api_routes := api/routes api/cache api/crosssite common/util
UNIT_DEPS_api_status_rule := api/status_rule
UNIT_DEPS_api_assetreq := api/assetreq api/query common/util
UNIT_DEPS_api_cache := api/cache common/util
# events: only the payload rule and the stream bookkeeping that needs no
# server; the listener thread is covered by tests/integration/api_control.sh.
UNIT_DEPS_api_events := api/events api/http api/cache api/query common/db common/resolve common/config common/log common/util
UNIT_DEPS_api_metrics := api/metrics common/util
UNIT_DEPS_api_crosssite := api/crosssite common/util
# alerts: the pure rules, and the webhook's payloads and rules (webhook.c's
# POST is exercised by tests/integration/alerts_webhook.sh)
UNIT_DEPS_api_alert_rules := api/alert_rules common/util
UNIT_DEPS_api_webhook := api/webhook api/alert_rules common/jbuf common/log common/util
UNIT_DEPS_api_portreq := api/portreq api/query common/util
UNIT_DEPS_api_csvimport := api/csvimport api/portreq api/query common/util
# searchwire reads the real recordings in tests/fixtures/real/
UNIT_DEPS_api_searchwire := api/searchwire common/currency common/util
