/*
 * Unit tests of daemon/sources.c: FETCH_SOURCES parsing (defaults,
 * overrides, every kind of bad value), and the chain an asset gets: its
 * own provider first, each source's own symbol, sources that cannot map
 * the symbol (or twelvedata without a key) left out, per-asset lists.
 * The providers' real normalize() functions do the mapping.
 */
#include "sources.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

/* The chain as "provider:symbol provider:symbol …", for one comparison. */
static const char *chain(const struct sources *s, enum source_class cls, const char *prov,
                         const char *psym, const char *override)
{
    static char buf[512];
    struct source_choice out[SOURCES_MAX];
    char err[200] = "";
    size_t n = sources_resolve(s, cls, prov, psym, override, out, err, sizeof err);
    size_t used = 0;
    buf[0] = '\0';
    if (n == 0) {
        snprintf(buf, sizeof buf, "none: %s", err);
        return buf;
    }
    for (size_t i = 0; i < n; i++)
        used += (size_t)snprintf(buf + used, sizeof buf - used, "%s%s:%s", i ? " " : "",
                                 out[i].provider, out[i].symbol);
    return buf;
}

static void test_defaults(void **state)
{
    (void)state;
    char err[200];
    struct sources *s = sources_parse("", 1, err, sizeof err);
    assert_non_null(s);
    assert_string_equal(chain(s, SRC_STOCK, "yahoo", "aapl", NULL), "yahoo:AAPL twelvedata:AAPL");
    /* a listing suffix Twelve Data has a name for; one it has not */
    assert_string_equal(chain(s, SRC_STOCK, "yahoo", "SAP.DE", NULL),
                        "yahoo:SAP.DE twelvedata:SAP:XETR");
    assert_string_equal(chain(s, SRC_STOCK, "yahoo", "WSKT.JK", NULL), "yahoo:WSKT.JK");
    /* a future has no Twelve Data quote: Yahoo alone */
    assert_string_equal(chain(s, SRC_STOCK, "yahoo", "CL=F", NULL), "yahoo:CL=F");
    assert_string_equal(chain(s, SRC_CRYPTO, "coingecko", "bitcoin", NULL),
                        "coingecko:bitcoin kraken:XBTUSD coinbase:BTC-USD binance:BTCUSDT");
    /* BNB: Kraken and Coinbase have no recorded answer for it, Binance has
     * (binance_ticker_price_symbols_BTCUSDT_BNBUSDT): its second source */
    assert_string_equal(chain(s, SRC_CRYPTO, "coingecko", "binancecoin", NULL),
                        "coingecko:binancecoin binance:BNBUSDT");
    /* an id no table evidences is not guessed */
    assert_string_equal(chain(s, SRC_CRYPTO, "coingecko", "tether", NULL), "coingecko:tether");
    /* the demo's other coins each have a second source on record
     * (tests/fixtures/real/NOTE_kraken_pairs.txt) */
    assert_string_equal(chain(s, SRC_CRYPTO, "coingecko", "cardano", NULL),
                        "coingecko:cardano kraken:ADAUSD coinbase:ADA-USD binance:ADAUSDT");
    assert_string_equal(chain(s, SRC_CRYPTO, "coingecko", "chainlink", NULL),
                        "coingecko:chainlink kraken:LINKUSD coinbase:LINK-USD binance:LINKUSDT");
    /* no recording shows a DOT pair on Kraken or Binance */
    assert_string_equal(chain(s, SRC_CRYPTO, "coingecko", "polkadot", NULL),
                        "coingecko:polkadot coinbase:DOT-USD");
    /* a coin kept on yahoo: its own provider first, then all four (a
     * ticker, unlike an id, becomes each exchange's pair form) */
    assert_string_equal(chain(s, SRC_CRYPTO, "yahoo", "BNB", NULL),
                        "yahoo:BNB coingecko:bnb kraken:BNBUSD coinbase:BNB-USD binance:BNBUSDT");
    /* exchange rates: no provider of their own, the currency as symbol */
    assert_string_equal(chain(s, SRC_FX, NULL, "eur", NULL), "fx:EUR erapi:EUR");
    /* a Yahoo currency pair: yahoo first; fx and erapi take codes only */
    assert_string_equal(chain(s, SRC_FX, "yahoo", "EURUSD=X", NULL), "yahoo:EURUSD=X");
    char d[80];
    sources_describe(s, SRC_CRYPTO, d, sizeof d);
    assert_string_equal(d, "coingecko,kraken,coinbase,binance");
    sources_free(s);

    /* without TWELVEDATA_API_KEY, stocks have Yahoo alone */
    s = sources_parse(NULL, 0, err, sizeof err);
    assert_non_null(s);
    assert_string_equal(chain(s, SRC_STOCK, "yahoo", "AAPL", NULL), "yahoo:AAPL");
    sources_describe(s, SRC_STOCK, d, sizeof d);
    assert_string_equal(d, "yahoo,twelvedata (no key)");
    sources_free(s);
}

static void test_classes(void **state)
{
    (void)state;
    static const struct {
        const char *type;
        enum source_class cls;
    } cases[] = {{"stock", SRC_STOCK}, {"etf", SRC_STOCK},     {"index", SRC_STOCK},
                 {"bond", SRC_STOCK},  {"crypto", SRC_CRYPTO}, {"fx", SRC_FX}};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        assert_int_equal(sources_class_of(cases[i].type), cases[i].cls);
}

static void test_config_override(void **state)
{
    (void)state;
    char err[200];
    struct sources *s = sources_parse("crypto=kraken,coingecko;fx=frankfurter", 1, err, sizeof err);
    assert_non_null(s);
    /* the class order is the user's; the asset's own provider is in it */
    assert_string_equal(chain(s, SRC_CRYPTO, "coingecko", "ethereum", NULL),
                        "kraken:ETHUSD coingecko:ethereum");
    /* "frankfurter" is the provider registered as fx */
    assert_string_equal(chain(s, SRC_FX, NULL, "JPY", NULL), "fx:JPY");
    /* a class not named keeps its default */
    assert_string_equal(chain(s, SRC_STOCK, "yahoo", "MSFT", NULL), "yahoo:MSFT twelvedata:MSFT");
    /* an asset on a provider the class does not list is still asked first;
     * kraken cannot read a Coinbase product name and is left out
     * (CoinGecko takes any slug: an unknown one fails over at its answer) */
    assert_string_equal(chain(s, SRC_CRYPTO, "coinbase", "SOL-USD", NULL),
                        "coinbase:SOL-USD coingecko:sol-usd");
    sources_free(s);
}

static void test_asset_override(void **state)
{
    (void)state;
    char err[200];
    struct sources *s = sources_parse("", 1, err, sizeof err);
    assert_non_null(s);
    /* the asset's list is its whole chain, in its order */
    assert_string_equal(chain(s, SRC_STOCK, "yahoo", "AAPL", "twelvedata,yahoo"),
                        "twelvedata:AAPL yahoo:AAPL");
    assert_string_equal(chain(s, SRC_CRYPTO, "coingecko", "bitcoin", "coinbase"),
                        "coinbase:BTC-USD");
    /* unknown names in the database are skipped, not fatal */
    assert_string_equal(chain(s, SRC_CRYPTO, "coingecko", "bitcoin", "nosuch,kraken"),
                        "kraken:XBTUSD");
    assert_string_equal(chain(s, SRC_CRYPTO, "coingecko", "binancecoin", "kraken"),
                        "none: no configured source knows the symbol 'binancecoin'");
    assert_string_equal(chain(s, SRC_CRYPTO, "coingecko", "binancecoin", "kraken,binance"),
                        "binance:BNBUSDT");
    assert_string_equal(chain(s, SRC_STOCK, "nosuch", "AAPL", "nosuch"),
                        "none: unknown provider 'nosuch'");
    sources_free(s);
}

/* How many sources a class can use, and why there is no second one. */
static void test_usable(void **state)
{
    (void)state;
    char err[200];
    const char *note = "x";
    struct sources *s = sources_parse("", 1, err, sizeof err);
    assert_non_null(s);
    assert_int_equal(sources_usable(s, SRC_STOCK, &note), 2);
    assert_null(note);
    assert_int_equal(sources_usable(s, SRC_CRYPTO, &note), 4);
    assert_null(note);
    sources_free(s);
    s = sources_parse("fx=erapi", 0, err, sizeof err);
    assert_non_null(s);
    assert_int_equal(sources_usable(s, SRC_STOCK, &note), 1);
    assert_string_equal(note, "no second source: TWELVEDATA_API_KEY is not set");
    assert_int_equal(sources_usable(s, SRC_FX, &note), 1);
    assert_string_equal(note, "no second source configured (FETCH_SOURCES)");
    assert_string_equal(sources_class_name(SRC_CRYPTO), "crypto");
    sources_free(s);
}

static void test_bad_values(void **state)
{
    (void)state;
    static const struct {
        const char *spec, *says;
    } bad[] = {
        {"stock", "'stock' is not a class"},
        {"shares=yahoo", "'shares' is not a class"},
        {"=yahoo", "'' is not a class"},
        {"stock=", "stock: no sources listed"},
        {"stock=yahoo,,twelvedata", "stock: unknown source ''"},
        {"stock=yahoo,stooq", "stock: unknown source 'stooq'"},
        {"crypto=kraken,kraken", "crypto: source 'kraken' listed twice"},
        {"fx=fx,frankfurter", "fx: source 'fx' listed twice"},
        {"stock=yahoo;stock=twelvedata", "class 'stock' given twice"},
        {"crypto=coingecko,kraken,coinbase,binance,yahoo,fx", "crypto: more than 5 sources"},
        {"stock=yahoo;crypto", "'crypto' is not a class"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char err[200] = "";
        struct sources *s = sources_parse(bad[i].spec, 1, err, sizeof err);
        if (s != NULL)
            fail_msg("'%s' was accepted", bad[i].spec);
        if (strncmp(err, "FETCH_SOURCES: ", 15) != 0 || strstr(err, bad[i].says) == NULL)
            fail_msg("'%s': got '%s', wanted '%s'", bad[i].spec, err, bad[i].says);
        assert_null(strchr(err, '\n')); /* one line */
    }
    /* a trailing ';' is harmless */
    char err[200];
    struct sources *s = sources_parse("fx=erapi;", 1, err, sizeof err);
    assert_non_null(s);
    assert_string_equal(chain(s, SRC_FX, NULL, "TWD", NULL), "erapi:TWD");
    sources_free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults),        cmocka_unit_test(test_classes),
        cmocka_unit_test(test_config_override), cmocka_unit_test(test_asset_override),
        cmocka_unit_test(test_bad_values),      cmocka_unit_test(test_usable),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
