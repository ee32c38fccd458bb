-- Portfolio valuation, version 2: the value in USD beside the portfolio's
-- own currency, and the change over a day, a week, a month and a year
-- (from asset_prices history). A change is NULL until there is history for
-- every priced position: a partial figure would mislead.
ALTER TABLE portfolio_performance_cache
    ADD COLUMN value_usd         numeric(30, 10),
    ADD COLUMN day_change        numeric(30, 10),
    ADD COLUMN day_change_pct    numeric(20, 6),
    ADD COLUMN week_change       numeric(30, 10),
    ADD COLUMN week_change_pct   numeric(20, 6),
    ADD COLUMN month_change      numeric(30, 10),
    ADD COLUMN month_change_pct  numeric(20, 6),
    ADD COLUMN year_change       numeric(30, 10),
    ADD COLUMN year_change_pct   numeric(20, 6);
