# Every write route of api/routes.c's table, and for each a request that
# succeeds and changes something — so that "refused, and nothing changed"
# (hostile_auth.sh, hostile_crossite.sh) is never a blind test. Sourced by
# those suites after lib.sh, with the demo data loaded (its symbols are
# read from the database, whichever they are).
#
#   wr_routes          "METHOD PATTERN" of every write route, in table order
#   wr_prep ROUTE      sets the data up so that ROUTE's request (below)
#                      succeeds and changes a row or sends a NOTIFY; run it
#                      before each use: the routes undo each other (untrack,
#                      delete, resume) and the demo load needs an empty
#                      database
#   wr_request ROUTE   "PATH|BODY" of that request (after wr_prep: the ids
#                      are looked up then); fails for a route it does not
#                      know, which the suites report as a failure
#   wr_data            one line holding everything the writes change

wr_routes() {
  grep -oE '^\s*\{"[A-Z]+", "[^"]+"' "$TEST_ROOT/api/routes.c" |
    sed -E 's/^\s*\{"([A-Z]+)", "([^"]+)"/\1 \2/' | grep -v '^GET '
}

# Six tracked symbols of the demo data: refresh, untrack, and the three
# position routes and the import each on a symbol of its own.
mapfile -t WR_SYMS < <(sql "SELECT a.symbol FROM assets a JOIN tracked_assets t ON t.asset_id = a.id ORDER BY a.symbol LIMIT 6")
WR_REF=${WR_SYMS[0]-} WR_DEL=${WR_SYMS[1]-} WR_ADD=${WR_SYMS[2]-} WR_UPD=${WR_SYMS[3]-}
WR_RM=${WR_SYMS[4]-} WR_IMP=${WR_SYMS[5]-} WR_NEW=WRNEW
[ "${#WR_SYMS[@]}" = 6 ] || not_ok "the demo data tracks six assets for the write routes" "got ${#WR_SYMS[@]}"

wr_prep() {
  if [ "$1" = "POST /api/fetcher/demo" ]; then   # the demo loads into an empty database only
    sql "DELETE FROM portfolios; DELETE FROM assets" >/dev/null
    return
  fi
  [ "$(sql "SELECT count(*) FROM assets")" != 0 ] || load_demo
  local paused=false
  [ "$1" = "POST /api/fetcher/resume" ] && paused=true
  # Portfolio "Writes P" holds $WR_UPD and $WR_RM, not $WR_ADD nor $WR_IMP;
  # "Writes D" is there to be deleted; "Writes new" is not there yet.
  sql "UPDATE fetcher_settings SET paused = $paused, paused_at = CASE WHEN $paused THEN now() END,
         paused_by = CASE WHEN $paused THEN 'writes.sh' END;
       DELETE FROM tracked_assets WHERE asset_id IN (SELECT id FROM assets WHERE symbol = '$WR_NEW');
       INSERT INTO tracked_assets (asset_id) SELECT id FROM assets WHERE symbol = '$WR_DEL' ON CONFLICT DO NOTHING;
       DELETE FROM portfolios WHERE name IN ('Writes P', 'Writes D', 'Writes new');
       INSERT INTO portfolios (name, currency) VALUES ('Writes P', 'USD'), ('Writes D', 'USD');
       INSERT INTO portfolio_positions (portfolio_id, asset_id, quantity, average_buy_price)
         SELECT p.id, a.id, 1, 10 FROM portfolios p, assets a
         WHERE p.name = 'Writes P' AND a.symbol IN ('$WR_UPD', '$WR_RM')" >/dev/null
}

wr_request() {
  local base=/api/fetcher p d
  p=$(sql "SELECT id FROM portfolios WHERE name = 'Writes P'")
  d=$(sql "SELECT id FROM portfolios WHERE name = 'Writes D'")
  case "$1" in
    "POST /api/fetcher/assets") echo "$base/assets|{\"symbol\":\"$WR_NEW\",\"type\":\"stock\",\"name\":\"Write test\"}" ;;
    "DELETE /api/fetcher/assets/*") echo "$base/assets/$WR_DEL|" ;;
    "POST /api/fetcher/assets/*/refresh") echo "$base/assets/$WR_REF/refresh|" ;;
    "POST /api/fetcher/portfolios") echo "$base/portfolios|{\"name\":\"Writes new\",\"currency\":\"EUR\"}" ;;
    "PATCH /api/fetcher/portfolios/*") echo "$base/portfolios/$p|{\"currency\":\"CHF\"}" ;;
    "DELETE /api/fetcher/portfolios/*") echo "$base/portfolios/$d|" ;;
    "POST /api/fetcher/portfolios/*/positions")
      echo "$base/portfolios/$p/positions|{\"symbol\":\"$WR_ADD\",\"quantity\":\"2\",\"average_buy_price\":\"3.5\"}" ;;
    "PATCH /api/fetcher/portfolios/*/positions/*") echo "$base/portfolios/$p/positions/$WR_UPD|{\"quantity\":\"7\"}" ;;
    "DELETE /api/fetcher/portfolios/*/positions/*") echo "$base/portfolios/$p/positions/$WR_RM|" ;;
    "POST /api/fetcher/portfolios/*/import")
      echo "$base/portfolios/$p/import|{\"csv\":\"symbol,quantity,average_buy_price\\n$WR_IMP,4,5\\n\",\"commit\":true}" ;;
    "POST /api/fetcher/demo") echo "$base/demo|" ;;
    "POST /api/fetcher/trigger-update") echo "$base/trigger-update|" ;;
    "POST /api/fetcher/pause") echo "$base/pause|" ;;
    "POST /api/fetcher/resume") echo "$base/resume|" ;;
    *) return 1 ;;
  esac
}

wr_data() {
  sql "SELECT coalesce((SELECT string_agg(paused::text || coalesce(paused_by, ''), ',') FROM fetcher_settings), '')
    || '|' || (SELECT coalesce(string_agg(asset_id::text, ',' ORDER BY asset_id), '') FROM tracked_assets)
    || '|' || (SELECT count(*) FROM assets)
    || '|' || (SELECT coalesce(string_agg(id || ':' || name || ':' || currency, ',' ORDER BY id), '') FROM portfolios)
    || '|' || (SELECT coalesce(string_agg(portfolio_id || ':' || asset_id || ':' || quantity || ':'
                 || average_buy_price || ':' || coalesce(currency, ''), ',' ORDER BY portfolio_id, asset_id), '')
               FROM portfolio_positions)"
}
