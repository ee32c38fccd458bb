# tests/docker/engine.sh — sourced by the docker suite. Starts a PRIVATE
# Docker engine (Debian's docker.io) and stops it again; never talks to an
# engine it did not start (DOCKER_HOST always names ours).
#
#   engine_start CACHE_DIR WORK_DIR   sets DOCKER_HOST, ENGINE_PID, ENGINE_KIND
#   engine_stop                       stops the engine engine_start started
#
# The engine has its own data-root, exec-root, pid file and socket; it
# touches no iptables rule, does not turn on IP forwarding and makes no
# default bridge: containers still reach each other on compose's networks
# (a bridge per project, from an address pool no route on this host uses)
# and published ports reach 127.0.0.1 through docker-proxy.
#
# Its data-root is kept in CACHE_DIR/engine between runs (images, build
# layers: a later run rebuilds only what changed), locked while an engine
# runs on it. A second suite running at the same time (or a CACHE_DIR this
# user cannot write) gets a data-root of its own under WORK_DIR and starts
# cold. The lock is inherited by dockerd itself, so a stray engine keeps it.

ENGINE_PID="" ENGINE_EXEC="" ENGINE_DATA="" ENGINE_KIND=""

# engine_pool — an address pool for compose networks: 10.N.0.0/16 with no
# route to it on this host (another engine or a VPN may use some).
engine_pool() {
  local n routes
  routes=$(ip -4 route show 2>/dev/null)
  for n in $(shuf -i 100-250 -n 40); do
    grep -qE "(^| )10\.$n\." <<<"$routes" || { echo "10.$n.0.0/16"; return 0; }
  done
  return 1
}

engine_start() {
  local cache=$1 work=$2 pool
  ENGINE_KIND=private
  if mkdir -p "$cache" 2>/dev/null && exec 9>>"$cache/engine.lock" && flock -n 9; then
    ENGINE_DATA=$cache/engine
    ENGINE_KIND=cached
  else
    exec 9>&- 2>/dev/null
    ENGINE_DATA=$work/docker-data
  fi
  mkdir -p "$ENGINE_DATA"
  # Runtime state and the socket: a short path (unix sockets take 107
  # bytes; containerd's live inside the exec-root).
  ENGINE_EXEC=$(mktemp -d /tmp/fetcherd-dockerd.XXXXXX)
  pool=$(engine_pool) || { echo "engine: no free 10.N.0.0/16 for an address pool" >&2; return 1; }
  dockerd --data-root "$ENGINE_DATA" --exec-root "$ENGINE_EXEC" --pidfile "$ENGINE_EXEC/pid" \
    -H "unix://$ENGINE_EXEC/sock" --iptables=false --ip6tables=false --ip-forward=false \
    --bridge=none --default-address-pool "base=$pool,size=24" --userland-proxy=true \
    >"$work/dockerd.log" 2>&1 &
  ENGINE_PID=$!
  exec 9>&- 2>/dev/null   # dockerd holds the lock now; not our shell
  export DOCKER_HOST=unix://$ENGINE_EXEC/sock
  local i
  for i in $(seq 150); do
    /usr/bin/docker version >/dev/null 2>&1 && return 0
    kill -0 "$ENGINE_PID" 2>/dev/null || break
    sleep 0.2
  done
  return 1
}

engine_stop() {
  [ -n "$ENGINE_PID" ] || return 0
  local i
  kill -TERM "$ENGINE_PID" 2>/dev/null
  for i in $(seq 150); do kill -0 "$ENGINE_PID" 2>/dev/null || break; sleep 0.2; done
  kill -KILL "$ENGINE_PID" 2>/dev/null
  wait "$ENGINE_PID" 2>/dev/null
  ENGINE_PID=""
  # What a stopped dockerd can leave mounted (network namespaces, overlay
  # layers of a killed engine): only under the directories it was given.
  local m
  for m in $(awk '{print $5}' /proc/self/mountinfo | grep -E "^($ENGINE_EXEC|$ENGINE_DATA)/" | sort -r); do
    umount -l "$m" 2>/dev/null
  done
  rm -rf --one-file-system "$ENGINE_EXEC"
  if [ "$ENGINE_KIND" = private ]; then rm -rf --one-file-system "$ENGINE_DATA"; fi
}
