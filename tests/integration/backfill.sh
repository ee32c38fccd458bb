#!/usr/bin/env bash
# A tracked asset gets its daily history (issue 14, item 1). fakemarket
# replays real chart answers (tests/fixtures/real/):
# - MSFT, a year of Yahoo day bars, moved by whole weeks so that it ends
#   4 to 10 days ago (the recorded shape, every time shifted alike) and
#   with one close null, as real answers have them;
# - INR=X as recorded (a null close among four);
# - CoinGecko's 90 days of bitcoin as recorded.
# fetcherd runs on its schedule; the backfill stores the closes (the null
# ones skipped), marks each asset, says its progress in the heartbeat, and
# recalculates the portfolios: their day, week, month and year changes are
# then those of a hand computation from the recording. An asset tracked
# through the API gets its history at once (NOTIFY), and one that no source
# knows is marked failed, with the reason, for a retry.
. "$(dirname "$0")/../lib.sh"
export FETCH_SOURCES="stock=yahoo;crypto=coingecko;fx=fx"
export PRICE_MAX_AGE=0 PRICE_MOVE_WARN_PCT=0 LOG_LEVEL=WARNING FETCH_INTERVAL=2s FETCH_BACKFILL=1

REAL=$TEST_ROOT/tests/fixtures/real
RDIR=$TEST_LOG_DIR/replay
mkdir -p "$RDIR"
MSFT=$REAL/yahoo_chart_MSFT_1d_2021-02-01_to_2022-01-31_dividends.json
R='.chart.result[0]'
NOW=$(date +%s)
LAST=$(jq "$R.timestamp[-1]" "$MSFT")
WEEK=$((7 * 86400))
SHIFT=$(( (NOW - 4 * 86400 - LAST) / WEEK * WEEK ))
NULL_AT=100
jq --argjson d "$SHIFT" --argjson k "$NULL_AT" "
  $R.timestamp |= map(. + \$d) |
  $R.meta.regularMarketTime += \$d |
  $R.meta.currentTradingPeriod |= with_entries(.value.start += \$d | .value.end += \$d) |
  $R.indicators.quote[0].close[\$k] = null" "$MSFT" >"$RDIR/msft.json"
OFF=$(jq "$R.meta.gmtoffset" "$RDIR/msft.json")

start_fakemarket --fixtures "$RDIR" || { not_ok "fakemarket starts with --fixtures"; exit 1; }
replay() {
  local q; q=$(jq -rn --arg p "$1" --arg f "$2" '"path=\($p|@uri)&file=\($f|@uri)"')
  curl -sf -X POST "$FAKE_URL/_replay?$q&status=200" >/dev/null
}
cp "$REAL/yahoo_chart_v8_INR=X_with_null_2017-07.json" "$RDIR/inr.json"
cp "$REAL/coingecko_market_chart_bitcoin_90d_daily_2021-05-15.json" "$RDIR/btc.json"
replay /v8/finance/chart/MSFT msft.json
replay "/v8/finance/chart/INR=X" inr.json
replay /api/v3/coins/bitcoin/market_chart btc.json

new_db && migrate || { not_ok "database and migrations"; exit 1; }
sql "INSERT INTO assets (symbol, name, asset_type, currency, provider, provider_symbol) VALUES
       ('MSFT', 'Microsoft (replay)', 'stock', 'USD', 'yahoo', 'MSFT'),
       ('INR=X', 'USD/INR (replay)', 'index', 'INR', 'yahoo', 'INR=X'),
       ('BTC', 'Bitcoin (replay)', 'crypto', 'USD', 'coingecko', 'bitcoin'),
       ('GONE', 'no source knows it', 'stock', 'USD', 'yahoo', 'NOSUCHGONE');
     INSERT INTO tracked_assets (asset_id) SELECT id FROM assets;
     INSERT INTO portfolios (name) VALUES ('hist');
     INSERT INTO portfolio_positions (portfolio_id, asset_id, quantity, average_buy_price)
       SELECT p.id, a.id, 2, 100 FROM portfolios p, assets a WHERE a.symbol = 'MSFT';"
# days stored for SYMBOL before 2023 (the recordings' years; the cycles add today's)
n_days() { sql "SELECT count(*) FROM asset_prices_daily d JOIN assets a ON a.id = d.asset_id WHERE a.symbol = '$1' AND d.day < '2023-01-01'"; }
# a figure as stored (15 significant digits, numeric(30,10)), to 8 decimals
r8() { sql "SELECT round(($1)::numeric, 8)"; }
stored() { sql "SELECT round(d.close, 8) FROM asset_prices_daily d JOIN assets a ON a.id = d.asset_id WHERE a.symbol = '$1' AND d.day = '$2'"; }
backfilled() { test "$(sql "SELECT count(*) FROM assets WHERE history_backfilled_at IS NOT NULL AND symbol = '$1'")" = 1; }
failed() { test "$(sql "SELECT count(*) FROM assets WHERE history_error IS NOT NULL AND symbol = '$1'")" = 1; }

t0=$(date +%s%N)
start_fetcherd
check "MSFT's history is stored" wait_for 30 backfilled MSFT
check "INR=X's history is stored" wait_for 10 backfilled INR=X
check "bitcoin's history is stored" wait_for 10 backfilled BTC
check "an unknown symbol's backfill fails with a reason" wait_for 10 failed GONE
t1=$(date +%s%N)
echo "# backfill of 3 assets (and a failure) in $(( (t1 - t0) / 1000000 )) ms from start"

# --- what was stored ----------------------------------------------------------
bars=$(jq "$R.timestamp | length" "$RDIR/msft.json")
check_eq "MSFT: every bar with a close is a day (the null one skipped)" $((bars - 1)) \
  "$(sql "SELECT count(*) FROM asset_prices_daily d JOIN assets a ON a.id = d.asset_id
          WHERE a.symbol = 'MSFT' AND d.day <= (to_timestamp($LAST + $SHIFT + $OFF) AT TIME ZONE 'UTC')::date")"
check_eq "MSFT: history_days is what the answer had" $((bars - 1)) \
  "$(sql "SELECT history_days FROM assets WHERE symbol = 'MSFT'")"
check_eq "MSFT: no close is zero" 0 \
  "$(sql "SELECT count(*) FROM asset_prices_daily d JOIN assets a ON a.id = d.asset_id WHERE a.symbol = 'MSFT' AND d.close <= 0")"
# a bar's close, by the recording: day = its start in New York, close = close[k]
bar() { jq -r --argjson k "$1" --argjson o "$OFF" "$R | \"\\((.timestamp[\$k] + \$o) | strftime(\"%Y-%m-%d\")) \\(.indicators.quote[0].close[\$k])\"" "$RDIR/msft.json"; }
read -r d0 c0 < <(bar 0)
check_eq "MSFT: the first bar's close on its New York day" "$(r8 "$c0")" "$(stored MSFT "$d0")"
read -r dn _ < <(bar $NULL_AT)
check_eq "MSFT: the day whose close was null has no row" 0 \
  "$(sql "SELECT count(*) FROM asset_prices_daily d JOIN assets a ON a.id = d.asset_id WHERE a.symbol = 'MSFT' AND d.day = '$dn'")"
check_eq "MSFT: the close, not adjclose (dividends not taken off the past)" \
  "$(r8 "$(jq "$R.indicators.quote[0].close[1]" "$RDIR/msft.json")")" "$(stored MSFT "$(bar 1 | cut -d' ' -f1)")"
check_eq "INR=X: three of four closes (one null)" 3 "$(n_days INR=X)"
check_eq "bitcoin: 91 points, 91 days (midnight is the day before's close)" 91 "$(n_days BTC)"
check_eq "bitcoin: 2021-05-14's close is the price at 2021-05-15 00:00 UTC" \
  "$(r8 "$(jq '.prices[89][1]' "$RDIR/btc.json")")" "$(stored BTC 2021-05-14)"
check "GONE: the reason names the provider's answer" \
  grep -q "No data found" <<<"$(sql "SELECT history_error FROM assets WHERE symbol = 'GONE'")"
check_eq "GONE: not marked backfilled (retried in an hour)" "" \
  "$(sql "SELECT history_backfilled_at FROM assets WHERE symbol = 'GONE'")"

# --- progress in the heartbeat ---------------------------------------------------
hb() { sql "SELECT detail->>'$1' FROM fetcher_instances ORDER BY last_heartbeat DESC LIMIT 1"; }
check "the heartbeat reports the round: 4 of 4 answered" wait_for 5 \
  bash -c "test \"\$(psql '$DATABASE_URL' -XAtqc \"SELECT detail->>'backfill_done' || '/' || (detail->>'backfill_total') FROM fetcher_instances\")\" = 4/4"
check_eq "the heartbeat: one failed" 1 "$(hb backfill_failed)"

# --- the portfolio's changes, by hand -------------------------------------------
# value = 2 × the current price P; a change = 2 × (P − the close of the last
# market day on or before that moment's UTC date), from the recording.
close_on_or_before() {
  jq -r --arg d "$1" --argjson o "$OFF" "$R as \$r | [range(0; \$r.timestamp | length)
    | select(\$r.indicators.quote[0].close[.] != null)
    | select(((\$r.timestamp[.] + \$o) | strftime(\"%Y-%m-%d\")) <= \$d)] | last
    | \$r.indicators.quote[0].close[.]" "$RDIR/msft.json"
}
recalced() { test "$(sql "SELECT count(*) FROM portfolio_performance_cache c, assets a WHERE a.symbol = 'MSFT'
                         AND c.calculated_at > a.history_backfilled_at AND c.year_change IS NOT NULL")" = 1; }
check "the portfolios are recalculated after the backfill" wait_for 10 recalced
P=$(sql "SELECT price FROM asset_prices p JOIN assets a ON a.id = p.asset_id WHERE a.symbol = 'MSFT' ORDER BY fetched_at DESC LIMIT 1")
row=$(sql "SELECT c.day_change || ' ' || c.week_change || ' ' || c.month_change || ' ' || c.year_change || ' ' || c.calculated_at
           FROM portfolio_performance_cache c JOIN portfolios p ON p.id = c.portfolio_id WHERE p.name = 'hist'")
read -r gd gw gm gy _ <<<"$row"
at=$(sql "SELECT calculated_at FROM portfolio_performance_cache")
for spec in "day:1 day:$gd" "week:7 days:$gw" "month:1 month:$gm" "year:1 year:$gy"; do
  name=${spec%%:*}; rest=${spec#*:}; ago=${rest%%:*}; got=${rest#*:}
  day=$(sql "SELECT (('$at'::timestamptz - interval '$ago') AT TIME ZONE 'UTC')::date")
  c=$(close_on_or_before "$day")
  want=$(awk -v p="$P" -v c="$c" 'BEGIN { printf "%.4f", 2 * (p - c) }')
  check_eq "$name change = 2 × (price − close of $day) = 2 × ($P − $c)" "$want" \
    "$(awk -v g="$got" 'BEGIN { printf "%.4f", g }')"
done

# --- tracked through the API: history at once ----------------------------------
start_api || { not_ok "fetcher-api starts"; exit 1; }
check_eq "GET /status: the round, for the dashboard" '{"active":false,"total":4,"done":4,"failed":1}' \
  "$(curl -sf "$API_URL/api/fetcher/status" | jq -c .backfill)"
t2=$(date +%s%N)
st=$(api POST /api/fetcher/assets -H 'Content-Type: application/json' \
  -d '{"symbol":"AAPL","type":"stock"}' | cut -d' ' -f1)
check_eq "POST /api/fetcher/assets tracks AAPL" 201 "$st"
check "AAPL gets its history within 10 s (the NOTIFY, not the minute's look)" wait_for 10 backfilled AAPL
t3=$(date +%s%N)
echo "# AAPL tracked → history stored in $(( (t3 - t2) / 1000000 )) ms"
check_cmp "AAPL: five years of day bars from fakemarket's chart (range=5y)" \
  "$(sql "SELECT count(*) FROM asset_prices_daily d JOIN assets a ON a.id = d.asset_id WHERE a.symbol = 'AAPL'")" -ge 1200

# --- the cycles' own request counts leave the backfill's out -------------------
stop_pid "$FETCHERD_PID"
check_eq "fakemarket's requests = the cycles' upstream_requests + the backfill's history requests" \
  "$(curl -sf "$FAKE_URL/_stats" | jq .requests_total)" \
  "$(sql "SELECT (SELECT COALESCE(sum(upstream_requests), 0) FROM fetcher_cycles)
                + (SELECT (detail->>'backfill_requests')::int FROM fetcher_instances)")"
check_eq "… of which 5 history requests (MSFT, INR=X, bitcoin, GONE, AAPL)" 5 \
  "$(sql "SELECT detail->>'backfill_requests' FROM fetcher_instances")"

# --- a restart does not fetch a stored history again ---------------------------
curl -sf -X POST "$FAKE_URL/_reset" >/dev/null
start_fetcherd
check "fetcherd runs a cycle after the restart" wait_for 15 \
  bash -c "test \"\$(psql '$DATABASE_URL' -XAtqc \"SELECT count(*) FROM fetcher_cycles WHERE status <> 'running' AND started_at > now() - interval '10 seconds'\")\" -ge 1"
sleep 2
check_eq "no history request after the restart (all stored; GONE waits its hour)" 0 \
  "$(curl -sf "$FAKE_URL/_stats" | jq '[.by_path | to_entries[] | select(.key == "/api/v3/coins/market_chart") | .value] | add // 0')"
exit 0
