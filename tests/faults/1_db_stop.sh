# Scenario 1 — PostgreSQL is stopped for 10 s and started again while
# fetcherd runs cycles every 2 s and the API is under load. fetcherd keeps
# fetching and buffers its rows; the API answers 503 on /readyz and on data
# endpoints, 200 on /healthz; afterwards every fetch has exactly one row.
fl_snapshot s1a
fl_load_mark
"$TEST_ROOT/scripts/pg-local" stop
sleep 2
check_eq "1 db stopped: /readyz answers 503" 503 "$(curl -s -o /dev/null -w '%{http_code}' "$API_URL/readyz")"
check_eq "1 db stopped: /api/fetcher/status answers 503" 503 "$(curl -s -o /dev/null -w '%{http_code}' "$API_URL/api/fetcher/status")"
check_eq "1 db stopped: /api/fetcher/logs answers 503" 503 "$(curl -s -o /dev/null -w '%{http_code}' "$API_URL/api/fetcher/logs")"
check_eq "1 db stopped: /healthz answers 200" 200 "$(curl -s -o /dev/null -w '%{http_code}' "$API_URL/healthz")"
f0=$(curl -s "$FAKE_URL/_stats" | jq .requests_total)
sleep 8
f1=$(curl -s "$FAKE_URL/_stats" | jq .requests_total)
check_cmp "1 db stopped: fetching went on ($f0 → $f1 upstream requests)" "$f1" -gt "$f0"
"$TEST_ROOT/scripts/pg-local" start >/dev/null
check "1 db back: /readyz recovers by itself within 10 s" wait_for 10 curl -sf "$API_URL/readyz"
check "1 db back: cycles are written again" fl_wait_cycles 2 30
fl_alive "1 db stopped"
fl_snapshot s1b
fl_account "1 db stopped 10 s" s1a s1b
fl_load_delta "1 db stopped" allow503
fl_invariants "1 db stopped"
FL_RUN=$((FL_RUN + 1))
