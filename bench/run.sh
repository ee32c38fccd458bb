#!/usr/bin/env bash
# make bench: every benchmark, each printing a table and then
# "bench <name> <value> <unit>" lines. Figures, not tests: they vary with
# the machine's load; compare ratios and medians taken in one run.
set -uo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
rc=0
echo "== queue micro-benchmark"
build/bench/queue_bench || rc=1
echo
echo "== cycle benchmark"
bench/cycle.sh || rc=1
if [ -x bench/api.sh ]; then
  echo
  echo "== API benchmark"
  bench/api.sh || rc=1
fi
echo
echo "== fleet: 1, 2 and 3 instances on one database (bench/fleet.sh)"
bench/fleet.sh || rc=1
echo
echo "== 30 days at 10,000 assets against 1 M rows (bench/scale.sh; ~40 GB of disk, a while)"
bench/scale.sh || rc=1
echo
echo "== migration 009 at 10 M rows"
bench/migration.sh || rc=1
exit $rc
