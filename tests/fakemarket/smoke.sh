#!/bin/sh
# smoke.sh — checks a fakemarket binary end to end over real HTTP: every
# endpoint, every fault, the counters, latency without serialisation, and a
# clean exit on SIGTERM while requests hang, and replay of recordings with
# its refusals. Real bodies are compared byte for byte with the recordings
# in tests/fixtures/real/. Needs only sh, curl, grep and cmp.
#
#   tests/fakemarket/smoke.sh [build/fakemarket] [wrapper...]
#   tests/fakemarket/smoke.sh build/asan/fakemarket
#   tests/fakemarket/smoke.sh build/fakemarket valgrind -q --error-exitcode=9
#
# Ends with "N passed, N failed" and "RESULT passed failed 0" (the line
# tests/run.sh reads from integration suites); exit status 1 on a failure.
set -u
BIN=${1:-build/fakemarket}
[ $# -gt 0 ] && shift
WRAP="$*"
TMP=$(mktemp -d)
REAL=${FM_REAL_DIR:-$(cd "$(dirname "$0")/../fixtures/real" 2>/dev/null && pwd)}
PASS=0
FAIL=0
PID=

cleanup() {
    [ -n "$PID" ] && kill "$PID" 2>/dev/null
    rm -rf "$TMP"
}
trap cleanup EXIT

ok() { PASS=$((PASS + 1)); }
bad() { FAIL=$((FAIL + 1)); echo "FAIL: $*"; }

# start [args...]: runs the binary on a free port, sets PID and B.
start() {
    # exec: $! must be the server itself, not a shell that would swallow
    # or outlive the SIGTERM sent by stop().
    (exec $WRAP "$BIN" --port 0 "$@" >"$TMP/out" 2>"$TMP/err") &
    PID=$!
    i=0
    while ! grep -q '^fakemarket listening on ' "$TMP/out" 2>/dev/null; do
        i=$((i + 1))
        if [ $i -gt 200 ]; then
            echo "fakemarket did not start:"; cat "$TMP/err"; exit 1
        fi
        sleep 0.05
    done
    PORT=$(sed -n 's/^fakemarket listening on .*:\([0-9]*\)$/\1/p' "$TMP/out")
    B=http://127.0.0.1:$PORT
}

# stop: SIGTERM, expects exit 0 within 10 s (valgrind is slow).
stop() {
    kill -TERM "$PID"
    i=0
    while kill -0 "$PID" 2>/dev/null; do
        i=$((i + 1))
        if [ $i -gt 200 ]; then bad "no exit 10 s after SIGTERM"; kill -KILL "$PID"; break; fi
        sleep 0.05
    done
    wait "$PID"
    rc=$?
    PID=
    if [ $rc -eq 0 ]; then ok; else bad "exit status $rc after SIGTERM"; cat "$TMP/err"; fi
}

# check NAME STATUS PATH [PATTERN...]: GET, compare the status, grep the
# headers+body for each fixed-string pattern.
check() {
    name=$1 want=$2 path=$3
    shift 3
    got=$(curl -s -D "$TMP/h" -o "$TMP/b" -w '%{http_code}' --max-time 10 "$B$path")
    if [ "$got" != "$want" ]; then bad "$name: status $got, want $want"; return; fi
    for pat in "$@"; do
        if ! cat "$TMP/h" "$TMP/b" | grep -qF -- "$pat"; then
            bad "$name: no '$pat' in: $(head -c 300 "$TMP/b")"
            return
        fi
    done
    ok
}

post() { curl -s -X POST --max-time 5 "$B$1"; }

# same_body NAME RECORDING: the last body fetched by check() is the
# recording byte for byte (the recording's trailing newline aside).
same_body() {
    if [ -z "$REAL" ] || [ ! -f "$REAL/$2" ]; then bad "$1: recording $2 not found"; return; fi
    if printf '%s' "$(cat "$REAL/$2")" | cmp -s - "$TMP/b"; then ok; else
        bad "$1: body differs from $2: $(head -c 200 "$TMP/b")"
    fi
}

# ---- arguments -----------------------------------------------------------
for args in "" "--port" "--port x" "--port 70000" "--port 1 --latency-ms -1" \
    "--port 1 --bind nowhere" "--port 1 --bogus" "--port 1 extra" \
    "--port 1 --fixtures /nonexistent"; do
    # shellcheck disable=SC2086
    "$BIN" $args >/dev/null 2>"$TMP/argerr"
    rc=$?
    if [ $rc -eq 2 ] && [ "$(wc -l <"$TMP/argerr")" -eq 1 ]; then ok; else
        bad "args '$args': exit $rc, stderr: $(cat "$TMP/argerr")"
    fi
done

start

# ---- wire shapes ---------------------------------------------------------
check chart 200 '/v8/finance/chart/AAPL?interval=1d&range=1d' 'application/json' \
    '{"chart":{"result":[{"meta":{"currency":"USD","symbol":"AAPL","exchangeName":"NMS"' \
    '"instrumentType":"EQUITY"' '"regularMarketPrice":' '"chartPreviousClose":' \
    '"indicators":{"quote":[{"high":[' '"close":[null,' '"adjclose":[{"adjclose":[' \
    '"error":null}}' 'Content-Type: application/json;charset=utf-8'
check chart-de 200 /v8/finance/chart/SAP.DE '"currency":"EUR"' '"exchangeName":"GER"'
check chart-pa 200 /v8/finance/chart/AIR.PA '"currency":"EUR"' '"exchangeName":"PAR"'
check chart-as 200 /v8/finance/chart/ASML.AS '"currency":"EUR"' '"exchangeName":"AMS"'
check chart-mi 200 /v8/finance/chart/ENI.MI '"currency":"EUR"' '"exchangeName":"MIL"'
check chart-l 200 /v8/finance/chart/VOD.L '"currency":"GBp"' '"exchangeName":"LSE"'
check chart-jo 200 /v8/finance/chart/NPN.JO '"currency":"ZAc"'
check chart-ta 200 /v8/finance/chart/LUMI.TA '"currency":"ILA"'
check chart-usx 200 /v8/finance/chart/ZC=F '"currency":"USX"' '"instrumentType":"FUTURE"'
check chart-future 200 /v8/finance/chart/CL=F '"currency":"USD"' '"exchangeName":"NYM"'
check chart-pair 200 /v8/finance/chart/EURUSD=X '"currency":"USD"' '"instrumentType":"CURRENCY"' \
    '"regularMarketPrice":1.08696,'
check chart-5y 200 '/v8/finance/chart/MSFT?range=5y&interval=1d' '"range":"5y"'
n=$(tr ',' '\n' <"$TMP/b" | grep -c '^[0-9]\{10\}$')
[ "$n" -gt 1290 ] && ok || bad "chart-5y: $n timestamps"
check chart-period 200 '/v8/finance/chart/MSFT?period1=1612137600&period2=1643587200&interval=1d' \
    '"range":""' '"timestamp":[1612186200,'
check chart-badrange 400 '/v8/finance/chart/MSFT?range=7y' '"code":"Bad Request"'
check chart-escaped 200 '/v8/finance/chart/%5EGSPC' '"symbol":"^GSPC"'
check chart-nosuch 404 /v8/finance/chart/NOSUCHX \
    '{"chart":{"result":null,"error":{"code":"Not Found","description":"No data found, symbol may be delisted"}}}'
same_body chart-nosuch yahoo_chart_v8_404_unknown_symbol.json
check chart-missing 404 /v8/finance/chart/MISSING1 '"result":null'
check chart-none 404 /v8/finance/chart/ '"result":null'
check spark 200 '/v8/finance/spark?symbols=AAPL,MSFT,NOSUCH1,MISSING2&range=1d&interval=1d' \
    '{"AAPL":{"end":null,"start":null,"timestamp":[' '"MSFT":{"end":null' '"close":[null,' \
    '"previousClose":null,"chartPreviousClose":' '"symbol":"AAPL"' '"dataGranularity":300}'
if grep -q 'NOSUCH1\|MISSING2' "$TMP/b"; then bad "spark lists absent symbols"; else ok; fi
if grep -q '"currency"' "$TMP/b"; then bad "v8 spark has a currency (the real one has no meta)"; else ok; fi
check spark7 200 '/v7/finance/spark?symbols=AAPL,OCDO.L,NOSUCH1,MISSING2&range=1d&interval=1d' \
    '{"spark":{"result":[{"symbol":"AAPL","response":[{"meta":{"currency":"USD","symbol":"AAPL","exchangeName":"NMS","instrumentType":"EQUITY","firstTradeDate":' \
    '"currentTradingPeriod":{"pre":{"timezone":"EDT","start":' '"validRanges":["1d","5d",' \
    '"indicators":{"quote":[{"close":[null,' '{"symbol":"OCDO.L","response":[{"meta":{"currency":"GBp"' \
    '"error":null}}'
if grep -q 'NOSUCH1\|MISSING2' "$TMP/b"; then bad "spark7 lists absent symbols"; else ok; fi
check spark7-none 404 '/v7/finance/spark?symbols=NOSUCH1,MISSING2&range=1d&interval=1d' \
    '{"spark":{"result":null,"error":{"code":"Not Found","description":"No data found for spark symbols"}}}'
syms21=$(seq -s, -f 'S%g' 1 21)
syms20=$(seq -s, -f 'S%g' 1 20)
check spark7-21 400 "/v7/finance/spark?symbols=$syms21&range=1d&interval=1d" '"code":"Bad Request"'
check spark7-20 200 "/v7/finance/spark?symbols=$syms20&range=1d&interval=1d" '"symbol":"S20"'
check spark-21 400 "/v8/finance/spark?symbols=$syms21" '"code":"Bad Request"'
check spark7-nullclose 200 '/v7/finance/spark?symbols=NULLCLOSE1' '"close":[null,null]' \
    '"regularMarketPrice":'
if grep -q '"regularMarketPrice":null' "$TMP/b"; then bad "NULLCLOSE nulls the price"; else ok; fi
check spark-none 404 '/v8/finance/spark?symbols=NOSUCH1,MISSING2' \
    '{"spark":{"result":null,"error":{"code":"Not Found","description":"No data found for spark symbols"}}}'
check spark-noarg 400 '/v8/finance/spark' '"error"'
check cg 200 '/api/v3/simple/price?ids=bitcoin,ethereum,nosuch-coin&vs_currencies=usd,eur&include_last_updated_at=true' \
    '{"bitcoin":{"usd":' '"eur":' '"last_updated_at":' '"ethereum":{"usd":'
if grep -q nosuch "$TMP/b"; then bad "cg lists unknown id"; else ok; fi
check cg-nots 200 '/simple/price?ids=bitcoin&vs_currencies=usd' '{"bitcoin":{"usd":'
if grep -q last_updated_at "$TMP/b"; then bad "cg: last_updated_at not asked for"; else ok; fi
check cg-allunknown 200 '/api/v3/simple/price?ids=nosuch,missing&vs_currencies=usd' '{}'
check cg-noids 422 '/api/v3/simple/price?vs_currencies=usd' '{"error":"Missing parameter ids"}'
check cg-novs 422 '/api/v3/simple/price?ids=bitcoin' '{"error":"Missing parameter vs_currencies"}'
check fx 200 '/latest?from=USD&to=EUR,GBP' '{"amount":1.0,"base":"USD","date":"' \
    '"rates":{"EUR":0.92,"GBP":0.79}}'
check fx-v1-absent 200 '/v1/latest?from=USD&to=GBP,XXX,EUR' '"rates":{"EUR":0.92,"GBP":0.79}}'
check fx-v1-all 200 '/v1/latest?base=USD' '"rates":{"AUD":' '"BGN":' '"THB":' '"ZAR":'
check fx-none-known 404 '/v1/latest?from=USD&to=XXX,YYY' '{"message":"not found"}'
same_body fx-none-known frankfurter_v1_404_not_found.json
check fx-self 422 '/v1/latest?from=USD&to=USD' '{"message":"bad currency pair"}'
check fx-legacy 200 '/v1/latest?base=USD&symbols=JPY' '"base":"USD"' '"rates":{"JPY":151.5}}'
check fx-default 200 '/latest?from=USD' '"EUR":' '"GBP":' '"CHF":' '"JPY":' '"CAD":'
check fx-cross 200 '/latest?from=EUR&to=GBP' '"rates":{"GBP":0.858696}}'
check fx-unknown 404 '/latest?from=XXX' '{"message":"not found"}'
check unknown 404 /nowhere '{"error":"not found"}'
check head-ok 200 /v8/finance/chart/AAPL
got=$(curl -s -o /dev/null -w '%{http_code}' -X POST "$B/v8/finance/chart/AAPL")
[ "$got" = 405 ] && ok || bad "POST chart: $got, want 405"

# ---- request faults ------------------------------------------------------
check err500 500 /v8/finance/chart/ERR500 'text/html'
check err502 502 /v8/finance/chart/err502-x 'text/html'
check err503 503 '/v8/finance/spark?symbols=AAPL,ERR503' 'text/html'
check err429 429 '/api/v3/simple/price?ids=bitcoin,err429&vs_currencies=usd' 'Retry-After: 2' \
    'application/json'
same_body err429-cg coingecko_429_rate_limit.json
check err429-yahoo 429 /v8/finance/chart/ERR429 'Retry-After: 2' 'Too Many Requests'
check err429nr 429 /v8/finance/chart/ERR429NR 'text/plain'
if grep -qi retry-after "$TMP/h"; then bad "ERR429NR sent Retry-After"; else ok; fi
same_body err429nr yahoo_429_edge_too_many_requests.txt
check err429nr-spark7 429 '/v7/finance/spark?symbols=AAPL,ERR429NR' 'Edge: Too Many Requests'
check crumb401 401 '/v7/finance/spark?symbols=AAPL,CRUMB401' 'application/json'
same_body crumb401 yahoo_v7_quote_401_invalid_crumb.json
check blockpage 200 '/v7/finance/spark?symbols=AAPL,BLOCKPAGE' 'Content-Type: text/html;charset=UTF-8' \
    '<title>Yahoo is part of the Yahoo family of brands</title>' 'name="csrfToken"' 'name="agree"'
check err403 403 /v8/finance/chart/ERR403 'text/html' 'Forbidden'
check cgkey401 401 '/api/v3/simple/price?ids=cgkey401&vs_currencies=usd' \
    '{"status":{"timestamp":"' '"error_code":10002,"error_message":"API Key Missing.'
check badjson 200 /v8/finance/chart/BADJSON '{"chart": {"result": [<<garbage'
check wrongshape 200 /v8/finance/chart/WRONGSHAPE '{"data":[1,2,3]}'
check htmlct 200 /v8/finance/chart/HTMLCT 'Content-Type: text/html' '<html>'
check limit200 200 /v8/finance/chart/LIMIT200 'text/plain' \
    'Rate limit exceeded. Please try again later.'
check redirloop 302 '/v8/finance/chart/REDIRLOOP?x=1' \
    "Location: http://127.0.0.1:$PORT/v8/finance/chart/REDIRLOOP?x=1"
check redirftp 302 /v8/finance/chart/REDIRFTP 'Location: ftp://127.0.0.1/x'
check empty 200 /v8/finance/chart/EMPTY '{"chart":{"result":[],"error":null}}'
check empty-cg 200 '/api/v3/simple/price?ids=bitcoin,empty&vs_currencies=usd' '{}'
size=$(curl -s -o /dev/null -w '%{size_download}' "$B/v8/finance/chart/HUGE")
[ "$size" = 2097152 ] && ok || bad "HUGE size $size"
curl -s -o /dev/null "$B/v8/finance/chart/TRUNC"
rc=$?
[ $rc -eq 18 ] && ok || bad "TRUNC: curl exit $rc, want 18 (partial file)"
curl -s -o "$TMP/drip" --max-time 3 "$B/v8/finance/chart/SLOWDRIP"
rc=$?
n=$(wc -c <"$TMP/drip")
[ $rc -eq 28 ] && [ "$n" -ge 1 ] && [ "$n" -le 3 ] && ok || bad "SLOWDRIP: exit $rc, $n bytes in 3 s"
curl -s -o /dev/null --max-time 1 "$B/v8/finance/chart/HANG"
rc=$?
[ $rc -eq 28 ] && ok || bad "HANG: curl exit $rc, want 28 (timeout)"

# ---- content faults ------------------------------------------------------
check nullprice 200 /v8/finance/chart/NULLPRICE '"regularMarketPrice":null' '"close":[null,null]'
check nullclose 200 /v8/finance/chart/NULLCLOSE '"close":[null,null]'
if grep -q '"regularMarketPrice":null' "$TMP/b"; then bad "NULLCLOSE nulls the price"; else ok; fi
check negprice 200 /v8/finance/chart/NEGPRICE '"regularMarketPrice":-5.0'
check zeroprice 200 /v8/finance/chart/ZEROPRICE '"regularMarketPrice":0,'
check nanprice 200 /v8/finance/chart/NANPRICE '"regularMarketPrice":"NaN"'
check wrongccy 200 /v8/finance/chart/WRONGCCY '"currency":"JPY"'
check cg-content 200 \
    '/api/v3/simple/price?ids=bitcoin,nullprice,negprice,zeroprice,nanprice&vs_currencies=usd' \
    '"nullprice":{"usd":null}' '"negprice":{"usd":-5.0}' '"zeroprice":{"usd":0}' \
    '"nanprice":{"usd":"NaN"}'
check spark-content 200 '/v8/finance/spark?symbols=AAPL,NULLPRICE' '"NULLPRICE":{' \
    '"close":[null,null]'
now=$(date +%s)
curl -s "$B/v8/finance/chart/FUTURETS" >"$TMP/b"
ts=$(sed -n 's/.*"regularMarketTime":\([0-9]*\).*/\1/p' "$TMP/b")
[ $((ts - now)) -ge 86000 ] && ok || bad "FUTURETS: $ts vs now $now"
curl -s "$B/v8/finance/chart/OLDTS" >"$TMP/b"
ts=$(sed -n 's/.*"regularMarketTime":\([0-9]*\).*/\1/p' "$TMP/b")
[ $((now - ts)) -ge 2590000 ] && ok || bad "OLDTS: $ts vs now $now"
curl -s "$B/v8/finance/chart/AAPL" >"$TMP/b"
ts=$(sed -n 's/.*"regularMarketTime":\([0-9]*\).*/\1/p' "$TMP/b")
now=$(date +%s)
[ "$ts" -le "$now" ] && [ $((now - ts)) -le 5 ] && ok || bad "regularMarketTime $ts vs now $now"

# ---- global mode, latency, counters -------------------------------------
post '/_mode?fault=err503' >/dev/null
check mode-chart 503 /v8/finance/chart/AAPL
check mode-fx 503 /latest
check mode-stats 200 /_stats
check mode-get 200 /_mode '{"fault":"ERR503","latency_ms":0,"providers":{"yahoo":"none"'
post '/_mode?fault=nullprice' >/dev/null
check mode-content 200 '/latest?from=USD&to=EUR' '"rates":{"EUR":null}'
got=$(post '/_mode?fault=bogus')
echo "$got" | grep -q "unknown fault" && ok || bad "unknown fault answer: $got"
post '/_mode?fault=none' | grep -q '"fault":"none"' && ok || bad "fault=none"

# ---- the second sources, and one provider's fault ------------------------
check kraken 200 '/0/public/Ticker?pair=XBTUSD,ETHUSD' '{"error":[],"result":{"XXBTZUSD":{"a":["' \
    '"XETHZUSD":{"a":["'
check kraken-unknown 200 '/0/public/Ticker?pair=XBTUSD,NOSUCHUSD'
same_body kraken-unknown kraken_error_unknown_pair.json
check erapi 200 /v6/latest/USD '{"result":"success","provider":' '"base_code":"USD","rates":{"USD":1,' \
    '"TWD":32.092281'
check erapi-base 200 /v6/latest/EUR
same_body erapi-base erapi_error_unsupported_code.json
check twelvedata-nokey 401 '/quote?symbol=AAPL' '"code":401'
got=$(curl -s -H 'Authorization: apikey test' "$B/quote?symbol=AAPL,NOSUCH1")
echo "$got" | grep -qF '{"AAPL":{"symbol":"AAPL",' && echo "$got" | grep -qF '"NOSUCH1":{"code":404,' &&
    ok || bad "twelvedata batch: $got"
check coinbase 200 /v2/prices/BTC-USD/spot '{"data":{"amount":"' '"base":"BTC","currency":"USD"}}'
check coinbase-unknown 404 /v2/prices/NOSUCH-USD/spot
same_body coinbase-unknown coinbase_error_invalid_base_currency.json
check binance 200 '/api/v3/ticker/price?symbols=%5B%22BTCUSDT%22,%22BNBUSDT%22%5D' \
    '[{"symbol":"BTCUSDT","price":"' '},{"symbol":"BNBUSDT","price":"'
check binance-one 200 '/api/v3/ticker/price?symbol=BNBUSDT' '{"symbol":"BNBUSDT","price":"'
check binance-unknown 400 '/api/v3/ticker/price?symbols=%5B%22BTCUSDT%22,%22NOSUCHUSDT%22%5D'
same_body binance-unknown binance_error_invalid_symbol_400.json
post '/_mode?fault=err503&provider=binance' | grep -qF '"provider":"binance"' && ok || bad "binance fault"
check binance-down 503 '/api/v3/ticker/price?symbol=BNBUSDT'
check binance-down-others 200 /v2/prices/BTC-USD/spot '{"data":{"amount":"'
post '/_mode?fault=none&provider=binance' >/dev/null
post '/_mode?fault=err503&provider=yahoo' | grep -qF '"provider":"yahoo"' && ok || bad "provider fault"
check provider-mode-yahoo 503 '/v7/finance/spark?symbols=AAPL'
check provider-mode-chart 503 /v8/finance/chart/AAPL
check provider-mode-others 200 '/simple/price?ids=bitcoin&vs_currencies=usd' '"bitcoin"'
check provider-mode-get 200 /_mode '"fault":"none"' '"yahoo":"ERR503","coingecko":"none"'
post '/_mode?fault=blockpage&provider=frankfurter' >/dev/null
check provider-mode-fx 200 /latest '<!DOCTYPE html>'
check provider-mode-erapi 200 /v6/latest/USD '"result":"success"'
got=$(post '/_mode?fault=err503&provider=stooq')
echo "$got" | grep -q "unknown provider" && ok || bad "unknown provider answer: $got"
post '/_mode?fault=none&provider=yahoo' >/dev/null
post '/_mode?fault=none&provider=fx' >/dev/null
check provider-mode-cleared 200 '/v7/finance/spark?symbols=AAPL' '"symbol":"AAPL"'

post /_reset | grep -qF '{"ok":true}' && ok || bad "_reset"
curl -s "$B/v8/finance/chart/AAPL" >/dev/null
curl -s "$B/v8/finance/spark?symbols=AAPL,MSFT,MSFT,ERR500" >/dev/null
curl -s -H 'x-cg-demo-api-key: k' "$B/simple/price?ids=bitcoin&vs_currencies=usd" >/dev/null
curl -s "$B/v1/latest?from=USD&to=EUR" >/dev/null
curl -s "$B/_mode" >/dev/null
check stats 200 /_stats '"requests_total":4' '"/v8/finance/chart":1' '"/v8/finance/spark":1' \
    '"/api/v3/simple/price":1' '"/latest":1' '"AAPL":2' '"MSFT":1' '"ERR500":1' \
    '"bitcoin":1' '"EUR":1' '"api_key_requests":1}'
curl -s "$B/0/public/Ticker?pair=XBTUSD" >/dev/null
curl -s "$B/v6/latest/USD" >/dev/null
curl -s -H 'Authorization: apikey t' "$B/quote?symbol=MSFT" >/dev/null
curl -s "$B/v2/prices/ETH-USD/spot" >/dev/null
check stats-second 200 /_stats '"requests_total":8' '"/0/public/Ticker":1' '"/v6/latest":1' \
    '"/quote":1' '"/v2/prices/spot":1' '"XBTUSD":1' '"ETH-USD":1' '"MSFT":2'

post '/_latency?ms=200' | grep -qF '"latency_ms":200' && ok || bad "_latency"
t0=$(date +%s%N)
pids=
for i in 1 2 3 4 5 6 7 8 9 10; do
    curl -s -o /dev/null "$B/v8/finance/chart/L$i" &
    pids="$pids $!"
done
# shellcheck disable=SC2086
wait $pids
ms=$((($(date +%s%N) - t0) / 1000000))
# Ten 200 ms requests at once: about 200 ms if parallel, 2 s if serialised.
[ $ms -ge 200 ] && [ $ms -lt 1500 ] && ok || bad "10 parallel requests at 200 ms latency took $ms ms"
post '/_latency?ms=0' >/dev/null

# ---- replay without --fixtures ------------------------------------------
got=$(curl -s -o "$TMP/b" -w '%{http_code}' -X POST "$B/_replay?path=/v1/latest&file=a.json")
if [ "$got" = 400 ] && grep -qF '{"error":"fakemarket was started without --fixtures"}' "$TMP/b"; then
    ok
else bad "replay without --fixtures: $got $(cat "$TMP/b")"; fi
check replay-list-none 200 /_replay '{"fixtures":null,"replays":[]}'

# SIGTERM while requests hang and drip: must not wait for them.
curl -s -o /dev/null --max-time 30 "$B/v8/finance/chart/HANG1" &
c1=$!
curl -s -o /dev/null --max-time 30 "$B/v8/finance/chart/SLOWDRIP1" &
c2=$!
sleep 0.5
t0=$(date +%s%N)
stop
ms=$((($(date +%s%N) - t0) / 1000000))
[ $ms -lt 5000 ] && ok || bad "SIGTERM with hanging requests took $ms ms"
wait $c1 $c2

# ---- replay ---------------------------------------------------------------
# A fixtures directory of real recordings plus files made here (a file
# over 4 MiB, a hidden one), served back over HTTP byte for byte.
FX=$TMP/fixtures
mkdir -p "$FX"
for f in yahoo_spark_v7_TSLA.json yahoo_chart_v8_OCDO.L_GBp.json yahoo_429_edge_too_many_requests.txt \
    frankfurter_v1_latest_base_USD.json coingecko_simple_price_docs_example.json; do
    if [ -f "$REAL/$f" ]; then cp "$REAL/$f" "$FX/"; else bad "recording $f not found"; fi
done
printf '<html><body>blocked</body></html>' >"$FX/page.html"
printf '{}' >"$FX/.hidden.json"
head -c $((4 * 1024 * 1024 + 1)) /dev/zero >"$FX/big.json"
mkdir "$FX/sub.json"
start --fixtures "$FX"

# rp NAME WANT_STATUS QUERY [PATTERN...]: POST /_replay?QUERY
rp() {
    name=$1 want=$2 q=$3
    shift 3
    got=$(curl -s -o "$TMP/b" -w '%{http_code}' -X POST --max-time 5 "$B/_replay?$q")
    if [ "$got" != "$want" ]; then bad "$name: status $got, want $want: $(cat "$TMP/b")"; return; fi
    for pat in "$@"; do
        if ! grep -qF -- "$pat" "$TMP/b"; then bad "$name: no '$pat' in $(cat "$TMP/b")"; return; fi
    done
    ok
}
rp replay-set 200 'path=/v7/finance/spark&file=yahoo_spark_v7_TSLA.json' \
    '{"ok":true,"path":"/v7/finance/spark","file":"yahoo_spark_v7_TSLA.json","status":200,"bytes":'
rp replay-set-chart 200 'path=/v8/finance/chart/OCDO.L&file=yahoo_chart_v8_OCDO.L_GBp.json'
rp replay-set-429 200 'path=/v8/finance/chart/AAPL&file=yahoo_429_edge_too_many_requests.txt&status=429' \
    '"status":429' '"content_type":"text/plain;charset=utf-8"'
rp replay-set-fx 200 'path=/v1/latest&file=frankfurter_v1_latest_base_USD.json'
rp replay-set-cg 200 'path=/api/v3/simple/price&file=coingecko_simple_price_docs_example.json'
rp replay-set-html 200 'path=/v1/finance/search&file=page.html&status=503'
rp replay-nopath 400 'file=yahoo_spark_v7_TSLA.json' '"error":"path:'
rp replay-badpath 400 'path=v7/finance/spark&file=yahoo_spark_v7_TSLA.json' '"error":"path:'
rp replay-ctlpath 400 'path=/_stats&file=yahoo_spark_v7_TSLA.json' '"error":"path:'
rp replay-nofile 400 'path=/x' '"error":"file:'
rp replay-slash 400 'path=/x&file=../fixtures/page.html' '"error":"file:'
rp replay-dotdot 400 'path=/x&file=..' '"error":"file:'
rp replay-hidden 400 'path=/x&file=.hidden.json' '"error":"file:'
rp replay-missing 400 'path=/x&file=nope.json' '"error":"file:'
rp replay-dir 400 'path=/x&file=sub.json' '"error":"file:'
rp replay-big 400 'path=/x&file=big.json' '"error":"file:' '4 MiB'
rp replay-status 400 'path=/x&file=page.html&status=600' '"error":"status:'
rp replay-status2 400 'path=/x&file=page.html&status=abc' '"error":"status:'
rp replay-clear-bad 400 'clear=2' '"error":"clear:'

# bodies are the files, verbatim; faults and queries do not matter
check replay-spark7 200 '/v7/finance/spark?symbols=TSLA,ERR500&range=1d&interval=1d' \
    'Content-Type: application/json;charset=utf-8'
cmp -s "$FX/yahoo_spark_v7_TSLA.json" "$TMP/b" && ok || bad "replayed v7 spark differs from the file"
check replay-chart 200 /v8/finance/chart/OCDO.L
cmp -s "$FX/yahoo_chart_v8_OCDO.L_GBp.json" "$TMP/b" && ok || bad "replayed chart differs"
check replay-429 429 '/v8/finance/chart/AAPL?range=1d' 'Content-Type: text/plain;charset=utf-8'
cmp -s "$FX/yahoo_429_edge_too_many_requests.txt" "$TMP/b" && ok || bad "replayed 429 differs"
check replay-fx 200 '/v1/latest?from=USD&to=EUR'
cmp -s "$FX/frankfurter_v1_latest_base_USD.json" "$TMP/b" && ok || bad "replayed fx differs"
check replay-cg 200 '/api/v3/simple/price?ids=bitcoin&vs_currencies=usd'
cmp -s "$FX/coingecko_simple_price_docs_example.json" "$TMP/b" && ok || bad "replayed cg differs"
check replay-unserved 503 '/v1/finance/search?q=AAPL' 'Content-Type: text/html;charset=utf-8' \
    'blocked'
# other paths keep fakemarket's own answers (exact path only)
check replay-other 200 /v8/finance/chart/MSFT '"symbol":"MSFT"'
check replay-latest 200 '/latest?from=USD&to=EUR' '"rates":{"EUR":0.92}}'
check replay-list 200 /_replay '"fixtures":"' '"path":"/v7/finance/spark","file":"yahoo_spark_v7_TSLA.json"' \
    '"path":"/v1/finance/search","file":"page.html","status":503'
# counted as usual
check replay-stats 200 /_stats '"/v7/finance/spark":1' '"TSLA":1' '"ERR500":1' '"OCDO.L":1' \
    '"(unknown)":1' '"bitcoin":1'
# global latency applies
post '/_latency?ms=300' >/dev/null
t0=$(date +%s%N)
curl -s -o /dev/null "$B/v8/finance/chart/OCDO.L"
ms=$((($(date +%s%N) - t0) / 1000000))
[ $ms -ge 300 ] && ok || bad "replay ignored the latency ($ms ms)"
post '/_latency?ms=0' >/dev/null
# a replay is read at POST time: changing the file changes nothing
printf 'changed' >"$FX/page.html"
check replay-readonce 503 /v1/finance/search 'blocked'
rp replay-clear 200 'clear=1' '{"ok":true,"cleared":6}'
check replay-cleared 200 '/v7/finance/spark?symbols=AAPL' '"symbol":"AAPL"'
check replay-cleared-unknown 404 /v1/finance/search '{"error":"not found"}'
stop

if [ -s "$TMP/err" ]; then
    if grep -q 'ERROR: AddressSanitizer\|runtime error\|LeakSanitizer\|ERROR SUMMARY: [1-9]' "$TMP/err"; then
        bad "sanitizer/valgrind report:"; cat "$TMP/err"
    fi
fi
echo "$PASS passed, $FAIL failed"
# The line tests/run.sh reads from integration suites, should one wrap this.
echo "RESULT $PASS $FAIL 0"
[ $FAIL -eq 0 ]
