#!/usr/bin/env bash
# make check-style as a test: every C file clang-formatted with the
# committed .clang-format, and no banned unbounded string function.
. "$(dirname "$0")/../lib.sh"
[ "${TEST_LABEL:-}" = asan ] && { skip "check-style" "the same files as the normal pass"; exit 0; }
out=$("$TEST_ROOT/scripts/check-style" 2>&1)
if [ $? -eq 0 ]; then ok "check-style: $out"; else not_ok "check-style" "$(echo "$out" | head -5 | tr '\n' ' ')"; fi
exit 0
