#!/usr/bin/env bash
# bench/api.sh — fetcher-api under load, standalone.
#
# Starts its own PostgreSQL (scripts/pg-local in .local/pg-bench-api-PID on a free
# port, fsync off), fills a database with 1,000,000 fetcher_logs (mostly
# INFO, some DEBUG/WARNING/ERROR), 1,000,000 price_update_log rows and
# 10,000 cycles, starts $BIN/fetcher-api with API_THREADS=4 and runs
# `wrk -t2 -c32 -d10s --latency` per endpoint, plus one curl timing of
# logs?offset=500000 (checked against the database). Prints a table, then
# one line per figure: "bench api_<endpoint>_{rps,p50,p99} <v> <unit>" and
# "bench api_rss <MB> MB" (VmHWM of fetcher-api over the whole run).
#
# Targets (2-core machine): p99 < 10 ms and >= 5,000 req/s for status,
# statistics, recent-updates and the logs pages; offset=500000 < 200 ms;
# RSS <= 16 MB.
#
#   BIN=build          which build to measure
#   API_CACHE_MS=500   the answer cache as shipped; 0 measures every request
#                      against the database
#   BENCH_DURATION=10s wrk's -d
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
BIN=${BIN:-build}
DUR=${BENCH_DURATION:-10s}
export API_CACHE_MS=${API_CACHE_MS:-500}
PGBIN=/usr/lib/postgresql/15/bin
export PATH=$PGBIN:$PATH

command -v wrk >/dev/null || { echo "bench/api.sh: wrk is not installed" >&2; exit 1; }
[ -x "$BIN/fetcher-api" ] && [ -x "$BIN/fetcherd" ] || { echo "bench/api.sh: build first (make)" >&2; exit 1; }

free_port() { "$root/scripts/free-port"; }

export PGLOCAL_DIR=$root/.local/pg-bench-api-$$ PGLOCAL_PORT=${PGLOCAL_PORT:-$(free_port)} PGLOCAL_FAST=1
api_pid="" hb_pid="" db=""
cleanup() {
  [ -n "$hb_pid" ] && kill "$hb_pid" 2>/dev/null
  if [ -n "$api_pid" ]; then kill -TERM "$api_pid" 2>/dev/null; wait "$api_pid" 2>/dev/null; fi
  dropdb -h 127.0.0.1 -p "$PGLOCAL_PORT" -U fetcher --if-exists "$db" 2>/dev/null || true
  scripts/pg-local stop >/dev/null 2>&1 || true
  rm -rf "$PGLOCAL_DIR"
}
trap cleanup EXIT
scripts/pg-local start >/dev/null
# A database of this run's own, dropped at the end (the cluster is kept
# for the next run, as pg-local does).
db=bench_api_$$
createdb -h 127.0.0.1 -p "$PGLOCAL_PORT" -U fetcher "$db"
export DATABASE_URL="postgresql://fetcher@127.0.0.1:$PGLOCAL_PORT/$db"
"$BIN/fetcherd" migrate >/dev/null 2>&1
psql() { command psql "$DATABASE_URL" -X -q -v ON_ERROR_STOP=1 "$@"; }

echo "filling the database…" >&2
t0=$(date +%s)
psql <<'SQL'
-- the day partitions the rows below fall into (migration 009; fetcherd
-- makes them from today on), so none waits in a default partition
DO $$ BEGIN
  PERFORM fetcher_partition_add(t, d::date)
  FROM generate_series(now() - interval '12 days', now(), '1 day') d,
       (VALUES ('fetcher_logs'), ('price_update_log')) AS x (t);
END $$;
INSERT INTO assets (symbol, name, asset_type, currency, provider, provider_symbol)
  SELECT 'S' || i, 'Stock ' || i, 'stock', 'USD', 'yahoo', 'S' || i FROM generate_series(1, 100) i;
INSERT INTO tracked_assets (asset_id, last_price_update) SELECT id, now() FROM assets;
INSERT INTO fetcher_instances (instance_id, host, pid, version, started_at, last_heartbeat,
  state, phase, interval_s, next_cycle_at, tracked_assets, queue, detail) VALUES
  ('bench', 'bench', 1, '0.1.0', now() - interval '1 day', now(), 'running', 'idle', 600,
   now() + interval '5 minutes', 100,
   '{"queued":0,"in_flight":0,"completed":100000,"deduplicated":500,"errors":20,"retries":5,"cache_hits":900,"cache_misses":100,"upstream_requests":1000}',
   '{"db":"ok","offline":false}');
INSERT INTO fetcher_cycles (instance_id, seq, trigger, status, started_at, finished_at,
  duration_ms, assets_total, assets_succeeded, assets_failed, upstream_requests)
  SELECT 'bench', i, 'schedule', CASE WHEN i % 20 = 0 THEN 'failed' WHEN i % 7 = 0 THEN 'partial' ELSE 'succeeded' END,
         now() - (10000 - i) * interval '10 minutes',
         now() - (10000 - i) * interval '10 minutes' + interval '2 seconds',
         1000 + i % 3000, 100, 100 - i % 3, i % 3, 3
  FROM generate_series(1, 10000) i;
INSERT INTO fetcher_logs ("timestamp", level, message, context, instance_id, seq, cycle_id)
  SELECT now() - (1000000 - i) * interval '1 second',
         CASE WHEN i % 50 = 0 THEN 'ERROR' WHEN i % 10 = 0 THEN 'WARNING'
              WHEN i % 7 = 0 THEN 'DEBUG' ELSE 'INFO' END,
         'bench message ' || i, jsonb_build_object('i', i), 'bench', i, 1 + i / 100
  FROM generate_series(1, 1000000) i;
INSERT INTO price_update_log ("timestamp", asset_id, symbol, price, currency, success, error,
  duration_ms, cycle_id, instance_id, seq)
  SELECT now() - (1000000 - i) * interval '1 second', 1 + i % 100, 'S' || (1 + i % 100),
         CASE WHEN i % 50 = 0 THEN NULL ELSE 100 + i % 1000 END, 'USD', i % 50 <> 0,
         CASE WHEN i % 50 = 0 THEN 'HTTP 500' END, 100, 1 + i / 100, 'bench', i
  FROM generate_series(1, 1000000) i;
VACUUM ANALYZE;
SQL
echo "filled in $(( $(date +%s) - t0 )) s" >&2

# Keep the instance live through the run, as fetcherd's heartbeat would.
( while sleep 2; do command psql "$DATABASE_URL" -X -q -c "UPDATE fetcher_instances SET last_heartbeat = now()" >/dev/null 2>&1; done ) &
hb_pid=$!

port=$(free_port)
API_THREADS=4 API_PORT=$port LOG_LEVEL=WARNING "$BIN/fetcher-api" >"$root/.local/bench-api.log" 2>&1 &
api_pid=$!
base=http://127.0.0.1:$port
for _ in $(seq 100); do curl -sf "$base/healthz" >/dev/null && break; sleep 0.1; done

min_id=$(command psql "$DATABASE_URL" -XAtc "SELECT min(id) FROM fetcher_logs")
deep=$((min_id + 100000))

# wrk's latency figures come as 1.23us / 4.56ms / 1.2s; in ms.
to_ms() { awk -v v="$1" 'BEGIN { n = v + 0; if (v ~ /us$/) n /= 1000; else if (v ~ /ms$/) n = n; else if (v ~ /s$/) n *= 1000; printf "%.3f", n }'; }

names=() rps=() p50=() p99=()
run() { # name path
  local out
  # warm the connections and caches first
  curl -sf -o /dev/null "$base$2" || { echo "bench/api.sh: $2 failed" >&2; exit 1; }
  out=$(wrk -t2 -c32 -d"$DUR" --latency "$base$2")
  names+=("$1")
  rps+=("$(awk '/^Requests\/sec:/ {printf "%.0f", $2}' <<<"$out")")
  p50+=("$(to_ms "$(awk '$1 == "50%" {print $2}' <<<"$out")")")
  p99+=("$(to_ms "$(awk '$1 == "99%" {print $2}' <<<"$out")")")
  if grep -q 'Non-2xx' <<<"$out"; then echo "bench/api.sh: $2: $(grep Non-2xx <<<"$out")" >&2; fi
}
run status /api/fetcher/status
run statistics /api/fetcher/statistics
run recent_updates /api/fetcher/recent-updates
run logs /api/fetcher/logs?limit=100
run logs_error "/api/fetcher/logs?limit=100&level=ERROR"
run logs_before_id "/api/fetcher/logs?before_id=$deep&limit=100"

# offset=500000: one request at a time, median of 5, answer checked.
want=$(command psql "$DATABASE_URL" -XAtc "SELECT id FROM fetcher_logs ORDER BY id DESC OFFSET 500000 LIMIT 1")
times=()
for _ in 1 2 3 4 5; do
  t=$(curl -s -o "$root/.local/bench-offset.json" -w '%{time_total}' "$base/api/fetcher/logs?offset=500000&limit=100")
  times+=("$t")
  # different answers each time: no cache hit hides the cost
  sleep "$(awk -v c="$API_CACHE_MS" 'BEGIN { printf "%.3f", c / 1000 + 0.05 }')"
done
got=$(jq -r '.logs[0].id' "$root/.local/bench-offset.json")
total=$(jq -r '.total' "$root/.local/bench-offset.json")
[ "$got" = "$want" ] && [ "$total" = 1000000 ] || { echo "bench/api.sh: offset=500000 answered id $got total $total, want $want 1000000" >&2; exit 1; }
offset_ms=$(printf '%s\n' "${times[@]}" | sort -n | sed -n 3p | awk '{printf "%.1f", $1 * 1000}')

# fetcher-api's own view of its latency (arrival to answer sent, all
# endpoints above): tells time spent in the server from time a client (or
# the machine's scheduler) added.
curl -s "$base/metrics" >"$root/.local/bench-metrics.txt"
srv() { awk -v le="$1" -F'[ "]' '$1 ~ /^fetcherd_api_request_duration_seconds_bucket/ && $2 == le {print $NF}' "$root/.local/bench-metrics.txt"; }
srv_all=$(srv +Inf)
srv_1=$(awk -v a="$(srv 0.001)" -v n="$srv_all" 'BEGIN { printf "%.2f", 100 * a / n }')
srv_10=$(awk -v a="$(srv 0.01)" -v n="$srv_all" 'BEGIN { printf "%.2f", 100 * a / n }')
load=$(cut -d' ' -f1-3 /proc/loadavg)

rss_kb=$(awk '/^VmHWM:/ {print $2}' "/proc/$api_pid/status")
rss_mb=$(awk -v k="$rss_kb" 'BEGIN { printf "%.1f", k / 1024 }')

printf '\nfetcher-api, API_THREADS=4, API_CACHE_MS=%s, wrk -t2 -c32 -d%s (%s cores)\n' "$API_CACHE_MS" "$DUR" "$(nproc)"
printf '%-16s %10s %10s %10s\n' endpoint 'req/s' 'p50 ms' 'p99 ms'
for i in "${!names[@]}"; do
  printf '%-16s %10s %10s %10s\n' "${names[$i]}" "${rps[$i]}" "${p50[$i]}" "${p99[$i]}"
done
printf '%-16s %32s\n' logs_offset_500k "${offset_ms} ms (median of 5, one at a time)"
printf '%-16s %32s\n' rss "${rss_mb} MB (VmHWM)"
printf 'server side: %s%% of %s answers within 1 ms, %s%% within 10 ms; load average %s\n' "$srv_1" "$srv_all" "$srv_10" "$load"
echo
for i in "${!names[@]}"; do
  echo "bench api_${names[$i]}_rps ${rps[$i]} req/s"
  echo "bench api_${names[$i]}_p50 ${p50[$i]} ms"
  echo "bench api_${names[$i]}_p99 ${p99[$i]} ms"
done
echo "bench api_logs_offset_500k ${offset_ms} ms"
echo "bench api_rss ${rss_mb} MB"
echo "bench api_server_within_10ms ${srv_10} %"
