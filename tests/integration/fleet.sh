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
export HEARTBEAT_INTERVAL=1s FETCH_INTERVAL=3s FETCH_PROBE_INTERVAL=2s

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
  local counts; counts=$(echo "$W_STATS" | jq -r '.by_symbol | to_entries[] | .value' | sort -u | tr '\n' ' ')
  check_eq "$label: every symbol requested once per cycle over $n cycles (counts seen: $counts)" "$n " "$counts"
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

echo "RESULT_SO_FAR"
