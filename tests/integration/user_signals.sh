#!/usr/bin/env bash
# What a user reads in the logs and on the dashboard says what happened
# (issue 19): a cycle is named by the same number on stdout, in the
# database and on the dashboard, also after a restart; the heartbeat says a
# cycle ended as soon as it did; a provider that answered errors lately is
# "degraded", not "OK", and its errors count requests like its requests do;
# a stop mid-cycle is prompt and quiet (no ERROR lines); a dashboard tab
# that goes away is no WARNING.
. "$(dirname "$0")/../lib.sh"

new_db || exit 1
migrate
load_demo
start_fakemarket || { not_ok "fakemarket starts"; exit 1; }
provider_env

# Two earlier runs: the database's cycle ids no longer match a new
# instance's own cycle numbers (1, 2, …).
"$BIN/fetcherd" --once >>"$TEST_LOG_DIR/once.log" 2>&1
"$BIN/fetcherd" --once >>"$TEST_LOG_DIR/once.log" 2>&1
check_eq "two earlier cycles are recorded" 2 "$(sql "SELECT count(*) FROM fetcher_cycles")"

# ---- the cycle's number, and the heartbeat at its end ---------------------
# Yahoo answers 500 for this first cycle: it fails over (to Twelve Data)
curl -s -X POST "$FAKE_URL/_mode?fault=ERR500&provider=yahoo" >/dev/null
FETCHER_INSTANCE_ID=signals-a FETCH_RETRIES=0 FETCH_INTERVAL=1h HEARTBEAT_INTERVAL=60s \
  start_fetcherd
done1() { [ "$(sql "SELECT count(*) FROM fetcher_cycles WHERE instance_id = 'signals-a' AND status <> 'running'")" -ge 1 ]; }
check "the new instance's first cycle finishes" wait_for 20 done1
id1=$(sql "SELECT id FROM fetcher_cycles WHERE instance_id = 'signals-a' AND seq = 1")
check "stdout names the cycle by its id ($id1), as the database does" \
  grep -q "INFO Cycle $id1 started (startup)" "$TEST_LOG_DIR/fetcherd.log"
check "stdout never calls it cycle 1" sh -c "! grep -q 'Cycle 1 ' '$TEST_LOG_DIR/fetcherd.log'"
check_eq "every cycle log line in the database names its own cycle's id" 0 \
  "$(sql "SELECT count(*) FROM fetcher_logs WHERE message ~ '^Cycle [0-9]+ (started|succeeded|partial|failed)' AND message NOT LIKE 'Cycle ' || cycle_id || ' %'")"
# HEARTBEAT_INTERVAL=60s: only a heartbeat written at the cycle's end can be
# newer than its finish
idle_after() { [ "$(sql "SELECT count(*) FROM fetcher_instances i, fetcher_cycles c WHERE i.instance_id = 'signals-a' AND c.id = $1 AND i.phase = 'idle' AND i.last_heartbeat >= c.finished_at")" = 1 ]; }
check "the heartbeat says idle as soon as the cycle ends (not at its next tick)" wait_for 3 idle_after "$id1"

# ---- a provider that failed lately is degraded ----------------------------
curl -s -X POST "$FAKE_URL/_mode?fault=none&provider=yahoo" >/dev/null
sql "NOTIFY fetcher_trigger, '{\"client\": \"user_signals\"}'" >/dev/null
done2() { [ "$(sql "SELECT count(*) FROM fetcher_cycles WHERE instance_id = 'signals-a' AND seq = 2 AND status <> 'running'")" = 1 ]; }
check "a second cycle (Yahoo answering again) finishes" wait_for 20 done2
id2=$(sql "SELECT id FROM fetcher_cycles WHERE instance_id = 'signals-a' AND seq = 2")
check "the heartbeat follows the second cycle's end too" wait_for 3 idle_after "$id2"
yahoo() { sql "SELECT p->>'$1' FROM fetcher_instances, jsonb_array_elements(queue->'providers') p WHERE instance_id = 'signals-a' AND p->>'name' = 'yahoo'"; }
echo "# yahoo: state $(yahoo state), requests $(yahoo requests), errors $(yahoo errors), recent $(yahoo recent_failed)/$(yahoo recent_requests), last error: $(yahoo last_error)"
check_eq "Yahoo, one of its last requests failed, is degraded, not ok" degraded "$(yahoo state)"
check_cmp "… some of its recent requests failed ($(yahoo recent_failed))" "$(yahoo recent_failed)" -ge 1
check_cmp "… not all: the second cycle's worked ($(yahoo recent_requests) recent)" \
  "$(yahoo recent_failed)" -lt "$(yahoo recent_requests)"
check_cmp "… its errors count requests: no more errors ($(yahoo errors)) than requests ($(yahoo requests))" \
  "$(yahoo errors)" -le "$(yahoo requests)"
why=$(yahoo last_error)
check "… and it says why ($why)" test -n "$(echo "$why" | grep 500)"
tg() { sql "SELECT p->>'state' FROM fetcher_instances, jsonb_array_elements(queue->'providers') p WHERE instance_id = 'signals-a' AND p->>'name' = 'coingecko'"; }
check_eq "a provider whose requests all worked is ok" ok "$(tg)"
stop_pid "$FETCHERD_PID"

# ---- SIGTERM mid-cycle: prompt and quiet, five times ----------------------
curl -s -X POST "$FAKE_URL/_latency?ms=4000" >/dev/null
times=()
for run in 1 2 3 4 5; do
  log=$TEST_LOG_DIR/stop-$run.log
  FETCHER_INSTANCE_ID=signals-stop-$run FETCH_INTERVAL=1h HEARTBEAT_INTERVAL=1s \
    "$BIN/fetcherd" >"$log" 2>&1 &
  pid=$!; T_PIDS+=($pid)
  fetching() { grep -q "INFO Cycle .* started" "$1"; }
  wait_for 15 fetching "$log"
  sleep 0.5
  t0=$(date +%s%N)
  stop_pid "$pid"
  ms=$(( ($(date +%s%N) - t0) / 1000000 ))
  times+=("$ms")
  check_eq "stop $run mid-cycle: exit 0" 0 "$STOP_RC"
  check_cmp "stop $run mid-cycle: within the README's 5 s (${ms} ms)" "$ms" -lt 5000
  check_eq "stop $run: no ERROR line" "" "$(grep ' ERROR ' "$log" | head -1)"
  check "stop $run: one INFO line says the cycle was aborted by shutdown" \
    test "$(grep -c 'INFO Cycle [0-9]* aborted by shutdown after' "$log")" -eq 1
done
median=$(printf '%s\n' "${times[@]}" | sort -n | sed -n 3p)
echo "# SIGTERM mid-cycle, 5 runs: ${times[*]} ms; median ${median} ms"
check_eq "no failure row for an asset a stop cancelled" 0 \
  "$(sql "SELECT count(*) FROM price_update_log WHERE error LIKE '%cancelled%'")"
check_eq "every stopped cycle is aborted, with the reason" 5 \
  "$(sql "SELECT count(*) FROM fetcher_cycles WHERE instance_id LIKE 'signals-stop-%' AND status = 'aborted' AND error LIKE 'aborted by shutdown:%'")"
curl -s -X POST "$FAKE_URL/_latency?ms=0" >/dev/null

# ---- a dashboard tab that goes away ---------------------------------------
start_api || { not_ok "fetcher-api starts"; exit 1; }
port=${API_URL##*:}
python3 - "$port" <<'EOF' >"$TEST_LOG_DIR/sse-client.txt" 2>&1
import socket, struct, sys, time
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
s.sendall(b"GET /api/fetcher/events HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\n\r\n")
s.settimeout(5)
print(s.recv(200)[:15])
# a closed tab: the connection reset, as a browser does
s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
s.close()
EOF
check "an event stream opened" grep -q "200 OK" "$TEST_LOG_DIR/sse-client.txt"
# events to the stream that is gone: the server finds the client gone
for i in 1 2 3; do
  sql "NOTIFY fetcher_events, '{\"type\":\"log\",\"id\":$i,\"level\":\"WARNING\",\"message\":\"x\",\"cycle_id\":null}'" >/dev/null
  sleep 0.4
done
check_eq "a stream whose client left logs no WARNING" "" \
  "$(grep 'WARNING' "$TEST_LOG_DIR/fetcher-api.log" | head -1)"
exit 0
