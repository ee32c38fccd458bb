#!/usr/bin/env bash
# /metrics as a Prometheus server and Grafana would see it, from a live
# stack (real fetcherd, fetcher-api, PostgreSQL, fakemarket with Yahoo
# failing for a while): `promtool check metrics` on the scrape; every
# series once; every sample under a HELP and a TYPE; counters that do not
# go back between two scrapes; the series issue 18 asks for; the
# per-provider request outcomes summed equal the requests fakemarket
# counted; fetcherd_failovers_total{from="yahoo"} equals the
# price_update_log rows that failed over from Yahoo; stale assets equal
# those the test made stale in the database; the process_* series of both
# programs; /metrics still answering (database_up 0) with the database
# away. Then contrib/prometheus/alerts.yml through `promtool check rules`
# and `promtool test rules`, and every expression of it and of
# contrib/grafana/fetcherd.json naming only families the scrape serves;
# every family served is documented in the README.
. "$(dirname "$0")/../lib.sh"

command -v promtool >/dev/null || { not_ok "promtool installed (scripts/bootstrap: prometheus)"; exit 1; }
PROM=$TEST_ROOT/contrib/prometheus
GRAF=$TEST_ROOT/contrib/grafana/fetcherd.json

# --- the rules alone --------------------------------------------------------------------------------
check "promtool check rules contrib/prometheus/alerts.yml" promtool check rules "$PROM/alerts.yml"
check "promtool test rules: every alert fires and resolves" promtool test rules "$PROM/alerts_test.yml"
check "every alert has a runbook line" bash -c "
  n=\$(grep -c '^      - alert:' '$PROM/alerts.yml'); r=\$(grep -c '^          runbook: \"Runbook: ' '$PROM/alerts.yml')
  [ \"\$n\" -ge 7 ] && [ \"\$n\" = \"\$r\" ]"
check "every alert is unit-tested" bash -c "
  for a in \$(sed -n 's/^      - alert: //p' '$PROM/alerts.yml'); do
    grep -q \"alertname: \$a\$\" '$PROM/alerts_test.yml' || { echo \"\$a untested\"; exit 1; }; done"

# --- a live stack -----------------------------------------------------------------------------------
new_db || exit 1
migrate
load_demo
# A stock fakemarket does not know: a failed update every cycle, so
# fetcherd_failed_updates has samples for promtool to judge.
sql "INSERT INTO assets (symbol, name, asset_type, currency, provider, provider_symbol)
     VALUES ('NOSUCH1', 'Delisted Example Corp', 'stock', 'USD', 'yahoo', 'NOSUCH1');
     INSERT INTO tracked_assets (asset_id) SELECT id FROM assets WHERE symbol = 'NOSUCH1'" >/dev/null
start_fakemarket || { not_ok "fakemarket starts"; exit 1; }
export TWELVEDATA_API_KEY=test-key-not-real FETCH_PROBE_INTERVAL=2s FETCHER_INSTANCE_ID=mon-a
export API_CACHE_MS=0
start_fetcherd
start_api || { not_ok "fetcher-api starts"; exit 1; }
last_seq() { sql "SELECT COALESCE(max(seq), 0) FROM fetcher_cycles WHERE status <> 'running'"; }
wait_cycles() {
  local want=$(( $(last_seq) + $1 ))
  done_to() { [ "$(last_seq)" -ge "$1" ]; }
  wait_for 60 done_to "$want"
}
check "two healthy cycles" wait_cycles 2
curl -s -X POST "$FAKE_URL/_mode?fault=ERR503&provider=yahoo" >/dev/null
check "two cycles with yahoo answering 503" wait_cycles 2
curl -s -X POST "$FAKE_URL/_mode?fault=none&provider=yahoo" >/dev/null
back() { [ "$(sql "SELECT count(*) FROM price_update_log p JOIN fetcher_cycles c ON c.id = p.cycle_id WHERE c.seq = $(last_seq) AND p.source = 'yahoo'")" -gt 0 ]; }
check "yahoo back" wait_for 40 back
# A quiet moment: no scheduled cycle, nothing in flight, the heartbeat after it.
check "pause" curl -sf -X POST -H 'Content-Type: application/json' "$API_URL/api/fetcher/pause"
idle() { [ "$(sql "SELECT phase = 'idle' AND (queue->>'in_flight')::int = 0 AND (queue->>'queued')::int = 0 FROM fetcher_instances WHERE instance_id = 'mon-a'")" = t ]; }
check "idle" wait_for 20 idle
sleep 2.5   # two more heartbeats

# Two stale stocks, made so in the database (the schedule is paused).
sql "UPDATE tracked_assets SET last_price_update = now() - interval '1 day' WHERE asset_id IN
     (SELECT a.id FROM assets a JOIN tracked_assets t ON t.asset_id = a.id WHERE a.asset_type = 'stock' ORDER BY a.id LIMIT 2)" >/dev/null

A=$TEST_LOG_DIR/scrape_a.txt B=$TEST_LOG_DIR/scrape_b.txt
curl -sf "$API_URL/metrics" >"$A"
sleep 1.2
curl -sf "$API_URL/metrics" >"$B"
check "promtool check metrics: no problem in a live scrape" bash -c "out=\$(promtool check metrics <'$A' 2>&1); rc=\$?; echo \"\$out\"; [ \$rc -eq 0 ] && [ -z \"\$out\" ]"
check "every series once" bash -c "[ -z \"\$(grep -v '^#' '$A' | sed 's/ [^ ]*\$//' | sort | uniq -d)\" ]"
check "every sample belongs to a family with HELP and TYPE" bash -c "
  for m in \$(grep -v '^#' '$A' | sed -E 's/[{ ].*//' | sort -u); do
    f=\$m; grep -q \"^# TYPE \$f \" '$A' || f=\$(echo \"\$m\" | sed -E 's/_(bucket|sum|count)\$//')
    grep -q \"^# TYPE \$f \" '$A' && grep -q \"^# HELP \$f \" '$A' || { echo \"\$m\"; exit 1; }; done"
check "counters never go back between two scrapes" python3 - "$A" "$B" <<'PY'
import re, sys
def load(p):
    types, vals = {}, {}
    for line in open(p):
        if line.startswith('# TYPE '):
            _, _, name, t = line.split()
            types[name] = t
        elif line.strip() and not line.startswith('#'):
            k, v = line.rsplit(' ', 1)
            vals[k] = float(v)
    return types, vals
ta, a = load(sys.argv[1]); tb, b = load(sys.argv[2])
bad = []
for k, v in a.items():
    name = re.sub(r'\{.*', '', k)
    fam = name if name in ta else re.sub(r'_(bucket|sum|count)$', '', name)
    if ta.get(fam) in ('counter', 'histogram') and k in b and b[k] < v and not fam.startswith('fetcherd_cycle_duration'):
        bad.append(f'{k}: {v} -> {b[k]}')
print('\n'.join(bad))
sys.exit(1 if bad else 0)
PY

mval() { grep -E "^$1 " "$A" | awk '{print $2}'; }
msum() { grep -E "^$1" "$A" | awk '{s += $2} END {printf "%d", s}'; }
for fam in fetcherd_provider_requests_total fetcherd_provider_request_duration_seconds fetcherd_provider_state \
           fetcherd_queue_depth fetcherd_write_buffer_rows fetcherd_price_age_seconds fetcherd_stale_assets \
           fetcherd_failovers_total process_cpu_seconds_total process_resident_memory_bytes \
           process_virtual_memory_bytes process_open_fds process_max_fds process_start_time_seconds; do
  check "family $fam served with samples" grep -qE "^$fam(_bucket)?\{" "$A"
done
fake_total=$(curl -s "$FAKE_URL/_stats" | jq '.requests_total')
check_eq "provider requests by outcome sum to what fakemarket counted" "$fake_total" \
  "$(msum 'fetcherd_provider_requests_total\{instance_id="mon-a",')"
check_cmp "yahoo's 503s counted as outcome=error" "$(mval 'fetcherd_provider_requests_total\{instance_id="mon-a",provider="yahoo",outcome="error"\}')" -ge 1
check_cmp "yahoo's answers counted as outcome=ok" "$(mval 'fetcherd_provider_requests_total\{instance_id="mon-a",provider="yahoo",outcome="ok"\}')" -ge 2
fo_rows=$(sql "SELECT count(*) FROM price_update_log WHERE failover_reason LIKE 'yahoo:%'")
check_cmp "some stocks failed over from yahoo" "$fo_rows" -ge 1
check_eq "failovers_total{from=yahoo} = the rows that failed over from yahoo" "$fo_rows" \
  "$(msum 'fetcherd_failovers_total\{instance_id="mon-a",from="yahoo",')"
check_eq "… all of them to twelvedata" "$fo_rows" \
  "$(mval 'fetcherd_failovers_total\{instance_id="mon-a",from="yahoo",to="twelvedata"\}')"
check "latency histogram: buckets cumulative, +Inf = count, count ≤ requests" python3 - "$A" <<'PY'
import re, sys
b, c, req = {}, {}, {}
for line in open(sys.argv[1]):
    m = re.match(r'fetcherd_provider_request_duration_seconds_bucket\{instance_id="mon-a",provider="(\w+)",le="([^"]+)"\} (\d+)', line)
    if m: b.setdefault(m[1], []).append((m[2], int(m[3])))
    m = re.match(r'fetcherd_provider_request_duration_seconds_count\{instance_id="mon-a",provider="(\w+)"\} (\d+)', line)
    if m: c[m[1]] = int(m[2])
    m = re.match(r'fetcherd_provider_requests_total\{instance_id="mon-a",provider="(\w+)",outcome="\w+"\} (\d+)', line)
    if m: req[m[1]] = req.get(m[1], 0) + int(m[2])
assert b and c['yahoo'] > 0, 'no yahoo latencies'
for p, bs in b.items():
    counts = [n for _, n in bs]
    assert counts == sorted(counts), (p, counts)
    assert bs[-1][0] == '+Inf' and bs[-1][1] == c[p], (p, bs[-1], c[p])
    assert c[p] <= req.get(p, 0), (p, c[p], req.get(p))
PY
# yahoo answers again: no longer down; "degraded" while its 503s are among
# its recent requests (issue 19), as the heartbeat says
ystate=$(sql "SELECT p->>'state' FROM fetcher_instances, jsonb_array_elements(queue->'providers') p WHERE instance_id = 'mon-a' AND p->>'name' = 'yahoo'")
check "provider_state: exactly one state per provider, yahoo answering again ($ystate)" bash -c "
  [ -z \"\$(grep '^fetcherd_provider_state{' '$A' | awk '\$2 == 1' | sed -E 's/,state=.*//' | sort | uniq -d)\" ] &&
  [ \"\$(grep '^fetcherd_provider_state{' '$A' | awk '\$2 == 1' | wc -l)\" = \"\$(grep -c '^fetcherd_provider_state{.*state=\"ok\"' '$A')\" ] &&
  case '$ystate' in ok|degraded) ;; *) exit 1 ;; esac &&
  grep -q '^fetcherd_provider_state{instance_id=\"mon-a\",provider=\"yahoo\",state=\"$ystate\"} 1\$' '$A'"
failed_yahoo=$(sql "SELECT count(*) FROM price_update_log p JOIN assets a ON a.id = p.asset_id WHERE NOT p.success AND a.provider = 'yahoo'")
check_cmp "failed updates happened (NOSUCH1)" "$failed_yahoo" -ge 1
check_eq "failed_updates{provider=yahoo} = failed rows in price_update_log" "$failed_yahoo" \
  "$(mval 'fetcherd_failed_updates\{provider="yahoo"\}')"
never=$(sql "SELECT count(*) FROM tracked_assets t JOIN assets a ON a.id = t.asset_id
             WHERE a.asset_type = 'stock' AND t.last_price_update IS NULL AND t.added_at < now() - interval '5 seconds'")
check_eq "stale stocks: the two made stale, and NOSUCH1 never priced" $((2 + never)) "$(mval 'fetcherd_stale_assets\{type="stock"\}')"
check_eq "stale crypto: none" 0 "$(mval 'fetcherd_stale_assets\{type="crypto"\}')"
check_cmp "oldest stock price is a day old" "$(mval 'fetcherd_price_age_seconds\{type="stock"\}' | cut -d. -f1)" -ge 86400
check_eq "stale bound: FETCH_STALENESS default (the interval) + one interval" 4 "$(mval 'fetcherd_price_stale_after_seconds\{type="stock"\}')"
check_eq "queue depth 0 when idle" 0 "$(mval 'fetcherd_queue_depth\{instance_id="mon-a"\}')"
check_eq "write buffer empty" 0 "$(mval 'fetcherd_write_buffer_rows\{instance_id="mon-a"\}')"
check_eq "write buffer capacity = WRITE_BUFFER_ROWS" 100000 "$(mval 'fetcherd_write_buffer_capacity_rows\{instance_id="mon-a"\}')"
check_cmp "fetcherd RSS > 1 MB" "$(mval 'process_resident_memory_bytes\{program="fetcherd",instance_id="mon-a"\}')" -gt 1000000
check_cmp "fetcher-api RSS > 1 MB" "$(mval 'process_resident_memory_bytes\{program="fetcher-api"\}')" -gt 1000000
check_cmp "fetcherd open fds" "$(mval 'process_open_fds\{program="fetcherd",instance_id="mon-a"\}')" -ge 3
now=$(date +%s)
check_cmp "fetcherd started within the last 10 minutes" "$(mval 'process_start_time_seconds\{program="fetcherd",instance_id="mon-a"\}' | cut -d. -f1)" -ge $((now - 600))
check_cmp "fetcher-api started within the last 10 minutes" "$(mval 'process_start_time_seconds\{program="fetcher-api"\}' | cut -d. -f1)" -ge $((now - 600))
check_eq "database up" 1 "$(mval fetcherd_database_up)"
check "no per-symbol label" bash -c "! grep -q 'symbol=' '$A'"
check "names prefixed fetcherd_ or process_" bash -c "! grep -v '^#' '$A' | grep -qvE '^(fetcherd_|process_)'"
check "no label named instance (Prometheus's own)" bash -c "! grep -q '[{,]instance=' '$A'"

# --- the database away: still an answer ---------------------------------------------------------------
p=$(free_port)
DATABASE_URL="postgresql://fetcher@127.0.0.1:$(free_port)/nothing?connect_timeout=2" API_PORT=$p \
  "$BIN/fetcher-api" >>"$TEST_LOG_DIR/fetcher-api-nodb.log" 2>&1 &
T_PIDS+=($!)
wait_for 10 curl -sf "http://127.0.0.1:$p/healthz"
N=$TEST_LOG_DIR/scrape_nodb.txt
check_eq "database away: /metrics 200" 200 "$(curl -s -o "$N" -w '%{http_code}' "http://127.0.0.1:$p/metrics")"
check_eq "database away: fetcherd_database_up 0" 0 "$(grep '^fetcherd_database_up ' "$N" | cut -d' ' -f2)"
check "database away: promtool check metrics" bash -c "out=\$(promtool check metrics <'$N' 2>&1); [ \$? -eq 0 ] && [ -z \"\$out\" ]"
check "database away: fetcher-api's process_* still there" grep -q '^process_resident_memory_bytes{program="fetcher-api"}' "$N"

# --- every expression names families /metrics serves -----------------------------------------------------
grep '^# TYPE ' "$A" | awk '{print $3}' | sort -u >"$TEST_LOG_DIR/families.txt"
check "grafana: valid JSON, schemaVersion of Grafana 10/11, a datasource variable" jq -e \
  '(.schemaVersion >= 36 and .schemaVersion <= 41) and (.templating.list | map(select(.type == "datasource")) | length == 1) and (.panels | length >= 10)' "$GRAF"
check "grafana: panel ids unique, every target has an expr" jq -e \
  '([.panels[].id] | length == (unique | length)) and ([.panels[] | .targets[]? | .expr | type == "string" and length > 0] | all)' "$GRAF"
jq -r '.panels[] | .targets[]? | .expr' "$GRAF" >"$TEST_LOG_DIR/grafana_exprs.txt"
sed -n 's/^ *expr: //p; /^ *expr: |/,/^ *for:/p' "$PROM/alerts.yml" | grep -v '^ *for:' >"$TEST_LOG_DIR/rule_exprs.txt"
names_ok() { # file: every metric name in it is a served family (histograms by their base name)
  python3 - "$1" "$TEST_LOG_DIR/families.txt" <<'PY'
import re, sys
fams = set(open(sys.argv[2]).read().split())
bad, seen = [], 0
for line in open(sys.argv[1]):
    names = re.findall(r'\b((?:fetcherd|process)_[a-z0-9_]+)\b', line)
    if line.strip() and line.strip() != '|' and not names:
        bad.append('names no series: ' + line.strip())
    for n in names:
        seen += 1
        base = re.sub(r'_(bucket|sum|count)$', '', n)
        if n not in fams and base not in fams:
            bad.append(n)
print('\n'.join(bad))
sys.exit(1 if bad or seen == 0 else 0)
PY
}
check "grafana: every expression names served series ($(wc -l <"$TEST_LOG_DIR/grafana_exprs.txt") expressions)" names_ok "$TEST_LOG_DIR/grafana_exprs.txt"
check "alerts.yml: every expression names served series" names_ok "$TEST_LOG_DIR/rule_exprs.txt"
check "README documents every family /metrics serves" bash -c "
  sec=\$(sed -n '/^## Monitoring and alerts/,/^## [^M]/p' '$TEST_ROOT/README.md')
  for f in \$(cat '$TEST_LOG_DIR/families.txt'); do grep -q \"\\\`\$f\" <<<\"\$sec\" || { echo \"\$f undocumented\"; exit 1; }; done"
