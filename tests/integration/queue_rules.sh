#!/usr/bin/env bash
# The fetch queue's rules seen from outside, counted by fakemarket: a manual
# trigger or an on-demand refresh during a running cycle costs no upstream
# request; a 429 pauses only that provider; FETCH_STALENESS skips fresh
# assets; events announce cycles to LISTENers.
. "$(dirname "$0")/../lib.sh"

new_db || exit 1
migrate
load_demo
start_fakemarket --latency-ms 700 || { not_ok "fakemarket starts"; exit 1; }
requests() { curl -s "$FAKE_URL/_stats" | jq "$1"; }
fetching() { [ "$(sql "SELECT count(*) FROM fetcher_instances WHERE instance_id = '$FETCHER_INSTANCE_ID' AND state = 'running' AND phase = 'fetching'")" = 1 ]; }
cycles_done() { [ "$(sql "SELECT count(*) FROM fetcher_cycles WHERE instance_id = '$FETCHER_INSTANCE_ID' AND status <> 'running'")" -ge "$1" ]; }

# --- a trigger and a refresh during a running cycle ---------------------
export FETCHER_INSTANCE_ID=rules-a
# Events: a listener for the whole first part.
psql "$DATABASE_URL" -X -q -c "LISTEN fetcher_events" -c "SELECT pg_sleep(9)" >"$TEST_LOG_DIR/events.txt" 2>&1 &
listener=$!
sleep 0.3
FETCH_CONCURRENCY=1 FETCH_INTERVAL=1h start_fetcherd
check "the startup cycle is fetching" wait_for 10 fetching
sql "SELECT pg_notify('fetcher_trigger', '{\"source\":\"test\",\"client\":\"tester\"}')" >/dev/null
sql "SELECT pg_notify('fetcher_refresh', '{\"symbols\":[\"AAPL\",\"BTC\"],\"client\":\"tester\"}')" >/dev/null
check "the cycle finishes" wait_for 20 cycles_done 1
refreshed() { [ "$(sql "SELECT count(*) FROM price_update_log WHERE cycle_id IS NULL")" -ge 2 ]; }
check "the refresh writes its rows (without a cycle)" wait_for 10 refreshed
sleep 0.5
check_eq "one cycle only: the trigger during it started none" 1 "$(sql "SELECT count(*) FROM fetcher_cycles")"
check "the ignored trigger is logged" \
  test "$(sql "SELECT count(*) FROM fetcher_logs WHERE message LIKE 'Manual trigger from tester ignored%'")" -eq 1
check_eq "AAPL fetched once although the refresh asked during the cycle" 1 "$(requests '.by_symbol.AAPL')"
check_eq "bitcoin fetched once although the refresh asked during the cycle" 1 "$(requests '.by_symbol.bitcoin')"
check_eq "the refresh rows are successes" 2 "$(sql "SELECT count(*) FROM price_update_log WHERE cycle_id IS NULL AND success AND symbol IN ('AAPL','BTC')")"
check_eq "the cycle's requests are all fakemarket saw" "$(sql "SELECT upstream_requests FROM fetcher_cycles")" "$(requests .requests_total)"
check "the refresh is logged with who asked" \
  test "$(sql "SELECT count(*) FROM fetcher_logs WHERE message LIKE 'On-demand refresh for tester:%'")" -eq 1
wait "$listener" 2>/dev/null
for ev in cycle_started progress assets_updated cycle_finished; do
  check "LISTEN fetcher_events saw $ev" grep -qE "\"type\" *: *\"$ev\"" "$TEST_LOG_DIR/events.txt"
done
check_eq "cycle_started carries the cycle id" "$(sql "SELECT id FROM fetcher_cycles")" \
  "$(grep -o '"type" : "cycle_started", "cycle_id" : [0-9]*' "$TEST_LOG_DIR/events.txt" | grep -o '[0-9]*$' | head -1)"
check_eq "progress events carry the cycle id too" "$(sql "SELECT id FROM fetcher_cycles")" \
  "$(grep -oE '"type": "progress".*"cycle_id": [0-9]+' "$TEST_LOG_DIR/events.txt" | grep -oE '[0-9]+$' | head -1)"
# A refresh on its own (no cycle running) fetches the symbol and updates
# its price; an unknown or untracked symbol is simply not refreshed.
before=$(requests .requests_total)
sql "SELECT pg_notify('fetcher_refresh', '{\"symbols\":[\"msft\", \"NOT-TRACKED\"],\"client\":\"tester\"}')" >/dev/null
refreshed3() { [ "$(sql "SELECT count(*) FROM price_update_log WHERE cycle_id IS NULL")" -ge 3 ]; }
check "a refresh outside a cycle is written (symbols match case-insensitively)" wait_for 10 refreshed3
check_eq "… with one upstream request" "$((before + 1))" "$(requests .requests_total)"
check_eq "an untracked symbol gets no row" 0 "$(sql "SELECT count(*) FROM price_update_log WHERE symbol = 'NOT-TRACKED'")"
stop_pid "$FETCHERD_PID"

# --- a 429 pauses only that provider -------------------------------------
curl -s -X POST "$FAKE_URL/_reset" >/dev/null
curl -s -X POST "$FAKE_URL/_latency?ms=0" >/dev/null
sql "INSERT INTO assets (symbol, name, asset_type, currency, provider, provider_symbol)
     VALUES ('LIMITED', 'Rate Limited Coin', 'crypto', 'USD', 'coingecko', 'err429-coin');
     INSERT INTO tracked_assets (asset_id) SELECT id FROM assets WHERE symbol = 'LIMITED'"
# What the cycle will hold, from the data (not the demo seed's numbers).
tracked_by() { sql "SELECT count(*) FROM tracked_assets t JOIN assets a ON a.id = t.asset_id WHERE a.$1 = '$2'"; }
n_yahoo=$(tracked_by provider yahoo) n_coingecko=$(tracked_by provider coingecko)
check_cmp "the data tracks yahoo assets ($n_yahoo)" "$n_yahoo" -gt 0
check_cmp "the data tracks coingecko assets besides LIMITED ($n_coingecko)" "$n_coingecko" -gt 1
export FETCHER_INSTANCE_ID=rules-b
# coingecko as the only crypto source: this is the pause rule of one
# provider (what failover does with a paused one is failover.sh's)
FETCH_SOURCES=crypto=coingecko FETCH_INTERVAL=1h start_fetcherd
check "a cycle with a 429ing provider finishes" wait_for 30 cycles_done 1
cyc=$(sql "SELECT id FROM fetcher_cycles WHERE instance_id = 'rules-b'")
check "the 429 paused coingecko, and it was logged" \
  test "$(sql "SELECT count(*) FROM fetcher_logs WHERE message LIKE 'coingecko answered HTTP 429%pausing coingecko for 2s'")" -ge 1
check_eq "no other provider was paused" 0 "$(sql "SELECT count(*) FROM fetcher_logs WHERE message LIKE '%answered HTTP 429%' AND message NOT LIKE 'coingecko%'")"
check_eq "every yahoo asset of the cycle succeeded" "$n_yahoo" "$(sql "SELECT count(*) FROM price_update_log p JOIN assets a ON a.id = p.asset_id WHERE p.cycle_id = $cyc AND a.provider = 'yahoo' AND p.success")"
check "the coingecko rows failed naming the 429" \
  test "$(sql "SELECT count(*) FROM price_update_log p JOIN assets a ON a.id = p.asset_id WHERE p.cycle_id = $cyc AND a.provider = 'coingecko' AND NOT p.success AND p.error LIKE '%429%'")" -eq "$n_coingecko"
check "coingecko was asked again only after the pause (4 attempts, 2 s apart)" \
  test "$(requests '."by_path"."/api/v3/simple/price"')" -eq 4
stop_pid "$FETCHERD_PID"
sql "DELETE FROM assets WHERE symbol = 'LIMITED'"

# --- staleness ------------------------------------------------------------
curl -s -X POST "$FAKE_URL/_reset" >/dev/null
# Every tracked crypto was fetched above, less than an hour ago.
n_crypto=$(tracked_by asset_type crypto)
check_cmp "the data tracks cryptos ($n_crypto)" "$n_crypto" -gt 0
export FETCHER_INSTANCE_ID=rules-c
FETCH_STALENESS=crypto=1h FETCH_INTERVAL=2s start_fetcherd
check "scheduled cycles run" wait_for 15 cycles_done 2
stop_pid "$FETCHERD_PID"
check "cryptos updated less than an hour ago are skipped by scheduled cycles" \
  test "$(sql "SELECT min(assets_skipped) FROM fetcher_cycles WHERE instance_id = 'rules-c'")" -eq "$n_crypto"
check_eq "skipped assets get no row and are not failures" 0 \
  "$(sql "SELECT count(*) FROM price_update_log p JOIN fetcher_cycles c ON c.id = p.cycle_id JOIN assets a ON a.id = p.asset_id WHERE c.instance_id = 'rules-c' AND a.asset_type = 'crypto'")"
check_eq "cycles with skipped assets still succeed" "" \
  "$(sql "SELECT status FROM fetcher_cycles WHERE instance_id = 'rules-c' AND status <> 'succeeded'")"
check_eq "coingecko was not asked at all" 0 "$(requests '."by_path"."/api/v3/simple/price"')"
exit 0
