#!/usr/bin/env bash
# `docker compose up`, for real: a private Docker engine, the image built
# from this tree, and the README's "Run with Docker" commands run as written.
# The suite is tests/docker/suite.sh; this file decides whether it can run.
#
# Runs with the normal build only (the image compiles its own binaries; the
# asan pass would build and run the very same image again). Skipped, with
# the reason, only where no engine can start: not root, or dockerd refuses
# to run on this machine. A missing dockerd/debootstrap is a failure:
# scripts/bootstrap installs them.
#
# Cold (no cache: debootstrap, the stand-in, the image and the release's
# image built from scratch) it takes several minutes more than warm; the
# time limit leaves room for a cold run on a busy machine.
# test-timeout: 1500
. "$(dirname "$0")/../lib.sh"

if [ "${TEST_LABEL:-normal}" = asan ]; then
  skip "docker compose, the README's commands" "runs the normal build only (the image builds its own binaries)"
  exit 0
fi
if [ "$(id -u)" != 0 ]; then
  skip "docker compose, the README's commands" "needs root to start a private Docker engine"
  exit 0
fi
for p in dockerd docker docker-compose debootstrap; do
  command -v "$p" >/dev/null || { not_ok "$p is installed (scripts/bootstrap, test profile)"; exit 1; }
done

. "$TEST_ROOT/tests/docker/suite.sh"
