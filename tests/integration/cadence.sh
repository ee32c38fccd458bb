#!/usr/bin/env bash
# Refresh as often as each asset needs (issue 14, item 4), for real:
# fetcherd checks every FETCH_CHECK_INTERVAL which tracked assets are due
# (fetcher_due_assets) and fetches those. With FETCH_INTERVAL=6s (the
# default bound), FETCH_STALENESS=crypto=2s and a check every second, over
# about 12 s: crypto is fetched about every 2 s, stocks about every 6 s; an
# asset whose own bound (assets.staleness) is 'always' at every check, one
# whose bound is 'never' not at all (but a refresh still fetches it); a
# check with nothing due writes no cycle row; every cycle row is what was
# due at its check.
. "$(dirname "$0")/../lib.sh"
export FETCH_SOURCES="stock=yahoo;crypto=coingecko;fx=fx" LOG_LEVEL=WARNING
export FETCH_INTERVAL=6s FETCH_STALENESS=crypto=2s FETCH_CHECK_INTERVAL=1s

start_fakemarket || { not_ok "fakemarket starts"; exit 1; }
new_db && migrate || { not_ok "database and migrations"; exit 1; }
sql "INSERT INTO assets (symbol, name, asset_type, currency, provider, provider_symbol, staleness) VALUES
       ('BTC', 'Bitcoin', 'crypto', 'USD', 'coingecko', 'bitcoin', NULL),
       ('ETH', 'Ether', 'crypto', 'USD', 'coingecko', 'ethereum', NULL),
       ('SOL', 'Solana', 'crypto', 'USD', 'coingecko', 'solana', 'always'),
       ('AAPL', 'Apple', 'stock', 'USD', 'yahoo', 'AAPL', NULL),
       ('MSFT', 'Microsoft', 'stock', 'USD', 'yahoo', 'MSFT', NULL),
       ('NVDA', 'Nvidia', 'stock', 'USD', 'yahoo', 'NVDA', 'never');
     INSERT INTO tracked_assets (asset_id) SELECT id FROM assets;"
n() { sql "SELECT count(*) FROM price_update_log WHERE symbol = '$1' AND cycle_id IS NOT NULL"; }

start_fetcherd
t0=$(date +%s%N)
sleep 12.4
stop_pid "$FETCHERD_PID"
secs=$(( ($(date +%s%N) - t0) / 1000000 ))
btc=$(n BTC) eth=$(n ETH) sol=$(n SOL) aapl=$(n AAPL) msft=$(n MSFT) nvda=$(n NVDA)
echo "# in ${secs} ms: BTC $btc, ETH $eth, SOL (always) $sol, AAPL $aapl, MSFT $msft, NVDA (never) $nvda fetches"
check_cmp "crypto (2 s): BTC fetched about every 2 s (5-8 times)" "$btc" -ge 5
check_cmp "… and not more often" "$btc" -le 8
check_eq "both cryptos at the same checks" "$btc" "$eth"
check_cmp "stocks (6 s, the default bound): AAPL 2-3 times" "$aapl" -ge 2
check_cmp "… and not more often" "$aapl" -le 3
check_eq "both stocks at the same checks" "$aapl" "$msft"
check_cmp "crypto is fetched at least twice as often as stocks" "$btc" -ge $((2 * aapl))
check_cmp "its own bound 'always': at every check (10 or more)" "$sol" -ge 10
check_eq "its own bound 'never': not fetched by the schedule" 0 "$nvda"
cycles=$(sql "SELECT count(*) FROM fetcher_cycles")
check_cmp "idle checks are no cycles: fewer cycles than checks" "$cycles" -le $((secs / 1000 + 1))
check_eq "every cycle row says what was due: succeeded + failed = its update rows" "" \
  "$(sql "SELECT c.id FROM fetcher_cycles c LEFT JOIN price_update_log p ON p.cycle_id = c.id
          GROUP BY c.id HAVING count(p.id) <> max(c.assets_succeeded + c.assets_failed)")"
check_eq "… and assets_total is every tracked asset, the rest skipped" "" \
  "$(sql "SELECT id FROM fetcher_cycles WHERE assets_total <> 6
          OR assets_succeeded + assets_failed + assets_skipped <> 6")"
check_eq "cycle numbers have no gaps (an idle check uses none up)" \
  "$(sql "SELECT max(seq) - min(seq) + 1 FROM fetcher_cycles")" "$cycles"
check_eq "the exchange-rate request goes with a cycle every FETCH_INTERVAL, not every check" "" \
  "$(curl -sf "$FAKE_URL/_stats" | jq -r --argjson c "$cycles" 'if .by_path["/latest"] > 3 then "too many: \(.by_path["/latest"]) in \($c) cycles" else empty end')"

# a refresh fetches what someone asks for, 'never' included
start_api || { not_ok "fetcher-api starts"; exit 1; }
start_fetcherd
# listening once this process's heartbeat is in: its connection LISTENs
# before it runs anything else (dbconn.c). By its pid: the instance row is
# the stopped one's until the new process writes it (a refresh sent then
# went unheard, and NVDA was never fetched).
listening() { test "$(sql "SELECT count(*) FROM fetcher_instances WHERE pid = $FETCHERD_PID AND state = 'running'")" -ge 1; }
check "fetcherd is up again" wait_for 10 listening
st=$(api POST /api/fetcher/assets/NVDA/refresh -H 'Content-Type: application/json' | cut -d' ' -f1)
check_eq "a refresh of the 'never' asset is accepted" 202 "$st"
nvda_fetched() { test "$(n NVDA)" -ge 1 || test "$(sql "SELECT count(*) FROM price_update_log WHERE symbol = 'NVDA'")" -ge 1; }
check "… and fetches it" wait_for 10 nvda_fetched
exit 0
