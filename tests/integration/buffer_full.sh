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
WRITE_BUFFER_ROWS=150 FETCH_INTERVAL=1s start_fetcherd
check "a first cycle is written" wait_for 15 finished 1
"$TEST_ROOT/scripts/pg-local" stop
down=$(date +%s.%N)
sleep 5    # five cycles of ~40 rows each: more than the buffer holds
up=$(date +%s.%N)
"$TEST_ROOT/scripts/pg-local" start >/dev/null
dropped() { [ "$(sql "SELECT count(*) FROM fetcher_logs WHERE message LIKE '% rows were dropped while the database was away%'")" -ge 1 ]; }
check "after reconnecting, the number of rows dropped is logged" wait_for 20 dropped
check "fetcherd stayed up" kill -0 "$FETCHERD_PID"
n=$(sql "SELECT (context->>'rows_dropped')::int FROM fetcher_logs WHERE message LIKE '% rows were dropped%' LIMIT 1")
check_cmp "rows were dropped ($n)" "$n" -gt 0
in_outage="\"timestamp\" BETWEEN to_timestamp($down) AND to_timestamp($up)"
upd=$(sql "SELECT count(*) FROM price_update_log WHERE $in_outage")
info=$(sql "SELECT count(*) FROM fetcher_logs WHERE level = 'INFO' AND $in_outage")
echo "# outage: $n rows dropped; kept $upd update rows and $info INFO log rows from it"
check_cmp "update rows of the outage were kept ($upd)" "$upd" -gt 0
check_eq "INFO logs of the outage went first (none kept while update rows were)" 0 "$info"
check_eq "kept update rows are whole cycles ($per_cycle each)" 0 \
  "$(sql "SELECT count(*) FROM (SELECT cycle_id FROM price_update_log WHERE $in_outage GROUP BY cycle_id HAVING count(*) <> $per_cycle) x")"
stop_pid "$FETCHERD_PID"
check_eq "fetcherd exits 0" 0 "$STOP_RC"
exit 0
