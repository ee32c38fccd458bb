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

/* fetcher_due_assets's rule (test_sql checks the SQL against it). */
static void test_due(void **state)
{
    (void)state;
    static const struct {
        int64_t ago_ms, bound, check;
        int due;
    } cases[] = {
        {-1, 600, 30, 1},             /* never asked */
        {-1, STALENESS_NEVER, 30, 0}, /* never: not even the first time */
        {0, STALENESS_ALWAYS, 30, 1}, /* always: every check */
        {60000, STALENESS_NEVER, 30, 0},
        {585000, 600, 30, 1}, /* the check nearest 600 s */
        {584999, 600, 30, 0},
        {570000, 600, 30, 0}, /* a check early */
        {45000, 60, 30, 1},
        {44999, 60, 30, 0},
        {30000, 600, 600, 0},
        {300000, 600, 600, 1}, /* bound = check: each check */
        {86400000, 86400, 30, 1},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        assert_int_equal(staleness_due(cases[i].ago_ms, cases[i].bound, cases[i].check),
                         cases[i].due);
}

static void test_never_always_and_check(void **state)
{
    (void)state;
    struct staleness s;
    char err[200];
    assert_int_equal(
        staleness_parse("crypto=1m,stock=10m,bond=never,fx=always", 600, &s, err, sizeof err), 0);
    assert_int_equal(staleness_bound(&s, "bond"), STALENESS_NEVER);
    assert_int_equal(staleness_bound(&s, "fx"), STALENESS_ALWAYS);
    assert_int_equal(staleness_check_s(&s, 30), 30);
    assert_int_equal(staleness_check_s(&s, 120), 60); /* never longer than the shortest bound */
    char json[512];
    assert_int_equal(staleness_json(&s, json, sizeof json), 0);
    assert_string_equal(json, "{\"stock\":600,\"etf\":600,\"crypto\":60,\"fx\":0,\"bond\":-1,"
                              "\"fund\":600,\"index\":600,\"commodity\":600}");
    assert_int_equal(staleness_json(&s, json, 20), -1);
    assert_int_equal(staleness_parse("bond=sometimes", 600, &s, err, sizeof err), -1);
    assert_non_null(strstr(err, "never or always"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_parse), cmocka_unit_test(test_due),
                                       cmocka_unit_test(test_never_always_and_check)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
