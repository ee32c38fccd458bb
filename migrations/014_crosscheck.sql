-- fetcherd schema, version 14: the cross-check between sources (issue 20).
--
-- price_update_log.source_count — how many sources the asset's chain had
--   when it was fetched (daemon/sources.h: its own list or its class's,
--   less those that cannot map the symbol or lack a key); 1 means no
--   second source, which the dashboard says. NULL for rows written before
--   this version and for assets no source could price.
-- price_update_log.crosscheck — when the asset was cross-checked in that
--   cycle (a sample, a failed-over answer, a probe's answer): what each
--   source answered, in the asset's currency, the limit, whether they
--   disagreed and whose price was kept, as fetcherd's cycle.c writes it:
--   {"reason":"sample","limit_pct":2,"disagree":true,"diff_pct":5.0,
--    "kept":"coingecko","outlier":null,"answers":[{"source":"coingecko",
--    "price":60000,"currency":"USD"},{"source":"kraken","price":63000,
--    "currency":"USD"}]}. NULL when not cross-checked.
--
-- ADD COLUMN without a default rewrites nothing: instant on any size.

ALTER TABLE price_update_log
    ADD COLUMN source_count smallint CHECK (source_count BETWEEN 1 AND 4),
    ADD COLUMN crosscheck jsonb CHECK (jsonb_typeof(crosscheck) = 'object');

-- /api/fetcher/assets shows each asset's newest cross-check.
CREATE INDEX price_update_log_crosscheck ON price_update_log (asset_id, id DESC)
    WHERE crosscheck IS NOT NULL;
