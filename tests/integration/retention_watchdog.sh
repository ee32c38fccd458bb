#!/usr/bin/env bash
# Retention: fetcher_logs and price_update_log are partitioned by UTC day
# (migration 009), and retention drops each day partition whose whole day
# is older than LOG_RETENTION_DAYS: afterwards no row from before the start
# (00:00 UTC) of the bound's day is left, and every row from that moment on
# is kept (the bound's own day goes whole, the next day). fetcher_statistics
# loses exactly its rows older than the bound; intraday prices those older
# than PRICE_INTRADAY_DAYS, each asset's newest kept. The watchdog ends a
# fetcherd whose loop stalls, so a supervisor restarts it.
. "$(dirname "$0")/../lib.sh"

new_db || exit 1
migrate
load_demo
# the start of the bound's UTC day, 30 days back
daystart="(date_trunc('day', (now() - interval '30 days') AT TIME ZONE 'UTC') AT TIME ZONE 'UTC')"
# Rows 28 to 40 days old (not 30: the bound's day is tested with the two
# rows a minute either side of its start: the one before goes, the one
# after stays, older than the bound though it may be).
sql "INSERT INTO fetcher_logs (\"timestamp\", level, message) SELECT now() - make_interval(days => d), 'INFO', 'old ' || d FROM generate_series(28, 40) d WHERE d <> 30;
     INSERT INTO fetcher_logs (\"timestamp\", level, message) VALUES ($daystart - interval '1 minute', 'ERROR', 'day before'), ($daystart + interval '1 minute', 'ERROR', 'bound day');
     INSERT INTO price_update_log (\"timestamp\", symbol, success, instance_id, seq) SELECT now() - make_interval(days => d), 'AAPL', true, 'old', d FROM generate_series(25, 45) d WHERE d <> 30;
     INSERT INTO price_update_log (\"timestamp\", symbol, success, instance_id, seq) VALUES ($daystart - interval '1 minute', 'DAYBEFORE', true, 'old', 1), ($daystart + interval '1 minute', 'BOUNDDAY', true, 'old', 2);
     INSERT INTO fetcher_statistics (instance_id, recorded_at, uptime_seconds, total_cycles, successful_cycles, failed_cycles, success_rate, assets_tracked) SELECT 'old', now() - make_interval(days => d), 1, 1, 1, 0, 100, 1 FROM generate_series(29, 33) d WHERE d <> 30;"
old_logs=$(sql "SELECT count(*) FROM fetcher_logs WHERE \"timestamp\" < $daystart")
old_upd=$(sql "SELECT count(*) FROM price_update_log WHERE \"timestamp\" < $daystart")
old_stats=$(sql "SELECT count(*) FROM fetcher_statistics WHERE recorded_at < now() - interval '30 days'")
old_days=$(sql "SELECT string_agg(DISTINCT to_char(\"timestamp\" AT TIME ZONE 'UTC', 'YYYYMMDD'), ' ') FROM fetcher_logs WHERE \"timestamp\" < $daystart")
# The rows written for days without a partition waited in the default one;
# fetcherd's start moves them into partitions of their own days.
check_cmp "rows of old days first wait in the default partition" "$(sql "SELECT count(*) FROM fetcher_logs_default")" -ge "$old_logs"
# Intraday prices (PRICE_INTRADAY_DAYS=30 below) of two untracked assets, so
# no cycle adds to them: R1 has rows 5, 35 and 40 days old (the two old ones
# go); R2 only rows 40 and 50 days old (the 40-day one is its current price
# and stays). Their daily closes, 100 days old, stay.
sql "INSERT INTO assets (symbol, name, asset_type, currency, provider, provider_symbol)
       VALUES ('R1', 'r1', 'stock', 'USD', 'yahoo', 'R1'), ('R2', 'r2', 'stock', 'USD', 'yahoo', 'R2');
     INSERT INTO asset_prices (asset_id, price, currency, price_time, fetched_at, source, instance_id, seq)
       SELECT a.id, v.d, 'USD', now() - make_interval(days => v.d), now() - make_interval(days => v.d), 'yahoo', 'old', v.s
       FROM assets a JOIN (VALUES ('R1', 5, 1), ('R1', 35, 2), ('R1', 40, 3), ('R2', 40, 4), ('R2', 50, 5)) AS v(sym, d, s) ON a.symbol = v.sym;
     INSERT INTO asset_prices_daily (asset_id, day, close, currency, source, price_time)
       SELECT id, (now() - interval '100 days')::date, 1, 'USD', 'yahoo', now() - interval '100 days' FROM assets WHERE symbol IN ('R1', 'R2');"
old_prices=$(sql "SELECT count(*) FROM asset_prices p WHERE fetched_at < now() - interval '30 days'
                    AND id <> (SELECT l.id FROM asset_prices l WHERE l.asset_id = p.asset_id ORDER BY l.fetched_at DESC, l.id DESC LIMIT 1)")
start_fakemarket || exit 1
LOG_RETENTION_DAYS=30 PRICE_INTRADAY_DAYS=30 FETCH_INTERVAL=1h STATS_PERSIST_INTERVAL=1s start_fetcherd
retained() { [ "$(sql "SELECT count(*) FROM fetcher_logs WHERE message LIKE 'Retention: deleted %'")" -ge 1 ]; }
check "retention runs shortly after start and logs what it deleted" wait_for 15 retained
check_eq "no fetcher_logs row from before the bound's day is left" 0 "$(sql "SELECT count(*) FROM fetcher_logs WHERE \"timestamp\" < $daystart")"
check_eq "no price_update_log row from before the bound's day is left" 0 "$(sql "SELECT count(*) FROM price_update_log WHERE \"timestamp\" < $daystart")"
check_eq "no fetcher_statistics row older than 30 days is left" 0 "$(sql "SELECT count(*) FROM fetcher_statistics WHERE recorded_at < now() - interval '30 days'")"
check_eq "younger rows are kept (28 and 29 days old logs)" 2 "$(sql "SELECT count(*) FROM fetcher_logs WHERE message IN ('old 28', 'old 29')")"
check_eq "the bound's day stays whole until it has passed; the day before it went" "bound day" \
  "$(sql "SELECT string_agg(message, ',') FROM fetcher_logs WHERE message IN ('day before', 'bound day')")"
check_eq "the same for price_update_log" "BOUNDDAY" \
  "$(sql "SELECT string_agg(symbol, ',') FROM price_update_log WHERE symbol IN ('DAYBEFORE', 'BOUNDDAY')")"
gone_parts=0
for d in $old_days; do
  [ -n "$(sql "SELECT to_regclass('fetcher_logs_p$d')")" ] && gone_parts=$((gone_parts + 1))
done
check_eq "the partitions of the old days are dropped, not emptied ($(wc -w <<<"$old_days") days)" 0 "$gone_parts"
check_eq "the default partitions are empty (their rows moved to their days)" "0 0" \
  "$(sql "SELECT (SELECT count(*) FROM fetcher_logs_default) || ' ' || (SELECT count(*) FROM price_update_log_default)")"
check "partitions exist up to 3 days ahead" test -n "$(sql "SELECT to_regclass('price_update_log_p' || to_char((now() AT TIME ZONE 'UTC')::date + 3, 'YYYYMMDD'))")"
check_eq "the per-day log counters add up to the table" "$(sql "SELECT count(*) FROM fetcher_logs")" \
  "$(sql "SELECT sum(n) FROM fetcher_log_counts")"
check_eq "the log counts exactly what went" "$old_logs $old_upd $old_stats" \
  "$(sql "SELECT (context->>'fetcher_logs') || ' ' || (context->>'price_update_log') || ' ' || (context->>'fetcher_statistics') FROM fetcher_logs WHERE message LIKE 'Retention: deleted %'")"
check_eq "intraday prices: R1 keeps its 5-day-old row, R2 its newest (40 days)" "R1 5,R2 40" \
  "$(sql "SELECT string_agg(a.symbol || ' ' || p.price::int, ',' ORDER BY a.symbol) FROM asset_prices p JOIN assets a ON a.id = p.asset_id WHERE a.symbol IN ('R1', 'R2')")"
check_eq "intraday prices: the daily closes stay" 2 \
  "$(sql "SELECT count(*) FROM asset_prices_daily d JOIN assets a ON a.id = d.asset_id WHERE a.symbol IN ('R1', 'R2')")"
check_eq "the log counts the intraday prices that went" "$old_prices" \
  "$(sql "SELECT context->>'asset_prices' FROM fetcher_logs WHERE message LIKE 'Retention: deleted %'")"
# One cycle in an hour, yet statistics every STATS_PERSIST_INTERVAL.
stats_rows() { [ "$(sql "SELECT count(*) FROM fetcher_statistics WHERE instance_id <> 'old'")" -ge 4 ]; }
check "statistics are persisted every STATS_PERSIST_INTERVAL, not only after cycles" wait_for 10 stats_rows
check_eq "persisted statistics agree with the cycles table" \
  "$(sql "SELECT count(*) FROM fetcher_cycles WHERE status <> 'running'")" \
  "$(sql "SELECT total_cycles FROM fetcher_statistics WHERE instance_id <> 'old' ORDER BY id DESC LIMIT 1")"
stop_pid "$FETCHERD_PID"

# The watchdog: a stall hook blocks the loop 3 s after start.
t0=$(date +%s)
WATCHDOG_SECONDS=5 FETCHERD_TEST_STALL=60 FETCH_INTERVAL=1h start_fetcherd
exited() { ! kill -0 "$FETCHERD_PID" 2>/dev/null; }
check "a stalled loop ends fetcherd within WATCHDOG_SECONDS (+ the 3 s before the stall)" wait_for 15 exited
wait "$FETCHERD_PID" 2>/dev/null; rc=$?
check_eq "the watchdog exits non-zero (70) for the restart policy" 70 "$rc"
check "the watchdog says why on stderr" grep -q "watchdog: the event loop has not turned" "$TEST_LOG_DIR/fetcherd.log"
echo "# watchdog fired after $(( $(date +%s) - t0 )) s"
exit 0
