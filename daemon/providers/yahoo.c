/*
 * yahoo — Yahoo Finance for stocks, ETFs, indices, futures and currency
 * pairs, in two request kinds. What the real servers answer is recorded in
 * tests/fixtures/real/ (each with its source note); this file reads that.
 *
 * batch: GET {YAHOO_BASE_URL}/v7/finance/spark?symbols=A,B,…&range=1d
 *        &interval=1d — keyless (no cookie, no crumb), at most 20 symbols
 *        (21 and more answer HTTP 400). The answer is wrapped:
 *        {"spark":{"result":[{"symbol":"TSLA","response":[R]}],"error":null}}
 *        where R is the same object as a chart result (yahoo_spark_v7_TSLA):
 *        R.meta.{currency, regularMarketPrice, regularMarketTime,
 *        exchangeName, instrumentType, exchangeTimezoneName,
 *        currentTradingPeriod}, R.timestamp[], R.indicators.quote[0].close[].
 *        Unknown symbols are left out; when none is known: HTTP 404
 *        {"spark":{"result":null,"error":{"code":"Not Found",
 *        "description":"No data found for spark symbols"}}}.
 *
 * single: GET {YAHOO_BASE_URL}/v8/finance/chart/{SYMBOL}?interval=1d
 *        &range=1d — {"chart":{"result":[R],"error":null}}, or a 404 whose
 *        chart.error says "No data found, symbol may be delisted". The queue
 *        sends it for a symbol the spark answer lacks or cannot price.
 *
 * history: GET {YAHOO_BASE_URL}/v8/finance/chart/{SYMBOL}?range=5y
 *        &interval=1d&events=div,split — the chart answer with five years of
 *        day bars (yahoo_chart_MSFT_1d_…_dividends.json and
 *        yahoo_chart_NVDA_1d_…_split.json: a year each, by period1/period2).
 *        The close of a bar is indicators.quote[0].close[k], NOT
 *        indicators.adjclose: Yahoo's close is already adjusted for splits
 *        back in time (NVDA's 4:1 of July 2021 shows no step), so it
 *        continues into the prices stored live, while adjclose also takes
 *        every dividend off the past (a total-return series) and would make
 *        a portfolio's month or year change disagree with the prices it was
 *        valued at. A null close (a day without trades; real answers have
 *        them: yahoo_chart_v8_INR=X_with_null_2017-07.json) is skipped. The
 *        market day is the bar's start in the exchange's offset
 *        (meta.gmtoffset); the close's time is the bar's start plus the
 *        regular session's length (currentTradingPeriod.regular), or the
 *        market time for today's unfinished bar.
 *
 * The price is meta.regularMarketPrice at meta.regularMarketTime: the
 * market's price at the market's time. The close series is a fallback only
 * when meta has no price, and then the time is that bar's *start* (13:30
 * UTC for a US equity's day bar) and the quote says so (QTIME_BAR): a
 * future's last close can be hours and percent away from its market price.
 * The currency is meta.currency on every path, as Yahoo writes it ("GBp"
 * for pence, "USX" for US cents; validate.c converts minor units); an entry
 * without one is never priced on the asset's word: it goes to the chart,
 * and a chart without one fails. The flat v8 spark shape
 * ({"AAPL":{"symbol","timestamp","close",…}}, no meta) is read only where
 * an entry carries meta; otherwise its symbols go to the chart.
 */
#include "provider.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

/* Symbols per spark request: what public clients send and Yahoo accepts. */
#define YAHOO_SPARK_MAX 20

static int yh_batch(const struct config *c)
{
    (void)c;
    return YAHOO_SPARK_MAX;
}

static int yh_normalize(const char *in, char *out, size_t outlen)
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

static int yh_spark_url(const struct config *c, const char *const *symbols, size_t n, char *url,
                        size_t urllen)
{
    if (n == 0 || n > YAHOO_SPARK_MAX)
        return -1;
    int w = snprintf(url, urllen, "%s/v7/finance/spark?symbols=", c->yahoo_base_url);
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

static int yh_chart_url(const struct config *c, const char *const *symbols, size_t n, char *url,
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
static int yh_read_time(json_object *o, int64_t *out, struct quote *q)
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

static void yh_copy_str(json_object *obj, const char *key, char *out, size_t outlen)
{
    json_object *v = provider_get(obj, key);
    if (v && json_object_is_type(v, json_type_string))
        util_strlcpy(out, json_object_get_string(v), outlen);
}

static int64_t yh_int(json_object *obj, const char *key)
{
    json_object *v = provider_get(obj, key);
    if (v == NULL ||
        !(json_object_is_type(v, json_type_int) || json_object_is_type(v, json_type_double)))
        return 0;
    double d = json_object_get_double(v);
    return (d > -9.2e18 && d < 9.2e18) ? (int64_t)d : 0;
}

/* Where the listing trades: kept with the price for the market-hours work. */
static void yh_read_market(json_object *meta, struct quote_market *m)
{
    yh_copy_str(meta, "exchangeName", m->exchange, sizeof m->exchange);
    yh_copy_str(meta, "instrumentType", m->instrument_type, sizeof m->instrument_type);
    yh_copy_str(meta, "exchangeTimezoneName", m->timezone, sizeof m->timezone);
    json_object *reg = provider_get(provider_get(meta, "currentTradingPeriod"), "regular");
    m->session_start = yh_int(reg, "start");
    m->session_end = yh_int(reg, "end");
    int64_t off = yh_int(meta, "gmtoffset");
    m->gmtoffset = off > -86400 && off < 86400 ? (int32_t)off : 0;
}

/* The last non-null element of close[] and its index, or -1 when there is
 * none (empty, all null, or not an array). */
static long yh_last_close(json_object *close, json_object **val)
{
    if (close == NULL || !json_object_is_type(close, json_type_array))
        return -1;
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

/* Reads one chart-shaped result R (meta, timestamp[], indicators) into q.
 * Returns 1 when it decides the symbol (q says OK or why not), 0 when it
 * carries no usable price or no currency: the caller asks the chart, or
 * says so. */
static int yh_read_result(json_object *res, struct quote *q)
{
    char why[160];
    json_object *meta = provider_get(res, "meta");
    if (meta == NULL || !json_object_is_type(meta, json_type_object))
        return 0;
    yh_copy_str(meta, "currency", q->currency, sizeof q->currency);
    if (q->currency[0] == '\0')
        return 0;
    json_object *mp = provider_get(meta, "regularMarketPrice");
    if (mp != NULL && !json_object_is_type(mp, json_type_null)) {
        if (provider_number(mp, "price", &q->price, why, sizeof why) != 0) {
            q->kind = QUOTE_PERMANENT;
            snprintf(q->error, sizeof q->error, "%s", why);
            return 1;
        }
        if (yh_read_time(provider_get(meta, "regularMarketTime"), &q->price_time, q) != 0)
            return 1;
        q->time_basis = QTIME_MARKET;
    } else {
        /* No market price: the last bar's close, at that bar's start. */
        json_object *quotes = provider_get(provider_get(res, "indicators"), "quote");
        json_object *q0 = NULL;
        if (quotes && json_object_is_type(quotes, json_type_array) &&
            json_object_array_length(quotes) > 0)
            q0 = json_object_array_get_idx(quotes, 0);
        json_object *v = NULL;
        long k = yh_last_close(provider_get(q0, "close"), &v);
        if (k < 0)
            return 0;
        if (provider_number(v, "price", &q->price, why, sizeof why) != 0) {
            q->kind = QUOTE_PERMANENT;
            snprintf(q->error, sizeof q->error, "%s", why);
            return 1;
        }
        json_object *ts = provider_get(res, "timestamp");
        if (ts != NULL && json_object_is_type(ts, json_type_array) &&
            (size_t)k < json_object_array_length(ts) &&
            yh_read_time(json_object_array_get_idx(ts, (size_t)k), &q->price_time, q) != 0)
            return 1;
        q->time_basis = QTIME_BAR;
    }
    yh_read_market(meta, &q->market);
    q->kind = QUOTE_OK;
    return 1;
}

/* ---- spark -------------------------------------------------------------- */

/* The member of obj named sym; Yahoo echoes symbols as asked, but a
 * differently-cased echo is still the same symbol. */
static json_object *yh_member_nocase(json_object *obj, const char *sym)
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

/* The wrapped v7 shape: spark.result[] of {symbol, response:[R]}. */
static int yh_spark_wrapped(json_object *spark, const char *const *symbols, size_t n,
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
            if (resp && json_object_is_type(resp, json_type_array) &&
                json_object_array_length(resp) > 0)
                found[i] =
                    (unsigned char)yh_read_result(json_object_array_get_idx(resp, 0), &out[i]);
        }
    }
    return 0;
}

static int yh_spark_parse(json_object *root, const char *const *symbols, size_t n,
                          struct quote *out, unsigned char *found, char *err, size_t errlen)
{
    if (!json_object_is_type(root, json_type_object)) {
        snprintf(err, errlen, "answer is not a JSON object (unexpected shape)");
        return -1;
    }
    json_object *spark = provider_get(root, "spark");
    if (spark != NULL && json_object_is_type(spark, json_type_object))
        return yh_spark_wrapped(spark, symbols, n, out, found, err, errlen);
    /* The flat v8 shape: every member is a series without meta, so without
     * currency or market price; an entry is read only if it has meta, and
     * the others go to the chart. A body with members but not one series
     * among them is something else ({"data":[…]}, an error object). */
    int members = 0, series = 0;
    json_object_object_foreach(root, key, val)
    {
        (void)key;
        members++;
        if (json_object_is_type(val, json_type_object) &&
            (provider_get(val, "close") != NULL || provider_get(val, "timestamp") != NULL ||
             provider_get(val, "meta") != NULL))
            series++;
    }
    if (members > 0 && series == 0) {
        snprintf(err, errlen, "answer has no spark series (unexpected shape)");
        return -1;
    }
    for (size_t i = 0; i < n; i++) {
        json_object *entry = yh_member_nocase(root, symbols[i]);
        if (entry != NULL && json_object_is_type(entry, json_type_object))
            found[i] = (unsigned char)yh_read_result(entry, &out[i]);
    }
    return 0;
}

/* ---- chart -------------------------------------------------------------- */

static int yh_chart_parse(json_object *root, const char *const *symbols, size_t n,
                          struct quote *out, unsigned char *found, char *err, size_t errlen)
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
    json_object *res = json_object_array_get_idx(result, 0);
    json_object *meta = provider_get(res, "meta");
    if (meta == NULL) {
        snprintf(err, errlen, "chart.result[0] has no meta (unexpected shape)");
        return -1;
    }
    struct quote *q = &out[0];
    found[0] = 1;
    if (yh_read_result(res, q) == 0) {
        /* the last word on this symbol: say what was missing */
        q->kind = QUOTE_PERMANENT;
        snprintf(q->error, sizeof q->error, "%s",
                 q->currency[0] ? "chart answer has no price (no market price, no close)"
                                : "chart answer has no currency");
    }
    return 0;
}

/* ---- history ------------------------------------------------------------ */

static int yh_history_url(const struct config *c, const char *symbol, char *url, size_t urllen)
{
    char enc[128];
    if (util_urlencode(symbol, enc, sizeof enc) < 0)
        return -1;
    int w = snprintf(url, urllen, "%s/v8/finance/chart/%s?range=5y&interval=1d&events=div,split",
                     c->yahoo_base_url, enc);
    return (w < 0 || (size_t)w >= urllen) ? -1 : 0;
}

static int yh_history_parse(json_object *root, const char *symbol, struct history_series *out,
                            struct quote *q, char *err, size_t errlen)
{
    unsigned char found = 0;
    /* the chart's own checks: its error object, result[0], meta */
    if (yh_chart_parse(root, &symbol, 1, q, &found, err, errlen) != 0)
        return -1;
    if (!found) {
        q->kind = QUOTE_PERMANENT;
        snprintf(q->error, sizeof q->error, "no history for %.60s in the answer", symbol);
        return 0;
    }
    if (q->kind != QUOTE_OK && q->currency[0] == '\0')
        return 0; /* chart.error, or no currency: q says which */
    json_object *res =
        json_object_array_get_idx(provider_get(provider_get(root, "chart"), "result"), 0);
    json_object *meta = provider_get(res, "meta");
    util_strlcpy(out->currency, q->currency, sizeof out->currency);
    if (out->currency[0] == '\0') {
        q->kind = QUOTE_PERMANENT;
        snprintf(q->error, sizeof q->error, "history answer has no currency");
        return 0;
    }
    int64_t off = yh_int(meta, "gmtoffset");
    if (off <= -86400 || off >= 86400)
        off = 0;
    json_object *reg = provider_get(provider_get(meta, "currentTradingPeriod"), "regular");
    int64_t session = yh_int(reg, "end") - yh_int(reg, "start");
    if (session <= 0 || session >= 86400)
        session = 0;
    int64_t market_time = yh_int(meta, "regularMarketTime");
    json_object *ts = provider_get(res, "timestamp");
    json_object *quotes = provider_get(provider_get(res, "indicators"), "quote");
    json_object *close = NULL;
    if (quotes && json_object_is_type(quotes, json_type_array) &&
        json_object_array_length(quotes) > 0)
        close = provider_get(json_object_array_get_idx(quotes, 0), "close");
    size_t n = 0;
    if (ts != NULL && json_object_is_type(ts, json_type_array) && close != NULL &&
        json_object_is_type(close, json_type_array)) {
        n = json_object_array_length(ts);
        if (json_object_array_length(close) < n)
            n = json_object_array_length(close);
    }
    char why[160];
    for (size_t k = 0; k < n; k++) {
        json_object *v = json_object_array_get_idx(close, k);
        double c = 0, t = 0;
        if (v == NULL || json_object_is_type(v, json_type_null)) {
            out->nulls++;
            continue;
        }
        if (provider_number(v, "close", &c, why, sizeof why) != 0 || !(c > 0) ||
            provider_number(json_object_array_get_idx(ts, k), "time", &t, why, sizeof why) != 0 ||
            !(t > 0 && t < 9.2e18)) {
            out->nulls++; /* not a close we could store: never a zero */
            continue;
        }
        int64_t start = (int64_t)t;
        int64_t pt = start + session;
        if (market_time >= start && market_time < pt)
            pt = market_time;
        if (history_push(out, history_day(start, off), pt, c) != 0) {
            q->kind = QUOTE_TRANSIENT;
            snprintf(q->error, sizeof q->error, "out of memory reading the history");
            return 0;
        }
    }
    if (out->n == 0) {
        q->kind = QUOTE_PERMANENT;
        snprintf(q->error, sizeof q->error, "history answer has no closes (%zu null)", out->nulls);
        return 0;
    }
    q->kind = QUOTE_OK;
    q->error[0] = '\0';
    q->price = out->p[out->n - 1].close;
    q->price_time = out->p[out->n - 1].price_time;
    q->time_basis = QTIME_MARKET;
    return 0;
}

const struct provider provider_yahoo = {
    .name = "yahoo",
    .batch_size = yh_batch,
    .concurrency = 8,
    .normalize = yh_normalize,
    .build_url = yh_spark_url,
    .headers = NULL,
    .parse = yh_spark_parse,
    .fallback_url = yh_chart_url,
    .fallback_parse = yh_chart_parse,
    .history_url = yh_history_url,
    .history_parse = yh_history_parse,
};
