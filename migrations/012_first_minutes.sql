-- fetcherd schema, version 12: what a new user's first minutes need
-- (issue 17). (Versions 9 to 11 are other branches'; the numbers only need
-- to be in order.)
--
-- 1. An empty cycle is recorded as such. A cycle that found nothing tracked
--    used to be stored as 'succeeded' with 0 assets, so a fresh install
--    showed "a successful cycle" and its success rate counted work that was
--    never done. Status 'empty' says what happened; /statistics and
--    fetcher_statistics count such cycles apart (empty_cycles) and leave
--    them out of total/successful/failed cycles, the success rate and the
--    durations (README, "Statistics").
-- 2. A position's average buy price has a currency of its own
--    (portfolio_positions.currency; NULL = the asset's currency, which is
--    what every row before this version meant). The valuation converts the
--    invested amount from it, and an unpriced position's value too.
-- 3. portfolios.updated_at: when the portfolio or its positions last
--    changed through the API, so a reader can tell that the valuation in
--    portfolio_performance_cache predates the change (GET
--    /api/fetcher/portfolios/{id} says "stale").
-- 4. A portfolio whose last position went away has no valuation any more:
--    the recalculation deletes its cache row instead of leaving the old one.

-- 1 -------------------------------------------------------------------------
ALTER TABLE fetcher_cycles DROP CONSTRAINT fetcher_cycles_status_check;
ALTER TABLE fetcher_cycles ADD CONSTRAINT fetcher_cycles_status_check
    CHECK (status IN ('running', 'succeeded', 'partial', 'failed', 'aborted', 'empty'));
INSERT INTO fetcher_cycle_counts (status, n, assets_succeeded, assets_failed, upstream_requests,
                                  duration_ms)
VALUES ('empty', 0, 0, 0, 0, 0);

-- 2, 3 ------------------------------------------------------------------------
ALTER TABLE portfolio_positions ADD COLUMN currency text CHECK (currency ~ '^[A-Z]{3}$');
ALTER TABLE portfolios ADD COLUMN updated_at timestamptz NOT NULL DEFAULT now();

-- The rate from one currency to another as of the newest rates: direct,
-- inverse, or across USD (the FX provider quotes everything from USD);
-- NULL when none is known. The same lookup version 6 made inline.
CREATE FUNCTION fetcher_fx_rate(p_from text, p_to text)
RETURNS numeric LANGUAGE sql STABLE AS $$
    SELECT CASE WHEN p_from = p_to THEN 1::numeric ELSE COALESCE(
        (SELECT rate FROM exchange_rates WHERE base = p_from AND quote = p_to
         ORDER BY rate_date DESC, fetched_at DESC LIMIT 1),
        (SELECT 1 / rate FROM exchange_rates WHERE base = p_to AND quote = p_from
         ORDER BY rate_date DESC, fetched_at DESC LIMIT 1),
        (SELECT t.rate / f.rate
         FROM (SELECT rate FROM exchange_rates WHERE base = 'USD' AND quote = p_from
               ORDER BY rate_date DESC, fetched_at DESC LIMIT 1) f,
              (SELECT rate FROM exchange_rates WHERE base = 'USD' AND quote = p_to
               ORDER BY rate_date DESC, fetched_at DESC LIMIT 1) t)) END
$$;

-- Version 7's valuation with each position's own buy currency: positions
-- are grouped by (price currency, buy currency); the priced value converts
-- from the price's currency, the invested amount (and the value of a
-- position without a price, taken at its average buy price) from the buy
-- currency. A group either currency of which has no rate is left out and
-- named in `missing`. Everything else as before.
CREATE OR REPLACE FUNCTION fetcher_recalc_portfolios(p_instance text, p_seq bigint)
RETURNS TABLE (r_portfolio bigint, r_gaps bigint, r_missing text, r_error text, r_state text)
LANGUAGE plpgsql AS $$
DECLARE
    v_pid bigint;
BEGIN
    -- 4: no positions, no valuation.
    DELETE FROM portfolio_performance_cache c
    WHERE NOT EXISTS (SELECT 1 FROM portfolio_positions pp WHERE pp.portfolio_id = c.portfolio_id);
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
            COALESCE(pp.currency, a.currency) AS icur,
            COALESCE(sum(pp.quantity * x.price), 0) AS value_priced,
            COALESCE(sum(pp.quantity * pp.average_buy_price) FILTER (WHERE x.price IS NULL), 0) AS value_unpriced,
            sum(pp.quantity * pp.average_buy_price) AS invested,
            count(*) AS positions, count(x.price) AS priced,
            bool_and(x.p_day IS NOT NULL OR x.price IS NULL) AND count(x.p_day) > 0 AS d_ok,
            bool_and(x.p_week IS NOT NULL OR x.price IS NULL) AND count(x.p_week) > 0 AS w_ok,
            bool_and(x.p_month IS NOT NULL OR x.price IS NULL) AND count(x.p_month) > 0 AS m_ok,
            bool_and(x.p_year IS NOT NULL OR x.price IS NULL) AND count(x.p_year) > 0 AS y_ok,
            COALESCE(sum(pp.quantity * (x.price - x.p_day)), 0) AS d,
            COALESCE(sum(pp.quantity * (x.price - x.p_week)), 0) AS w,
            COALESCE(sum(pp.quantity * (x.price - x.p_month)), 0) AS m,
            COALESCE(sum(pp.quantity * (x.price - x.p_year)), 0) AS y,
            array_agg(a.symbol) FILTER (WHERE x.price IS NULL) AS unpriced,
            array_agg(a.symbol) AS symbols
            FROM portfolio_positions pp
            JOIN portfolios p ON p.id = pp.portfolio_id
            JOIN assets a ON a.id = pp.asset_id
            LEFT JOIN px x ON x.asset_id = pp.asset_id
            WHERE pp.portfolio_id = v_pid
            GROUP BY pp.portfolio_id, COALESCE(x.currency, a.currency), COALESCE(pp.currency, a.currency)),

            conv AS (
            SELECT g.*, fetcher_fx_rate(g.acur, g.pcur) AS fx, fetcher_fx_rate(g.icur, g.pcur) AS fxi,
            fetcher_fx_rate(g.acur, 'USD') AS fxu, fetcher_fx_rate(g.icur, 'USD') AS fxiu
            FROM grp g),

            agg AS (
            SELECT portfolio_id, min(pcur) AS pcur,
            COALESCE(sum(value_priced * fx + value_unpriced * fxi), 0) AS value,
            COALESCE(sum(invested * fxi), 0) AS invested,
            CASE WHEN bool_and(fxu IS NOT NULL AND fxiu IS NOT NULL)
            THEN sum(value_priced * fxu + value_unpriced * fxiu) END AS value_usd,
            CASE WHEN bool_and(d_ok) THEN sum(d * fx) END AS d,
            CASE WHEN bool_and(w_ok) THEN sum(w * fx) END AS w,
            CASE WHEN bool_and(m_ok) THEN sum(m * fx) END AS m,
            CASE WHEN bool_and(y_ok) THEN sum(y * fx) END AS y,
            sum(positions) AS positions,
            COALESCE(sum(priced) FILTER (WHERE fx IS NOT NULL AND fxi IS NOT NULL), 0) AS priced,
            COALESCE(jsonb_agg(jsonb_build_object('symbols', to_jsonb(symbols), 'reason',
            'no exchange rate ' || CASE WHEN fx IS NULL THEN acur ELSE icur END || '->' || pcur))
            FILTER (WHERE fx IS NULL OR fxi IS NULL), '[]')
            || COALESCE(jsonb_agg(jsonb_build_object('symbols', to_jsonb(unpriced), 'reason',
            'no price yet; valued at average buy price'))
            FILTER (WHERE fx IS NOT NULL AND fxi IS NOT NULL AND unpriced IS NOT NULL), '[]') AS missing
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

            RETURNING c.portfolio_id, (SELECT COALESCE(sum(jsonb_array_length(e->'symbols')), 0)
            FROM jsonb_array_elements(c.missing) e),

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
