/*
 * Unit tests of api/portreq.c: the bodies of the portfolio endpoints — the
 * field each error names, the decimal rule, UTF-8 names, and what "absent"
 * and "null" mean on create and update.
 */
#include "portreq.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

static const char *pf_field(const char *body, int create)
{
    static char msg[200];
    const char *field = NULL;
    struct portfolio_req p;
    if (portreq_portfolio(body, strlen(body), create, &p, &field, msg, sizeof msg) == 0)
        return "ok";
    return field;
}

static const char *pos_field(const char *body, int create, struct position_req *out)
{
    static char msg[200];
    const char *field = NULL;
    struct position_req tmp;
    if (portreq_position(body, strlen(body), create, out ? out : &tmp, &field, msg, sizeof msg) ==
        0)
        return "ok";
    return field;
}

static void test_portfolio(void **state)
{
    (void)state;
    struct portfolio_req p;
    const char *f;
    char msg[200];
    assert_int_equal(portreq_portfolio("{\"name\":\"Main\"}", 15, 1, &p, &f, msg, sizeof msg), 0);
    assert_string_equal(p.name, "Main");
    assert_string_equal(p.currency, "USD");
    static const struct {
        const char *body, *field;
        int create;
    } cases[] = {
        {"{\"name\":\"A\",\"currency\":\"EUR\"}", "ok", 1},
        {"{\"name\":\"A\"} ", "ok", 1},
        {"", "body", 1},
        {"{", "body", 1},
        {"[]", "body", 1},
        {"{\"name\":\"A\"}x", "body", 1},
        {"{\"name\":\"A\",\"x\":1}", "body", 1},
        {"{}", "name", 1},
        {"{}", "body", 0},
        {"{\"currency\":\"EUR\"}", "ok", 0},
        {"{\"name\":\"\"}", "name", 1},
        {"{\"name\":\"  \"}", "name", 1},
        {"{\"name\":null}", "name", 0},
        {"{\"name\":7}", "name", 1},
        {"{\"name\":\"a\\u0007b\"}", "name", 1},
        {"{\"name\":\"\xff\"}", "name", 1}, /* not UTF-8 */
        {"{\"name\":\"\xc3\xa9t\xc3\xa9\"}", "ok", 1},
        {"{\"name\":\"A\",\"currency\":\"usd\"}", "currency", 1},
        {"{\"name\":\"A\",\"currency\":\"US\"}", "currency", 1},
        {"{\"name\":\"A\",\"currency\":null}", "currency", 1},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const char *got = pf_field(cases[i].body, cases[i].create);
        if (strcmp(got, cases[i].field) != 0)
            fail_msg("case %zu (%s): field %s, want %s", i, cases[i].body, got, cases[i].field);
    }
    /* 100 characters of two bytes each pass, 101 do not */
    char body[512];
    for (int n = 100; n <= 101; n++) {
        size_t len = (size_t)snprintf(body, sizeof body, "{\"name\":\"");
        for (int i = 0; i < n; i++)
            len += (size_t)snprintf(body + len, sizeof body - len, "\xc3\xa9");
        snprintf(body + len, sizeof body - len, "\"}");
        if (n == 100)
            assert_string_equal(pf_field(body, 1), "ok");
    }
    assert_string_equal(pf_field(body, 1), "name");
}

static void test_decimal(void **state)
{
    (void)state;
    char out[PORTREQ_DECIMAL_MAX], msg[160];
    static const struct {
        const char *in, *out;
    } good[] = {{"0", "0"},
                {"10", "10"},
                {"007", "7"},
                {"0.5", "0.5"},
                {"00.25", "0.25"},
                {"150.25", "150.25"},
                {"1.0000000001", "1.0000000001"},
                {"12345678901234567890", "12345678901234567890"}};
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        assert_int_equal(portreq_decimal(good[i].in, out, msg, sizeof msg), 0);
        assert_string_equal(out, good[i].out);
    }
    static const char *const bad[] = {"",
                                      "-1",
                                      "+1",
                                      "1e3",
                                      "1.",
                                      ".5",
                                      "1,5",
                                      "1.2.3",
                                      " 1",
                                      "1 ",
                                      "abc",
                                      "0x10",
                                      "1.00000000001",
                                      "123456789012345678901",
                                      "NaN",
                                      "Infinity"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        if (portreq_decimal(bad[i], out, msg, sizeof msg) == 0)
            fail_msg("'%s' was accepted as a decimal", bad[i]);
}

static void test_position(void **state)
{
    (void)state;
    struct position_req p;
    assert_string_equal(
        pos_field("{\"symbol\":\"AAPL\",\"quantity\":10,\"average_buy_price\":150.25}", 1, &p),
        "ok");
    assert_string_equal(p.symbol, "AAPL");
    assert_string_equal(p.quantity, "10");
    assert_string_equal(p.price, "150.25"); /* the text as sent, never a binary double */
    assert_int_equal(p.has_currency, 0);
    assert_string_equal(pos_field("{\"symbol\":\"A\",\"quantity\":\"0.1\",\"average_buy_price\":"
                                  "\"1\",\"currency\":\"EUR\"}",
                                  1, &p),
                        "ok");
    assert_string_equal(p.currency, "EUR");
    assert_string_equal(pos_field("{\"currency\":null}", 0, &p), "ok");
    assert_int_equal(p.has_currency, 1);
    assert_string_equal(p.currency, "");
    static const struct {
        const char *body, *field;
        int create;
    } cases[] = {
        {"{\"quantity\":1,\"average_buy_price\":1}", "symbol", 1},
        {"{\"symbol\":\"A B\",\"quantity\":1,\"average_buy_price\":1}", "symbol", 1},
        {"{\"symbol\":1,\"quantity\":1,\"average_buy_price\":1}", "symbol", 1},
        {"{\"symbol\":\"A\",\"average_buy_price\":1}", "quantity", 1},
        {"{\"symbol\":\"A\",\"quantity\":-1,\"average_buy_price\":1}", "quantity", 1},
        {"{\"symbol\":\"A\",\"quantity\":1e3,\"average_buy_price\":1}", "quantity", 1},
        {"{\"symbol\":\"A\",\"quantity\":true,\"average_buy_price\":1}", "quantity", 1},
        {"{\"symbol\":\"A\",\"quantity\":1}", "average_buy_price", 1},
        {"{\"symbol\":\"A\",\"quantity\":1,\"average_buy_price\":null}", "average_buy_price", 1},
        {"{\"symbol\":\"A\",\"quantity\":1,\"average_buy_price\":1,\"currency\":null}", "currency",
         1},
        {"{\"symbol\":\"A\",\"quantity\":1,\"average_buy_price\":1,\"currency\":\"eur\"}",
         "currency", 1},
        {"{\"symbol\":\"A\",\"quantity\":1,\"average_buy_price\":1,\"fee\":0}", "body", 1},
        {"{}", "body", 0},
        {"{\"symbol\":\"A\",\"quantity\":1}", "body", 0}, /* the symbol is the path's */
        {"{\"quantity\":\"x\"}", "quantity", 0},
        {"{\"currency\":\"E\"}", "currency", 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const char *got = pos_field(cases[i].body, cases[i].create, NULL);
        if (strcmp(got, cases[i].field) != 0)
            fail_msg("case %zu (%s): field %s, want %s", i, cases[i].body, got, cases[i].field);
    }
}

static void test_id(void **state)
{
    (void)state;
    long long id;
    assert_int_equal(portreq_id("42", &id), 0);
    assert_int_equal(id, 42);
    static const char *const bad[] = {"", "0", "-1", "1x", "x", " 1", "1234567890123456789"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_int_equal(portreq_id(bad[i], &id), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_portfolio),
        cmocka_unit_test(test_decimal),
        cmocka_unit_test(test_position),
        cmocka_unit_test(test_id),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
