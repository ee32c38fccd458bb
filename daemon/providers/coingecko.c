/*
 * coingecko — CoinGecko's simple-price API for cryptocurrencies:
 * GET {COINGECKO_BASE_URL}/simple/price?ids=a,b,…&vs_currencies=usd
 *     &include_last_updated_at=true
 * many ids per request; the answer maps each known id to {"usd": price,
 * "last_updated_at": unix seconds} (coingecko_simple_price_docs_example).
 * Unknown ids are simply absent. The optional COINGECKO_API_KEY travels in
 * a header, never in the URL.
 *
 * Errors come in four shapes, all read for their text: {"status":
 * {"error_code":429,"error_message":…}} (coingecko_429_rate_limit),
 * {"error":"Missing parameter vs_currency"} (a 422), {"error":{"status":
 * {"error_code":10012,"error_message":…}}} (coingecko_error_10012_…) and
 * {"error_code":10010,"status":{"error_message":…}} (coingecko_error_10010_…).
 *
 * history: GET {COINGECKO_BASE_URL}/coins/{id}/market_chart?vs_currency=usd
 *     &days=365&interval=daily — {"prices":[[ms, price], …],"market_caps":
 *     […],"total_volumes":[…]} (coingecko_market_chart_bitcoin_90d_daily_…):
 *     a point at each 00:00 UTC and one last point at the time of the
 *     request, so the last day appears twice. A point at midnight is the
 *     price the UTC day before it ended with, so it is that day's close;
 *     every other point belongs to its own UTC day (the last one: today so
 *     far). That also gives each day one close. 365 days, because keyless
 *     and demo keys get no more (days=max answers error 10012:
 *     coingecko_error_10012_time_range_2024-03-30.json).
 *
 * Keyless access allows few calls (historically 5–15 a minute; a demo key
 * 30): the default rate limit follows (main.c).
 */
#include "provider.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

static int cg_batch(const struct config *c)
{
    return (int)c->coingecko_batch;
}

static int cg_normalize(const char *in, char *out, size_t outlen)
{
    size_t n = strlen(in);
    if (n == 0 || n >= outlen || n > 64)
        return -1;
    for (size_t i = 0; i <= n; i++) {
        unsigned char ch = (unsigned char)in[i];
        if (ch && !isalnum(ch) && ch != '-' && ch != '_' && ch != '.')
            return -1;
        out[i] = (char)tolower(ch);
    }
    return 0;
}

static int cg_url(const struct config *c, const char *const *symbols, size_t n, char *url,
                  size_t urllen)
{
    int w = snprintf(url, urllen, "%s/simple/price?ids=", c->coingecko_base_url);
    if (w < 0 || (size_t)w >= urllen)
        return -1;
    size_t o = (size_t)w;
    for (size_t i = 0; i < n; i++) {
        if (i > 0) {
            if (o + 3 >= urllen)
                return -1;
            memcpy(url + o, "%2C", 3); /* ',' */
            o += 3;
        }
        int e = util_urlencode(symbols[i], url + o, urllen - o);
        if (e < 0)
            return -1;
        o += (size_t)e;
    }
    w = snprintf(url + o, urllen - o, "&vs_currencies=usd&include_last_updated_at=true");
    return (w < 0 || (size_t)w >= urllen - o) ? -1 : 0;
}

static size_t cg_headers(const struct config *c, char out[][PROVIDER_HEADER_MAX], size_t max)
{
    if (c->coingecko_api_key[0] == '\0' || max < 1)
        return 0;
    /* A pro key goes to the pro host; every other key is a demo key. */
    const char *name =
        strstr(c->coingecko_base_url, "pro-api") ? "x-cg-pro-api-key" : "x-cg-demo-api-key";
    snprintf(out[0], PROVIDER_HEADER_MAX, "%s: %s", name, c->coingecko_api_key);
    return 1;
}

/* The text of any of CoinGecko's error shapes into out; 0 when root is
 * not an error answer. (A coin may be called "status": an entry is an
 * error only with an error_code or error_message in it.) */
static int cg_error_text(json_object *root, char *out, size_t outlen)
{
    json_object *e = provider_get(root, "error");
    json_object *status = provider_get(root, "status");
    if (e != NULL && json_object_is_type(e, json_type_string)) {
        const char *t = json_object_get_string(e);
        util_snippet(t, strlen(t), 80, out, outlen);
        return 1;
    }
    if (e != NULL && json_object_is_type(e, json_type_object))
        status = provider_get(e, "status");
    json_object *code = provider_get(status, "error_code");
    if (code == NULL)
        code = provider_get(root, "error_code"); /* the 10010 shape */
    json_object *m = provider_get(status, "error_message");
    if (code == NULL && m == NULL)
        return 0;
    const char *ms = m && json_object_is_type(m, json_type_string) ? json_object_get_string(m) : "";
    char num[24] = "";
    if (ms[0] == '\0') { /* a reason nobody can read is no reason */
        snprintf(num, sizeof num, "error code %.12s", code ? json_object_get_string(code) : "?");
        ms = num;
    }
    util_snippet(ms, strlen(ms), 80, out, outlen);
    return 1;
}

static int cg_parse(json_object *root, const char *const *symbols, size_t n, struct quote *out,
                    unsigned char *found, char *err, size_t errlen)
{
    if (!json_object_is_type(root, json_type_object)) {
        snprintf(err, errlen, "answer is not a JSON object (unexpected shape)");
        return -1;
    }
    /* An error answer is a refusal, not data: its text is the reason. */
    char said[100];
    if (cg_error_text(root, said, sizeof said)) {
        snprintf(err, errlen, "coingecko refused: %s", said);
        return -1;
    }
    for (size_t i = 0; i < n; i++) {
        json_object *entry = provider_get(root, symbols[i]);
        if (entry == NULL)
            continue;
        struct quote *q = &out[i];
        found[i] = 1;
        char why[160];
        if (!json_object_is_type(entry, json_type_object)) {
            q->kind = QUOTE_PERMANENT;
            snprintf(q->error, sizeof q->error, "entry for %s is not an object", symbols[i]);
            continue;
        }
        json_object *usd = NULL;
        /* (a JSON null is a NULL value too: ask whether the key exists) */
        if (!json_object_object_get_ex(entry, "usd", &usd) &&
            json_object_object_length(entry) > 0) {
            /* priced, but not in the currency asked for */
            char other[40] = "";
            json_object_object_foreach(entry, key, val)
            {
                (void)val;
                if (strcmp(key, "last_updated_at") != 0) {
                    util_snippet(key, strlen(key), 16, other, sizeof other);
                    break;
                }
            }
            if (other[0]) {
                q->kind = QUOTE_PERMANENT;
                snprintf(q->error, sizeof q->error, "no USD price in the answer (only %s)", other);
                continue;
            }
        }
        if (provider_number(usd, "price", &q->price, why, sizeof why) != 0) {
            q->kind = QUOTE_PERMANENT;
            snprintf(q->error, sizeof q->error, "%s", why);
            continue;
        }
        double t = 0;
        if (provider_number(provider_get(entry, "last_updated_at"), "time", &t, why, sizeof why) ==
            0) {
            /* converting a double outside int64's range is undefined */
            if (!(t > -9.2e18 && t < 9.2e18)) {
                q->kind = QUOTE_PERMANENT;
                snprintf(q->error, sizeof q->error, "time %.6g is out of range", t);
                continue;
            }
            q->price_time = (int64_t)t;
        }
        util_strlcpy(q->currency, "USD", sizeof q->currency);
        q->kind = QUOTE_OK;
    }
    return 0;
}

/* ---- history ------------------------------------------------------------ */

static int cg_history_url(const struct config *c, const char *symbol, char *url, size_t urllen)
{
    char enc[160];
    if (util_urlencode(symbol, enc, sizeof enc) < 0)
        return -1;
    int w =
        snprintf(url, urllen, "%s/coins/%s/market_chart?vs_currency=usd&days=365&interval=daily",
                 c->coingecko_base_url, enc);
    return (w < 0 || (size_t)w >= urllen) ? -1 : 0;
}

static int cg_history_parse(json_object *root, const char *symbol, struct history_series *out,
                            struct quote *q, char *err, size_t errlen)
{
    (void)symbol;
    if (!json_object_is_type(root, json_type_object)) {
        snprintf(err, errlen, "answer is not a JSON object (unexpected shape)");
        return -1;
    }
    char said[100];
    if (cg_error_text(root, said, sizeof said)) {
        q->kind = QUOTE_PERMANENT;
        snprintf(q->error, sizeof q->error, "%s", said);
        return 0;
    }
    json_object *prices = provider_get(root, "prices");
    if (prices == NULL || !json_object_is_type(prices, json_type_array)) {
        snprintf(err, errlen, "answer has no prices array (unexpected shape)");
        return -1;
    }
    util_strlcpy(out->currency, "USD", sizeof out->currency);
    size_t n = json_object_array_length(prices);
    char why[160];
    for (size_t k = 0; k < n; k++) {
        json_object *pt = json_object_array_get_idx(prices, k);
        double ms = 0, c = 0;
        if (pt == NULL || !json_object_is_type(pt, json_type_array) ||
            json_object_array_length(pt) < 2 ||
            provider_number(json_object_array_get_idx(pt, 0), "time", &ms, why, sizeof why) != 0 ||
            !(ms > 0 && ms < 9.2e15) ||
            provider_number(json_object_array_get_idx(pt, 1), "price", &c, why, sizeof why) != 0 ||
            !(c > 0)) {
            out->nulls++;
            continue;
        }
        int64_t t = (int64_t)(ms / 1000.0);
        /* midnight is the close of the day that just ended */
        int32_t day = history_day(t % 86400 == 0 ? t - 1 : t, 0);
        if (history_push(out, day, t, c) != 0) {
            q->kind = QUOTE_TRANSIENT;
            snprintf(q->error, sizeof q->error, "out of memory reading the history");
            return 0;
        }
    }
    if (out->n == 0) {
        q->kind = QUOTE_PERMANENT;
        snprintf(q->error, sizeof q->error, "history answer has no prices (%zu unusable)",
                 out->nulls);
        return 0;
    }
    q->kind = QUOTE_OK;
    util_strlcpy(q->currency, "USD", sizeof q->currency);
    q->price = out->p[out->n - 1].close;
    q->price_time = out->p[out->n - 1].price_time;
    q->time_basis = QTIME_MARKET;
    return 0;
}

const struct provider provider_coingecko = {
    .name = "coingecko",
    .batch_size = cg_batch,
    .concurrency = 4,
    .normalize = cg_normalize,
    .build_url = cg_url,
    .headers = cg_headers,
    .parse = cg_parse,
    .history_url = cg_history_url,
    .history_parse = cg_history_parse,
};
