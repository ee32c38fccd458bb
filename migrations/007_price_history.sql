-- fetcherd schema, version 7: one row per real price, and daily closes.
--
-- asset_prices gained a row per asset per cycle whether or not the price had
-- changed: a stock whose market is shut was stored 144 times a day at the
-- same market time. From this version a fetch whose answer carries the same
-- market time and price as the asset's newest row writes no asset_prices
-- row (fetcherd's SQL_RECORD_UPDATES); price_update_log still records the
-- check, and tracked_assets.last_price_update still moves.
--
-- asset_prices_daily — one close per asset per trading day, kept forever:
--   the day's last price (the newest price_time wins), upserted by every
--   cycle. `day` is the market's own date: price_time shifted by the
--   exchange's UTC offset (the gmtoffset Yahoo gives in
--   currentTradingPeriod), UTC where no offset is known (crypto, FX).
--   price_time says which price the close is, so a late answer for an
--   earlier moment never overwrites a later one.

CREATE TABLE asset_prices_daily (
    asset_id   bigint NOT NULL REFERENCES assets (id) ON DELETE CASCADE,
    day        date NOT NULL,
    close      numeric(30, 10) NOT NULL CHECK (close > 0),
    currency   text NOT NULL,
    source     text NOT NULL,
    price_time timestamptz NOT NULL,
    PRIMARY KEY (asset_id, day)
);

-- The market date of a price: price_time in the exchange's own offset.
CREATE FUNCTION fetcher_market_day(p_time timestamptz, p_gmtoffset int)
RETURNS date LANGUAGE sql IMMUTABLE AS $$
    SELECT ((p_time + make_interval(secs => COALESCE(p_gmtoffset, 0))) AT TIME ZONE 'UTC')::date
$$;

-- The history already stored rolls in: each asset's last price of each day.
INSERT INTO asset_prices_daily (asset_id, day, close, currency, source, price_time)
SELECT DISTINCT ON (ap.asset_id, d.day) ap.asset_id, d.day, ap.price, ap.currency, ap.source,
       ap.price_time
FROM asset_prices ap
JOIN assets a ON a.id = ap.asset_id
CROSS JOIN LATERAL (SELECT fetcher_market_day(ap.price_time,
                        (a.trading_period ->> 'gmtoffset')::int) AS day) d
ORDER BY ap.asset_id, d.day, ap.price_time DESC, ap.fetched_at DESC;

-- Intraday rows are kept PRICE_INTRADAY_DAYS (fetcherd's retention keeps
-- each asset's newest row whatever its age); the daily table forever. A
-- price as of a past moment is the newest intraday row fetched by then, or,
-- where intraday rows no longer reach back, the close of that market day (or
-- the last day before it). With the intraday rows all there, this is the
-- lookup version 6 made.
CREATE FUNCTION fetcher_price_at(p_asset bigint, p_at timestamptz)
RETURNS numeric LANGUAGE sql STABLE AS $$
    SELECT COALESCE(
        (SELECT ap.price FROM asset_prices ap WHERE ap.asset_id = p_asset AND ap.fetched_at <= p_at
         ORDER BY ap.fetched_at DESC LIMIT 1),
        (SELECT d.close FROM asset_prices_daily d WHERE d.asset_id = p_asset
         AND d.day <= (p_at AT TIME ZONE 'UTC')::date ORDER BY d.day DESC LIMIT 1))
$$;

-- Version 6's portfolio valuation, with the day, week, month and year-ago
-- prices through fetcher_price_at; nothing else changed.
CREATE OR REPLACE FUNCTION fetcher_recalc_portfolios(p_instance text, p_seq bigint)
RETURNS TABLE (r_portfolio bigint, r_gaps bigint, r_missing text, r_error text, r_state text)
LANGUAGE plpgsql AS $$
DECLARE
    v_pid bigint;
BEGIN
    FOR v_pid IN SELECT DISTINCT portfolio_id FROM portfolio_positions ORDER BY 1 LOOP
        r_error := NULL;
        r_state := NULL;
        BEGIN
            WITH held AS (SELECT DISTINCT asset_id FROM portfolio_positions WHERE portfolio_id = v_pid),

            px AS (
            SELECT h.asset_id, lp.price, lp.currency, d.price AS p_day, w.price AS p_week,
            m.price AS p_month, y.price AS p_year
            FROM held h
            LEFT JOIN LATERAL (SELECT price, currency FROM asset_prices ap
            WHERE ap.asset_id = h.asset_id ORDER BY fetched_at DESC LIMIT 1) lp ON true
            LEFT JOIN LATERAL (SELECT fetcher_price_at(h.asset_id, now() - interval '1 day') AS price) d ON true
            LEFT JOIN LATERAL (SELECT fetcher_price_at(h.asset_id, now() - interval '7 days') AS price) w ON true
            LEFT JOIN LATERAL (SELECT fetcher_price_at(h.asset_id, now() - interval '1 month') AS price) m ON true
            LEFT JOIN LATERAL (SELECT fetcher_price_at(h.asset_id, now() - interval '1 year') AS price) y ON true),

            grp AS (
            SELECT pp.portfolio_id, min(p.currency) AS pcur, COALESCE(x.currency, a.currency) AS acur,
            sum(pp.quantity * COALESCE(x.price, pp.average_buy_price)) AS value,
            sum(pp.quantity * pp.average_buy_price) AS invested,
            count(*) AS positions, count(x.price) AS priced,
            bool_and(x.p_day IS NOT NULL OR x.price IS NULL) AND count(x.p_day) > 0 AS d_ok,
            bool_and(x.p_week IS NOT NULL OR x.price IS NULL) AND count(x.p_week) > 0 AS w_ok,
            bool_and(x.p_month IS NOT NULL OR x.price IS NULL) AND count(x.p_month) > 0 AS m_ok,
            bool_and(x.p_year IS NOT NULL OR x.price IS NULL) AND count(x.p_year) > 0 AS y_ok,
            COALESCE(sum(pp.quantity * (x.price - x.p_day)),

            0) AS d,
            COALESCE(sum(pp.quantity * (x.price - x.p_week)),

            0) AS w,
            COALESCE(sum(pp.quantity * (x.price - x.p_month)),

            0) AS m,
            COALESCE(sum(pp.quantity * (x.price - x.p_year)),

            0) AS y,
            array_agg(a.symbol) FILTER (WHERE x.price IS NULL) AS unpriced,
            array_agg(a.symbol) AS symbols
            FROM portfolio_positions pp
            JOIN portfolios p ON p.id = pp.portfolio_id
            JOIN assets a ON a.id = pp.asset_id
            LEFT JOIN px x ON x.asset_id = pp.asset_id
            WHERE pp.portfolio_id = v_pid
            GROUP BY pp.portfolio_id, COALESCE(x.currency, a.currency)),

            rates AS (
            SELECT DISTINCT ON (base, quote) base, quote, rate FROM exchange_rates
            ORDER BY base, quote, rate_date DESC, fetched_at DESC),

            conv AS (
            SELECT g.*,
            (SELECT CASE WHEN g.acur = g.pcur THEN 1::numeric ELSE COALESCE(
            (SELECT rate FROM rates WHERE base = g.acur AND quote = g.pcur),

            (SELECT 1 / rate FROM rates WHERE base = g.pcur AND quote = g.acur),

            (SELECT r2.rate / r1.rate FROM rates r1, rates r2 WHERE r1.base = 'USD'
            AND r1.quote = g.acur AND r2.base = 'USD' AND r2.quote = g.pcur)) END) AS fx,
            (SELECT CASE WHEN g.acur = 'USD' THEN 1::numeric ELSE COALESCE(
            (SELECT 1 / rate FROM rates WHERE base = 'USD' AND quote = g.acur),

            (SELECT rate FROM rates WHERE base = g.acur AND quote = 'USD')) END) AS fxu
            FROM grp g),

            agg AS (
            SELECT portfolio_id, min(pcur) AS pcur,
            COALESCE(sum(value * fx),

            0) AS value, COALESCE(sum(invested * fx),

            0) AS invested,
            CASE WHEN bool_and(fxu IS NOT NULL) THEN sum(value * fxu) END AS value_usd,
            CASE WHEN bool_and(d_ok) THEN sum(d * fx) END AS d,
            CASE WHEN bool_and(w_ok) THEN sum(w * fx) END AS w,
            CASE WHEN bool_and(m_ok) THEN sum(m * fx) END AS m,
            CASE WHEN bool_and(y_ok) THEN sum(y * fx) END AS y,
            sum(positions) AS positions,
            COALESCE(sum(priced) FILTER (WHERE fx IS NOT NULL),

            0) AS priced,
            COALESCE(jsonb_agg(jsonb_build_object('symbols', to_jsonb(symbols),

            'reason',
            'no exchange rate ' || acur || '->' || pcur)) FILTER (WHERE fx IS NULL),

            '[]')
            || COALESCE(jsonb_agg(jsonb_build_object('symbols', to_jsonb(unpriced),

            'reason',
            'no price yet; valued at average buy price'))
            FILTER (WHERE fx IS NOT NULL AND unpriced IS NOT NULL),

            '[]') AS missing
            FROM conv GROUP BY portfolio_id)

            INSERT INTO portfolio_performance_cache AS c (portfolio_id, currency, total_value,
            total_invested, total_return, return_pct, positions, priced_positions, missing,
            calculated_at, cycle_id, value_usd, day_change, day_change_pct, week_change,
            week_change_pct, month_change, month_change_pct, year_change, year_change_pct)

            SELECT portfolio_id, pcur, value, invested, value - invested,
            CASE WHEN invested > 0 THEN round((value - invested) / invested * 100, 6) END,
            positions, priced, missing, now(),

            (SELECT c.id FROM fetcher_cycles c WHERE c.instance_id = p_instance AND c.seq = p_seq),

            value_usd,
            d, CASE WHEN value - d > 0 THEN round(d / (value - d) * 100, 6) END,
            w, CASE WHEN value - w > 0 THEN round(w / (value - w) * 100, 6) END,
            m, CASE WHEN value - m > 0 THEN round(m / (value - m) * 100, 6) END,
            y, CASE WHEN value - y > 0 THEN round(y / (value - y) * 100, 6) END FROM agg

            ON CONFLICT (portfolio_id) DO UPDATE SET currency = EXCLUDED.currency,
            total_value = EXCLUDED.total_value, total_invested = EXCLUDED.total_invested,
            total_return = EXCLUDED.total_return, return_pct = EXCLUDED.return_pct,
            positions = EXCLUDED.positions, priced_positions = EXCLUDED.priced_positions,
            missing = EXCLUDED.missing, calculated_at = EXCLUDED.calculated_at,
            cycle_id = EXCLUDED.cycle_id, value_usd = EXCLUDED.value_usd,
            day_change = EXCLUDED.day_change, day_change_pct = EXCLUDED.day_change_pct,
            week_change = EXCLUDED.week_change, week_change_pct = EXCLUDED.week_change_pct,
            month_change = EXCLUDED.month_change, month_change_pct = EXCLUDED.month_change_pct,
            year_change = EXCLUDED.year_change, year_change_pct = EXCLUDED.year_change_pct

            RETURNING c.portfolio_id, (SELECT COALESCE(sum(jsonb_array_length(e->'symbols')),

            0) FROM jsonb_array_elements(c.missing) e),

            c.missing::text INTO r_portfolio, r_gaps, r_missing;
        EXCEPTION WHEN OTHERS THEN
            r_portfolio := v_pid;
            r_gaps := NULL;
            r_missing := NULL;
            r_error := SQLERRM;
            r_state := SQLSTATE;
        END;
        RETURN NEXT;
    END LOOP;
END
$$;
