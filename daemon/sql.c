/*
 * sql — see sql.h. Read it as the daemon's whole conversation with the
 * database.
 */
#include "sql.h"

const char sql_resume_instance[] =
    "WITH aborted AS (UPDATE fetcher_cycles SET status = 'aborted', finished_at = now(),"
    "   error = 'fetcherd restarted during the cycle'"
    " WHERE instance_id = $1 AND status = 'running' AND NOT fleet RETURNING seq)"
    " SELECT COALESCE(max(seq), 0), (SELECT count(*) FROM aborted) FROM fetcher_cycles"
    " WHERE instance_id = $1";

/* An instance (fetcher_instances AS i) is alive for the fleet while its
 * heartbeat or its last lease renewal (seen_at, not queued behind its
 * writes) is younger than three of its heartbeat intervals. */
#define FLEET_ALIVE_I                                                                              \
    "greatest(i.last_heartbeat, i.seen_at) > now() - make_interval(secs =>"                        \
    " greatest(3, 3 * COALESCE((i.detail->>'heartbeat_s')::int, 5)))"

const char sql_partitions_ensure[] = "SELECT fetcher_partitions_ensure($1::int)";

const struct db_stmt sql_statements[] = {
    /* The assets a cycle considers: every tracked asset, with where to get
     * it, and the schedule's answer for it at this check, on the
     * database's clock: due now, or skipped because its market is closed
     * (fetcher_due_assets, migration 010; $1 check interval s, $2 bounds
     * per type as JSON, $3 default bound s, $4 market hours). The one
     * place that decides what is due, so that claims of several instances
     * can wrap it. */
    {SQL_TRACKED_ASSETS,
     "SELECT a.id, a.symbol, a.asset_type, a.currency, a.provider, a.provider_symbol,"
     "   COALESCE(extract(epoch FROM now() - t.last_price_update)::bigint, -1),"
     "   (SELECT ap.price FROM asset_prices ap WHERE ap.asset_id = a.id"
     "    ORDER BY ap.fetched_at DESC LIMIT 1), COALESCE(array_to_string(a.sources, ','), ''),"
     "   d.due, d.market_closed,"
     "   to_char(fetcher_now() AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"'),"
     "   d.bound_s < 0"
     " FROM fetcher_due_assets(fetcher_now(), $1::int, $2::jsonb, $3::int, $4::boolean) d"
     " JOIN tracked_assets t ON t.asset_id = d.asset_id JOIN assets a ON a.id = d.asset_id"
     " ORDER BY a.id",
     4},

    /* The tracked assets an on-demand refresh names (same columns). */
    {SQL_ASSETS_BY_SYMBOL,
     "SELECT a.id, a.symbol, a.asset_type, a.currency, a.provider, a.provider_symbol,"
     "   COALESCE(extract(epoch FROM now() - t.last_price_update)::bigint, -1),"
     "   (SELECT ap.price FROM asset_prices ap WHERE ap.asset_id = a.id"
     "    ORDER BY ap.fetched_at DESC LIMIT 1), COALESCE(array_to_string(a.sources, ','), ''),"
     "   true, false, NULL, false"
     " FROM tracked_assets t JOIN assets a ON a.id = t.asset_id"
     " WHERE upper(a.symbol) = ANY (SELECT upper(x) FROM"
     "   jsonb_array_elements_text($1::jsonb) AS x) ORDER BY a.id",
     1},

    /* Whether scheduled cycles are paused (fetcher-api's pause/resume). */
    {SQL_SETTINGS, "SELECT paused, paused_at, paused_by FROM fetcher_settings WHERE id = 1", 0},

    /* Progress events: not rows, so sent as they happen and never buffered. */
    {SQL_NOTIFY_EVENT,
     "SELECT pg_notify('fetcher_events', ($1::jsonb || jsonb_build_object('cycle_id',"
     "   (SELECT id FROM fetcher_cycles WHERE instance_id = $2 AND seq = $3::bigint)))::text)",
     3},

    /* Currencies that need a rate against USD: those of tracked assets,
     * those portfolios are valued in, and those positions were bought in
     * (migration 012). */
    {SQL_CURRENCIES,
     "SELECT currency FROM assets a JOIN tracked_assets t ON t.asset_id = a.id"
     " UNION SELECT currency FROM portfolios"
     " UNION SELECT currency FROM portfolio_positions WHERE currency IS NOT NULL"
     " EXCEPT SELECT 'USD' ORDER BY 1",
     0},

    {SQL_RECORD_RATES,
     "INSERT INTO exchange_rates (base, quote, rate, rate_date)"
     " SELECT r.base, r.quote, r.rate, r.rate_date"
     " FROM jsonb_to_recordset($1::jsonb) AS r(base text, quote text, rate numeric,"
     "   rate_date date)"
     " ON CONFLICT (base, quote, rate_date) DO UPDATE SET rate = EXCLUDED.rate,"
     "   fetched_at = now()",
     1},

    /* A cycle's row is written when it starts, so a crash leaves a trace
     * ('running') that the next start marks 'aborted'. */
    /* Cycle ids (fetcher_cycles.id, the number the dashboard and the API
     * show) taken before the cycle starts, so that its log lines, on
     * stdout too, name it by that number; spares for cycles that start
     * while the database is away. */
    {SQL_RESERVE_CYCLE_IDS,
     "SELECT nextval(pg_get_serial_sequence('fetcher_cycles', 'id'))"
     " FROM generate_series(1, $1::int)",
     1},

    {SQL_CYCLE_START,
     "WITH ins AS ("
     "  INSERT INTO fetcher_cycles (id, instance_id, seq, trigger, status, started_at,"
     "    assets_total) OVERRIDING SYSTEM VALUE"
     "  SELECT COALESCE(r.id, nextval(pg_get_serial_sequence('fetcher_cycles', 'id'))),"
     "    r.instance_id, r.seq, r.trigger, 'running', r.started_at, r.assets_total"
     "  FROM jsonb_to_record($1::jsonb) AS r(id bigint, instance_id text, seq bigint,"
     "    trigger text, started_at timestamptz, assets_total int)"
     "  ON CONFLICT (instance_id, seq) DO NOTHING"
     "  RETURNING id, instance_id, seq, trigger, assets_total, started_at)"
     " SELECT pg_notify('fetcher_events', json_build_object('type', 'cycle_started',"
     "   'cycle_id', id, 'instance_id', instance_id, 'seq', seq, 'trigger', trigger,"
     "   'total', assets_total, 'started_at', started_at)::text) FROM ins",
     1},

    {SQL_CYCLE_FINISH,
     "WITH upd AS (UPDATE fetcher_cycles c SET status = r.status, finished_at = r.finished_at,"
     "   duration_ms = r.duration_ms, assets_total = r.assets_total,"
     "   assets_succeeded = r.assets_succeeded, assets_failed = r.assets_failed,"
     "   assets_skipped = r.assets_skipped, upstream_requests = r.upstream_requests,"
     "   assets_market_closed = COALESCE(r.assets_market_closed, 0), error = r.error"
     " FROM jsonb_to_record($1::jsonb) AS r(instance_id text, seq bigint, status text,"
     "   finished_at timestamptz, duration_ms int, assets_total int, assets_succeeded int,"
     "   assets_failed int, assets_skipped int, upstream_requests int, error text,"
     "   assets_market_closed int)"
     " WHERE c.instance_id = r.instance_id AND c.seq = r.seq AND c.status = 'running'"
     " RETURNING c.id, c.instance_id, c.seq, c.status, c.assets_succeeded, c.assets_failed,"
     "   c.assets_skipped, c.duration_ms)"
     " SELECT pg_notify('fetcher_events', json_build_object('type', 'cycle_finished',"
     "   'cycle_id', id, 'instance_id', instance_id, 'seq', seq, 'status', status,"
     "   'assets_succeeded', assets_succeeded, 'assets_failed', assets_failed,"
     "   'assets_skipped', assets_skipped, 'duration_ms', duration_ms)::text) FROM upd",
     1},

    /* One cycle's results in one statement: prices for the successes, one
     * price_update_log row per asset, and each tracked asset's last update
     * or last error. An asset deleted meanwhile keeps its log row (symbol)
     * without the foreign key. A success whose market time and price are
     * those of the asset's newest asset_prices row is a check, not a new
     * price: logged, no asset_prices row (migration 007). Every success
     * rolls into its market day's close in asset_prices_daily. */
    {SQL_RECORD_UPDATES,
     "WITH r0 AS ("
     "  SELECT r.*, (SELECT a.id FROM assets a WHERE a.id = r.asset_id) AS live_asset,"
     "    CASE WHEN r.cycle_seq < 0 THEN -r.cycle_seq END AS fleet_cycle"
     "  FROM jsonb_to_recordset($1::jsonb) AS r(asset_id bigint, symbol text, ok boolean,"
     "    price numeric, currency text, price_time timestamptz, error text, duration_ms int,"
     "    instance_id text, seq bigint, price_seq bigint, cycle_seq bigint, ts timestamptz,"
     "    source text, failover_reason text, time_basis text, quoted_currency text, exchange text,"
     "    instrument_type text, exchange_tz text, session_start bigint, session_end bigint,"
     "    gmtoffset int, source_count smallint, crosscheck jsonb, asked timestamptz)"
     /* a shared cycle's asset (migration 016) is recorded only while its
      * claim is still ours: a claim given back to the pool meanwhile (we
      * were paused or cut off) belongs to whoever took it */
     "), work AS ("
     "  UPDATE fetcher_work w SET done_at = r0.ts, success = r0.ok FROM r0"
     "  WHERE w.cycle_id = r0.fleet_cycle AND w.asset_id = r0.asset_id"
     "    AND w.owner = r0.instance_id AND w.done_at IS NULL"
     "  RETURNING w.cycle_id, w.asset_id"
     "), r AS ("
     "  SELECT * FROM r0 WHERE fleet_cycle IS NULL OR EXISTS (SELECT 1 FROM work"
     "    WHERE work.cycle_id = r0.fleet_cycle AND work.asset_id = r0.asset_id)"
     "), prices AS ("
     "  INSERT INTO asset_prices (asset_id, price, currency, price_time, fetched_at, source,"
     "    instance_id, seq, price_time_basis, quoted_currency)"
     "  SELECT live_asset, price, currency, price_time, ts, source, instance_id, price_seq,"
     "    time_basis, quoted_currency"
     "  FROM r WHERE ok AND live_asset IS NOT NULL"
     "    AND NOT (time_basis IN ('market', 'bar', 'date') AND EXISTS ("
     "      SELECT 1 FROM (SELECT l.price_time, l.price, l.currency FROM asset_prices l"
     "        WHERE l.asset_id = r.live_asset ORDER BY l.fetched_at DESC LIMIT 1) l"
     "      WHERE l.price_time = r.price_time AND l.price = r.price::numeric(30, 10)"
     "        AND l.currency = r.currency))"
     "  ON CONFLICT (instance_id, seq) DO NOTHING"
     "), daily AS ("
     "  INSERT INTO asset_prices_daily AS d (asset_id, day, close, currency, source, price_time)"
     "  SELECT DISTINCT ON (live_asset) live_asset, fetcher_market_day(price_time, COALESCE("
     "      gmtoffset, (SELECT (a.trading_period ->> 'gmtoffset')::int FROM assets a"
     "                  WHERE a.id = r.live_asset))), price, currency, source, price_time"
     "  FROM r WHERE ok AND live_asset IS NOT NULL ORDER BY live_asset, price_time DESC"
     "  ON CONFLICT (asset_id, day) DO UPDATE SET close = EXCLUDED.close,"
     "    currency = EXCLUDED.currency, source = EXCLUDED.source, price_time = EXCLUDED.price_time"
     "  WHERE d.price_time <= EXCLUDED.price_time"
     "    AND (d.price_time, d.close) IS DISTINCT FROM (EXCLUDED.price_time, EXCLUDED.close)"
     "), log AS ("
     "  INSERT INTO price_update_log (\"timestamp\", asset_id, symbol, price, currency, success,"
     "    error, duration_ms, cycle_id, instance_id, seq, price_time, price_time_basis,"
     "    quoted_currency, source, failover_reason, source_count, crosscheck)"
     "  SELECT ts, live_asset, symbol, CASE WHEN ok THEN price END, currency, ok, error,"
     "    duration_ms, COALESCE(r.fleet_cycle, (SELECT c.id FROM fetcher_cycles c"
     "                  WHERE c.instance_id = r.instance_id AND c.seq = r.cycle_seq)),"
     "    instance_id, seq, CASE WHEN ok THEN price_time END, CASE WHEN ok THEN time_basis END,"
     "    CASE WHEN ok THEN quoted_currency END, source, failover_reason, source_count,"
     "    crosscheck"
     "  FROM r ON CONFLICT (instance_id, seq, \"timestamp\") DO NOTHING"
     "  RETURNING cycle_id, success"
     /* what the provider says about the listing, written only when it
      * changed (the trading period does daily), so assets rows do not churn */
     "), m AS ("
     "  SELECT live_asset, exchange, instrument_type, exchange_tz,"
     "    CASE WHEN session_start > 0 THEN jsonb_build_object("
     "      'start', to_timestamp(session_start), 'end', to_timestamp(session_end),"
     "      'gmtoffset', gmtoffset) END AS period"
     "  FROM r WHERE ok AND live_asset IS NOT NULL AND exchange IS NOT NULL"
     "), market AS ("
     "  UPDATE assets a SET provider_exchange = m.exchange, instrument_type = m.instrument_type,"
     "    exchange_timezone = m.exchange_tz, trading_period = m.period"
     "  FROM m WHERE a.id = m.live_asset AND (a.provider_exchange, a.instrument_type,"
     "    a.exchange_timezone, a.trading_period) IS DISTINCT FROM"
     "    (m.exchange, m.instrument_type, m.exchange_tz, m.period)"
     "), tracked AS ("
     "  UPDATE tracked_assets t SET"
     "    last_price_update = CASE WHEN r.ok THEN r.ts ELSE t.last_price_update END,"
     "    last_error = CASE WHEN r.ok THEN NULL ELSE r.error END,"
     "    last_error_at = CASE WHEN r.ok THEN t.last_error_at ELSE r.ts END,"
     "    last_attempt_at = COALESCE(r.asked, fetcher_now())"
     "  FROM r WHERE t.asset_id = r.live_asset"
     ")"
     " SELECT pg_notify('fetcher_events', json_build_object('type', 'assets_updated',"
     "   'cycle_id', min(cycle_id), 'instance_id', (SELECT instance_id FROM r LIMIT 1),"
     "   'count', count(*), 'succeeded', count(*) FILTER (WHERE success))::text)"
     " FROM log HAVING count(*) > 0",
     1},

    /* WARNING and above also go out as events (message cut to fit
     * NOTIFY's 8,000-byte payload). */
    {SQL_LOGS,
     "WITH ins AS ("
     "  INSERT INTO fetcher_logs (\"timestamp\", level, message, context, instance_id, seq,"
     "    cycle_id)"
     "  SELECT r.ts, r.level, r.message, r.context, r.instance_id, r.seq,"
     "    CASE WHEN r.cycle_seq < 0 THEN -r.cycle_seq ELSE (SELECT c.id FROM fetcher_cycles c"
     "     WHERE c.instance_id = r.instance_id AND c.seq = r.cycle_seq) END"
     "  FROM jsonb_to_recordset($1::jsonb) AS r(ts timestamptz, level text, message text,"
     "    context jsonb, instance_id text, seq bigint, cycle_seq bigint)"
     "  ON CONFLICT (instance_id, seq, \"timestamp\") DO NOTHING"
     "  RETURNING id, level, message, cycle_id)"
     " SELECT pg_notify('fetcher_events', json_build_object('type', 'log', 'id', id,"
     "   'level', level, 'message', left(message, 2000), 'cycle_id', cycle_id)::text)"
     " FROM ins WHERE level IN ('WARNING', 'ERROR', 'CRITICAL')",
     1},

    /* Each portfolio in a subtransaction of its own (migration 006): a row
     * per portfolio, with the error when it could not be valued. */
    {SQL_RECALC_PORTFOLIOS,
     "SELECT r_portfolio, r_gaps, r_missing, r_error, r_state"
     " FROM fetcher_recalc_portfolios($1, $2::bigint)",
     2},

    /* Statistics are computed from fetcher_cycles, not from counters in
     * memory, so they survive restarts and agree with the API. Empty cycles
     * (nothing tracked) did no work: left out, as /statistics does. */
    {SQL_PERSIST_STATS,
     "INSERT INTO fetcher_statistics (instance_id, uptime_seconds, total_cycles,"
     "  successful_cycles, failed_cycles, success_rate, avg_cycle_duration_s,"
     "  last_cycle_duration_s, assets_tracked, queue, seq)"
     " SELECT $1, $2::bigint, count(*),"
     "   count(*) FILTER (WHERE status IN ('succeeded', 'partial')),"
     "   count(*) FILTER (WHERE status IN ('failed', 'aborted')),"
     "   CASE WHEN count(*) = 0 THEN 0 ELSE round(100.0 * count(*) FILTER"
     "     (WHERE status IN ('succeeded', 'partial')) / count(*), 2) END,"
     "   (SELECT round(avg(duration_ms) / 1000.0, 3) FROM (SELECT duration_ms"
     "      FROM fetcher_cycles WHERE status NOT IN ('running', 'empty')"
     "      AND duration_ms IS NOT NULL ORDER BY id DESC LIMIT 100) last100),"
     "   (SELECT round(duration_ms / 1000.0, 3) FROM fetcher_cycles"
     "      WHERE status NOT IN ('running', 'empty') AND duration_ms IS NOT NULL"
     "      ORDER BY id DESC LIMIT 1),"
     "   (SELECT count(*) FROM tracked_assets), $3::jsonb, $4::bigint"
     " FROM fetcher_cycles WHERE status NOT IN ('running', 'empty')"
     " ON CONFLICT (instance_id, seq) DO NOTHING",
     4},

    {SQL_HEARTBEAT,
     "INSERT INTO fetcher_instances AS i (instance_id, host, pid, version, started_at,"
     "  last_heartbeat, state, phase, interval_s, next_cycle_at, cycle_id, cycle_started,"
     "  cycle_done, cycle_total, tracked_assets, queue, detail, stopped_at)"
     " SELECT r.instance_id, r.host, r.pid, r.version, r.started_at, now(), r.state, r.phase,"
     "   r.interval_s, r.next_cycle_at,"
     "   (SELECT c.id FROM fetcher_cycles c WHERE c.instance_id = r.instance_id"
     "      AND c.seq = r.cycle_seq), r.cycle_started, r.cycle_done, r.cycle_total,"
     "   r.tracked_assets, r.queue, r.detail,"
     "   CASE WHEN r.state = 'stopped' THEN now() END"
     " FROM jsonb_to_record($1::jsonb) AS r(instance_id text, host text, pid int,"
     "   version text, started_at timestamptz, state text, phase text, interval_s int,"
     "   next_cycle_at timestamptz, cycle_seq bigint, cycle_started timestamptz,"
     "   cycle_done int, cycle_total int, tracked_assets int, queue jsonb, detail jsonb)"
     " ON CONFLICT (instance_id) DO UPDATE SET last_heartbeat = now(), state = EXCLUDED.state,"
     "   phase = EXCLUDED.phase, interval_s = EXCLUDED.interval_s,"
     "   next_cycle_at = EXCLUDED.next_cycle_at, cycle_id = EXCLUDED.cycle_id,"
     "   cycle_started = EXCLUDED.cycle_started, cycle_done = EXCLUDED.cycle_done,"
     "   cycle_total = EXCLUDED.cycle_total, tracked_assets = EXCLUDED.tracked_assets,"
     "   queue = EXCLUDED.queue, detail = EXCLUDED.detail, stopped_at = EXCLUDED.stopped_at",
     1},

    /* Cycles left 'running' by instances that stopped heartbeating
     * (killed, crashed) are marked aborted: at start and periodically. An
     * instance is dead after three of its own heartbeat intervals. A cycle
     * the fleet shares is not aborted: its work goes back to the pool and
     * the fleet finishes it (SQL_FLEET_REAP). */
    {SQL_ABORT_STALE,
     "UPDATE fetcher_cycles c SET status = 'aborted', finished_at = now(),"
     "   error = 'fetcherd stopped during the cycle (killed or crashed)'"
     " WHERE c.status = 'running' AND c.instance_id <> $1 AND NOT c.fleet"
     "   AND NOT EXISTS (SELECT 1 FROM fetcher_instances i"
     "     WHERE i.instance_id = c.instance_id AND i.state = 'running'"
     "       AND i.last_heartbeat > now() - make_interval(secs =>"
     "         greatest(3, 3 * COALESCE((i.detail->>'heartbeat_s')::int, 5))))"
     "   AND c.started_at < now() - interval '3 seconds'"
     " RETURNING c.id, c.instance_id",
     1},

    /* ---- the fleet (fleet.c, migration 016) ---- */

    /* Takes or renews the schedule lease ($3: whether to try), judged by
     * the database's clock; and what an instance needs to know of the
     * fleet: the lease's epoch if it is ours, how many other instances are
     * alive, how long ago the last scheduled cycle that ran (or a shared one
     * still running; not one its dead instance left) started, the open
     * shared cycle and its progress, who holds the lease, and how many
     * claims are under our name. */
    {SQL_FLEET_LEASE,
     "WITH seen AS ("
     "  UPDATE fetcher_instances SET seen_at = now() WHERE instance_id = $1"
     "), l AS ("
     "  UPDATE fetcher_lease SET"
     "    epoch = epoch + CASE WHEN holder IS DISTINCT FROM $1 THEN 1 ELSE 0 END,"
     "    acquired_at = CASE WHEN holder IS DISTINCT FROM $1 THEN now() ELSE acquired_at END,"
     "    holder = $1, expires_at = now() + make_interval(secs => $2::int)"
     "  WHERE name = 'schedule' AND $3::boolean"
     "    AND (holder = $1 OR holder IS NULL OR expires_at <= now())"
     "  RETURNING epoch"
     "), open AS ("
     "  SELECT id, seq FROM fetcher_cycles WHERE fleet AND status = 'running'"
     "  ORDER BY id DESC LIMIT 1"
     ")"
     " SELECT (SELECT epoch FROM l),"
     "   (SELECT count(*) FROM fetcher_instances i WHERE i.instance_id <> $1"
     "     AND i.state = 'running' AND " FLEET_ALIVE_I "),"
     "   (SELECT (extract(epoch FROM now() - max(started_at)) * 1000)::bigint"
     "     FROM fetcher_cycles WHERE trigger IN ('startup', 'schedule')"
     "       AND (status IN ('succeeded', 'partial', 'failed')"
     "         OR (fleet AND status = 'running'))),"
     "   (SELECT id FROM open),"
     "   (SELECT count(*) FROM fetcher_work WHERE cycle_id = (SELECT id FROM open)),"
     "   (SELECT count(*) FROM fetcher_work WHERE cycle_id = (SELECT id FROM open)"
     "      AND done_at IS NOT NULL),"
     "   COALESCE((SELECT $1 FROM l), (SELECT holder FROM fetcher_lease"
     "      WHERE name = 'schedule' AND expires_at > now())),"
     "   (SELECT seq FROM open),"
     /* claims under our name not yet done: while we heartbeat nobody
      * else returns them, so fleet.c gives back those no share of ours
      * is working on */
     "   (SELECT count(*) FROM fetcher_work WHERE owner = $1 AND done_at IS NULL)",
     3},

    /* Given back when an instance stops, so the next takes over at once. */
    {SQL_FLEET_LEASE_RELEASE,
     "UPDATE fetcher_lease SET holder = NULL, expires_at = now()"
     " WHERE name = 'schedule' AND holder = $1",
     1},

    /* The leader's check: what is due (fetcher_due_assets, migration 010,
     * with the due parameters of the check, or everything for a manual
     * trigger), and when something is (or the check is full), the cycle's
     * row and one fetcher_work row per due asset, in one statement; then
     * the fleet is told. Only while the lease is still ours: a plan that
     * waited behind other writes must not open a cycle beside a new
     * leader's. One row: the cycle's id (NULL: none), the assets due,
     * whether the lease held. */
    {SQL_FLEET_PLAN,
     "WITH r AS ("
     "  SELECT * FROM jsonb_to_record($1::jsonb) AS r(instance_id text, seq bigint, trigger text,"
     "    check_s int, bounds jsonb, default_s int, market_hours boolean, honour boolean,"
     "    full_check boolean)"
     "), lease AS ("
     "  SELECT EXISTS (SELECT 1 FROM fetcher_lease l, r WHERE l.name = 'schedule'"
     "    AND l.holder = r.instance_id AND l.expires_at > now()) AS ok"
     "), d AS ("
     "  SELECT d.* FROM r, fetcher_due_assets(fetcher_now(), r.check_s, r.bounds, r.default_s,"
     "    r.market_hours) d"
     "), due AS ("
     "  SELECT d.asset_id AS id, a.provider FROM r, d JOIN assets a ON a.id = d.asset_id"
     "  WHERE NOT r.honour OR d.due"
     "), c AS ("
     "  INSERT INTO fetcher_cycles (instance_id, seq, trigger, status, started_at, assets_total,"
     "    assets_skipped, assets_market_closed, fleet)"
     "  SELECT r.instance_id, r.seq, r.trigger, 'running', now(), (SELECT count(*) FROM d),"
     "    (SELECT count(*) FROM d) - (SELECT count(*) FROM due),"
     "    CASE WHEN r.honour THEN (SELECT count(*) FROM d WHERE d.market_closed) ELSE 0 END, true"
     "  FROM r WHERE (SELECT ok FROM lease) AND (r.full_check OR EXISTS (SELECT 1 FROM due))"
     "  ON CONFLICT (instance_id, seq) DO NOTHING"
     "  RETURNING id, instance_id, seq, trigger, assets_total, started_at"
     "), w AS ("
     "  INSERT INTO fetcher_work (cycle_id, asset_id, provider)"
     "  SELECT c.id, due.id, due.provider FROM c CROSS JOIN due"
     ")"
     " SELECT (SELECT id FROM c), (SELECT count(*) FROM due), (SELECT ok FROM lease),"
     "   (SELECT pg_notify('fetcher_events', json_build_object('type', 'cycle_started',"
     "     'cycle_id', c.id, 'instance_id', c.instance_id, 'seq', c.seq, 'trigger', c.trigger,"
     "     'total', c.assets_total, 'started_at', c.started_at, 'fleet', true)::text) FROM c),"
     "   (SELECT pg_notify('fetcher_work', c.id::text) FROM c)",
     1},

    /* A chunk of work: open rows of one provider of the oldest open
     * cycle, skipping rows another instance is claiming this instant. Its
     * size: the provider's batch ($2: {"yahoo": 20, …}) times up to $3,
     * but no more than an even split of what is open among the $4 live
     * instances, so a small cycle is still shared by all of them. An
     * asset deleted since the plan is done at once. Columns as
     * SQL_TRACKED_ASSETS' (every asset due: the plan judged), then the
     * cycle's id, instance and number. */
    {SQL_FLEET_CLAIM,
     "WITH p AS ("
     "  SELECT cycle_id, provider FROM fetcher_work WHERE owner IS NULL AND done_at IS NULL"
     "  ORDER BY cycle_id, provider, asset_id LIMIT 1 FOR UPDATE SKIP LOCKED"
     /* one cycle and provider, given as values (not a join), and the rows
      * to update named by key: both read fetcher_work_open and the primary
      * key from where they start, however large the cycle */
     "), pick AS ("
     "  SELECT w.asset_id FROM fetcher_work w"
     "  WHERE w.cycle_id = (SELECT cycle_id FROM p) AND w.provider = (SELECT provider FROM p)"
     "    AND w.owner IS NULL AND w.done_at IS NULL ORDER BY w.asset_id"
     /* what is open is counted only up to the most a chunk could be */
     "  LIMIT (SELECT least(b * $3::int, greatest(b, ceil((SELECT count(*) FROM (SELECT 1"
     "      FROM fetcher_work o WHERE o.cycle_id = p.cycle_id AND o.provider = p.provider"
     "        AND o.owner IS NULL AND o.done_at IS NULL LIMIT b * $3::int * $4::int) x)"
     "      ::numeric / $4::int)::int))"
     "    FROM p, COALESCE(($2::jsonb ->> p.provider)::int, 20) AS b)"
     "  FOR UPDATE SKIP LOCKED"
     "), cl AS ("
     "  UPDATE fetcher_work w SET owner = $1, claimed_at = now(),"
     "    done_at = CASE WHEN EXISTS (SELECT 1 FROM assets a WHERE a.id = w.asset_id)"
     "      THEN NULL ELSE now() END"
     "  WHERE w.cycle_id = (SELECT cycle_id FROM p)"
     "    AND w.asset_id = ANY (ARRAY(SELECT asset_id FROM pick))"
     "  RETURNING w.cycle_id, w.asset_id"
     ")"
     " SELECT a.id, a.symbol, a.asset_type, a.currency, a.provider, a.provider_symbol,"
     "   COALESCE(extract(epoch FROM now() - t.last_price_update)::bigint, -1),"
     "   (SELECT ap.price FROM asset_prices ap WHERE ap.asset_id = a.id"
     "    ORDER BY ap.fetched_at DESC LIMIT 1), COALESCE(array_to_string(a.sources, ','), ''),"
     "   true, false,"
     "   to_char(fetcher_now() AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"'), false,"
     "   cl.cycle_id, c.instance_id, c.seq"
     " FROM cl JOIN assets a ON a.id = cl.asset_id"
     "   LEFT JOIN tracked_assets t ON t.asset_id = a.id"
     "   LEFT JOIN fetcher_cycles c ON c.id = cl.cycle_id"
     " ORDER BY a.id",
     4},

    /* After a chunk's rows are written ($2: the requests it cost): the
     * cycle is finished by whoever finds no open work left, with the
     * counts of its work rows, which then go. Run after every chunk by
     * the instance that wrote it; a race of two finds one of them last. */
    {SQL_FLEET_FINISH,
     /* Open work is looked for in the two partial indexes (unclaimed by
      * cycle; claimed, a few batches per instance); the cycle's rows are
      * counted only when there is none, so the check after each chunk
      * does not read the whole cycle. */
     "WITH o AS ("
     "  SELECT COALESCE((SELECT true FROM fetcher_work WHERE cycle_id = $1::bigint"
     "      AND owner IS NULL AND done_at IS NULL ORDER BY cycle_id, provider, asset_id LIMIT 1),"
     "    (SELECT true FROM fetcher_work WHERE owner IS NOT NULL AND done_at IS NULL"
     "      AND cycle_id = $1::bigint ORDER BY owner LIMIT 1), false) AS open"
     "), s AS ("
     "  SELECT count(*) FILTER (WHERE success) AS ok, count(*) FILTER (WHERE NOT success)"
     "    AS failed, (SELECT open FROM o) AS open,"
     "    array_agg(DISTINCT owner ORDER BY owner) FILTER (WHERE success IS NOT NULL) AS inst"
     "  FROM fetcher_work WHERE cycle_id = $1::bigint AND NOT (SELECT open FROM o)"
     "), req AS ("
     "  UPDATE fetcher_cycles c SET upstream_requests = c.upstream_requests + $2::int"
     "  FROM s WHERE c.id = $1::bigint AND s.open AND $2::int > 0"
     "), fin AS ("
     "  UPDATE fetcher_cycles c SET status = CASE WHEN s.failed = 0 THEN 'succeeded'"
     "      WHEN s.ok > 0 THEN 'partial' ELSE 'failed' END,"
     "    finished_at = now(),"
     "    duration_ms = (extract(epoch FROM now() - c.started_at) * 1000)::int,"
     "    assets_succeeded = s.ok, assets_failed = s.failed, instances = s.inst,"
     "    upstream_requests = c.upstream_requests + $2::int"
     "  FROM s WHERE c.id = $1::bigint AND c.status = 'running' AND NOT s.open"
     "  RETURNING c.id, c.instance_id, c.seq, c.status, c.assets_succeeded, c.assets_failed,"
     "    c.assets_skipped, c.duration_ms, c.assets_total, c.upstream_requests, c.instances"
     "), del AS ("
     "  DELETE FROM fetcher_work WHERE cycle_id IN (SELECT id FROM fin)"
     ")"
     " SELECT id, instance_id, seq, status, assets_succeeded, assets_failed, assets_total,"
     "   duration_ms, upstream_requests, array_to_string(instances, ','),"
     "   pg_notify('fetcher_events', json_build_object('type', 'cycle_finished',"
     "   'cycle_id', id, 'instance_id', instance_id, 'seq', seq, 'status', status,"
     "   'assets_succeeded', assets_succeeded, 'assets_failed', assets_failed,"
     "   'assets_skipped', assets_skipped, 'duration_ms', duration_ms, 'fleet', true)::text),"
     "   pg_notify('fetcher_work', 'finished ' || id)"
     " FROM fin",
     2},

    /* Every heartbeat interval, by every instance (it is idempotent): the
     * claims of instances no longer alive (FLEET_ALIVE_I) go back to the
     * pool, and shared cycles left with no open work (their finisher died
     * between its two statements) are named for finishing. */
    {SQL_FLEET_REAP,
     "WITH old AS ("
     "  SELECT w.cycle_id, w.asset_id, w.owner FROM fetcher_work w"
     "  WHERE w.owner IS NOT NULL AND w.done_at IS NULL AND NOT EXISTS ("
     "    SELECT 1 FROM fetcher_instances i WHERE i.instance_id = w.owner"
     "      AND i.state = 'running' AND " FLEET_ALIVE_I ")"
     "  FOR UPDATE OF w SKIP LOCKED"
     "), dead AS ("
     "  UPDATE fetcher_work w SET owner = NULL, claimed_at = NULL FROM old"
     "  WHERE w.cycle_id = old.cycle_id AND w.asset_id = old.asset_id"
     "    AND w.owner = old.owner"
     "    AND w.done_at IS NULL"
     "  RETURNING w.cycle_id, old.owner"
     ")"
     " SELECT 'released', cycle_id, owner, count(*),"
     "   pg_notify('fetcher_work', cycle_id::text)::text"
     " FROM dead GROUP BY cycle_id, owner"
     " UNION ALL"
     " SELECT 'finish', c.id, NULL, 0, NULL FROM fetcher_cycles c"
     " WHERE c.fleet AND c.status = 'running' AND NOT EXISTS (SELECT 1 FROM fetcher_work w"
     "   WHERE w.cycle_id = c.id AND w.done_at IS NULL)",
     0},

    /* On the way out, and when idle with claims under our name that no
     * share of ours works on (fleet.c): the claims not yet done go back
     * to the pool. */
    {SQL_FLEET_RELEASE_MINE,
     "WITH x AS (UPDATE fetcher_work SET owner = NULL, claimed_at = NULL"
     "  WHERE owner = $1 AND done_at IS NULL RETURNING cycle_id)"
     " SELECT count(*), max(pg_notify('fetcher_work', 'released')::text) FROM x",
     1},

    /* Partitions (migration 009): today's and $1 days ahead, created if
     * missing, and the days of any row waiting in a default partition.
     * Several fetcherd may run it at once (an advisory lock inside). */
    {SQL_PARTITIONS_ENSURE, sql_partitions_ensure, 1},
    /* Retention of the partitioned tables: every day partition whose whole
     * (UTC) day is older than now - $1 days is dropped; never a DELETE.
     * $2 is "now" (NULL: the database's), so tests can fix the clock. The
     * answer is the number of rows that went. */
    {SQL_RETAIN_LOGS,
     "SELECT fetcher_partitions_drop('fetcher_logs', $1::int, COALESCE($2::timestamptz, now()))",
     2},
    {SQL_RETAIN_UPDATES,
     "SELECT fetcher_partitions_drop('price_update_log', $1::int,"
     " COALESCE($2::timestamptz, now()))",
     2},
    /* Statistics grow with time, not with assets (~1,600 rows a day): at
     * most $2 rows per statement, oldest first, repeated until done. */
    {SQL_RETAIN_STATS,
     "DELETE FROM fetcher_statistics WHERE id IN (SELECT id FROM fetcher_statistics"
     "  WHERE recorded_at < now() - make_interval(days => $1::int) ORDER BY id LIMIT $2::int)",
     2},
    /* Intraday prices: every asset keeps its newest row, whatever its age
     * (its current price); the daily closes are in asset_prices_daily.
     * Asset by asset, so each step is a range of the (asset_id, fetched_at)
     * index, not a scan of the whole table. */
    {SQL_RETAIN_PRICES,
     "DELETE FROM asset_prices WHERE id IN (SELECT o.id FROM assets a CROSS JOIN LATERAL ("
     "  SELECT ap.id FROM asset_prices ap WHERE ap.asset_id = a.id"
     "    AND ap.fetched_at < now() - make_interval(days => $1::int)"
     "    AND ap.id <> (SELECT l.id FROM asset_prices l WHERE l.asset_id = a.id"
     "                  ORDER BY l.fetched_at DESC, l.id DESC LIMIT 1)) o"
     "  LIMIT $2::int)",
     2},

    /* Tracked assets without a daily history (migration 010), newest
     * tracked first, so a user's new asset gets its history before a
     * whole universe's; a failure is tried again an hour after. */
    {SQL_BACKFILL_TODO,
     "SELECT a.id, a.symbol, a.asset_type, a.currency, a.provider, a.provider_symbol,"
     "   COALESCE(array_to_string(a.sources, ','), '')"
     " FROM tracked_assets t JOIN assets a ON a.id = t.asset_id"
     " WHERE a.history_backfilled_at IS NULL"
     "   AND (a.history_error_at IS NULL OR a.history_error_at < now() - interval '1 hour')"
     " ORDER BY t.added_at DESC, a.id LIMIT 1000",
     0},

    /* One asset's daily closes from a history answer, upserted as the
     * cycles' closes are: the newest price_time of a day wins, and a row
     * that would not change is not rewritten. */
    {SQL_BACKFILL_STORE,
     "WITH r AS (SELECT * FROM jsonb_to_record($1::jsonb) AS r(asset_id bigint, currency text,"
     "    source text, closes int, rows jsonb)"
     "  WHERE EXISTS (SELECT 1 FROM assets a WHERE a.id = r.asset_id)),"
     " ins AS (INSERT INTO asset_prices_daily AS d (asset_id, day, close, currency, source,"
     "    price_time)"
     "  SELECT r.asset_id, x.day, x.close, r.currency, r.source, x.t"
     "  FROM r, jsonb_to_recordset(r.rows) AS x(day date, close numeric, t timestamptz)"
     "  ON CONFLICT (asset_id, day) DO UPDATE SET close = EXCLUDED.close,"
     "    currency = EXCLUDED.currency, source = EXCLUDED.source, price_time = EXCLUDED.price_time"
     "  WHERE d.price_time <= EXCLUDED.price_time"
     "    AND (d.price_time, d.close) IS DISTINCT FROM (EXCLUDED.price_time, EXCLUDED.close))"
     " UPDATE assets a SET history_backfilled_at = now(), history_days = r.closes,"
     "   history_error = NULL, history_error_at = NULL FROM r WHERE a.id = r.asset_id",
     1},

    {SQL_BACKFILL_FAILED,
     "UPDATE assets a SET history_error = left(r.error, 300), history_error_at = now()"
     " FROM jsonb_to_record($1::jsonb) AS r(asset_id bigint, error text) WHERE a.id = r.asset_id",
     1},
};

const size_t sql_statement_count = sizeof sql_statements / sizeof sql_statements[0];
