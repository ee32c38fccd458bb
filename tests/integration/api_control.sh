#!/usr/bin/env bash
# fetcher-api's write endpoints, events, metrics and counters against a real
# PostgreSQL: track/untrack/refresh assets, pause/resume (fetcher_settings,
# fetcher_logs, NOTIFY), /metrics, Server-Sent Events (a NOTIFY issued here
# with psql arrives; Last-Event-ID replays), the exact log totals kept by
# migration 003's triggers (inserts, deletes, retention's batched DELETE,
# TRUNCATE), statistics all-time vs since start, portfolio changes, the
# answer cache, and auth with and without a token.
source "$(dirname "$0")/../lib.sh"

B=$TEST_LOG_DIR/body H=$TEST_LOG_DIR/headers
# Every request says its body is JSON: writes of any other type are refused
# (415, hostile_crossite.sh tests that), and a GET ignores it.
req() { curl -s -o "$B" -D "$H" -w '%{http_code}' -H 'Content-Type: application/json' "$@"; }
jqb() { jq -r "$1" "$B" 2>/dev/null; }
hdr() { grep -i "^$1:" "$H" | head -1 | cut -d' ' -f2- | tr -d '\r'; }
# listen CHANNEL SECONDS OUTFILE — a psql session that LISTENs in the
# background (LISTEN_PID); returns once it is listening.
listen() {
  printf 'LISTEN %s;\nSELECT pg_sleep(%s);\n' "$1" "$2" |
    psql "$DATABASE_URL" -X -q >"$3" 2>&1 &
  LISTEN_PID=$!
  wait_for 5 bash -c "[ \"\$(psql '$DATABASE_URL' -XAtc \"SELECT count(*) FROM pg_stat_activity WHERE query LIKE 'SELECT pg_sleep($2)%'\")\" = 1 ]"
}

if new_db; then ok "new database"; else not_ok "new database"; exit 1; fi
check "migrations applied" migrate
check_eq "fetcher_settings has its one row" "1|f" "$(sql "SELECT id, paused FROM fetcher_settings")"

psql "$DATABASE_URL" -X -q -v ON_ERROR_STOP=1 <<'SQL'
INSERT INTO assets (symbol, name, asset_type, currency, provider, provider_symbol) VALUES
  ('AAA', 'Alpha Corp', 'stock', 'USD', 'yahoo', 'AAA'),
  ('OLD', 'Old Corp', 'stock', 'USD', 'yahoo', 'OLD');
INSERT INTO tracked_assets (asset_id) SELECT id FROM assets WHERE symbol = 'AAA';
INSERT INTO fetcher_instances (instance_id, host, pid, version, started_at, last_heartbeat,
  state, phase, interval_s, tracked_assets, queue, detail) VALUES
  ('i-live', 'h', 1, '0.1.0', '2026-01-01T01:00:00Z', now(), 'running', 'idle', 600, 1,
   '{"upstream_requests":12,"deduplicated":3,"cache_hits":4}', '{"db":"ok"}');
-- 2 cycles before the live instance started (another run), 3 since.
INSERT INTO fetcher_cycles (instance_id, seq, trigger, status, started_at, finished_at,
  duration_ms, assets_total, assets_succeeded, assets_failed, upstream_requests) VALUES
  ('i-old',  1, 'startup',  'failed',    '2025-12-31T00:00:00Z', '2025-12-31T00:00:05Z', 5000, 4, 0, 4, 4),
  ('i-live', 1, 'startup',  'succeeded', '2025-12-31T12:00:00Z', '2025-12-31T12:00:01Z', 1000, 4, 4, 0, 2),
  ('i-live', 2, 'startup',  'succeeded', '2026-01-01T01:00:00Z', '2026-01-01T01:00:02Z', 2000, 4, 4, 0, 2),
  ('i-live', 3, 'schedule', 'partial',   '2026-01-01T01:10:00Z', '2026-01-01T01:10:04Z', 4000, 4, 3, 1, 2),
  ('i-live', 4, 'schedule', 'running',   '2026-01-01T01:20:00Z', NULL, NULL, 4, 0, 0, 0);
INSERT INTO price_update_log (asset_id, symbol, success, error, instance_id, seq)
  SELECT id, symbol, false, 'HTTP 500', 'i-live', g FROM assets, generate_series(1, 2) g
  WHERE symbol = 'AAA';
INSERT INTO price_update_log (asset_id, symbol, success, instance_id, seq, price)
  SELECT id, symbol, true, 'i-live', 10, 1 FROM assets WHERE symbol = 'AAA';
INSERT INTO portfolios (name, currency) VALUES ('Main', 'EUR');
INSERT INTO portfolio_performance_cache (portfolio_id, currency, total_value, total_invested,
  total_return, return_pct, positions, priced_positions, value_usd, day_change, day_change_pct,
  week_change, week_change_pct)
  SELECT id, 'EUR', 1000, 900, 100, 11.11, 1, 1, 1080.5, -10.25, -1.015, 20, 2.04 FROM portfolios;
SQL

export API_CACHE_MS=0 HEARTBEAT_INTERVAL=5s
unset FETCHER_API_TOKEN
if start_api; then ok "fetcher-api starts"; else not_ok "fetcher-api starts"; exit 1; fi
A=$API_URL/api/fetcher

# --- events: a stream opened now sees everything below; one for the keep-alive --
SSE1=$TEST_LOG_DIR/sse1.out SSE_KA=$TEST_LOG_DIR/sse_ka.out
curl -sN -D "$TEST_LOG_DIR/sse1.h" "$A/events" >"$SSE1" 2>/dev/null &
SSE1_PID=$!; T_PIDS+=($SSE1_PID)
timeout 17 curl -sN "$A/events" >"$SSE_KA" 2>/dev/null &
SSE_KA_PID=$!
wait_for 5 grep -q '^: connected' "$SSE1"
check "events: stream opens" grep -q '^: connected' "$SSE1"
check_eq "events: 200" 200 "$(head -1 "$TEST_LOG_DIR/sse1.h" | cut -d' ' -f2)"
check_eq "events: Content-Type" "text/event-stream" "$(grep -i '^Content-Type:' "$TEST_LOG_DIR/sse1.h" | cut -d' ' -f2- | tr -d '\r')"
check_eq "events: Cache-Control" "no-store" "$(grep -i '^Cache-Control:' "$TEST_LOG_DIR/sse1.h" | cut -d' ' -f2- | tr -d '\r')"
sql "SELECT pg_notify('fetcher_events', '{\"type\":\"cycle_started\",\"instance_id\":\"i-live\",\"seq\":5,\"cycle_id\":9,\"trigger\":\"manual\",\"total\":3}')" >/dev/null
sql "SELECT pg_notify('fetcher_events', 'not json')" >/dev/null
sql "SELECT pg_notify('fetcher_events', '{\"no_type\":1}')" >/dev/null
sql "SELECT pg_notify('fetcher_events', '{\"type\":\"progress\",\"instance_id\":\"i-live\",\"seq\":6,\"done\":1,\"total\":3,\"phase\":\"fetching\"}')" >/dev/null
wait_for 5 grep -q '^event: progress' "$SSE1"
check_eq "events: first event, id 1" "id: 1|event: cycle_started" "$(grep -A1 '^id: 1$' "$SSE1" | paste -sd'|')"
check "events: payload forwarded as data" grep -qF 'data: {"type":"cycle_started","instance_id":"i-live","seq":5,"cycle_id":9,"trigger":"manual","total":3}' "$SSE1"
check_eq "events: invalid notifications dropped, ids consecutive" "id: 2|event: progress" "$(grep -A1 '^id: 2$' "$SSE1" | paste -sd'|')"
req -H 'Last-Event-ID: 1' --max-time 1 "$A/events" >/dev/null
check "Last-Event-ID 1: replays 2" grep -q '^event: progress' "$B"
check "Last-Event-ID 1: does not repeat 1" bash -c "! grep -q '^event: cycle_started' '$B'"
req -H 'Last-Event-ID: 0' --max-time 1 "$A/events" >/dev/null
check_eq "Last-Event-ID 0: replays 1 and 2" "1 2" "$(grep '^id:' "$B" | cut -d' ' -f2 | paste -sd' ')"
req -H 'Last-Event-ID: 2' --max-time 1 "$A/events" >/dev/null
check "Last-Event-ID current: nothing to replay" bash -c "! grep -q '^id:' '$B'"
req -H 'Last-Event-ID: 5000' --max-time 1 "$A/events" >/dev/null
check_eq "Last-Event-ID unknown: reset" "id: 2|event: reset" "$(grep -B0 -A1 '^id:' "$B" | head -2 | paste -sd'|')"
check_eq "Last-Event-ID garbage → 400" "400 Last-Event-ID" "$(req -H 'Last-Event-ID: x' "$A/events") $(jqb .parameter)"
check_eq "POST events → 405" 405 "$(req -X POST "$A/events")"

# --- pause / resume -------------------------------------------------------------
listen fetcher_control 3 "$TEST_LOG_DIR/control.out"; lp=$LISTEN_PID
check_eq "pause 200" 200 "$(req -X POST "$A/pause")"
check_eq "pause body" "true true" "$(jqb '"\(.success) \(.paused)"')"
since=$(jqb .since)
check "pause since RFC 3339" grep -Eq '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:.]+Z$' <<<"$since"
check_eq "fetcher_settings paused" "t|127.0.0.1" "$(sql "SELECT paused, paused_by FROM fetcher_settings")"
check_eq "pause again keeps since" "$since" "$(req -X POST "$A/pause" >/dev/null; jqb .since)"
check_eq "pause logged" "INFO|{\"client\": \"127.0.0.1\"}" "$(sql "SELECT level, context FROM fetcher_logs WHERE message = 'Scheduled cycles paused by 127.0.0.1' LIMIT 1")"
req "$A/status" >/dev/null
check_eq "status paused from fetcher_settings" "true $since" "$(jqb '"\(.paused) \(.paused_since)"')"
wait "$lp"
check "NOTIFY fetcher_control pause" grep -qF '{"action":"pause","client":"127.0.0.1"}' "$TEST_LOG_DIR/control.out"
check_eq "resume 200" "200 true false null" "$(req -X POST "$A/resume") $(jqb '"\(.success) \(.paused) \(.since)"')"
check_eq "fetcher_settings resumed" "f||" "$(sql "SELECT paused, paused_at, paused_by FROM fetcher_settings")"
check_eq "resume logged" 1 "$(sql "SELECT count(*) FROM fetcher_logs WHERE message = 'Scheduled cycles resumed by 127.0.0.1'")"
req "$A/status" >/dev/null
check_eq "status not paused" "false null" "$(jqb '"\(.paused) \(.paused_since)"')"
wait_for 5 grep -q '^event: resumed' "$SSE1"
check "events: paused event" grep -q '^event: paused' "$SSE1"
check "events: resumed event" grep -q '^event: resumed' "$SSE1"
check_eq "GET pause → 405 Allow POST" "405 POST" "$(req "$A/pause") $(hdr Allow)"
check_eq "GET resume → 405" 405 "$(req "$A/resume")"

# --- track / untrack / refresh ---------------------------------------------------------
check_eq "track stock → 201" 201 "$(req -X POST -H 'Content-Type: application/json' --data '{"symbol":"MSFT","type":"stock","name":"Microsoft"}' "$A/assets")"
check_eq "track: the asset" "MSFT Microsoft stock yahoo MSFT USD true true" \
  "$(jqb '"\(.symbol) \(.name) \(.asset_type) \(.provider) \(.provider_symbol) \(.currency) \(.tracked) \(.created)"')"
check_eq "track again → 409" "409 symbol" "$(req -X POST --data '{"symbol":"MSFT","type":"stock"}' "$A/assets") $(jqb .parameter)"
check_eq "track crypto: coingecko, lower-case id" "201 coingecko btc" \
  "$(req -X POST --data '{"symbol":"BTC","type":"crypto"}' "$A/assets") $(jqb '"\(.provider) \(.provider_symbol)"')"
check_eq "track crypto with provider_symbol" "201 ethereum EUR" \
  "$(req -X POST --data '{"symbol":"ETH","type":"crypto","provider_symbol":"ethereum","currency":"EUR"}' "$A/assets") $(jqb '"\(.provider_symbol) \(.currency)"')"
check_eq "track an existing untracked asset: kept as is" "201 Old Corp false" \
  "$(req -X POST --data '{"symbol":"OLD","type":"etf","name":"New"}' "$A/assets") $(jqb '"\(.name) \(.created)"')"
check_eq "tracked in the database" "AAA BTC ETH MSFT OLD" "$(sql "SELECT string_agg(symbol, ' ' ORDER BY symbol) FROM tracked_assets JOIN assets ON id = asset_id")"
check_eq "track logged with client" "INFO|127.0.0.1" "$(sql "SELECT level, context->>'client' FROM fetcher_logs WHERE message = 'Asset MSFT tracked by 127.0.0.1'")"
req "$A/assets" >/dev/null
check_eq "GET assets shows it" "true" "$(jqb '[.assets[] | select(.symbol == "MSFT")][0].tracked')"
for bad in '{"type":"stock"}|symbol' '{"symbol":"a b","type":"stock"}|symbol' '{"symbol":"X"}|type' \
           '{"symbol":"X","type":"share"}|type' '{"symbol":"X","type":"bond"}|provider' \
           '{"symbol":"X","type":"stock","provider":"nasdaq"}|provider' '{"symbol":"X","type":"stock","currency":"usd"}|currency' \
           '{"symbol":"X","type":"stock","name":""}|name' '{"symbol":"X","type":"stock","provider_symbol":"a b"}|provider_symbol' \
           '{"symbol":"X","type":"stock","x":1}|body' '[1]|body' '{"symbol":|body' '|body'; do
  body=${bad%|*} want=${bad##*|}
  check_eq "track $body → 400 $want" "400 $want" "$(req -X POST --data "$body" "$A/assets") $(jqb .parameter)"
done
check_eq "nothing tracked by bad requests" 0 "$(sql "SELECT count(*) FROM assets WHERE symbol = 'X'")"
head -c 70000 /dev/zero | tr '\0' 'a' >"$TEST_LOG_DIR/big"
check_eq "track 70 KB body → 413" 413 "$(req -X POST --data-binary @"$TEST_LOG_DIR/big" "$A/assets")"

listen fetcher_refresh 2 "$TEST_LOG_DIR/refresh.out"; lp=$LISTEN_PID
check_eq "refresh → 202" "202 true" "$(req -X POST "$A/assets/MSFT/refresh") $(jqb .success)"
check_eq "refresh message" string "$(jqb '.message | type')"
wait "$lp"
check "NOTIFY fetcher_refresh payload" grep -qF '{"symbols":["MSFT"],"client":"127.0.0.1"}' "$TEST_LOG_DIR/refresh.out"
check_eq "refresh untracked → 404" 404 "$(req -X POST "$A/assets/NOPE/refresh")"
check_eq "refresh bad symbol → 400" "400 symbol" "$(req -X POST "$A/assets/a%20b/refresh") $(jqb .parameter)"
check_eq "GET refresh → 405" "405 POST" "$(req "$A/assets/MSFT/refresh") $(hdr Allow)"

check_eq "untrack → 204" 204 "$(req -X DELETE "$A/assets/MSFT")"
check_eq "untrack: empty body" 0 "$(stat -c %s "$B")"
check_eq "untrack keeps the asset and history" "1|0" "$(sql "SELECT count(*), count(t.asset_id) FROM assets a LEFT JOIN tracked_assets t ON t.asset_id = a.id WHERE symbol = 'MSFT'")"
check_eq "untrack logged" 1 "$(sql "SELECT count(*) FROM fetcher_logs WHERE message = 'Asset MSFT untracked by 127.0.0.1' AND context->>'client' = '127.0.0.1'")"
check_eq "untrack again → 404" 404 "$(req -X DELETE "$A/assets/MSFT")"
check_eq "untrack unknown → 404" 404 "$(req -X DELETE "$A/assets/ZZZ")"
check_eq "untrack bad symbol → 400" "400 symbol" "$(req -X DELETE "$A/assets/$(printf 'A%.0s' $(seq 40))") $(jqb .parameter)"
check_eq "refresh after untrack → 404" 404 "$(req -X POST "$A/assets/MSFT/refresh")"
check_eq "track again after untrack → 201" "201 false" "$(req -X POST --data '{"symbol":"MSFT","type":"stock"}' "$A/assets") $(jqb .created)"
check_eq "PUT assets → 405" "405 GET, HEAD, POST" "$(req -X PUT "$A/assets") $(hdr Allow)"
check_eq "GET assets/X → 405 Allow DELETE" "405 DELETE" "$(req "$A/assets/X") $(hdr Allow)"
check_eq "assets/X/y → 404" 404 "$(req -X POST "$A/assets/X/y")"

# --- logs: exact totals from the trigger-kept counters ------------------------------------
total() { req "$A/logs?limit=1${1:-}" >/dev/null; jqb .total; }
exact() { sql "SELECT count(*) FROM fetcher_logs ${1:-}"; }
sql "INSERT INTO fetcher_logs (\"timestamp\", level, message, instance_id, seq)
     SELECT now() - make_interval(hours => 2 * i), (ARRAY['DEBUG','INFO','WARNING','ERROR','CRITICAL'])[i % 5 + 1],
            'bulk ' || i, 'i-live', i FROM generate_series(1, 500) i" >/dev/null
check_eq "total after a bulk insert" "$(exact)" "$(total)"
check_eq "total level=ERROR" "$(exact "WHERE level = 'ERROR'")" "$(total '&level=ERROR')"
check_eq "total min_level=WARNING" "$(exact "WHERE level IN ('WARNING','ERROR','CRITICAL')")" "$(total '&min_level=warning')"
check_eq "total level=INFO&min_level=ERROR: none" 0 "$(total '&level=INFO&min_level=ERROR')"
sql "DELETE FROM fetcher_logs WHERE level = 'DEBUG' AND seq % 2 = 0" >/dev/null
check_eq "total after a delete" "$(exact)" "$(total)"
check_eq "DEBUG total after a delete" "$(exact "WHERE level = 'DEBUG'")" "$(total '&level=debug')"
sql "UPDATE fetcher_logs SET level = 'CRITICAL' WHERE level = 'WARNING' AND seq < 100" >/dev/null
check_eq "totals after an update of level" "$(exact "WHERE level = 'CRITICAL'") $(exact "WHERE level = 'WARNING'")" \
  "$(total '&level=CRITICAL') $(total '&level=WARNING')"
# retention's statement, as fetcherd runs it: the day partitions wholly
# older than 20 days go (the rows waited in the default partition: it
# moves them into their days first), with their days' counters
sql "SELECT fetcher_partitions_drop('fetcher_logs', 20)" >/dev/null
check_eq "retention dropped the old days" 0 "$(exact "WHERE \"timestamp\" < date_trunc('day', (now() - interval '20 days') AT TIME ZONE 'UTC') AT TIME ZONE 'UTC'")"
check_eq "total after retention" "$(exact)" "$(total)"
check_eq "ERROR total after retention" "$(exact "WHERE level = 'ERROR'")" "$(total '&level=ERROR')"
check_eq "filtered total (q) still exact" "$(exact "WHERE message LIKE '%bulk 1%'")" "$(total '&q=bulk%201')"
check_eq "before_id does not change total" "$(exact)" "$(total '&before_id=100')"
n=$(exact)
sql "BEGIN; INSERT INTO fetcher_logs (level, message) VALUES ('INFO', 'rolled back'); ROLLBACK" >/dev/null
check_eq "rolled back insert not counted" "$n" "$(total)"
check_eq "counters equal count(*) per level" "" \
  "$(sql "SELECT c.level FROM (SELECT level, sum(n) AS n FROM fetcher_log_counts GROUP BY level) c LEFT JOIN (SELECT level, count(*) n FROM fetcher_logs GROUP BY level) l USING (level) WHERE c.n <> coalesce(l.n, 0)")"
req "$A/logs?limit=3&offset=10" >/dev/null
check_eq "offset page" "$(sql "SELECT string_agg(id::text, ' ') FROM (SELECT id FROM fetcher_logs ORDER BY id DESC LIMIT 3 OFFSET 10) x")" "$(jqb '[.logs[].id] | join(" ")')"
req "$A/logs?limit=2&level=ERROR&offset=3" >/dev/null
check_eq "level + offset page" "$(sql "SELECT string_agg(id::text, ' ') FROM (SELECT id FROM fetcher_logs WHERE level = 'ERROR' ORDER BY id DESC LIMIT 2 OFFSET 3) x")" "$(jqb '[.logs[].id] | join(" ")')"
req "$A/logs?limit=2&min_level=ERROR&before_id=300" >/dev/null
check_eq "min_level + before_id page" "$(sql "SELECT string_agg(id::text, ' ') FROM (SELECT id FROM fetcher_logs WHERE level IN ('ERROR','CRITICAL') AND id < 300 ORDER BY id DESC LIMIT 2) x")" "$(jqb '[.logs[].id] | join(" ")')"
req "$A/logs?offset=1000000" >/dev/null
check_eq "offset past the end: empty, total exact" "0 $(exact)" "$(jqb '"\(.logs | length) \(.total)"')"
check_eq "offset=1000001 → 400" "400 offset" "$(req "$A/logs?offset=1000001") $(jqb .parameter)"
sql "TRUNCATE fetcher_logs" >/dev/null
check_eq "total after TRUNCATE" 0 "$(total)"

# --- statistics: all time vs since start ------------------------------------------------------
# The heartbeat is fresh, as a running daemon keeps it (a sanitizer run may
# have taken longer than the live window to get here).
sql "UPDATE fetcher_instances SET last_heartbeat = now()" >/dev/null
req "$A/statistics" >/dev/null
check_eq "all time: finished cycles" "4 3 1 1" "$(jqb '.all_time | "\(.total_cycles) \(.successful_cycles) \(.failed_cycles) \(.partial_cycles)"')"
check_eq "all time top level = all_time" "4 75" "$(jqb '"\(.total_cycles) \(.success_rate)"')"
check_eq "all time average" "3" "$(jqb '.all_time.average_cycle_duration_seconds')"
check_eq "running cycles" 1 "$(jqb .running_cycles)"
check_eq "since start: the live instance's cycles since its start" "i-live 2 2 0 1 100" \
  "$(jqb '.since_start | "\(.instance_id) \(.total_cycles) \(.successful_cycles) \(.failed_cycles) \(.partial_cycles) \(.success_rate)"')"
check_eq "since start: average and assets" "3 7 1 4" \
  "$(jqb '.since_start | "\(.average_cycle_duration_seconds) \(.assets_succeeded) \(.assets_failed) \(.upstream_requests)"')"
check_eq "since start: started_at" "2026-01-01T01:00:00.000Z" "$(jqb .since_start.started_at)"
sql "UPDATE fetcher_cycles SET status = 'succeeded', finished_at = started_at + interval '1 second', duration_ms = 1000, assets_succeeded = 4 WHERE seq = 4 AND instance_id = 'i-live'" >/dev/null
req "$A/statistics" >/dev/null
check_eq "a cycle finishing moves the counters" "5 0 3" "$(jqb '"\(.total_cycles) \(.running_cycles) \(.since_start.total_cycles)"')"
sql "UPDATE fetcher_instances SET last_heartbeat = now() - interval '1 hour'" >/dev/null
req "$A/statistics" >/dev/null
check_eq "no live instance: since_start null, all time kept" "null 5" "$(jqb '"\(.since_start) \(.all_time.total_cycles)"')"
sql "UPDATE fetcher_instances SET last_heartbeat = now()" >/dev/null

# --- portfolios: value in USD and changes ----------------------------------------------------------
req "$A/portfolios" >/dev/null
check_eq "portfolio value_usd and changes" "1080.5 -10.25 -1.015 20 2.04 null null null null" \
  "$(jqb '.portfolios[0] | "\(.value_usd) \(.day_change) \(.day_change_pct) \(.week_change) \(.week_change_pct) \(.month_change) \(.month_change_pct) \(.year_change) \(.year_change_pct)"')"
check_eq "portfolio changes are numbers" number "$(jqb '.portfolios[0].day_change | type')"

# --- metrics ------------------------------------------------------------------------------------------
sql "UPDATE fetcher_instances SET last_heartbeat = now()" >/dev/null
check_eq "metrics 200" 200 "$(req "$API_URL/metrics")"
check_eq "metrics content type" "text/plain; version=0.0.4; charset=utf-8" "$(hdr Content-Type)"
check_eq "metrics no-store" "no-store" "$(hdr Cache-Control)"
M=$B
mval() { grep -E "^$1 " "$M" | awk '{print $2}'; }
check_eq "cycles_total succeeded" 3 "$(mval 'fetcherd_cycles_total\{status="succeeded"\}')"
check_eq "cycles_total failed" 1 "$(mval 'fetcherd_cycles_total\{status="failed"\}')"
check_eq "cycles_total partial" 1 "$(mval 'fetcherd_cycles_total\{status="partial"\}')"
check_eq "last success timestamp" "$(sql "SELECT extract(epoch FROM '2026-01-01T01:20:01Z'::timestamptz)::bigint")" "$(mval fetcherd_last_success_timestamp_seconds | cut -d. -f1)"
check_eq "cycle duration count" 5 "$(mval fetcherd_cycle_duration_seconds_count)"
check_eq "cycle duration ≤ 1 s" 2 "$(mval 'fetcherd_cycle_duration_seconds_bucket\{le="1"\}')"
check_eq "cycle duration ≤ 2.5 s" 3 "$(mval 'fetcherd_cycle_duration_seconds_bucket\{le="2.5"\}')"
check_eq "cycle duration sum" 13.000 "$(mval fetcherd_cycle_duration_seconds_sum)"
check_eq "assets tracked" "$(sql "SELECT count(*) FROM tracked_assets")" "$(mval fetcherd_assets_tracked)"
check_eq "failed updates by provider" 2 "$(mval 'fetcherd_failed_updates\{provider="yahoo"\}')"
check_eq "upstream requests of the live instance" 12 "$(mval 'fetcherd_upstream_requests_total\{instance_id="i-live"\}')"
check_eq "deduplicated" 3 "$(mval 'fetcherd_deduplicated_total\{instance_id="i-live"\}')"
check_eq "cache hits" 4 "$(mval 'fetcherd_cache_hits_total\{instance_id="i-live"\}')"
check_eq "up" 1 "$(mval fetcherd_up)"
check_cmp "api requests 200 counted" "$(mval 'fetcherd_api_requests_total\{code="200"\}')" -ge 10
check_cmp "api requests 400 counted" "$(mval 'fetcherd_api_requests_total\{code="400"\}')" -ge 10
check_cmp "api latency histogram" "$(mval fetcherd_api_request_duration_seconds_count)" -ge 10
check_cmp "resident memory > 1 MB" "$(mval 'process_resident_memory_bytes\{program="fetcher-api"\}')" -gt 1000000
check_cmp "event streams open" "$(mval fetcherd_api_event_streams)" -ge 1
check_eq "invalid events counted" 2 "$(mval fetcherd_api_events_invalid_total)"
check "every sample has HELP and TYPE" bash -c "
  for m in \$(grep -v '^#' '$M' | sed -E 's/[{ ].*//; s/_(bucket|sum|count)\$//' | sort -u); do
    grep -q \"^# TYPE \$m \" '$M' || { echo \"no TYPE for \$m\"; exit 1; }; done"
check "no per-symbol label" bash -c "! grep -q 'symbol=' '$M'"
check "all names prefixed fetcherd_ (or the standard process_)" bash -c "! grep -v '^#' '$M' | grep -qvE '^(fetcherd_|process_)'"
sql "UPDATE fetcher_instances SET last_heartbeat = now() - interval '1 hour'" >/dev/null
req "$API_URL/metrics" >/dev/null
check_eq "up 0 without a live instance" 0 "$(mval fetcherd_up)"
check_eq "POST metrics → 405" 405 "$(req -X POST "$API_URL/metrics")"

# --- ETag on the new GETs ---------------------------------------------------------------------------
req "$A/statistics" >/dev/null; etag=$(hdr ETag)
check_eq "statistics 304" 304 "$(req -H "If-None-Match: $etag" "$A/statistics")"

# --- auth: token set; and a non-loopback client without one ---------------------------------------
main_url=$API_URL main_pid=$API_PID
FETCHER_API_TOKEN=tok-123 start_api
A2=$API_URL/api/fetcher
for ep in "POST pause" "POST resume" "POST assets" "DELETE assets/AAA" "POST assets/AAA/refresh" "POST trigger-update"; do
  m=${ep% *} p=${ep#* }
  check_eq "token: $ep without it → 401" 401 "$(req -X "$m" --data '{"symbol":"Q","type":"stock"}' "$A2/$p")"
  check_eq "token: $ep wrong → 401" 401 "$(req -X "$m" -H 'Authorization: Bearer tok-124' --data '{"symbol":"Q","type":"stock"}' "$A2/$p")"
done
check_eq "token: pause with it → 200" 200 "$(req -X POST -H 'Authorization: Bearer tok-123' "$A2/pause")"
check_eq "token: resume with it → 200" 200 "$(req -X POST -H 'authorization: bearer tok-123' "$A2/resume")"
check_eq "token: track with it → 201" 201 "$(req -X POST -H 'Authorization: Bearer tok-123' --data '{"symbol":"TOK","type":"stock"}' "$A2/assets")"
check_eq "token: refresh with it → 202" 202 "$(req -X POST -H 'Authorization: Bearer tok-123' "$A2/assets/TOK/refresh")"
check_eq "token: untrack with it → 204" 204 "$(req -X DELETE -H 'Authorization: Bearer tok-123' "$A2/assets/TOK")"
check_eq "token: reads need none" 200 "$(req "$A2/status")"
ext_ip=$(hostname -I 2>/dev/null | tr ' ' '\n' | grep -E '^[0-9]+\.' | grep -v '^127\.' | head -1)
if [ -n "$ext_ip" ]; then
  p=$(free_port)
  API_BIND=0.0.0.0 API_PORT=$p "$BIN/fetcher-api" >>"$TEST_LOG_DIR/fetcher-api-ext.log" 2>&1 &
  T_PIDS+=($!)
  wait_for 10 curl -sf "http://127.0.0.1:$p/healthz"
  for ep in "POST pause" "POST resume" "POST assets" "DELETE assets/AAA" "POST assets/AAA/refresh"; do
    m=${ep% *} q=${ep#* }
    check_eq "no token: $ep from $ext_ip → 403" 403 "$(req -X "$m" --data '{}' "http://$ext_ip:$p/api/fetcher/$q")"
  done
  check_eq "no token: pause from loopback → 200" 200 "$(req -X POST "http://127.0.0.1:$p/api/fetcher/pause")"
  check_eq "paused by loopback" "t|127.0.0.1" "$(sql "SELECT paused, paused_by FROM fetcher_settings")"
  check_eq "no token: resume from loopback → 200" 200 "$(req -X POST "http://127.0.0.1:$p/api/fetcher/resume")"
  check_eq "no token: GET from $ext_ip still fine" 200 "$(req "http://$ext_ip:$p/api/fetcher/status")"
else
  skip "no token: non-loopback client → 403" "no non-loopback address"
fi
API_URL=$main_url API_PID=$main_pid

# --- event streams are capped (API_SSE_MAX_CLIENTS) ------------------------------------------------
p=$(free_port)
API_SSE_MAX_CLIENTS=1 API_PORT=$p "$BIN/fetcher-api" >>"$TEST_LOG_DIR/fetcher-api-cap.log" 2>&1 &
T_PIDS+=($!)
wait_for 10 curl -sf "http://127.0.0.1:$p/healthz"
curl -sN "http://127.0.0.1:$p/api/fetcher/events" >"$TEST_LOG_DIR/sse_cap.out" 2>/dev/null &
T_PIDS+=($!)
wait_for 5 grep -q '^: connected' "$TEST_LOG_DIR/sse_cap.out"
check_eq "events: over the cap → 503" "503 string" "$(req --max-time 2 "http://127.0.0.1:$p/api/fetcher/events") $(jqb '.error | type')"
req "http://127.0.0.1:$p/metrics" >/dev/null
check_eq "events: refusal counted" 1 "$(grep '^fetcherd_api_event_streams_refused_total ' "$B" | cut -d' ' -f2)"

# --- the answer cache ---------------------------------------------------------------------------------
p=$(free_port)
API_CACHE_MS=1000 API_PORT=$p "$BIN/fetcher-api" >>"$TEST_LOG_DIR/fetcher-api-cache.log" 2>&1 &
T_PIDS+=($!)
C=http://127.0.0.1:$p/api/fetcher
wait_for 10 curl -sf "http://127.0.0.1:$p/healthz"
sql "UPDATE fetcher_instances SET last_heartbeat = now()" >/dev/null
req "$C/logs?limit=5" >/dev/null
check_eq "cache: first answer not from the cache" "" "$(hdr X-Cache)"
t0=$(jqb .total)
sql "INSERT INTO fetcher_logs (level, message) VALUES ('INFO', 'cache test')" >/dev/null
req "$C/logs?limit=5" >/dev/null
check_eq "cache: second answer is, with Age" "hit 0 $t0" "$(hdr X-Cache) $(hdr Age) $(jqb .total)"
check_eq "cache: still no-store" no-store "$(hdr Cache-Control)"
req "$C/logs?limit=6" >/dev/null
check_eq "cache: another query string is another answer" "" "$(hdr X-Cache)"
etag=$(req "$C/logs?limit=5" >/dev/null; hdr ETag)
check_eq "cache: 304 from a stored answer" 304 "$(req -H "If-None-Match: $etag" "$C/logs?limit=5")"
sleep 1.1
req "$C/logs?limit=5" >/dev/null
check_eq "cache: fresh after the TTL" "$((t0 + 1))" "$(jqb .total)"
req "$C/status" >/dev/null; req "$C/status" >/dev/null
check_eq "cache: status cached" "hit false" "$(hdr X-Cache) $(jqb .paused)"
# Refused writes changed nothing: they leave the cache (else any client
# could send every reader to the database).
c1=$(req -X DELETE "$C/assets/NOPE")
c2=$(curl -s -o /dev/null -w '%{http_code}' -X POST -H 'Content-Type: text/plain' "$C/pause")
req "$C/status" >/dev/null
check_eq "cache: refused writes ($c1, $c2) leave it" "404 415 hit" "$c1 $c2 $(hdr X-Cache)"
req -X POST "$C/pause" >/dev/null
req "$C/status" >/dev/null
check_eq "cache: a write empties it" " true" "$(hdr X-Cache) $(jqb .paused)"
req -X POST "$C/resume" >/dev/null
check_eq "cache: errors are not stored" "400 " "$(req "$C/logs?limit=0"; req "$C/logs?limit=0" >/dev/null; echo " $(hdr X-Cache)")"

# --- SSE keep-alive (the stream opened at the start has been quiet > 15 s by now) -------------------------
wait "$SSE_KA_PID" 2>/dev/null
check "events: ': keepalive' within 17 s" grep -q '^: keepalive' "$SSE_KA"

# --- SIGTERM with an open stream: clean exit ---------------------------------------------------------------
kill -TERM "$API_PID"; wait "$API_PID"; rc=$?
check_eq "SIGTERM with streams open → exit 0" 0 "$rc"
wait_for 5 bash -c "! kill -0 $SSE1_PID 2>/dev/null"
check "stream ended by the shutdown" bash -c "! kill -0 $SSE1_PID 2>/dev/null"
