#!/usr/bin/env bash
# Other web pages cannot use the API through the user's browser (see
# api/crosssite.h and the README's "Security"). Without a token, on
# loopback — the set-up a page on another site would attack:
#  - every write endpoint of api/routes.c's table (read from the file, so a
#    new one is covered or fails this suite) is refused (403/415, a JSON
#    error naming the header) with a forged Origin, a same-site Origin of
#    another port, "null", Sec-Fetch-Site cross-site or same-site, the
#    simple content types (text/plain, form, multipart) and none, and the
#    whole no-cors attack at once; and none of those changes a row, a
#    setting or sends a NOTIFY;
#  - the same writes from a script (JSON, no Origin) and from our own pages
#    (Origin = scheme://Host, under 127.0.0.1 and localhost) succeed and do
#    change what they change, so "no change" above is not a blind test;
#  - a Host the API does not serve (evil.example, attacker.example:PORT
#    as DNS rebinding sends it) is 421 for reads, the dashboard, the event
#    stream and writes; /healthz answers anyway; localhost, addresses and
#    HTTP/1.0 without Host are served; API_ALLOWED_HOSTS replaces the list;
#    a bad value stops fetcher-api at start with exit 2;
#  - preflights from a foreign origin are refused and grant nothing; with
#    API_CORS_ORIGIN, that origin may write cross-site, others still not.
. "$(dirname "$0")/../lib.sh"
normal_pass_only "the cross-site rules are a request's headers, judged before any handler; hostile_auth sends every write route under ASan"

new_db || exit 1
migrate
load_demo
B=$TEST_LOG_DIR/body H=$TEST_LOG_DIR/headers
code() { curl -s -o "$B" -D "$H" -w '%{http_code}' --max-time 10 "$@"; }
hdr() { grep -i "^$1:" "$H" | head -1 | cut -d' ' -f2- | tr -d '\r'; }

. "$TEST_ROOT/tests/writes.sh"
# Every write route: "METHOD PATTERN" from the table, not from this file,
# and a request for each that would succeed and change something.
mapfile -t routes < <(wr_routes)
check_cmp "routes.c has write routes" "${#routes[@]}" -ge 14
request_for() { wr_request "$1"; }
for r in "${routes[@]}"; do
  request_for "$r" >/dev/null || not_ok "this suite knows how to call the write route $r" "add it to tests/writes.sh"
done

# What any write could change: the data (tests/writes.sh) and the log.
state() { echo "$(wr_data)|$(sql "SELECT count(*) FROM fetcher_logs")"; }
# ...and the notifications the API sends (trigger and refresh change no row).
# One listener for the whole test; a marker NOTIFY of ours, delivered after
# everything committed before it, tells when the log is complete.
NL=$TEST_LOG_DIR/notify.log
( printf 'LISTEN fetcher_trigger; LISTEN fetcher_refresh; LISTEN fetcher_control; LISTEN fetcher_events; LISTEN xsite_marker;\n'
  while :; do printf 'SELECT 1;\n'; sleep 0.1; done ) | psql "$DATABASE_URL" -X -q -At >"$NL" 2>&1 &
T_PIDS+=($!)
wait_for 5 bash -c "[ \"\$(psql '$DATABASE_URL' -XAtc \"SELECT count(*) FROM pg_listening_channels()\" )\" ] && grep -q '^1$' '$NL'"
notifications() {   # called in $(…): the marker must be unique without a counter
  local m; m=m$(date +%s%N)
  sql "NOTIFY xsite_marker, '$m'" >/dev/null
  wait_for 10 grep -q "payload \"$m\"" "$NL" || echo "marker $m never arrived" >&2
  grep 'Asynchronous notification' "$NL" | grep -vc xsite_marker
}
# Sets the data up so that the route's write would change something.
reset() { wr_prep "$1"; }
# send ROUTE [curl args…] — the route's request; CT=… sets its Content-Type
# ("" = none).
send() {
  local r=$1 spec p body m; shift
  spec=$(request_for "$r") || return 1
  p=${spec%%|*} body=${spec#*|} m=${r%% *}
  local -a a=(-X "$m")
  [ -n "${CT-application/json}" ] && a+=(-H "Content-Type: ${CT-application/json}")
  [ -n "$body" ] && a+=(--data-binary "$body")
  code "${a[@]}" "$@" "$URL$p"
}

start_api || { not_ok "fetcher-api starts"; exit 1; }
port=${API_URL##*:}
URL=$API_URL

# 1. Refused writes: 4xx, the reason in a JSON error, nothing changed.
refusals=0
for r in "${routes[@]}"; do
  request_for "$r" >/dev/null || continue
  reset "$r"
  s0=$(state) n0=$(notifications)
  while IFS='~' read -r what want param ct args; do
    eval "extra=($args)"
    c=$(CT=$ct send "$r" "${extra[@]}")
    got_param=$(jq -r '.parameter // empty' "$B" 2>/dev/null)
    if [ "$c" = "$want" ] && [ "$got_param" = "$param" ] && jq -e '.error | type == "string"' "$B" >/dev/null 2>&1; then
      refusals=$((refusals + 1))
    else
      not_ok "$r with $what → $want naming $param" "got $c: $(head -c 200 "$B")"
    fi
    check_eq "$r with $what changed no row" "$s0" "$(state)"
  done <<EOF
a forged Origin~403~Origin~application/json~-H 'Origin: https://evil.example'
a rebinding-style Origin~403~Origin~application/json~-H 'Origin: http://attacker.example:$port'
another port of this host (same-site)~403~Origin~application/json~-H 'Origin: http://127.0.0.1:1' -H 'Sec-Fetch-Site: same-site'
Origin null~403~Origin~application/json~-H 'Origin: null'
Sec-Fetch-Site cross-site~403~Sec-Fetch-Site~application/json~-H 'Sec-Fetch-Site: cross-site'
Sec-Fetch-Site same-site~403~Sec-Fetch-Site~application/json~-H 'Sec-Fetch-Site: same-site'
text/plain~415~Content-Type~text/plain~
text/plain with our own Origin~415~Content-Type~text/plain;charset=UTF-8~-H 'Origin: http://127.0.0.1:$port' -H 'Sec-Fetch-Site: same-origin'
application/x-www-form-urlencoded~415~Content-Type~application/x-www-form-urlencoded~
multipart/form-data~415~Content-Type~multipart/form-data; boundary=xsite~
no content type~415~Content-Type~~
the no-cors attack (evil Origin, cross-site, text/plain)~403~Origin~text/plain~-H 'Origin: https://evil.example' -H 'Sec-Fetch-Site: cross-site' -H 'Sec-Fetch-Mode: no-cors'
a rebinding write (foreign Host, its own Origin)~421~Host~application/json~-H 'Host: attacker.example:$port' -H 'Origin: http://attacker.example:$port' -H 'Sec-Fetch-Site: same-origin'
EOF
  check_eq "$r refused 13 ways sent no NOTIFY" "$n0" "$(notifications)"
done
check_eq "the Origin refusal says what is wrong" \
  "cross-site request refused: Origin https://evil.example is not allowed" \
  "$(CT=application/json send "POST /api/fetcher/pause" -H 'Origin: https://evil.example' >/dev/null; jq -r .error "$B")"

# 2. Allowed writes change what they change: scripts, then our own pages.
accepted=0
allowed() {   # label [curl args…]
  local label=$1 r c; shift
  for r in "${routes[@]}"; do
    request_for "$r" >/dev/null || continue
    reset "$r"
    s0=$(state) n0=$(notifications)
    c=$(send "$r" "$@")
    case "$c" in
      2??) accepted=$((accepted + 1))
           if [ "$(state)" != "$s0" ] || [ "$(notifications)" != "$n0" ]; then ok "$label: $r → $c and it took effect"
           else not_ok "$label: $r → $c took effect" "no row and no NOTIFY changed"; fi ;;
      *) not_ok "$label: $r is accepted" "got $c: $(head -c 200 "$B")" ;;
    esac
  done
}
allowed "script (JSON, no Origin)"
allowed "our page at 127.0.0.1" -H "Origin: http://127.0.0.1:$port" -H 'Sec-Fetch-Site: same-origin'
allowed "our page at localhost" -H "Host: localhost:$port" -H "Origin: http://localhost:$port" -H 'Sec-Fetch-Site: same-origin'
reset "POST /api/fetcher/resume"
check_eq "a JSON write with charset → 2xx" 200 "$(CT='application/json; charset=utf-8' send "POST /api/fetcher/resume")"

# 3. Host, on every kind of request.
for p in /api/fetcher/status /api/fetcher/assets / /app.js /readyz /metrics; do
  for h in evil.example "attacker.example:$port" "localhost.evil.example:$port"; do
    c=$(code -H "Host: $h" "$API_URL$p")
    check_eq "GET $p with Host $h → 421 naming Host" "421 Host" "$c $(jq -r .parameter "$B" 2>/dev/null)"
  done
done
check_eq "the event stream with a foreign Host → 421" 421 "$(code --max-time 3 -H 'Host: attacker.example' "$API_URL/api/fetcher/events")"
check_eq "/healthz answers any Host (probes)" 200 "$(code -H 'Host: evil.example' "$API_URL/healthz")"
for h in "localhost:$port" "LOCALHOST:$port" "localhost" "127.0.0.1:$port" "[::1]:$port"; do
  check_eq "GET status with Host $h → 200" 200 "$(code -H "Host: $h" "$API_URL/api/fetcher/status")"
done
check_eq "HTTP/1.0 without Host → 200" 200 "$(code --http1.0 -H 'Host:' "$API_URL/api/fetcher/status")"

# 4. Preflights from foreign origins grant nothing.
c=$(code -X OPTIONS -H 'Origin: https://evil.example' -H 'Access-Control-Request-Method: POST' \
      -H 'Access-Control-Request-Headers: content-type' "$API_URL/api/fetcher/pause")
check_eq "preflight from a foreign origin → 403" 403 "$c"
check_eq "the refused preflight has no Access-Control-Allow-Origin" "" "$(hdr Access-Control-Allow-Origin)"
stop_pid "$API_PID"

# 5. API_CORS_ORIGIN: that origin may write cross-site; others may not.
API_CORS_ORIGIN=https://dash.example start_api || { not_ok "fetcher-api starts with API_CORS_ORIGIN"; exit 1; }
port=${API_URL##*:} URL=$API_URL
reset "POST /api/fetcher/pause"
s0=$(state)
check_eq "CORS origin: cross-site pause → 200" 200 \
  "$(send "POST /api/fetcher/pause" -H 'Origin: https://dash.example' -H 'Sec-Fetch-Site: cross-site')"
check "CORS origin: the pause took effect" test "$(state)" != "$s0"
s0=$(state)
check_eq "CORS origin set: another origin → 403" 403 \
  "$(send "POST /api/fetcher/resume" -H 'Origin: https://evil.example' -H 'Sec-Fetch-Site: cross-site')"
check_eq "CORS origin set: without an Origin, cross-site → 403" 403 \
  "$(send "POST /api/fetcher/resume" -H 'Sec-Fetch-Site: cross-site')"
check_eq "CORS origin set: the refusals changed nothing" "$s0" "$(state)"
check_eq "CORS origin: its preflight → 204" 204 \
  "$(code -X OPTIONS -H 'Origin: https://dash.example' -H 'Access-Control-Request-Method: POST' "$API_URL/api/fetcher/pause")"
check_eq "CORS origin: its preflight grants it" https://dash.example "$(hdr Access-Control-Allow-Origin)"
c=$(code -X OPTIONS -H 'Origin: https://evil.example' -H 'Access-Control-Request-Method: POST' "$API_URL/api/fetcher/pause")
check_eq "CORS origin set: a foreign preflight → 403" 403 "$c"
check "CORS origin set: a foreign preflight is not granted" test "$(hdr Access-Control-Allow-Origin)" != https://evil.example
stop_pid "$API_PID"

# 6. API_ALLOWED_HOSTS replaces the list; a bad one is a start-up error.
p2=$(free_port)
API_PORT=$p2 API_ALLOWED_HOSTS="api, dash.example:$p2" "$BIN/fetcher-api" >>"$TEST_LOG_DIR/fetcher-api.log" 2>&1 &
API_PID=$!; T_PIDS+=($!)
wait_for 10 curl -sf "http://127.0.0.1:$p2/healthz" || not_ok "fetcher-api starts with API_ALLOWED_HOSTS"
for hc in "api:$p2 200" "api 200" "dash.example:$p2 200" "dash.example:1 421" "localhost:$p2 421" "127.0.0.1:$p2 200"; do
  h=${hc% *} want=${hc#* }
  check_eq "API_ALLOWED_HOSTS=api,dash.example:$p2: Host $h → $want" "$want" \
    "$(code -H "Host: $h" "http://127.0.0.1:$p2/api/fetcher/status")"
done
stop_pid "$API_PID"
for bad in "http://evil.example" "local host" "x:0"; do
  out=$(API_ALLOWED_HOSTS=$bad API_PORT=$(free_port) timeout 5 "$BIN/fetcher-api" 2>&1); rc=$?
  check_eq "API_ALLOWED_HOSTS='$bad' stops fetcher-api at start (exit 2)" 2 "$rc"
  check "the error names API_ALLOWED_HOSTS ('$bad')" grep -q API_ALLOWED_HOSTS <<<"$out"
done

echo "# crossite: ${#routes[@]} write routes, $refusals refusals, $accepted acceptances"
exit 0
