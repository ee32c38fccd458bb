# tests/faults/lib.sh — the stack and the bookkeeping shared by the fault
# scenarios (tests/faults/[0-9]*.sh). Sourced after tests/lib.sh by the
# wrappers tests/integration/reliability_faults_*.sh, which then call
# fl_setup, source the scenarios they run, and call fl_finish.
#
# The stack: fetcherd (cycles every 2 s, FETCH_TIMEOUT=3s) against
# fakemarket and a fresh demo database, fetcher-api under steady load from
# tests/tools/loadgen.py, and tests/tools/healthz_poller.py asking /healthz
# every 100 ms over a new connection, from start to finish.
#
# The bookkeeping every scenario uses:
#  fl_snapshot NAME   at a quiet moment (fakemarket counted nothing for
#                     0.5 s; the cycles started before it finished) keeps the
#                     moment in SNAP_NAME and /_stats in $FL_DIR/NAME.json.
#  fl_account LABEL A B   exact accounting between two snapshots: for each
#                     tracked asset, the fetches fakemarket counted for it
#                     (by_asset: whichever source was asked, as failover
#                     may ask kraken for a coin; less a cross-check's
#                     requests to its other sources, which its row lists)
#                     between A and B against its
#                     price_update_log rows in the cycles between them
#                     (rows_expected/found/lost/duplicated). Only over a
#                     window without retried requests (a retry is counted by
#                     fakemarket per attempt but is one row) and without a
#                     killed fakemarket (its counters restart).
#  fl_invariants LABEL   no two rows of one asset in one cycle, every
#                     finished cycle has one row per asset it counted, the
#                     API's /statistics and /status agree with the tables.
#  fl_load_mark / fl_load_delta LABEL   the load generator's answers in a
#                     window, by status.
#  fl_exclude_healthz START END  a window in which fetcher-api itself was
#                     killed on purpose (probes then are not counted).

FL_DIR=$TEST_LOG_DIR/faults
FL_SUITE=$(basename "$TEST_LOG_DIR" | sed 's/^reliability_//')
mkdir -p "$FL_DIR"
FL_SUMMARY=$TEST_LOG_DIR/../summary.txt
FL_EXP=0 FL_FOUND=0 FL_LOST=0 FL_DUP=0 FL_RUN=0 FL_CACHED=0
FL_BG=()

fl_now() { date +%s.%N | cut -c1-14; }

fl_start_api() {   # on FL_API_PORT (the same port across restarts)
  API_PORT=$FL_API_PORT "$BIN/fetcher-api" >>"$TEST_LOG_DIR/fetcher-api.log" 2>&1 &
  API_PID=$!; T_PIDS+=($!)
  export API_URL="http://127.0.0.1:$FL_API_PORT"
  wait_for 15 curl -sf "$API_URL/healthz"
}

fl_start_fakemarket() {   # on FL_FAKE_PORT
  "$BIN/fakemarket" --port "$FL_FAKE_PORT" "$@" >>"$TEST_LOG_DIR/fakemarket.log" 2>&1 &
  FAKE_PID=$!; T_PIDS+=($!)
  export FAKE_URL="http://127.0.0.1:$FL_FAKE_PORT"
  wait_for 10 curl -sf "$FAKE_URL/_stats"
}

fl_start_fetcherd() {   # instance id FL_IID
  FETCHER_INSTANCE_ID=$FL_IID start_fetcherd
}

fl_finished() { [ "$(sql "SELECT count(*) FROM fetcher_cycles WHERE status <> 'running'")" -ge "$1" ] 2>/dev/null; }
fl_last_cycle() { sql "SELECT coalesce(max(id), 0) FROM fetcher_cycles WHERE status <> 'running'"; }
# fl_wait_cycles N SECS — N more cycles of the live instance finish
fl_wait_cycles() {
  local base; base=$(sql "SELECT count(*) FROM fetcher_cycles WHERE instance_id = '$FL_IID' AND status <> 'running'")
  wait_for "$2" bash -c "[ \"\$(psql '$DATABASE_URL' -XAtqc \"SELECT count(*) FROM fetcher_cycles WHERE instance_id = '$FL_IID' AND status <> 'running'\")\" -ge $((base + $1)) ]"
}
# fl_wait_clean N SECS — N cycles in a row of the live instance succeeded
fl_wait_clean() {
  local base; base=$(sql "SELECT coalesce(max(id), 0) FROM fetcher_cycles")
  wait_for "$2" bash -c "[ \"\$(psql '$DATABASE_URL' -XAtqc \"SELECT count(*) FROM fetcher_cycles WHERE id > $base AND instance_id = '$FL_IID' AND status = 'succeeded'\")\" -ge $1 ]"
}

fl_setup() {
  export FETCH_TIMEOUT=3s FETCH_INTERVAL=2s HEARTBEAT_INTERVAL=1s STATS_PERSIST_INTERVAL=5s
  new_db || { not_ok "new database"; exit 1; }
  migrate || { not_ok "migrate"; exit 1; }
  load_demo
  FL_FAKE_PORT=$(free_port); FL_API_PORT=$(free_port)
  fl_start_fakemarket || { not_ok "fakemarket starts"; exit 1; }
  fl_start_api || { not_ok "fetcher-api starts"; exit 1; }
  FL_IID=rel-$$-1
  fl_start_fetcherd
  FL_TRACKED=$(sql "SELECT count(*) FROM tracked_assets")
  psql "$DATABASE_URL" -XAtqF' ' -c "SELECT a.symbol, a.provider_symbol FROM assets a JOIN tracked_assets t ON t.asset_id = a.id" >"$FL_DIR/assets.txt"
  check "a first cycle finishes" wait_for 20 fl_finished 1
  FL_STOP=$FL_DIR/stop
  rm -f "$FL_STOP"
  python3 "$TEST_ROOT/tests/tools/healthz_poller.py" --url "$API_URL" --out "$FL_DIR/healthz.txt" \
    --stop-file "$FL_STOP" --interval 0.1 &
  FL_BG+=($!); T_PIDS+=($!)
  python3 "$TEST_ROOT/tests/tools/loadgen.py" --url "$API_URL" --out "$FL_DIR/load.json" \
    --stop-file "$FL_STOP" --threads "${FL_LOAD_THREADS:-4}" &
  FL_BG+=($!); T_PIDS+=($!)
  : >"$FL_DIR/excluded.txt"
  FL_T0=$(date +%s)
  sleep 1
}

fl_snapshot() {
  # A quiet moment: fakemarket's counters unchanged over 0.5 s. Every cycle
  # started before the first read has then made all its requests (a cycle's
  # requests leave within milliseconds of its start), and none started
  # after it has made any. SNAP_NAME is that moment (Unix time); cycles are
  # assigned to windows by their started_at.
  local name=$1 a b t1 i
  for i in $(seq 60); do
    t1=$(fl_now)
    a=$(curl -sf "$FAKE_URL/_stats") || { sleep 0.2; continue; }
    sleep 0.5
    b=$(curl -sf "$FAKE_URL/_stats") || { sleep 0.2; continue; }
    if [ "$(jq .requests_total <<<"$a")" = "$(jq .requests_total <<<"$b")" ]; then
      echo "$a" >"$FL_DIR/$name.json"
      printf -v "SNAP_$name" '%s' "$t1"
      # the cycles started before it are finished and their rows written
      wait_for 30 bash -c "[ \"\$(psql '$DATABASE_URL' -XAtqc \"SELECT count(*) FROM fetcher_cycles WHERE instance_id = '$FL_IID' AND status = 'running' AND started_at < to_timestamp($t1)\")\" = 0 ]" \
        || not_ok "snapshot $name: the cycles started before it finish"
      return 0
    fi
  done
  not_ok "a quiet moment for snapshot $name within 40 s"
  printf -v "SNAP_$name" '%s' "$(fl_now)"
  return 1
}

fl_account() {   # LABEL A B
  local label=$1 ca cb fa=$FL_DIR/$2.json fb=$FL_DIR/$3.json
  ca=$(eval echo "\$SNAP_$2"); cb=$(eval echo "\$SNAP_$3")
  local exp=0 found=0 lost=0 dup=0 bad="" sym psym wa wb want got xc
  while read -r sym psym; do
    wa=$(jq --arg s "$psym" '.by_asset[$s] // 0' "$fa")
    wb=$(jq --arg s "$psym" '.by_asset[$s] // 0' "$fb")
    # a cycle that made no upstream request at all took every answer from
    # the queue's TTL cache (interval/2: a late cycle followed closely by an
    # on-time one); its rows are counted apart, as cached. A cross-checked
    # row (PRICE_CROSSCHECK_SAMPLE) also asked its other sources, one
    # request each, every one listed in its answers: those fetches are
    # the row's too.
    read -r got xc <<<"$(sql "SELECT count(*), coalesce(sum(greatest(jsonb_array_length(p.crosscheck->'answers') - 1, 0)), 0)
                FROM price_update_log p JOIN fetcher_cycles c ON c.id = p.cycle_id
                WHERE p.symbol = '$sym' AND c.started_at > to_timestamp($ca) AND c.started_at <= to_timestamp($cb)
                AND c.upstream_requests > 0" | tr '|' ' ')"
    want=$((wb - wa - xc))
    exp=$((exp + want)); found=$((found + got))
    if [ "$got" -lt "$want" ]; then lost=$((lost + want - got)); bad="$bad $sym($want fetched, $got rows, $xc cross-check asks apart)"; fi
    if [ "$got" -gt "$want" ]; then dup=$((dup + got - want)); bad="$bad $sym($want fetched, $got rows, $xc cross-check asks apart)"; fi
  done <"$FL_DIR/assets.txt"
  local cached; cached=$(sql "SELECT count(*) FROM price_update_log p JOIN fetcher_cycles c ON c.id = p.cycle_id
                WHERE c.started_at > to_timestamp($ca) AND c.started_at <= to_timestamp($cb) AND c.upstream_requests = 0")
  FL_CACHED=$((FL_CACHED + cached))
  local cycles ids; cycles=$(sql "SELECT count(*) FROM fetcher_cycles WHERE started_at > to_timestamp($ca) AND started_at <= to_timestamp($cb)")
  ids=$(sql "SELECT min(id) || '..' || max(id) FROM fetcher_cycles WHERE started_at > to_timestamp($ca) AND started_at <= to_timestamp($cb)")
  FL_EXP=$((FL_EXP + exp)) FL_FOUND=$((FL_FOUND + found)) FL_LOST=$((FL_LOST + lost)) FL_DUP=$((FL_DUP + dup))
  check_cmp "$label: the accounting window holds cycles ($cycles, ids $ids)" "$cycles" -ge 1
  check_eq "$label: every fetch fakemarket counted has exactly one row ($exp fetched, $found rows, $lost lost, $dup duplicated)" "" "$bad"
  echo "# $label accounting: cycles $ids rows_expected=$exp rows_found=$found rows_lost=$lost rows_duplicated=$dup rows_from_cache=$cached"
}

fl_invariants() {   # LABEL
  local label=$1 d
  d=$(sql "SELECT count(*) FROM (SELECT 1 FROM price_update_log GROUP BY cycle_id, symbol HAVING count(*) > 1) x")
  FL_DUP=$((FL_DUP + d))
  check_eq "$label: no asset has two rows in one cycle" 0 "$d"
  check_eq "$label: every finished cycle has one row per asset it counted" "" \
    "$(sql "SELECT string_agg(c.id || ':' || c.assets_total || '/' || (SELECT count(*) FROM price_update_log p WHERE p.cycle_id = c.id), ' ')
            FROM fetcher_cycles c WHERE c.status IN ('succeeded','partial','failed')
            AND c.assets_total <> (SELECT count(*) FROM price_update_log p WHERE p.cycle_id = c.id)")"
  check_eq "$label: no row lost its cycle" 0 "$(sql "SELECT count(*) FROM price_update_log WHERE cycle_id IS NULL")"
  # The API against the tables (answers may be cached for API_CACHE_MS).
  agree() {
    local st db
    st=$(curl -s "$API_URL/api/fetcher/statistics" | jq -r .total_cycles)
    db=$(sql "SELECT count(*) FROM fetcher_cycles WHERE status <> 'running'")
    [ "$st" = "$db" ] || { echo "statistics total_cycles=$st, table=$db"; return 1; }
    st=$(curl -s "$API_URL/api/fetcher/status" | jq -r .tracked_assets_count)
    db=$(sql "SELECT count(*) FROM tracked_assets")
    [ "$st" = "$db" ] || { echo "status tracked_assets_count=$st, table=$db"; return 1; }
  }
  local why=""
  for _ in $(seq 30); do why=$(agree) && break; sleep 0.2; done
  check_eq "$label: /statistics total_cycles and /status tracked_assets_count agree with the tables" "" "$why"
}

fl_load_mark() { cp "$FL_DIR/load.json" "$FL_DIR/load.mark.json" 2>/dev/null || echo '{"requests":0,"by_status":{}}' >"$FL_DIR/load.mark.json"; }
# fl_load_delta LABEL [allow503] — requests and answers by status since the
# mark; any 5xx fails (503 too unless allow503: the database was away).
fl_load_delta() {
  local label=$1 allow=${2:-} d
  sleep 0.6   # the generator rewrites its file twice a second
  d=$(jq -n --slurpfile a "$FL_DIR/load.mark.json" --slurpfile b "$FL_DIR/load.json" '
      ($a[0].by_status) as $x | ($b[0].by_status) as $y |
      [$y | keys[] | {key: ., value: ($y[.] - ($x[.] // 0))} | select(.value > 0)] | from_entries')
  local n s5 s503 cerr
  n=$(jq '[.[]] | add // 0' <<<"$d")
  s5=$(jq '[to_entries[] | select(.key | startswith("5")) | select(.key != "503") | .value] | add // 0' <<<"$d")
  s503=$(jq '."503" // 0' <<<"$d")
  cerr=$(jq '.conn_error // 0' <<<"$d")
  echo "# $label load: $n requests, by status $(jq -c . <<<"$d")"
  check_cmp "$label: the API was under load ($n requests)" "$n" -ge 20
  check_eq "$label: no 5xx other than 503 under load" 0 "$s5"
  [ -n "$allow" ] || check_eq "$label: no 503 under load" 0 "$s503"
  [ "$allow" = conn ] || check_eq "$label: no connection refused or reset under load" 0 "$cerr"
}

fl_exclude_healthz() { echo "$1 $2" >>"$FL_DIR/excluded.txt"; }

fl_alive() {   # LABEL — the programs that should be running are
  check "$1: fetcherd is alive" kill -0 "$FETCHERD_PID"
  check "$1: fetcher-api is alive" kill -0 "$API_PID"
  check "$1: fakemarket is alive" kill -0 "$FAKE_PID"
}

fl_finish() {
  touch "$FL_STOP"
  local p; for p in "${FL_BG[@]}"; do wait "$p" 2>/dev/null; done
  local h=$FL_DIR/healthz.txt
  # probes outside the excluded windows
  awk -v ex="$FL_DIR/excluded.txt" 'BEGIN { while ((getline l < ex) > 0) { split(l, f, " "); n++; s[n] = f[1]; e[n] = f[2] } }
       { for (i = 1; i <= n; i++) if ($1 >= s[i] && $1 <= e[i]) next; print }' \
      "$h" >"$FL_DIR/healthz.counted.txt"
  local probes non200 maxms p99
  probes=$(wc -l <"$FL_DIR/healthz.counted.txt")
  non200=$(awk '$2 != "200"' "$FL_DIR/healthz.counted.txt" | wc -l)
  maxms=$(awk 'BEGIN {m = 0} $3 > m {m = $3} END {printf "%.1f", m}' "$FL_DIR/healthz.counted.txt")
  p99=$(awk '{print $3}' "$FL_DIR/healthz.counted.txt" | sort -n | awk '{a[NR] = $1} END {i = int(NR * 0.99); if (i < 1) i = 1; printf "%.1f", a[i]}')
  check_cmp "/healthz was probed throughout ($probes probes)" "$probes" -ge 50
  check_eq "/healthz answered 200 to every probe (p99 ${p99} ms, max ${maxms} ms)" 0 "$non200"
  [ "$non200" = 0 ] || awk '$2 != "200"' "$FL_DIR/healthz.counted.txt" | head -5 | sed 's/^/#   /'
  # p99 is the figure that matters; the max is reported, and only a stall of
  # seconds fails (the machine may be shared with other test runs)
  check "/healthz p99 latency under 250 ms (${p99} ms)" awk -v m="$p99" 'BEGIN {exit !(m < 250)}'
  check "/healthz max latency under 3 s (${maxms} ms)" awk -v m="$maxms" 'BEGIN {exit !(m < 3000)}'
  local req s5 s503
  req=$(jq .requests "$FL_DIR/load.json")
  s5=$(jq '[.by_status | to_entries[] | select(.key | startswith("5")) | select(.key != "503") | .value] | add // 0' "$FL_DIR/load.json")
  s503=$(jq '.by_status."503" // 0' "$FL_DIR/load.json")
  echo "# load: $req requests in $(( $(date +%s) - FL_T0 )) s, $(jq -c .by_status "$FL_DIR/load.json"), max $(jq .max_ms "$FL_DIR/load.json") ms"
  echo "# healthz: $probes probes, $non200 not 200, p99 $p99 ms, max $maxms ms"
  echo "# rows: expected $FL_EXP found $FL_FOUND lost $FL_LOST duplicated $FL_DUP (and $FL_CACHED rows of cycles served from the cache)"
  {
    echo "summary faults_run $FL_RUN"
    echo "summary api_requests $req"
    echo "summary api_5xx $s5"   # 503 while PostgreSQL is away is counted apart
    echo "summary api_503_during_db_outage $s503"
    echo "summary rows_expected $FL_EXP"
    echo "summary rows_found $FL_FOUND"
    echo "summary rows_lost $FL_LOST"
    echo "summary rows_duplicated $FL_DUP"
    echo "summary healthz_probes $probes"
    echo "summary healthz_non200 $non200"
    # latencies are per suite (run.sh sums values by key)
    echo "summary healthz_p99_ms_$FL_SUITE $p99"
    echo "summary healthz_max_ms_$FL_SUITE $maxms"
    echo "summary rows_from_cache $FL_CACHED"
  } >>"$FL_SUMMARY"
}
