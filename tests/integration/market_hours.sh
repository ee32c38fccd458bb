#!/usr/bin/env bash
# Market hours (issue 14, item 3), on an injected clock: the database's
# setting fetcher.clock_offset moves fetcher_now(), the clock the schedule
# asks (migration 010), to a chosen moment, and it runs on from there.
# - Saturday: a Nasdaq stock is skipped, counted as "skipped: market
#   closed" (never a failure), while crypto is fetched every cycle;
# - Monday, just after the close: the stock is not fetched in the minute
#   after 16:00 New York, then fetched once (its closing price, from a real
#   Yahoo answer replayed with that market time), then skipped again;
# - the calendar itself: New York's, summer time, XETRA, FX 24/5, futures.
. "$(dirname "$0")/../lib.sh"
export FETCH_SOURCES="stock=yahoo;crypto=coingecko;fx=fx" FETCH_MARKET_HOURS=1
export PRICE_MAX_AGE=0 PRICE_MOVE_WARN_PCT=0 FETCH_INTERVAL=2s

REAL=$TEST_ROOT/tests/fixtures/real
RDIR=$TEST_LOG_DIR/replay
mkdir -p "$RDIR"
start_fakemarket --fixtures "$RDIR" || { not_ok "fakemarket starts"; exit 1; }
new_db && migrate || { not_ok "database and migrations"; exit 1; }
DB=${DATABASE_URL##*/}

# --- the calendar ---------------------------------------------------------------
st() { sql "SELECT is_open || ' ' || COALESCE(to_char(next_open AT TIME ZONE 'UTC', 'Dy HH24:MI'), '-')
            FROM fetcher_market_state('$1', '$2')"; }
check_eq "NMS, Saturday: closed, opens Monday 14:30 UTC (09:30 EST)" "false Mon 14:30" "$(st NMS '2026-12-05 15:00+00')"
check_eq "NMS, Monday 15:00 UTC: open" "true Tue 14:30" "$(st NMS '2026-12-07 15:00+00')"
check_eq "NMS in summer: opens 13:30 UTC (09:30 EDT)" "false Tue 13:30" "$(st NMS '2026-07-07 02:00+00')"
check_eq "GER (XETRA), 16:00 UTC in winter: open until 17:30 Berlin" "true Tue 08:00" "$(st GER '2026-12-07 16:00+00')"
check_eq "FX, Saturday: closed until Sunday 17:00 New York" "false Sun 22:00" "$(st @fx '2026-12-05 15:00+00')"
check_eq "FX, Wednesday 03:00 UTC: open (24/5)" "true Sun 22:00" "$(st @fx '2026-12-09 03:00+00')"
check_eq "futures, 22:30 UTC Monday: the daily break" "false Mon 23:00" "$(st NYM '2026-12-07 22:30+00')"
check_eq "an exchange the calendar does not know: not known (treated as open)" "f" \
  "$(sql "SELECT known FROM fetcher_market_state('XXX', now())")"

sql "INSERT INTO assets (symbol, name, asset_type, currency, provider, provider_symbol, provider_exchange) VALUES
       ('TSLA', 'Tesla', 'stock', 'USD', 'yahoo', 'TSLA', 'NMS'),
       ('BTC', 'Bitcoin', 'crypto', 'USD', 'coingecko', 'bitcoin', NULL);
     INSERT INTO tracked_assets (asset_id) SELECT id FROM assets;"
# clock TIME — fetcher_now() starts at TIME (for sessions opened from now on)
clock() {
  local off; off=$(sql "SELECT '$1'::timestamptz - now()")
  sql "ALTER DATABASE $DB SET fetcher.clock_offset = '$off'"
}
asked() { sql "UPDATE tracked_assets t SET last_attempt_at = '$2' FROM assets a WHERE a.id = t.asset_id AND a.symbol = '$1'"; }
fetches() { sql "SELECT count(*) FROM price_update_log WHERE symbol = '$1'"; }
fetched() { test "$(fetches "$1")" -ge 1; }
cycles_done() { test "$(sql "SELECT count(*) FROM fetcher_cycles WHERE status <> 'running'")" -ge "$1"; }

# --- Saturday ------------------------------------------------------------------------
clock '2026-11-28 15:00+00'
asked TSLA '2026-11-27 21:05+00'   # Friday, after the close: its closing price is in
asked BTC '2026-11-28 14:00+00'
start_fetcherd
check "three cycles on Saturday" wait_for 20 cycles_done 3
stop_pid "$FETCHERD_PID"
check_eq "Saturday: the stock is never fetched" 0 "$(fetches TSLA)"
n=$(sql "SELECT count(*) FROM fetcher_cycles WHERE status <> 'running'")
check_eq "Saturday: crypto is fetched in every cycle" "$n" "$(fetches BTC)"
check_eq "Saturday: every cycle counts the stock as 'skipped: market closed'" "$n" \
  "$(sql "SELECT count(*) FROM fetcher_cycles WHERE assets_market_closed = 1 AND assets_skipped = 1 AND assets_failed = 0")"
check_eq "Saturday: no failure anywhere" "0 succeeded" \
  "$(sql "SELECT (SELECT count(*) FROM price_update_log WHERE NOT success) || ' ' || string_agg(DISTINCT status, ',') FROM fetcher_cycles")"
check "the cycle's log line says so" \
  test "$(sql "SELECT count(*) FROM fetcher_logs WHERE message LIKE 'Cycle % (1 skipped: market closed)'")" -ge 1
check_eq "fakemarket was not asked for the stock" 0 "$(curl -sf "$FAKE_URL/_stats" | jq '.by_symbol.TSLA // 0')"

# --- Monday, after the close: one fetch for the closing price -----------------------
CLOSE=$(sql "SELECT extract(epoch FROM '2026-11-30 21:00+00'::timestamptz)::bigint")
M='.spark.result[0].response[0].meta'
jq --argjson t "$CLOSE" "$M.regularMarketTime = \$t | $M.regularMarketPrice = 391.09" \
  "$REAL/yahoo_spark_v7_TSLA.json" >"$RDIR/close.json"
curl -sf -X POST "$FAKE_URL/_replay?path=/v7/finance/spark&file=close.json&status=200" >/dev/null
sql "TRUNCATE fetcher_cycles, price_update_log, fetcher_logs"
curl -sf -X POST "$FAKE_URL/_reset" >/dev/null
clock '2026-11-30 21:00:50+00'     # 50 s after the close
asked TSLA '2026-11-30 20:50+00'  # last asked during the session
start_fetcherd
check "the closing fetch comes once the close is a minute old" wait_for 30 fetched TSLA
sleep 5
stop_pid "$FETCHERD_PID"
check_eq "after the close: exactly one fetch of the stock" 1 "$(fetches TSLA)"
check "… and not before 16:01 New York" \
  test "$(sql "SELECT last_attempt_at >= '2026-11-30 21:01+00' FROM tracked_assets t JOIN assets a ON a.id = t.asset_id WHERE a.symbol = 'TSLA'")" = t
check_eq "the closing price is stored at the close's market time" "391.09 $CLOSE" \
  "$(sql "SELECT trim_scale(price) || ' ' || extract(epoch FROM price_time)::bigint FROM asset_prices p JOIN assets a ON a.id = p.asset_id WHERE a.symbol = 'TSLA'")"
check_cmp "the cycles before and after it counted the stock as market closed" \
  "$(sql "SELECT count(*) FROM fetcher_cycles WHERE assets_market_closed = 1")" -ge 2
check_eq "fakemarket was asked once for it" 1 "$(curl -sf "$FAKE_URL/_stats" | jq '.by_symbol.TSLA // 0')"

# --- /metrics: a closed market's old price is not a stale one ----------------------
sql "UPDATE tracked_assets t SET last_price_update = now() - interval '3 days' FROM assets a
     WHERE a.id = t.asset_id AND a.symbol = 'TSLA'"
stale_stocks() { curl -sf "$API_URL/metrics" | sed -n 's/^fetcherd_stale_assets{type="stock"} //p'; }
clock '2026-11-28 15:00+00'
API_CACHE_MS=0 start_api || { not_ok "fetcher-api starts"; exit 1; }
check_eq "Saturday: the stock's 3-day-old price is not counted stale (market closed)" 0 "$(stale_stocks)"
stop_pid "$API_PID"
clock '2026-11-30 15:00+00'
API_CACHE_MS=0 start_api || { not_ok "fetcher-api starts"; exit 1; }
check_eq "Monday, market open: the same price is stale" 1 "$(stale_stocks)"
stop_pid "$API_PID"

# --- off: FETCH_MARKET_HOURS=0 fetches it anyway ----------------------------------
sql "TRUNCATE fetcher_cycles, price_update_log"
clock '2026-11-28 15:00+00'
asked TSLA '2026-11-27 21:05+00'
FETCH_MARKET_HOURS=0 start_fetcherd
check "with FETCH_MARKET_HOURS=0 the closed stock is fetched" wait_for 15 fetched TSLA
stop_pid "$FETCHERD_PID"
exit 0
