#!/usr/bin/env bash
# `fetcherd --once` is for tests and cron jobs: its exit code must say
# whether the one cycle it ran reached the database (README: 0 written,
# 1 the cycle failed, 4 its rows not written within the flush deadline).
. "$(dirname "$0")/../lib.sh"

new_db || exit 1
migrate
load_demo

# The database goes away while the cycle waits for slow answers: the cycle
# ends, its rows wait in the buffer, and the 5 s flush deadline passes.
start_fakemarket --latency-ms 1500 || exit 1
provider_env
"$BIN/fetcherd" --once >"$TEST_LOG_DIR/once_lost.out" 2>&1 &
pid=$!; T_PIDS+=($pid)
running() { [ "$(sql "SELECT count(*) FROM fetcher_cycles WHERE status = 'running'")" -ge 1 ]; }
check "the cycle has started" wait_for 15 running
"$TEST_ROOT/scripts/pg-local" stop
start=$(date +%s)
for _ in $(seq 300); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
wait "$pid"; rc=$?
"$TEST_ROOT/scripts/pg-local" start >/dev/null
check_cmp "fetcherd --once exits within the flush deadline ($(( $(date +%s) - start ))s)" \
  "$(( $(date +%s) - start ))" -le 20
check_eq "fetcherd --once exits 4 when its rows were lost" 4 "$rc"
check "it says so on one line" grep -q 'fetcherd --once: [0-9]* rows were not written before the [0-9]*s deadline; exit 4' \
  "$TEST_LOG_DIR/once_lost.out"
stop_pid "$FAKE_PID"

# The same run with the database present: exit 0 and a finished cycle.
start_fakemarket || exit 1
provider_env
"$BIN/fetcherd" --once >"$TEST_LOG_DIR/once_ok.out" 2>&1; rc=$?
check_eq "fetcherd --once exits 0 when its cycle is written" 0 "$rc"
check_cmp "a finished cycle is recorded" \
  "$(sql "SELECT count(*) FROM fetcher_cycles WHERE status IN ('succeeded', 'partial')")" -ge 1

# Scheduled cycles paused (the setting in the database): an explicit
# one-shot run is not a scheduled cycle, so it runs and exits.
sql "UPDATE fetcher_settings SET paused = true, paused_at = now(), paused_by = 'once_exit test' WHERE id = 1"
before=$(sql "SELECT count(*) FROM fetcher_cycles WHERE status IN ('succeeded', 'partial')")
t0=$(date +%s)
timeout 20 "$BIN/fetcherd" --once >"$TEST_LOG_DIR/once_paused.out" 2>&1; rc=$?
t=$(( $(date +%s) - t0 ))
check_eq "fetcherd --once exits 0 while scheduled cycles are paused" 0 "$rc"
check_cmp "and within a few seconds (${t}s)" "$t" -le 10
check_eq "it recorded one more finished cycle" $((before + 1)) \
  "$(sql "SELECT count(*) FROM fetcher_cycles WHERE status IN ('succeeded', 'partial')")"
check_eq "the pause stays as it was" t "$(sql "SELECT paused FROM fetcher_settings WHERE id = 1")"
exit 0
