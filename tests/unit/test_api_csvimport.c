/*
 * Unit tests of api/csvimport.c: the CSV positions file — the header, each
 * line's own error, quotes, line ends and numbering, duplicates, limits.
 */
#include "csvimport.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

static struct csv_row *rows;
static size_t n;
static char msg[200];

static int parse(const char *text)
{
    free(rows);
    rows = NULL;
    return csvimport_parse(text, strlen(text), &rows, &n, msg, sizeof msg);
}

static void test_good(void **state)
{
    (void)state;
    assert_int_equal(parse("symbol,quantity,average_buy_price,currency\nAAPL,10,150.25,USD\n"
                           "MSFT,2.5,310,\n"),
                     0);
    assert_int_equal(n, 2);
    assert_int_equal(rows[0].line, 2);
    assert_string_equal(rows[0].symbol, "AAPL");
    assert_string_equal(rows[0].quantity, "10");
    assert_string_equal(rows[0].price, "150.25");
    assert_string_equal(rows[0].currency, "USD");
    assert_string_equal(rows[0].error, "");
    assert_string_equal(rows[1].currency, "");
    /* any order and case, CRLF, a BOM, quotes, spaces, blank lines */
    assert_int_equal(parse("\xEF\xBB\xBF"
                           "Average_Buy_Price , SYMBOL,quantity\r\n\r\n"
                           "\"1\",\" BTC \" , 0.5\r\n  \r\n\"2\",\"ETH\",\"3\""),
                     0);
    assert_int_equal(n, 2);
    assert_int_equal(rows[0].line, 3);
    assert_string_equal(rows[0].error, "");
    assert_string_equal(rows[0].symbol, "BTC");
    assert_string_equal(rows[0].price, "1");
    assert_int_equal(rows[1].line, 5); /* no line end at the end */
    assert_string_equal(rows[1].symbol, "ETH");
    assert_string_equal(rows[1].quantity, "3");
}

static void test_line_errors(void **state)
{
    (void)state;
    assert_int_equal(parse("symbol,quantity,average_buy_price\n"
                           "AAPL,10,1\n"    /* 2 ok */
                           "AAPL,1,1\n"     /* 3 duplicate */
                           "A B,1,1\n"      /* 4 symbol */
                           ",1,1\n"         /* 5 empty symbol */
                           "X,ten,1\n"      /* 6 quantity */
                           "Y,1,-2\n"       /* 7 price */
                           "Z,1\n"          /* 8 fields */
                           "W,1,1,EUR\n"    /* 9 fields (no currency column) */
                           "\"V,1,1\n"      /* 10 quote not closed */
                           "U\"x\",1,1\n"), /* 11 quote inside */
                     0);
    assert_int_equal(n, 10);
    static const char *const want[] = {"",
                                       "already on line 2",
                                       "symbol",
                                       "symbol is empty",
                                       "quantity 'ten'",
                                       "average_buy_price '-2'",
                                       "has 2 fields",
                                       "has 4 fields",
                                       "quote",
                                       "quote"};
    for (size_t i = 0; i < n; i++) {
        if (want[i][0] == '\0')
            assert_string_equal(rows[i].error, "");
        else if (strstr(rows[i].error, want[i]) == NULL)
            fail_msg("line %d: error '%s' does not say '%s'", rows[i].line, rows[i].error, want[i]);
        assert_int_equal(rows[i].line, (int)i + 2);
    }
    assert_int_equal(parse("symbol,quantity,average_buy_price,currency\nA,1,1,eur\n"), 0);
    assert_non_null(strstr(rows[0].error, "currency"));
}

static void test_file_errors(void **state)
{
    (void)state;
    static const struct {
        const char *text, *says;
    } cases[] = {
        {"", "empty"},
        {"\n\n", "empty"},
        {"\nsymbol,quantity,average_buy_price\n", "line 1"},
        {"symbol,quantity\nA,1\n", "'average_buy_price' is missing"},
        {"symbol,quantity,average_buy_price,fee\n", "unknown column 'fee'"},
        {"symbol,quantity,quantity,average_buy_price\n", "twice"},
        {"symbol,quantity,average_buy_price\nA,1,\xff\n", "UTF-8"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        msg[0] = '\0';
        if (parse(cases[i].text) != -1 || strstr(msg, cases[i].says) == NULL)
            fail_msg("case %zu: '%s' does not say '%s'", i, msg, cases[i].says);
    }
    /* a NUL byte inside */
    static const char nul[] = "symbol,quantity,average_buy_price\nA,1,1\0\n";
    free(rows);
    rows = NULL;
    assert_int_equal(csvimport_parse(nul, sizeof nul - 1, &rows, &n, msg, sizeof msg), -1);
    /* 1000 lines pass, 1001 do not */
    size_t cap = 40 + 1001 * 16;
    char *big = malloc(cap);
    assert_non_null(big);
    for (int lines = 1000; lines <= 1001; lines++) {
        size_t len = (size_t)snprintf(big, cap, "symbol,quantity,average_buy_price\n");
        for (int i = 0; i < lines; i++)
            len += (size_t)snprintf(big + len, cap - len, "S%d,1,1\n", i);
        assert_int_equal(parse(big), lines == 1000 ? 0 : -1);
    }
    free(big);
}

static int teardown(void **state)
{
    (void)state;
    free(rows);
    rows = NULL;
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_good),
        cmocka_unit_test(test_line_errors),
        cmocka_unit_test(test_file_errors),
    };
    return cmocka_run_group_tests(tests, NULL, teardown);
}
