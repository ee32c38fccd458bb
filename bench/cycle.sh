#!/usr/bin/env bash
# Cycle benchmark: one fetcherd cycle (`fetcherd --once`) against fakemarket
# answering every request after 50 ms, on a throwaway cluster of its own.
#   10k: 8,000 stocks (yahoo), 2,000 cryptos (coingecko), 1,000 portfolios
#        of 20 overlapping positions each
#   2k:  2,000 stocks, for scale against the reference Python fetcher (109 s
#        on this machine: serial, one request and three commits per asset)
#   portfolio recalculation: 10,000 portfolios x 10 positions
# Prints a table, then "bench <name> <value> <unit>" lines.
set -uo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
bin=${BIN:-$root/build}
latency=${BENCH_LATENCY_MS:-50}
conc=${FETCH_CONCURRENCY:-8}
export PATH=/usr/lib/postgresql/15/bin:$PATH
free_port() { "$root/scripts/free-port"; }

export PGLOCAL_DIR=$root/.local/pg-bench-$$ PGLOCAL_PORT=$(free_port) PGLOCAL_FAST=1
scripts/pg-local start >/dev/null || { echo "bench: cannot start PostgreSQL" >&2; exit 1; }
fport=$(free_port)
"$bin/fakemarket" --port "$fport" --latency-ms "$latency" >/dev/null 2>&1 &
fpid=$!
trap 'kill $fpid 2>/dev/null; scripts/pg-local stop >/dev/null 2>&1; rm -rf "$PGLOCAL_DIR"' EXIT
export YAHOO_BASE_URL=http://127.0.0.1:$fport COINGECKO_BASE_URL=http://127.0.0.1:$fport/api/v3 \
       FX_BASE_URL=http://127.0.0.1:$fport FETCH_RATE_LIMITS=yahoo=0,coingecko=0,fx=0 \
       FETCH_CONCURRENCY=$conc LOG_LEVEL=WARNING
for _ in $(seq 50); do curl -sf "http://127.0.0.1:$fport/_stats" >/dev/null && break; sleep 0.1; done

newdb() {
  createdb -h 127.0.0.1 -p "$PGLOCAL_PORT" -U fetcher "$1"
  export DATABASE_URL="postgresql://fetcher@127.0.0.1:$PGLOCAL_PORT/$1"
  "$bin/fetcherd" migrate >/dev/null
}
q() { psql "$DATABASE_URL" -XAtq -v ON_ERROR_STOP=1 -c "$1"; }

# one_cycle NAME: runs fetcherd --once, sets WALL (s), FETCH (s), RSS (KB,
# VmHWM: includes ~10 MB of shared library pages), ANON (KB, peak private
# memory, sampled every 20 ms), REQ, DUPS
one_cycle() {
  curl -s -X POST "http://127.0.0.1:$fport/_reset" >/dev/null
  local t0 t1 pid
  t0=$(date +%s%N)
  /usr/bin/time -f '%M' -o "$root/.local/bench-$1.rss" "$bin/fetcherd" --once >/dev/null 2>&1 &
  sleep 0.05
  pid=$(pgrep -P $! fetcherd | head -1)
  ANON=0
  while kill -0 $! 2>/dev/null; do
    a=$(awk '/^RssAnon:/ {print $2}' "/proc/$pid/status" 2>/dev/null)
    [ -n "$a" ] && [ "$a" -gt "$ANON" ] && ANON=$a
    sleep 0.02
  done
  wait $!
  t1=$(date +%s%N)
  RSS=$(tail -1 "$root/.local/bench-$1.rss")
  WALL=$(echo "($t1 - $t0) / 1000000000" | bc -l)
  FETCH=$(q "SELECT duration_ms / 1000.0 FROM fetcher_cycles ORDER BY id DESC LIMIT 1")
  local stats; stats=$(curl -s "http://127.0.0.1:$fport/_stats")
  REQ=$(echo "$stats" | jq .requests_total)
  DUPS=$(echo "$stats" | jq '[.by_symbol | to_entries[] | select(.value > 1)] | length')
  ROWS=$(q "SELECT count(*) FROM price_update_log")
  OKROWS=$(q "SELECT count(*) FROM price_update_log WHERE success")
}

ideal() { echo "$latency / 1000 * ($1 + $conc - 1) / $conc" | bc -l | awk '{ printf "%.3f", int(($1 * 1000) + 0.5) / 1000 }'; }

# --- 10k ------------------------------------------------------------------
newdb bench10k
q "INSERT INTO assets (symbol, name, asset_type, currency, provider, provider_symbol)
   SELECT 'S' || lpad(i::text, 5, '0'), 'Stock ' || i, 'stock', 'USD', 'yahoo', 'S' || lpad(i::text, 5, '0') FROM generate_series(1, 8000) i
   UNION ALL
   SELECT 'C' || lpad(i::text, 5, '0'), 'Coin ' || i, 'crypto', 'USD', 'coingecko', 'coin-' || lpad(i::text, 5, '0') FROM generate_series(1, 2000) i;
   INSERT INTO tracked_assets (asset_id) SELECT id FROM assets;
   INSERT INTO portfolios (name, currency) SELECT 'P' || i, 'USD' FROM generate_series(1, 1000) i;
   INSERT INTO portfolio_positions (portfolio_id, asset_id, quantity, average_buy_price)
   SELECT p.id, a.id, 1 + (p.id % 7), 10 FROM portfolios p
   JOIN LATERAL (SELECT id FROM assets ORDER BY (id * 7919 + p.id * 104729) % 10007 LIMIT 20) a ON true;"
one_cycle 10k
req10=$REQ; ideal10=$(ideal "$REQ")
ratio10=$(echo "$FETCH / $ideal10" | bc -l)
write10=$(echo "$WALL - $FETCH" | bc -l)
printf '\n%-34s %10s\n' "cycle, 10,000 assets, ${latency} ms" ""
printf '  %-32s %10.2f s\n' "fetch phase (cycle duration)" "$FETCH"
printf '  %-32s %10.2f s\n' "whole run incl. start, writes" "$WALL"
printf '  %-32s %10d\n' "upstream requests" "$REQ"
printf '  %-32s %10.2f s\n' "ideal (latency x ceil(req/$conc))" "$ideal10"
printf '  %-32s %10.2f\n' "ratio to ideal" "$ratio10"
printf '  %-32s %10d\n' "duplicate upstream requests" "$DUPS"
printf '  %-32s %10d (%d ok)\n' "price_update_log rows" "$ROWS" "$OKROWS"
printf '  %-32s %10.1f MB\n' "peak RSS of fetcherd" "$(echo "$RSS / 1024" | bc -l)"
printf '  %-32s %10.1f MB\n' "  of which private (RssAnon)" "$(echo "$ANON / 1024" | bc -l)"
b10=("bench cycle_wall_10k $(printf %.2f "$FETCH") s" "bench cycle_run_10k $(printf %.2f "$WALL") s"
     "bench cycle_upstream_requests_10k $REQ count" "bench cycle_ideal_10k $ideal10 s"
     "bench cycle_ratio_to_ideal_10k $(printf %.2f "$ratio10") ratio"
     "bench cycle_write_and_start_10k $(printf %.2f "$write10") s"
     "bench cycle_duplicate_requests_10k $DUPS count" "bench cycle_rows_10k $ROWS count"
     "bench fetcherd_peak_rss_10k $(printf %.1f "$(echo "$RSS / 1024" | bc -l)") MB"
     "bench fetcherd_peak_private_10k $(printf %.1f "$(echo "$ANON / 1024" | bc -l)") MB")

# --- 2k stocks ------------------------------------------------------------
newdb bench2k
q "INSERT INTO assets (symbol, name, asset_type, currency, provider, provider_symbol)
   SELECT 'T' || lpad(i::text, 5, '0'), 'Stock ' || i, 'stock', 'USD', 'yahoo', 'T' || lpad(i::text, 5, '0') FROM generate_series(1, 2000) i;
   INSERT INTO tracked_assets (asset_id) SELECT id FROM assets;"
one_cycle 2k
printf '\n%-34s\n' "cycle, 2,000 stocks, ${latency} ms"
printf '  %-32s %10.2f s   (reference Python: 109 s)\n' "fetch phase" "$FETCH"
printf '  %-32s %10.2f s\n' "whole run" "$WALL"
printf '  %-32s %10d\n' "upstream requests" "$REQ"
b2=("bench cycle_wall_2k_stocks $(printf %.2f "$FETCH") s" "bench cycle_run_2k_stocks $(printf %.2f "$WALL") s"
    "bench cycle_upstream_requests_2k_stocks $REQ count"
    "bench cycle_speedup_vs_reference_2k $(printf %.0f "$(echo "109 / $WALL" | bc -l)") x")

# --- portfolio recalculation: 10,000 portfolios x 10 positions -------------
newdb benchpf
q "INSERT INTO assets (symbol, name, asset_type, currency, provider, provider_symbol)
   SELECT 'A' || i, 'Asset ' || i, 'stock', CASE WHEN i % 10 = 0 THEN 'EUR' ELSE 'USD' END, 'yahoo', 'A' || i FROM generate_series(1, 2000) i;
   INSERT INTO tracked_assets (asset_id) SELECT id FROM assets;
   INSERT INTO asset_prices (asset_id, price, currency, price_time, fetched_at, source, instance_id, seq)
   SELECT a.id, 10 + (a.id % 90) + d, a.currency, now() - make_interval(days => d), now() - make_interval(days => d), 'bench', 'bench', a.id * 1000 + d
   FROM assets a, (VALUES (0), (2), (8), (40), (400)) AS v(d);
   INSERT INTO exchange_rates (base, quote, rate, rate_date) VALUES ('USD', 'EUR', 0.92, current_date);
   INSERT INTO portfolios (name, currency) SELECT 'P' || i, CASE WHEN i % 4 = 0 THEN 'EUR' ELSE 'USD' END FROM generate_series(1, 10000) i;
   INSERT INTO portfolio_positions (portfolio_id, asset_id, quantity, average_buy_price)
   SELECT p.id, 1 + ((p.id * 31 + k * 197) % 2000), 1 + k, 20 FROM portfolios p, generate_series(1, 10) k
   ON CONFLICT DO NOTHING;
   ANALYZE;"
positions=$(q "SELECT count(*) FROM portfolio_positions")
sqlfile=$(mktemp)
python3 - "$root/daemon/sql.c" >"$sqlfile" <<'PY'
import re, sys
s = open(sys.argv[1]).read()
i = s.index('{SQL_RECALC_PORTFOLIOS,')
body = s[i:s.index('2},', i)]
sql = ''.join(re.findall(r'"((?:[^"\\]|\\.)*)"', body)).replace('\\"', '"')
print("SET jit = off;\nPREPARE recalc(text, bigint) AS " + sql + ";")
print("\\timing on")
for _ in range(3):
    print("EXECUTE recalc('bench', 1);")
PY
times=$(psql "$DATABASE_URL" -XAq -f "$sqlfile" 2>&1 | sed -n 's/^Time: \([0-9.]*\) ms.*/\1/p')
rm -f "$sqlfile"
pf_ms=$(echo "$times" | sort -n | sed -n 2p)   # median of three
rows_pf=$(q "SELECT count(*) FROM portfolio_performance_cache")
printf '\n%-34s\n' "portfolio recalculation"
printf '  %-32s %10d portfolios, %d positions\n' "size" "$rows_pf" "$positions"
printf '  %-32s %10.3f s (median of 3)\n' "one statement" "$(echo "$pf_ms / 1000" | bc -l)"
echo
for l in "${b10[@]}" "${b2[@]}"; do echo "$l"; done
echo "bench portfolio_recalc_10k $(printf %.3f "$(echo "$pf_ms / 1000" | bc -l)") s"
