#!/usr/bin/env bash
# Several fetcherd on one database (daemon/fleet.h), real binaries, real
# PostgreSQL, fakemarket counting every request:
#  1. 1, 2 and 3 instances over several cycles: each symbol is requested
#     once per cycle by the whole fleet, one cycle row per cycle, one
#     update row per tracked asset per cycle, the work shared.
#  2. SIGKILL of the leader, then of a follower, mid-cycle: the cycle is
#     finished by the others, every asset refreshed within interval +
#     3 × heartbeat, nothing twice; /status shows the dead instance stopped
#     and the new leader.
#  3. A rolling restart of 3 instances at a 5 s interval: no cycle missed,
#     no symbol fetched twice in a cycle.
#  4. The database away for 10 s under 3 instances: afterwards no row twice
#     and none lost.
#  5. Clocks 30 s apart (FETCHER_TEST_CLOCK_SKEW_MS) change nothing.
. "$(dirname "$0")/../lib.sh"

new_db || exit 1
migrate
load_demo
start_fakemarket --latency-ms 20 || { not_ok "fakemarket starts"; exit 1; }
start_api || { not_ok "fetcher-api starts"; exit 1; }
# no cross-check sample: its extra asks would make the per-symbol counts
# (one request per symbol per cycle) unequal
export HEARTBEAT_INTERVAL=1s FETCH_INTERVAL=3s FETCH_PROBE_INTERVAL=2s PRICE_CROSSCHECK_SAMPLE=0

tracked=$(sql "SELECT count(*) FROM tracked_assets")
declare -A PID
# start_one NAME — an instance of that id (SKEW=ms shifts its wall clock).
start_one() {
  FETCHER_INSTANCE_ID=$1 FETCHER_TEST_CLOCK_SKEW_MS=${SKEW:-0} start_fetcherd
  PID[$1]=$FETCHERD_PID
}
live() { sql "SELECT count(*) FROM fetcher_instances WHERE state = 'running' AND last_heartbeat > now() - interval '3 seconds'"; }
live_is() { [ "$(live)" = "$1" ]; }
running() { sql "SELECT count(*) FROM fetcher_cycles WHERE status = 'running'"; }
last_id() { sql "SELECT COALESCE(max(id), 0) FROM fetcher_cycles"; }
idle_now() { [ "$(running)" = 0 ]; }
done_after() { [ "$(sql "SELECT count(*) FROM fetcher_cycles WHERE id > $1 AND status <> 'running'")" -ge "$2" ] && idle_now; }
reset_stats() { curl -s -X POST "$FAKE_URL/_reset" >/dev/null; }
stats() { curl -s "$FAKE_URL/_stats"; }

# window N: from a quiet moment, N more cycles; sets W_FROM W_TO.
window() {
  wait_for 20 idle_now
  W_FROM=$(last_id)
  reset_stats
  # a cycle that began between the check and the reset is not ours to count
  if ! idle_now || [ "$(last_id)" != "$W_FROM" ]; then wait_for 20 idle_now; W_FROM=$(last_id); reset_stats; fi
  wait_for 60 done_after "$W_FROM" "$1"
  W_TO=$(sql "SELECT max(id) FROM fetcher_cycles WHERE id > $W_FROM AND status <> 'running'")
  # stop counting before the next cycle: it starts on the grid, seconds later
  W_STATS=$(stats)
}

# check_window LABEL: each symbol once per cycle, one row per asset per cycle.
check_window() {
  local label=$1 n
  n=$(sql "SELECT count(*) FROM fetcher_cycles WHERE id > $W_FROM AND id <= $W_TO")
  # the tracked assets' symbols (the exchange rates go with the full
  # checks only, every FETCH_INTERVAL: not every cycle has them)
  local syms counts
  syms=$(sql "SELECT json_agg(a.provider_symbol) FROM tracked_assets t JOIN assets a ON a.id = t.asset_id")
  counts=$(echo "$W_STATS" | jq -r --argjson s "$syms" '.by_symbol | to_entries[] | select(.key as $k | $s | index($k)) | .value' | sort -u | tr '\n' ' ')
  check_eq "$label: every tracked symbol requested once per cycle over $n cycles (counts seen: $counts)" "$n " "$counts"
  check_eq "$label: one update row per tracked asset per cycle" "$((n * tracked))" \
    "$(sql "SELECT count(*) FROM price_update_log WHERE cycle_id > $W_FROM AND cycle_id <= $W_TO")"
  check_eq "$label: no asset twice in a cycle" 0 \
    "$(sql "SELECT count(*) FROM (SELECT cycle_id, asset_id FROM price_update_log WHERE cycle_id > $W_FROM AND cycle_id <= $W_TO GROUP BY 1, 2 HAVING count(*) > 1) d")"
  check_eq "$label: every cycle finished with all its assets" "$n" \
    "$(sql "SELECT count(*) FROM fetcher_cycles WHERE id > $W_FROM AND id <= $W_TO AND status = 'succeeded' AND assets_succeeded = $tracked")"
}

# --- 1. one, two, three instances -------------------------------------
start_one fleet-a
check "one instance runs" wait_for 15 live_is 1
window 3
check_window "1 instance"
check_eq "1 instance: its cycles are its own (not shared)" 0 \
  "$(sql "SELECT count(*) FROM fetcher_cycles WHERE id > $W_FROM AND id <= $W_TO AND fleet")"

start_one fleet-b
check "two instances run" wait_for 15 live_is 2
window 1   # the first cycle after the join may still be the leader's alone
window 4
check_window "2 instances"
check_eq "2 instances: every cycle shared" 4 \
  "$(sql "SELECT count(*) FROM fetcher_cycles WHERE id > $W_FROM AND id <= $W_TO AND fleet")"
check_cmp "2 instances: both took part (instances per cycle, summed)" \
  "$(sql "SELECT count(*) FROM (SELECT unnest(instances) FROM fetcher_cycles WHERE id > $W_FROM AND id <= $W_TO) x")" -ge 5
check_eq "2 instances: one leader" 1 "$(sql "SELECT count(*) FROM fetcher_lease WHERE expires_at > now() AND holder IS NOT NULL")"

start_one fleet-c
check "three instances run" wait_for 15 live_is 3
window 1
window 4
check_window "3 instances"
check_cmp "3 instances: the three took part" \
  "$(sql "SELECT count(DISTINCT i) FROM (SELECT unnest(instances) i FROM fetcher_cycles WHERE id > $W_FROM AND id <= $W_TO) x")" -eq 3

status=$(curl -s "$API_URL/api/fetcher/status")
check_eq "/status names the leader" "$(sql "SELECT holder FROM fetcher_lease")" "$(echo "$status" | jq -r .leader)"
check_eq "/status lists three running instances" 3 "$(echo "$status" | jq '[.instances[] | select(.status == "running")] | length')"
check_eq "/status gives each instance its role" "1 2" \
  "$(echo "$status" | jq -r '[.instances[] | select(.status == "running") | .role] | group_by(.) | map(length) | sort | map(tostring) | join(" ")')"
check_eq "/status: the shares of the last cycle add up to the tracked assets" "$tracked" \
  "$(echo "$status" | jq '[.instances[] | .share // 0] | add')"


# Triggers and refreshes reach every instance (NOTIFY); the leader acts.
wait_for 20 idle_now
reset_stats
refresh_rows() { sql "SELECT count(*) FROM price_update_log WHERE cycle_id IS NULL AND symbol = 'AAPL'"; }
r0=$(refresh_rows)
sql "SELECT pg_notify('fetcher_refresh', '{\"symbols\":[\"AAPL\"],\"client\":\"one\"}')" >/dev/null
sql "SELECT pg_notify('fetcher_refresh', '{\"symbols\":[\"AAPL\"],\"client\":\"two\"}')" >/dev/null
two_rows() { [ "$(refresh_rows)" -ge $((r0 + 2)) ]; }
check "two refreshes of AAPL under three instances are both answered" wait_for 10 two_rows
# at most one: none when a cycle had fetched AAPL seconds before (a refresh
# takes an answer that recent from the queue's cache)
check_cmp "… with at most one upstream request between them" "$(stats | jq '.by_symbol.AAPL // 0')" -le 1
check_eq "… both by the leader" "$(sql "SELECT holder FROM fetcher_lease")" \
  "$(sql "SELECT string_agg(DISTINCT instance_id, ',') FROM (SELECT instance_id FROM price_update_log WHERE cycle_id IS NULL AND symbol = 'AAPL' ORDER BY id DESC LIMIT 2) x")"
wait_for 20 idle_now
before=$(last_id)
reset_stats
sql "SELECT pg_notify('fetcher_trigger', '{\"client\":\"tester\"}')" >/dev/null
check "a trigger under three instances starts a cycle" wait_for 10 done_after "$before" 1
sleep 0.5
wait_for 20 idle_now
check_eq "… exactly one, shared" "1 true" \
  "$(sql "SELECT count(*) || ' ' || bool_and(fleet) FROM fetcher_cycles WHERE id > $before AND trigger = 'manual'")"
n=$(sql "SELECT count(*) FROM fetcher_cycles WHERE id > $before")
check_eq "… each symbol requested once per cycle ($n cycles, a scheduled one may have followed)" "$n " \
  "$(stats | jq -r '.by_symbol | to_entries[] | .value' | sort -u | tr '\n' ' ')"

# --- 2. SIGKILL mid-cycle: the leader, then a follower ------------------
# Each provider answers in 700 ms, so a cycle's chunks are on the wire for
# a while and the victim holds claims when it dies.
curl -s -X POST "$FAKE_URL/_latency?ms=700" >/dev/null
hb=1 interval=3
leader() { sql "SELECT holder FROM fetcher_lease WHERE expires_at > now()"; }
# holds_claims NAME: NAME has claimed work not yet done
holds_claims() { [ "$(sql "SELECT count(*) FROM fetcher_work WHERE owner = '$1' AND done_at IS NULL")" -gt 0 ]; }
finished() { [ "$(sql "SELECT status FROM fetcher_cycles WHERE id = $1")" != running ]; }
# kill_mid_cycle NAME LABEL
kill_mid_cycle() {
  local victim=$1 label=$2
  # the cycle read and the kill at once: a claim lasts a 700 ms answer
  # (check runs it in a subshell: the id goes through a file)
  grab_cid() {
    sql "SELECT min(cycle_id) FROM fetcher_work WHERE owner = '$victim' AND done_at IS NULL" >"$TEST_LOG_DIR/cid"
    [ -s "$TEST_LOG_DIR/cid" ] && [ -n "$(cat "$TEST_LOG_DIR/cid")" ]
  }
  check "$label: $victim holds claims in a shared cycle" wait_for 30 grab_cid
  kill -KILL "${PID[$victim]}"
  local cid; cid=$(cat "$TEST_LOG_DIR/cid")
  local t0; t0=$(date +%s%N)
  check "$label: the cycle is finished by the others" wait_for 30 finished "$cid"
  local took=$(( ($(date +%s%N) - t0) / 1000000 ))
  echo "# $label: cycle $cid finished ${took} ms after the SIGKILL"
  # interval + 3 heartbeats, plus one provider answer (700 ms) and a poll
  check_cmp "$label: finished within interval + 3 × heartbeat + an answer (${took} ms)" \
    "$took" -le $(( (interval + 3 * hb) * 1000 + 1500 ))
  check_eq "$label: every tracked asset recorded once in cycle $cid" "$tracked $tracked" \
    "$(sql "SELECT count(*) || ' ' || count(DISTINCT asset_id) FROM price_update_log WHERE cycle_id = $cid")"
  check_eq "$label: cycle $cid succeeded with every asset" "succeeded $tracked" \
    "$(sql "SELECT status || ' ' || assets_succeeded FROM fetcher_cycles WHERE id = $cid")"
  check "$label: the dead instance's claims were logged as returned" \
    test "$(sql "SELECT count(*) FROM fetcher_logs WHERE message LIKE '%claimed by instance $victim%went back to the pool%'")" -ge 1
}
dead=$(leader)
kill_mid_cycle "$dead" "leader killed"
new_leader_up() { l=$(leader); [ -n "$l" ] && [ "$l" != "$dead" ]; }
check "a new leader holds the lease" wait_for 10 new_leader_up
# the API's live window: three heartbeats, at least 15 s
dead_shown() {
  curl -s "$API_URL/api/fetcher/status" >"$TEST_LOG_DIR/status.json"
  [ "$(jq -r --arg d "$dead" '.instances[] | select(.instance_id == $d) | "\(.status) \(.role)"' "$TEST_LOG_DIR/status.json")" = "stale null" ]
}
check "/status shows the killed leader as stale (no heartbeat), without a role" wait_for 25 dead_shown
check_eq "/status: the new leader" "$(leader)" "$(jq -r .leader "$TEST_LOG_DIR/status.json")"
follower=$(sql "SELECT instance_id FROM fetcher_instances WHERE state = 'running' AND instance_id NOT IN ('$dead', '$(leader)') AND last_heartbeat > now() - interval '3 seconds' LIMIT 1")
kill_mid_cycle "$follower" "follower killed"
curl -s -X POST "$FAKE_URL/_latency?ms=20" >/dev/null
for n in fleet-a fleet-b fleet-c; do stop_pid "${PID[$n]}"; done

# --- 3. a rolling restart at a 5 s interval ----------------------------
export FETCH_INTERVAL=5s
interval=5
for n in fleet-a fleet-b fleet-c; do start_one "$n"; done
check "three instances run again" wait_for 15 live_is 3
window 1
wait_for 20 idle_now
W_FROM=$(last_id); reset_stats
# a cycle that began between the check and the reset is not ours to count
if ! idle_now || [ "$(last_id)" != "$W_FROM" ]; then wait_for 20 idle_now; W_FROM=$(last_id); reset_stats; fi
epoch0=$(sql "SELECT epoch FROM fetcher_lease")
for n in fleet-a fleet-b fleet-c; do
  stop_pid "${PID[$n]}"
  check_eq "rolling: $n stops cleanly (exit 0)" 0 "$STOP_RC"
  sleep 1
  start_one "$n"
  check "rolling: $n is back" wait_for 15 live_is 3
  sleep 3
done
check_cmp "rolling restart: the lease changed hands (epoch $epoch0 → $(sql "SELECT epoch FROM fetcher_lease"))" \
  "$(sql "SELECT epoch FROM fetcher_lease")" -gt "$epoch0"
wait_for 30 done_after "$(last_id)" 1
wait_for 20 idle_now
W_TO=$(last_id); W_STATS=$(stats)
check_window "rolling restart"
gap=$(sql "SELECT COALESCE(round(extract(epoch FROM max(g))::numeric, 1), 0) FROM (SELECT started_at - lag(started_at) OVER (ORDER BY id) AS g FROM fetcher_cycles WHERE id > $W_FROM - 1 AND trigger IN ('startup', 'schedule')) x")
echo "# rolling restart: the longest gap between cycles was ${gap} s (interval $interval s)"
check "rolling restart: no cycle missed (longest gap ${gap} s ≤ interval + 2 s)" \
  test "$(echo "$gap <= $interval + 2" | bc)" = 1
check_eq "rolling restart: no cycle aborted" 0 \
  "$(sql "SELECT count(*) FROM fetcher_cycles WHERE id > $W_FROM AND status = 'aborted'")"

# --- 4. the database away for 10 s under three instances ----------------
before=$(last_id)
"$TEST_ROOT/scripts/pg-local" stop >/dev/null
sleep 10
"$TEST_ROOT/scripts/pg-local" start >/dev/null
check "three instances are back after the outage" wait_for 40 live_is 3
check "a cycle completes after the outage" wait_for 40 done_after "$before" 2
wait_for 20 idle_now
check_eq "outage: no cycle left running" 0 "$(running)"
check_eq "outage: no asset twice in any cycle" 0 \
  "$(sql "SELECT count(*) FROM (SELECT cycle_id, asset_id FROM price_update_log WHERE cycle_id IS NOT NULL GROUP BY 1, 2 HAVING count(*) > 1) d")"
check_eq "outage: every finished cycle since has its rows, none lost" 0 \
  "$(sql "SELECT count(*) FROM fetcher_cycles c WHERE c.id > $before - 1 AND c.status IN ('succeeded', 'partial', 'failed')
          AND c.assets_succeeded + c.assets_failed <> (SELECT count(*) FROM price_update_log p WHERE p.cycle_id = c.id)")"
check_eq "outage: no work left behind" 0 "$(sql "SELECT count(*) FROM fetcher_work")"

# --- 5. clocks 30 s apart -----------------------------------------------
for n in fleet-a fleet-b fleet-c; do stop_pid "${PID[$n]}"; done
export FETCH_INTERVAL=3s
interval=3
SKEW=30000 start_one fleet-a
SKEW=-30000 start_one fleet-b
SKEW=0 start_one fleet-c
check "three skewed instances run" wait_for 15 live_is 3
window 1
epoch0=$(sql "SELECT epoch FROM fetcher_lease")
window 4
check_window "clocks ±30 s"
check_eq "clocks ±30 s: the lease never changed hands" "$epoch0" "$(sql "SELECT epoch FROM fetcher_lease")"
check_cmp "clocks ±30 s: all three took part" \
  "$(sql "SELECT count(DISTINCT i) FROM (SELECT unnest(instances) i FROM fetcher_cycles WHERE id > $W_FROM AND id <= $W_TO) x")" -eq 3
