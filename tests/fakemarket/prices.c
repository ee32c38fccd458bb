/*
 * prices — see prices.h. The numbers in the tables are round, plausible
 * magnitudes, not quotes from any day: tests must never depend on them
 * matching the real market.
 */
#include "prices.h"

#include <ctype.h>
#include <math.h>
#include <string.h>
#include <strings.h>

#define FM_TWO_PI 6.283185307179586

/* One hour: long enough that two fetches a few seconds apart see nearly the
 * same price, short enough that a 10-minute cycle sees a real change. */
#define FM_WAVE_PERIOD_S 3600

struct known_coin {
    const char *id;
    double base;
    double amplitude;
};

/* Stablecoins barely move, so a test can tell a pegged coin from a bug. */
static const struct known_coin known_coins[] = {
    {"bitcoin", 60000.0, 0.03},  {"ethereum", 3000.0, 0.03},   {"tether", 1.0, 0.001},
    {"usd-coin", 1.0, 0.001},    {"binancecoin", 550.0, 0.03}, {"solana", 150.0, 0.03},
    {"ripple", 0.55, 0.03},      {"cardano", 0.45, 0.03},      {"dogecoin", 0.15, 0.03},
    {"polkadot", 7.0, 0.03},     {"litecoin", 80.0, 0.03},     {"chainlink", 15.0, 0.03},
    {"avalanche-2", 35.0, 0.03}, {"tron", 0.12, 0.03},         {"matic-network", 0.7, 0.03},
};

struct fx_entry {
    const char *code;
    double per_usd;
};

/* USD first: it is the pivot every cross rate goes through. The codes are
 * exactly the ECB's reference currencies that Frankfurter serves
 * (frankfurter_v1_latest_base_USD.json: USD plus its 30 rates); the last
 * seven rates are that recording's, rounded. */
static const struct fx_entry fx_table[] = {
    {"USD", 1.0},    {"EUR", 0.92},  {"GBP", 0.79},  {"CHF", 0.88},  {"JPY", 151.5}, {"CAD", 1.36},
    {"AUD", 1.52},   {"NZD", 1.66},  {"SEK", 10.45}, {"NOK", 10.62}, {"DKK", 6.86},  {"PLN", 3.97},
    {"CZK", 23.1},   {"HUF", 360.0}, {"CNY", 7.23},  {"HKD", 7.82},  {"SGD", 1.35},  {"INR", 83.3},
    {"KRW", 1335.0}, {"MXN", 16.8},  {"BRL", 5.02},  {"ZAR", 18.7},  {"TRY", 32.2},  {"ILS", 3.7},
    {"BGN", 1.72},   {"IDR", 16855}, {"ISK", 128.1}, {"MYR", 4.42},  {"PHP", 57.1},  {"RON", 4.39},
    {"THB", 33.6},
};

#define HOUR 3600
#define MIN 60

struct suffix_listing {
    const char *suffix;
    struct fm_listing listing;
};

/*
 * Listings. Each follows a recording where there is one:
 *  US (NMS, EDT, -14400, open 13:30 UTC, 5.5 h pre, 4 h post):
 *    yahoo_spark_v7_TSLA.json and yahoo2_fixture_chart-AAPL.json.
 *  .DE (GER/XETRA, CET, open 08:00 UTC, 1 h pre, 3 h post, no pre/post
 *    data): yahoo_chart_v8_WSU.DE_XETRA_EUR_2023-08.json. .PA/.AS/.MI are
 *    not recorded and copy .DE's session with their own names.
 *  .L (GBp, LSE, GMT, open 08:00 UTC, 45 min pre and post):
 *    yahoo_chart_v8_OCDO.L_GBp.json.
 *  .JO (ZAc) and .TA (ILA): the currency codes are what Yahoo users report
 *    (finance-quote PR #109 "Yahoo JSON returns JSE prices in ZAc";
 *    ghostfolio issue #1430 "cf. GBp and ILA"); exchange names, time zones
 *    and sessions are not recorded and are plausible guesses.
 */
static const struct suffix_listing suffixes[] = {
    {".DE",
     {"EUR", "GER", "XETRA", "CET", "Europe/Berlin", 3600, FM_KIND_EQUITY, 1, 2, false, 8 * HOUR,
      8 * HOUR + 30 * MIN, HOUR, 3 * HOUR}},
    {".PA",
     {"EUR", "PAR", "Paris", "CET", "Europe/Paris", 3600, FM_KIND_EQUITY, 1, 2, false, 8 * HOUR,
      8 * HOUR + 30 * MIN, HOUR, 3 * HOUR}},
    {".AS",
     {"EUR", "AMS", "Amsterdam", "CET", "Europe/Amsterdam", 3600, FM_KIND_EQUITY, 1, 2, false,
      8 * HOUR, 8 * HOUR + 30 * MIN, HOUR, 3 * HOUR}},
    {".MI",
     {"EUR", "MIL", "Milan", "CET", "Europe/Rome", 3600, FM_KIND_EQUITY, 1, 2, false, 8 * HOUR,
      8 * HOUR + 30 * MIN, HOUR, 3 * HOUR}},
    {".L",
     {"GBp", "LSE", "LSE", "GMT", "Europe/London", 0, FM_KIND_EQUITY, 100, 2, false, 8 * HOUR,
      8 * HOUR + 30 * MIN, 45 * MIN, 45 * MIN}},
    {".JO",
     {"ZAc", "JNB", "Johannesburg", "SAST", "Africa/Johannesburg", 7200, FM_KIND_EQUITY, 100, 2,
      false, 7 * HOUR, 8 * HOUR, 0, 0}},
    {".TA",
     {"ILA", "TLV", "Tel Aviv", "IST", "Asia/Jerusalem", 7200, FM_KIND_EQUITY, 100, 2, false,
      7 * HOUR, 7 * HOUR + 30 * MIN, 0, 0}},
};

static const struct fm_listing us_listing = {"USD",
                                             "NMS",
                                             "NasdaqGS",
                                             "EDT",
                                             "America/New_York",
                                             -14400,
                                             FM_KIND_EQUITY,
                                             1,
                                             2,
                                             true,
                                             13 * HOUR + 30 * MIN,
                                             6 * HOUR + 30 * MIN,
                                             5 * HOUR + 30 * MIN,
                                             4 * HOUR};

/*
 * Futures (SYM=F) follow yahoo_chart_v8_GC=F_future_2020-01-02.json:
 * instrumentType FUTURE, America/New_York in EST, day bars stamped 05:00
 * UTC, a regular session of 86340 s and empty pre/post periods.
 *
 * USX (US cents): Yahoo quotes these contracts in cents. There is no
 * recording of a whole answer; the evidence is client code quoting live
 * meta: KC=F (coffee, "currency":"USX","exchangeName":"NYB" in two
 * clients' tests), ZC=F (corn, several clients, e.g. 501.25 USX), ZS=F
 * (soybeans, a test of "real metadata measured 2026-09-29" for ZSX26.CBT),
 * CT=F (cotton, CTZ26.NYB in the same test), SB=F (sugar, a Python test's
 * {'symbol': 'SBH27.NYB', 'currency': 'USX', 'instrumentType': 'FUTURE'},
 * cited in tests/fixtures/real/NOTE_yahoo_minor_currencies.txt), ZW=F
 * (wheat, two clients' symbol tables, not a captured answer). ZL=F, ZM=F,
 * ZO=F, LE=F and HE=F: no evidence of what Yahoo's meta.currency says
 * was found (ZL, LE and HE trade in cents on their exchanges, ZM in
 * dollars), so they stay USD here.
 * Exchange codes: CMX/COMEX (GC=F recording), NYB (KC=F evidence), NYM
 * (a CL=F answer quoted in a client's test); CBT for grains follows the
 * .CBT symbols above; the rest default to CME, not recorded.
 */
struct future_spec {
    const char *root;
    const char *currency;
    const char *exchange;
    const char *full_exchange;
    int minor;
};

static const struct future_spec futures[] = {
    {"KC", "USX", "NYB", "ICE Futures", 100}, {"CT", "USX", "NYB", "ICE Futures", 100},
    {"ZC", "USX", "CBT", "CBOT", 100},        {"ZS", "USX", "CBT", "CBOT", 100},
    {"ZW", "USX", "CBT", "CBOT", 100},        {"ZL", "USD", "CBT", "CBOT", 1},
    {"ZM", "USD", "CBT", "CBOT", 1},          {"ZO", "USD", "CBT", "CBOT", 1},
    {"SB", "USX", "NYB", "ICE Futures", 100}, {"CC", "USD", "NYB", "ICE Futures", 1},
    {"GC", "USD", "CMX", "COMEX", 1},         {"SI", "USD", "CMX", "COMEX", 1},
    {"HG", "USD", "CMX", "COMEX", 1},         {"CL", "USD", "NYM", "NY Mercantile", 1},
    {"NG", "USD", "NYM", "NY Mercantile", 1}, {"HO", "USD", "NYM", "NY Mercantile", 1},
    {"RB", "USD", "NYM", "NY Mercantile", 1},
};

static const struct fm_listing future_listing = {
    "USD", "CME", "CME", "EST",    "America/New_York", -18000, FM_KIND_FUTURE,
    1,     2,     false, 5 * HOUR, 24 * HOUR - MIN,    0,      0};

/* Currency pairs follow yahoo_chart_v8_EURUSD=X_2020-01-01_to_03.json:
 * CCY, GMT, priceHint 4, bars at 00:00 UTC, a 86340 s session. The quote
 * currency (meta.currency) is filled in from the symbol. */
static const struct fm_listing pair_listing = {
    "USD", "CCY", "CCY", "GMT", "Europe/London", 0, FM_KIND_CURRENCY,
    1,     4,     false, 0,     24 * HOUR - MIN, 0, 0};

/* Static upper-case copies of the table's codes for meta.currency. */
static const char *fx_static_code(const char *code)
{
    for (size_t i = 0; i < ARRAY_LEN(fx_table); i++)
        if (util_streq_nocase(code, fx_table[i].code))
            return fx_table[i].code;
    return NULL;
}

uint64_t fm_price_hash(const char *s)
{
    uint64_t h = 1469598103934665603ULL;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        h ^= (uint64_t)toupper(*p);
        h *= 1099511628211ULL;
    }
    /* FNV's low bits mix poorly for short keys; fold the high half in. */
    h ^= h >> 29;
    h *= 0xbf58476d1ce4e5b9ULL;
    h ^= h >> 32;
    return h;
}

/* t modulo the period first: sin() of a 1.7e9-second argument would lose
 * the sub-hour precision in the double. */
static double wave(uint64_t h, int64_t t, double amplitude)
{
    double phase = (double)((h >> 40) % FM_WAVE_PERIOD_S) / FM_WAVE_PERIOD_S * FM_TWO_PI;
    int64_t within = t % FM_WAVE_PERIOD_S;
    if (within < 0)
        within += FM_WAVE_PERIOD_S;
    return 1.0 + amplitude * sin(FM_TWO_PI * (double)within / FM_WAVE_PERIOD_S + phase);
}

double fm_price_stock(const char *symbol, int64_t t)
{
    uint64_t h = fm_price_hash(symbol);
    double base = 5.0 + (double)(h % 99501u) / 100.0;
    return base * wave(h, t, 0.03);
}

double fm_price_crypto(const char *id, int64_t t)
{
    uint64_t h = fm_price_hash(id);
    for (size_t i = 0; i < ARRAY_LEN(known_coins); i++)
        if (util_streq_nocase(id, known_coins[i].id))
            return known_coins[i].base * wave(h, t, known_coins[i].amplitude);
    /* Log-uniform over 0.1..500 so small coins are as common as big ones. */
    double u = (double)(h % 1000001u) / 1000000.0;
    return 0.1 * pow(5000.0, u) * wave(h, t, 0.03);
}

int64_t fm_price_day_start(int64_t t)
{
    int64_t r = t % 86400;
    if (r < 0)
        r += 86400;
    return t - r;
}

int fm_price_crypto_decimals(double v)
{
    double a = fabs(v);
    if (a >= 100.0)
        return 2;
    if (a >= 1.0)
        return 4;
    if (a >= 0.01)
        return 6;
    return 8;
}

int fm_price_sig_decimals(double v, int sig)
{
    if (v == 0.0 || !isfinite(v))
        return 0;
    int magnitude = (int)floor(log10(fabs(v)));
    int d = sig - 1 - magnitude;
    if (d < 0)
        return 0;
    return d > 12 ? 12 : d;
}

double fm_price_round(double v, int decimals)
{
    if (decimals < 0)
        decimals = 0;
    if (decimals > 12)
        decimals = 12;
    double scale = pow(10.0, decimals);
    return round(v * scale) / scale;
}

static bool has_suffix_nocase(const char *s, size_t n, const char *suffix)
{
    size_t k = strlen(suffix);
    return n > k && util_streq_nocase(s + n - k, suffix);
}

void fm_price_listing(const char *symbol, struct fm_listing *out)
{
    size_t n = strlen(symbol);
    for (size_t i = 0; i < ARRAY_LEN(suffixes); i++) {
        if (has_suffix_nocase(symbol, n, suffixes[i].suffix)) {
            *out = suffixes[i].listing;
            return;
        }
    }
    if (has_suffix_nocase(symbol, n, "=F")) {
        *out = future_listing;
        for (size_t i = 0; i < ARRAY_LEN(futures); i++) {
            size_t k = strlen(futures[i].root);
            if (n == k + 2 && strncasecmp(symbol, futures[i].root, k) == 0) {
                out->currency = futures[i].currency;
                out->exchange = futures[i].exchange;
                out->full_exchange = futures[i].full_exchange;
                out->minor = futures[i].minor;
            }
        }
        return;
    }
    if ((n == 8 || n == 5) && has_suffix_nocase(symbol, n, "=X")) {
        /* EURUSD=X is quoted in USD; JPY=X is USD/JPY, quoted in JPY. */
        char quote[4];
        memcpy(quote, symbol + n - 5, 3);
        quote[3] = '\0';
        const char *ccy = fx_static_code(quote);
        if (ccy != NULL) {
            *out = pair_listing;
            out->currency = ccy;
            return;
        }
    }
    *out = us_listing;
}

/* A pair's rate from the fixed table: base per the symbol (USD for the
 * three-letter form), 0 when a code is unknown. */
static double pair_rate(const char *symbol)
{
    char base[4] = "USD", quote[4];
    size_t n = strlen(symbol);
    double r;
    if (n == 8) {
        memcpy(base, symbol, 3);
        base[3] = '\0';
    }
    memcpy(quote, symbol + n - 5, 3);
    quote[3] = '\0';
    return fm_fx_rate(base, quote, &r) == 0 ? r : 0.0;
}

double fm_price_quote(const char *symbol, int64_t t)
{
    struct fm_listing l;
    fm_price_listing(symbol, &l);
    if (l.kind == FM_KIND_CURRENCY) {
        double r = pair_rate(symbol);
        return fm_price_round(r, fm_price_sig_decimals(r, 6));
    }
    return fm_price_round(fm_price_stock(symbol, t) * l.minor, 2);
}

double fm_price_major(const char *symbol, int64_t t)
{
    struct fm_listing l;
    fm_price_listing(symbol, &l);
    return fm_price_quote(symbol, t) / l.minor;
}

/* 1970-01-01 was a Thursday: day 0 is weekday 4 (0 = Sunday). */
static bool is_weekend(int64_t day)
{
    int64_t wd = (day % 7 + 7 + 4) % 7;
    return wd == 0 || wd == 6;
}

int64_t fm_price_bar_start(const struct fm_listing *l, int64_t t)
{
    int64_t day = fm_price_day_start(t) / 86400;
    if (day * 86400 + l->session_open > t)
        day--;
    while (is_weekend(day))
        day--;
    return day * 86400 + l->session_open;
}

int64_t fm_price_prev_bar(const struct fm_listing *l, int64_t bar)
{
    return fm_price_bar_start(l, bar - 1);
}

int fm_fx_per_usd(const char *code, double *out)
{
    for (size_t i = 0; i < ARRAY_LEN(fx_table); i++) {
        if (util_streq_nocase(code, fx_table[i].code)) {
            *out = fx_table[i].per_usd;
            return 0;
        }
    }
    return -1;
}

int fm_fx_rate(const char *from, const char *to, double *out)
{
    double f, t;
    if (fm_fx_per_usd(from, &f) != 0 || fm_fx_per_usd(to, &t) != 0)
        return -1;
    *out = t / f;
    return 0;
}

size_t fm_fx_count(void)
{
    return ARRAY_LEN(fx_table);
}

const char *fm_fx_code(size_t i)
{
    return i < ARRAY_LEN(fx_table) ? fx_table[i].code : NULL;
}
