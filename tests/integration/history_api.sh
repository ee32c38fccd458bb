#!/usr/bin/env bash
# Price history for users (issue 14, item 5): GET /api/fetcher/assets/
# {symbol}/history (daily closes by range, intraday for range=1d, converted
# with the stored rates for currency=) and GET /api/fetcher/history (every
# symbol's series in one answer, thinned, for the dashboard's sparklines).
# The rows are put in by SQL with known values; every expectation is
# computed here from those values, not read back from the API's own SQL.
. "$(dirname "$0")/../lib.sh"

new_db && migrate || { not_ok "database and migrations"; exit 1; }
export API_CACHE_MS=0
OPENAPI_RECORD=1   # every answer is checked against api/openapi.json at the end
start_api || { not_ok "fetcher-api starts"; exit 1; }

# MSFT (USD): a close on each of the last 400 days, close = 100 + day index
# (0 = today); SAP.DE (EUR): 3 closes; intraday MSFT rows: 3 within the
# last day, 1 older. Rates: USD→EUR 0.5 from 10 days ago, 0.8 before that.
sql "INSERT INTO assets (symbol, name, asset_type, currency, provider, provider_symbol) VALUES
       ('MSFT', 'Microsoft', 'stock', 'USD', 'yahoo', 'MSFT'),
       ('SAP.DE', 'SAP', 'stock', 'EUR', 'yahoo', 'SAP.DE'),
       ('IDLE', 'not tracked', 'stock', 'USD', 'yahoo', 'IDLE');
     INSERT INTO tracked_assets (asset_id) SELECT id FROM assets WHERE symbol <> 'IDLE';
     INSERT INTO asset_prices_daily (asset_id, day, close, currency, source, price_time)
       SELECT a.id, current_date - k, 100 + k, 'USD', 'yahoo', (current_date - k) + time '20:00'
       FROM assets a, generate_series(0, 399) k WHERE a.symbol = 'MSFT';
     INSERT INTO asset_prices_daily (asset_id, day, close, currency, source, price_time)
       SELECT a.id, current_date - k, 50 + k, 'EUR', 'yahoo', (current_date - k) + time '16:00'
       FROM assets a, generate_series(0, 2) k WHERE a.symbol = 'SAP.DE';
     INSERT INTO asset_prices_daily (asset_id, day, close, currency, source, price_time)
       SELECT id, current_date, 7, 'USD', 'yahoo', now() FROM assets WHERE symbol = 'IDLE';
     INSERT INTO asset_prices (asset_id, price, currency, price_time, fetched_at, source, instance_id, seq)
       SELECT a.id, v.p, 'USD', now() - v.ago, now() - v.ago, 'yahoo', 't', v.s FROM assets a,
         (VALUES (201, interval '3 hours', 1), (202, interval '2 hours', 2),
                 (203, interval '1 hour', 3), (199, interval '30 hours', 4)) v(p, ago, s)
       WHERE a.symbol = 'MSFT';
     INSERT INTO exchange_rates (base, quote, rate, rate_date) VALUES
       ('USD', 'EUR', 0.8, current_date - 300), ('USD', 'EUR', 0.5, current_date - 10);"

H() { api GET "/api/fetcher/assets/$1/history$2"; }
body() { cut -d' ' -f2-; }
status() { cut -d' ' -f1; }
# days in a range: closes on days after today minus that interval
ndays() { sql "SELECT count(*) FROM generate_series(0, 399) k WHERE current_date - k > current_date - interval '$1'"; }

# --- daily closes -----------------------------------------------------------
r=$(H MSFT "")
check_eq "no range: 1m, 200" 200 "$(status <<<"$r")"
check_eq "default range is 1m: its closes" "$(ndays '1 month')" "$(body <<<"$r" | jq '.points | length')"
check_eq "the answer says what it is" '"1m" "1d" "USD" "USD"' \
  "$(body <<<"$r" | jq -r '[.range, .interval, .currency, .asset_currency] | map(tojson) | join(" ")')"
for spec in "3m:3 months" "1y:1 year" "5y:5 years"; do
  rg=${spec%%:*}; iv=${spec#*:}
  check_eq "range=$rg: the closes after today minus $iv" "$(ndays "$iv")" \
    "$(H MSFT "?range=$rg&interval=1d" | body | jq '.points | length')"
done
check_eq "range=max: every close" 400 "$(H MSFT "?range=max" | body | jq '.points | length')"
r=$(H MSFT "?range=1m" | body)
check_eq "oldest first, newest is today's close (100)" \
  "$(sql "SELECT current_date") 100" "$(jq -r '.points[-1] | "\(.day) \(.close)"' <<<"$r")"
check_eq "each close is 100 + its days back" 0 \
  "$(jq --arg t "$(sql "SELECT current_date")" '[.points[] | select(.close != 100 + ((($t | strptime("%Y-%m-%d") | mktime) - (.day | strptime("%Y-%m-%d") | mktime)) / 86400))] | length' <<<"$r")"

# --- another currency ----------------------------------------------------------
r=$(H MSFT "?range=1m&currency=eur" | body)
check_eq "currency=eur: in EUR" '"EUR"' "$(jq .currency <<<"$r")"
# today: 100 × 0.5; 20 days ago: 120 × 0.8 (the rate of its day or the nearest before)
check_eq "today's close at today's rate: 100 × 0.5" 50 "$(jq '.points[-1].close' <<<"$r")"
check_eq "20 days ago at that day's rate: 120 × 0.8" 96 \
  "$(jq --arg d "$(sql "SELECT current_date - 20")" '.points[] | select(.day == $d) | .close' <<<"$r")"
r=$(H SAP.DE "?range=max&currency=USD" | body)
check_eq "EUR → USD: 50 / 0.5" 100 "$(jq '.points[-1].close' <<<"$r")"
check_eq "currency=JPY (no rate stored): 400 naming currency" "400 currency" \
  "$(H MSFT "?currency=JPY" | { read -r s b; echo "$s $(jq -r .parameter <<<"$b")"; })"

# --- intraday ---------------------------------------------------------------------
r=$(H MSFT "?range=1d" | body)
check_eq "range=1d: the last day's intraday prices, oldest first" "201 202 203" \
  "$(jq -r '[.points[].price] | map(tostring) | join(" ")' <<<"$r")"
check_eq "range=1d: interval 'fetch'" '"fetch"' "$(jq .interval <<<"$r")"

# --- bad input: 400 naming the parameter; unknown symbol 404 -------------------
for spec in "range=2w:range" "range=1d&interval=1d:interval" "interval=1h:interval" \
            "currency=EURO:currency" "currency=E1R:currency"; do
  q=${spec%%:*}; p=${spec#*:}
  check_eq "?$q → 400 naming $p" "400 $p" \
    "$(H MSFT "?$q" | { read -r s b; echo "$s $(jq -r .parameter <<<"$b")"; })"
done
check_eq "a symbol the table would refuse → 400 naming symbol" "400 symbol" \
  "$(H 'MS%20FT' "" | { read -r s b; echo "$s $(jq -r .parameter <<<"$b")"; })"
check_eq "no such asset → 404" 404 "$(H NOPE "" | status)"
check_eq "POST → 405" 405 "$(api POST /api/fetcher/assets/MSFT/history -H 'Content-Type: application/json' | status)"

# --- one request for every sparkline ----------------------------------------------
r=$(api GET "/api/fetcher/history?range=1m" | body)
check_eq "batch: every tracked symbol (not the untracked one)" '["MSFT","SAP.DE"]' \
  "$(jq -c '.history | keys' <<<"$r")"
check_eq "batch: SAP.DE's three closes" 3 "$(jq '.history["SAP.DE"] | length' <<<"$r")"
check_cmp "batch: MSFT thinned to at most 60 points" "$(jq '.history.MSFT | length' <<<"$r")" -le 60
r=$(api GET "/api/fetcher/history?symbols=MSFT,IDLE&range=max&points=10" | body)
check_eq "batch: symbols= picks (an untracked one too)" '["IDLE","MSFT"]' "$(jq -c '.history | keys' <<<"$r")"
check_eq "batch: points=10 of 400 → 10, evenly" 10 "$(jq '.history.MSFT | length' <<<"$r")"
check_eq "batch: the newest is always kept" "[\"$(sql "SELECT current_date")\",100]" \
  "$(jq -c '.history.MSFT[-1]' <<<"$r")"
check_eq "batch: range=1d gives the intraday prices" "[201,202,203]" \
  "$(api GET "/api/fetcher/history?symbols=MSFT&range=1d" | body | jq -c '[.history.MSFT[][1]]')"
for spec in "points=1:points" "points=9999:points" "symbols=a,,b:symbols" "symbols=bad!:symbols" \
            "range=week:range"; do
  q=${spec%%:*}; p=${spec#*:}
  check_eq "batch ?$q → 400 naming $p" "400 $p" \
    "$(api GET "/api/fetcher/history?$q" | { read -r s b; echo "$s $(jq -r .parameter <<<"$b")"; })"
done
openapi_check
exit 0
