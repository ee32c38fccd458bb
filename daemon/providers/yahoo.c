/*
 * yahoo — Yahoo Finance for stocks, ETFs and indices, in two request kinds:
 *
 * batch: GET {YAHOO_BASE_URL}/v8/finance/spark?symbols=A,B,…&range=1d
 *        &interval=1d, up to YAHOO_SPARK_MAX symbols per request (public
 *        clients use 20). Today's answer has one top-level member per symbol
 *        it knows: {"AAPL":{"symbol":"AAPL","timestamp":[t…],"close":[p…],
 *        …}}; unknown symbols are simply absent, and when none is known the
 *        answer is a 404 {"spark":{"result":null,"error":{…}}}. The older
 *        wrapped shape {"spark":{"result":[{"symbol":"AAPL","response":[
 *        {"meta":{…},"timestamp":[…],"indicators":{"quote":[{"close":[…]}]}}
 *        ]}],"error":null}} is read too. The price is the last non-null
 *        close and its time the timestamp at the same index (the wrapped
 *        shape's meta.regularMarketPrice/Time win when present).
 *
 * fallback: GET {YAHOO_BASE_URL}/v8/finance/chart/{SYMBOL}?interval=1d
 *        &range=1d, one symbol: chart.result[0].meta carries the price
 *        (regularMarketPrice), its time (regularMarketTime), the listing's
 *        currency and exchange; chart.error explains a refusal ("No data
 *        found, symbol may be delisted"). upstream.c asks it for a symbol the
 *        spark answer lacks (or gives no price for).
 *
 * Currency: today's spark shape carries none, so a spark quote leaves
 * currency empty and validate_quote() fills in the asset's own; a currency
 * mismatch is only caught on the chart path or in the wrapped shape. That is
 * the price of one request per 20 symbols instead of one per symbol.
 */
#include "provider.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

/* Symbols per spark request: what public clients send and Yahoo accepts. */
#define YAHOO_SPARK_MAX 20

static int yahoo_batch(const struct config *c)
{
    (void)c;
    return YAHOO_SPARK_MAX;
}

static int yahoo_normalize(const char *in, char *out, size_t outlen)
{
    size_t n = strlen(in);
    if (n == 0 || n >= outlen || n > 32)
        return -1;
    for (size_t i = 0; i <= n; i++) {
        unsigned char ch = (unsigned char)in[i];
        if (ch && !isalnum(ch) && !strchr(".-^=_", ch))
            return -1;
        out[i] = (char)toupper(ch);
    }
    return 0;
}

static int spark_url(const struct config *c, const char *const *symbols, size_t n, char *url,
                     size_t urllen)
{
    if (n == 0 || n > YAHOO_SPARK_MAX)
        return -1;
    int w = snprintf(url, urllen, "%s/v8/finance/spark?symbols=", c->yahoo_base_url);
    if (w < 0 || (size_t)w >= urllen)
        return -1;
    size_t o = (size_t)w;
    for (size_t i = 0; i < n; i++) {
        if (i > 0) {
            if (o + 1 >= urllen)
                return -1;
            url[o++] = ','; /* literal, as public clients send it */
            url[o] = '\0';
        }
        int e = util_urlencode(symbols[i], url + o, urllen - o);
        if (e < 0)
            return -1;
        o += (size_t)e;
    }
    w = snprintf(url + o, urllen - o, "&range=1d&interval=1d");
    return (w < 0 || (size_t)w >= urllen - o) ? -1 : 0;
}

static int chart_url(const struct config *c, const char *const *symbols, size_t n, char *url,
                     size_t urllen)
{
    char enc[128];
    if (n != 1 || util_urlencode(symbols[0], enc, sizeof enc) < 0)
        return -1;
    int w = snprintf(url, urllen, "%s/v8/finance/chart/%s?interval=1d&range=1d", c->yahoo_base_url,
                     enc);
    return (w < 0 || (size_t)w >= urllen) ? -1 : 0;
}

/* A Unix time from JSON into *out; converting a double outside int64's
 * range is undefined behaviour, so that is an error. Absent or not a
 * number: *out stays 0 (unknown) and it is not an error. */
static int read_time(json_object *o, int64_t *out, struct quote *q)
{
    char why[160];
    double t = 0;
    if (provider_number(o, "time", &t, why, sizeof why) != 0)
        return 0;
    if (!(t > -9.2e18 && t < 9.2e18)) {
        q->kind = QUOTE_PERMANENT;
        snprintf(q->error, sizeof q->error, "time %.6g is out of range", t);
        return -1;
    }
    *out = (int64_t)t;
    return 0;
}

static void read_currency(json_object *meta, struct quote *q)
{
    json_object *ccy = provider_get(meta, "currency");
    if (ccy && json_object_is_type(ccy, json_type_string))
        util_strlcpy(q->currency, json_object_get_string(ccy), sizeof q->currency);
}

/* ---- spark -------------------------------------------------------------- */

/* The last non-null element of close[] and its index, or -1 when there is
 * none (empty or all null: no trade in the range, ask the chart). */
static long last_close(json_object *close, json_object **val)
{
    size_t len = json_object_array_length(close);
    for (size_t k = len; k > 0; k--) {
        json_object *v = json_object_array_get_idx(close, k - 1);
        if (v != NULL && !json_object_is_type(v, json_type_null)) {
            *val = v;
            return (long)(k - 1);
        }
    }
    return -1;
}

/* Reads one spark series (timestamp[] and close[], plus an optional meta)
 * into q. Returns 1 when found (q says OK or why not), 0 when the entry
 * carries no price at all (the caller leaves the symbol for the chart). */
static int spark_series(json_object *series, json_object *close, json_object *meta, struct quote *q)
{
    char why[160];
    json_object *mp = provider_get(meta, "regularMarketPrice");
    if (mp != NULL && !json_object_is_type(mp, json_type_null)) {
        if (provider_number(mp, "price", &q->price, why, sizeof why) != 0) {
            q->kind = QUOTE_PERMANENT;
            snprintf(q->error, sizeof q->error, "%s", why);
            return 1;
        }
        if (read_time(provider_get(meta, "regularMarketTime"), &q->price_time, q) != 0)
            return 1;
        read_currency(meta, q);
        q->kind = QUOTE_OK;
        return 1;
    }
    if (close == NULL || !json_object_is_type(close, json_type_array)) {
        q->kind = QUOTE_PERMANENT;
        snprintf(q->error, sizeof q->error, "spark entry has no close prices (unexpected shape)");
        return 1;
    }
    json_object *v = NULL;
    long k = last_close(close, &v);
    if (k < 0)
        return 0;
    if (provider_number(v, "price", &q->price, why, sizeof why) != 0) {
        q->kind = QUOTE_PERMANENT;
        snprintf(q->error, sizeof q->error, "%s", why);
        return 1;
    }
    json_object *ts = provider_get(series, "timestamp");
    if (ts != NULL && json_object_is_type(ts, json_type_array) &&
        (size_t)k < json_object_array_length(ts) &&
        read_time(json_object_array_get_idx(ts, (size_t)k), &q->price_time, q) != 0)
        return 1;
    read_currency(meta, q);
    q->kind = QUOTE_OK;
    return 1;
}

/* The member of obj named sym; Yahoo echoes symbols as asked, but a
 * differently-cased echo is still the same symbol. */
static json_object *member_nocase(json_object *obj, const char *sym)
{
    json_object *v = provider_get(obj, sym);
    if (v != NULL)
        return v;
    json_object_object_foreach(obj, key, val)
    {
        if (strcasecmp(key, sym) == 0)
            return val;
    }
    return NULL;
}

/* The wrapped shape: spark.result[] of {symbol, response:[series]}. */
static int spark_wrapped(json_object *spark, const char *const *symbols, size_t n,
                         struct quote *out, unsigned char *found, char *err, size_t errlen)
{
    json_object *result = provider_get(spark, "result");
    json_object *serr = provider_get(spark, "error");
    if (result == NULL || json_object_is_type(result, json_type_null)) {
        /* {"spark":{"result":null,"error":{…}}}: Yahoo knows none of them */
        if (serr != NULL && !json_object_is_type(serr, json_type_null))
            return 0;
        snprintf(err, errlen, "answer has neither spark.result nor spark.error (unexpected shape)");
        return -1;
    }
    if (!json_object_is_type(result, json_type_array)) {
        snprintf(err, errlen, "spark.result is not an array (unexpected shape)");
        return -1;
    }
    size_t len = json_object_array_length(result);
    for (size_t r = 0; r < len; r++) {
        json_object *item = json_object_array_get_idx(result, r);
        json_object *sym = provider_get(item, "symbol");
        if (sym == NULL || !json_object_is_type(sym, json_type_string))
            continue;
        for (size_t i = 0; i < n; i++) {
            if (found[i] || strcasecmp(json_object_get_string(sym), symbols[i]) != 0)
                continue;
            json_object *resp = provider_get(item, "response");
            json_object *series = NULL;
            if (resp && json_object_is_type(resp, json_type_array) &&
                json_object_array_length(resp) > 0)
                series = json_object_array_get_idx(resp, 0);
            json_object *quote0 = NULL;
            json_object *quotes = provider_get(provider_get(series, "indicators"), "quote");
            if (quotes && json_object_is_type(quotes, json_type_array) &&
                json_object_array_length(quotes) > 0)
                quote0 = json_object_array_get_idx(quotes, 0);
            if (series == NULL || !json_object_is_type(series, json_type_object))
                continue; /* no data for it: the chart may know */
            found[i] = (unsigned char)spark_series(series, provider_get(quote0, "close"),
                                                   provider_get(series, "meta"), &out[i]);
        }
    }
    return 0;
}

static int spark_parse(json_object *root, const char *const *symbols, size_t n, struct quote *out,
                       unsigned char *found, char *err, size_t errlen)
{
    if (!json_object_is_type(root, json_type_object)) {
        snprintf(err, errlen, "answer is not a JSON object (unexpected shape)");
        return -1;
    }
    json_object *spark = provider_get(root, "spark");
    if (spark != NULL && json_object_is_type(spark, json_type_object))
        return spark_wrapped(spark, symbols, n, out, found, err, errlen);
    /* Today's shape: every member is a series. A body with members but not
     * one series among them is something else ({"data":[…]}, an error
     * object); an empty object is an answer that knows none of them. */
    int members = 0, series = 0;
    json_object_object_foreach(root, key, val)
    {
        (void)key;
        members++;
        if (json_object_is_type(val, json_type_object) &&
            (provider_get(val, "close") != NULL || provider_get(val, "timestamp") != NULL))
            series++;
    }
    if (members > 0 && series == 0) {
        snprintf(err, errlen, "answer has no spark series (unexpected shape)");
        return -1;
    }
    for (size_t i = 0; i < n; i++) {
        json_object *entry = member_nocase(root, symbols[i]);
        if (entry == NULL)
            continue;
        if (!json_object_is_type(entry, json_type_object)) {
            found[i] = 1;
            out[i].kind = QUOTE_PERMANENT;
            snprintf(out[i].error, sizeof out[i].error,
                     "spark entry for %.40s is not an object (unexpected shape)", symbols[i]);
            continue;
        }
        found[i] = (unsigned char)spark_series(entry, provider_get(entry, "close"),
                                               provider_get(entry, "meta"), &out[i]);
    }
    return 0;
}

/* ---- chart -------------------------------------------------------------- */

static int chart_parse(json_object *root, const char *const *symbols, size_t n, struct quote *out,
                       unsigned char *found, char *err, size_t errlen)
{
    (void)symbols;
    if (n != 1) {
        /* the caller prints err: never leave it unset */
        snprintf(err, errlen, "yahoo's chart answers one symbol per request, asked for %zu", n);
        return -1;
    }
    json_object *chart = provider_get(root, "chart");
    if (chart == NULL) {
        snprintf(err, errlen, "answer has no 'chart' object (unexpected shape)");
        return -1;
    }
    json_object *cerr = provider_get(chart, "error");
    if (cerr != NULL && !json_object_is_type(cerr, json_type_null)) {
        /* the description, else the code; an empty reason helps nobody
         * (found by tests/fuzz/fuzz_provider_yahoo.c) */
        json_object *d = provider_get(cerr, "description");
        if (d == NULL || !json_object_is_type(d, json_type_string) ||
            json_object_get_string_len(d) == 0)
            d = provider_get(cerr, "code");
        const char *ds = "unknown error";
        if (d != NULL && json_object_is_type(d, json_type_string) &&
            json_object_get_string_len(d) > 0)
            ds = json_object_get_string(d);
        char snip[100];
        util_snippet(ds, strlen(ds), 80, snip, sizeof snip);
        snprintf(out[0].error, sizeof out[0].error, "%s", snip);
        out[0].kind = QUOTE_PERMANENT;
        found[0] = 1;
        return 0;
    }
    json_object *result = provider_get(chart, "result");
    if (result == NULL || !json_object_is_type(result, json_type_array)) {
        snprintf(err, errlen, "answer has no chart.result array (unexpected shape)");
        return -1;
    }
    if (json_object_array_length(result) == 0)
        return 0; /* empty result: the symbol is missing */
    json_object *meta = provider_get(json_object_array_get_idx(result, 0), "meta");
    if (meta == NULL) {
        snprintf(err, errlen, "chart.result[0] has no meta (unexpected shape)");
        return -1;
    }
    struct quote *q = &out[0];
    found[0] = 1;
    char why[160];
    if (provider_number(provider_get(meta, "regularMarketPrice"), "price", &q->price, why,
                        sizeof why) != 0) {
        q->kind = QUOTE_PERMANENT;
        snprintf(q->error, sizeof q->error, "%s", why);
        return 0;
    }
    if (read_time(provider_get(meta, "regularMarketTime"), &q->price_time, q) != 0)
        return 0;
    read_currency(meta, q);
    q->kind = QUOTE_OK;
    return 0;
}

const struct provider provider_yahoo = {
    .name = "yahoo",
    .batch_size = yahoo_batch,
    .concurrency = 8,
    .normalize = yahoo_normalize,
    .build_url = spark_url,
    .headers = NULL,
    .parse = spark_parse,
    .fallback_url = chart_url,
    .fallback_parse = chart_parse,
};
