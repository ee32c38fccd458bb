#!/usr/bin/env bash
# scripts/valgrind-run as a test: fetcherd and fetcher-api (the normal
# build) under valgrind memcheck for ~25 s of cycles every 2 s with fault
# symbols, a global upstream fault, a PostgreSQL restart and API traffic on
# every endpoint: 0 errors, 0 bytes definitely or indirectly lost, both
# exit 0 on SIGTERM. Valgrind cannot run a sanitizer build, so under
# build/asan this is skipped (the normal pass ran the same binaries).
. "$(dirname "$0")/../lib.sh"

# (grep -c, not -q: -q stops reading at the first match, nm dies of SIGPIPE
# and with pipefail the test would run valgrind on a sanitizer build)
if [ "${TEST_LABEL:-}" = asan ] || [ "$(nm -D "$BIN/fetcherd" 2>/dev/null | grep -c __asan_init)" -gt 0 ]; then
  skip "valgrind memcheck" "$BIN is a sanitizer build; valgrind runs in the normal pass"; exit 0
fi
command -v valgrind >/dev/null || { skip "valgrind memcheck" "valgrind is not installed"; exit 0; }
out=$(VG_BUILD="$BIN" VG_LOG_DIR="$TEST_LOG_DIR/valgrind" VALGRIND_SECONDS=${VALGRIND_SECONDS:-25} \
  "$TEST_ROOT/scripts/valgrind-run" 2>&1)
rc=$?
echo "$out" | sed 's/^/# /'
fig() { sed -n "s/^bench valgrind_$1 \([0-9a-z]*\) .*/\1/p" <<<"$out"; }
for p in fetcherd fetcher_api; do
  check_eq "$p under valgrind: 0 errors" 0 "$(fig ${p}_errors)"
  check_eq "$p under valgrind: 0 bytes definitely lost" 0 "$(fig ${p}_definitely_lost)"
  check_eq "$p under valgrind: 0 bytes indirectly lost" 0 "$(fig ${p}_indirectly_lost)"
  check_eq "$p under valgrind: exit 0 on SIGTERM" 0 "$(fig ${p}_exit)"
done
check_cmp "several cycles ran under valgrind ($(fig cycles))" "$(fig cycles)" -ge 3
check_eq "scripts/valgrind-run exits 0" 0 "$rc"
{
  echo "summary valgrind_errors $(( $(fig fetcherd_errors || echo 0) + $(fig fetcher_api_errors || echo 0) ))"
  echo "summary valgrind_definitely_lost_bytes $(( $(fig fetcherd_definitely_lost) + $(fig fetcher_api_definitely_lost) ))"
  echo "summary valgrind_indirectly_lost_bytes $(( $(fig fetcherd_indirectly_lost) + $(fig fetcher_api_indirectly_lost) ))"
} >>"$TEST_LOG_DIR/../summary.txt" 2>/dev/null
exit 0
