#!/usr/bin/env bash
# The update audit trail as a property (issue 21): whatever fails, a cycle
# leaves exactly one price_update_log row per tracked asset, and its
# counters add up. Each generated case tracks a random subset of the demo
# assets (and maybe one no provider knows), gives every provider of
# fakemarket a random fault or none, and runs the real `fetcherd --once`.
# AUDIT_CASES cases (default 100; bash's RANDOM seeded from PROPERTY_SEED,
# printed, so a failure replays with PROPERTY_SEED=N TESTS=audit_property).
. "$(dirname "$0")/../lib.sh"

new_db && migrate || { not_ok "database and migrations"; exit 1; }
load_demo
start_fakemarket || { not_ok "fakemarket starts"; exit 1; }
sql "INSERT INTO assets (symbol, name, asset_type, currency, provider, provider_symbol)
       VALUES ('NOSUCHX', 'no provider knows it', 'stock', 'USD', 'yahoo', 'NOSUCHX')"
export FETCH_RETRIES=0 FETCH_TIMEOUT=3s LOG_LEVEL=ERROR
# 30 under ASan (each case a fetcherd --once, three times slower there)
cases=${AUDIT_CASES:-$([ "${TEST_LABEL:-normal}" = asan ] && echo 30 || echo 100)}
seed=${PROPERTY_SEED:-$(( $(date +%s%N) % 2147483647 ))}
echo "# audit trail: PROPERTY_SEED=$seed, $cases cases"
RANDOM=$seed

# ERR429 carries Retry-After: 2. (ERR429NR's pause is 30 s doubling, and a
# key whose last source is paused waits it out by design, up to three
# times: 210 s for one case; faults_ratelimit.sh tests that wait.)
faults=(none none none ERR500 ERR503 ERR429 BADJSON WRONGSHAPE EMPTY BLOCKPAGE NULLPRICE
        NEGPRICE WRONGCCY TRUNC HTMLCT NOSUCH MISSING CRUMB401 OLDTS)
providers=(yahoo coingecko fx kraken erapi twelvedata coinbase binance)
ids=($(sql "SELECT id FROM assets ORDER BY id"))
bad=0
for ((c = 0; c < cases; c++)); do
  # the case: tracked subset, one fault per provider
  picked=()
  for id in "${ids[@]}"; do (( RANDOM % 10 < 7 )) && picked+=("$id"); done
  set_faults=""
  for p in "${providers[@]}"; do
    f=${faults[RANDOM % ${#faults[@]}]}
    curl -sf -X POST "$FAKE_URL/_mode?fault=$f&provider=$p" >/dev/null
    set_faults+="$p=$f "
  done
  list=$(IFS=,; echo "${picked[*]}")
  sql "DELETE FROM tracked_assets;
       INSERT INTO tracked_assets (asset_id) SELECT unnest('{${list}}'::bigint[])" >/dev/null
  provider_env
  t0=$(date +%s%N)
  "$BIN/fetcherd" --once >>"$TEST_LOG_DIR/fetcherd.log" 2>&1; rc=$?
  echo "# case $c: $(( ($(date +%s%N) - t0) / 1000000 )) ms: $set_faults"
  what="case $c (seed $seed; ${#picked[@]} tracked; $set_faults)"
  if [ $rc -ge 64 ] || [ $rc -eq 3 ]; then
    not_ok "$what: fetcherd --once exited $rc"; bad=$((bad + 1)); continue
  fi
  # the case's cycle: the newest; its rows, by asset
  got=$(sql "WITH c AS (SELECT * FROM fetcher_cycles ORDER BY id DESC LIMIT 1)
             SELECT (SELECT assets_total FROM c) || ' ' ||
                    (SELECT count(*) FROM price_update_log l, c WHERE l.cycle_id = c.id) || ' ' ||
                    (SELECT count(DISTINCT asset_id) FROM price_update_log l, c WHERE l.cycle_id = c.id) || ' ' ||
                    (SELECT coalesce(string_agg(asset_id::text, ',' ORDER BY asset_id), '')
                       FROM price_update_log l, c WHERE l.cycle_id = c.id) || ' ' ||
                    (SELECT (assets_succeeded + assets_failed + assets_skipped =
                             (SELECT count(*) FROM price_update_log l WHERE l.cycle_id = c.id))::text
                            || (assets_succeeded = (SELECT count(*) FROM price_update_log l
                                                    WHERE l.cycle_id = c.id AND l.success))::text FROM c)")
  sorted=$(printf '%s\n' "${picked[@]}" | sort -n | paste -sd, -)
  want="${#picked[@]} ${#picked[@]} ${#picked[@]} $sorted truetrue"
  if [ "$got" != "$want" ]; then
    not_ok "$what: one row per tracked asset" "expected '$want', got '$got'"; bad=$((bad + 1))
  fi
done
check_eq "the audit trail held in every case" 0 "$bad"
for p in "${providers[@]}"; do curl -sf -X POST "$FAKE_URL/_mode?fault=none&provider=$p" >/dev/null; done
exit 0
