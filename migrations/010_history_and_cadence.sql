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
