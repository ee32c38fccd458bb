# tests/docker/images.sh — sourced by the docker suite, after engine_start.
# Puts the images the Dockerfile and docker-compose.yml name into the
# private engine, without a registry:
#
#   debian:bookworm, debian:bookworm-slim   imported from rootfs.sh's tarballs
#   postgres:16-bookworm                    the STAND-IN built from
#                                           postgres-standin/ (Debian's
#                                           PostgreSQL 15; see its Dockerfile)
#
#   images_ensure CACHE_DIR LOG_DIR
#
# Each is made once per content: the rootfs tarballs are kept in
# CACHE_DIR/rootfs-<hash of rootfs.sh>/, the images are tagged
# fetcherd-test/…:<hash of what made them> in the engine (its data-root is
# kept, see engine.sh), and the public names are pointed at them on every
# run. A changed recipe makes a new hash, so nothing stale is used.

IMAGES_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

images_hash() { cat "$@" | sha256sum | cut -c1-16; }

images_have() { /usr/bin/docker image inspect "$1" >/dev/null 2>&1; }

images_ensure() {
  local cache=$1 log=$2 key rootfs standin
  key=$(images_hash "$IMAGES_DIR/rootfs.sh")
  rootfs=$cache/rootfs-$key
  local v
  for v in bookworm bookworm-slim; do
    if ! images_have "fetcherd-test/debian:$v-$key"; then
      if [ ! -f "$rootfs/bookworm-slim.tar" ]; then
        echo "# images: debootstrap (rootfs $key, once)"
        mkdir -p "$cache"
        rm -rf "$cache"/rootfs-*   # made by an older rootfs.sh: never used again
        bash "$IMAGES_DIR/rootfs.sh" "$rootfs" >>"$log/rootfs.log" 2>&1 || return 1
      fi
      /usr/bin/docker import -c 'CMD ["bash"]' "$rootfs/$v.tar" "fetcherd-test/debian:$v-$key" \
        >>"$log/images.log" 2>&1 || return 1
    fi
    /usr/bin/docker tag "fetcherd-test/debian:$v-$key" "debian:$v" || return 1
  done
  standin=$(images_hash "$IMAGES_DIR/rootfs.sh" "$IMAGES_DIR"/postgres-standin/*)
  if ! images_have "fetcherd-test/postgres-standin:$standin"; then
    echo "# images: building the postgres stand-in ($standin)"
    /usr/bin/docker build --network host -t "fetcherd-test/postgres-standin:$standin" \
      "$IMAGES_DIR/postgres-standin" >>"$log/images.log" 2>&1 || return 1
  fi
  /usr/bin/docker tag "fetcherd-test/postgres-standin:$standin" postgres:16-bookworm
}
