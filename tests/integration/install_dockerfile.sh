#!/usr/bin/env bash
# The Dockerfile without a Docker engine (and without hadolint): a static
# check of its instructions, plus everything of the image build that can run
# here — the build stage's bootstrap and make commands are the ones the tests
# run, on exactly the build context .dockerignore lets through; the runtime
# stage's packages provide every shared library the installed binaries link;
# and the stripped binaries still run.
. "$(dirname "$0")/../lib.sh"

PY=/usr/bin/python3
df=$TEST_ROOT/Dockerfile
work=$(mktemp -d)
trap 'rm -rf "$work"; t_cleanup' EXIT
check "Dockerfile exists" test -f "$df"
check ".dockerignore exists" test -f "$TEST_ROOT/.dockerignore"

# Instructions as "STAGE<TAB>INSTRUCTION<TAB>ARGS", continuations joined,
# comments dropped, ARG defaults substituted into FROM.
"$PY" - "$df" >"$work/instr" <<'EOF'
import re, sys
lines, cur = [], ''
for raw in open(sys.argv[1]):
    s = raw.rstrip('\n')
    if not cur and (s.lstrip().startswith('#') or not s.strip()):
        continue
    if s.lstrip().startswith('#'):
        continue
    if s.endswith('\\'):
        cur += s[:-1] + ' '
        continue
    lines.append(cur + s); cur = ''
args, stage = {}, -1
for l in lines:
    ins, _, rest = l.strip().partition(' ')
    ins = ins.upper(); rest = ' '.join(rest.split())
    if ins == 'ARG' and stage < 0:
        k, _, v = rest.partition('='); args[k] = v
    if ins == 'FROM':
        stage += 1
        rest = re.sub(r'\$\{(\w+)\}', lambda m: args.get(m.group(1), ''), rest)
    print(f'{stage}\t{ins}\t{rest}')
EOF
instr() { awk -F'\t' -v s="$1" -v i="$2" '($1 == s || s == "*") && $2 == i { print $3 }' "$work/instr"; }
last=$(awk -F'\t' 'END { print $1 }' "$work/instr")

check_eq "two stages" 1 "$last"
check_eq "build stage: FROM debian:bookworm AS build" "debian:bookworm AS build" "$(instr 0 FROM)"
check_eq "runtime stage: FROM debian:bookworm-slim" "debian:bookworm-slim" "$(instr 1 FROM | awk '{ print $1 }')"
run0=$(instr 0 RUN)
check "build stage installs its dependencies with BOOTSTRAP_PROFILE=build scripts/bootstrap" \
  grep -qE '(^|&& )BOOTSTRAP_PROFILE=build scripts/bootstrap( |$)' <<<"$run0"
check "build stage copies scripts/bootstrap before the sources (dependency layer cached)" \
  test "$(instr 0 COPY | head -1)" = "scripts/bootstrap scripts/bootstrap"
check "build stage runs make" grep -qE '(^|&& )make( |$)' <<<"$run0"
check "build stage runs make install DESTDIR=/staging PREFIX=/usr/local" \
  grep -qE '(^|&& )make install DESTDIR=/staging PREFIX=/usr/local( |$)' <<<"$run0"
check_eq "runtime stage copies the installed PREFIX from the build stage" \
  "--from=build /staging/usr/local/ /usr/local/" "$(instr 1 COPY)"
run1=$(instr 1 RUN)
pkgs=$(grep -oE 'apt-get install [^&]*' <<<"$run1" | tr ' ' '\n' | grep -vE '^(apt-get|install|-.*|)$' | sort | tr '\n' ' ')
check_eq "runtime packages: the four libraries and ca-certificates, nothing else" \
  "ca-certificates libcurl4 libjson-c5 libmicrohttpd12 libpq5 " "$pkgs"
check "runtime apt-get install uses --no-install-recommends" grep -q -- '--no-install-recommends' <<<"$run1"
check "runtime stage removes the apt lists" grep -q 'rm -rf /var/lib/apt/lists' <<<"$run1"
user=$(instr 1 USER | tail -1)
check "runtime stage runs as a non-root USER ($user)" \
  bash -c '[ -n "$1" ] && [ "${1%%:*}" != 0 ] && [ "${1%%:*}" != root ]' _ "$user"
check "… and the USER exists (created by useradd with that uid)" \
  grep -qE "useradd .*--uid ${user%%:*}( |$)" <<<"$run1"
check "USER comes after the last RUN of the runtime stage" \
  test "$(awk -F'\t' '$1 == 1 && ($2 == "RUN" || $2 == "USER") { l = $2 } END { print l }' "$work/instr")" = USER
check_eq "STOPSIGNAL SIGTERM" SIGTERM "$(instr 1 STOPSIGNAL)"
hc=$(instr 1 HEALTHCHECK)
check "HEALTHCHECK runs fetcher-api --readycheck (exec form, no curl needed; GET /readyz: can serve)" \
  grep -qE 'CMD \["fetcher-api", "--readycheck"\]$' <<<"$hc"
check "HEALTHCHECK has a timeout and a start period" grep -qE -- '--timeout=.*--start-period=' <<<"$hc"
check_eq "default CMD runs the API (exec form)" '["fetcher-api"]' "$(instr 1 CMD)"
check_eq "no ENTRYPOINT (compose passes the program as the command)" "" "$(instr '*' ENTRYPOINT)"
check "the API listens on 0.0.0.0 in the image (ENV API_BIND)" grep -q 'API_BIND=0.0.0.0' <<<"$(instr 1 ENV)"
check_eq "EXPOSE 8080" 8080 "$(instr 1 EXPOSE)"
check_eq "no ADD (COPY only)" "" "$(instr '*' ADD)"
check_eq "no latest tag or untagged base image" "" \
  "$(instr '*' FROM | awk '{ print $1 }' | grep -vE ':[A-Za-z0-9._-]+$|^build$' | grep -E ':latest$|^[^:]+$')"

# The build stage's first command: the build profile is a subset of what the
# tests installed, so it must find everything present here and exit 0.
check "BOOTSTRAP_PROFILE=build scripts/bootstrap succeeds" env BOOTSTRAP_PROFILE=build "$TEST_ROOT/scripts/bootstrap"
check "scripts/bootstrap installs as root without sudo (the build stage has none)" \
  grep -q 'id -u' "$TEST_ROOT/scripts/bootstrap"

# The build context: what .dockerignore lets through, computed by docker-py's
# own implementation of the .dockerignore rules (python3-docker, a
# dependency of Debian's docker-compose).
if "$PY" -c 'import docker.utils.build' 2>/dev/null; then
  "$PY" - "$TEST_ROOT" >"$work/context" <<'EOF'
import os, sys
from docker.utils.build import exclude_paths
root = sys.argv[1]
pats = [l.strip() for l in open(os.path.join(root, '.dockerignore')) if l.strip() and not l.startswith('#')]
for p in sorted(exclude_paths(root, pats)):
    if os.path.isfile(os.path.join(root, p)):
        print(p)
EOF
  for f in scripts/bootstrap Makefile migrations/001_initial.sql dashboard/index.html demo/seed.sql \
           common/config.c daemon/main.c api/server.c tests/fakemarket/fakemarket.c; do
    check "build context has $f" grep -qxF "$f" "$work/context"
  done
  check_eq "build context has no build/, .local/, .git/, .env, objects" "" \
    "$(grep -E '^(build|\.local|\.git)/|^\.env$|\.o$|\.d$' "$work/context" | head -5 | tr '\n' ' ')"
  # (The Dockerfile itself is always sent, whatever .dockerignore says.)
  check_eq "build context has no docker-compose.yml, .env.example or contrib/ (edits do not bust the cache)" "" \
    "$(grep -E '^(docker-compose\.yml|\.env\.example|contrib/)' "$work/context" | head -3 | tr '\n' ' ')"
  if [ "${TEST_LABEL:-normal}" = asan ]; then
    skip "the build stage's make + make install on the build context" "done by the normal build's run"
  else
    # COPY . . ; RUN make … && make install DESTDIR=/staging PREFIX=/usr/local
    ctx=$work/src
    mkdir -p "$ctx"
    (cd "$TEST_ROOT" && tar -cf - -T "$work/context") | tar -xf - -C "$ctx"
    if (cd "$ctx" && make -j"$(nproc)" all && make install DESTDIR="$work/staging" PREFIX=/usr/local) \
         >"$TEST_LOG_DIR/docker-build-stage.log" 2>&1; then
      ok "the build stage's make and make install succeed on the .dockerignore'd context"
    else
      not_ok "the build stage's make and make install succeed on the .dockerignore'd context" \
        "$(tail -5 "$TEST_LOG_DIR/docker-build-stage.log")"
    fi
    staged=$work/staging/usr/local
    check_eq "the staged tree has the three programs" "fakemarket fetcher-api fetcherd" "$(ls "$staged/bin" 2>/dev/null | tr '\n' ' ' | sed 's/ $//')"
    check_eq "the staged tree has migrations, dashboard, demo" "dashboard demo migrations" \
      "$(ls "$staged/share/fetcherd" 2>/dev/null | tr '\n' ' ' | sed 's/ $//')"
    # RUN … && strip --strip-unneeded /staging/usr/local/bin/*
    if strip --strip-unneeded "$staged"/bin/* 2>"$work/strip.err"; then ok "strip --strip-unneeded works on the binaries"
    else not_ok "strip --strip-unneeded works on the binaries" "$(cat "$work/strip.err")"; fi
    for b in fetcherd fetcher-api; do
      check "stripped $b still runs (--version)" "$staged/bin/$b" --version
    done
    check "stripped fakemarket still runs (--help)" bash -c "'$staged/bin/fakemarket' --help 2>&1 | grep -q usage"
    kb=$(du -sk "$staged" | cut -f1)
    check_cmp "the installed tree is small (${kb} KiB < 5 MiB)" "$kb" -lt 5120

    # The runtime stage: every library the binaries need directly comes from
    # libc6 (in the base image) or one of the runtime packages; apt brings
    # their own dependencies.
    for b in "$staged"/bin/*; do
      for lib in $(objdump -p "$b" | awk '$1 == "NEEDED" { print $2 }'); do
        path=$(ldd "$b" | awk -v l="$lib" '$1 == l { print $3 }')
        pkg=$(dpkg -S "$(readlink -f "$path")" 2>/dev/null | head -1 | cut -d: -f1)
        [ -z "$pkg" ] && pkg=$(dpkg -S "$path" 2>/dev/null | head -1 | cut -d: -f1)
        case " libc6 $pkgs" in
          *" $pkg "*) ok "$(basename "$b"): $lib comes from $pkg (in the runtime image)" ;;
          *) not_ok "$(basename "$b"): $lib comes from a runtime package" "from '${pkg:-?}', not in: libc6 $pkgs" ;;
        esac
      done
    done
  fi
else
  skip "build context checks" "python3-docker (docker-compose's dependency) missing"
fi

# The compose file's services run programs the image has.
for p in fetcherd fetcher-api fakemarket; do
  check "docker-compose.yml's command $p is installed by make install" \
    grep -q "\"$p\"" "$TEST_ROOT/docker-compose.yml"
done
