#!/usr/bin/env bash
# fetch.c's defences against untrusted upstreams, each seen from outside:
# a real User-Agent, API keys in headers (never in the URL), connections
# reused across cycles, TLS verification on (a self-signed upstream is
# refused), and the low-speed limit (a drip fails long before the total
# timeout). A tiny Python upstream records what fetcherd sends and counts
# TCP connections; fakemarket drips.
. "$(dirname "$0")/../lib.sh"

srv=$TEST_LOG_DIR/upstream.py
cat >"$srv" <<'PY'
# Minimal spark + simple-price upstream that logs each request's line and
# headers and each new TCP connection, one JSON object per line.
import http.server, json, socketserver, ssl, sys, time, urllib.parse
port, log, cert = int(sys.argv[1]), open(sys.argv[2], "a", buffering=1), sys.argv[3]
class H(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def setup(self):
        super().setup(); log.write(json.dumps({"conn": 1}) + "\n")
    def log_message(self, *a): pass
    def do_GET(self):
        u = urllib.parse.urlparse(self.path); q = urllib.parse.parse_qs(u.query)
        log.write(json.dumps({"path": self.path, "headers": dict(self.headers)}) + "\n")
        now = int(time.time())
        if u.path.endswith("/spark"):
            # the v7 wrapped shape (tests/fixtures/real/yahoo_spark_v7_TSLA.json), meta only
            body = {"spark": {"result": [{"symbol": s, "response": [{"meta": {
                "currency": "USD", "symbol": s, "regularMarketPrice": 10.5,
                "regularMarketTime": now}}]} for s in q["symbols"][0].split(",")], "error": None}}
        elif u.path.endswith("/simple/price"):
            body = {i: {"usd": 2.5, "last_updated_at": now} for i in q["ids"][0].split(",")}
        else:
            self.send_response(404); self.send_header("Content-Length", "0"); self.end_headers(); return
        b = json.dumps(body).encode()
        self.send_response(200); self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(b))); self.end_headers(); self.wfile.write(b)
class S(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
s = S(("127.0.0.1", port), H)
if cert != "-":
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER); ctx.load_cert_chain(cert, cert)
    s.socket = ctx.wrap_socket(s.socket, server_side=True)
s.serve_forever()
PY
# start_upstream LOG CERT|- — sets UP_URL (http or https).
start_upstream() {
  local port; port=$(free_port)
  python3 "$srv" "$port" "$1" "$2" >>"$TEST_LOG_DIR/upstream.err" 2>&1 &
  T_PIDS+=($!)
  local scheme=http; [ "$2" != - ] && scheme=https
  UP_URL="$scheme://127.0.0.1:$port"
  wait_for 10 curl -sk "$UP_URL/nothing" -o /dev/null
}
# These are fetch.c's defences, one provider at a time: no second source
# to fail over to (tests/integration/failover.sh is about that).
export FETCH_SOURCES="stock=yahoo;crypto=coingecko;fx=fx"
track() {
  local prov=$1 s type=stock; shift
  [ "$prov" = coingecko ] && type=crypto
  for s in "$@"; do
    sql "INSERT INTO assets (symbol, name, asset_type, currency, provider, provider_symbol)
         VALUES ('$s', 'Test $s', '$type', 'USD', '$prov', '$s');
         INSERT INTO tracked_assets (asset_id) SELECT id FROM assets WHERE symbol = '$s';" || return 1
  done
}
cycles_done() { [ "$(sql "SELECT count(*) FROM fetcher_cycles WHERE status <> 'running'")" -ge "$1" ]; }

new_db || exit 1
migrate || { not_ok "migrate"; exit 1; }
# 45 stocks: three spark requests a cycle; 3 coins: one simple-price request
track yahoo $(for i in $(seq 1 45); do printf 'S%02d ' "$i"; done)
track coingecko coin-a coin-b coin-c

# ---- headers, keys, connection reuse ---------------------------------------
ulog=$TEST_LOG_DIR/upstream.jsonl
start_upstream "$ulog" - || { not_ok "the test upstream starts"; exit 1; }
FAKE_URL=$UP_URL   # lib.sh's provider_env points every provider here
COINGECKO_API_KEY=sekrit-test-key FETCH_INTERVAL=1s start_fetcherd
check "five cycles against the recording upstream" wait_for 40 cycles_done 5
stop_pid "$FETCHERD_PID"
# (the harness's own readiness probe asked for /nothing: not fetcherd's)
grep -v '"/nothing"' "$ulog" >"$ulog.f" && mv "$ulog.f" "$ulog"
reqs=$(grep -c '"path"' "$ulog"); conns=$(grep -c '"conn"' "$ulog")
ua=$(jq -r 'select(.path) | .headers["User-Agent"]' "$ulog" | sort -u)
check "every request carries fetcherd's User-Agent ($ua)" grep -qx 'fetcherd/[0-9.]* (price fetcher; libcurl)' <<<"$ua"
check_eq "every request asks for JSON" "application/json" \
  "$(jq -r 'select(.path) | .headers.Accept' "$ulog" | sort -u)"
check "the CoinGecko key travels in its header" \
  test "$(jq -r 'select(.path and (.path | contains("simple/price"))) | .headers["x-cg-demo-api-key"]' "$ulog" | sort -u)" = sekrit-test-key
check_eq "no URL holds the key" 0 "$(jq -r 'select(.path) | .path' "$ulog" | grep -c sekrit)"
check_eq "no row of any table holds the key" 0 \
  "$(sql "SELECT (SELECT count(*) FROM fetcher_logs x WHERE x::text LIKE '%sekrit%') +
                 (SELECT count(*) FROM price_update_log x WHERE x::text LIKE '%sekrit%') +
                 (SELECT count(*) FROM fetcher_instances x WHERE x::text LIKE '%sekrit%')")"
check_eq "fetcherd's output does not hold the key" 0 "$(grep -c sekrit "$TEST_LOG_DIR/fetcherd.log")"
check "spark batches: 45 stocks cost 3 requests a cycle (${reqs} requests in all)" \
  test "$(jq -r 'select(.path) | .path' "$ulog" | grep -c '/v7/finance/spark')" -le $(( 3 * $(sql "SELECT count(*) FROM fetcher_cycles") ))
echo "# $reqs requests over $conns connections"
# at most one connection per request in flight at once (yahoo's 3 sparks and
# coingecko's request of the first cycle), then reused
check_cmp "connections are reused across cycles ($conns connections for $reqs requests)" \
  "$conns" -le 6
check_cmp "... over at least 5 cycles ($reqs requests)" "$reqs" -ge 20

# ---- TLS verification --------------------------------------------------------
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$TEST_LOG_DIR/self.pem" -out "$TEST_LOG_DIR/cert.pem" \
  -days 1 -subj /CN=127.0.0.1 >/dev/null 2>&1 && cat "$TEST_LOG_DIR/cert.pem" >>"$TEST_LOG_DIR/self.pem"
tlog=$TEST_LOG_DIR/tls.jsonl
if start_upstream "$tlog" "$TEST_LOG_DIR/self.pem"; then
  FAKE_URL=$UP_URL
  provider_env
  "$BIN/fetcherd" --once >"$TEST_LOG_DIR/tls.out" 2>&1
  c=$(sql "SELECT max(id) FROM fetcher_cycles")
  err=$(sql "SELECT DISTINCT error FROM price_update_log WHERE cycle_id = $c AND symbol = 'coin-a'")
  check "a self-signed https upstream is refused: \"$err\"" grep -q 'coingecko: TLS certificate verification failed' <<<"$err"
  check_eq "... for every asset of the cycle" 0 "$(sql "SELECT count(*) FROM price_update_log WHERE cycle_id = $c AND success")"
  check_eq "... and nothing was asked over it" 0 "$(grep '"path"' "$tlog" | grep -vc '"/nothing"')"
else
  not_ok "the self-signed https upstream starts"
fi

# ---- the low-speed limit -----------------------------------------------------
start_fakemarket || { not_ok "fakemarket starts"; exit 1; }
provider_env
new_db || exit 1
migrate || { not_ok "migrate"; exit 1; }
track coingecko slowdrip-coin
t0=$(date +%s)
FETCH_TIMEOUT=60s "$BIN/fetcherd" --once >"$TEST_LOG_DIR/drip.out" 2>&1
secs=$(( $(date +%s) - t0 ))
c=$(sql "SELECT max(id) FROM fetcher_cycles")
err=$(sql "SELECT error FROM price_update_log WHERE cycle_id = $c")
check "a drip below 64 B/s fails as too slow: \"$err\"" grep -q 'coingecko: answer too slow' <<<"$err"
# 4 attempts of ~5 s (the low-speed window) plus backoff, not 4 x 60 s
check_cmp "... within the low-speed window, not the 60 s total timeout (4 attempts took ${secs} s)" "$secs" -lt 60
exit 0
