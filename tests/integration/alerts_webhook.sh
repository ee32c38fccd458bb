#!/usr/bin/env bash
# fetcher-api's alert notifications, end to end: real fetcherd, fetcher-api,
# PostgreSQL and fakemarket, and a webhook receiver of ours on loopback
# (tests/tools/webhook_receiver.py) behind a URL with secrets in its
# userinfo, path and query.
#   1. healthy cycles: nothing is sent;
#   2. fakemarket stopped: after ALERT_AFTER exactly one "provider offline"
#      (not one per provider), also "cycles failing" and "prices stale";
#      fakemarket back on its port: exactly one "resolved" for each;
#   3. the receiver answers 500 and fetcherd is killed: "daemon stopped" is
#      retried with a doubling backoff (no flood), and when the receiver
#      answers 200 again every notification is delivered exactly once, in
#      order (nothing lost); fetcherd back: "resolved";
#   4. a second fetcher-api with ALERT_WEBHOOK_FORMAT=slack: what was
#      already sent is not sent again; Yahoo answering 429 (a 30 s pause)
#      raises "provider blocked" (and its resolution), each payload valid
#      against a JSON schema of Slack's incoming-webhook message
#      (tests/fixtures/slack_incoming_webhook.schema.json).
# Every attempt is logged, and no log line holds a secret of the URL.
. "$(dirname "$0")/../lib.sh"

new_db || exit 1
migrate
load_demo
FAKE_PORT=$(free_port)
start_fakemarket_on() {
  "$BIN/fakemarket" --port "$FAKE_PORT" >>"$TEST_LOG_DIR/fakemarket.log" 2>&1 &
  FAKE_PID=$!; T_PIDS+=($!)
  export FAKE_URL="http://127.0.0.1:$FAKE_PORT"
  wait_for 10 curl -sf "$FAKE_URL/_stats"
}
start_fakemarket_on || { not_ok "fakemarket starts"; exit 1; }

# the receiver
RLOG=$TEST_LOG_DIR/received.jsonl
python3 "$TEST_ROOT/tests/tools/webhook_receiver.py" --log "$RLOG" >"$TEST_LOG_DIR/receiver.out" 2>&1 &
T_PIDS+=($!)
wait_for 10 grep -q 'listening on' "$TEST_LOG_DIR/receiver.out"
RPORT=$(sed -n 's/.*127\.0\.0\.1:\([0-9]*\).*/\1/p' "$TEST_LOG_DIR/receiver.out")
R=http://127.0.0.1:$RPORT
SECRETS=(hookuser pw-s3cr3t T0ABC/B0DEF path-s3cr3t tok-s3cr3t)
export ALERT_WEBHOOK_URL="http://hookuser:pw-s3cr3t@127.0.0.1:$RPORT/services/T0ABC/B0DEF/path-s3cr3t?token=tok-s3cr3t"
# ALERT_AFTER well past the time fetcherd takes from its first provider
# down to "offline" (the last providers' third failed request comes with a
# probe or the next cycle: about two probe intervals), so that a provider
# down on the way to offline is not an alert of its own however busy the
# machine is; yet short of the 30 s pause of a 429 (section 4).
ALERT_AFTER_S=10
export ALERT_AFTER=${ALERT_AFTER_S}s ALERT_FAILED_CYCLES=2 FETCH_PROBE_INTERVAL=2s FETCH_INTERVAL=2s
export FETCHER_INSTANCE_ID=alerts-a API_CACHE_MS=0

# received JQ_FILTER → count of received requests matching it
received() { curl -s "$R/_received" | jq "[.[] | select($1)] | length"; }
kinds() { curl -s "$R/_received" | jq -r '[.[] | "\(.body.alert)/\(.body.subject)/\(.body.status)/\(.status)"] | join(" ")'; }
mode() { curl -s -X POST "$R/_mode?status=$1" >/dev/null; }

start_fetcherd
start_api || { not_ok "fetcher-api starts"; exit 1; }
last_seq() { sql "SELECT COALESCE(max(seq), 0) FROM fetcher_cycles WHERE status <> 'running'"; }
wait_cycles() {
  local want=$(( $(last_seq) + $1 ))
  done_to() { [ "$(last_seq)" -ge "$1" ]; }
  wait_for 60 done_to "$want"
}

# --- 1. healthy: silence -----------------------------------------------------------------------------
check "three healthy cycles" wait_cycles 3
sleep 2
check_eq "healthy: no notification" 0 "$(received 'true')"
check_eq "healthy: no alert row" 0 "$(sql "SELECT count(*) FROM fetcher_alerts")"

# --- 2. fakemarket stopped, then back ---------------------------------------------------------------------
kill -KILL "$FAKE_PID"; wait "$FAKE_PID" 2>/dev/null
t_stop=$(date +%s.%N)
has() { [ "$(received "$1")" -ge 1 ]; }
check "provider offline notified" wait_for 60 has '.body.alert == "provider_offline" and .body.status == "firing"'
check "cycles failing notified" wait_for 60 has '.body.alert == "cycles_failing" and .body.status == "firing"'
check "prices stale notified" wait_for 30 has '.body.alert == "prices_stale" and .body.status == "firing"'
t_first=$(curl -s "$R/_received" | jq '[.[] | select(.body.alert == "provider_offline")][0].t')
check_cmp "provider offline came after ALERT_AFTER ($ALERT_AFTER_S s; $(echo "$t_first - $t_stop" | bc) s)" \
  "$(echo "($t_first - $t_stop) >= $ALERT_AFTER_S" | bc)" -eq 1
sleep 3
check_eq "one provider offline notification, not one per provider" 1 \
  "$(received '.body.alert == "provider_offline" and .body.status == "firing"')"
check_eq "… for every provider at once (subject empty)" '""' \
  "$(curl -s "$R/_received" | jq -c '[.[] | select(.body.alert == "provider_offline")][0].body.subject')"
check_eq "one cycles failing notification" 1 "$(received '.body.alert == "cycles_failing" and .body.status == "firing"')"
start_fakemarket_on || not_ok "fakemarket restarts on its port"
check "provider offline resolved" wait_for 60 has '.body.alert == "provider_offline" and .body.status == "resolved"'
check "cycles failing resolved" wait_for 60 has '.body.alert == "cycles_failing" and .body.status == "resolved"'
check "prices stale resolved" wait_for 60 has '.body.alert == "prices_stale" and .body.status == "resolved"'
# Back online, no provider is counted down: those that were down in the
# outage are forgiven (a second source nobody asks would stay down for
# good, and raise a provider alert of its own after ALERT_AFTER).
none_down() { [ "$(curl -s "$API_URL/api/fetcher/queue" | jq '[.queue.providers[]? | select(.down)] | length')" = 0 ]; }
check "after recovery no provider is counted down" wait_for 20 none_down
sleep $((ALERT_AFTER_S + 2))
check_eq "one resolved provider offline" 1 "$(received '.body.alert == "provider_offline" and .body.status == "resolved"')"
check_eq "no per-provider offline alert after recovery either" 0 \
  "$(received '.body.alert == "provider_offline" and .body.subject != ""')"
check_eq "resolution names the same alert id" \
  "$(curl -s "$R/_received" | jq '[.[] | select(.body.alert == "provider_offline")] | map(.body.id) | unique | length')" 1
check_eq "each (id, status) once" "$(received 'true')" \
  "$(curl -s "$R/_received" | jq '[.[] | "\(.body.id)/\(.body.status)"] | unique | length')"
check_eq "json payload: fields" "fetcherd provider offline warning true true" \
  "$(curl -s "$R/_received" | jq -r '[.[] | select(.body.alert == "provider_offline" and .body.status == "resolved")][0].body | "\(.source) \(.title) \(.severity) \(.started_at < .resolved_at) \(.duration_seconds > 0)"')"
check_eq "sent to the URL as configured (path, query, basic auth)" \
  "/services/T0ABC/B0DEF/path-s3cr3t token=tok-s3cr3t Basic $(printf 'hookuser:pw-s3cr3t' | base64) application/json" \
  "$(curl -s "$R/_received" | jq -r '.[0] | "\(.path) \(.query) \(.authorization) \(.content_type)"')"
n_phase2=$(received 'true')
check_eq "database: every phase-2 alert resolved, both notices sent" \
  "$(sql "SELECT count(*) FROM fetcher_alerts")" \
  "$(sql "SELECT count(*) FROM fetcher_alerts WHERE resolved_at IS NOT NULL AND fire_notice = 'sent' AND resolve_notice = 'sent'")"
check_eq "history served by GET /api/fetcher/alerts" "$(sql "SELECT count(*) FROM fetcher_alerts")" \
  "$(curl -s "$API_URL/api/fetcher/alerts" | jq '[.alerts[] | select(.status == "resolved")] | length')"
check_eq "alerts?status=bogus → 400 naming it" "400 status" \
  "$(curl -s -o "$TEST_LOG_DIR/b" -w '%{http_code}' "$API_URL/api/fetcher/alerts?status=bogus") $(jq -r .parameter "$TEST_LOG_DIR/b")"

# --- 3. a failing receiver, fetcherd killed -----------------------------------------------------------------
# Notifications go out one at a time, in order: while the receiver fails,
# only the oldest is tried, with a doubling wait; the others wait behind it.
mode 500
kill -KILL "$FETCHERD_PID"; wait "$FETCHERD_PID" 2>/dev/null
t_kill=$(date +%s)
fails() { received ".status == 500"; }
many() { [ "$(fails)" -ge "$1" ]; }
open_stopped() { [ "$(sql "SELECT count(*) FROM fetcher_alerts WHERE alert = 'daemon_stopped' AND resolved_at IS NULL")" = 1 ]; }
check "daemon stopped raised (while the receiver fails)" wait_for 60 open_stopped
check "five attempts failed" wait_for 60 many 5
mode 200
check "daemon stopped delivered once the receiver answers" wait_for 60 has '.body.alert == "daemon_stopped" and .body.status == "firing" and .status == 200'
t_ok=$(date +%s)
sleep 2
check_eq "daemon stopped: delivered exactly once" 1 \
  "$(received '.body.alert == "daemon_stopped" and .body.status == "firing" and .status == 200')"
check_eq "while failing, only the oldest notification was tried (no flood)" 1 \
  "$(curl -s "$R/_received" | jq '[.[] | select(.status == 500) | "\(.body.id)/\(.body.status)"] | unique | length')"
head_id=$(curl -s "$R/_received" | jq '[.[] | select(.status == 500)][0].body.id')
gaps=$(curl -s "$R/_received" | jq -r --argjson id "$head_id" '[.[] | select(.body.id == $id and .body.status == "firing") | .t] as $t | [range(1; $t | length) | ($t[.] - $t[. - 1])] | map(. * 10 | round / 10) | join(" ")')
n_head=$(received ".body.id == $head_id and .body.status == \"firing\"")
echo "# the oldest notification (#$head_id) took $n_head attempts; gaps between them (s): $gaps"
check "backoff doubles: gap k ≥ 0.9 × 2^k s (1, 2, 4, 8 …)" python3 -c "
g = [float(x) for x in '$gaps'.split()]
assert len(g) >= 4, g
for k, x in enumerate(g): assert x >= 0.9 * 2 ** k, (k, x, g)"
span=$((t_ok - t_kill))
check_cmp "no flood: $(received 'true') - $n_phase2 requests in ${span} s while failing, ≤ log2 of it + the queue" \
  "$(( $(received 'true') - n_phase2 ))" -le \
  "$(( $(python3 -c "import math; print(int(math.log2(max($span, 2))) + 3)") + $(sql "SELECT count(*) FROM fetcher_alerts WHERE started_at > to_timestamp($t_kill)") ))"
check_eq "nothing lost: every notice in the database delivered" \
  "$(sql "SELECT count(*) + count(resolve_notice) FROM fetcher_alerts")" \
  "$(sql "SELECT count(*) FILTER (WHERE fire_notice = 'sent') + count(*) FILTER (WHERE resolve_notice = 'sent') FROM fetcher_alerts")"
check_eq "delivered in the order raised" \
  "$(sql "SELECT string_agg(id::text, ' ' ORDER BY started_at, id) FROM fetcher_alerts WHERE started_at > to_timestamp($t_kill)")" \
  "$(curl -s "$R/_received" | jq -r --argjson n "$n_phase2" '[.[$n:][] | select(.status == 200 and .body.status == "firing") | .body.id] | map(tostring) | join(" ")')"
check_eq "the database counted the oldest one's attempts" "$n_head" \
  "$(sql "SELECT attempts FROM fetcher_alerts WHERE id = $head_id")"
check "a failed attempt logged with its reason and the wait" \
  grep -qE 'alerts: webhook http://127\.0\.0\.1:[0-9]+/…: notice #[0-9]+ \([a-z_]+ ([a-z]+ )?firing\) attempt 2: HTTP 500; next attempt in 2000 ms' "$TEST_LOG_DIR/fetcher-api.log"
check_eq "every attempt logged" "$(received 'true')" "$(grep -c 'alerts: webhook .* attempt [0-9]*:' "$TEST_LOG_DIR/fetcher-api.log")"
start_fetcherd
check "daemon back: resolved" wait_for 40 has '.body.alert == "daemon_stopped" and .body.status == "resolved"'

# --- 4. slack, after a restart of fetcher-api ----------------------------------------------------------------
stop_pid "$API_PID"
n_before=$(received 'true')
export ALERT_WEBHOOK_FORMAT=slack
export ALERT_WEBHOOK_URL="http://127.0.0.1:$RPORT/slack/T0ABC/B0DEF/path-s3cr3t"
start_api || not_ok "fetcher-api (slack) starts"
sleep 3
check_eq "restart: nothing sent again" "$n_before" "$(received 'true')"
curl -s -X POST "$FAKE_URL/_mode?fault=ERR429NR&provider=yahoo" >/dev/null   # 429s, no Retry-After: a 30 s pause
slack_has() { [ "$(curl -s "$R/_received" | jq "[.[] | select(.path | startswith(\"/slack\")) | select(.body.text | test(\"$1\"))] | length")" -ge 1 ]; }
check "slack: provider blocked (yahoo) sent" wait_for 60 slack_has '^\\[FIRING\\] fetcherd: provider blocked \\(yahoo\\)'
curl -s -X POST "$FAKE_URL/_mode?fault=none&provider=yahoo" >/dev/null
check "slack: its resolution sent (after the 30 s pause)" wait_for 90 slack_has '^\\[RESOLVED\\] fetcherd: provider blocked \\(yahoo\\)'
curl -s "$R/_received" | jq '[.[] | select(.path | startswith("/slack")) | .body]' >"$TEST_LOG_DIR/slack_payloads.json"
check_cmp "slack payloads received" "$(jq length "$TEST_LOG_DIR/slack_payloads.json")" -ge 2
check "slack: every payload valid against Slack's incoming-webhook schema" /usr/bin/python3 - \
  "$TEST_ROOT/tests/fixtures/slack_incoming_webhook.schema.json" "$TEST_LOG_DIR/slack_payloads.json" <<'PY'
import json, sys
import jsonschema
schema = json.load(open(sys.argv[1]))
jsonschema.Draft7Validator.check_schema(schema)
v = jsonschema.Draft7Validator(schema)
payloads = json.load(open(sys.argv[2]))
for p in payloads:
    errs = list(v.iter_errors(p))
    assert not errs, [e.message for e in errs]
# the schema refuses what Slack refuses (so it can fail)
for bad in ({"blocks": []}, {"text": "x", "blocks": [{"type": "section"}]},
            {"text": "x", "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": "y" * 3001}}]},
            {"text": "x", "blocks": [{"type": "context", "elements": []}]}):
    assert list(v.iter_errors(bad)), bad
PY

# --- no secret in any log --------------------------------------------------------------------------------
for s in "${SECRETS[@]}"; do
  check "the URL's secret '$s' is in no log" bash -c "! grep -l -F '$s' '$TEST_LOG_DIR'/fetcher-api*.log"
done

# --- the dashboard's alerts panel shows this history ----------------------------------------------------------
if [ -x /usr/bin/chromium ] && [ -x /usr/bin/chromedriver ] && /usr/bin/python3 -c 'import selenium' 2>/dev/null; then
  /usr/bin/python3 "$TEST_ROOT/tests/browser/alerts_panel_test.py" "$API_URL" >"$TEST_LOG_DIR/alerts_panel.out" 2>&1
  while IFS= read -r line; do
    case "$line" in
      "ok - "*) ok "dashboard: ${line#ok - }" ;;
      "not ok - "*) not_ok "dashboard: ${line#not ok - }" ;;
      "#"*) echo "$line" ;;
    esac
  done <"$TEST_LOG_DIR/alerts_panel.out"
  grep -q '^ok - alerts panel shown' "$TEST_LOG_DIR/alerts_panel.out" ||
    not_ok "dashboard: the browser check ran" "$(tail -3 "$TEST_LOG_DIR/alerts_panel.out")"
else
  skip "dashboard: alerts panel in headless Chromium" "needs Debian's chromium, chromium-driver and python3-selenium (BOOTSTRAP_PROFILE=browser)"
fi
