-- fetcherd schema, version 4: the real wire.
--
-- A stored price is the market's price, in the asset's currency, at the
-- market's time. These columns say how each row came to be that:
--
-- price_time_basis — what price_time is: 'market' (the provider's own time
--   of the price: Yahoo's regularMarketTime, CoinGecko's last_updated_at),
--   'bar' (the start of the bar whose close it is, used only when the answer
--   has no market price), 'date' (the day a daily rate is for) or 'fetched'
--   (the answer gave no time: when we received it). Rows written before
--   this migration read 'market'; older rows cannot tell.
-- quoted_currency — the currency as the provider quoted it when that was a
--   minor unit ("GBp" for a price converted from pence to GBP); NULL when
--   the price is in the currency it was quoted in.
--
-- On assets, what the provider says about the listing (Yahoo's meta), kept
-- apart from the user's own `exchange`: provider_exchange ("NMS", "LSE"),
-- instrument_type ("EQUITY", "FUTURE", "CURRENCY"), exchange_timezone
-- ("America/New_York") and the current regular trading period.
--
-- ADD COLUMN with a constant default rewrites nothing (PostgreSQL 11+), so
-- this is instant on a table of any size.

ALTER TABLE asset_prices
    ADD COLUMN price_time_basis text NOT NULL DEFAULT 'market'
        CHECK (price_time_basis IN ('market', 'bar', 'date', 'fetched')),
    ADD COLUMN quoted_currency text CHECK (length(quoted_currency) BETWEEN 1 AND 8);

ALTER TABLE price_update_log
    ADD COLUMN price_time timestamptz,
    ADD COLUMN price_time_basis text
        CHECK (price_time_basis IN ('market', 'bar', 'date', 'fetched')),
    ADD COLUMN quoted_currency text CHECK (length(quoted_currency) BETWEEN 1 AND 8);

ALTER TABLE assets
    ADD COLUMN provider_exchange text CHECK (length(provider_exchange) <= 16),
    ADD COLUMN instrument_type text CHECK (length(instrument_type) <= 16),
    ADD COLUMN exchange_timezone text CHECK (length(exchange_timezone) <= 40),
    ADD COLUMN trading_period jsonb;
