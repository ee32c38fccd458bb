#!/usr/bin/env bash
# A simulated week of the demo universe (demo/seed.sql: 20 US listings on
# NMS, SAP.DE on XETRA, 10 coins) under the schedule's own rule: the
# database's fetcher_due_assets (migration 010), asked at every check of a
# week on a simulated clock (Monday 2026-11-30 00:00 UTC on), with the
# providers' batch sizes (Yahoo 20 symbols a request, CoinGecko 100, all
# rates in one). Upstream requests and asset_prices rows for:
#   before    every asset every FETCH_INTERVAL (10 min), every fetch a row
#             (the daemon before issue 14)
#   after     the defaults now: 10 min, market hours, one row per real
#             price (a closed market's repeated answer is no row)
#   seed004   FETCH_STALENESS=crypto=1m,stock=10m, checks every 30 s
# A stock's market time moves with every fetch while its market is open,
# and to the close on the fetch after it; a coin's (CoinGecko's
# last_updated_at) with every fetch. Then the backfill of 40 assets for
# real: fetcherd against fakemarket (BENCH_LATENCY_MS, 50 ms a request),
# once without rate limits and once with the default ones.
# Prints a table, then "bench <name> <value> <unit>" lines.
set -uo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
bin=${BIN:-$root/build}
latency=${BENCH_LATENCY_MS:-50}
export PATH=/usr/lib/postgresql/15/bin:$PATH
free_port() { "$root/scripts/free-port"; }
export PGLOCAL_DIR=$root/.local/pg-week-$$ PGLOCAL_PORT=$(free_port) PGLOCAL_FAST=1
scripts/pg-local start >/dev/null || { echo "week: cannot start PostgreSQL" >&2; exit 1; }
fpid=
trap '[ -n "$fpid" ] && kill $fpid 2>/dev/null; scripts/pg-local stop >/dev/null 2>&1; rm -rf "$PGLOCAL_DIR"' EXIT
newdb() {
  createdb -h 127.0.0.1 -p "$PGLOCAL_PORT" -U fetcher "$1"
  export DATABASE_URL="postgresql://fetcher@127.0.0.1:$PGLOCAL_PORT/$1"
  "$bin/fetcherd" migrate >/dev/null
}
q() { psql "$DATABASE_URL" -XAtq -v ON_ERROR_STOP=1 -c "$1"; }

newdb week
psql "$DATABASE_URL" -Xq -v ON_ERROR_STOP=1 -f demo/seed.sql >/dev/null
# where the listings trade, as Yahoo's answers say (fakemarket's too)
q "UPDATE assets SET provider_exchange = CASE WHEN symbol LIKE '%.DE' THEN 'GER' ELSE 'NMS' END
   WHERE provider = 'yahoo'"
run() {  # name check bounds hours dedup
  psql "$DATABASE_URL" -XAtq -v ON_ERROR_STOP=1 <<SQL
CREATE FUNCTION pg_temp.week(p_check int, p_bounds jsonb, p_hours boolean, p_dedup boolean,
    OUT requests bigint, OUT rows bigint, OUT fetches bigint, OUT cycles bigint)
LANGUAGE plpgsql AS \$\$
DECLARE t timestamptz := '2026-11-30 00:00+00'; last_full timestamptz; ny int; nc int;
BEGIN
  requests := 0; rows := 0; fetches := 0; cycles := 0;
  UPDATE tracked_assets SET last_attempt_at = NULL;
  CREATE TEMP TABLE mt (asset_id bigint PRIMARY KEY, t timestamptz);
  CREATE TEMP TABLE d (asset_id bigint, prov text, mkt timestamptz);
  WHILE t < '2026-12-07 00:00+00' LOOP
    TRUNCATE d;
    INSERT INTO d SELECT x.asset_id, a.provider,
        CASE WHEN a.asset_type = 'crypto' OR COALESCE(s.is_open, true) THEN t ELSE s.last_close END
      FROM fetcher_due_assets(t, p_check, p_bounds, 600, p_hours) x JOIN assets a ON a.id = x.asset_id
      LEFT JOIN LATERAL fetcher_market_state(fetcher_market_key(a.asset_type, a.provider_exchange), t) s
        ON true
      WHERE x.due;
    SELECT count(*) FILTER (WHERE prov = 'yahoo'), count(*) FILTER (WHERE prov = 'coingecko')
      INTO ny, nc FROM d;
    IF last_full IS NULL OR t - last_full >= make_interval(secs => 600 - p_check / 2.0) THEN
      requests := requests + 1;  -- the exchange rates: one request with a full check
      last_full := t;
      cycles := cycles + 1;
    ELSIF ny + nc > 0 THEN
      cycles := cycles + 1;
    END IF;
    requests := requests + ceil(ny / 20.0) + ceil(nc / 100.0);
    fetches := fetches + ny + nc;
    rows := rows + CASE WHEN p_dedup THEN (SELECT count(*) FROM d LEFT JOIN mt USING (asset_id)
                                          WHERE mt.t IS DISTINCT FROM d.mkt)
                        ELSE ny + nc END;
    INSERT INTO mt SELECT asset_id, mkt FROM d ON CONFLICT (asset_id) DO UPDATE SET t = EXCLUDED.t;
    UPDATE tracked_assets SET last_attempt_at = t WHERE asset_id IN (SELECT asset_id FROM d);
    t := t + make_interval(secs => p_check);
  END LOOP;
END \$\$;
SELECT '$1', requests, rows, fetches, cycles FROM pg_temp.week($2, '$3', $4, $5);
SQL
}
s0=$(date +%s)
before=$(run before 600 '{}' false false)
after=$(run after 600 '{}' true true)
seed=$(run seed004 30 '{"crypto":60,"stock":600,"etf":600}' true true)
s1=$(date +%s)
printf '%-10s %10s %12s %10s %8s\n' mode requests price_rows fetches cycles
for l in "$before" "$after" "$seed"; do
  IFS='|' read -r m r w f c <<<"$l"
  printf '%-10s %10s %12s %10s %8s\n' "$m" "$r" "$w" "$f" "$c"
done
echo "(simulated in $((s1 - s0)) s)"

# --- the backfill of 40 assets, for real ------------------------------------------
fport=$(free_port)
"$bin/fakemarket" --port "$fport" --latency-ms "$latency" >/dev/null 2>&1 &
fpid=$!
for _ in $(seq 50); do curl -sf "http://127.0.0.1:$fport/_stats" >/dev/null && break; sleep 0.1; done
export YAHOO_BASE_URL=http://127.0.0.1:$fport COINGECKO_BASE_URL=http://127.0.0.1:$fport/api/v3 \
       FX_BASE_URL=http://127.0.0.1:$fport KRAKEN_BASE_URL=http://127.0.0.1:$fport \
       ERAPI_BASE_URL=http://127.0.0.1:$fport TWELVEDATA_BASE_URL=http://127.0.0.1:$fport \
       COINBASE_BASE_URL=http://127.0.0.1:$fport BINANCE_BASE_URL=http://127.0.0.1:$fport LOG_LEVEL=WARNING FETCH_BACKFILL=1 FETCH_MARKET_HOURS=0
backfill40() {  # db rate_limits → seconds
  newdb "$1"
  psql "$DATABASE_URL" -Xq -v ON_ERROR_STOP=1 -f demo/seed.sql >/dev/null
  q "INSERT INTO assets (symbol, name, asset_type, currency, provider, provider_symbol)
     SELECT s, s, 'stock', 'USD', 'yahoo', s FROM unnest(ARRAY['ORCL','INTC','AMD','CSCO','PEP',
       'MRK','ABBV','CVX','T']) s;
     INSERT INTO tracked_assets (asset_id) SELECT id FROM assets ON CONFLICT DO NOTHING"
  FETCH_RATE_LIMITS=$2 "$bin/fetcherd" >/dev/null 2>&1 &
  local pid=$! t0; t0=$(date +%s%N)
  for _ in $(seq 1200); do
    [ "$(q "SELECT count(*) FROM assets WHERE history_backfilled_at IS NULL")" = 0 ] && break
    sleep 0.1
  done
  local ms=$(( ($(date +%s%N) - t0) / 1000000 ))
  kill -TERM $pid; wait $pid
  echo "$ms $(q "SELECT count(*) FROM assets") $(q "SELECT count(*) FROM asset_prices_daily")"
}
read -r ms_free n_free d_free < <(backfill40 bf1 yahoo=0,coingecko=0,fx=0)
read -r ms_lim n_lim d_lim < <(backfill40 bf2 yahoo=60,coingecko=10,fx=30)
echo "backfill of $n_free assets, fakemarket at ${latency} ms: $ms_free ms without rate limits ($d_free daily closes);" \
     "$ms_lim ms with the default limits (yahoo 60/min, coingecko 10/min)"

for l in "$before" "$after" "$seed"; do
  IFS='|' read -r m r w f c <<<"$l"
  echo "bench week_requests_$m $r requests"
  echo "bench week_price_rows_$m $w rows"
done
echo "bench backfill_40_unlimited $(awk -v m="$ms_free" 'BEGIN{printf "%.2f", m/1000}') s"
echo "bench backfill_40_default_limits $(awk -v m="$ms_lim" 'BEGIN{printf "%.2f", m/1000}') s"
