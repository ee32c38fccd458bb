#!/usr/bin/env bash
# fakemarket's own end-to-end checks over real HTTP (every endpoint and
# every fault), against the build under test. It prints the RESULT line.
exec bash "$(dirname "$0")/../fakemarket/smoke.sh" "$BIN/fakemarket"
