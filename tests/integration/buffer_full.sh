#!/usr/bin/env bash
# The write buffer overflows during a database outage (WRITE_BUFFER_ROWS
# set tiny): the oldest DEBUG/INFO log batches are dropped first, price and
# update rows last; the number dropped is logged once the database is back;
# fetcherd stays up and what it kept is written in order.
. "$(dirname "$0")/../lib.sh"

new_db || exit 1
migrate
load_demo
start_fakemarket || exit 1
# A cycle writes one update row per tracked asset: that many, from the data.
per_cycle=$(sql "SELECT count(*) FROM tracked_assets")
finished() { [ "$(sql "SELECT count(*) FROM fetcher_cycles WHERE status <> 'running'")" -ge "$1" ]; }
WRITE_BUFFER_ROWS=100 FETCH_INTERVAL=1s start_fetcherd
check "a first cycle is written" wait_for 15 finished 1
"$TEST_ROOT/scripts/pg-local" stop
down=$(date +%s.%N)
sleep 10   # ten cycles of ~40 rows each: the logs, the other data and then
           # whole cycles must go to fit the buffer
"$TEST_ROOT/scripts/pg-local" start >/dev/null
dropped() { [ "$(sql "SELECT count(*) FROM fetcher_logs WHERE message LIKE '% rows were dropped while the database was away%'")" -ge 1 ]; }
check "after reconnecting, the number of rows dropped is logged" wait_for 20 dropped
# fetcherd reconnects with backoff (up to 8 s here): what it made until
# then waited in the buffer too
up=$(date +%s.%N)
check "fetcherd stayed up" kill -0 "$FETCHERD_PID"
n=$(sql "SELECT (context->>'rows_dropped')::int FROM fetcher_logs WHERE message LIKE '% rows were dropped%' LIMIT 1")
check_cmp "rows were dropped ($n)" "$n" -gt 0
in_outage="\"timestamp\" BETWEEN to_timestamp($down) AND to_timestamp($up)"
upd=$(sql "SELECT count(*) FROM price_update_log WHERE $in_outage")
info=$(sql "SELECT count(*) FROM fetcher_logs WHERE level = 'INFO' AND $in_outage")
echo "# update rows per cycle: $(sql "SELECT string_agg(c || ':' || n, ' ') FROM (SELECT coalesce(cycle_id::text, 'none') c, count(*) n FROM price_update_log GROUP BY 1 ORDER BY 1) x")"
echo "# outage: $n rows dropped; kept $upd update rows and $info INFO log rows from it"
check_cmp "update rows of the outage were kept ($upd)" "$upd" -gt 0
check_eq "INFO logs of the outage went first (none kept while update rows were)" 0 "$info"
check_eq "kept update rows are whole cycles ($per_cycle each)" 0 \
  "$(sql "SELECT count(*) FROM (SELECT cycle_id FROM price_update_log WHERE $in_outage GROUP BY cycle_id HAVING count(*) <> $per_cycle) x")"
# Nothing here asks for an on-demand refresh, so every update row belongs
# to a cycle: a row without one is a result whose cycle row was dropped.
check_eq "no update row lost its cycle (cycle_id NULL)" 0 \
  "$(sql "SELECT count(*) FROM price_update_log WHERE cycle_id IS NULL")"
check_eq "every cycle with update rows has them all ($per_cycle)" 0 \
  "$(sql "SELECT count(*) FROM (SELECT cycle_id FROM price_update_log GROUP BY cycle_id HAVING count(*) <> $per_cycle) x")"
stop_pid "$FETCHERD_PID"
check_eq "fetcherd exits 0" 0 "$STOP_RC"
exit 0
