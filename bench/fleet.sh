#!/usr/bin/env bash
# Fleet benchmark: 10,000 assets (8,000 Yahoo stocks, 2,000 CoinGecko
# coins) fetched by 1, 2 and 3 fetcherd on one database, fakemarket
# answering every request after 50 ms, on a throwaway cluster of its own.
# Per fleet size: the median of three manual cycles' wall time (the cycle
# row's duration, database clock), the requests one cycle cost, and the
# symbols requested more than once in it. Then the failover: three
# instances, the leader SIGKILLed 0.5 s into a cycle: how long until a new
# leader holds the lease, and until the cycle is finished by the others.
# HEARTBEAT_INTERVAL is 1 s (the lease lasts 3 s).
# Prints a table, then "bench fleet_… <value> <unit>" lines.
set -uo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
bin=${BIN:-$root/build}
latency=${BENCH_LATENCY_MS:-50}
export PATH=/usr/lib/postgresql/15/bin:$PATH
free_port() { "$root/scripts/free-port"; }

export PGLOCAL_DIR=$root/.local/pg-benchfleet-$$ PGLOCAL_PORT=$(free_port) PGLOCAL_FAST=1
scripts/pg-local start >/dev/null || { echo "bench: cannot start PostgreSQL" >&2; exit 1; }
fport=$(free_port)
"$bin/fakemarket" --port "$fport" --latency-ms "$latency" >/dev/null 2>&1 &
fpid=$!
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null; done
  wait 2>/dev/null
  kill $fpid 2>/dev/null
  scripts/pg-local stop >/dev/null 2>&1
  rm -rf "$PGLOCAL_DIR"
}
trap cleanup EXIT
f=http://127.0.0.1:$fport
export YAHOO_BASE_URL=$f COINGECKO_BASE_URL=$f/api/v3 FX_BASE_URL=$f KRAKEN_BASE_URL=$f \
       ERAPI_BASE_URL=$f TWELVEDATA_BASE_URL=$f COINBASE_BASE_URL=$f BINANCE_BASE_URL=$f \
       FETCH_RATE_LIMITS=yahoo=0,coingecko=0,fx=0,kraken=0,erapi=0,twelvedata=0,coinbase=0,binance=0 \
       LOG_LEVEL=WARNING HEARTBEAT_INTERVAL=1s FETCH_INTERVAL=1h \
       FETCH_BACKFILL=0 PRICE_CROSSCHECK_SAMPLE=0
for _ in $(seq 50); do curl -sf "$f/_stats" >/dev/null && break; sleep 0.1; done
createdb -h 127.0.0.1 -p "$PGLOCAL_PORT" -U fetcher benchfleet
export DATABASE_URL="postgresql://fetcher@127.0.0.1:$PGLOCAL_PORT/benchfleet"
"$bin/fetcherd" migrate >/dev/null
q() { psql "$DATABASE_URL" -XAtq -v ON_ERROR_STOP=1 -c "$1"; }
q "INSERT INTO assets (symbol, name, asset_type, currency, provider, provider_symbol)
   SELECT 'S' || lpad(i::text, 5, '0'), 'Stock ' || i, 'stock', 'USD', 'yahoo', 'S' || lpad(i::text, 5, '0') FROM generate_series(1, 8000) i
   UNION ALL
   SELECT 'C' || lpad(i::text, 5, '0'), 'Coin ' || i, 'crypto', 'USD', 'coingecko', 'coin-' || lpad(i::text, 5, '0') FROM generate_series(1, 2000) i;
   INSERT INTO tracked_assets (asset_id) SELECT id FROM assets;"

live() { q "SELECT count(*) FROM fetcher_instances WHERE state = 'running' AND last_heartbeat > now() - interval '10 seconds'"; }
live_is() { [ "$(live)" = "$1" ]; }
idle() { [ "$(q "SELECT count(*) FROM fetcher_cycles WHERE status = 'running'")" = 0 ]; }
waitfor() { local n=$1; shift; for _ in $(seq $((n * 10))); do "$@" && return 0; sleep 0.1; done; return 1; }
start_instance() {
  FETCHER_INSTANCE_ID=bench-$1 "$bin/fetcherd" >>"$root/.local/bench-fleet-$1.log" 2>&1 &
  pids+=($!)
  eval "PID_$1=$!"
}
median() { sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }

declare -A WALL REQ DUP
for n in 1 2 3; do
  start_instance "$n"
  waitfor 90 live_is "$n" || { echo "bench: $n instances did not start" >&2; exit 1; }
  waitfor 120 idle
  sleep 2 # the start-up cycle of a new instance, if any, is done; all heartbeating
  walls=()
  for r in 1 2 3; do
    waitfor 120 idle
    sleep 5.5 # no answer of the last cycle left in a queue's cache (5 s)
    last=$(q "SELECT COALESCE(max(id), 0) FROM fetcher_cycles")
    curl -s -X POST "$f/_reset" >/dev/null
    q "SELECT pg_notify('fetcher_trigger', '{\"client\":\"bench\"}')" >/dev/null
    fin() { [ "$(q "SELECT count(*) FROM fetcher_cycles WHERE id > $last AND status <> 'running'")" -ge 1 ]; }
    waitfor 300 fin || { echo "bench: a cycle did not finish" >&2; exit 1; }
    walls+=("$(q "SELECT duration_ms / 1000.0 FROM fetcher_cycles WHERE id > $last ORDER BY id LIMIT 1")")
    stats=$(curl -s "$f/_stats")
    REQ[$n]=$(echo "$stats" | jq .requests_total)
    DUP[$n]=$(echo "$stats" | jq '[.by_symbol | to_entries[] | select(.value > 1)] | length')
  done
  WALL[$n]=$(printf '%s\n' "${walls[@]}" | median)
done

# failover: the leader killed 0.5 s into a cycle
waitfor 120 idle
last=$(q "SELECT COALESCE(max(id), 0) FROM fetcher_cycles")
leader=$(q "SELECT holder FROM fetcher_lease WHERE expires_at > now()")
q "SELECT pg_notify('fetcher_trigger', '{\"client\":\"bench\"}')" >/dev/null
sleep 0.5
victim=PID_${leader#bench-}
t0=$(date +%s%N)
kill -KILL "${!victim}"
newleader() { l=$(q "SELECT holder FROM fetcher_lease WHERE expires_at > now()"); [ -n "$l" ] && [ "$l" != "$leader" ]; }
waitfor 60 newleader
t1=$(date +%s%N)
fin() { [ "$(q "SELECT count(*) FROM fetcher_cycles WHERE id > $last AND status <> 'running'")" -ge 1 ]; }
waitfor 120 fin
t2=$(date +%s%N)
cid=$(q "SELECT min(id) FROM fetcher_cycles WHERE id > $last")
rows=$(q "SELECT count(*) || ' rows, ' || count(DISTINCT asset_id) || ' assets' FROM price_update_log WHERE cycle_id = $cid")
lease_s=$(echo "($t1 - $t0) / 1000000000" | bc -l)
finish_s=$(echo "($t2 - $t0) / 1000000000" | bc -l)

printf '%-12s %10s %10s %12s\n' instances cycle_s requests duplicates
for n in 1 2 3; do printf '%-12s %10.2f %10s %12s\n' "$n" "${WALL[$n]}" "${REQ[$n]}" "${DUP[$n]}"; done
printf 'failover: leader SIGKILLed 0.5 s into a cycle; new leader after %.2f s, cycle finished %.2f s after the kill (%s)\n' \
  "$lease_s" "$finish_s" "$rows"
ratio=$(echo "${WALL[3]} / ${WALL[1]}" | bc -l)
for n in 1 2 3; do
  printf 'bench fleet_%s_cycle %.3f s\n' "$n" "${WALL[$n]}"
  printf 'bench fleet_%s_requests %s requests\n' "$n" "${REQ[$n]}"
  printf 'bench fleet_%s_duplicates %s symbols\n' "$n" "${DUP[$n]}"
done
printf 'bench fleet_3_vs_1_cycle %.2f ratio\n' "$ratio"
printf 'bench fleet_failover_lease %.2f s\n' "$lease_s"
printf 'bench fleet_failover_cycle %.2f s\n' "$finish_s"
