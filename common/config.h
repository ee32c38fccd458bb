/*
 * config — every setting of both programs, read from environment variables
 * with a default that works locally. Table-driven: one row per variable
 * (name, kind, default, range) so the README, the parser and the error
 * messages cannot disagree.
 *
 * A bad value is a start-up error: config_load() fills `err` with one line
 * naming the variable ("FETCH_INTERVAL: 'abc' is not a duration …") and the
 * program prints it and exits 2. Nothing here exits by itself.
 */
#ifndef FETCHER_CONFIG_H
#define FETCHER_CONFIG_H

/* Per-minute limits a real provider tolerates from a keyless client:
 * long-running Yahoo clients keep to about one request a second, and
 * CoinGecko's public API allows 5–15 calls a minute (a demo key 30; see
 * README, "Rate limits"). The second sources: Kraken meters REST callers
 * at about 15 calls per 45 s; open.er-api needs one request a cycle and
 * blocks an IP for 20 minutes after a 429; Twelve Data's free plan counts
 * 8 credits a minute, one per symbol, and a request carries 8; Coinbase
 * allows 10,000 requests an hour, one pair each; Binance allows 6,000
 * request weight a minute per IP and a price ticker request weighs 4
 * (tests/fixtures/real/NOTE_rate_limits.txt). */
#define CONFIG_DEFAULT_RATE_LIMITS                                                                 \
    "yahoo=60,coingecko=10,fx=30,kraken=20,erapi=10,twelvedata=1,coinbase=60,binance=60"
#define CONFIG_COINGECKO_KEYED_RATE 30

#include "util.h"

#include <stdint.h>

struct config {
    char database_url[1024];      /* DATABASE_URL */
    int64_t fetch_interval_s;     /* FETCH_INTERVAL */
    int64_t check_interval_s;     /* FETCH_CHECK_INTERVAL */
    int64_t backfill;             /* FETCH_BACKFILL: 1 = daily history for tracked assets */
    int64_t market_hours;         /* FETCH_MARKET_HOURS: 1 = closed markets are not fetched */
    int64_t log_retention_days;   /* LOG_RETENTION_DAYS */
    int64_t price_intraday_days;  /* PRICE_INTRADAY_DAYS */
    int64_t stats_persist_s;      /* STATS_PERSIST_INTERVAL */
    int64_t heartbeat_s;          /* HEARTBEAT_INTERVAL */
    char api_bind[64];            /* API_BIND */
    int64_t api_port;             /* API_PORT */
    char api_token[256];          /* FETCHER_API_TOKEN, empty = unset */
    int64_t api_threads;          /* API_THREADS */
    char yahoo_base_url[512];     /* YAHOO_BASE_URL */
    char coingecko_base_url[512]; /* COINGECKO_BASE_URL */
    char coingecko_api_key[256];  /* COINGECKO_API_KEY, empty = unset */
    char fx_base_url[512];        /* FX_BASE_URL */
    int64_t fetch_concurrency;    /* FETCH_CONCURRENCY: in flight, all providers */
    int64_t fetch_timeout_s;      /* FETCH_TIMEOUT: per request, total */
    int64_t fetch_retries;        /* FETCH_RETRIES: of a transient failure */
    int64_t coingecko_batch;      /* COINGECKO_BATCH: ids per request */
    /* FETCH_RATE_LIMITS: "yahoo=60,coingecko=10" per minute */
    char rate_limits[256];
    char staleness[256];              /* FETCH_STALENESS: "stock=10m,bond=1d" */
    int64_t price_max_age_s;          /* PRICE_MAX_AGE: older quotes are refused */
    int64_t price_move_warn_pct;      /* PRICE_MOVE_WARN_PCT: log moves larger than this */
    int64_t max_body_bytes;           /* FETCH_MAX_BODY */
    char instance_id[64];             /* FETCHER_INSTANCE_ID, empty = generated */
    int64_t write_buffer_rows;        /* WRITE_BUFFER_ROWS: kept while the DB is away */
    int64_t watchdog_s;               /* WATCHDOG_SECONDS: loop stall before exit */
    char log_level[16];               /* LOG_LEVEL (stdout) */
    char dashboard_dir[512];          /* FETCHER_DASHBOARD_DIR, empty = found */
    char migrations_dir[512];         /* FETCHER_MIGRATIONS_DIR, empty = found */
    char api_cors_origin[256];        /* API_CORS_ORIGIN, empty = no CORS headers */
    char api_allowed_hosts[512];      /* API_ALLOWED_HOSTS: Host names served (api/crosssite.h) */
    int64_t api_cache_ms;             /* API_CACHE_MS: identical GET answers shared, 0 = off */
    int64_t api_sse_max_clients;      /* API_SSE_MAX_CLIENTS: event streams at once */
    int64_t api_log_query_timeout_ms; /* API_LOG_QUERY_TIMEOUT_MS: filtered log queries */

    /* The second source of each class. */
    char kraken_base_url[512];     /* KRAKEN_BASE_URL: crypto */
    char erapi_base_url[512];      /* ERAPI_BASE_URL: FX */
    char twelvedata_base_url[512]; /* TWELVEDATA_BASE_URL: stocks */
    char twelvedata_api_key[256];  /* TWELVEDATA_API_KEY, empty = unset */
    char coinbase_base_url[512];   /* COINBASE_BASE_URL: crypto, third source */
    char binance_base_url[512];    /* BINANCE_BASE_URL: crypto, fourth source */
    /* Failover between them (daemon/sources.h, daemon/queue.h). */
    char fetch_sources[256];  /* FETCH_SOURCES: "stock=yahoo,twelvedata;fx=fx,erapi" */
    int64_t probe_interval_s; /* FETCH_PROBE_INTERVAL: a down provider is asked this often */

    /* fetcher-api's alerts (api/alerts.h). */
    char alert_webhook_url[1024]; /* ALERT_WEBHOOK_URL, empty = no notifications */
    char alert_webhook_format[8]; /* ALERT_WEBHOOK_FORMAT: "json" or "slack" */
    int64_t alert_after_s;        /* ALERT_AFTER: a provider down this long is an alert */
    int64_t alert_failed_cycles;  /* ALERT_FAILED_CYCLES: failed cycles in a row */
    /* The cross-check between sources (daemon/crosscheck.h). */
    int64_t crosscheck_pct;    /* PRICE_CROSSCHECK_PCT: prices further apart are a WARNING */
    int64_t crosscheck_sample; /* PRICE_CROSSCHECK_SAMPLE: assets per cycle, 0 = off */
};

/* The one process-wide configuration, set once at start-up. */
extern const struct config *cfg;

/* Fills *c from the environment (getenv) over the defaults. Returns 0, or -1
 * with a one-line reason in err. */
int config_load(struct config *c, char *err, size_t errlen) MUST_CHECK;

/* Same, with a lookup function instead of getenv (for tests). */
int config_load_from(struct config *c, const char *(*lookup)(const char *name, void *cls),
                     void *cls, char *err, size_t errlen) MUST_CHECK;

/* Prints "NAME=default  description" for every variable (for --help). */
void config_print_help(void);

#endif
