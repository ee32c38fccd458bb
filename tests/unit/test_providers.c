/*
 * Unit tests of daemon/provider.c and the providers (yahoo spark + chart,
 * coingecko, fx): answer bodies written by hand in each API's real shape,
 * and the wrong shapes an upstream sends when it is having a bad day, each
 * read through provider_parse_json() and the provider's parse(); answers
 * recorded from fakemarket under tests/fixtures/providers/ (run from the
 * repository root, as tests/run.sh does); URLs and headers built for a
 * config filled here (no environment).
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
    util_strlcpy(C.fx_base_url, "https://api.frankfurter.app", sizeof C.fx_base_url);
    C.coingecko_batch = 100;
    return 0;
}

static const struct provider *yahoo(void)
{
    const struct provider *p = provider_find("yahoo");
    assert_non_null(p);
    return p;
}

static const struct provider *fx(void)
{
    const struct provider *p = provider_find("fx");
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
        /* a fallback kind comes whole or not at all */
        assert_true((all[i]->fallback_url == NULL) == (all[i]->fallback_parse == NULL));
    }
    assert_null(provider_find("nope"));
    assert_null(provider_find("Yahoo"));           /* names are exact */
    assert_int_equal(yahoo()->batch_size(&C), 20); /* spark */
    assert_non_null(yahoo()->fallback_url);        /* chart */
    assert_null(coingecko()->fallback_url);
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

typedef int (*parse_fn)(json_object *root, const char *const *symbols, size_t n, struct quote *out,
                        unsigned char *found, char *err, size_t errlen);

static void run_parse_cases(parse_fn parse, const struct parse_case *cases, size_t nc)
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
        int rc = parse(root, c->syms, c->n, out, found, err, sizeof err);
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

/* The chart endpoint: yahoo's single-symbol fallback. */
static void test_yahoo_chart_parse(void **state)
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
         {BAD("Unauthorized")}},
        {"chart error with an empty description (found by fuzzing)",
         "{\"chart\":{\"error\":{\"code\":\"ot Found\",\"description\":\"\"}}}",
         {"X"},
         1,
         0,
         NULL,
         {BAD("ot Found")}},
        {"chart error with nothing to say",
         "{\"chart\":{\"error\":{\"code\":\"\",\"description\":7}}}",
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
    run_parse_cases(yahoo()->fallback_parse, cases, ARRAY_LEN(cases));
}

/* The spark endpoint: yahoo's batch of up to 20 symbols. No currency in
 * today's shape (validate_quote fills in the asset's). */
static void test_yahoo_spark_parse(void **state)
{
    (void)state;
    static const struct parse_case cases[] = {
        {"v8 spark, one symbol missing",
         "{\"AAPL\":{\"symbol\":\"AAPL\",\"timestamp\":[1763700000],\"close\":[189.84],"
         "\"previousClose\":null,\"chartPreviousClose\":187.2,\"dataGranularity\":300},"
         "\"MSFT\":{\"symbol\":\"MSFT\",\"timestamp\":[1763699990],\"close\":[410]}}",
         {"AAPL", "GONE", "MSFT"},
         3,
         0,
         NULL,
         {OK(189.84, "", T), MISSING, OK(410, "", 1763699990)}},
        {"5-minute series: the last non-null close and its time",
         "{\"AAPL\":{\"timestamp\":[1763699400,1763699700,1763700000],\"close\":[1.5,2.5,null]}}",
         {"AAPL"},
         1,
         0,
         NULL,
         {OK(2.5, "", 1763699700)}},
        {"no close at all: left for the chart",
         "{\"AAPL\":{\"timestamp\":[1763700000],\"close\":[null]},"
         "\"MSFT\":{\"timestamp\":[],\"close\":[]}}",
         {"AAPL", "MSFT"},
         2,
         0,
         NULL,
         {MISSING, MISSING}},
        {"NaN as a string",
         "{\"AAPL\":{\"timestamp\":[1763700000],\"close\":[\"NaN\"]}}",
         {"AAPL"},
         1,
         0,
         NULL,
         {BAD("price is not a number: \"NaN\"")}},
        {"NaN as json-c reads it",
         "{\"AAPL\":{\"timestamp\":[1763700000],\"close\":[NaN]}}",
         {"AAPL"},
         1,
         0,
         NULL,
         {BAD("not finite")}},
        {"negative and zero pass parse (validation refuses them)",
         "{\"A\":{\"timestamp\":[1763700000],\"close\":[-5.0]},"
         "\"B\":{\"timestamp\":[1763700000],\"close\":[0]}}",
         {"A", "B"},
         2,
         0,
         NULL,
         {OK(-5, "", T), OK(0, "", T)}},
        {"no close key",
         "{\"AAPL\":{\"symbol\":\"AAPL\",\"timestamp\":[1763700000]},"
         "\"MSFT\":{\"timestamp\":[1],\"close\":{\"x\":1}}}",
         {"AAPL", "MSFT"},
         2,
         0,
         NULL,
         {BAD("no close prices"), BAD("no close prices")}},
        {"entry not an object beside a good one",
         "{\"AAPL\":5,\"MSFT\":{\"timestamp\":[1763700000],\"close\":[2]}}",
         {"AAPL", "MSFT"},
         2,
         0,
         NULL,
         {BAD("not an object"), OK(2, "", T)}},
        {"a differently-cased echo is the same symbol",
         "{\"brk-b\":{\"timestamp\":[1763700000],\"close\":[480.1]}}",
         {"BRK-B"},
         1,
         0,
         NULL,
         {OK(480.1, "", T)}},
        {"time missing, short, a string or absurd",
         "{\"A\":{\"close\":[1]},\"B\":{\"timestamp\":[],\"close\":[2]},"
         "\"C\":{\"timestamp\":[\"now\"],\"close\":[3]},\"D\":{\"timestamp\":[1e300],\"close\":[4]}"
         "}",
         {"A", "B", "C", "D"},
         4,
         0,
         NULL,
         {OK(1, "", 0), OK(2, "", 0), OK(3, "", 0), BAD("time")}},
        {"empty object: all missing", "{}", {"A", "B"}, 2, 0, NULL, {MISSING, MISSING}},
        {"wrapped: none found (the 404 body)",
         "{\"spark\":{\"result\":null,\"error\":{\"code\":\"Not Found\","
         "\"description\":\"No data found for spark symbols\"}}}",
         {"NOPE"},
         1,
         0,
         NULL,
         {MISSING}},
        {"wrapped with meta: its price, time and currency",
         "{\"spark\":{\"result\":[{\"symbol\":\"MSFT\",\"response\":[{\"meta\":{\"currency\":"
         "\"USD\",\"regularMarketPrice\":412.5,\"regularMarketTime\":1763700000},"
         "\"timestamp\":[1763699000],\"indicators\":{\"quote\":[{\"close\":[411]}]}}]},"
         "{\"symbol\":\"BMW.DE\",\"response\":[{\"meta\":{\"currency\":\"EUR\"},"
         "\"timestamp\":[1763699700,1763700000],\"indicators\":{\"quote\":[{\"close\":[88.2,"
         "null]}]}}]},{\"symbol\":\"GONE\",\"response\":[]}],\"error\":null}}",
         {"MSFT", "BMW.DE", "GONE", "OTHER"},
         4,
         0,
         NULL,
         {OK(412.5, "USD", T), OK(88.2, "EUR", 1763699700), MISSING, MISSING}},
        {"wrapped, bad meta price",
         "{\"spark\":{\"result\":[{\"symbol\":\"X\",\"response\":[{\"meta\":{"
         "\"regularMarketPrice\":\"12\"}}]}],\"error\":null}}",
         {"X"},
         1,
         0,
         NULL,
         {BAD("not a number")}},
        {"wrapped, items without a symbol are skipped",
         "{\"spark\":{\"result\":[1,null,{\"symbol\":5},{\"response\":[]}],\"error\":null}}",
         {"X"},
         1,
         0,
         NULL,
         {MISSING}},
        {"wrapped, neither result nor error",
         "{\"spark\":{\"result\":null,\"error\":null}}",
         {"X"},
         1,
         -1,
         "neither spark.result nor spark.error",
         {MISSING}},
        {"wrapped, result an object",
         "{\"spark\":{\"result\":{}}}",
         {"X"},
         1,
         -1,
         "spark.result is not an array",
         {MISSING}},
        {"wrong shape", "{\"data\":[1,2,3]}", {"AAPL"}, 1, -1, "no spark series", {MISSING}},
        {"an error object",
         "{\"error\":\"Too many requests\"}",
         {"AAPL"},
         1,
         -1,
         "no spark series",
         {MISSING}},
        {"chart answer to a spark request",
         "{\"chart\":{\"result\":[],\"error\":null}}",
         {"AAPL"},
         1,
         -1,
         "no spark series",
         {MISSING}},
        {"array", "[1,2]", {"AAPL"}, 1, -1, "not a JSON object", {MISSING}},
        {"string", "\"AAPL\"", {"AAPL"}, 1, -1, "not a JSON object", {MISSING}},
    };
    run_parse_cases(yahoo()->parse, cases, ARRAY_LEN(cases));
}

/* ---- recorded answers (tests/fixtures/providers) ------------------------- */

static char *slurp(const char *name, size_t *len)
{
    char path[256];
    snprintf(path, sizeof path, "tests/fixtures/providers/%s", name);
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        fail_msg("cannot open %s (run from the repository root)", path);
    static char buf[65536];
    *len = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[*len] = '\0';
    return buf;
}

struct fixture_case {
    const char *file;
    const struct provider *(*p)(void);
    int fallback;
    const char *syms[5];
    size_t n;
    int rc;
    struct want w[5];
};

static void test_fixtures(void **state)
{
    (void)state;
#define RT 1795240521
    const struct fixture_case cases[] = {
        {"yahoo_spark.json",
         yahoo,
         0,
         {"AAPL", "SAP.DE", "MISSINGX", "NANPRICE1", "NULLPRICE1"},
         5,
         0,
         {OK(743.96, "", RT), OK(946.45, "", RT), MISSING, BAD("not a number"), MISSING}},
        {"yahoo_spark_none.json", yahoo, 0, {"NOSUCH1", "MISSING2"}, 2, 0, {MISSING, MISSING}},
        {"yahoo_spark_wrapped.json",
         yahoo,
         0,
         {"MSFT", "BMW.DE", "GONE"},
         3,
         0,
         {OK(412.5, "USD", 1795240000), OK(88.4, "EUR", 1795240000), MISSING}},
        {"yahoo_chart.json", yahoo, 1, {"VOD.L"}, 1, 0, {OK(157.48, "GBP", RT)}},
        {"yahoo_chart_404.json",
         yahoo,
         1,
         {"NOSUCH1"},
         1,
         0,
         {BAD("No data found, symbol may be delisted")}},
        {"coingecko_simple_price.json",
         coingecko,
         0,
         {"bitcoin", "ethereum", "nosuch-coin", "wrongccy-coin", "nullprice-coin"},
         5,
         0,
         {OK(59006.51, "USD", RT), OK(3007.69, "USD", RT), MISSING,
          BAD("no USD price in the answer (only jpy)"), BAD("price is missing or null")}},
        {"fx_latest.json",
         fx,
         0,
         {"EUR", "GBP", "JPY", "CHF"},
         4,
         0,
         {OK(0.92, "EUR", 1795219200), OK(0.79, "GBP", 1795219200), OK(151.5, "JPY", 1795219200),
          MISSING}},
        /* a provider's answer to another provider's request */
        {"yahoo_chart.json", coingecko, 0, {"bitcoin"}, 1, 0, {MISSING}},
        {"coingecko_simple_price.json", yahoo, 0, {"bitcoin"}, 1, -1, {MISSING}},
        {"fx_latest.json", yahoo, 1, {"EUR"}, 1, -1, {MISSING}},
        {"yahoo_spark.json", fx, 0, {"EUR"}, 1, -1, {MISSING}},
    };
#undef RT
    for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
        const struct fixture_case *c = &cases[i];
        size_t len;
        const char *body = slurp(c->file, &len);
        char err[160] = "";
        json_object *root = provider_parse_json(body, len, "application/json", err, sizeof err);
        if (root == NULL)
            fail_msg("%s: %s", c->file, err);
        const struct provider *p = c->p();
        parse_fn parse = c->fallback ? p->fallback_parse : p->parse;
        struct quote out[5];
        unsigned char found[5];
        memset(out, 0, sizeof out);
        memset(found, 0, sizeof found);
        int rc = parse(root, c->syms, c->n, out, found, err, sizeof err);
        json_object_put(root);
        if (rc != c->rc)
            fail_msg("case %zu (%s as %s): rc %d, want %d (%s)", i, c->file, p->name, rc, c->rc,
                     err);
        if (rc != 0)
            continue;
        for (size_t k = 0; k < c->n; k++) {
            const struct want *w = &c->w[k];
            if (found[k] != w->found)
                fail_msg("%s: %s found %d, want %d", c->file, c->syms[k], found[k], w->found);
            if (!w->found)
                continue;
            if (out[k].kind != w->kind)
                fail_msg("%s: %s kind %d (%s)", c->file, c->syms[k], out[k].kind, out[k].error);
            if (w->kind == QUOTE_OK) {
                if (out[k].price != w->price || out[k].price_time != w->time)
                    fail_msg("%s: %s price %.17g at %lld", c->file, c->syms[k], out[k].price,
                             (long long)out[k].price_time);
                assert_string_equal(out[k].currency, w->currency);
            } else if (strstr(out[k].error, w->error) == NULL) {
                fail_msg("%s: %s error '%s' lacks '%s'", c->file, c->syms[k], out[k].error,
                         w->error);
            }
        }
    }
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
         {BAD("no USD price in the answer (only eur)")}},
        {"usd missing, only a time",
         "{\"bitcoin\":{\"last_updated_at\":1763700000}}",
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
    run_parse_cases(coingecko()->parse, cases, ARRAY_LEN(cases));
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
    int fallback;     /* 1: the provider's fallback_url */
};

static void test_build_url(void **state)
{
    (void)state;
    const struct url_case cases[] = {
        {yahoo,
         {"AAPL"},
         1,
         "https://query1.finance.yahoo.com/v8/finance/chart/AAPL?interval=1d&range=1d",
         1},
        {yahoo,
         {"^GSPC"},
         1,
         "https://query1.finance.yahoo.com/v8/finance/chart/%5EGSPC?interval=1d&range=1d",
         1},
        {yahoo,
         {"BRK-B"},
         1,
         "https://query1.finance.yahoo.com/v8/finance/chart/BRK-B?interval=1d&range=1d",
         1},
        {yahoo,
         {"EURUSD=X"},
         1,
         "https://query1.finance.yahoo.com/v8/finance/chart/EURUSD%3DX?interval=1d&range=1d",
         1},
        {yahoo,
         {"A/../B"},
         1,
         "https://query1.finance.yahoo.com/v8/finance/chart/A%2F..%2FB?interval=1d&range=1d",
         1},
        {yahoo, {"AAPL", "MSFT"}, 2, NULL, 1}, /* the chart: one symbol per request */
        {yahoo,
         {"AAPL"},
         1,
         "https://query1.finance.yahoo.com/v8/finance/spark?symbols=AAPL&range=1d&interval=1d"},
        {yahoo,
         {"AAPL", "^GSPC", "EURUSD=X", "BRK-B"},
         4,
         "https://query1.finance.yahoo.com/v8/finance/spark?symbols=AAPL,%5EGSPC,EURUSD%3DX,BRK-B"
         "&range=1d&interval=1d"},
        {yahoo,
         {"A,B"},
         1,
         "https://query1.finance.yahoo.com/v8/finance/spark?symbols=A%2CB&range=1d&interval=1d"},
        {fx,
         {"EUR", "GBP", "JPY"},
         3,
         "https://api.frankfurter.app/latest?from=USD&to=EUR,GBP,JPY"},
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
        int (*build)(const struct config *, const char *const *, size_t, char *, size_t) =
            c->fallback ? p->fallback_url : p->build_url;
        int rc = build(&C, c->syms, c->n, url, sizeof url);
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
            rc = build(&C, c->syms, c->n, b, len);
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
    assert_int_equal(yahoo()->fallback_url(&C, one, 1, url, sizeof url), -1);
    /* a full spark batch of 20 fits; 21 is refused (the queue never asks) */
    const char *twenty[21];
    for (int i = 0; i < 21; i++)
        twenty[i] = names[i];
    assert_int_equal(yahoo()->build_url(&C, twenty, 20, url, sizeof url), 0);
    assert_non_null(strstr(url, "symbols=coin-number-0,coin-number-1,"));
    assert_non_null(strstr(url, ",coin-number-19&range=1d&interval=1d"));
    assert_int_equal(yahoo()->build_url(&C, twenty, 21, url, sizeof url), -1);
    assert_int_equal(yahoo()->build_url(&C, twenty, 0, url, sizeof url), -1);
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
        cmocka_unit_test_setup(test_yahoo_chart_parse, setup),
        cmocka_unit_test_setup(test_yahoo_spark_parse, setup),
        cmocka_unit_test_setup(test_fixtures, setup),
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
