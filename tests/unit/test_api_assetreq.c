/*
 * Unit tests of api/assetreq.c: the body of POST /api/fetcher/assets —
 * defaults by type, every field's rule, and the field each error names.
 */
#include "assetreq.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

static int parse(const char *body, struct asset_req *a, const char **field)
{
    char msg[160];
    return assetreq_parse(body, strlen(body), a, field, msg, sizeof msg);
}

static void test_defaults(void **state)
{
    (void)state;
    struct asset_req a;
    const char *f;
    assert_int_equal(parse("{\"symbol\":\"AAPL\",\"type\":\"stock\"}", &a, &f), 0);
    assert_string_equal(a.provider, "yahoo");
    assert_string_equal(a.provider_symbol, "AAPL");
    assert_string_equal(a.name, "AAPL");
    assert_string_equal(a.currency, "USD");
    assert_int_equal(parse("{\"symbol\":\"BTC\",\"type\":\"crypto\"}", &a, &f), 0);
    assert_string_equal(a.provider, "coingecko");
    assert_string_equal(a.provider_symbol, "btc");
    assert_int_equal(
        parse("{\"symbol\":\"ETH\",\"type\":\"crypto\",\"provider_symbol\":\"ethereum\","
              "\"name\":\"Ether\",\"currency\":\"EUR\"}",
              &a, &f),
        0);
    assert_string_equal(a.provider_symbol, "ethereum");
    assert_string_equal(a.name, "Ether");
    assert_string_equal(a.currency, "EUR");
    for (const char *const *t = (const char *const[]){"etf", "index", "fund", NULL}; *t; t++) {
        char body[96];
        snprintf(body, sizeof body, "{\"symbol\":\"^GSPC\",\"type\":\"%s\"}", *t);
        assert_int_equal(parse(body, &a, &f), 0);
        assert_string_equal(a.provider, "yahoo");
        assert_string_equal(a.provider_symbol, "^GSPC");
    }
    assert_int_equal(
        parse(" {\"type\":\"bond\",\"symbol\":\"B1\",\"provider\":\"yahoo\"} \n", &a, &f), 0);
}

static void test_errors(void **state)
{
    (void)state;
    static const struct {
        const char *body, *field;
    } cases[] = {
        {"", "body"},
        {"[]", "body"},
        {"{", "body"},
        {"{} x", "body"},
        {"\"s\"", "body"},
        {"{\"symbol\":\"A\",\"type\":\"stock\",\"extra\":1}", "body"},
        {"{\"type\":\"stock\"}", "symbol"},
        {"{\"symbol\":\"\",\"type\":\"stock\"}", "symbol"},
        {"{\"symbol\":\"a b\",\"type\":\"stock\"}", "symbol"},
        {"{\"symbol\":\"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\",\"type\":\"stock\"}", "symbol"},
        {"{\"symbol\":1,\"type\":\"stock\"}", "symbol"},
        {"{\"symbol\":\"A\"}", "type"},
        {"{\"symbol\":\"A\",\"type\":\"Stock\"}", "type"},
        {"{\"symbol\":\"A\",\"type\":null}", "type"},
        {"{\"symbol\":\"A\",\"type\":\"stock\",\"name\":\"\"}", "name"},
        {"{\"symbol\":\"A\",\"type\":\"stock\",\"name\":\"a\\nb\"}", "name"},
        {"{\"symbol\":\"A\",\"type\":\"stock\",\"currency\":\"usd\"}", "currency"},
        {"{\"symbol\":\"A\",\"type\":\"stock\",\"currency\":\"USDT\"}", "currency"},
        {"{\"symbol\":\"A\",\"type\":\"fx\"}", "provider"},
        {"{\"symbol\":\"A\",\"type\":\"commodity\"}", "provider"},
        {"{\"symbol\":\"A\",\"type\":\"stock\",\"provider\":\"fx\"}", "provider"},
        {"{\"symbol\":\"A\",\"type\":\"stock\",\"provider\":\"\"}", "provider"},
        {"{\"symbol\":\"A\",\"type\":\"stock\",\"provider_symbol\":\"\"}", "provider_symbol"},
        {"{\"symbol\":\"A\",\"type\":\"stock\",\"provider_symbol\":\"a/b\"}", "provider_symbol"},
        {"{\"symbol\":\"A\",\"type\":\"stock\",\"provider_symbol\":[]}", "provider_symbol"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct asset_req a;
        const char *f = NULL;
        char msg[160] = "";
        int rc = assetreq_parse(cases[i].body, strlen(cases[i].body), &a, &f, msg, sizeof msg);
        if (rc != -1 || f == NULL || strcmp(f, cases[i].field) != 0)
            fail_msg("%s: rc %d field %s, want %s", cases[i].body, rc, f ? f : "(null)",
                     cases[i].field);
        assert_true(msg[0] != '\0');
    }
    /* an embedded NUL is not a JSON document */
    struct asset_req a;
    const char *f;
    char msg[64];
    assert_int_equal(assetreq_parse("{}\0{}", 5, &a, &f, msg, sizeof msg), -1);
    assert_int_equal(assetreq_parse(NULL, 0, &a, &f, msg, sizeof msg), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults),
        cmocka_unit_test(test_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
