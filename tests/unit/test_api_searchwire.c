/*
 * Unit tests of api/searchwire.c against the providers' real answers
 * (tests/fixtures/real/, each with its source note): which Yahoo quotes
 * become hits and with what, the currency from a real v7 spark answer,
 * CoinGecko's coins, empty answers, and answers that are not search
 * answers at all.
 */
#include "searchwire.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

static char *slurp(const char *name, size_t *len)
{
    char path[256];
    snprintf(path, sizeof path, "tests/fixtures/real/%s", name);
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        fail_msg("cannot open %s (run from the repository root)", path);
    static char buf[262144];
    *len = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[*len] = '\0';
    return buf;
}

static struct search_hit hits[10];
static size_t n, skipped;
static char why[160];

static void test_yahoo(void **state)
{
    (void)state;
    size_t len;
    const char *b = slurp("yahoo_search_AAPL_2025-02-25.json", &len);
    assert_int_equal(searchwire_yahoo(b, len, hits, 10, &n, &skipped, why, sizeof why), 0);
    /* AAPL (EQUITY) and AAPU (ETF); four options and one non-quote left out */
    assert_int_equal(n, 2);
    assert_int_equal(skipped, 5);
    assert_string_equal(hits[0].symbol, "AAPL");
    assert_string_equal(hits[0].provider_symbol, "AAPL");
    assert_string_equal(hits[0].name, "Apple Inc.");
    assert_string_equal(hits[0].type, "stock");
    assert_string_equal(hits[0].type_display, "Equity");
    assert_string_equal(hits[0].exchange, "NASDAQ");
    assert_string_equal(hits[0].provider, "yahoo");
    assert_string_equal(hits[0].currency, ""); /* the search does not say */
    assert_string_equal(hits[1].symbol, "AAPU");
    assert_string_equal(hits[1].type, "etf");
    assert_string_equal(hits[1].name, "Direxion Daily AAPL Bull 2X Shares"); /* longname first */
    /* max 1: the rest counted as left out */
    assert_int_equal(searchwire_yahoo(b, len, hits, 1, &n, &skipped, why, sizeof why), 0);
    assert_int_equal(n, 1);
    assert_int_equal(skipped, 6);
    b = slurp("yahoo_search_empty_aaaaaaaa_2024-05.json", &len);
    assert_int_equal(searchwire_yahoo(b, len, hits, 10, &n, &skipped, why, sizeof why), 0);
    assert_int_equal(n, 0);
    /* Yahoo's HTML error page is no search answer */
    b = slurp("yahoo_search_500_html_error_report_2025-11-10.html", &len);
    assert_int_equal(searchwire_yahoo(b, len, hits, 10, &n, &skipped, why, sizeof why), -1);
    assert_non_null(strstr(why, "not a JSON object"));
    assert_int_equal(searchwire_yahoo("{\"news\":[]}", 11, hits, 10, &n, &skipped, why, sizeof why),
                     -1);
    assert_non_null(strstr(why, "quotes"));
}

static void test_yahoo_currency(void **state)
{
    (void)state;
    size_t len;
    memset(hits, 0, sizeof hits);
    snprintf(hits[0].provider_symbol, sizeof hits[0].provider_symbol, "MSFT");
    snprintf(hits[1].provider_symbol, sizeof hits[1].provider_symbol, "AAPL");
    snprintf(hits[2].provider_symbol, sizeof hits[2].provider_symbol, "NOPE");
    const char *b = slurp("yahoo_spark_v7_MSFT_AAPL_meta_2026-07-27_TRIMMED.json", &len);
    assert_int_equal(searchwire_yahoo_currencies(b, len, hits, 3, why, sizeof why), 0);
    assert_string_equal(hits[0].currency, "USD");
    assert_string_equal(hits[1].currency, "USD");
    assert_string_equal(hits[2].currency, "");
    /* a London listing quoted in pence is priced in pounds once stored */
    const char gbp[] = "{\"spark\":{\"result\":[{\"symbol\":\"OCDO.L\",\"response\":[{\"meta\":"
                       "{\"currency\":\"GBp\"}}]}],\"error\":null}}";
    snprintf(hits[0].provider_symbol, sizeof hits[0].provider_symbol, "OCDO.L");
    assert_int_equal(searchwire_yahoo_currencies(gbp, sizeof gbp - 1, hits, 1, why, sizeof why), 0);
    assert_string_equal(hits[0].currency, "GBP");
    b = slurp("yahoo_spark_v7_404_none_pricehist.json", &len);
    assert_int_equal(searchwire_yahoo_currencies(b, len, hits, 1, why, sizeof why), -1);
}

static void test_coingecko(void **state)
{
    (void)state;
    size_t len;
    const char *b = slurp("coingecko_search_docs_example_ethereum.json", &len);
    assert_int_equal(searchwire_coingecko(b, len, hits, 10, &n, &skipped, why, sizeof why), 0);
    assert_int_equal(n, 3);
    assert_int_equal(skipped, 0);
    assert_string_equal(hits[0].symbol, "ETH");
    assert_string_equal(hits[0].provider_symbol, "ethereum");
    assert_string_equal(hits[0].name, "Ethereum");
    assert_string_equal(hits[0].type, "crypto");
    assert_string_equal(hits[0].currency, "USD");
    assert_string_equal(hits[0].provider, "coingecko");
    assert_int_equal(hits[0].rank, 2);
    assert_string_equal(hits[2].symbol, "SWETH");
    b = slurp("coingecko_search_empty_BOSA_2026-09.json", &len);
    assert_int_equal(searchwire_coingecko(b, len, hits, 10, &n, &skipped, why, sizeof why), 0);
    assert_int_equal(n, 0);
    /* the 429 answer has no coins */
    b = slurp("coingecko_429_rate_limit.json", &len);
    assert_int_equal(searchwire_coingecko(b, len, hits, 10, &n, &skipped, why, sizeof why), -1);
    /* a coin whose ticker cannot be an asset symbol is left out, not mangled */
    const char odd[] =
        "{\"coins\":[{\"id\":\"x\",\"symbol\":\"A B\",\"name\":\"Odd\"},"
        "{\"id\":\"ok-coin\",\"symbol\":\"okc\",\"name\":\"Ok\",\"market_cap_rank\":null}]}";
    assert_int_equal(
        searchwire_coingecko(odd, sizeof odd - 1, hits, 10, &n, &skipped, why, sizeof why), 0);
    assert_int_equal(n, 1);
    assert_int_equal(skipped, 1);
    assert_string_equal(hits[0].symbol, "OKC");
    assert_int_equal(hits[0].rank, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_yahoo),
        cmocka_unit_test(test_yahoo_currency),
        cmocka_unit_test(test_coingecko),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
