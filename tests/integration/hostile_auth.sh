#!/usr/bin/env bash
# Auth of every write endpoint: with FETCHER_API_TOKEN set, no token, a
# wrong one, a prefix of it, or another scheme is refused (401) and changes
# nothing; the right one is accepted. Without a token, writes are accepted
# from loopback and refused (403) from a non-loopback address: fetcher-api
# is bound to 0.0.0.0 and called from this machine's own non-loopback
# address (the first of `hostname -I`), never from anywhere else. Reads
# stay open. The write endpoints are those of api/routes.c's table (read
# from the file): one this suite cannot call (tests/writes.sh), or one that
# answers 404/405, fails it, so adding, deleting or renaming an endpoint
# cannot pass unnoticed. Each is set up to succeed and change something,
# so "refused, and nothing changed" is never a blind test.
. "$(dirname "$0")/../lib.sh"

new_db || exit 1
migrate
load_demo
B=$TEST_LOG_DIR/body
code() { curl -s -o "$B" -w '%{http_code}' --max-time 10 "$@"; }
. "$TEST_ROOT/tests/writes.sh"
# Every write route in the table's order, and how to call each so that it
# succeeds and changes something (tests/writes.sh).
mapfile -t table < <(wr_routes)
check_cmp "routes.c has write routes" "${#table[@]}" -ge 14
# Both ways: every route is one this suite calls, and every endpoint it
# calls is still in the table (and answers, below).
known=("POST /api/fetcher/assets" "DELETE /api/fetcher/assets/*" "POST /api/fetcher/assets/*/refresh"
       "POST /api/fetcher/portfolios" "PATCH /api/fetcher/portfolios/*" "DELETE /api/fetcher/portfolios/*"
       "POST /api/fetcher/portfolios/*/positions" "PATCH /api/fetcher/portfolios/*/positions/*"
       "DELETE /api/fetcher/portfolios/*/positions/*" "POST /api/fetcher/portfolios/*/import"
       "POST /api/fetcher/demo" "POST /api/fetcher/trigger-update" "POST /api/fetcher/pause" "POST /api/fetcher/resume")
for k in "${known[@]}"; do
  printf '%s\n' "${table[@]}" | grep -qxF "$k" || not_ok "the write route $k is in routes.c" "it is gone"
done
writes=()
for r in "${table[@]}"; do
  if wr_request "$r" >/dev/null; then writes+=("$r")
  else not_ok "this suite knows how to call the write route $r" "add it to tests/writes.sh"; fi
done
call() {   # base "METHOD PATTERN" [curl args…]: the route's request (tests/writes.sh)
  local base=$1 r=$2 spec p body; shift 2
  spec=$(wr_request "$r") || return 1
  p=${spec%%|*} body=${spec#*|}
  # Every write says it is JSON (the API refuses other types, 415: see
  # hostile_crossite.sh), so what is judged here is the credential alone.
  if [ -n "$body" ]; then code -X "${r%% *}" -H 'Content-Type: application/json' --data "$body" "$@" "$base$p"
  else code -X "${r%% *}" -H 'Content-Type: application/json' "$@" "$base$p"; fi
}
state() { wr_data; }
refused=0 accepted=0

# 1. With a token.
TOKEN=tok-$RANDOM-$RANDOM-secret
FETCHER_API_TOKEN=$TOKEN start_api || { not_ok "fetcher-api starts with a token"; exit 1; }
present=()
for w in "${writes[@]}"; do
  wr_prep "$w"
  c=$(call "$API_URL" "$w")
  if [ "$c" = 404 ] || [ "$c" = 405 ]; then not_ok "token set: $w is routed" "got $c"; continue; fi
  present+=("$w")
  s0=$(state)
  for hdr in "" "Authorization: Bearer wrong" "Authorization: Bearer ${TOKEN%?}" "Authorization: Bearer ${TOKEN}x" \
             "Authorization: Basic $TOKEN" "Authorization: $TOKEN" "Authorization: Bearer" "X-Token: $TOKEN"; do
    if [ -n "$hdr" ]; then c=$(call "$API_URL" "$w" -H "$hdr"); else c=$(call "$API_URL" "$w"); fi
    if [ "$c" = 401 ]; then refused=$((refused + 1)); else not_ok "token set: $w with '${hdr:-no header}' → 401" "got $c"; fi
  done
  check_eq "token set: $w refused 8 ways changed nothing" "$s0" "$(state)"
  c=$(call "$API_URL" "$w" -H "Authorization: Bearer $TOKEN")
  case "$c" in
    2??) accepted=$((accepted + 1))
         # …and it did change what the refusals did not (trigger and refresh
         # only send a NOTIFY: hostile_crossite.sh listens for those)
         case "$w" in
           *trigger-update | */refresh) ok "token set: $w with the token → $c" ;;
           *) check "token set: $w with the token → $c and it took effect" test "$(state)" != "$s0" ;;
         esac ;;
    *) not_ok "token set: $w with the token is accepted" "got $c: $(head -c 200 "$B")" ;;
  esac
done
check_eq "token set: reads need no token" 200 "$(code "$API_URL/api/fetcher/status")"
stop_pid "$API_PID"

# 2. Without a token, bound to every address.
addr=$(hostname -I 2>/dev/null | tr ' ' '\n' | grep -E '^[0-9]+\.[0-9]+\.[0-9]+\.[0-9]+$' | grep -v '^127\.' | head -1)
API_BIND=0.0.0.0 start_api || { not_ok "fetcher-api starts on 0.0.0.0"; exit 1; }
port=${API_URL##*:}
if [ -z "$addr" ]; then
  skip "no token: writes from a non-loopback address are refused" "this machine has no non-loopback IPv4 address"
else
  check_eq "no token: reads from $addr are open" 200 "$(code --interface "$addr" "http://$addr:$port/api/fetcher/status")"
  for w in "${present[@]}"; do
    wr_prep "$w"
    s0=$(state)
    c=$(call "http://$addr:$port" "$w" --interface "$addr")
    if [ "$c" = 403 ]; then refused=$((refused + 1)); ok "no token: $w from $addr → 403"
    else not_ok "no token: $w from $addr → 403" "got $c"; fi
    # a token that is not configured does not open the door either
    c=$(call "http://$addr:$port" "$w" --interface "$addr" -H "Authorization: Bearer anything")
    if [ "$c" = 403 ]; then refused=$((refused + 1)); else not_ok "no token: $w from $addr with a made-up bearer → 403" "got $c"; fi
    check_eq "no token: $w refused from $addr changed nothing" "$s0" "$(state)"
  done
  # Through Docker's published port a request from this machine comes from
  # the bridge, not loopback: the 403 says where it came from and what to do.
  c=$(call "http://$addr:$port" "${present[0]}" --interface "$addr")
  check "the 403 names the client's address ($addr)" grep -q "came from $addr" "$B"
  check "the 403 says to set FETCHER_API_TOKEN and send the bearer header" \
    grep -q "set FETCHER_API_TOKEN for fetcher-api and send 'Authorization: Bearer <token>'" "$B"
fi
for w in "${present[@]}"; do
  wr_prep "$w"
  c=$(call "http://127.0.0.1:$port" "$w")
  case "$c" in 2??) accepted=$((accepted + 1)); ok "no token: $w from 127.0.0.1 → $c" ;;
               *) not_ok "no token: $w from 127.0.0.1 is accepted" "got $c: $(head -c 200 "$B")" ;; esac
done
check_eq "every write route was exercised" "${#known[@]} ${#known[@]}" "${#table[@]} ${#present[@]}"
echo "# auth: ${#present[@]} write endpoints, $refused refusals, $accepted acceptances"
echo "summary auth_refusals $refused" >>"$TEST_LOG_DIR/../summary.txt"
exit 0
