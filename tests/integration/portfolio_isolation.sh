#!/usr/bin/env bash
# Portfolio recalculation isolates failures: a portfolio that cannot be
# valued keeps its previous values and is logged to fetcher_logs with its
# id and the error; every other portfolio is valued; a missing exchange
# rate is a gap, not a failure; start and end are logged; and a reader sees
# every portfolio from one recalculation, never a mix of two.
. "$(dirname "$0")/../lib.sh"

new_db || exit 1
migrate
load_demo
start_fakemarket || exit 1
provider_env

# A: ordinary. B: a position worth more than numeric(30, 10) holds — it
# cannot be valued. C: in a currency nobody quotes — no exchange rate.
a=$(sql "INSERT INTO portfolios (name, currency) VALUES ('iso-A', 'USD') RETURNING id")
b=$(sql "INSERT INTO portfolios (name, currency) VALUES ('iso-B', 'USD') RETURNING id")
c=$(sql "INSERT INTO portfolios (name, currency) VALUES ('iso-C', 'XTS') RETURNING id")
aapl=$(sql "SELECT id FROM assets WHERE symbol = 'AAPL'")
sql "INSERT INTO portfolio_positions (portfolio_id, asset_id, quantity, average_buy_price) VALUES
  ($a, $aapl, 10, 100), ($b, $aapl, 90000000000000000000, 1), ($c, $aapl, 3, 100)" >/dev/null

"$BIN/fetcherd" --once >"$TEST_LOG_DIR/once1.out" 2>&1; rc=$?
check_eq "the cycle succeeds" 0 "$rc"
cyc=$(sql "SELECT max(id) FROM fetcher_cycles")
check_eq "A is valued by this cycle" "$cyc" "$(sql "SELECT cycle_id FROM portfolio_performance_cache WHERE portfolio_id = $a")"
check_eq "the demo portfolios too" 0 \
  "$(sql "SELECT count(*) FROM portfolios p LEFT JOIN portfolio_performance_cache c ON c.portfolio_id = p.id WHERE p.id NOT IN ($b) AND c.cycle_id IS DISTINCT FROM $cyc")"
check_eq "B, which cannot be valued, has no row" 0 "$(sql "SELECT count(*) FROM portfolio_performance_cache WHERE portfolio_id = $b")"
check "C is valued with the missing rate listed" test -n \
  "$(sql "SELECT 1 FROM portfolio_performance_cache WHERE portfolio_id = $c AND cycle_id = $cyc AND missing::text LIKE '%no exchange rate USD->XTS%'")"
check_eq "B's failure is in fetcher_logs with its id and the error" 1 \
  "$(sql "SELECT count(*) FROM fetcher_logs WHERE level = 'ERROR' AND message = 'Portfolio $b: recalculation failed; its previous values stay' AND context->>'portfolio_id' = '$b' AND context->>'error' LIKE '%numeric field overflow%' AND context->>'sqlstate' = '22003'")"
check_eq "the start is logged" 1 "$(sql "SELECT count(*) FROM fetcher_logs WHERE message LIKE 'Portfolio recalculation started%'")"
n=$(sql "SELECT count(*) FROM portfolios")
check_eq "the end is logged with the counts" 1 \
  "$(sql "SELECT count(*) FROM fetcher_logs WHERE message = 'Portfolio recalculation done: $((n - 1)) of $n portfolios updated, 1 failed' AND (context->>'failed')::int = 1")"

# B becomes valuable again: a value it can hold. It is valued; the others
# go on being valued.
sql "UPDATE portfolio_positions SET quantity = 2 WHERE portfolio_id = $b" >/dev/null
"$BIN/fetcherd" --once >"$TEST_LOG_DIR/once2.out" 2>&1
cyc2=$(sql "SELECT max(id) FROM fetcher_cycles")
check_eq "next cycle: every portfolio valued by it" 0 \
  "$(sql "SELECT count(*) FROM portfolios p LEFT JOIN portfolio_performance_cache c ON c.portfolio_id = p.id WHERE c.cycle_id IS DISTINCT FROM $cyc2")"

# A reader during recalculations: every portfolio's row from the same one.
FETCH_INTERVAL=1s start_fetcherd
mixed=0 reads=0
end=$(( $(date +%s) + 5 ))
while [ "$(date +%s)" -lt "$end" ]; do
  d=$(sql "SELECT count(DISTINCT cycle_id) FROM portfolio_performance_cache")
  reads=$((reads + 1))
  [ "$d" = 1 ] || mixed=$((mixed + 1))
done
check_cmp "cycles ran meanwhile" "$(sql "SELECT max(id) FROM fetcher_cycles")" -gt "$cyc2"
check_eq "no read of $reads saw two recalculations at once" 0 "$mixed"
stop_pid "$FETCHERD_PID"
exit 0
