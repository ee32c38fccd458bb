#!/usr/bin/env bash
# Property test of the statistics formulas: for random cycle histories
# (statuses, durations, asset counts; several seeds), /api/fetcher/statistics
# equals an independent computation in Python from the same rows:
# successful = succeeded + partial, failed = failed + aborted (running
# cycles are not counted), success_rate = round(successful / total * 100, 2),
# average over the last 100 finished cycles, last = the newest finished,
# asset success rate = succeeded / (succeeded + failed) assets.
. "$(dirname "$0")/../lib.sh"

new_db || exit 1
migrate
API_CACHE_MS=0 start_api || { not_ok "fetcher-api starts"; exit 1; }
for seed in 1 2 3 4 5 6; do
  n=$(( (seed * 37) % 230 + 1 ))
  # the history: random statuses (some still running), durations, assets
  sql "TRUNCATE fetcher_cycles RESTART IDENTITY;
       SELECT setseed(0.$seed);
       INSERT INTO fetcher_cycles (instance_id, seq, trigger, status, started_at, finished_at,
         duration_ms, assets_total, assets_succeeded, assets_failed)
       SELECT 'prop', i, 'schedule', s, now() - make_interval(secs => ($n - i) * 60),
         CASE WHEN s = 'running' THEN NULL ELSE now() - make_interval(secs => ($n - i) * 60 - 5) END,
         CASE WHEN s = 'running' THEN NULL ELSE d END, ok + bad, ok, bad
       FROM (SELECT i,
               (ARRAY['succeeded','succeeded','succeeded','partial','failed','aborted','running'])
                 [1 + floor(random() * 7)::int] AS s,
               (random() * 20000)::int AS d, (random() * 40)::int AS ok, (random() * 5)::int AS bad
             FROM generate_series(1, $n) i) x;" >/dev/null
  rows=$(psql "$DATABASE_URL" -XAtq -F, -c "SELECT id, status, COALESCE(duration_ms, -1), assets_succeeded, assets_failed FROM fetcher_cycles ORDER BY id")
  want=$(ROWS="$rows" /usr/bin/python3 - <<'PY'
import os
rows = [r.split(',') for r in os.environ['ROWS'].splitlines() if r]
fin = [r for r in rows if r[1] != 'running']
ok = [r for r in fin if r[1] in ('succeeded', 'partial')]
bad = [r for r in fin if r[1] in ('failed', 'aborted')]
total = len(fin)
rate = round(len(ok) / total * 100, 2) if total else 0
last100 = sorted(fin, key=lambda r: int(r[0]))[-100:]
avg = sum(int(r[2]) for r in last100) / len(last100) / 1000 if last100 else None
last = int(last100[-1][2]) / 1000 if last100 else None
a_ok = sum(int(r[3]) for r in fin); a_bad = sum(int(r[4]) for r in fin)
arate = round(a_ok / (a_ok + a_bad) * 100, 2) if a_ok + a_bad else 0
f = lambda x: 'null' if x is None else '%.3f' % x
print(total, len(ok), len(bad), '%.2f' % rate, f(avg), f(last), '%.2f' % arate)
PY
)
  got=$(curl -s "$API_URL/api/fetcher/statistics" | jq -r '[.total_cycles, .successful_cycles, .failed_cycles,
          (.success_rate * 100 | round / 100), .average_cycle_duration_seconds, .last_cycle_duration_seconds,
          (.asset_success_rate * 100 | round / 100)] | map(if . == null then "null" else tostring end) | join(" ")' |
        awk '{printf "%d %d %d %.2f %s %s %.2f\n", $1, $2, $3, $4, ($5 == "null" ? "null" : sprintf("%.3f", $5)), ($6 == "null" ? "null" : sprintf("%.3f", $6)), $7}')
  check_eq "statistics over $n random cycles (seed $seed) equal the formulas" "$want" "$got"
done
exit 0
