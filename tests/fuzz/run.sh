#!/usr/bin/env bash
# tests/fuzz/run.sh [NAME] SECONDS — fetcher-api's libFuzzer targets.
#
#   tests/fuzz/run.sh api_query 60   builds and runs one target
#   tests/fuzz/run.sh 60             every api target (how `make fuzz` calls
#                                    tests/fuzz/run*.sh)
#
# Each target is tests/fuzz/fuzz_NAME.c, built with clang's fuzzer, address
# and undefined-behaviour sanitizers into build/fuzz/, and run for SECONDS on
# a scratch copy of its committed corpus tests/fuzz/corpus/NAME/ (never
# written to). One line per target: "fuzz NAME: N execs, OK|CRASH"; a
# crashing input is kept under build/fuzz/artifacts/. Exit 0 when every
# target builds and finds nothing.
set -uo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
usage() { echo "usage: tests/fuzz/run.sh [NAME] SECONDS" >&2; exit 2; }
case $# in
  1) names="api_query" secs=$1 ;;
  2) names=$1 secs=$2 ;;
  *) usage ;;
esac
case "$secs" in ''|*[!0-9]*) usage ;; esac

# Which sources each target links besides its own file.
declare -A srcs=(
  [api_query]="api/query.c api/routes.c api/cache.c api/crosssite.c api/assetreq.c common/util.c"
)
out=$root/build/fuzz
mkdir -p "$out/artifacts"
CC=${FUZZ_CC:-clang}
flags=(-g -O1 -std=c11 -D_GNU_SOURCE -fsanitize=fuzzer,address,undefined
       -fno-sanitize-recover=all -fno-omit-frame-pointer -Icommon -Iapi
       $(pkg-config --cflags libpq json-c libmicrohttpd))
libs=($(pkg-config --libs json-c libmicrohttpd) -lm -lpthread)
rc=0
for name in $names; do
  if [ -z "${srcs[$name]:-}" ]; then echo "fuzz $name: no such target"; rc=1; continue; fi
  bin=$out/fuzz_$name
  # shellcheck disable=SC2086
  if ! "$CC" "${flags[@]}" -o "$bin" "tests/fuzz/fuzz_$name.c" ${srcs[$name]} "${libs[@]}" \
      2>"$out/fuzz_$name.build.log"; then
    echo "fuzz $name: does not build (see $out/fuzz_$name.build.log)"; rc=1; continue
  fi
  work=$(mktemp -d)
  cp tests/fuzz/corpus/"$name"/* "$work"/ 2>/dev/null
  "$bin" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -max_len=4096 \
    -artifact_prefix="$out/artifacts/$name-" -print_final_stats=1 "$work" \
    >"$out/fuzz_$name.log" 2>&1
  st=$?
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$out/fuzz_$name.log" | tail -1)
  if [ $st -ne 0 ]; then
    echo "fuzz $name: ${execs:-?} execs, CRASH (exit $st): $(grep -m1 -E 'ERROR|runtime error|deadly signal' "$out/fuzz_$name.log")"
    grep -m1 -E "Test unit written to" "$out/fuzz_$name.log"
    rc=1
  else
    echo "fuzz $name: ${execs:-?} execs, OK"
  fi
  rm -rf "$work"
done
exit $rc
