/*
 * Unit tests of daemon/staleness.c: FETCH_STALENESS parsing and the rule
 * that decides whether a scheduled cycle fetches an asset.
 */
#include "staleness.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

static void test_parse(void **state)
{
    (void)state;
    struct staleness s;
    char err[200];
    assert_int_equal(staleness_parse("", 600, &s, err, sizeof err), 0);
    for (int i = 0; i < STALENESS_TYPES; i++)
        assert_int_equal(s.bound_s[i], 600);
    assert_int_equal(staleness_parse("stock=10m,crypto=30s,bond=1d", 600, &s, err, sizeof err), 0);
    assert_int_equal(staleness_bound(&s, "stock"), 600);
    assert_int_equal(staleness_bound(&s, "crypto"), 30);
    assert_int_equal(staleness_bound(&s, "bond"), 86400);
    assert_int_equal(staleness_bound(&s, "etf"), 600);
    assert_int_equal(staleness_bound(&s, "no-such-type"), 0); /* always due */
    static const char *const bad[] = {"stock", "stock=",      "shares=10m", "stock=10x",
                                      "=10m",  "stock=10m,,", "bond=-1d"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        err[0] = '\0';
        assert_int_equal(staleness_parse(bad[i], 600, &s, err, sizeof err), -1);
        assert_non_null(strstr(err, "FETCH_STALENESS"));
    }
}

static void test_due(void **state)
{
    (void)state;
    static const struct {
        int64_t age, bound, interval;
        int due;
    } cases[] = {
        {-1, 600, 600, 1},                           /* never updated */
        {0, 600, 600, 1},                            /* bound = interval: always due */
        {599, 600, 600, 1},     {30, 86400, 600, 0}, /* a bond fetched 30 s ago */
        {85800, 86400, 600, 1}, /* due now, or over the bound by the next cycle */
        {85799, 86400, 600, 0}, {1000000, 86400, 600, 1},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        assert_int_equal(staleness_due(cases[i].age, cases[i].bound, cases[i].interval),
                         cases[i].due);
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_parse), cmocka_unit_test(test_due)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
