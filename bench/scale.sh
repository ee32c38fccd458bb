#!/usr/bin/env bash
# bench/scale.sh — the database at the size users reach: 30 days of a
# 10,000-asset tracker on the default ten-minute interval, against the same
# schema at one million rows, measured in one run.
#
# Two databases in one throwaway cluster (scripts/pg-local, fsync off):
#   big    SCALE_ASSETS (10,000) assets, one cycle every 10 min from 00:00
#          UTC SCALE_DAYS (30) days ago until now: ≈ 44 M price_update_log
#          rows, SCALE_LOGS_PER_CYCLE (1,150) log rows a cycle ≈ 5 M
#          fetcher_logs rows, ≈ 4,400 cycles
#   small  the same days and cycles with 1,000,000 update rows and 1,000,000
#          log rows (fewer assets, fewer logs a cycle)
# generated in SQL a day at a time, the way a partition is made: a plain
# table filled, indexed and vacuumed (two days at once), then ATTACHed.
#
# Then, for both databases, interleaved (small, big) so the machine's load
# falls on both alike:
#   - `wrk -t2 -c32 -d$BENCH_DURATION --latency` (twice each, in the
#     order small, big, big, small) on every reference
#     endpoint with the answer cache as shipped (API_CACHE_MS=500), as
#     bench/api.sh does, and on distinct requests no cache can serve
#     (API_CACHE_MS=0, bench/scale.lua: random offsets below 5,000, levels,
#     before_id, symbols, cycles), and the log search (q= a symbol);
#   - one 10,000-asset cycle's writes through fetcherd's own statements
#     (build/bench/dbtool write: record_updates in chunks of 500), median
#     of 3;
#   - one day's retention (fetcher_partitions_drop of the oldest day) and
#     the database's size.
# Every figure prints as "bench scale_<name> <value> <unit>", with the
# ratio big/small (latency) or small/big (req/s) as "..._ratio N x".
# Targets: every ratio ≤ 1.2, retention of a day < 1 s, log search p99
# < 50 ms, a 10,000-asset cycle's write < 0.5 s.
#
# SCALE_PLANS=1 (default at full size) writes EXPLAIN (ANALYZE, BUFFERS) of
# every API statement on the big database to bench/plans/.
#
# SCALE_BEFORE=DIR (a directory holding another build's fetcher-api, e.g.
# main's before a change) runs the uncached requests and the log search a
# second time through that binary, on the same databases in the same run
# (names ending in _before), so a change's effect on a ratio is measured
# under one load.
#
#   BIN=build  SCALE_ASSETS=10000  SCALE_DAYS=30  BENCH_DURATION=10s
#
# Needs ~40 GB free under .local/ at full size (it says so and stops
# otherwise); everything is removed at the end. Run it with `nice`.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
BIN=${BIN:-build}
DUR=${BENCH_DURATION:-10s}
ASSETS=${SCALE_ASSETS:-10000}
DAYS=${SCALE_DAYS:-30}
LOGS_PER_CYCLE=${SCALE_LOGS_PER_CYCLE:-1150}
PLANS=${SCALE_PLANS:-$([ "$ASSETS" -ge 10000 ] && echo 1 || echo 0)}
PGBIN=/usr/lib/postgresql/15/bin
export PATH=$PGBIN:$PATH

command -v wrk >/dev/null || { echo "bench/scale.sh: wrk is not installed" >&2; exit 1; }
for b in fetcherd fetcher-api bench/dbtool; do
  [ -x "$BIN/$b" ] || { echo "bench/scale.sh: $BIN/$b missing (make all $BIN/bench/dbtool)" >&2; exit 1; }
done
need_gb=$(( ASSETS * DAYS * 144 * 450 / 1000000000 + 3 ))
free_gb=$(df -BG --output=avail "$root" | tail -1 | tr -dc '0-9')
if [ "$free_gb" -lt "$need_gb" ]; then
  echo "bench/scale.sh: needs ~${need_gb} GB free under $root, has ${free_gb} GB" >&2
  exit 1
fi

free_port() { "$root/scripts/free-port"; }
export PGLOCAL_DIR=$root/.local/pg-bench-scale-$$ PGLOCAL_PORT=${PGLOCAL_PORT:-$(free_port)} PGLOCAL_FAST=1
# A bulk load's WAL without a checkpoint every few seconds; the servers'
# memory as a 24 GB machine would give a database of this size.
export PGLOCAL_OPTS="-c max_wal_size=16GB -c checkpoint_timeout=30min -c shared_buffers=1GB -c effective_cache_size=8GB -c max_locks_per_transaction=256"
pids=()
# SCALE_KEEP=1: generate, then keep the cluster running and stop (for
# looking at plans by hand); scripts/pg-local stop with the same
# PGLOCAL_DIR/PGLOCAL_PORT removes it.
cleanup() {
  [ "${SCALE_KEEP:-0}" = 1 ] && return 0
  local p
  for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  scripts/pg-local stop >/dev/null 2>&1 || true
  rm -rf "$PGLOCAL_DIR"
}
trap cleanup EXIT
scripts/pg-local start >/dev/null
url() { echo "postgresql://fetcher@127.0.0.1:$PGLOCAL_PORT/$1"; }
q() { local db=$1; shift; psql "$(url "$db")" -X -Atq -v ON_ERROR_STOP=1 "$@"; }
now_ms() { date +%s%3N; }

# ---- generation -------------------------------------------------------------------------
# bench_make_day: one day's partitions of both tables as plain tables,
# filled and indexed like the parent (its constraints and indexes, read
# from the catalog); bench_attach_day attaches them.
read -r -d '' GEN_SQL <<'SQL' || true
CREATE FUNCTION bench_cycles(p_t0 timestamptz, p_now timestamptz) RETURNS int
LANGUAGE sql IMMUTABLE AS $$ SELECT floor(extract(epoch FROM p_now - p_t0) / 600)::int + 1 $$;

CREATE FUNCTION bench_like(p_parent text, p_part text) RETURNS void LANGUAGE plpgsql AS $$
DECLARE r record;
BEGIN
    FOR r IN SELECT pg_get_constraintdef(oid) AS def FROM pg_constraint
             WHERE conrelid = p_parent::regclass AND contype IN ('p', 'u') LOOP
        EXECUTE format('ALTER TABLE %I ADD %s', p_part, r.def);
    END LOOP;
    FOR r IN SELECT pg_get_indexdef(i.indexrelid) AS def FROM pg_index i
             WHERE i.indrelid = p_parent::regclass AND NOT EXISTS (
               SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid) LOOP
        EXECUTE regexp_replace(r.def, 'INDEX \S+ ON ONLY \S+', 'INDEX ON ' || quote_ident(p_part));
    END LOOP;
END $$;

CREATE FUNCTION bench_make_day(p_day date, p_t0 timestamptz, p_now timestamptz, p_assets int,
                               p_logs int) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    v_lo timestamptz := p_day::timestamp AT TIME ZONE 'UTC';
    v_hi timestamptz := (p_day + 1)::timestamp AT TIME ZONE 'UTC';
    c_lo int := greatest(1, ceil(extract(epoch FROM v_lo - p_t0) / 600)::int + 1);
    c_hi int := least(bench_cycles(p_t0, p_now), ceil(extract(epoch FROM v_hi - p_t0) / 600)::int);
    v_u text := 'price_update_log_p' || to_char(p_day, 'YYYYMMDD');
    v_l text := 'fetcher_logs_p' || to_char(p_day, 'YYYYMMDD');
BEGIN
    SET LOCAL maintenance_work_mem = '512MB';
    -- an empty partition migrate made for this day goes; ours replaces it
    IF to_regclass(v_u) IS NOT NULL THEN
        EXECUTE format('DROP TABLE %I', v_u);
    END IF;
    IF to_regclass(v_l) IS NOT NULL THEN
        EXECUTE format('DROP TABLE %I', v_l);
    END IF;
    EXECUTE format('CREATE TABLE %I (LIKE price_update_log INCLUDING DEFAULTS INCLUDING CONSTRAINTS)', v_u);
    -- every asset every cycle; 2% fail, 0.5% answered by a second source
    EXECUTE format($f$INSERT INTO %I (id, "timestamp", asset_id, symbol, price, currency, success,
        error, duration_ms, cycle_id, instance_id, seq, price_time, price_time_basis, source,
        failover_reason)
      SELECT (c - 1)::bigint * $3 + a, $4 + (c - 1) * interval '10 minutes' + interval '2 s'
               + (a / 500) * interval '10 ms',
             a, 'S' || a, CASE WHEN (a + c) %% 50 <> 0 THEN 100 + (a %% 997) / 7.0 + c %% 13 END,
             'USD', (a + c) %% 50 <> 0,
             CASE WHEN (a + c) %% 50 = 0 THEN 'HTTP 503 from yahoo' END, 20 + (a * 7 + c) %% 400, c,
             'bench', (c - 1)::bigint * $3 + a,
             CASE WHEN (a + c) %% 50 <> 0 THEN $4 + (c - 1) * interval '10 minutes' END,
             CASE WHEN (a + c) %% 50 <> 0 THEN 'market' END,
             CASE WHEN (a + c) %% 200 = 7 THEN 'twelvedata' ELSE 'yahoo' END,
             CASE WHEN (a + c) %% 200 = 7 THEN 'yahoo: down (HTTP 503 from yahoo)' END
      FROM generate_series($1, $2) c, generate_series(1, $3) a$f$, v_u)
      USING c_lo, c_hi, p_assets, p_t0;
    EXECUTE format('CREATE TABLE %I (LIKE fetcher_logs INCLUDING DEFAULTS INCLUDING CONSTRAINTS)', v_l);
    -- a cycle's lines: its start and end, provider batches (DEBUG), prices
    -- (INFO), moves and slow answers (WARNING), failures (ERROR)
    EXECUTE format($f$INSERT INTO %I (id, "timestamp", level, message, context, instance_id, seq, cycle_id)
      SELECT (c - 1)::bigint * $3 + j, $4 + (c - 1) * interval '10 minutes' + j * interval '1 ms',
             CASE WHEN j IN (1, $3) THEN 'INFO' WHEN j %% 97 = 5 THEN 'ERROR'
                  WHEN j %% 13 = 4 THEN 'WARNING' WHEN j %% 2 = 0 THEN 'DEBUG' ELSE 'INFO' END,
             CASE WHEN j = 1 THEN 'Cycle ' || c || ' started: ' || $5 || ' assets'
                  WHEN j = $3 THEN 'Cycle ' || c || ' finished: ' || ($5 - $5 / 50) || ' ok, '
                       || ($5 / 50) || ' failed in 2.4 s'
                  WHEN j %% 97 = 5 THEN 'S' || (1 + (c * 7919 + j) %% $5) || ': HTTP 503 from yahoo after 3 retries'
                  WHEN j %% 13 = 4 THEN 'S' || (1 + (c * 7919 + j) %% $5) || ': price moved '
                       || (50 + j %% 40) || '.' || (j %% 10) || '%% since the last price'
                  WHEN j %% 2 = 0 THEN 'yahoo: spark batch of 20 symbols answered in ' || (30 + j %% 70) || ' ms'
                  ELSE 'S' || (1 + (c * 7919 + j) %% $5) || ': ' || (100 + j %% 900) || '.' || (j %% 100)
                       || ' USD at the market time' END,
             CASE WHEN j %% 97 = 5 OR j %% 13 = 4 THEN jsonb_build_object('symbol', 'S' || (1 + (c * 7919 + j) %% $5), 'provider', 'yahoo') END,
             'bench', (c - 1)::bigint * $3 + j, c
      FROM generate_series($1, $2) c, generate_series(1, $3) j$f$, v_l)
      USING c_lo, c_hi, p_logs, p_t0, p_assets;
    PERFORM bench_like('price_update_log', v_u);
    PERFORM bench_like('fetcher_logs', v_l);
END $$;

CREATE FUNCTION bench_attach_day(p_day date) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    v_lo timestamptz := p_day::timestamp AT TIME ZONE 'UTC';
    v_hi timestamptz := (p_day + 1)::timestamp AT TIME ZONE 'UTC';
    v_t text;
    v_part text;
BEGIN
    FOREACH v_t IN ARRAY ARRAY['price_update_log', 'fetcher_logs'] LOOP
        v_part := v_t || '_p' || to_char(p_day, 'YYYYMMDD');
        EXECUTE format('ALTER TABLE %I ATTACH PARTITION %I FOR VALUES FROM (%L) TO (%L)',
                       v_t, v_part, v_lo, v_hi);
    END LOOP;
END $$;
SQL

# gen DB ASSETS LOGS_PER_CYCLE: migrate, assets, cycles, then the days.
gen() {
  local db=$1 assets=$2 logs=$3 t0 now days d
  createdb -h 127.0.0.1 -p "$PGLOCAL_PORT" -U fetcher "$db"
  DATABASE_URL=$(url "$db") "$BIN/fetcherd" migrate >/dev/null 2>&1
  q "$db" <<<"$GEN_SQL" >/dev/null
  t0=$(q "$db" -c "SELECT date_trunc('day', (now() - make_interval(days => $DAYS)) AT TIME ZONE 'UTC') AT TIME ZONE 'UTC'")
  now=$(q "$db" -c "SELECT now()")
  echo "$t0|$now" >"$PGLOCAL_DIR/$db.times"
  q "$db" <<SQL >/dev/null
INSERT INTO assets (symbol, name, asset_type, currency, provider, provider_symbol)
  SELECT 'S' || i, 'Stock ' || i, 'stock', 'USD', 'yahoo', 'S' || i FROM generate_series(1, $assets) i;
INSERT INTO tracked_assets (asset_id, last_price_update) SELECT id, now() FROM assets;
-- the current prices (fetcherd's cycle reads each asset's newest)
INSERT INTO asset_prices (asset_id, price, currency, price_time, fetched_at, source, instance_id, seq)
  SELECT a, 100 + h, 'USD', now() - h * interval '1 hour', now() - h * interval '1 hour', 'yahoo', 'bench', a * 100 + h
  FROM generate_series(1, $assets) a, generate_series(0, 23) h;
INSERT INTO fetcher_instances (instance_id, host, pid, version, started_at, last_heartbeat,
  state, phase, interval_s, next_cycle_at, tracked_assets, queue, detail) VALUES
  ('bench', 'bench', 1, '0.1.0', '$t0', now(), 'running', 'idle', 600,
   now() + interval '5 minutes', $assets,
   '{"queued":0,"in_flight":0,"completed":100000,"deduplicated":500,"errors":20,"retries":5,"cache_hits":900,"cache_misses":100,"upstream_requests":1000}',
   '{"db":"ok","offline":false}');
INSERT INTO fetcher_cycles (id, instance_id, seq, trigger, status, started_at, finished_at,
    duration_ms, assets_total, assets_succeeded, assets_failed, upstream_requests)
  OVERRIDING SYSTEM VALUE
  SELECT c, 'bench', c, 'schedule', CASE WHEN c % 20 = 0 THEN 'partial' ELSE 'succeeded' END,
         '$t0'::timestamptz + (c - 1) * interval '10 minutes',
         '$t0'::timestamptz + (c - 1) * interval '10 minutes' + interval '2400 ms',
         2400 + c % 300, $assets, $assets - $assets / 50, $assets / 50, $assets / 20 + 1
  FROM generate_series(1, bench_cycles('$t0', '$now')) c;
SELECT setval(pg_get_serial_sequence('fetcher_cycles', 'id'), bench_cycles('$t0', '$now'));
SQL
  days=$(q "$db" -c "SELECT string_agg(d::date::text, ' ' ORDER BY d) FROM generate_series('$t0'::timestamptz AT TIME ZONE 'UTC', '$now'::timestamptz AT TIME ZONE 'UTC', '1 day') d")
  # two days at a time: fill, index, vacuum (the visibility map the
  # index-only scans need); the attach is short and takes a parent lock
  # that two attaches cannot share, so it comes after
  printf '%s\n' $days | xargs -P 2 -I{} sh -c "
    psql '$(url "$db")' -X -q -v ON_ERROR_STOP=1 \
      -c \"SELECT bench_make_day('{}', '$t0', '$now', $assets, $logs)\" \
      -c \"VACUUM (FREEZE, ANALYZE) price_update_log_p\$(echo {} | tr -d -), fetcher_logs_p\$(echo {} | tr -d -)\" >/dev/null"
  for d in $days; do q "$db" -c "SELECT bench_attach_day('$d')" >/dev/null; done
  q "$db" <<SQL >/dev/null
SELECT setval(pg_get_serial_sequence('price_update_log', 'id'), (SELECT max(id) FROM price_update_log));
SELECT setval(pg_get_serial_sequence('fetcher_logs', 'id'), (SELECT max(id) FROM fetcher_logs));
DELETE FROM fetcher_log_counts;
INSERT INTO fetcher_log_counts (day, level, n)
  SELECT ("timestamp" AT TIME ZONE 'UTC')::date, level, count(*) FROM fetcher_logs GROUP BY 1, 2;
-- (rows written straight into a day's table, not through the parent's
-- triggers: the counters from the rows, as migration 009 does)
DELETE FROM price_update_counts;
INSERT INTO price_update_counts (day, provider, n, failed)
  SELECT ("timestamp" AT TIME ZONE 'UTC')::date, 'yahoo', count(*), count(*) FILTER (WHERE NOT success)
  FROM price_update_log GROUP BY 1;
SELECT fetcher_partitions_ensure(3);
ANALYZE;
SQL
}

echo "== bench/scale.sh: generating (big: $ASSETS assets x $DAYS days; small: 1 M + 1 M rows); load $(cut -d' ' -f1-3 /proc/loadavg)" >&2
t0=$(now_ms)
cycles=$(( (DAYS + 1) * 144 ))   # an upper bound, to size the small database
small_assets=$(( 1000000 / cycles + 1 ))
small_logs=$(( 1000000 / cycles + 1 ))
gen scale_small "$small_assets" "$small_logs"
gen_small_s=$(awk -v a="$t0" -v b="$(now_ms)" 'BEGIN { printf "%.0f", (b - a) / 1000 }')
t0=$(now_ms)
gen scale_big "$ASSETS" "$LOGS_PER_CYCLE"
gen_big_s=$(awk -v a="$t0" -v b="$(now_ms)" 'BEGIN { printf "%.0f", (b - a) / 1000 }')

declare -A ROWS_U ROWS_L SIZE
for db in scale_small scale_big; do
  ROWS_U[$db]=$(q "$db" -c "SELECT count(*) FROM price_update_log")
  ROWS_L[$db]=$(q "$db" -c "SELECT count(*) FROM fetcher_logs")
  SIZE[$db]=$(q "$db" -c "SELECT round(pg_database_size(current_database()) / 1073741824.0, 2)")
done
if [ "${SCALE_KEEP:-0}" = 1 ]; then
  echo "kept: PGLOCAL_DIR=$PGLOCAL_DIR PGLOCAL_PORT=$PGLOCAL_PORT; $(url scale_big)" >&2
  exit 0
fi
echo "generated: small ${ROWS_U[scale_small]} updates + ${ROWS_L[scale_small]} logs in ${gen_small_s} s; big ${ROWS_U[scale_big]} updates + ${ROWS_L[scale_big]} logs in ${gen_big_s} s" >&2

# ---- the API ------------------------------------------------------------------------------
# Heartbeats keep the instance live, as fetcherd would.
( while sleep 2; do
    for db in scale_small scale_big; do
      psql "$(url "$db")" -X -q -c "UPDATE fetcher_instances SET last_heartbeat = now()" >/dev/null 2>&1
    done
  done ) &
pids+=($!)
declare -A PORT
BEFORE=${SCALE_BEFORE:-}
[ -z "$BEFORE" ] || [ -x "$BEFORE/fetcher-api" ] || { echo "bench/scale.sh: $BEFORE/fetcher-api missing" >&2; exit 1; }
for db in scale_small scale_big; do
  for cache in 500 0 ${BEFORE:+0b}; do
    port=$(free_port)
    api=$BIN/fetcher-api
    [ "$cache" = 0b ] && api=$BEFORE/fetcher-api
    DATABASE_URL=$(url "$db") API_CACHE_MS=${cache%b} API_THREADS=4 API_PORT=$port LOG_LEVEL=WARNING \
      "$api" >>"$PGLOCAL_DIR/api-$db-$cache.log" 2>&1 &
    pids+=($!)
    PORT[$db-$cache]=$port
    for _ in $(seq 100); do curl -sf "http://127.0.0.1:$port/healthz" >/dev/null && break; sleep 0.1; done
  done
done

to_ms() { awk -v v="$1" 'BEGIN { n = v + 0; if (v ~ /us$/) n /= 1000; else if (v ~ /ms$/) n = n; else if (v ~ /s$/) n *= 1000; printf "%.2f", n }'; }
declare -A RPS P50 P99 ERRS
names=()
# wrk_one KEY DB CACHE PATH [MODE]: one wrk run; figures in RPS/P50/P99[KEY]
wrk_one() {
  local key=$1 db=$2 cache=$3 path=$4 mode=${5:-} out base
  base=http://127.0.0.1:${PORT[$db-$cache]}
  if [ -n "$mode" ]; then
    out=$(SCALE_MODE=$mode SCALE_ASSETS=${ASSETS_OF[$db]} SCALE_LOG_MIN=${LMIN[$db]} SCALE_LOG_MAX=${LMAX[$db]} \
          SCALE_UPD_MIN=${UMIN[$db]} SCALE_UPD_MAX=${UMAX[$db]} SCALE_CYCLES=${CYC[$db]} \
          wrk -t2 -c"${WRK_C:-32}" -d"$DUR" --latency -s bench/scale.lua "$base")
  else
    curl -sf -o /dev/null "$base$path" || { echo "bench/scale.sh: $path failed on $db" >&2; exit 1; }
    out=$(wrk -t2 -c"${WRK_C:-32}" -d"$DUR" --latency "$base$path")
  fi
  RPS[$key]=$(awk '/^Requests\/sec:/ {printf "%.0f", $2}' <<<"$out")
  P50[$key]=$(to_ms "$(awk '$1 == "50%" {print $2}' <<<"$out")")
  P99[$key]=$(to_ms "$(awk '$1 == "99%" {print $2}' <<<"$out")")
  ERRS[$key]=$(awk '/Non-2xx/ {print $NF}' <<<"$out")
}
declare -A ASSETS_OF LMIN LMAX UMIN UMAX CYC
for db in scale_small scale_big; do
  ASSETS_OF[$db]=$(q "$db" -c "SELECT count(*) FROM assets")
  read -r LMIN[$db] LMAX[$db] UMIN[$db] UMAX[$db] CYC[$db] <<<"$(q "$db" -F' ' -c "SELECT (SELECT min(id) FROM fetcher_logs), (SELECT max(id) FROM fetcher_logs), (SELECT min(id) FROM price_update_log), (SELECT max(id) FROM price_update_log), (SELECT max(id) FROM fetcher_cycles)")"
done
# name cache path-or-"" mode: small, big, big, small (so a change of the
# machine's load during the four runs falls on both alike); each figure
# is the mean of its two runs.
mean2() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", (a + b) / 2 }'; }
bench_api() {
  names+=("$1")
  wrk_one "$1-small" scale_small "$2" "$3" "${4:-}"
  local r1=${RPS[$1-small]} a1=${P50[$1-small]} b1=${P99[$1-small]}
  wrk_one "$1-big" scale_big "$2" "$3" "${4:-}"
  local r2=${RPS[$1-big]} a2=${P50[$1-big]} b2=${P99[$1-big]}
  wrk_one "$1-big" scale_big "$2" "$3" "${4:-}"
  RPS[$1-big]=$(mean2 "$r2" "${RPS[$1-big]}"); P50[$1-big]=$(mean2 "$a2" "${P50[$1-big]}"); P99[$1-big]=$(mean2 "$b2" "${P99[$1-big]}")
  wrk_one "$1-small" scale_small "$2" "$3" "${4:-}"
  RPS[$1-small]=$(mean2 "$r1" "${RPS[$1-small]}"); P50[$1-small]=$(mean2 "$a1" "${P50[$1-small]}"); P99[$1-small]=$(mean2 "$b1" "${P99[$1-small]}")
  echo "  $1: small ${RPS[$1-small]} req/s p99 ${P99[$1-small]} ms; big ${RPS[$1-big]} req/s p99 ${P99[$1-big]} ms" >&2
}
echo "== API (wrk -t2 -c32 -d$DUR); load $(cut -d' ' -f1-3 /proc/loadavg)" >&2
bench_api status 500 /api/fetcher/status
bench_api statistics 500 /api/fetcher/statistics
bench_api recent_updates 500 /api/fetcher/recent-updates
bench_api logs 500 "/api/fetcher/logs?limit=100"
bench_api logs_error 500 "/api/fetcher/logs?limit=100&level=ERROR"
bench_api cycles 500 /api/fetcher/cycles
bench_api d_logs_offset 0 "" logs_offset
bench_api d_logs_level 0 "" logs_level
bench_api d_logs_before_id 0 "" logs_before_id
bench_api d_updates_symbol 0 "" updates_symbol
bench_api d_updates_before_id 0 "" updates_before_id
bench_api d_cycles_before_id 0 "" cycles_before_id
bench_api log_search 0 "" log_search
# The search's own latency: as many searches at once as the API has
# workers (API_THREADS=4), so the figure is the query's, not a queue's.
WRK_C=4 bench_api log_search_c4 0 "" log_search
# The machine's part of that latency: a request that touches no database
# (/healthz), 4 at once, under the same load.
WRK_C=4 bench_api healthz_c4 0 /healthz
if [ -n "$BEFORE" ]; then
  for m in logs_offset logs_level logs_before_id updates_symbol updates_before_id cycles_before_id; do
    bench_api "d_${m}_before" 0b "" "$m"
  done
  WRK_C=4 bench_api log_search_c4_before 0b "" log_search
fi
api_load=$(cut -d' ' -f1-3 /proc/loadavg)

# ---- a cycle's writes ---------------------------------------------------------------------------
# The same 10,000 tracked assets in both databases (the small one tracks
# fewer): the same work, on tables of different sizes.
for db in scale_small scale_big; do
  q "$db" <<SQL >/dev/null
INSERT INTO assets (symbol, name, asset_type, currency, provider, provider_symbol)
  SELECT 'S' || i, 'Stock ' || i, 'stock', 'USD', 'yahoo', 'S' || i FROM generate_series(1, 10000) i
  ON CONFLICT (symbol) DO NOTHING;
INSERT INTO tracked_assets (asset_id) SELECT id FROM assets ON CONFLICT DO NOTHING;
INSERT INTO asset_prices (asset_id, price, currency, price_time, fetched_at, source, instance_id, seq)
  SELECT a.id, 100, 'USD', now() - interval '1 hour', now() - interval '1 hour', 'yahoo', 'bench-w', a.id
  FROM assets a WHERE NOT EXISTS (SELECT 1 FROM asset_prices p WHERE p.asset_id = a.id);
ANALYZE assets; ANALYZE tracked_assets; ANALYZE asset_prices;
SQL
done
declare -A WRITE
for db in scale_small scale_big; do
  ws=()
  for i in 1 2 3; do
    ws+=("$(DATABASE_URL=$(url "$db") "$BIN/bench/dbtool" write 10000 "write-bench" "$i" | awk '{print $2}')")
  done
  WRITE[$db]=$(printf '%s\n' "${ws[@]}" | sort -n | sed -n 2p)
done

# ---- plans ---------------------------------------------------------------------------------------
if [ "$PLANS" = 1 ]; then
  mkdir -p bench/plans
  b=scale_big
  sym=S$(( ASSETS / 2 + 17 ))
  deep_log=$(( (LMIN[$b] + LMAX[$b]) / 2 ))
  deep_upd=$(( (UMIN[$b] + UMAX[$b]) / 2 ))
  cyc=$(( CYC[$b] - 10 ))
  plan() { # file EXECUTE-args [settings, as api/apidb.c makes them for that statement]
    local set=${3:-plan_cache_mode = force_custom_plan}
    { echo "EXPLAIN (ANALYZE, BUFFERS) EXECUTE $2"
      echo "-- fetcher-api's statement (build/bench/dbtool sql), $set as"
      echo "-- api/apidb.c sets it; ${ROWS_U[$b]} price_update_log rows, ${ROWS_L[$b]} fetcher_logs rows;"
      echo "-- the second run on one connection (the first fills its caches); load $(cut -d' ' -f1-3 /proc/loadavg)"
      { "$BIN/bench/dbtool" sql
        echo "SET ${set//, /; SET }; SET max_parallel_workers_per_gather = 0; SET jit = off;"
        # the first run fills the session's caches; the second is what a
        # worker of fetcher-api, whose connection lives on, sees
        echo "\\o /dev/null"
        echo "EXPLAIN (ANALYZE, BUFFERS) EXECUTE $2;"
        echo "\\o"
        echo "EXPLAIN (ANALYZE, BUFFERS) EXECUTE $2;"
      } | psql "$(url $b)" -X -q 2>&1 | grep -v '^PREPARE$'
    } >"bench/plans/$1.txt"
  }
  plan logs_newest "api_logs_fast(100, 0, NULL, NULL, NULL)"
  plan logs_level_error "api_logs_fast(100, 0, 'ERROR', NULL, NULL)"
  plan logs_min_level_warning "api_logs_fast(100, 0, NULL, '{WARNING,ERROR,CRITICAL}', NULL)"
  plan logs_offset_4999 "api_logs_fast(100, 4999, NULL, NULL, NULL)"
  plan logs_before_id "api_logs_fast(100, 0, NULL, NULL, $deep_log)"
  # q alone: the search's generic plan (planned once per connection)
  gen="plan_cache_mode = force_generic_plan, enable_seqscan = off"
  plan logs_search_symbol "api_logs_search(100, 0, NULL, NULL, NULL, NULL, NULL, '$sym:', NULL)" "$gen"
  plan logs_search_phrase "api_logs_search(100, 0, NULL, NULL, NULL, NULL, NULL, 'HTTP 503 from yahoo after', NULL)" "$gen"
  plan logs_search_symbol_custom "api_logs_narrow(100, 0, NULL, NULL, NULL, NULL, NULL, '$sym:', NULL)"
  plan logs_since_until "api_logs(100, 0, NULL, NULL, now() - interval '3 days', now() - interval '3 days' + interval '1 hour', NULL, NULL, NULL)"
  plan logs_cycle "api_logs_narrow(100, 0, NULL, NULL, NULL, NULL, $cyc, NULL, NULL)"
  plan recent_updates "api_recent_updates(50, NULL, NULL, NULL)"
  plan recent_updates_symbol "api_recent_updates(50, '$sym', NULL, NULL)"
  plan recent_updates_failed "api_recent_updates(50, NULL, false, NULL)"
  plan recent_updates_before_id "api_recent_updates(50, NULL, NULL, $deep_upd)"
  plan cycles "api_cycles(50, 0, NULL, NULL)"
  plan cycles_before_id "api_cycles(50, 0, NULL, $cyc)"
  plan cycle_detail "api_cycle($cyc)"
  plan statistics "api_statistics(15)"
  plan status_summary "api_status_summary"
  plan metrics "api_metrics(15, 600)"
fi

# ---- one day's retention ---------------------------------------------------------------------
declare -A RET RET_ROWS
for db in scale_small scale_big; do
  for t in price_update_log fetcher_logs; do
    r=$(q "$db" -c '\timing on' -c "SELECT fetcher_partitions_drop('$t', $((DAYS - 1)))")
    RET_ROWS[$db-$t]=$(head -1 <<<"$r")
    RET[$db-$t]=$(sed -n 's/^Time: \([0-9.]*\) ms.*/\1/p' <<<"$r")
  done
done

# ---- report -------------------------------------------------------------------------------------
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b + 0 == 0) print "n/a"; else printf "%.2f", a / b }'; }
printf '\nbench/scale.sh — %s cores, load average %s during the API runs\n' "$(nproc)" "$api_load"
printf 'small: %s update + %s log rows, %s GB; big: %s update + %s log rows, %s GB\n' \
  "${ROWS_U[scale_small]}" "${ROWS_L[scale_small]}" "${SIZE[scale_small]}" "${ROWS_U[scale_big]}" "${ROWS_L[scale_big]}" "${SIZE[scale_big]}"
printf '%-20s %9s %9s %9s | %9s %9s %9s | %6s %6s %6s\n' endpoint 'rps 1M' 'p50 1M' 'p99 1M' 'rps big' 'p50 big' 'p99 big' 'x rps' 'x p50' 'x p99'
for n in "${names[@]}"; do
  printf '%-20s %9s %9s %9s | %9s %9s %9s | %6s %6s %6s\n' "$n" \
    "${RPS[$n-small]}" "${P50[$n-small]}" "${P99[$n-small]}" "${RPS[$n-big]}" "${P50[$n-big]}" "${P99[$n-big]}" \
    "$(ratio "${RPS[$n-small]}" "${RPS[$n-big]}")" "$(ratio "${P50[$n-big]}" "${P50[$n-small]}")" "$(ratio "${P99[$n-big]}" "${P99[$n-small]}")"
  for s in small big; do
    [ -n "${ERRS[$n-$s]}" ] && echo "  ($n, $s: ${ERRS[$n-$s]} answers not 2xx)"
  done
done
echo
echo "bench scale_gen_small ${gen_small_s} s"
echo "bench scale_gen_big ${gen_big_s} s"
echo "bench scale_rows_updates_big ${ROWS_U[scale_big]} rows"
echo "bench scale_rows_logs_big ${ROWS_L[scale_big]} rows"
echo "bench scale_db_size_small ${SIZE[scale_small]} GB"
echo "bench scale_db_size_big ${SIZE[scale_big]} GB"
for n in "${names[@]}"; do
  for s in small big; do
    echo "bench scale_${n}_${s}_rps ${RPS[$n-$s]} req/s"
    echo "bench scale_${n}_${s}_p50 ${P50[$n-$s]} ms"
    echo "bench scale_${n}_${s}_p99 ${P99[$n-$s]} ms"
  done
  echo "bench scale_${n}_rps_ratio $(ratio "${RPS[$n-small]}" "${RPS[$n-big]}") x"
  echo "bench scale_${n}_p50_ratio $(ratio "${P50[$n-big]}" "${P50[$n-small]}") x"
  echo "bench scale_${n}_p99_ratio $(ratio "${P99[$n-big]}" "${P99[$n-small]}") x"
done
echo "bench scale_log_search_p99 ${P99[log_search_c4-big]} ms"
echo "bench scale_cycle_write_10k_small $(awk -v m="${WRITE[scale_small]}" 'BEGIN { printf "%.3f", m / 1000 }') s"
echo "bench scale_cycle_write_10k_big $(awk -v m="${WRITE[scale_big]}" 'BEGIN { printf "%.3f", m / 1000 }') s"
for db in scale_small scale_big; do
  s=${db#scale_}
  echo "bench scale_retention_day_updates_${s} $(awk -v m="${RET[$db-price_update_log]}" 'BEGIN { printf "%.3f", m / 1000 }') s"
  echo "bench scale_retention_day_updates_${s}_rows ${RET_ROWS[$db-price_update_log]} rows"
  echo "bench scale_retention_day_logs_${s} $(awk -v m="${RET[$db-fetcher_logs]}" 'BEGIN { printf "%.3f", m / 1000 }') s"
  echo "bench scale_retention_day_logs_${s}_rows ${RET_ROWS[$db-fetcher_logs]} rows"
done
