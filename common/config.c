/*
 * config — see config.h.
 */
#include "config.h"
#include "log.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const struct config *cfg;

/* K_URL_OPT: empty, or an http(s) URL whose value is never repeated in an
 * error (it may carry a secret); K_CHOICE: one of `choices`, '|'-separated. */
enum kind { K_STR, K_INT, K_DURATION, K_URL, K_LEVEL, K_URL_OPT, K_CHOICE };

struct var {
    const char *name;
    enum kind kind;
    size_t offset;
    size_t size; /* K_STR/K_URL/K_LEVEL: buffer size */
    const char *def;
    int64_t min, max;
    const char *help;
    const char *choices; /* K_CHOICE */
};

#define S(field) offsetof(struct config, field), sizeof(((struct config *)0)->field)
#define I(field) offsetof(struct config, field), 0

static const struct var vars[] = {
    {"DATABASE_URL", K_STR, S(database_url), "postgresql://fetcher@127.0.0.1:5433/fetcher", 0, 0,
     "PostgreSQL connection string (libpq URI or key=value)"},
    {"FETCH_INTERVAL", K_DURATION, I(fetch_interval_s), "600", 1, 7 * 86400,
     "time between cycles: 30s, 10m, 1h"},
    {"FETCH_CHECK_INTERVAL", K_DURATION, I(check_interval_s), "30", 1, 3600,
     "how often fetcherd asks which assets are due (older than their FETCH_STALENESS bound); "
     "never longer than the shortest bound"},
    {"LOG_RETENTION_DAYS", K_INT, I(log_retention_days), "30", 1, 3650,
     "days of fetcher_logs / price_update_log / fetcher_statistics kept"},
    {"PRICE_INTRADAY_DAYS", K_INT, I(price_intraday_days), "30", 1, 36500,
     "days of asset_prices (intraday) rows kept; each asset's newest row and the daily "
     "closes (asset_prices_daily) are kept forever"},
    {"STATS_PERSIST_INTERVAL", K_DURATION, I(stats_persist_s), "60", 1, 86400,
     "how often a fetcher_statistics row is written (also after every cycle)"},
    {"HEARTBEAT_INTERVAL", K_DURATION, I(heartbeat_s), "5", 1, 60,
     "how often fetcherd writes its heartbeat row"},
    {"API_BIND", K_STR, S(api_bind), "127.0.0.1", 0, 0, "address fetcher-api listens on"},
    {"API_PORT", K_INT, I(api_port), "8080", 1, 65535, "port fetcher-api listens on"},
    {"FETCHER_API_TOKEN", K_STR, S(api_token), "", 0, 0,
     "bearer token for write endpoints; unset = writes from loopback only"},
    {"API_THREADS", K_INT, I(api_threads), "4", 1, 64, "fetcher-api worker threads"},
    {"YAHOO_BASE_URL", K_URL, S(yahoo_base_url), "https://query1.finance.yahoo.com", 0, 0,
     "Yahoo Finance API base"},
    {"COINGECKO_BASE_URL", K_URL, S(coingecko_base_url), "https://api.coingecko.com/api/v3", 0, 0,
     "CoinGecko API base"},
    {"COINGECKO_API_KEY", K_STR, S(coingecko_api_key), "", 0, 0,
     "optional CoinGecko demo/pro key (sent as a header, never logged)"},
    {"FX_BASE_URL", K_URL, S(fx_base_url), "https://api.frankfurter.dev/v1", 0, 0,
     "Frankfurter (v1) exchange-rate API base"},
    {"KRAKEN_BASE_URL", K_URL, S(kraken_base_url), "https://api.kraken.com", 0, 0,
     "Kraken public API base (crypto, keyless; second source)"},
    {"ERAPI_BASE_URL", K_URL, S(erapi_base_url), "https://open.er-api.com", 0, 0,
     "open.er-api.com exchange-rate API base (keyless; second FX source)"},
    {"TWELVEDATA_BASE_URL", K_URL, S(twelvedata_base_url), "https://api.twelvedata.com", 0, 0,
     "Twelve Data API base (stocks; second source, used only with a key)"},
    {"COINBASE_BASE_URL", K_URL, S(coinbase_base_url), "https://api.coinbase.com", 0, 0,
     "Coinbase public API base (crypto spot prices, keyless; third source)"},
    {"BINANCE_BASE_URL", K_URL, S(binance_base_url), "https://api.binance.com", 0, 0,
     "Binance public API base (crypto spot prices in USDT, keyless; fourth source)"},
    {"TWELVEDATA_API_KEY", K_STR, S(twelvedata_api_key), "", 0, 0,
     "Twelve Data key (free plan: 8 credits a minute, 800 a day; sent as a header, never "
     "logged)"},
    {"FETCH_SOURCES", K_STR, S(fetch_sources), "", 0, 0,
     "per asset class, the providers to try in order (stock=yahoo,twelvedata;crypto=coingecko,"
     "kraken,coinbase,binance;fx=fx,erapi is the default; a class not named keeps it)"},
    {"FETCH_PROBE_INTERVAL", K_DURATION, I(probe_interval_s), "30", 1, 3600,
     "how often a provider that keeps failing (or the network, offline) is probed; meanwhile "
     "its assets go to their next source"},
    {"FETCH_CONCURRENCY", K_INT, I(fetch_concurrency), "8", 1, 256,
     "upstream requests in flight at once, all providers"},
    {"FETCH_TIMEOUT", K_DURATION, I(fetch_timeout_s), "15", 1, 300,
     "total time one upstream request may take"},
    {"FETCH_RETRIES", K_INT, I(fetch_retries), "3", 0, 10,
     "retries of a transient failure (5xx, 429, timeout); each waits longer"},
    {"COINGECKO_BATCH", K_INT, I(coingecko_batch), "100", 1, 250,
     "CoinGecko ids per /simple/price request (a request whose URL would pass 4 KB carries "
     "fewer)"},
    {"FETCH_RATE_LIMITS", K_STR, S(rate_limits), CONFIG_DEFAULT_RATE_LIMITS, 0, 0,
     "requests per minute per provider (provider=N,…; 0 = unlimited); left at its default, "
     "coingecko gets 30 when COINGECKO_API_KEY is set"},
    {"FETCH_BACKFILL", K_INT, I(backfill), "1", 0, 1,
     "1 = fetch a tracked asset's daily history (Yahoo: 5 years, CoinGecko: 1 year) into "
     "asset_prices_daily when it has none; 0 = off"},
    {"FETCH_MARKET_HOURS", K_INT, I(market_hours), "1", 0, 1,
     "1 = an asset whose market is closed (weekly calendar per exchange; FX 24/5, crypto "
     "always open) is not fetched until it opens, after one fetch for the closing price; 0 = off"},
    {"FETCH_STALENESS", K_STR, S(staleness), "", 0, 0,
     "per asset type, how long after it was last fetched an asset is due again "
     "(crypto=1m,stock=10m,bond=1d; never = only when asked, always = every check; default: "
     "FETCH_INTERVAL for every type; assets.staleness overrides it per asset)"},
    {"PRICE_MAX_AGE", K_DURATION, I(price_max_age_s), "7d", 0, 365 * 86400,
     "an upstream price stamped older than this is refused as stale (0 = no limit)"},
    {"PRICE_MOVE_WARN_PCT", K_INT, I(price_move_warn_pct), "50", 0, 100000,
     "a price that moved more than this % since the last one is stored and logged "
     "as a WARNING (0 = off)"},
    {"PRICE_CROSSCHECK_PCT", K_INT, I(crosscheck_pct), "2", 1, 1000,
     "two sources' prices for one asset that differ by more than this % (after currency "
     "conversion) are logged as a WARNING and shown on the dashboard"},
    {"PRICE_CROSSCHECK_SAMPLE", K_INT, I(crosscheck_sample), "2", 0, 10000,
     "assets per cycle asked of their other sources too, at low priority, to cross-check "
     "(failed-over and probe answers first, then a rotation; 0 = no cross-check)"},
    {"FETCH_MAX_BODY", K_INT, I(max_body_bytes), "1048576", 1024, 64 * 1048576,
     "largest upstream answer accepted, bytes"},
    {"WRITE_BUFFER_ROWS", K_INT, I(write_buffer_rows), "100000", 100, 10000000,
     "rows fetcherd keeps in memory while the database is away"},
    {"WATCHDOG_SECONDS", K_INT, I(watchdog_s), "60", 5, 3600,
     "fetcherd exits (for a restart) when its loop stalls this long"},
    {"FETCHER_INSTANCE_ID", K_STR, S(instance_id), "", 0, 0,
     "this fetcherd's id in the database; default host-pid-random"},
    {"LOG_LEVEL", K_LEVEL, S(log_level), "INFO", 0, 0,
     "lowest level printed on stdout: DEBUG, INFO, WARNING, ERROR"},
    {"FETCHER_DASHBOARD_DIR", K_STR, S(dashboard_dir), "", 0, 0,
     "dashboard files; default found beside the binary"},
    {"FETCHER_MIGRATIONS_DIR", K_STR, S(migrations_dir), "", 0, 0,
     "migration files; default found beside the binary"},
    {"API_CORS_ORIGIN", K_STR, S(api_cors_origin), "", 0, 0,
     "origin allowed to call the REST API from a browser (e.g. https://x.example); unset = none"},
    {"API_ALLOWED_HOSTS", K_STR, S(api_allowed_hosts), "localhost", 0, 0,
     "host names (optional :port) fetcher-api answers to, comma-separated; IP addresses always"},
    {"API_CACHE_MS", K_INT, I(api_cache_ms), "500", 0, 5000,
     "fetcher-api serves identical GET answers for this long (ms, Age header); 0 = off"},
    {"API_SSE_MAX_CLIENTS", K_INT, I(api_sse_max_clients), "64", 1, 1024,
     "event streams (/api/fetcher/events) open at once; more get 503"},
    {"API_LOG_QUERY_TIMEOUT_MS", K_INT, I(api_log_query_timeout_ms), "2000", 10, 60000,
     "time a log query with q, since/until or cycle_id may take (ms); past it: 503 naming the "
     "parameter"},
    {"ALERT_WEBHOOK_URL", K_URL_OPT, S(alert_webhook_url), "", 0, 0,
     "fetcher-api posts each alert and its resolution here (its path, query and user are never "
     "logged); unset = alerts are kept and shown, not sent"},
    {"ALERT_WEBHOOK_FORMAT", K_CHOICE, S(alert_webhook_format), "json", 0, 0,
     "json (our alert document) or slack (a Slack incoming-webhook message)", "json|slack"},
    {"ALERT_AFTER", K_DURATION, I(alert_after_s), "10m", 1, 7 * 86400,
     "a provider blocked or offline this long raises an alert"},
    {"ALERT_FAILED_CYCLES", K_INT, I(alert_failed_cycles), "3", 1, 1000,
     "this many failed cycles in a row raise an alert"},
};

/* Whether val is one of choices ("a|b|c"). */
static int cfg_is_choice(const char *choices, const char *val)
{
    size_t n = strlen(val);
    for (const char *p = choices; p != NULL && *p != '\0';) {
        const char *bar = strchr(p, '|');
        size_t len = bar != NULL ? (size_t)(bar - p) : strlen(p);
        if (len == n && n > 0 && strncmp(p, val, n) == 0)
            return 1;
        p = bar != NULL ? bar + 1 : NULL;
    }
    return 0;
}

static const char *env_lookup(const char *name, void *cls)
{
    (void)cls;
    return getenv(name);
}

static int set_one(struct config *c, const struct var *v, const char *val, char *err, size_t errlen)
{
    char *base = (char *)c + v->offset;
    int64_t n;
    switch (v->kind) {
    case K_URL_OPT: {
        const char *host = strncmp(val, "http://", 7) == 0    ? val + 7
                           : strncmp(val, "https://", 8) == 0 ? val + 8
                                                              : NULL;
        if (val[0] != '\0' && (host == NULL || host[0] == '\0' || host[0] == '/')) {
            snprintf(err, errlen,
                     "%s: not an http:// or https:// URL (the value is not shown: it may hold a "
                     "secret)",
                     v->name);
            return -1;
        }
    }
        if (util_strlcpy(base, val, v->size) >= v->size) {
            snprintf(err, errlen, "%s: value longer than %zu characters", v->name, v->size - 1);
            return -1;
        }
        return 0;
    case K_CHOICE:
        if (!cfg_is_choice(v->choices, val)) {
            snprintf(err, errlen, "%s: '%.40s' is not one of %s", v->name, val, v->choices);
            return -1;
        }
        if (util_strlcpy(base, val, v->size) >= v->size) {
            snprintf(err, errlen, "%s: value longer than %zu characters", v->name, v->size - 1);
            return -1;
        }
        return 0;
    case K_URL: {
        /* A host must follow the scheme: "https://" alone would only fail
         * later, at every fetch, instead of at start-up. */
        const char *host = strncmp(val, "http://", 7) == 0    ? val + 7
                           : strncmp(val, "https://", 8) == 0 ? val + 8
                                                              : NULL;
        if (host == NULL || host[0] == '\0' || host[0] == '/') {
            snprintf(err, errlen, "%s: '%.200s' is not an http:// or https:// URL", v->name, val);
            return -1;
        }
    }
        /* fall through */
    case K_STR:
    case K_LEVEL:
        if (util_strlcpy(base, val, v->size) >= v->size) {
            snprintf(err, errlen, "%s: value longer than %zu characters", v->name, v->size - 1);
            return -1;
        }
        if (v->kind == K_LEVEL) {
            enum log_level lv;
            if (log_level_parse(val, &lv) != 0) {
                snprintf(err, errlen, "%s: '%.40s' is not one of DEBUG, INFO, WARNING, ERROR",
                         v->name, val);
                return -1;
            }
        }
        if (v->kind == K_URL) {
            size_t len = strlen(base);
            while (len > 0 && base[len - 1] == '/')
                base[--len] = '\0';
        }
        return 0;
    case K_INT:
        if (util_parse_i64(val, v->min, v->max, &n) != 0) {
            snprintf(err, errlen, "%s: '%.40s' is not a whole number from %lld to %lld", v->name,
                     val, (long long)v->min, (long long)v->max);
            return -1;
        }
        *(int64_t *)base = n;
        return 0;
    case K_DURATION:
        if (util_parse_duration(val, v->min, v->max, &n) != 0) {
            snprintf(err, errlen,
                     "%s: '%.40s' is not a duration from %llds to %llds (use e.g. 30s, 10m, 1h)",
                     v->name, val, (long long)v->min, (long long)v->max);
            return -1;
        }
        *(int64_t *)base = n;
        return 0;
    }
    return -1;
}

int config_load_from(struct config *c, const char *(*lookup)(const char *, void *), void *cls,
                     char *err, size_t errlen)
{
    memset(c, 0, sizeof *c);
    for (size_t i = 0; i < ARRAY_LEN(vars); i++) {
        const struct var *v = &vars[i];
        if (set_one(c, v, v->def, err, errlen) != 0)
            return -1; /* a bad default is our bug; still reported, never ignored */
        const char *val = lookup(v->name, cls);
        if (val != NULL && set_one(c, v, val, err, errlen) != 0)
            return -1;
    }
    return 0;
}

int config_load(struct config *c, char *err, size_t errlen)
{
    return config_load_from(c, env_lookup, NULL, err, errlen);
}

void config_print_help(void)
{
    printf("Environment variables:\n");
    for (size_t i = 0; i < ARRAY_LEN(vars); i++)
        printf("  %-24s %s (default: %s)\n", vars[i].name, vars[i].help,
               vars[i].def[0] ? vars[i].def : "unset");
}
