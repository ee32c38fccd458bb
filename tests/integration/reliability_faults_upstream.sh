#!/usr/bin/env bash
# Faults under load (tests/faults/): a mix of every upstream fault, fetcherd killed mid-cycle, fakemarket killed (offline) and restarted.
# fetcherd runs cycles every 2 s against fakemarket while tests/tools/
# loadgen.py keeps the API busy and tests/tools/healthz_poller.py probes
# /healthz every 100 ms; after each fault: processes alive (or restarted as
# the scenario says), every fetch counted by fakemarket has exactly one
# row, no duplicated rows, the API agrees with the database, /healthz
# answered 200 throughout. Figures go to .local/logs/<label>/summary.txt.
. "$(dirname "$0")/../lib.sh"
. "$TEST_ROOT/tests/faults/lib.sh"

fl_setup
for n in 3 5 4; do
  for f in "$TEST_ROOT"/tests/faults/${n}_*.sh; do
    echo "# scenario $(basename "$f" .sh) at +$(( $(date +%s) - FL_T0 )) s"
    . "$f"
  done
done
fl_finish
exit 0
