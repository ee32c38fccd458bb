-- fetcherd schema, version 5: a second source for every asset class.
--
-- assets.sources — the asset's own ordered list of providers (e.g.
--   '{twelvedata,yahoo}'), replacing its class's FETCH_SOURCES list for this
--   asset; NULL (the default) uses the class's list with the asset's own
--   provider first. Names fetcherd does not know are skipped, not fatal, so
--   a CHECK on the shape is enough.
-- price_update_log.source — the provider that answered (or, for a failed
--   row, the last one asked); asset_prices.source has always said it.
-- price_update_log.failover_reason — when the answer came from another
--   source than the asset's first, why the first did not answer
--   ("yahoo: HTTP 503 from yahoo"); NULL otherwise.
--
-- ADD COLUMN without a default rewrites nothing: instant on any size.

ALTER TABLE assets
    ADD COLUMN sources text[]
        CHECK (cardinality(sources) BETWEEN 1 AND 4
               AND array_to_string(sources, ',') ~ '^[a-z0-9_]{1,32}(,[a-z0-9_]{1,32})*$');

ALTER TABLE price_update_log
    ADD COLUMN source text CHECK (length(source) <= 32),
    ADD COLUMN failover_reason text CHECK (length(failover_reason) <= 300);

-- /api and the dashboard ask "which assets failed over in this cycle".
CREATE INDEX price_update_log_failover ON price_update_log (cycle_id)
    WHERE failover_reason IS NOT NULL;
