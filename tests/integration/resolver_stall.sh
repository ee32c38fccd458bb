#!/usr/bin/env bash
# A resolver that never answers stalls nobody (issue 19). In Docker, with
# the `db` container gone, looking up "db" can take the resolver's whole
# timeout; libpq's PQconnectStart and libcurl's handle cleanup both wait
# for such a lookup, on fetcherd's loop.
#
# Everything runs in a network namespace of this test's own (ip netns):
# its own PostgreSQL, fakemarket, fetcherd and fetcher-api on its loopback,
# /etc/netns/<ns>/hosts naming the database "pgdb.test", and resolv.conf
# pointing at a nameserver in the namespace that reads every query and
# never answers (timeout 30 s). Then:
#   A. the database is reached by its host name;
#   B. the database goes away and its name stops resolving: the loop keeps
#      running (cycles go on; WATCHDOG_SECONDS=5 would kill a loop stalled
#      by the lookup), the lookup gives up with a message naming the host,
#      fetcher-api answers 503 fast, and SIGTERM — also at start-up, while
#      the migration waits for the name — exits at once;
#   C. the providers' host does not resolve (on a simulated Saturday, yahoo
#      asked once, for a history): that is a connection-level
#      failure (offline, probes) with a message saying so, logged once per
#      cause per cycle, libcurl's resolver never blocks the loop, and a
#      stop mid-cycle is prompt. A refused connection says "connection
#      refused".
. "$(dirname "$0")/../lib.sh"

if [ "$(id -u)" != 0 ] || ! command -v ip >/dev/null || ! command -v python3 >/dev/null; then
  skip "resolver stall in a network namespace" "needs root, iproute2 and python3"
  exit 0
fi
NS=f19r$$
NSETC=/etc/netns/$NS
ns_cleanup() {
  local p
  for p in $(ip netns pids "$NS" 2>/dev/null); do kill -TERM "$p" 2>/dev/null; done
  sleep 0.5
  for p in $(ip netns pids "$NS" 2>/dev/null); do kill -KILL "$p" 2>/dev/null; done
  ip netns del "$NS" 2>/dev/null
  rm -rf "$NSETC"
}
trap 'ns_cleanup; t_cleanup' EXIT
if ! ip netns add "$NS" 2>/dev/null; then
  skip "resolver stall in a network namespace" "ip netns add failed (no CAP_SYS_ADMIN?)"
  exit 0
fi
nsx() { ip netns exec "$NS" "$@"; }
# ns_spawn log cmd… — runs cmd in the namespace. `ip netns exec` forks: IP_PID
# is ip (its exit status is the program's), NS_PID the program itself.
ns_spawn() {
  local log=$1 pf=$TEST_LOG_DIR/pid.$RANDOM; shift
  ip netns exec "$NS" sh -c 'echo $$ >"$0"; exec "$@"' "$pf" "$@" >>"$log" 2>&1 &
  IP_PID=$!; T_PIDS+=($!)
  for _ in $(seq 100); do [ -s "$pf" ] && break; sleep 0.02; done
  NS_PID=$(cat "$pf")
}
ns_fetcherd() { # log name
  ns_spawn "$TEST_LOG_DIR/$1" "$BIN/fetcherd"
  FETCHERD_PID=$NS_PID FETCHERD_IP=$IP_PID
}
ms_since() { echo $(( ($(date +%s%N) - $1) / 1000000 )); }
stop_timed() { # → STOP_RC, STOP_MS of fetcherd
  local t0; t0=$(date +%s%N)
  kill -TERM "$FETCHERD_PID" 2>/dev/null; wait "$FETCHERD_IP" 2>/dev/null; STOP_RC=$?
  STOP_MS=$(ms_since "$t0")
}

nsx ip link set lo up
mkdir -p "$NSETC"
hosts_with_db()    { printf '127.0.0.1 localhost market.test pgdb.test\n' >"$NSETC/hosts"; }
hosts_without_db() { printf '127.0.0.1 localhost market.test\n' >"$NSETC/hosts"; }
hosts_with_db
printf 'nameserver 127.0.0.53\noptions timeout:30 attempts:1\n' >"$NSETC/resolv.conf"
# the nameserver that reads every query and never answers
ns_spawn "$TEST_LOG_DIR/silent-dns.log" python3 -c '
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("127.0.0.53", 53))
while True:
    s.recv(4096)
'

# ---- the namespace's own PostgreSQL, fakemarket, programs ----------------
PGNS=(env PGLOCAL_DIR="$TEST_LOG_DIR/pgns" PGLOCAL_PORT=5432 PGLOCAL_FAST=1 "$TEST_ROOT/scripts/pg-local")
nsx "${PGNS[@]}" start >/dev/null || { not_ok "PostgreSQL starts in the namespace"; exit 1; }
nsx "$PGBIN/createdb" -h 127.0.0.1 -p 5432 -U fetcher t19 || { not_ok "createdb"; exit 1; }
export DATABASE_URL=postgresql://fetcher@pgdb.test:5432/t19
nsql() { nsx psql "postgresql://fetcher@127.0.0.1:5432/t19" -X -Atq -v ON_ERROR_STOP=1 -c "$1"; }
check "fetcherd migrate reaches the database by its host name" nsx "$BIN/fetcherd" migrate
nsx psql "postgresql://fetcher@127.0.0.1:5432/t19" -X -q -v ON_ERROR_STOP=1 -f "$TEST_ROOT/demo/seed.sql" >/dev/null

fmlog=$TEST_LOG_DIR/fakemarket.log
ns_spawn "$fmlog" "$BIN/fakemarket" --port 0
port=""
for _ in $(seq 100); do
  port=$(sed -n 's/^fakemarket listening on 127\.0\.0\.1:\([0-9]*\).*/\1/p' "$fmlog" | head -1)
  [ -n "$port" ] && break; sleep 0.05
done
[ -n "$port" ] || { not_ok "fakemarket starts in the namespace"; exit 1; }
FM_LOCAL=http://127.0.0.1:$port
fm_requests() { nsx curl -s "$FM_LOCAL/_stats" | jq .requests_total; }
providers_at() {
  export YAHOO_BASE_URL=$1 COINGECKO_BASE_URL=$1/api/v3 FX_BASE_URL=$1 KRAKEN_BASE_URL=$1 \
    ERAPI_BASE_URL=$1 TWELVEDATA_BASE_URL=$1 COINBASE_BASE_URL=$1 BINANCE_BASE_URL=$1
}
providers_at "http://market.test:$port"
export FETCH_RATE_LIMITS=yahoo=0,coingecko=0,fx=0,kraken=0,erapi=0,twelvedata=0,coinbase=0,binance=0
export FETCH_INTERVAL=2s HEARTBEAT_INTERVAL=1s WATCHDOG_SECONDS=5
# ---- A. the database by its host name ------------------------------------
ns_fetcherd fetcherd.log
finished() { [ "$(nsql "SELECT count(*) FROM fetcher_cycles WHERE status <> 'running'")" -ge "$1" ]; }
check "A: cycles are written to the database named pgdb.test" wait_for 20 finished 1
API_PORT=8080 ns_spawn "$TEST_LOG_DIR/fetcher-api.log" "$BIN/fetcher-api"
API=http://127.0.0.1:8080
check "A: fetcher-api answers through pgdb.test" wait_for 10 nsx curl -sf "$API/api/fetcher/status"

# ---- B. the database gone, its name unanswered ---------------------------
per_cycle=$(nsql "SELECT max(upstream_requests) FROM fetcher_cycles")
hosts_without_db
nsx "${PGNS[@]}" stop >/dev/null
before=$(fm_requests)
sleep 13   # the reconnect (1 s), the lookup's own limit (10 s), and more
after=$(fm_requests)
check "B: fetcherd is alive: no lookup stalled its loop past the 5 s watchdog" kill -0 "$FETCHERD_PID"
check "B: the watchdog never fired" sh -c "! grep -q -i watchdog '$TEST_LOG_DIR/fetcherd.log'"
check_cmp "B: cycles went on while the database's name did not resolve ($before → $after requests, $per_cycle a cycle)" \
  "$after" -ge "$((before + 3 * per_cycle))"
check "B: the lookup gave up with a message naming the host" \
  grep -q 'cannot resolve database host "pgdb.test": no answer from the resolver within 10s' "$TEST_LOG_DIR/fetcherd.log"

# fetcher-api: 503 at once while the database is known down
codes="" slow=0 worst=0
for i in 1 2 3 4 5 6; do
  out=$(nsx curl -s -o /dev/null -w '%{http_code} %{time_total}' --max-time 20 "$API/api/fetcher/logs?limit=1")
  c=${out% *}; ms=$(awk -v t="${out#* }" 'BEGIN { printf "%d", t * 1000 }')
  codes="$codes $c"; [ "$ms" -gt "$worst" ] && worst=$ms
  [ "$ms" -ge 500 ] && slow=$((slow + 1))
  sleep 0.1
done
check_eq "B: fetcher-api answers 503 while the database's name does not resolve" " 503 503 503 503 503 503" "$codes"
check_cmp "B: no API request waits for the resolver (slowest ${worst} ms)" "$worst" -lt 3000
check_cmp "B: most answer at once, the database being known down ($slow of 6 took 0.5 s or more)" "$slow" -le 2
echo "# api while the database's name hangs: codes$codes, slowest ${worst} ms"

stop_timed
check_eq "B: SIGTERM during the lookup: exit 0" 0 "$STOP_RC"
# the database away: it gets 2 s to come back for the buffered rows, then
# fetcherd exits (the lookup itself never holds it)
check_cmp "B: SIGTERM during the lookup: exits within 4 s, not the resolver's 30 (${STOP_MS} ms)" "$STOP_MS" -lt 4000
# at start-up, the migration's connection waits for the name
ns_fetcherd fetcherd-startup.log
sleep 1.5
stop_timed
check_eq "B: SIGTERM while the start-up waits for the name: exit 0" 0 "$STOP_RC"
check_cmp "B: SIGTERM while the start-up waits for the name: exits within 2 s (${STOP_MS} ms)" "$STOP_MS" -lt 2000
echo "# stop during a database lookup: ${STOP_MS} ms at start-up"

# ---- C. the providers' host does not resolve ------------------------------
hosts_with_db
nsx "${PGNS[@]}" start >/dev/null
providers_at "http://nxmarket.test:$port"
# one source per class and quick probes: a provider down for connection
# failures is probed, and each probe that fails counts towards offline.
# FETCH_TIMEOUT=5s is the connect time limit a lookup has anyway.
export FETCH_RETRIES=0 FETCH_PROBE_INTERVAL=2s FETCH_SOURCES='stock=yahoo;crypto=coingecko;fx=fx' FETCH_TIMEOUT=5s
# A weekend, as the lead's run met it: a Saturday on the schedule's clock
# (fetcher.clock_offset, as in market_hours.sh; next week's, so crypto is
# due), yahoo's closing prices in (asked after Friday's close), and one
# stock without its history. Yahoo is asked once, for that history (the
# backfill on), and never again. Offline is judged over the providers
# asked within the queue's offline window (queue.h: probe interval +
# 3 x FETCH_TIMEOUT, here 2 + 3 x 5 = 17 s): yahoo leaves the judgement and
# coingecko's failures put the queue offline. (Before, a provider asked
# once kept the queue from ever judging itself offline.)
sat=$(nsql "SELECT date_trunc('week', now() AT TIME ZONE 'UTC') + interval '12 days 15 hours'")
nsql "ALTER DATABASE t19 SET fetcher.clock_offset = '$(nsql "SELECT ('$sat'::timestamp AT TIME ZONE 'UTC') - now()")'"
nsql "UPDATE tracked_assets t SET last_attempt_at = ('$sat'::timestamp AT TIME ZONE 'UTC') - interval '1 hour'
      FROM assets a WHERE a.id = t.asset_id AND a.provider = 'yahoo'"
n_yahoo=$(nsql "SELECT count(*) FROM tracked_assets t JOIN assets a ON a.id = t.asset_id WHERE a.provider = 'yahoo'")
hist_id=$(nsql "SELECT a.id FROM assets a JOIN tracked_assets t ON t.asset_id = a.id WHERE a.asset_type = 'stock' AND a.provider = 'yahoo' ORDER BY a.id LIMIT 1")
nsql "UPDATE assets SET history_backfilled_at = NULL, history_error = NULL, history_error_at = NULL WHERE id = $hist_id"
cyc0=$(nsql "SELECT coalesce(max(id), 0) FROM fetcher_cycles")
t_c=$(date +%s%N)
ns_fetcherd fetcherd-c.log
offline() { [ "$(nsql "SELECT detail->>'offline' FROM fetcher_instances WHERE state = 'running' ORDER BY last_heartbeat DESC LIMIT 1")" = true ]; }
check "C: unresolvable providers put the queue offline" wait_for 60 offline
echo "# offline $(ms_since "$t_c") ms after fetcherd started (a Saturday, the backfill on)"
hist_failed() { [ "$(nsql "SELECT count(*) FROM assets WHERE id = $hist_id AND history_error LIKE '%cannot resolve host nxmarket.test%'")" = 1 ]; }
check "C: yahoo was asked for the missing history (it failed to resolve)" wait_for 10 hist_failed
check_eq "C: and for no price: its $n_yahoo assets skipped (market closed) in every cycle" "0 0" \
  "$(nsql "SELECT (SELECT count(*) FROM price_update_log u JOIN assets a ON a.symbol = u.symbol
                    WHERE u.cycle_id > $cyc0 AND a.provider = 'yahoo') || ' ' ||
                  (SELECT count(*) FROM fetcher_cycles WHERE id > $cyc0 AND status <> 'running'
                    AND assets_market_closed <> $n_yahoo)")"
check "C: the offline state was logged" \
  test "$(nsql "SELECT count(*) FROM fetcher_logs WHERE message LIKE 'Offline:%'")" -ge 1
check "C: each failed update says the host name did not resolve" \
  test "$(nsql "SELECT count(*) FROM price_update_log WHERE error LIKE '%cannot resolve host nxmarket.test: no answer from the DNS resolver%'")" -ge 1
check_eq "C: no failure reads as a plain timeout" 0 \
  "$(nsql "SELECT count(*) FROM price_update_log WHERE error LIKE 'no answer within the time limit%'")"
check "C: the heartbeat shows the providers offline" \
  test "$(nsql "SELECT count(*) FROM fetcher_instances, jsonb_array_elements(queue->'providers') p WHERE state = 'running' AND p->>'state' = 'offline'")" -ge 1
# libcurl's lookups run in its threads: heartbeats keep coming
age=$(nsql "SELECT round(extract(epoch FROM now() - last_heartbeat))::int FROM fetcher_instances WHERE state = 'running' ORDER BY last_heartbeat DESC LIMIT 1")
check_cmp "C: the heartbeat is fresh while libcurl waits for the resolver (${age}s old)" "$age" -le 3
check "C: fetcherd is alive (libcurl's lookups never stalled the loop past the watchdog)" kill -0 "$FETCHERD_PID"
# one line per cause per cycle, the count and the symbols in its context
mismatch=$(nsql "SELECT count(*) FROM fetcher_cycles c WHERE c.id > $cyc0 AND c.status <> 'running' AND c.assets_failed > 0
  AND (SELECT count(*) FROM fetcher_logs l WHERE l.cycle_id = c.id AND l.level = 'ERROR' AND l.message LIKE 'Failed to update%')
   <> (SELECT count(DISTINCT u.error) FROM price_update_log u WHERE u.cycle_id = c.id AND NOT u.success)")
check_eq "C: one failure line per cause per cycle, not per asset" 0 "$mismatch"
most=$(nsql "SELECT coalesce(max(n), 0) FROM (SELECT count(*) AS n FROM fetcher_logs WHERE level = 'ERROR' AND message LIKE 'Failed to update%' AND cycle_id > $cyc0 GROUP BY cycle_id) x")
assets=$(nsql "SELECT count(*) FROM tracked_assets")
check_cmp "C: a cycle's failure lines ($most at most) are fewer than its $assets assets" "$most" -lt "$assets"
bad=$(nsql "SELECT count(*) FROM fetcher_cycles c WHERE c.id > $cyc0 AND c.status <> 'running' AND c.assets_failed > 0
  AND c.assets_failed <> (SELECT coalesce(sum(coalesce((l.context->>'count')::int, 1)), 0) FROM fetcher_logs l
                          WHERE l.cycle_id = c.id AND l.message LIKE 'Failed to update%')")
check_eq "C: the lines' counts add up to each cycle's failed assets" 0 "$bad"
check "C: a grouped line lists its symbols in its context" \
  test "$(nsql "SELECT count(*) FROM fetcher_logs WHERE message LIKE 'Failed to update % assets:%' AND jsonb_array_length(context->'symbols') = (context->>'count')::int")" -ge 1
stop_timed
# a stop while libcurl is resolving: a fresh fetcherd (online, so its
# first cycle's requests wait up to 5 s for the name) stopped 2.5 s in
ns_fetcherd fetcherd-c2.log
sleep 2.5
stop_timed
check_eq "C: SIGTERM mid-cycle, lookups running: exit 0" 0 "$STOP_RC"
check_cmp "C: SIGTERM mid-cycle, lookups running: exits within 2 s (${STOP_MS} ms)" "$STOP_MS" -lt 2000
check "C: that cycle was recorded as aborted by shutdown" \
  test "$(nsql "SELECT count(*) FROM fetcher_cycles WHERE status = 'aborted' AND error LIKE 'aborted by shutdown%'")" -ge 1
echo "# stop mid-cycle with libcurl lookups running: ${STOP_MS} ms"

# a refused connection says so (fetcherd check asks each provider once)
(providers_at "$FM_LOCAL"; FX_BASE_URL=http://127.0.0.1:1 nsx "$BIN/fetcherd" check) >"$TEST_LOG_DIR/check.txt" 2>&1
sed 's/^/# check: /' "$TEST_LOG_DIR/check.txt"
check "C: a refused connection is named as such" \
  grep -q -E '^fx .*cannot connect to 127\.0\.0\.1: connection refused' "$TEST_LOG_DIR/check.txt"
exit 0
