#!/usr/bin/env bash
# The cross-check between sources and what failover shows, seen from
# outside: real fetcherd, fetcher-api and PostgreSQL, fakemarket serving
# one source's prices a few percent off (POST /_offset) or in the wrong
# currency (/_mode?fault=WRONGCCY&provider=…).
#  A. two sources 5 % apart: exactly one WARNING naming both figures and
#     both sources, the primary's price kept, the verdict in
#     price_update_log.crosscheck and on /api/fetcher/assets; off with
#     PRICE_CROSSCHECK_SAMPLE=0
#  B. the primary the outlier of three: the majority's price is stored
#  C. sources that agree: a verdict, no WARNING
#  D. a wrong currency from the first source fails over, with the reason;
#     /api/fetcher/queue: each provider's share of the cycle and its
#     failovers in and out, the from → to pairs, the classes' sources;
#     failed-over and probe answers are the ones cross-checked first
#  E. with each single provider of each class dead, one demo cycle prices
#     every tracked asset a second source knows (the others: counted from
#     the database); with coingecko dead that is every coin, BNB by binance
#  F. the cost of the sample: extra requests and cycle time
. "$(dirname "$0")/../lib.sh"

new_db || exit 1
migrate
load_demo
start_fakemarket --latency-ms 20 || { not_ok "fakemarket starts"; exit 1; }
start_api || { not_ok "fetcher-api answers"; exit 1; }
provider_env

offset() { curl -s -X POST "$FAKE_URL/_offset?provider=$1&pct=$2" >/dev/null; }
mode() { curl -s -X POST "$FAKE_URL/_mode?fault=$1&provider=$2" >/dev/null; }
stats() { curl -s "$FAKE_URL/_stats" | jq -r "$1"; }
once() { "$BIN/fetcherd" --once >>"$TEST_LOG_DIR/fetcherd.log" 2>&1; }
last_cycle() { sql "SELECT id FROM fetcher_cycles WHERE instance_id = '$FETCHER_INSTANCE_ID' AND status <> 'running' ORDER BY id DESC LIMIT 1"; }
row() { sql "SELECT $2 FROM price_update_log WHERE cycle_id = $1 AND symbol = '$3'"; }
warnings() { sql "SELECT count(*) FROM fetcher_logs WHERE cycle_id = $1 AND level = 'WARNING' AND $2"; }

# the demo's tracked set, to put back after the one-coin phases
sql "CREATE TABLE keep_tracked AS SELECT * FROM tracked_assets"
track_only() {
  sql "DELETE FROM tracked_assets; INSERT INTO tracked_assets SELECT * FROM keep_tracked
       WHERE asset_id IN (SELECT id FROM assets WHERE symbol IN ($1))"
}

# --- A. two sources, one 5 % off ------------------------------------------
track_only "'BTC'"
offset kraken 5
curl -s -X POST "$FAKE_URL/_reset" >/dev/null
export FETCHER_INSTANCE_ID=xc-a FETCH_SOURCES="crypto=coingecko,kraken" PRICE_CROSSCHECK_SAMPLE=1
check "A: --once with kraken 5 % off" once
c=$(last_cycle)
xc=$(row "$c" crosscheck BTC)
check_eq "A: BTC priced by coingecko, its first source" "t|coingecko" "$(row "$c" "success, source" BTC)"
check_eq "A: the cross-check asked kraken once, and nothing else more" "1 1" \
  "$(stats '"\(.by_path."/0/public/Ticker") \(.by_path."/api/v3/simple/price")"')"
check_eq "A: the verdict is recorded: sample, 2 compared, disagree, coingecko kept, no outlier" \
  "sample 2 true coingecko null" "$(jq -r '"\(.reason) \(.compared) \(.disagree) \(.kept) \(.outlier)"' <<<"$xc")"
ratio=$(jq -r '.answers[1].price / .answers[0].price' <<<"$xc")
check "A: kraken's recorded price is 5 % above coingecko's ($ratio)" \
  awk -v r="$ratio" 'BEGIN { exit !(r > 1.0495 && r < 1.0505) }'
check_eq "A: the stored price is the primary's" "$(jq -r '.answers[0].price' <<<"$xc")" \
  "$(sql "SELECT trim_scale(price) FROM asset_prices WHERE asset_id = (SELECT id FROM assets WHERE symbol = 'BTC') ORDER BY fetched_at DESC LIMIT 1")"
check_eq "A: exactly one WARNING about it" 1 "$(warnings "$c" "message LIKE 'BTC: sources disagree%'")"
msg=$(sql "SELECT message FROM fetcher_logs WHERE cycle_id = $c AND message LIKE 'BTC: sources disagree%'")
echo "# $msg"
check "A: the WARNING names both sources, both figures and the limit" \
  grep -Eq '^BTC: sources disagree by 5\.0[0-9]% \(more than 2%\): coingecko [0-9.]+ USD, kraken [0-9.]+ USD; kept coingecko.s price$' <<<"$msg"
same() { awk -v a="$1" -v b="$2" 'BEGIN { d = a - b; if (d < 0) d = -d; exit !(d <= 1e-9 * b) }'; }
check "A: … the figures are the recorded ones (coingecko)" \
  same "$(sed -E 's/.*coingecko ([0-9.]+) USD.*/\1/' <<<"$msg")" "$(jq -r '.answers[0].price' <<<"$xc")"
check "A: … the figures are the recorded ones (kraken)" \
  same "$(sed -E 's/.*kraken ([0-9.]+) USD.*/\1/' <<<"$msg")" "$(jq -r '.answers[1].price' <<<"$xc")"
check_eq "A: the WARNING's context carries the verdict" "true" \
  "$(sql "SELECT context->'crosscheck'->>'disagree' FROM fetcher_logs WHERE cycle_id = $c AND message LIKE 'BTC: sources disagree%'")"
assets=$(curl -s "$API_URL/api/fetcher/assets")
check_eq "A: /api/fetcher/assets shows BTC's cross-check and its source" "true coingecko kraken" \
  "$(jq -r '.assets[] | select(.symbol == "BTC") | "\(.crosscheck.disagree) \(.source) \(.crosscheck.answers[1].source)"' <<<"$assets")"
check_eq "A: /api/fetcher/recent-updates carries it too" "true" \
  "$(curl -s "$API_URL/api/fetcher/recent-updates?symbol=BTC&limit=1" | jq -r '.updates[0].crosscheck.disagree')"
# 0 = off: no ask, no verdict, no WARNING
curl -s -X POST "$FAKE_URL/_reset" >/dev/null
export FETCHER_INSTANCE_ID=xc-a0 PRICE_CROSSCHECK_SAMPLE=0
once
c=$(last_cycle)
check_eq "A, sample 0: no cross-check, no WARNING, kraken not asked" "|0|0" \
  "$(row "$c" "crosscheck" BTC)|$(warnings "$c" "message LIKE '%disagree%'")|$(stats '.by_path."/0/public/Ticker"')"

# --- B. the primary is the outlier of three ---------------------------------
offset kraken 0
offset coingecko 5
export FETCHER_INSTANCE_ID=xc-b PRICE_CROSSCHECK_SAMPLE=1
unset FETCH_SOURCES
check "B: --once with coingecko 5 % off, kraken and coinbase true" once
c=$(last_cycle)
xc=$(row "$c" crosscheck BTC)
check_eq "B: three compared, coingecko the outlier, kraken's price kept" "3 true kraken coingecko" \
  "$(jq -r '"\(.compared) \(.disagree) \(.kept) \(.outlier)"' <<<"$xc")"
check_eq "B: the row says kraken priced it, at kraken's figure" "kraken|t" \
  "$(sql "SELECT source, price = $(jq -r '.answers[1].price' <<<"$xc") FROM price_update_log WHERE cycle_id = $c AND symbol = 'BTC'")"
check_eq "B: asset_prices stores the majority's price, from kraken" "kraken|t" \
  "$(sql "SELECT source, price = $(jq -r '.answers[1].price' <<<"$xc") FROM asset_prices WHERE asset_id = (SELECT id FROM assets WHERE symbol = 'BTC') ORDER BY fetched_at DESC LIMIT 1")"
check_eq "B: one WARNING: coingecko is the outlier of three" 1 \
  "$(warnings "$c" "message ~ '^BTC: coingecko [0-9.]+ USD is the outlier of three \(kraken [0-9.]+ USD, coinbase [0-9.]+ USD; more than 2% apart\); kept kraken.s price$'")"

# --- C. sources that agree ------------------------------------------------
offset coingecko 0
export FETCHER_INSTANCE_ID=xc-c
curl -s -X POST "$FAKE_URL/_reset" >/dev/null
once
c=$(last_cycle)
check_eq "C: coinbase was not asked" 0 "$(stats '.by_path."/v2/prices/spot"')"
check_eq "C: agreeing sources: the next source alone (no third asked), no disagreement, no WARNING" "2 false coingecko|0" \
  "$(jq -r '"\(.compared) \(.disagree) \(.kept)"' <<<"$(row "$c" crosscheck BTC)")|$(warnings "$c" "message LIKE 'BTC:%'")"

# --- D. a wrong currency fails over; /queue ------------------------------------
sql "DELETE FROM tracked_assets; INSERT INTO tracked_assets SELECT * FROM keep_tracked"
mode WRONGCCY yahoo
export FETCHER_INSTANCE_ID=xc-d TWELVEDATA_API_KEY=test-key-not-real PRICE_CROSSCHECK_SAMPLE=0 FETCH_PROBE_INTERVAL=4s
start_fetcherd
done_cycles() { [ "$(sql "SELECT count(*) FROM fetcher_cycles WHERE instance_id = 'xc-d' AND status <> 'running'")" -ge "$1" ]; }
check "D: yahoo answering in JPY: two cycles" wait_for 30 done_cycles 2
# /queue as the live daemon serves it, and the rows of the cycle it reports
q=$(curl -s "$API_URL/api/fetcher/queue")
echo "$q" >"$TEST_LOG_DIR/queue.json"
c=$(jq -r '.last_cycle.cycle_id' <<<"$q")
stock="a.asset_type NOT IN ('crypto', 'fx')"
n2=$(sql "SELECT count(*) FROM price_update_log p JOIN assets a ON a.id = p.asset_id WHERE p.cycle_id = $c AND $stock AND p.source_count = 2")
n1=$(sql "SELECT count(*) FROM price_update_log p JOIN assets a ON a.id = p.asset_id WHERE p.cycle_id = $c AND $stock AND p.source_count = 1")
check_cmp "D: stocks with a second source ($n2)" "$n2" -gt 0
check_eq "D: each of them priced by twelvedata, the reason naming the currency" "$n2" \
  "$(sql "SELECT count(*) FROM price_update_log p JOIN assets a ON a.id = p.asset_id WHERE p.cycle_id = $c AND $stock AND p.source_count = 2 AND p.success AND p.source = 'twelvedata' AND p.failover_reason ~ '^yahoo: currency mismatch: answer in JPY, asset is priced in [A-Z]{3}$'")"
check_eq "D: a stock without one fails with the mismatch ($n1)" "$n1" \
  "$(sql "SELECT count(*) FROM price_update_log p JOIN assets a ON a.id = p.asset_id WHERE p.cycle_id = $c AND $stock AND p.source_count = 1 AND NOT p.success AND p.error ~ '^currency mismatch: answer in JPY'")"
total=$(sql "SELECT count(*) FROM price_update_log WHERE cycle_id = $c")
served() { sql "SELECT count(*) FROM price_update_log WHERE cycle_id = $c AND success AND source = '$1'"; }
check_eq "D: /queue's last cycle is a finished one of this daemon, with its $total assets" "xc-d $total" \
  "$(sql "SELECT instance_id FROM fetcher_cycles WHERE id = $c AND status <> 'running'") $(jq -r '.last_cycle.assets' <<<"$q")"
prov() { jq -r --arg n "$1" ".queue.providers[] | select(.name == \$n) | $2" <<<"$q"; }
check_eq "D: yahoo: failovers out = the stocks that left it" "$n2" "$(prov yahoo .failovers_out_last_cycle)"
check_eq "D: twelvedata: failovers in = the stocks it took, served = them" "$n2 $n2" \
  "$(prov twelvedata '"\(.failovers_in_last_cycle) \(.served_last_cycle)"')"
for p in twelvedata coingecko yahoo; do
  want=$(awk -v s="$(served $p)" -v t="$total" 'BEGIN { printf "%.6f", s / t }')
  check_eq "D: $p's share of the cycle ($(served $p) of $total)" "$want" "$(prov $p '.share_last_cycle' | awk '{ printf "%.6f", $1 }')"
done
check_cmp "D: the from → to pairs: yahoo → twelvedata counted" \
  "$(jq -r '[.queue.failovers[] | select(.from == "yahoo" and .to == "twelvedata") | .count] | add // 0' <<<"$q")" -ge "$n2"
check_eq "D: the classes' sources: stocks have two with the key" "2 null" \
  "$(jq -r '.queue.sources[] | select(.class == "stock") | "\(.usable) \(.note)"' <<<"$q")"
stop_pid "$FETCHERD_PID"
mode none yahoo
# without the key, the class says it has no second source
export FETCHER_INSTANCE_ID=xc-d2
unset TWELVEDATA_API_KEY
start_fetcherd
nokey() { curl -s "$API_URL/api/fetcher/queue" | jq -e '.queue.sources[] | select(.class == "stock" and .usable == 1 and .note == "no second source: TWELVEDATA_API_KEY is not set")' >/dev/null; }
check "D: without TWELVEDATA_API_KEY /queue says stocks have no second source" wait_for 15 nokey
stop_pid "$FETCHERD_PID"

# --- D2. failed-over and probe answers are cross-checked first ---------------
# coingecko down: kraken answers for the coins, and (the sample being 1)
# one failed-over answer is checked against the next source, coinbase; when
# coingecko answers its probe again, that answer is checked too
# (BNB untracked here: its one other source, binance, is the last of its
# chain, so its failed-over answer has no next source to be checked
# against; the sample of one is for a coin kraken and coinbase both know)
sql "DELETE FROM tracked_assets WHERE asset_id = (SELECT id FROM assets WHERE symbol = 'BNB')"
mode ERR503 coingecko
export FETCHER_INSTANCE_ID=xc-d3 PRICE_CROSSCHECK_SAMPLE=1 FETCH_PROBE_INTERVAL=2s
start_fetcherd
has() { [ "$(sql "SELECT count(*) FROM price_update_log p JOIN fetcher_cycles c ON c.id = p.cycle_id WHERE c.instance_id = 'xc-d3' AND $1")" -ge 1 ]; }
check "D2: a failed-over answer (kraken's) is cross-checked against coinbase" wait_for 30 has \
  "p.source = 'kraken' AND p.failover_reason ~ '^coingecko: ' AND p.crosscheck->>'reason' = 'failover' AND p.crosscheck->'answers'->1->>'source' = 'coinbase'"
check_eq "D2: … and it takes the sample: no other asset of those cycles was checked" 0 \
  "$(sql "SELECT count(*) FROM price_update_log p JOIN fetcher_cycles c ON c.id = p.cycle_id WHERE c.instance_id = 'xc-d3' AND p.crosscheck->>'reason' = 'sample'")"
mode none coingecko
check "D2: coingecko back: its probe's answer is cross-checked against kraken" wait_for 30 has \
  "p.source = 'coingecko' AND p.crosscheck->>'reason' = 'probe' AND p.crosscheck->'answers'->1->>'source' = 'kraken'"
stop_pid "$FETCHERD_PID"
sql "DELETE FROM tracked_assets; INSERT INTO tracked_assets SELECT * FROM keep_tracked"

# --- E. each single provider of each class dead -----------------------------
export TWELVEDATA_API_KEY=test-key-not-real PRICE_CROSSCHECK_SAMPLE=2
tracked=$(sql "SELECT count(*) FROM tracked_assets")
for p in yahoo twelvedata coingecko kraken coinbase binance fx erapi; do
  mode ERR503 $p
  export FETCHER_INSTANCE_ID=xc-e-$p
  once
  c=$(last_cycle)
  ok_n=$(sql "SELECT count(*) FROM price_update_log WHERE cycle_id = $c AND success")
  # an asset only a dead provider knows cannot be priced: the ones whose
  # single source is $p, as the rows say
  lone=$(sql "SELECT coalesce(string_agg(symbol, ',' ORDER BY symbol), '') FROM price_update_log WHERE cycle_id = $c AND source_count = 1 AND source = '$p'")
  n_lone=$(sql "SELECT count(*) FROM price_update_log WHERE cycle_id = $c AND source_count = 1 AND source = '$p'")
  check_eq "E: $p dead: one cycle prices every tracked asset but those only $p knows [${lone}]" \
    "$((tracked - n_lone))" "$ok_n"
  check_eq "E: $p dead: the unpriced are exactly those" "$lone" \
    "$(sql "SELECT coalesce(string_agg(symbol, ',' ORDER BY symbol), '') FROM price_update_log WHERE cycle_id = $c AND NOT success")"
  check_eq "E: $p dead: every exchange rate came (no 'No exchange rate' warning)" 0 \
    "$(warnings "$c" "message LIKE 'No exchange rate%'")"
  [ -n "$lone" ] && echo "# $p dead: no second source on record for $lone"
  if [ "$p" = coingecko ]; then
    # every coin has a second source on record: none is left unpriced
    check_eq "E: coingecko dead: no coin is only coingecko's" "" "$lone"
    check_eq "E: coingecko dead: BNB priced by binance, stored in USD, quoted in USDT" "t|binance|USD|USDT" \
      "$(sql "SELECT p.success, p.source, p.currency, p.quoted_currency FROM price_update_log p WHERE p.cycle_id = $c AND p.symbol = 'BNB'")"
  fi
  mode none $p
done

# --- F. what the sample costs ----------------------------------------------------
# the demo, every source healthy, 20 ms a request, every asset fetched each
# cycle (--once runs: nothing is skipped as fresh): cycles without the
# cross-check, with the default sample and with a larger one
figures() { sql "SELECT round(avg(upstream_requests), 2), round(avg(duration_ms)) FROM fetcher_cycles WHERE instance_id = '$1'" | tr '|' ' '; }
export TWELVEDATA_API_KEY=
for n in 0 2 10; do
  export FETCHER_INSTANCE_ID=xc-f-$n PRICE_CROSSCHECK_SAMPLE=$n
  for _ in 1 2 3 4 5; do once; done
done
read -r r0 t0 <<<"$(figures xc-f-0)"
read -r r2 t2 <<<"$(figures xc-f-2)"
read -r r10 t10 <<<"$(figures xc-f-10)"
extra2=$(awk -v a="$r2" -v b="$r0" 'BEGIN { printf "%.2f", a - b }')
check "F: the default sample (2) costs at most 2 asks per sampled asset ($extra2 extra requests a cycle)" \
  awk -v e="$extra2" 'BEGIN { exit !(e > 0 && e <= 4) }'
check_eq "F: every sampled cycle cross-checked its 2 assets" "5|10" \
  "$(sql "SELECT count(DISTINCT c.id), count(*) FROM fetcher_cycles c JOIN price_update_log p ON p.cycle_id = c.id WHERE c.instance_id = 'xc-f-2' AND p.crosscheck IS NOT NULL")"
ncand=$(sql "SELECT count(DISTINCT p.symbol) FROM fetcher_cycles c JOIN price_update_log p ON p.cycle_id = c.id WHERE c.instance_id = 'xc-f-2' AND p.success AND p.source_count >= 2")
check_eq "F: … the window moves: 10 checks cover min(10, $ncand) assets with another source" \
  "$(( ncand < 10 ? ncand : 10 ))" \
  "$(sql "SELECT count(DISTINCT p.symbol) FROM fetcher_cycles c JOIN price_update_log p ON p.cycle_id = c.id WHERE c.instance_id = 'xc-f-2' AND p.crosscheck IS NOT NULL")"
echo "# crosscheck cost (demo without TWELVEDATA_API_KEY, 20 ms a request, 5 --once cycles each): sample 0: $r0 requests, $t0 ms; sample 2: $r2 requests, $t2 ms (x$(awk -v a="$t2" -v b="$t0" 'BEGIN { printf "%.2f", a / b }')); sample 10: $r10 requests, $t10 ms (x$(awk -v a="$t10" -v b="$t0" 'BEGIN { printf "%.2f", a / b }'))"
exit 0
