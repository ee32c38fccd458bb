#!/usr/bin/env bash
# browser_dashboard — the dashboard in headless Chromium against the real
# stack: fresh database with the demo data, fakemarket, fetcherd, and
# fetcher-api serving dashboard/ (plus a second fetcher-api that requires a
# token). tests/browser/dashboard_test.py does the browsing and prints
# "ok - …" / "not ok - …" lines, which are counted here. Screenshots land in
# build/screenshots/ (desktop 1366x900 and phone 390x844, light and dark).
. "$(dirname "$0")/../lib.sh"
normal_pass_only "the dashboard's JavaScript in Chromium; the API requests it makes run under ASan in api_contract, api_control and api_portfolios"

PY=/usr/bin/python3   # Debian's python: the one with python3-selenium
DASH=$TEST_ROOT/dashboard
BROWSER_TEST=$TEST_ROOT/tests/browser/dashboard_test.py

# ---- static checks on dashboard/ (no browser needed) ---------------------
flat_and_servable() {   # the API serves [A-Za-z0-9._-] names from one flat directory
  ! find "$DASH" -mindepth 1 -regextype posix-extended \
      \( -type d -o -name '.*' -o ! -regex '.*/[A-Za-z0-9._-]+' \) | grep -q .
}
no_inline_html() {      # the CSP forbids inline scripts, <style>, style= and on…= handlers
  ! grep -Eiq '<script(>| [^>]*>[^<])|<style|[[:space:]]style=|[[:space:]]on[a-z]+=' "$DASH/index.html"
}
no_unsafe_js() {
  ! grep -Eq 'eval\(|new Function|innerHTML|outerHTML|insertAdjacentHTML|document\.write|setAttribute\(.style' "$DASH"/*.js
}
no_external_urls() {    # works offline: nothing from a CDN (the SVG namespace is no fetch)
  ! grep -Eho 'https?://[A-Za-z0-9.-]+[^"'"'"' )]*' "$DASH"/* | grep -qv '^http://www.w3.org/2000/svg$'
}
size=$(cat "$DASH"/* | wc -c)
# No framework, no build step: the whole page, every file of it, stays
# small (200 KB since the getting-started and portfolio-editing panels).
check_cmp "dashboard/ is under 200 KB ($size bytes)" "$size" -lt 204800
check "dashboard/ is flat and every name is servable ([A-Za-z0-9._-])" flat_and_servable
check "index.html has no inline script, <style> block, style= or on…= attribute" no_inline_html
check "no eval, new Function, innerHTML or style attributes set from JavaScript" no_unsafe_js
check "no external URLs: works offline, no CDN" no_external_urls

# ---- prerequisites ------------------------------------------------------
if [ ! -x /usr/bin/chromium ] || [ ! -x /usr/bin/chromedriver ] || ! $PY -c 'import selenium' 2>/dev/null; then
  skip "dashboard in headless Chromium" "needs Debian's chromium, chromium-driver and python3-selenium"
  exit 0
fi
if [ ! -x "$BIN/fetcher-api" ]; then
  skip "dashboard in headless Chromium" "no $BIN/fetcher-api"
  exit 0
fi

# ---- the stack ------------------------------------------------------------
new_db || { not_ok "create a test database"; exit 0; }
if ! migrate; then
  echo "# fetcherd migrate failed; applying migrations/*.sql with psql"
  for f in "$TEST_ROOT"/migrations/*.sql; do
    psql "$DATABASE_URL" -X -q -v ON_ERROR_STOP=1 -f "$f" >/dev/null || { not_ok "apply $f"; exit 0; }
  done
fi
check "demo data loads" load_demo
# Assets fakemarket does not know ("NOSUCH" content faults: two on yahoo
# with one cause, one on coingecko with another), so every cycle has failed
# updates whose errors the dashboard can show and group; some log
# rows with context at each level, and enough rows that the logs page.
sql "INSERT INTO assets (symbol, name, asset_type, currency, exchange, provider, provider_symbol) VALUES
     ('NOSUCH1', 'Delisted Example Corp', 'stock', 'USD', 'NYSE', 'yahoo', 'NOSUCH1'),
     ('NOSUCH2', 'Gone Holdings', 'stock', 'USD', 'NYSE', 'yahoo', 'NOSUCH2'),
     ('nosuch-coin', 'Vanished Coin', 'crypto', 'USD', NULL, 'coingecko', 'nosuch-coin');
     INSERT INTO tracked_assets (asset_id) SELECT id FROM assets WHERE symbol IN ('NOSUCH1', 'NOSUCH2', 'nosuch-coin');" >/dev/null
sql "INSERT INTO fetcher_logs (\"timestamp\", level, message, context)
     SELECT now() - make_interval(mins => 90 + g), 'DEBUG', 'housekeeping pass ' || g, NULL
       FROM generate_series(1, 60) g;
     INSERT INTO fetcher_logs (\"timestamp\", level, message, context) VALUES
     (now() - interval '80 min', 'WARNING', 'coingecko answered 429, retrying after 2 s',
      '{\"provider\": \"coingecko\", \"retry_after_s\": 2}'),
     (now() - interval '70 min', 'ERROR', 'yahoo: HTTP 503 for NFLX after 3 attempts',
      '{\"provider\": \"yahoo\", \"symbol\": \"NFLX\", \"http_status\": 503, \"attempts\": 3}'),
     (now() - interval '65 min', 'CRITICAL', 'database unreachable, buffering 31 rows',
      '{\"buffered\": 31, \"error\": \"connection refused\"}');" >/dev/null

cycle_finished() { [ "$(sql "SELECT count(*) FROM fetcher_cycles WHERE status <> 'running'")" -ge 1 ]; }
daemon_ok=0
skip_reason="fetcherd did not start"
if "$BIN/fetcherd" --help >/dev/null 2>&1 && [ -x "$BIN/fakemarket" ]; then
  # answers take 1.2 s, so a cycle runs long enough to show its progress
  if start_fakemarket --latency-ms 1200; then
    # kraken a little off, and every coin cross-checked: the startup cycle
    # finds sources that disagree, for the assets table to show
    curl -s -X POST "$FAKE_URL/_offset?provider=kraken&pct=5" >/dev/null
    # a long interval: only the startup cycle and the ones the test triggers
    # the backfill on: the asset detail charts a month of daily closes
    PRICE_CROSSCHECK_SAMPLE=20 FETCH_BACKFILL=1 FETCH_INTERVAL=10m start_fetcherd
    # and the backfill done, so that rows are not redrawn under the test
    backfilled() { [ "$(sql "SELECT count(*) FROM tracked_assets t JOIN assets a ON a.id = t.asset_id
                            WHERE a.history_backfilled_at IS NULL AND a.history_error IS NULL")" = 0 ]; }
    if wait_for 30 cycle_finished && wait_for 90 backfilled; then
      daemon_ok=1
    else
      skip_reason="fetcherd ran no cycle within 30 s (see $TEST_LOG_DIR/fetcherd.log)"
    fi
  else
    skip_reason="fakemarket did not start"
  fi
else
  skip_reason="$BIN/fetcherd or $BIN/fakemarket does not run"
fi
[ $daemon_ok = 1 ] && ok "fetcherd ran its startup cycle" || echo "# $skip_reason"
if [ $daemon_ok = 1 ]; then
  # four hours of earlier prices (a gentle wave around the price just
  # fetched), so the assets' sparklines have a history to draw; negative
  # ids keep them older than every real row (the API orders by id)
  sql "INSERT INTO price_update_log (id, \"timestamp\", asset_id, symbol, price, currency, success, duration_ms, instance_id, seq)
       OVERRIDING SYSTEM VALUE
       SELECT -(g * 100000 + a.id), now() - make_interval(mins => 10 * g), a.id, a.symbol,
              round(p.price * (1 + 0.04 * sin(g / 3.0 + a.id) + 0.01 * cos(g * 1.7))::numeric, 6), p.currency, true, 5,
              'history-seed', row_number() OVER ()
         FROM assets a
         JOIN LATERAL (SELECT price, currency FROM price_update_log l
                        WHERE l.symbol = a.symbol AND l.success ORDER BY l.id DESC LIMIT 1) p ON true,
              generate_series(1, 24) g;" >/dev/null || echo "# could not seed the price history"
fi

token=tok-$RANDOM$RANDOM
FETCHER_DASHBOARD_DIR=$DASH FETCHER_API_TOKEN=$token start_api || { not_ok "fetcher-api (with a token) answers /healthz"; exit 0; }
api_token_url=$API_URL
FETCHER_DASHBOARD_DIR=$DASH start_api || { not_ok "fetcher-api answers /healthz"; exit 0; }

# ---- the browser test -----------------------------------------------------
out=$TEST_LOG_DIR/browser.txt
API_URL=$API_URL API_URL_TOKEN=$api_token_url API_TOKEN=$token \
EXPECT_DAEMON=$daemon_ok DAEMON_SKIP_REASON="$skip_reason" \
SCREENSHOT_DIR=$TEST_ROOT/build/screenshots \
  timeout --kill-after=10 300 "$PY" "$BROWSER_TEST" >"$out" 2>&1
rc=$?
seen=0
while IFS= read -r line; do
  case $line in
    "not ok - "*) seen=1; not_ok "browser: ${line#not ok - }" ;;
    "ok - "*" # SKIP "*) seen=1; d=${line#ok - }; skip "browser: ${d%% # SKIP *}" "${d#* # SKIP }" ;;
    "ok - "*) seen=1; ok "browser: ${line#ok - }" ;;
    "#"*) echo "$line" ;;
    *) echo "# $line" ;;
  esac
done <"$out"
[ $rc -eq 0 ] || not_ok "browser test exited $rc" "see $out"
[ $seen = 1 ] || not_ok "browser test reported nothing" "see $out"
