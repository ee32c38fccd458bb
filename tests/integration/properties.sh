#!/usr/bin/env bash
# The reference plan's properties as generated cases (issue 21): log
# pagination by offset and by before_id, recent updates' limit and order,
# the statistics formulas over the cycles table and uptime, each over 100 seeded
# cases against a real fetcher-api and database (tests/tools/properties.py
# says what each checks). The seed is printed; a failure prints the
# command that replays it: PROPERTY_SEED=… PROPERTY_ONLY=… TESTS=properties.
# Replaces stats_property.sh (6 fixed seeds).
. "$(dirname "$0")/../lib.sh"

new_db && migrate || { not_ok "database and migrations"; exit 1; }
API_CACHE_MS=0 start_api || { not_ok "fetcher-api starts"; exit 1; }
export DATABASE_URL API_URL
out=$(python3 "$TEST_ROOT/tests/tools/properties.py" 2>&1); rc=$?
echo "$out" | grep '^#'
while IFS= read -r line; do
  case $line in
    PASS*) ok "${line#PASS }" ;;
    FAIL*) not_ok "${line#FAIL }" ;;
  esac
done <<<"$out"
n=$(echo "$out" | grep -c '^PASS\|^FAIL')
check_eq "every property ran" "$([ -n "${PROPERTY_ONLY:-}" ] && echo 1 || echo 5)" "$n"
[ $rc -eq 0 ] || echo "$out" | grep -v '^PASS\|^#' | head -20
exit 0
