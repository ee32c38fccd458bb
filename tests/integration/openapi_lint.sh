#!/usr/bin/env bash
# openapi_lint — api/openapi.json, the API's contract: a valid OpenAPI 3.1
# document by a real validator (Redocly CLI's lint, the recommended rules
# of redocly.yaml; pinned in package.json, installed by scripts/bootstrap),
# and complete: every route of api/routes.c's table is an operation of it
# (a route added without its documentation fails here), and every
# operation a route (none documented that the API does not answer).
. "$(dirname "$0")/../lib.sh"
normal_pass_only "checks a document and the answers' shapes, the same in both builds; the API suites send these requests under ASan"

cd "$TEST_ROOT" || exit 1
if [ ! -x node_modules/.bin/redocly ]; then
  not_ok "redocly lint api/openapi.json" "node_modules/.bin/redocly is missing: run scripts/bootstrap (npm ci)"
  exit 0
fi
out=$(node_modules/.bin/redocly lint --format=stylish api/openapi.json 2>&1); rc=$?
check_eq "redocly lint: api/openapi.json is a valid OpenAPI 3.1 document" 0 "$rc"
[ $rc -eq 0 ] || echo "$out" | tail -20 | sed 's/^/#   /'
check "redocly lint: no warning either" bash -c "! grep -qi 'warning' <<<\"\$1\"" _ "$out"
check_eq "the document says OpenAPI 3.1" 3.1 "$(jq -r '.openapi | .[0:3]' api/openapi.json)"

# The route table: {"METHOD", "/path/*/…", handler, flags} lines; the
# catch-all "/*" (the dashboard's files) is the document's "/{file}".
routes=$(sed -n 's/^ *{"\([A-Z]*\)", "\(\/[^"]*\)", [a-z_]*, [A-Z_0-9]*},.*/\1 \2/p' api/routes.c)
[ -n "$routes" ] || not_ok "read the route table of api/routes.c" "no route line matched"
n=0
while read -r method path; do
  [ -n "$method" ] || continue
  n=$((n + 1))
  # each '*' is one parameter: compare with the document's templates,
  # their names replaced by '*'
  have=$(jq -r --arg m "$(tr 'A-Z' 'a-z' <<<"$method")" \
    '.paths | to_entries[] | select(.value[$m]) | .key | gsub("\\{[^}]+\\}"; "*")' api/openapi.json | grep -Fx -- "$path")
  [ "$path" = "/*" ] && have=$(jq -r '.paths | has("/{file}") and has("/") | select(.) | "/*"' api/openapi.json)
  if [ -n "$have" ]; then ok "documented: $method $path"; else not_ok "documented: $method $path" "api/openapi.json has no such operation"; fi
done <<<"$routes"
check_cmp "the route table has its routes ($n)" "$n" -ge 20
# and the other way: every documented operation is a route
while read -r method path; do
  [ -n "$method" ] || continue
  star=$(sed 's/{[^}]*}/*/g' <<<"$path")
  [ "$path" = "/{file}" ] || [ "$path" = "/" ] && star="/*"
  if grep -Fxq -- "$(tr 'a-z' 'A-Z' <<<"$method") $star" <<<"$routes"; then ok "answered: $method $path"
  else not_ok "answered: $method $path" "no such route in api/routes.c"; fi
done < <(jq -r '.paths | to_entries[] | .key as $p | .value | keys[] | select(. != "parameters") | "\(.) \($p)"' api/openapi.json)
