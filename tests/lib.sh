# tests/lib.sh — sourced by every integration test. Starts the real programs
# (from $BIN: build/ or build/asan/) against a fresh database in the test
# cluster that tests/run.sh started, and counts checks. Prints TAP-like
# "ok - …" / "not ok - …" lines and, last, "RESULT passed failed skipped".
set -uo pipefail
: "${BIN:?BIN must name a build directory}" "${TEST_ROOT:?run through tests/run.sh}"
TEST_LOG_DIR=${TEST_LOG_DIR:-$(mktemp -d)}
PGBIN=/usr/lib/postgresql/15/bin
export PATH=$PGBIN:$PATH
T_PASS=0 T_FAIL=0 T_SKIP=0
T_PIDS=()

ok()     { T_PASS=$((T_PASS + 1)); echo "ok - $1"; }
not_ok() { T_FAIL=$((T_FAIL + 1)); echo "not ok - $1"; shift; [ $# -gt 0 ] && echo "#   $*"; return 0; }
skip()   { T_SKIP=$((T_SKIP + 1)); echo "ok - $1 # SKIP ${2:-}"; }

# check "description" command args… — passes when the command succeeds.
check() {
  local d=$1; shift
  local out
  if out=$("$@" 2>&1); then ok "$d"; else not_ok "$d" "$(echo "$out" | head -5 | tr '\n' ' ')"; fi
}
# check_eq "description" expected actual
check_eq() {
  if [ "$2" = "$3" ]; then ok "$1"; else not_ok "$1" "expected '$2', got '$3'"; fi
}
# check_cmp "description" a op b   (numeric, op: -eq -le -ge -lt -gt)
check_cmp() {
  if [ -n "$2" ] && [ -n "$4" ] && [ "$2" "$3" "$4" ] 2>/dev/null; then ok "$1"
  else not_ok "$1" "expected $2 $3 $4"; fi
}

t_cleanup() {
  local p
  for p in "${T_PIDS[@]}"; do kill -TERM "$p" 2>/dev/null; done
  for p in "${T_PIDS[@]}"; do
    for _ in $(seq 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$p" 2>/dev/null
    wait "$p" 2>/dev/null
  done
  # A sanitizer report in any program we ran fails the test.
  local f
  for f in "$TEST_LOG_DIR"/*.log; do
    [ -f "$f" ] || continue
    if grep -q -E 'ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:' "$f"; then
      not_ok "no sanitizer report in $(basename "$f")" "$(grep -m1 -E 'ERROR|runtime error' "$f")"
    fi
  done
  echo "RESULT $T_PASS $T_FAIL $T_SKIP"
}
trap t_cleanup EXIT

# normal_pass_only REASON — in the sanitizer pass (TEST_LABEL=asan) this
# suite is one SKIP naming REASON and ends; the normal pass always runs it.
# For suites whose subject is not our C code under ASan (a browser, a
# document, a schema), or whose C paths other suites and unit tests drive
# under ASan while this one mostly waits out real time (rate-limit pauses,
# leases, timeouts): so that `make test` stays within its time.
normal_pass_only() {
  [ "${TEST_LABEL:-normal}" = asan ] || return 0
  skip "${TEST_NAME:-this suite} in the sanitizer pass" "$1"
  exit 0
}

free_port() { "$TEST_ROOT/scripts/free-port"; }

# wait_for seconds command… — polls every 0.1 s until the command succeeds.
wait_for() {
  local secs=$1; shift
  local end=$(( $(date +%s%N) + secs * 1000000000 ))
  while [ "$(date +%s%N)" -lt "$end" ]; do
    "$@" >/dev/null 2>&1 && return 0
    sleep 0.1
  done
  return 1
}

# new_db — a fresh, migrated-nothing database for this test; sets DATABASE_URL.
new_db() {
  local name="t_$(basename "$0" .sh | tr -c 'a-z0-9_\n' '_')_$$_$RANDOM"
  "$PGBIN/createdb" -h 127.0.0.1 -p "$PGLOCAL_PORT" -U fetcher "$name" || return 1
  export DATABASE_URL="postgresql://fetcher@127.0.0.1:$PGLOCAL_PORT/$name"
}

sql() { psql "$DATABASE_URL" -X -Atq -v ON_ERROR_STOP=1 -c "$1"; }

migrate() { "$BIN/fetcherd" migrate >>"$TEST_LOG_DIR/migrate.log" 2>&1; }
load_demo() { psql "$DATABASE_URL" -X -q -v ON_ERROR_STOP=1 -f "$TEST_ROOT/demo/seed.sql" >/dev/null; }

# start_fakemarket [args…] — sets FAKE_URL. fakemarket binds a free port
# itself (--port 0) and says which, so two test runs cannot race for one.
start_fakemarket() {
  local log="$TEST_LOG_DIR/fakemarket.$RANDOM.log" port=""
  "$BIN/fakemarket" --port 0 "$@" >"$log" 2>&1 &
  T_PIDS+=($!); FAKE_PID=$!
  for _ in $(seq 100); do
    port=$(sed -n 's/^fakemarket listening on 127\.0\.0\.1:\([0-9]*\).*/\1/p' "$log" | head -1)
    [ -n "$port" ] && break
    sleep 0.05
  done
  [ -n "$port" ] || return 1
  export FAKE_URL="http://127.0.0.1:$port"
  wait_for 10 curl -sf "$FAKE_URL/_stats"
}

provider_env() {
  export YAHOO_BASE_URL=$FAKE_URL COINGECKO_BASE_URL=$FAKE_URL/api/v3 FX_BASE_URL=$FAKE_URL
  # the second sources too: a failover must never reach the real services
  export KRAKEN_BASE_URL=$FAKE_URL ERAPI_BASE_URL=$FAKE_URL TWELVEDATA_BASE_URL=$FAKE_URL \
    COINBASE_BASE_URL=$FAKE_URL BINANCE_BASE_URL=$FAKE_URL
  # the backfill's history requests only where a test is about them: the
  # others count requests per cycle
  export FETCH_BACKFILL=${FETCH_BACKFILL:-0}
  # and market hours too: fakemarket trades around the clock, and a suite
  # run at night must not find its stocks closed
  export FETCH_MARKET_HOURS=${FETCH_MARKET_HOURS:-0}
  # fakemarket is ours: no free-tier limits unless a test is about them
  export FETCH_RATE_LIMITS=${FETCH_RATE_LIMITS:-yahoo=0,coingecko=0,fx=0,kraken=0,erapi=0,twelvedata=0,coinbase=0,binance=0}
}

# start_fetcherd [args…] — environment as set by the caller; sets FETCHERD_PID.
start_fetcherd() {
  provider_env
  FETCH_INTERVAL=${FETCH_INTERVAL:-2s} HEARTBEAT_INTERVAL=${HEARTBEAT_INTERVAL:-1s} \
    "$BIN/fetcherd" "$@" >>"$TEST_LOG_DIR/fetcherd.log" 2>&1 &
  FETCHERD_PID=$!; T_PIDS+=($!)
}

# start_api — sets API_URL once /healthz answers.
start_api() {
  local port; port=$(free_port)
  API_PORT=$port "$BIN/fetcher-api" >>"$TEST_LOG_DIR/fetcher-api.log" 2>&1 &
  API_PID=$!; T_PIDS+=($!)
  export API_URL="http://127.0.0.1:$port"
  wait_for 10 curl -sf "$API_URL/healthz"
}

# stop_pid pid — SIGTERM and wait; sets STOP_RC to the exit status. (Not
# for $(…): a subshell cannot wait for this shell's children.)
stop_pid() {
  kill -TERM "$1" 2>/dev/null
  wait "$1" 2>/dev/null
  STOP_RC=$?
}

# api METHOD PATH [curl args…] — prints "STATUS BODY". With OPENAPI_RECORD
# set, the answer is also recorded for openapi_check (below).
api() {
  local m=$1 p=$2 st; shift 2
  : >"$TEST_LOG_DIR/body"   # curl leaves the file alone when an answer has no body
  st=$(curl -s -o "$TEST_LOG_DIR/body" -D "$TEST_LOG_DIR/api-headers" -w '%{http_code}' -X "$m" "$@" "$API_URL$p")
  [ -z "${OPENAPI_RECORD-}" ] || openapi_record "$m" "$p" "$st" "$TEST_LOG_DIR/body" "$TEST_LOG_DIR/api-headers"
  printf '%s ' "$st"; cat "$TEST_LOG_DIR/body"
}

# ---- OpenAPI: every answer a contract test receives, checked against
# api/openapi.json (tests/tools/openapi_check.mjs, ajv from scripts/bootstrap).
OPENAPI_ANSWERS=$TEST_LOG_DIR/openapi-answers.jsonl
# openapi_record METHOD URL_OR_PATH STATUS BODYFILE HEADERFILE — appends one answer.
openapi_record() {
  local path=${2#http://*/}
  [ "$path" = "$2" ] || path=/$path
  local ctype
  ctype=$(grep -i '^content-type:' "$5" 2>/dev/null | tail -1 | cut -d' ' -f2- | tr -d '\r')
  jq -nc --arg m "$1" --arg p "$path" --argjson s "${3:-0}" --arg c "$ctype" --rawfile b "$4" \
    '{method: $m, path: $p, status: $s, content_type: $c, body: $b}' >>"$OPENAPI_ANSWERS" 2>/dev/null
}
# openapi_check — one "ok" per operation and status seen, one "not ok" per
# answer the document does not describe.
openapi_check() {
  local node_mod=$TEST_ROOT/node_modules
  if ! command -v node >/dev/null || [ ! -d "$node_mod/ajv" ] || [ ! -d "$node_mod/ajv-formats" ]; then
    not_ok "OpenAPI check of the answers" "node or ajv is missing: run scripts/bootstrap (it runs npm ci)"
    return
  fi
  if [ ! -s "$OPENAPI_ANSWERS" ]; then not_ok "OpenAPI check of the answers" "no answer was recorded"; return; fi
  local line out rc
  out=$(cd "$TEST_ROOT" && node tests/tools/openapi_check.mjs api/openapi.json "$OPENAPI_ANSWERS" 2>&1)
  rc=$?
  while IFS= read -r line; do
    case $line in
      "ok - "*) ok "${line#ok - }" ;;
      "not ok - "*) not_ok "${line#not ok - }" ;;
      *) echo "# $line" ;;
    esac
  done <<<"$out"
  [ $rc -eq 0 ] || not_ok "the OpenAPI check ran to the end (exit $rc)"
}
