/*
 * wire — see wire.h. Bodies are built with json-c so that whatever a client
 * puts in a symbol (quotes, backslashes, UTF-8) comes back correctly
 * escaped; numbers go through json_object_new_double_s() with the decimals
 * a real provider would print, because json-c's default "%.17g" turns
 * 189.84 into 189.84000000000001.
 */
#include "wire.h"

#include <json-c/json.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "prices.h"

#define FM_DAY_S 86400
/* As Yahoo sends it (yahoo2_fixture_chart-AAPL.json's headers). */
#define JSON_TYPE "application/json;charset=utf-8"

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

/* ---- Yahoo: day bars ------------------------------------------------ */

/* Ten years of weekdays: the longest window fakemarket serves ("max" and
 * period1/period2 are clipped to it), so a body stays under ~200 KiB. */
#define FM_MAX_BARS 2700

/* One symbol's series of day bars, oldest first. close/open/high/low are
 * in the listing's quoted units; has[i] false means Yahoo's null bar (no
 * trade in it: every quote field null at that index). */
struct series {
    struct fm_listing l;
    size_t n;
    int64_t ts[FM_MAX_BARS + 1];
    double close[FM_MAX_BARS + 1];
    double open[FM_MAX_BARS + 1];
    bool has[FM_MAX_BARS + 1];
    double prev_close;   /* meta.chartPreviousClose */
    double price;        /* meta.regularMarketPrice */
    int64_t market_time; /* meta.regularMarketTime */
    int64_t session;     /* start of the latest session (currentTradingPeriod) */
    bool live_close;     /* close[n-1] is the current price (not a future) */
};

/* Rounded the way the listing is quoted: 6 significant digits for a
 * currency pair, else 2 decimals. */
static double quote_round(const struct fm_listing *l, double v)
{
    if (l->kind == FM_KIND_CURRENCY)
        return fm_price_round(v, fm_price_sig_decimals(v, 6));
    return fm_price_round(v, 2);
}

static int quote_decimals(const struct fm_listing *l, double v)
{
    return l->kind == FM_KIND_CURRENCY ? fm_price_sig_decimals(v, 6) : 2;
}

/* Seconds 0..3599 drawn from symbol and day. Prices repeat every hour
 * (prices.h), so two bars sampled at the same time of day would carry
 * the same price; sampling each day at its own second of the hour gives
 * a history that moves from day to day, still deterministic. */
static int64_t day_jitter(const char *sym, int64_t bar, uint64_t salt)
{
    uint64_t day = (uint64_t)(bar / FM_DAY_S);
    return (int64_t)((fm_price_hash(sym) ^ (day * 0x9E3779B97F4A7C15ULL) ^ salt) % 3600u);
}

/* The close of the day bar starting at `bar`. A finished bar closes near
 * the session's end. The current bar of an equity or pair closes at the
 * current price. A future's bar carries a price from the bar's start:
 * real answers do this (yahoo_chart_v8_GC=F_future_2020-01-02.json's only
 * bar closes at 1524.5 while meta says 2952.5; a CL=F answer quoted in a
 * client's test: close 100.3, regularMarketPrice 96.08), so a client that
 * reads the last close of a future stores a wrong price. It is nudged by
 * one hundredth when it happens to equal the current price, so the trap
 * never vanishes by chance. */
static double bar_close(const char *sym, const struct fm_listing *l, int64_t bar, int64_t latest,
                        int64_t now)
{
    if (l->kind == FM_KIND_FUTURE) {
        double c = fm_price_quote(sym, bar + day_jitter(sym, bar, 1));
        if (bar == latest && c == fm_price_quote(sym, now))
            c = fm_price_round(c + 0.01, 2);
        return c;
    }
    if (bar == latest)
        return fm_price_quote(sym, now);
    return fm_price_quote(sym, bar + l->session_len - day_jitter(sym, bar, 1));
}

/* Whether bar i of n is a null bar. Real series have them (a client's test
 * of a live ZC=F answer: close [528.25, 523, 522, null, 501.25]; another's
 * KC=F history: [102.65, null, 119.55]); here about one day in 17 from a
 * hash, and at least one per series of two or more bars so every client
 * meets one. Never the last bar: that one belongs to the NULLCLOSE fault. */
static bool bar_is_null(const char *sym, int64_t bar, size_t i, size_t n, bool any_yet)
{
    if (n < 2 || i + 1 == n)
        return false;
    if ((fm_price_hash(sym) ^ (uint64_t)(bar / FM_DAY_S)) % 17 == 0)
        return true;
    return i + 2 == n && !any_yet;
}

/* Fills s with the bars whose start lies in [from, to] (clipped to the
 * latest bar and to FM_MAX_BARS, newest kept), or, when from is 0, the
 * latest bar and the one before it: range=1d, for which Yahoo sends
 * today's bar; yesterday's rides along as the series' null bar. */
static void series_fill(struct series *s, const char *sym, int64_t from, int64_t to, int64_t now)
{
    fm_price_listing(sym, &s->l);
    int64_t latest = fm_price_bar_start(&s->l, now);
    s->n = 0;
    s->session = latest;
    s->market_time = now;
    s->price = fm_price_quote(sym, now);
    s->live_close = s->l.kind != FM_KIND_FUTURE;
    if (from == 0) {
        s->ts[0] = fm_price_prev_bar(&s->l, latest);
        s->ts[1] = latest;
        s->n = 2;
    } else {
        /* Newest first into the tail of ts, then moved to the front. */
        int64_t b = fm_price_bar_start(&s->l, to < now ? to : now);
        size_t k = FM_MAX_BARS;
        while (b >= from && k > 0) {
            s->ts[--k] = b;
            b = fm_price_prev_bar(&s->l, b);
        }
        s->n = FM_MAX_BARS - k;
        memmove(s->ts, s->ts + k, s->n * sizeof s->ts[0]);
    }
    int64_t before = s->n > 0 ? fm_price_prev_bar(&s->l, s->ts[s->n == 2 && from == 0 ? 1 : 0])
                              : fm_price_prev_bar(&s->l, latest);
    s->prev_close = bar_close(sym, &s->l, before, latest, now);
    bool any_null = false;
    for (size_t i = 0; i < s->n; i++) {
        s->has[i] = !bar_is_null(sym, s->ts[i], i, s->n, any_null);
        any_null = any_null || !s->has[i];
        s->close[i] = bar_close(sym, &s->l, s->ts[i], latest, now);
        s->open[i] = fm_price_quote(sym, s->ts[i] + day_jitter(sym, s->ts[i], 2));
    }
}

static struct series *series_new(const char *sym, int64_t from, int64_t to, int64_t now)
{
    struct series *s = malloc(sizeof *s);
    if (s != NULL)
        series_fill(s, sym, from, to, now);
    return s;
}

/* What the last bar's close shows under the entry's fault: NULLCLOSE
 * nulls it (meta keeps its price), the price faults replace it as they
 * replace regularMarketPrice. */
static struct json_object *last_close_value(const struct series *s, double v, enum fm_fault f,
                                            bool *is_null)
{
    if (f == FM_FAULT_NULLCLOSE) {
        *is_null = true;
        return NULL;
    }
    return price_value(v, quote_decimals(&s->l, v), f, is_null);
}

enum series_field { SF_CLOSE, SF_OPEN, SF_HIGH, SF_LOW, SF_VOLUME };

/* One quote field as a JSON array: null for null bars, and for the last
 * bar under NULLCLOSE (a bar without a trade has no field at all). */
static struct json_object *series_array(const struct series *s, const char *sym,
                                        enum series_field fld, enum fm_fault f)
{
    struct json_object *arr = json_object_new_array();
    if (arr == NULL)
        return NULL;
    for (size_t i = 0; i < s->n; i++) {
        bool last = i + 1 == s->n;
        bool is_null = !s->has[i] || (last && f == FM_FAULT_NULLCLOSE);
        struct json_object *v = NULL;
        double c = s->close[i], o = s->open[i];
        if (!is_null) {
            switch (fld) {
            case SF_CLOSE:
                v = last ? last_close_value(s, c, f, &is_null) : num(c, quote_decimals(&s->l, c));
                break;
            case SF_OPEN:
                v = num(o, quote_decimals(&s->l, o));
                break;
            case SF_HIGH:
                v = num(quote_round(&s->l, (c > o ? c : o) * 1.004), quote_decimals(&s->l, c));
                break;
            case SF_LOW:
                v = num(quote_round(&s->l, (c < o ? c : o) * 0.996), quote_decimals(&s->l, c));
                break;
            case SF_VOLUME:
                /* Currency pairs trade no volume on Yahoo (EURUSD=X: 0). */
                v = json_object_new_int64(
                    s->l.kind == FM_KIND_CURRENCY
                        ? 0
                        : (int64_t)((fm_price_hash(sym) ^ (uint64_t)s->ts[i]) % 5000000u) + 1000);
                break;
            }
        }
        if (append(arr, v, is_null) != 0) {
            json_object_put(arr);
            return NULL;
        }
    }
    return arr;
}

static struct json_object *i64_array(const int64_t *v, size_t n)
{
    struct json_object *arr = json_object_new_array();
    for (size_t i = 0; arr != NULL && i < n; i++) {
        if (append(arr, json_object_new_int64(v[i]), false) != 0) {
            json_object_put(arr);
            return NULL;
        }
    }
    return arr;
}

static const char *const valid_ranges[] = {"1d", "5d", "1mo", "3mo", "6mo", "1y",
                                           "2y", "5y", "10y", "ytd", "max"};

static struct json_object *period(const struct series *s, int64_t start, int64_t end)
{
    struct json_object *p = json_object_new_object();
    if (p == NULL || put_str(p, "timezone", s->l.timezone) != 0 ||
        put_i64(p, "start", start) != 0 || put_i64(p, "end", end) != 0 ||
        put_i64(p, "gmtoffset", s->l.gmtoffset) != 0) {
        json_object_put(p);
        return NULL;
    }
    return p;
}

/* currentTradingPeriod of the latest session, keys in the order of
 * yahoo_spark_v7_TSLA.json (timezone, start, end, gmtoffset). */
static struct json_object *trading_period(const struct series *s)
{
    int64_t open = s->session, close = s->session + s->l.session_len;
    struct json_object *tp = json_object_new_object();
    if (tp == NULL || put_obj(tp, "pre", period(s, open - s->l.pre_len, open)) != 0 ||
        put_obj(tp, "regular", period(s, open, close)) != 0 ||
        put_obj(tp, "post", period(s, close, close + s->l.post_len)) != 0) {
        json_object_put(tp);
        return NULL;
    }
    return tp;
}

static const char *kind_name(enum fm_kind k)
{
    return k == FM_KIND_FUTURE ? "FUTURE" : k == FM_KIND_CURRENCY ? "CURRENCY" : "EQUITY";
}

/* Yahoo's firstTradeDate: AAPL's for equities (yahoo2_fixture_chart-AAPL),
 * GC=F's for futures, EURUSD=X's for pairs; it only has to be plausible. */
static int64_t first_trade(enum fm_kind k)
{
    return k == FM_KIND_FUTURE ? 967608000 : k == FM_KIND_CURRENCY ? 1070236800 : 345479400;
}

/* The day's high, low and volume for meta, from the latest bar. */
struct day_figures {
    double high, low;
    int64_t volume;
};

/*
 * meta. chart = true: the v8 chart's keys, in the order of
 * yahoo2_fixture_chart-AAPL.json (futures without longName, as in
 * yahoo_chart_v8_GC=F_future_2020-01-02.json); false: the v7 spark's, in
 * the order of yahoo_spark_v7_TSLA.json. range "" for period1/period2
 * windows, as the chart recordings show.
 */
static struct json_object *meta_object(const struct series *s, const struct fm_entry *e, bool chart,
                                       const char *range)
{
    bool is_null;
    struct json_object *m = json_object_new_object();
    if (m == NULL)
        return NULL;
    const struct fm_listing *l = &s->l;
    double p = s->price;
    int d = quote_decimals(l, p);
    int64_t mt = faulted_time(s->market_time, e->fault);
    if (put_str(m, "currency", e->fault == FM_FAULT_WRONGCCY ? "JPY" : l->currency) != 0 ||
        put_str(m, "symbol", e->name) != 0 || put_str(m, "exchangeName", l->exchange) != 0 ||
        (chart && put_str(m, "fullExchangeName", l->full_exchange) != 0) ||
        put_str(m, "instrumentType", kind_name(l->kind)) != 0 ||
        put_i64(m, "firstTradeDate", first_trade(l->kind)) != 0 ||
        put_i64(m, "regularMarketTime", mt) != 0 ||
        (chart &&
         put(m, "hasPrePostMarketData", json_object_new_boolean(l->pre_post), false) != 0) ||
        put_i64(m, "gmtoffset", l->gmtoffset) != 0 || put_str(m, "timezone", l->timezone) != 0 ||
        put_str(m, "exchangeTimezoneName", l->tz_name) != 0)
        goto fail;
    struct json_object *mp = price_value(p, d, e->fault, &is_null);
    if (put(m, "regularMarketPrice", mp, is_null) != 0)
        goto fail;
    if (chart) {
        /* Today's figures whatever the window: meta is always "now"
         * (yahoo_chart_v8_GC=F_future_2020-01-02.json asks for 2020 and
         * gets 2025's meta). */
        double o = fm_price_quote(e->name, s->session + day_jitter(e->name, s->session, 2));
        double hi = p > o ? p : o;
        double lo = p < o ? p : o;
        int64_t vol =
            l->kind == FM_KIND_CURRENCY ? 0 : (int64_t)(fm_price_hash(e->name) % 30000000u);
        if (put_obj(m, "fiftyTwoWeekHigh", num(quote_round(l, p * 1.25), d)) != 0 ||
            put_obj(m, "fiftyTwoWeekLow", num(quote_round(l, p * 0.75), d)) != 0 ||
            put_obj(m, "regularMarketDayHigh", num(quote_round(l, hi), d)) != 0 ||
            put_obj(m, "regularMarketDayLow", num(quote_round(l, lo), d)) != 0 ||
            put_i64(m, "regularMarketVolume", vol) != 0 ||
            (l->kind != FM_KIND_FUTURE && put_str(m, "longName", e->name) != 0) ||
            put_str(m, "shortName", e->name) != 0)
            goto fail;
    }
    struct json_object *vr = json_object_new_array();
    for (size_t i = 0; vr != NULL && i < ARRAY_LEN(valid_ranges); i++)
        if (append(vr, json_object_new_string(valid_ranges[i]), false) != 0) {
            json_object_put(vr);
            vr = NULL;
        }
    if (put_obj(m, "chartPreviousClose", num(s->prev_close, quote_decimals(l, s->prev_close))) !=
            0 ||
        put_i64(m, "priceHint", l->price_hint) != 0 ||
        put_obj(m, "currentTradingPeriod", trading_period(s)) != 0 ||
        put_str(m, "dataGranularity", "1d") != 0 || put_str(m, "range", range) != 0 ||
        put_obj(m, "validRanges", vr) != 0)
        goto fail;
    return m;
fail:
    json_object_put(m);
    return NULL;
}

/* {"quote":[{...}]} (plus adjclose for the chart): the v7 spark has close
 * only (yahoo_spark_v7_TSLA.json); the chart has high, volume, low, open,
 * close in the order of yahoo2_fixture_chart-AAPL.json, and adjclose
 * (equal to close: fakemarket pays no dividends). */
static struct json_object *indicators(const struct series *s, const struct fm_entry *e, bool chart)
{
    struct json_object *ind = json_object_new_object();
    struct json_object *q = json_object_new_object();
    struct json_object *qa = NULL, *adj = NULL, *adja = NULL;
    if (ind == NULL || q == NULL)
        goto fail;
    if (chart && (put_obj(q, "high", series_array(s, e->name, SF_HIGH, e->fault)) != 0 ||
                  put_obj(q, "volume", series_array(s, e->name, SF_VOLUME, e->fault)) != 0 ||
                  put_obj(q, "low", series_array(s, e->name, SF_LOW, e->fault)) != 0 ||
                  put_obj(q, "open", series_array(s, e->name, SF_OPEN, e->fault)) != 0))
        goto fail;
    if (put_obj(q, "close", series_array(s, e->name, SF_CLOSE, e->fault)) != 0)
        goto fail;
    qa = json_object_new_array();
    if (qa == NULL)
        goto fail;
    int rc = append(qa, q, false);
    q = NULL;
    if (rc != 0)
        goto fail;
    rc = put_obj(ind, "quote", qa);
    qa = NULL;
    if (rc != 0)
        goto fail;
    if (chart) {
        adj = json_object_new_object();
        adja = json_object_new_array();
        if (adj == NULL || adja == NULL ||
            put_obj(adj, "adjclose", series_array(s, e->name, SF_CLOSE, e->fault)) != 0)
            goto fail;
        rc = append(adja, adj, false);
        adj = NULL;
        if (rc != 0)
            goto fail;
        rc = put_obj(ind, "adjclose", adja);
        adja = NULL;
        if (rc != 0)
            goto fail;
    }
    return ind;
fail:
    json_object_put(adja);
    json_object_put(adj);
    json_object_put(qa);
    json_object_put(q);
    json_object_put(ind);
    return NULL;
}

/* The spark endpoints show a live point after the day bar: the TSLA v7
 * recording's timestamps are [session open, regularMarketTime] with the
 * current price twice, and the flat v8 recording ends on 20:00:03, the
 * last trade. Futures get no live point: their series stays on bar
 * starts, so its last close is not the current price. */
static void spark_points(struct series *s, enum fm_fault f)
{
    if (!s->live_close || s->n != 2)
        return;
    s->ts[0] = s->ts[1];
    s->close[0] = s->close[1];
    s->open[0] = s->open[1];
    s->ts[1] = faulted_time(s->market_time, f);
    s->close[1] = s->price;
}

/* {"meta":…,"timestamp":[…],"indicators":…}: one chart result or one v7
 * spark response. */
static struct json_object *result_object(const struct fm_entry *e, const struct fm_window *w,
                                         bool chart, int64_t now)
{
    int64_t from = 0, to = now;
    const char *range = "1d";
    if (w != NULL && w->range == NULL) {
        from = w->period1;
        to = w->period2 - 1;
        range = "";
    } else if (w != NULL && strcmp(w->range, "1d") != 0) {
        from = now - w->days * FM_DAY_S;
        range = w->range;
    }
    struct series *s = series_new(e->name, from, to, now);
    struct json_object *res = json_object_new_object();
    if (s == NULL || res == NULL)
        goto fail;
    if (!chart)
        spark_points(s, e->fault);
    if (put_obj(res, "meta", meta_object(s, e, chart, range)) != 0)
        goto fail;
    /* A window without bars has no "timestamp" at all and an empty quote
     * (yahoo_chart_v8_AAPL_1m_weekend_no_bars.json). */
    if (s->n == 0) {
        struct json_object *ind = json_object_new_object();
        struct json_object *qa = json_object_new_array();
        if (ind == NULL || qa == NULL || append(qa, json_object_new_object(), false) != 0 ||
            put_obj(ind, "quote", qa) != 0) {
            json_object_put(qa);
            json_object_put(ind);
            goto fail;
        }
        if (put_obj(res, "indicators", ind) != 0)
            goto fail;
    } else if (put_obj(res, "timestamp", i64_array(s->ts, s->n)) != 0 ||
               put_obj(res, "indicators", indicators(s, e, chart)) != 0)
        goto fail;
    free(s);
    return res;
fail:
    free(s);
    json_object_put(res);
    return NULL;
}

/* yahoo_chart_v8_404_unknown_symbol.json, byte for byte. */
static const char chart_not_found[] =
    "{\"chart\":{\"result\":null,\"error\":{\"code\":\"Not Found\","
    "\"description\":\"No data found, symbol may be delisted\"}}}";

int fm_wire_window(const char *range, const char *period1, const char *period2, int64_t now,
                   struct fm_window *out)
{
    static const struct {
        const char *name;
        int64_t days;
    } ranges[] = {{"1d", 1},   {"5d", 7},    {"1mo", 31},   {"3mo", 92}, {"6mo", 183}, {"1y", 366},
                  {"2y", 731}, {"5y", 1827}, {"10y", 3653}, {"ytd", 0},  {"max", 3653}};
    *out = (struct fm_window){0};
    if (period1 != NULL || period2 != NULL) {
        int64_t p1 = 0, p2 = now;
        if ((period1 != NULL && util_parse_i64(period1, 0, INT32_MAX, &p1) != 0) ||
            (period2 != NULL && util_parse_i64(period2, 0, INT32_MAX, &p2) != 0) || p2 <= p1)
            return -1;
        out->period1 = p1;
        out->period2 = p2;
        return 0;
    }
    if (range == NULL)
        range = "1d";
    for (size_t i = 0; i < ARRAY_LEN(ranges); i++) {
        if (strcmp(range, ranges[i].name) != 0)
            continue;
        out->range = ranges[i].name;
        out->days = ranges[i].days;
        if (out->days == 0) {
            time_t secs = (time_t)now;
            struct tm tm;
            gmtime_r(&secs, &tm);
            out->days = tm.tm_yday + 1;
        }
        return 0;
    }
    return -1;
}

/* Not recorded: what Yahoo answers to a range it does not know. Shaped
 * like its other chart errors. */
static const char chart_bad_range[] =
    "{\"chart\":{\"result\":null,\"error\":{\"code\":\"Bad Request\","
    "\"description\":\"Invalid input - range or period1/period2\"}}}";

int fm_wire_chart_bad_window(struct fm_body *out)
{
    return body_copy(400, JSON_TYPE, chart_bad_range, sizeof chart_bad_range - 1, out);
}

int fm_wire_chart(const struct fm_entry *symbol, const struct fm_window *w, int64_t now,
                  struct fm_body *out)
{
    if (fm_fault_is_absent(symbol->fault))
        return body_copy(404, JSON_TYPE, chart_not_found, sizeof chart_not_found - 1, out);
    struct json_object *root = json_object_new_object();
    struct json_object *chart = json_object_new_object();
    struct json_object *results = json_object_new_array();
    if (root == NULL || chart == NULL || results == NULL)
        goto fail;
    if (append(results, result_object(symbol, w, true, now), false) != 0)
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

/* One member of the flat v8 spark, keys in the order of
 * yahoo_spark_v8_AAPL_VTI_via_yfapi.json: no meta, so no currency and no
 * regularMarketPrice; previousClose null, dataGranularity the number 300. */
static struct json_object *spark_entry(const struct fm_entry *e, int64_t now)
{
    struct series *s = series_new(e->name, 0, now, now);
    struct json_object *o = json_object_new_object();
    if (s == NULL || o == NULL)
        goto fail;
    spark_points(s, e->fault);
    if (put_null(o, "end") != 0 || put_null(o, "start") != 0 ||
        put_obj(o, "timestamp", i64_array(s->ts, s->n)) != 0 || put_null(o, "previousClose") != 0 ||
        put_obj(o, "chartPreviousClose",
                num(s->prev_close, quote_decimals(&s->l, s->prev_close))) != 0 ||
        put_str(o, "symbol", e->name) != 0 ||
        put_obj(o, "close", series_array(s, e->name, SF_CLOSE, e->fault)) != 0 ||
        put_i64(o, "dataGranularity", 300) != 0)
        goto fail;
    free(s);
    return o;
fail:
    free(s);
    json_object_put(o);
    return NULL;
}

/* yahoo_spark_v7_404_none_pricehist.json without the indentation of the
 * Python test it was kept in. */
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

/*
 * GET /v7/finance/spark: {"spark":{"result":[{"symbol":S,"response":[R]}],
 * "error":null}} as yahoo_spark_v7_TSLA.json, R being a chart-like result
 * with the v7 meta. Symbols Yahoo does not know are left out of result:
 * there is no recording of a mixed answer; the evidence is indirect
 * (karlwancl/YahooFinanceApi issue #30: a 200-symbol request answered
 * with 197, the unknown ones missing; the flat v8 recording likewise keys
 * members by symbol), so a client must match results by symbol, never by
 * position. Repeated symbols are answered once.
 */
int fm_wire_spark7(const struct fm_entry *e, size_t n, int64_t now, struct fm_body *out)
{
    size_t present = 0;
    struct json_object *root = json_object_new_object();
    struct json_object *spark = json_object_new_object();
    struct json_object *results = json_object_new_array();
    if (root == NULL || spark == NULL || results == NULL)
        goto fail;
    for (size_t i = 0; i < n; i++) {
        bool dup = false;
        if (fm_fault_is_absent(e[i].fault))
            continue;
        for (size_t j = 0; j < i && !dup; j++)
            dup = !fm_fault_is_absent(e[j].fault) && strcmp(e[j].name, e[i].name) == 0;
        if (dup)
            continue;
        struct json_object *item = json_object_new_object();
        struct json_object *resp = json_object_new_array();
        if (item == NULL || resp == NULL || put_str(item, "symbol", e[i].name) != 0 ||
            append(resp, result_object(&e[i], NULL, false, now), false) != 0) {
            json_object_put(resp);
            json_object_put(item);
            goto fail;
        }
        if (put_obj(item, "response", resp) != 0 || append(results, item, false) != 0) {
            json_object_put(item);
            goto fail;
        }
        present++;
    }
    if (present == 0) {
        json_object_put(results);
        json_object_put(spark);
        json_object_put(root);
        return body_copy(404, JSON_TYPE, spark_not_found, sizeof spark_not_found - 1, out);
    }
    int rc = put_obj(spark, "result", results);
    results = NULL;
    if (rc != 0 || put_null(spark, "error") != 0)
        goto fail;
    rc = put_obj(root, "spark", spark);
    spark = NULL;
    if (rc != 0)
        goto fail;
    return body_from_json(200, root, out);
fail:
    json_object_put(results);
    json_object_put(spark);
    json_object_put(root);
    return -1;
}

/* Not recorded: the body of Yahoo's 400 for too many spark symbols (a
 * client's 2026 measurement notes only "20 symbols ok, from 22 HTTP 400").
 * Shaped like the recorded spark error. */
int fm_wire_spark_too_many(size_t n, size_t max, struct fm_body *out)
{
    char buf[200];
    int len = snprintf(buf, sizeof buf,
                       "{\"spark\":{\"result\":null,\"error\":{\"code\":\"Bad Request\","
                       "\"description\":\"Too many symbols: %zu, at most %zu\"}}}",
                       n, max);
    return body_copy(400, JSON_TYPE, buf, (size_t)len, out);
}

static int lower_into(char *dst, size_t dstlen, const char *src)
{
    size_t i = 0;
    for (; src[i] && i + 1 < dstlen; i++)
        dst[i] = (char)((src[i] >= 'A' && src[i] <= 'Z') ? src[i] - 'A' + 'a' : src[i]);
    dst[i] = '\0';
    return src[i] == '\0' ? 0 : -1;
}

/* The entry's price factor (see fm_entry.scale). */
static double entry_scale(const struct fm_entry *e)
{
    return e->scale > 0 ? e->scale : 1.0;
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
    double usd = fm_price_crypto(e->name, now) * entry_scale(e);
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

/* frankfurter_v1_404_not_found.json; the 422 is the one the Frankfurter
 * server's code gives for from=USD&to=USD (noted in that file's source). */
static const char fx_not_found[] = "{\"message\":\"not found\"}";
static const char fx_bad_pair[] = "{\"message\":\"bad currency pair\"}";

static void upper_code(char dst[4], const char *src)
{
    for (int i = 0; i < 3; i++)
        dst[i] = (char)((src[i] >= 'a' && src[i] <= 'z') ? src[i] - 'a' + 'A' : src[i]);
    dst[3] = '\0';
}

static bool fx_known(const char *code)
{
    double unused;
    return strlen(code) == 3 && fm_fx_per_usd(code, &unused) == 0;
}

static int fx_add_rate(struct json_object *rates, const char *base, const char *to, enum fm_fault f)
{
    double rate;
    if (fm_fx_rate(base, to, &rate) != 0)
        return -1;
    /* Frankfurter prints about five significant digits; six keeps cross
     * rates consistent to well under a basis point. */
    int d = fm_price_sig_decimals(rate, 6);
    bool is_null;
    struct json_object *pv = price_value(fm_price_round(rate, d), d, f, &is_null);
    return put(rates, to, pv, is_null);
}

static void fmt_date(int64_t t, char buf[32])
{
    time_t secs = (time_t)t;
    struct tm tm;
    gmtime_r(&secs, &tm);
    snprintf(buf, 32, "%04d-%02d-%02d", (tm.tm_year + 1900) % 10000, tm.tm_mon + 1, tm.tm_mday);
}

static int code_cmp(const void *a, const void *b)
{
    return strcmp((const char *)a, (const char *)b);
}

/*
 * Frankfurter as frankfurter_v1_latest_base_USD.json: amount 1.0, base,
 * date, rates keyed by code in alphabetical order (as recorded), every
 * ECB currency when no target is named. A target it does not know is
 * simply absent from a 200; only when none is known, or the base is
 * unknown, the 404; a request for the base alone the 422.
 */
int fm_wire_fx_latest(const char *base, const char *const *to, size_t n_to, enum fm_fault f,
                      int64_t now, struct fm_body *out)
{
    char base_code[4];
    char date[32];
    char codes[64][4];
    size_t n_codes = 0;
    bool asked_base = false;
    if (base == NULL)
        base = "EUR";
    if (f == FM_FAULT_NOSUCH || !fx_known(base))
        return body_copy(404, JSON_TYPE, fx_not_found, sizeof fx_not_found - 1, out);
    upper_code(base_code, base);
    if (n_to == 0) {
        for (size_t i = 0; i < fm_fx_count() && n_codes < ARRAY_LEN(codes); i++)
            if (strcmp(fm_fx_code(i), base_code) != 0)
                upper_code(codes[n_codes++], fm_fx_code(i));
    }
    for (size_t i = 0; i < n_to && n_codes < ARRAY_LEN(codes); i++) {
        char c[4];
        bool dup = false;
        if (!fx_known(to[i]))
            continue;
        upper_code(c, to[i]);
        if (strcmp(c, base_code) == 0) {
            asked_base = true;
            continue;
        }
        for (size_t j = 0; j < n_codes && !dup; j++)
            dup = strcmp(codes[j], c) == 0;
        if (!dup)
            memcpy(codes[n_codes++], c, 4);
    }
    if (n_codes == 0 && asked_base)
        return body_copy(422, JSON_TYPE, fx_bad_pair, sizeof fx_bad_pair - 1, out);
    if (n_codes == 0)
        return body_copy(404, JSON_TYPE, fx_not_found, sizeof fx_not_found - 1, out);
    qsort(codes, n_codes, sizeof codes[0], code_cmp);
    fmt_date(faulted_time(now, f), date);
    struct json_object *root = json_object_new_object();
    struct json_object *rates = json_object_new_object();
    if (root == NULL || rates == NULL)
        goto fail;
    if (put_obj(root, "amount", json_object_new_double_s(1.0, "1.0")) != 0 ||
        put_str(root, "base", f == FM_FAULT_WRONGCCY ? "JPY" : base_code) != 0 ||
        put_str(root, "date", date) != 0)
        goto fail;
    for (size_t i = 0; i < n_codes && f != FM_FAULT_MISSING; i++)
        if (fx_add_rate(rates, base_code, codes[i], f) != 0)
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

static const char cg_coin_not_found[] = "{\"error\":\"coin not found\"}";

/* [ms, v] with v's decimals as /simple/price prints them; a null v when
 * is_null. */
static struct json_object *mc_pair(int64_t t, double v, bool is_null)
{
    struct json_object *pair = json_object_new_array();
    if (pair == NULL)
        return NULL;
    if (append(pair, json_object_new_int64(t * 1000), false) != 0 ||
        append(pair, is_null ? NULL : num(v, fm_price_crypto_decimals(v)), is_null) != 0) {
        json_object_put(pair);
        return NULL;
    }
    return pair;
}

int fm_wire_market_chart(const struct fm_entry *coin, int days, int64_t now, struct fm_body *out)
{
    if (fm_fault_is_absent(coin->fault))
        return body_copy(404, JSON_TYPE, cg_coin_not_found, sizeof cg_coin_not_found - 1, out);
    if (days < 1)
        days = 1;
    if (days > 3650)
        days = 3650;
    struct json_object *root = json_object_new_object();
    struct json_object *arr[3] = {json_object_new_array(), json_object_new_array(),
                                  json_object_new_array()};
    static const char *const keys[3] = {"prices", "market_caps", "total_volumes"};
    if (root == NULL || arr[0] == NULL || arr[1] == NULL || arr[2] == NULL)
        goto fail;
    int64_t midnight = fm_price_day_start(now);
    for (int k = days - 1; k >= -1; k--) {
        int64_t t = k >= 0 ? midnight - (int64_t)k * 86400 : now;
        if (k < 0 && t == midnight)
            break; /* exactly midnight: no separate "now" point */
        double p = fm_price_crypto(coin->name, t);
        bool null_price = coin->fault == FM_FAULT_NULLPRICE && k == days - 2;
        /* a market cap and a volume of plausible size for the price */
        double cap = p * 19.0e6, vol = p * 0.6e6;
        if (append(arr[0], mc_pair(t, p, null_price), false) != 0 ||
            append(arr[1], mc_pair(t, cap, false), false) != 0 ||
            append(arr[2], mc_pair(t, vol, false), false) != 0)
            goto fail;
    }
    for (int i = 0; i < 3; i++) {
        int rc = put_obj(root, keys[i], arr[i]);
        arr[i] = NULL;
        if (rc != 0)
            goto fail;
    }
    return body_from_json(200, root, out);
fail:
    for (int i = 0; i < 3; i++)
        json_object_put(arr[i]);
    json_object_put(root);
    return -1;
}

int fm_wire_empty(enum fm_endpoint ep, struct fm_body *out)
{
    static const char chart_empty[] = "{\"chart\":{\"result\":[],\"error\":null}}";
    static const char spark_empty[] = "{\"spark\":{\"result\":[],\"error\":null}}";
    if (ep == FM_EP_CHART)
        return body_copy(200, JSON_TYPE, chart_empty, sizeof chart_empty - 1, out);
    if (ep == FM_EP_SPARK7)
        return body_copy(200, JSON_TYPE, spark_empty, sizeof spark_empty - 1, out);
    return body_copy(200, JSON_TYPE, "{}", 2, out);
}

int fm_wire_bad_json(enum fm_endpoint ep, struct fm_body *out)
{
    static const char *const broken[] = {
        [FM_EP_CHART] = "{\"chart\": {\"result\": [",
        [FM_EP_SPARK] = "{\"AAPL\": {\"symbol\": \"AAPL\", \"close\": [",
        [FM_EP_SPARK7] = "{\"spark\": {\"result\": [",
        [FM_EP_SIMPLE_PRICE] = "{\"bitcoin\": {\"usd\": ",
        [FM_EP_FX] = "{\"amount\": 1.0, \"base\": \"EUR\", \"rates\": {\"USD\": ",
        [FM_EP_KRAKEN] = "{\"error\":[],\"result\":{\"XXBTZUSD\":{\"c\":[",
        [FM_EP_ERAPI] = "{\"result\":\"success\",\"base_code\":\"USD\",\"rates\":{",
        [FM_EP_TWELVEDATA] = "{\"symbol\":\"AAPL\",\"close\":",
        [FM_EP_COINBASE] = "{\"data\":{\"amount\":",
        [FM_EP_BINANCE] = "[{\"symbol\":\"BTCUSDT\",\"price\":",
        [FM_EP_MARKET_CHART] = "{\"prices\":[[1613347200000,",
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

/* ---- the second sources ------------------------------------------------ */

/* A number as these providers print it: a JSON string ("64547.20000"),
 * after the entry's content fault (null, "-5.0", "0", "NaN"). */
static struct json_object *str_price(double v, int decimals, enum fm_fault f, bool *is_null)
{
    char buf[64];
    *is_null = false;
    switch (f) {
    case FM_FAULT_NULLPRICE:
        *is_null = true;
        return NULL;
    case FM_FAULT_NEGPRICE:
        return json_object_new_string("-5.0");
    case FM_FAULT_ZEROPRICE:
        return json_object_new_string("0");
    case FM_FAULT_NANPRICE:
        return json_object_new_string("NaN");
    default:
        snprintf(buf, sizeof buf, "%.*f", decimals, v);
        return json_object_new_string(buf);
    }
}

static struct json_object *str_fixed(double v, int decimals)
{
    char buf[64];
    snprintf(buf, sizeof buf, "%.*f", decimals, v);
    return json_object_new_string(buf);
}

/* Kraken's pairs fakemarket prices like the CoinGecko id of the same coin,
 * so two sources agree: the asked name, the canonical key Kraken answers
 * with (kraken_ticker_xbtusd_ethusd, kraken_ticker_xbtusd_ltcusd_eosusd_
 * xmrusd; the rest as NOTE_kraken_pairs.txt lists them), the id. */
static const struct {
    const char *pair, *key, *id;
} kraken_pairs[] = {
    {"XBTUSD", "XXBTZUSD", "bitcoin"},
    {"ETHUSD", "XETHZUSD", "ethereum"},
    {"LTCUSD", "XLTCZUSD", "litecoin"},
    {"XMRUSD", "XXMRZUSD", "monero"},
    {"EOSUSD", "EOSUSD", "eos"},
    {"XRPUSD", "XXRPZUSD", "ripple"},
    {"SOLUSD", "SOLUSD", "solana"},
    {"XDGUSD", "XDGUSD", "dogecoin"},
    {"ETCUSD", "XETCZUSD", "ethereum-classic"},
    {"ADAUSD", "ADAUSD", "cardano"},
    {"LINKUSD", "LINKUSD", "chainlink"},
};

/* [price, rest…]: Kraken's arrays, every member a string but t's. */
static struct json_object *str_arr(double a, int d, const char *b, const char *c)
{
    struct json_object *arr = json_object_new_array();
    if (arr == NULL || append(arr, str_fixed(a, d), false) != 0 ||
        append(arr, json_object_new_string(b), false) != 0 ||
        (c != NULL && append(arr, json_object_new_string(c), false) != 0)) {
        json_object_put(arr);
        return NULL;
    }
    return arr;
}

static struct json_object *int_pair(int64_t a, int64_t b)
{
    struct json_object *arr = json_object_new_array();
    if (arr == NULL || append(arr, json_object_new_int64(a), false) != 0 ||
        append(arr, json_object_new_int64(b), false) != 0) {
        json_object_put(arr);
        return NULL;
    }
    return arr;
}

/* One pair as kraken_ticker_xbtusd_ethusd.json has it, key for key: ask,
 * bid, last trade c = [price, lot volume], volume, VWAP, trades, low, high,
 * today's opening price. */
static struct json_object *kraken_entry(const char *id, enum fm_fault f, double scale, int64_t now)
{
    double v = fm_price_crypto(id, now) * scale;
    int d = 5; /* every Ticker number in both recordings has five decimals */
    bool is_null = false;
    struct json_object *price = str_price(v, d, f, &is_null);
    struct json_object *o = json_object_new_object(), *c = json_object_new_array();
    if (o == NULL || c == NULL) {
        json_object_put(price);
        json_object_put(c);
        json_object_put(o);
        return NULL;
    }
    if (append(c, price, is_null) != 0 ||
        append(c, json_object_new_string("0.00702654"), false) != 0) {
        json_object_put(c);
        json_object_put(o);
        return NULL;
    }
    if (put_obj(o, "a", str_arr(v * 1.0001, d, "1", "1.000")) != 0 ||
        put_obj(o, "b", str_arr(v * 0.9999, d, "246", "246.000")) != 0 || put_obj(o, "c", c) != 0 ||
        put_obj(o, "v", str_arr(5869.92462186, 8, "6253.84063618", NULL)) != 0 ||
        put_obj(o, "p", str_arr(v, d, "0", NULL)) != 0 ||
        put_obj(o, "t", int_pair(56856, 62595)) != 0 ||
        put_obj(o, "l", str_arr(v * 0.97, d, "0", NULL)) != 0 ||
        put_obj(o, "h", str_arr(v * 1.03, d, "0", NULL)) != 0 ||
        put_obj(o, "o", str_fixed(fm_price_crypto(id, fm_price_day_start(now)) * scale, d)) != 0) {
        json_object_put(o);
        return NULL;
    }
    return o;
}

int fm_wire_kraken_ticker(const struct fm_entry *pairs, size_t n, int64_t now, struct fm_body *out)
{
    static const char unknown[] = "{\"error\":[\"EQuery:Unknown asset pair\"]}";
    for (size_t i = 0; i < n; i++)
        if (fm_fault_is_absent(pairs[i].fault))
            return body_copy(200, JSON_TYPE, unknown, sizeof unknown - 1, out);
    struct json_object *root = json_object_new_object(), *result = json_object_new_object();
    if (root == NULL || result == NULL || put_obj(root, "error", json_object_new_array()) != 0) {
        json_object_put(result);
        json_object_put(root);
        return -1;
    }
    for (size_t i = 0; i < n; i++) {
        const char *key = pairs[i].name, *id = pairs[i].name;
        for (size_t k = 0; k < ARRAY_LEN(kraken_pairs); k++)
            if (strcmp(kraken_pairs[k].pair, pairs[i].name) == 0 ||
                strcmp(kraken_pairs[k].key, pairs[i].name) == 0) {
                key = kraken_pairs[k].key;
                id = kraken_pairs[k].id;
            }
        if (json_object_object_get_ex(result, key, NULL))
            continue;
        if (put_obj(result, key, kraken_entry(id, pairs[i].fault, entry_scale(&pairs[i]), now)) !=
            0) {
            json_object_put(result);
            json_object_put(root);
            return -1;
        }
    }
    if (put_obj(root, "result", result) != 0) {
        json_object_put(root);
        return -1;
    }
    return body_from_json(200, root, out);
}

/* Currencies open.er-api has and the ECB table does not, per USD, from
 * erapi_latest_usd_2024-08-19.json (the figures it states). */
static const struct {
    const char *code;
    double per_usd;
} erapi_extra[] = {
    {"AED", 3.6725},      {"SAR", 3.75},         {"TWD", 32.092281}, {"ARS", 944},
    {"NGN", 1589.504939}, {"VND", 25048.492735}, {"EGP", 48.838355}, {"KES", 128.979169},
};

/* "Mon, 19 Aug 2024 00:02:31 +0000", as time_last_update_utc. */
static void fmt_http_date(int64_t t, char buf[40])
{
    time_t secs = (time_t)t;
    struct tm tm;
    gmtime_r(&secs, &tm);
    strftime(buf, 40, "%a, %d %b %Y %H:%M:%S +0000", &tm);
}

int fm_wire_erapi_latest(const char *base, enum fm_fault f, int64_t now, struct fm_body *out)
{
    /* erapi_error_unsupported_code.json */
    static const char unsupported[] = "{\"result\":\"error\",\"error-type\":\"unsupported-code\"}";
    if (base == NULL || strcmp(base, "USD") != 0 || f == FM_FAULT_NOSUCH)
        return body_copy(200, JSON_TYPE, unsupported, sizeof unsupported - 1, out);
    /* Updated once a day just after midnight UTC, as recorded (00:02:31). */
    int64_t updated = faulted_time(fm_price_day_start(now) + 151, f);
    struct json_object *root = json_object_new_object(), *rates = json_object_new_object();
    if (root == NULL || rates == NULL)
        goto fail;
    char last_utc[40], next_utc[40];
    fmt_http_date(updated, last_utc);
    fmt_http_date(updated + FM_DAY_S, next_utc);
    if (put_str(root, "result", "success") != 0 ||
        put_str(root, "provider", "https://www.exchangerate-api.com") != 0 ||
        put_str(root, "documentation", "https://www.exchangerate-api.com/docs/free") != 0 ||
        put_str(root, "terms_of_use", "https://www.exchangerate-api.com/terms") != 0 ||
        put_i64(root, "time_last_update_unix", updated) != 0 ||
        put_str(root, "time_last_update_utc", last_utc) != 0 ||
        put_i64(root, "time_next_update_unix", updated + FM_DAY_S) != 0 ||
        put_str(root, "time_next_update_utc", next_utc) != 0 ||
        put_i64(root, "time_eol_unix", 0) != 0 ||
        put_str(root, "base_code", f == FM_FAULT_WRONGCCY ? "JPY" : "USD") != 0)
        goto fail;
    if (f != FM_FAULT_MISSING) {
        if (put_obj(rates, "USD", json_object_new_int(1)) != 0)
            goto fail_rates;
        for (size_t i = 0; i < fm_fx_count(); i++) {
            const char *code = fm_fx_code(i);
            if (strcmp(code, "USD") != 0 && fx_add_rate(rates, "USD", code, f) != 0)
                goto fail_rates;
        }
        for (size_t i = 0; i < ARRAY_LEN(erapi_extra); i++) {
            bool is_null = false;
            int d = fm_price_sig_decimals(erapi_extra[i].per_usd, 8);
            struct json_object *pv = price_value(erapi_extra[i].per_usd, d, f, &is_null);
            if (put(rates, erapi_extra[i].code, pv, is_null) != 0)
                goto fail_rates;
        }
    }
    if (put_obj(root, "rates", rates) != 0)
        goto fail_root;
    return body_from_json(200, root, out);
fail:
    json_object_put(rates);
fail_root:
    json_object_put(root);
    return -1;
fail_rates:
    json_object_put(rates);
    json_object_put(root);
    return -1;
}

/* Twelve Data's SYMBOL:EXCHANGE back to the Yahoo form fakemarket prices
 * (the rows of daemon/providers/twelvedata.c's suffix table, reversed), so
 * both sources quote one listing alike. */
static void td_yahoo_form(const char *sym, char *out, size_t outlen)
{
    static const struct {
        const char *exchange, *suffix;
    } map[] = {{"NSE", "NS"}, {"TSX", "TO"}, {"LSE", "L"}, {"XETR", "DE"}};
    const char *colon = strchr(sym, ':');
    util_strlcpy(out, sym, outlen);
    if (colon == NULL)
        return;
    for (size_t i = 0; i < ARRAY_LEN(map); i++)
        if (strcmp(colon + 1, map[i].exchange) == 0) {
            snprintf(out, outlen, "%.*s.%s", (int)(colon - sym), sym, map[i].suffix);
            return;
        }
}

/* twelvedata_error_404_invalid_symbol_2026-09-16.json */
static const char td_not_found_msg[] =
    "**symbol** or **figi** parameter is missing or invalid. Please provide a valid symbol "
    "according to API documentation: https://twelvedata.com/docs#reference-data";

static struct json_object *td_error(int code, const char *message)
{
    struct json_object *o = json_object_new_object();
    if (o == NULL || put_i64(o, "code", code) != 0 || put_str(o, "message", message) != 0 ||
        put_str(o, "status", "error") != 0) {
        json_object_put(o);
        return NULL;
    }
    return o;
}

/* The fields of twelvedata_quote_AAPL_2026-09-08.json that a client reads,
 * with fakemarket's price for the listing: close is the latest price,
 * last_quote_at its time, timestamp the day bar's start. */
static struct json_object *td_quote(const struct fm_entry *e, int64_t now)
{
    char ysym[80];
    td_yahoo_form(e->name, ysym, sizeof ysym);
    struct fm_listing l;
    fm_price_listing(ysym, &l);
    double v = fm_price_quote(ysym, now) * entry_scale(e);
    double prev = fm_price_quote(ysym, fm_price_day_start(now) - 1) * entry_scale(e);
    double hi = v > prev ? v : prev, lo = v < prev ? v : prev;
    char date[32], range[64];
    fmt_date(now, date);
    snprintf(range, sizeof range, "%.6f - %.6f", lo * 0.7, hi * 1.1);
    bool is_null = false;
    struct json_object *close = str_price(v, 2, e->fault, &is_null);
    struct json_object *o = json_object_new_object(), *wk = json_object_new_object();
    if (o == NULL || wk == NULL) {
        json_object_put(close);
        json_object_put(wk);
        json_object_put(o);
        return NULL;
    }
    if (put_obj(wk, "low", str_fixed(lo * 0.7, 5)) != 0 ||
        put_obj(wk, "high", str_fixed(hi * 1.1, 5)) != 0 ||
        put_obj(wk, "low_change", str_fixed(v - lo * 0.7, 6)) != 0 ||
        put_obj(wk, "high_change", str_fixed(v - hi * 1.1, 5)) != 0 ||
        put_obj(wk, "low_change_percent", str_fixed((v / (lo * 0.7) - 1) * 100, 5)) != 0 ||
        put_obj(wk, "high_change_percent", str_fixed((v / (hi * 1.1) - 1) * 100, 5)) != 0 ||
        put_str(wk, "range", range) != 0) {
        json_object_put(close);
        json_object_put(wk);
        json_object_put(o);
        return NULL;
    }
    /* keys in twelvedata_quote_AAPL_2026-09-08.json's order */
    if (put_str(o, "symbol", e->name) != 0 || put_str(o, "name", e->name) != 0 ||
        put_str(o, "exchange", l.exchange) != 0 || put_str(o, "mic_code", l.exchange) != 0 ||
        put_str(o, "currency", e->fault == FM_FAULT_WRONGCCY ? "JPY" : l.currency) != 0 ||
        put_str(o, "datetime", date) != 0 ||
        put_i64(o, "timestamp", fm_price_day_start(now) + l.session_open) != 0 ||
        put_i64(o, "last_quote_at", faulted_time(now, e->fault)) != 0 ||
        put_obj(o, "open", str_fixed(prev, 2)) != 0 || put_obj(o, "high", str_fixed(hi, 2)) != 0 ||
        put_obj(o, "low", str_fixed(lo, 2)) != 0) {
        json_object_put(close);
        json_object_put(wk);
        json_object_put(o);
        return NULL;
    }
    if (put(o, "close", close, is_null) != 0 || put_str(o, "volume", "886145") != 0 ||
        put_obj(o, "previous_close", str_fixed(prev, 5)) != 0 ||
        put_obj(o, "change", str_fixed(v - prev, 5)) != 0 ||
        put_obj(o, "percent_change", str_fixed((v / prev - 1) * 100, 5)) != 0 ||
        put_str(o, "average_volume", "33681314") != 0 ||
        put_obj(o, "is_market_open", json_object_new_boolean(1)) != 0) {
        json_object_put(wk);
        json_object_put(o);
        return NULL;
    }
    if (put_obj(o, "fifty_two_week", wk) != 0) {
        json_object_put(o);
        return NULL;
    }
    return o;
}

int fm_wire_twelvedata_quote(const struct fm_entry *syms, size_t n, bool keyed, int64_t now,
                             struct fm_body *out)
{
    if (!keyed)
        /* twelvedata_error_401_bad_key_2026-09-16.json */
        return body_from_json(
            401,
            td_error(401, "**apikey** parameter is incorrect or not specified. You can get your "
                          "free API key instantly following this link: "
                          "https://twelvedata.com/pricing. If you believe that everything is "
                          "correct, you can contact us at https://twelvedata.com/contact/customer"),
            out);
    if (n == 1)
        return body_from_json(200,
                              fm_fault_is_absent(syms[0].fault) ? td_error(404, td_not_found_msg)
                                                                : td_quote(&syms[0], now),
                              out);
    struct json_object *root = json_object_new_object();
    if (root == NULL)
        return -1;
    for (size_t i = 0; i < n; i++) {
        if (json_object_object_get_ex(root, syms[i].name, NULL))
            continue;
        struct json_object *e = fm_fault_is_absent(syms[i].fault) ? td_error(404, td_not_found_msg)
                                                                  : td_quote(&syms[i], now);
        if (put_obj(root, syms[i].name, e) != 0) {
            json_object_put(root);
            return -1;
        }
    }
    return body_from_json(200, root, out);
}

static const struct {
    const char *base, *id;
} coinbase_bases[] = {
    {"BTC", "bitcoin"},  {"ETH", "ethereum"},   {"SOL", "solana"},           {"XRP", "ripple"},
    {"LTC", "litecoin"}, {"DOGE", "dogecoin"},  {"ETC", "ethereum-classic"}, {"ADA", "cardano"},
    {"DOT", "polkadot"}, {"LINK", "chainlink"},
};

int fm_wire_coinbase_spot(const struct fm_entry *product, int64_t now, struct fm_body *out)
{
    /* coinbase_error_invalid_base_currency.json (status as other clients
     * treat it: 404) */
    static const char invalid[] =
        "{\"errors\":[{\"id\":\"not_found\",\"message\":\"Invalid base currency\"}]}";
    const char *dash = strchr(product->name, '-');
    char base[16];
    if (dash == NULL || strcmp(dash, "-USD") != 0 ||
        (size_t)(dash - product->name) >= sizeof base || dash == product->name ||
        fm_fault_is_absent(product->fault))
        return body_copy(404, JSON_TYPE, invalid, sizeof invalid - 1, out);
    memcpy(base, product->name, (size_t)(dash - product->name));
    base[dash - product->name] = '\0';
    const char *id = base;
    for (size_t i = 0; i < ARRAY_LEN(coinbase_bases); i++)
        if (strcmp(coinbase_bases[i].base, base) == 0)
            id = coinbase_bases[i].id;
    double v = fm_price_crypto(id, now) * entry_scale(product);
    bool is_null = false;
    struct json_object *amount =
        str_price(v, fm_price_crypto_decimals(v) + 1, product->fault, &is_null);
    struct json_object *root = json_object_new_object(), *data = json_object_new_object();
    if (root == NULL || data == NULL) {
        json_object_put(amount);
        json_object_put(data);
        json_object_put(root);
        return -1;
    }
    if (put(data, "amount", amount, is_null) != 0 || put_str(data, "base", base) != 0 ||
        put_str(data, "currency", product->fault == FM_FAULT_WRONGCCY ? "JPY" : "USD") != 0) {
        json_object_put(data);
        json_object_put(root);
        return -1;
    }
    if (put_obj(root, "data", data) != 0) {
        json_object_put(root);
        return -1;
    }
    return body_from_json(200, root, out);
}

/* Binance's USDT pairs fakemarket prices like the CoinGecko id of the same
 * coin, so the sources agree (binance_ticker_price_27_usdt_pairs_2022-12
 * names them); another pair is priced by its own name. */
static const struct {
    const char *pair, *id;
} binance_pairs[] = {
    {"BTCUSDT", "bitcoin"},   {"BNBUSDT", "binancecoin"}, {"ETHUSDT", "ethereum"},
    {"SOLUSDT", "solana"},    {"XRPUSDT", "ripple"},      {"ADAUSDT", "cardano"},
    {"DOGEUSDT", "dogecoin"}, {"LINKUSDT", "chainlink"},  {"LTCUSDT", "litecoin"},
    {"EOSUSDT", "eos"},
};

/* One {"symbol","price"} entry: the price a string with 8 decimals, as
 * every price in the three recordings has it. */
static struct json_object *binance_entry(const struct fm_entry *e, int64_t now)
{
    const char *id = e->name;
    for (size_t k = 0; k < ARRAY_LEN(binance_pairs); k++)
        if (strcmp(binance_pairs[k].pair, e->name) == 0)
            id = binance_pairs[k].id;
    bool is_null = false;
    struct json_object *price =
        str_price(fm_price_crypto(id, now) * entry_scale(e), 8, e->fault, &is_null);
    struct json_object *o = json_object_new_object();
    if (o == NULL || put_str(o, "symbol", e->name) != 0) {
        json_object_put(price);
        json_object_put(o);
        return NULL;
    }
    if (put(o, "price", price, is_null) != 0) {
        json_object_put(o);
        return NULL;
    }
    return o;
}

int fm_wire_binance_price(const struct fm_entry *pairs, size_t n, bool single, int64_t now,
                          struct fm_body *out)
{
    /* binance_error_invalid_symbol_400.json, byte for byte: one unknown
     * pair fails the whole request */
    static const char invalid[] = "{\"code\":-1121,\"msg\":\"Invalid symbol.\"}";
    static const char quote[] = "USDT";
    for (size_t i = 0; i < n; i++) {
        size_t len = strlen(pairs[i].name);
        if (fm_fault_is_absent(pairs[i].fault) || len <= strlen(quote) ||
            strcmp(pairs[i].name + len - strlen(quote), quote) != 0)
            return body_copy(400, JSON_TYPE, invalid, sizeof invalid - 1, out);
    }
    if (single) /* ?symbol=: one object (binance_ticker_price_symbol_BNBUSDT) */
        return body_from_json(200, n == 1 ? binance_entry(&pairs[0], now) : NULL, out);
    /* ?symbols=[…]: an array in the order asked, each pair once
     * (binance_ticker_price_symbols_BTCUSDT_BNBUSDT) */
    struct json_object *root = json_object_new_array();
    if (root == NULL)
        return -1;
    for (size_t i = 0; i < n; i++) {
        bool seen = false;
        for (size_t k = 0; k < i; k++)
            seen |= strcmp(pairs[k].name, pairs[i].name) == 0;
        if (!seen && append(root, binance_entry(&pairs[i], now), false) != 0) {
            json_object_put(root);
            return -1;
        }
    }
    return body_from_json(200, root, out);
}

const char *fm_wire_asset_of(const char *name)
{
    for (size_t i = 0; i < ARRAY_LEN(kraken_pairs); i++)
        if (strcmp(kraken_pairs[i].pair, name) == 0)
            return kraken_pairs[i].id;
    for (size_t i = 0; i < ARRAY_LEN(binance_pairs); i++)
        if (strcmp(binance_pairs[i].pair, name) == 0)
            return binance_pairs[i].id;
    const char *dash = strchr(name, '-');
    if (dash != NULL && strcmp(dash, "-USD") == 0)
        for (size_t i = 0; i < ARRAY_LEN(coinbase_bases); i++)
            if (strlen(coinbase_bases[i].base) == (size_t)(dash - name) &&
                strncmp(coinbase_bases[i].base, name, (size_t)(dash - name)) == 0)
                return coinbase_bases[i].id;
    return name;
}
