#!/usr/bin/env bash
# Every fuzz runner present (tests/fuzz/run*.sh: run-core.sh for config and
# the JSON writer, run-providers.sh for the provider parsers, run.sh for
# the API's query/route parsing) for a bounded time each: FUZZ_SECONDS
# (default 3; there are eleven targets, and each replays its whole
# committed corpus before it mutates) per target. A crash, a sanitizer
# report or a target that does not build fails the test. The fuzz targets
# are built with clang's own sanitizers, independent of $BIN.
. "$(dirname "$0")/../lib.sh"

secs=${FUZZ_SECONDS:-3}
summary=$TEST_LOG_DIR/../summary.txt
# The targets do not depend on $BIN: once per make test is enough.
if [ "${TEST_LABEL:-}" = asan ]; then
  skip "fuzz targets" "built with their own sanitizers; run in the normal pass"; exit 0
fi
if ! command -v "${FUZZ_CC:-clang}" >/dev/null; then
  skip "fuzz targets" "no clang (scripts/bootstrap installs it)"; exit 0
fi
total_execs=0 targets=0 crashes=0
for expect in run-core.sh run-providers.sh run.sh; do
  [ -f "$TEST_ROOT/tests/fuzz/$expect" ] || skip "tests/fuzz/$expect" "not in the tree yet"
done
for r in "$TEST_ROOT"/tests/fuzz/run*.sh; do
  [ -f "$r" ] || continue
  name=$(basename "$r")
  out=$(bash "$r" "$secs" 2>&1); rc=$?
  echo "$out" | sed 's/^/# /'
  echo "$out" >"$TEST_LOG_DIR/$name.out"
  n=0
  while read -r line; do
    case "$line" in
      "fuzz "*)
        n=$((n + 1)); targets=$((targets + 1))
        e=$(sed -n 's/^fuzz [^:]*: \([0-9][0-9]*\) execs.*/\1/p' <<<"$line")
        total_execs=$((total_execs + ${e:-0}))
        case "$line" in *OK) ok "$line" ;; *) crashes=$((crashes + 1)); not_ok "$line" ;; esac ;;
    esac
  done <<<"$out"
  if [ "$n" = 0 ]; then
    not_ok "$name ran at least one target" "exit $rc: $(echo "$out" | tail -3 | tr '\n' ' ')"
  elif [ "$rc" != 0 ]; then
    not_ok "$name exits 0" "exit $rc"
  fi
done
echo "# fuzz: $targets targets, $total_execs execs in ${secs} s each, $crashes crashes"
{
  echo "summary fuzz_targets $targets"
  echo "summary fuzz_execs $total_execs"
  echo "summary fuzz_crashes $crashes"
} >>"$summary"
exit 0
