/*
 * prices — see prices.h. The numbers in the tables are round, plausible
 * magnitudes, not quotes from any day: tests must never depend on them
 * matching the real market.
 */
#include "prices.h"

#include <ctype.h>
#include <math.h>
#include <string.h>

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

/* USD first: it is the pivot every cross rate goes through. */
static const struct fx_entry fx_table[] = {
    {"USD", 1.0},    {"EUR", 0.92},  {"GBP", 0.79},  {"CHF", 0.88},  {"JPY", 151.5}, {"CAD", 1.36},
    {"AUD", 1.52},   {"NZD", 1.66},  {"SEK", 10.45}, {"NOK", 10.62}, {"DKK", 6.86},  {"PLN", 3.97},
    {"CZK", 23.1},   {"HUF", 360.0}, {"CNY", 7.23},  {"HKD", 7.82},  {"SGD", 1.35},  {"INR", 83.3},
    {"KRW", 1335.0}, {"MXN", 16.8},  {"BRL", 5.02},  {"ZAR", 18.7},  {"TRY", 32.2},  {"ILS", 3.7},
};

struct suffix_listing {
    const char *suffix;
    struct fm_listing listing;
};

static const struct suffix_listing suffixes[] = {
    {".DE", {"EUR", "GER", "XETRA", "CET", "Europe/Berlin", 3600}},
    {".PA", {"EUR", "PAR", "Paris", "CET", "Europe/Paris", 3600}},
    {".AS", {"EUR", "AMS", "Amsterdam", "CET", "Europe/Amsterdam", 3600}},
    {".MI", {"EUR", "MIL", "Milan", "CET", "Europe/Rome", 3600}},
    {".L", {"GBP", "LSE", "LSE", "GMT", "Europe/London", 0}},
};

static const struct fm_listing us_listing = {"USD", "NMS", "NasdaqGS", "EST", "America/New_York",
                                             -18000};

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

void fm_price_listing(const char *symbol, struct fm_listing *out)
{
    size_t n = strlen(symbol);
    for (size_t i = 0; i < ARRAY_LEN(suffixes); i++) {
        size_t k = strlen(suffixes[i].suffix);
        if (n > k && util_streq_nocase(symbol + n - k, suffixes[i].suffix)) {
            *out = suffixes[i].listing;
            return;
        }
    }
    *out = us_listing;
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
