#!/usr/bin/env bash
# One asset_prices row per real price, and a daily close per market day
# (issue 14, migration 007). fakemarket replays a real Yahoo spark answer
# (tests/fixtures/real/yahoo_spark_v7_TSLA.json) and copies of it with the
# market time or the price moved — the recorded shape, one field changed —
# and `fetcherd --once` runs against each:
# - the same market time and price again: no new asset_prices row, but a
#   price_update_log row (the check) and a newer last_price_update;
# - a new price or a new market time: a new row, and the day's close moves;
# - an answer for an earlier moment: stored, but the day's close stays the
#   later price;
# - an answer without a market time (basis `fetched`): a row every time;
# - the market day is the exchange's own date (gmtoffset), and migration 007
#   rolls history stored before it into the daily table.
. "$(dirname "$0")/../lib.sh"
export FETCH_SOURCES="stock=yahoo;crypto=coingecko;fx=fx"
export PRICE_MAX_AGE=0 PRICE_MOVE_WARN_PCT=0 LOG_LEVEL=WARNING

REAL=$TEST_ROOT/tests/fixtures/real
RDIR=$TEST_LOG_DIR/replay
mkdir -p "$RDIR"
SPARK=$REAL/yahoo_spark_v7_TSLA.json
M='.spark.result[0].response[0].meta'
T0=$(jq "$M.regularMarketTime" "$SPARK")
P0=$(jq "$M.regularMarketPrice" "$SPARK")
OFF=$(jq "$M.gmtoffset" "$SPARK")
# variant FILE TIME PRICE — the recording with its market time and price set
variant() {
  jq --argjson t "$2" --argjson p "$3" "$M.regularMarketTime = \$t | $M.regularMarketPrice = \$p" \
    "$SPARK" >"$RDIR/$1"
}

start_fakemarket --fixtures "$RDIR" || { not_ok "fakemarket starts with --fixtures"; exit 1; }
replay() {
  local q; q=$(jq -rn --arg p "$1" --arg f "$2" '"path=\($p|@uri)&file=\($f|@uri)"')
  curl -sf -X POST "$FAKE_URL/_replay?$q&status=200" >/dev/null
}
once() { provider_env; "$BIN/fetcherd" --once >>"$TEST_LOG_DIR/fetcherd.log" 2>&1; }
n_prices() { sql "SELECT count(*) FROM asset_prices p JOIN assets a ON a.id = p.asset_id WHERE a.symbol = '$1'"; }
n_checks() { sql "SELECT count(*) FROM price_update_log WHERE symbol = '$1' AND success"; }
# daily SYMBOL — "day close epoch" of each daily row, oldest first
daily() {
  sql "SELECT string_agg(d.day || ' ' || d.close::float8 || ' ' || extract(epoch FROM d.price_time)::bigint, ',' ORDER BY d.day)
       FROM asset_prices_daily d JOIN assets a ON a.id = d.asset_id WHERE a.symbol = '$1'"
}
f8() { sql "SELECT ($1)::numeric::float8"; }
mday() { sql "SELECT (to_timestamp($1 + $2) AT TIME ZONE 'UTC')::date"; }

new_db && migrate || { not_ok "database and migrations"; exit 1; }
sql "INSERT INTO assets (symbol, name, asset_type, currency, provider, provider_symbol)
       VALUES ('TSLA', 'TSLA (replay)', 'stock', 'USD', 'yahoo', 'TSLA'),
              ('BTC', 'BTC (replay)', 'crypto', 'USD', 'coingecko', 'bitcoin');
     INSERT INTO tracked_assets (asset_id) SELECT id FROM assets WHERE symbol = 'TSLA';"

# --- the market day is the exchange's date ----------------------------------
# 02:00 UTC on 17 July is still 16 July in New York (-14400 s)
check_eq "fetcher_market_day: 02:00 UTC at UTC-4 is the day before" 2021-07-16 \
  "$(sql "SELECT fetcher_market_day('2021-07-17 02:00+00', -14400)")"
check_eq "fetcher_market_day: no offset known is the UTC date" 2021-07-17 \
  "$(sql "SELECT fetcher_market_day('2021-07-17 02:00+00', NULL)")"

# --- a price as of a moment: only a close known by then --------------------
# Monday 5 Jan 2026 in New York ends at 00:00-05:00; its close (200, fetched
# 00:20 UTC on the 6th) is Monday's market day, but 24 hours before 00:30
# UTC the price was Friday's close (100). No intraday row (BTC has none).
sql "INSERT INTO asset_prices_daily (asset_id, day, close, currency, source, price_time)
     SELECT id, v.day, v.close, 'USD', 'coingecko', v.t FROM assets,
       (VALUES ('2026-01-02'::date, 100, '2026-01-02 21:00+00'::timestamptz),
               ('2026-01-05'::date, 200, '2026-01-06 00:20+00'::timestamptz)) v(day, close, t)
     WHERE symbol = 'BTC'"
check_eq "fetcher_price_at: a close that came later is not the price of before (Friday's)" 100 \
  "$(sql "SELECT fetcher_price_at(id, '2026-01-06 00:10+00')::float8 FROM assets WHERE symbol = 'BTC'")"
check_eq "fetcher_price_at: … and is once it is known (Monday's)" 200 \
  "$(sql "SELECT fetcher_price_at(id, '2026-01-06 00:30+00')::float8 FROM assets WHERE symbol = 'BTC'")"
sql "DELETE FROM asset_prices_daily WHERE asset_id = (SELECT id FROM assets WHERE symbol = 'BTC')"

# --- the recorded answer, twice -------------------------------------------
cp "$SPARK" "$RDIR/a.json"
replay /v7/finance/spark a.json
check "first run on the recorded spark exits 0" once
check_eq "first run: one price row" 1 "$(n_prices TSLA)"
check_eq "first run: the day's close is the market price at its market time" \
  "$(mday "$T0" "$OFF") $(f8 "$P0") $T0" "$(daily TSLA)"
before=$(sql "SELECT extract(epoch FROM last_price_update) FROM tracked_assets t JOIN assets a ON a.id = t.asset_id WHERE a.symbol = 'TSLA'")
sleep 1
check "second run on the same answer exits 0" once
check_eq "same market time and price: no new price row" 1 "$(n_prices TSLA)"
check_eq "same market time and price: the check is still logged" 2 "$(n_checks TSLA)"
check "same market time and price: last_price_update moves on" \
  test "$(sql "SELECT extract(epoch FROM last_price_update) > $before FROM tracked_assets t JOIN assets a ON a.id = t.asset_id WHERE a.symbol = 'TSLA'")" = t
check_eq "same market time and price: one daily row, unchanged" \
  "$(mday "$T0" "$OFF") $(f8 "$P0") $T0" "$(daily TSLA)"

# --- a new price at the same time, then a later time -----------------------
P1=$(jq -n "$P0 + 1.5"); T1=$((T0 + 60)); P2=$(jq -n "$P0 + 2.25")
variant b.json "$T0" "$P1"; replay /v7/finance/spark b.json
check "a new price at the same market time exits 0" once
check_eq "a new price at the same market time: a new row" 2 "$(n_prices TSLA)"
check_eq "a new price at the same market time: the close follows" \
  "$(mday "$T0" "$OFF") $(f8 "$P1") $T0" "$(daily TSLA)"
variant c.json "$T1" "$P2"; replay /v7/finance/spark c.json
check "a later market time exits 0" once
check_eq "a later market time: a new row" 3 "$(n_prices TSLA)"
check_eq "a later market time: the close is the later price" \
  "$(mday "$T1" "$OFF") $(f8 "$P2") $T1" "$(daily TSLA)"

# --- an answer for an earlier moment ---------------------------------------
variant d.json "$((T0 - 3600))" "$(jq -n "$P0 - 3")"; replay /v7/finance/spark d.json
check "an earlier market time exits 0" once
check_eq "an earlier market time: stored as a price row" 4 "$(n_prices TSLA)"
check_eq "an earlier market time: the day's close stays the later price" \
  "$(mday "$T1" "$OFF") $(f8 "$P2") $T1" "$(daily TSLA)"

# --- the next market day -----------------------------------------------------
T2=$((T1 + 86400)); P3=$(jq -n "$P0 + 4")
variant e.json "$T2" "$P3"; replay /v7/finance/spark e.json
check "the next day exits 0" once
check_eq "the next day: a second daily row, the first kept" \
  "$(mday "$T1" "$OFF") $(f8 "$P2") $T1,$(mday "$T2" "$OFF") $(f8 "$P3") $T2" "$(daily TSLA)"

# --- no market time: every fetch is a row -----------------------------------
CG=$REAL/coingecko_simple_price_bitcoin_usd_2025-10-12.json
check "the recording without a market time has none" test "$(jq '.bitcoin.last_updated_at // "none"' "$CG")" = '"none"'
cp "$CG" "$RDIR/cg.json"; replay /api/v3/simple/price cg.json
sql "INSERT INTO tracked_assets (asset_id) SELECT id FROM assets WHERE symbol = 'BTC'"
check "coingecko without a market time, run 1" once
check "coingecko without a market time, run 2" once
check_eq "basis 'fetched': a row each run" 2 "$(n_prices BTC)"
check_eq "basis 'fetched': both rows say so" fetched \
  "$(sql "SELECT string_agg(DISTINCT p.price_time_basis, ',') FROM asset_prices p JOIN assets a ON a.id = p.asset_id WHERE a.symbol = 'BTC'")"
check_eq "basis 'fetched': one daily row (UTC day)" 1 \
  "$(sql "SELECT count(*) FROM asset_prices_daily d JOIN assets a ON a.id = d.asset_id WHERE a.symbol = 'BTC'")"

# --- migration 007 rolls stored history into the daily table ----------------
# A database at version 6 with two days of history (three prices on the
# first, the market's offset known), then fetcherd migrate to the latest.
OLD=$TEST_LOG_DIR/migrations-6
mkdir -p "$OLD"
for f in "$TEST_ROOT"/migrations/*.sql; do
  case $(basename "$f") in 00[1-6]_*) cp "$f" "$OLD/" ;; esac
done
new_db && FETCHER_MIGRATIONS_DIR=$OLD migrate || { not_ok "a database at version 6"; exit 1; }
check_eq "the version-6 database has no daily table" "" \
  "$(sql "SELECT to_regclass('asset_prices_daily')")"
sql "INSERT INTO assets (symbol, name, asset_type, currency, provider, provider_symbol, trading_period)
       VALUES ('OLD', 'old history', 'stock', 'USD', 'yahoo', 'OLD', '{\"gmtoffset\": -14400}');
     INSERT INTO asset_prices (asset_id, price, currency, price_time, fetched_at, source, instance_id, seq)
       SELECT id, v.p, 'USD', v.t::timestamptz, v.t::timestamptz, 'yahoo', 'old', v.s FROM assets,
         (VALUES (10, '2026-03-02 15:00+00', 1), (11, '2026-03-02 20:00+00', 2),
                 (12, '2026-03-03 01:00+00', 3), (13, '2026-03-03 19:00+00', 4)) AS v(p, t, s);"
check "fetcherd migrate takes the version-6 database to the latest" migrate
check_eq "migration 007: each market day's last price (01:00 UTC is the day before in New York)" \
  "2026-03-02 12 $(sql "SELECT extract(epoch FROM '2026-03-03 01:00+00'::timestamptz)::bigint"),2026-03-03 13 $(sql "SELECT extract(epoch FROM '2026-03-03 19:00+00'::timestamptz)::bigint")" \
  "$(daily OLD)"

# --- changes beyond the intraday rows come from the daily closes -----------
# NEW: a price now (intraday), and only daily closes before: 1 year and 2
# days ago 80, 32 days ago 90, 8 days ago 95 (no intraday row that old, as
# after PRICE_INTRADAY_DAYS of retention). 3 held at a buy price of 50.
sql "INSERT INTO assets (symbol, name, asset_type, currency, provider, provider_symbol)
       VALUES ('NEW', 'daily history', 'stock', 'USD', 'yahoo', 'NEW');
     INSERT INTO asset_prices (asset_id, price, currency, price_time, fetched_at, source, instance_id, seq)
       SELECT id, 100, 'USD', now(), now(), 'yahoo', 'new', 1 FROM assets WHERE symbol = 'NEW';
     INSERT INTO asset_prices_daily (asset_id, day, close, currency, source, price_time)
       SELECT id, (now() - make_interval(days => v.d))::date, v.c, 'USD', 'yahoo', now() - make_interval(days => v.d)
       FROM assets, (VALUES (367, 80), (32, 90), (8, 95)) AS v(d, c) WHERE symbol = 'NEW';
     INSERT INTO portfolios (name) VALUES ('history');
     INSERT INTO portfolio_positions (portfolio_id, asset_id, quantity, average_buy_price)
       SELECT p.id, a.id, 3, 50 FROM portfolios p, assets a WHERE p.name = 'history' AND a.symbol = 'NEW';"
check_eq "the valuation runs without error" "" \
  "$(sql "SELECT coalesce(string_agg(r_error, ';'), '') FROM fetcher_recalc_portfolios('t', 0)")"
# by hand: value 300; a week ago 95 → 15; a month ago 90 → 30; a year ago 80 → 60;
# a day ago: no price that old but the 8-days-ago close (95) → 15
check_eq "day, week, month and year change from the daily closes (by hand: 15 15 30 60)" "15 15 30 60" \
  "$(sql "SELECT c.day_change::float8 || ' ' || c.week_change::float8 || ' ' || c.month_change::float8 || ' ' || c.year_change::float8
          FROM portfolio_performance_cache c JOIN portfolios p ON p.id = c.portfolio_id WHERE p.name = 'history'")"

exit 0
