#!/usr/bin/env bash
# `fetcherd check`: one request per provider for a symbol it knows, one line
# each with what came back or exactly why not, exit 0 only when every
# provider gave a valid price. No database is needed (none is configured
# here), so a broken database cannot hide a broken provider.
. "$(dirname "$0")/../lib.sh"

REAL=$TEST_ROOT/tests/fixtures/real
start_fakemarket --fixtures "$REAL" || { not_ok "fakemarket starts"; exit 1; }
provider_env
export DATABASE_URL=postgresql://nobody@127.0.0.1:1/none
out=$TEST_LOG_DIR/check.out

chk() { "$BIN/fetcherd" check >"$out" 2>&1; }
line() { grep -E "^$1 " "$out"; }

chk; rc=$?
check_eq "every provider answers: exit 0" 0 "$rc"
for p in yahoo coingecko fx; do
  check "$p: an ok line with price, currency, time and latency ($(line $p))" \
    grep -qE "^$p +[A-Za-z]+ +ok +[0-9.]+ [A-Z]{3} at 20[0-9-]{8}T[0-9:.]+Z(, | \(bar start\), )[0-9]+ ms$" <<<"$(line $p)"
done
check_eq "one request per provider" 3 "$(curl -s "$FAKE_URL/_stats" | jq .requests_total)"

# A real answer, replayed: it prints the figure the recording states.
F=yahoo_spark_v7_MSFT_AAPL_meta_2026-07-27_TRIMMED.json
curl -sf -X POST "$FAKE_URL/_replay?path=/v7/finance/spark&file=$F" >/dev/null
chk
check "a recorded answer of July is refused as stale by default ($(line yahoo))" \
  grep -qE "^yahoo +AAPL +FAILED +HTTP 200: price is stale" <<<"$(line yahoo)"
PRICE_MAX_AGE=0 chk
m=".spark.result[] | select(.symbol == \"AAPL\") | .response[0].meta"
want="$(jq "$m.regularMarketPrice" "$REAL/$F") $(jq -r "$m.currency" "$REAL/$F") at $(date -u -d "@$(jq "$m.regularMarketTime" "$REAL/$F")" +%Y-%m-%dT%H:%M:%S.000Z)"
check "a recorded v7 answer: the market price and time it states ($want)" grep -qF "ok      $want" <<<"$(line yahoo)"
curl -sf -X POST "$FAKE_URL/_replay?path=/v7/finance/spark&file=yahoo_spark_v8_AAPL_VTI_via_yfapi.json" >/dev/null
chk; rc=$?
check_eq "a flat answer without currency: exit 1" 1 "$rc"
check "... saying so ($(line yahoo))" \
  grep -qE "^yahoo +AAPL +FAILED +HTTP 200: the answer carries no usable price for AAPL" <<<"$(line yahoo)"
curl -sf -X POST "$FAKE_URL/_replay?clear=1" >/dev/null

for f in "BLOCKPAGE|refused: answered an HTML page" "CRUMB401|refused: HTTP 401" \
         "ERR429NR|HTTP 429: rate limited"; do
  name=${f%%|*} want=${f#*|}
  curl -sf -X POST "$FAKE_URL/_mode?fault=$name" >/dev/null
  chk; rc=$?
  check_eq "$name: exit 1" 1 "$rc"
  check "$name: yahoo's line says why ($(line yahoo))" grep -qF "$want" <<<"$(line yahoo)"
done
curl -sf -X POST "$FAKE_URL/_mode?fault=none" >/dev/null

closed=$(free_port)
YAHOO_BASE_URL=http://127.0.0.1:$closed chk; rc=$?
check_eq "a closed port: exit 1" 1 "$rc"
check "a closed port: the connection is named ($(line yahoo))" \
  grep -qE "^yahoo +AAPL +FAILED +connection: cannot connect" <<<"$(line yahoo)"
check "... and the other providers still answer" grep -qE "^coingecko +bitcoin +ok" "$out"

exit 0
