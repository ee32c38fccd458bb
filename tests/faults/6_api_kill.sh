# Scenario 6 — fetcher-api gets SIGKILL under load and is restarted on the
# same port: it answers again within seconds, the load generator's clients
# reconnect, fetcherd never notices (exact accounting across the window).
# The /healthz probes between the kill and the restart are not counted.
fl_snapshot s6a
fl_load_mark
t_kill=$(fl_now)
kill -KILL "$API_PID"; wait "$API_PID" 2>/dev/null
sleep 1
t0=$(date +%s%N)
fl_start_api && ok "6 api kill: fetcher-api restarts on its port and answers /healthz ($(( ($(date +%s%N) - t0) / 1000000 )) ms)" \
  || not_ok "6 api kill: fetcher-api restarts on its port"
fl_exclude_healthz "$t_kill" "$(fl_now)"
check "6 api kill: data endpoints answer again" wait_for 10 curl -sf "$API_URL/api/fetcher/status"
check "6 api kill: fetcherd kept running cycles" fl_wait_cycles 2 15
fl_alive "6 api kill"
fl_snapshot s6b
fl_account "6 api kill" s6a s6b
fl_load_delta "6 api kill" conn
fl_invariants "6 api kill"
FL_RUN=$((FL_RUN + 1))
