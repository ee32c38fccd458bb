-- fetcherd schema, version 1.
--
-- Table names follow the reference "fetcher daemon monitoring" spec so its
-- users find familiar data. Every row a daemon writes carries the writer's
-- instance_id (several fetcherd may share one database) and, where a write
-- may be retried after an ambiguous failure, a per-instance sequence number:
-- UNIQUE (instance_id, seq) + ON CONFLICT DO NOTHING makes retries idempotent.

CREATE TABLE assets (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    symbol          text NOT NULL UNIQUE CHECK (symbol ~ '^[A-Za-z0-9.^=_-]{1,32}$'),
    name            text NOT NULL,
    asset_type      text NOT NULL CHECK (asset_type IN
                        ('stock', 'etf', 'crypto', 'fx', 'bond', 'fund', 'index', 'commodity')),
    currency        text NOT NULL DEFAULT 'USD' CHECK (currency ~ '^[A-Z]{3}$'),
    exchange        text,
    provider        text NOT NULL CHECK (provider ~ '^[a-z0-9_]{1,32}$'),
    provider_symbol text NOT NULL CHECK (length(provider_symbol) BETWEEN 1 AND 64),
    created_at      timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE tracked_assets (
    asset_id          bigint PRIMARY KEY REFERENCES assets (id) ON DELETE CASCADE,
    added_at          timestamptz NOT NULL DEFAULT now(),
    last_price_update timestamptz,
    last_error        text,
    last_error_at     timestamptz
);

CREATE TABLE asset_prices (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    asset_id    bigint NOT NULL REFERENCES assets (id) ON DELETE CASCADE,
    price       numeric(30, 10) NOT NULL CHECK (price > 0),
    currency    text NOT NULL,
    price_time  timestamptz NOT NULL,          -- the upstream's timestamp
    fetched_at  timestamptz NOT NULL DEFAULT now(),
    source      text NOT NULL,
    instance_id text NOT NULL,
    seq         bigint NOT NULL,
    UNIQUE (instance_id, seq)
);
-- latest price per asset, and history for day/week/month changes
CREATE INDEX asset_prices_asset_time ON asset_prices (asset_id, fetched_at DESC);

CREATE TABLE exchange_rates (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    base       text NOT NULL CHECK (base ~ '^[A-Z]{3}$'),
    quote      text NOT NULL CHECK (quote ~ '^[A-Z]{3}$'),
    rate       numeric(30, 12) NOT NULL CHECK (rate > 0),
    rate_date  date NOT NULL,
    fetched_at timestamptz NOT NULL DEFAULT now(),
    UNIQUE (base, quote, rate_date)
);

CREATE TABLE portfolios (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name       text NOT NULL,
    currency   text NOT NULL DEFAULT 'USD' CHECK (currency ~ '^[A-Z]{3}$'),
    created_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE portfolio_positions (
    id                bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    portfolio_id      bigint NOT NULL REFERENCES portfolios (id) ON DELETE CASCADE,
    asset_id          bigint NOT NULL REFERENCES assets (id) ON DELETE CASCADE,
    quantity          numeric(30, 10) NOT NULL CHECK (quantity >= 0),
    average_buy_price numeric(30, 10) NOT NULL CHECK (average_buy_price >= 0),
    UNIQUE (portfolio_id, asset_id)
);
CREATE INDEX portfolio_positions_asset ON portfolio_positions (asset_id);

CREATE TABLE portfolio_performance_cache (
    portfolio_id     bigint PRIMARY KEY REFERENCES portfolios (id) ON DELETE CASCADE,
    currency         text NOT NULL,
    total_value      numeric(30, 10) NOT NULL,
    total_invested   numeric(30, 10) NOT NULL,
    total_return     numeric(30, 10) NOT NULL,
    return_pct       numeric(20, 6),
    positions        integer NOT NULL,
    priced_positions integer NOT NULL,
    missing          jsonb NOT NULL DEFAULT '[]',   -- why a position could not be valued
    calculated_at    timestamptz NOT NULL DEFAULT now(),
    cycle_id         bigint
);

CREATE TABLE fetcher_instances (
    instance_id    text PRIMARY KEY,
    host           text NOT NULL,
    pid            integer NOT NULL,
    version        text NOT NULL,
    started_at     timestamptz NOT NULL,
    last_heartbeat timestamptz NOT NULL,
    state          text NOT NULL CHECK (state IN ('running', 'stopped')),
    phase          text NOT NULL DEFAULT 'idle',
    interval_s     integer NOT NULL,
    next_cycle_at  timestamptz,
    cycle_id       bigint,
    cycle_started  timestamptz,
    cycle_done     integer NOT NULL DEFAULT 0,
    cycle_total    integer NOT NULL DEFAULT 0,
    tracked_assets integer NOT NULL DEFAULT 0,
    queue          jsonb NOT NULL DEFAULT '{}',
    detail         jsonb NOT NULL DEFAULT '{}',   -- db state, offline reason, pause
    stopped_at     timestamptz
);
CREATE INDEX fetcher_instances_heartbeat ON fetcher_instances (last_heartbeat DESC);

CREATE TABLE fetcher_cycles (
    id                bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    instance_id       text NOT NULL,
    seq               bigint NOT NULL,           -- the instance's own cycle number
    trigger           text NOT NULL CHECK (trigger IN ('startup', 'schedule', 'manual', 'once')),
    status            text NOT NULL CHECK (status IN
                          ('running', 'succeeded', 'partial', 'failed', 'aborted')),
    started_at        timestamptz NOT NULL,
    finished_at       timestamptz,
    duration_ms       integer,
    assets_total      integer NOT NULL DEFAULT 0,
    assets_succeeded  integer NOT NULL DEFAULT 0,
    assets_failed     integer NOT NULL DEFAULT 0,
    assets_skipped    integer NOT NULL DEFAULT 0,
    upstream_requests integer NOT NULL DEFAULT 0,
    error             text,
    UNIQUE (instance_id, seq)
);
CREATE INDEX fetcher_cycles_started ON fetcher_cycles (started_at DESC);
CREATE INDEX fetcher_cycles_status ON fetcher_cycles (status, id DESC);

CREATE TABLE fetcher_logs (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    "timestamp" timestamptz NOT NULL DEFAULT now(),
    level       text NOT NULL CHECK (level IN ('DEBUG', 'INFO', 'WARNING', 'ERROR', 'CRITICAL')),
    message     text NOT NULL,
    context     jsonb,
    instance_id text,
    seq         bigint,
    cycle_id    bigint,
    UNIQUE (instance_id, seq)
);
-- logs are served newest first, optionally by level: (level, id) serves both
-- the filter and the keyset cursor; the timestamp index serves retention.
CREATE INDEX fetcher_logs_level_id ON fetcher_logs (level, id DESC);
CREATE INDEX fetcher_logs_timestamp ON fetcher_logs ("timestamp");
CREATE INDEX fetcher_logs_cycle ON fetcher_logs (cycle_id) WHERE cycle_id IS NOT NULL;

CREATE TABLE price_update_log (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    "timestamp" timestamptz NOT NULL DEFAULT now(),
    asset_id    bigint REFERENCES assets (id) ON DELETE SET NULL,
    symbol      text NOT NULL,
    price       numeric(30, 10),
    currency    text,
    success     boolean NOT NULL,
    error       text,
    duration_ms integer,
    cycle_id    bigint,
    instance_id text NOT NULL,
    seq         bigint NOT NULL,
    UNIQUE (instance_id, seq)
);
CREATE INDEX price_update_log_cycle ON price_update_log (cycle_id);
CREATE INDEX price_update_log_asset ON price_update_log (asset_id, id DESC);
CREATE INDEX price_update_log_timestamp ON price_update_log ("timestamp");

CREATE TABLE fetcher_statistics (
    id                   bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    instance_id          text NOT NULL,
    recorded_at          timestamptz NOT NULL DEFAULT now(),
    uptime_seconds       bigint NOT NULL,
    total_cycles         bigint NOT NULL,
    successful_cycles    bigint NOT NULL,
    failed_cycles        bigint NOT NULL,
    success_rate         numeric(6, 2) NOT NULL,
    avg_cycle_duration_s numeric(12, 3),
    last_cycle_duration_s numeric(12, 3),
    assets_tracked       integer NOT NULL,
    queue                jsonb NOT NULL DEFAULT '{}'
);
CREATE INDEX fetcher_statistics_recorded ON fetcher_statistics (recorded_at);
