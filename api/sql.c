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

/* Per asset type of the tracked assets: how many, the oldest price's age
 * (since its last successful update, or since it was tracked when it never
 * had one), the bound past which a price is stale and how many are. The
 * bound is the daemon's own (its newest heartbeat's stale_after_s, i.e.
 * FETCH_STALENESS) plus one fetch interval: a price at its bound is due at
 * the next cycle, so one interval later a cycle that should have refreshed
 * it did not. $2 stands in for both when no daemon ever wrote a heartbeat. */
#define STALENESS_JSON                                                                             \
    "(SELECT json_object_agg(type, json_build_object('assets', n, 'max_age_s', max_age,"           \
    "  'stale', stale, 'bound_s', bound)) FROM (SELECT type, count(*) AS n,"                       \
    "  round(max(age)::numeric, 3) AS max_age, count(*) FILTER (WHERE age > bound) AS stale,"      \
    "  max(bound) AS bound FROM (SELECT a.asset_type AS type,"                                     \
    "   extract(epoch FROM now() - coalesce(t.last_price_update, t.added_at)) AS age,"             \
    "   coalesce((hb.b ->> a.asset_type)::bigint, $2::bigint)"                                     \
    "    + coalesce(hb.interval_s, $2::bigint) AS bound"                                           \
    "   FROM tracked_assets t JOIN assets a ON a.id = t.asset_id"                                  \
    "   LEFT JOIN (SELECT interval_s, detail -> 'stale_after_s' AS b FROM fetcher_instances"       \
    "    ORDER BY last_heartbeat DESC LIMIT 1) hb ON true) ages GROUP BY type) per_type)"

#define EPOCH_MS(col) "(extract(epoch FROM " col ") * 1000)::bigint"

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
            "  ORDER BY id DESC LIMIT 1))") ","
         " coalesce(s.paused, false), " TS("s.paused_at") ", s.paused_by"
         " FROM (SELECT 1) one LEFT JOIN fetcher_settings s ON s.id = 1",
         0},
    /* All-time totals come from fetcher_cycle_counts (kept by triggers,
     * migration 003): five rows instead of an aggregate over every cycle.
     * "Since start" is the live instance's cycles since its started_at, by
     * the (instance_id, started_at) index. */
    [SQL_STATISTICS] =
        {"api_statistics",
         "WITH cc AS (SELECT"
         "  coalesce(sum(n) FILTER (WHERE status <> 'running'), 0) AS total,"
         "  coalesce(sum(n) FILTER (WHERE status IN ('succeeded', 'partial')), 0) AS ok,"
         "  coalesce(sum(n) FILTER (WHERE status IN ('failed', 'aborted')), 0) AS bad,"
         "  coalesce(sum(n) FILTER (WHERE status = 'partial'), 0) AS partial,"
         "  coalesce(sum(n) FILTER (WHERE status = 'running'), 0) AS running,"
         "  coalesce(sum(assets_succeeded) FILTER (WHERE status <> 'running'), 0) AS a_ok,"
         "  coalesce(sum(assets_failed) FILTER (WHERE status <> 'running'), 0) AS a_bad,"
         "  coalesce(sum(upstream_requests) FILTER (WHERE status <> 'running'), 0) AS upstream,"
         "  coalesce(sum(duration_ms) FILTER (WHERE status <> 'running'), 0) AS ms"
         "  FROM fetcher_cycle_counts),"
         " recent AS (SELECT duration_ms FROM fetcher_cycles WHERE status <> 'running'"
         "  ORDER BY id DESC LIMIT 100),"
         " last AS (SELECT duration_ms, finished_at, status FROM fetcher_cycles"
         "  WHERE status <> 'running' ORDER BY id DESC LIMIT 1),"
         " live AS (SELECT instance_id, started_at FROM fetcher_instances WHERE " LIVE_INSTANCE
         "  ORDER BY last_heartbeat DESC LIMIT 1),"
         " ss AS (SELECT l.instance_id, l.started_at,"
         "  count(c.id) FILTER (WHERE c.status <> 'running') AS total,"
         "  count(c.id) FILTER (WHERE c.status IN ('succeeded', 'partial')) AS ok,"
         "  count(c.id) FILTER (WHERE c.status IN ('failed', 'aborted')) AS bad,"
         "  count(c.id) FILTER (WHERE c.status = 'partial') AS partial,"
         "  coalesce(sum(c.assets_succeeded) FILTER (WHERE c.status <> 'running'), 0) AS a_ok,"
         "  coalesce(sum(c.assets_failed) FILTER (WHERE c.status <> 'running'), 0) AS a_bad,"
         "  coalesce(sum(c.upstream_requests) FILTER (WHERE c.status <> 'running'), 0) AS upstream,"
         "  avg(c.duration_ms) FILTER (WHERE c.status <> 'running') AS avg_ms"
         "  FROM live l LEFT JOIN fetcher_cycles c ON c.instance_id = l.instance_id"
         "   AND c.started_at >= l.started_at GROUP BY l.instance_id, l.started_at)"
         " SELECT json_build_object("
         " 'uptime_seconds', coalesce((SELECT greatest(0, floor(extract(epoch FROM"
         "   now() - started_at)))::bigint FROM live), 0),"
         " 'total_cycles', a.total, 'successful_cycles', a.ok, 'failed_cycles', a.bad,"
         " 'partial_cycles', a.partial, 'running_cycles', a.running,"
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
         "   'failed_cycles', a.bad, 'partial_cycles', a.partial,"
         "   'success_rate', CASE WHEN a.total = 0 THEN 0 ELSE round(100.0 * a.ok / a.total, 2) END,"
         "   'average_cycle_duration_seconds', CASE WHEN a.total = 0 THEN NULL"
         "     ELSE round(a.ms / a.total / 1000.0, 3) END,"
         "   'assets_succeeded', a.a_ok, 'assets_failed', a.a_bad, 'upstream_requests', a.upstream),"
         " 'since_start', (SELECT json_build_object('instance_id', instance_id,"
         "   'started_at', " TS("started_at") ", 'total_cycles', total, 'successful_cycles', ok,"
         "   'failed_cycles', bad, 'partial_cycles', partial,"
         "   'success_rate', CASE WHEN total = 0 THEN 0 ELSE round(100.0 * ok / total, 2) END,"
         "   'average_cycle_duration_seconds', round(avg_ms / 1000.0, 3),"
         "   'assets_succeeded', a_ok, 'assets_failed', a_bad, 'upstream_requests', upstream)"
         "   FROM ss))::text FROM cc a",
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
         " 'currency', p.currency, 'duration_ms', p.duration_ms, 'cycle_id', p.cycle_id,"
         " 'source', p.source, 'failover_reason', p.failover_reason, 'crosscheck', p.crosscheck)"
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
         " 'price_time', " TS("lp.price_time") ", 'fetched_at', " TS("lp.fetched_at") ","
         /* the source of its newest row, and how many it had then (1: no
          * second source); its newest cross-check */
         " 'source', ll.source, 'source_count', ll.source_count,"
         " 'crosscheck', xc.crosscheck, 'crosscheck_at', " TS("xc.\"timestamp\"") ")"
         " ORDER BY a.symbol), '[]'::json), 'total', count(*))::text"
         " FROM assets a LEFT JOIN tracked_assets t ON t.asset_id = a.id"
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
         "  provider_symbol) VALUES ($1::text, $2::text, $3::text, $4::text, $5::text, $6::text)"
         "  ON CONFLICT (symbol) DO NOTHING RETURNING *),"
         " a AS (SELECT * FROM ins UNION ALL SELECT * FROM assets"
         "  WHERE symbol = $1::text AND NOT EXISTS (SELECT 1 FROM ins)),"
         " t AS (INSERT INTO tracked_assets (asset_id) SELECT id FROM a"
         "  ON CONFLICT (asset_id) DO NOTHING RETURNING asset_id, added_at),"
         " l AS (INSERT INTO fetcher_logs (level, message, context)"
         "  SELECT 'INFO', 'Asset ' || a.symbol || ' tracked by ' || $7::text,"
         "   jsonb_build_object('client', $7::text, 'action', 'track', 'symbol', a.symbol,"
         "    'created', EXISTS (SELECT 1 FROM ins))"
         "  FROM a JOIN t ON t.asset_id = a.id)"
         " SELECT (SELECT count(*) FROM t), (SELECT json_build_object("
         " 'id', a.id, 'symbol', a.symbol, 'name', a.name, 'asset_type', a.asset_type,"
         " 'currency', a.currency, 'exchange', a.exchange, 'provider', a.provider,"
         " 'provider_symbol', a.provider_symbol, 'tracked', true,"
         " 'added_at', " TS("t.added_at") ", 'created', EXISTS (SELECT 1 FROM ins))::text"
         " FROM a JOIN t ON t.asset_id = a.id)",
         7},
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
     * provider of its asset. */
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
         " 'errors', (SELECT json_object_agg(provider, n) FROM (SELECT"
         "  coalesce(a.provider, 'unknown') AS provider, count(*) AS n FROM price_update_log p"
         "  LEFT JOIN assets a ON a.id = p.asset_id WHERE NOT p.success GROUP BY 1) e),"
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
};
// clang-format on
