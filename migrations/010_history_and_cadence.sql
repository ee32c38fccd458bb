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
