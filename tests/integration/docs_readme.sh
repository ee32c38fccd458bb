#!/usr/bin/env bash
# The README stays true: every environment variable the programs read is in
# its configuration table (and none it lists is gone), with the default and
# meaning of the config table itself; the two commands and every documented
# endpoint exist.
. "$(dirname "$0")/../lib.sh"
normal_pass_only "checks the README against the code; nothing in it runs our C"

readme=$TEST_ROOT/README.md
vars=$("$BIN/fetcherd" --help | sed -n '/^Environment variables/,$p' | awk 'NR > 1 {print $1}')
missing=""
for v in $vars; do grep -q "^| \`$v\` |" "$readme" || missing="$missing $v"; done
check_eq "every variable fetcherd --help lists is in the README's table" "" "$missing"
gone=""
config_section=$(sed -n '/^## Configuration/,/^## /p' "$readme")
for v in $(grep -oE '^\| `[A-Z_]+` \|' <<<"$config_section" | tr -d '|` '); do
  echo "$vars" | grep -qx "$v" || gone="$gone $v"
done
check_eq "the README lists no variable the programs do not read" "" "$gone"
# The config table (common/config.c) is the one source of each variable's
# default and meaning: the README row says what `fetcherd --help` prints
# from it, word for word ("unset" for an empty default).
differ=""
while IFS= read -r line; do
  name=$(awk '{print $1}' <<<"$line")
  rest=$(sed -E 's/^ +[A-Z_]+ +//' <<<"$line")
  def=$(sed -E 's/.* \(default: (.*)\)$/\1/' <<<"$rest")
  help=$(sed -E 's/ \(default: .*\)$//' <<<"$rest")
  if [ "$def" = unset ]; then shown=unset; else shown="\`$def\`"; fi
  grep -qxF "| \`$name\` | $shown | $help |" "$readme" || differ="$differ $name"
done < <("$BIN/fetcherd" --help | sed -n '/^Environment variables/,$p' | awk 'NR > 1 && /^  [A-Z_]+ /')
check_eq "each README row's default and meaning are the config table's" "" "$differ"
check "the README shows make run" grep -q 'make run' "$readme"
check "the README shows make test" grep -q 'make test' "$readme"
check ".ci/run calls make test" grep -q 'make test' "$TEST_ROOT/.ci/run"

# every endpoint in the README's API table answers something other than 404
new_db || exit 1
migrate
load_demo   # so {symbol} = AAPL names a tracked asset
start_api || { not_ok "fetcher-api starts"; exit 0; }
while read -r method path; do
  p=${path%%\?*}
  p=${p//\{symbol\}/AAPL}
  p=${p//\{id\}/1}
  # One request each. A route that does not exist answers {"error": "not
  # found"}; a missing resource (no cycle 1 yet) names what is missing.
  code=$(curl -s --max-time 3 -o "$TEST_LOG_DIR/doc-body" -w '%{http_code}' -X "$method" \
           -H 'Content-Type: application/json' "$API_URL$p")
  err=$(jq -r '.error? // empty' "$TEST_LOG_DIR/doc-body" 2>/dev/null)
  check "README endpoint $method $p is routed (HTTP $code${err:+: $err})" \
    test "$code" != 404 -o "$err" != "not found"
done < <(grep -oE '^\| (GET|POST|PATCH|DELETE) +\| `[^`]+`' "$readme" | sed -E 's/^\| ([A-Z]+) +\| `([^`]+)`/\1 \2/')
exit 0
