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
#  3. An instance SIGSTOPped for longer than 3 heartbeats with chunks still
#     queued: woken, it sends none of them (another instance fetched them).
#  4. An instance with a longer HEARTBEAT_INTERVAL joins a running fleet:
#     it knows at once who leads, runs no cycle of its own, and the fleet
#     still requests each symbol once per cycle.
#  5. A claim answered later than the lease time (the database held it up,
#     the process did not sleep) while other shares are still fetching:
#     its chunk is given back unfetched, the others' claims are kept, and
#     every symbol is requested once.
#  6. A finish lost (the finisher killed between its last rows and its
#     finish statement): the fleet's periodic check finishes the cycle.
. "$(dirname "$0")/../lib.sh"
normal_pass_only "fleet.sh runs fleet.c under ASan (1, 2 and 3 instances, SIGKILL mid-cycle, a rolling restart, the database away, clock skew); these six faults run in the normal pass"

new_db || exit 1
migrate
load_demo
# More Yahoo symbols than one batch, so a cycle has several chunks to claim.
sql "INSERT INTO assets (symbol, name, asset_type, currency, provider, provider_symbol)
     SELECT 'ZF' || i, 'Fleet stock ' || i, 'stock', 'USD', 'yahoo', 'ZF' || i FROM generate_series(1, 100) i;
     INSERT INTO tracked_assets (asset_id) SELECT id FROM assets WHERE symbol LIKE 'ZF%'" >/dev/null
start_fakemarket --latency-ms 700 || { not_ok "fakemarket starts"; exit 1; }
export HEARTBEAT_INTERVAL=1s FETCH_INTERVAL=3s FETCH_PROBE_INTERVAL=2s PRICE_CROSSCHECK_SAMPLE=0
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

# --- 3. a paused instance wakes after its claims went to another ----------
# fleet-c, alone, claims every chunk of a shared cycle; sending one batch
# at a time (FETCH_CONCURRENCY=1), it has chunks still queued when it is
# SIGSTOPped for longer than 3 heartbeats. fleet-b takes them over and
# fetches them; fleet-c, woken, must not send what it had queued. The
# cycle's assets are untracked ones, so that no scheduled cycle asks for
# them: every request counted for them is a share's.
stop_pid "${PID[fleet-a]}"; stop_pid "${PID[fleet-b]}"
sql "INSERT INTO assets (symbol, name, asset_type, currency, provider, provider_symbol)
     SELECT 'ZQ' || i, 'Paused stock ' || i, 'stock', 'USD', 'yahoo', 'ZQ' || i FROM generate_series(1, 60) i" >/dev/null
curl -s -X POST "$FAKE_URL/_latency?ms=1500" >/dev/null
FETCH_INTERVAL=1h FETCH_CONCURRENCY=1 start_one fleet-c
check "fleet-c runs alone" wait_for 15 live_is 1
wait_for 30 idle_now
curl -s -X POST "$FAKE_URL/_reset" >/dev/null
pid=$(sql "WITH c AS (INSERT INTO fetcher_cycles (instance_id, seq, trigger, status, started_at, assets_total, fleet)
             VALUES ('fleet-ghost', 2, 'manual', 'running', now(), 60, true) RETURNING id),
           w AS (INSERT INTO fetcher_work (cycle_id, asset_id, provider)
             SELECT c.id, a.id, a.provider FROM c, assets a WHERE a.symbol LIKE 'ZQ%')
         SELECT id, pg_notify('fetcher_work', id::text) FROM c" | cut -d'|' -f1)
holds_all() { [ "$(sql "SELECT count(*) FROM fetcher_work WHERE owner = 'fleet-c' AND done_at IS NULL")" = 60 ]; }
check "fleet-c claims every chunk of cycle $pid" wait_for 10 holds_all
kill -STOP "${PID[fleet-c]}"
at_stop=$(curl -s "$FAKE_URL/_stats")
FETCH_INTERVAL=1h start_one fleet-b
check "fleet-b finishes cycle $pid while fleet-c sleeps" wait_for 20 finished "$pid"
kill -CONT "${PID[fleet-c]}"
sleep 4 # fleet-c's next ticks, and 1.5 s answers
end=$(curl -s "$FAKE_URL/_stats")
queued=$(echo "$at_stop" | jq -r '[range(1; 61) | "ZQ\(.)"] - (.by_symbol | keys) | .[]')
nq=$(echo "$queued" | grep -c ZQ)
echo "# paused: $nq of fleet-c's 60 symbols were not yet requested when it stopped"
check_cmp "paused: fleet-c had chunks still queued when it stopped ($nq symbols)" "$nq" -gt 0
twice=$(for s in $queued; do echo "$end" | jq -r --arg s "$s" 'select(.by_symbol[$s] > 1) | $s'; done | tr '\n' ' ')
check_eq "paused: none of them requested twice (once by fleet-b)" "" "$twice"
check_eq "paused: cycle $pid has its 60 assets once each" "succeeded 60 60" \
  "$(sql "SELECT c.status || ' ' || c.assets_succeeded || ' ' || (SELECT count(DISTINCT asset_id) FROM price_update_log p WHERE p.cycle_id = c.id) FROM fetcher_cycles c WHERE c.id = $pid")"
no_dup_rows "paused"
check "paused: fleet-c said its fetches were cancelled" \
  test "$(sql "SELECT count(*) FROM fetcher_logs WHERE instance_id = 'fleet-c' AND message LIKE 'This instance was paused for%'")" -ge 1

# --- 4. a longer HEARTBEAT_INTERVAL joins a running fleet ------------------
stop_pid "${PID[fleet-b]}"; stop_pid "${PID[fleet-c]}"
curl -s -X POST "$FAKE_URL/_latency?ms=20" >/dev/null
start_one fleet-a
start_one fleet-b
check "two instances at a 1 s heartbeat run" wait_for 15 live_is 2
last_id() { sql "SELECT COALESCE(max(id), 0) FROM fetcher_cycles"; }
for _ in 1 2 3; do # from a quiet moment: a cycle begun before the reset is not counted
  wait_for 20 idle_now
  from=$(last_id)
  curl -s -X POST "$FAKE_URL/_reset" >/dev/null
  idle_now && [ "$(last_id)" = "$from" ] && break
done
HEARTBEAT_INTERVAL=15s start_one fleet-d
sleep 12 # past the 10 s the scheduler holds its first deadline for an answer
check_eq "15 s heartbeat: fleet-d ran no cycle of its own" 0 \
  "$(sql "SELECT count(*) FROM fetcher_cycles WHERE instance_id = 'fleet-d'")"
wait_for 20 idle_now
stats=$(curl -s "$FAKE_URL/_stats")
n=$(sql "SELECT count(*) FROM fetcher_cycles WHERE id > $from AND status <> 'running' AND fleet")
check_eq "15 s heartbeat: every symbol requested once per shared cycle ($n cycles)" "$n " \
  "$(echo "$stats" | jq -r '.by_symbol | to_entries[] | select(.key | startswith("ZQ") | not) | .value' | sort -u | tr '\n' ' ')"
no_dup_rows "15 s heartbeat"

# --- 5. a claim answered late while other shares are still fetching -------
# fleet-e, alone, sends one batch at a time (1.5 s each). It claims a
# 200-asset shared cycle at once, in chunks of four batches. While those
# chunks are still fetching, a second 200-asset cycle is committed and a
# SHARE lock on fetcher_work (another session) holds fleet-e's next claim
# of it for 4.5 s, past the 3 s lease time: that claim's assets must not
# be fetched by fleet-e on its late answer, and the first cycle's shares
# must go on, neither given back nor fetched twice.
stop_pid "${PID[fleet-a]}"; stop_pid "${PID[fleet-b]}"; stop_pid "${PID[fleet-d]}"
sql "INSERT INTO assets (symbol, name, asset_type, currency, provider, provider_symbol)
     SELECT 'ZR' || i, 'Late stock ' || i, 'stock', 'USD', 'yahoo', 'ZR' || i FROM generate_series(1, 200) i
     UNION ALL
     SELECT 'ZS' || i, 'Later stock ' || i, 'stock', 'USD', 'yahoo', 'ZS' || i FROM generate_series(1, 200) i" >/dev/null
curl -s -X POST "$FAKE_URL/_latency?ms=1500" >/dev/null
FETCH_INTERVAL=1h FETCH_CONCURRENCY=1 start_one fleet-e
check "fleet-e runs alone" wait_for 15 live_is 1
wait_for 30 idle_now
curl -s -X POST "$FAKE_URL/_reset" >/dev/null
# ghost_cycle SEQ PREFIX NOTIFY — a shared cycle of another (gone) leader
ghost_cycle() {
  sql "WITH c AS (INSERT INTO fetcher_cycles (instance_id, seq, trigger, status, started_at, assets_total, fleet)
               VALUES ('fleet-ghost', $1, 'manual', 'running', now(), 200, true) RETURNING id),
             w AS (INSERT INTO fetcher_work (cycle_id, asset_id, provider)
               SELECT c.id, a.id, a.provider FROM c, assets a WHERE a.symbol LIKE '$2%')
           SELECT id, CASE WHEN $3 THEN pg_notify('fetcher_work', id::text) END FROM c" | cut -d'|' -f1
}
lid=$(ghost_cycle 3 ZR true)
holds_all() { [ "$(sql "SELECT count(*) FROM fetcher_work WHERE owner = 'fleet-e' AND cycle_id = $lid AND done_at IS NULL")" = 200 ]; }
check "fleet-e claims all of cycle $lid, in chunks" wait_for 10 holds_all
lid2=$(ghost_cycle 5 ZS false)
psql "$DATABASE_URL" -X -q -c "BEGIN" -c "LOCK TABLE fetcher_work IN SHARE MODE" \
  -c "SELECT pg_sleep(4.5)" -c "COMMIT" >/dev/null 2>&1 &
lock_pid=$!
wait $lock_pid
for c in "$lid" "$lid2"; do
  check "late claim: cycle $c is finished" wait_for 60 finished "$c"
  check_eq "late claim: cycle $c's 200 assets recorded, once each" "succeeded 200 200" \
    "$(sql "SELECT c.status || ' ' || c.assets_succeeded || ' ' || (SELECT count(*) FROM price_update_log p WHERE p.cycle_id = c.id) FROM fetcher_cycles c WHERE c.id = $c")"
done
check_eq "late claim: every symbol of both cycles requested once" "1 400" \
  "$(curl -s "$FAKE_URL/_stats" | jq -r '[.by_symbol | to_entries[] | select(.key | test("^Z[RS]")) | .value] | "\(unique | map(tostring) | join(",")) \(length)"')"
check "late claim: fleet-e said it gave a claim back unfetched" \
  test "$(grep -c 'answered after the lease time' "$TEST_LOG_DIR/fetcherd.log")" -ge 1

# --- 6. a finish lost: the last rows written, the finish statement never --
# What a finisher SIGKILLed between its rows and its finish statement
# leaves: a shared cycle still 'running' whose work is all done. The
# fleet's periodic check finishes it with the counts of its work rows.
fid=$(sql "WITH c AS (INSERT INTO fetcher_cycles (instance_id, seq, trigger, status, started_at, assets_total, fleet)
             VALUES ('fleet-ghost', 4, 'manual', 'running', now(), 4, true) RETURNING id),
           w AS (INSERT INTO fetcher_work (cycle_id, asset_id, provider, owner, claimed_at, done_at, success)
             SELECT c.id, t.asset_id, a.provider, 'fleet-gone', now(), now(), t.n <> 4 FROM c,
               (SELECT asset_id, row_number() OVER (ORDER BY asset_id) n FROM tracked_assets ORDER BY asset_id LIMIT 4) t
               JOIN assets a ON a.id = t.asset_id)
         SELECT id FROM c")
check "finish lost: cycle $fid is finished by the fleet" wait_for 10 finished "$fid"
check_eq "finish lost: its counts come from the work rows" "partial 3 1 fleet-gone" \
  "$(sql "SELECT status || ' ' || assets_succeeded || ' ' || assets_failed || ' ' || array_to_string(instances, ',') FROM fetcher_cycles WHERE id = $fid")"
check_eq "finish lost: its work rows are gone" 0 "$(sql "SELECT count(*) FROM fetcher_work WHERE cycle_id = $fid")"
