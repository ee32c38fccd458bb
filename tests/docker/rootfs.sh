#!/usr/bin/env bash
# rootfs.sh OUTDIR — the base images of the Dockerfile, made without a
# registry: a Debian 12 minbase root filesystem from debootstrap, written as
# two tarballs for `docker import`:
#
#   OUTDIR/bookworm.tar       stands for debian:bookworm
#   OUTDIR/bookworm-slim.tar  stands for debian:bookworm-slim (the same, minus
#                             documentation, manual pages and translations,
#                             and dpkg told not to install them again)
#
# Not Debian's official images (those are made by debuerreotype); made the
# same way in the respects our images depend on: the minbase package set,
# apt sources for bookworm, bookworm-updates and bookworm-security on
# deb.debian.org, no package lists or .debs left behind, and apt told to
# clean up after itself. Needs root and Debian's archive. The caller caches
# the tarballs keyed by this file's hash (tests/docker/images.sh).
set -euo pipefail

out=${1:?usage: rootfs.sh OUTDIR}
mirror=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/fetcherd-rootfs.XXXXXX")
trap 'rm -rf --one-file-system "$tmp"' EXIT
dir=$tmp/root

debootstrap --variant=minbase bookworm "$dir" "$mirror" >"$tmp/debootstrap.log" 2>&1 || {
  tail -20 "$tmp/debootstrap.log" >&2
  exit 1
}

# apt as in Debian's images: deb822 sources with the security archive, no
# lists or archives kept (a RUN that forgets to clean up stays small), no
# translations, no recommends.
rm -f "$dir/etc/apt/sources.list"
cat >"$dir/etc/apt/sources.list.d/debian.sources" <<'EOF'
Types: deb
URIs: http://deb.debian.org/debian
Suites: bookworm bookworm-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb
URIs: http://deb.debian.org/debian-security
Suites: bookworm-security
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
EOF
cat >"$dir/etc/apt/apt.conf.d/docker-clean" <<'EOF'
DPkg::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
APT::Update::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
Dir::Cache::pkgcache "";
Dir::Cache::srcpkgcache "";
EOF
echo 'Acquire::Languages "none";' >"$dir/etc/apt/apt.conf.d/docker-no-languages"
echo 'force-unsafe-io' >"$dir/etc/dpkg/dpkg.cfg.d/docker-apt-speedup"
rm -rf "$dir"/var/lib/apt/lists/* "$dir"/var/cache/apt/archives/*.deb "$dir"/var/cache/apt/*.bin
# Docker writes these per container.
: >"$dir/etc/resolv.conf"
: >"$dir/etc/hostname"
: >"$dir/etc/machine-id"
rm -rf "$dir"/tmp/* "$dir"/var/log/*.log "$dir"/var/log/apt/* "$dir/debootstrap"

tar --numeric-owner --xattrs -C "$dir" -cf "$tmp/bookworm.tar" .

# slim: what dpkg would not have installed with these path excludes.
cat >"$dir/etc/dpkg/dpkg.cfg.d/docker" <<'EOF'
path-exclude /usr/share/doc/*
path-include /usr/share/doc/*/copyright
path-exclude /usr/share/man/*
path-exclude /usr/share/info/*
path-exclude /usr/share/locale/*
path-exclude /usr/share/lintian/*
path-exclude /usr/share/linda/*
EOF
find "$dir/usr/share/doc" -mindepth 1 -not -name copyright -not -type d -delete
find "$dir/usr/share/doc" -mindepth 1 -type d -empty -delete
rm -rf "$dir"/usr/share/man/* "$dir"/usr/share/info/* "$dir"/usr/share/locale/* \
  "$dir"/usr/share/lintian/* "$dir"/usr/share/linda/*
tar --numeric-owner --xattrs -C "$dir" -cf "$tmp/bookworm-slim.tar" .

mkdir -p "$out"
mv "$tmp/bookworm.tar" "$tmp/bookworm-slim.tar" "$out/"
