#!/usr/bin/env bash
# browser_onboarding — a new user's first minutes in headless Chromium
# (tests/browser/onboarding_test.py): from an empty database to a valued
# portfolio, through the search (fakemarket replaying the recorded real
# Yahoo search answer), tracking, a portfolio, a CSV import with a preview,
# a recalculation, untracking; and the demo button on a second empty
# database. Screenshots of each step: build/screenshots/onboarding-*.png.
. "$(dirname "$0")/../lib.sh"

PY=/usr/bin/python3   # Debian's python: the one with python3-selenium
if [ ! -x /usr/bin/chromium ] || [ ! -x /usr/bin/chromedriver ] || ! $PY -c 'import selenium' 2>/dev/null; then
  skip "onboarding in headless Chromium" "needs Debian's chromium, chromium-driver and python3-selenium"
  exit 0
fi
FIX=$TEST_ROOT/tests/fixtures/real

new_db || { not_ok "create a test database"; exit 0; }
check "schema migrated" migrate
main_db=$DATABASE_URL
start_fakemarket --fixtures "$FIX" || { not_ok "fakemarket starts"; exit 0; }
# the recorded real search answers: Yahoo's for "AAPL" (no recording of
# "apple" exists; its results are Apple's), CoinGecko's for a query that
# matched nothing
curl -sf -X POST "$FAKE_URL/_replay?path=/v1/finance/search&file=yahoo_search_AAPL_2025-02-25.json" >/dev/null &&
  curl -sf -X POST "$FAKE_URL/_replay?path=/api/v3/search&file=coingecko_search_empty_BOSA_2026-09.json" >/dev/null ||
  not_ok "replay the recorded search answers"
export YAHOO_BASE_URL=$FAKE_URL COINGECKO_BASE_URL=$FAKE_URL/api/v3 HEARTBEAT_INTERVAL=1s
unset FETCHER_API_TOKEN
# a long interval: the startup cycle (empty) and the ones the user triggers
FETCH_INTERVAL=10m start_fetcherd
FETCHER_DASHBOARD_DIR=$TEST_ROOT/dashboard start_api || { not_ok "fetcher-api starts"; exit 0; }
api_main=$API_URL
empty_cycle() { [ "$(sql "SELECT count(*) FROM fetcher_cycles WHERE status = 'empty'")" -ge 1 ]; }
check "the startup cycle over nothing is recorded as empty" wait_for 20 empty_cycle

new_db || { not_ok "a second database"; exit 0; }
check "second schema migrated" migrate
demo_db=$DATABASE_URL
FETCHER_DASHBOARD_DIR=$TEST_ROOT/dashboard start_api || { not_ok "second fetcher-api starts"; exit 0; }
api_demo=$API_URL
DATABASE_URL=$main_db

out=$TEST_LOG_DIR/onboarding.txt
API_URL=$api_main API_URL_DEMO=$api_demo DATABASE_URL=$main_db DATABASE_URL_DEMO=$demo_db \
SCREENSHOT_DIR=$TEST_ROOT/build/screenshots PATH=$PGBIN:$PATH \
  timeout --kill-after=10 300 "$PY" "$TEST_ROOT/tests/browser/onboarding_test.py" >"$out" 2>&1
rc=$?
seen=0
while IFS= read -r line; do
  case $line in
    "not ok - "*) seen=1; not_ok "browser: ${line#not ok - }" ;;
    "ok - "*) seen=1; ok "browser: ${line#ok - }" ;;
    "# bench "*) echo "${line#\# }" ;;
    "#"*) echo "$line" ;;
    *) echo "# $line" ;;
  esac
done <"$out"
[ $rc -eq 0 ] || not_ok "browser test exited $rc" "see $out"
[ $seen = 1 ] || not_ok "browser test reported nothing" "see $out"
