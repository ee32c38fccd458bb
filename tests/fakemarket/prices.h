/*
 * prices — fakemarket's deterministic market: the price of any symbol at
 * any second, where a symbol is listed, and a fixed table of FX rates.
 *
 * Deterministic so that tests can predict an answer (same symbol, same
 * second → same price, on every machine and every run), and moving so that
 * a second fetch cycle really writes a different row: each price is a base
 * drawn from a hash of the symbol times 1 + A·sin(2π·t/3600 + phase), with
 * A = 3 % (0.1 % for stablecoins) and the phase also drawn from the hash.
 *
 * It is not a market simulation: no volume, no trading hours (prices move
 * around the clock, weekends too; only the day bars of fm_price_bar_start
 * skip Saturdays and Sundays, as Yahoo's do), and FX rates never move (cross rates stay exactly
 * consistent with one USD table, which is what the daemon's currency conversion is tested against).
 *
 * Pure functions: no allocation, no I/O, no clock; callers pass the time.
 */
#ifndef FAKEMARKET_PRICES_H
#define FAKEMARKET_PRICES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util.h"

/* FNV-1a over the ASCII-uppercased bytes, so "aapl" and "AAPL" agree. */
uint64_t fm_price_hash(const char *s);

/* Stock price at wall second t, unrounded: base 5..1000 from the hash.
 * Callers round with fm_price_round(v, 2) as Yahoo quotes do. */
double fm_price_stock(const char *symbol, int64_t t);

/* Crypto price (USD) at wall second t for a CoinGecko id, unrounded. Known
 * ids have realistic bases (bitcoin ~60000, ethereum ~3000, tether 1 …);
 * any other id gets a base 0.1..500 from the hash. */
double fm_price_crypto(const char *id, int64_t t);

/* Start of the UTC day containing t: where "previous close" is read. */
int64_t fm_price_day_start(int64_t t);

/* Decimals worth showing for a crypto price: 2 from 100 up, 4 from 1, 6
 * from 0.01, else 8 (a 0.000123 coin rounded to cents would be 0). */
int fm_price_crypto_decimals(double v);

/* Decimals needed to show v with sig significant digits (0..12). */
int fm_price_sig_decimals(double v, int sig);

/* v rounded half away from zero to the given decimals (0..12). */
double fm_price_round(double v, int decimals);

/* What kind of instrument a Yahoo symbol is: meta.instrumentType. */
enum fm_kind { FM_KIND_EQUITY, FM_KIND_FUTURE, FM_KIND_CURRENCY };

/* Where a Yahoo symbol trades and how Yahoo quotes it, from its form:
 *   .DE/.PA/.AS/.MI  EUR on GER/PAR/AMS/MIL
 *   .L               GBp (pence) on LSE         minor 100
 *   .JO              ZAc (cents) on JNB         minor 100
 *   .TA              ILA (agorot) on TLV        minor 100
 *   XXX=F            a future, USD, or USX (US cents, minor 100) for the
 *                    contracts listed in prices.c with their evidence
 *   XXXYYY=X, YYY=X  a currency pair quoted in YYY (EURUSD=X is in USD)
 *   anything else    USD on NMS
 * Session times are UTC seconds after midnight, durations in seconds; a
 * day bar is stamped at session_open (Yahoo stamps bars at their start).
 * Strings are static. */
struct fm_listing {
    const char *currency;
    const char *exchange;
    const char *full_exchange;
    const char *timezone;
    const char *tz_name;
    int gmtoffset;
    enum fm_kind kind;
    int minor;      /* quoted units per major unit: 100 for GBp, ZAc, ILA, USX */
    int price_hint; /* meta.priceHint */
    bool pre_post;  /* meta.hasPrePostMarketData */
    int64_t session_open;
    int64_t session_len;
    int64_t pre_len;
    int64_t post_len;
};
void fm_price_listing(const char *symbol, struct fm_listing *out);

/* The price Yahoo shows for symbol at second t, in the listing's quoted
 * units (pence for .L) and rounded as Yahoo rounds it: 2 decimals, 6
 * significant digits for currency pairs (whose rate is the fixed FX
 * table's, so it never moves). */
double fm_price_quote(const char *symbol, int64_t t);

/* The same price in the major unit (pounds for a .L symbol: quote / 100):
 * what a client that handles minor units correctly stores. */
double fm_price_major(const char *symbol, int64_t t);

/* The start of the latest day bar at or before t (the session open of
 * the latest weekday whose open is <= t), and the one before a bar. */
int64_t fm_price_bar_start(const struct fm_listing *l, int64_t t);
int64_t fm_price_prev_bar(const struct fm_listing *l, int64_t bar);

/* Units of code per 1 USD from the fixed table (case-insensitive code).
 * Returns 0 and sets *out, or -1 for a currency the table lacks. */
int fm_fx_per_usd(const char *code, double *out) MUST_CHECK;

/* Units of `to` per 1 `from`, computed from the USD table so that
 * rate(a,b)·rate(b,c) == rate(a,c) up to rounding. 0 or -1 (unknown). */
int fm_fx_rate(const char *from, const char *to, double *out) MUST_CHECK;

/* The table's codes in a fixed order (uppercase, static), for listings. */
size_t fm_fx_count(void);
const char *fm_fx_code(size_t i);

#endif
