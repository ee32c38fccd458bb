/*
 * Unit tests of common/util.c — table-driven: each row is an input and what
 * must come out (a value, or a refusal).
 */
#include "util.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

struct i64_case {
    const char *in;
    int64_t min, max;
    int ok;
    int64_t want;
};

static void test_parse_i64(void **state)
{
    (void)state;
    static const struct i64_case cases[] = {
        {"0", 0, 10, 1, 0},
        {"10", 0, 10, 1, 10},
        {"-5", -10, 10, 1, -5},
        {"-0", -10, 10, 1, 0},
        {"007", 0, 10, 1, 7},
        {"9223372036854775807", INT64_MIN, INT64_MAX, 1, INT64_MAX},
        {"-9223372036854775808", INT64_MIN, INT64_MAX, 1, INT64_MIN},
        {"9223372036854775808", INT64_MIN, INT64_MAX, 0, 0},  /* overflow */
        {"-9223372036854775809", INT64_MIN, INT64_MAX, 0, 0}, /* underflow */
        {"99999999999999999999999", INT64_MIN, INT64_MAX, 0, 0},
        {"11", 0, 10, 0, 0}, /* above max */
        {"-1", 0, 10, 0, 0}, /* below min */
        {"", 0, 10, 0, 0},
        {"-", 0, 10, 0, 0},
        {"--1", -10, 10, 0, 0},
        {"+1", 0, 10, 0, 0},
        {"12abc", 0, 100, 0, 0},
        {"abc", 0, 100, 0, 0},
        {" 1", 0, 10, 0, 0},
        {"1 ", 0, 10, 0, 0},
        {"1.0", 0, 10, 0, 0},
        {"1e3", 0, 10000, 0, 0},
        {"0x10", 0, 100, 0, 0},
        {NULL, 0, 10, 0, 0},
    };
    for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
        const struct i64_case *c = &cases[i];
        int64_t out = -42;
        int rc = util_parse_i64(c->in, c->min, c->max, &out);
        if (c->ok) {
            assert_int_equal(rc, 0);
            assert_true(out == c->want);
        } else {
            assert_int_equal(rc, -1);
            assert_true(out == -42); /* untouched on failure */
        }
    }
}

static void test_parse_duration(void **state)
{
    (void)state;
    static const struct i64_case cases[] = {
        {"90", 1, 86400, 1, 90}, /* bare number: seconds */
        {"30s", 1, 86400, 1, 30},
        {"10m", 1, 86400, 1, 600},
        {"1h", 1, 86400, 1, 3600},
        {"1d", 1, 7 * 86400, 1, 86400},
        {"7d", 1, 7 * 86400, 1, 7 * 86400},
        {"0s", 1, 86400, 0, 0},     /* below min */
        {"0", 0, 10, 1, 0},         /* zero when allowed */
        {"8d", 1, 7 * 86400, 0, 0}, /* above max */
        {"25h", 1, 86400, 0, 0},
        {"", 1, 86400, 0, 0},
        {"s", 1, 86400, 0, 0},    /* unit without number */
        {"-5s", -100, 100, 0, 0}, /* no negative durations */
        {"-5", -100, 100, 0, 0},
        {"10ms", 1, 86400, 0, 0},
        {"10M", 1, 86400, 0, 0}, /* units are lower case */
        {"10w", 1, 86400, 0, 0}, /* unknown unit */
        {"1.5h", 1, 86400, 0, 0},
        {" 10s", 1, 86400, 0, 0},
        {"10 s", 1, 86400, 0, 0},
        {"10s ", 1, 86400, 0, 0},
        {"abc", 1, 86400, 0, 0},
        {"12abc", 1, 86400, 0, 0},
        {"99999999999999999999d", 1, INT64_MAX, 0, 0},                    /* too long */
        {"9999999999999999999d", 1, INT64_MAX, 0, 0},                     /* overflow */
        {"106751991167300d", 1, INT64_MAX, 1, 106751991167300LL * 86400}, /* largest */
        {"106751991167301d", 1, INT64_MAX, 0, 0},
        {"123456789012345678901", 1, INT64_MAX, 0, 0}, /* too long */
        {NULL, 1, 10, 0, 0},
    };
    for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
        const struct i64_case *c = &cases[i];
        int64_t out = -42;
        int rc = util_parse_duration(c->in, c->min, c->max, &out);
        if (c->ok) {
            assert_int_equal(rc, 0);
            assert_true(out == c->want);
        } else {
            assert_int_equal(rc, -1);
            assert_true(out == -42);
        }
    }
}

struct enc_case {
    const char *in;
    size_t dstlen;
    int want_len; /* -1 = too small */
    const char *want;
};

static void test_urlencode(void **state)
{
    (void)state;
    static const struct enc_case cases[] = {
        {"AAPL", 64, 4, "AAPL"},
        {"^GSPC", 64, 7, "%5EGSPC"},
        {"BRK-B", 64, 5, "BRK-B"},
        {"BTC-USD", 64, 7, "BTC-USD"},
        {"EURUSD=X", 64, 10, "EURUSD%3DX"},
        {"a.b_c~d", 64, 7, "a.b_c~d"}, /* unreserved pass */
        {"a b&c/d?e#f", 64, 21, "a%20b%26c%2Fd%3Fe%23f"},
        {"100%", 64, 6, "100%25"},
        {"caf\xc3\xa9", 64, 9, "caf%C3%A9"}, /* bytes, upper-case hex */
        {"", 1, 0, ""},
        {"AAPL", 5, 4, "AAPL"}, /* exactly fits with NUL */
        {"AAPL", 4, -1, NULL},  /* no room for NUL */
        {"^", 4, 3, "%5E"},
        {"^", 3, -1, NULL},
        {"", 0, -1, NULL},
    };
    for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
        const struct enc_case *c = &cases[i];
        char dst[64];
        memset(dst, 'Z', sizeof dst);
        int n = util_urlencode(c->in, dst, c->dstlen);
        assert_int_equal(n, c->want_len);
        if (n >= 0)
            assert_string_equal(dst, c->want);
        for (size_t k = c->dstlen; k < sizeof dst; k++)
            assert_int_equal(dst[k], 'Z'); /* never past dstlen */
    }
}

struct snip_case {
    const char *in;
    size_t max, dstlen;
    const char *want;
};

static void test_snippet(void **state)
{
    (void)state;
    static const struct snip_case cases[] = {
        {"Rate limit exceeded", 48, 64, "Rate limit exceeded"},
        {"Rate limit exceeded", 4, 64, "Rate"},
        {"<html>\n<body>", 48, 64, "<html> <body>"}, /* newline → space */
        {"a\tb", 48, 64, "a b"},
        {"a\x01\x7f\xc3\xa9z", 48, 64, "a????z"}, /* the rest → '?' */
        {"0123456789", 48, 5, "0123"},            /* dst smaller than max */
        {"", 48, 64, ""},
    };
    for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
        const struct snip_case *c = &cases[i];
        char dst[64];
        util_snippet(c->in, strlen(c->in), c->max, dst, c->dstlen);
        assert_string_equal(dst, c->want);
    }
    /* srclen bounds the read: no NUL needed */
    char raw[3] = {'a', 'b', 'c'};
    char dst[8];
    util_snippet(raw, 2, 10, dst, sizeof dst);
    assert_string_equal(dst, "ab");
}

static void test_strlcpy(void **state)
{
    (void)state;
    char d[5];
    assert_int_equal(util_strlcpy(d, "abc", sizeof d), 3);
    assert_string_equal(d, "abc");
    assert_int_equal(util_strlcpy(d, "abcd", sizeof d), 4);
    assert_string_equal(d, "abcd");
    assert_int_equal(util_strlcpy(d, "abcdefgh", sizeof d), 8); /* >= size: truncated */
    assert_string_equal(d, "abcd");
    assert_int_equal(util_strlcpy(d, "", sizeof d), 0);
    assert_string_equal(d, "");
    d[0] = 'x';
    assert_int_equal(util_strlcpy(d, "abc", 0), 3); /* nothing written */
    assert_int_equal(d[0], 'x');
}

static void test_streq_nocase(void **state)
{
    (void)state;
    static const struct {
        const char *a, *b;
        int eq;
    } cases[] = {
        {"INFO", "info", 1}, {"Info", "iNFO", 1}, {"", "", 1},
        {"INFO", "INF", 0},  {"INF", "INFO", 0},  {"a", "b", 0},
    };
    for (size_t i = 0; i < ARRAY_LEN(cases); i++)
        assert_int_equal(util_streq_nocase(cases[i].a, cases[i].b), cases[i].eq);
}

static void test_fmt_time(void **state)
{
    (void)state;
    static const struct {
        int64_t ms;
        const char *want;
    } cases[] = {
        {0, "1970-01-01T00:00:00.000Z"},
        {1763702146123LL, "2025-11-21T05:15:46.123Z"},
        {1763700000000LL, "2025-11-21T04:40:00.000Z"},
        {951782400999LL, "2000-02-29T00:00:00.999Z"},
    };
    for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
        char buf[32];
        util_fmt_time(cases[i].ms, buf, sizeof buf);
        assert_string_equal(buf, cases[i].want);
    }
}

static void test_clocks(void **state)
{
    (void)state;
    int64_t a = util_mono_ms(), b = util_mono_ms();
    assert_true(b >= a);
    int64_t w = util_wall_ms();
    assert_true(w > 1700000000000LL); /* after 2023 */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_i64), cmocka_unit_test(test_parse_duration),
        cmocka_unit_test(test_urlencode), cmocka_unit_test(test_snippet),
        cmocka_unit_test(test_strlcpy),   cmocka_unit_test(test_streq_nocase),
        cmocka_unit_test(test_fmt_time),  cmocka_unit_test(test_clocks),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
