#!/usr/bin/env bash
# Faults from untrusted upstreams, one symbol each: fakemarket misbehaves
# for a symbol whose name starts with a fault's name (tests/fakemarket/
# faults.h). For every fault the symbol's price_update_log row is failed
# with a reason a person understands.
#
# Phase A:  content faults spoil one entry of a batch answer; every other
#           asset of the cycle succeeds, batch-mates included.
# Phase A2: request faults spoil the whole answer. A refusal (401/403, an
#           HTML, empty or non-JSON 200) fails the batch with the reason and
#           costs no request per symbol; an answer of an unknown shape, too
#           large or badly redirected sends each symbol to the chart alone.
# Phase B:  transient request faults (5xx, 429 with Retry-After, no answer,
#           slow drip, truncated body), retried 3 times by the queue;
#           COINGECKO_BATCH=1 gives each coin its own request.
# Phase C:  a global fault on the FX endpoint.
# Phase D:  COINGECKO_API_KEY never shows up in rows or output.
. "$(dirname "$0")/../lib.sh"
normal_pass_only "each provider fault one at a time; the same faults, mixed, run under ASan in reliability_faults_upstream, and the parsers' refusals in unit/test_upstream"
# One source per class: this test is about how each first source's wire
# reads and fails; what the next source does then is failover.sh's.
export FETCH_SOURCES="stock=yahoo;crypto=coingecko;fx=fx"

export FETCH_TIMEOUT=3s
start_fakemarket || { not_ok "fakemarket starts"; exit 1; }
provider_env

# once NAME — one cycle with fetcherd --once; output kept in NAME.out.
once() {
  "$BIN/fetcherd" --once >"$TEST_LOG_DIR/$1.out" 2>&1
  local rc=$?
  cat "$TEST_LOG_DIR/$1.out" >>"$TEST_LOG_DIR/fetcherd.log"
  return $rc
}

# track PROVIDER CURRENCY SYMBOL… — assets tracked under their own names.
track() {
  local prov=$1 ccy=$2 s; shift 2
  for s in "$@"; do
    sql "INSERT INTO assets (symbol, name, asset_type, currency, provider, provider_symbol)
         VALUES ('$s', 'Test $s', '$([ "$prov" = yahoo ] && echo stock || echo crypto)', '$ccy', '$prov', '$s');
         INSERT INTO tracked_assets (asset_id) SELECT id FROM assets WHERE symbol = '$s';" || return 1
  done
}

last_cycle() { sql "SELECT max(id) FROM fetcher_cycles"; }
row_error() { sql "SELECT coalesce(error, '(success)') FROM price_update_log WHERE cycle_id = $1 AND symbol = '$2'"; }

# expect CYCLE SYMBOL PATTERN — the symbol's row failed, its error matching
# PATTERN (grep -E, case-insensitive).
expect() {
  local err; err=$(row_error "$1" "$2")
  if [ "$(sql "SELECT success FROM price_update_log WHERE cycle_id = $1 AND symbol = '$2'")" = f ] &&
     grep -qiE -- "$3" <<<"$err"; then
    ok "$2: failed row says \"$err\""
  else
    not_ok "$2: failed row matching /$3/" "got \"$err\""
  fi
}

# ---- Phase A ---------------------------------------------------------------
new_db || exit 1
migrate || { not_ok "migrate"; exit 1; }
# Content faults spoil one entry of a batch answer: batch 1 (20 stocks, in id
# order) holds good stocks and every yahoo content fault; a symbol the spark
# answer lacks or cannot price goes back to the queue as one chart request.
GOOD_Y="AAPL MSFT GOOGL AMZN NVDA META TSLA JPM PG XOM"
GOOD_C="bitcoin ethereum solana"
track yahoo USD AAPL MSFT GOOGL AMZN NVDA META TSLA JPM
track yahoo EUR SAP.DE
track yahoo USD WRONGCCY1 NULLPRICE1 NEGPRICE1 ZEROPRICE1 NANPRICE1 FUTURETS1 OLDTS1 MISSING1 \
  NOSUCH1 PG XOM
track coingecko USD $GOOD_C nullprice-coin negprice-coin zeroprice-coin nanprice-coin \
  futurets-coin oldts-coin wrongccy-coin missing-coin nosuch-coin
curl -s -X POST "$FAKE_URL/_reset" >/dev/null
t0=$(date +%s)
once a; rc=$?
check_eq "phase A: the cycle ends (partial is a success for --once)" 0 "$rc"
c=$(last_cycle)
check_eq "phase A: the cycle is partial" partial "$(sql "SELECT status FROM fetcher_cycles WHERE id = $c")"

expect "$c" NULLPRICE1 'yahoo: chart answer has no price'
expect "$c" NEGPRICE1 'price -5 is not positive'
expect "$c" ZEROPRICE1 'price 0 is not positive'
expect "$c" NANPRICE1 'yahoo: price is not a number: "NaN"'
expect "$c" FUTURETS1 'price time is 86[0-9]{3} s \(2[34]\.[0-9] h\) in the future, more than 300 s of clock skew'
expect "$c" OLDTS1 'price is stale: 720 h old, the limit is 168 h'
expect "$c" MISSING1 'yahoo: HTTP 404: No data found, symbol may be delisted'
expect "$c" NOSUCH1 'yahoo: HTTP 404: No data found, symbol may be delisted'
expect "$c" WRONGCCY1 'currency mismatch: answer in JPY, asset is priced in USD'
expect "$c" nullprice-coin 'coingecko: price is missing or null'
expect "$c" negprice-coin 'price -5 is not positive'
expect "$c" zeroprice-coin 'price 0 is not positive'
expect "$c" nanprice-coin 'coingecko: price is not a number: "NaN"'
expect "$c" futurets-coin 'in the future'
expect "$c" oldts-coin 'price is stale'
expect "$c" wrongccy-coin 'coingecko: no USD price in the answer \(only jpy\)'
expect "$c" missing-coin "coingecko: symbol missing-coin missing from the answer"
expect "$c" nosuch-coin "coingecko: symbol nosuch-coin missing from the answer"
ngood=$(( $(wc -w <<<"$GOOD_Y $GOOD_C") + 1 ))
check_eq "phase A: every other asset succeeded ($ngood), batch-mates included" "$ngood" \
  "$(sql "SELECT count(*) FROM price_update_log WHERE cycle_id = $c AND success")"
stats=$(curl -s "$FAKE_URL/_stats")
check_eq "phase A: 1 spark request; one chart request each for NULLPRICE1, MISSING1, NOSUCH1" \
  "1 3" "$(jq -r '"\(.by_path["/v7/finance/spark"]) \(.by_path["/v8/finance/chart"])"' <<<"$stats")"
echo "# phase A: $(( $(date +%s) - t0 )) s, fakemarket: $(jq -c '{requests_total, by_path}' <<<"$stats")"

# ---- Phase A2: request faults, each in a batch with two good stocks --------
# A refusal (401/403, an HTML, empty or non-JSON 200) is the provider's, not
# a symbol's: the whole batch fails with the reason and nothing is asked per
# symbol. A JSON answer of an unknown shape, or one too large or badly
# redirected, may be one symbol's doing: each symbol is asked of the chart
# alone (through the queue), so its batch-mates succeed.
for f in "BADJSON1|refused|answer is not valid JSON" "EMPTY1|split|symbol EMPTY1 missing from the answer" \
         "HTMLCT1|refused|answered an HTML page" "LIMIT200X|refused|answered text, not JSON: .Rate limit exceeded" \
         "BLOCKPAGE1|refused|answered an HTML page, not data \(a consent or block page\?\)" \
         "CRUMB401|refused|HTTP 401: refused" "ERR403X|refused|HTTP 403: refused" \
         "WRONGSHAPE1|split|yahoo: answer has no .chart. object \(unexpected shape\)" \
         "HUGE1|split|yahoo: answer too large \(over 1048576 bytes\)" \
         "REDIRLOOP1|split|yahoo: too many redirects \(more than 3\)" \
         "REDIRFTP1|split|yahoo: redirect to a protocol other than http/https"; do
  IFS='|' read -r sym kind want <<<"$f"
  new_db || exit 1
  migrate || { not_ok "migrate"; exit 1; }
  track yahoo USD V "$sym" KO
  curl -s -X POST "$FAKE_URL/_reset" >/dev/null
  once "a2_$sym"
  c=$(last_cycle)
  expect "$c" "$sym" "$want"
  stats=$(curl -s "$FAKE_URL/_stats")
  spark=$(jq '.by_path["/v7/finance/spark"]' <<<"$stats") chart=$(jq '.by_path["/v8/finance/chart"]' <<<"$stats")
  if [ "$kind" = refused ]; then
    check_eq "$sym: a refusal fails its batch-mates too, with the same reason" 0 \
      "$(sql "SELECT count(*) FROM price_update_log WHERE cycle_id = $c AND (success OR error !~* '$want')")"
    check_eq "$sym: one spark request, none per symbol" "1 0" "$spark $chart"
  else
    check_eq "$sym: its batch-mates succeed through the chart" 2 \
      "$(sql "SELECT count(*) FROM price_update_log WHERE cycle_id = $c AND success")"
    # (fakemarket counts each of REDIRLOOP1's 3 followed redirects as a request)
    check_cmp "$sym: one spark request, then one chart request per symbol ($spark, $chart)" \
      "$spark" -ge 1
    check_cmp "$sym: ... at least 3 chart requests" "$chart" -ge 3
  fi
done

# Memory stays bounded: the last phase's assets, a cycle a second, for a while.
# VmHWM (peak resident set) after 5 cycles and after 20 must be close, and
# below a ceiling (ASan's shadow memory and quarantine need far more).
hwm() { awk '/^VmHWM/ {print $2}' "/proc/$FETCHERD_PID/status" 2>/dev/null; }
cycles_done() { [ "$(sql "SELECT count(*) FROM fetcher_cycles WHERE status <> 'running'")" -ge "$1" ]; }
base=$(sql "SELECT count(*) FROM fetcher_cycles")
FETCH_INTERVAL=1s start_fetcherd
check "memory: 5 cycles with faults" wait_for 60 cycles_done $((base + 5))
h5=$(hwm)
check "memory: 20 cycles with faults" wait_for 120 cycles_done $((base + 20))
h20=$(hwm)
case "$BIN" in *asan*) ceiling=600000 ;; *) ceiling=40000 ;; esac
echo "# VmHWM after 5 cycles: ${h5} kB, after 20: ${h20} kB"
check_cmp "memory: VmHWM after 20 cycles (${h20} kB) is below ${ceiling} kB" "${h20:-0}" -lt "$ceiling"
case "$BIN" in
  *asan*) skip "memory: VmHWM growth from cycle 5 to 20 (${h5} -> ${h20} kB)" \
            "ASan's quarantine keeps freed memory; the normal build checks growth" ;;
  *) check_cmp "memory: VmHWM grew less than 4 MB from cycle 5 to 20 (${h5} -> ${h20} kB)" \
       "$(( ${h20:-999999} - ${h5:-0} ))" -lt 4096 ;;
esac
stop_pid "$FETCHERD_PID"
check_eq "memory: fetcherd exits 0 on SIGTERM" 0 "$STOP_RC"

# ---- Phase B ---------------------------------------------------------------
new_db || exit 1
migrate || { not_ok "migrate"; exit 1; }
track coingecko USD bitcoin ethereum err500-coin err502-coin err503-coin err429-coin hang-coin \
  slowdrip-coin trunc-coin
track yahoo USD AAPL MSFT GOOGL ERR503Y
curl -s -X POST "$FAKE_URL/_reset" >/dev/null
t0=$(date +%s)
COINGECKO_BATCH=1 once b; rc=$?
check_eq "phase B: the cycle ends" 0 "$rc"
c=$(last_cycle)
echo "# phase B: $(( $(date +%s) - t0 )) s, fakemarket: $(curl -s "$FAKE_URL/_stats" | jq -c '{requests_total, by_path}')"
expect "$c" err500-coin 'coingecko: HTTP 500 \(server error\)'
expect "$c" err502-coin 'coingecko: HTTP 502 \(server error\)'
expect "$c" err503-coin 'coingecko: HTTP 503 \(server error\)'
expect "$c" err429-coin 'coingecko: HTTP 429 \(rate limited, Retry-After 2 s\)'
expect "$c" hang-coin 'coingecko: no answer within the time limit'
expect "$c" slowdrip-coin 'coingecko: answer too slow \(timed out while receiving\)'
expect "$c" trunc-coin 'coingecko: answer truncated'
expect "$c" ERR503Y 'yahoo: HTTP 503 \(server error\)'
check_eq "phase B: every other asset succeeded, the 503's spark batch-mates on retry" 5 \
  "$(sql "SELECT count(*) FROM price_update_log WHERE cycle_id = $c AND success")"
check "phase B: transient faults were retried 3 times each" \
  test "$(curl -s "$FAKE_URL/_stats" | jq '.by_symbol["err500-coin"]')" -eq 4

# ---- Phase C: the FX endpoint ----------------------------------------------
new_db || exit 1
migrate || { not_ok "migrate"; exit 1; }
track yahoo EUR SAP.DE
fx_warning() { sql "SELECT message FROM fetcher_logs WHERE level = 'WARNING' AND message LIKE 'No exchange rate USD->EUR%' ORDER BY id DESC LIMIT 1"; }
for f in "ERR503|fx: HTTP 503 \(server error\)" "WRONGCCY|fx: answer is based on JPY, asked for USD" \
         "BADJSON|fx: answer is not valid JSON" "MISSING|fx: EUR is not offered by the FX provider" \
         "NULLPRICE|fx: rate is missing or null" "EMPTY|fx: answer has no base/rates"; do
  name=${f%%|*} want=${f#*|}
  curl -s -X POST "$FAKE_URL/_mode?fault=$name" >/dev/null
  once "c_$name"
  msg=$(fx_warning)
  if grep -qE -- "$want" <<<"$msg"; then ok "FX $name: logged \"$msg\""
  else not_ok "FX $name: a WARNING matching /$want/" "got \"$msg\""; fi
done
curl -s -X POST "$FAKE_URL/_mode?fault=none" >/dev/null

# ---- Phase D: the API key stays secret; fallback requests are counted ------
new_db || exit 1
migrate || { not_ok "migrate"; exit 1; }
track yahoo USD AAPL MSFT MISSING2
track coingecko USD bitcoin nosuch-coin badjson-coin
# a last price far from fakemarket's: the new one is stored, with a WARNING
sql "INSERT INTO asset_prices (asset_id, price, currency, price_time, source, instance_id, seq)
     SELECT id, 1.0, 'USD', now() - interval '1 hour', 'test', 'test', 1 FROM assets WHERE symbol = 'MSFT'"
curl -s -X POST "$FAKE_URL/_reset" >/dev/null
COINGECKO_API_KEY=sekrit-test-key COINGECKO_BATCH=1 once d
stats=$(curl -s "$FAKE_URL/_stats")
check "phase D: the key was sent (in a header)" test "$(jq .api_key_requests <<<"$stats")" -ge 1
for t in fetcher_logs price_update_log fetcher_cycles fetcher_instances fetcher_statistics; do
  check_eq "phase D: no row of $t holds the key" 0 \
    "$(sql "SELECT count(*) FROM $t x WHERE x::text LIKE '%sekrit%'")"
done
check_eq "phase D: fetcherd's output does not hold the key" 0 "$(grep -c sekrit "$TEST_LOG_DIR/d.out")"
c=$(last_cycle)
check_eq "phase D: a price that moved from 1 is stored" t \
  "$(sql "SELECT success FROM price_update_log WHERE cycle_id = $c AND symbol = 'MSFT'")"
w=$(sql "SELECT message FROM fetcher_logs WHERE level = 'WARNING' AND context->>'symbol' = 'MSFT' ORDER BY id DESC LIMIT 1")
check "phase D: ... and flagged with both values: \"$w\"" \
  grep -qE 'MSFT: price moved \+[0-9.]+% since the last one \(1 -> [0-9.]+\), more than 50%' <<<"$w"
expect "$c" MISSING2 'yahoo: HTTP 404: No data found, symbol may be delisted'
# spark (1) + chart for MISSING2 (1) + one request per coin (3)
check_eq "phase D: fakemarket saw 5 requests" 5 "$(jq .requests_total <<<"$stats")"
# the chart request goes through the queue like any other, so the cycle
# counts it too
check_eq "phase D: the cycle records the fallback request too" 5 \
  "$(sql "SELECT upstream_requests FROM fetcher_cycles WHERE id = $c")"
exit 0
