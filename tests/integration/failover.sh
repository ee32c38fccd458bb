#!/usr/bin/env bash
# Failover, seen from outside: real fetcherd, real PostgreSQL, fakemarket
# with one provider's paths misbehaving (POST /_mode?fault=…&provider=…).
# Yahoo answers 503, then 429, then its HTML consent page, then its base
# URL is a closed port: every stock a second source knows is still priced
# each cycle, by twelvedata, with the reason recorded; when Yahoo recovers
# the stocks return to it within one probe interval; a steady cycle costs
# the second source's batches plus at most one probe of the dead provider
# (and the probe's key). The same for crypto (coingecko → kraken) and for
# the exchange rates (frankfurter → erapi), and all first sources down at
# once: then every coin is priced too, the ones neither Kraken nor Coinbase
# knows (BNB) by Binance, in USDT stored as USD. Also `fetcherd --once`.
# Prints the measured cost of failover.
. "$(dirname "$0")/../lib.sh"
normal_pass_only "failover's cost and timing seen from outside; its paths run under ASan in crosscheck (a dead first source), faults_providers and unit/test_sources"

new_db || exit 1
migrate
load_demo
# 20 ms a request, so cycle times compare something like a network
start_fakemarket --latency-ms 20 || { not_ok "fakemarket starts"; exit 1; }
export TWELVEDATA_API_KEY=test-key-not-real FETCH_PROBE_INTERVAL=4s FETCH_INTERVAL=2s
export FETCHER_INSTANCE_ID=failover-a
# The requests counted here are the cycles' own and their failover's; the
# cross-check's extra asks are measured in crosscheck.sh.
export PRICE_CROSSCHECK_SAMPLE=0

stats() { curl -s "$FAKE_URL/_stats" | jq -r "$1"; }
mode() { curl -s -X POST "$FAKE_URL/_mode?fault=$1&provider=$2" >/dev/null; }
last_seq() { sql "SELECT COALESCE(max(seq), 0) FROM fetcher_cycles WHERE instance_id = '$FETCHER_INSTANCE_ID' AND status <> 'running'"; }
# wait_cycles N: until N more cycles than now have finished.
wait_cycles() {
  local want=$(( $(last_seq) + $1 ))
  done_to() { [ "$(last_seq)" -ge "$1" ]; }
  wait_for 60 done_to "$want"
}
cycle_id() { sql "SELECT id FROM fetcher_cycles WHERE instance_id = '$FETCHER_INSTANCE_ID' AND seq = $1"; }
# rows CYCLE_SEQ CLASS_SQL WHERE: price_update_log rows of a cycle's assets of a type.
rows() {
  sql "SELECT count(*) FROM price_update_log p JOIN assets a ON a.id = p.asset_id
       WHERE p.cycle_id = $(cycle_id "$1") AND $2 AND $3"
}
stock="a.asset_type IN ('stock', 'etf')"
crypto="a.asset_type = 'crypto'"
n_stock=$(sql "SELECT count(*) FROM assets a JOIN tracked_assets t ON t.asset_id = a.id WHERE $stock")
n_crypto=$(sql "SELECT count(*) FROM assets a JOIN tracked_assets t ON t.asset_id = a.id WHERE $crypto")
# Kraken's table (daemon/providers/kraken.c) knows these of the demo's
# coins; polkadot only Coinbase knows (third source), binancecoin only
# Binance (fourth; tests/fixtures/real/NOTE_kraken_pairs.txt), and no pair
# is guessed. Counted among the tracked coins.
kraken_ids="'bitcoin','ethereum','solana','ripple','dogecoin','litecoin','cardano','chainlink'"
tracked_coin() { sql "SELECT count(*) FROM assets a JOIN tracked_assets t ON t.asset_id = a.id WHERE a.provider_symbol IN ($1)"; }
n_kraken=$(tracked_coin "$kraken_ids")
n_coinbase=$(tracked_coin "'polkadot'")
n_binance=$(tracked_coin "'binancecoin'")
td_batches=$(( (n_stock + 7) / 8 ))

# per-cycle figures of the cycles after seq $1 up to seq $2: "requests ms"
figures() {
  sql "SELECT round(avg(upstream_requests), 1), round(avg(duration_ms)) FROM fetcher_cycles
       WHERE instance_id = '$FETCHER_INSTANCE_ID' AND seq > $1 AND seq <= $2" | tr '|' ' '
}

start_fetcherd
check "healthy cycles run" wait_cycles 3
h0=$(last_seq)
check "… and two more" wait_cycles 2
h1=$(last_seq)
read -r healthy_req healthy_ms <<<"$(figures "$h0" "$h1")"
check_eq "healthy: every stock from yahoo" "$n_stock" "$(rows "$h1" "$stock" "p.success AND p.source = 'yahoo' AND p.failover_reason IS NULL")"
check_eq "healthy: every coin from coingecko" "$n_crypto" "$(rows "$h1" "$crypto" "p.success AND p.source = 'coingecko'")"
check_eq "healthy: asset_prices says the same source" "$n_stock" \
  "$(sql "SELECT count(*) FROM asset_prices ap JOIN price_update_log p ON p.asset_id = ap.asset_id AND p.timestamp = ap.fetched_at JOIN assets a ON a.id = ap.asset_id WHERE p.cycle_id = $(cycle_id "$h1") AND $stock AND ap.source = 'yahoo'")"

# phase FAULT: yahoo misbehaves with FAULT; the cycles after the first
# failing one are "steady" and must be priced by twelvedata at the cost of
# its batches plus at most one probe (and the probe's key) per cycle.
phase() {
  local fault=$1 why=$2
  mode "$fault" yahoo
  check "yahoo $fault: a first cycle" wait_cycles 1
  local s0; s0=$(last_seq)
  curl -s -X POST "$FAKE_URL/_reset" >/dev/null
  check "yahoo $fault: two steady cycles" wait_cycles 2
  local s1; s1=$(last_seq)
  local st; st=$(curl -s "$FAKE_URL/_stats")
  for s in $((s0 + 1)) "$s1"; do
    check_eq "yahoo $fault, cycle $s: every stock priced by twelvedata" "$n_stock" \
      "$(rows "$s" "$stock" "p.success AND p.source = 'twelvedata'")"
    check_eq "yahoo $fault, cycle $s: each says why yahoo did not answer" "$n_stock" \
      "$(rows "$s" "$stock" "p.failover_reason ~ '^yahoo: .*$why'")"
  done
  local y; y=$(jq '."by_path"."/v7/finance/spark" + ."by_path"."/v8/finance/chart"' <<<"$st")
  local td; td=$(jq '."by_path"."/quote"' <<<"$st")
  check_cmp "yahoo $fault: at most one yahoo request (a probe) per steady cycle ($y in 2)" "$y" -le 2
  check_cmp "yahoo $fault: twelvedata's batches (+1 for a probe's key) per cycle ($td in 2, $td_batches a cycle)" \
    "$td" -le $(( 2 * (td_batches + 1) ))
  read -r req ms <<<"$(figures "$s0" "$s1")"
  local first_req first_ms
  read -r first_req first_ms <<<"$(figures "$((s0 - 1))" "$s0")"
  echo "# failover yahoo $fault: $req requests, $ms ms a cycle (healthy: $healthy_req, $healthy_ms ms; the cycle that found it: $first_req, $first_ms ms)"
  eval "fo_${fault}_req=\$req fo_${fault}_ms=\$ms"
}

back() { [ "$(rows "$(last_seq)" "$stock" "p.success AND p.source = 'yahoo' AND p.failover_reason IS NULL")" = "$n_stock" ]; }
# recover BOUND_MS: yahoo answers again; its stocks come back within BOUND_MS
recover() {
  mode none yahoo
  local t0; t0=$(date +%s%N)
  check "yahoo recovers: the stocks return to it" wait_for 75 back
  local ms=$(( ($(date +%s%N) - t0) / 1000000 ))
  check_cmp "… within $1 ms (${ms} ms)" "$ms" -le "$1"
}

# Down (503): one probe interval (4 s), the cycle that follows (2 s), and
# that cycle's own length.
phase ERR503 '503'
recover 8000
# 429 with Retry-After: 2: paused, then down; the same bound.
phase ERR429 '429'
recover 8000
# A refusal pauses the provider for 30 s (the queue's refusal rule, never
# shortened by failover): its stocks return when the pause has passed.
phase BLOCKPAGE 'HTML page'
recover 40000
stop_pid "$FETCHERD_PID"

# --- a closed port ------------------------------------------------------
export FETCHER_INSTANCE_ID=failover-b
dead=$(free_port)
YAHOO_BASE_URL_DEAD="http://127.0.0.1:$dead"
provider_env
YAHOO_BASE_URL=$YAHOO_BASE_URL_DEAD FETCH_INTERVAL=2s HEARTBEAT_INTERVAL=1s \
  "$BIN/fetcherd" >>"$TEST_LOG_DIR/fetcherd.log" 2>&1 &
FETCHERD_PID=$!; T_PIDS+=($!)
check "closed port: cycles run" wait_cycles 3
s=$(last_seq)
check_eq "closed port: every stock priced by twelvedata" "$n_stock" "$(rows "$s" "$stock" "p.success AND p.source = 'twelvedata'")"
check_eq "closed port: the reason names the connection" "$n_stock" \
  "$(rows "$s" "$stock" "p.failover_reason ~* '^yahoo: .*(connect|down)'")"
stop_pid "$FETCHERD_PID"

# --- crypto and FX; a per-asset source order ------------------------------
export FETCHER_INSTANCE_ID=failover-c
# MSFT's own order puts twelvedata first (assets.sources, migration 005)
sql "UPDATE assets SET sources = '{twelvedata,yahoo}' WHERE symbol = 'MSFT'"
check "assets.sources refuses a name that is no provider's" \
  bash -c "! psql '$DATABASE_URL' -X -q -c \"UPDATE assets SET sources = '{Not A Provider}' WHERE symbol = 'AAPL'\" 2>/dev/null"
curl -s -X POST "$FAKE_URL/_mode?fault=ERR503&provider=coingecko" >/dev/null
curl -s -X POST "$FAKE_URL/_mode?fault=ERR503&provider=fx" >/dev/null
curl -s -X POST "$FAKE_URL/_reset" >/dev/null
start_fetcherd
check "coingecko and frankfurter down: cycles run" wait_cycles 3
s=$(last_seq)
# fakemarket's by_asset counts a coin's fetches whichever source was asked
# (the fault suites' per-asset accounting relies on it): every price of a
# coin stored since the reset was fetched, coingecko probes and kraken,
# coinbase and binance requests alike, under its CoinGecko id.
st=$(curl -s "$FAKE_URL/_stats")
check_eq "fakemarket counts the coins' fetches by other sources under their ids (by_asset ≥ rows)" "" \
  "$(sql "SELECT a.provider_symbol || ' ' || count(*) FROM price_update_log p JOIN assets a ON a.id = p.asset_id
          JOIN fetcher_cycles c ON c.id = p.cycle_id
          WHERE c.instance_id = '$FETCHER_INSTANCE_ID' AND c.seq <= $s AND p.success AND $crypto GROUP BY a.provider_symbol" |
     while read -r id n; do
       [ "$(jq --arg s "$id" '.by_asset[$s] // 0' <<<"$st")" -ge "$n" ] || echo -n "$id($n rows) "
     done)"
check_cmp "… and under the names kraken knows them by (XBTUSD)" "$(jq '.by_symbol.XBTUSD // 0' <<<"$st")" -ge 1
check_eq "every coin kraken knows priced by kraken ($n_kraken of $n_crypto)" "$n_kraken" \
  "$(rows "$s" "$crypto" "p.success AND p.source = 'kraken' AND p.failover_reason ~ '^coingecko: '")"
check_eq "the coins only coinbase knows besides coingecko priced by coinbase ($n_coinbase)" "$n_coinbase" \
  "$(rows "$s" "$crypto" "p.success AND p.source = 'coinbase' AND p.failover_reason ~ '^coingecko: '")"
check_eq "the coins only binance knows besides coingecko priced by binance ($n_binance)" "$n_binance" \
  "$(rows "$s" "$crypto" "p.success AND p.source = 'binance' AND p.failover_reason ~ '^coingecko: '")"
check_cmp "… BNB among them" "$n_binance" -ge 1
check_eq "… stored as USD, quoted in USDT (asset_prices)" "$n_binance" \
  "$(sql "SELECT count(*) FROM asset_prices ap JOIN price_update_log p ON p.asset_id = ap.asset_id AND p.timestamp = ap.fetched_at JOIN assets a ON a.id = ap.asset_id WHERE p.cycle_id = $(cycle_id "$s") AND $crypto AND ap.source = 'binance' AND ap.currency = 'USD' AND ap.quoted_currency = 'USDT'")"
check_eq "no coin left unpriced with coingecko down" "" \
  "$(sql "SELECT coalesce(string_agg(a.symbol, ',' ORDER BY a.symbol), '') FROM price_update_log p JOIN assets a ON a.id = p.asset_id WHERE p.cycle_id = $(cycle_id "$s") AND $crypto AND NOT p.success")"
check_eq "every tracked coin has a second source ($n_kraken + $n_coinbase + $n_binance of $n_crypto)" \
  "$n_crypto" "$((n_kraken + n_coinbase + n_binance))"
check_eq "no 'No exchange rate' warning in the last cycle: erapi gave the rates" 0 \
  "$(sql "SELECT count(*) FROM fetcher_logs WHERE cycle_id = $(cycle_id "$s") AND message LIKE 'No exchange rate%'")"
check_cmp "erapi was asked" "$(stats '."by_path"."/v6/latest"')" -ge 1
check_eq "MSFT, by its own order, from twelvedata (not a failover)" "twelvedata|t" \
  "$(sql "SELECT p.source, p.failover_reason IS NULL FROM price_update_log p JOIN assets a ON a.id = p.asset_id WHERE p.cycle_id = $(cycle_id "$s") AND a.symbol = 'MSFT' AND p.success")"
check_eq "the other stocks from yahoo" "$((n_stock - 1))" "$(rows "$s" "$stock" "p.success AND p.source = 'yahoo'")"
sql "UPDATE assets SET sources = NULL WHERE symbol = 'MSFT'"
check "the EUR rate is fresh" test "$(sql "SELECT count(*) FROM exchange_rates WHERE base = 'USD' AND quote = 'EUR' AND fetched_at > now() - interval '10 seconds'")" -ge 1
stop_pid "$FETCHERD_PID"

# --- every first source down at once, in one --once -----------------------
export FETCHER_INSTANCE_ID=failover-d
curl -s -X POST "$FAKE_URL/_mode?fault=ERR503&provider=yahoo" >/dev/null
curl -s -X POST "$FAKE_URL/_reset" >/dev/null
provider_env
t0=$(date +%s%N)
"$BIN/fetcherd" --once >>"$TEST_LOG_DIR/fetcherd.log" 2>&1
rc=$?
once_ms=$(( ($(date +%s%N) - t0) / 1000000 ))
s=$(last_seq)
check_eq "--once with yahoo, coingecko and frankfurter down: every stock by twelvedata" "$n_stock" \
  "$(rows "$s" "$stock" "p.success AND p.source = 'twelvedata'")"
check_eq "--once: every coin kraken knows by kraken" "$n_kraken" "$(rows "$s" "$crypto" "p.success AND p.source = 'kraken'")"
check_eq "--once: the ones only coinbase knows by coinbase" "$n_coinbase" "$(rows "$s" "$crypto" "p.success AND p.source = 'coinbase'")"
check_eq "--once: the ones only binance knows by binance" "$n_binance" "$(rows "$s" "$crypto" "p.success AND p.source = 'binance'")"
check_eq "--once: every tracked asset priced" "" \
  "$(sql "SELECT coalesce(string_agg(a.symbol, ',' ORDER BY a.symbol), '') FROM price_update_log p JOIN assets a ON a.id = p.asset_id WHERE p.cycle_id = $(cycle_id "$s") AND NOT p.success")"
check_eq "--once: the run succeeds (exit 0)" 0 "$rc"
check_cmp "--once: it took ${once_ms} ms (under 15 s: no timeout per asset)" "$once_ms" -lt 15000
echo "# all first sources down, --once: $(sql "SELECT upstream_requests FROM fetcher_cycles WHERE instance_id = 'failover-d'") requests, ${once_ms} ms"
for p in yahoo coingecko fx; do mode none $p; done

echo "# healthy: $healthy_req requests, $healthy_ms ms a cycle; yahoo 503: ${fo_ERR503_req:-?} requests, ${fo_ERR503_ms:-?} ms; 429: ${fo_ERR429_req:-?}, ${fo_ERR429_ms:-?} ms; block page: ${fo_BLOCKPAGE_req:-?}, ${fo_BLOCKPAGE_ms:-?} ms"
exit 0
