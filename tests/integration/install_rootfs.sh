#!/usr/bin/env bash
# The runtime image without Docker (opt-in: needs root, debootstrap and
# Debian's archive, so `make test` skips it):
#
#   FETCHERD_ROOTFS=/tmp/fetcherd-rootfs TESTS=install_rootfs tests/run.sh build
#
# A Debian bookworm minbase root filesystem (what debian:bookworm-slim is made
# from) is created with debootstrap if FETCHERD_ROOTFS does not exist yet;
# the Dockerfile's runtime-stage RUN lines are replayed in it with
# `chroot … /bin/sh -c` exactly as written; the installed tree is copied as
# its COPY --from=build does (stripped). Then, on a read-only bind mount of
# it (compose's read_only: true) and as the image's USER, the programs run
# against the test database: migrations, a cycle against fakemarket, the API,
# the HEALTHCHECK command, SIGTERM.
. "$(dirname "$0")/../lib.sh"

rootfs=${FETCHERD_ROOTFS:-}
if [ -z "$rootfs" ]; then
  skip "runtime stage in a bookworm rootfs" "set FETCHERD_ROOTFS=/path (root, debootstrap, network)"
  exit 0
fi
if [ "$(id -u)" != 0 ]; then skip "runtime stage in a bookworm rootfs" "needs root (chroot)"; exit 0; fi
if [ "${TEST_LABEL:-normal}" = asan ]; then
  skip "runtime stage in a bookworm rootfs" "runs the normal build only"; exit 0
fi

PY=/usr/bin/python3
work=$(mktemp -d)
ro=$work/ro
# Programs first (t_cleanup stops them), then the mounts; the work dir is
# removed only when nothing is mounted in it any more, and never across a
# mount (--one-file-system).
cleanup_rootfs() {
  local i
  for i in 1 2 3 4 5 6 7 8 9 10; do
    umount "$ro/proc" 2>/dev/null
    umount "$ro" 2>/dev/null
    grep -qF " $work/" /proc/self/mountinfo || break
    sleep 1
  done
  if grep -qF " $work/" /proc/self/mountinfo; then
    echo "# install_rootfs: $ro still mounted; left in place" >&2
  else
    rm -rf --one-file-system "$work"
  fi
}
trap 't_cleanup; cleanup_rootfs' EXIT

if [ ! -d "$rootfs/etc" ]; then
  command -v debootstrap >/dev/null || { not_ok "debootstrap is installed (apt-get install debootstrap)"; exit 1; }
  if debootstrap --variant=minbase bookworm "$rootfs" http://deb.debian.org/debian >"$TEST_LOG_DIR/debootstrap.log" 2>&1; then
    ok "debootstrap --variant=minbase bookworm"
  else
    not_ok "debootstrap --variant=minbase bookworm" "$(tail -3 "$TEST_LOG_DIR/debootstrap.log")"; exit 1
  fi
fi
cp /etc/resolv.conf "$rootfs/etc/resolv.conf"

# The runtime stage's RUN lines and USER, from the Dockerfile.
"$PY" - "$TEST_ROOT/Dockerfile" >"$work/runtime" <<'EOF'
import sys
lines, cur = [], ''
for raw in open(sys.argv[1]):
    s = raw.rstrip('\n')
    if s.lstrip().startswith('#') or (not cur and not s.strip()): continue
    if s.endswith('\\'): cur += s[:-1] + ' '; continue
    lines.append(cur + s); cur = ''
stage = -1
for l in lines:
    ins, _, rest = l.strip().partition(' ')
    ins = ins.upper()
    if ins == 'FROM': stage += 1
    if stage == 1 and ins in ('RUN', 'USER', 'ENV'): print(ins + '\t' + ' '.join(rest.split()))
EOF
user=$(awk -F'\t' '$1 == "USER" { u = $2 } END { print u }' "$work/runtime")
if chroot "$rootfs" getent passwd "${user%%:*}" >/dev/null; then
  skip "Dockerfile runtime RUN lines" "already replayed in $rootfs"
else
  n=0
  while IFS=$'\t' read -r ins cmd; do
    [ "$ins" = RUN ] || continue
    n=$((n + 1))
    if chroot "$rootfs" /bin/sh -c "$cmd" >"$TEST_LOG_DIR/run-$n.log" 2>&1; then
      ok "runtime RUN $n succeeds in bookworm: ${cmd:0:70}…"
    else
      not_ok "runtime RUN $n succeeds in bookworm: ${cmd:0:70}…" "$(tail -3 "$TEST_LOG_DIR/run-$n.log")"; exit 1
    fi
  done <"$work/runtime"
fi
check_eq "no warning from the RUN lines" "" "$(cat "$TEST_LOG_DIR"/run-*.log 2>/dev/null | grep -i 'warning' | grep -v 'apt-get' | head -3)"

# COPY --from=build /staging/usr/local/ /usr/local/ (built as the build stage
# does: make install into a staging tree, stripped).
# The build under test as it is (-o all: no rebuild; the build stage itself
# is covered by install_dockerfile.sh).
make -s -C "$TEST_ROOT" -o all install BUILD="${BIN#"$TEST_ROOT"/}" DESTDIR="$work/staging" PREFIX=/usr/local >"$TEST_LOG_DIR/make-install.log" 2>&1 \
  || { not_ok "make install"; exit 1; }
strip --strip-unneeded "$work/staging/usr/local/bin/"*
cp -a "$work/staging/usr/local/." "$rootfs/usr/local/"
check_eq "every library the programs link is in the rootfs (ldd)" "" \
  "$(chroot "$rootfs" sh -c 'ldd /usr/local/bin/*' | grep 'not found')"
check "the CA bundle for the providers' HTTPS is there" test -s "$rootfs/etc/ssl/certs/ca-certificates.crt"
check_eq "uid ${user%%:*} exists in the image, with no login shell" "/usr/sbin/nologin" \
  "$(chroot "$rootfs" getent passwd "${user%%:*}" | cut -d: -f7)"

# read_only: true — a read-only view of the rootfs, /proc for /proc/self/exe.
mkdir -p "$ro"
mount --bind "$rootfs" "$ro" && mount -o remount,bind,ro "$ro" && mount -t proc proc "$ro/proc" \
  || { not_ok "read-only bind mount of the rootfs"; exit 1; }
check "the rootfs view is read-only" bash -c "! touch '$ro/usr/local/x' 2>/dev/null"
# "${IMG[@]}" CMD… — as the image runs it: its USER, its ENV, the image's
# PATH. (An array, not a function: `"${IMG[@]}" prog &` execs straight
# into the program, so $! is the program and gets the SIGTERM.)
read -r -a image_env <<<"$(awk -F'\t' '$1 == "ENV" { print $2 }' "$work/runtime")"
IMG=(env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin HOME=/nonexistent
     "${image_env[@]}" chroot --userspec="$user" "$ro" env)
in_image() { "${IMG[@]}" "$@"; }
check "fetcher-api --version runs as $user" in_image fetcher-api --version

new_db || exit 1
out=$(in_image DATABASE_URL="$DATABASE_URL" fetcherd migrate 2>&1); rc=$?
echo "$out" >"$TEST_LOG_DIR/migrate.log"
check_eq "fetcherd migrate in the image exits 0" 0 "$rc"
check "… with the migrations from /usr/local/share/fetcherd/migrations" grep -q "from /usr/local/share/fetcherd/migrations" <<<"$out"
load_demo

fm_port=$(free_port) api_port=$(free_port)
"${IMG[@]}" fakemarket --bind 0.0.0.0 --port "$fm_port" >"$TEST_LOG_DIR/fakemarket.log" 2>&1 &
T_PIDS+=($!)
FAKE_URL=http://127.0.0.1:$fm_port
check "fakemarket runs in the image" wait_for 10 curl -sf "$FAKE_URL/_stats"
"${IMG[@]}" DATABASE_URL="$DATABASE_URL" FETCH_INTERVAL=1h HEARTBEAT_INTERVAL=1s \
  YAHOO_BASE_URL="$FAKE_URL" COINGECKO_BASE_URL="$FAKE_URL/api/v3" FX_BASE_URL="$FAKE_URL" \
  fetcherd >"$TEST_LOG_DIR/fetcherd.log" 2>&1 &
fpid=$!; T_PIDS+=($!)
"${IMG[@]}" DATABASE_URL="$DATABASE_URL" API_PORT="$api_port" HEARTBEAT_INTERVAL=1s \
  fetcher-api >"$TEST_LOG_DIR/fetcher-api.log" 2>&1 &
apid=$!; T_PIDS+=($!)
API_URL=http://127.0.0.1:$api_port
priced() { [ "$(sql "SELECT count(*) FROM fetcher_cycles WHERE status IN ('succeeded','partial') AND upstream_requests > 0")" -ge 1 ]; }
check "fetcherd in the image runs a cycle against fakemarket" wait_for 20 priced
check "fetcher-api in the image answers /healthz on 0.0.0.0 (the image's API_BIND)" wait_for 10 curl -sf "$API_URL/healthz"
check "the image's HEALTHCHECK command passes" in_image API_PORT="$api_port" fetcher-api --readycheck
check_eq "the dashboard is served from /usr/local/share/fetcherd/dashboard" \
  "$(sha256sum <"$TEST_ROOT/dashboard/index.html")" "$(curl -sf "$API_URL/" | sha256sum)"
is_running() { [ "$(curl -s "$API_URL/api/fetcher/status" | jq -r .status)" = running ]; }
check "/api/fetcher/status says running" wait_for 10 is_running
stop_pid "$fpid"; check_eq "fetcherd in the image exits 0 on SIGTERM" 0 "$STOP_RC"
stop_pid "$apid"; check_eq "fetcher-api in the image exits 0 on SIGTERM" 0 "$STOP_RC"
in_image API_PORT="$api_port" fetcher-api --readycheck >/dev/null 2>&1
check_eq "the HEALTHCHECK command fails once the API is gone" 1 "$?"
