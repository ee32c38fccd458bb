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
#define LIVE_INSTANCE                                                                              \
    "state = 'running' AND last_heartbeat > now() - make_interval(secs => $1::int)"

/* clang-format off: the SQL is laid out for reading, not for the formatter. */
// clang-format off
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
         " (" LIVE_INSTANCE ") AS live, version, " TS("stopped_at")
         " FROM fetcher_instances ORDER BY last_heartbeat DESC LIMIT 20",
         1},
    [SQL_STATUS_SUMMARY] =
        {"api_status_summary",
         "SELECT (SELECT count(*) FROM tracked_assets), "
         TS("greatest((SELECT max(last_price_update) FROM tracked_assets),"
            " (SELECT finished_at FROM fetcher_cycles WHERE status <> 'running'"
            "  ORDER BY id DESC LIMIT 1))"),
         0},
    [SQL_STATISTICS] =
        {"api_statistics",
         "WITH fin AS NOT MATERIALIZED (SELECT id, status, duration_ms, assets_succeeded, assets_failed,"
         "  upstream_requests, finished_at FROM fetcher_cycles WHERE status <> 'running'),"
         " agg AS (SELECT count(*) AS total,"
         "  count(*) FILTER (WHERE status IN ('succeeded', 'partial')) AS ok,"
         "  count(*) FILTER (WHERE status IN ('failed', 'aborted')) AS bad,"
         "  count(*) FILTER (WHERE status = 'partial') AS partial,"
         "  coalesce(sum(assets_succeeded), 0) AS a_ok, coalesce(sum(assets_failed), 0) AS a_bad,"
         "  coalesce(sum(upstream_requests), 0) AS upstream FROM fin),"
         " recent AS (SELECT duration_ms FROM fin ORDER BY id DESC LIMIT 100),"
         " last AS (SELECT duration_ms, finished_at, status FROM fin ORDER BY id DESC LIMIT 1),"
         " live AS (SELECT started_at FROM fetcher_instances WHERE " LIVE_INSTANCE
         "  ORDER BY last_heartbeat DESC LIMIT 1)"
         " SELECT json_build_object("
         " 'uptime_seconds', coalesce((SELECT greatest(0, floor(extract(epoch FROM"
         "   now() - started_at)))::bigint FROM live), 0),"
         " 'total_cycles', a.total, 'successful_cycles', a.ok, 'failed_cycles', a.bad,"
         " 'partial_cycles', a.partial,"
         " 'running_cycles', (SELECT count(*) FROM fetcher_cycles WHERE status = 'running'),"
         " 'success_rate', CASE WHEN a.total = 0 THEN 0 ELSE round(100.0 * a.ok / a.total, 2) END,"
         " 'average_cycle_duration_seconds', (SELECT round(avg(duration_ms) / 1000.0, 3) FROM recent),"
         " 'last_cycle_duration_seconds', (SELECT round(duration_ms / 1000.0, 3) FROM last),"
         " 'last_cycle_status', (SELECT status FROM last),"
         " 'last_cycle_finished_at', (SELECT " TS("finished_at") " FROM last),"
         " 'assets_tracked', (SELECT count(*) FROM tracked_assets),"
         " 'assets_succeeded', a.a_ok, 'assets_failed', a.a_bad,"
         " 'asset_success_rate', CASE WHEN a.a_ok + a.a_bad = 0 THEN 0"
         "   ELSE round(100.0 * a.a_ok / (a.a_ok + a.a_bad), 2) END,"
         " 'upstream_requests', a.upstream)::text FROM agg a",
         1},
    [SQL_LOGS] =
        {"api_logs",
         "WITH f AS NOT MATERIALIZED (SELECT id, \"timestamp\", level, message, context, cycle_id, instance_id"
         "  FROM fetcher_logs"
         "  WHERE ($3::text IS NULL OR level = $3::text)"
         "  AND ($4::text[] IS NULL OR level = ANY ($4::text[]))"
         "  AND ($5::timestamptz IS NULL OR \"timestamp\" >= $5::timestamptz)"
         "  AND ($6::timestamptz IS NULL OR \"timestamp\" < $6::timestamptz)"
         "  AND ($7::bigint IS NULL OR cycle_id = $7::bigint)"
         "  AND ($8::text IS NULL OR strpos(lower(message), lower($8::text)) > 0)),"
         " page AS (SELECT * FROM f WHERE ($9::bigint IS NULL OR id < $9::bigint)"
         "  ORDER BY id DESC LIMIT $1::int OFFSET $2::bigint)"
         " SELECT json_build_object("
         " 'logs', coalesce((SELECT json_agg(json_build_object('id', id, 'timestamp', " TS(
             "\"timestamp\"") ","
         "   'level', level, 'message', message, 'context', context, 'cycle_id', cycle_id,"
         "   'instance_id', instance_id) ORDER BY id DESC) FROM page), '[]'::json),"
         " 'total', (SELECT count(*) FROM f), 'limit', $1::int, 'offset', $2::bigint,"
         " 'next_before_id', (SELECT CASE WHEN count(*) = $1::int THEN min(id) END FROM page)"
         " )::text",
         9},
    [SQL_RECENT_UPDATES] =
        {"api_recent_updates",
         "SELECT json_build_object('updates', coalesce(json_agg(json_build_object("
         " 'id', p.id, 'symbol', p.symbol, 'name', a.name, 'timestamp', " TS("p.\"timestamp\"") ","
         " 'price', trim_scale(p.price), 'success', p.success, 'error', p.error,"
         " 'currency', p.currency, 'duration_ms', p.duration_ms, 'cycle_id', p.cycle_id)"
         " ORDER BY p.id DESC), '[]'::json))::text"
         " FROM (SELECT * FROM price_update_log"
         "  WHERE ($2::text IS NULL OR asset_id = (SELECT id FROM assets WHERE symbol = $2::text))"
         "  AND ($3::boolean IS NULL OR success = $3::boolean)"
         "  ORDER BY id DESC LIMIT $1::int) p LEFT JOIN assets a ON a.id = p.asset_id",
         3},
    [SQL_TRIGGER] = {"api_trigger", "SELECT pg_notify('fetcher_trigger', $1::text)", 1},
    [SQL_CYCLES] =
        {"api_cycles",
         "WITH f AS NOT MATERIALIZED (SELECT * FROM fetcher_cycles WHERE ($3::text IS NULL OR status = $3::text)),"
         " page AS (SELECT * FROM f ORDER BY id DESC LIMIT $1::int OFFSET $2::bigint)"
         " SELECT json_build_object('cycles', coalesce((SELECT json_agg(json_build_object("
         " 'id', id, 'instance_id', instance_id, 'seq', seq, 'trigger', trigger,"
         " 'status', status, 'started_at', " TS("started_at") ","
         " 'finished_at', " TS("finished_at") ", 'duration_ms', duration_ms,"
         " 'assets_total', assets_total, 'assets_succeeded', assets_succeeded,"
         " 'assets_failed', assets_failed, 'assets_skipped', assets_skipped,"
         " 'upstream_requests', upstream_requests, 'error', error) ORDER BY id DESC)"
         " FROM page), '[]'::json),"
         " 'total', (SELECT count(*) FROM f), 'limit', $1::int, 'offset', $2::bigint)::text",
         3},
    [SQL_CYCLE] =
        {"api_cycle",
         "SELECT json_build_object("
         " 'id', c.id, 'instance_id', c.instance_id, 'seq', c.seq, 'trigger', c.trigger,"
         " 'status', c.status, 'started_at', " TS("c.started_at") ","
         " 'finished_at', " TS("c.finished_at") ", 'duration_ms', c.duration_ms,"
         " 'assets_total', c.assets_total, 'assets_succeeded', c.assets_succeeded,"
         " 'assets_failed', c.assets_failed, 'assets_skipped', c.assets_skipped,"
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
         " 'price_time', " TS("lp.price_time") ", 'fetched_at', " TS("lp.fetched_at") ")"
         " ORDER BY a.symbol), '[]'::json), 'total', count(*))::text"
         " FROM assets a LEFT JOIN tracked_assets t ON t.asset_id = a.id"
         " LEFT JOIN LATERAL (SELECT price, currency, price_time, fetched_at FROM asset_prices"
         "  WHERE asset_id = a.id ORDER BY fetched_at DESC LIMIT 1) lp ON true",
         0},
    [SQL_PORTFOLIOS] =
        {"api_portfolios",
         "SELECT json_build_object('portfolios', coalesce(json_agg(json_build_object("
         " 'id', p.id, 'name', p.name, 'currency', p.currency,"
         " 'total_value', trim_scale(c.total_value), 'total_invested', trim_scale(c.total_invested),"
         " 'total_return', trim_scale(c.total_return), 'return_pct', trim_scale(c.return_pct),"
         " 'positions', c.positions, 'priced_positions', c.priced_positions,"
         " 'missing', c.missing, 'calculated_at', " TS("c.calculated_at") ","
         " 'cycle_id', c.cycle_id) ORDER BY p.id), '[]'::json))::text"
         " FROM portfolios p LEFT JOIN portfolio_performance_cache c ON c.portfolio_id = p.id",
         0},
    [SQL_QUEUE] = {"api_queue",
                   "SELECT instance_id, " TS("last_heartbeat") ", phase, queue::text"
                   " FROM fetcher_instances WHERE " LIVE_INSTANCE
                   " ORDER BY last_heartbeat DESC LIMIT 1",
                   1},
};
// clang-format on
