/*
 * Unit tests of daemon/provider.c and the providers (yahoo spark + chart,
 * coingecko, fx): answer bodies written by hand in each API's real shape,
 * and the wrong shapes an upstream sends when it is having a bad day, each
 * read through provider_parse_json() and the provider's parse(); answers
 * recorded from fakemarket under tests/fixtures/providers/; answers the
 * real servers gave, under tests/fixtures/real/ (each with its source
 * note), replayed through parse() and validate_quote() and compared with
 * the figures read from the recording itself (run from the repository
 * root, as tests/run.sh does); URLs and headers built for a config filled
 * here (no environment).
 */
#include "jbuf.h"
#include "provider.h"
#include "validate.h"

#include <dirent.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

static struct config C;

static int setup(void **state)
{
    (void)state;
    memset(&C, 0, sizeof C);
    util_strlcpy(C.yahoo_base_url, "https://query1.finance.yahoo.com", sizeof C.yahoo_base_url);
    util_strlcpy(C.coingecko_base_url, "https://api.coingecko.com/api/v3",
                 sizeof C.coingecko_base_url);
    util_strlcpy(C.fx_base_url, "https://api.frankfurter.dev/v1", sizeof C.fx_base_url);
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
    enum quote_time_basis basis;
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
                if (out[k].price_time != w->time || out[k].time_basis != w->basis)
                    fail_msg("%s: %s time %lld basis %d, want %lld basis %d", c->name, c->syms[k],
                             (long long)out[k].price_time, out[k].time_basis, (long long)w->time,
                             w->basis);
            } else if (strstr(out[k].error, w->error) == NULL) {
                fail_msg("%s: error '%s' lacks '%s'", c->name, out[k].error, w->error);
            }
        }
    }
}

#define T 1763700000
#define OK(p, ccy, t)                                                                              \
    {                                                                                              \
        1, QUOTE_OK, p, ccy, t, NULL, QTIME_MARKET                                                 \
    }
/* a price read from the close series: its time is the bar's start */
#define BAR(p, ccy, t)                                                                             \
    {                                                                                              \
        1, QUOTE_OK, p, ccy, t, NULL, QTIME_BAR                                                    \
    }
/* a daily rate: its time is the start of the day it is for */
#define DATE(p, ccy, t)                                                                            \
    {                                                                                              \
        1, QUOTE_OK, p, ccy, t, NULL, QTIME_DATE                                                   \
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
        {"pence: kept as written (validate_quote converts)",
         "{\"chart\":{\"result\":[{\"meta\":{\"currency\":\"GBp\",\"regularMarketPrice\":"
         "1234.5,\"regularMarketTime\":1763700000}}],\"error\":null}}",
         {"VOD.L"},
         1,
         0,
         NULL,
         {OK(1234.5, "GBp", T)}},
        {"US cents",
         "{\"chart\":{\"result\":[{\"meta\":{\"currency\":\"USX\",\"instrumentType\":"
         "\"FUTURE\",\"regularMarketPrice\":512.25,\"regularMarketTime\":1763700000}}],"
         "\"error\":null}}",
         {"ZC=F"},
         1,
         0,
         NULL,
         {OK(512.25, "USX", T)}},
        /* The market price, not the last close: a future's last bar can be
         * hours and percent away from it (GC=F, CL=F recordings). */
        {"meta price beside a different last close",
         "{\"chart\":{\"result\":[{\"meta\":{\"currency\":\"USD\",\"regularMarketPrice\":"
         "96.08,\"regularMarketTime\":1763700000},\"timestamp\":[1763680000],"
         "\"indicators\":{\"quote\":[{\"close\":[100.3]}]}}],\"error\":null}}",
         {"CL=F"},
         1,
         0,
         NULL,
         {OK(96.08, "USD", T)}},
        {"no bars at all (a weekend answer): meta still prices it",
         "{\"chart\":{\"result\":[{\"meta\":{\"currency\":\"USD\",\"regularMarketPrice\":"
         "244.87,\"regularMarketTime\":1763700000},\"indicators\":{\"quote\":[{}]}}],"
         "\"error\":null}}",
         {"AAPL"},
         1,
         0,
         NULL,
         {OK(244.87, "USD", T)}},
        {"no market price: the last non-null close, at its bar's start",
         "{\"chart\":{\"result\":[{\"meta\":{\"currency\":\"INR\",\"regularMarketPrice\":"
         "null},\"timestamp\":[1499641200,1499727600,1499814000],\"indicators\":{\"quote\":[{"
         "\"close\":[64.61,64.52,null]}]}}],\"error\":null}}",
         {"INR=X"},
         1,
         0,
         NULL,
         {BAR(64.52, "INR", 1499727600)}},
        {"no time",
         "{\"chart\":{\"result\":[{\"meta\":{\"currency\":\"USD\",\"regularMarketPrice\":1.5}}"
         "],\"error\":null}}",
         {"X"},
         1,
         0,
         NULL,
         {OK(1.5, "USD", 0)}},
        /* Formerly priced in "" (the asset's currency assumed): a pence
         * answer would then be stored as pounds. Never on the asset's word. */
        {"no currency: not priced",
         "{\"chart\":{\"result\":[{\"meta\":{\"regularMarketPrice\":1.5}}],\"error\":null}}",
         {"X"},
         1,
         0,
         NULL,
         {BAD("chart answer has no currency")}},
        {"empty currency, closes too: not priced",
         "{\"chart\":{\"result\":[{\"meta\":{\"currency\":\"\",\"regularMarketPrice\":1.5},"
         "\"timestamp\":[1763700000],\"indicators\":{\"quote\":[{\"close\":[1.5]}]}}],"
         "\"error\":null}}",
         {"X"},
         1,
         0,
         NULL,
         {BAD("chart answer has no currency")}},
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
        /* A null or absent market price now falls back to the closes;
         * with none either, the chart says there is no price at all. */
        {"null price, no closes",
         "{\"chart\":{\"result\":[{\"meta\":{\"currency\":\"USD\",\"regularMarketPrice\":null}}],"
         "\"error\":null}}",
         {"X"},
         1,
         0,
         NULL,
         {BAD("chart answer has no price (no market price, no close)")}},
        {"missing price, only null closes",
         "{\"chart\":{\"result\":[{\"meta\":{\"currency\":\"USD\"},\"timestamp\":[1,2],"
         "\"indicators\":{\"quote\":[{\"close\":[null,null]}]}}],\"error\":null}}",
         {"X"},
         1,
         0,
         NULL,
         {BAD("chart answer has no price")}},
        {"string price",
         "{\"chart\":{\"result\":[{\"meta\":{\"currency\":\"USD\",\"regularMarketPrice\":\"189."
         "84\"}}],\"error\":null}}",
         {"X"},
         1,
         0,
         NULL,
         {BAD("price is not a number: \"189.84\"")}},
        {"boolean price",
         "{\"chart\":{\"result\":[{\"meta\":{\"currency\":\"USD\",\"regularMarketPrice\":true}}],"
         "\"error\":null}}",
         {"X"},
         1,
         0,
         NULL,
         {BAD("not a number")}},
        {"NaN price (json-c reads NaN)",
         "{\"chart\":{\"result\":[{\"meta\":{\"currency\":\"USD\",\"regularMarketPrice\":NaN}}],"
         "\"error\":null}}",
         {"X"},
         1,
         0,
         NULL,
         {BAD("not finite")}},
        {"absurd time",
         "{\"chart\":{\"result\":[{\"meta\":{\"currency\":\"USD\","
         "\"regularMarketPrice\":1,\"regularMarketTime\":1e300}}],\"error\":null}}",
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

/* The spark endpoint: yahoo's batch of up to 20 symbols, the /v7 wrapped
 * shape, whose entries are chart results (meta, timestamp, closes). The
 * flat /v8 shape has no meta, so no currency and no market price: its
 * symbols are left for the chart (found 0), where the old parser priced
 * their last close in the asset's currency. */
static void test_yahoo_spark_parse(void **state)
{
    (void)state;
/* one wrapped entry: symbol S, meta M (the inside of {…}), rest R */
#define SPARK1(S, M, R) "{\"symbol\":\"" S "\",\"response\":[{\"meta\":{" M "}" R "}]}"
#define SPARK(items) "{\"spark\":{\"result\":[" items "],\"error\":null}}"
    static const struct parse_case cases[] = {
        {"v7: meta price and time, one symbol missing",
         SPARK(SPARK1("MSFT",
                      "\"currency\":\"USD\",\"regularMarketPrice\":412.5,"
                      "\"regularMarketTime\":1763700000",
                      ",\"timestamp\":[1763699000],\"indicators\":{\"quote\":[{\"close\":[411]}"
                      "]}") "," SPARK1("BMW.DE",
                                       "\"currency\":\"EUR\",\"regularMarketPrice\":88.2,"
                                       "\"regularMarketTime\":1763699990",
                                       "")),
         {"MSFT", "GONE", "BMW.DE"},
         3,
         0,
         NULL,
         {OK(412.5, "USD", T), MISSING, OK(88.2, "EUR", 1763699990)}},
        {"v7: pence kept as written (validate_quote converts)",
         SPARK(SPARK1("OCDO.L",
                      "\"currency\":\"GBp\",\"regularMarketPrice\":305.3,"
                      "\"regularMarketTime\":1763700000",
                      "")),
         {"OCDO.L"},
         1,
         0,
         NULL,
         {OK(305.3, "GBp", T)}},
        {"v7, no market price: the last non-null close and its bar's start",
         SPARK(SPARK1(
             "AAPL", "\"currency\":\"USD\"",
             ",\"timestamp\":[1763699400,1763699700,1763700000],"
             "\"indicators\":{\"quote\":[{\"close\":[1.5,2.5,null]}]}") "," SPARK1("MSFT",
                                                                                   "\"currency"
                                                                                   "\":\"USD\","
                                                                                   "\"regularMa"
                                                                                   "rketPrice\""
                                                                                   ":null",
                                                                                   ",\"timestam"
                                                                                   "p\":["
                                                                                   "1763699400]"
                                                                                   ","
                                                                                   "\"indicator"
                                                                                   "s\":{"
                                                                                   "\"quote\":["
                                                                                   "{\"close\":"
                                                                                   "[7]}]}")),
         {"AAPL", "MSFT"},
         2,
         0,
         NULL,
         {BAR(2.5, "USD", 1763699700), BAR(7, "USD", 1763699400)}},
        /* Formerly priced in the asset's currency: now asked of the chart. */
        {"v7, no currency: left for the chart",
         SPARK(SPARK1("A", "\"regularMarketPrice\":1.5,\"regularMarketTime\":1763700000",
                      ",\"timestamp\":[1763700000],\"indicators\":{\"quote\":[{\"close\":[1.5]}"
                      "]}") "," SPARK1("B", "\"currency\":7,\"regularMarketPrice\":1.5", "")),
         {"A", "B"},
         2,
         0,
         NULL,
         {MISSING, MISSING}},
        /* Formerly failed for good ("no close prices"): the chart may
         * still price it. */
        {"v7, no price anywhere: left for the chart",
         SPARK(SPARK1("A", "\"currency\":\"USD\"",
                      ",\"timestamp\":[1763700000],\"indicators\":{\"quote\":[{\"close\":[null]}]"
                      "}") "," SPARK1("B", "\"currency\":\"USD\"",
                                      ",\"timestamp\":[],\"indicators\":{\"quote\":[{\"close\":[]"
                                      "}]}") "," SPARK1("C", "\"currency\":\"USD\"",
                                                        ",\"indicators\":{\"quote\":[{\"close\":{"
                                                        "\"x\":1}}]}") "," SPARK1("D",
                                                                                  "\"currency\":"
                                                                                  "\"USD\"",
                                                                                  ",\"indicators"
                                                                                  "\":{\"quote\":"
                                                                                  "[{}]}")),
         {"A", "B", "C", "D"},
         4,
         0,
         NULL,
         {MISSING, MISSING, MISSING, MISSING}},
        {"v7, NaN close as a string",
         SPARK(SPARK1("AAPL", "\"currency\":\"USD\"",
                      ",\"timestamp\":[1763700000],"
                      "\"indicators\":{\"quote\":[{\"close\":[\"NaN\"]}]}")),
         {"AAPL"},
         1,
         0,
         NULL,
         {BAD("price is not a number: \"NaN\"")}},
        {"v7, NaN close as json-c reads it",
         SPARK(
             SPARK1("AAPL", "\"currency\":\"USD\"",
                    ",\"timestamp\":[1763700000],\"indicators\":{\"quote\":[{\"close\":[NaN]}]}")),
         {"AAPL"},
         1,
         0,
         NULL,
         {BAD("not finite")}},
        {"v7, negative and zero pass parse (validation refuses them)",
         SPARK(SPARK1("A",
                      "\"currency\":\"USD\",\"regularMarketPrice\":-5,"
                      "\"regularMarketTime\":1763700000",
                      "") "," SPARK1("B", "\"currency\":\"USD\"",
                                     ",\"timestamp\":[1763700000],"
                                     "\"indicators\":{\"quote\":[{\"close\":[0]}]}")),
         {"A", "B"},
         2,
         0,
         NULL,
         {OK(-5, "USD", T), BAR(0, "USD", T)}},
        {"v7, bad meta price",
         SPARK(SPARK1("X", "\"currency\":\"USD\",\"regularMarketPrice\":\"12\"", "")),
         {"X"},
         1,
         0,
         NULL,
         {BAD("not a number")}},
        {"v7, market time missing, a string or absurd",
         SPARK(SPARK1("A", "\"currency\":\"USD\",\"regularMarketPrice\":1",
                      "") "," SPARK1("B",
                                     "\"currency\":\"USD\",\"regularMarketPrice\":2,"
                                     "\"regularMarketTime\":\"now\"",
                                     "") "," SPARK1("C",
                                                    "\"currency\":\"USD\",\"regularMarketPrice\":3,"
                                                    "\"regularMarketTime\":1e300",
                                                    "")),
         {"A", "B", "C"},
         3,
         0,
         NULL,
         {OK(1, "USD", 0), OK(2, "USD", 0), BAD("time")}},
        {"v7, bar time missing, short, a string or absurd",
         SPARK(
             SPARK1("A", "\"currency\":\"USD\"", ",\"indicators\":{\"quote\":[{\"close\":[1]}]}") "," SPARK1(
                 "B", "\"currency\":\"USD\"",
                 ",\"timestamp\":[],"
                 "\"indicators\":{"
                 "\"quote\":[{\"close\":[2]"
                 "}]}") "," SPARK1("C",
                                   "\"cu"
                                   "rren"
                                   "cy\""
                                   ":\"U"
                                   "SD"
                                   "\"",
                                   ",\"t"
                                   "imes"
                                   "tamp"
                                   "\":["
                                   "\"no"
                                   "w\"]"
                                   ",\"i"
                                   "ndic"
                                   "ator"
                                   "s\":"
                                   "{\"q"
                                   "uote"
                                   "\":["
                                   "{\"c"
                                   "lose"
                                   "\":["
                                   "3]}]"
                                   "}") "," SPARK1("D", "\"currency\":\"USD\"",
                                                   ",\"timestamp\":[1e300],\"indicators\":{"
                                                   "\"quote\":[{\"close\":[4]}]}")),
         {"A", "B", "C", "D"},
         4,
         0,
         NULL,
         {BAR(1, "USD", 0), BAR(2, "USD", 0), BAR(3, "USD", 0), BAD("time")}},
        {"v7, a differently-cased echo is the same symbol",
         SPARK(SPARK1("brk-b",
                      "\"currency\":\"USD\",\"regularMarketPrice\":480.1,"
                      "\"regularMarketTime\":1763700000",
                      "")),
         {"BRK-B"},
         1,
         0,
         NULL,
         {OK(480.1, "USD", T)}},
        {"v7, a response that is not a chart result beside a good one",
         "{\"spark\":{\"result\":[{\"symbol\":\"A\",\"response\":[5]},{\"symbol\":\"B\","
         "\"response\":{}},{\"symbol\":\"C\",\"response\":[{\"meta\":7}]}," SPARK1(
             "D", "\"currency\":\"USD\",\"regularMarketPrice\":2", "") "],\"error\":null}}",
         {"A", "B", "C", "D"},
         4,
         0,
         NULL,
         {MISSING, MISSING, MISSING, OK(2, "USD", 0)}},
        {"v7: none found (the 404 body)",
         "{\"spark\":{\"result\":null,\"error\":{\"code\":\"Not Found\","
         "\"description\":\"No data found for spark symbols\"}}}",
         {"NOPE"},
         1,
         0,
         NULL,
         {MISSING}},
        {"v7, items without a symbol are skipped",
         "{\"spark\":{\"result\":[1,null,{\"symbol\":5},{\"response\":[]}],\"error\":null}}",
         {"X"},
         1,
         0,
         NULL,
         {MISSING}},
        {"v7, an empty response list",
         SPARK("{\"symbol\":\"GONE\",\"response\":[]}"),
         {"GONE"},
         1,
         0,
         NULL,
         {MISSING}},
        {"v7, neither result nor error",
         "{\"spark\":{\"result\":null,\"error\":null}}",
         {"X"},
         1,
         -1,
         "neither spark.result nor spark.error",
         {MISSING}},
        {"v7, result an object",
         "{\"spark\":{\"result\":{}}}",
         {"X"},
         1,
         -1,
         "spark.result is not an array",
         {MISSING}},
        /* The flat v8 shape: every symbol goes to the chart. */
        {"v8 flat: no meta, so nothing is priced",
         "{\"AAPL\":{\"symbol\":\"AAPL\",\"timestamp\":[1763700000],\"close\":[189.84],"
         "\"previousClose\":null,\"chartPreviousClose\":187.2,\"dataGranularity\":300},"
         "\"MSFT\":{\"symbol\":\"MSFT\",\"timestamp\":[1763699990],\"close\":[410]}}",
         {"AAPL", "GONE", "MSFT"},
         3,
         0,
         NULL,
         {MISSING, MISSING, MISSING}},
        {"v8 flat: null and empty closes, an entry that is not an object",
         "{\"AAPL\":{\"timestamp\":[1763700000],\"close\":[null]},"
         "\"MSFT\":{\"timestamp\":[],\"close\":[]},\"X\":5,\"Y\":{\"timestamp\":[1],\"close\":["
         "2]}}",
         {"AAPL", "MSFT", "X", "Y"},
         4,
         0,
         NULL,
         {MISSING, MISSING, MISSING, MISSING}},
        {"v8 flat, an entry that carries meta is read, case-blind",
         "{\"brk-b\":{\"meta\":{\"currency\":\"USD\",\"regularMarketPrice\":480.1,"
         "\"regularMarketTime\":1763700000},\"timestamp\":[1763690000],\"close\":[479]},"
         "\"NOCCY\":{\"meta\":{\"regularMarketPrice\":3},\"close\":[3]}}",
         {"BRK-B", "NOCCY"},
         2,
         0,
         NULL,
         {OK(480.1, "USD", T), MISSING}},
        {"empty object: all missing", "{}", {"A", "B"}, 2, 0, NULL, {MISSING, MISSING}},
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
#undef SPARK
#undef SPARK1
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
        /* fakemarket's old flat /v8 spark: no meta, so no currency and no
         * market price: every symbol is left for the chart (the old parser
         * priced the closes in the asset's currency). */
        {"yahoo_spark.json",
         yahoo,
         0,
         {"AAPL", "SAP.DE", "MISSINGX", "NANPRICE1", "NULLPRICE1"},
         5,
         0,
         {MISSING, MISSING, MISSING, MISSING, MISSING}},
        {"yahoo_spark_none.json", yahoo, 0, {"NOSUCH1", "MISSING2"}, 2, 0, {MISSING, MISSING}},
        {"yahoo_spark_wrapped.json",
         yahoo,
         0,
         {"MSFT", "BMW.DE", "GONE"},
         3,
         0,
         /* BMW.DE's meta has no price: its last close, at that bar's start */
         {OK(412.5, "USD", 1795240000), BAR(88.4, "EUR", 1795240000), MISSING}},
        /* fakemarket's .L in pounds, as written; the real London answer is
         * in pence (real/yahoo_chart_v8_OCDO.L_GBp.json) */
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
         /* CHF is absent from the 200: it fails alone (was: missing) */
         {DATE(0.92, "EUR", 1795219200), DATE(0.79, "GBP", 1795219200),
          DATE(151.5, "JPY", 1795219200), BAD("CHF is not offered by the FX provider")}},
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
                if (out[k].price != w->price || out[k].price_time != w->time ||
                    out[k].time_basis != w->basis)
                    fail_msg("%s: %s price %.17g at %lld (basis %d)", c->file, c->syms[k],
                             out[k].price, (long long)out[k].price_time, out[k].time_basis);
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
         "coingecko refused: error code 10002",
         {MISSING}},
        {"error as a string (a 422)",
         "{\"error\":\"Missing parameter ids\"}",
         {"bitcoin"},
         1,
         -1,
         "coingecko refused: Missing parameter ids",
         {MISSING}},
        {"error wrapping a status (the keyed plans' 401)",
         "{\"error\":{\"status\":{\"timestamp\":\"2026-01-01T00:00:00Z\",\"error_code\":10012,"
         "\"error_message\":\"Your request exceeds the allowed time range.\"}}}",
         {"bitcoin"},
         1,
         -1,
         "coingecko refused: Your request exceeds the allowed time range.",
         {MISSING}},
        {"error code at the top level, message under status (10010)",
         "{\"timestamp\":\"2025-10-12T11:10:40.873+00:00\",\"error_code\":10010,\"status\":{"
         "\"error_message\":\"Wrong root URL for this key\"}}",
         {"bitcoin"},
         1,
         -1,
         "coingecko refused: Wrong root URL for this key",
         {MISSING}},
        {"error code at the top level alone",
         "{\"error_code\":10010}",
         {"bitcoin"},
         1,
         -1,
         "coingecko refused: error code 10010",
         {MISSING}},
        {"a coin called status",
         "{\"status\":{\"usd\":0.25,\"last_updated_at\":1763700000}}",
         {"status"},
         1,
         0,
         NULL,
         {OK(0.25, "USD", T)}},
        {"an error text with a line break stays one line",
         "{\"error\":\"bad\\nthing\"}",
         {"bitcoin"},
         1,
         -1,
         "coingecko refused: bad thing",
         {MISSING}},
        {"a status without an error code is not an error",
         "{\"status\":{\"ok\":true},\"bitcoin\":{\"usd\":2}}",
         {"bitcoin"},
         1,
         0,
         NULL,
         {OK(2, "USD", 0)}},
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

/* Frankfurter: only the ECB's ~30 currencies. A code it does not know is
 * absent from a 200 answer and fails alone; when it knows none, the answer
 * is the 404 {"message":"not found"}, read for every code. */
static void test_fx_parse(void **state)
{
    (void)state;
#define D 1763683200 /* 2025-11-21 00:00 UTC */
    static const struct parse_case cases[] = {
        {"rates of the day",
         "{\"amount\":1.0,\"base\":\"USD\",\"date\":\"2025-11-21\",\"rates\":{\"EUR\":0.88137,"
         "\"IDR\":16855,\"JPY\":142.84}}",
         {"EUR", "IDR", "JPY"},
         3,
         0,
         NULL,
         {DATE(0.88137, "EUR", D), DATE(16855, "IDR", D), DATE(142.84, "JPY", D)}},
        /* formerly missing, which the queue reported as a generic miss */
        {"a code absent from the 200 fails alone",
         "{\"amount\":1.0,\"base\":\"USD\",\"date\":\"2025-11-21\",\"rates\":{\"EUR\":0.88}}",
         {"EUR", "AED", "NPR"},
         3,
         0,
         NULL,
         {DATE(0.88, "EUR", D), BAD("AED is not offered by the FX provider"),
          BAD("NPR is not offered by the FX provider")}},
        {"the 404 body: none offered, with the server's words",
         "{\"message\":\"not found\"}",
         {"AED", "NPR"},
         2,
         0,
         NULL,
         {BAD("AED is not offered by the FX provider (not found)"),
          BAD("NPR is not offered by the FX provider (not found)")}},
        {"null, string and negative rates",
         "{\"base\":\"USD\",\"date\":\"2025-11-21\",\"rates\":{\"EUR\":null,\"GBP\":\"0.79\","
         "\"JPY\":-1}}",
         {"EUR", "GBP", "JPY"},
         3,
         0,
         NULL,
         {BAD("missing or null"), BAD("not a number"), DATE(-1, "JPY", D)}},
        {"no date, or not a date: time unknown",
         "{\"base\":\"USD\",\"rates\":{\"EUR\":0.9}}",
         {"EUR"},
         1,
         0,
         NULL,
         {DATE(0.9, "EUR", 0)}},
        {"a date with a tail",
         "{\"base\":\"USD\",\"date\":\"2025-11-21T00:00\",\"rates\":{\"EUR\":0.9}}",
         {"EUR"},
         1,
         0,
         NULL,
         {DATE(0.9, "EUR", 0)}},
        {"another base",
         "{\"base\":\"EUR\",\"rates\":{\"USD\":1.1}}",
         {"USD"},
         1,
         -1,
         "EUR",
         {MISSING}},
        {"rates not an object",
         "{\"base\":\"USD\",\"rates\":[0.9]}",
         {"EUR"},
         1,
         -1,
         "base/rates",
         {MISSING}},
        {"a message that is not text is no 404 body",
         "{\"message\":7}",
         {"EUR"},
         1,
         -1,
         "base/rates",
         {MISSING}},
        {"neither", "{}", {"EUR"}, 1, -1, "base/rates", {MISSING}},
    };
#undef D
    run_parse_cases(fx()->parse, cases, ARRAY_LEN(cases));
}

/* Where the listing trades, from Yahoo's meta, on both request kinds. */
struct market_case {
    const char *name;
    const char *body;
    int fallback;
    struct quote_market want;
};

static void test_yahoo_market(void **state)
{
    (void)state;
    static const struct market_case cases[] = {
        {"spark",
         "{\"spark\":{\"result\":[{\"symbol\":\"X\",\"response\":[{\"meta\":{\"currency\":\"USD\","
         "\"exchangeName\":\"NMS\",\"instrumentType\":\"EQUITY\",\"exchangeTimezoneName\":"
         "\"America/New_York\",\"gmtoffset\":-14400,\"regularMarketPrice\":1,"
         "\"currentTradingPeriod\":{\"pre\":{\"start\":1,\"end\":2},\"regular\":{\"timezone\":"
         "\"EDT\",\"start\":1626442200,\"end\":1626465600,\"gmtoffset\":-14400}}}}]}],"
         "\"error\":null}}",
         0,
         {"NMS", "EQUITY", "America/New_York", 1626442200, 1626465600, -14400}},
        {"chart, keys in another order, overlong names cut",
         "{\"chart\":{\"result\":[{\"meta\":{\"currency\":\"EUR\",\"exchangeName\":"
         "\"ABCDEFGHIJKLMNOPQRST\",\"instrumentType\":\"FUTURE\",\"exchangeTimezoneName\":"
         "\"Europe/Berlin\",\"gmtoffset\":3600,\"regularMarketPrice\":1,\"currentTradingPeriod\":"
         "{\"regular\":{\"end\":1740069000,\"start\":1740038400}}}}],\"error\":null}}",
         1,
         {"ABCDEFGHIJKLMNO", "FUTURE", "Europe/Berlin", 1740038400, 1740069000, 3600}},
        {"nothing said, or nonsense: empty and zero",
         "{\"chart\":{\"result\":[{\"meta\":{\"currency\":\"USD\",\"regularMarketPrice\":1,"
         "\"exchangeName\":5,\"gmtoffset\":90000,\"currentTradingPeriod\":{\"regular\":{\"start\":"
         "\"x\",\"end\":1e300}}}}],\"error\":null}}",
         1,
         {"", "", "", 0, 0, 0}},
    };
    for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
        const struct market_case *c = &cases[i];
        char err[160] = "";
        json_object *root =
            provider_parse_json(c->body, strlen(c->body), "application/json", err, sizeof err);
        if (root == NULL)
            fail_msg("%s: body refused: %s", c->name, err);
        const char *sym[] = {"X"};
        struct quote q;
        unsigned char found = 0;
        memset(&q, 0, sizeof q);
        int rc = (c->fallback ? yahoo()->fallback_parse : yahoo()->parse)(root, sym, 1, &q, &found,
                                                                          err, sizeof err);
        json_object_put(root);
        if (rc != 0 || !found || q.kind != QUOTE_OK)
            fail_msg("%s: rc %d found %d kind %d (%s%s)", c->name, rc, found, q.kind, err, q.error);
        const struct quote_market *m = &q.market, *w = &c->want;
        assert_string_equal(m->exchange, w->exchange);
        assert_string_equal(m->instrument_type, w->instrument_type);
        assert_string_equal(m->timezone, w->timezone);
        assert_true(m->session_start == w->session_start);
        assert_true(m->session_end == w->session_end);
        assert_int_equal(m->gmtoffset, w->gmtoffset);
    }
}

/* ---- real recordings (tests/fixtures/real) ------------------------------
 *
 * Each answer a real server gave goes through the parser that reads it in
 * the daemon and then validate_quote() with the asset's currency, as the
 * cycle does; what comes out must be the figure the recording itself
 * states, read from it here with json-c (never typed in), at the
 * recording's own time. A few anchors below are checked by hand. */

#define REAL_DIR "tests/fixtures/real/"
#define REAL_MAX 48 /* symbols one replay asks for: FX asks 30 and one more */

enum real_parser { RP_SPARK, RP_CHART, RP_FX, RP_COINGECKO };
enum real_expect {
    RE_PRICES,  /* every symbol the recording prices is stored as it says */
    RE_NONE,    /* rc 0, nothing found: the queue asks on (spark: the chart) */
    RE_FAILED,  /* every symbol fails for good with the recording's reason */
    RE_REFUSED, /* the answer as a whole is refused (rc -1) with its text */
};

struct real_case {
    const char *file;
    enum real_parser parser;
    enum real_expect expect;
    /* 1: the answer is response.bodyJson of yahoo-finance2's recorder
     * wrapper (request, status and headers around it) */
    int wrapped;
    /* its time from the .src.txt, for an answer that carries none */
    int64_t recorded;
    /* the symbols asked, for a recording that does not name them (the
     * request in its .src.txt) */
    const char *syms[3];
};

#define REAL(file, parser, expect, wrapped, recorded, ...)                                         \
    {                                                                                              \
        file, parser, expect, wrapped, recorded,                                                   \
        {                                                                                          \
            __VA_ARGS__                                                                            \
        }                                                                                          \
    }

static const struct real_case real_cases[] = {
    /* /v7/finance/spark: the wrapped shape with full meta */
    REAL("yahoo_spark_v7_TSLA.json", RP_SPARK, RE_PRICES, 0, 0, NULL),
    REAL("yahoo_spark_v7_MSFT_AAPL_meta_2026-07-27_TRIMMED.json", RP_SPARK, RE_PRICES, 0, 0, NULL),
    /* the 404 when Yahoo knows none of them: nothing found */
    REAL("yahoo_spark_v7_404_none_pricehist.json", RP_SPARK, RE_NONE, 0, 0, "NOTABASE"),
    /* /v8/finance/spark: flat, no meta: every symbol goes to the chart */
    REAL("yahoo_spark_v8_AAPL_VTI_via_yfapi.json", RP_SPARK, RE_NONE, 0, 0, NULL),
    /* /v8/finance/chart */
    REAL("yahoo_chart_v8_OCDO.L_GBp.json", RP_CHART, RE_PRICES, 0, 0, NULL),
    REAL("yahoo_chart_v8_AAPL_1m_weekend_no_bars.json", RP_CHART, RE_PRICES, 0, 0, NULL),
    REAL("yahoo_chart_v8_EURUSD=X_2020-01-01_to_03.json", RP_CHART, RE_PRICES, 0, 0, NULL),
    REAL("yahoo_chart_v8_GC=F_future_2020-01-02.json", RP_CHART, RE_PRICES, 0, 0, NULL),
    REAL("yahoo_chart_v8_INR=X_with_null_2017-07.json", RP_CHART, RE_PRICES, 0, 0, NULL),
    REAL("yahoo_chart_v8_WSU.DE_XETRA_EUR_2023-08.json", RP_CHART, RE_PRICES, 0, 0, NULL),
    REAL("yahoo_chart_v8_WSKT.JK_IDR_stale_price.json", RP_CHART, RE_PRICES, 0, 0, NULL),
    /* trimmed by its author: no regularMarketTime; recorded 2026-09-08 */
    REAL("yahoo_chart_v8_CL=F_meta_2026-09-08_TRIMMED.json", RP_CHART, RE_PRICES, 0, 1788825600,
         NULL),
    REAL("yahoo_chart_MSFT_1d_2021-02-01_to_2022-01-31_dividends.json", RP_CHART, RE_PRICES, 0, 0,
         NULL),
    REAL("yahoo_chart_NVDA_1d_2021-02-01_to_2022-01-31_split.json", RP_CHART, RE_PRICES, 0, 0,
         NULL),
    REAL("yahoo_chart_v8_404_unknown_symbol.json", RP_CHART, RE_FAILED, 0, 0, "^TEDPIX"),
    /* yahoo-finance2's own fixtures: the answer inside its recorder's wrapper */
    REAL("yahoo2_fixture_chart-AAPL.json", RP_CHART, RE_PRICES, 1, 0, NULL),
    REAL("yahoo2_fixture_chart-AAPL-2025-02-01-to-2025-02-02-includePrePost-false-interval-1m.json",
         RP_CHART, RE_PRICES, 1, 0, NULL),
    REAL("yahoo2_fixture_chart-EURUSD=X-2020-01-01-to-2020-01-03.json", RP_CHART, RE_PRICES, 1, 0,
         NULL),
    REAL("yahoo2_fixture_chart-GC=F-2020-01-01-to-2020-01-03.json", RP_CHART, RE_PRICES, 1, 0,
         NULL),
    REAL("yahoo2_fixture_chart-WSU.DE-2023-08-04-to-2023-08-09.json", RP_CHART, RE_PRICES, 1, 0,
         NULL),
    REAL("yahoo2_fixture_chart-WSKT.JK-2020-01-01-to-2020-01-03.json", RP_CHART, RE_PRICES, 1, 0,
         NULL),
    /* Frankfurter v1 */
    REAL("frankfurter_v1_latest_base_USD.json", RP_FX, RE_PRICES, 0, 0, NULL),
    REAL("frankfurter_v1_1999-01-04_base_USD.json", RP_FX, RE_PRICES, 0, 0, NULL),
    REAL("frankfurter_v1_404_not_found.json", RP_FX, RE_FAILED, 0, 0, "XXX", "AED"),
    /* CoinGecko /simple/price and its errors */
    REAL("coingecko_simple_price_docs_example.json", RP_COINGECKO, RE_PRICES, 0, 0, NULL),
    /* no last_updated_at (not asked for); recorded 2025-10-12 about 11:10 UTC */
    REAL("coingecko_simple_price_bitcoin_usd_2025-10-12.json", RP_COINGECKO, RE_PRICES, 0,
         1760267400, NULL),
    REAL("coingecko_429_rate_limit.json", RP_COINGECKO, RE_REFUSED, 0, 0, "bitcoin"),
    REAL("coingecko_error_422_missing_vs_currency.json", RP_COINGECKO, RE_REFUSED, 0, 0, "bitcoin"),
    REAL("coingecko_error_10012_time_range_2024-03-30.json", RP_COINGECKO, RE_REFUSED, 0, 0,
         "bitcoin"),
    /* error_code at the top level, the message under status */
    REAL("coingecko_error_10010_pro_key_on_public_host_2025-10-12.json", RP_COINGECKO, RE_REFUSED,
         0, 0, "bitcoin"),
};
#undef REAL

/* Endpoints whose recordings must all be replayed (file name prefixes):
 * a new one in the folder fails test_real_recordings until it has a row. */
static const char *const real_endpoints[] = {
    "yahoo_spark_",           "yahoo_chart_",  "yahoo2_fixture_chart-", "frankfurter_",
    "coingecko_simple_price", "coingecko_429", "coingecko_error_",
};

/* Yahoo's minor-unit codes (NOTE_yahoo_minor_currencies.txt): the asset is
 * priced in the major unit, a hundred of them. */
static const char *real_major(const char *ccy, double *div)
{
    static const char *const minor[][2] = {
        {"GBp", "GBP"}, {"GBX", "GBP"}, {"ZAc", "ZAR"}, {"ILA", "ILS"}, {"USX", "USD"}};
    *div = 1;
    for (size_t i = 0; i < ARRAY_LEN(minor); i++) {
        if (strcmp(ccy, minor[i][0]) == 0) {
            *div = 100;
            return minor[i][1];
        }
    }
    return ccy;
}

/* root walked along a dot-separated path ("chart.result.0.meta"; numbers
 * index arrays), or NULL. */
static json_object *real_at(json_object *root, const char *path)
{
    char buf[128];
    util_strlcpy(buf, path, sizeof buf);
    json_object *o = root;
    char *save = NULL;
    for (char *k = strtok_r(buf, ".", &save); k && o; k = strtok_r(NULL, ".", &save)) {
        if (json_object_is_type(o, json_type_array)) {
            char *end;
            unsigned long i = strtoul(k, &end, 10);
            o = (*end == '\0' && i < json_object_array_length(o))
                    ? json_object_array_get_idx(o, (size_t)i)
                    : NULL;
        } else {
            o = provider_get(o, k);
        }
    }
    return o;
}

/* A JSON number (int or double) into *out: 1, else 0. */
static int real_num(json_object *o, double *out)
{
    if (o == NULL ||
        !(json_object_is_type(o, json_type_int) || json_object_is_type(o, json_type_double)))
        return 0;
    *out = json_object_get_double(o);
    return 1;
}

static int64_t real_int(json_object *o)
{
    double d = 0;
    return real_num(o, &d) ? (int64_t)d : 0;
}

static const char *real_str(json_object *o)
{
    return o && json_object_is_type(o, json_type_string) ? json_object_get_string(o) : "";
}

static json_object *real_load(const char *file, char **body)
{
    char path[512];
    snprintf(path, sizeof path, REAL_DIR "%s", file);
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        fail_msg("cannot open %s (run from the repository root; was it removed?)", path);
    size_t cap = 1 << 20, len = 0;
    *body = malloc(cap);
    assert_non_null(*body);
    len = fread(*body, 1, cap, f);
    fclose(f);
    if (len == cap)
        fail_msg("%s: larger than %zu bytes", path, cap);
    char err[160] = "";
    json_object *root = provider_parse_json(*body, len, "application/json", err, sizeof err);
    if (root == NULL)
        fail_msg("%s: %s", path, err);
    return root;
}

/* What the recording says one symbol costs: read from it, not typed in. */
struct real_figure {
    char sym[48];
    double raw;       /* the price as written, in currency */
    char currency[8]; /* as written ("GBp") */
    int64_t time;     /* 0 when the answer carries none */
    enum quote_time_basis basis;
    json_object *meta;   /* yahoo: where the market fields are */
    const char *refusal; /* RE_FAILED: the reason it gives */
};

/* A chart result R (chart.result[0], or a spark entry's response[0]):
 * the market price at the market's time; only without one, the last
 * non-null close at its bar's start. */
static void real_yahoo_figure(const char *file, json_object *r, struct real_figure *fig)
{
    fig->meta = provider_get(r, "meta");
    util_strlcpy(fig->currency, real_str(provider_get(fig->meta, "currency")),
                 sizeof fig->currency);
    if (real_num(provider_get(fig->meta, "regularMarketPrice"), &fig->raw)) {
        fig->time = real_int(provider_get(fig->meta, "regularMarketTime"));
        fig->basis = QTIME_MARKET;
        return;
    }
    json_object *close = real_at(r, "indicators.quote.0.close");
    size_t n =
        close && json_object_is_type(close, json_type_array) ? json_object_array_length(close) : 0;
    for (size_t k = n; k > 0; k--) {
        if (real_num(json_object_array_get_idx(close, k - 1), &fig->raw)) {
            fig->time = real_int(json_object_array_get_idx(provider_get(r, "timestamp"), k - 1));
            fig->basis = QTIME_BAR;
            return;
        }
    }
    fail_msg("%s: %s has no price at all: a RE_NONE or RE_FAILED row?", file, fig->sym);
}

/* The figures and the symbols to ask for, from the recording. Returns how
 * many symbols. */
static size_t real_figures(const struct real_case *c, json_object *body, struct real_figure *fig)
{
    size_t n = 0;
    memset(fig, 0, sizeof(struct real_figure) * REAL_MAX);
    for (; n < ARRAY_LEN(c->syms) && c->syms[n]; n++)
        util_strlcpy(fig[n].sym, c->syms[n], sizeof fig[n].sym);
    if (c->parser == RP_SPARK && c->expect == RE_PRICES) {
        json_object *result = real_at(body, "spark.result");
        for (size_t i = 0; result && i < json_object_array_length(result); i++) {
            json_object *item = json_object_array_get_idx(result, i);
            util_strlcpy(fig[n].sym, real_str(provider_get(item, "symbol")), sizeof fig[n].sym);
            real_yahoo_figure(c->file, real_at(item, "response.0"), &fig[n]);
            n++;
        }
        /* and one the answer lacks: not found, for the chart */
        util_strlcpy(fig[n++].sym, "NOT.IN.ANSWER", sizeof fig[0].sym);
    } else if (c->parser == RP_SPARK) {
        /* RE_NONE: the symbols named, else every member of a flat answer */
        if (n == 0) {
            json_object_object_foreach(body, key, val)
            {
                (void)val;
                assert_true(n < REAL_MAX);
                util_strlcpy(fig[n++].sym, key, sizeof fig[0].sym);
            }
        }
    } else if (c->parser == RP_CHART && c->expect == RE_PRICES) {
        json_object *r = real_at(body, "chart.result.0");
        util_strlcpy(fig[0].sym, real_str(real_at(r, "meta.symbol")), sizeof fig[0].sym);
        real_yahoo_figure(c->file, r, &fig[0]);
        /* the chart is the last word: without a currency it fails */
        if (fig[0].currency[0] == '\0')
            fig[0].refusal = "chart answer has no currency";
        n = 1;
    } else if (c->parser == RP_CHART) {
        fig[0].refusal = real_str(real_at(body, "chart.error.description"));
    } else if (c->parser == RP_FX && c->expect == RE_PRICES) {
        struct tm tm;
        memset(&tm, 0, sizeof tm);
        const char *date = real_str(provider_get(body, "date"));
        if (sscanf(date, "%d-%d-%d", &tm.tm_year, &tm.tm_mon, &tm.tm_mday) != 3)
            fail_msg("%s: date '%s'", c->file, date);
        tm.tm_year -= 1900;
        tm.tm_mon -= 1;
        json_object_object_foreach(provider_get(body, "rates"), code, rate)
        {
            assert_true(n < REAL_MAX - 1);
            util_strlcpy(fig[n].sym, code, sizeof fig[n].sym);
            util_strlcpy(fig[n].currency, code, sizeof fig[n].currency);
            if (!real_num(rate, &fig[n].raw))
                fail_msg("%s: %s is not a number", c->file, code);
            fig[n].time = (int64_t)timegm(&tm);
            fig[n].basis = QTIME_DATE;
            n++;
        }
        /* and one the ECB does not publish: absent, so "not offered" */
        if (provider_get(provider_get(body, "rates"), "AED") != NULL)
            fail_msg("%s: the recording has AED: pick another absent code", c->file);
        util_strlcpy(fig[n].sym, "AED", sizeof fig[n].sym);
        fig[n++].refusal = "AED is not offered by the FX provider";
    } else if (c->parser == RP_FX) {
        for (size_t i = 0; i < n; i++)
            fig[i].refusal = real_str(provider_get(body, "message"));
    } else if (c->parser == RP_COINGECKO && c->expect == RE_PRICES) {
        json_object_object_foreach(body, id, entry)
        {
            util_strlcpy(fig[n].sym, id, sizeof fig[n].sym);
            util_strlcpy(fig[n].currency, "USD", sizeof fig[n].currency);
            if (!real_num(provider_get(entry, "usd"), &fig[n].raw))
                fail_msg("%s: %s has no usd", c->file, id);
            fig[n].time = real_int(provider_get(entry, "last_updated_at"));
            fig[n].basis = QTIME_MARKET;
            n++;
        }
    } else {
        /* the error text, in whichever of CoinGecko's shapes it came */
        const char *t = real_str(real_at(body, "status.error_message"));
        if (t[0] == '\0')
            t = real_str(provider_get(body, "error"));
        if (t[0] == '\0')
            t = real_str(real_at(body, "error.status.error_message"));
        fig[0].refusal = t;
    }
    if (n == 0)
        fail_msg("%s: no symbol to ask for", c->file);
    return n;
}

/* What one replay stored, for the anchors and for people
 * (TEST_PROVIDERS_VERBOSE=1 prints each). */
struct real_stored {
    const char *file;
    char sym[48];
    char text[40]; /* the price as jbuf_num writes it */
    char currency[8], quoted[8];
    int64_t time;
};

static struct real_stored real_log[256];
static size_t real_nlog;

static void real_check_price(const struct real_case *c, const struct real_figure *f,
                             struct quote *q)
{
    double div;
    const char *asset = real_major(f->currency, &div);
    int64_t now = (f->time ? f->time : c->recorded) + 60;
    validate_quote(q, asset, now, 0);
    if (q->kind != QUOTE_OK)
        fail_msg("%s: %s refused: %s", c->file, f->sym, q->error);
    double want = f->raw / div;
    struct jbuf jb;
    jbuf_init(&jb);
    jbuf_num(&jb, q->price);
    assert_true(jbuf_ok(&jb));
    char text[40];
    util_strlcpy(text, jbuf_text(&jb), sizeof text);
    jbuf_free(&jb);
    double back = strtod(text, NULL);
    if (div == 1) {
        /* no arithmetic: the very number the recording wrote */
        if (q->price != f->raw)
            fail_msg("%s: %s price %.17g, the recording says %.17g", c->file, f->sym, q->price,
                     f->raw);
        assert_string_equal(q->quoted_currency, "");
    } else {
        if (fabs(q->price - want) > 1e-12 * fabs(want))
            fail_msg("%s: %s price %.17g, want %.17g (%.17g %s)", c->file, f->sym, q->price, want,
                     f->raw, f->currency);
        /* the stored text is the recording's figure moved two places */
        char a[40], b[40];
        snprintf(a, sizeof a, "%.15g", back * div);
        snprintf(b, sizeof b, "%.15g", f->raw);
        if (strcmp(a, b) != 0)
            fail_msg("%s: %s stored as %s, which is %s %s, not %s", c->file, f->sym, text, a,
                     f->currency, b);
        assert_string_equal(q->quoted_currency, f->currency);
    }
    if (fabs(back - want) > 1e-14 * fabs(want))
        fail_msg("%s: %s written as %s, want %.17g", c->file, f->sym, text, want);
    assert_string_equal(q->currency, asset);
    if (q->price_time != f->time || q->time_basis != f->basis)
        fail_msg("%s: %s time %lld basis %d, the recording says %lld basis %d", c->file, f->sym,
                 (long long)q->price_time, q->time_basis, (long long)f->time, f->basis);
    if (f->meta != NULL) {
        const struct quote_market *m = &q->market;
        json_object *reg = real_at(f->meta, "currentTradingPeriod.regular");
        char want_ex[sizeof m->exchange];
        util_strlcpy(want_ex, real_str(provider_get(f->meta, "exchangeName")), sizeof want_ex);
        assert_string_equal(m->exchange, want_ex);
        assert_string_equal(m->instrument_type, real_str(provider_get(f->meta, "instrumentType")));
        assert_string_equal(m->timezone, real_str(provider_get(f->meta, "exchangeTimezoneName")));
        assert_true(m->session_start == real_int(provider_get(reg, "start")));
        assert_true(m->session_end == real_int(provider_get(reg, "end")));
        assert_true(m->gmtoffset == real_int(provider_get(f->meta, "gmtoffset")));
    }
    assert_true(real_nlog < ARRAY_LEN(real_log));
    struct real_stored *s = &real_log[real_nlog++];
    s->file = c->file;
    util_strlcpy(s->sym, f->sym, sizeof s->sym);
    util_strlcpy(s->text, text, sizeof s->text);
    util_strlcpy(s->currency, q->currency, sizeof s->currency);
    util_strlcpy(s->quoted, q->quoted_currency, sizeof s->quoted);
    s->time = q->price_time;
}

static void real_replay(const struct real_case *c)
{
    char *raw = NULL;
    json_object *root = real_load(c->file, &raw);
    json_object *body = root;
    if (c->wrapped) {
        assert_int_equal(real_int(real_at(root, "response.status")), 200);
        body = real_at(root, "response.bodyJson");
        if (body == NULL)
            fail_msg("%s: no response.bodyJson", c->file);
    }
    struct real_figure *fig = calloc(REAL_MAX, sizeof *fig);
    struct quote *out = calloc(REAL_MAX, sizeof *out);
    unsigned char found[REAL_MAX];
    const char *syms[REAL_MAX];
    assert_non_null(fig);
    assert_non_null(out);
    memset(found, 0, sizeof found);
    size_t n = real_figures(c, body, fig);
    for (size_t i = 0; i < n; i++)
        syms[i] = fig[i].sym;
    const struct provider *p = c->parser == RP_FX          ? fx()
                               : c->parser == RP_COINGECKO ? coingecko()
                                                           : yahoo();
    parse_fn parse = c->parser == RP_CHART ? p->fallback_parse : p->parse;
    char err[256] = "";
    int rc = parse(body, syms, n, out, found, err, sizeof err);
    if (c->expect == RE_REFUSED) {
        /* the whole answer refused, saying what the provider said */
        const char *t = fig[0].refusal;
        const char *pre = "coingecko refused: ";
        if (rc != -1 || t[0] == '\0')
            fail_msg("%s: rc %d (%s), its text '%s'", c->file, rc, err, t);
        /* its text, or as much of it as the parser keeps (a long one is cut) */
        const char *said = strncmp(err, pre, strlen(pre)) == 0 ? err + strlen(pre) : "";
        if (strlen(said) < 20 || strncmp(said, t, strlen(said)) != 0)
            fail_msg("%s: err '%s' does not give its text '%s'", c->file, err, t);
    } else {
        if (rc != 0)
            fail_msg("%s: rc %d: %s", c->file, rc, err);
    }
    for (size_t i = 0; rc == 0 && i < n; i++) {
        struct real_figure *f = &fig[i];
        /* a spark entry without a currency is left for the chart */
        int want_found = c->expect == RE_FAILED ||
                         (c->expect == RE_PRICES && (f->refusal != NULL || f->currency[0]));
        if (found[i] != want_found)
            fail_msg("%s: %s found %d, want %d", c->file, f->sym, found[i], want_found);
        if (!found[i])
            continue;
        if (f->refusal != NULL) {
            if (out[i].kind != QUOTE_PERMANENT || f->refusal[0] == '\0' ||
                strstr(out[i].error, f->refusal) == NULL)
                fail_msg("%s: %s kind %d '%s', want the recording's reason '%s'", c->file, f->sym,
                         out[i].kind, out[i].error, f->refusal);
            if (c->parser == RP_FX &&
                strstr(out[i].error, "is not offered by the FX provider") == NULL)
                fail_msg("%s: %s: '%s'", c->file, f->sym, out[i].error);
            continue;
        }
        real_check_price(c, f, &out[i]);
    }
    json_object_put(root);
    free(raw);
    free(fig);
    free(out);
}

/* The recorder kept each answer's HTTP date: against it, with a week's
 * limit, every wrapped chart is fresh except WSKT.JK, whose market time is
 * seven months older (the share was suspended): stale, not 202 IDR "now". */
static void real_check_at_http_date(const struct real_case *c)
{
    char *raw = NULL;
    json_object *root = real_load(c->file, &raw);
    const char *date = real_str(real_at(root, "response.headers.date"));
    struct tm tm;
    memset(&tm, 0, sizeof tm);
    const char *end = strptime(date, "%a, %d %b %Y %H:%M:%S GMT", &tm);
    if (end == NULL || *end != '\0')
        fail_msg("%s: HTTP date '%s'", c->file, date);
    json_object *body = real_at(root, "response.bodyJson");
    const char *sym[] = {real_str(real_at(body, "chart.result.0.meta.symbol"))};
    double div;
    const char *asset = real_major(real_str(real_at(body, "chart.result.0.meta.currency")), &div);
    struct quote q;
    unsigned char found = 0;
    char err[160] = "";
    memset(&q, 0, sizeof q);
    assert_int_equal(yahoo()->fallback_parse(body, sym, 1, &q, &found, err, sizeof err), 0);
    validate_quote(&q, asset, (int64_t)timegm(&tm), 7 * 86400);
    int stale = strstr(c->file, "WSKT.JK") != NULL;
    if (stale ? q.kind != QUOTE_PERMANENT || strstr(q.error, "stale") == NULL : q.kind != QUOTE_OK)
        fail_msg("%s at %s: kind %d '%s'", c->file, date, q.kind, q.error);
    json_object_put(root);
    free(raw);
}

struct real_anchor {
    const char *file, *sym, *text, *currency, *quoted;
    int64_t time;
};

static void test_real_recordings(void **state)
{
    (void)state;
    real_nlog = 0;
    for (size_t i = 0; i < ARRAY_LEN(real_cases); i++) {
        real_replay(&real_cases[i]);
        if (real_cases[i].wrapped && real_cases[i].expect == RE_PRICES)
            real_check_at_http_date(&real_cases[i]);
    }

    /* Checked by hand against the recordings. */
    static const struct real_anchor anchors[] = {
        /* 305.3 pence = £3.053, never 305.3 pounds */
        {"yahoo_chart_v8_OCDO.L_GBp.json", "OCDO.L", "3.053", "GBP", "GBp", 1740051143},
        {"yahoo_spark_v7_TSLA.json", "TSLA", "644.22", "USD", "", 1626465603},
        {"yahoo_spark_v7_MSFT_AAPL_meta_2026-07-27_TRIMMED.json", "AAPL", "336.91", "USD", "",
         1785182401},
        /* the market price, not the only bar's close (1524.5) */
        {"yahoo_chart_v8_GC=F_future_2020-01-02.json", "GC=F", "2952.5", "USD", "", 1740051311},
        {"yahoo2_fixture_chart-AAPL.json", "AAPL", "220.003", "USD", "", 1742824293},
        /* a pair: USD per EUR, in the quote currency */
        {"yahoo_chart_v8_EURUSD=X_2020-01-01_to_03.json", "EURUSD=X", "1.0436", "USD", "",
         1740052002},
        {"frankfurter_v1_latest_base_USD.json", "EUR", "0.88137", "EUR", "", 1744329600},
        {"frankfurter_v1_latest_base_USD.json", "IDR", "16855", "IDR", "", 1744329600},
        {"coingecko_simple_price_docs_example.json", "bitcoin", "67187.3358936566", "USD", "",
         1711356300},
        {"coingecko_simple_price_bitcoin_usd_2025-10-12.json", "bitcoin", "111813", "USD", "", 0},
    };
    for (size_t i = 0; i < ARRAY_LEN(anchors); i++) {
        const struct real_anchor *a = &anchors[i];
        const struct real_stored *s = NULL;
        for (size_t k = 0; k < real_nlog && s == NULL; k++)
            if (strcmp(real_log[k].file, a->file) == 0 && strcmp(real_log[k].sym, a->sym) == 0)
                s = &real_log[k];
        if (s == NULL)
            fail_msg("anchor %s %s: not replayed", a->file, a->sym);
        if (strcmp(s->text, a->text) != 0 || strcmp(s->currency, a->currency) != 0 ||
            strcmp(s->quoted, a->quoted) != 0 || s->time != a->time)
            fail_msg("anchor %s %s: stored %s %s (%s) at %lld, want %s %s (%s) at %lld", a->file,
                     a->sym, s->text, s->currency, s->quoted, (long long)s->time, a->text,
                     a->currency, a->quoted, (long long)a->time);
    }
    const char *verbose = getenv("TEST_PROVIDERS_VERBOSE");
    for (size_t k = 0; verbose && verbose[0] == '1' && k < real_nlog; k++)
        print_message("%s: %s %s %s%s%s at %lld\n", real_log[k].file, real_log[k].sym,
                      real_log[k].text, real_log[k].currency,
                      real_log[k].quoted[0] ? " quoted " : "", real_log[k].quoted,
                      (long long)real_log[k].time);

    /* Every recording of an endpoint we read is replayed, or says why not. */
    DIR *d = opendir(REAL_DIR);
    if (d == NULL)
        fail_msg("cannot open " REAL_DIR " (run from the repository root)");
    for (struct dirent *e = readdir(d); e != NULL; e = readdir(d)) {
        size_t len = strlen(e->d_name);
        if (len < 5 || strcmp(e->d_name + len - 5, ".json") != 0)
            continue;
        int ours = 0, listed = 0;
        for (size_t i = 0; i < ARRAY_LEN(real_endpoints); i++)
            ours |= strncmp(e->d_name, real_endpoints[i], strlen(real_endpoints[i])) == 0;
        for (size_t i = 0; i < ARRAY_LEN(real_cases); i++)
            listed |= strcmp(e->d_name, real_cases[i].file) == 0;
        if (ours && !listed) {
            closedir(d);
            fail_msg(REAL_DIR "%s is not replayed: give it a row in real_cases", e->d_name);
        }
    }
    closedir(d);
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
         "https://query1.finance.yahoo.com/v7/finance/spark?symbols=AAPL&range=1d&interval=1d"},
        {yahoo,
         {"AAPL", "^GSPC", "EURUSD=X", "BRK-B"},
         4,
         "https://query1.finance.yahoo.com/v7/finance/spark?symbols=AAPL,%5EGSPC,EURUSD%3DX,BRK-B"
         "&range=1d&interval=1d"},
        {yahoo,
         {"A,B"},
         1,
         "https://query1.finance.yahoo.com/v7/finance/spark?symbols=A%2CB&range=1d&interval=1d"},
        {fx,
         {"EUR", "GBP", "JPY"},
         3,
         "https://api.frankfurter.dev/v1/latest?from=USD&to=EUR,GBP,JPY"},
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
        cmocka_unit_test_setup(test_fx_parse, setup),
        cmocka_unit_test_setup(test_yahoo_market, setup),
        cmocka_unit_test_setup(test_real_recordings, setup),
        cmocka_unit_test_setup(test_parse_json, setup),
        cmocka_unit_test_setup(test_number, setup),
        cmocka_unit_test_setup(test_build_url, setup),
        cmocka_unit_test_setup(test_build_url_batch, setup),
        cmocka_unit_test_setup(test_headers, setup),
        cmocka_unit_test_setup(test_normalize, setup),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
