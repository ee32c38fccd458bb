# tests/docker/suite.sh — sourced by tests/integration/docker_compose.sh
# (after lib.sh; root, dockerd and debootstrap checked there).
#
# `docker compose up` as a user meets it, on a private engine (engine.sh)
# with base images made without a registry (images.sh: debootstrap, and a
# STAND-IN for postgres:16-bookworm built from Debian's PostgreSQL 15). The
# README's "Run with Docker" blocks marked <!-- tested: NAME --> are run as
# written, by bash -e in a copy of this tree, with a user's environment:
# nothing of the test harness, DOCKER_HOST naming the private engine,
# API_HOST_PORT a free port (the README's own override), and `docker`
# resolving to a wrapper that runs `docker compose …` as `docker-compose …`
# (Debian 12 ships Compose v1.29 only; the README says so).
#
#   1. the stack: up --build, health, what compose applied, the dashboard
#      and API on the published port, the demo data loaded by the README's
#      command, a backup and restore, stop/start (time, exit codes),
#      down/up keeping the data, `cp .env.example .env` on that install
#      (the api turns unhealthy, naming why), the README's password change
#      (healthy again, nothing lost), down -v leaving nothing;
#   2. the offline demo: time from `up` to the first prices, no anonymous
#      volume, a restart of the daemon, the database container killed (the
#      API answers 503 at once, the daemon buffers and recovers, nothing
#      lost), Ctrl-C, down -v leaving nothing;
#   3. an upgrade: the previous release (FETCHERD_UPGRADE_FROM, a commit)
#      built and run with data, then the README's upgrade commands
#      (git pull, up -d --build): migrations applied, every row kept.
#
# Figures (image size, time to first prices, the suite's time, cold or
# warm) are printed as "# figure NAME VALUE UNIT" lines. DOCKER_ONLY=demo
# (or stack, upgrade, comma-separated) runs only those parts;
# FETCHERD_TEST_CACHE moves the cache (an empty one: a cold run).

DOCKER_TESTS=$TEST_ROOT/tests/docker
. "$DOCKER_TESTS/engine.sh"
. "$DOCKER_TESTS/images.sh"

CACHE=${FETCHERD_TEST_CACHE:-/var/cache/fetcherd-test}
UPGRADE_FROM=${FETCHERD_UPGRADE_FROM:-dd6c605}
suite_t0=$(date +%s)
work=$(mktemp -d /tmp/fetcherd-docker.XXXXXX)
PY=/usr/bin/python3
dk() { /usr/bin/docker "$@"; }
now_ms() { date +%s%3N; }
figure() { echo "# figure $1 $2 $3"; echo "figure $1 $2 $3" >>"$TEST_LOG_DIR/figures.txt"; }

# Everything this run made in its engine goes; the engine stops; the
# figures are printed; then lib.sh's RESULT line.
suite_cleanup() {
  if [ -n "$ENGINE_PID" ]; then
    local c
    for c in $(dk ps -aq 2>/dev/null); do dk rm -fv "$c" >/dev/null 2>&1; done
    dk volume prune -f >/dev/null 2>&1
    dk network prune -f >/dev/null 2>&1
    dk image prune -f >/dev/null 2>&1   # superseded builds; tagged images stay (the cache)
  fi
  engine_stop
  [ -f "$work/dockerd.log" ] && cp "$work/dockerd.log" "$TEST_LOG_DIR/"
  rm -rf --one-file-system "$work"
  figure docker_suite_time $(( $(date +%s) - suite_t0 )) s
}
trap 'suite_cleanup; t_cleanup' EXIT

# ---- the engine and the base images -------------------------------------------
if ! engine_start "$CACHE" "$work"; then
  cp "$work/dockerd.log" "$TEST_LOG_DIR/" 2>/dev/null
  skip "docker compose, the README's commands" \
    "no Docker engine can start here: $(tail -2 "$work/dockerd.log" 2>/dev/null | tr '\n' ' ' | cut -c1-300)"
  exit 0
fi
ok "a private Docker engine runs ($ENGINE_KIND data-root, DOCKER_HOST=$DOCKER_HOST)"
# A data-root kept from an earlier run may hold what a killed run left.
for c in $(dk ps -aq); do dk rm -fv "$c" >/dev/null 2>&1; done
dk volume prune -f >/dev/null 2>&1
dk network prune -f >/dev/null 2>&1

t=$(date +%s)
images_out=$(images_ensure "$CACHE" "$TEST_LOG_DIR"); rc=$?
echo "$images_out"
check_eq "base images: debian:bookworm(-slim) from debootstrap, the postgres stand-in ($(( $(date +%s) - t )) s)" 0 "$rc"
[ "$rc" = 0 ] || exit 1
cold=warm; [ -n "$images_out" ] && cold=cold
figure docker_base_images $(( $(date +%s) - t )) "s ($cold)"

# ---- the user's side ---------------------------------------------------------------
mkdir -p "$work/bin" "$work/home"
cat >"$work/bin/docker" <<'EOF'
#!/bin/sh
# Compose v1 (Debian 12's docker-compose) for `docker compose …`.
if [ "$1" = compose ]; then shift; exec /usr/bin/docker-compose "$@"; fi
exec /usr/bin/docker "$@"
EOF
chmod +x "$work/bin/docker"
port=$(free_port)
API=http://127.0.0.1:$port
UENV=(env -i PATH="$work/bin:/usr/sbin:/usr/bin:/sbin:/bin" HOME="$work/home" LANG=C.UTF-8
      DOCKER_HOST="$DOCKER_HOST" API_HOST_PORT="$port")

# block NAME — the README's <!-- tested: NAME --> block, verbatim.
block() {
  "$PY" - "$TEST_ROOT/README.md" "$1" <<'EOF'
import re, sys
t = open(sys.argv[1]).read()
m = re.search(r'<!-- tested: %s -->\s*```sh\n(.*?)```' % re.escape(sys.argv[2]), t, re.S)
print(m.group(1) if m else 'echo "README: no block %s" >&2; exit 1' % sys.argv[2], end='')
EOF
}
# as_user DIR SCRIPT — the script by bash -e in DIR, in the user's environment.
as_user() { (cd "$1" && "${UENV[@]}" bash -e -o pipefail -c "$2"); }
# run_block DIR NAME — a README block as written; its output in the log.
run_block() {
  { echo "+ README block $2:"; block "$2"; echo; } >>"$TEST_LOG_DIR/blocks.log"
  as_user "$1" "$(block "$2")" >>"$TEST_LOG_DIR/blocks.log" 2>&1
}
# The test's own compose calls, in the project of DC_DIR with DC_ARGS; its
# inspection goes through docker itself (compose's labels name the project
# PROJECT and the service): docker-compose costs a Python start-up a call.
DC_DIR="" DC_ARGS=() PROJECT=""
dc() { (cd "$DC_DIR" && "${UENV[@]}" docker-compose "${DC_ARGS[@]}" "$@"); }
cid() {
  dk ps -aq --filter "label=com.docker.compose.project=$PROJECT" \
    --filter "label=com.docker.compose.service=$1" 2>/dev/null | head -1
}
dsql() {
  dk exec -i "$(cid db)" psql -U fetcher -d fetcher -XAtq -v ON_ERROR_STOP=1 -c "$1" \
    2>>"$TEST_LOG_DIR/dsql.err"
}
health() { dk inspect -f '{{if .State.Health}}{{.State.Health.Status}}{{end}}' "$1" 2>/dev/null; }
is_health() { [ "$(health "$1")" = "$2" ]; }
# poll SECS CMD… — like wait_for, every half second (docker calls cost CPU).
poll() {
  local end=$(( $(date +%s) + $1 )); shift
  while [ "$(date +%s)" -lt "$end" ]; do "$@" >/dev/null 2>&1 && return 0; sleep 0.5; done
  return 1
}
http_code() { curl -s -o "$work/body" -w '%{http_code}' --max-time 20 "$@"; }
engine_volumes() { dk volume ls -q | sort | tr '\n' ' '; }
engine_containers() { dk ps -aq | wc -l; }
engine_networks() { dk network ls --format '{{.Name}}' | grep -vxE 'bridge|host|none' | sort | tr '\n' ' '; }
# finished_at CONTAINER — when it exited, in ms since the epoch.
finished_at() { date -d "$(dk inspect -f '{{.State.FinishedAt}}' "$1")" +%s%3N; }
# ok_cycle TIME — a cycle started after TIME succeeded.
ok_cycle() { [ "$(dsql "SELECT count(*) FROM fetcher_cycles WHERE status = 'succeeded' AND started_at > '$1'")" -ge 1 ]; }
priced() { [ "$(curl -s --max-time 5 "$API/api/fetcher/recent-updates?limit=50" | jq '[.updates[] | select(.success)] | length')" -gt 0 ]; }

# A user's checkout: the files git knows (tracked or not ignored) as they are
# in this tree, in a directory named like the repository.
copy_tree() {
  mkdir -p "$1"
  if git -C "$TEST_ROOT" rev-parse --git-dir >/dev/null 2>&1; then
    (cd "$TEST_ROOT" && git ls-files -z --cached --others --exclude-standard |
      while IFS= read -r -d '' f; do [ -e "$f" ] && printf '%s\0' "$f"; done |
      tar --null -T - -cf -) | tar -xf - -C "$1"
  else
    tar -C "$TEST_ROOT" --exclude=./.local --exclude=./build --exclude=./.env -cf - . | tar -xf - -C "$1"
  fi
}
proj=$work/fetcherd
copy_tree "$proj"

# =====================================================================================
scenario_stack() {
echo "# 1. the stack (project fetcherd)"
DC_DIR=$proj DC_ARGS=() PROJECT=fetcherd
vols0=$(engine_volumes) nets0=$(engine_networks)
t=$(date +%s)
run_block "$proj" up
check_eq "README 'up': docker compose up -d --build; docker compose ps — exit 0 ($(( $(date +%s) - t )) s)" 0 "$?"
figure docker_up_build $(( $(date +%s) - t )) s
# The build stage (compiler, objects) is no ancestor of the image: a tag
# keeps it from the prune at the end, so the next run compiles only what
# changed (a cache hit here: nothing is built again).
dk build -q --network host --target build -t fetcherd-test/build-stage "$proj" >/dev/null 2>&1
db=$(cid db) fetcher=$(cid fetcher) api=$(cid api)
# compose v1 can leave 'up --build' at exit 0 when the image failed to
# build (seen: make in the image needed a bench/ the context leaves out)
check "… the image built and each service has its container (db, fetcher, api)" \
  test -n "$db" -a -n "$fetcher" -a -n "$api"
check "db turns healthy (pg_isready)" poll 90 is_health "$db" healthy
t=$(date +%s)
check "api turns healthy (fetcher-api --readycheck: GET /readyz, it can serve)" poll 90 is_health "$api" healthy
size=$(dk image inspect -f '{{.Size}}' fetcherd:latest)
figure docker_image_size $(( size / 1000000 )) MB
check_cmp "the image is small: $(( size / 1000000 )) MB (< 200 MB)" "$size" -lt 200000000

hard='{{.HostConfig.Memory}} {{.HostConfig.NanoCpus}} {{.HostConfig.ReadonlyRootfs}} {{.HostConfig.CapDrop}} {{.HostConfig.SecurityOpt}} {{.Config.User}} {{.HostConfig.RestartPolicy.Name}} {{.Config.StopTimeout}}'
dc config >"$work/rendered.yml" 2>/dev/null
for s in fetcher api; do
  c=$(cid $s)
  check_eq "$s: memory and CPU limits, read-only root, no capabilities, no-new-privileges, uid 10001, unless-stopped, 10 s grace (as docker-compose applied them)" \
    "268435456 1000000000 true [ALL] [no-new-privileges:true] 10001:10001 unless-stopped 10" "$(dk inspect -f "$hard" "$c")"
  # Every setting the compose file passes (all of the config table's, see
  # install_compose.sh) is in the container's environment, with its value.
  want=$("$PY" -c 'import sys, yaml; e = yaml.safe_load(open(sys.argv[1]))["services"][sys.argv[2]]["environment"]; print("\n".join(sorted("%s=%s" % (k, "" if v is None else v) for k, v in e.items())))' "$work/rendered.yml" $s)
  have=$(dk inspect -f '{{range .Config.Env}}{{println .}}{{end}}' "$c" | sort)
  check_eq "$s: every setting of its compose environment reaches the container ($(grep -c . <<<"$want"))" "" \
    "$(comm -23 <(echo "$want") <(echo "$have") | cut -d= -f1 | tr '\n' ' ')"
done
check_eq "db is not published on the host" "" "$(dk port "$db")"
check_eq "api is published on 127.0.0.1:\$API_HOST_PORT only" "8080/tcp -> 127.0.0.1:$port" "$(dk port "$api")"

check_eq "the dashboard through the published port" 200 "$(http_code "$API/")"
check "… is the dashboard's page" grep -qi '<html' "$work/body"
check_eq "/readyz through the published port" 200 "$(http_code "$API/readyz")"
check_eq "/api/fetcher/status as http://localhost:PORT (the default allowed host)" 200 \
  "$(http_code "http://localhost:$port/api/fetcher/status")"
# running, or idle: running with nothing tracked yet (the database is empty).
running() { curl -s "$API/api/fetcher/status" | jq -e '(.status == "running" or .status == "idle") and (.instances | length) >= 1'; }
check "the API reports fetcherd running (its heartbeat; idle while nothing is tracked)" poll 20 running
check_eq "fetcherd got FETCH_INTERVAL (10m: update_interval_minutes)" 10 \
  "$(curl -s "$API/api/fetcher/status" | jq -r .update_interval_minutes)"

run_block "$proj" load-demo
check_eq "README 'load-demo' (api cat … | db psql) exits 0" 0 "$?"
tracked=$(dsql "SELECT count(*) FROM tracked_assets")
check_cmp "… and the demo assets are tracked ($tracked)" "${tracked:-0}" -gt 0
fingerprint() {
  dsql "SELECT (SELECT count(*) FROM assets) || ' ' || (SELECT count(*) FROM tracked_assets) || ' ' ||
               (SELECT count(*) FROM portfolios) || ' ' || (SELECT count(*) FROM portfolio_positions) || ' ' ||
               (SELECT md5(string_agg(symbol || provider_symbol, ',' ORDER BY symbol)) FROM assets)"
}
fp=$(fingerprint)

run_block "$proj" backup
check_eq "README 'backup' (pg_dump -Fc; fetcher and api stopped, pg_restore --create) exits 0" 0 "$?"
check "… the dump is a custom-format archive" bash -c "head -c 5 '$proj/fetcher.dump' | grep -q PGDMP"
check_eq "… and the restored database has the same data" "$fp" "$(fingerprint)"
check_cmp "… the day-partitioned log came back with its rows" "$(dsql "SELECT count(*) FROM fetcher_logs")" -gt 0
check "… and the api serves from it again" poll 60 is_health "$api" healthy

t=$(now_ms)
run_block "$proj" stop
check_eq "README 'stop' exits 0" 0 "$?"
for s in fetcher api; do
  c=$(cid $s)
  check_eq "$s exits 0 on docker compose stop (SIGTERM)" 0 "$(dk inspect -f '{{.State.ExitCode}}' "$c")"
  ms=$(( $(finished_at "$c") - t ))
  check_cmp "$s stopped within its 10 s grace period (${ms} ms after the command)" "$ms" -lt 10000
done
ms=$(( $(finished_at "$(cid fetcher)") - t ))
check_cmp "fetcherd is done within the 5 s the README promises (${ms} ms; + 1 s for docker)" "$ms" -le 6000
check_eq "db exits 0 (SIGINT, a fast shutdown)" 0 "$(dk inspect -f '{{.State.ExitCode}}' "$db")"
run_block "$proj" start
check_eq "README 'start' exits 0" 0 "$?"
check "api is healthy again after start" poll 60 is_health "$api" healthy

# The cluster's identity: initdb makes a new one, the same data directory keeps it.
cluster() { dsql "SELECT system_identifier FROM pg_control_system()"; }
sysid=$(cluster)
run_block "$proj" down-up
check_eq "README 'down-up' (down, then up -d) exits 0" 0 "$?"
check_eq "down kept the volume: the same database cluster after up" "fetcherd_db-data $sysid" \
  "$(dk volume ls -q --filter name=fetcherd_db-data) $(cluster)"
api=$(cid api) db=$(cid db)
check "api healthy after down/up" poll 90 is_health "$api" healthy
check_eq "… and the data is there" "$fp" "$(fingerprint)"

# An existing install (the default password, fetcher) meets .env.example.
run_block "$proj" settings
check_eq "README 'settings' (cp .env.example .env; up -d) exits 0" 0 "$?"
api=$(cid api) db=$(cid db)
probe_failed() {
  dk inspect -f '{{range .State.Health.Log}}{{.ExitCode}} {{.Output}}{{"\n"}}{{end}}' "$api" |
    grep -q '^1 .*database unavailable'
}
check "with the password of .env.example, the api's healthcheck fails, saying why" poll 40 probe_failed
check_eq "… so the api is not reported healthy ($(health "$api"))" no \
  "$( [ "$(health "$api")" = healthy ] && echo yes || echo no)"
check_eq "… /readyz answers 503" 503 "$(http_code "$API/readyz")"
log_has() { dk logs "$(cid "$1")" 2>&1 | grep -q "$2"; }
check "… fetcherd's log names the cause" poll 20 log_has fetcher 'password authentication failed'
run_block "$proj" password
check_eq "README 'password' (ALTER ROLE … PASSWORD from the new .env) exits 0" 0 "$?"
api=$(cid api)
check "api healthy again with the new password" poll 90 is_health "$api" healthy
check_eq "… and the data is there" "$fp" "$(fingerprint)"
check "… and fetcherd is running again (reconnected)" poll 30 running

dc logs --no-color >"$TEST_LOG_DIR/stack.log" 2>&1
run_block "$proj" remove
check_eq "README 'remove' (down -v) exits 0" 0 "$?"
check_eq "down -v leaves no volume behind" "$vols0" "$(engine_volumes)"
check_eq "… no container" 0 "$(engine_containers)"
check_eq "… no network" "$nets0" "$(engine_networks)"
rm -f "$proj/.env" "$proj/fetcher.dump"

}

# =====================================================================================
scenario_demo() {
echo "# 2. the offline demo (project fetcherd-demo)"
DC_DIR=$proj DC_ARGS=(--env-file contrib/demo.env) PROJECT=fetcherd-demo
vols0=$(engine_volumes) nets0=$(engine_networks)
# A shorter interval than the demo's 30 s, through the shell environment
# (which the README says wins over the env file): the outage below must
# span a scheduled cycle without waiting half a minute.
UENV+=(FETCH_INTERVAL=10s)
t0=$(now_ms)
{ echo "+ README block demo (in the background):"; block demo; echo; } >>"$TEST_LOG_DIR/blocks.log"
(cd "$proj" && exec setsid "${UENV[@]}" bash -e -c "$(block demo)") >"$TEST_LOG_DIR/demo.log" 2>&1 &
demo_pid=$!
if poll 120 priced; then
  first=$(( $(now_ms) - t0 ))
  ok "README 'demo' (up, in the foreground): prices flow, $(( first / 1000 )).$(( first % 1000 / 100 )) s after the command"
  figure docker_demo_up_to_first_prices "$(( first / 1000 )).$(( first % 1000 / 100 ))" s
else
  not_ok "README 'demo': prices flow within 120 s" "$(tail -5 "$TEST_LOG_DIR/demo.log")"
fi
db=$(cid db) fetcher=$(cid fetcher) api=$(cid api) seed=$(cid demo-seed)
check_eq "demo-seed exited 0" 0 "$(dk inspect -f '{{.State.ExitCode}}' "$seed")"
check "demo-seed loaded the demo data" bash -c "/usr/bin/docker logs '$seed' 2>&1 | grep -q 'demo data loaded'"
check_eq "the demo's only volume is its named one (demo-seed leaves no anonymous volume)" \
  "$(echo $vols0 fetcherd-demo_db-data | tr ' ' '\n' | grep . | sort | tr '\n' ' ')" "$(engine_volumes)"
tracked=$(dsql "SELECT count(*) FROM tracked_assets")

t=$(dsql "SELECT now()")
dc restart fetcher >>"$TEST_LOG_DIR/compose.log" 2>&1
check_eq "docker compose restart fetcher exits 0" 0 "$?"
check "after the restart fetcherd runs cycles that succeed" poll 60 ok_cycle "$t"

# The database container is killed.
n_cycles=$(dsql "SELECT count(*) FROM fetcher_cycles")
n_prices=$(dsql "SELECT count(*) FROM asset_prices")
kill_at=$(dsql "SELECT now()")
dk kill "$db" >/dev/null
ms0=$(now_ms); code=$(http_code "$API/api/fetcher/status"); ms=$(( $(now_ms) - ms0 ))
check_eq "db killed: the API answers 503" 503 "$code"
check_cmp "… the first request within a connect timeout (${ms} ms)" "$ms" -lt 5000
for path in /api/fetcher/status /api/fetcher/logs /readyz; do
  ms0=$(now_ms); code=$(http_code "$API$path"); ms=$(( $(now_ms) - ms0 ))
  check_eq "… then $path: 503 at once, the database known down (${ms} ms)" "503 1" "$code $(( ms < 1000 ))"
done
sleep 14   # more than one FETCH_INTERVAL (10 s): a cycle runs while the database is away
check_eq "fetcherd is alive while the database is away" true "$(dk inspect -f '{{.State.Running}}' "$fetcher")"
dk start "$db" >/dev/null
check_eq "docker start db" true "$(dk inspect -f '{{.State.Running}}' "$db")"
during() { [ "$(dsql "SELECT count(*) FROM fetcher_cycles WHERE started_at > '$kill_at' AND started_at < '$kill_at'::timestamptz + interval '14 s' AND status <> 'running'")" -ge 1 ]; }
check "the cycle run during the outage is written once the database is back" poll 60 during
check_cmp "… nothing written before the outage is lost (cycles: $n_cycles before)" \
  "$(dsql "SELECT count(*) FROM fetcher_cycles")" -gt "$n_cycles"
check_cmp "… prices too ($n_prices before)" "$(dsql "SELECT count(*) FROM asset_prices")" -ge "$n_prices"
# (A closed market's stocks are skipped, without a row: the cycle's own
# counts, not the tracked total, say how many rows it owes.)
check_eq "… one price_update_log row per asset each cycle of the outage fetched" "" \
  "$(dsql "SELECT string_agg(format('cycle %s %s: %s+%s+%s of %s, %s rows', c.id, c.status, c.assets_succeeded,
                  c.assets_failed, c.assets_skipped, c.assets_total, n), '; ')
           FROM fetcher_cycles c, LATERAL (SELECT count(*) AS n FROM price_update_log l WHERE l.cycle_id = c.id) l
           WHERE c.started_at > '$kill_at' AND c.status <> 'running'
             AND n NOT BETWEEN c.assets_succeeded + c.assets_failed
                           AND c.assets_succeeded + c.assets_failed + c.assets_skipped")"
ready() { [ "$(http_code "$API/readyz")" = 200 ]; }
check "the API is ready again" poll 30 ready

# Two fetchers (issue 15): the README's command scales the running demo;
# the two get their own instance ids and share the schedule through the
# database, one leading.
t=$(dsql "SELECT now()")
run_block "$proj" scale-demo
check_eq "README 'scale-demo' (up -d --scale fetcher=2) exits 0" 0 "$?"
nfetch() { dk ps -q --filter "label=com.docker.compose.project=$PROJECT" --filter "label=com.docker.compose.service=fetcher" | wc -l; }
check_eq "two fetcher containers run" 2 "$(nfetch)"
two_live() { [ "$(curl -s --max-time 5 "$API/api/fetcher/status" | jq '[.instances[] | select(.status == "running" or .status == "degraded")] | length')" = 2 ]; }
check "both report in, each with its own instance id" poll 60 two_live
one_leader() {
  curl -s --max-time 5 "$API/api/fetcher/status" >"$work/status.json" &&
  [ "$(jq -r '[.instances[] | select(.role == "leader")] | length' "$work/status.json")" = 1 ] &&
  [ "$(jq -r '.leader' "$work/status.json")" = "$(jq -r '.instances[] | select(.role == "leader") | .instance_id' "$work/status.json")" ]
}
check "one leads the schedule, the other follows" poll 60 one_leader
shared() { [ "$(dsql "SELECT count(*) FROM fetcher_cycles WHERE fleet AND status = 'succeeded' AND started_at > '$t'")" -ge 1 ]; }
check "a cycle shared by the two succeeds" poll 90 shared
check_eq "… and no asset has two rows in a cycle since" 0 \
  "$(dsql "SELECT count(*) FROM (SELECT cycle_id, asset_id FROM price_update_log WHERE cycle_id IN (SELECT id FROM fetcher_cycles WHERE started_at > '$t') GROUP BY 1, 2 HAVING count(*) > 1) d")"

# Ctrl-C in the terminal running `up`.
t=$(now_ms)
kill -INT -- "-$demo_pid" 2>/dev/null
wait "$demo_pid"
ms=$(( $(now_ms) - t ))
check_cmp "Ctrl-C stops the demo within the 10 s grace (${ms} ms)" "$ms" -lt 15000
for s in fetcher api fakemarket; do
  check_eq "$s exited 0 (SIGTERM from compose)" 0 "$(dk inspect -f '{{.State.ExitCode}}' "$(cid $s)")"
done
dc logs --no-color >"$TEST_LOG_DIR/demo-stack.log" 2>&1
run_block "$proj" demo-down
check_eq "README 'demo-down' (down -v) exits 0" 0 "$?"
check_eq "the demo's down -v leaves no volume behind (none from demo-seed)" "$vols0" "$(engine_volumes)"
check_eq "… no container" 0 "$(engine_containers)"
check_eq "… no network" "$nets0" "$(engine_networks)"

}

# =====================================================================================
scenario_upgrade() {
echo "# 3. an upgrade from $UPGRADE_FROM"
if ! from=$(git -C "$TEST_ROOT" rev-parse --verify -q "$UPGRADE_FROM^{commit}"); then
  skip "upgrade from the previous release" "commit $UPGRADE_FROM is not in this clone (a shallow one?)"
  return 0
fi
# A repository whose main holds the release, then this tree: the user's clone
# sits at the release and `git pull` brings this tree, as it would.
G=(git -c user.name=fetcherd-test -c user.email=test@localhost -c init.defaultBranch=main)
origin=$work/origin.git seed=$work/seed up=$work/user/fetcherd
{
  "${G[@]}" init -q --bare "$origin" &&
  mkdir -p "$seed" && git -C "$TEST_ROOT" archive "$from" | tar -xf - -C "$seed" &&
  "${G[@]}" -C "$seed" init -q && "${G[@]}" -C "$seed" add -A && "${G[@]}" -C "$seed" commit -qm release &&
  find "$seed" -mindepth 1 -maxdepth 1 ! -name .git -exec rm -rf {} + &&
  copy_tree "$seed" && "${G[@]}" -C "$seed" add -A && "${G[@]}" -C "$seed" commit -qm current --allow-empty &&
  "${G[@]}" -C "$seed" push -q "$origin" HEAD:main &&
  "${G[@]}" clone -q "$origin" "$up" && "${G[@]}" -C "$up" reset -q --hard HEAD~1
} >>"$TEST_LOG_DIR/git.log" 2>&1
check_eq "a clone at the release $UPGRADE_FROM, its origin one commit ahead" 0 "$?"
DC_DIR=$up DC_ARGS=() PROJECT=fetcherd-demo
vols0=$(engine_volumes) nets0=$(engine_networks)
# The release's image, as the user built it then (kept by commit: it never changes).
t=$(date +%s)
if ! dk image inspect "fetcherd-test/release:$from" >/dev/null 2>&1; then
  dk build --network host -t "fetcherd-test/release:$from" "$up" >"$TEST_LOG_DIR/build-release.log" 2>&1
fi
dk tag "fetcherd-test/release:$from" fetcherd:latest
check_eq "the release's image is built ($(( $(date +%s) - t )) s)" 0 "$?"
old_image=$(dk image inspect -f '{{.Id}}' fetcherd:latest)
# It runs the offline demo (the release's README: the lines of
# contrib/demo.env in .env), so it has prices and cycles to keep.
run_block "$up" demo-env
as_user "$up" "docker compose up -d" >>"$TEST_LOG_DIR/compose.log" 2>&1
check_eq "the release's stack starts (docker compose up -d)" 0 "$?"
check "the release fetches prices" poll 120 priced
ok_cycles() { [ "$(dsql "SELECT count(*) FROM fetcher_cycles WHERE status = 'succeeded' AND upstream_requests > 0")" -ge 2 ]; }
check "… and finishes cycles" poll 60 ok_cycles
# What must survive: every row the release wrote, by content.
keep() {
  dsql "SELECT (SELECT md5(string_agg(id || ':' || asset_id || ':' || price || ':' || price_time, ',' ORDER BY id)) FROM asset_prices WHERE id <= $1)
        || ' ' || (SELECT md5(string_agg(id || ':' || status || ':' || assets_total, ',' ORDER BY id)) FROM fetcher_cycles WHERE id <= $2)
        || ' ' || (SELECT count(*) FROM price_update_log WHERE id <= $3)
        || ' ' || (SELECT md5(string_agg(symbol, ',' ORDER BY symbol)) FROM assets)
        || ' ' || (SELECT count(*) FROM portfolio_positions)"
}
dc stop fetcher >>"$TEST_LOG_DIR/compose.log" 2>&1   # a still picture to compare with
read -r max_p max_c max_l <<<"$(dsql "SELECT coalesce(max(id), 0) FROM asset_prices" | tr -d ' ') $(dsql "SELECT max(id) FROM fetcher_cycles") $(dsql "SELECT max(id) FROM price_update_log")"
before=$(keep "$max_p" "$max_c" "$max_l")
dc start fetcher >>"$TEST_LOG_DIR/compose.log" 2>&1
vols_release=$(engine_volumes)
t=$(date +%s)
run_block "$up" upgrade
check_eq "README 'upgrade' (git pull; docker compose up -d --build) exits 0 ($(( $(date +%s) - t )) s)" 0 "$?"
check_eq "git pull brought this tree" "$(git -C "$origin" rev-parse main)" "$(git -C "$up" rev-parse HEAD)"
# The README's step for a .env that holds the demo's lines: the new ones.
run_block "$up" demo-env && as_user "$up" "docker compose up -d" >>"$TEST_LOG_DIR/compose.log" 2>&1
check_eq "README 'demo-env' again after the pull, then up -d: exit 0" 0 "$?"
check "the new image replaced the release's" test "$(dk image inspect -f '{{.Id}}' fetcherd:latest)" != "$old_image"
check_eq "fetcher runs the new image" "$(dk image inspect -f '{{.Id}}' fetcherd:latest)" \
  "$(dk inspect -f '{{.Image}}' "$(cid fetcher)")"
nmig=$(ls "$up"/migrations/*.sql | wc -l)
migrated() { [ "$(dsql "SELECT count(*) FROM schema_migrations")" = "$nmig" ]; }
check "every migration of the new tree is applied ($nmig)" poll 60 migrated
check "api healthy on the new image (/readyz: nothing pending)" poll 90 is_health "$(cid api)" healthy
check_eq "every row the release wrote is there, unchanged" "$before" "$(keep "$max_p" "$max_c" "$max_l")"
t=$(dsql "SELECT now()")
check "the new fetcherd runs cycles that succeed" poll 90 ok_cycle "$t"
check_eq "the upgrade made no volume" "$vols_release" "$(engine_volumes)"
dc logs --no-color >"$TEST_LOG_DIR/upgrade-stack.log" 2>&1
as_user "$up" "docker compose down -v" >>"$TEST_LOG_DIR/compose.log" 2>&1
# The release's demo-seed left an anonymous volume per run (the defect this
# version fixes); compose cannot know those any more. Nothing else may stay.
left=$(comm -23 <(engine_volumes | tr ' ' '\n' | grep .) <(echo "$vols0" | tr ' ' '\n' | grep .))
check_eq "down -v after the upgrade leaves no volume but the release's demo-seed leftovers" "" \
  "$(comm -23 <(echo "$left" | grep .) <(echo "$vols_release" | tr ' ' '\n' | grep -vx fetcherd-demo_db-data | grep .) | tr '\n' ' ')"
check_eq "… no container" 0 "$(engine_containers)"
}

# DOCKER_ONLY=stack,demo,upgrade runs some of them (all by default).
for sc in stack demo upgrade; do
  case ",${DOCKER_ONLY:-stack,demo,upgrade}," in *",$sc,"*) "scenario_$sc" ;; esac
done
