#!/usr/bin/env bash
# tests/fuzz/run-providers.sh SECONDS — builds a libFuzzer target per
# provider parser (tests/fuzz/fuzz_provider_*.c) with clang's fuzzer,
# address and undefined-behaviour sanitizers, and runs each for SECONDS
# (default 60) on a scratch copy of its committed corpus
# (tests/fuzz/corpus/provider_NAME/, never written to). Exits non-zero if a
# target does not build or finds a crash; the input that crashed is kept
# under build/fuzz/artifacts/ and named in the output. Prints one line per
# target: "fuzz provider_NAME: N execs, OK|CRASH".
set -uo pipefail
secs=${1:-60}
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
out=$root/build/fuzz
mkdir -p "$out/artifacts"
CC=${FUZZ_CC:-clang}
flags=(-g -O1 -std=c11 -D_GNU_SOURCE -fsanitize=fuzzer,address,undefined
       -fno-sanitize-recover=all -fno-omit-frame-pointer -Icommon -Idaemon
       $(pkg-config --cflags json-c))
libs=($(pkg-config --libs json-c) -lm)
srcs=(daemon/provider.c daemon/history.c daemon/validate.c daemon/providers/*.c common/util.c common/currency.c)
rc=0
for t in tests/fuzz/fuzz_provider_*.c; do
  name=$(basename "$t" .c)          # fuzz_provider_yahoo
  short=${name#fuzz_}               # provider_yahoo
  bin=$out/$name
  if ! "$CC" "${flags[@]}" -o "$bin" "$t" "${srcs[@]}" "${libs[@]}" 2>"$out/$name.build.log"; then
    echo "fuzz $short: does not build (see $out/$name.build.log)"; rc=1; continue
  fi
  work=$(mktemp -d)
  cp tests/fuzz/corpus/"$short"/* "$work"/ 2>/dev/null
  "$bin" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -max_len=65536 \
    -artifact_prefix="$out/artifacts/$short-" -print_final_stats=1 "$work" \
    >"$out/$name.log" 2>&1
  st=$?
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$out/$name.log" | tail -1)
  if [ $st -ne 0 ]; then
    echo "fuzz $short: ${execs:-?} execs, CRASH (exit $st): $(grep -m1 -E 'ERROR|runtime error|deadly signal' "$out/$name.log")"
    grep -m1 -E "Test unit written to" "$out/$name.log"
    rc=1
  else
    echo "fuzz $short: ${execs:-?} execs, OK"
  fi
  rm -rf "$work"
done
exit $rc
