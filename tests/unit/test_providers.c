/*
 * Unit tests of daemon/provider.c and the providers (yahoo, coingecko):
 * answer bodies written by hand in each API's real shape, and the wrong
 * shapes an upstream sends when it is having a bad day, each read through
 * provider_parse_json() and the provider's parse(); URLs and headers built
 * for a config filled here (no environment).
 */
#include "provider.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

static struct config C;

static int setup(void **state)
{
    (void)state;
    memset(&C, 0, sizeof C);
    util_strlcpy(C.yahoo_base_url, "https://query1.finance.yahoo.com", sizeof C.yahoo_base_url);
    util_strlcpy(C.coingecko_base_url, "https://api.coingecko.com/api/v3",
                 sizeof C.coingecko_base_url);
    C.coingecko_batch = 100;
    return 0;
}

static const struct provider *yahoo(void)
{
    const struct provider *p = provider_find("yahoo");
    assert_non_null(p);
    return p;
}

static const struct provider *coingecko(void)
{
    const struct provider *p = provider_find("coingecko");
    assert_non_null(p);
    return p;
}

/* ---- registry ---------------------------------------------------------- */

static void test_registry(void **state)
{
    (void)state;
    size_t n = 0;
    const struct provider *const *all = provider_all(&n);
    assert_true(n >= 2); /* yahoo, coingecko and any added since */
    for (size_t i = 0; i < n; i++) {
        assert_ptr_equal(provider_find(all[i]->name), all[i]);
        assert_non_null(all[i]->batch_size);
        assert_non_null(all[i]->normalize);
        assert_non_null(all[i]->build_url);
        assert_non_null(all[i]->parse);
        assert_true(all[i]->concurrency >= 1);
    }
    assert_null(provider_find("nope"));
    assert_null(provider_find("Yahoo")); /* names are exact */
    assert_int_equal(yahoo()->batch_size(&C), 1);
    assert_int_equal(coingecko()->batch_size(&C), 100);
    C.coingecko_batch = 7;
    assert_int_equal(coingecko()->batch_size(&C), 7);
}

/* ---- parse ------------------------------------------------------------- */

/* One row: a body, the symbols asked for, and per symbol what must come out
 * (found or missing; kind; price; currency; time; a substring of the
 * error). rc -1 means the whole answer is unusable (shape), with err. */
struct want {
    int found;
    enum quote_error_kind kind;
    double price;
    const char *currency;
    int64_t time;
    const char *error; /* substring, when kind != OK */
};

struct parse_case {
    const char *name;
    const char *body;
    const char *syms[4];
    size_t n;
    int rc;
    const char *err; /* substring of err when rc == -1 */
    struct want w[4];
};

static void run_parse_cases(const struct provider *p, const struct parse_case *cases, size_t nc)
{
    for (size_t i = 0; i < nc; i++) {
        const struct parse_case *c = &cases[i];
        char err[160] = "";
        json_object *root =
            provider_parse_json(c->body, strlen(c->body), "application/json", err, sizeof err);
        if (root == NULL)
            fail_msg("%s: body refused: %s", c->name, err);
        struct quote out[4];
        unsigned char found[4];
        memset(out, 0, sizeof out);
        memset(found, 0, sizeof found);
        int rc = p->parse(root, c->syms, c->n, out, found, err, sizeof err);
        json_object_put(root);
        if (rc != c->rc)
            fail_msg("%s: rc %d, want %d (%s)", c->name, rc, c->rc, err);
        if (rc != 0) {
            if (strstr(err, c->err) == NULL)
                fail_msg("%s: err '%s' lacks '%s'", c->name, err, c->err);
            continue;
        }
        for (size_t k = 0; k < c->n; k++) {
            const struct want *w = &c->w[k];
            if (found[k] != w->found)
                fail_msg("%s: %s found %d, want %d", c->name, c->syms[k], found[k], w->found);
            if (!w->found)
                continue;
            if (out[k].kind != w->kind)
                fail_msg("%s: %s kind %d, want %d (%s)", c->name, c->syms[k], out[k].kind, w->kind,
                         out[k].error);
            if (w->kind == QUOTE_OK) {
                if (out[k].price != w->price)
                    fail_msg("%s: price %.17g, want %.17g", c->name, out[k].price, w->price);
                assert_string_equal(out[k].currency, w->currency);
                assert_true(out[k].price_time == w->time);
            } else if (strstr(out[k].error, w->error) == NULL) {
                fail_msg("%s: error '%s' lacks '%s'", c->name, out[k].error, w->error);
            }
        }
    }
}

#define T 1763700000
#define OK(p, ccy, t)                                                                              \
    {                                                                                              \
        1, QUOTE_OK, p, ccy, t, NULL                                                               \
    }
#define BAD(why)                                                                                   \
    {                                                                                              \
        1, QUOTE_PERMANENT, 0, NULL, 0, why                                                        \
    }
#define MISSING                                                                                    \
    {                                                                                              \
        0, QUOTE_OK, 0, NULL, 0, NULL                                                              \
    }

static void test_yahoo_parse(void **state)
{
    (void)state;
    static const struct parse_case cases[] = {
        {"chart v8",
         "{\"chart\":{\"result\":[{\"meta\":{\"currency\":\"USD\",\"symbol\":\"AAPL\","
         "\"regularMarketPrice\":189.84,\"regularMarketTime\":1763700000}}],\"error\":null}}",
         {"AAPL"},
         1,
         0,
         NULL,
         {OK(189.84, "USD", T)}},
        {"index, more fields, an integer price",
         "{\"chart\":{\"result\":[{\"meta\":{\"currency\":\"USD\",\"symbol\":\"^GSPC\","
         "\"exchangeName\":\"SNP\",\"regularMarketPrice\":6602,\"regularMarketTime\":1763700000,"
         "\"previousClose\":6538.76},\"timestamp\":[1763700000],\"indicators\":{\"quote\":[{}]}}"
         "],\"error\":null}}",
         {"^GSPC"},
         1,
         0,
         NULL,
         {OK(6602, "USD", T)}},
        {"pence",
         "{\"chart\":{\"result\":[{\"meta\":{\"currency\":\"GBp\",\"regularMarketPrice\":"
         "1234.5,\"regularMarketTime\":1763700000}}],\"error\":null}}",
         {"VOD.L"},
         1,
         0,
         NULL,
         {OK(1234.5, "GBp", T)}},
        {"no time, no currency",
         "{\"chart\":{\"result\":[{\"meta\":{\"regularMarketPrice\":1.5}}],\"error\":null}}",
         {"X"},
         1,
         0,
         NULL,
         {OK(1.5, "", 0)}},
        {"time as a string is ignored",
         "{\"chart\":{\"result\":[{\"meta\":{\"regularMarketPrice\":1.5,\"currency\":\"USD\","
         "\"regularMarketTime\":\"yesterday\"}}],\"error\":null}}",
         {"X"},
         1,
         0,
         NULL,
         {OK(1.5, "USD", 0)}},
        {"overlong currency is cut",
         "{\"chart\":{\"result\":[{\"meta\":{\"regularMarketPrice\":2,\"currency\":"
         "\"ABCDEFGHIJKL\"}}],\"error\":null}}",
         {"X"},
         1,
         0,
         NULL,
         {OK(2, "ABCDEFG", 0)}},
        {"negative price passes parse (validation refuses it)",
         "{\"chart\":{\"result\":[{\"meta\":{\"currency\":\"USD\",\"regularMarketPrice\":-5,"
         "\"regularMarketTime\":1763700000}}],\"error\":null}}",
         {"X"},
         1,
         0,
         NULL,
         {OK(-5, "USD", T)}},
        {"chart error",
         "{\"chart\":{\"result\":null,\"error\":{\"code\":\"Not Found\",\"description\":"
         "\"No data found, symbol may be delisted\"}}}",
         {"NOPE"},
         1,
         0,
         NULL,
         {BAD("No data found, symbol may be delisted")}},
        {"chart error without description",
         "{\"chart\":{\"result\":null,\"error\":{\"code\":\"Unauthorized\"}}}",
         {"X"},
         1,
         0,
         NULL,
         {BAD("unknown error")}},
        {"chart error with a null description",
         "{\"chart\":{\"result\":null,\"error\":{\"description\":null}}}",
         {"X"},
         1,
         0,
         NULL,
         {BAD("unknown error")}},
        {"chart error with control characters",
         "{\"chart\":{\"result\":null,\"error\":{\"description\":\"bad\\nthing\\u0001\"}}}",
         {"X"},
         1,
         0,
         NULL,
         {BAD("bad thing?")}},
        {"null price",
         "{\"chart\":{\"result\":[{\"meta\":{\"currency\":\"USD\",\"regularMarketPrice\":null}}],"
         "\"error\":null}}",
         {"X"},
         1,
         0,
         NULL,
         {BAD("price is missing or null")}},
        {"missing price",
         "{\"chart\":{\"result\":[{\"meta\":{\"currency\":\"USD\"}}],"
         "\"error\":null}}",
         {"X"},
         1,
         0,
         NULL,
         {BAD("price is missing")}},
        {"string price",
         "{\"chart\":{\"result\":[{\"meta\":{\"regularMarketPrice\":\"189.84\"}}],\"error\":null}}",
         {"X"},
         1,
         0,
         NULL,
         {BAD("price is not a number: \"189.84\"")}},
        {"boolean price",
         "{\"chart\":{\"result\":[{\"meta\":{\"regularMarketPrice\":true}}],\"error\":null}}",
         {"X"},
         1,
         0,
         NULL,
         {BAD("not a number")}},
        {"NaN price (json-c reads NaN)",
         "{\"chart\":{\"result\":[{\"meta\":{\"regularMarketPrice\":NaN}}],\"error\":null}}",
         {"X"},
         1,
         0,
         NULL,
         {BAD("not finite")}},
        {"absurd time",
         "{\"chart\":{\"result\":[{\"meta\":{\"regularMarketPrice\":1,"
         "\"regularMarketTime\":1e300}}],\"error\":null}}",
         {"X"},
         1,
         0,
         NULL,
         {BAD("time")}},
        {"empty result: missing",
         "{\"chart\":{\"result\":[],\"error\":null}}",
         {"X"},
         1,
         0,
         NULL,
         {MISSING}},
        {"no chart", "{\"finance\":{\"result\":null}}", {"X"}, 1, -1, "chart", {MISSING}},
        {"not an object", "[1,2,3]", {"X"}, 1, -1, "chart", {MISSING}},
        {"chart is a string", "{\"chart\":\"down\"}", {"X"}, 1, -1, "chart", {MISSING}},
        {"result and error null",
         "{\"chart\":{\"result\":null,\"error\":null}}",
         {"X"},
         1,
         -1,
         "chart.result",
         {MISSING}},
        {"result an object",
         "{\"chart\":{\"result\":{},\"error\":null}}",
         {"X"},
         1,
         -1,
         "chart.result",
         {MISSING}},
        {"no meta",
         "{\"chart\":{\"result\":[{}],\"error\":null}}",
         {"X"},
         1,
         -1,
         "meta",
         {MISSING}},
        {"result[0] null",
         "{\"chart\":{\"result\":[null],\"error\":null}}",
         {"X"},
         1,
         -1,
         "meta",
         {MISSING}},
        {"two symbols: one per request",
         "{\"chart\":{\"result\":[],\"error\":null}}",
         {"A", "B"},
         2,
         -1,
         "one symbol",
         {MISSING, MISSING}},
    };
    run_parse_cases(yahoo(), cases, ARRAY_LEN(cases));
}

static void test_coingecko_parse(void **state)
{
    (void)state;
    static const struct parse_case cases[] = {
        {"simple price",
         "{\"bitcoin\":{\"usd\":67187.34,\"last_updated_at\":1763700000}}",
         {"bitcoin"},
         1,
         0,
         NULL,
         {OK(67187.34, "USD", T)}},
        {"batch with one unknown id",
         "{\"bitcoin\":{\"usd\":67187.34,\"last_updated_at\":1763700000},"
         "\"ethereum\":{\"usd\":3120,\"last_updated_at\":1763699990}}",
         {"bitcoin", "notacoin", "ethereum"},
         3,
         0,
         NULL,
         {OK(67187.34, "USD", T), MISSING, OK(3120, "USD", 1763699990)}},
        {"empty object: all missing",
         "{}",
         {"bitcoin", "ethereum"},
         2,
         0,
         NULL,
         {MISSING, MISSING}},
        {"no time", "{\"bitcoin\":{\"usd\":1}}", {"bitcoin"}, 1, 0, NULL, {OK(1, "USD", 0)}},
        {"tiny price",
         "{\"shiba-inu\":{\"usd\":1.234e-05,\"last_updated_at\":1763700000}}",
         {"shiba-inu"},
         1,
         0,
         NULL,
         {OK(1.234e-05, "USD", T)}},
        {"null price",
         "{\"bitcoin\":{\"usd\":null,\"last_updated_at\":1763700000}}",
         {"bitcoin"},
         1,
         0,
         NULL,
         {BAD("price is missing or null")}},
        {"string price",
         "{\"bitcoin\":{\"usd\":\"67187.34\"}}",
         {"bitcoin"},
         1,
         0,
         NULL,
         {BAD("not a number")}},
        {"negative price passes parse",
         "{\"bitcoin\":{\"usd\":-1}}",
         {"bitcoin"},
         1,
         0,
         NULL,
         {OK(-1, "USD", 0)}},
        {"other currency only",
         "{\"bitcoin\":{\"eur\":61000}}",
         {"bitcoin"},
         1,
         0,
         NULL,
         {BAD("price is missing")}},
        {"entry not an object",
         "{\"bitcoin\":67187.34,\"ethereum\":{\"usd\":2}}",
         {"bitcoin", "ethereum"},
         2,
         0,
         NULL,
         {BAD("not an object"), OK(2, "USD", 0)}},
        {"entry null", "{\"bitcoin\":null}", {"bitcoin"}, 1, 0, NULL, {MISSING}},
        {"absurd time",
         "{\"bitcoin\":{\"usd\":1,\"last_updated_at\":-1e300}}",
         {"bitcoin"},
         1,
         0,
         NULL,
         {BAD("time")}},
        {"error answer",
         "{\"status\":{\"error_code\":429,\"error_message\":\"You've exceeded the Rate Limit\"}}",
         {"bitcoin"},
         1,
         -1,
         "coingecko refused: You've exceeded the Rate Limit",
         {MISSING}},
        {"error answer without message",
         "{\"status\":{\"error_code\":10002}}",
         {"bitcoin"},
         1,
         -1,
         "coingecko refused",
         {MISSING}},
        {"array",
         "[{\"bitcoin\":{\"usd\":1}}]",
         {"bitcoin"},
         1,
         -1,
         "not a JSON object",
         {MISSING}},
        {"string", "\"bitcoin\"", {"bitcoin"}, 1, -1, "not a JSON object", {MISSING}},
    };
    run_parse_cases(coingecko(), cases, ARRAY_LEN(cases));
}

/* ---- provider_parse_json ------------------------------------------------ */

struct body_case {
    const char *body;
    size_t len; /* 0 = strlen */
    const char *content_type;
    int ok;
    const char *err; /* substring when refused */
};

static void test_parse_json(void **state)
{
    (void)state;
    static char deep[200];
    for (int i = 0; i < 60; i++) {
        deep[i] = '[';
        deep[119 - i] = ']';
    }
    static const struct body_case cases[] = {
        {"{\"a\":1}", 0, "application/json", 1, NULL},
        {"{\"a\":1}\r\n  \t", 0, "application/json; charset=utf-8", 1, NULL},
        {"{\"a\":1}GARBAGE", 7, "application/json", 1, NULL}, /* len bounds the read */
        {"[]", 0, NULL, 1, NULL},
        {"{\"chart\":{\"result\":[{\"meta\":{\"regularMarketPrice\":189.8", 0, "application/json",
         0, "truncated"},
        {"{\"bitcoin\":{\"usd\":67187.34,", 0, "application/json", 0, "truncated"},
        {"{", 0, "application/json", 0, "truncated"},
        {"Rate limit exceeded", 0, "text/plain", 0,
         "answer is not JSON (text/plain): \"Rate limit exceeded\""},
        {"Rate limit exceeded", 0, "application/json", 0,
         "not valid JSON: \"Rate limit exceeded\""},
        {"Rate limit exceeded", 0, NULL, 0, "not valid JSON"},
        {"<html><body>502 Bad Gateway</body></html>", 0, "text/html; charset=utf-8", 0,
         "not JSON (text/html"},
        {"{\"a\":1} {\"b\":2}", 0, "application/json", 0, "not valid JSON"},
        {"{\"a\":1}x", 0, "application/json", 0, "not valid JSON"},
        {"{\"a\":}", 0, "application/json", 0, "not valid JSON"},
        {"", 0, "application/json", 0, "empty answer"},
        {"\x01\x02\xff binary", 0, "application/octet-stream", 0, "not JSON"},
        {deep, 0, "application/json", 0, "JSON"}, /* nested too deep */
    };
    for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
        const struct body_case *c = &cases[i];
        size_t len = c->len ? c->len : strlen(c->body);
        /* an exact-size copy without a NUL: ASan catches any read past len */
        char *body = malloc(len ? len : 1);
        assert_non_null(body);
        memcpy(body, c->body, len);
        char err[160] = "";
        json_object *root = provider_parse_json(body, len, c->content_type, err, sizeof err);
        free(body);
        if (c->ok) {
            if (root == NULL)
                fail_msg("case %zu refused: %s", i, err);
            json_object_put(root);
        } else {
            if (root != NULL)
                fail_msg("case %zu accepted", i);
            if (strstr(err, c->err) == NULL)
                fail_msg("case %zu: '%s' lacks '%s'", i, err, c->err);
            assert_null(strchr(err, '\n')); /* one line, for logs */
        }
    }
}

struct num_case {
    const char *json; /* NULL = absent */
    int ok;
    double want;
    const char *err;
};

static void test_number(void **state)
{
    (void)state;
    static const struct num_case cases[] = {
        {"1.5", 1, 1.5, NULL},
        {"42", 1, 42, NULL},
        {"-3", 1, -3, NULL},
        {"0", 1, 0, NULL},
        {"null", 0, 0, "missing or null"},
        {NULL, 0, 0, "missing or null"},
        {"\"1.5\"", 0, 0, "not a number"},
        {"true", 0, 0, "not a number"},
        {"[1]", 0, 0, "not a number"},
        {"{}", 0, 0, "not a number"},
        {"NaN", 0, 0, "not finite"},
        {"-Infinity", 0, 0, "not finite"},
    };
    for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
        const struct num_case *c = &cases[i];
        json_object *o = c->json ? json_tokener_parse(c->json) : NULL;
        if (c->json && strcmp(c->json, "null") != 0)
            assert_non_null(o);
        double v = -99;
        char err[80] = "";
        int rc = provider_number(o, "price", &v, err, sizeof err);
        json_object_put(o);
        if (c->ok) {
            assert_int_equal(rc, 0);
            assert_true(v == c->want);
        } else {
            assert_int_equal(rc, -1);
            assert_true(v == -99);
            assert_non_null(strstr(err, "price"));
            assert_non_null(strstr(err, c->err));
        }
    }
    /* provider_get on what is not an object */
    json_object *arr = json_tokener_parse("[1]");
    assert_null(provider_get(arr, "a"));
    assert_null(provider_get(NULL, "a"));
    json_object_put(arr);
}

/* ---- URLs and headers ---------------------------------------------------- */

struct url_case {
    const struct provider *(*p)(void);
    const char *syms[4];
    size_t n;
    const char *want; /* NULL = refused */
};

static void test_build_url(void **state)
{
    (void)state;
    const struct url_case cases[] = {
        {yahoo,
         {"AAPL"},
         1,
         "https://query1.finance.yahoo.com/v8/finance/chart/AAPL?interval=1d&range=1d"},
        {yahoo,
         {"^GSPC"},
         1,
         "https://query1.finance.yahoo.com/v8/finance/chart/%5EGSPC?interval=1d&range=1d"},
        {yahoo,
         {"BRK-B"},
         1,
         "https://query1.finance.yahoo.com/v8/finance/chart/BRK-B?interval=1d&range=1d"},
        {yahoo,
         {"EURUSD=X"},
         1,
         "https://query1.finance.yahoo.com/v8/finance/chart/EURUSD%3DX?interval=1d&range=1d"},
        {yahoo,
         {"A/../B"},
         1,
         "https://query1.finance.yahoo.com/v8/finance/chart/A%2F..%2FB?interval=1d&range=1d"},
        {yahoo, {"AAPL", "MSFT"}, 2, NULL}, /* one symbol per request */
        {coingecko,
         {"bitcoin"},
         1,
         "https://api.coingecko.com/api/v3/simple/price?ids=bitcoin"
         "&vs_currencies=usd&include_last_updated_at=true"},
        {coingecko,
         {"bitcoin", "ethereum", "usd-coin"},
         3,
         "https://api.coingecko.com/api/v3/simple/price?ids=bitcoin%2Cethereum%2Cusd-coin"
         "&vs_currencies=usd&include_last_updated_at=true"},
        {coingecko,
         {"a&b=c", "x y"},
         2,
         "https://api.coingecko.com/api/v3/simple/price?ids=a%26b%3Dc%2Cx%20y"
         "&vs_currencies=usd&include_last_updated_at=true"},
    };
    for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
        const struct url_case *c = &cases[i];
        const struct provider *p = c->p();
        char url[PROVIDER_URL_MAX];
        int rc = p->build_url(&C, c->syms, c->n, url, sizeof url);
        if (c->want == NULL) {
            assert_int_equal(rc, -1);
            continue;
        }
        assert_int_equal(rc, 0);
        assert_string_equal(url, c->want);
        /* every smaller buffer is refused without writing past its end
         * (exact-size heap buffers, so ASan sees any overflow) */
        size_t need = strlen(c->want) + 1;
        for (size_t len = 1; len <= need; len++) {
            char *b = malloc(len);
            assert_non_null(b);
            rc = p->build_url(&C, c->syms, c->n, b, len);
            assert_int_equal(rc, len == need ? 0 : -1);
            if (rc == 0)
                assert_string_equal(b, c->want);
            free(b);
        }
    }
}

/* A full CoinGecko batch fits PROVIDER_URL_MAX, and one too long is
 * refused rather than cut. */
static void test_build_url_batch(void **state)
{
    (void)state;
    enum { N = 100 };
    char names[N][24];
    const char *syms[N];
    for (int i = 0; i < N; i++) {
        snprintf(names[i], sizeof names[i], "coin-number-%d", i);
        syms[i] = names[i];
    }
    char url[PROVIDER_URL_MAX];
    assert_int_equal(coingecko()->build_url(&C, syms, N, url, sizeof url), 0);
    assert_non_null(strstr(url, "ids=coin-number-0%2Ccoin-number-1%2C"));
    assert_non_null(strstr(url, "coin-number-99&vs_currencies=usd"));
    char longname[PROVIDER_URL_MAX];
    memset(longname, 'x', sizeof longname - 1);
    longname[sizeof longname - 1] = '\0';
    const char *one[] = {longname};
    assert_int_equal(coingecko()->build_url(&C, one, 1, url, sizeof url), -1);
    assert_int_equal(yahoo()->build_url(&C, one, 1, url, sizeof url), -1);
}

struct hdr_case {
    const char *base, *key;
    size_t want_n;
    const char *want;
};

static void test_headers(void **state)
{
    (void)state;
    assert_null(yahoo()->headers); /* Yahoo needs no key */
    static const struct hdr_case cases[] = {
        {"https://api.coingecko.com/api/v3", "", 0, NULL},
        {"https://api.coingecko.com/api/v3", "CG-demo123", 1, "x-cg-demo-api-key: CG-demo123"},
        {"https://pro-api.coingecko.com/api/v3", "CG-pro456", 1, "x-cg-pro-api-key: CG-pro456"},
    };
    for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
        const struct hdr_case *c = &cases[i];
        util_strlcpy(C.coingecko_base_url, c->base, sizeof C.coingecko_base_url);
        util_strlcpy(C.coingecko_api_key, c->key, sizeof C.coingecko_api_key);
        char h[4][PROVIDER_HEADER_MAX];
        memset(h, 0, sizeof h);
        size_t n = coingecko()->headers(&C, h, 4);
        assert_int_equal(n, c->want_n);
        if (n)
            assert_string_equal(h[0], c->want);
        assert_int_equal(coingecko()->headers(&C, h, 0), 0); /* no room */
        /* the key is never in the URL */
        const char *syms[] = {"bitcoin", "ethereum"};
        char url[PROVIDER_URL_MAX];
        assert_int_equal(coingecko()->build_url(&C, syms, 2, url, sizeof url), 0);
        if (c->key[0])
            assert_null(strstr(url, c->key));
        assert_null(strstr(url, "key"));
    }
}

struct norm_case {
    const struct provider *(*p)(void);
    const char *in, *want; /* want NULL = refused */
};

static void test_normalize(void **state)
{
    (void)state;
    const struct norm_case cases[] = {
        {yahoo, "aapl", "AAPL"},
        {yahoo, "brk-b", "BRK-B"},
        {yahoo, "^gspc", "^GSPC"},
        {yahoo, "eurusd=x", "EURUSD=X"},
        {yahoo, "vod.l", "VOD.L"},
        {yahoo, "", NULL},
        {yahoo, "AAPL US", NULL},
        {yahoo, "A/B", NULL},
        {yahoo, "A&B", NULL},
        {yahoo, "caf\xc3\xa9", NULL},
        {yahoo, "ABCDEFGHIJKLMNOPQRSTUVWXYZABCDEFG", NULL}, /* 33 > 32 */
        {coingecko, "Bitcoin", "bitcoin"},
        {coingecko, "usd-coin", "usd-coin"},
        {coingecko, "wrapped_eth.v2", "wrapped_eth.v2"},
        {coingecko, "", NULL},
        {coingecko, "bit coin", NULL},
        {coingecko, "a,b", NULL}, /* would split a batch */
        {coingecko, "a&vs_currencies=eur", NULL},
    };
    for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
        const struct norm_case *c = &cases[i];
        char out[72];
        int rc = c->p()->normalize(c->in, out, sizeof out);
        if (c->want == NULL) {
            if (rc != -1)
                fail_msg("'%s' accepted", c->in);
        } else {
            assert_int_equal(rc, 0);
            assert_string_equal(out, c->want);
        }
    }
    char small[4];
    assert_int_equal(yahoo()->normalize("AAPL", small, sizeof small), -1); /* no room */
    assert_int_equal(yahoo()->normalize("AAP", small, sizeof small), 0);
    assert_string_equal(small, "AAP");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_registry, setup),
        cmocka_unit_test_setup(test_yahoo_parse, setup),
        cmocka_unit_test_setup(test_coingecko_parse, setup),
        cmocka_unit_test_setup(test_parse_json, setup),
        cmocka_unit_test_setup(test_number, setup),
        cmocka_unit_test_setup(test_build_url, setup),
        cmocka_unit_test_setup(test_build_url_batch, setup),
        cmocka_unit_test_setup(test_headers, setup),
        cmocka_unit_test_setup(test_normalize, setup),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
