#!/usr/bin/env bash
# The installed tree works on its own: `make install DESTDIR=$tmp
# PREFIX=/usr/local` (what the Dockerfile's build stage runs), then the
# INSTALLED binaries — not the build tree — against a throwaway database:
# migrations found in the installed share dir, the dashboard served from it,
# `fetcher-api --healthcheck` (the image's HEALTHCHECK) exit codes, and the
# systemd units in contrib/ checked against the installed binaries.
. "$(dirname "$0")/../lib.sh"

dest=$(mktemp -d)
trap 'rm -rf "$dest"; t_cleanup' EXIT
san=""; [ "${TEST_LABEL:-}" = asan ] && san="SAN=1"
if make -s -C "$TEST_ROOT" install BUILD="${BIN#"$TEST_ROOT"/}" $san DESTDIR="$dest" PREFIX=/usr/local \
     >"$TEST_LOG_DIR/make-install.log" 2>&1; then
  ok "make install DESTDIR=… PREFIX=/usr/local succeeds"
else
  not_ok "make install DESTDIR=… PREFIX=/usr/local succeeds" "$(tail -3 "$TEST_LOG_DIR/make-install.log")"
  exit 1
fi
root=$dest/usr/local
share=$root/share/fetcherd
for f in bin/fetcherd bin/fetcher-api bin/fakemarket; do
  check "installed $f is executable" test -x "$root/$f"
done
check_eq "every migration is installed" "$(cd "$TEST_ROOT/migrations" && ls *.sql)" "$(cd "$share/migrations" && ls)"
check_eq "every dashboard file is installed" "$(cd "$TEST_ROOT/dashboard" && ls)" "$(cd "$share/dashboard" && ls)"
check "the demo data is installed as share/fetcherd/demo/seed.sql" cmp "$TEST_ROOT/demo/seed.sql" "$share/demo/seed.sql"
check_eq "nothing is installed outside PREFIX" "usr" "$(ls "$dest")"
check_eq "nothing but bin/ and share/fetcherd/ under PREFIX" "bin share" "$(ls "$root" | tr '\n' ' ' | sed 's/ $//')"

# From here on, the programs come from the installed tree only, started from a
# directory that is not the source tree, with no *_DIR overrides.
export BIN=$root/bin
unset FETCHER_MIGRATIONS_DIR FETCHER_DASHBOARD_DIR
cd "$dest"
new_db || exit 1
out=$("$BIN/fetcherd" migrate 2>&1); rc=$?
echo "$out" >>"$TEST_LOG_DIR/migrate.log"
check_eq "installed fetcherd migrate exits 0" 0 "$rc"
check "installed fetcherd finds the migrations in PREFIX/share/fetcherd/migrations" \
  grep -q "from $share/migrations" <<<"$out"
check_eq "the schema is applied" "$(ls "$share/migrations" | wc -l)" "$(sql "SELECT count(*) FROM schema_migrations")"

start_api || not_ok "installed fetcher-api answers /healthz"
check_eq "installed fetcher-api serves the dashboard from the installed share dir" \
  "$(sha256sum <"$share/dashboard/index.html")" "$(curl -sf "$API_URL/" | sha256sum)"
check_eq "… and its scripts" "$(sha256sum <"$share/dashboard/app.js")" "$(curl -sf "$API_URL/app.js" | sha256sum)"
check_eq "/readyz: the installed migrations match the database" 200 \
  "$(curl -s -o /dev/null -w '%{http_code}' "$API_URL/readyz")"
port=${API_URL##*:}
check "fetcher-api --healthcheck exits 0 against the running API" \
  env API_PORT="$port" "$BIN/fetcher-api" --healthcheck
check "fetcher-api --healthcheck with API_BIND=0.0.0.0 (as in the image) probes loopback" \
  env API_BIND=0.0.0.0 API_PORT="$port" "$BIN/fetcher-api" --healthcheck
dead=$(free_port)
API_PORT=$dead "$BIN/fetcher-api" --healthcheck >/dev/null 2>&1; rc=$?
check_eq "fetcher-api --healthcheck exits 1 when nothing listens" 1 "$rc"
API_PORT=$(free_port) API_BIND=0.0.0.0 timeout 10 "$BIN/fetcher-api" --healthcheck >/dev/null 2>&1
check_cmp "fetcher-api --healthcheck fails fast, without a hang, on a closed port" "$?" -ne 124
stop_pid "$API_PID"
check_eq "installed fetcher-api exits 0 on SIGTERM (STOPSIGNAL)" 0 "$STOP_RC"
API_PORT=$port "$BIN/fetcher-api" --healthcheck >/dev/null 2>&1; rc=$?
check_eq "fetcher-api --healthcheck exits non-zero once the API has stopped" 1 "$rc"

# A cycle from the installed tree (fakemarket installed too, for the demo).
start_fakemarket || not_ok "installed fakemarket starts"
load_demo
provider_env
out=$(FETCH_INTERVAL=1h "$BIN/fetcherd" --once 2>&1); rc=$?
echo "$out" >"$TEST_LOG_DIR/fetcherd-once.log"
check_eq "installed fetcherd --once runs a cycle against installed fakemarket" 0 "$rc"
check_cmp "prices were written" "$(sql "SELECT count(*) FROM asset_prices")" -gt 0

# contrib/systemd: units verify against the installed binaries, and the
# example settings file parses (it is read by the same config loader).
units=$TEST_ROOT/contrib/systemd
for u in fetcherd fetcher-api; do
  f=$units/$u.service
  check "contrib/systemd/$u.service exists" test -f "$f"
  [ -f "$f" ] || continue
  check_eq "$u.service: ExecStart is the installed /usr/local/bin/$u" "/usr/local/bin/$u" \
    "$(sed -n 's/^ExecStart=//p' "$f")"
  for k in Type=simple DynamicUser=yes ProtectSystem=strict NoNewPrivileges=yes PrivateTmp=yes \
           ProtectHome=yes "RestrictAddressFamilies=AF_INET AF_INET6 AF_UNIX" \
           EnvironmentFile=/etc/fetcherd/fetcherd.env KillSignal=SIGTERM; do
    check "$u.service has $k" grep -qxF "$k" "$f"
  done
  if command -v systemd-analyze >/dev/null; then
    sed -e "s#^ExecStart=/usr/local/bin/#ExecStart=$root/bin/#" \
        -e "s#^EnvironmentFile=.*#EnvironmentFile=$units/fetcherd.env#" "$f" >"$dest/$u.service"
    out=$(SYSTEMD_LOG_LEVEL=warning systemd-analyze verify "$dest/$u.service" 2>&1); rc=$?
    check_eq "systemd-analyze verify $u.service (${out//$'\n'/ })" 0 "$rc"
  else
    skip "systemd-analyze verify $u.service" "systemd-analyze not installed"
  fi
done
# The example EnvironmentFile: plain KEY=value lines the programs accept.
envf=$units/fetcherd.env
check "contrib/systemd/fetcherd.env has only comments and KEY=value lines" \
  bash -c "! grep -vE '^(#.*|[A-Z_][A-Z0-9_]*=.*|)$' '$envf'"
api_port=$(free_port) test_db=$DATABASE_URL
(
  set -a; . "$envf"; set +a
  export DATABASE_URL=$test_db API_PORT=$api_port
  exec "$BIN/fetcher-api"
) >>"$TEST_LOG_DIR/fetcher-api-envfile.log" 2>&1 &
T_PIDS+=($!); envf_pid=$!
check "fetcher-api starts with the settings of contrib/systemd/fetcherd.env" \
  wait_for 10 env API_PORT="$api_port" "$BIN/fetcher-api" --healthcheck
stop_pid "$envf_pid"
check_eq "… and exits 0 on SIGTERM" 0 "$STOP_RC"
