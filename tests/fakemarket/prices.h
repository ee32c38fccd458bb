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
 * It is not a market simulation: no volume, no trading hours, no weekends,
 * and FX rates never move (cross rates stay exactly consistent with one USD
 * table, which is what the daemon's currency conversion is tested against).
 *
 * Pure functions: no allocation, no I/O, no clock; callers pass the time.
 */
#ifndef FAKEMARKET_PRICES_H
#define FAKEMARKET_PRICES_H

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

/* Where a Yahoo symbol trades, from its suffix: .DE/.PA/.AS/.MI → EUR on
 * GER/PAR/AMS/MIL, .L → GBP on LSE (real Yahoo says GBp, in pence; we
 * answer GBP on purpose), anything else → USD on NMS. Strings are static. */
struct fm_listing {
    const char *currency;
    const char *exchange;
    const char *full_exchange;
    const char *timezone;
    const char *tz_name;
    int gmtoffset;
};
void fm_price_listing(const char *symbol, struct fm_listing *out);

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
