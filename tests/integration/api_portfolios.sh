#!/usr/bin/env bash
# api_portfolios — a new user's first minutes through the REST API (issue
# 17), against a real PostgreSQL, fakemarket and fetcherd:
#   - the empty state: a daemon with nothing tracked is "idle", its cycle is
#     recorded as "empty" and left out of the statistics;
#   - the symbol search (GET /search) over recorded real search answers
#     (fakemarket replays tests/fixtures/real/), its bounds (timeout,
#     concurrency) and its errors; tracking a hit, untracking it;
#   - portfolios, positions and the CSV import: every endpoint, bad input
#     for each field (400 naming it), 404 and 409, the preview writing
#     nothing, the commit in one transaction; a recalculation whose values
#     equal a computation from the database, the buy currency converted;
#   - loading the demo data into an empty database, and only there;
#   - every answer checked against api/openapi.json.
. "$(dirname "$0")/../lib.sh"

B=$TEST_LOG_DIR/body H=$TEST_LOG_DIR/headers
FIX=$TEST_ROOT/tests/fixtures/real
# call METHOD PATH [JSON] — the status in $ST, the body in $B; recorded for
# the OpenAPI check. Every write says Content-Type: application/json.
call() {
  local m=$1 p=$2
  : >"$B"
  if [ $# -ge 3 ]; then
    ST=$(curl -s -o "$B" -D "$H" -w '%{http_code}' -X "$m" -H 'Content-Type: application/json' \
      --data-binary "$3" "$API_URL$p")
  else
    ST=$(curl -s -o "$B" -D "$H" -w '%{http_code}' -X "$m" -H 'Content-Type: application/json' "$API_URL$p")
  fi
  openapi_record "$m" "$p" "$ST" "$B" "$H"
}
jqb() { jq -r "$1" "$B" 2>/dev/null; }
# bad DESC METHOD PATH JSON FIELD — 400 naming FIELD.
bad() {
  call "$2" "$3" "$4"
  if [ "$ST" = 400 ] && [ "$(jqb .parameter)" = "$5" ]; then ok "$1 → 400 naming $5"
  else not_ok "$1 → 400 naming $5" "got $ST $(head -c 200 "$B")"; fi
}
replay() { curl -sf -X POST "$FAKE_URL/_replay?path=$1&file=$2${3:+&status=$3}" >/dev/null; }

new_db || { not_ok "create a test database"; exit 0; }
check "schema migrated" migrate
start_fakemarket --fixtures "$FIX" || { not_ok "fakemarket starts"; exit 0; }
export YAHOO_BASE_URL=$FAKE_URL COINGECKO_BASE_URL=$FAKE_URL/api/v3 API_CACHE_MS=0 HEARTBEAT_INTERVAL=1s
unset FETCHER_API_TOKEN
start_api || { not_ok "fetcher-api starts"; exit 0; }
ok "fetcher-api starts"

# ---- the empty state ---------------------------------------------------------
FETCH_INTERVAL=10m start_fetcherd
empty_cycle() { [ "$(sql "SELECT count(*) FROM fetcher_cycles WHERE status = 'empty'")" -ge 1 ]; }
check "with nothing tracked, the startup cycle is recorded as empty" wait_for 20 empty_cycle
check_eq "and no cycle as succeeded" 0 "$(sql "SELECT count(*) FROM fetcher_cycles WHERE status = 'succeeded'")"
idle() { [ "$(curl -s "$API_URL/api/fetcher/status" | jq -r .status)" = idle ]; }
check "a running daemon with nothing tracked: status idle" wait_for 15 idle
call GET /api/fetcher/status
check_eq "idle_reason says why" "no assets tracked" "$(jqb .idle_reason)"
call GET /api/fetcher/statistics
check_eq "statistics: the empty cycle is not a cycle of work (total, successful)" "0 0" "$(jqb '"\(.total_cycles) \(.successful_cycles)"')"
check_eq "statistics: empty_cycles counts it, as the table does" \
  "$(sql "SELECT count(*) FROM fetcher_cycles WHERE status = 'empty'")" "$(jqb .empty_cycles)"
check_eq "statistics: no duration from an empty cycle" null "$(jqb .last_cycle_duration_seconds)"
call GET /api/fetcher/cycles
check_eq "cycles: the empty cycle is listed as such" empty "$(jqb '.cycles[0].status')"
check "the daemon logged it in words" \
  bash -c "[ \$(psql '$DATABASE_URL' -Atc \"SELECT count(*) FROM fetcher_logs WHERE message LIKE '%empty: no assets tracked%'\") -ge 1 ]"
stop_pid "$FETCHERD_PID"
out=$("$BIN/fetcherd" --once 2>&1); rc=$?
check_eq "fetcherd --once over nothing exits 0 (an empty cycle is no failure)" 0 "$rc"
call GET /api/fetcher/statistics
check_eq "statistics after --once: still 0 cycles of work" 0 "$(jqb .total_cycles)"
check_eq "statistics after --once: empty_cycles equals the table" \
  "$(sql "SELECT count(*) FROM fetcher_cycles WHERE status = 'empty'")" "$(jqb .empty_cycles)"
call GET /metrics
check "metrics count empty cycles apart" grep -q "^fetcherd_cycles_total{status=\"empty\"} [1-9]" "$B"

# ---- the symbol search ---------------------------------------------------------
replay /v1/finance/search yahoo_search_AAPL_2025-02-25.json
replay /api/v3/search coingecko_search_empty_BOSA_2026-09.json
call GET '/api/fetcher/search?q=apple'
check_eq "search apple → 200" 200 "$ST"
# what the recording offers: Yahoo Finance quotes of a type we price
want=$(jq '[.quotes[] | select(.isYahooFinance == true and (.quoteType | IN("EQUITY","ETF","MUTUALFUND","INDEX","FUTURE")))] | length' \
  "$FIX/yahoo_search_AAPL_2025-02-25.json")
all=$(jq '.quotes | length' "$FIX/yahoo_search_AAPL_2025-02-25.json")
check_eq "every trackable quote of the recording is a result" "$want" "$(jqb '.results | length')"
check_eq "the rest (options, non-quotes) counted as skipped" "$((all - want))" "$(jqb .skipped)"
check_eq "AAPL: name, type, exchange, currency, provider as recorded (currency from spark)" \
  "Apple Inc.|stock|NASDAQ|USD|yahoo|AAPL|false" \
  "$(jqb '.results[] | select(.symbol == "AAPL") | "\(.name)|\(.type)|\(.exchange)|\(.currency)|\(.provider)|\(.provider_symbol)|\(.tracked)"')"
check_eq "no provider failed" 0 "$(jqb '.errors | length')"
replay /api/v3/search coingecko_search_docs_example_ethereum.json
call GET '/api/fetcher/search?q=ethereum&provider=coingecko'
check_eq "coingecko search: its coins, no Yahoo result" \
  "$(jq -c '[.coins[] | {symbol: (.symbol | ascii_upcase), provider_symbol: .id}]' "$FIX/coingecko_search_docs_example_ethereum.json")" \
  "$(jq -c '[.results[] | {symbol, provider_symbol}]' "$B")"
check_eq "coingecko hits are crypto in USD with their rank" "crypto USD 2" \
  "$(jqb '.results[0] | "\(.type) \(.currency) \(.market_cap_rank)"')"
replay /api/v3/search coingecko_429_rate_limit.json 429
call GET '/api/fetcher/search?q=apple'
check_eq "one provider refused (429), the other answered → 200" 200 "$ST"
check_eq "…with the refusal named" "coingecko coingecko: HTTP 429" "$(jqb '.errors[0] | "\(.provider) \(.error)"')"
replay /api/v3/search coingecko_search_empty_BOSA_2026-09.json
bad "search without q" GET '/api/fetcher/search' '' q
bad "search q empty" GET '/api/fetcher/search?q=' '' q
bad "search q of 65 characters" GET "/api/fetcher/search?q=$(printf 'a%.0s' $(seq 65))" '' q
bad "search q with a control character" GET '/api/fetcher/search?q=a%01b' '' q
bad "search q of spaces" GET '/api/fetcher/search?q=%20%20' '' q
bad "search provider unknown" GET '/api/fetcher/search?q=apple&provider=bloomberg' '' provider
# bounded: latency past the 5 s transfer timeout → no provider answered, 502 within the deadline
curl -sf -X POST "$FAKE_URL/_latency?ms=7000" >/dev/null
t0=$(date +%s%N)
call GET '/api/fetcher/search?q=apple'
ms=$(( ($(date +%s%N) - t0) / 1000000 ))
check_eq "providers silent past the timeout → 502" 502 "$ST"
check_cmp "…answered within the 8 s deadline (${ms} ms)" "$ms" -lt 8600
check_eq "…each provider's reason given" 2 "$(jqb '[.errors[] | select(.error | test("no answer within"))] | length')"
# bounded concurrency: at most 2 searches run at once (SEARCH_MAX_CONCURRENT);
# one more is refused at once with 503, never queued. In this order, so that
# the outcome does not depend on how fast curl starts or how libmicrohttpd
# spreads connections (a worker that accepts two at once serves the second
# only after the first, and a search blocks its worker): the providers hold
# every answer 3 s (a search waits for two: Yahoo's search, then its spark),
# one search starts and is seen held at fakemarket (both providers' search
# requests arrived), then the second, then six more one after another, each
# answered at once by a free worker; both first searches must still run.
curl -sf -X POST "$FAKE_URL/_latency?ms=3000" >/dev/null
# fakemarket counts a request when it arrives, before holding it; the search
# requests have no endpoint of their own there: "(unknown)"
seen() { curl -sf "$FAKE_URL/_stats" | jq -e --arg p "$1" '.by_path[$p] // 0'; }
n0=$(seen "(unknown)")
check "fakemarket counts the requests (search requests so far: $n0)" test -n "$n0"
held() { local n; n=$(seen "(unknown)") && [ "$n" -ge $((n0 + $1)) ]; }
cpids=()
for i in 1 2; do
  curl -s -o "$TEST_LOG_DIR/concbody.$i" -w '%{http_code}' "$API_URL/api/fetcher/search?q=apple$i" >"$TEST_LOG_DIR/conc.$i" &
  cpids+=($!)
  check "search $i of 2 running (fakemarket holds its requests)" wait_for 10 held $((2 * i))
done
refused=()
for i in 3 4 5 6 7 8; do
  refused+=("$(curl -s -o "$TEST_LOG_DIR/concbody.$i" -w '%{http_code}' --max-time 10 "$API_URL/api/fetcher/search?q=apple$i")")
done
still=0
for p in "${cpids[@]}"; do kill -0 "$p" 2>/dev/null && still=$((still + 1)); done
wait "${cpids[@]}"
check_eq "6 more searches while 2 run: each refused at once with 503" "503 503 503 503 503 503" "${refused[*]}"
check_eq "…while both first searches were still running" 2 "$still"
check "…the refusal says the searches are busy" jq -e '.error | test("busy")' "$TEST_LOG_DIR/concbody.3"
check_eq "…and the 2 searches that ran answered" "200 200" "$(cat "$TEST_LOG_DIR/conc.1") $(cat "$TEST_LOG_DIR/conc.2")"
curl -sf -X POST "$FAKE_URL/_latency?ms=0" >/dev/null

# ---- track the chosen hit, untrack it ------------------------------------------------
call GET '/api/fetcher/search?q=apple&provider=yahoo'
hit=$(jq -c '.results[] | select(.symbol == "AAPL") | {symbol, name, type, currency, provider, provider_symbol, exchange}' "$B")
call POST /api/fetcher/assets "$hit"
check_eq "track the search hit → 201" 201 "$ST"
check_eq "the asset is what the search said" "AAPL|Apple Inc.|stock|USD|yahoo|NASDAQ" \
  "$(sql "SELECT symbol || '|' || name || '|' || asset_type || '|' || currency || '|' || provider || '|' || exchange FROM assets WHERE symbol = 'AAPL'")"
call GET '/api/fetcher/search?q=apple&provider=yahoo'
check_eq "the search now says tracked" true "$(jqb '.results[] | select(.symbol == "AAPL") | .tracked')"
bad "track: exchange of 41 characters" POST /api/fetcher/assets \
  "{\"symbol\":\"AAPU\",\"type\":\"etf\",\"exchange\":\"$(printf 'x%.0s' $(seq 41))\"}" exchange
bad "track: unknown provider" POST /api/fetcher/assets '{"symbol":"AAPU","type":"etf","provider":"bloomberg"}' provider
bad "track: bad symbol" POST /api/fetcher/assets '{"symbol":"AA PU","type":"etf"}' symbol
call POST /api/fetcher/assets '{"symbol":"MSFT","type":"stock","name":"Microsoft","exchange":"NASDAQ"}'
check_eq "track MSFT → 201" 201 "$ST"
call POST /api/fetcher/assets '{"symbol":"AAPU","type":"etf"}'
call DELETE /api/fetcher/assets/AAPU
check_eq "untrack → 204" 204 "$ST"
check_eq "untracked, the asset and history kept" "1|0" \
  "$(sql "SELECT count(*), (SELECT count(*) FROM tracked_assets t WHERE t.asset_id = a.id) FROM assets a WHERE symbol = 'AAPU' GROUP BY a.id")"
call GET '/api/fetcher/search?q=apple&provider=yahoo'
check_eq "the search says untracked again" false "$(jqb '.results[] | select(.symbol == "AAPU") | .tracked')"

# ---- portfolios -----------------------------------------------------------------
call POST /api/fetcher/portfolios '{"name":"Main"}'
check_eq "create → 201" 201 "$ST"
pid=$(jqb .id)
check_eq "…USD by default, no positions, no valuation yet" "Main USD 0 null" \
  "$(jqb '"\(.name) \(.currency) \(.positions | length) \(.valuation)"')"
check_eq "…as stored" "Main USD" "$(sql "SELECT name || ' ' || currency FROM portfolios WHERE id = $pid")"
call POST /api/fetcher/portfolios '{"name":"main"}'
check_eq "a name taken (any case) → 409 naming name" "409 name" "$ST $(jqb .parameter)"
bad "create: not JSON" POST /api/fetcher/portfolios '{"name":' body
bad "create: trailing garbage" POST /api/fetcher/portfolios '{"name":"X"}x' body
bad "create: an array" POST /api/fetcher/portfolios '["X"]' body
bad "create: unknown field" POST /api/fetcher/portfolios '{"name":"X","owner":"me"}' body
bad "create: no name" POST /api/fetcher/portfolios '{"currency":"EUR"}' name
bad "create: name empty" POST /api/fetcher/portfolios '{"name":""}' name
bad "create: name only spaces" POST /api/fetcher/portfolios '{"name":"   "}' name
bad "create: name a number" POST /api/fetcher/portfolios '{"name":5}' name
bad "create: name of 101 characters" POST /api/fetcher/portfolios "{\"name\":\"$(printf 'é%.0s' $(seq 101))\"}" name
bad "create: name with a control character" POST /api/fetcher/portfolios '{"name":"a\u0001b"}' name
bad "create: currency lower case" POST /api/fetcher/portfolios '{"name":"X","currency":"usd"}' currency
bad "create: currency a number" POST /api/fetcher/portfolios '{"name":"X","currency":840}' currency
bad "create: currency of 4 letters" POST /api/fetcher/portfolios '{"name":"X","currency":"USDT"}' currency
call POST /api/fetcher/portfolios "{\"name\":\"$(printf 'é%.0s' $(seq 100))\",\"currency\":\"EUR\"}"
check_eq "a name of 100 characters (200 bytes of UTF-8) → 201" 201 "$ST"
long_id=$(jqb .id)
check_eq "no row written by the refused creates" 2 "$(sql "SELECT count(*) FROM portfolios")"
call GET /api/fetcher/portfolios
check_eq "the list has both" 2 "$(jqb '.portfolios | length')"
call GET "/api/fetcher/portfolios/$pid"
check_eq "get one → 200" "200 Main" "$ST $(jqb .name)"
call GET /api/fetcher/portfolios/999999
check_eq "get unknown → 404 naming id" "404 id" "$ST $(jqb .parameter)"
bad "get id abc" GET /api/fetcher/portfolios/abc '' id
bad "get id 0" GET /api/fetcher/portfolios/0 '' id
bad "get id negative" GET /api/fetcher/portfolios/-1 '' id
bad "get id of 19 digits" GET /api/fetcher/portfolios/1234567890123456789 '' id
call PATCH "/api/fetcher/portfolios/$long_id" '{"name":"Savings"}'
check_eq "rename → 200" "200 Savings EUR" "$ST $(jqb '"\(.name) \(.currency)"')"
call PATCH "/api/fetcher/portfolios/$long_id" '{"name":"MAIN"}'
check_eq "rename to a name taken → 409" "409 name" "$ST $(jqb .parameter)"
call PATCH "/api/fetcher/portfolios/$long_id" '{"currency":"GBP"}'
check_eq "change the currency → 200" "200 GBP" "$ST $(jqb .currency)"
call PATCH /api/fetcher/portfolios/999999 '{"name":"Y"}'
check_eq "patch unknown → 404" 404 "$ST"
bad "patch: nothing to change" PATCH "/api/fetcher/portfolios/$long_id" '{}' body
bad "patch: unknown field" PATCH "/api/fetcher/portfolios/$long_id" '{"id":3}' body
bad "patch: name null" PATCH "/api/fetcher/portfolios/$long_id" '{"name":null}' name
bad "patch: currency bad" PATCH "/api/fetcher/portfolios/$long_id" '{"currency":"US"}' currency
bad "patch: id bad" PATCH /api/fetcher/portfolios/x '{"name":"Y"}' id

# ---- positions ------------------------------------------------------------------------
P=/api/fetcher/portfolios/$pid/positions
call POST "$P" '{"symbol":"AAPL","quantity":10,"average_buy_price":"150.25"}'
check_eq "add a position → 201" "201 AAPL 10 150.25 USD" \
  "$ST $(jqb '"\(.symbol) \(.quantity) \(.average_buy_price) \(.currency)"')"
call POST "$P" '{"symbol":"AAPL","quantity":1,"average_buy_price":1}'
check_eq "the same asset again → 409 naming symbol" "409 symbol" "$ST $(jqb .parameter)"
call POST /api/fetcher/portfolios/999999/positions '{"symbol":"AAPL","quantity":1,"average_buy_price":1}'
check_eq "add to an unknown portfolio → 404" 404 "$ST"
bad "add: an asset nobody tracked" POST "$P" '{"symbol":"NOPE","quantity":1,"average_buy_price":1}' symbol
bad "add: symbol with a space" POST "$P" '{"symbol":"A B","quantity":1,"average_buy_price":1}' symbol
bad "add: symbol of 33 characters" POST "$P" "{\"symbol\":\"$(printf 'A%.0s' $(seq 33))\",\"quantity\":1,\"average_buy_price\":1}" symbol
bad "add: no symbol" POST "$P" '{"quantity":1,"average_buy_price":1}' symbol
bad "add: symbol a number" POST "$P" '{"symbol":5,"quantity":1,"average_buy_price":1}' symbol
bad "add: no quantity" POST "$P" '{"symbol":"MSFT","average_buy_price":1}' quantity
bad "add: quantity negative" POST "$P" '{"symbol":"MSFT","quantity":-1,"average_buy_price":1}' quantity
bad "add: quantity with an exponent" POST "$P" '{"symbol":"MSFT","quantity":1e3,"average_buy_price":1}' quantity
bad "add: quantity of 11 decimals" POST "$P" '{"symbol":"MSFT","quantity":"0.00000000001","average_buy_price":1}' quantity
bad "add: quantity of 21 digits" POST "$P" '{"symbol":"MSFT","quantity":"123456789012345678901","average_buy_price":1}' quantity
bad "add: quantity a word" POST "$P" '{"symbol":"MSFT","quantity":"ten","average_buy_price":1}' quantity
bad "add: quantity true" POST "$P" '{"symbol":"MSFT","quantity":true,"average_buy_price":1}' quantity
bad "add: no average_buy_price" POST "$P" '{"symbol":"MSFT","quantity":1}' average_buy_price
bad "add: average_buy_price ','" POST "$P" '{"symbol":"MSFT","quantity":1,"average_buy_price":"1,5"}' average_buy_price
bad "add: average_buy_price null" POST "$P" '{"symbol":"MSFT","quantity":1,"average_buy_price":null}' average_buy_price
bad "add: currency lower case" POST "$P" '{"symbol":"MSFT","quantity":1,"average_buy_price":1,"currency":"eur"}' currency
bad "add: currency null" POST "$P" '{"symbol":"MSFT","quantity":1,"average_buy_price":1,"currency":null}' currency
bad "add: unknown field" POST "$P" '{"symbol":"MSFT","quantity":1,"average_buy_price":1,"fee":2}' body
bad "add: id bad" POST /api/fetcher/portfolios/zz/positions '{"symbol":"MSFT","quantity":1,"average_buy_price":1}' id
check_eq "no position written by the refused adds" 1 "$(sql "SELECT count(*) FROM portfolio_positions")"
call POST "$P" '{"symbol":"MSFT","quantity":"5","average_buy_price":"300.5","currency":"EUR"}'
check_eq "a position bought in another currency → 201" "201 EUR USD" "$ST $(jqb '"\(.currency) \(.asset_currency)"')"
call PATCH "$P/AAPL" '{"quantity":12.5}'
check_eq "change the quantity → 200" "200 12.5 150.25" "$ST $(jqb '"\(.quantity) \(.average_buy_price)"')"
call PATCH "$P/AAPL" '{"average_buy_price":140,"currency":"EUR"}'
check_eq "change the price and its currency → 200" "200 140 EUR" "$ST $(jqb '"\(.average_buy_price) \(.currency)"')"
call PATCH "$P/AAPL" '{"currency":null}'
check_eq "currency null: the asset's again" "200 USD" "$ST $(jqb .currency)"
check_eq "…stored as NULL" "t" "$(sql "SELECT pp.currency IS NULL FROM portfolio_positions pp JOIN assets a ON a.id = pp.asset_id WHERE a.symbol = 'AAPL'")"
call PATCH "$P/AAPU" '{"quantity":1}'
check_eq "change a position not held → 404 naming symbol" "404 symbol" "$ST $(jqb .parameter)"
call PATCH /api/fetcher/portfolios/999999/positions/AAPL '{"quantity":1}'
check_eq "change in an unknown portfolio → 404 naming id" "404 id" "$ST $(jqb .parameter)"
bad "change: nothing" PATCH "$P/AAPL" '{}' body
bad "change: the symbol in the body" PATCH "$P/AAPL" '{"symbol":"MSFT","quantity":1}' body
bad "change: quantity bad" PATCH "$P/AAPL" '{"quantity":"-2"}' quantity
bad "change: price bad" PATCH "$P/AAPL" '{"average_buy_price":"x"}' average_buy_price
bad "change: currency bad" PATCH "$P/AAPL" '{"currency":"E"}' currency
bad "change: symbol in the path bad" PATCH "$P/A%20B" '{"quantity":1}' symbol
call DELETE "$P/MSFT"
check_eq "remove a position → 204" 204 "$ST"
call DELETE "$P/MSFT"
check_eq "remove it again → 404" 404 "$ST"
bad "remove: symbol bad" DELETE "$P/A%20B" '' symbol
call GET "/api/fetcher/portfolios/$pid"
check_eq "the portfolio holds AAPL only" "AAPL" "$(jqb '[.positions[].symbol] | join(",")')"

# ---- the CSV import ---------------------------------------------------------------------
I=/api/fetcher/portfolios/$pid/import
csv=$'symbol,quantity,average_buy_price,currency\nAAPL,4,120.5,\nNOPE,1,1,\nMSFT,2.5,310,EUR\n'
body=$(jq -nc --arg c "$csv" '{csv: $c}')
before=$(sql "SELECT string_agg(asset_id || ':' || quantity || ':' || average_buy_price, ',' ORDER BY asset_id) FROM portfolio_positions WHERE portfolio_id = $pid")
call POST "$I" "$body"
check_eq "preview → 200, not committed" "200 false 0" "$ST $(jqb '"\(.committed) \(.imported)"')"
check_eq "preview: line by line" "2:AAPL:replace 3:NOPE:error 4:MSFT:add" \
  "$(jqb '[.lines[] | "\(.line):\(.symbol):\(.status)"] | join(" ")')"
check "preview: the bad line says why" bash -c "jq -e '.lines[1].error | test(\"not a known asset\")' '$B'"
check_eq "preview: counts" "2 1 1" "$(jqb '"\(.valid) \(.invalid) \(.replaces)"')"
check_eq "preview wrote nothing" "$before" \
  "$(sql "SELECT string_agg(asset_id || ':' || quantity || ':' || average_buy_price, ',' ORDER BY asset_id) FROM portfolio_positions WHERE portfolio_id = $pid")"
call POST "$I" "$(jq -nc --arg c "$csv" '{csv: $c, commit: true}')"
check_eq "commit with a bad line → 400 naming csv, with the report" "400 csv 1" "$ST $(jqb .parameter) $(jqb .invalid)"
check_eq "…and nothing written" "$before" \
  "$(sql "SELECT string_agg(asset_id || ':' || quantity || ':' || average_buy_price, ',' ORDER BY asset_id) FROM portfolio_positions WHERE portfolio_id = $pid")"
logs0=$(sql "SELECT count(*) FROM fetcher_logs WHERE context->>'action' = 'portfolio_import'")
call POST "$I" "$(jq -nc --arg c "$csv" '{csv: $c, commit: true, skip_invalid: true}')"
check_eq "commit skipping the bad line → 200, 2 imported" "200 true 2" "$ST $(jqb '"\(.committed) \(.imported)"')"
check_eq "the valid lines are the positions now (AAPL replaced)" "AAPL:4:120.5:-,MSFT:2.5:310:EUR" \
  "$(sql "SELECT string_agg(a.symbol || ':' || trim_scale(quantity) || ':' || trim_scale(average_buy_price) || ':' || coalesce(pp.currency, '-'), ',' ORDER BY a.symbol) FROM portfolio_positions pp JOIN assets a ON a.id = pp.asset_id WHERE portfolio_id = $pid")"
check_eq "…written in one transaction (one xmin) with one log row" "1 $((logs0 + 1))" \
  "$(sql "SELECT count(DISTINCT xmin::text) FROM portfolio_positions WHERE portfolio_id = $pid") $(sql "SELECT count(*) FROM fetcher_logs WHERE context->>'action' = 'portfolio_import'")"
call GET "/api/fetcher/portfolios/$pid"
check_eq "the portfolio says it changed after its last valuation (none yet)" "null" "$(jqb .valuation)"
q3=$'Symbol,Average_Buy_Price,QUANTITY\r\n"AAPL","1,5",2\r\n\r\nMSFT,10,1\r\n'
call POST "$I" "$(jq -nc --arg c "$q3" '{csv: $c}')"
check_eq "columns in any order and case, CRLF, quotes, blank lines (numbered as an editor does)" "2:AAPL:error 4:MSFT:replace" \
  "$(jqb '[.lines[] | "\(.line):\(.symbol):\(.status)"] | join(" ")')"
bad "import: not JSON" POST "$I" 'symbol,quantity' body
bad "import: unknown field" POST "$I" '{"csv":"symbol,quantity,average_buy_price\n","dry_run":true}' body
bad "import: no csv" POST "$I" '{"commit":false}' csv
bad "import: csv not a string" POST "$I" '{"csv":["AAPL"]}' csv
bad "import: commit not a boolean" POST "$I" '{"csv":"symbol,quantity,average_buy_price\n","commit":"yes"}' commit
bad "import: skip_invalid not a boolean" POST "$I" '{"csv":"symbol,quantity,average_buy_price\n","skip_invalid":1}' skip_invalid
bad "import: empty file" POST "$I" '{"csv":""}' csv
bad "import: header without quantity" POST "$I" '{"csv":"symbol,average_buy_price\nAAPL,1\n"}' csv
bad "import: unknown column" POST "$I" '{"csv":"symbol,quantity,average_buy_price,fee\nAAPL,1,1,0\n"}' csv
bad "import: a column twice" POST "$I" '{"csv":"symbol,quantity,quantity,average_buy_price\n"}' csv
bad "import: a NUL byte" POST "$I" '{"csv":"symbol,quantity,average_buy_price\nAAPL,1,1\u0000\n"}' csv
many=$(printf 'symbol,quantity,average_buy_price\n'; for i in $(seq 1001); do printf 'S%d,1,1\n' "$i"; done)
bad "import: 1001 lines" POST "$I" "$(jq -nc --arg c "$many" '{csv: $c}')" csv
bad "import: commit with nothing valid" POST "$I" '{"csv":"symbol,quantity,average_buy_price\nNOPE,1,1\n","commit":true,"skip_invalid":true}' csv
call POST /api/fetcher/portfolios/999999/import '{"csv":"symbol,quantity,average_buy_price\nAAPL,1,1\n"}'
check_eq "import into an unknown portfolio → 404" 404 "$ST"

# ---- the valuation after a cycle: value, return, the buy currency converted ---------
out=$("$BIN/fetcherd" --once 2>&1); rc=$?
check_eq "fetcherd --once with assets → 0" 0 "$rc"
call GET "/api/fetcher/portfolios/$pid"
check_eq "valued, not stale" "false 2 2" "$(jqb '.valuation | "\(.stale) \(.positions) \(.priced_positions)"')"
# by hand from the rows fetcherd wrote: Σ quantity × latest price (USD listings)
want_value=$(sql "SELECT trim_scale(sum(pp.quantity * (SELECT price FROM asset_prices ap WHERE ap.asset_id = pp.asset_id ORDER BY fetched_at DESC LIMIT 1))) FROM portfolio_positions pp WHERE portfolio_id = $pid")
# invested: AAPL in USD; MSFT bought in EUR, at the USD→EUR rate fetched
want_invested=$(sql "SELECT trim_scale(4 * 120.5 + 2.5 * 310 / (SELECT rate FROM exchange_rates WHERE base = 'USD' AND quote = 'EUR' ORDER BY rate_date DESC, fetched_at DESC LIMIT 1))")
check "the cycle fetched the EUR rate a position's buy currency needs" \
  bash -c "[ \$(psql '$DATABASE_URL' -Atc \"SELECT count(*) FROM exchange_rates WHERE base = 'USD' AND quote = 'EUR'\") -ge 1 ]"
check "total_value = Σ quantity × price ($want_value)" \
  jq -e --argjson w "$want_value" '((.valuation.total_value - $w) | fabs) < 0.0000001' "$B"
check "total_invested converts the EUR buy price ($want_invested)" \
  jq -e --argjson w "$want_invested" '((.valuation.total_invested - $w) | fabs) < 0.000001' "$B"
check "total_return = value − invested" \
  jq -e '((.valuation.total_return - (.valuation.total_value - .valuation.total_invested)) | fabs) < 0.000001' "$B"
check_eq "each position carries its price and value" "true" \
  "$(jqb '[.positions[] | .value != null and ((.value - .quantity * .price) | fabs) < 0.0001] | all')"
call PATCH "$P/MSFT" '{"quantity":3}'
call GET "/api/fetcher/portfolios/$pid"
check_eq "changed after the valuation → stale" true "$(jqb .valuation.stale)"
call DELETE "$P/AAPL"
call DELETE "$P/MSFT"
"$BIN/fetcherd" --once >/dev/null 2>&1
call GET "/api/fetcher/portfolios/$pid"
check_eq "no positions left: the recalculation drops the old valuation" null "$(jqb .valuation)"

# ---- deleting --------------------------------------------------------------------------
call DELETE "/api/fetcher/portfolios/$long_id"
check_eq "delete → 204" 204 "$ST"
call GET "/api/fetcher/portfolios/$long_id"
check_eq "then get → 404" 404 "$ST"
call DELETE "/api/fetcher/portfolios/$long_id"
check_eq "delete again → 404" 404 "$ST"
bad "delete: id bad" DELETE /api/fetcher/portfolios/1x '' id
call POST /api/fetcher/portfolios/1/nothing '{}'
check_eq "an unknown sub-path → 404" 404 "$ST"
call PUT "/api/fetcher/portfolios/$pid" '{"name":"Z"}'
check_eq "PUT on a portfolio → 405 with Allow" "405 GET, HEAD, PATCH, DELETE" "$ST $(grep -i '^allow:' "$H" | cut -d' ' -f2- | tr -d '\r')"
check_eq "every write was logged with the client" 0 \
  "$(sql "SELECT count(*) FROM fetcher_logs WHERE context->>'action' LIKE 'portfolio%' AND context->>'client' IS NULL")"

# ---- the demo data: into an empty database only ------------------------------------------
call POST /api/fetcher/demo
check_eq "demo into a database with assets → 409" 409 "$ST"
check_eq "…nothing loaded" 0 "$(sql "SELECT count(*) FROM assets WHERE symbol = 'GOOGL'")"
api1=$API_URL
new_db || not_ok "a second database"
check "second database migrated" migrate
start_api || not_ok "a second fetcher-api"
call POST /api/fetcher/demo
check_eq "demo into an empty database → 201" 201 "$ST"
check_eq "…its counts are the database's" \
  "$(sql "SELECT count(*) FROM assets") $(sql "SELECT count(*) FROM portfolios") $(sql "SELECT count(*) FROM tracked_assets")" \
  "$(jqb '"\(.assets) \(.portfolios) \(.tracked)"')"
check_cmp "…some assets, tracked" "$(sql "SELECT count(*) FROM tracked_assets")" -gt 0
call POST /api/fetcher/demo
check_eq "demo again → 409" 409 "$ST"
check_eq "the load was logged" 1 "$(sql "SELECT count(*) FROM fetcher_logs WHERE context->>'action' = 'demo_load'")"
FETCHER_API_TOKEN=sekrit start_api
: >"$B"
st=$(curl -s -o "$B" -w '%{http_code}' -X POST -H 'Content-Type: application/json' "$API_URL/api/fetcher/demo")
check_eq "demo without the token when one is set → 401" 401 "$st"
st=$(curl -s -o "$B" -w '%{http_code}' -X POST -H 'Content-Type: text/plain' "$API_URL/api/fetcher/portfolios")
check_eq "a write that is not JSON → 415 (cross-site rules apply)" 415 "$st"
API_URL=$api1

# ---- the contract: every answer above --------------------------------------------------------
call GET /api/fetcher/openapi.json
check "GET /api/fetcher/openapi.json is api/openapi.json, byte for byte" cmp -s "$B" "$TEST_ROOT/api/openapi.json"
openapi_check
