#!/usr/bin/env bash
# The database goes away for longer than a cycle: fetcherd stays alive,
# keeps fetching on schedule, buffers its rows, and writes them all exactly
# once when PostgreSQL returns. Every fetch fakemarket counted has exactly
# one price_update_log row.
. "$(dirname "$0")/../lib.sh"

new_db || exit 1
migrate
load_demo
start_fakemarket || { not_ok "fakemarket starts"; exit 1; }
FETCH_INTERVAL=2s start_fetcherd
finished() { [ "$(sql "SELECT count(*) FROM fetcher_cycles WHERE status <> 'running'")" -ge "$1" ]; }
check "a first cycle is written" wait_for 15 finished 1

before=$(curl -s "$FAKE_URL/_stats" | jq .requests_total)
"$TEST_ROOT/scripts/pg-local" stop
down_at=$(date +%s)
sleep 7   # more than three cycles at 2 s
during=$(curl -s "$FAKE_URL/_stats" | jq .requests_total)
check "fetcherd is alive while the database is down" kill -0 "$FETCHERD_PID"
per_cycle=$(sql "SELECT upstream_requests FROM fetcher_cycles ORDER BY id LIMIT 1")
check_cmp "fetching goes on on schedule while the database is down ($before → $during requests, $per_cycle a cycle)" \
  "$during" -ge "$((before + 3 * per_cycle))"
"$TEST_ROOT/scripts/pg-local" start >/dev/null
check "fetcherd reconnects and the buffered cycles are written" wait_for 30 finished 4
# One more cycle, and the stop right after it: a cycle the stop cuts short
# (aborted by shutdown) asked fakemarket for assets it never records, which
# the exact count below would take for lost rows. The next cycle is 2 s
# away, so a stop within the poll after a cycle ends finds none running.
n=$(sql "SELECT count(*) FROM fetcher_cycles WHERE status <> 'running'")
check "a cycle after the outage finishes" wait_for 10 finished $((n + 1))
stop_pid "$FETCHERD_PID"
check_eq "no cycle was cut short by the stop" 0 "$(sql "SELECT count(*) FROM fetcher_cycles WHERE status = 'aborted'")"
check_eq "fetcherd exits 0 on SIGTERM after the outage" 0 "$STOP_RC"

stats=$(curl -s "$FAKE_URL/_stats")
check_eq "fakemarket counted exactly the requests the cycles recorded" \
  "$(sql "SELECT sum(upstream_requests) FROM fetcher_cycles")" "$(echo "$stats" | jq .requests_total)"
# one row per fetch: per symbol, rows written == requests naming it
mismatch=""
while read -r sym psym; do
  want=$(echo "$stats" | jq --arg s "$psym" '.by_symbol[$s] // 0')
  got=$(sql "SELECT count(*) FROM price_update_log WHERE symbol = '$sym'")
  [ "$want" = "$got" ] || mismatch="$mismatch $sym($want fetched, $got rows)"
done < <(psql "$DATABASE_URL" -XAtqF' ' -c "SELECT symbol, provider_symbol FROM assets")
check_eq "every fetch counted by fakemarket has exactly one price_update_log row" "" "$mismatch"
check_eq "no asset has two rows in one cycle" "" \
  "$(sql "SELECT cycle_id FROM price_update_log GROUP BY cycle_id, symbol HAVING count(*) > 1 LIMIT 1")"
check_eq "no update row lost its cycle" 0 "$(sql "SELECT count(*) FROM price_update_log WHERE cycle_id IS NULL")"
check_eq "no cycle is left running" 0 "$(sql "SELECT count(*) FROM fetcher_cycles WHERE status = 'running'")"
check "cycles that ran during the outage were recorded with their start time" \
  test "$(sql "SELECT count(*) FROM fetcher_cycles WHERE started_at > to_timestamp($down_at) AND started_at < to_timestamp($down_at + 7)")" -ge 2
check "the reconnection attempts were printed" grep -q "reconnecting in" "$TEST_LOG_DIR/fetcherd.log"
check "the cycle during the outage said it used the last known asset list" \
  test "$(sql "SELECT count(*) FROM fetcher_logs WHERE context->>'note' LIKE 'database unavailable%'")" -ge 1
buffered=$(grep -c "reconnecting in" "$TEST_LOG_DIR/fetcherd.log")
echo "# outage: $buffered reconnect attempts; $(( $(echo "$stats" | jq .requests_total) - before )) fetches after the first cycle, all written"
exit 0
