#!/usr/bin/env bash
# Slowloris against fetcher-api (tests/tools/slowloris.py): 1,000 idle
# connections that send one header byte every 3 s and never finish their
# request, while another client (another loopback address) asks /healthz
# and /api/fetcher/status and must get 200 within 50 ms at p99.
#  A. all 1,000 from one address (127.0.0.1): the per-address limit
#     (SERVER_PER_IP_LIMIT, 128) keeps the rest out; the probe from
#     127.0.0.2 is served.
#  B. the same 1,000 spread over 8 addresses (125 each, under the
#     per-address limit): the total limit (4,096) leaves room, and the
#     header deadline (api/guard.c: 10 s for a first request) cuts the slow
#     connections loose.
#  C. one trickling connection is shut down by the deadline.
. "$(dirname "$0")/../lib.sh"
normal_pass_only "measures latency while libmicrohttpd's connection slots are held open; the API's request handling runs under ASan in hostile_malformed"

ulimit -n 4096 2>/dev/null || ulimit -n "$(ulimit -Hn)"
secs=${SLOWLORIS_SECONDS:-20}
new_db || exit 1
migrate
load_demo
start_fakemarket || { not_ok "fakemarket starts"; exit 1; }
start_fetcherd
start_api || { not_ok "fetcher-api starts"; exit 1; }
wait_for 15 sh -c "curl -s '$API_URL/api/fetcher/status' | jq -e '.status == \"running\"'"
port=${API_URL##*:}
summary=$TEST_LOG_DIR/../summary.txt

run() {   # label sources
  python3 "$TEST_ROOT/tests/tools/slowloris.py" 127.0.0.1 "$port" --conns 1000 --sources "$2" \
    --probe-source 127.0.0.2 --seconds "$secs" --interval 3 >"$TEST_LOG_DIR/$1.json"
  echo "# $1: $(cat "$TEST_LOG_DIR/$1.json")"
}
verdict() {   # label
  local f=$TEST_LOG_DIR/$1.json p n fail p99 bad=""
  for p in /healthz /api/fetcher/status; do
    n=$(jq --arg p "$p" '.probe[$p].n' "$f"); fail=$(jq --arg p "$p" '.probe[$p].fail' "$f")
    p99=$(jq --arg p "$p" '.probe[$p].p99_ms // 99999' "$f")
    local key=${p##*/}
    echo "summary slowloris_${1}_${key}_probes_failed $fail" >>"$summary"
    [ "$p99" != 99999 ] && echo "summary slowloris_${1}_${key}_p99_ms $p99" >>"$summary"
    if [ "$n" -lt 20 ] || [ "$fail" != 0 ] || ! awk -v x="$p99" 'BEGIN {exit !(x < 50)}'; then
      bad="$bad $p: $n probes, $fail failed, p99 $p99 ms;"
    fi
  done
  if [ -z "$bad" ]; then ok "$1: /healthz and /api/fetcher/status answer 200 within 50 ms p99 under 1,000 slow connections"
  else not_ok "$1: /healthz and /api/fetcher/status answer 200 within 50 ms p99 under 1,000 slow connections" "$bad"
  fi
}
run one_address 127.0.0.1
verdict one_address
run eight_addresses 127.0.0.3,127.0.0.4,127.0.0.5,127.0.0.6,127.0.0.7,127.0.0.8,127.0.0.9,127.0.0.10
verdict eight_addresses
# C. a request whose headers trickle in is cut at the deadline (10 s), not
# kept alive by every byte the way an idle timeout would be.
cut=$(python3 - "$port" <<'PY'
import socket, sys, time
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
s.settimeout(1.0)
s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
t0 = time.time()
while time.time() - t0 < 25:
    try:
        s.sendall(b"X")
        if s.recv(1) == b"":
            break
    except socket.timeout:
        continue
    except OSError:
        break
    time.sleep(1)
print(int(time.time() - t0))
PY
)
check_cmp "a trickling request is cut at the header deadline (after ${cut}s)" "$cut" -le 13
check_cmp "… not before it" "$cut" -ge 9
check "fetcher-api is alive after the slowloris" kill -0 "$API_PID"
check "fetcher-api answers /healthz after the slowloris" wait_for 35 curl -sf "$API_URL/healthz"
exit 0
