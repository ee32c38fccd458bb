#!/bin/sh
# smoke.sh — checks a fakemarket binary end to end over real HTTP: every
# endpoint, every fault, the counters, latency without serialisation, and a
# clean exit on SIGTERM while requests hang. Needs only sh, curl and grep.
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

# ---- arguments -----------------------------------------------------------
for args in "" "--port" "--port x" "--port 70000" "--port 1 --latency-ms -1" \
    "--port 1 --bind nowhere" "--port 1 --bogus" "--port 1 extra"; do
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
    '"previousClose":' '"indicators":{"quote":[{"close":[' '"error":null}}'
check chart-de 200 /v8/finance/chart/SAP.DE '"currency":"EUR"' '"exchangeName":"GER"'
check chart-pa 200 /v8/finance/chart/AIR.PA '"currency":"EUR"' '"exchangeName":"PAR"'
check chart-as 200 /v8/finance/chart/ASML.AS '"currency":"EUR"' '"exchangeName":"AMS"'
check chart-mi 200 /v8/finance/chart/ENI.MI '"currency":"EUR"' '"exchangeName":"MIL"'
check chart-l 200 /v8/finance/chart/VOD.L '"currency":"GBP"' '"exchangeName":"LSE"'
check chart-escaped 200 '/v8/finance/chart/%5EGSPC' '"symbol":"^GSPC"'
check chart-nosuch 404 /v8/finance/chart/NOSUCHX \
    '{"chart":{"result":null,"error":{"code":"Not Found","description":"No data found, symbol may be delisted"}}}'
check chart-missing 404 /v8/finance/chart/MISSING1 '"result":null'
check chart-none 404 /v8/finance/chart/ '"result":null'
check spark 200 '/v8/finance/spark?symbols=AAPL,MSFT,NOSUCH1,MISSING2&range=1d&interval=1d' \
    '{"AAPL":{"symbol":"AAPL","timestamp":[' '"MSFT":{"symbol":"MSFT"' '"close":[' \
    '"chartPreviousClose":' '"dataGranularity":300'
if grep -q 'NOSUCH1\|MISSING2' "$TMP/b"; then bad "spark lists absent symbols"; else ok; fi
check spark-none 404 '/v8/finance/spark?symbols=NOSUCH1,MISSING2' \
    '{"spark":{"result":null,"error":{"code":"Not Found","description":"No data found for spark symbols"}}}'
check spark-noarg 400 '/v8/finance/spark' '"error"'
check cg 200 '/api/v3/simple/price?ids=bitcoin,ethereum,nosuch-coin&vs_currencies=usd,eur&include_last_updated_at=true' \
    '{"bitcoin":{"usd":' '"eur":' '"last_updated_at":' '"ethereum":{"usd":'
if grep -q nosuch "$TMP/b"; then bad "cg lists unknown id"; else ok; fi
check cg-nots 200 '/simple/price?ids=bitcoin&vs_currencies=usd' '{"bitcoin":{"usd":'
if grep -q last_updated_at "$TMP/b"; then bad "cg: last_updated_at not asked for"; else ok; fi
check cg-allunknown 200 '/api/v3/simple/price?ids=nosuch,missing&vs_currencies=usd' '{}'
check cg-noids 400 '/api/v3/simple/price?vs_currencies=usd' 'Missing parameter ids'
check fx 200 '/latest?from=USD&to=EUR,GBP' '{"amount":1.0,"base":"USD","date":"' \
    '"rates":{"EUR":0.92,"GBP":0.79}}'
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
    'Too Many Requests'
check err429nr 429 /v8/finance/chart/ERR429NR 'Too Many Requests'
if grep -qi retry-after "$TMP/h"; then bad "ERR429NR sent Retry-After"; else ok; fi
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
check nullprice 200 /v8/finance/chart/NULLPRICE '"regularMarketPrice":null' '"close":[null]'
check negprice 200 /v8/finance/chart/NEGPRICE '"regularMarketPrice":-5.0'
check zeroprice 200 /v8/finance/chart/ZEROPRICE '"regularMarketPrice":0,'
check nanprice 200 /v8/finance/chart/NANPRICE '"regularMarketPrice":"NaN"'
check wrongccy 200 /v8/finance/chart/WRONGCCY '"currency":"JPY"'
check cg-content 200 \
    '/api/v3/simple/price?ids=bitcoin,nullprice,negprice,zeroprice,nanprice&vs_currencies=usd' \
    '"nullprice":{"usd":null}' '"negprice":{"usd":-5.0}' '"zeroprice":{"usd":0}' \
    '"nanprice":{"usd":"NaN"}'
check spark-content 200 '/v8/finance/spark?symbols=AAPL,NULLPRICE' '"NULLPRICE":{' \
    '"close":[null]'
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
check mode-get 200 /_mode '{"fault":"ERR503","latency_ms":0}'
post '/_mode?fault=nullprice' >/dev/null
check mode-content 200 '/latest?from=USD&to=EUR' '"rates":{"EUR":null}'
got=$(post '/_mode?fault=bogus')
echo "$got" | grep -q "unknown fault" && ok || bad "unknown fault answer: $got"
post '/_mode?fault=none' | grep -q '"fault":"none"' && ok || bad "fault=none"

post /_reset | grep -qF '{"ok":true}' && ok || bad "_reset"
curl -s "$B/v8/finance/chart/AAPL" >/dev/null
curl -s "$B/v8/finance/spark?symbols=AAPL,MSFT,MSFT,ERR500" >/dev/null
curl -s -H 'x-cg-demo-api-key: k' "$B/simple/price?ids=bitcoin&vs_currencies=usd" >/dev/null
curl -s "$B/v1/latest?from=USD&to=EUR" >/dev/null
curl -s "$B/_mode" >/dev/null
check stats 200 /_stats '"requests_total":4' '"/v8/finance/chart":1' '"/v8/finance/spark":1' \
    '"/api/v3/simple/price":1' '"/latest":1' '"AAPL":2' '"MSFT":1' '"ERR500":1' \
    '"bitcoin":1' '"EUR":1' '"api_key_requests":1}'

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

if [ -s "$TMP/err" ]; then
    if grep -q 'ERROR: AddressSanitizer\|runtime error\|LeakSanitizer\|ERROR SUMMARY: [1-9]' "$TMP/err"; then
        bad "sanitizer/valgrind report:"; cat "$TMP/err"
    fi
fi
echo "$PASS passed, $FAIL failed"
# The line tests/run.sh reads from integration suites, should one wrap this.
echo "RESULT $PASS $FAIL 0"
[ $FAIL -eq 0 ]
