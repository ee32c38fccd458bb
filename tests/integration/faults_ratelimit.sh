#!/usr/bin/env bash
# 429 without Retry-After: the queue pauses the provider, 30 s
# (QUEUE_DEFAULT_PAUSE_MS) and then twice that, before each of its
# FETCH_RETRIES=2 retries, so this one cycle takes about a minute and a half
# (a fixed 30 s pause would take one); the symbol's row says it was rate
# limited (and not that a Retry-After was given), and the provider's other
# coin, asked for beside it, succeeds.
. "$(dirname "$0")/../lib.sh"
normal_pass_only "90 s of real rate-limit pauses; the pause and retry paths run under ASan in unit/test_queue and unit/test_upstream (a 429 with Retry-After, and without it the default pause)"

export FETCH_TIMEOUT=3s
start_fakemarket || { not_ok "fakemarket starts"; exit 1; }
provider_env
new_db || exit 1
migrate || { not_ok "migrate"; exit 1; }
for s in bitcoin err429nr-coin; do
  sql "INSERT INTO assets (symbol, name, asset_type, currency, provider, provider_symbol)
       VALUES ('$s', 'Test $s', 'crypto', 'USD', 'coingecko', '$s');
       INSERT INTO tracked_assets (asset_id) SELECT id FROM assets WHERE symbol = '$s';"
done
t0=$(date +%s)
FETCH_RETRIES=2 COINGECKO_BATCH=1 "$BIN/fetcherd" --once >"$TEST_LOG_DIR/once.out" 2>&1
secs=$(( $(date +%s) - t0 ))
c=$(sql "SELECT max(id) FROM fetcher_cycles")
err=$(sql "SELECT error FROM price_update_log WHERE cycle_id = $c AND symbol = 'err429nr-coin' AND NOT success")
check_eq "429 without Retry-After: the row says so" "coingecko: HTTP 429 (rate limited)" "$err"
check_eq "the other coin succeeded" t \
  "$(sql "SELECT success FROM price_update_log WHERE cycle_id = $c AND symbol = 'bitcoin'")"
check_eq "asked 3 times (2 retries)" 3 "$(curl -s "$FAKE_URL/_stats" | jq '.by_symbol["err429nr-coin"]')"
check_cmp "the retries waited out 30 s and then 60 s (${secs} s >= 85 s)" "$secs" -ge 85
check_cmp "... and no more (${secs} s < 150 s)" "$secs" -lt 150
exit 0
