#!/usr/bin/env bash
# make_fresh — `make` on a machine without the build libraries (issue 17):
# it installs the build profile itself (scripts/bootstrap with
# BOOTSTRAP_PROFILE=build) and goes on, or stops with one line saying to run
# `make bootstrap`; never a screen of pkg-config errors. Run on a copy of the
# Makefile with a pkg-config that finds nothing and a scripts/bootstrap
# that records how it was called (the real one would install packages).
. "$(dirname "$0")/../lib.sh"

W=$(mktemp -d)
trap 'rm -rf "$W"; t_cleanup' EXIT
mkdir -p "$W/bin" "$W/scripts" "$W/tests/unit"
cp "$TEST_ROOT/Makefile" "$W/"
cp "$TEST_ROOT/tests/unit/deps.mk" "$W/tests/unit/"
# pkg-config: nothing is installed until "bootstrap" leaves its flag
cat >"$W/bin/pkg-config" <<'SH'
#!/bin/sh
[ -f "$FLAG" ] || exit 1
case "$1" in --exists) exit 0 ;; *) echo "" ;; esac
SH
chmod +x "$W/bin/pkg-config"
bootstrap_stub() {   # $1: 0 = "installs", 1 = cannot
  cat >"$W/scripts/bootstrap" <<SH
#!/bin/sh
echo "profile=\${BOOTSTRAP_PROFILE:-unset}" >>"$W/calls"
[ "$1" = 0 ] && touch "\$FLAG"
exit $1
SH
  chmod +x "$W/scripts/bootstrap"
}
export FLAG=$W/installed
run_make() { (cd "$W" && PATH="$W/bin:$PATH" make --no-print-directory "$@" >"$W/out" 2>&1); }

bootstrap_stub 1
run_make all; rc=$?
check_cmp "libraries missing, bootstrap fails: make stops (exit $rc)" "$rc" -ne 0
check_eq "…having asked scripts/bootstrap for the build profile" "profile=build" "$(cat "$W/calls" 2>/dev/null)"
check "…with one line saying to run make bootstrap" grep -q '^Makefile:.*run `make bootstrap`' "$W/out"
check_eq "…and no pkg-config or compiler error" 0 "$(grep -ciE 'pkg-config:|No such file|fatal error' "$W/out")"
check_eq "…its whole output: the notice and the error line" 2 "$(wc -l <"$W/out")"

rm -f "$W/calls"
run_make clean; rc=$?
check_eq "make clean needs no libraries and asks for none" "0 " "$rc $(cat "$W/calls" 2>/dev/null)"

bootstrap_stub 0
run_make -n all; rc=$?
check_eq "bootstrap installs them: make goes on to build (make -n all exit 0)" 0 "$rc"
check_eq "…after one bootstrap of the build profile" "profile=build" "$(cat "$W/calls")"
check "…and would link fetcherd" grep -q -- '-o build/fetcherd' "$W/out"
rm -f "$W/calls"
run_make -n all
check_eq "libraries present: no bootstrap at all" "" "$(cat "$W/calls" 2>/dev/null)"
