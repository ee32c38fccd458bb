/*
 * Unit tests of tests/fakemarket/stats.c: what counts and how often, the
 * bound on distinct symbols, reset, the /_stats JSON, and that counting
 * from many threads at once loses nothing.
 */
#include "../fakemarket/stats.h"

#include <json-c/json.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

static const char *const seed[] = {"/v8/finance/chart", "/v8/finance/spark", "/api/v3/simple/price",
                                   "/latest"};

static void test_counts(void **state)
{
    (void)state;
    struct fm_stats *st = fm_stats_new(100, seed, 4, NULL);
    assert_non_null(st);
    const char *const batch[] = {"AAPL", "MSFT", "AAPL", "ERR500"};
    const char *const one[] = {"AAPL"};
    const char *const coins[] = {"bitcoin"};
    assert_int_equal(fm_stats_count(st, "/v8/finance/spark", batch, 4, false), 0);
    assert_int_equal(fm_stats_count(st, "/v8/finance/chart", one, 1, false), 0);
    assert_int_equal(fm_stats_count(st, "/api/v3/simple/price", coins, 1, true), 0);
    assert_int_equal(fm_stats_count(st, "(unknown)", NULL, 0, false), 0);
    assert_int_equal(fm_stats_total(st), 4);
    assert_int_equal(fm_stats_path(st, "/v8/finance/spark"), 1);
    assert_int_equal(fm_stats_path(st, "/latest"), 0);
    assert_int_equal(fm_stats_path(st, "(unknown)"), 1);
    assert_int_equal(fm_stats_symbol(st, "AAPL"), 2); /* once per request */
    assert_int_equal(fm_stats_symbol(st, "MSFT"), 1);
    assert_int_equal(fm_stats_symbol(st, "aapl"), 0); /* symbols are case-sensitive */
    assert_int_equal(fm_stats_symbol(st, "bitcoin"), 1);

    size_t len = 0;
    char *json = fm_stats_render(st, &len);
    assert_non_null(json);
    assert_int_equal(strlen(json), len);
    struct json_object *root = json_tokener_parse(json);
    assert_non_null(root);
    assert_int_equal(json_object_object_length(root), 5);
    struct json_object *v;
    assert_true(json_object_object_get_ex(root, "requests_total", &v));
    assert_int_equal(json_object_get_int64(v), 4);
    assert_true(json_object_object_get_ex(root, "api_key_requests", &v));
    assert_int_equal(json_object_get_int64(v), 1);
    assert_true(json_object_object_get_ex(root, "by_path", &v));
    assert_int_equal(json_object_object_length(v), 5); /* the four seeds + (unknown) */
    assert_true(json_object_object_get_ex(root, "by_symbol", &v));
    assert_int_equal(json_object_object_length(v), 4);
    /* slashes are not escaped, so "grep '"/latest":0'" works */
    assert_non_null(strstr(json, "\"/latest\":0"));
    json_object_put(root);
    free(json);

    fm_stats_reset(st);
    assert_int_equal(fm_stats_total(st), 0);
    assert_int_equal(fm_stats_symbol(st, "AAPL"), 0);
    json = fm_stats_render(st, &len);
    assert_string_equal(json, "{\"requests_total\":0,\"by_path\":{\"/v8/finance/chart\":0,"
                              "\"/v8/finance/spark\":0,\"/api/v3/simple/price\":0,\"/latest\":0},"
                              "\"by_symbol\":{},\"by_asset\":{},\"api_key_requests\":0}");
    free(json);
    fm_stats_free(st);
    fm_stats_free(NULL);
}

static void test_bound(void **state)
{
    (void)state;
    struct fm_stats *st = fm_stats_new(3000, NULL, 0, NULL);
    assert_non_null(st);
    char name[32];
    for (int i = 0; i < 5000; i++) {
        snprintf(name, sizeof name, "S%d", i);
        const char *n[] = {name};
        assert_int_equal(fm_stats_count(st, "/p", n, 1, false), 0);
    }
    assert_int_equal(fm_stats_untracked(st), 2000);
    assert_int_equal(fm_stats_symbol(st, "S2999"), 1);
    assert_int_equal(fm_stats_symbol(st, "S3000"), 0);
    /* a tracked symbol still counts after the table is full */
    const char *again[] = {"S0"};
    assert_int_equal(fm_stats_count(st, "/p", again, 1, false), 0);
    assert_int_equal(fm_stats_symbol(st, "S0"), 2);
    size_t len;
    char *json = fm_stats_render(st, &len);
    assert_non_null(strstr(json, "\"untracked_symbols\":2000"));
    free(json);
    fm_stats_reset(st);
    assert_int_equal(fm_stats_untracked(st), 0);
    fm_stats_free(st);
}

/* Another source's name for a coin, as fakemarket's fm_wire_asset_of. */
static const char *coin_of(const char *symbol)
{
    return strcmp(symbol, "XBTUSD") == 0 || strcmp(symbol, "BTCUSDT") == 0 ? "bitcoin" : symbol;
}

static void test_by_asset(void **state)
{
    (void)state;
    struct fm_stats *st = fm_stats_new(100, seed, 4, coin_of);
    assert_non_null(st);
    const char *const cg[] = {"bitcoin", "ethereum"};
    const char *const kraken[] = {"XBTUSD"};
    const char *const binance[] = {"BTCUSDT", "BTCUSDT"};
    const char *const yahoo[] = {"AAPL"};
    assert_int_equal(fm_stats_count(st, "/api/v3/simple/price", cg, 2, false), 0);
    assert_int_equal(fm_stats_count(st, "/0/public/Ticker", kraken, 1, false), 0);
    assert_int_equal(fm_stats_count(st, "/0/public/Ticker", kraken, 1, false), 0);
    assert_int_equal(fm_stats_count(st, "/api/v3/ticker/price", binance, 2, false), 0);
    assert_int_equal(fm_stats_count(st, "/v8/finance/spark", yahoo, 1, false), 0);
    size_t len;
    char *json = fm_stats_render(st, &len);
    assert_non_null(json);
    struct json_object *root = json_tokener_parse(json), *by, *v;
    assert_non_null(root);
    /* by_symbol keeps each name as asked */
    assert_true(json_object_object_get_ex(root, "by_symbol", &by));
    assert_true(json_object_object_get_ex(by, "XBTUSD", &v));
    assert_int_equal(json_object_get_int64(v), 2);
    assert_true(json_object_object_get_ex(by, "bitcoin", &v));
    assert_int_equal(json_object_get_int64(v), 1);
    /* by_asset: bitcoin once from CoinGecko, twice from Kraken, once from
     * Binance (named twice in one request: once) */
    assert_true(json_object_object_get_ex(root, "by_asset", &by));
    assert_int_equal(json_object_object_length(by), 3);
    assert_true(json_object_object_get_ex(by, "bitcoin", &v));
    assert_int_equal(json_object_get_int64(v), 4);
    assert_true(json_object_object_get_ex(by, "ethereum", &v));
    assert_int_equal(json_object_get_int64(v), 1);
    assert_true(json_object_object_get_ex(by, "AAPL", &v));
    assert_int_equal(json_object_get_int64(v), 1);
    assert_false(json_object_object_get_ex(by, "XBTUSD", &v));
    json_object_put(root);
    free(json);
    fm_stats_free(st);
}

#define THREADS 4
#define PER_THREAD 20000

static void *hammer(void *arg)
{
    struct fm_stats *st = arg;
    char name[32];
    for (int i = 0; i < PER_THREAD; i++) {
        snprintf(name, sizeof name, "T%d", i % 500);
        const char *n[] = {name, "SHARED"};
        (void)fm_stats_count(st, "/v8/finance/spark", n, 2, i % 2 == 0);
    }
    return NULL;
}

static void test_threads(void **state)
{
    (void)state;
    struct fm_stats *st = fm_stats_new(100000, seed, 4, NULL);
    pthread_t t[THREADS];
    for (int i = 0; i < THREADS; i++)
        assert_int_equal(pthread_create(&t[i], NULL, hammer, st), 0);
    for (int i = 0; i < THREADS; i++)
        pthread_join(t[i], NULL);
    assert_int_equal(fm_stats_total(st), THREADS * PER_THREAD);
    assert_int_equal(fm_stats_path(st, "/v8/finance/spark"), THREADS * PER_THREAD);
    assert_int_equal(fm_stats_symbol(st, "SHARED"), THREADS * PER_THREAD);
    assert_int_equal(fm_stats_symbol(st, "T7"), THREADS * PER_THREAD / 500);
    fm_stats_free(st);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_counts),
        cmocka_unit_test(test_bound),
        cmocka_unit_test(test_by_asset),
        cmocka_unit_test(test_threads),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
