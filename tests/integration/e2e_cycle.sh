#!/usr/bin/env bash
# End to end: real PostgreSQL, fakemarket, fetcherd and fetcher-api.
# Demo portfolios share assets, one asset is listed twice under another
# symbol, and two assets ask fakemarket for faults; then we check what the
# database and the API say against what fakemarket counted.
. "$(dirname "$0")/../lib.sh"

new_db || exit 1
check "fetcherd migrate applies the schema" migrate
check "fetcherd migrate is idempotent" migrate
load_demo
# GOOG2 is GOOGL again (same provider symbol): the queue must fetch it once.
# NOSUCHCO is unknown upstream (HTTP 404); WRONGCCY1 is quoted in JPY while
# the asset says USD (Yahoo's meta.currency is checked on every path).
sql "INSERT INTO assets (symbol, name, asset_type, currency, provider, provider_symbol) VALUES
       ('GOOG2', 'Alphabet again', 'stock', 'USD', 'yahoo', 'googl'),
       ('NOSUCHCO', 'Delisted Co', 'stock', 'USD', 'yahoo', 'NOSUCHCO'),
       ('WRONGCCY1', 'Wrong Currency Inc', 'stock', 'USD', 'yahoo', 'WRONGCCY1');
     INSERT INTO tracked_assets (asset_id) SELECT id FROM assets
       WHERE symbol IN ('GOOG2', 'NOSUCHCO', 'WRONGCCY1');"
tracked=$(sql "SELECT count(*) FROM tracked_assets")
yahoo_syms=$(sql "SELECT count(DISTINCT upper(provider_symbol)) FROM assets a JOIN tracked_assets t ON t.asset_id = a.id WHERE provider = 'yahoo'")
cg_syms=$(sql "SELECT count(DISTINCT lower(provider_symbol)) FROM assets a JOIN tracked_assets t ON t.asset_id = a.id WHERE provider = 'coingecko'")
positions=$(sql "SELECT count(*) FROM portfolio_positions")
ccys=$(sql "SELECT count(*) FROM (SELECT currency FROM assets UNION SELECT currency FROM portfolios EXCEPT SELECT 'USD') c")
# yahoo: 20 symbols per spark request; NOSUCHCO, absent from its spark
# answer, goes back to the queue as one chart request (which answers 404).
# coingecko: up to COINGECKO_BATCH (100) ids a request; fx: all rates in one.
expect_requests=$(( (yahoo_syms + 19) / 20 + 1 + (cg_syms + 99) / 100 + (ccys > 0 ? 1 : 0) ))

start_fakemarket || { not_ok "fakemarket starts"; exit 1; }
# The count above is the cycles' own batches; the cross-check's asks (a
# sample per cycle, after them) are counted in crosscheck.sh.
export PRICE_CROSSCHECK_SAMPLE=0
start_api || not_ok "fetcher-api answers /healthz"
FETCH_INTERVAL=2s start_fetcherd

finished() { [ "$(sql "SELECT count(*) FROM fetcher_cycles WHERE status <> 'running'")" -ge "$1" ]; }
check "three cycles finish within 15 s at FETCH_INTERVAL=2s" wait_for 15 finished 3
status=$(curl -s "$API_URL/api/fetcher/status")
check_eq "status is running while fetcherd heartbeats" running "$(echo "$status" | jq -r .status)"
check "status carries the contract's fields" jq -e 'has("uptime_seconds") and has("last_update") and has("next_update_in_seconds") and has("tracked_assets_count") and has("update_interval_minutes")' <<<"$status"
check_eq "status counts the tracked assets" "$tracked" "$(echo "$status" | jq -r .tracked_assets_count)"

t0=$(date +%s%N)
stop_pid "$FETCHERD_PID"; rc=$STOP_RC
ms=$(( ($(date +%s%N) - t0) / 1000000 ))
check_eq "SIGTERM: fetcherd exits 0" 0 "$rc"
check_cmp "SIGTERM: fetcherd exits within 5 s (took ${ms} ms)" "$ms" -lt 5000
check_eq "the instance is marked stopped" stopped "$(sql "SELECT state FROM fetcher_instances")"

stats=$(curl -s "$FAKE_URL/_stats")
cycles=$(sql "SELECT count(*) FROM fetcher_cycles WHERE status IN ('succeeded','partial','failed')")
check_eq "no cycle is left running" 0 "$(sql "SELECT count(*) FROM fetcher_cycles WHERE status = 'running'")"
check_eq "every finished cycle has one price_update_log row per tracked asset ($tracked)" "" \
  "$(sql "SELECT c.id FROM fetcher_cycles c LEFT JOIN price_update_log p ON p.cycle_id = c.id
          WHERE c.status IN ('succeeded','partial','failed') GROUP BY c.id HAVING count(p.id) <> $tracked")"
check_eq "each cycle cost the expected upstream requests: batches, not positions ($expect_requests for $positions positions, $tracked assets)" "" \
  "$(sql "SELECT id FROM fetcher_cycles WHERE status IN ('succeeded','partial','failed') AND upstream_requests <> $expect_requests")"
check_eq "fakemarket counted exactly the requests the cycles recorded" \
  "$(sql "SELECT sum(upstream_requests) FROM fetcher_cycles")" "$(echo "$stats" | jq .requests_total)"
check_eq "GOOGL fetched once per cycle although listed twice and held in 2 portfolios" \
  "$(sql "SELECT count(*) FROM fetcher_cycles WHERE upstream_requests > 0")" "$(echo "$stats" | jq '.by_symbol.GOOGL')"
check_eq "cycles are partial (two fault symbols), not failed" "" \
  "$(sql "SELECT id FROM fetcher_cycles WHERE status IN ('succeeded','failed')")"

last=$(sql "SELECT max(cycle_id) FROM price_update_log")
err404=$(sql "SELECT error FROM price_update_log WHERE cycle_id = $last AND symbol = 'NOSUCHCO' AND NOT success")
check "an unknown symbol is a failed row naming the 404 ($err404)" grep -q "404" <<<"$err404"
errccy=$(sql "SELECT error FROM price_update_log WHERE cycle_id = $last AND symbol = 'WRONGCCY1' AND NOT success")
check "a price quoted in another currency is a failed row saying so ($errccy)" \
  grep -q "currency mismatch: answer in JPY, asset is priced in USD" <<<"$errccy"
check_eq "every other asset of the cycle succeeded" "$((tracked - 2))" \
  "$(sql "SELECT count(*) FROM price_update_log WHERE cycle_id = $last AND success")"
check_eq "a price per successful update" "$((tracked - 2))" \
  "$(sql "SELECT count(*) FROM price_update_log p JOIN asset_prices ap ON ap.asset_id = p.asset_id AND ap.fetched_at = p.timestamp WHERE p.cycle_id = $last AND p.success")"
check "failures are logged as ERROR with the symbol in the context" \
  test "$(sql "SELECT count(*) FROM fetcher_logs WHERE level = 'ERROR' AND context->>'symbol' = 'NOSUCHCO'")" -ge 1
check "cycle completion is logged with counts and duration" \
  test "$(sql "SELECT count(*) FROM fetcher_logs WHERE message LIKE 'Cycle % partial:%' AND (context ? 'duration_seconds') AND (context->>'assets_failed')::int = 2")" -ge 1
check "tracked_assets remembers the last update and the last error" \
  test "$(sql "SELECT count(*) FROM tracked_assets t JOIN assets a ON a.id = t.asset_id WHERE (a.symbol = 'NOSUCHCO' AND t.last_error LIKE '%404%') OR (a.symbol = 'AAPL' AND t.last_price_update IS NOT NULL AND t.last_error IS NULL)")" -eq 2

# Portfolio values by hand: quantity x latest price, for the USD portfolios
# whose assets are all priced in USD.
hand=$(psql "$DATABASE_URL" -XAtqF' ' -c "
  SELECT p.id, pp.quantity, (SELECT price FROM asset_prices ap WHERE ap.asset_id = pp.asset_id ORDER BY fetched_at DESC LIMIT 1)
  FROM portfolios p JOIN portfolio_positions pp ON pp.portfolio_id = p.id WHERE p.currency = 'USD'" |
  awk '{v[$1] += $2 * $3} END {for (k in v) printf "%s %.4f\n", k, v[k]}' | sort)
cached=$(psql "$DATABASE_URL" -XAtqF' ' -c "
  SELECT c.portfolio_id, round(c.total_value, 4) FROM portfolio_performance_cache c JOIN portfolios p ON p.id = c.portfolio_id
  WHERE p.currency = 'USD' ORDER BY 1" | sort)
check_eq "portfolio values equal a hand computation" "$hand" "$cached"
check_eq "the recalculation is tied to the last cycle" "$last" \
  "$(sql "SELECT DISTINCT cycle_id FROM portfolio_performance_cache")"
check_eq "the USD->EUR rate of each cycle is stored" 1 "$(sql "SELECT count(*) FROM exchange_rates WHERE base = 'USD' AND quote = 'EUR'")"
# The EUR portfolio by hand: USD assets converted at the stored rate.
hand_eur=$(psql "$DATABASE_URL" -XAtqF' ' -c "
  SELECT pp.quantity, (SELECT price FROM asset_prices ap WHERE ap.asset_id = pp.asset_id ORDER BY fetched_at DESC LIMIT 1), a.currency,
         (SELECT rate FROM exchange_rates WHERE base = 'USD' AND quote = 'EUR')
  FROM portfolios p JOIN portfolio_positions pp ON pp.portfolio_id = p.id JOIN assets a ON a.id = pp.asset_id WHERE p.currency = 'EUR'" |
  awk '{v += $1 * $2 * ($3 == "EUR" ? 1 : $4)} END {printf "%.4f", v}')
check_eq "a EUR portfolio holding USD assets is converted with the stored rate" "$hand_eur" \
  "$(sql "SELECT round(total_value, 4) FROM portfolio_performance_cache c JOIN portfolios p ON p.id = c.portfolio_id WHERE p.currency = 'EUR'")"
check_eq "with every rate known, no position is left out" 0 \
  "$(sql "SELECT sum(jsonb_array_length(missing)) FROM portfolio_performance_cache")"

# Statistics from the API against the cycles table.
st=$(curl -s "$API_URL/api/fetcher/statistics")
check_eq "statistics: total_cycles equals the cycles table" \
  "$(sql "SELECT count(*) FROM fetcher_cycles WHERE status <> 'running'")" "$(echo "$st" | jq .total_cycles)"
check_eq "statistics: successful_cycles equals the cycles table" \
  "$(sql "SELECT count(*) FROM fetcher_cycles WHERE status IN ('succeeded','partial')")" "$(echo "$st" | jq .successful_cycles)"
check_eq "statistics: success_rate equals the cycles table" \
  "$(sql "SELECT round(100.0 * count(*) FILTER (WHERE status IN ('succeeded','partial')) / count(*), 2) FROM fetcher_cycles WHERE status <> 'running'")" \
  "$(echo "$st" | jq '.success_rate * 100 | round / 100 | tostring | if test("\\.") then . else . + ".00" end' -r | awk '{printf "%.2f", $1}')"
check_eq "statistics: average duration equals the cycles table" \
  "$(sql "SELECT round(avg(duration_ms) / 1000.0, 3) FROM fetcher_cycles WHERE status <> 'running'")" \
  "$(echo "$st" | jq '.average_cycle_duration_seconds' | awk '{printf "%.3f", $1}')"
check "status is stopped once the heartbeat is gone" \
  wait_for 1 sh -c "curl -s '$API_URL/api/fetcher/status' | jq -e '.status == \"stopped\"'"

# A manual trigger starts a cycle within 2 s (the schedule is an hour away).
FETCH_INTERVAL=1h start_fetcherd
check "a restarted fetcherd runs its startup cycle" wait_for 10 finished $((cycles + 1))
before=$(sql "SELECT count(*) FROM fetcher_cycles")
t0=$(date +%s%N)
resp=$(curl -s -X POST -H 'Content-Type: application/json' "$API_URL/api/fetcher/trigger-update")
check "trigger-update answers success" jq -e '.success == true and (.message | type == "string")' <<<"$resp"
manual() { [ "$(sql "SELECT count(*) FROM fetcher_cycles WHERE trigger = 'manual'")" -ge 1 ]; }
if wait_for 2 manual; then
  ok "trigger-update starts a cycle within 2 s ($(( ($(date +%s%N) - t0) / 1000000 )) ms)"
else
  not_ok "trigger-update starts a cycle within 2 s"
fi
check_eq "exactly one new cycle for one trigger" "$((before + 1))" "$(sql "SELECT count(*) FROM fetcher_cycles")"
check "the trigger is logged with who asked" \
  test "$(sql "SELECT count(*) FROM fetcher_logs WHERE message LIKE 'Manual trigger from %'")" -ge 1

# Every endpoint's JSON has the contract's fields; bad parameters get 400.
check "logs: contract fields, newest first" sh -c "curl -s '$API_URL/api/fetcher/logs?limit=5' | jq -e '(.logs | length) == 5 and has(\"total\") and .limit == 5 and .offset == 0 and (.logs[0] | has(\"id\") and has(\"timestamp\") and has(\"level\") and has(\"message\") and has(\"context\")) and .logs[0].id > .logs[1].id'"
check "recent-updates: contract fields" sh -c "curl -s '$API_URL/api/fetcher/recent-updates?limit=3' | jq -e '(.updates | length) == 3 and (.updates[0] | has(\"symbol\") and has(\"name\") and has(\"timestamp\") and has(\"price\") and has(\"success\") and has(\"error\"))'"
for bad in "logs?limit=abc limit" "logs?limit=0 limit" "logs?offset=-1 offset" "logs?level=LOUD level" "recent-updates?limit=9999 limit"; do
  set -- $bad
  out=$(api GET "/api/fetcher/$1")
  check "GET /api/fetcher/$1 → 400 naming '$2'" sh -c "[ '${out%% *}' = 400 ] && echo '${out#* }' | jq -e '.error and (tostring | contains(\"$2\"))'"
done
exit 0
