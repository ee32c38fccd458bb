#!/usr/bin/env bash
# docker-compose.yml without a Docker engine: the file is valid (Debian's
# docker-compose, `config -q`, in an environment with no .env and nothing
# exported), its defaults are the documented ones, every variable it passes
# is one the programs know, and the containers' command lines and
# environments — taken from `docker-compose config` — bring up a working
# stack when run on the host with the installed tree: fetcherd migrates, the
# demo-seed script loads the demo data, fetcherd runs a cycle against
# fakemarket, the API answers /healthz and reports the fetcher running.
# Only the hostnames and published ports are mapped to the test's own.
. "$(dirname "$0")/../lib.sh"

PY=/usr/bin/python3   # Debian's python3 with python3-yaml (not a pyenv shim)
work=$(mktemp -d)
trap 'rm -rf "$work"; t_cleanup' EXIT

if ! command -v docker-compose >/dev/null; then
  not_ok "docker-compose is installed (scripts/bootstrap, test profile)"; exit 1
fi
check "python3-yaml is installed (scripts/bootstrap, test profile)" "$PY" -c 'import yaml'

# The compose project as a user checks it out, without any local .env.
proj=$work/proj
mkdir -p "$proj"
cp "$TEST_ROOT/docker-compose.yml" "$TEST_ROOT/.env.example" "$proj/"
cp -r "$TEST_ROOT/demo" "$TEST_ROOT/contrib" "$proj/"
# dc args… — docker-compose with nothing from this shell's environment (the
# harness exports DATABASE_URL, provider URLs…, which compose would use).
dc() { (cd "$proj" && env -i PATH=/usr/bin:/bin HOME="$work" docker-compose "$@"); }

check "docker-compose config -q: valid, no .env" dc config -q
check "docker-compose --profile demo config -q: valid" dc --profile demo config -q
check "docker-compose --env-file contrib/demo.env config -q: valid" dc --env-file contrib/demo.env config -q
cp "$proj/.env.example" "$proj/.env"
check "docker-compose config -q: valid with .env.example copied to .env" dc config -q
dc config >"$work/example.yml" 2>"$work/err" || not_ok "config with .env.example" "$(cat "$work/err")"
rm "$proj/.env"
dc config >"$work/default.yml" 2>"$work/err" || not_ok "docker-compose config" "$(cat "$work/err")"
dc --env-file contrib/demo.env config >"$work/demo.yml" 2>"$work/err" \
  || not_ok "docker-compose --env-file contrib/demo.env config" "$(cat "$work/err")"

# q FILE EXPR — evaluates a Python expression over the rendered compose file
# (`c`), with docker-compose's "$$" escapes turned back into "$".
q() {
  "$PY" - "$@" <<'EOF'
import sys, yaml, json
def unesc(x):
    if isinstance(x, str): return x.replace('$$', '$')
    if isinstance(x, list): return [unesc(i) for i in x]
    if isinstance(x, dict): return {k: unesc(v) for k, v in x.items()}
    return x
c = unesc(yaml.safe_load(open(sys.argv[1])))
s = c['services']
r = eval(sys.argv[2])
print(r if isinstance(r, str) else json.dumps(r, sort_keys=True))
EOF
}
d=$work/default.yml
check_eq "services: db fetcher api (+ fakemarket demo-seed in the demo profile)" \
  '["api", "db", "demo-seed", "fakemarket", "fetcher"]' "$(q "$d" 'sorted(s)')"
check_eq "only fakemarket and demo-seed are in a profile (demo)" \
  '{"demo-seed": ["demo"], "fakemarket": ["demo"]}' "$(q "$d" '{k: v["profiles"] for k, v in s.items() if "profiles" in v}')"
check "db is PostgreSQL 16" grep -qE '^postgres:16(\.|-|$)' <<<"$(q "$d" 's["db"]["image"]')"
check_eq "db keeps its data in the named volume db-data" '["db-data"]' \
  "$(q "$d" '[v.split(":")[0] for v in s["db"]["volumes"] if v.split(":")[1] == "/var/lib/postgresql/data"] if c["volumes"].get("db-data") is not None or "db-data" in c["volumes"] else []')"
check "db healthcheck is pg_isready" grep -q pg_isready <<<"$(q "$d" '" ".join(s["db"]["healthcheck"]["test"])')"
check_eq "db is not published on the host" None "$(q "$d" 'str(s["db"].get("ports"))')"
for svc in fetcher api; do
  check_eq "$svc starts after db is healthy" service_healthy "$(q "$d" "s['$svc']['depends_on']['db']['condition']")"
  check_eq "$svc: restart unless-stopped" unless-stopped "$(q "$d" "s['$svc']['restart']")"
  check_eq "$svc: CPU and memory limits" True \
    "$(q "$d" "str(bool(s['$svc']['deploy']['resources']['limits'].get('cpus')) and bool(s['$svc']['deploy']['resources']['limits'].get('memory')))")"
  check_eq "$svc: stop signal SIGTERM" SIGTERM "$(q "$d" "s['$svc'].get('stop_signal', 'SIGTERM')")"
  check_eq "$svc runs the image built from this directory" "$proj" "$(q "$d" "s['$svc']['build']['context']")"
done
check_eq "fetcher runs fetcherd (it migrates at start)" '["fetcherd"]' "$(q "$d" 's["fetcher"]["command"]')"
check_eq "api runs fetcher-api" '["fetcher-api"]' "$(q "$d" 's["api"]["command"]')"
check_eq "fetcher: FETCH_INTERVAL defaults to 10m" 10m "$(q "$d" 's["fetcher"]["environment"]["FETCH_INTERVAL"]')"
check_eq "fetcher: LOG_RETENTION_DAYS defaults to 30" 30 "$(q "$d" 's["fetcher"]["environment"]["LOG_RETENTION_DAYS"]')"
check_eq "fetcher: real providers by default" "" \
  "$(q "$d" '" ".join(k for k, v in s["fetcher"]["environment"].items() if k.endswith("_BASE_URL") and not v.startswith("https://"))')"
check_eq "fetcher: the image's API healthcheck is disabled (no API in it)" '["NONE"]' \
  "$(q "$d" 's["fetcher"]["healthcheck"].get("test") if not s["fetcher"]["healthcheck"].get("disable") else ["NONE"]')"
check_eq "api listens on 0.0.0.0:8080 inside its container" "0.0.0.0 8080" \
  "$(q "$d" 's["api"]["environment"]["API_BIND"] + " " + str(s["api"]["environment"]["API_PORT"])')"
check_eq "api publishes container port 8080 on host 127.0.0.1:8080 by default" "127.0.0.1:8080:8080" \
  "$(q "$d" 'str(s["api"]["ports"][0]).split("/")[0]')"
check_eq "api healthcheck is fetcher-api --readycheck (GET /readyz: can serve)" '["CMD", "fetcher-api", "--readycheck"]' \
  "$(q "$d" 's["api"]["healthcheck"]["test"]')"
check_eq "fetcher and api read the same interval and heartbeat" "" \
  "$(q "$d" '" ".join(k for k in ("DATABASE_URL", "PGPASSWORD", "FETCH_INTERVAL", "HEARTBEAT_INTERVAL") if s["fetcher"]["environment"][k] != s["api"]["environment"][k])')"
check_eq "DATABASE_URL names db's user and database; PGPASSWORD is db's password" True \
  "$(q "$d" 'str(s["fetcher"]["environment"]["DATABASE_URL"] == "postgresql://%s@db:5432/%s" % (s["db"]["environment"]["POSTGRES_USER"], s["db"]["environment"]["POSTGRES_DB"]) and s["fetcher"]["environment"]["PGPASSWORD"] == s["db"]["environment"]["POSTGRES_PASSWORD"])')"
check_eq "the .env overrides reach the services (POSTGRES_PASSWORD from .env.example)" change-me \
  "$(q "$work/example.yml" 's["fetcher"]["environment"]["PGPASSWORD"]')"

# Every variable passed to the programs is one they know (a typo would be
# silently ignored by them), plus libpq's PGPASSWORD.
known=$("$TEST_ROOT/build/fetcherd" --help 2>/dev/null | sed -n 's/^  \([A-Z_][A-Z0-9_]*\) .*/\1/p')
[ -n "$known" ] || known=$("$BIN/fetcherd" --help | sed -n 's/^  \([A-Z_][A-Z0-9_]*\) .*/\1/p')
for svc in fetcher api; do
  unknown=$(q "$d" "' '.join(sorted(s['$svc']['environment']))" | tr ' ' '\n' | grep -vxF -e PGPASSWORD $(printf -- '-e %s ' $known))
  check_eq "$svc: every environment variable is one fetcherd --help lists" "" "$unknown"
done
# Every setting of the configuration table (common/config.c) reaches the
# service whose program reads it (found in the sources: `cfg->field` or
# `c->field` in daemon/ or api/, common/ meaning both), with the table's
# default unless it is one of the few the compose file sets on purpose.
# A setting added to the table and not to the compose file fails here.
"$PY" - "$TEST_ROOT" "$d" "$work/example.yml" >"$work/settings.txt" <<'PYEOF'
import glob, os, re, sys, yaml
root, dflt, example = sys.argv[1:4]
src = open(os.path.join(root, 'common/config.c')).read()
macros = dict(re.findall(r'#define\s+(\w+)\s+\\?\s*("[^"]*")', open(os.path.join(root, 'common/config.h')).read()))
table = []
for name, kind, field, dv in re.findall(r'\{"([A-Z_0-9]+)",\s*(K_\w+),\s*[SI]\((\w+)\),\s*("[^"]*"|\w+)', src):
    table.append((name, kind, field, (macros.get(dv, dv)).strip('"')))
code = {}
for f in glob.glob(os.path.join(root, '*/**/*.c'), recursive=True):
    top = os.path.relpath(f, root).split('/')[0]
    if top in ('daemon', 'api', 'common') and not f.endswith('common/config.c'):
        code.setdefault(top, []).append(open(f).read())
def reads(top, field):
    return any(re.search(r'\b(cfg|c)->%s\b' % field, t) for t in code.get(top, []))
# Values docker-compose.yml sets on purpose, and why:
deliberate = {
    'DATABASE_URL': 'the db service on the compose network',
    'API_BIND': 'every interface inside the container',
    'API_ALLOWED_HOSTS': 'localhost (published port) and api (compose network)',
}
def norm(kind, v):
    v = str(v)
    if kind == 'K_DURATION':
        m = re.fullmatch(r'(\d+)([smhd]?)', v)
        return int(m.group(1)) * {'': 1, 's': 1, 'm': 60, 'h': 3600, 'd': 86400}[m.group(2)] if m else v
    if kind == 'K_URL':
        return v.rstrip('/')
    return v
print('count %d' % len(table))
d = yaml.safe_load(open(dflt))['services']
e = yaml.safe_load(open(example))['services']
for name, kind, field, default in table:
    svcs = [s for s, top in (('fetcher', 'daemon'), ('api', 'api')) if reads(top, field) or reads('common', field)]
    if not svcs:
        print('unread %s' % name)
    for svc in svcs:
        env = d[svc].get('environment') or {}
        if name not in env:
            print('missing %s %s' % (svc, name))
        elif name not in deliberate and norm(kind, env[name]) != norm(kind, default):
            print('default %s %s=%s (table: %s)' % (svc, name, env[name], default))
for svc in ('fetcher', 'api'):
    a, b = d[svc].get('environment') or {}, e[svc].get('environment') or {}
    for k in sorted(set(a) | set(b)):
        if a.get(k) != b.get(k) and k != 'PGPASSWORD':
            print('example %s %s=%s (without .env: %s)' % (svc, k, b.get(k), a.get(k)))
PYEOF
check_eq "every row of the settings table was read (common/config.c)" \
  "$(grep -cE '^ *\{"[A-Z_0-9]+", K_' "$TEST_ROOT/common/config.c")" "$(sed -n 's/^count //p' "$work/settings.txt")"
check_eq "every setting of the config table is read by fetcherd or fetcher-api" "" \
  "$(sed -n 's/^unread //p' "$work/settings.txt" | tr '\n' ' ')"
check_eq "fetcher: every setting fetcherd reads is passed (docker-compose.yml)" "" \
  "$(sed -n 's/^missing fetcher //p' "$work/settings.txt" | tr '\n' ' ')"
check_eq "api: every setting fetcher-api reads is passed (docker-compose.yml)" "" \
  "$(sed -n 's/^missing api //p' "$work/settings.txt" | tr '\n' ' ')"
check_eq "compose defaults are the config table's (but DATABASE_URL, API_BIND, API_ALLOWED_HOSTS)" "" \
  "$(sed -n 's/^default //p' "$work/settings.txt" | tr '\n' ';')"
check_eq "cp .env.example .env changes no setting but the password" "" \
  "$(sed -n 's/^example //p' "$work/settings.txt" | tr '\n' ';')"

# Every ${VAR} of the compose file is documented in .env.example, and every
# line of .env.example is used by the compose file.
used=$(grep -oE '\$\{[A-Z_][A-Z0-9_]*' "$proj/docker-compose.yml" | cut -c3- | sort -u)
documented=$(grep -oE '^#? ?[A-Z_][A-Z0-9_]*=' "$proj/.env.example" | tr -d '#= ' | sort -u)
check_eq "every \${VAR} in docker-compose.yml is in .env.example" "" "$(comm -23 <(echo "$used") <(echo "$documented") | tr '\n' ' ')"
check_eq "every .env.example variable is used (COMPOSE_* are compose's own)" "" \
  "$(comm -13 <(echo "$used") <(echo "$documented") | grep -v '^COMPOSE_' | tr '\n' ' ')"
check_eq "no secret in .env.example (token and API key empty)" "" \
  "$(grep -E '^(FETCHER_API_TOKEN|COINGECKO_API_KEY)=.+' "$proj/.env.example")"
check "git ignores .env" grep -qxF .env "$TEST_ROOT/.gitignore"

# ---- the containers' command lines and environments, on the host -------------
root=$work/install
san=""; [ "${TEST_LABEL:-}" = asan ] && san="SAN=1"
make -s -C "$TEST_ROOT" install BUILD="${BIN#"$TEST_ROOT"/}" $san DESTDIR="$root" PREFIX=/usr/local \
  >"$TEST_LOG_DIR/make-install.log" 2>&1 || { not_ok "make install"; exit 1; }
ibin=$root/usr/local/bin
new_db || exit 1
test_db=$DATABASE_URL
fm_port=$(free_port) api_port=$(free_port)
fake_url=http://127.0.0.1:$fm_port

# svc_argv FILE SERVICE — the service's command, one word per line, with the
# container's names mapped to this host: db:5432 → the test database,
# fakemarket:8090 → our fakemarket, port 8090/8080 → free ports.
svc_argv() { q "$1" "'\n'.join(s['$2']['command'] if isinstance(s['$2']['command'], list) else [s['$2']['command']])"; }
svc_env() {
  q "$1" "'\n'.join(f'{k}={v}' for k, v in sorted((s['$2'].get('environment') or {}).items()))" |
    grep . | sed -e "s#^DATABASE_URL=postgresql://fetcher@db:5432/fetcher\$#DATABASE_URL=$test_db#" \
        -e "s#http://fakemarket:8090#$fake_url#" \
        -e "s#^API_PORT=8080\$#API_PORT=$api_port#"
}
# run_svc FILE SERVICE LOG — starts it like the container would: this
# environment only (+ the image's PATH), the command from the compose file.
run_svc() {
  local -a argv envv
  mapfile -t argv < <(svc_argv "$1" "$2" | sed -e "s#^8090\$#$fm_port#")
  mapfile -t envv < <(svc_env "$1" "$2")
  echo "+ ${envv[*]} ${argv[*]}" >>"$3"
  env -i PATH="$ibin:/usr/bin:/bin" API_BIND=0.0.0.0 API_PORT=8080 "${envv[@]}" "${argv[@]}" >>"$3" 2>&1 &
  T_PIDS+=($!); RUN_PID=$!
}

# The default settings (real providers) and the .env.example ones are valid:
# fetcherd migrate exits 2 on a bad setting, 0 after migrating.
for f in default example; do
  mapfile -t envv < <(svc_env "$work/$f.yml" fetcher)
  env -i PATH="$ibin:/usr/bin:/bin" "${envv[@]}" fetcherd migrate >>"$TEST_LOG_DIR/migrate-$f.log" 2>&1
  check_eq "fetcher's $f environment is accepted (fetcherd migrate exits 0)" 0 "$?"
  mapfile -t envv < <(svc_env "$work/$f.yml" api)
  env -i PATH="$ibin:/usr/bin:/bin" "${envv[@]}" API_PORT=$(free_port) fetcher-api --healthcheck >/dev/null 2>&1
  check_eq "api's $f environment is accepted (--healthcheck: 1 = nothing listens, not 2 = bad setting)" 1 "$?"
done
# The stack starts on an empty database of its own.
new_db || exit 1
test_db=$DATABASE_URL

demo=$work/demo.yml
check_eq "demo: the provider URLs point at fakemarket:8090" \
  "http://fakemarket:8090 http://fakemarket:8090/api/v3 http://fakemarket:8090" \
  "$(q "$demo" '" ".join(s["fetcher"]["environment"][k] for k in ("YAHOO_BASE_URL", "COINGECKO_BASE_URL", "FX_BASE_URL"))')"
check_eq "demo: every provider URL (second sources too) points at fakemarket" "" \
  "$(q "$demo" '" ".join(k for k, v in sorted(s["fetcher"]["environment"].items()) if k.endswith("_BASE_URL") and not v.startswith("http://fakemarket:8090"))')"
check_eq "demo: fakemarket listens on 0.0.0.0:8090 in its container" "--bind 0.0.0.0 --port 8090" \
  "$(q "$demo" '" ".join(k + " " + s["fakemarket"]["command"][s["fakemarket"]["command"].index(k) + 1] for k in ("--bind", "--port"))')"

run_svc "$demo" fakemarket "$TEST_LOG_DIR/fakemarket.log"
check "demo: fakemarket's command starts it" wait_for 10 curl -sf "$fake_url/_stats"
run_svc "$demo" fetcher "$TEST_LOG_DIR/fetcherd.log"; fetcher_pid=$RUN_PID
migrated() { [ "$(sql "SELECT count(*) FROM schema_migrations" 2>/dev/null)" = "$(ls "$root/usr/local/share/fetcherd/migrations"/*.sql | wc -l)" ]; }
check "fetcher's command migrates the empty database at start" wait_for 20 migrated

# demo-seed: its script, with PGHOST=db and the /seed.sql volume mapped here.
seed_src=$(q "$demo" '[v.split(":")[0] for v in s["demo-seed"]["volumes"] if v.split(":")[1] == "/seed.sql"][0]')
check_eq "demo-seed mounts demo/seed.sql" "$proj/demo/seed.sql" "$seed_src"
check_eq "demo-seed runs its command with sh -c" '["sh", "-c"]' "$(q "$demo" 's["demo-seed"]["entrypoint"]')"
script=$(q "$demo" 's["demo-seed"]["command"][0]' | sed "s#/seed.sql#$TEST_ROOT/demo/seed.sql#")
mapfile -t envv < <(svc_env "$demo" demo-seed | sed -e "s#^PGHOST=db\$#PGHOST=127.0.0.1#" \
  -e "s#^PGDATABASE=.*#PGDATABASE=${test_db##*/}#")
out=$(env -i PATH="$PGBIN:/usr/bin:/bin" PGPORT="$PGLOCAL_PORT" "${envv[@]}" sh -c "$script" 2>&1); rc=$?
echo "$out" >"$TEST_LOG_DIR/demo-seed.log"
check_eq "demo-seed's script exits 0 ($out)" 0 "$rc"
check "demo-seed says it loaded the demo data" grep -q "demo data loaded" <<<"$out"
check_cmp "demo-seed: assets are tracked" "$(sql "SELECT count(*) FROM tracked_assets")" -gt 0
check_cmp "demo-seed: portfolios are there" "$(sql "SELECT count(*) FROM portfolios")" -gt 0
out=$(env -i PATH="$PGBIN:/usr/bin:/bin" PGPORT="$PGLOCAL_PORT" "${envv[@]}" sh -c "$script" 2>&1)
check "demo-seed leaves a database that has assets alone" grep -q "not loading" <<<"$out"

# The seed's NOTIFY starts a cycle now, not at the next FETCH_INTERVAL (30s).
priced() { [ "$(sql "SELECT count(*) FROM fetcher_cycles WHERE status IN ('succeeded','partial') AND upstream_requests > 0")" -ge 1 ]; }
check "fetcher runs a cycle against fakemarket (started by demo-seed's NOTIFY)" wait_for 25 priced
check_cmp "fakemarket was asked for prices" "$(curl -s "$fake_url/_stats" | jq .requests_total)" -gt 0
check_cmp "prices are in the database" "$(sql "SELECT count(*) FROM asset_prices")" -gt 0

run_svc "$demo" api "$TEST_LOG_DIR/fetcher-api.log"; api_pid=$RUN_PID
API_URL=http://127.0.0.1:$api_port
check "api's command answers /healthz" wait_for 10 curl -sf "$API_URL/healthz"
mapfile -t hc < <(q "$demo" '"\n".join(s["api"]["healthcheck"]["test"][1:])')
mapfile -t envv < <(svc_env "$demo" api)
check "api's compose healthcheck (${hc[*]}) passes in the api's environment" \
  env -i PATH="$ibin:/usr/bin:/bin" "${envv[@]}" "${hc[@]}"
# "healthy" means "can serve": the same healthcheck fails against an API
# whose database it cannot use (here: a database that does not exist; in
# Docker, a wrong POSTGRES_PASSWORD — tests/docker covers that one).
bad_port=$(free_port)
env -i PATH="$ibin:/usr/bin:/bin" DATABASE_URL="${test_db%/*}/no_such_database" API_PORT="$bad_port" \
  API_BIND=127.0.0.1 fetcher-api >>"$TEST_LOG_DIR/fetcher-api-nodb.log" 2>&1 &
T_PIDS+=($!)
wait_for 10 curl -sf "http://127.0.0.1:$bad_port/healthz"
out=$(env -i PATH="$ibin:/usr/bin:/bin" API_BIND=127.0.0.1 API_PORT="$bad_port" "${hc[@]}" 2>&1); rc=$?
check_eq "api's compose healthcheck fails while the API cannot use its database ($out)" 1 "$rc"
check "… and says why (/readyz's reason)" grep -q 'database unavailable' <<<"$out"
# fetcherd's first heartbeat comes HEARTBEAT_INTERVAL (5 s) after its start.
is_running() { [ "$(curl -s "$API_URL/api/fetcher/status" | jq -r .status)" = running ]; }
wait_for 12 is_running
status=$(curl -s "$API_URL/api/fetcher/status"); echo "$status" >"$TEST_LOG_DIR/status.json"
check_eq "/api/fetcher/status: running (within one heartbeat interval)" running "$(jq -r .status <<<"$status")"
check_eq "/api/fetcher/status: one instance" 1 "$(jq -r '.instances | length' <<<"$status")"
check_eq "fetcher's hostname (the start of its instance id) is fetcher" fetcher "$(q "$demo" 's["fetcher"].get("hostname")')"
check_eq "/api/fetcher/status: 30 s interval as a fraction of minutes" 0.5 \
  "$(curl -s "$API_URL/api/fetcher/status" | jq -r '.update_interval_minutes')"
check_eq "the dashboard is served" 200 "$(curl -s -o /dev/null -w '%{http_code}' "$API_URL/")"
check_eq "/readyz (migrations of the installed tree applied)" 200 "$(curl -s -o /dev/null -w '%{http_code}' "$API_URL/readyz")"

# docker compose stop: SIGTERM, then SIGKILL after stop_grace_period (10 s).
for p in "fetcher $fetcher_pid" "api $api_pid"; do
  set -- $p
  t0=$(date +%s%N); stop_pid "$2"; ms=$(( ($(date +%s%N) - t0) / 1000000 ))
  check_eq "$1 exits 0 on SIGTERM" 0 "$STOP_RC"
  check_cmp "$1 stops within its 10 s stop_grace_period (${ms} ms)" "$ms" -lt 10000
done
check_eq "the fetcher instance is marked stopped" stopped "$(sql "SELECT state FROM fetcher_instances")"

# ---- the documented commands (README.md, "Run with Docker") ----------------------
# Blocks marked <!-- tested: NAME -->, with `docker compose exec -T db psql -U
# fetcher -d fetcher` → psql on the test database and `docker compose exec -T
# api cat` → the installed tree.
doc() {
  "$PY" - "$TEST_ROOT/README.md" "$1" <<'PYEOF' |
import re, sys
t = open(sys.argv[1]).read()
m = re.search(r'<!-- tested: %s -->\s*```sh\n(.*?)```' % re.escape(sys.argv[2]), t, re.S)
print(m.group(1) if m else 'false "no block %s"' % sys.argv[2], end='')
PYEOF
  sed -e "s#docker compose exec -T db psql -U fetcher -d fetcher#psql \"\$DATABASE_URL\" -X -q#g" \
      -e "s#docker compose exec -T api cat #cat $root#g"
}
check "README: the load-demo command is there" grep -q 'seed.sql' <<<"$(doc load-demo)"
new_db || exit 1
env -i PATH="$ibin:/usr/bin:/bin" DATABASE_URL="$DATABASE_URL" fetcherd migrate >>"$TEST_LOG_DIR/migrate-doc.log" 2>&1
bash -c "$(doc track-asset)" >"$TEST_LOG_DIR/doc-track.log" 2>&1
check_eq "README: the track-your-own-assets command exits 0" 0 "$?"
check_eq "… and tracks AAPL and BTC" "AAPL BTC" "$(sql "SELECT string_agg(symbol, ' ' ORDER BY symbol) FROM assets a JOIN tracked_assets t ON t.asset_id = a.id")"
bash -c "$(doc track-asset)" >>"$TEST_LOG_DIR/doc-track.log" 2>&1
check_eq "… and can be run again" "0 2" "$? $(sql "SELECT count(*) FROM tracked_assets")"
new_db || exit 1
env -i PATH="$ibin:/usr/bin:/bin" DATABASE_URL="$DATABASE_URL" fetcherd migrate >>"$TEST_LOG_DIR/migrate-doc.log" 2>&1
bash -c "set -o pipefail; $(doc load-demo)" >"$TEST_LOG_DIR/doc-demo.log" 2>&1
check_eq "README: the load-demo command exits 0" 0 "$?"
n=$(sql "SELECT count(*) FROM tracked_assets")
check_cmp "… and the demo assets are tracked ($n)" "$n" -gt 0
bash -c "set -o pipefail; $(doc load-demo)" >>"$TEST_LOG_DIR/doc-demo.log" 2>&1
check_eq "… run again, it fails and changes nothing" "1 $n" "$(( $? != 0 )) $(sql "SELECT count(*) FROM tracked_assets")"
