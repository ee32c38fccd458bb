/*
 * Unit tests of api/query.c — table-driven: each row is an input, the
 * bounds, and what must come out (a value, or a refusal).
 */
#include "query.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

struct uint_case {
    const char *in; /* NULL = absent */
    int64_t min, max, def;
    int ok;
    int64_t want;
};

static void test_uint(void **state)
{
    (void)state;
    static const struct uint_case cases[] = {
        {NULL, 1, 1000, 100, 1, 100},                       /* absent → default */
        {"1", 1, 1000, 100, 1, 1},                          /* lower bound */
        {"1000", 1, 1000, 100, 1, 1000},                    /* upper bound */
        {"007", 1, 1000, 100, 1, 7},                        /* leading zeros are digits */
        {"0", 0, 10, 5, 1, 0},                              /* zero allowed when min is 0 */
        {"0", 1, 1000, 100, 0, 0},                          /* below min */
        {"1001", 1, 1000, 100, 0, 0},                       /* above max */
        {"", 1, 1000, 100, 0, 0},                           /* empty */
        {"-1", 0, 1000, 0, 0, 0},                           /* no sign */
        {"+1", 0, 1000, 0, 0, 0},                           /* no sign */
        {" 1", 0, 1000, 0, 0, 0},                           /* no spaces */
        {"1 ", 0, 1000, 0, 0, 0},                           /* no spaces */
        {"12abc", 0, 1000, 0, 0, 0},                        /* trailing garbage */
        {"1e3", 0, 1000, 0, 0, 0},                          /* no exponents */
        {"0x10", 0, 1000, 0, 0, 0},                         /* no hex */
        {"1.0", 0, 1000, 0, 0, 0},                          /* no decimals */
        {"99999999999999999999999", 0, INT64_MAX, 0, 0, 0}, /* overflow refused */
        {"000000000000000000000000001", 0, 10, 0, 1, 1},    /* long but small */
        {"9223372036854775807", 0, INT64_MAX, 0, 0, 0},     /* 19 digits: refused */
        {"922337203685477580", 0, INT64_MAX, 0, 1, 922337203685477580LL},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const struct uint_case *c = &cases[i];
        int64_t out = -42;
        char msg[128] = "";
        enum query_result r = query_uint(c->in, c->min, c->max, c->def, &out, msg, sizeof msg);
        if (c->ok) {
            assert_int_equal(r, QUERY_OK);
            assert_int_equal(out, c->want);
        } else {
            assert_int_equal(r, QUERY_BAD);
            assert_true(strlen(msg) > 0);
        }
    }
}

static void test_uint_message_names_range(void **state)
{
    (void)state;
    int64_t out;
    char msg[128];
    assert_int_equal(query_uint("5000", 1, 1000, 100, &out, msg, sizeof msg), QUERY_BAD);
    assert_string_equal(msg, "must be a whole number from 1 to 1000");
    assert_int_equal(query_uint("x", 1, 1000, 100, &out, msg, sizeof msg), QUERY_BAD);
    assert_string_equal(msg, "must be a whole number (digits only)");
}

struct level_case {
    const char *in;
    int ok;
    const char *want;
    int rank;
};

static void test_level(void **state)
{
    (void)state;
    static const struct level_case cases[] = {
        {NULL, 1, NULL, -1},          {"DEBUG", 1, "DEBUG", 0}, {"info", 1, "INFO", 1},
        {"Warning", 1, "WARNING", 2}, {"error", 1, "ERROR", 3}, {"CRITICAL", 1, "CRITICAL", 4},
        {"WARN", 0, NULL, -1},        {"", 0, NULL, -1},        {"INFO ", 0, NULL, -1},
        {"TRACE", 0, NULL, -1},       {"INFOX", 0, NULL, -1},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const char *out = "unset";
        int rank = 99;
        char msg[128];
        enum query_result r = query_level(cases[i].in, &out, &rank, msg, sizeof msg);
        assert_int_equal(r, cases[i].ok ? QUERY_OK : QUERY_BAD);
        if (cases[i].ok) {
            if (cases[i].want == NULL)
                assert_null(out);
            else
                assert_string_equal(out, cases[i].want);
            assert_int_equal(rank, cases[i].rank);
        }
    }
}

static void test_bool(void **state)
{
    (void)state;
    static const struct {
        const char *in;
        int ok, want;
    } cases[] = {{NULL, 1, -1}, {"true", 1, 1}, {"TRUE", 1, 1}, {"1", 1, 1}, {"false", 1, 0},
                 {"0", 1, 0},   {"yes", 0, 0},  {"", 0, 0},     {"2", 0, 0}, {"truex", 0, 0}};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        int out = 7;
        char msg[64];
        assert_int_equal(query_bool(cases[i].in, &out, msg, sizeof msg),
                         cases[i].ok ? QUERY_OK : QUERY_BAD);
        if (cases[i].ok)
            assert_int_equal(out, cases[i].want);
    }
}

static void test_time(void **state)
{
    (void)state;
    static const struct {
        const char *in;
        int ok;
        const char *want;
    } cases[] = {
        {"2026-11-21T05:15:46Z", 1, "2026-11-21T05:15:46Z"},
        {"2026-11-21t05:15:46z", 1, "2026-11-21T05:15:46Z"},
        {"2026-11-21T05:15:46.123Z", 1, "2026-11-21T05:15:46.123Z"},
        {"2026-11-21T05:15:46+01:00", 1, "2026-11-21T05:15:46+01:00"},
        {"2026-11-21T05:15:46.5-05:30", 1, "2026-11-21T05:15:46.5-05:30"},
        {"2024-02-29T00:00:00Z", 1, "2024-02-29T00:00:00Z"}, /* leap day */
        {"2026-02-29T00:00:00Z", 0, NULL},                   /* not a leap year */
        {"2026-11-21T05:15:46", 0, NULL},                    /* offset is mandatory */
        {"2026-11-21 05:15:46Z", 0, NULL},                   /* space separator */
        {"2026-13-01T00:00:00Z", 0, NULL},
        {"2026-11-31T00:00:00Z", 0, NULL},
        {"2026-11-21T24:00:00Z", 0, NULL},
        {"2026-11-21T05:60:00Z", 0, NULL},
        {"2026-11-21T05:15:46.Z", 0, NULL},
        {"2026-11-21T05:15:46Zjunk", 0, NULL},
        {"2026-11-21T05:15:46+1:00", 0, NULL},
        {"now", 0, NULL},
        {"", 0, NULL},
        {"1700000000", 0, NULL},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char out[48];
        char msg[128];
        int present = -1;
        enum query_result r = query_time(cases[i].in, out, sizeof out, &present, msg, sizeof msg);
        assert_int_equal(r, cases[i].ok ? QUERY_OK : QUERY_BAD);
        if (cases[i].ok) {
            assert_int_equal(present, 1);
            assert_string_equal(out, cases[i].want);
        }
    }
    char out[48], msg[64];
    int present = -1;
    assert_int_equal(query_time(NULL, out, sizeof out, &present, msg, sizeof msg), QUERY_OK);
    assert_int_equal(present, 0);
}

static void test_text_and_symbol(void **state)
{
    (void)state;
    char msg[64];
    int present;
    assert_int_equal(query_text("cycle", 200, &present, msg, sizeof msg), QUERY_OK);
    assert_int_equal(present, 1);
    assert_int_equal(query_text(NULL, 200, &present, msg, sizeof msg), QUERY_OK);
    assert_int_equal(present, 0);
    assert_int_equal(query_text("", 200, &present, msg, sizeof msg), QUERY_BAD);
    assert_int_equal(query_text("a\nb", 200, &present, msg, sizeof msg), QUERY_BAD);
    assert_int_equal(query_text("abcdef", 5, &present, msg, sizeof msg), QUERY_BAD);

    static const struct {
        const char *in;
        int ok;
    } syms[] = {{"AAPL", 1},     {"BRK-B", 1},
                {"SAP.DE", 1},   {"^GSPC", 1},
                {"EURUSD=X", 1}, {"", 0},
                {"A B", 0},      {"AAPL;", 0},
                {"../x", 0},     {"123456789012345678901234567890123", 0}};
    for (size_t i = 0; i < sizeof syms / sizeof syms[0]; i++)
        assert_int_equal(query_symbol(syms[i].in, &present, msg, sizeof msg),
                         syms[i].ok ? QUERY_OK : QUERY_BAD);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_uint),  cmocka_unit_test(test_uint_message_names_range),
        cmocka_unit_test(test_level), cmocka_unit_test(test_bool),
        cmocka_unit_test(test_time),  cmocka_unit_test(test_text_and_symbol),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
