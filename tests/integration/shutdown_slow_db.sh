#!/usr/bin/env bash
# fetcherd stopped while the database holds its writes up: a heartbeat is
# in flight, blocked by a lock, when the 5 s flush deadline passes. The
# teardown then frees the writer, which runs the callbacks of what it
# still holds (that heartbeat's among them): their owners must still be
# there. In the sanitizer build a use-after-free is a report, which fails
# the test (lib.sh); in both builds the exit must be clean.
. "$(dirname "$0")/../lib.sh"

new_db || exit 1
migrate
load_demo
start_fakemarket || exit 1
FETCH_INTERVAL=1h HEARTBEAT_INTERVAL=1s start_fetcherd
beating() { [ "$(sql "SELECT count(*) FROM fetcher_instances WHERE state = 'running' AND last_heartbeat > now() - interval '3 seconds'")" -ge 1 ]; }
idle() { [ "$(sql "SELECT count(*) FROM fetcher_cycles WHERE status <> 'running'")" -ge 1 ]; }
check "fetcherd beats" wait_for 20 beating
check "its first cycle is done" wait_for 30 idle

# The lock holds every heartbeat (and what the writer sends after it) for
# longer than the flush deadline.
psql "$DATABASE_URL" -X -q -c "BEGIN; LOCK TABLE fetcher_instances IN ACCESS EXCLUSIVE MODE; SELECT pg_sleep(15); COMMIT;" \
  >"$TEST_LOG_DIR/lock.out" 2>&1 &
lock_pid=$!
blocked() { [ "$(sql "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND application_name LIKE 'fetcherd%'")" -ge 1 ]; }
check "a heartbeat waits for the lock" wait_for 10 blocked
t0=$(date +%s)
stop_pid "$FETCHERD_PID"
t=$(( $(date +%s) - t0 ))
check_eq "fetcherd exits 0 after the flush deadline" 0 "$STOP_RC"
check_cmp "within the deadline and a little (${t}s)" "$t" -le 12
check "it said what it could not write" grep -q 'shutdown: [0-9]* rows could not be written within 5s; lost' \
  "$TEST_LOG_DIR/fetcherd.log"
kill "$lock_pid" 2>/dev/null
wait "$lock_pid" 2>/dev/null
exit 0
