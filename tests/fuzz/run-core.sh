#!/usr/bin/env bash
# tests/fuzz/run-core.sh SECONDS — builds the libFuzzer targets of the
# shared core (tests/fuzz/fuzz_config.c: config_load_from with a lookup fed
# by NAME=VALUE lines; tests/fuzz/fuzz_jbuf.c: the JSON writer's escaping,
# checked by json-c) with clang's fuzzer, address and undefined-behaviour
# sanitizers into build/fuzz/, and runs each for SECONDS (default 60) on a
# scratch copy of its corpus (tests/fuzz/corpus/NAME/, never written to).
# Exits non-zero if a target does not build or finds a crash; the crashing
# input is kept under build/fuzz/artifacts/. One line per target:
# "fuzz NAME: N execs, OK|CRASH".
set -uo pipefail
secs=${1:-60}
case "$secs" in ''|*[!0-9]*) echo "usage: tests/fuzz/run-core.sh SECONDS" >&2; exit 2 ;; esac
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root" || exit 2
out=$root/build/fuzz
mkdir -p "$out/artifacts"
CC=${FUZZ_CC:-clang}
flags=(-g -O1 -std=c11 -D_GNU_SOURCE -fsanitize=fuzzer,address,undefined
       -fno-sanitize-recover=all -fno-omit-frame-pointer -Icommon -Idaemon
       $(pkg-config --cflags json-c))
libs=($(pkg-config --libs json-c) -lm)
declare -A srcs=(
  [config]="common/config.c common/util.c common/log.c"
  [jbuf]="common/jbuf.c common/log.c common/util.c"
)
rc=0
for name in config jbuf; do
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
