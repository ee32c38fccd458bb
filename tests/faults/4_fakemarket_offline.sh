# Scenario 4 — fakemarket is killed (every upstream offline) and restarted
# on the same port. The queue goes offline after 3 consecutive connection
# failures of every provider in use (status degraded, degraded_reason
# "offline: …") and probes every 30 s; it resumes by itself once
# fakemarket answers. A provider that failed twice is down and, with its
# assets gone to their next source, is asked again only at its probe
# (FETCH_PROBE_INTERVAL, 30 s): its third failure, and so "offline", comes
# then. fakemarket's counters restart with it, so exact accounting is over
# a window after the restart.
fl_load_mark
kill -KILL "$FAKE_PID"; wait "$FAKE_PID" 2>/dev/null
t_kill=$(date +%s)
offline() { curl -s "$API_URL/api/fetcher/status" | jq -e '.status == "degraded" and (.degraded_reason // "" | startswith("offline"))'; }
check "4 fakemarket killed: status says degraded, offline, within 50 s (a probe interval and cycles)" wait_for 50 offline
echo "# 4 fakemarket killed: $(curl -s "$API_URL/api/fetcher/status" | jq -c '{status, degraded_reason}') after $(( $(date +%s) - t_kill )) s"
check "4 fakemarket killed: fetcherd stays alive" kill -0 "$FETCHERD_PID"
sleep 2
fl_start_fakemarket || not_ok "4: fakemarket restarts on its port"
t_up=$(date +%s)
check "4 fakemarket back: a cycle succeeds again by itself within 45 s" fl_wait_clean 1 45
echo "# 4 fakemarket back: resumed $(( $(date +%s) - t_up )) s after fakemarket answered again"
running() { curl -s "$API_URL/api/fetcher/status" | jq -e '.status == "running"'; }
check "4 fakemarket back: status is running again" wait_for 10 running
fl_alive "4 fakemarket offline"
fl_snapshot s4a
fl_wait_cycles 2 15
fl_snapshot s4b
fl_account "4 fakemarket offline (window after the restart)" s4a s4b
fl_load_delta "4 fakemarket offline"
fl_invariants "4 fakemarket offline"
FL_RUN=$((FL_RUN + 1))
