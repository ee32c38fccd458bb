#!/usr/bin/env bash
# fetcher-api's REST contract against a real PostgreSQL: seeds heartbeat,
# cycle, log and update rows by hand (as fetcherd would write them), then
# checks every endpoint's fields and values, the errors (400/404/405/413/
# 401/403/503), NOTIFY delivery for trigger-update, and the static files.
source "$(dirname "$0")/../lib.sh"

# --- helpers -----------------------------------------------------------------
B=$TEST_LOG_DIR/body H=$TEST_LOG_DIR/headers
# req [curl args…] URL — prints the status; body in $B, headers in $H.
# Every request says its body is JSON: writes of any other type are refused
# (415, hostile_crossite.sh tests that), and a GET ignores it. Every answer
# is recorded for the OpenAPI check at the end (openapi_check, tests/lib.sh).
req() {
  local st
  : >"$B"  # curl leaves the file alone when an answer has no body
  st=$(curl -s -o "$B" -D "$H" -w '%{http_code}' -H 'Content-Type: application/json' "$@")
  openapi_record "$(req_method "$@")" "${!#}" "$st" "$B" "$H"
  echo "$st"
}
req_method() {
  local m=GET
  while [ $# -gt 0 ]; do
    case $1 in
      -X | --request) m=$2; shift ;;
      -I | --head) m=HEAD ;;
      -d | --data*) [ "$m" = GET ] && m=POST ;;
    esac
    shift
  done
  echo "$m"
}
jqb() { jq -r "$1" "$B" 2>/dev/null; }
hdr() { grep -i "^$1:" "$H" | head -1 | cut -d' ' -f2- | tr -d '\r'; }

# The schema: through `fetcherd migrate` when it exists, else straight from
# the files with psql, recorded in schema_migrations the way migrate does so
# /readyz sees nothing pending.
apply_schema() {
  if [ -x "$BIN/fetcherd" ] && migrate; then return 0; fi
  local f
  sql "CREATE TABLE IF NOT EXISTS schema_migrations (version text PRIMARY KEY,
       name text NOT NULL, checksum text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())" || return 1
  for f in "$TEST_ROOT"/migrations/[0-9][0-9][0-9]_*.sql; do
    psql "$DATABASE_URL" -X -q -v ON_ERROR_STOP=1 -1 -f "$f" >/dev/null || return 1
    sql "INSERT INTO schema_migrations (version, name, checksum) VALUES
         ('$(basename "$f" | cut -c1-3)', '$(basename "$f")', '$(md5sum <"$f" | cut -d' ' -f1)')" || return 1
  done
}

seed() {
  psql "$DATABASE_URL" -X -q -v ON_ERROR_STOP=1 <<'SQL'
INSERT INTO assets (symbol, name, asset_type, currency, provider, provider_symbol) VALUES
  ('AAA', 'Alpha Corp', 'stock', 'USD', 'yahoo', 'AAA'),
  ('BBB', 'Beta Inc', 'stock', 'EUR', 'yahoo', 'BBB'),
  ('CCC', 'Gamma Coin', 'crypto', 'USD', 'coingecko', 'gamma');
INSERT INTO tracked_assets (asset_id, last_price_update)
  SELECT id, CASE symbol WHEN 'AAA' THEN '2026-01-02T03:04:05.678Z'::timestamptz END FROM assets;

-- Cycles: 6 finished (3 succeeded, 1 partial, 1 failed, 1 aborted) and one
-- running. By hand: total 6, successful 4, failed 2, success_rate 66.67,
-- average (1000+2000+3000+4000+500+1500)/6 ms = 2 s, last 1.5 s,
-- assets 34 ok / 16 failed → 68.
INSERT INTO fetcher_cycles (instance_id, seq, trigger, status, started_at, finished_at,
  duration_ms, assets_total, assets_succeeded, assets_failed, upstream_requests) VALUES
  ('i-live', 1, 'startup',  'succeeded', '2026-01-01T00:00:00Z', '2026-01-01T00:00:01Z', 1000, 10, 10, 0, 3),
  ('i-live', 2, 'schedule', 'succeeded', '2026-01-01T00:10:00Z', '2026-01-01T00:10:02Z', 2000, 10, 9, 1, 3),
  ('i-live', 3, 'schedule', 'partial',   '2026-01-01T00:20:00Z', '2026-01-01T00:20:03Z', 3000, 10, 5, 5, 3),
  ('i-live', 4, 'schedule', 'failed',    '2026-01-01T00:30:00Z', '2026-01-01T00:30:04Z', 4000, 10, 0, 10, 3),
  ('i-live', 5, 'manual',   'aborted',   '2026-01-01T00:40:00Z', '2026-01-01T00:40:00.5Z', 500, 10, 0, 0, 0),
  ('i-live', 6, 'schedule', 'succeeded', '2026-01-01T00:50:00Z', '2026-01-01T00:50:01.5Z', 1500, 10, 10, 0, 3);
INSERT INTO fetcher_cycles (instance_id, seq, trigger, status, started_at, assets_total)
  VALUES ('i-live', 7, 'schedule', 'running', now() - interval '2 seconds', 3);

-- Instances: one live (heartbeat now), one whose heartbeats stopped, one
-- that shut down cleanly.
INSERT INTO fetcher_instances (instance_id, host, pid, version, started_at, last_heartbeat,
  state, phase, interval_s, next_cycle_at, cycle_id, cycle_started, cycle_done, cycle_total,
  tracked_assets, queue, detail) VALUES
  ('i-live', 'hostA', 101, '0.1.0', now() - interval '3600 seconds', now(), 'running',
   'fetching', 300, now() + interval '120 seconds', 7, now() - interval '2 seconds', 1, 3, 3,
   '{"queued":2,"in_flight":1,"completed":40,"deduplicated":5,"errors":1,"retries":2,"cache_hits":7,"cache_misses":3,"upstream_requests":44}',
   '{"db":"ok","offline":false,"degraded_reason":null,"paused":false}'),
  ('i-stale', 'hostB', 102, '0.1.0', now() - interval '2 days', now() - interval '1 day',
   'running', 'idle', 600, NULL, NULL, NULL, 0, 0, 3, '{}', '{}'),
  ('i-gone', 'hostC', 103, '0.1.0', now() - interval '3 days', now() - interval '2 days',
   'stopped', 'idle', 600, NULL, NULL, NULL, 0, 0, 3, '{}', '{}');
UPDATE fetcher_instances SET stopped_at = last_heartbeat WHERE instance_id = 'i-gone';

-- 25 logs, levels in turn DEBUG INFO WARNING ERROR CRITICAL (ids 1..25).
INSERT INTO fetcher_logs ("timestamp", level, message, context, instance_id, seq, cycle_id)
  SELECT '2026-01-01T00:00:00Z'::timestamptz + i * interval '1 minute',
         (ARRAY['DEBUG','INFO','WARNING','ERROR','CRITICAL'])[(i - 1) % 5 + 1],
         'message ' || i || CASE WHEN i = 7 THEN ' needle' ELSE '' END,
         jsonb_build_object('i', i), 'i-live', i, CASE WHEN i <= 10 THEN 3 END
  FROM generate_series(1, 25) AS i;

-- 8 price updates (ids 1..8); every third one failed.
INSERT INTO price_update_log ("timestamp", asset_id, symbol, price, currency, success, error,
  duration_ms, cycle_id, instance_id, seq)
  SELECT '2026-01-01T00:00:00Z'::timestamptz + i * interval '1 second', a.id, a.symbol,
         CASE WHEN i % 3 = 0 THEN NULL ELSE 100 + i + 0.25 END, a.currency, i % 3 <> 0,
         CASE WHEN i % 3 = 0 THEN 'HTTP 500' END, 10 * i, 6, 'i-live', i
  FROM generate_series(1, 8) AS i
  JOIN assets a ON a.symbol = (ARRAY['AAA','BBB','CCC'])[(i - 1) % 3 + 1]
  ORDER BY i;

INSERT INTO asset_prices (asset_id, price, currency, price_time, source, instance_id, seq)
  SELECT id, 123.4500, 'USD', '2026-01-02T03:04:05Z', 'yahoo', 'i-live', 1 FROM assets WHERE symbol = 'AAA';
INSERT INTO portfolios (name, currency) VALUES ('Main', 'USD'), ('Empty', 'EUR');
INSERT INTO portfolio_performance_cache (portfolio_id, currency, total_value, total_invested,
  total_return, return_pct, positions, priced_positions, missing, cycle_id)
  SELECT id, 'USD', 1500.5, 1000, 500.5, 50.05, 2, 2, '[]', 6 FROM portfolios WHERE name = 'Main';
SQL
}

# --- start ---------------------------------------------------------------------
if new_db; then ok "new database"; else not_ok "new database"; exit 1; fi
check "schema applied" apply_schema
check "rows seeded" seed

DASH=$(mktemp -d)
mkdir -p "$DASH/site" "$DASH/empty"
printf '<!doctype html><title>t</title>\n' >"$DASH/site/index.html"
printf 'console.log(1);\n' >"$DASH/site/app.js"
printf 'body{}\n' >"$DASH/site/style.css"
printf 'secret\n' >"$DASH/secret.txt"
printf 'hidden\n' >"$DASH/site/.hidden"
ln -s "$DASH/secret.txt" "$DASH/site/link.txt"

# start-up errors: one line naming the variable, exit 2
out=$(API_PORT=abc "$BIN/fetcher-api" 2>&1); rc=$?
check_eq "bad API_PORT exits 2" 2 "$rc"
check "bad API_PORT names the variable" grep -q '^fetcher-api: API_PORT: ' <<<"$out"
check_eq "bad value: one line" 1 "$(printf '%s\n' "$out" | wc -l)"
check "--version" bash -c "'$BIN/fetcher-api' --version | grep -q '^fetcher-api [0-9]'"
check "--help lists API_PORT" bash -c "'$BIN/fetcher-api' --help | grep -q API_PORT"

# Fresh answers for every check: the answer cache (API_CACHE_MS) has its own
# test in api_control.sh.
export FETCHER_DASHBOARD_DIR=$DASH/site HEARTBEAT_INTERVAL=5s FETCH_INTERVAL=10m API_CACHE_MS=0
unset FETCHER_API_TOKEN
if start_api; then ok "fetcher-api starts"; else not_ok "fetcher-api starts"; exit 1; fi
port=${API_URL##*:}

# --healthcheck (Docker HEALTHCHECK)
check "--healthcheck exits 0 when up" env API_PORT="$port" "$BIN/fetcher-api" --healthcheck
API_PORT=$(free_port) "$BIN/fetcher-api" --healthcheck >/dev/null 2>&1; rc=$?
check_eq "--healthcheck exits 1 when nothing listens" 1 "$rc"

# --- /healthz, /readyz ------------------------------------------------------------
check_eq "/healthz 200" 200 "$(req "$API_URL/healthz")"
check_eq "/healthz body" ok "$(jqb .status)"
check_eq "/healthz content type" "application/json; charset=utf-8" "$(hdr Content-Type)"
check_eq "/healthz no-store" "no-store" "$(hdr Cache-Control)"
check_eq "/readyz 200 when migrated" 200 "$(req "$API_URL/readyz")"

# --- status: running ---------------------------------------------------------------
check_eq "status 200" 200 "$(req "$API_URL/api/fetcher/status")"
check_eq "status running" running "$(jqb .status)"
check_cmp "uptime ~3600 s" "$(jqb .uptime_seconds)" -ge 3599
check_cmp "uptime ≤ 3610 s" "$(jqb .uptime_seconds)" -le 3610
check_eq "last_update from tracked_assets" "2026-01-02T03:04:05.678Z" "$(jqb .last_update)"
check_cmp "next_update_in_seconds ≤ 120" "$(jqb .next_update_in_seconds)" -le 120
check_cmp "next_update_in_seconds ≥ 110" "$(jqb .next_update_in_seconds)" -ge 110
check_eq "tracked_assets_count" 3 "$(jqb .tracked_assets_count)"
check_eq "update_interval_minutes from the live instance" 5 "$(jqb .update_interval_minutes)"
check_eq "phase" fetching "$(jqb .phase)"
check_eq "cycle" "7 1 3" "$(jqb '"\(.cycle.id) \(.cycle.done) \(.cycle.total)"')"
check "cycle.started_at RFC 3339" grep -Eq '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:.]+Z$' <<<"$(jqb .cycle.started_at)"
check_eq "queue counters" "2 1 40 5 1 2 7 3 44" \
  "$(jqb '.queue | "\(.queued) \(.in_flight) \(.completed) \(.deduplicated) \(.errors) \(.retries) \(.cache_hits) \(.cache_misses) \(.upstream_requests)"')"
check_eq "database ok" ok "$(jqb .database)"
check_eq "offline false" false "$(jqb .offline)"
check_eq "degraded_reason null" null "$(jqb .degraded_reason)"
check_eq "instances newest heartbeat first" "i-live i-stale i-gone" "$(jqb '[.instances[].instance_id] | join(" ")')"
check_eq "instance statuses" "running stale stopped" "$(jqb '[.instances[].status] | join(" ")')"
check_eq "instance fields" "hostA 101" "$(jqb '.instances[0] | "\(.host) \(.pid)"')"
check "instance timestamps" jq -e '.instances[0] | (.started_at|test("Z$")) and (.last_heartbeat|test("Z$")) and (.heartbeat_age_seconds < 15)' "$B"

# degraded: the live instance reports being offline
sql "UPDATE fetcher_instances SET detail = '{\"db\":\"ok\",\"offline\":true,\"degraded_reason\":\"all upstreams unreachable\",\"paused\":false}' WHERE instance_id = 'i-live'"
req "$API_URL/api/fetcher/status" >/dev/null
check_eq "status degraded when offline" degraded "$(jqb .status)"
check_eq "degraded_reason from detail" "all upstreams unreachable" "$(jqb .degraded_reason)"
check_eq "offline true" true "$(jqb .offline)"
sql "UPDATE fetcher_instances SET detail = '{\"db\":\"reconnecting\",\"offline\":false,\"degraded_reason\":null}' WHERE instance_id = 'i-live'"
req "$API_URL/api/fetcher/status" >/dev/null
check_eq "status degraded when fetcherd's db is not ok" degraded "$(jqb .status)"

# --- statistics (equal to the hand computation in seed) -------------------------------
check_eq "statistics 200" 200 "$(req "$API_URL/api/fetcher/statistics")"
check_eq "total_cycles" 6 "$(jqb .total_cycles)"
check_eq "successful_cycles" 4 "$(jqb .successful_cycles)"
check_eq "failed_cycles" 2 "$(jqb .failed_cycles)"
check_eq "success_rate" 66.67 "$(jqb .success_rate)"
check_eq "average_cycle_duration_seconds" true "$(jqb '.average_cycle_duration_seconds == 2')"
check_eq "last_cycle_duration_seconds" true "$(jqb '.last_cycle_duration_seconds == 1.5')"
check_eq "asset_success_rate" true "$(jqb '.asset_success_rate == 68')"
check_eq "assets_tracked" 3 "$(jqb .assets_tracked)"
check_cmp "uptime_seconds" "$(jqb .uptime_seconds)" -ge 3599

# --- logs ----------------------------------------------------------------------------
check_eq "logs 200" 200 "$(req "$API_URL/api/fetcher/logs")"
check_eq "logs total" 25 "$(jqb .total)"
check_eq "logs default limit/offset" "100 0" "$(jqb '"\(.limit) \(.offset)"')"
check_eq "logs newest first" "25 24 23" "$(jqb '[.logs[0:3][].id] | join(" ")')"
check_eq "log fields" "25 CRITICAL message 25 25" "$(jqb '.logs[0] | "\(.id) \(.level) \(.message) \(.context.i)"')"
check_eq "log context is an object" object "$(jqb '.logs[0].context | type')"
check_eq "log timestamp RFC 3339" "2026-01-01T00:25:00.000Z" "$(jqb '.logs[0].timestamp')"
req "$API_URL/api/fetcher/logs?level=error" >/dev/null
check_eq "level filter (case-insensitive) total" 5 "$(jqb .total)"
check_eq "level filter rows" "ERROR" "$(jqb '[.logs[].level] | unique | join(",")')"
req "$API_URL/api/fetcher/logs?limit=3&offset=2" >/dev/null
check_eq "paging rows" "23 22 21" "$(jqb '[.logs[].id] | join(" ")')"
check_eq "paging total and echo" "25 3 2" "$(jqb '"\(.total) \(.limit) \(.offset)"')"
req "$API_URL/api/fetcher/logs?offset=100" >/dev/null
check_eq "offset past the end" "0 25" "$(jqb '"\(.logs | length) \(.total)"')"
req "$API_URL/api/fetcher/logs?limit=2&level=WARNING&unknown=1" >/dev/null
check_eq "level + limit, unknown ignored" "23 18 5" "$(jqb '"\(.logs[0].id) \(.logs[1].id) \(.total)"')"

for bad in "limit=0" "limit=1001" "limit=abc" "limit=-1" "limit=" "limit=1.5" "limit=%2010" \
           "offset=-1" "offset=x" "level=TRACE" "level=" "level=WARN"; do
  name=${bad%%=*}
  code=$(req "$API_URL/api/fetcher/logs?$bad")
  check_eq "logs?$bad → 400" 400 "$code"
  check_eq "logs?$bad names $name" "$name" "$(jqb .parameter)"
done
req "$API_URL/api/fetcher/logs?limit=$(printf '1%.0s' $(seq 300))" >/dev/null
check_eq "over-long value refused" limit "$(jqb .parameter)"

# --- recent-updates ----------------------------------------------------------------------
check_eq "recent-updates 200" 200 "$(req "$API_URL/api/fetcher/recent-updates")"
check_eq "updates newest first" "BBB AAA CCC BBB AAA CCC BBB AAA" "$(jqb '[.updates[].symbol] | join(" ")')"
check_eq "update fields" "BBB Beta Inc 108.25 true EUR 80 6" \
  "$(jqb '.updates[0] | "\(.symbol) \(.name) \(.price) \(.success) \(.currency) \(.duration_ms) \(.cycle_id)"')"
check_eq "price is a JSON number" number "$(jqb '.updates[0].price | type')"
check_eq "failed update: price null, error" "null false HTTP 500" "$(jqb '.updates[2] | "\(.price) \(.success) \(.error)"')"
check_eq "update timestamp" "2026-01-01T00:00:08.000Z" "$(jqb '.updates[0].timestamp')"
req "$API_URL/api/fetcher/recent-updates?limit=3" >/dev/null
check_eq "recent-updates limit" 3 "$(jqb '.updates | length')"
for bad in "limit=0" "limit=501" "limit=ten"; do
  check_eq "recent-updates?$bad → 400 limit" "400 limit" "$(req "$API_URL/api/fetcher/recent-updates?$bad") $(jqb .parameter)"
done

# --- trigger-update: 202, and the NOTIFY really arrives -------------------------------------
listen_out=$TEST_LOG_DIR/listen.out
printf 'LISTEN fetcher_trigger;\nSELECT pg_sleep(4);\n' |
  psql "$DATABASE_URL" -X -q -v application_name=api_listen >"$listen_out" 2>&1 &
listen_pid=$!
wait_for 5 bash -c "[ \"\$(psql '$DATABASE_URL' -XAtc \"SELECT count(*) FROM pg_stat_activity WHERE query LIKE 'SELECT pg_sleep(4)%'\")\" = 1 ]"
check_eq "trigger-update 202" 202 "$(req -X POST "$API_URL/api/fetcher/trigger-update")"
check_eq "trigger-update body" "true Update triggered" "$(jqb '"\(.success) \(.message)"')"
wait "$listen_pid"
check "NOTIFY fetcher_trigger arrived" grep -q 'Asynchronous notification "fetcher_trigger"' "$listen_out"
check "payload names source and client" grep -q '"source":"api","client":"127.0.0.1"' "$listen_out"
check_eq "trigger-update with symbols" 202 \
  "$(req -X POST -H 'Content-Type: application/json' --data '{"symbols":["AAA","BRK-B"]}' "$API_URL/api/fetcher/trigger-update")"
check_eq "trigger-update bad symbols → 400" "400 symbols" \
  "$(req -X POST --data '{"symbols":["a b"]}' "$API_URL/api/fetcher/trigger-update") $(jqb .parameter)"
check_eq "GET trigger-update → 405" 405 "$(req "$API_URL/api/fetcher/trigger-update")"
check_eq "405 Allow" POST "$(hdr Allow)"

# --- routing errors ----------------------------------------------------------------------------
check_eq "unknown API path → 404" 404 "$(req "$API_URL/api/fetcher/nope")"
check_eq "404 is JSON" "not found" "$(jqb .error)"
check_eq "404 has no parameter" null "$(jqb .parameter)"
check_eq "POST status → 405" 405 "$(req -X POST "$API_URL/api/fetcher/status")"
check_eq "405 Allow: GET, HEAD" "GET, HEAD" "$(hdr Allow)"
check_eq "DELETE logs → 405" 405 "$(req -X DELETE "$API_URL/api/fetcher/logs")"
check_eq "HEAD status → 200" 200 "$(req -I "$API_URL/api/fetcher/status")"
head -c 70000 /dev/zero | tr '\0' 'a' >"$TEST_LOG_DIR/big"
check_eq "70 KB body → 413" 413 "$(req -X POST --data-binary @"$TEST_LOG_DIR/big" "$API_URL/api/fetcher/trigger-update")"
check_eq "70 KB chunked body → 413" 413 \
  "$(req -X POST -H 'Transfer-Encoding: chunked' --data-binary @"$TEST_LOG_DIR/big" "$API_URL/api/fetcher/trigger-update")"

long=$(head -c 40000 /dev/zero | tr '\0' a)
check_eq "40 KB URL → 414" 414 "$(req "$API_URL/api/fetcher/logs?q=$long")"
check_eq "40 KB header → 431" 431 "$(req -H "X-Big: $long" "$API_URL/healthz")"
check_eq "still serving after oversized requests" 200 "$(req "$API_URL/healthz")"

# --- static files ---------------------------------------------------------------------------------
check_eq "/ → index.html" 200 "$(req "$API_URL/")"
check_eq "index MIME" "text/html; charset=utf-8" "$(hdr Content-Type)"
check_eq "CSP" "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'" "$(hdr Content-Security-Policy)"
check_eq "nosniff" nosniff "$(hdr X-Content-Type-Options)"
check_eq "Referrer-Policy" no-referrer "$(hdr Referrer-Policy)"
check_eq "/app.js" "200 text/javascript; charset=utf-8" "$(req "$API_URL/app.js") $(hdr Content-Type)"
check_eq "app.js body" "console.log(1);" "$(cat "$B")"
check_eq "/style.css" "200 text/css; charset=utf-8" "$(req "$API_URL/style.css") $(hdr Content-Type)"
for bad in "/../secret.txt" "/%2e%2e/secret.txt" "/..%2fsecret.txt" "/%2e%2e%2fsecret.txt" \
           "/index.html%00.js" "/.hidden" "/link.txt" "/nothere.js" "/a/b" "/%2fetc%2fpasswd"; do
  code=$(req --path-as-is "$API_URL$bad")
  check_eq "static $bad refused" 404 "$code"
  check "static $bad leaks nothing" bash -c "! grep -q -e secret -e hidden '$B'"
done
check_eq "POST / → 405" 405 "$(req -X POST "$API_URL/")"

# --- ETag / If-None-Match -------------------------------------------------------------------------
req "$API_URL/api/fetcher/logs?limit=5" >/dev/null
etag=$(hdr ETag)
check "ETag present" test -n "$etag"
check_eq "If-None-Match → 304" 304 "$(req -H "If-None-Match: $etag" "$API_URL/api/fetcher/logs?limit=5")"
check_eq "other ETag → 200" 200 "$(req -H 'If-None-Match: "nope"' "$API_URL/api/fetcher/logs?limit=5")"

# --- the database connection dies under us: reconnect once, answer 200 -------------------------------
sql "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'fetcher-api' AND datname = current_database()" >/dev/null
ok_all=1
for _ in 1 2 3 4 5 6 7 8; do
  [ "$(req "$API_URL/api/fetcher/statistics")" = 200 ] || ok_all=0
done
check_eq "requests after the backends were killed all 200" 1 "$ok_all"

# === extended scope ("REST API complete") =====================================

# --- logs: min_level, since/until, cycle_id, q, before_id ---------------------------
L=$API_URL/api/fetcher/logs
req "$L?min_level=error" >/dev/null
check_eq "min_level=error: ERROR and CRITICAL" "10 CRITICAL,ERROR" "$(jqb '"\(.total) \([.logs[].level] | unique | join(","))"')"
req "$L?since=2026-01-01T00:20:00Z" >/dev/null
check_eq "since (inclusive)" "6 20" "$(jqb '"\(.total) \(.logs[-1].id)"')"
req "$L?since=2026-01-01T01:20:00%2B01:00" >/dev/null
check_eq "since with an offset" 6 "$(jqb .total)"
req "$L?until=2026-01-01T00:05:00Z" >/dev/null
check_eq "until (exclusive)" "4 4" "$(jqb '"\(.total) \(.logs[0].id)"')"
req "$L?since=2026-01-01T00:05:00Z&until=2026-01-01T00:10:00.000Z&level=info" >/dev/null
check_eq "since + until + level" "7" "$(jqb '[.logs[].id] | join(" ")')"
req "$L?cycle_id=3" >/dev/null
check_eq "cycle_id" "10 10" "$(jqb '"\(.total) \(.logs[0].id)"')"
req "$L?q=NEEDLE" >/dev/null
check_eq "q: case-insensitive substring" "1 7" "$(jqb '"\(.total) \(.logs[0].id)"')"
req "$L?q=100%25" >/dev/null
check_eq "q: % is literal, not a wildcard" 0 "$(jqb .total)"
req "$L?q=message_1" >/dev/null
check_eq "q: _ is literal, not a wildcard" 0 "$(jqb .total)"
req "$L?q=e%5C" >/dev/null
check_eq "q: a backslash is literal (no escape of what follows)" 0 "$(jqb .total)"
req "$L?q=MESSAGE%202" >/dev/null
check_eq "q: a small total is exact and says so" "7 true" "$(jqb '"\(.total) \(.total_exact)"')"
req "$L?before_id=10&limit=3" >/dev/null
check_eq "before_id cursor" "9 8 7" "$(jqb '[.logs[].id] | join(" ")')"
check_eq "next_before_id" 7 "$(jqb .next_before_id)"
req "$L?before_id=$(jqb .next_before_id)&limit=3" >/dev/null
check_eq "cursor continues" "6 5 4" "$(jqb '[.logs[].id] | join(" ")')"
req "$L?before_id=3&limit=3" >/dev/null
check_eq "last page: next_before_id null" "2 1 null" "$(jqb '"\([.logs[].id] | join(" ")) \(.next_before_id)"')"
for bad in "min_level=loud" "since=yesterday" "since=2026-01-01" "since=2026-02-30T00:00:00Z" \
           "until=2026-01-01T00:00:00" "cycle_id=x" "cycle_id=0" "q=" "before_id=0" "before_id=-5"; do
  name=${bad%%=*}
  check_eq "logs?$bad → 400 $name" "400 $name" "$(req "$L?$bad") $(jqb .parameter)"
done

# --- recent-updates: symbol, success ------------------------------------------------------
R=$API_URL/api/fetcher/recent-updates
req "$R?symbol=AAA" >/dev/null
check_eq "symbol filter" "AAA AAA AAA" "$(jqb '[.updates[].symbol] | join(" ")')"
req "$R?symbol=ZZZ" >/dev/null
check_eq "unknown symbol: empty list" 0 "$(jqb '.updates | length')"
req "$R?success=false" >/dev/null
check_eq "success=false" "6 3" "$(jqb '[.updates[].id] | join(" ")')"
req "$R?success=true&symbol=BBB&limit=1" >/dev/null
check_eq "success + symbol + limit" "8" "$(jqb '[.updates[].id] | join(" ")')"
check_eq "symbol=a b → 400" "400 symbol" "$(req "$R?symbol=a%20b") $(jqb .parameter)"
# keyset pages: next_before_id names the next page, the last page has none
req "$R?limit=3" >/dev/null
check_eq "recent-updates: first page and its cursor" "8 7 6 6" "$(jqb '"\([.updates[].id] | join(" ")) \(.next_before_id)"')"
req "$R?limit=3&before_id=$(jqb .next_before_id)" >/dev/null
check_eq "recent-updates: the cursor continues" "5 4 3 3" "$(jqb '"\([.updates[].id] | join(" ")) \(.next_before_id)"')"
req "$R?limit=3&before_id=3" >/dev/null
check_eq "recent-updates: last page, no cursor" "2 1 null" "$(jqb '"\([.updates[].id] | join(" ")) \(.next_before_id)"')"
req "$R?success=false&before_id=6" >/dev/null
check_eq "recent-updates: cursor with a filter" "3" "$(jqb '[.updates[].id] | join(" ")')"
for bad in before_id=0 before_id=x before_id=-1; do
  check_eq "recent-updates?$bad → 400 before_id" "400 before_id" "$(req "$R?$bad") $(jqb .parameter)"
done
check_eq "success=maybe → 400" "400 success" "$(req "$R?success=maybe") $(jqb .parameter)"

# --- cycles, cycles/{id} --------------------------------------------------------------------
C=$API_URL/api/fetcher/cycles
check_eq "cycles 200" 200 "$(req "$C")"
check_eq "cycles total, newest first" "7 7 running" "$(jqb '"\(.total) \(.cycles[0].id) \(.cycles[0].status)"')"
check_eq "cycle fields" "6 succeeded schedule 1500 10 10 0 2026-01-01T00:50:01.500Z" \
  "$(jqb '.cycles[1] | "\(.id) \(.status) \(.trigger) \(.duration_ms) \(.assets_total) \(.assets_succeeded) \(.assets_failed) \(.finished_at)"')"
req "$C?limit=2&offset=1" >/dev/null
check_eq "cycles paging" "6 5 7 2 1" "$(jqb '"\([.cycles[].id] | join(" ")) \(.total) \(.limit) \(.offset)"')"
req "$C?status=FAILED" >/dev/null
check_eq "cycles status filter" "1 4" "$(jqb '"\(.total) \(.cycles[0].id)"')"
req "$C?limit=3&before_id=7" >/dev/null
check_eq "cycles: keyset page and cursor" "6 5 4 4 7" "$(jqb '"\([.cycles[].id] | join(" ")) \(.next_before_id) \(.total)"')"
req "$C?limit=3&before_id=$(jqb .next_before_id)" >/dev/null
check_eq "cycles: the cursor continues to the end" "3 2 1 1" "$(jqb '"\([.cycles[].id] | join(" ")) \(.next_before_id)"')"
req "$C?limit=3&before_id=2" >/dev/null
check_eq "cycles: last page, no cursor" "1 null" "$(jqb '"\([.cycles[].id] | join(" ")) \(.next_before_id)"')"
check_eq "cycles before_id=abc → 400" "400 before_id" "$(req "$C?before_id=abc") $(jqb .parameter)"
check_eq "cycles status=bogus → 400" "400 status" "$(req "$C?status=bogus") $(jqb .parameter)"
check_eq "cycles limit=0 → 400" "400 limit" "$(req "$C?limit=0") $(jqb .parameter)"
check_eq "cycles/6 200" 200 "$(req "$C/6")"
check_eq "cycle detail" "6 succeeded 8" "$(jqb '"\(.id) \(.status) \(.updates | length)"')"
check_eq "cycle updates in order" "1 2 3" "$(jqb '[.updates[0:3][].id] | join(" ")')"
check_eq "cycle update fields" "AAA 101.25 true USD" "$(jqb '.updates[0] | "\(.symbol) \(.price) \(.success) \(.currency)"')"
req "$C/1" >/dev/null
check_eq "cycle without updates: empty list" "1 0" "$(jqb '"\(.id) \(.updates | length)"')"
check_eq "cycles/999 → 404" 404 "$(req "$C/999")"
check_eq "cycles/abc → 400 id" "400 id" "$(req "$C/abc") $(jqb .parameter)"
check_eq "cycles/ → 404" 404 "$(req "$C/")"
check_eq "cycles/6/x → 404" 404 "$(req "$C/6/x")"
check_eq "POST cycles/6 → 405" 405 "$(req -X POST "$C/6")"

# --- assets, portfolios, queue -----------------------------------------------------------------
check_eq "assets 200" 200 "$(req "$API_URL/api/fetcher/assets")"
check_eq "assets listed by symbol" "AAA BBB CCC" "$(jqb '[.assets[].symbol] | join(" ")')"
check_eq "asset with a price" "Alpha Corp 123.45 number true 2026-01-02T03:04:05.678Z" \
  "$(jqb '.assets[0] | "\(.name) \(.price) \(.price | type) \(.tracked) \(.last_price_update)"')"
check_eq "asset without a price" "null EUR" "$(jqb '.assets[1] | "\(.price) \(.currency)"')"
check_eq "portfolios 200" 200 "$(req "$API_URL/api/fetcher/portfolios")"
check_eq "portfolio valued" "Main 1500.5 1000 500.5 50.05 2 6" \
  "$(jqb '.portfolios[0] | "\(.name) \(.total_value) \(.total_invested) \(.total_return) \(.return_pct) \(.positions) \(.cycle_id)"')"
check_eq "portfolio not valued yet" "Empty EUR null" "$(jqb '.portfolios[1] | "\(.name) \(.currency) \(.total_value)"')"
# A slow (sanitizer) run may have taken longer than the live window since
# the seed: the heartbeat is fresh again, as a running daemon keeps it.
sql "UPDATE fetcher_instances SET last_heartbeat = now() WHERE instance_id = 'i-live'"
check_eq "queue 200" 200 "$(req "$API_URL/api/fetcher/queue")"
check_eq "queue of the live instance" "running i-live 2 1 44" \
  "$(jqb '"\(.status) \(.instance_id) \(.queue.queued) \(.queue.in_flight) \(.queue.upstream_requests)"')"
check_eq "no CORS header unless configured" "" "$(hdr Access-Control-Allow-Origin)"

# --- status: stopped (heartbeat too old) ----------------------------------------------------------------
sql "UPDATE fetcher_instances SET last_heartbeat = now() - interval '16 seconds' WHERE instance_id = 'i-live'"
req "$API_URL/api/fetcher/status" >/dev/null
check_eq "status stopped when the heartbeat is 16 s old" stopped "$(jqb .status)"
check_eq "stopped: uptime 0" 0 "$(jqb .uptime_seconds)"
check_eq "stopped: next_update_in_seconds null" null "$(jqb .next_update_in_seconds)"
check_eq "stopped: interval from FETCH_INTERVAL" 10 "$(jqb .update_interval_minutes)"
check_eq "stopped: cycle null" null "$(jqb .cycle)"
check_eq "stopped: live instance now stale" stale "$(jqb '.instances[0].status')"
sql "UPDATE fetcher_instances SET last_heartbeat = now() - interval '10 seconds' WHERE instance_id = 'i-live'"
req "$API_URL/api/fetcher/status" >/dev/null
check_eq "10 s old heartbeat is still live" degraded "$(jqb .status)"
sql "UPDATE fetcher_instances SET state = 'stopped', stopped_at = now() WHERE instance_id = 'i-live'"
req "$API_URL/api/fetcher/status" >/dev/null
check_eq "clean shutdown → stopped" stopped "$(jqb .status)"
req "$API_URL/api/fetcher/statistics" >/dev/null
check_eq "statistics uptime 0 when stopped" 0 "$(jqb .uptime_seconds)"

# --- auth with FETCHER_API_TOKEN ----------------------------------------------------------------------
first_url=$API_URL first_pid=$API_PID
FETCHER_API_TOKEN=s3cret-token FETCHER_DASHBOARD_DIR=$DASH/empty API_CORS_ORIGIN=https://dash.example start_api
check_eq "token: no header → 401" 401 "$(req -X POST "$API_URL/api/fetcher/trigger-update")"
check_eq "401 is JSON" string "$(jqb '.error | type')"
check_eq "token: wrong token → 401" 401 "$(req -X POST -H 'Authorization: Bearer s3cret-tokex' "$API_URL/api/fetcher/trigger-update")"
check_eq "token: prefix of token → 401" 401 "$(req -X POST -H 'Authorization: Bearer s3cret' "$API_URL/api/fetcher/trigger-update")"
check_eq "token: longer token → 401" 401 "$(req -X POST -H 'Authorization: Bearer s3cret-token2' "$API_URL/api/fetcher/trigger-update")"
check_eq "token: right token → 202" 202 "$(req -X POST -H 'Authorization: Bearer s3cret-token' "$API_URL/api/fetcher/trigger-update")"
check_eq "dashboard dir without index.html → 404" 404 "$(req "$API_URL/")"
req "$API_URL/api/fetcher/queue" >/dev/null
check_eq "queue when stopped" "stopped null 0" "$(jqb '"\(.status) \(.instance_id) \(.queue.queued)"')"
check_eq "CORS: Allow-Origin" "https://dash.example" "$(hdr Access-Control-Allow-Origin)"
check_eq "CORS: preflight 204" 204 "$(req -X OPTIONS -H 'Origin: https://dash.example' -H 'Access-Control-Request-Method: POST' "$API_URL/api/fetcher/trigger-update")"
check_eq "CORS: preflight methods" "POST" "$(hdr Access-Control-Allow-Methods)"
check "CORS: preflight allows Authorization" bash -c "grep -qi '^Access-Control-Allow-Headers:.*Authorization' '$H'"
check_eq "CORS: on errors too" "https://dash.example" "$(req "$API_URL/api/fetcher/nope" >/dev/null; hdr Access-Control-Allow-Origin)"
API_URL=$first_url

# --- loopback only without a token: a non-loopback client gets 403 ----------------------------------------
ext_ip=$(hostname -I 2>/dev/null | tr ' ' '\n' | grep -E '^[0-9]+\.' | grep -v '^127\.' | head -1)
if [ -n "$ext_ip" ]; then
  p=$(free_port)
  API_BIND=0.0.0.0 API_PORT=$p "$BIN/fetcher-api" >>"$TEST_LOG_DIR/fetcher-api-ext.log" 2>&1 &
  T_PIDS+=($!)
  wait_for 10 curl -sf "http://127.0.0.1:$p/healthz"
  check_eq "no token: non-loopback client → 403" 403 "$(req -X POST "http://$ext_ip:$p/api/fetcher/trigger-update")"
  check_eq "no token: loopback client → 202" 202 "$(req -X POST "http://127.0.0.1:$p/api/fetcher/trigger-update")"
else
  skip "no token: non-loopback client → 403" "no non-loopback address"
fi

# --- database down: 503 JSON, /healthz still 200 ---------------------------------------------------------------
p=$(free_port); dead=$(free_port)
DATABASE_URL="postgresql://fetcher@127.0.0.1:$dead/none" API_PORT=$p \
  "$BIN/fetcher-api" >>"$TEST_LOG_DIR/fetcher-api-nodb.log" 2>&1 &
T_PIDS+=($!)
wait_for 10 curl -sf "http://127.0.0.1:$p/healthz"
check_eq "db down: status → 503" 503 "$(req "http://127.0.0.1:$p/api/fetcher/status")"
check_eq "db down: error text" "database unavailable" "$(jqb .error)"
check_eq "db down: Retry-After" 5 "$(hdr Retry-After)"
check "db down: no SQL text leaks" bash -c "! grep -qi -e 'connection' -e 'refused' '$B'"
check_eq "db down: logs → 503" 503 "$(req "http://127.0.0.1:$p/api/fetcher/logs")"
check_eq "db down: /healthz → 200" 200 "$(req "http://127.0.0.1:$p/healthz")"
check_eq "db down: /readyz → 503" 503 "$(req "http://127.0.0.1:$p/readyz")"

# --- SIGTERM: clean exit 0 -------------------------------------------------------------------------
kill -TERM "$first_pid"; wait "$first_pid"; rc=$?
check_eq "SIGTERM → exit 0" 0 "$rc"

# --- every answer above, against api/openapi.json ---------------------------------------------------------
openapi_check
