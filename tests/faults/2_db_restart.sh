# Scenario 2 — PostgreSQL is restarted (fast stop, start) while the API is
# under load: meanwhile the API answers 503 (never another 5xx, never a
# crash) and it recovers by itself: /readyz and the data endpoints answer
# 200 again without anything being restarted.
fl_snapshot s2a
fl_load_mark
t0=$(date +%s%N)
"$TEST_ROOT/scripts/pg-local" restart >/dev/null
check "2 db restarted: /readyz recovers by itself within 10 s" wait_for 10 curl -sf "$API_URL/readyz"
ms=$(( ($(date +%s%N) - t0) / 1000000 ))
check "2 db restarted: /api/fetcher/status answers 200 again" wait_for 10 curl -sf "$API_URL/api/fetcher/status"
check "2 db restarted: /api/fetcher/recent-updates answers 200 again" wait_for 10 curl -sf "$API_URL/api/fetcher/recent-updates"
echo "# 2 db restart: ready again ${ms} ms after the restart began"
check "2 db restarted: cycles are written again" fl_wait_cycles 2 30
fl_alive "2 db restarted"
fl_snapshot s2b
fl_account "2 db restarted" s2a s2b
fl_load_delta "2 db restarted" allow503
fl_invariants "2 db restarted"
FL_RUN=$((FL_RUN + 1))
