# Scenario 3 — fakemarket answers a mix of every fault (the global fault
# changes every 0.25 s through all of them) for more than a whole cycle,
# then recovers. ERR429NR is left out: without Retry-After the queue pauses
# the provider for 30 s before each retry (tests/integration/
# faults_ratelimit.sh covers it). Retried requests are counted by
# fakemarket once per attempt, so exact accounting is done over a clean
# window after the recovery; during the faults every finished cycle must
# still have one row per asset and no duplicates.
faults="ERR500 ERR502 ERR503 ERR429 HANG SLOWDRIP TRUNC BADJSON WRONGSHAPE HUGE HTMLCT LIMIT200
        REDIRLOOP REDIRFTP EMPTY NULLPRICE NEGPRICE ZEROPRICE NANPRICE FUTURETS OLDTS WRONGCCY
        MISSING NOSUCH"
fl_load_mark
c0=$(fl_last_cycle)
bad=""
for f in $faults; do
  r=$(curl -s -X POST "$FAKE_URL/_mode?fault=$f")
  [ "$(jq -r .fault <<<"$r" 2>/dev/null)" = "$f" ] || bad="$bad $f"
  sleep 0.25
done
check_eq "3 upstream faults: fakemarket took every fault" "" "$bad"
curl -s -X POST "$FAKE_URL/_mode?fault=none" >/dev/null
t0=$(date +%s)
check "3 upstream faults: two clean cycles in a row within 60 s of the recovery" fl_wait_clean 2 60
echo "# 3 upstream faults: clean again $(( $(date +%s) - t0 )) s after the faults stopped"
c1=$(fl_last_cycle)
check_cmp "3 upstream faults: cycles ran through the faults" "$(sql "SELECT count(*) FROM fetcher_cycles WHERE id > $c0 AND id <= $c1 AND status IN ('partial','failed')")" -ge 1
check "3 upstream faults: failed rows say why" \
  test "$(sql "SELECT count(*) FROM price_update_log WHERE cycle_id > $c0 AND NOT success AND coalesce(error, '') = ''")" -eq 0
echo "# 3 upstream faults: $(sql "SELECT count(*) FROM price_update_log WHERE cycle_id > $c0 AND cycle_id <= $c1 AND NOT success") failed rows in $(sql "SELECT count(*) FROM fetcher_cycles WHERE id > $c0 AND id <= $c1") cycles; queue $(sql "SELECT queue->>'retries' FROM fetcher_instances WHERE instance_id = '$FL_IID'") retries in all"
fl_alive "3 upstream faults"
fl_snapshot s3a
fl_wait_cycles 2 15
fl_snapshot s3b
fl_account "3 upstream faults (clean window after)" s3a s3b
fl_load_delta "3 upstream faults"
fl_invariants "3 upstream faults"
FL_RUN=$((FL_RUN + 1))
