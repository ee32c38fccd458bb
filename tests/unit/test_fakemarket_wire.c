/*
 * Unit tests of tests/fakemarket/wire.c: each body has the shape of the
 * real recording it follows (tests/fixtures/real/, loaded at test time:
 * same keys in the same order, same nesting, numbers where numbers are),
 * absent entries are left out, content faults change only their own
 * entry, and the fault bodies (EMPTY, BADJSON, HUGE) are what they claim
 * to be.
 *
 * Recordings are found in $FM_REAL_DIR, else $TEST_ROOT/tests/fixtures/
 * real (tests/run.sh sets TEST_ROOT), else tests/fixtures/real from the
 * current directory (the repository root, where make and run.sh work).
 */
#include "../fakemarket/prices.h"
#include "../fakemarket/wire.h"

#include <json-c/json.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#define NOW 1700000000 /* Tue 2023-11-14 22:13:20 UTC */
#define US_OPEN (1699920000 + 13 * 3600 + 1800)

/* Parses b (which must be 200/404 JSON) and frees its data. */
static struct json_object *parse(struct fm_body *b)
{
    assert_non_null(b->data);
    assert_int_equal(strlen(b->data), b->len);
    struct json_object *o = json_tokener_parse(b->data);
    if (o == NULL)
        fail_msg("not JSON: %s", b->data);
    fm_body_clear(b);
    return o;
}

static struct json_object *at(struct json_object *o, const char *key)
{
    struct json_object *v = NULL;
    if (!json_object_object_get_ex(o, key, &v))
        fail_msg("no key '%s' in %s", key, json_object_to_json_string(o));
    return v;
}

static bool has(struct json_object *o, const char *key)
{
    return json_object_object_get_ex(o, key, NULL);
}

/* A recording, parsed; fails the test when it cannot be found. */
static struct json_object *recording(const char *name)
{
    char path[1024];
    const char *dir = getenv("FM_REAL_DIR");
    const char *root = getenv("TEST_ROOT");
    if (dir != NULL)
        snprintf(path, sizeof path, "%s/%s", dir, name);
    else if (root != NULL)
        snprintf(path, sizeof path, "%s/tests/fixtures/real/%s", root, name);
    else
        snprintf(path, sizeof path, "tests/fixtures/real/%s", name);
    struct json_object *o = json_object_from_file(path);
    if (o == NULL)
        fail_msg("cannot read the recording %s", path);
    return o;
}

/* A recording's bytes (trailing newline dropped), for exact bodies. */
static char *recording_text(const char *name)
{
    struct json_object *o = recording(name); /* fails the test if missing */
    json_object_put(o);
    char path[1024];
    const char *dir = getenv("FM_REAL_DIR");
    const char *root = getenv("TEST_ROOT");
    if (dir != NULL)
        snprintf(path, sizeof path, "%s/%s", dir, name);
    else if (root != NULL)
        snprintf(path, sizeof path, "%s/tests/fixtures/real/%s", root, name);
    else
        snprintf(path, sizeof path, "tests/fixtures/real/%s", name);
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    static char buf[65536];
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r'))
        n--;
    buf[n] = '\0';
    return buf;
}

static bool is_number(struct json_object *o)
{
    return json_object_is_type(o, json_type_int) || json_object_is_type(o, json_type_double);
}

/*
 * Fails unless ours has the shape of rec: objects with the same keys in
 * the same order (except inside the trading periods and quote[], whose
 * key order differs between Yahoo's own recordings: the WSU.DE and OCDO.L
 * answers order pre/regular/post as timezone,end,start,gmtoffset, and
 * each chart recording orders open/high/low/close/volume its own way),
 * arrays whose first non-null elements have the same
 * shape, strings where strings are, numbers (integral or not: 1279 and
 * 305.3 are both prices) where numbers are, booleans where booleans are.
 * A null in ours where rec has a number is allowed (null bars); a null in
 * rec allows anything. `where` names the position for the message.
 */
static void same_shape(struct json_object *ours, struct json_object *rec, const char *where)
{
    char sub[512];
    if (rec == NULL)
        return;
    if (ours == NULL) {
        if (!is_number(rec))
            fail_msg("%s: null where the recording has %s", where, json_object_to_json_string(rec));
        return;
    }
    if (is_number(rec)) {
        if (!is_number(ours))
            fail_msg("%s: %s where the recording has a number", where,
                     json_object_to_json_string(ours));
        return;
    }
    if (json_object_get_type(ours) != json_object_get_type(rec))
        fail_msg("%s: %s where the recording has %s", where, json_object_to_json_string(ours),
                 json_object_to_json_string(rec));
    if (json_object_is_type(rec, json_type_object)) {
        size_t wl = strlen(where);
        bool unordered = false;
        static const char *const loose[] = {".pre", ".regular", ".post", ".quote[]"};
        for (size_t i = 0; i < sizeof loose / sizeof loose[0]; i++) {
            size_t k = strlen(loose[i]);
            unordered = unordered || (wl >= k && strcmp(where + wl - k, loose[i]) == 0);
        }
        if (unordered) {
            if (json_object_object_length(ours) != json_object_object_length(rec))
                fail_msg("%s: %d keys where the recording has %d", where,
                         json_object_object_length(ours), json_object_object_length(rec));
            json_object_object_foreach(rec, k, v)
            {
                struct json_object *mine = NULL;
                if (!json_object_object_get_ex(ours, k, &mine))
                    fail_msg("%s: no key '%s' (the recording has it)", where, k);
                snprintf(sub, sizeof sub, "%s.%s", where, k);
                same_shape(mine, v, sub);
            }
            return;
        }
        struct json_object_iterator a = json_object_iter_begin(ours);
        struct json_object_iterator ae = json_object_iter_end(ours);
        struct json_object_iterator b = json_object_iter_begin(rec);
        struct json_object_iterator be = json_object_iter_end(rec);
        while (!json_object_iter_equal(&b, &be)) {
            const char *k = json_object_iter_peek_name(&b);
            if (json_object_iter_equal(&a, &ae))
                fail_msg("%s: no key '%s' (the recording has it)", where, k);
            if (strcmp(json_object_iter_peek_name(&a), k) != 0)
                fail_msg("%s: key '%s' where the recording has '%s'", where,
                         json_object_iter_peek_name(&a), k);
            snprintf(sub, sizeof sub, "%s.%s", where, k);
            same_shape(json_object_iter_peek_value(&a), json_object_iter_peek_value(&b), sub);
            json_object_iter_next(&a);
            json_object_iter_next(&b);
        }
        if (!json_object_iter_equal(&a, &ae))
            fail_msg("%s: extra key '%s' (not in the recording)", where,
                     json_object_iter_peek_name(&a));
        return;
    }
    if (json_object_is_type(rec, json_type_array)) {
        struct json_object *ra = NULL, *oa = NULL;
        for (size_t i = 0; ra == NULL && i < json_object_array_length(rec); i++)
            ra = json_object_array_get_idx(rec, i);
        for (size_t i = 0; oa == NULL && i < json_object_array_length(ours); i++)
            oa = json_object_array_get_idx(ours, i);
        snprintf(sub, sizeof sub, "%s[]", where);
        if (ra != NULL && oa != NULL)
            same_shape(oa, ra, sub);
    }
}

static struct json_object *idx(struct json_object *arr, size_t i)
{
    if (!json_object_is_type(arr, json_type_array) || i >= json_object_array_length(arr))
        fail_msg("no element %zu in %s", i, json_object_to_json_string(arr));
    return json_object_array_get_idx(arr, i);
}

static struct json_object *last(struct json_object *arr)
{
    return idx(arr, json_object_array_length(arr) - 1);
}

/* True if arr holds a null before its last element. */
static bool null_before_last(struct json_object *arr)
{
    for (size_t i = 0; i + 1 < json_object_array_length(arr); i++)
        if (json_object_array_get_idx(arr, i) == NULL)
            return true;
    return false;
}

static double dbl(struct json_object *o)
{
    if (!is_number(o))
        fail_msg("not a number: %s", json_object_to_json_string(o));
    return json_object_get_double(o);
}

static struct json_object *chart_of(const char *sym, enum fm_fault f, const struct fm_window *w)
{
    struct fm_body b;
    struct fm_entry e = {sym, f};
    assert_int_equal(fm_wire_chart(&e, w, NOW, &b), 0);
    assert_int_equal(b.status, 200);
    assert_string_equal(b.content_type, "application/json;charset=utf-8");
    return parse(&b);
}

static struct json_object *result0(struct json_object *root)
{
    return idx(at(at(root, "chart"), "result"), 0);
}

/* The chart follows yahoo2_fixture_chart-AAPL.json (a US equity) key for
 * key; bars are stamped at the session open (13:30 UTC), the last close
 * of an equity is the current price, and the series has a null bar. */
static void test_chart(void **state)
{
    (void)state;
    struct json_object *rec = recording("yahoo2_fixture_chart-AAPL.json");
    struct json_object *root = chart_of("AAPL", FM_FAULT_NONE, NULL);
    same_shape(root, at(at(rec, "response"), "bodyJson"), "chart");
    struct json_object *res = result0(root);
    struct json_object *meta = at(res, "meta");
    assert_string_equal(json_object_get_string(at(meta, "currency")), "USD");
    assert_string_equal(json_object_get_string(at(meta, "instrumentType")), "EQUITY");
    assert_string_equal(json_object_get_string(at(meta, "range")), "1d");
    assert_int_equal(json_object_get_int64(at(meta, "regularMarketTime")), NOW);
    double price = dbl(at(meta, "regularMarketPrice"));
    assert_true(price == fm_price_quote("AAPL", NOW));
    struct json_object *ts = at(res, "timestamp");
    assert_int_equal(json_object_get_int64(last(ts)), US_OPEN);
    assert_int_equal(json_object_get_int64(idx(ts, 0)), US_OPEN - 86400);
    struct json_object *q = idx(at(at(res, "indicators"), "quote"), 0);
    assert_true(dbl(last(at(q, "close"))) == price);
    assert_true(null_before_last(at(q, "close")));
    assert_true(null_before_last(at(q, "open")));
    struct json_object *reg = at(at(meta, "currentTradingPeriod"), "regular");
    assert_int_equal(json_object_get_int64(at(reg, "start")), US_OPEN);
    assert_int_equal(json_object_get_int64(at(reg, "end")), US_OPEN + 6 * 3600 + 1800);
    json_object_put(root);
    json_object_put(rec);

    /* a German listing as yahoo_chart_v8_WSU.DE_XETRA_EUR_2023-08.json */
    rec = recording("yahoo_chart_v8_WSU.DE_XETRA_EUR_2023-08.json");
    root = chart_of("SAP.DE", FM_FAULT_NONE, NULL);
    same_shape(root, rec, "chart(SAP.DE)");
    meta = at(result0(root), "meta");
    assert_string_equal(json_object_get_string(at(meta, "currency")), "EUR");
    assert_string_equal(json_object_get_string(at(meta, "exchangeName")), "GER");
    assert_int_equal(json_object_get_int64(last(at(result0(root), "timestamp"))),
                     1699920000 + 8 * 3600);
    json_object_put(root);
    json_object_put(rec);
}

/* London in pence as yahoo_chart_v8_OCDO.L_GBp.json: "GBp", and every
 * price is 100 × the pound price fm_price_major() gives. */
static void test_chart_pence(void **state)
{
    (void)state;
    struct json_object *rec = recording("yahoo_chart_v8_OCDO.L_GBp.json");
    struct json_object *root = chart_of("OCDO.L", FM_FAULT_NONE, NULL);
    /* OCDO's recording orders its trading-period and quote keys
     * differently from AAPL's; compare meta's own keys and the nesting. */
    struct json_object *meta = at(result0(root), "meta");
    struct json_object *rmeta = at(result0(rec), "meta");
    assert_int_equal(json_object_object_length(meta), json_object_object_length(rmeta));
    json_object_object_foreach(rmeta, k, v)
    {
        (void)v;
        assert_true(has(meta, k));
    }
    assert_string_equal(json_object_get_string(at(meta, "currency")), "GBp");
    assert_string_equal(json_object_get_string(at(meta, "exchangeName")), "LSE");
    assert_string_equal(json_object_get_string(at(meta, "exchangeTimezoneName")), "Europe/London");
    double pence = dbl(at(meta, "regularMarketPrice"));
    assert_true(fabs(pence - 100 * fm_price_major("OCDO.L", NOW)) < 1e-6);
    assert_int_equal(json_object_get_int64(last(at(result0(root), "timestamp"))),
                     1699920000 + 8 * 3600);
    json_object_put(root);
    json_object_put(rec);

    static const struct {
        const char *sym, *ccy;
    } minor[] = {{"NPN.JO", "ZAc"}, {"LUMI.TA", "ILA"}, {"ZC=F", "USX"}, {"KC=F", "USX"}};
    for (size_t i = 0; i < sizeof minor / sizeof minor[0]; i++) {
        root = chart_of(minor[i].sym, FM_FAULT_NONE, NULL);
        meta = at(result0(root), "meta");
        assert_string_equal(json_object_get_string(at(meta, "currency")), minor[i].ccy);
        assert_true(fabs(dbl(at(meta, "regularMarketPrice")) -
                         100 * fm_price_major(minor[i].sym, NOW)) < 1e-6);
        json_object_put(root);
    }
}

/* Futures as yahoo_chart_v8_GC=F_future_2020-01-02.json (no longName):
 * bars at 05:00 UTC and a last close that is NOT regularMarketPrice. */
static void test_chart_future(void **state)
{
    (void)state;
    static const char *const syms[] = {"GC=F", "CL=F", "ZC=F", "SB=F", "ES=F"};
    struct json_object *rec = recording("yahoo_chart_v8_GC=F_future_2020-01-02.json");
    for (size_t i = 0; i < sizeof syms / sizeof syms[0]; i++) {
        for (int64_t t = NOW; t < NOW + 3 * 3600; t += 3600) {
            struct fm_body b;
            struct fm_entry e = {syms[i], FM_FAULT_NONE};
            assert_int_equal(fm_wire_chart(&e, NULL, t, &b), 0);
            struct json_object *root = parse(&b);
            if (t == NOW)
                same_shape(root, rec, syms[i]);
            struct json_object *res = result0(root);
            struct json_object *meta = at(res, "meta");
            assert_string_equal(json_object_get_string(at(meta, "instrumentType")), "FUTURE");
            assert_false(has(meta, "longName"));
            double p = dbl(at(meta, "regularMarketPrice"));
            struct json_object *q = idx(at(at(res, "indicators"), "quote"), 0);
            if (dbl(last(at(q, "close"))) == p)
                fail_msg("%s at %lld: last close equals regularMarketPrice %g", syms[i],
                         (long long)t, p);
            assert_int_equal(json_object_get_int64(last(at(res, "timestamp"))),
                             1699920000 + 5 * 3600);
            json_object_put(root);
        }
    }
    json_object_put(rec);
}

/* Currency pairs as yahoo_chart_v8_EURUSD=X_2020-01-01_to_03.json. */
static void test_chart_pair(void **state)
{
    (void)state;
    struct json_object *rec = recording("yahoo_chart_v8_EURUSD=X_2020-01-01_to_03.json");
    struct json_object *root = chart_of("EURUSD=X", FM_FAULT_NONE, NULL);
    same_shape(root, rec, "chart(EURUSD=X)");
    struct json_object *meta = at(result0(root), "meta");
    assert_string_equal(json_object_get_string(at(meta, "currency")), "USD");
    assert_string_equal(json_object_get_string(at(meta, "instrumentType")), "CURRENCY");
    assert_string_equal(json_object_get_string(at(meta, "exchangeName")), "CCY");
    assert_int_equal(json_object_get_int(at(meta, "priceHint")), 4);
    assert_true(dbl(at(meta, "regularMarketPrice")) == fm_price_round(1 / 0.92, 5));
    assert_int_equal(json_object_get_int64(last(at(result0(root), "timestamp"))), 1699920000);
    json_object_put(root);
    json_object_put(rec);

    /* YYY=X is USD/YYY, quoted in YYY (yahoo_chart_v8_INR=X_with_null_2017-07.json) */
    rec = recording("yahoo_chart_v8_INR=X_with_null_2017-07.json");
    root = chart_of("INR=X", FM_FAULT_NONE, NULL);
    same_shape(root, rec, "chart(INR=X)");
    meta = at(result0(root), "meta");
    assert_string_equal(json_object_get_string(at(meta, "currency")), "INR");
    assert_true(dbl(at(meta, "regularMarketPrice")) == 83.3);
    json_object_put(root);
    json_object_put(rec);
}

/* range=5y and period1/period2: daily bars at the open, weekdays only,
 * oldest first, some null; as the MSFT year of bars
 * (yahoo_chart_MSFT_1d_2021-02-01_to_2022-01-31_dividends.json) without
 * its dividend events. */
static void test_chart_history(void **state)
{
    (void)state;
    struct fm_window w;
    assert_int_equal(fm_wire_window("5y", NULL, NULL, NOW, &w), 0);
    struct json_object *root = chart_of("MSFT", FM_FAULT_NONE, &w);
    struct json_object *res = result0(root);
    struct json_object *ts = at(res, "timestamp");
    size_t n = json_object_array_length(ts);
    assert_true(n > 1290 && n < 1310); /* 5 years of weekdays */
    for (size_t i = 0; i < n; i++) {
        int64_t t = json_object_get_int64(idx(ts, i));
        assert_int_equal((t % 86400 + 86400) % 86400, 13 * 3600 + 1800);
        int64_t wd = ((t / 86400) % 7 + 4) % 7;
        assert_true(wd != 0 && wd != 6);
        if (i > 0)
            assert_true(t > json_object_get_int64(idx(ts, i - 1)));
    }
    assert_string_equal(json_object_get_string(at(at(res, "meta"), "range")), "5y");
    struct json_object *close = at(idx(at(at(res, "indicators"), "quote"), 0), "close");
    assert_int_equal(json_object_array_length(close), n);
    assert_true(null_before_last(close));
    json_object_put(root);

    /* the MSFT recording's window: 2021-02-01 .. 2022-01-31 */
    assert_int_equal(fm_wire_window(NULL, "1612137600", "1643587200", NOW, &w), 0);
    struct json_object *rec =
        recording("yahoo_chart_MSFT_1d_2021-02-01_to_2022-01-31_dividends.json");
    root = chart_of("MSFT", FM_FAULT_NONE, &w);
    res = result0(root);
    struct json_object *rres = result0(rec);
    same_shape(at(res, "meta"), at(rres, "meta"), "meta");
    same_shape(at(res, "indicators"), at(rres, "indicators"), "indicators");
    assert_string_equal(json_object_get_string(at(at(res, "meta"), "range")), "");
    ts = at(res, "timestamp");
    /* the recording's first bar is 2021-02-01 14:30 UTC (EST); ours is
     * at 13:30 (fakemarket keeps EDT all year) */
    assert_int_equal(json_object_get_int64(idx(ts, 0)), 1612186200);
    assert_true(json_object_array_length(ts) > 255 && json_object_array_length(ts) < 265);
    json_object_put(root);
    json_object_put(rec);

    /* a weekend window has no bars: no timestamp, quote [{}], as
     * yahoo_chart_v8_AAPL_1m_weekend_no_bars.json */
    assert_int_equal(fm_wire_window(NULL, "1699747200", "1699833600", NOW, &w), 0);
    root = chart_of("AAPL", FM_FAULT_NONE, &w);
    res = result0(root);
    assert_false(has(res, "timestamp"));
    assert_int_equal(json_object_object_length(idx(at(at(res, "indicators"), "quote"), 0)), 0);
    json_object_put(root);

    assert_int_equal(fm_wire_window("7y", NULL, NULL, NOW, &w), -1);
    assert_int_equal(fm_wire_window(NULL, "5", "4", NOW, &w), -1);
    assert_int_equal(fm_wire_window(NULL, "x", NULL, NOW, &w), -1);
    assert_int_equal(fm_wire_window(NULL, NULL, NULL, NOW, &w), 0);
    assert_string_equal(w.range, "1d");
}

static void test_chart_absent(void **state)
{
    (void)state;
    static const enum fm_fault absent[] = {FM_FAULT_NOSUCH, FM_FAULT_MISSING};
    const char *want = recording_text("yahoo_chart_v8_404_unknown_symbol.json");
    for (size_t i = 0; i < 2; i++) {
        struct fm_body b;
        struct fm_entry e = {"X", absent[i]};
        assert_int_equal(fm_wire_chart(&e, NULL, NOW, &b), 0);
        assert_int_equal(b.status, 404);
        assert_string_equal(b.data, want);
        fm_body_clear(&b);
    }
}

static void test_chart_content_faults(void **state)
{
    (void)state;
    static const struct {
        enum fm_fault f;
        const char *price_json; /* regularMarketPrice as serialised */
        int64_t ts;
        const char *ccy;
    } cases[] = {
        {FM_FAULT_NULLPRICE, "null", NOW, "USD"},
        {FM_FAULT_NEGPRICE, "-5.0", NOW, "USD"},
        {FM_FAULT_ZEROPRICE, "0", NOW, "USD"},
        {FM_FAULT_NANPRICE, "\"NaN\"", NOW, "USD"},
        {FM_FAULT_FUTURETS, NULL, NOW + 86400, "USD"},
        {FM_FAULT_OLDTS, NULL, NOW - 30 * 86400, "USD"},
        {FM_FAULT_WRONGCCY, NULL, NOW, "JPY"},
        {FM_FAULT_NULLCLOSE, NULL, NOW, "USD"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct fm_body b;
        struct fm_entry e = {"AAPL", cases[i].f};
        assert_int_equal(fm_wire_chart(&e, NULL, NOW, &b), 0);
        assert_int_equal(b.status, 200);
        if (cases[i].price_json != NULL) {
            char want[64];
            snprintf(want, sizeof want, "\"regularMarketPrice\":%s,", cases[i].price_json);
            if (strstr(b.data, want) == NULL)
                fail_msg("%s: no %s in %s", fm_fault_name(cases[i].f), want, b.data);
        }
        struct json_object *root = parse(&b);
        struct json_object *res = result0(root);
        struct json_object *meta = at(res, "meta");
        assert_int_equal(json_object_get_int64(at(meta, "regularMarketTime")), cases[i].ts);
        assert_string_equal(json_object_get_string(at(meta, "currency")), cases[i].ccy);
        struct json_object *close = at(idx(at(at(res, "indicators"), "quote"), 0), "close");
        if (cases[i].f == FM_FAULT_NULLCLOSE || cases[i].f == FM_FAULT_NULLPRICE)
            assert_null(last(close));
        if (cases[i].f == FM_FAULT_NULLCLOSE)
            assert_true(dbl(at(meta, "regularMarketPrice")) == fm_price_quote("AAPL", NOW));
        json_object_put(root);
    }
}

static struct json_object *spark7_of(const struct fm_entry *e, size_t n, unsigned status)
{
    struct fm_body b;
    assert_int_equal(fm_wire_spark7(e, n, NOW, &b), 0);
    assert_int_equal(b.status, status);
    return parse(&b);
}

/* The v7 spark follows yahoo_spark_v7_TSLA.json exactly: spark.result[i]
 * = {symbol, response:[{meta, timestamp, indicators.quote[0].close}]},
 * timestamps [session open, regularMarketTime]. Unknown symbols are left
 * out; none known → the recorded 404 body. */
static void test_spark7(void **state)
{
    (void)state;
    struct json_object *rec = recording("yahoo_spark_v7_TSLA.json");
    const struct fm_entry e[] = {
        {"AAPL", FM_FAULT_NONE},   {"NOSUCH1", FM_FAULT_NOSUCH},
        {"OCDO.L", FM_FAULT_NONE}, {"MISSING", FM_FAULT_MISSING},
        {"AAPL", FM_FAULT_NONE},   {"NULLCLOSE", FM_FAULT_NULLCLOSE},
        {"CL=F", FM_FAULT_NONE},
    };
    struct json_object *root = spark7_of(e, 7, 200);
    same_shape(root, rec, "spark");
    struct json_object *results = at(at(root, "spark"), "result");
    assert_true(json_object_is_type(at(at(root, "spark"), "error"), json_type_null));
    assert_int_equal(json_object_array_length(results), 4);
    static const char *const order[] = {"AAPL", "OCDO.L", "NULLCLOSE", "CL=F"};
    for (size_t i = 0; i < 4; i++) {
        struct json_object *item = idx(results, i);
        assert_string_equal(json_object_get_string(at(item, "symbol")), order[i]);
        struct json_object *r = idx(at(item, "response"), 0);
        same_shape(r, idx(at(idx(at(at(rec, "spark"), "result"), 0), "response"), 0), order[i]);
        struct json_object *meta = at(r, "meta");
        struct json_object *ts = at(r, "timestamp");
        struct json_object *close = at(idx(at(at(r, "indicators"), "quote"), 0), "close");
        double p = dbl(at(meta, "regularMarketPrice"));
        assert_true(p == fm_price_quote(order[i], NOW));
        assert_int_equal(json_object_get_int64(at(meta, "regularMarketTime")), NOW);
        assert_true(null_before_last(close) || json_object_array_length(close) < 2);
        if (i == 0) {
            assert_int_equal(json_object_get_int64(idx(ts, 0)), US_OPEN);
            assert_int_equal(json_object_get_int64(idx(ts, 1)), NOW);
            assert_true(dbl(last(close)) == p);
        }
        if (i == 1)
            assert_string_equal(json_object_get_string(at(meta, "currency")), "GBp");
        if (i == 2)
            assert_null(last(close));
        if (i == 3) {
            assert_true(dbl(last(close)) != p);
            assert_int_equal(json_object_get_int64(last(ts)), 1699920000 + 5 * 3600);
        }
    }
    json_object_put(root);

    const struct fm_entry none[] = {{"NOSUCH1", FM_FAULT_NOSUCH}, {"M", FM_FAULT_MISSING}};
    struct fm_body b;
    assert_int_equal(fm_wire_spark7(none, 2, NOW, &b), 0);
    assert_int_equal(b.status, 404);
    struct json_object *got = parse(&b);
    struct json_object *want = recording("yahoo_spark_v7_404_none_pricehist.json");
    assert_true(json_object_equal(got, want));
    json_object_put(got);
    json_object_put(want);

    assert_int_equal(fm_wire_spark_too_many(21, 20, &b), 0);
    assert_int_equal(b.status, 400);
    got = parse(&b);
    assert_true(json_object_is_type(at(at(got, "spark"), "result"), json_type_null));
    assert_string_equal(json_object_get_string(at(at(at(got, "spark"), "error"), "code")),
                        "Bad Request");
    json_object_put(got);
    json_object_put(rec);
}

/* The flat v8 spark, member by member as
 * yahoo_spark_v8_AAPL_VTI_via_yfapi.json: no meta, so no currency. */
static void test_spark(void **state)
{
    (void)state;
    struct fm_body b;
    struct json_object *rec = recording("yahoo_spark_v8_AAPL_VTI_via_yfapi.json");
    const struct fm_entry e[] = {
        {"AAPL", FM_FAULT_NONE},       {"NOSUCH1", FM_FAULT_NOSUCH}, {"MSFT", FM_FAULT_NULLPRICE},
        {"MISSING", FM_FAULT_MISSING}, {"AAPL", FM_FAULT_NONE},
    };
    assert_int_equal(fm_wire_spark(e, 5, NOW, &b), 0);
    assert_int_equal(b.status, 200);
    struct json_object *root = parse(&b);
    assert_int_equal(json_object_object_length(root), 2);
    struct json_object *aapl = at(root, "AAPL");
    same_shape(aapl, at(rec, "AAPL"), "AAPL");
    assert_string_equal(json_object_get_string(at(aapl, "symbol")), "AAPL");
    struct json_object *close = at(aapl, "close");
    assert_true(dbl(last(close)) == fm_price_quote("AAPL", NOW));
    assert_true(null_before_last(close));
    assert_int_equal(json_object_get_int64(last(at(aapl, "timestamp"))), NOW);
    assert_int_equal(json_object_get_int64(idx(at(aapl, "timestamp"), 0)), US_OPEN);
    assert_true(json_object_get_double(at(aapl, "chartPreviousClose")) > 0);
    assert_int_equal(json_object_get_int(at(aapl, "dataGranularity")), 300);
    /* the fault hits MSFT's entry only */
    assert_null(last(at(at(root, "MSFT"), "close")));
    json_object_put(root);
    json_object_put(rec);

    const struct fm_entry none[] = {{"NOSUCH1", FM_FAULT_NOSUCH}, {"M", FM_FAULT_MISSING}};
    assert_int_equal(fm_wire_spark(none, 2, NOW, &b), 0);
    assert_int_equal(b.status, 404);
    root = parse(&b);
    assert_true(json_object_is_type(at(at(root, "spark"), "result"), json_type_null));
    json_object_put(root);
}

static void test_simple_price(void **state)
{
    (void)state;
    struct fm_body b;
    const struct fm_entry ids[] = {
        {"bitcoin", FM_FAULT_NONE},
        {"nosuch", FM_FAULT_NOSUCH},
        {"tether", FM_FAULT_OLDTS},
        {"wrongccy", FM_FAULT_WRONGCCY},
    };
    const char *const vs[] = {"usd", "EUR", "xyz", "usd"};
    assert_int_equal(fm_wire_simple_price(ids, 4, vs, 4, true, NOW, &b), 0);
    assert_int_equal(b.status, 200);
    struct json_object *root = parse(&b);
    assert_int_equal(json_object_object_length(root), 3);
    struct json_object *btc = at(root, "bitcoin");
    assert_int_equal(json_object_object_length(btc), 3); /* usd, eur, last_updated_at */
    double usd = json_object_get_double(at(btc, "usd"));
    assert_true(usd > 60000 * 0.97 && usd < 60000 * 1.03);
    double eur = json_object_get_double(at(btc, "eur"));
    assert_true(fabs(eur - usd * 0.92) < 0.02);
    assert_int_equal(json_object_get_int64(at(btc, "last_updated_at")), NOW);
    assert_int_equal(json_object_get_int64(at(at(root, "tether"), "last_updated_at")),
                     NOW - 30 * 86400);
    struct json_object *w = at(root, "wrongccy");
    assert_true(has(w, "jpy") && !has(w, "usd") && !has(w, "eur"));
    json_object_put(root);

    /* no last_updated_at unless asked; all unknown → {} */
    assert_int_equal(fm_wire_simple_price(ids, 1, vs, 1, false, NOW, &b), 0);
    root = parse(&b);
    assert_false(has(at(root, "bitcoin"), "last_updated_at"));
    json_object_put(root);
    assert_int_equal(fm_wire_simple_price(&ids[1], 1, vs, 1, true, NOW, &b), 0);
    assert_string_equal(b.data, "{}");
    fm_body_clear(&b);
}

/* Frankfurter as frankfurter_v1_latest_base_USD.json: the same top-level
 * keys, and with no target exactly the recording's 30 currencies, in its
 * alphabetical order. Unknown targets are absent; none known, or an
 * unknown base → the recorded 404; the base alone → 422. */
static void test_fx(void **state)
{
    (void)state;
    struct fm_body b;
    const char *const to[] = {"eur", "GBP", "USD", "XXX"};
    assert_int_equal(fm_wire_fx_latest("usd", to, 4, FM_FAULT_NONE, NOW, &b), 0);
    assert_int_equal(b.status, 200);
    assert_string_equal(b.data, "{\"amount\":1.0,\"base\":\"USD\",\"date\":\"2023-11-14\","
                                "\"rates\":{\"EUR\":0.92,\"GBP\":0.79}}");
    fm_body_clear(&b);

    struct json_object *rec = recording("frankfurter_v1_latest_base_USD.json");
    assert_int_equal(fm_wire_fx_latest("USD", NULL, 0, FM_FAULT_NONE, NOW, &b), 0);
    struct json_object *root = parse(&b);
    same_shape(root, rec, "latest");
    assert_int_equal(json_object_object_length(at(root, "rates")), 30);
    json_object_put(root);
    json_object_put(rec);

    /* base defaults to EUR; every other currency, USD among them */
    assert_int_equal(fm_wire_fx_latest(NULL, NULL, 0, FM_FAULT_NONE, NOW, &b), 0);
    root = parse(&b);
    assert_string_equal(json_object_get_string(at(root, "base")), "EUR");
    struct json_object *rates = at(root, "rates");
    assert_int_equal(json_object_object_length(rates), 30);
    assert_false(has(rates, "EUR"));
    assert_true(fabs(json_object_get_double(at(rates, "USD")) - 1 / 0.92) < 1e-5);
    json_object_put(root);

    const char *want404 = recording_text("frankfurter_v1_404_not_found.json");
    const char *const bad[] = {"XXX", "EURO"};
    assert_int_equal(fm_wire_fx_latest("USD", bad, 2, FM_FAULT_NONE, NOW, &b), 0);
    assert_int_equal(b.status, 404);
    assert_string_equal(b.data, want404);
    fm_body_clear(&b);
    assert_int_equal(fm_wire_fx_latest("EURO", NULL, 0, FM_FAULT_NONE, NOW, &b), 0);
    assert_int_equal(b.status, 404);
    fm_body_clear(&b);
    assert_int_equal(fm_wire_fx_latest("XXX", to, 1, FM_FAULT_NONE, NOW, &b), 0);
    assert_int_equal(b.status, 404);
    fm_body_clear(&b);
    const char *const self[] = {"usd"};
    assert_int_equal(fm_wire_fx_latest("USD", self, 1, FM_FAULT_NONE, NOW, &b), 0);
    assert_int_equal(b.status, 422);
    assert_string_equal(b.data, "{\"message\":\"bad currency pair\"}");
    fm_body_clear(&b);

    static const struct {
        enum fm_fault f;
        const char *want;
    } faults[] = {
        {FM_FAULT_NULLPRICE, "\"date\":\"2023-11-14\",\"rates\":{\"EUR\":null}}"},
        {FM_FAULT_MISSING, "\"rates\":{}}"},
        {FM_FAULT_FUTURETS, "\"date\":\"2023-11-15\""},
        {FM_FAULT_OLDTS, "\"date\":\"2023-10-15\""},
        {FM_FAULT_WRONGCCY, "\"base\":\"JPY\""},
    };
    for (size_t i = 0; i < sizeof faults / sizeof faults[0]; i++) {
        assert_int_equal(fm_wire_fx_latest("USD", to, 1, faults[i].f, NOW, &b), 0);
        if (strstr(b.data, faults[i].want) == NULL)
            fail_msg("%s: no %s in %s", fm_fault_name(faults[i].f), faults[i].want, b.data);
        fm_body_clear(&b);
    }
    assert_int_equal(fm_wire_fx_latest("USD", to, 1, FM_FAULT_NOSUCH, NOW, &b), 0);
    assert_int_equal(b.status, 404);
    fm_body_clear(&b);
}

static void test_escaping(void **state)
{
    (void)state;
    struct fm_body b;
    struct fm_entry e = {"A\"B\\C/D", FM_FAULT_NONE};
    assert_int_equal(fm_wire_spark(&e, 1, NOW, &b), 0);
    struct json_object *root = parse(&b);
    assert_string_equal(json_object_get_string(at(at(root, "A\"B\\C/D"), "symbol")), "A\"B\\C/D");
    json_object_put(root);
}

static void test_empty_and_bad_json(void **state)
{
    (void)state;
    static const enum fm_endpoint eps[] = {FM_EP_CHART, FM_EP_SPARK, FM_EP_SPARK7,
                                           FM_EP_SIMPLE_PRICE, FM_EP_FX};
    for (size_t i = 0; i < sizeof eps / sizeof eps[0]; i++) {
        struct fm_body b;
        assert_int_equal(fm_wire_empty(eps[i], &b), 0);
        assert_int_equal(b.status, 200);
        struct json_object *o = parse(&b);
        json_object_put(o);
        assert_int_equal(fm_wire_bad_json(eps[i], &b), 0);
        assert_int_equal(b.status, 200);
        assert_string_equal(b.content_type, "application/json;charset=utf-8");
        assert_null(json_tokener_parse(b.data));
        fm_body_clear(&b);
    }
    struct fm_body b;
    assert_int_equal(fm_wire_empty(FM_EP_CHART, &b), 0);
    assert_string_equal(b.data, "{\"chart\":{\"result\":[],\"error\":null}}");
    fm_body_clear(&b);
    assert_int_equal(fm_wire_bad_json(FM_EP_CHART, &b), 0);
    assert_memory_equal(b.data, "{\"chart\": {\"result\": [", 22);
    fm_body_clear(&b);
}

static void test_pad(void **state)
{
    (void)state;
    static const size_t sizes[] = {2u * 1024 * 1024, 100000, 100001, 4096};
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        struct fm_body b;
        struct fm_entry e = {"AAPL", FM_FAULT_NONE};
        assert_int_equal(fm_wire_chart(&e, NULL, NOW, &b), 0);
        assert_int_equal(fm_wire_pad(&b, sizes[i]), 0);
        assert_int_equal(b.len, sizes[i]);
        struct json_object *root = parse(&b);
        assert_true(has(root, "padding"));
        assert_true(has(root, "chart"));
        json_object_put(root);
    }
    /* "{}" pads without a dangling comma; too small or not an object fails */
    struct fm_body b;
    assert_int_equal(fm_wire_empty(FM_EP_SPARK, &b), 0);
    assert_int_equal(fm_wire_pad(&b, 1000), 0);
    assert_int_equal(b.len, 1000);
    json_object_put(parse(&b));
    assert_int_equal(fm_wire_empty(FM_EP_CHART, &b), 0);
    assert_int_equal(fm_wire_pad(&b, 20), -1);
    assert_string_equal(b.data, "{\"chart\":{\"result\":[],\"error\":null}}");
    fm_body_clear(&b);
    assert_int_equal(fm_wire_error(404, "x", &b), 0);
    b.data[0] = '[';
    assert_int_equal(fm_wire_pad(&b, 1000), -1);
    fm_body_clear(&b);
}

static void test_error(void **state)
{
    (void)state;
    struct fm_body b;
    assert_int_equal(fm_wire_error(400, "missing \"ids\"", &b), 0);
    assert_int_equal(b.status, 400);
    assert_string_equal(b.data, "{\"error\":\"missing \\\"ids\\\"\"}");
    fm_body_clear(&b);
    fm_body_clear(&b); /* twice is harmless */
}

/* Kraken as kraken_ticker_xbtusd_ethusd.json, key for key, under the
 * canonical names (XBTUSD answers as XXBTZUSD), priced like the CoinGecko
 * id of the same coin; one absent pair fails the whole request with the
 * recorded error. */
static void test_kraken(void **state)
{
    (void)state;
    struct fm_body b;
    const struct fm_entry pairs[] = {{"XBTUSD", FM_FAULT_NONE}, {"ETHUSD", FM_FAULT_NONE}};
    assert_int_equal(fm_wire_kraken_ticker(pairs, 2, NOW, &b), 0);
    assert_int_equal(b.status, 200);
    struct json_object *root = parse(&b);
    struct json_object *rec = recording("kraken_ticker_xbtusd_ethusd.json");
    assert_int_equal(json_object_array_length(at(root, "error")), 0);
    same_shape(at(at(root, "result"), "XXBTZUSD"), at(at(rec, "result"), "XXBTZUSD"), "XXBTZUSD");
    same_shape(at(at(root, "result"), "XETHZUSD"), at(at(rec, "result"), "XETHZUSD"), "XETHZUSD");
    const char *last = json_object_get_string(idx(at(at(at(root, "result"), "XXBTZUSD"), "c"), 0));
    assert_true(fabs(strtod(last, NULL) - fm_price_crypto("bitcoin", NOW)) < 0.00001);
    json_object_put(rec);
    json_object_put(root);

    const struct fm_entry bad[] = {{"XBTUSD", FM_FAULT_NONE}, {"NOSUCHUSD", FM_FAULT_NOSUCH}};
    assert_int_equal(fm_wire_kraken_ticker(bad, 2, NOW, &b), 0);
    const char *want = recording_text("kraken_error_unknown_pair.json");
    assert_int_equal(b.status, 200);
    assert_string_equal(b.data, want);
    fm_body_clear(&b);
}

/* open.er-api as erapi_latest_usd_2024-08-19.json: the same top-level
 * keys, USD 1, the ECB table's rates plus the ones it lacks (TWD, AED at
 * the recorded figures); another base → the recorded unsupported-code. */
static void test_erapi(void **state)
{
    (void)state;
    struct fm_body b;
    assert_int_equal(fm_wire_erapi_latest("USD", FM_FAULT_NONE, NOW, &b), 0);
    assert_int_equal(b.status, 200);
    struct json_object *root = parse(&b);
    struct json_object *rec = recording("erapi_latest_usd_2024-08-19.json");
    struct json_object_iterator a = json_object_iter_begin(root), ae = json_object_iter_end(root);
    struct json_object_iterator r = json_object_iter_begin(rec), re = json_object_iter_end(rec);
    for (; !json_object_iter_equal(&r, &re); json_object_iter_next(&r), json_object_iter_next(&a)) {
        assert_false(json_object_iter_equal(&a, &ae));
        assert_string_equal(json_object_iter_peek_name(&a), json_object_iter_peek_name(&r));
    }
    assert_true(json_object_iter_equal(&a, &ae));
    struct json_object *rates = at(root, "rates");
    assert_int_equal(json_object_get_int(at(rates, "USD")), 1);
    assert_true(json_object_get_double(at(rates, "EUR")) == 0.92);
    assert_true(json_object_get_double(at(rates, "TWD")) == 32.092281);
    assert_true(json_object_get_double(at(rates, "AED")) == 3.6725);
    assert_int_equal(json_object_get_int64(at(root, "time_last_update_unix")), 1699920000 + 151);
    json_object_put(rec);
    json_object_put(root);

    assert_int_equal(fm_wire_erapi_latest("EUR", FM_FAULT_NONE, NOW, &b), 0);
    root = parse(&b);
    rec = recording("erapi_error_unsupported_code.json");
    assert_true(json_object_equal(root, rec));
    json_object_put(rec);
    json_object_put(root);
}

/* Twelve Data as twelvedata_quote_AAPL_2026-09-08.json, key for key: one
 * symbol flat, several keyed by symbol with the recorded 404 object for an
 * unknown one; no key → the recorded 401. */
static void test_twelvedata(void **state)
{
    (void)state;
    struct fm_body b;
    const struct fm_entry syms[] = {
        {"AAPL", FM_FAULT_NONE}, {"SAP:XETR", FM_FAULT_NONE}, {"NOSUCH", FM_FAULT_NOSUCH}};
    struct json_object *rec = recording("twelvedata_quote_AAPL_2026-09-08.json");
    assert_int_equal(fm_wire_twelvedata_quote(syms, 1, true, NOW, &b), 0);
    assert_int_equal(b.status, 200);
    struct json_object *root = parse(&b);
    same_shape(root, rec, "quote");
    assert_true(strtod(json_object_get_string(at(root, "close")), NULL) ==
                fm_price_quote("AAPL", NOW));
    assert_int_equal(json_object_get_int64(at(root, "last_quote_at")), NOW);
    assert_string_equal(json_object_get_string(at(root, "currency")), "USD");
    json_object_put(root);

    assert_int_equal(fm_wire_twelvedata_quote(syms, 3, true, NOW, &b), 0);
    root = parse(&b);
    same_shape(at(root, "AAPL"), rec, "AAPL");
    /* SAP:XETR is Yahoo's SAP.DE: the same listing, in EUR */
    assert_string_equal(json_object_get_string(at(at(root, "SAP:XETR"), "currency")), "EUR");
    assert_true(strtod(json_object_get_string(at(at(root, "SAP:XETR"), "close")), NULL) ==
                fm_price_quote("SAP.DE", NOW));
    struct json_object *nf = recording("twelvedata_error_404_invalid_symbol_2026-09-16.json");
    assert_true(json_object_equal(at(root, "NOSUCH"), nf));
    json_object_put(root);
    json_object_put(rec);

    assert_int_equal(fm_wire_twelvedata_quote(&syms[2], 1, true, NOW, &b), 0);
    root = parse(&b);
    assert_true(json_object_equal(root, nf));
    json_object_put(root);
    json_object_put(nf);

    assert_int_equal(fm_wire_twelvedata_quote(syms, 1, false, NOW, &b), 0);
    assert_int_equal(b.status, 401);
    root = parse(&b);
    rec = recording("twelvedata_error_401_bad_key_2026-09-16.json");
    assert_true(json_object_equal(root, rec));
    json_object_put(rec);
    json_object_put(root);
}

/* Coinbase as coinbase_spot_btc_usd_2026-08-01.json; an unknown base, or
 * a quote other than USD, the recorded "Invalid base currency" (404). */
static void test_coinbase(void **state)
{
    (void)state;
    struct fm_body b;
    const struct fm_entry btc = {"BTC-USD", FM_FAULT_NONE};
    assert_int_equal(fm_wire_coinbase_spot(&btc, NOW, &b), 0);
    assert_int_equal(b.status, 200);
    struct json_object *root = parse(&b);
    struct json_object *rec = recording("coinbase_spot_btc_usd_2026-08-01.json");
    same_shape(root, rec, "spot");
    double amount = strtod(json_object_get_string(at(at(root, "data"), "amount")), NULL);
    assert_true(fabs(amount - fm_price_crypto("bitcoin", NOW)) < 0.001);
    assert_string_equal(json_object_get_string(at(at(root, "data"), "base")), "BTC");
    json_object_put(rec);
    json_object_put(root);
    const char *want = recording_text("coinbase_error_invalid_base_currency.json");
    const struct fm_entry bad[] = {{"NOSUCH-USD", FM_FAULT_NOSUCH}, {"BTC-EUR", FM_FAULT_NONE}};
    for (size_t i = 0; i < 2; i++) {
        assert_int_equal(fm_wire_coinbase_spot(&bad[i], NOW, &b), 0);
        assert_int_equal(b.status, 404);
        assert_string_equal(b.data, want);
        fm_body_clear(&b);
    }
}

/* Binance as binance_ticker_price_symbols_BTCUSDT_BNBUSDT.json (the array,
 * in the order asked, key for key) and binance_ticker_price_symbol_BNBUSDT
 * (one object); prices priced like the coin's CoinGecko id with the
 * recordings' 8 decimals; an unknown pair, or one not in USDT, the recorded
 * -1121 with 400, byte for byte, for the whole request. */
static void test_binance(void **state)
{
    (void)state;
    struct fm_body b;
    const struct fm_entry two[] = {{"BTCUSDT", FM_FAULT_NONE}, {"BNBUSDT", FM_FAULT_NONE}};
    assert_int_equal(fm_wire_binance_price(two, 2, false, NOW, &b), 0);
    assert_int_equal(b.status, 200);
    struct json_object *root = parse(&b);
    struct json_object *rec = recording("binance_ticker_price_symbols_BTCUSDT_BNBUSDT.json");
    assert_true(json_object_is_type(root, json_type_array));
    assert_int_equal(json_object_array_length(root), json_object_array_length(rec));
    const char *ids[] = {"bitcoin", "binancecoin"};
    for (size_t i = 0; i < 2; i++) {
        struct json_object *e = json_object_array_get_idx(root, i);
        struct json_object *r = json_object_array_get_idx(rec, i);
        same_shape(e, r, "ticker/price");
        assert_string_equal(json_object_get_string(at(e, "symbol")),
                            json_object_get_string(at(r, "symbol")));
        const char *price = json_object_get_string(at(e, "price"));
        const char *dot = strchr(price, '.');
        assert_non_null(dot);
        assert_int_equal(strlen(dot + 1),
                         strlen(strchr(json_object_get_string(at(r, "price")), '.') + 1));
        assert_true(fabs(strtod(price, NULL) - fm_price_crypto(ids[i], NOW)) < 1e-7);
    }
    json_object_put(rec);
    json_object_put(root);

    assert_int_equal(fm_wire_binance_price(&two[1], 1, true, NOW, &b), 0);
    assert_int_equal(b.status, 200);
    root = parse(&b);
    rec = recording("binance_ticker_price_symbol_BNBUSDT.json");
    same_shape(root, rec, "ticker/price?symbol");
    assert_string_equal(json_object_get_string(at(root, "symbol")), "BNBUSDT");
    json_object_put(rec);
    json_object_put(root);

    const char *want = recording_text("binance_error_invalid_symbol_400.json");
    const struct fm_entry bad[][2] = {{{"BTCUSDT", FM_FAULT_NONE}, {"NOSUCHUSDT", FM_FAULT_NOSUCH}},
                                      {{"BTCUSD", FM_FAULT_NONE}, {"BNBUSDT", FM_FAULT_NONE}}};
    for (size_t i = 0; i < 2; i++) {
        assert_int_equal(fm_wire_binance_price(bad[i], 2, false, NOW, &b), 0);
        assert_int_equal(b.status, 400);
        assert_string_equal(b.data, want);
        fm_body_clear(&b);
    }
    /* a content fault spoils its own entry only */
    const struct fm_entry nulled[] = {{"BTCUSDT", FM_FAULT_NULLPRICE}, {"BNBUSDT", FM_FAULT_NONE}};
    assert_int_equal(fm_wire_binance_price(nulled, 2, false, NOW, &b), 0);
    root = parse(&b);
    assert_true(json_object_get_type(at(json_object_array_get_idx(root, 0), "price")) ==
                json_type_null);
    assert_non_null(json_object_get_string(at(json_object_array_get_idx(root, 1), "price")));
    json_object_put(root);
}

/* Every other source's name of a coin fakemarket prices like a CoinGecko
 * id stands for that id; anything else for itself. */
static void test_asset_of(void **state)
{
    (void)state;
    assert_string_equal(fm_wire_asset_of("XBTUSD"), "bitcoin");
    assert_string_equal(fm_wire_asset_of("XDGUSD"), "dogecoin");
    assert_string_equal(fm_wire_asset_of("BTC-USD"), "bitcoin");
    assert_string_equal(fm_wire_asset_of("DOT-USD"), "polkadot");
    assert_string_equal(fm_wire_asset_of("BTCUSDT"), "bitcoin");
    assert_string_equal(fm_wire_asset_of("BNBUSDT"), "binancecoin");
    assert_string_equal(fm_wire_asset_of("bitcoin"), "bitcoin");
    assert_string_equal(fm_wire_asset_of("AAPL"), "AAPL");
    /* not a coin Coinbase prices in USD: its own name */
    assert_string_equal(fm_wire_asset_of("BTC-EUR"), "BTC-EUR");
    assert_string_equal(fm_wire_asset_of("BT-USD"), "BT-USD");
    assert_string_equal(fm_wire_asset_of("-USD"), "-USD");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_chart),
        cmocka_unit_test(test_chart_pence),
        cmocka_unit_test(test_chart_future),
        cmocka_unit_test(test_chart_pair),
        cmocka_unit_test(test_chart_history),
        cmocka_unit_test(test_chart_absent),
        cmocka_unit_test(test_chart_content_faults),
        cmocka_unit_test(test_spark7),
        cmocka_unit_test(test_spark),
        cmocka_unit_test(test_simple_price),
        cmocka_unit_test(test_fx),
        cmocka_unit_test(test_escaping),
        cmocka_unit_test(test_empty_and_bad_json),
        cmocka_unit_test(test_pad),
        cmocka_unit_test(test_error),
        cmocka_unit_test(test_kraken),
        cmocka_unit_test(test_erapi),
        cmocka_unit_test(test_twelvedata),
        cmocka_unit_test(test_coinbase),
        cmocka_unit_test(test_binance),
        cmocka_unit_test(test_asset_of),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
