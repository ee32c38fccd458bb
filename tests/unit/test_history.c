/*
 * test_history — the providers' history requests (a backfill) against the
 * answers the real servers gave, kept in tests/fixtures/real/ (run from the
 * repository root, as tests/run.sh does): a year of MSFT (dividends) and
 * NVDA (a 4:1 split) day bars from Yahoo's chart, Yahoo's INR=X with a
 * null close, CoinGecko's 90 days of bitcoin, their error answers. The
 * expected figures come from the same files read with json-c alone (the
 * oracle), not from our parser.
 */
#include "history.h"
#include "provider.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#define REAL "tests/fixtures/real/"

static struct config C;

static int setup(void **state)
{
    (void)state;
    memset(&C, 0, sizeof C);
    util_strlcpy(C.yahoo_base_url, "https://query1.finance.yahoo.com", sizeof C.yahoo_base_url);
    util_strlcpy(C.coingecko_base_url, "https://api.coingecko.com/api/v3",
                 sizeof C.coingecko_base_url);
    return 0;
}

static json_object *oracle(const char *file)
{
    char path[256];
    snprintf(path, sizeof path, REAL "%s", file);
    json_object *o = json_object_from_file(path);
    if (o == NULL)
        fail_msg("cannot read %s (run from the repository root)", path);
    return o;
}

/* The recording through the daemon's own reader and the provider's
 * history parse. Returns the series (caller frees); q and rc filled. */
static struct history_series *parse(const char *provider, const char *file, const char *symbol,
                                    struct quote *q, int *rc)
{
    char path[256];
    snprintf(path, sizeof path, REAL "%s", file);
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        fail_msg("cannot open %s", path);
    char *buf = malloc(1 << 20);
    assert_non_null(buf);
    size_t n = fread(buf, 1, (1 << 20) - 1, f);
    fclose(f);
    char err[160] = "";
    json_object *root = provider_parse_json(buf, n, "application/json", err, sizeof err);
    free(buf);
    if (root == NULL)
        fail_msg("%s: %s", file, err);
    const struct provider *p = provider_find(provider);
    assert_non_null(p);
    assert_non_null(p->history_parse);
    struct history_series *s = history_new();
    assert_non_null(s);
    memset(q, 0, sizeof *q);
    *rc = p->history_parse(root, symbol, s, q, err, sizeof err);
    json_object_put(root);
    return s;
}

static json_object *at(json_object *o, const char *path)
{
    /* "a.b.0.c": members and array indexes */
    char buf[128];
    util_strlcpy(buf, path, sizeof buf);
    char *save = NULL;
    for (char *t = strtok_r(buf, ".", &save); t && o; t = strtok_r(NULL, ".", &save)) {
        if (t[0] >= '0' && t[0] <= '9')
            o = json_object_array_get_idx(o, (size_t)strtoul(t, NULL, 10));
        else if (!json_object_object_get_ex(o, t, &o))
            o = NULL;
    }
    return o;
}

static void day_is(int32_t day, const char *want)
{
    char got[16];
    history_fmt_day(day, got, sizeof got);
    assert_string_equal(got, want);
}

static void test_urls(void **state)
{
    (void)state;
    char url[512];
    assert_int_equal(provider_find("yahoo")->history_url(&C, "BRK-B", url, sizeof url), 0);
    assert_string_equal(url, "https://query1.finance.yahoo.com/v8/finance/chart/BRK-B"
                             "?range=5y&interval=1d&events=div,split");
    assert_int_equal(provider_find("coingecko")->history_url(&C, "bitcoin", url, sizeof url), 0);
    assert_string_equal(url, "https://api.coingecko.com/api/v3/coins/bitcoin/market_chart"
                             "?vs_currency=usd&days=365&interval=daily");
    assert_int_equal(provider_find("yahoo")->history_url(&C, "AAPL", url, 20), -1);
    /* providers without a history request say so */
    assert_null(provider_find("kraken")->history_url);
    assert_null(provider_find("fx")->history_url);
}

/* A year of MSFT bars: every close, the bar's day in New York, the time at
 * the session's end; `close`, not `adjclose` (dividends are not taken off
 * the past). */
static void test_yahoo_msft_year(void **state)
{
    (void)state;
    const char *f = "yahoo_chart_MSFT_1d_2021-02-01_to_2022-01-31_dividends.json";
    struct quote q;
    int rc;
    struct history_series *s = parse("yahoo", f, "MSFT", &q, &rc);
    json_object *o = oracle(f);
    json_object *res = at(o, "chart.result.0");
    json_object *ts = at(res, "timestamp"), *close = at(res, "indicators.quote.0.close");
    json_object *adj = at(res, "indicators.adjclose.0.adjclose");
    assert_int_equal(rc, 0);
    assert_int_equal(q.kind, QUOTE_OK);
    assert_int_equal(s->n, json_object_array_length(ts));
    assert_int_equal(s->nulls, 0);
    assert_string_equal(s->currency, "USD");
    int64_t session = json_object_get_int64(at(res, "meta.currentTradingPeriod.regular.end")) -
                      json_object_get_int64(at(res, "meta.currentTradingPeriod.regular.start"));
    for (size_t k = 0; k < s->n; k++) {
        double c = json_object_get_double(json_object_array_get_idx(close, k));
        assert_true(s->p[k].close == c);
        assert_true(s->p[k].close != json_object_get_double(json_object_array_get_idx(adj, k)));
        int64_t t = json_object_get_int64(json_object_array_get_idx(ts, k));
        assert_int_equal(s->p[k].price_time, t + session);
    }
    day_is(s->p[0].day, "2021-02-01");
    day_is(s->p[s->n - 1].day, "2022-01-28");
    assert_true(q.price == s->p[s->n - 1].close);
    history_free(s);
    json_object_put(o);
}

/* NVDA's 4:1 split of July 2021: the stored closes have no step there
 * (Yahoo's close is split-adjusted back in time). */
static void test_yahoo_nvda_split(void **state)
{
    (void)state;
    struct quote q;
    int rc;
    struct history_series *s =
        parse("yahoo", "yahoo_chart_NVDA_1d_2021-02-01_to_2022-01-31_split.json", "NVDA", &q, &rc);
    assert_int_equal(rc, 0);
    assert_int_equal(s->n, 252);
    for (size_t k = 1; k < s->n; k++) {
        double r = s->p[k].close / s->p[k - 1].close;
        assert_true(r > 0.8 && r < 1.25);
    }
    history_free(s);
}

/* A null close is a day without a close: skipped and counted, never 0. */
static void test_yahoo_null_close_skipped(void **state)
{
    (void)state;
    const char *f = "yahoo_chart_v8_INR=X_with_null_2017-07.json";
    struct quote q;
    int rc;
    struct history_series *s = parse("yahoo", f, "INR=X", &q, &rc);
    json_object *o = oracle(f);
    json_object *close = at(o, "chart.result.0.indicators.quote.0.close");
    size_t nulls = 0;
    for (size_t k = 0; k < json_object_array_length(close); k++)
        nulls += json_object_array_get_idx(close, k) == NULL;
    assert_int_equal(rc, 0);
    assert_int_equal(nulls, 1);
    assert_int_equal(s->nulls, 1);
    assert_int_equal(s->n, json_object_array_length(close) - 1);
    for (size_t k = 0; k < s->n; k++)
        assert_true(s->p[k].close > 0);
    assert_string_equal(s->currency, "INR");
    history_free(s);
    json_object_put(o);
}

/* Pence become pounds, as the live price does. */
static void test_yahoo_minor_unit(void **state)
{
    (void)state;
    struct quote q;
    int rc;
    struct history_series *s = parse("yahoo", "yahoo_chart_v8_OCDO.L_GBp.json", "OCDO.L", &q, &rc);
    assert_int_equal(rc, 0);
    assert_true(s->n >= 1);
    assert_string_equal(s->currency, "GBp");
    double pence = s->p[0].close;
    history_to_major(s);
    assert_string_equal(s->currency, "GBP");
    assert_string_equal(s->quoted_currency, "GBp");
    assert_true(s->p[0].close == pence / 100.0);
    history_free(s);
}

static void test_yahoo_unknown_symbol(void **state)
{
    (void)state;
    struct quote q;
    int rc;
    struct history_series *s =
        parse("yahoo", "yahoo_chart_v8_404_unknown_symbol.json", "NOSUCH", &q, &rc);
    assert_int_equal(rc, 0);
    assert_int_equal(q.kind, QUOTE_PERMANENT);
    assert_non_null(strstr(q.error, "No data found"));
    assert_int_equal(s->n, 0);
    history_free(s);
}

/* 90 days of bitcoin: a midnight point is the close of the day before,
 * the last ("now") point today's; so each of the 91 points is a day of
 * its own, and the day recorded twice in the answer is not. */
static void test_coingecko_market_chart(void **state)
{
    (void)state;
    const char *f = "coingecko_market_chart_bitcoin_90d_daily_2021-05-15.json";
    struct quote q;
    int rc;
    struct history_series *s = parse("coingecko", f, "bitcoin", &q, &rc);
    json_object *o = oracle(f);
    json_object *prices = at(o, "prices");
    size_t np = json_object_array_length(prices);
    assert_int_equal(rc, 0);
    assert_int_equal(q.kind, QUOTE_OK);
    assert_int_equal(np, 91);
    assert_int_equal(s->n, np);
    assert_string_equal(s->currency, "USD");
    day_is(s->p[0].day, "2021-02-14");
    day_is(s->p[s->n - 1].day, "2021-05-15");
    day_is(s->p[s->n - 2].day, "2021-05-14");
    /* 2021-05-14's close is the price at 2021-05-15 00:00 */
    assert_true(s->p[s->n - 2].close == json_object_get_double(at(prices, "89.1")));
    assert_int_equal(s->p[s->n - 2].price_time, json_object_get_int64(at(prices, "89.0")) / 1000);
    assert_true(s->p[s->n - 1].close == json_object_get_double(at(prices, "90.1")));
    for (size_t k = 1; k < s->n; k++)
        assert_int_equal(s->p[k].day, s->p[k - 1].day + 1);
    history_free(s);
    json_object_put(o);
}

static void test_coingecko_errors(void **state)
{
    (void)state;
    struct quote q;
    int rc;
    struct history_series *s =
        parse("coingecko", "coingecko_error_10012_time_range_2024-03-30.json", "x", &q, &rc);
    assert_int_equal(rc, 0);
    assert_int_equal(q.kind, QUOTE_PERMANENT);
    assert_true(strlen(q.error) > 10);
    assert_int_equal(s->n, 0);
    history_free(s);
    s = parse("coingecko", "coingecko_error_422_missing_vs_currency.json", "x", &q, &rc);
    assert_int_equal(q.kind, QUOTE_PERMANENT);
    assert_non_null(strstr(q.error, "vs_currency"));
    history_free(s);
}

/* A series keeps one point per day (the later wins) and at most
 * HISTORY_MAX_POINTS, the newest. */
static void test_series_rules(void **state)
{
    (void)state;
    struct history_series *s = history_new();
    assert_int_equal(history_push(s, 10, 100, 1.0), 0);
    assert_int_equal(history_push(s, 10, 200, 2.0), 0);
    assert_int_equal(s->n, 1);
    assert_true(s->p[0].close == 2.0);
    for (int d = 11; d < 11 + HISTORY_MAX_POINTS + 5; d++)
        assert_int_equal(history_push(s, d, d, (double)d), 0);
    assert_int_equal(s->n, HISTORY_MAX_POINTS);
    assert_int_equal(s->p[s->n - 1].day, 10 + HISTORY_MAX_POINTS + 5);
    assert_int_equal(history_day(-1, 0), -1);
    assert_int_equal(history_day(86399, 0), 0);
    assert_int_equal(history_day(3600, -7200), -1);
    history_free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_urls),
        cmocka_unit_test(test_yahoo_msft_year),
        cmocka_unit_test(test_yahoo_nvda_split),
        cmocka_unit_test(test_yahoo_null_close_skipped),
        cmocka_unit_test(test_yahoo_minor_unit),
        cmocka_unit_test(test_yahoo_unknown_symbol),
        cmocka_unit_test(test_coingecko_market_chart),
        cmocka_unit_test(test_coingecko_errors),
        cmocka_unit_test(test_series_rules),
    };
    return cmocka_run_group_tests_name("history", tests, setup, NULL);
}
