#!/usr/bin/env bash
# Migration 009 on a populated database, and what it makes possible:
#
# - A database at version 8 holding 1,000,000 rows (400,000 fetcher_logs,
#   600,000 price_update_log over 40 days, ids with gaps, sequences ahead
#   of the last id) is converted in place by `fetcherd migrate`: every row
#   comes back identical (row text, id and all), each in the partition of
#   its UTC day, the sequences continue where they were, the log counters
#   still match.
# - fetcherd's retention then drops the partitions of the days wholly older
#   than LOG_RETENTION_DAYS (they no longer exist) and keeps every row from
#   the start of the bound's day on; its log row counts what went, and the
#   per-day counters (log levels; update rows and failures by provider)
#   match the rows.
# - The API's log search has its time bounded: a search that cannot finish
#   within API_LOG_QUERY_TIMEOUT_MS (here a scan-shaped one, with the bound
#   at 10 ms) answers 503 naming q, not a worker held for 10 s.
#
# Normal build only: it measures nothing about memory safety that the other
# suites do not, and a million rows twice would double its time.
. "$(dirname "$0")/../lib.sh"

if [ "${TEST_LABEL:-normal}" = asan ]; then
  skip "migration 009 of a populated database" "runs on the normal build only"
  exit 0
fi

new_db || exit 1
# Version 8: the migrations before this one, from a directory of their own.
v8=$TEST_LOG_DIR/migrations-v8
mkdir -p "$v8"
for f in "$TEST_ROOT"/migrations/00[1-8]_*.sql; do cp "$f" "$v8/"; done
check "schema at version 8" env FETCHER_MIGRATIONS_DIR="$v8" "$BIN/fetcherd" migrate
check_eq "price_update_log is a plain table at version 8" r "$(sql "SELECT relkind FROM pg_class WHERE relname = 'price_update_log'")"

t0=$(date +%s)
psql "$DATABASE_URL" -X -q -v ON_ERROR_STOP=1 <<'SQL'
INSERT INTO assets (symbol, name, asset_type, currency, provider, provider_symbol)
  SELECT 'M' || i, 'Asset ' || i, 'stock', 'USD', 'yahoo', 'M' || i FROM generate_series(1, 100) i;
INSERT INTO fetcher_logs ("timestamp", level, message, context, instance_id, seq, cycle_id)
  SELECT now() - interval '40 days' + i * interval '8640 ms',
         (ARRAY['DEBUG', 'INFO', 'WARNING', 'ERROR', 'CRITICAL'])[1 + i % 5],
         'M' || (1 + i % 100) || ': message ' || i,
         CASE WHEN i % 3 = 0 THEN jsonb_build_object('i', i) END,
         CASE WHEN i % 7 = 0 THEN NULL ELSE 'mig' END, CASE WHEN i % 7 = 0 THEN NULL ELSE i END,
         CASE WHEN i % 2 = 0 THEN i / 100 END
  FROM generate_series(1, 400000) i;
INSERT INTO price_update_log ("timestamp", asset_id, symbol, price, currency, success, error,
    duration_ms, cycle_id, instance_id, seq, price_time, price_time_basis, source, failover_reason)
  SELECT now() - interval '40 days' + i * interval '5760 ms', 1 + i % 100, 'M' || (1 + i % 100),
         CASE WHEN i % 50 = 0 THEN NULL ELSE 100 + (i % 997) / 7.0 END, 'USD', i % 50 <> 0,
         CASE WHEN i % 50 = 0 THEN 'HTTP 503 from yahoo' END, i % 900, i / 100, 'mig', i,
         CASE WHEN i % 50 <> 0 THEN now() - interval '40 days' + i * interval '5760 ms' END,
         CASE WHEN i % 50 <> 0 THEN 'market' END, 'yahoo',
         CASE WHEN i % 400 = 0 THEN 'yahoo: down' END
  FROM generate_series(1, 600000) i;
-- gaps, and sequences ahead of the last row (a rolled-back insert, deletes)
DELETE FROM fetcher_logs WHERE id % 1000 = 17;
DELETE FROM price_update_log WHERE id % 1000 = 17;
SELECT nextval('fetcher_logs_id_seq') FROM generate_series(1, 5);
SELECT nextval('price_update_log_id_seq') FROM generate_series(1, 3);
SQL
echo "# populated in $(( $(date +%s) - t0 )) s"

fp() { # table → count, id sum, md5 of every row's text in id order
  sql "SELECT count(*) || ' ' || sum(id) || ' ' || md5(string_agg(t::text, '|' ORDER BY id)) FROM $1 t"
}
logs_before=$(fp fetcher_logs)
upd_before=$(fp price_update_log)
seq_logs=$(sql "SELECT last_value FROM fetcher_logs_id_seq")
seq_upd=$(sql "SELECT last_value FROM price_update_log_id_seq")
counts_before=$(sql "SELECT string_agg(level || '=' || n, ' ' ORDER BY level) FROM fetcher_log_counts WHERE n > 0")
rows=$(sql "SELECT (SELECT count(*) FROM fetcher_logs) + (SELECT count(*) FROM price_update_log)")
echo "# $rows rows at version 8"

# Version 9 only, so the rows compare column for column (later versions
# add columns); the rest is applied after.
v9=$TEST_LOG_DIR/migrations-v9
mkdir -p "$v9"
cp "$v8"/*.sql "$TEST_ROOT"/migrations/009_*.sql "$v9/"
t0=$(date +%s%N)
check "fetcherd migrate converts the database" env FETCHER_MIGRATIONS_DIR="$v9" "$BIN/fetcherd" migrate
echo "# migration 009 of $rows rows: $(( ($(date +%s%N) - t0) / 1000000 )) ms"

check_eq "price_update_log is partitioned" p "$(sql "SELECT relkind FROM pg_class WHERE relname = 'price_update_log'")"
check_eq "fetcher_logs is partitioned" p "$(sql "SELECT relkind FROM pg_class WHERE relname = 'fetcher_logs'")"
check_eq "fetcher_logs: every row kept, identical, ids and all" "$logs_before" "$(fp fetcher_logs)"
check_eq "price_update_log: every row kept, identical, ids and all" "$upd_before" "$(fp price_update_log)"
check_eq "every row is in the partition of its UTC day" "0 0" \
  "$(sql "SELECT (SELECT count(*) FROM fetcher_logs WHERE tableoid::regclass::text <> 'fetcher_logs_p' || to_char(\"timestamp\" AT TIME ZONE 'UTC', 'YYYYMMDD'))
          || ' ' || (SELECT count(*) FROM price_update_log WHERE tableoid::regclass::text <> 'price_update_log_p' || to_char(\"timestamp\" AT TIME ZONE 'UTC', 'YYYYMMDD'))")"
check_eq "the default partitions are empty" "0 0" \
  "$(sql "SELECT (SELECT count(*) FROM fetcher_logs_default) || ' ' || (SELECT count(*) FROM price_update_log_default)")"
check "partitions up to 3 days ahead" test -n "$(sql "SELECT to_regclass('fetcher_logs_p' || to_char((now() AT TIME ZONE 'UTC')::date + 3, 'YYYYMMDD'))")"
check_eq "the per-day log counters still count every level" "$counts_before" \
  "$(sql "SELECT string_agg(level || '=' || n, ' ' ORDER BY level) FROM (SELECT level, sum(n) AS n FROM fetcher_log_counts GROUP BY level) c")"
fails() { sql "SELECT (SELECT count(*) FROM price_update_log) || ' ' || (SELECT count(*) FROM price_update_log WHERE NOT success) || ' ' || (SELECT coalesce(sum(n), 0) || ' ' || coalesce(sum(failed), 0) FROM price_update_counts)"; }
n_all=$(sql "SELECT count(*) FROM price_update_log"); n_fail=$(sql "SELECT count(*) FROM price_update_log WHERE NOT success")
check_eq "the update counts (rows, failures for /metrics) start from the rows" "$n_all $n_fail $n_all $n_fail" "$(fails)"
check_eq "the sequences continue where they were" "$((seq_logs + 1)) $((seq_upd + 1))" \
  "$(sql "INSERT INTO fetcher_logs (level, message) VALUES ('INFO', 'after') RETURNING id") $(sql "INSERT INTO price_update_log (symbol, success, instance_id, seq) VALUES ('M1', true, 'after', 1) RETURNING id")"
check "the later migrations apply over it" "$BIN/fetcherd" migrate
check_eq "the idempotency key still refuses a row sent twice" 1 \
  "$(sql "INSERT INTO price_update_log (\"timestamp\", symbol, success, instance_id, seq) SELECT \"timestamp\", symbol, success, instance_id, seq FROM price_update_log WHERE instance_id = 'after' ON CONFLICT (instance_id, seq, \"timestamp\") DO NOTHING; SELECT count(*) FROM price_update_log WHERE instance_id = 'after'")"

# --- retention drops whole partitions ------------------------------------------------------
daystart="(date_trunc('day', (now() - interval '30 days') AT TIME ZONE 'UTC') AT TIME ZONE 'UTC')"
old_days=$(sql "SELECT string_agg(DISTINCT to_char(\"timestamp\" AT TIME ZONE 'UTC', 'YYYYMMDD'), ' ') FROM price_update_log WHERE \"timestamp\" < $daystart")
old_logs=$(sql "SELECT count(*) FROM fetcher_logs WHERE \"timestamp\" < $daystart")
old_upd=$(sql "SELECT count(*) FROM price_update_log WHERE \"timestamp\" < $daystart")
keep_upd=$(sql "SELECT count(*) FROM price_update_log WHERE \"timestamp\" >= $daystart AND instance_id = 'mig'")
check_cmp "there are old days to drop" "$(wc -w <<<"$old_days")" -ge 9
start_fakemarket || exit 1
LOG_RETENTION_DAYS=30 FETCH_INTERVAL=1h start_fetcherd
retained() { [ "$(sql "SELECT count(*) FROM fetcher_logs WHERE message LIKE 'Retention: deleted %'")" -ge 1 ]; }
check "retention ran" wait_for 30 retained
left=0
for d in $old_days; do
  for t in fetcher_logs price_update_log; do
    [ -n "$(sql "SELECT to_regclass('${t}_p$d')")" ] && left=$((left + 1))
  done
done
check_eq "the partitions of the $(wc -w <<<"$old_days") old days no longer exist" 0 "$left"
check_eq "nothing from before the bound's day is left" "0 0" \
  "$(sql "SELECT (SELECT count(*) FROM fetcher_logs WHERE \"timestamp\" < $daystart) || ' ' || (SELECT count(*) FROM price_update_log WHERE \"timestamp\" < $daystart)")"
check_eq "every update row from the bound's day on is kept" "$keep_upd" \
  "$(sql "SELECT count(*) FROM price_update_log WHERE \"timestamp\" >= $daystart AND instance_id = 'mig'")"
check_eq "the retention log counts what went" "$old_logs $old_upd" \
  "$(sql "SELECT (context->>'fetcher_logs') || ' ' || (context->>'price_update_log') FROM fetcher_logs WHERE message LIKE 'Retention: deleted %'")"
check_eq "the log counters add up to the table after the drop" "$(sql "SELECT count(*) FROM fetcher_logs")" \
  "$(sql "SELECT sum(n) FROM fetcher_log_counts")"
n_all=$(sql "SELECT count(*) FROM price_update_log"); n_fail=$(sql "SELECT count(*) FROM price_update_log WHERE NOT success")
check_eq "the update counts went with their days" "$n_all $n_fail $n_all $n_fail" "$(fails)"
stop_pid "$FETCHERD_PID"

# --- recent updates: a page costs the same however many assets are tracked ---------------
# fetcher-api's own statement (build/bench/dbtool sql), planned as the API
# plans it, with 10,000 assets: a page of 50 updates reads the names of
# its 50 rows' assets (and the symbol's own row), not every asset. Joined,
# the planner hashed all 10,000 for each page: at 44 M rows, 1.4x the
# time of the same page at 1 M rows with 225 assets (bench/scale.sh).
check "dbtool prints fetcher-api's statements" test -x "$BIN/bench/dbtool"
sql "INSERT INTO assets (symbol, name, asset_type, currency, provider, provider_symbol)
       SELECT 'N' || i, 'Asset N' || i, 'stock', 'USD', 'yahoo', 'N' || i FROM generate_series(1, 10000) i;
     ANALYZE assets; ANALYZE price_update_log" >/dev/null
mid=$(sql "SELECT (min(id) + max(id)) / 2 FROM price_update_log")
asset_rows() { # EXECUTE args → "rows returned, assets rows read"
  { "$BIN/bench/dbtool" sql | grep '^PREPARE api_recent_updates '
    echo "SET plan_cache_mode = force_custom_plan; SET max_parallel_workers_per_gather = 0;"
    echo "EXPLAIN (ANALYZE, FORMAT JSON) EXECUTE api_recent_updates($1);"
  } | psql "$DATABASE_URL" -X -Atq -v ON_ERROR_STOP=1 | jq -r '
      [.. | objects | select(."Relation Name"? == "assets")
       | ((."Actual Rows" + (."Rows Removed by Filter" // 0)) * ."Actual Loops")] | add // 0'
}
check_cmp "a symbol's 50 recent updates read at most 51 asset rows of 10,100" "$(asset_rows "50, 'M42', NULL, NULL")" -le 51
check_cmp "50 updates before an id read at most 50 asset rows of 10,100" "$(asset_rows "50, NULL, NULL, $mid")" -le 50
check_cmp "50 failed updates read at most 50 asset rows of 10,100" "$(asset_rows "50, NULL, false, NULL")" -le 50
# The per-day update counts (trigger price_update_counts_ins, migration
# 017) of one 50-row INSERT look up those rows' providers: 50 asset rows,
# not every asset hashed for each record_updates statement (3 ms of its
# ~35 ms at 10,000 assets, 20 times a cycle). auto_explain shows the
# trigger's own statement; the counts it keeps are checked above and below.
counts_asset_rows() {
  psql "$DATABASE_URL" -X -Atq -v ON_ERROR_STOP=1 2>&1 >/dev/null <<'SQL' |
LOAD 'auto_explain';
SET auto_explain.log_min_duration = 0; SET auto_explain.log_analyze = on;
SET auto_explain.log_nested_statements = on; SET client_min_messages = log;
INSERT INTO price_update_log ("timestamp", asset_id, symbol, success, instance_id, seq)
  SELECT now(), id, symbol, id % 5 <> 0, 'counts-lookup', id FROM assets WHERE symbol LIKE 'N%' ORDER BY id LIMIT 50;
SQL
  awk '/^LOG:/ { inside = 0 } /Query Text: INSERT INTO price_update_counts/ { inside = 1; seen = 1 }
       inside && / on assets / && match($0, /actual time=[0-9.]+\.\.[0-9.]+ rows=[0-9]+ loops=[0-9]+/) {
         split(substr($0, RSTART, RLENGTH), f, /[ =]/); n += f[5] * f[7] }
       END { print seen ? n + 0 : "no trigger plan" }'
}
before_counts=$(sql "SELECT sum(n) || ' ' || sum(failed) FROM price_update_counts")
check_eq "the update counts' trigger reads the 50 new rows' assets, not 10,100" 50 "$(counts_asset_rows)"
check_eq "... and counts the 50 rows, 10 failed" \
  "$(awk -v b="$before_counts" 'BEGIN { split(b, x, " "); print x[1] + 50, x[2] + 10 }')" \
  "$(sql "SELECT sum(n) || ' ' || sum(failed) FROM price_update_counts")"

# --- the log search's time bound ------------------------------------------------------------
export API_CACHE_MS=0
start_api || { not_ok "fetcher-api starts"; exit 1; }
B=$TEST_LOG_DIR/body
check_eq "a search through the trigram index" "200 true" \
  "$(curl -s -o "$B" -w '%{http_code}' "$API_URL/api/fetcher/logs?q=M42:%20message&limit=5") $(jq -r '[.logs[].message | test("M42: message")] | all' "$B")"
# A search with q alone runs with a generic plan (apidb.c), planned once
# per connection: that plan, made without knowing q, must still find the
# matches through every day's trigram index and read no day whole, the
# days still empty (ahead, default) too.
search_scans() { # → "trigram index scans, fetcher_logs days scanned otherwise"
  { "$BIN/bench/dbtool" sql | grep '^PREPARE api_logs_search '
    echo "SET plan_cache_mode = force_generic_plan; SET enable_seqscan = off; SET max_parallel_workers_per_gather = 0;"
    echo "EXPLAIN (FORMAT JSON) EXECUTE api_logs_search(5, 0, NULL, NULL, NULL, NULL, NULL, 'M42: message', NULL);"
  } | psql "$DATABASE_URL" -X -Atq -v ON_ERROR_STOP=1 | jq -r '
      [.. | objects | select(."Node Type"? == "Bitmap Index Scan" and (."Index Name" | test("message")))] as $t
      | [.. | objects | select((."Relation Name"? // "" | startswith("fetcher_logs")) and ."Node Type" != "Bitmap Heap Scan")] as $o
      | "\($t | length) \($o | length)"'
}
log_days=$(sql "SELECT count(*) FROM pg_inherits WHERE inhparent = 'fetcher_logs'::regclass")
check_eq "the search's generic plan: each of the $log_days days through its trigram index, none read whole" \
  "$log_days 0" "$(search_scans)"
# A search the trigram index cannot serve (two characters make no
# trigram) and that matches nothing reads every row: with the bound at
# 10 ms it gives way. (Its own API, so the first one keeps the default.)
stop_pid "$API_PID"
API_LOG_QUERY_TIMEOUT_MS=10 start_api || { not_ok "fetcher-api starts"; exit 1; }
t0=$(date +%s%N)
code=$(curl -s -o "$B" -w '%{http_code}' "$API_URL/api/fetcher/logs?q=zq")
ms=$(( ($(date +%s%N) - t0) / 1000000 ))
check_eq "a search that cannot finish in API_LOG_QUERY_TIMEOUT_MS answers 503 naming q" "503 q" "$code $(jq -r .parameter "$B")"
check "it says why" grep -q "took longer than 10 ms" "$B"
check_cmp "and gives way at once (${ms} ms)" "$ms" -lt 2000
# After a bounded query each worker's connection is back at its 10 s: a
# deep offset page (no bound, tens of ms) answers on every worker.
for _ in 1 2 3 4 5 6; do curl -s -o /dev/null "$API_URL/api/fetcher/logs?q=zq"; done
deep_ok=0
for _ in 1 2 3 4 5 6 7 8; do
  [ "$(curl -s -o /dev/null -w '%{http_code}' "$API_URL/api/fetcher/logs?offset=300000&limit=1")" = 200 ] && deep_ok=$((deep_ok + 1))
done
check_eq "unbounded queries after bounded ones run to the end (8 of 8)" 8 "$deep_ok"
exit 0
