/*
 * Unit tests of daemon/crosscheck.c — the rules of crosscheck.h as a
 * table: prices of two or three sources, the limit, and the verdict (do
 * they disagree, which price is kept, which one is the outlier); then the
 * currency conversion and the WARNING's sentence.
 */
#include "crosscheck.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

struct xc_case {
    const char *name;
    size_t n;
    double p[XC_MAX];
    double limit;
    int disagree;
    size_t kept;
    int outlier;
    double diff; /* the largest difference, % */
};

static void test_decide_table(void **state)
{
    (void)state;
    const struct xc_case cases[] = {
        {"one price: nothing to compare", 1, {100}, 2, 0, 0, -1, 0},
        {"two agree", 2, {100, 101}, 2, 0, 0, -1, 1},
        {"two at the limit agree", 2, {100, 102}, 2, 0, 0, -1, 2},
        {"two 5 % apart: the primary's is kept", 2, {100, 105}, 2, 1, 0, -1, 5},
        {"two, the second lower", 2, {100, 95}, 2, 1, 0, -1, 5},
        {"three agree", 3, {100, 101, 100.5}, 2, 0, 0, -1, 1},
        {"the primary is the outlier of three: the majority wins",
         3,
         {105, 100, 100.1},
         2,
         1,
         1,
         0,
         100.0 * 5.0 / 105.0},
        {"the second is the outlier: the primary's is kept", 3, {100, 106, 100.5}, 2, 1, 0, 1, 6},
        {"the third is the outlier: the primary's is kept",
         3,
         {100, 100.5, 90},
         2,
         1,
         0,
         2,
         100.0 * 10.5 / 100.5},
        {"three all apart: no majority, the primary's is kept",
         3,
         {100, 110, 121},
         2,
         1,
         0,
         -1,
         21},
        {"a wider limit", 3, {105, 100, 100.1}, 10, 0, 0, -1, 100.0 * 5.0 / 105.0},
        {"more than three: only three compared",
         4,
         {105, 100, 100},
         2,
         1,
         1,
         0,
         100.0 * 5.0 / 105.0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const struct xc_case *c = &cases[i];
        double p[4] = {c->p[0], c->p[1], c->p[2], 1e9}; /* the fourth would disagree */
        struct xc_verdict v;
        crosscheck_decide(p, c->n, c->limit, &v);
        print_message("%s\n", c->name);
        assert_int_equal(v.n, c->n < XC_MAX ? c->n : XC_MAX);
        assert_int_equal(v.disagree, c->disagree);
        assert_int_equal(v.kept, c->kept);
        assert_int_equal(v.outlier, c->outlier);
        assert_true(fabs(v.diff_pct - c->diff) < 1e-9);
    }
}

static void test_convert(void **state)
{
    (void)state;
    const struct xc_rate rates[] = {{"EUR", 0.9}, {"GBP", 0.8}, {"JPY", 0}, {NULL, 1}};
    double out = 0;
    assert_int_equal(crosscheck_convert(10, "USD", "usd", rates, 4, &out), 0);
    assert_true(out == 10);
    assert_int_equal(crosscheck_convert(10, "USD", "EUR", rates, 4, &out), 0);
    assert_true(fabs(out - 9) < 1e-12);
    assert_int_equal(crosscheck_convert(9, "EUR", "USD", rates, 4, &out), 0);
    assert_true(fabs(out - 10) < 1e-12);
    assert_int_equal(crosscheck_convert(9, "eur", "GBP", rates, 4, &out), 0); /* through USD */
    assert_true(fabs(out - 8) < 1e-12);
    /* a missing or unusable rate: not converted, never guessed */
    assert_int_equal(crosscheck_convert(9, "EUR", "CHF", rates, 4, &out), -1);
    assert_int_equal(crosscheck_convert(9, "JPY", "USD", rates, 4, &out), -1);
    assert_int_equal(crosscheck_convert(9, "EUR", "USD", rates, 0, &out), -1);
}

static void test_describe(void **state)
{
    (void)state;
    char line[400];
    const char *const src[] = {"coingecko", "kraken", "coinbase"};
    double two[] = {60000, 63000};
    struct xc_verdict v;
    crosscheck_decide(two, 2, 2, &v);
    crosscheck_describe("BTC", "USD", src, two, &v, 2, line, sizeof line);
    assert_string_equal(line, "BTC: sources disagree by 5.00% (more than 2%): coingecko 60000 USD, "
                              "kraken 63000 USD; kept coingecko's price");
    double three[] = {63000, 60000, 60010};
    crosscheck_decide(three, 3, 2, &v);
    crosscheck_describe("BTC", "USD", src, three, &v, 2, line, sizeof line);
    assert_string_equal(line, "BTC: coingecko 63000 USD is the outlier of three (kraken 60000 USD, "
                              "coinbase 60010 USD; more than 2% apart); kept kraken's price");
    double spread[] = {100, 110, 121};
    crosscheck_decide(spread, 3, 2, &v);
    crosscheck_describe("X", "EUR", src, spread, &v, 2, line, sizeof line);
    assert_string_equal(line, "X: sources disagree by up to 21.00% (more than 2%): coingecko 100 "
                              "EUR, kraken 110 EUR, coinbase 121 EUR; kept coingecko's price");
    /* a short buffer: cut, still terminated */
    char small[16];
    crosscheck_describe("BTC", "USD", src, two, &v, 2, small, sizeof small);
    assert_true(strlen(small) < sizeof small);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_decide_table),
        cmocka_unit_test(test_convert),
        cmocka_unit_test(test_describe),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
