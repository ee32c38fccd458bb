-- fetcherd schema, version 18: a price as of a past moment never takes a
-- close that came after that moment.
--
-- fetcher_price_at (migration 007) fell back to the close of the newest
-- market day on or before the moment's UTC date. A market day is the
-- exchange's own date (fetcher_market_day): in the hours after midnight
-- UTC, New York's day is still the previous one, and its close — the
-- current price, fetched a minute ago — counted as the price of 24 hours
-- before, so a portfolio's day change read 0 every evening in America
-- (seen: the backfill suite at 00:28 UTC). A close is now taken only if it
-- was known by then (its price_time), so the day change compares with the
-- last close before the moment, as it does the rest of the day.
-- CREATE OR REPLACE keeps every caller as it is.
CREATE OR REPLACE FUNCTION fetcher_price_at(p_asset bigint, p_at timestamptz)
RETURNS numeric LANGUAGE sql STABLE AS $$
    SELECT COALESCE(
        (SELECT ap.price FROM asset_prices ap WHERE ap.asset_id = p_asset AND ap.fetched_at <= p_at
         ORDER BY ap.fetched_at DESC LIMIT 1),
        (SELECT d.close FROM asset_prices_daily d WHERE d.asset_id = p_asset
         AND d.day <= (p_at AT TIME ZONE 'UTC')::date AND d.price_time <= p_at
         ORDER BY d.day DESC LIMIT 1))
$$;
