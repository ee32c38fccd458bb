/*
 * sql — see sql.h. Times leave the database already formatted as RFC 3339
 * UTC with milliseconds, the same shape util_fmt_time() writes, so every
 * timestamp in every answer looks alike.
 *
 * Filters are written "($n IS NULL OR col = $n)"; apidb.c runs the session
 * with plan_cache_mode = force_custom_plan so the planner sees the actual
 * parameters, folds the absent filters away and can use the indexes.
 */
#include "sql.h"

#define TS(col) "to_char((" col ") AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"')"
/* Rows a filtered log query counts at most for its total. */
#define LOGS_TOTAL_CAP "1000"
#define LIVE_INSTANCE                                                                              \
    "state = 'running' AND last_heartbeat > now() - make_interval(secs => $1::int)"

// clang-format off
/* The filtered log query; mat decides whether the filtered rows are found
 * once (MATERIALIZED) or walked in id order (NOT MATERIALIZED). */
#define LOGS_FILTERED(mat) LOGS_FILTERED_Q(mat, "$8::text IS NULL OR ")
/* q's condition: "$8 IS NULL OR " makes it optional (custom plans fold it
 * away); without it q is required, and a generic plan still walks the
 * trigram indexes. */
#define LOGS_FILTERED_Q(mat, q_optional)                                                           \
    "WITH f AS " mat " (SELECT id, \"timestamp\", level, message, context, cycle_id, instance_id"    \
    "  FROM fetcher_logs"                                                                          \
    "  WHERE ($3::text IS NULL OR level = $3::text)"                                               \
    "  AND ($4::text[] IS NULL OR level = ANY ($4::text[]))"                                       \
    "  AND ($5::timestamptz IS NULL OR \"timestamp\" >= $5::timestamptz)"                          \
    "  AND ($6::timestamptz IS NULL OR \"timestamp\" < $6::timestamptz)"                           \
    "  AND ($7::bigint IS NULL OR cycle_id = $7::bigint)"                                          \
    "  AND (" q_optional "message ILIKE '%' || replace(replace(replace($8::text,"                  \
    "   '\\', '\\\\'), '%', '\\%'), '_', '\\_') || '%')),"                                         \
    " page AS (SELECT * FROM f WHERE ($9::bigint IS NULL OR id < $9::bigint)"                      \
    "  ORDER BY id DESC LIMIT $1::int OFFSET $2::bigint),"                                         \
    " counted AS (SELECT count(*) AS n FROM (SELECT 1 FROM f LIMIT " LOGS_TOTAL_CAP " + 1) x)"     \
    " SELECT json_build_object("                                                                   \
    " 'logs', coalesce((SELECT json_agg(json_build_object('id', id, 'timestamp', "                 \
    TS("\"timestamp\"") ","                                                                        \
    "   'level', level, 'message', message, 'context', context, 'cycle_id', cycle_id,"             \
    "   'instance_id', instance_id) ORDER BY id DESC) FROM page), '[]'::json),"                    \
    " 'total', (SELECT least(n, " LOGS_TOTAL_CAP ") FROM counted),"                                \
    " 'total_exact', (SELECT n <= " LOGS_TOTAL_CAP " FROM counted),"                               \
    " 'limit', $1::int, 'offset', $2::bigint,"                                                     \
    " 'next_before_id', (SELECT CASE WHEN count(*) = $1::int THEN min(id) END FROM page)"          \
    " )::text"

/* Per asset type of the tracked assets: how many, the oldest price's age
 * (since its last successful update, or since it was tracked when it never
 * had one), the bound past which a price is stale and how many are. The
 * bound is the daemon's own (its newest heartbeat's stale_after_s, i.e.
 * FETCH_STALENESS) plus one fetch interval: a price at its bound is due at
 * the next cycle, so one interval later a cycle that should have refreshed
 * it did not. $2 stands in for both when no daemon ever wrote a heartbeat.
 * Not stale, whatever their age: an asset whose bound is 'never' (fetched
 * only when asked), and, when the daemon keeps market hours, one whose
 * market is closed (its price is the close until it opens; migration
 * 010's calendar). */
#define STALENESS_JSON                                                                             \
    "(SELECT json_object_agg(type, json_build_object('assets', n, 'max_age_s', max_age,"           \
    "  'stale', stale, 'bound_s', bound)) FROM (SELECT type, count(*) AS n,"                       \
    "  round(max(age)::numeric, 3) AS max_age,"                                                    \
    "  count(*) FILTER (WHERE age > bound AND NOT exempt) AS stale,"                               \
    "  max(bound) AS bound FROM (SELECT a.asset_type AS type,"                                     \
    "   extract(epoch FROM now() - coalesce(t.last_price_update, t.added_at)) AS age,"             \
    "   coalesce((hb.b ->> a.asset_type)::bigint, $2::bigint)"                                     \
    "    + coalesce(hb.interval_s, $2::bigint) AS bound,"                                          \
    "   coalesce((hb.b ->> a.asset_type)::bigint, $2::bigint) < 0"                                 \
    "    OR (coalesce(hb.mh, false) AND coalesce(m.known AND NOT m.is_open, false)) AS exempt"     \
    "   FROM tracked_assets t JOIN assets a ON a.id = t.asset_id"                                  \
    "   LEFT JOIN (SELECT interval_s, detail -> 'stale_after_s' AS b,"                             \
    "    (detail ->> 'market_hours')::boolean AS mh FROM fetcher_instances"                        \
    "    ORDER BY last_heartbeat DESC LIMIT 1) hb ON true"                                         \
    "   LEFT JOIN (SELECT k.key, s.known, s.is_open FROM (SELECT DISTINCT"                         \
    "    fetcher_market_key(asset_type, provider_exchange) AS key FROM assets) k"                  \
    "    CROSS JOIN LATERAL fetcher_market_state(k.key, fetcher_now()) s) m"                       \
    "    ON m.key = fetcher_market_key(a.asset_type, a.provider_exchange)) ages"                   \
    "  GROUP BY type) per_type)"

#define EPOCH_MS(col) "(extract(epoch FROM " col ") * 1000)::bigint"

/* clang-format off: the SQL is laid out for reading, not for the formatter. */
// clang-format off
/* One position of a portfolio: x a portfolio_positions row, a its asset. */
#define POSITION_DOC                                                                               \
    "json_build_object('symbol', a.symbol, 'name', a.name, 'asset_type', a.asset_type,"            \
    " 'quantity', trim_scale(x.quantity), 'average_buy_price', trim_scale(x.average_buy_price),"  \
    " 'currency', coalesce(x.currency, a.currency), 'asset_currency', a.currency)"

/* A portfolio with its positions (latest price and value each) and its
 * valuation from portfolio_performance_cache; "stale" when the portfolio
 * changed after that valuation was made. p is a portfolios row. */
#define PORTFOLIO_DOC(p)                                                                           \
    "json_build_object('id', " p ".id, 'name', " p ".name, 'currency', " p ".currency,"           \
    " 'created_at', " TS(p ".created_at") ", 'updated_at', " TS(p ".updated_at") ","              \
    " 'valuation', (SELECT json_build_object('currency', c.currency,"                             \
    "  'total_value', trim_scale(c.total_value), 'total_invested', trim_scale(c.total_invested)," \
    "  'total_return', trim_scale(c.total_return), 'return_pct', trim_scale(c.return_pct),"       \
    "  'positions', c.positions, 'priced_positions', c.priced_positions, 'missing', c.missing,"   \
    "  'calculated_at', " TS("c.calculated_at") ", 'cycle_id', c.cycle_id,"                       \
    "  'value_usd', trim_scale(c.value_usd), 'day_change', trim_scale(c.day_change),"             \
    "  'day_change_pct', trim_scale(c.day_change_pct), 'week_change', trim_scale(c.week_change)," \
    "  'week_change_pct', trim_scale(c.week_change_pct),"                                         \
    "  'month_change', trim_scale(c.month_change),"                                               \
    "  'month_change_pct', trim_scale(c.month_change_pct),"                                       \
    "  'year_change', trim_scale(c.year_change), 'year_change_pct', trim_scale(c.year_change_pct)," \
    "  'stale', c.calculated_at < " p ".updated_at)"                                              \
    "  FROM portfolio_performance_cache c WHERE c.portfolio_id = " p ".id),"                      \
    " 'positions', coalesce((SELECT json_agg(json_build_object('symbol', a.symbol,"               \
    "  'name', a.name, 'asset_type', a.asset_type, 'quantity', trim_scale(x.quantity),"           \
    "  'average_buy_price', trim_scale(x.average_buy_price),"                                     \
    "  'currency', coalesce(x.currency, a.currency), 'asset_currency', a.currency,"               \
    "  'tracked', t.asset_id IS NOT NULL, 'price', trim_scale(lp.price),"                         \
    "  'price_currency', lp.currency, 'price_time', " TS("lp.price_time") ","                     \
    "  'value', trim_scale(x.quantity * lp.price)) ORDER BY a.symbol)"                            \
    "  FROM portfolio_positions x JOIN assets a ON a.id = x.asset_id"                             \
    "  LEFT JOIN tracked_assets t ON t.asset_id = a.id"                                           \
    "  LEFT JOIN LATERAL (SELECT price, currency, price_time FROM asset_prices"                   \
    "   WHERE asset_id = a.id ORDER BY fetched_at DESC LIMIT 1) lp ON true"                       \
    "  WHERE x.portfolio_id = " p ".id), '[]'::json))"


const struct db_stmt api_sql[SQL_COUNT_] = {
    [SQL_INSTANCES] =
        {"api_instances",
         "SELECT instance_id, host, pid, " TS("started_at") ", " TS("last_heartbeat") ","
         " greatest(0, round(extract(epoch FROM now() - last_heartbeat)::numeric, 1)),"
         " state, phase, interval_s,"
         " CASE WHEN next_cycle_at IS NULL THEN NULL ELSE"
         "  greatest(0, ceil(extract(epoch FROM next_cycle_at - now())))::bigint END,"
         " cycle_id, " TS("cycle_started") ", cycle_done, cycle_total,"
         " tracked_assets, queue::text, detail::text,"
         " greatest(0, floor(extract(epoch FROM now() - started_at)))::bigint,"
         " (" LIVE_INSTANCE ") AS live, version, " TS("stopped_at") ","
         /* the fleet (migration 016): its role, and its share of the last
          * finished cycle (the assets it recorded there) */
         " detail->>'fleet_role',"
         " (SELECT count(*) FROM price_update_log p WHERE p.instance_id = i.instance_id"
         "   AND p.cycle_id = (SELECT max(id) FROM fetcher_cycles WHERE status <> 'running'))"
         " FROM fetcher_instances i ORDER BY last_heartbeat DESC LIMIT 20",
         1},
    [SQL_STATUS_SUMMARY] =
        {"api_status_summary",
         "SELECT (SELECT count(*) FROM tracked_assets), "
         TS("greatest((SELECT max(last_price_update) FROM tracked_assets),"
            " (SELECT finished_at FROM fetcher_cycles WHERE status <> 'running'"
            "  ORDER BY id DESC LIMIT 1))") ","
         " coalesce(s.paused, false), " TS("s.paused_at") ", s.paused_by,"
         " (SELECT holder FROM fetcher_lease WHERE name = 'schedule' AND expires_at > now())"
         " FROM (SELECT 1) one LEFT JOIN fetcher_settings s ON s.id = 1",
         0},
    /* All-time totals come from fetcher_cycle_counts (kept by triggers,
     * migration 003): six rows instead of an aggregate over every cycle.
     * Empty cycles (nothing was tracked, migration 012) are counted apart,
     * in empty_cycles, and left out of the cycle totals, the rates and the
     * durations: they did no work to succeed or fail at.
     * "Since start" is the live instance's cycles since its started_at, by
     * the (instance_id, started_at) index. */
    [SQL_STATISTICS] =
        {"api_statistics",
         "WITH cc AS (SELECT"
         "  coalesce(sum(n) FILTER (WHERE status NOT IN ('running', 'empty')), 0) AS total,"
         "  coalesce(sum(n) FILTER (WHERE status = 'empty'), 0) AS empty,"
         "  coalesce(sum(n) FILTER (WHERE status IN ('succeeded', 'partial')), 0) AS ok,"
         "  coalesce(sum(n) FILTER (WHERE status IN ('failed', 'aborted')), 0) AS bad,"
         "  coalesce(sum(n) FILTER (WHERE status = 'partial'), 0) AS partial,"
         "  coalesce(sum(n) FILTER (WHERE status = 'running'), 0) AS running,"
         "  coalesce(sum(assets_succeeded) FILTER (WHERE status <> 'running'), 0) AS a_ok,"
         "  coalesce(sum(assets_failed) FILTER (WHERE status <> 'running'), 0) AS a_bad,"
         "  coalesce(sum(upstream_requests) FILTER (WHERE status <> 'running'), 0) AS upstream,"
         "  coalesce(sum(duration_ms) FILTER (WHERE status NOT IN ('running', 'empty')), 0) AS ms"
         "  FROM fetcher_cycle_counts),"
         " recent AS (SELECT duration_ms FROM fetcher_cycles"
         "  WHERE status NOT IN ('running', 'empty') ORDER BY id DESC LIMIT 100),"
         " last AS (SELECT duration_ms, finished_at, status FROM fetcher_cycles"
         "  WHERE status NOT IN ('running', 'empty') ORDER BY id DESC LIMIT 1),"
         " live AS (SELECT instance_id, started_at FROM fetcher_instances WHERE " LIVE_INSTANCE
         "  ORDER BY last_heartbeat DESC LIMIT 1),"
         " ss AS (SELECT l.instance_id, l.started_at,"
         "  count(c.id) FILTER (WHERE c.status NOT IN ('running', 'empty')) AS total,"
         "  count(c.id) FILTER (WHERE c.status = 'empty') AS empty,"
         "  count(c.id) FILTER (WHERE c.status IN ('succeeded', 'partial')) AS ok,"
         "  count(c.id) FILTER (WHERE c.status IN ('failed', 'aborted')) AS bad,"
         "  count(c.id) FILTER (WHERE c.status = 'partial') AS partial,"
         "  coalesce(sum(c.assets_succeeded) FILTER (WHERE c.status <> 'running'), 0) AS a_ok,"
         "  coalesce(sum(c.assets_failed) FILTER (WHERE c.status <> 'running'), 0) AS a_bad,"
         "  coalesce(sum(c.upstream_requests) FILTER (WHERE c.status <> 'running'), 0) AS upstream,"
         "  avg(c.duration_ms) FILTER (WHERE c.status NOT IN ('running', 'empty')) AS avg_ms"
         "  FROM live l LEFT JOIN fetcher_cycles c ON c.instance_id = l.instance_id"
         "   AND c.started_at >= l.started_at GROUP BY l.instance_id, l.started_at)"
         " SELECT json_build_object("
         " 'uptime_seconds', coalesce((SELECT greatest(0, floor(extract(epoch FROM"
         "   now() - started_at)))::bigint FROM live), 0),"
         " 'total_cycles', a.total, 'successful_cycles', a.ok, 'failed_cycles', a.bad,"
         " 'partial_cycles', a.partial, 'running_cycles', a.running, 'empty_cycles', a.empty,"
         " 'success_rate', CASE WHEN a.total = 0 THEN 0 ELSE round(100.0 * a.ok / a.total, 2) END,"
         " 'average_cycle_duration_seconds', (SELECT round(avg(duration_ms) / 1000.0, 3) FROM recent),"
         " 'last_cycle_duration_seconds', (SELECT round(duration_ms / 1000.0, 3) FROM last),"
         " 'last_cycle_status', (SELECT status FROM last),"
         " 'last_cycle_finished_at', (SELECT " TS("finished_at") " FROM last),"
         " 'assets_tracked', (SELECT count(*) FROM tracked_assets),"
         " 'assets_succeeded', a.a_ok, 'assets_failed', a.a_bad,"
         " 'asset_success_rate', CASE WHEN a.a_ok + a.a_bad = 0 THEN 0"
         "   ELSE round(100.0 * a.a_ok / (a.a_ok + a.a_bad), 2) END,"
         " 'upstream_requests', a.upstream,"
         " 'all_time', json_build_object('total_cycles', a.total, 'successful_cycles', a.ok,"
         "   'failed_cycles', a.bad, 'partial_cycles', a.partial, 'empty_cycles', a.empty,"
         "   'success_rate', CASE WHEN a.total = 0 THEN 0 ELSE round(100.0 * a.ok / a.total, 2) END,"
         "   'average_cycle_duration_seconds', CASE WHEN a.total = 0 THEN NULL"
         "     ELSE round(a.ms / a.total / 1000.0, 3) END,"
         "   'assets_succeeded', a.a_ok, 'assets_failed', a.a_bad, 'upstream_requests', a.upstream),"
         " 'since_start', (SELECT json_build_object('instance_id', instance_id,"
         "   'started_at', " TS("started_at") ", 'total_cycles', total, 'successful_cycles', ok,"
         "   'failed_cycles', bad, 'partial_cycles', partial, 'empty_cycles', empty,"
         "   'success_rate', CASE WHEN total = 0 THEN 0 ELSE round(100.0 * ok / total, 2) END,"
         "   'average_cycle_duration_seconds', round(avg_ms / 1000.0, 3),"
         "   'assets_succeeded', a_ok, 'assets_failed', a_bad, 'upstream_requests', upstream)"
         "   FROM ss))::text FROM cc a",
         1},
    /* Logs with filters beyond the level (since/until here; cycle_id and
     * q in SQL_LOGS_NARROW). The total is counted up to LOGS_TOTAL_CAP
     * rows only: an exact count of a broad filter over millions of rows
     * would cost more than the page; total_exact says whether it was
     * capped. The caller bounds the statement's time (ep_logs.c). */
    [SQL_LOGS] = {"api_logs", LOGS_FILTERED("NOT MATERIALIZED"), 9},
    /* The same for the filters that select few rows wherever they are: a
     * cycle's logs, a search. The matches are found once through their
     * index (cycle_id's, or migration 009's trigram index for q: ILIKE
     * with its wildcards escaped) and then sorted; left to itself the
     * planner would walk every day's id index newest first looking for
     * them (5 s for a cycle_id at 5 million rows). */
    [SQL_LOGS_NARROW] = {"api_logs_narrow", LOGS_FILTERED("MATERIALIZED"), 9},
    /* q alone (with levels or before_id at most): as SQL_LOGS_NARROW, q
     * required, and run with a generic plan (apidb.c): planned once per
     * connection, not for every search across every day's trigram index
     * (3 ms a search at 35 days, as long as running it). With no time
     * filter there is no day to prune that a custom plan would gain. */
    [SQL_LOGS_SEARCH] = {"api_logs_search", LOGS_FILTERED_Q("MATERIALIZED", ""), 9},
    /* Newest first by id; before_id is the keyset cursor (next_before_id
     * names the next page), so a page is an index walk from the cursor
     * however deep it is. The asset's name is looked up for each of the
     * page's rows (an index probe each), not joined: joined, the planner
     * hashed every asset for the 50 rows, a cost that grew with the
     * assets tracked (at 10,000, a third of the request; bench/scale.sh). */
    [SQL_RECENT_UPDATES] =
        {"api_recent_updates",
         "SELECT json_build_object('updates', coalesce(json_agg(json_build_object("
         " 'id', p.id, 'symbol', p.symbol,"
         " 'name', (SELECT a.name FROM assets a WHERE a.id = p.asset_id),"
         " 'timestamp', " TS("p.\"timestamp\"") ","
         " 'price', trim_scale(p.price), 'success', p.success, 'error', p.error,"
         " 'currency', p.currency, 'duration_ms', p.duration_ms, 'cycle_id', p.cycle_id,"
         " 'source', p.source, 'failover_reason', p.failover_reason, 'crosscheck', p.crosscheck)"
         " ORDER BY p.id DESC), '[]'::json),"
         " 'next_before_id', CASE WHEN count(*) = $1::int THEN min(p.id) END)::text"
         " FROM (SELECT * FROM price_update_log"
         "  WHERE ($2::text IS NULL OR asset_id = (SELECT id FROM assets WHERE symbol = $2::text))"
         "  AND ($3::boolean IS NULL OR success = $3::boolean)"
         "  AND ($4::bigint IS NULL OR id < $4::bigint)"
         "  ORDER BY id DESC LIMIT $1::int) p",
         4},
    [SQL_TRIGGER] = {"api_trigger", "SELECT pg_notify('fetcher_trigger', $1::text)", 1},
    /* The total from fetcher_cycle_counts (kept by triggers, migration
     * 003), not a count(*); before_id as for recent updates. */
    [SQL_CYCLES] =
        {"api_cycles",
         "WITH f AS NOT MATERIALIZED (SELECT * FROM fetcher_cycles WHERE ($3::text IS NULL OR status = $3::text)),"
         " page AS (SELECT * FROM f WHERE ($4::bigint IS NULL OR id < $4::bigint)"
         "  ORDER BY id DESC LIMIT $1::int OFFSET $2::bigint)"
         " SELECT json_build_object('cycles', coalesce((SELECT json_agg(json_build_object("
         " 'id', id, 'instance_id', instance_id, 'seq', seq, 'trigger', trigger,"
         " 'status', status, 'started_at', " TS("started_at") ","
         " 'finished_at', " TS("finished_at") ", 'duration_ms', duration_ms,"
         " 'assets_total', assets_total, 'assets_succeeded', assets_succeeded,"
         " 'assets_failed', assets_failed, 'assets_skipped', assets_skipped,"
         " 'assets_market_closed', assets_market_closed,"
         " 'upstream_requests', upstream_requests, 'error', error) ORDER BY id DESC)"
         " FROM page), '[]'::json),"
         " 'total', (SELECT coalesce(sum(n), 0) FROM fetcher_cycle_counts"
         "   WHERE $3::text IS NULL OR status = $3::text),"
         " 'limit', $1::int, 'offset', $2::bigint,"
         " 'next_before_id', (SELECT CASE WHEN count(*) = $1::int THEN min(id) END FROM page)"
         " )::text",
         4},
    [SQL_CYCLE] =
        {"api_cycle",
         "SELECT json_build_object("
         " 'id', c.id, 'instance_id', c.instance_id, 'seq', c.seq, 'trigger', c.trigger,"
         " 'status', c.status, 'started_at', " TS("c.started_at") ","
         " 'finished_at', " TS("c.finished_at") ", 'duration_ms', c.duration_ms,"
         " 'assets_total', c.assets_total, 'assets_succeeded', c.assets_succeeded,"
         " 'assets_failed', c.assets_failed, 'assets_skipped', c.assets_skipped,"
         " 'assets_market_closed', c.assets_market_closed,"
         " 'upstream_requests', c.upstream_requests, 'error', c.error,"
         " 'updates', coalesce((SELECT json_agg(json_build_object("
         "   'id', p.id, 'symbol', p.symbol, 'timestamp', " TS("p.\"timestamp\"") ","
         "   'price', trim_scale(p.price), 'currency', p.currency, 'success', p.success,"
         "   'error', p.error, 'duration_ms', p.duration_ms) ORDER BY p.id)"
         "  FROM price_update_log p WHERE p.cycle_id = c.id), '[]'::json))::text"
         " FROM fetcher_cycles c WHERE c.id = $1::bigint",
         1},
    [SQL_ASSETS] =
        {"api_assets",
         "SELECT json_build_object('assets', coalesce(json_agg(json_build_object("
         " 'id', a.id, 'symbol', a.symbol, 'name', a.name, 'asset_type', a.asset_type,"
         " 'currency', a.currency, 'exchange', a.exchange, 'provider', a.provider,"
         " 'provider_symbol', a.provider_symbol, 'tracked', t.asset_id IS NOT NULL,"
         " 'added_at', " TS("t.added_at") ", 'last_price_update', " TS("t.last_price_update") ","
         " 'last_error', t.last_error, 'last_error_at', " TS("t.last_error_at") ","
         " 'price', trim_scale(lp.price), 'price_currency', lp.currency,"
         " 'price_time', " TS("lp.price_time") ", 'fetched_at', " TS("lp.fetched_at") ","
         /* the source of its newest row, and how many it had then (1: no
          * second source); its newest cross-check */
         " 'source', ll.source, 'source_count', ll.source_count,"
         " 'crosscheck', xc.crosscheck, 'crosscheck_at', " TS("xc.\"timestamp\"") ","
         " 'sources', a.sources, 'provider_exchange', a.provider_exchange,"
         " 'exchange_timezone', a.exchange_timezone,"
         " 'history_backfilled_at', " TS("a.history_backfilled_at") ","
         " 'history_days', a.history_days, 'history_error', a.history_error,"
         " 'staleness', a.staleness, 'last_attempt_at', " TS("t.last_attempt_at") ","
         " 'market_state', CASE WHEN a.asset_type = 'crypto' THEN 'open' WHEN m.known THEN"
         "   CASE WHEN m.is_open THEN 'open' ELSE 'closed' END END,"
         " 'next_open', CASE WHEN m.known AND NOT m.is_open THEN " TS("m.next_open") " END)"
         " ORDER BY a.symbol), '[]'::json), 'total', count(*))::text"
         " FROM assets a LEFT JOIN tracked_assets t ON t.asset_id = a.id"
         " LEFT JOIN LATERAL fetcher_market_state(fetcher_market_key(a.asset_type,"
         "   a.provider_exchange), fetcher_now()) m ON true"
         " LEFT JOIN LATERAL (SELECT price, currency, price_time, fetched_at FROM asset_prices"
         "  WHERE asset_id = a.id ORDER BY fetched_at DESC LIMIT 1) lp ON true"
         " LEFT JOIN LATERAL (SELECT source, source_count FROM price_update_log"
         "  WHERE asset_id = a.id ORDER BY id DESC LIMIT 1) ll ON true"
         " LEFT JOIN LATERAL (SELECT crosscheck, \"timestamp\" FROM price_update_log"
         "  WHERE asset_id = a.id AND crosscheck IS NOT NULL ORDER BY id DESC LIMIT 1) xc ON true",
         0},
    [SQL_PORTFOLIOS] =
        {"api_portfolios",
         "SELECT json_build_object('portfolios', coalesce(json_agg(json_build_object("
         " 'id', p.id, 'name', p.name, 'currency', p.currency,"
         " 'total_value', trim_scale(c.total_value), 'total_invested', trim_scale(c.total_invested),"
         " 'total_return', trim_scale(c.total_return), 'return_pct', trim_scale(c.return_pct),"
         " 'positions', c.positions, 'priced_positions', c.priced_positions,"
         " 'missing', c.missing, 'calculated_at', " TS("c.calculated_at") ","
         " 'cycle_id', c.cycle_id, 'value_usd', trim_scale(c.value_usd),"
         " 'day_change', trim_scale(c.day_change), 'day_change_pct', trim_scale(c.day_change_pct),"
         " 'week_change', trim_scale(c.week_change), 'week_change_pct', trim_scale(c.week_change_pct),"
         " 'month_change', trim_scale(c.month_change),"
         " 'month_change_pct', trim_scale(c.month_change_pct),"
         " 'year_change', trim_scale(c.year_change), 'year_change_pct', trim_scale(c.year_change_pct))"
         " ORDER BY p.id), '[]'::json))::text"
         " FROM portfolios p LEFT JOIN portfolio_performance_cache c ON c.portfolio_id = p.id",
         0},
    /* The live instance's queue, and what its last finished cycle's rows
     * say each source did: assets served, failovers in (rows a source
     * answered for another) and out (rows whose failover reason names it
     * first). */
    [SQL_QUEUE] =
        {"api_queue",
         "SELECT i.instance_id, " TS("i.last_heartbeat") ", i.phase, i.queue::text,"
         " (SELECT json_build_object('cycle_id', c.id, 'seq', c.seq,"
         "   'finished_at', " TS("c.finished_at") ","
         "   'assets', (SELECT count(*) FROM price_update_log p WHERE p.cycle_id = c.id),"
         "   'providers', coalesce((SELECT json_object_agg(name, json_build_object("
         "     'served', served, 'failovers_in', fin, 'failovers_out', fout) ORDER BY name)"
         "     FROM (SELECT name, sum(served) AS served, sum(fin) AS fin, sum(fout) AS fout FROM ("
         "       SELECT p.source AS name, count(*) FILTER (WHERE p.success) AS served,"
         "         count(*) FILTER (WHERE p.failover_reason IS NOT NULL) AS fin, 0 AS fout"
         "       FROM price_update_log p WHERE p.cycle_id = c.id AND p.source IS NOT NULL"
         "       GROUP BY p.source"
         "       UNION ALL SELECT split_part(p.failover_reason, ':', 1), 0, 0, count(*)"
         "       FROM price_update_log p WHERE p.cycle_id = c.id"
         "         AND p.failover_reason IS NOT NULL GROUP BY 1) x GROUP BY name) y), '{}'))"
         "   FROM fetcher_cycles c WHERE c.instance_id = i.instance_id AND c.status <> 'running'"
         "   ORDER BY c.id DESC LIMIT 1)::text"
         " FROM fetcher_instances i WHERE " LIVE_INSTANCE " ORDER BY i.last_heartbeat DESC LIMIT 1",
         1},
    /* A symbol's daily closes (asset_prices_daily) since $2 back, in its
     * currency or, converted day by day with the stored rates
     * (fetcher_convert, migration 010), in $3; a close no rate converts
     * is left out and counted. */
    [SQL_HISTORY_DAILY] =
        {"api_history_daily",
         "WITH a AS (SELECT id, symbol, currency FROM assets WHERE symbol = $1::text),"
         " pts AS (SELECT d.day, d.currency, CASE WHEN $3::text IS NULL THEN d.close"
         "   ELSE fetcher_convert(d.close, d.currency, $3::text, d.day) END AS v"
         "  FROM asset_prices_daily d JOIN a ON d.asset_id = a.id"
         "  WHERE $2::text IS NULL OR d.day > current_date - $2::interval)"
         " SELECT json_build_object('symbol', a.symbol, 'range', $4::text, 'interval', '1d',"
         " 'currency', COALESCE($3::text, a.currency), 'asset_currency', a.currency,"
         " 'count', (SELECT count(*) FROM pts WHERE v IS NOT NULL),"
         " 'unconverted', (SELECT count(*) FROM pts WHERE v IS NULL),"
         " 'points', COALESCE((SELECT json_agg(json_build_object('day', day,"
         "   'close', trim_scale(round(v, 10))) ORDER BY day) FROM pts WHERE v IS NOT NULL),"
         "   '[]'::json))::text FROM a",
         4},
    /* The intraday prices (asset_prices) of the last day, oldest first. */
    [SQL_HISTORY_INTRADAY] =
        {"api_history_intraday",
         "WITH a AS (SELECT id, symbol, currency FROM assets WHERE symbol = $1::text),"
         " pts AS (SELECT p.fetched_at, p.price_time, CASE WHEN $2::text IS NULL THEN p.price"
         "   ELSE fetcher_convert(p.price, p.currency, $2::text, (p.price_time AT TIME ZONE"
         "   'UTC')::date) END AS v"
         "  FROM asset_prices p JOIN a ON p.asset_id = a.id"
         "  WHERE p.fetched_at > now() - interval '1 day')"
         " SELECT json_build_object('symbol', a.symbol, 'range', $3::text, 'interval', 'fetch',"
         " 'currency', COALESCE($2::text, a.currency), 'asset_currency', a.currency,"
         " 'count', (SELECT count(*) FROM pts WHERE v IS NOT NULL),"
         " 'unconverted', (SELECT count(*) FROM pts WHERE v IS NULL),"
         " 'points', COALESCE((SELECT json_agg(json_build_object('time', " TS("price_time") ","
         "   'fetched_at', " TS("fetched_at") ", 'price', trim_scale(round(v, 10)))"
         "   ORDER BY fetched_at) FROM pts WHERE v IS NOT NULL), '[]'::json))::text FROM a",
         3},
    /* Sparklines for many symbols in one answer: each symbol's series (daily
     * closes, or the last day's intraday prices) thinned to at most $4
     * points, evenly, the newest always kept; [time, price] pairs. */
    [SQL_HISTORY_BATCH] =
        {"api_history_batch",
         "WITH a AS (SELECT a.id, a.symbol FROM assets a"
         "  WHERE ($1::text[] IS NULL AND EXISTS (SELECT 1 FROM tracked_assets t"
         "    WHERE t.asset_id = a.id)) OR a.symbol = ANY ($1::text[])),"
         " s AS (SELECT a.symbol, d.day::text AS t, d.close AS v FROM a"
         "  JOIN asset_prices_daily d ON d.asset_id = a.id WHERE NOT $3::boolean"
         "   AND ($2::text IS NULL OR d.day > current_date - $2::interval)"
         "  UNION ALL SELECT a.symbol, " TS("p.fetched_at") ", p.price FROM a"
         "  JOIN asset_prices p ON p.asset_id = a.id WHERE $3::boolean"
         "   AND p.fetched_at > now() - interval '1 day'),"
         " n AS (SELECT s.*, row_number() OVER (PARTITION BY symbol ORDER BY t DESC) - 1 AS back,"
         "   count(*) OVER (PARTITION BY symbol) AS total FROM s),"
         " k AS (SELECT * FROM n WHERE back % greatest(1, ceil(total::numeric / $4::int))::int = 0)"
         " SELECT json_build_object('range', $5::text, 'points_max', $4::int,"
         " 'history', COALESCE((SELECT json_object_agg(symbol, pts) FROM (SELECT symbol,"
         "   json_agg(json_build_array(t, trim_scale(v)) ORDER BY t) AS pts FROM k"
         "   GROUP BY symbol) g), '{}'::json))::text",
         5},
    [SQL_RATE_KNOWN] = {"api_rate_known",
                        "SELECT count(*) FROM (SELECT 1 WHERE $1::text = 'USD' UNION ALL"
                        " SELECT 1 FROM exchange_rates WHERE base = 'USD' AND quote = $1::text"
                        " LIMIT 1) x",
                        1},
    /* Logs filtered by level only (the common case): the page through an
     * index-only walk to the offset, then at most $1 rows by primary key;
     * the exact total from fetcher_log_counts, never a count(*). */
    [SQL_LOGS_FAST] =
        {"api_logs_fast",
         "WITH cut AS (SELECT id FROM fetcher_logs"
         "  WHERE ($3::text IS NULL OR level = $3::text)"
         "  AND ($4::text[] IS NULL OR level = ANY ($4::text[]))"
         "  AND ($5::bigint IS NULL OR id < $5::bigint)"
         "  ORDER BY id DESC OFFSET $2::bigint LIMIT 1),"
         " page AS (SELECT id, \"timestamp\", level, message, context, cycle_id, instance_id"
         "  FROM fetcher_logs"
         "  WHERE ($3::text IS NULL OR level = $3::text)"
         "  AND ($4::text[] IS NULL OR level = ANY ($4::text[]))"
         "  AND id <= (SELECT id FROM cut) ORDER BY id DESC LIMIT $1::int)"
         " SELECT json_build_object("
         " 'logs', coalesce((SELECT json_agg(json_build_object('id', id, 'timestamp', " TS(
             "\"timestamp\"") ","
         "   'level', level, 'message', message, 'context', context, 'cycle_id', cycle_id,"
         "   'instance_id', instance_id) ORDER BY id DESC) FROM page), '[]'::json),"
         " 'total', (SELECT coalesce(sum(n), 0) FROM fetcher_log_counts"
         "   WHERE ($3::text IS NULL OR level = $3::text)"
         "   AND ($4::text[] IS NULL OR level = ANY ($4::text[]))),"
         " 'limit', $1::int, 'offset', $2::bigint,"
         " 'next_before_id', (SELECT CASE WHEN count(*) = $1::int THEN min(id) END FROM page)"
         " )::text",
         5},
    /* Track: the asset row is created when new (an existing one is kept as
     * it is), then tracked; one statement, so the log row, the asset and
     * the tracking commit together. Nothing tracked → already tracked. */
    [SQL_TRACK] =
        {"api_track",
         "WITH ins AS (INSERT INTO assets (symbol, name, asset_type, currency, provider,"
         "  provider_symbol, exchange) VALUES ($1::text, $2::text, $3::text, $4::text, $5::text,"
         "  $6::text, $8::text)"
         "  ON CONFLICT (symbol) DO NOTHING RETURNING *),"
         " a AS (SELECT * FROM ins UNION ALL SELECT * FROM assets"
         "  WHERE symbol = $1::text AND NOT EXISTS (SELECT 1 FROM ins)),"
         " t AS (INSERT INTO tracked_assets (asset_id) SELECT id FROM a"
         "  ON CONFLICT (asset_id) DO NOTHING RETURNING asset_id, added_at),"
         " l AS (INSERT INTO fetcher_logs (level, message, context)"
         "  SELECT 'INFO', 'Asset ' || a.symbol || ' tracked by ' || $7::text,"
         "   jsonb_build_object('client', $7::text, 'action', 'track', 'symbol', a.symbol,"
         "    'created', EXISTS (SELECT 1 FROM ins))"
         "  FROM a JOIN t ON t.asset_id = a.id),"
         /* fetcherd backfills its daily history now, if it has none */
         " n AS (SELECT pg_notify('fetcher_backfill', a.symbol) FROM a JOIN t ON t.asset_id = a.id)"
         " SELECT (SELECT count(*) FROM t), (SELECT json_build_object("
         " 'id', a.id, 'symbol', a.symbol, 'name', a.name, 'asset_type', a.asset_type,"
         " 'currency', a.currency, 'exchange', a.exchange, 'provider', a.provider,"
         " 'provider_symbol', a.provider_symbol, 'tracked', true,"
         " 'added_at', " TS("t.added_at") ", 'created', EXISTS (SELECT 1 FROM ins))::text"
         " FROM a JOIN t ON t.asset_id = a.id), (SELECT count(*) FROM n)",
         8},
    /* Untrack keeps the asset and its history; only the tracking goes. */
    [SQL_UNTRACK] =
        {"api_untrack",
         "WITH d AS (DELETE FROM tracked_assets t USING assets a"
         "  WHERE t.asset_id = a.id AND a.symbol = $1::text RETURNING a.symbol),"
         " l AS (INSERT INTO fetcher_logs (level, message, context)"
         "  SELECT 'INFO', 'Asset ' || symbol || ' untracked by ' || $2::text,"
         "   jsonb_build_object('client', $2::text, 'action', 'untrack', 'symbol', symbol) FROM d)"
         " SELECT count(*) FROM d",
         2},
    [SQL_REFRESH] =
        {"api_refresh",
         "SELECT pg_notify('fetcher_refresh', $2::text) FROM tracked_assets t"
         " JOIN assets a ON a.id = t.asset_id WHERE a.symbol = $1::text",
         2},
    /* Pause: the first pause sets the time and who; pausing again keeps
     * them (the answer's "since" is when cycles stopped). The settings row,
     * the log row and both notifications commit together. */
    [SQL_PAUSE] =
        {"api_pause",
         "WITH s AS (INSERT INTO fetcher_settings AS f (id, paused, paused_at, paused_by)"
         "  VALUES (1, true, now(), $1::text) ON CONFLICT (id) DO UPDATE SET paused = true,"
         "  paused_at = CASE WHEN f.paused THEN f.paused_at ELSE now() END,"
         "  paused_by = CASE WHEN f.paused THEN f.paused_by ELSE $1::text END"
         "  RETURNING paused, paused_at),"
         " l AS (INSERT INTO fetcher_logs (level, message, context) VALUES ('INFO',"
         "  'Scheduled cycles paused by ' || $1::text, jsonb_build_object('client', $1::text)))"
         " SELECT s.paused, " TS("s.paused_at") ", pg_notify('fetcher_control', $2::text),"
         " pg_notify('fetcher_events', $3::text) FROM s",
         3},
    [SQL_RESUME] =
        {"api_resume",
         "WITH s AS (INSERT INTO fetcher_settings AS f (id, paused) VALUES (1, false)"
         "  ON CONFLICT (id) DO UPDATE SET paused = false, paused_at = NULL, paused_by = NULL"
         "  RETURNING paused, paused_at),"
         " l AS (INSERT INTO fetcher_logs (level, message, context) VALUES ('INFO',"
         "  'Scheduled cycles resumed by ' || $1::text, jsonb_build_object('client', $1::text)))"
         " SELECT s.paused, " TS("s.paused_at") ", pg_notify('fetcher_control', $2::text),"
         " pg_notify('fetcher_events', $3::text) FROM s",
         3},
    /* Everything /metrics reads from the database, in one round trip.
     * Durations: the last 1000 finished cycles, bucket bounds in ms (the
     * same list as METRICS_CYCLE_BUCKETS in ep_metrics.c). Errors: every
     * failed price_update_log row still kept (LOG_RETENTION_DAYS), by the
     * provider of its asset when it failed, from the per-day counts
     * migration 009's triggers keep (not a count over the rows). */
    [SQL_METRICS] =
        {"api_metrics",
         "SELECT json_build_object("
         " 'cycles', (SELECT json_object_agg(status, n) FROM fetcher_cycle_counts),"
         " 'last_success', (SELECT extract(epoch FROM finished_at) FROM fetcher_cycles"
         "  WHERE status = 'succeeded' ORDER BY id DESC LIMIT 1),"
         " 'durations', (SELECT json_build_object('count', count(*),"
         "  'sum_ms', coalesce(sum(duration_ms), 0), 'le', json_build_array("
         "  count(*) FILTER (WHERE duration_ms <= 100), count(*) FILTER (WHERE duration_ms <= 250),"
         "  count(*) FILTER (WHERE duration_ms <= 500), count(*) FILTER (WHERE duration_ms <= 1000),"
         "  count(*) FILTER (WHERE duration_ms <= 2500), count(*) FILTER (WHERE duration_ms <= 5000),"
         "  count(*) FILTER (WHERE duration_ms <= 10000),"
         "  count(*) FILTER (WHERE duration_ms <= 30000),"
         "  count(*) FILTER (WHERE duration_ms <= 60000),"
         "  count(*) FILTER (WHERE duration_ms <= 120000),"
         "  count(*) FILTER (WHERE duration_ms <= 300000)))"
         "  FROM (SELECT duration_ms FROM fetcher_cycles WHERE status <> 'running'"
         "   AND duration_ms IS NOT NULL ORDER BY id DESC LIMIT 1000) r),"
         " 'assets_tracked', (SELECT count(*) FROM tracked_assets),"
         " 'errors', (SELECT json_object_agg(provider, n) FROM (SELECT provider, sum(failed) AS n"
         "  FROM price_update_counts GROUP BY 1 HAVING sum(failed) > 0) e),"
         " 'instances', (SELECT json_agg(json_build_object('id', instance_id, 'queue', queue,"
         "  'detail', detail, 'started_at', extract(epoch FROM started_at)))"
         "  FROM fetcher_instances WHERE " LIVE_INSTANCE "),"
         " 'heartbeat_age_s', (SELECT round(extract(epoch FROM now() - max(last_heartbeat))::numeric,"
         "  3) FROM fetcher_instances),"
         " 'staleness', " STALENESS_JSON ","
         " 'alerts', (SELECT json_object_agg(alert, n) FROM (SELECT alert, count(*) AS n"
         "  FROM fetcher_alerts WHERE resolved_at IS NULL GROUP BY alert) f))::text",
         2},
    /* The newest live instance's view (the one /status shows), whether any
     * daemon ever wrote a heartbeat, the newest one (for "stopped"), the
     * newest $3 finished cycles (aborted ones, killed mid-way, say nothing
     * of fetching), and the staleness per type. */
    [SQL_ALERT_INPUT] =
        {"api_alert_input",
         "SELECT json_build_object("
         " 'live', (SELECT json_build_object('id', instance_id, 'queue', queue, 'detail', detail)"
         "  FROM fetcher_instances WHERE " LIVE_INSTANCE " ORDER BY last_heartbeat DESC LIMIT 1),"
         " 'newest', (SELECT json_build_object('id', instance_id, 'state', state,"
         "  'age_s', round(extract(epoch FROM now() - last_heartbeat)::numeric, 1))"
         "  FROM fetcher_instances ORDER BY last_heartbeat DESC LIMIT 1),"
         " 'cycles', (SELECT json_agg(json_build_object('status', status, 'error', error)"
         "  ORDER BY id DESC) FROM (SELECT id, status, error FROM fetcher_cycles"
         "  WHERE status IN ('succeeded', 'partial', 'failed') ORDER BY id DESC LIMIT $3::int) c),"
         " 'staleness', " STALENESS_JSON ")::text",
         3},
    [SQL_ALERT_OPEN] =
        {"api_alert_open",
         "INSERT INTO fetcher_alerts (alert, subject, severity, summary, fire_notice)"
         " VALUES ($1, $2, $3, $4, $5) ON CONFLICT (alert, subject) WHERE resolved_at IS NULL"
         " DO NOTHING RETURNING id, " EPOCH_MS("started_at"),
         5},
    [SQL_ALERT_RESOLVE] =
        {"api_alert_resolve",
         "UPDATE fetcher_alerts SET resolved_at = now(), resolve_notice = $3"
         " WHERE alert = $1 AND subject = $2 AND resolved_at IS NULL"
         " RETURNING id, severity, summary, " EPOCH_MS("started_at") ", " EPOCH_MS("resolved_at"),
         3},
    [SQL_ALERT_OPEN_LIST] =
        {"api_alert_open_list",
         "SELECT alert, subject FROM fetcher_alerts WHERE resolved_at IS NULL", 0},
    [SQL_ALERT_NOTICE] =
        {"api_alert_notice",
         "UPDATE fetcher_alerts SET"
         " fire_notice = CASE WHEN $2 = 'fire' THEN $3 ELSE fire_notice END,"
         " resolve_notice = CASE WHEN $2 = 'resolve' THEN $3 ELSE resolve_notice END,"
         " attempts = attempts + $4::int, last_error = $5 WHERE id = $1::bigint",
         5},
    [SQL_ALERT_PENDING] =
        {"api_alert_pending",
         "SELECT id, alert, subject, severity, summary, " EPOCH_MS("started_at") ","
         " " EPOCH_MS("resolved_at") ", w FROM fetcher_alerts,"
         " LATERAL (VALUES ('fire', fire_notice), ('resolve', resolve_notice)) n (w, notice)"
         " WHERE (fire_notice = 'pending' OR resolve_notice = 'pending') AND notice = 'pending'"
         " ORDER BY CASE w WHEN 'fire' THEN started_at ELSE resolved_at END, id",
         0},
    [SQL_ALERT_PURGE] =
        {"api_alert_purge",
         "DELETE FROM fetcher_alerts WHERE resolved_at < now() - make_interval(days => $1::int)",
         1},
    [SQL_ALERTS] =
        {"api_alerts",
         "SELECT json_build_object('alerts', coalesce((SELECT json_agg(json_build_object("
         "  'id', id, 'alert', alert, 'subject', subject, 'severity', severity,"
         "  'summary', summary, 'status', CASE WHEN resolved_at IS NULL THEN 'firing'"
         "  ELSE 'resolved' END, 'started_at', " TS("started_at") ","
         "  'resolved_at', " TS("resolved_at") ","
         "  'duration_seconds', round(extract(epoch FROM coalesce(resolved_at, now())"
         "   - started_at)::numeric, 1),"
         "  'notified', json_build_object('fire', fire_notice, 'resolve', resolve_notice,"
         "   'attempts', attempts, 'last_error', last_error)) ORDER BY id DESC)"
         "  FROM (SELECT * FROM fetcher_alerts WHERE $2::text IS NULL"
         "   OR ($2 = 'firing') = (resolved_at IS NULL) ORDER BY id DESC LIMIT $1::int) a),"
         "  '[]'::json),"
         " 'firing', (SELECT count(*) FROM fetcher_alerts WHERE resolved_at IS NULL),"
         " 'total', (SELECT count(*) FROM fetcher_alerts))::text",
         2},

    /* ---- portfolios --------------------------------------------------- */
    [SQL_PORTFOLIO_CREATE] =
        {"api_portfolio_create",
         "WITH ins AS (INSERT INTO portfolios AS p (name, currency) SELECT $1::text, $2::text"
         "  WHERE NOT EXISTS (SELECT 1 FROM portfolios WHERE lower(name) = lower($1::text))"
         "  RETURNING *),"
         " l AS (INSERT INTO fetcher_logs (level, message, context)"
         "  SELECT 'INFO', 'Portfolio ' || name || ' created by ' || $3::text,"
         "   jsonb_build_object('client', $3::text, 'action', 'portfolio_create',"
         "    'portfolio_id', id) FROM ins)"
         " SELECT " PORTFOLIO_DOC("p") "::text FROM ins p",
         3},
    [SQL_PORTFOLIO_GET] =
        {"api_portfolio_get",
         "SELECT " PORTFOLIO_DOC("p") "::text FROM portfolios p WHERE p.id = $1::bigint",
         1},
    [SQL_PORTFOLIO_UPDATE] =
        {"api_portfolio_update",
         "WITH cur AS (SELECT id FROM portfolios WHERE id = $1::bigint),"
         " clash AS (SELECT 1 FROM portfolios WHERE $2::text IS NOT NULL"
         "  AND lower(name) = lower($2::text) AND id <> $1::bigint),"
         " u AS (UPDATE portfolios p SET name = coalesce($2::text, p.name),"
         "  currency = coalesce($3::text, p.currency), updated_at = now()"
         "  FROM cur WHERE p.id = cur.id AND NOT EXISTS (SELECT 1 FROM clash) RETURNING p.*),"
         " l AS (INSERT INTO fetcher_logs (level, message, context)"
         "  SELECT 'INFO', 'Portfolio ' || id || ' changed by ' || $4::text,"
         "   jsonb_build_object('client', $4::text, 'action', 'portfolio_update',"
         "    'portfolio_id', id, 'name', name, 'currency', currency) FROM u)"
         " SELECT EXISTS (SELECT 1 FROM cur), EXISTS (SELECT 1 FROM clash),"
         " (SELECT " PORTFOLIO_DOC("p") "::text FROM u p)",
         4},
    [SQL_PORTFOLIO_DELETE] =
        {"api_portfolio_delete",
         "WITH d AS (DELETE FROM portfolios WHERE id = $1::bigint RETURNING id, name),"
         " l AS (INSERT INTO fetcher_logs (level, message, context)"
         "  SELECT 'INFO', 'Portfolio ' || name || ' deleted by ' || $2::text,"
         "   jsonb_build_object('client', $2::text, 'action', 'portfolio_delete',"
         "    'portfolio_id', id) FROM d)"
         " SELECT count(*) FROM d",
         2},
    [SQL_POSITION_ADD] =
        {"api_position_add",
         "WITH p AS (SELECT id FROM portfolios WHERE id = $1::bigint),"
         " a AS (SELECT * FROM assets WHERE symbol = $2::text),"
         " ins AS (INSERT INTO portfolio_positions (portfolio_id, asset_id, quantity,"
         "  average_buy_price, currency) SELECT p.id, a.id, $3::numeric, $4::numeric, $5::text"
         "  FROM p, a ON CONFLICT (portfolio_id, asset_id) DO NOTHING RETURNING *),"
         " t AS (UPDATE portfolios SET updated_at = now()"
         "  WHERE id IN (SELECT portfolio_id FROM ins)),"
         " l AS (INSERT INTO fetcher_logs (level, message, context)"
         "  SELECT 'INFO', 'Position ' || a.symbol || ' added to portfolio ' || x.portfolio_id"
         "   || ' by ' || $6::text, jsonb_build_object('client', $6::text, 'action',"
         "   'position_add', 'portfolio_id', x.portfolio_id, 'symbol', a.symbol)"
         "  FROM ins x JOIN a ON a.id = x.asset_id)"
         " SELECT EXISTS (SELECT 1 FROM p), EXISTS (SELECT 1 FROM a),"
         " (SELECT " POSITION_DOC "::text FROM ins x JOIN a ON a.id = x.asset_id)",
         6},
    [SQL_POSITION_UPDATE] =
        {"api_position_update",
         "WITH p AS (SELECT id FROM portfolios WHERE id = $1::bigint),"
         " a AS (SELECT * FROM assets WHERE symbol = $2::text),"
         " u AS (UPDATE portfolio_positions pp SET quantity = coalesce($3::numeric, pp.quantity),"
         "  average_buy_price = coalesce($4::numeric, pp.average_buy_price),"
         "  currency = CASE WHEN $6::boolean THEN $5::text ELSE pp.currency END"
         "  FROM a WHERE pp.portfolio_id = $1::bigint AND pp.asset_id = a.id RETURNING pp.*),"
         " t AS (UPDATE portfolios SET updated_at = now()"
         "  WHERE id IN (SELECT portfolio_id FROM u)),"
         " l AS (INSERT INTO fetcher_logs (level, message, context)"
         "  SELECT 'INFO', 'Position ' || a.symbol || ' in portfolio ' || x.portfolio_id"
         "   || ' changed by ' || $7::text, jsonb_build_object('client', $7::text, 'action',"
         "   'position_update', 'portfolio_id', x.portfolio_id, 'symbol', a.symbol)"
         "  FROM u x JOIN a ON a.id = x.asset_id)"
         " SELECT EXISTS (SELECT 1 FROM p),"
         " (SELECT " POSITION_DOC "::text FROM u x JOIN a ON a.id = x.asset_id)",
         7},
    [SQL_POSITION_DELETE] =
        {"api_position_delete",
         "WITH p AS (SELECT id FROM portfolios WHERE id = $1::bigint),"
         " d AS (DELETE FROM portfolio_positions pp USING assets a"
         "  WHERE pp.portfolio_id = $1::bigint AND pp.asset_id = a.id AND a.symbol = $2::text"
         "  RETURNING pp.portfolio_id, a.symbol),"
         " t AS (UPDATE portfolios SET updated_at = now()"
         "  WHERE id IN (SELECT portfolio_id FROM d)),"
         " l AS (INSERT INTO fetcher_logs (level, message, context)"
         "  SELECT 'INFO', 'Position ' || symbol || ' removed from portfolio ' || portfolio_id"
         "   || ' by ' || $3::text, jsonb_build_object('client', $3::text, 'action',"
         "   'position_delete', 'portfolio_id', portfolio_id, 'symbol', symbol) FROM d)"
         " SELECT EXISTS (SELECT 1 FROM p), (SELECT count(*) FROM d)",
         3},
    /* The import's preview and its commit. The commit is one statement, so
     * the positions, the portfolio's updated_at and the log row are one
     * transaction: all of the file's valid lines, or nothing. */
    [SQL_IMPORT_CHECK] =
        {"api_import_check",
         "SELECT EXISTS (SELECT 1 FROM portfolios WHERE id = $1::bigint),"
         " (SELECT coalesce(json_agg(json_build_object('line', r.line, 'known', a.id IS NOT NULL,"
         "   'held', pp.asset_id IS NOT NULL, 'tracked', t.asset_id IS NOT NULL)"
         "   ORDER BY r.line), '[]'::json)"
         "  FROM json_to_recordset($2::json) AS r(line int, symbol text)"
         "  LEFT JOIN assets a ON a.symbol = r.symbol"
         "  LEFT JOIN portfolio_positions pp ON pp.portfolio_id = $1::bigint"
         "   AND pp.asset_id = a.id"
         "  LEFT JOIN tracked_assets t ON t.asset_id = a.id)::text",
         2},
    [SQL_IMPORT_COMMIT] =
        {"api_import_commit",
         "WITH p AS (SELECT id FROM portfolios WHERE id = $1::bigint),"
         " r AS (SELECT a.id AS asset_id, x.quantity, x.average_buy_price, x.currency"
         "  FROM json_to_recordset($2::json) AS x(symbol text, quantity numeric,"
         "   average_buy_price numeric, currency text) JOIN assets a ON a.symbol = x.symbol),"
         " up AS (INSERT INTO portfolio_positions (portfolio_id, asset_id, quantity,"
         "  average_buy_price, currency) SELECT p.id, r.asset_id, r.quantity,"
         "  r.average_buy_price, r.currency FROM p, r"
         "  ON CONFLICT (portfolio_id, asset_id) DO UPDATE SET quantity = EXCLUDED.quantity,"
         "  average_buy_price = EXCLUDED.average_buy_price, currency = EXCLUDED.currency"
         "  RETURNING 1),"
         " t AS (UPDATE portfolios SET updated_at = now() WHERE id IN (SELECT id FROM p)),"
         " l AS (INSERT INTO fetcher_logs (level, message, context)"
         "  SELECT 'INFO', 'Imported ' || (SELECT count(*) FROM up) || ' positions into"
         " portfolio ' || p.id || ' by ' || $3::text, jsonb_build_object('client', $3::text,"
         "   'action', 'portfolio_import', 'portfolio_id', p.id,"
         "   'positions', (SELECT count(*) FROM up)) FROM p)"
         " SELECT EXISTS (SELECT 1 FROM p), (SELECT count(*) FROM up)",
         3},
    /* Which search results are assets already, and tracked. */
    [SQL_SEARCH_KNOWN] =
        {"api_search_known",
         "SELECT coalesce(json_object_agg(a.symbol, json_build_object("
         " 'tracked', t.asset_id IS NOT NULL, 'provider', a.provider,"
         " 'provider_symbol', a.provider_symbol)), '{}'::json)::text"
         " FROM assets a LEFT JOIN tracked_assets t ON t.asset_id = a.id"
         " WHERE a.symbol IN (SELECT json_array_elements_text($1::json))",
         1},
    [SQL_DEMO_CHECK] =
        {"api_demo_check",
         "SELECT (SELECT count(*) FROM assets), (SELECT count(*) FROM portfolios)",
         0},
    [SQL_DEMO_DONE] =
        {"api_demo_done",
         "WITH l AS (INSERT INTO fetcher_logs (level, message, context) SELECT 'INFO',"
         "  'Demo data loaded by ' || $1::text || ': ' || (SELECT count(*) FROM assets)"
         "  || ' assets, ' || (SELECT count(*) FROM portfolios) || ' portfolios',"
         "  jsonb_build_object('client', $1::text, 'action', 'demo_load'))"
         " SELECT (SELECT count(*) FROM assets), (SELECT count(*) FROM portfolios),"
         " (SELECT count(*) FROM tracked_assets), pg_notify('fetcher_trigger', $2::text)",
         2},
    /* The log queries' own time bound and plan settings, set around them
     * (apidb.c). */
    [SQL_SET_TIMEOUT] = {"api_set_timeout",
                         "SELECT set_config('statement_timeout', $1::text, false),"
                         " set_config('plan_cache_mode', $2::text, false),"
                         " set_config('enable_seqscan', $3::text, false)", 3},
};
// clang-format on
