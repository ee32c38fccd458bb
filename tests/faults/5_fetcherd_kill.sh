# Scenario 5 — fetcherd gets SIGKILL in the middle of a cycle (fakemarket
# answers after 1.5 s, so a cycle is caught fetching) and is restarted
# under a new instance id: the killed cycle is marked aborted, cycles
# resume, nothing is duplicated. Requests in flight at the kill have no row
# (the process died), so exact accounting is over a window after the
# restart.
fl_load_mark
curl -s -X POST "$FAKE_URL/_latency?ms=1500" >/dev/null
fetching() { [ "$(sql "SELECT count(*) FROM fetcher_instances WHERE instance_id = '$FL_IID' AND phase = 'fetching' AND cycle_id IS NOT NULL")" = 1 ]; }
check "5 fetcherd kill: a cycle is under way" wait_for 15 fetching
killed=$(sql "SELECT cycle_id FROM fetcher_instances WHERE instance_id = '$FL_IID'")
killed=${killed:-0}
kill -KILL "$FETCHERD_PID"; wait "$FETCHERD_PID" 2>/dev/null
curl -s -X POST "$FAKE_URL/_latency?ms=0" >/dev/null
check_eq "5 fetcherd kill: the killed cycle is left running" running "$(sql "SELECT status FROM fetcher_cycles WHERE id = $killed")"
FL_IID=rel-$$-2
fl_start_fetcherd
aborted() { [ "$(sql "SELECT status FROM fetcher_cycles WHERE id = $killed")" = aborted ]; }
check "5 fetcherd restarted: the killed cycle is marked aborted" wait_for 20 aborted
check "5 fetcherd restarted: cycles succeed again" fl_wait_clean 2 30
check_cmp "5 fetcherd kill: the aborted cycle has no more rows than assets" \
  "$(sql "SELECT count(*) FROM price_update_log WHERE cycle_id = $killed")" -le "$FL_TRACKED"
fl_alive "5 fetcherd kill"
fl_snapshot s5a
fl_wait_cycles 2 15
fl_snapshot s5b
fl_account "5 fetcherd kill (window after the restart)" s5a s5b
fl_load_delta "5 fetcherd kill"
fl_invariants "5 fetcherd kill"
FL_RUN=$((FL_RUN + 1))
