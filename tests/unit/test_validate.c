/*
 * Unit tests of daemon/validate.c — table-driven: a quote as a provider
 * would hand it over, what the asset expects, and whether it must pass
 * (and with which currency) or fail (and why).
 */
#include "validate.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#define NOW INT64_C(1763700000)
#define WEEK (7 * 86400)

struct v_case {
    const char *name;
    enum quote_error_kind kind; /* of the quote going in */
    double price;
    const char *currency;
    int64_t price_time;
    const char *expected; /* the asset's currency */
    int64_t max_age_s;
    enum quote_error_kind want;
    const char *want_currency; /* when it passes */
    const char *why;           /* substring of the reason when it fails */
};

static void test_table(void **state)
{
    (void)state;
    const struct v_case cases[] = {
        {"fine quote", QUOTE_OK, 189.84, "USD", NOW - 60, "USD", WEEK, QUOTE_OK, "USD", NULL},
        {"currency any case", QUOTE_OK, 1, "usd", NOW, "USD", WEEK, QUOTE_OK, "usd", NULL},
        {"no currency: the asset's", QUOTE_OK, 1, "", NOW, "EUR", WEEK, QUOTE_OK, "EUR", NULL},
        {"no expectation", QUOTE_OK, 1, "GBp", NOW, "", WEEK, QUOTE_OK, "GBP", NULL},
        {"pence become pounds", QUOTE_OK, 250, "GBp", NOW, "GBP", WEEK, QUOTE_OK, "GBP", NULL},
        {"cents become rand", QUOTE_OK, 250, "ZAc", NOW, "ZAR", WEEK, QUOTE_OK, "ZAR", NULL},
        {"agorot become shekels", QUOTE_OK, 34250, "ILA", NOW, "ILS", WEEK, QUOTE_OK, "ILS", NULL},
        {"US cents become dollars", QUOTE_OK, 284.25, "USX", NOW, "USD", WEEK, QUOTE_OK, "USD",
         NULL},
        {"GBX pence become pounds", QUOTE_OK, 1259.5, "GBX", NOW, "GBP", WEEK, QUOTE_OK, "GBP",
         NULL},
        {"pence are not pounds priced in USD", QUOTE_OK, 305.3, "GBp", NOW, "USD", WEEK,
         QUOTE_PERMANENT, NULL, "currency mismatch: answer in GBP"},
        {"below numeric(30,10)", QUOTE_OK, 4e-11, "USD", NOW, "USD", WEEK, QUOTE_PERMANENT, NULL,
         "storable range"},
        {"above numeric(30,10)", QUOTE_OK, 1e21, "USD", NOW, "USD", WEEK, QUOTE_PERMANENT, NULL,
         "storable range"},
        {"NULL expectation", QUOTE_OK, 1, "JPY", NOW, NULL, WEEK, QUOTE_OK, "JPY", NULL},
        {"unknown time passes", QUOTE_OK, 1, "USD", 0, "USD", WEEK, QUOTE_OK, "USD", NULL},
        {"tiny price", QUOTE_OK, 1e-8, "USD", NOW, "USD", WEEK, QUOTE_OK, "USD", NULL},
        {"a little ahead (clock skew)", QUOTE_OK, 1, "USD", NOW + VALIDATE_FUTURE_SLACK_S, "USD",
         WEEK, QUOTE_OK, "USD", NULL},
        {"exactly max age", QUOTE_OK, 1, "USD", NOW - WEEK, "USD", WEEK, QUOTE_OK, "USD", NULL},
        {"age check off", QUOTE_OK, 1, "USD", 1, "USD", 0, QUOTE_OK, "USD", NULL},
        {"NaN", QUOTE_OK, NAN, "USD", NOW, "USD", WEEK, QUOTE_PERMANENT, NULL, "finite"},
        {"infinity", QUOTE_OK, INFINITY, "USD", NOW, "USD", WEEK, QUOTE_PERMANENT, NULL, "finite"},
        {"zero", QUOTE_OK, 0, "USD", NOW, "USD", WEEK, QUOTE_PERMANENT, NULL, "not positive"},
        {"negative", QUOTE_OK, -3.5, "USD", NOW, "USD", WEEK, QUOTE_PERMANENT, NULL,
         "not positive"},
        {"currency mismatch", QUOTE_OK, 1, "EUR", NOW, "USD", WEEK, QUOTE_PERMANENT, NULL,
         "currency mismatch"},
        {"future timestamp", QUOTE_OK, 1, "USD", NOW + VALIDATE_FUTURE_SLACK_S + 1, "USD", WEEK,
         QUOTE_PERMANENT, NULL, "future"},
        {"far future", QUOTE_OK, 1, "USD", NOW + 86400 * 365, "USD", WEEK, QUOTE_PERMANENT, NULL,
         "future"},
        {"stale timestamp", QUOTE_OK, 1, "USD", NOW - WEEK - 1, "USD", WEEK, QUOTE_PERMANENT, NULL,
         "stale"},
        {"negative timestamp", QUOTE_OK, 1, "USD", -5, "USD", WEEK, QUOTE_PERMANENT, NULL,
         "negative"},
        {"negative timestamp, age check off", QUOTE_OK, 1, "USD", -5, "USD", 0, QUOTE_PERMANENT,
         NULL, "negative"},
        /* failures pass through untouched */
        {"already failed", QUOTE_TRANSIENT, NAN, "EUR", 0, "USD", WEEK, QUOTE_TRANSIENT, NULL,
         "upstream said no"},
        {"cancelled", QUOTE_CANCELLED, 0, "", 0, "USD", WEEK, QUOTE_CANCELLED, NULL,
         "upstream said no"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const struct v_case *c = &cases[i];
        struct quote q = {.kind = c->kind, .price = c->price, .price_time = c->price_time};
        snprintf(q.currency, sizeof q.currency, "%s", c->currency);
        if (c->kind != QUOTE_OK)
            snprintf(q.error, sizeof q.error, "upstream said no");
        validate_quote(&q, c->expected, NOW, c->max_age_s);
        if (q.kind != c->want)
            fail_msg("%s: kind %d, want %d (%s)", c->name, q.kind, c->want, q.error);
        if (c->want == QUOTE_OK) {
            assert_string_equal(q.currency, c->want_currency);
            /* a minor unit was divided into the major one */
            static const char *const minors[] = {"GBp", "GBX", "ZAc", "ILA", "USX"};
            int minor = 0;
            for (size_t k = 0; k < sizeof minors / sizeof minors[0]; k++)
                minor |= c->currency && strcmp(c->currency, minors[k]) == 0;
            assert_true(q.price == (minor ? c->price / 100.0 : c->price));
            /* the code it was quoted in is kept when it was a minor unit */
            assert_string_equal(q.quoted_currency, minor ? c->currency : "");
            assert_string_equal(q.error, "");
        } else if (strstr(q.error, c->why) == NULL) {
            fail_msg("%s: reason '%s' lacks '%s'", c->name, q.error, c->why);
        }
    }
}

/* Rates must fit exchange_rates.rate, numeric(30,12): 18 integer digits,
 * less than prices may have; one that does not would fail the whole rates
 * statement. */
static void test_rate(void **state)
{
    (void)state;
    const struct {
        double rate;
        int ok;
    } cases[] = {{0.92, 1}, {89500, 1}, {9.99e17, 1}, {1e18, 0}, {5e19, 0}, {1e21, 0}};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct quote q = {.kind = QUOTE_OK, .price = cases[i].rate, .price_time = NOW};
        snprintf(q.currency, sizeof q.currency, "EUR");
        validate_rate(&q, "EUR", NOW, WEEK);
        if ((q.kind == QUOTE_OK) != cases[i].ok)
            fail_msg("rate %g: kind %d (%s)", cases[i].rate, q.kind, q.error);
        if (!cases[i].ok)
            assert_non_null(strstr(q.error, "storable range"));
    }
    /* and everything validate_quote refuses */
    struct quote q = {.kind = QUOTE_OK, .price = 0.9, .price_time = NOW + 86400};
    validate_rate(&q, "EUR", NOW, WEEK);
    assert_int_equal(q.kind, QUOTE_PERMANENT);
}

struct m_case {
    double last, now, ratio;
    int want;
    const char *why; /* substring when flagged */
};

static void test_move(void **state)
{
    (void)state;
    const struct m_case cases[] = {
        {100, 100, 0.5, 0, NULL},
        {100, 150, 0.5, 0, NULL}, /* exactly the ratio: not more than it */
        {100, 50, 0.5, 0, NULL},
        {100, 150.01, 0.5, 1, "+50.0%"},
        {100, 162, 0.5, 1, "price moved +62.0% since the last one (100 -> 162), more than 50%"},
        {100, 49, 0.5, 1, "-51.0%"},
        {100, 0.01, 0.5, 1, "-100.0%"},
        {1e-8, 2e-8, 0.5, 1, "(1e-08 -> 2e-08)"},
        {189.84, 379.68, 0.99, 1, "more than 99%"},
        {100, 120, 0.1, 1, "+20.0%"},
        /* nothing to compare with, or the check is off */
        {0, 500, 0.5, 0, NULL},
        {-1, 500, 0.5, 0, NULL},
        {NAN, 500, 0.5, 0, NULL},
        {INFINITY, 500, 0.5, 0, NULL},
        {100, 0, 0.5, 0, NULL},
        {100, -5, 0.5, 0, NULL},
        {100, NAN, 0.5, 0, NULL},
        {100, INFINITY, 0.5, 0, NULL},
        {100, 1000, 0, 0, NULL},
        {100, 1000, -1, 0, NULL},
        {100, 1000, NAN, 0, NULL},
        {100, 1000, INFINITY, 0, NULL},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const struct m_case *c = &cases[i];
        char why[200];
        memset(why, 'x', sizeof why);
        int got = validate_move(c->last, c->now, c->ratio, why, sizeof why);
        if (got != c->want)
            fail_msg("case %zu (%g -> %g, %g): got %d, want %d (%s)", i, c->last, c->now, c->ratio,
                     got, c->want, why);
        if (c->want == 0)
            assert_string_equal(why, "");
        else if (strstr(why, c->why) == NULL)
            fail_msg("case %zu: '%s' lacks '%s'", i, why, c->why);
    }
    /* a short buffer is cut, never overrun; none at all is fine */
    char small[8];
    assert_int_equal(validate_move(100, 300, 0.5, small, sizeof small), 1);
    assert_int_equal(strlen(small), sizeof small - 1);
    assert_int_equal(validate_move(100, 300, 0.5, NULL, 0), 1);
}

/* The currency rule alone (the queue's accept check): the same verdict
 * and words as validate_quote(), minor units read as their major one, the
 * quote untouched. */
static void test_currency(void **state)
{
    (void)state;
    const struct {
        const char *ccy, *expected;
        int ok;
    } cases[] = {
        {"USD", "USD", 1}, {"usd", "USD", 1}, {"GBp", "GBP", 1}, {"GBX", "GBP", 1},
        {"", "USD", 1},    {"EUR", "", 1},    {"EUR", NULL, 1},  {"EUR", "USD", 0},
        {"GBp", "USD", 0}, {"JPY", "USD", 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct quote q = {.kind = QUOTE_OK, .price = 305.3, .price_time = NOW};
        snprintf(q.currency, sizeof q.currency, "%s", cases[i].ccy);
        struct quote before = q;
        char why[200] = "";
        assert_int_equal(validate_currency(&q, cases[i].expected, why, sizeof why), cases[i].ok);
        assert_memory_equal(&q, &before, sizeof q);
        struct quote v = q;
        validate_quote(&v, cases[i].expected, NOW, WEEK);
        if (cases[i].ok) {
            assert_int_equal(v.kind, QUOTE_OK);
        } else {
            assert_int_equal(v.kind, QUOTE_PERMANENT);
            assert_string_equal(v.error, why);
        }
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_table),
        cmocka_unit_test(test_move),
        cmocka_unit_test(test_rate),
        cmocka_unit_test(test_currency),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
