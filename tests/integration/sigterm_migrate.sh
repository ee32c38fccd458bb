#!/usr/bin/env bash
# A SIGTERM that arrives while fetcherd applies migrations (blocking, before
# the loop and its signalfd exist) is not lost: once the migrations are
# done fetcherd shuts down instead of running on.
. "$(dirname "$0")/../lib.sh"

new_db || exit 1
migrate
load_demo
start_fakemarket || exit 1

# Someone else holds schema_migrations: the migration step waits on it.
psql "$DATABASE_URL" -X -q -c "BEGIN; LOCK TABLE schema_migrations IN ACCESS EXCLUSIVE MODE; SELECT pg_sleep(4); COMMIT;" \
  >"$TEST_LOG_DIR/locker.out" 2>&1 &
locker=$!; T_PIDS+=($locker)
held() { [ "$(sql "SELECT count(*) FROM pg_locks WHERE relation = 'schema_migrations'::regclass AND mode = 'AccessExclusiveLock' AND granted")" = 1 ]; }
check "the lock is held" wait_for 10 held

FETCH_INTERVAL=1h start_fetcherd
waiting() { [ "$(sql "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'fetcherd-migrate' AND wait_event_type = 'Lock'")" -ge 1 ]; }
check "fetcherd's migration step waits for the lock" wait_for 10 waiting
kill -TERM "$FETCHERD_PID"
t0=$(date +%s)
wait "$locker"
for _ in $(seq 200); do kill -0 "$FETCHERD_PID" 2>/dev/null || break; sleep 0.1; done
if kill -0 "$FETCHERD_PID" 2>/dev/null; then
  not_ok "fetcherd exits after the migrations (still running $(( $(date +%s) - t0 ))s after SIGTERM)"
  kill -KILL "$FETCHERD_PID" 2>/dev/null
else
  wait "$FETCHERD_PID"; rc=$?
  ok "fetcherd exits after the migrations ($(( $(date +%s) - t0 ))s after SIGTERM)"
  check_eq "and exits 0" 0 "$rc"
fi
check "it says why" grep -q 'shutting down: SIGTERM' "$TEST_LOG_DIR/fetcherd.log"
check_eq "it started no cycle" 0 "$(sql "SELECT count(*) FROM fetcher_cycles")"
exit 0
