/*
 * Unit tests of tests/fakemarket/wire.c: each body parses as JSON of the
 * provider's shape, absent entries are left out, content faults change
 * only their own entry, and the fault bodies (EMPTY, BADJSON, HUGE) are
 * what they claim to be.
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
#include <string.h>

#include <cmocka.h>

#define NOW 1700000000

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

static void test_chart(void **state)
{
    (void)state;
    struct fm_body b;
    struct fm_entry e = {"SAP.DE", FM_FAULT_NONE};
    assert_int_equal(fm_wire_chart(&e, NOW, &b), 0);
    assert_int_equal(b.status, 200);
    assert_string_equal(b.content_type, "application/json");
    struct json_object *root = parse(&b);
    struct json_object *chart = at(root, "chart");
    assert_true(json_object_is_type(at(chart, "error"), json_type_null));
    struct json_object *res = json_object_array_get_idx(at(chart, "result"), 0);
    struct json_object *meta = at(res, "meta");
    assert_string_equal(json_object_get_string(at(meta, "currency")), "EUR");
    assert_string_equal(json_object_get_string(at(meta, "symbol")), "SAP.DE");
    assert_string_equal(json_object_get_string(at(meta, "exchangeName")), "GER");
    assert_string_equal(json_object_get_string(at(meta, "instrumentType")), "EQUITY");
    assert_int_equal(json_object_get_int64(at(meta, "regularMarketTime")), NOW);
    double price = json_object_get_double(at(meta, "regularMarketPrice"));
    assert_true(price == fm_price_round(fm_price_stock("SAP.DE", NOW), 2));
    assert_true(json_object_get_double(at(meta, "previousClose")) > 0);
    assert_true(json_object_get_double(at(meta, "chartPreviousClose")) > 0);
    struct json_object *ts = at(res, "timestamp");
    assert_int_equal(json_object_get_int64(json_object_array_get_idx(ts, 0)), NOW);
    struct json_object *q = json_object_array_get_idx(at(at(res, "indicators"), "quote"), 0);
    assert_true(json_object_get_double(json_object_array_get_idx(at(q, "close"), 0)) == price);
    json_object_put(root);
}

static void test_chart_absent(void **state)
{
    (void)state;
    static const enum fm_fault absent[] = {FM_FAULT_NOSUCH, FM_FAULT_MISSING};
    for (size_t i = 0; i < 2; i++) {
        struct fm_body b;
        struct fm_entry e = {"X", absent[i]};
        assert_int_equal(fm_wire_chart(&e, NOW, &b), 0);
        assert_int_equal(b.status, 404);
        struct json_object *root = parse(&b);
        struct json_object *chart = at(root, "chart");
        assert_true(json_object_is_type(at(chart, "result"), json_type_null));
        assert_string_equal(json_object_get_string(at(at(chart, "error"), "code")), "Not Found");
        json_object_put(root);
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
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct fm_body b;
        struct fm_entry e = {"AAPL", cases[i].f};
        assert_int_equal(fm_wire_chart(&e, NOW, &b), 0);
        assert_int_equal(b.status, 200);
        if (cases[i].price_json != NULL) {
            char want[64];
            snprintf(want, sizeof want, "\"regularMarketPrice\":%s,", cases[i].price_json);
            if (strstr(b.data, want) == NULL)
                fail_msg("%s: no %s in %s", fm_fault_name(cases[i].f), want, b.data);
        }
        struct json_object *root = parse(&b);
        struct json_object *res = json_object_array_get_idx(at(at(root, "chart"), "result"), 0);
        struct json_object *meta = at(res, "meta");
        assert_int_equal(json_object_get_int64(at(meta, "regularMarketTime")), cases[i].ts);
        assert_string_equal(json_object_get_string(at(meta, "currency")), cases[i].ccy);
        json_object_put(root);
    }
}

static void test_spark(void **state)
{
    (void)state;
    struct fm_body b;
    const struct fm_entry e[] = {
        {"AAPL", FM_FAULT_NONE},       {"NOSUCH1", FM_FAULT_NOSUCH}, {"MSFT", FM_FAULT_NULLPRICE},
        {"MISSING", FM_FAULT_MISSING}, {"AAPL", FM_FAULT_NONE},
    };
    assert_int_equal(fm_wire_spark(e, 5, NOW, &b), 0);
    assert_int_equal(b.status, 200);
    struct json_object *root = parse(&b);
    assert_int_equal(json_object_object_length(root), 2);
    struct json_object *aapl = at(root, "AAPL");
    assert_string_equal(json_object_get_string(at(aapl, "symbol")), "AAPL");
    assert_int_equal(json_object_array_length(at(aapl, "close")), 1);
    assert_int_equal(json_object_array_length(at(aapl, "timestamp")), 1);
    assert_true(json_object_get_double(json_object_array_get_idx(at(aapl, "close"), 0)) ==
                fm_price_round(fm_price_stock("AAPL", NOW), 2));
    assert_true(has(aapl, "previousClose"));
    assert_true(json_object_get_double(at(aapl, "chartPreviousClose")) > 0);
    assert_int_equal(json_object_get_int(at(aapl, "dataGranularity")), 300);
    /* the fault hits MSFT's entry only */
    struct json_object *msft = at(root, "MSFT");
    assert_true(json_object_array_get_idx(at(msft, "close"), 0) == NULL);
    json_object_put(root);

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

static void test_fx(void **state)
{
    (void)state;
    struct fm_body b;
    const char *const to[] = {"eur", "GBP", "USD"};
    assert_int_equal(fm_wire_fx_latest("usd", to, 3, FM_FAULT_NONE, NOW, &b), 0);
    assert_int_equal(b.status, 200);
    assert_string_equal(b.data, "{\"amount\":1.0,\"base\":\"USD\",\"date\":\"2023-11-14\","
                                "\"rates\":{\"EUR\":0.92,\"GBP\":0.79}}");
    fm_body_clear(&b);

    assert_int_equal(fm_wire_fx_latest(NULL, NULL, 0, FM_FAULT_NONE, NOW, &b), 0);
    struct json_object *root = parse(&b);
    assert_string_equal(json_object_get_string(at(root, "base")), "EUR");
    struct json_object *rates = at(root, "rates");
    assert_int_equal(json_object_object_length(rates), 5);
    assert_false(has(rates, "EUR"));
    assert_true(fabs(json_object_get_double(at(rates, "USD")) - 1 / 0.92) < 1e-5);
    json_object_put(root);

    const char *const bad[] = {"EUR", "XXX"};
    assert_int_equal(fm_wire_fx_latest("USD", bad, 2, FM_FAULT_NONE, NOW, &b), 0);
    assert_int_equal(b.status, 404);
    assert_string_equal(b.data, "{\"message\":\"not found\"}");
    fm_body_clear(&b);
    assert_int_equal(fm_wire_fx_latest("EURO", NULL, 0, FM_FAULT_NONE, NOW, &b), 0);
    assert_int_equal(b.status, 404);
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
    static const enum fm_endpoint eps[] = {FM_EP_CHART, FM_EP_SPARK, FM_EP_SIMPLE_PRICE, FM_EP_FX};
    for (size_t i = 0; i < 4; i++) {
        struct fm_body b;
        assert_int_equal(fm_wire_empty(eps[i], &b), 0);
        assert_int_equal(b.status, 200);
        struct json_object *o = parse(&b);
        json_object_put(o);
        assert_int_equal(fm_wire_bad_json(eps[i], &b), 0);
        assert_int_equal(b.status, 200);
        assert_string_equal(b.content_type, "application/json");
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
        assert_int_equal(fm_wire_chart(&e, NOW, &b), 0);
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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_chart),
        cmocka_unit_test(test_chart_absent),
        cmocka_unit_test(test_chart_content_faults),
        cmocka_unit_test(test_spark),
        cmocka_unit_test(test_simple_price),
        cmocka_unit_test(test_fx),
        cmocka_unit_test(test_escaping),
        cmocka_unit_test(test_empty_and_bad_json),
        cmocka_unit_test(test_pad),
        cmocka_unit_test(test_error),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
