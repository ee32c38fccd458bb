#!/usr/bin/env bash
# bench/migration.sh — how long migration 009 (the monitoring tables
# partitioned by day) takes on a populated database, for the README's
# upgrade notes.
#
# A throwaway cluster (scripts/pg-local, fsync off, as the other
# benchmarks), a database at version 8 (migrations 001–008 only) holding
# MIGRATION_ROWS rows (10,000,000: 60% price_update_log, 40% fetcher_logs,
# spread over 30 days, with every index version 8 has), then the real
# `fetcherd migrate` timed, and the row counts checked after it. Prints
# "bench migration_009 <s> s" and "bench migration_009_rows <n> rows".
#
#   BIN=build  MIGRATION_ROWS=10000000
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
BIN=${BIN:-build}
ROWS=${MIGRATION_ROWS:-10000000}
export PATH=/usr/lib/postgresql/15/bin:$PATH
[ -x "$BIN/fetcherd" ] || { echo "bench/migration.sh: build first (make)" >&2; exit 1; }

export PGLOCAL_DIR=$root/.local/pg-bench-migration-$$ PGLOCAL_PORT=${PGLOCAL_PORT:-$("$root/scripts/free-port")} PGLOCAL_FAST=1
export PGLOCAL_OPTS="-c max_wal_size=16GB -c checkpoint_timeout=30min"
v8=$PGLOCAL_DIR/migrations-v8
trap 'scripts/pg-local stop >/dev/null 2>&1 || true; rm -rf "$PGLOCAL_DIR"' EXIT
scripts/pg-local start >/dev/null
mkdir -p "$v8"
cp migrations/00[1-8]_*.sql "$v8/"
export DATABASE_URL="postgresql://fetcher@127.0.0.1:$PGLOCAL_PORT/fetcher"
FETCHER_MIGRATIONS_DIR=$v8 "$BIN/fetcherd" migrate >/dev/null 2>&1
q() { psql "$DATABASE_URL" -X -Atq -v ON_ERROR_STOP=1 "$@"; }

upd=$(( ROWS * 6 / 10 ))
logs=$(( ROWS - upd ))
echo "filling a version-8 database with $upd update and $logs log rows; load $(cut -d' ' -f1-3 /proc/loadavg)" >&2
t0=$(date +%s)
q <<SQL
INSERT INTO assets (symbol, name, asset_type, currency, provider, provider_symbol)
  SELECT 'S' || i, 'Stock ' || i, 'stock', 'USD', 'yahoo', 'S' || i FROM generate_series(1, 1000) i;
INSERT INTO price_update_log ("timestamp", asset_id, symbol, price, currency, success, error,
    duration_ms, cycle_id, instance_id, seq, price_time, price_time_basis, source)
  SELECT now() - interval '30 days' + i * (interval '30 days' / $upd), 1 + i % 1000, 'S' || (1 + i % 1000),
         CASE WHEN i % 50 <> 0 THEN 100 + i % 997 END, 'USD', i % 50 <> 0,
         CASE WHEN i % 50 = 0 THEN 'HTTP 503 from yahoo' END, i % 400, i / 1000, 'mig', i,
         now() - interval '30 days' + i * (interval '30 days' / $upd), 'market', 'yahoo'
  FROM generate_series(1, $upd) i;
INSERT INTO fetcher_logs ("timestamp", level, message, context, instance_id, seq, cycle_id)
  SELECT now() - interval '30 days' + i * (interval '30 days' / $logs),
         (ARRAY['DEBUG', 'INFO', 'WARNING', 'ERROR', 'CRITICAL'])[1 + i % 5],
         'S' || (1 + i % 1000) || ': message ' || i, CASE WHEN i % 3 = 0 THEN jsonb_build_object('i', i) END,
         'mig', i, i / 1000
  FROM generate_series(1, $logs) i;
VACUUM ANALYZE;
SQL
fill_s=$(( $(date +%s) - t0 ))
before=$(q -c "SELECT (SELECT count(*) FROM price_update_log) || ' ' || (SELECT count(*) FROM fetcher_logs)")
size=$(q -c "SELECT round(pg_database_size(current_database()) / 1073741824.0, 2)")
echo "filled in $fill_s s ($size GB); migrating; load $(cut -d' ' -f1-3 /proc/loadavg)" >&2

t0=$(date +%s%N)
"$BIN/fetcherd" migrate >"$PGLOCAL_DIR/migrate.log" 2>&1 || { cat "$PGLOCAL_DIR/migrate.log" >&2; exit 1; }
ms=$(( ($(date +%s%N) - t0) / 1000000 ))
after=$(q -c "SELECT (SELECT count(*) FROM price_update_log) || ' ' || (SELECT count(*) FROM fetcher_logs)")
[ "$before" = "$after" ] || { echo "bench/migration.sh: rows before $before, after $after" >&2; exit 1; }
parts=$(q -c "SELECT count(*) FROM pg_inherits WHERE inhparent = 'price_update_log'::regclass")
load=$(cut -d' ' -f1-3 /proc/loadavg)

printf '\nmigration 009 of %s rows (%s update, %s log; %s GB at version 8): %.1f s, %s partitions a table; load %s\n' \
  "$ROWS" "$upd" "$logs" "$size" "$(awk -v m="$ms" 'BEGIN { print m / 1000 }')" "$parts" "$load"
echo "bench migration_009 $(awk -v m="$ms" 'BEGIN { printf "%.1f", m / 1000 }') s"
echo "bench migration_009_rows $ROWS rows"
