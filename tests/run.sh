#!/usr/bin/env bash
# Runs every suite for each build directory given (e.g. `build build/asan`):
# the cmocka unit tests, then the integration tests against a throwaway
# PostgreSQL (its own cluster under .local/pg-test, never `make run`'s data).
# Ends with the failed suites again (FAILED <build> <suite> and its first
# "not ok" lines) and one line summing every suite: "N passed, N failed,
# N skipped".
set -uo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
[ $# -gt 0 ] || set -- build

export TEST_ROOT=$root
export TEST_RESULTS=$root/.local/test-results-$$
mkdir -p "$root/.local"
: >"$TEST_RESULTS"

# A cluster of this run's own (two runs at once must not share one); each
# integration test makes its own database in it.
export PGLOCAL_DIR=${PGLOCAL_DIR:-$root/.local/pg-test-$$}
export PGLOCAL_PORT=${PGLOCAL_PORT:-$(scripts/free-port)}
export PGLOCAL_FAST=1
if ! scripts/pg-local start >/dev/null; then
  echo "run.sh: could not start the test PostgreSQL" >&2
  echo "0 passed, 1 failed, 0 skipped"
  exit 1
fi
trap 'scripts/pg-local stop >/dev/null 2>&1; case "$PGLOCAL_DIR" in */pg-test-*) rm -rf "$PGLOCAL_DIR" ;; esac; rm -f "$TEST_RESULTS"' EXIT

only=${TESTS:-}   # TESTS=pattern runs only matching suites

for bdir in "$@"; do
  label=$(basename "$bdir"); [ "$bdir" = build ] && label=normal
  export BIN=$root/$bdir
  export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:halt_on_error=1:abort_on_error=0}
  export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
  export LSAN_OPTIONS=suppressions=$root/tests/lsan.supp:print_suppressions=0
  for t in "$bdir"/tests/test_*; do
    [ -x "$t" ] || continue
    name="unit/$(basename "$t")"
    [ -n "$only" ] && [[ "$name" != *$only* ]] && continue
    out=$("$t" 2>&1); rc=$?
    p=$(echo "$out" | sed -n 's/^\[  PASSED  \] \([0-9]*\) test.*/\1/p' | tail -1)
    f=$(echo "$out" | sed -n 's/^\[  FAILED  \] \([0-9]*\) test.*/\1/p' | tail -1)
    p=${p:-0}; f=${f:-0}
    if [ $rc -ne 0 ] && [ "$f" = 0 ]; then f=1; fi   # crashed or sanitizer report
    [ "$f" != 0 ] && echo "$out" | tail -40
    printf '%-8s %-40s %4d passed %4d failed\n' "$label" "$name" "$p" "$f"
    echo "$label $name $p $f 0" >>"$TEST_RESULTS"
  done
  rm -f "$root/.local/logs/$label/summary.txt"
  for t in tests/integration/*.sh; do
    [ -f "$t" ] || continue
    name="integration/$(basename "$t" .sh)"
    [ -n "$only" ] && [[ "$name" != *$only* ]] && continue
    log=$root/.local/logs/$label/$(basename "$t" .sh)
    rm -rf "$log"; mkdir -p "$log"
    export TEST_LOG_DIR=$log TEST_NAME=$name TEST_LABEL=$label
    start=$(date +%s)
    # A suite may need longer than 600 s: a line "# test-timeout: N" in it.
    tmo=$(sed -n 's/^# test-timeout: \([0-9][0-9]*\)$/\1/p' "$t" | head -1)
    timeout --signal=TERM --kill-after=10 "${TEST_TIMEOUT:-${tmo:-600}}" bash "$t" >"$log/output.txt" 2>&1
    rc=$?
    line=$(grep -E '^RESULT [0-9]+ [0-9]+ [0-9]+$' "$log/output.txt" | tail -1)
    read -r _ p f s <<<"${line:-RESULT 0 0 0}"
    if [ $rc -ne 0 ] && [ "$f" = 0 ]; then f=1; echo "  $name exited $rc"; fi
    if [ "$f" != 0 ]; then
      grep -E '^(not ok|#)' "$log/output.txt" | head -40
      # sanitizer reports from the daemons under test
      grep -l -E 'ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:' "$log"/*.log 2>/dev/null \
        | while read -r l; do echo "  sanitizer report in $l"; grep -m5 -E 'ERROR|runtime error' "$l"; done
    fi
    printf '%-8s %-40s %4d passed %4d failed %4d skipped  (%ss)\n' "$label" "$name" "$p" "$f" "$s" $(( $(date +%s) - start ))
    echo "$label $name $p $f $s" >>"$TEST_RESULTS"
  done
done

# The reliability summary: what the fault and hostile-client suites
# counted (they append "summary <key> <value>" lines), per build.
for bdir in "$@"; do
  label=$(basename "$bdir"); [ "$bdir" = build ] && label=normal
  sum=$root/.local/logs/$label/summary.txt
  sanit=$(grep -l -E 'ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:' "$root"/.local/logs/"$label"/*/*.log 2>/dev/null | wc -l)
  echo "reliability ($label): sanitizer_reports $sanit"
  [ -f "$sum" ] && awk '{v[$2] += $3} END {for (k in v) printf "reliability: %s %s\n", k, v[k]}' "$sum" | sort | sed "s/^reliability:/reliability ($label):/"
done

# The failures again, last, where a CI log's tail shows them: each failed
# suite and its first "not ok" lines (the whole output is in its log).
awk '$4 > 0 {print $1, $2}' "$TEST_RESULTS" | while read -r label name; do
  echo "FAILED $label $name"
  case "$name" in
    integration/*) grep -m5 '^not ok' "$root/.local/logs/$label/${name#integration/}/output.txt" 2>/dev/null | sed 's/^/  /' ;;
  esac
done

awk '{p+=$3; f+=$4; s+=$5} END {printf "%d passed, %d failed, %d skipped\n", p, f, s; exit (f > 0 || p == 0)}' "$TEST_RESULTS"
