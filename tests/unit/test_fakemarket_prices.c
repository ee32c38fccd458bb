/*
 * Unit tests of tests/fakemarket/prices.c: prices are deterministic, stay
 * inside their ranges and bands, move over time; listings follow the
 * suffix; FX cross rates are consistent with the one USD table.
 */
#include "../fakemarket/prices.h"

#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#define T0 1700000000 /* 2023-11-14T22:13:20Z */

static void test_hash_is_case_insensitive(void **state)
{
    (void)state;
    assert_true(fm_price_hash("aapl") == fm_price_hash("AAPL"));
    assert_true(fm_price_hash("bitcoin") == fm_price_hash("BITCOIN"));
    assert_true(fm_price_hash("AAPL") != fm_price_hash("MSFT"));
    assert_true(fm_price_hash("") != fm_price_hash("A"));
}

static void test_stock_deterministic_and_bounded(void **state)
{
    (void)state;
    static const char *const syms[] = {"AAPL", "MSFT", "SAP.DE", "VOD.L", "A", "ZZZZZZZZ", "^GSPC"};
    for (size_t i = 0; i < sizeof syms / sizeof syms[0]; i++) {
        double p = fm_price_stock(syms[i], T0);
        assert_true(p == fm_price_stock(syms[i], T0));
        /* base 5..1000, wave ±3 % */
        assert_true(p >= 5.0 * 0.97 && p <= 1000.0 * 1.03);
        /* one hour later the wave is back where it was */
        assert_true(fabs(p - fm_price_stock(syms[i], T0 + 3600)) < 1e-9 * p);
    }
}

static void test_stock_moves_smoothly(void **state)
{
    (void)state;
    double lo = INFINITY, hi = -INFINITY;
    double prev = fm_price_stock("AAPL", T0);
    for (int64_t t = T0; t < T0 + 3600; t += 60) {
        double p = fm_price_stock("AAPL", t);
        /* a minute moves the price by at most 2π·3 %/60 ≈ 0.32 % */
        assert_true(fabs(p - prev) <= 0.0035 * prev);
        lo = p < lo ? p : lo;
        hi = p > hi ? p : hi;
        prev = p;
    }
    double mid = (lo + hi) / 2;
    assert_true((hi - lo) / mid > 0.05); /* it really moves (band is 6 %) */
    assert_true((hi - lo) / mid < 0.061);
}

static void test_crypto_bases(void **state)
{
    (void)state;
    static const struct {
        const char *id;
        double base;
        double band;
    } cases[] = {
        {"bitcoin", 60000.0, 0.03}, {"ethereum", 3000.0, 0.03}, {"tether", 1.0, 0.001},
        {"usd-coin", 1.0, 0.001},   {"BITCOIN", 60000.0, 0.03},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        for (int64_t t = T0; t < T0 + 3600; t += 300) {
            double p = fm_price_crypto(cases[i].id, t);
            assert_true(p >= cases[i].base * (1 - cases[i].band) - 1e-9);
            assert_true(p <= cases[i].base * (1 + cases[i].band) + 1e-9);
        }
    }
    /* unknown ids: 0.1..500 before the ±3 % wave */
    static const char *const others[] = {"shiba-inu", "x", "some-new-coin", "nosuch-coin"};
    for (size_t i = 0; i < sizeof others / sizeof others[0]; i++) {
        double p = fm_price_crypto(others[i], T0);
        assert_true(p >= 0.1 * 0.97 && p <= 500.0 * 1.03);
    }
}

static void test_decimals_and_rounding(void **state)
{
    (void)state;
    assert_int_equal(fm_price_crypto_decimals(60000.0), 2);
    assert_int_equal(fm_price_crypto_decimals(100.0), 2);
    assert_int_equal(fm_price_crypto_decimals(99.9), 4);
    assert_int_equal(fm_price_crypto_decimals(1.0), 4);
    assert_int_equal(fm_price_crypto_decimals(0.5), 6);
    assert_int_equal(fm_price_crypto_decimals(0.001), 8);
    assert_true(fm_price_round(189.844, 2) == 189.84);
    assert_true(fm_price_round(189.845001, 2) == 189.85);
    assert_true(fm_price_round(-5.0, 2) == -5.0);
    assert_int_equal(fm_price_sig_decimals(0.92, 6), 6);
    assert_int_equal(fm_price_sig_decimals(151.5, 6), 3);
    assert_int_equal(fm_price_sig_decimals(1335.0, 6), 2);
    assert_int_equal(fm_price_sig_decimals(0.000749, 6), 9);
    assert_int_equal(fm_price_sig_decimals(0.0, 6), 0);
}

static void test_day_start(void **state)
{
    (void)state;
    assert_true(fm_price_day_start(T0) == 1699920000);
    assert_true(fm_price_day_start(1699920000) == 1699920000);
    assert_true(fm_price_day_start(1699920000 - 1) == 1699920000 - 86400);
}

/* Listings as Yahoo quotes them (see prices.c for the recording or
 * evidence behind each). */
static void test_listing(void **state)
{
    (void)state;
    static const struct {
        const char *sym, *ccy, *exch;
        enum fm_kind kind;
        int minor;
        int64_t open; /* bar start, UTC seconds after midnight */
    } cases[] = {
        {"AAPL", "USD", "NMS", FM_KIND_EQUITY, 1, 13 * 3600 + 1800},
        {"SAP.DE", "EUR", "GER", FM_KIND_EQUITY, 1, 8 * 3600},
        {"air.pa", "EUR", "PAR", FM_KIND_EQUITY, 1, 8 * 3600},
        {"ASML.AS", "EUR", "AMS", FM_KIND_EQUITY, 1, 8 * 3600},
        {"ENI.MI", "EUR", "MIL", FM_KIND_EQUITY, 1, 8 * 3600},
        {"OCDO.L", "GBp", "LSE", FM_KIND_EQUITY, 100, 8 * 3600},
        {"NPN.JO", "ZAc", "JNB", FM_KIND_EQUITY, 100, 7 * 3600},
        {"LUMI.TA", "ILA", "TLV", FM_KIND_EQUITY, 100, 7 * 3600},
        {"ZC=F", "USX", "CBT", FM_KIND_FUTURE, 100, 5 * 3600},
        {"kc=f", "USX", "NYB", FM_KIND_FUTURE, 100, 5 * 3600},
        {"ZS=F", "USX", "CBT", FM_KIND_FUTURE, 100, 5 * 3600},
        {"ZW=F", "USX", "CBT", FM_KIND_FUTURE, 100, 5 * 3600},
        {"CT=F", "USX", "NYB", FM_KIND_FUTURE, 100, 5 * 3600},
        {"SB=F", "USX", "NYB", FM_KIND_FUTURE, 100, 5 * 3600},
        {"ZL=F", "USD", "CBT", FM_KIND_FUTURE, 1, 5 * 3600},
        {"HE=F", "USD", "CME", FM_KIND_FUTURE, 1, 5 * 3600},
        {"CL=F", "USD", "NYM", FM_KIND_FUTURE, 1, 5 * 3600},
        {"GC=F", "USD", "CMX", FM_KIND_FUTURE, 1, 5 * 3600},
        {"XYZ=F", "USD", "CME", FM_KIND_FUTURE, 1, 5 * 3600},
        {"EURUSD=X", "USD", "CCY", FM_KIND_CURRENCY, 1, 0},
        {"JPY=X", "JPY", "CCY", FM_KIND_CURRENCY, 1, 0},
        {"EURXXX=X", "USD", "NMS", FM_KIND_EQUITY, 1, 13 * 3600 + 1800},
        {".L", "USD", "NMS", FM_KIND_EQUITY, 1, 13 * 3600 + 1800},
        {"BRK.B", "USD", "NMS", FM_KIND_EQUITY, 1, 13 * 3600 + 1800},
        {"X.LX", "USD", "NMS", FM_KIND_EQUITY, 1, 13 * 3600 + 1800},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct fm_listing l;
        fm_price_listing(cases[i].sym, &l);
        assert_string_equal(l.currency, cases[i].ccy);
        assert_string_equal(l.exchange, cases[i].exch);
        assert_int_equal(l.kind, cases[i].kind);
        assert_int_equal(l.minor, cases[i].minor);
        assert_int_equal(l.session_open, cases[i].open);
    }
}

/* Quoted prices are the major-unit price times the minor factor, so a
 * test can compute what a correct client stores. */
static void test_quote_and_major(void **state)
{
    (void)state;
    double q = fm_price_quote("OCDO.L", T0);
    assert_true(q == fm_price_round(fm_price_stock("OCDO.L", T0) * 100, 2));
    assert_true(fabs(fm_price_major("OCDO.L", T0) * 100 - q) < 1e-9);
    assert_true(fm_price_quote("AAPL", T0) == fm_price_major("AAPL", T0));
    assert_true(fm_price_quote("AAPL", T0) == fm_price_round(fm_price_stock("AAPL", T0), 2));
    /* pairs: the FX table's rate, 6 significant digits, constant */
    assert_true(fm_price_quote("EURUSD=X", T0) == fm_price_round(1 / 0.92, 5));
    assert_true(fm_price_quote("EURUSD=X", T0) == fm_price_quote("EURUSD=X", T0 + 1234));
    assert_true(fm_price_quote("JPY=X", T0) == 151.5);
}

static void test_bars(void **state)
{
    (void)state;
    struct fm_listing l;
    fm_price_listing("AAPL", &l);
    /* T0 = Tue 2023-11-14 22:13:20 UTC: today's bar opened 13:30 */
    assert_true(fm_price_bar_start(&l, T0) == 1699920000 + 13 * 3600 + 1800);
    assert_true(fm_price_prev_bar(&l, fm_price_bar_start(&l, T0)) ==
                1699920000 - 86400 + 13 * 3600 + 1800);
    /* before the open: the previous weekday's bar */
    assert_true(fm_price_bar_start(&l, 1699920000 + 3600) == 1699920000 - 86400 + 48600);
    /* Monday 2023-11-13 before the open → Friday 11-10 */
    int64_t monday = 1699920000 - 86400;
    assert_true(fm_price_bar_start(&l, monday + 60) == monday - 3 * 86400 + 48600);
}

static void test_fx_table(void **state)
{
    (void)state;
    double r, ab, bc, ac;
    assert_int_equal(fm_fx_per_usd("USD", &r), 0);
    assert_true(r == 1.0);
    assert_int_equal(fm_fx_per_usd("eur", &r), 0);
    assert_true(r == 0.92);
    assert_int_equal(fm_fx_per_usd("XXX", &r), -1);
    assert_int_equal(fm_fx_per_usd("", &r), -1);
    assert_int_equal(fm_fx_rate("USD", "XXX", &r), -1);
    assert_int_equal(fm_fx_rate("EUR", "EUR", &r), 0);
    assert_true(r == 1.0);
    /* every triangle of the table is consistent */
    size_t n = fm_fx_count();
    assert_true(n >= 6);
    assert_null(fm_fx_code(n));
    for (size_t a = 0; a < n; a++)
        for (size_t b = 0; b < n; b++) {
            size_t c = (a + b) % n;
            assert_int_equal(fm_fx_rate(fm_fx_code(a), fm_fx_code(b), &ab), 0);
            assert_int_equal(fm_fx_rate(fm_fx_code(b), fm_fx_code(c), &bc), 0);
            assert_int_equal(fm_fx_rate(fm_fx_code(a), fm_fx_code(c), &ac), 0);
            assert_true(fabs(ab * bc - ac) <= 1e-12 * ac);
        }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hash_is_case_insensitive),
        cmocka_unit_test(test_stock_deterministic_and_bounded),
        cmocka_unit_test(test_stock_moves_smoothly),
        cmocka_unit_test(test_crypto_bases),
        cmocka_unit_test(test_decimals_and_rounding),
        cmocka_unit_test(test_day_start),
        cmocka_unit_test(test_listing),
        cmocka_unit_test(test_quote_and_major),
        cmocka_unit_test(test_bars),
        cmocka_unit_test(test_fx_table),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
