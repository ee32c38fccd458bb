-- fetcherd schema, version 10: daily history for every tracked asset
-- (backfill), market hours, and a refresh cadence per asset (issue 14).
--
-- assets.history_backfilled_at — when fetcherd stored the asset's daily
--   history (Yahoo: five years, CoinGecko: one) in asset_prices_daily; NULL
--   while it has none, which is what fetcherd's backfill looks for.
-- assets.history_days — daily closes that backfill received.
-- assets.history_error, history_error_at — why the last backfill failed;
--   it is tried again an hour after.
--
-- ADD COLUMN without a default rewrites nothing: instant on any size.

ALTER TABLE assets
    ADD COLUMN history_backfilled_at timestamptz,
    ADD COLUMN history_days integer,
    ADD COLUMN history_error text CHECK (length(history_error) <= 300),
    ADD COLUMN history_error_at timestamptz;

-- A price in another currency, for GET /api/fetcher/assets/{symbol}/history
-- ?currency=: through the USD rates fetcherd stores (exchange_rates, base
-- USD), the rate of the price's day, or the nearest day before it, or (for
-- days older than every stored rate) the oldest one. NULL when either
-- currency has no rate at all.
CREATE FUNCTION fetcher_usd_rate(p_ccy text, p_day date)
RETURNS numeric LANGUAGE sql STABLE AS $$
    SELECT CASE WHEN p_ccy = 'USD' THEN 1::numeric ELSE COALESCE(
        (SELECT r.rate FROM exchange_rates r WHERE r.base = 'USD' AND r.quote = p_ccy
         AND r.rate_date <= p_day ORDER BY r.rate_date DESC LIMIT 1),
        (SELECT r.rate FROM exchange_rates r WHERE r.base = 'USD' AND r.quote = p_ccy
         ORDER BY r.rate_date LIMIT 1)) END
$$;

CREATE FUNCTION fetcher_convert(p_amount numeric, p_from text, p_to text, p_day date)
RETURNS numeric LANGUAGE sql STABLE AS $$
    SELECT CASE WHEN p_from = p_to THEN p_amount
           ELSE p_amount * fetcher_usd_rate(p_to, p_day) / fetcher_usd_rate(p_from, p_day) END
$$;

-- ---- market hours and refresh cadence ------------------------------------
--
-- fetcherd asks the database which tracked assets are due at each check
-- (fetcher_due_assets below): one function, over the database's clock, so
-- that several instances can later claim its rows (FOR UPDATE SKIP LOCKED
-- on tracked_assets) without agreeing on anything else.
--
-- tracked_assets.last_attempt_at — when the asset was last asked for: the
--   time of the check that found it due (the database's), or of the write
--   for work someone asked for. Its refresh bound counts from here, so a
--   failing asset is asked again after its bound, not at every check.
-- assets.staleness — the asset's own bound: '90s', '10m', '1h', '1d',
--   'always' (every check) or 'never' (only when someone asks); NULL: its
--   type's (FETCH_STALENESS).
-- fetcher_cycles.assets_market_closed — of assets_skipped, those skipped
--   because their market was closed (not a failure).

ALTER TABLE tracked_assets ADD COLUMN last_attempt_at timestamptz;
UPDATE tracked_assets SET last_attempt_at = last_price_update;

ALTER TABLE assets ADD COLUMN staleness text
    CHECK (staleness ~ '^(never|always|[1-9][0-9]{0,6}[smhd])$');

ALTER TABLE fetcher_cycles ADD COLUMN assets_market_closed integer NOT NULL DEFAULT 0;

-- A small, holiday-free weekly calendar: the regular sessions of the
-- exchanges Yahoo names in exchangeName (assets.provider_exchange), in the
-- exchange's own time zone, so summer time moves with it. '@fx' is the
-- currency market, 24/5: Sunday 17:00 to Friday 17:00 in New York (the
-- rates fetcherd's fx source publishes follow it too); futures (NYM, CMX,
-- CBT, CME, NYB) trade from Sunday 18:00 to Friday 17:00 with a daily
-- break at 17:00. Crypto has no row: it trades all the time. A listing
-- whose exchange is not here is treated as always open.
CREATE TABLE market_calendar (
    exchange text NOT NULL,
    timezone text NOT NULL,
    isodow   integer NOT NULL CHECK (isodow BETWEEN 1 AND 7),
    opens    time NOT NULL,
    closes   time NOT NULL CHECK (closes > opens),
    PRIMARY KEY (exchange, isodow, opens)
);

INSERT INTO market_calendar (exchange, timezone, isodow, opens, closes)
SELECT e.exchange, e.tz, d, e.opens::time, e.closes::time
FROM (VALUES
    -- United States (Nasdaq, NYSE, NYSE American, Arca, Cboe BZX, OTC)
    ('NMS', 'America/New_York', '09:30', '16:00'), ('NGM', 'America/New_York', '09:30', '16:00'),
    ('NCM', 'America/New_York', '09:30', '16:00'), ('NYQ', 'America/New_York', '09:30', '16:00'),
    ('ASE', 'America/New_York', '09:30', '16:00'), ('PCX', 'America/New_York', '09:30', '16:00'),
    ('BTS', 'America/New_York', '09:30', '16:00'), ('PNK', 'America/New_York', '09:30', '16:00'),
    ('TOR', 'America/Toronto', '09:30', '16:00'),
    -- Europe
    ('LSE', 'Europe/London', '08:00', '16:30'), ('GER', 'Europe/Berlin', '09:00', '17:30'),
    ('FRA', 'Europe/Berlin', '08:00', '22:00'), ('PAR', 'Europe/Paris', '09:00', '17:30'),
    ('AMS', 'Europe/Amsterdam', '09:00', '17:30'), ('MIL', 'Europe/Rome', '09:00', '17:30'),
    ('MCE', 'Europe/Madrid', '09:00', '17:30'), ('EBS', 'Europe/Zurich', '09:00', '17:30'),
    ('STO', 'Europe/Stockholm', '09:00', '17:30'), ('JNB', 'Africa/Johannesburg', '09:00', '17:00'),
    -- Asia and Australia (lunch breaks as two sessions)
    ('JPX', 'Asia/Tokyo', '09:00', '11:30'), ('JPX', 'Asia/Tokyo', '12:30', '15:30'),
    ('HKG', 'Asia/Hong_Kong', '09:30', '12:00'), ('HKG', 'Asia/Hong_Kong', '13:00', '16:00'),
    ('NSI', 'Asia/Kolkata', '09:15', '15:30'), ('BSE', 'Asia/Kolkata', '09:15', '15:30'),
    ('ASX', 'Australia/Sydney', '10:00', '16:00')
) AS e(exchange, tz, opens, closes), generate_series(1, 5) AS d
UNION ALL
-- currency pairs, 24/5: Sunday 17:00 to Friday 17:00 in New York
SELECT m.exchange, 'America/New_York', d.isodow, d.opens::time, d.closes::time
FROM (VALUES ('@fx'), ('CCY')) AS m(exchange)
CROSS JOIN (VALUES (7, '17:00', '24:00'), (1, '00:00', '24:00'), (2, '00:00', '24:00'),
                   (3, '00:00', '24:00'), (4, '00:00', '24:00'), (5, '00:00', '17:00'))
    AS d(isodow, opens, closes)
UNION ALL
-- futures: Sunday 18:00 to Friday 17:00, with a break from 17:00 to 18:00
SELECT m.exchange, 'America/New_York', d.isodow, d.opens::time, d.closes::time
FROM (VALUES ('NYM'), ('CMX'), ('CBT'), ('CME'), ('NYB')) AS m(exchange)
CROSS JOIN (VALUES (7, '18:00', '24:00'), (1, '00:00', '17:00'), (1, '18:00', '24:00'),
                   (2, '00:00', '17:00'), (2, '18:00', '24:00'), (3, '00:00', '17:00'),
                   (3, '18:00', '24:00'), (4, '00:00', '17:00'), (4, '18:00', '24:00'),
                   (5, '00:00', '17:00')) AS d(isodow, opens, closes);

-- The clock fetcherd's schedule reads: the database's, moved by the
-- setting fetcher.clock_offset when a test sets one (ALTER DATABASE … SET
-- fetcher.clock_offset = '3 days'): a simulated Saturday needs no waiting.
CREATE FUNCTION fetcher_now() RETURNS timestamptz LANGUAGE sql STABLE AS $$
    SELECT now() + COALESCE(NULLIF(current_setting('fetcher.clock_offset', true), '')::interval,
                            interval '0')
$$;

-- Which calendar an asset follows: crypto none (always open), fx '@fx',
-- anything else its exchange as the provider named it.
CREATE FUNCTION fetcher_market_key(p_type text, p_exchange text) RETURNS text
LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE WHEN p_type = 'crypto' THEN NULL WHEN p_type = 'fx' THEN '@fx' ELSE p_exchange END
$$;

-- A market at p_now: whether its calendar knows it, whether it is open,
-- its last real close and next real opening within eight days either
-- side (a session that ends where the next begins, as 24:00 and 00:00 do,
-- is no close).
CREATE FUNCTION fetcher_market_state(p_key text, p_now timestamptz,
    OUT known boolean, OUT is_open boolean, OUT last_close timestamptz, OUT next_open timestamptz)
LANGUAGE sql STABLE AS $$
    WITH s AS (
        SELECT (d + c.opens) AT TIME ZONE c.timezone AS o, (d + c.closes) AT TIME ZONE c.timezone AS cl
        FROM market_calendar c
        CROSS JOIN LATERAL generate_series(((p_now AT TIME ZONE c.timezone)::date - 8)::timestamp,
                                           ((p_now AT TIME ZONE c.timezone)::date + 8)::timestamp,
                                           interval '1 day') AS d
        WHERE c.exchange = p_key AND extract(isodow FROM d) = c.isodow)
    SELECT EXISTS (SELECT 1 FROM s),
           EXISTS (SELECT 1 FROM s WHERE s.o <= p_now AND p_now < s.cl),
           (SELECT max(s.cl) FROM s WHERE s.cl <= p_now
              AND NOT EXISTS (SELECT 1 FROM s s2 WHERE s2.o = s.cl)),
           (SELECT min(s.o) FROM s WHERE s.o > p_now
              AND NOT EXISTS (SELECT 1 FROM s s2 WHERE s2.cl = s.o))
$$;

-- An asset's refresh bound in seconds: its own (assets.staleness), else
-- its type's from p_bounds ({"crypto": 60, "bond": -1, …}), else
-- p_default_s. -1 is "never" (only when someone asks), 0 "always".
CREATE FUNCTION fetcher_bound_s(p_own text, p_type text, p_bounds jsonb, p_default_s integer)
RETURNS integer LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE
        WHEN p_own = 'never' THEN -1
        WHEN p_own = 'always' THEN 0
        WHEN p_own IS NOT NULL THEN left(p_own, -1)::integer * CASE right(p_own, 1)
            WHEN 's' THEN 1 WHEN 'm' THEN 60 WHEN 'h' THEN 3600 ELSE 86400 END
        ELSE COALESCE((p_bounds ->> p_type)::integer, p_default_s) END
$$;

-- THE question of the schedule: at p_now, which tracked assets are due?
-- An asset is due when its bound has passed since it was last asked for
-- (less half a check: checks fall on a grid every p_check_s, and an asset
-- asked at one check is due at the check nearest its bound), it is not
-- 'never', and — with p_market_hours — its market is open, or it has
-- closed (a minute ago or more) since the asset was last asked for: one
-- fetch after the close gets the closing price. An asset never asked for
-- is due whatever its market. market_closed: its market is closed and it
-- has its closing price, so it is skipped however stale (counted, never a
-- failure).
CREATE FUNCTION fetcher_due_assets(p_now timestamptz, p_check_s integer, p_bounds jsonb,
                                   p_default_s integer, p_market_hours boolean)
RETURNS TABLE (asset_id bigint, due boolean, market_closed boolean, bound_s integer,
               market_state text, next_open timestamptz)
LANGUAGE sql STABLE AS $$
    WITH t AS (
        SELECT t.asset_id, t.last_attempt_at AS asked, a.asset_type,
               fetcher_bound_s(a.staleness, a.asset_type, p_bounds, p_default_s) AS b,
               fetcher_market_key(a.asset_type, a.provider_exchange) AS mkey
        FROM tracked_assets t JOIN assets a ON a.id = t.asset_id),
    m AS (
        SELECT k.mkey, s.* FROM (SELECT DISTINCT t.mkey FROM t WHERE t.mkey IS NOT NULL) k
        CROSS JOIN LATERAL fetcher_market_state(k.mkey, p_now) s),
    x AS (
        SELECT t.*, m.known, m.is_open, m.next_open AS nopen,
               t.b >= 0 AND (t.asked IS NULL OR t.b = 0
                   OR p_now - t.asked >= make_interval(secs => t.b - p_check_s / 2.0)) AS stale,
               p_market_hours AND COALESCE(m.known AND NOT m.is_open, false) AND t.asked IS NOT NULL
                   AND (m.last_close IS NULL OR p_now < m.last_close + interval '1 minute'
                        OR t.asked >= m.last_close + interval '1 minute') AS shut
        FROM t LEFT JOIN m ON m.mkey = t.mkey)
    SELECT x.asset_id, x.stale AND NOT x.shut, x.shut, x.b,
           CASE WHEN x.asset_type = 'crypto' THEN 'open'
                WHEN x.known THEN CASE WHEN x.is_open THEN 'open' ELSE 'closed' END END,
           CASE WHEN x.known AND NOT x.is_open THEN x.nopen END
    FROM x
$$;
