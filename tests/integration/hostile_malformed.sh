#!/usr/bin/env bash
# 10,000 malformed requests over raw sockets (tests/tools/malformed.py):
# bad methods, bad percent encodings, huge headers and URLs, bodies on GET,
# path traversal, SQL and script payloads in parameters, path segments and
# bodies, invalid UTF-8, protocol garbage; each on a new connection. Every
# answer is a 4xx (or, for bytes that are not HTTP at all, a closed
# connection), none a 5xx, no file outside the dashboard is served, and
# fetcher-api and the database are intact afterwards.
. "$(dirname "$0")/../lib.sh"

# 3,000 under ASan: every kind the generator makes, three times slower there
n=${MALFORMED_REQUESTS:-$([ "${TEST_LABEL:-normal}" = asan ] && echo 3000 || echo 10000)}
new_db || exit 1
migrate
load_demo
before=$(sql "SELECT (SELECT count(*) FROM assets) || ' ' || (SELECT count(*) FROM tracked_assets) || ' ' || (SELECT count(*) FROM portfolios)")
start_api || { not_ok "fetcher-api starts"; exit 1; }
t0=$(date +%s)
python3 "$TEST_ROOT/tests/tools/malformed.py" 127.0.0.1 "${API_URL##*:}" "$n" --out "$TEST_LOG_DIR/malformed.json" >/dev/null
secs=$(( $(date +%s) - t0 ))
r=$TEST_LOG_DIR/malformed.json
echo "# malformed: $(jq -c '{sent, by_class, by_status, failed}' "$r") in ${secs} s"
jq -r '.bad[] | "#   " + (. | tostring)' "$r" | head -20
check_eq "all $n malformed requests were sent" "$n" "$(jq .sent "$r")"
s5=$(jq '[.by_status | to_entries[] | select(.key | startswith("5")) | select(.key != "505") | .value] | add // 0' "$r")
check_eq "no 5xx (505 to an unknown HTTP version is the RFC's answer: $(jq '.by_status["505"] // 0' "$r"))" 0 "$s5"
check_eq "every answer is a 4xx (or a closed connection for non-HTTP bytes)" 0 "$(jq .failed "$r")"
check "fetcher-api is alive" kill -0 "$API_PID"
check "fetcher-api answers /healthz" curl -sf "$API_URL/healthz"
check "fetcher-api answers /readyz" curl -sf "$API_URL/readyz"
check_eq "the payloads changed nothing (assets, tracked, portfolios)" "$before" \
  "$(sql "SELECT (SELECT count(*) FROM assets) || ' ' || (SELECT count(*) FROM tracked_assets) || ' ' || (SELECT count(*) FROM portfolios)")"
{
  echo "summary hostile_requests $(jq .sent "$r")"
  echo "summary hostile_5xx $s5"
  echo "summary hostile_505_bad_version $(jq '.by_status["505"] // 0' "$r")"
} >>"$TEST_LOG_DIR/../summary.txt"
exit 0
