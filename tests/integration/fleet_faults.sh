#!/usr/bin/env bash
# Faults under several fetcherd on one database (daemon/fleet.h), real
# binaries, real PostgreSQL, fakemarket counting every request:
#  1. An instance SIGKILLed while it holds claims and started again at once
#     under the same FETCHER_INSTANCE_ID (what a container restart does):
#     its old claims are not left under its live name, the cycle finishes,
#     the schedule goes on.
#  2. Claims under a live instance's name that none of its shares works on
#     (a claim whose answer was lost with the connection): given back, the
#     cycle finishes.
. "$(dirname "$0")/../lib.sh"

new_db || exit 1
migrate
load_demo
# More Yahoo symbols than one batch, so a cycle has several chunks to claim.
sql "INSERT INTO assets (symbol, name, asset_type, currency, provider, provider_symbol)
     SELECT 'ZF' || i, 'Fleet stock ' || i, 'stock', 'USD', 'yahoo', 'ZF' || i FROM generate_series(1, 100) i;
     INSERT INTO tracked_assets (asset_id) SELECT id FROM assets WHERE symbol LIKE 'ZF%'" >/dev/null
start_fakemarket --latency-ms 700 || { not_ok "fakemarket starts"; exit 1; }
export HEARTBEAT_INTERVAL=1s FETCH_INTERVAL=3s FETCH_PROBE_INTERVAL=2s
hb=1

tracked=$(sql "SELECT count(*) FROM tracked_assets")
declare -A PID
start_one() {
  FETCHER_INSTANCE_ID=$1 start_fetcherd
  PID[$1]=$FETCHERD_PID
}
live() { sql "SELECT count(*) FROM fetcher_instances WHERE state = 'running' AND last_heartbeat > now() - interval '3 seconds'"; }
live_is() { [ "$(live)" = "$1" ]; }
running() { sql "SELECT count(*) FROM fetcher_cycles WHERE status = 'running'"; }
idle_now() { [ "$(running)" = 0 ]; }
finished() { [ "$(sql "SELECT status FROM fetcher_cycles WHERE id = $1")" != running ]; }
holds_claims() { [ "$(sql "SELECT count(*) FROM fetcher_work WHERE owner = '$1' AND done_at IS NULL")" -gt 0 ]; }
later_cycle_done() { [ "$(sql "SELECT count(*) FROM fetcher_cycles WHERE id > $1 AND status <> 'running'")" -ge 1 ]; }
no_dup_rows() {
  check_eq "$1: no asset twice in any cycle" 0 \
    "$(sql "SELECT count(*) FROM (SELECT cycle_id, asset_id FROM price_update_log WHERE cycle_id IS NOT NULL GROUP BY 1, 2 HAVING count(*) > 1) d")"
}

# --- 1. SIGKILL and an immediate restart under the same id ---------------
start_one fleet-a
start_one fleet-b
check "two instances run" wait_for 15 live_is 2
check "fleet-a holds claims in a shared cycle" wait_for 30 holds_claims fleet-a
cid=$(sql "SELECT min(cycle_id) FROM fetcher_work WHERE owner = 'fleet-a' AND done_at IS NULL")
kill -KILL "${PID[fleet-a]}"
wait "${PID[fleet-a]}" 2>/dev/null
start_one fleet-a
t0=$(date +%s%N)
check "restart under the same id: cycle $cid is finished" wait_for 20 finished "$cid"
took=$(( ($(date +%s%N) - t0) / 1000000 ))
echo "# restart under the same id: cycle $cid finished ${took} ms after the restart"
check_eq "restart under the same id: cycle $cid has every asset once" "succeeded $tracked $tracked" \
  "$(sql "SELECT c.status || ' ' || c.assets_succeeded || ' ' || (SELECT count(DISTINCT asset_id) FROM price_update_log p WHERE p.cycle_id = c.id) FROM fetcher_cycles c WHERE c.id = $cid")"
check "restart under the same id: the claims were logged as given back" \
  test "$(sql "SELECT count(*) FROM fetcher_logs WHERE instance_id = 'fleet-a' AND message LIKE '%claimed under this instance''s name but fetched by none of its shares went back to the pool%'")" -ge 1
check "restart under the same id: the schedule goes on" wait_for 20 later_cycle_done "$cid"
no_dup_rows "restart under the same id"

# --- 2. claims under a live name that no share works on ------------------
# What a claim whose answer was lost leaves behind: work of a running
# shared cycle claimed under the name of fleet-b, alive, which knows
# nothing of it.
wait_for 20 idle_now
gid=$(sql "WITH c AS (INSERT INTO fetcher_cycles (instance_id, seq, trigger, status, started_at, assets_total, fleet)
             VALUES ('fleet-ghost', 1, 'manual', 'running', now(), 5, true) RETURNING id),
           w AS (INSERT INTO fetcher_work (cycle_id, asset_id, provider, owner, claimed_at)
             SELECT c.id, t.asset_id, a.provider, 'fleet-b', now() FROM c,
               (SELECT asset_id FROM tracked_assets ORDER BY asset_id LIMIT 5) t JOIN assets a ON a.id = t.asset_id)
         SELECT id FROM c")
check "orphaned claims: cycle $gid is finished" wait_for 15 finished "$gid"
check_eq "orphaned claims: its 5 assets recorded, once each" "succeeded 5 5" \
  "$(sql "SELECT c.status || ' ' || c.assets_succeeded || ' ' || (SELECT count(*) FROM price_update_log p WHERE p.cycle_id = c.id) FROM fetcher_cycles c WHERE c.id = $gid")"
check "orphaned claims: fleet-b logged giving them back" \
  test "$(sql "SELECT count(*) FROM fetcher_logs WHERE instance_id = 'fleet-b' AND message LIKE '5 assets claimed under this instance''s name%'")" -ge 1
check "orphaned claims: the schedule goes on" wait_for 20 later_cycle_done "$gid"
no_dup_rows "orphaned claims"
