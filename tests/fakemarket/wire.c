/*
 * wire — see wire.h. Bodies are built with json-c so that whatever a client
 * puts in a symbol (quotes, backslashes, UTF-8) comes back correctly
 * escaped; numbers go through json_object_new_double_s() with the decimals
 * a real provider would print, because json-c's default "%.17g" turns
 * 189.84 into 189.84000000000001.
 */
#include "wire.h"

#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "prices.h"

#define FM_DAY_S 86400
#define JSON_TYPE "application/json"

/* What a content fault does to a timestamp (FUTURETS, OLDTS). */
static int64_t faulted_time(int64_t now, enum fm_fault f)
{
    if (f == FM_FAULT_FUTURETS)
        return now + FM_DAY_S;
    if (f == FM_FAULT_OLDTS)
        return now - 30 * FM_DAY_S;
    return now;
}

void fm_body_clear(struct fm_body *b)
{
    free(b->data);
    b->data = NULL;
    b->len = 0;
    b->status = 0;
    b->content_type = NULL;
}

static int body_copy(unsigned status, const char *ctype, const char *s, size_t n,
                     struct fm_body *out)
{
    char *d = malloc(n + 1);
    if (d == NULL)
        return -1;
    memcpy(d, s, n);
    d[n] = '\0';
    out->status = status;
    out->content_type = ctype;
    out->data = d;
    out->len = n;
    return 0;
}

/* Serialises root into out and drops the caller's reference to root. */
static int body_from_json(unsigned status, struct json_object *root, struct fm_body *out)
{
    int rc = -1;
    size_t n = 0;
    const char *s;
    if (root == NULL)
        goto out;
    s = json_object_to_json_string_length(
        root, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE, &n);
    if (s == NULL)
        goto out;
    rc = body_copy(status, JSON_TYPE, s, n, out);
out:
    json_object_put(root);
    return rc;
}

/* A number rounded to `decimals` and printed the way the providers' own
 * serialisers do, without trailing zeros (0.92, 794, 1.08696). NULL when
 * out of memory. */
static struct json_object *num(double v, int decimals)
{
    char buf[64];
    int n = snprintf(buf, sizeof buf, "%.*f", decimals, v);
    if (n > 0 && (size_t)n < sizeof buf && strchr(buf, '.') != NULL) {
        while (n > 0 && buf[n - 1] == '0')
            buf[--n] = '\0';
        if (n > 0 && buf[n - 1] == '.')
            buf[--n] = '\0';
    }
    return json_object_new_double_s(v, buf);
}

/* The price value an entry shows, after its content fault. Sets *is_null
 * when the JSON value is null (json-c represents null as NULL, so a NULL
 * return alone cannot tell null from out of memory). */
static struct json_object *price_value(double v, int decimals, enum fm_fault f, bool *is_null)
{
    *is_null = false;
    switch (f) {
    case FM_FAULT_NULLPRICE:
        *is_null = true;
        return NULL;
    case FM_FAULT_NEGPRICE:
        return json_object_new_double_s(-5.0, "-5.0");
    case FM_FAULT_ZEROPRICE:
        return json_object_new_double_s(0.0, "0");
    case FM_FAULT_NANPRICE:
        return json_object_new_string("NaN");
    default:
        return num(v, decimals);
    }
}

/* obj[key] = child, where child NULL is a JSON null only if is_null. */
static int put(struct json_object *obj, const char *key, struct json_object *child, bool is_null)
{
    if (child == NULL && !is_null)
        return -1;
    if (json_object_object_add(obj, key, child) != 0) {
        json_object_put(child);
        return -1;
    }
    return 0;
}

static int put_obj(struct json_object *obj, const char *key, struct json_object *child)
{
    return put(obj, key, child, false);
}

static int put_str(struct json_object *obj, const char *key, const char *s)
{
    return put(obj, key, json_object_new_string(s), false);
}

static int put_i64(struct json_object *obj, const char *key, int64_t v)
{
    return put(obj, key, json_object_new_int64(v), false);
}

static int put_null(struct json_object *obj, const char *key)
{
    return put(obj, key, NULL, true);
}

static int append(struct json_object *arr, struct json_object *child, bool is_null)
{
    if (child == NULL && !is_null)
        return -1;
    if (json_object_array_add(arr, child) != 0) {
        json_object_put(child);
        return -1;
    }
    return 0;
}

/* [v] — a one-element array, the shape Yahoo uses for series. */
static struct json_object *one(struct json_object *v, bool is_null)
{
    struct json_object *arr = json_object_new_array();
    if (arr == NULL) {
        json_object_put(v);
        return NULL;
    }
    if (append(arr, v, is_null) != 0) {
        json_object_put(arr);
        return NULL;
    }
    return arr;
}

struct stock_quote {
    double price;
    double prev_close;
    int64_t ts;
};

static void stock_quote(const char *symbol, enum fm_fault f, int64_t now, struct stock_quote *q)
{
    q->price = fm_price_round(fm_price_stock(symbol, now), 2);
    q->prev_close = fm_price_round(fm_price_stock(symbol, fm_price_day_start(now) - 1), 2);
    q->ts = faulted_time(now, f);
}

static struct json_object *chart_result(const struct fm_entry *e, int64_t now)
{
    struct stock_quote q;
    struct fm_listing l;
    bool is_null;
    struct json_object *res = json_object_new_object();
    struct json_object *meta = json_object_new_object();
    struct json_object *quote = json_object_new_object();
    struct json_object *indicators = json_object_new_object();
    struct json_object *quotes = NULL;
    stock_quote(e->name, e->fault, now, &q);
    fm_price_listing(e->name, &l);
    if (res == NULL || meta == NULL || quote == NULL || indicators == NULL)
        goto fail;
    /* Computed before put(): the order in which arguments are evaluated is
     * unspecified, so is_null must be set in a statement of its own. */
    struct json_object *mp = price_value(q.price, 2, e->fault, &is_null);
    if (put_str(meta, "currency", e->fault == FM_FAULT_WRONGCCY ? "JPY" : l.currency) != 0 ||
        put_str(meta, "symbol", e->name) != 0 || put_str(meta, "exchangeName", l.exchange) != 0 ||
        put_str(meta, "fullExchangeName", l.full_exchange) != 0 ||
        put_str(meta, "instrumentType", "EQUITY") != 0 ||
        put_i64(meta, "firstTradeDate", 345479400) != 0 ||
        put_i64(meta, "regularMarketTime", q.ts) != 0 ||
        put_i64(meta, "gmtoffset", l.gmtoffset) != 0 ||
        put_str(meta, "timezone", l.timezone) != 0 ||
        put_str(meta, "exchangeTimezoneName", l.tz_name) != 0) {
        json_object_put(mp);
        goto fail;
    }
    if (put(meta, "regularMarketPrice", mp, is_null) != 0 ||
        put_obj(meta, "chartPreviousClose", num(q.prev_close, 2)) != 0 ||
        put_obj(meta, "previousClose", num(q.prev_close, 2)) != 0 ||
        put_i64(meta, "scale", 3) != 0 || put_i64(meta, "priceHint", 2) != 0 ||
        put_str(meta, "dataGranularity", "1d") != 0 || put_str(meta, "range", "1d") != 0)
        goto fail;
    struct json_object *pv = price_value(q.price, 2, e->fault, &is_null);
    if (put_obj(quote, "close", one(pv, is_null)) != 0)
        goto fail;
    quotes = json_object_new_array();
    if (quotes == NULL)
        goto fail;
    int rc = append(quotes, quote, false);
    quote = NULL;
    if (rc != 0)
        goto fail;
    rc = put_obj(indicators, "quote", quotes);
    quotes = NULL;
    if (rc != 0)
        goto fail;
    rc = put_obj(res, "meta", meta);
    meta = NULL;
    if (rc != 0 || put_obj(res, "timestamp", one(json_object_new_int64(q.ts), false)) != 0)
        goto fail;
    rc = put_obj(res, "indicators", indicators);
    indicators = NULL;
    if (rc != 0)
        goto fail;
    return res;
fail:
    json_object_put(quotes);
    json_object_put(indicators);
    json_object_put(quote);
    json_object_put(meta);
    json_object_put(res);
    return NULL;
}

static const char chart_not_found[] =
    "{\"chart\":{\"result\":null,\"error\":{\"code\":\"Not Found\","
    "\"description\":\"No data found, symbol may be delisted\"}}}";

int fm_wire_chart(const struct fm_entry *symbol, int64_t now, struct fm_body *out)
{
    if (fm_fault_is_absent(symbol->fault))
        return body_copy(404, JSON_TYPE, chart_not_found, sizeof chart_not_found - 1, out);
    struct json_object *root = json_object_new_object();
    struct json_object *chart = json_object_new_object();
    struct json_object *results = json_object_new_array();
    if (root == NULL || chart == NULL || results == NULL)
        goto fail;
    if (append(results, chart_result(symbol, now), false) != 0)
        goto fail;
    int rc = put_obj(chart, "result", results);
    results = NULL;
    if (rc != 0 || put_null(chart, "error") != 0)
        goto fail;
    rc = put_obj(root, "chart", chart);
    chart = NULL;
    if (rc != 0)
        goto fail;
    return body_from_json(200, root, out);
fail:
    json_object_put(results);
    json_object_put(chart);
    json_object_put(root);
    return -1;
}

static struct json_object *spark_entry(const struct fm_entry *e, int64_t now)
{
    struct stock_quote q;
    bool is_null;
    struct json_object *o = json_object_new_object();
    if (o == NULL)
        return NULL;
    stock_quote(e->name, e->fault, now, &q);
    struct json_object *pv = price_value(q.price, 2, e->fault, &is_null);
    if (put_str(o, "symbol", e->name) != 0 ||
        put_obj(o, "timestamp", one(json_object_new_int64(q.ts), false)) != 0 ||
        put_obj(o, "close", one(pv, is_null)) != 0 || put_null(o, "previousClose") != 0 ||
        put_obj(o, "chartPreviousClose", num(q.prev_close, 2)) != 0 ||
        put_i64(o, "dataGranularity", 300) != 0 || put_null(o, "end") != 0 ||
        put_null(o, "start") != 0) {
        json_object_put(o);
        return NULL;
    }
    return o;
}

static const char spark_not_found[] =
    "{\"spark\":{\"result\":null,\"error\":{\"code\":\"Not Found\","
    "\"description\":\"No data found for spark symbols\"}}}";

int fm_wire_spark(const struct fm_entry *e, size_t n, int64_t now, struct fm_body *out)
{
    size_t present = 0;
    struct json_object *root = json_object_new_object();
    if (root == NULL)
        return -1;
    for (size_t i = 0; i < n; i++) {
        if (fm_fault_is_absent(e[i].fault))
            continue;
        /* A repeated symbol is one member, as in a JSON object it must be. */
        if (json_object_object_get_ex(root, e[i].name, NULL))
            continue;
        if (put_obj(root, e[i].name, spark_entry(&e[i], now)) != 0) {
            json_object_put(root);
            return -1;
        }
        present++;
    }
    if (present == 0) {
        json_object_put(root);
        return body_copy(404, JSON_TYPE, spark_not_found, sizeof spark_not_found - 1, out);
    }
    return body_from_json(200, root, out);
}

static int lower_into(char *dst, size_t dstlen, const char *src)
{
    size_t i = 0;
    for (; src[i] && i + 1 < dstlen; i++)
        dst[i] = (char)((src[i] >= 'A' && src[i] <= 'Z') ? src[i] - 'A' + 'a' : src[i]);
    dst[i] = '\0';
    return src[i] == '\0' ? 0 : -1;
}

static int coin_add_vs(struct json_object *coin, const char *vs, double usd_price, enum fm_fault f)
{
    double per_usd;
    char key[16];
    if (lower_into(key, sizeof key, vs) != 0 || fm_fx_per_usd(vs, &per_usd) != 0)
        return 0; /* CoinGecko leaves out vs currencies it does not know */
    if (json_object_object_get_ex(coin, key, NULL))
        return 0;
    double v = usd_price * per_usd;
    bool is_null;
    struct json_object *pv = price_value(v, fm_price_crypto_decimals(v), f, &is_null);
    return put(coin, key, pv, is_null);
}

static struct json_object *coin_entry(const struct fm_entry *e, const char *const *vs, size_t n_vs,
                                      bool with_ts, int64_t now)
{
    struct json_object *coin = json_object_new_object();
    if (coin == NULL)
        return NULL;
    double usd = fm_price_crypto(e->name, now);
    if (e->fault == FM_FAULT_WRONGCCY) {
        /* The answer is labelled in a currency nobody asked for. */
        if (coin_add_vs(coin, "jpy", usd, FM_FAULT_NONE) != 0)
            goto fail;
    } else {
        for (size_t i = 0; i < n_vs; i++)
            if (coin_add_vs(coin, vs[i], usd, e->fault) != 0)
                goto fail;
    }
    if (with_ts && put_i64(coin, "last_updated_at", faulted_time(now, e->fault)) != 0)
        goto fail;
    return coin;
fail:
    json_object_put(coin);
    return NULL;
}

int fm_wire_simple_price(const struct fm_entry *ids, size_t n, const char *const *vs, size_t n_vs,
                         bool with_ts, int64_t now, struct fm_body *out)
{
    struct json_object *root = json_object_new_object();
    if (root == NULL)
        return -1;
    for (size_t i = 0; i < n; i++) {
        if (fm_fault_is_absent(ids[i].fault) || json_object_object_get_ex(root, ids[i].name, NULL))
            continue;
        if (put_obj(root, ids[i].name, coin_entry(&ids[i], vs, n_vs, with_ts, now)) != 0) {
            json_object_put(root);
            return -1;
        }
    }
    return body_from_json(200, root, out);
}

static const char fx_not_found[] = "{\"message\":\"not found\"}";

static const char *const fx_default_targets[] = {"USD", "EUR", "GBP", "CHF", "JPY", "CAD"};

static void upper_code(char dst[4], const char *src)
{
    for (int i = 0; i < 3; i++)
        dst[i] = (char)((src[i] >= 'a' && src[i] <= 'z') ? src[i] - 'a' + 'A' : src[i]);
    dst[3] = '\0';
}

static int fx_add_rate(struct json_object *rates, const char *base, const char *to, enum fm_fault f)
{
    char key[4];
    double rate;
    if (fm_fx_rate(base, to, &rate) != 0)
        return -1;
    upper_code(key, to);
    if (util_streq_nocase(base, to) || json_object_object_get_ex(rates, key, NULL))
        return 0;
    /* Frankfurter prints about five significant digits; six keeps cross
     * rates consistent to well under a basis point. */
    int d = fm_price_sig_decimals(rate, 6);
    bool is_null;
    struct json_object *pv = price_value(fm_price_round(rate, d), d, f, &is_null);
    return put(rates, key, pv, is_null);
}

static void fmt_date(int64_t t, char buf[32])
{
    time_t secs = (time_t)t;
    struct tm tm;
    gmtime_r(&secs, &tm);
    snprintf(buf, 32, "%04d-%02d-%02d", (tm.tm_year + 1900) % 10000, tm.tm_mon + 1, tm.tm_mday);
}

int fm_wire_fx_latest(const char *base, const char *const *to, size_t n_to, enum fm_fault f,
                      int64_t now, struct fm_body *out)
{
    double unused;
    char base_code[4];
    char date[32];
    if (base == NULL)
        base = "EUR";
    if (f == FM_FAULT_NOSUCH || strlen(base) != 3 || fm_fx_per_usd(base, &unused) != 0)
        return body_copy(404, JSON_TYPE, fx_not_found, sizeof fx_not_found - 1, out);
    for (size_t i = 0; i < n_to; i++)
        if (strlen(to[i]) != 3 || fm_fx_per_usd(to[i], &unused) != 0)
            return body_copy(404, JSON_TYPE, fx_not_found, sizeof fx_not_found - 1, out);
    if (n_to == 0) {
        to = fx_default_targets;
        n_to = ARRAY_LEN(fx_default_targets);
    }
    upper_code(base_code, base);
    fmt_date(faulted_time(now, f), date);
    struct json_object *root = json_object_new_object();
    struct json_object *rates = json_object_new_object();
    if (root == NULL || rates == NULL)
        goto fail;
    if (put_obj(root, "amount", json_object_new_double_s(1.0, "1.0")) != 0 ||
        put_str(root, "base", f == FM_FAULT_WRONGCCY ? "JPY" : base_code) != 0 ||
        put_str(root, "date", date) != 0)
        goto fail;
    for (size_t i = 0; i < n_to && f != FM_FAULT_MISSING; i++)
        if (fx_add_rate(rates, base, to[i], f) != 0)
            goto fail;
    int rc = put_obj(root, "rates", rates);
    rates = NULL;
    if (rc != 0)
        goto fail;
    return body_from_json(200, root, out);
fail:
    json_object_put(rates);
    json_object_put(root);
    return -1;
}

int fm_wire_empty(enum fm_endpoint ep, struct fm_body *out)
{
    static const char chart_empty[] = "{\"chart\":{\"result\":[],\"error\":null}}";
    if (ep == FM_EP_CHART)
        return body_copy(200, JSON_TYPE, chart_empty, sizeof chart_empty - 1, out);
    return body_copy(200, JSON_TYPE, "{}", 2, out);
}

int fm_wire_bad_json(enum fm_endpoint ep, struct fm_body *out)
{
    static const char *const broken[] = {
        [FM_EP_CHART] = "{\"chart\": {\"result\": [",
        [FM_EP_SPARK] = "{\"AAPL\": {\"symbol\": \"AAPL\", \"close\": [",
        [FM_EP_SIMPLE_PRICE] = "{\"bitcoin\": {\"usd\": ",
        [FM_EP_FX] = "{\"amount\": 1.0, \"base\": \"EUR\", \"rates\": {\"USD\": ",
    };
    static const char garbage[] = "<<garbage \x01 not json>>]}}\n";
    char buf[256];
    if ((unsigned)ep >= ARRAY_LEN(broken))
        ep = FM_EP_CHART;
    int n = snprintf(buf, sizeof buf, "%s%s", broken[ep], garbage);
    return body_copy(200, JSON_TYPE, buf, (size_t)n, out);
}

int fm_wire_error(unsigned status, const char *message, struct fm_body *out)
{
    struct json_object *root = json_object_new_object();
    if (root == NULL || put_str(root, "error", message) != 0) {
        json_object_put(root);
        return -1;
    }
    return body_from_json(status, root, out);
}

int fm_wire_pad(struct fm_body *b, size_t size)
{
    static const char head[] = "{\"padding\":[";
    size_t hl = sizeof head - 1;
    if (b->data == NULL || b->len < 2 || b->data[0] != '{')
        return -1;
    bool empty = b->len == 2;                       /* "{}" has no member to put a comma before */
    size_t rest = b->len - 1;                       /* the body without its '{' */
    size_t fixed = hl + 1 + (empty ? 0 : 1) + rest; /* head, ']', ',', rest */
    if (size < fixed + 1)
        return -1;
    /* k zeros take 2k-1 bytes; one space after '[' absorbs an odd remainder. */
    size_t room = size - fixed;
    size_t space = (room % 2 == 0) ? 1 : 0;
    size_t zeros = (room - space + 1) / 2;
    char *d = malloc(size + 1);
    if (d == NULL)
        return -1;
    char *p = d;
    memcpy(p, head, hl);
    p += hl;
    if (space)
        *p++ = ' ';
    for (size_t i = 0; i < zeros; i++) {
        if (i > 0)
            *p++ = ',';
        *p++ = '0';
    }
    *p++ = ']';
    if (!empty)
        *p++ = ',';
    memcpy(p, b->data + 1, rest);
    p += rest;
    *p = '\0';
    free(b->data);
    b->data = d;
    b->len = (size_t)(p - d);
    return 0;
}
