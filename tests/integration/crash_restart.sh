#!/usr/bin/env bash
# kill -9 during a cycle, then a restart: the dead instance's cycle is marked
# aborted and logged, the next cycle runs, nothing is duplicated. SIGTERM
# during a cycle: exit 0 within 5 s, the cycle recorded as aborted by
# shutdown with the assets fetched before the stop; what was not fetched is
# no failure (no row, no ERROR line: issue 19).
. "$(dirname "$0")/../lib.sh"

new_db || exit 1
migrate
load_demo
tracked=$(sql "SELECT count(*) FROM tracked_assets")
# Slow upstream, one request at a time: a cycle takes several seconds.
start_fakemarket --latency-ms 1500 || { not_ok "fakemarket starts"; exit 1; }
fetching() { [ "$(sql "SELECT count(*) FROM fetcher_instances WHERE instance_id = '$FETCHER_INSTANCE_ID' AND state = 'running' AND phase = 'fetching' AND cycle_done > 0")" -ge 1 ]; }
current_cycle() { sql "SELECT cycle_id FROM fetcher_instances WHERE instance_id = '$FETCHER_INSTANCE_ID'"; }

export FETCHER_INSTANCE_ID=crash-a
FETCH_CONCURRENCY=1 FETCH_INTERVAL=1h start_fetcherd
check "a cycle is under way" wait_for 15 fetching
killed=$(current_cycle)
kill -KILL "$FETCHERD_PID"; wait "$FETCHERD_PID" 2>/dev/null
check_eq "the killed cycle is left 'running'" running "$(sql "SELECT status FROM fetcher_cycles WHERE id = $killed")"

export FETCHER_INSTANCE_ID=crash-b
FETCH_CONCURRENCY=1 FETCH_INTERVAL=1h start_fetcherd
aborted() { [ "$(sql "SELECT status FROM fetcher_cycles WHERE id = $killed")" = aborted ]; }
check "after a restart the killed cycle is marked aborted" wait_for 15 aborted
check "the abort is logged" \
  test "$(sql "SELECT count(*) FROM fetcher_logs WHERE level = 'WARNING' AND message LIKE 'Cycle $killed of instance % marked aborted'")" -eq 1
done_cycles() { [ "$(sql "SELECT count(*) FROM fetcher_cycles WHERE status IN ('succeeded','partial')")" -ge 1 ]; }
check "the next cycle runs to the end" wait_for 20 done_cycles
check_eq "no asset has two rows in one cycle" "" \
  "$(sql "SELECT cycle_id FROM price_update_log GROUP BY cycle_id, symbol HAVING count(*) > 1 LIMIT 1")"
check_eq "the finished cycle has one row per tracked asset" "$tracked" \
  "$(sql "SELECT count(*) FROM price_update_log p JOIN fetcher_cycles c ON c.id = p.cycle_id WHERE c.status IN ('succeeded','partial')")"

# SIGTERM in the middle of a cycle.
stop_pid "$FETCHERD_PID"
export FETCHER_INSTANCE_ID=crash-c
FETCH_CONCURRENCY=1 FETCH_INTERVAL=1h start_fetcherd
check "another cycle is under way" wait_for 15 fetching
cyc=$(current_cycle)
t0=$(date +%s%N)
stop_pid "$FETCHERD_PID"
ms=$(( ($(date +%s%N) - t0) / 1000000 ))
check_eq "SIGTERM mid-cycle: exit 0" 0 "$STOP_RC"
check_cmp "SIGTERM mid-cycle: exit within 5 s (took ${ms} ms)" "$ms" -lt 5000
check_eq "the interrupted cycle is recorded as aborted" aborted "$(sql "SELECT status FROM fetcher_cycles WHERE id = $cyc")"
check_eq "the interrupted cycle's rows are the assets it fetched before the stop" \
  "$(sql "SELECT assets_succeeded + assets_failed FROM fetcher_cycles WHERE id = $cyc")" \
  "$(sql "SELECT count(*) FROM price_update_log WHERE cycle_id = $cyc")"
check_cmp "… fewer than the tracked assets (the rest were not fetched)" \
  "$(sql "SELECT count(*) FROM price_update_log WHERE cycle_id = $cyc")" -lt "$tracked"
check_eq "no asset is recorded as failed for being cancelled" 0 \
  "$(sql "SELECT count(*) FROM price_update_log WHERE cycle_id = $cyc AND error LIKE '%cancelled%'")"
check "the cycle says it was aborted by shutdown and how many were not fetched" \
  test "$(sql "SELECT count(*) FROM fetcher_cycles WHERE id = $cyc AND error LIKE 'aborted by shutdown:%' AND error LIKE '%assets not fetched'")" -eq 1
check_eq "the stop logged no ERROR line for the cycle" 0 \
  "$(sql "SELECT count(*) FROM fetcher_logs WHERE cycle_id = $cyc AND level IN ('ERROR', 'CRITICAL')")"
check_eq "… and one INFO line saying it was aborted by shutdown" 1 \
  "$(sql "SELECT count(*) FROM fetcher_logs WHERE cycle_id = $cyc AND level = 'INFO' AND message LIKE 'Cycle $cyc aborted by shutdown%'")"
check_eq "the instance is marked stopped" stopped "$(sql "SELECT state FROM fetcher_instances WHERE instance_id = 'crash-c'")"

# The same fixed instance id again: its cycle numbers continue after the
# last one instead of colliding with the rows its previous run wrote.
provider_env
FETCHER_INSTANCE_ID=crash-c FETCH_CONCURRENCY=8 "$BIN/fetcherd" --once >>"$TEST_LOG_DIR/fetcherd.log" 2>&1
check_eq "a restarted fixed instance id writes a new cycle row" 2 \
  "$(sql "SELECT count(*) FROM fetcher_cycles WHERE instance_id = 'crash-c'")"
check_eq "… numbered after its previous one, with its own rows" "$tracked" \
  "$(sql "SELECT count(*) FROM price_update_log p JOIN fetcher_cycles c ON c.id = p.cycle_id WHERE c.instance_id = 'crash-c' AND c.seq = 2")"
exit 0
