/*
 * crosscheck — what to make of two or three sources' prices for one
 * asset: do they agree within PRICE_CROSSCHECK_PCT, and which price is
 * kept. Pure (no queue, no clock, no I/O), so every rule is pinned by a
 * table in tests/unit/test_crosscheck.c; daemon/cycle.c asks the sources
 * and records the verdict.
 *
 * The rules:
 *  - prices are compared in the asset's currency: an answer in another
 *    currency is converted through the cycle's USD rates first
 *    (crosscheck_convert); one that cannot be converted is not compared;
 *  - the difference between two prices is relative to the earlier source
 *    in the asset's order (the primary for every pair with it):
 *    |b − a| / a, so 100 → 105 is 5 %;
 *  - two prices: they disagree when that difference passes the limit; the
 *    primary's price is kept either way (one source against another
 *    proves nothing about which is right);
 *  - three prices: when the primary is the outlier of three (the other
 *    two agree with each other and both differ from it), the majority
 *    wins: the second source's price is kept; in every other case the
 *    primary's is, and a disagreement is still one.
 *
 * What it is not: it decides nothing about when to cross-check or whom to
 * ask (cycle.c), and logs nothing (crosscheck_describe gives the line).
 */
#ifndef FETCHER_CROSSCHECK_H
#define FETCHER_CROSSCHECK_H

#include <stddef.h>

/* Sources compared at most: the primary and two more, enough for a
 * majority. */
#define XC_MAX 3

struct xc_verdict {
    size_t n;        /* prices compared */
    int disagree;    /* some pair differs by more than the limit */
    size_t kept;     /* index of the price kept */
    int outlier;     /* index of the one that differs from two that agree, or -1 */
    double diff_pct; /* the largest difference, in % (see the rules) */
};

/* Judges prices[0, n) (index 0 the primary, then the asset's order; each
 * finite and > 0) against limit_pct (> 0). n < 2 compares nothing:
 * disagree 0, kept 0, outlier -1. */
void crosscheck_decide(const double *prices, size_t n, double limit_pct, struct xc_verdict *out);

/* One USD rate of the cycle: 1 USD = per_usd units of ccy. */
struct xc_rate {
    const char *ccy;
    double per_usd;
};

/* price in `from` → `to` (case-insensitive codes) through rates[0, n)
 * (USD itself needs no rate). Returns 0 with *out, or -1 when a rate is
 * missing or not usable. */
int crosscheck_convert(double price, const char *from, const char *to, const struct xc_rate *rates,
                       size_t n, double *out);

/* The WARNING's sentence for a disagreement: symbol, each source with its
 * price (in the asset's currency ccy), the limit and which price was
 * kept, e.g. "BTC: sources disagree by 5.00% (more than 2%): coingecko
 * 60000 USD, kraken 63000 USD; kept coingecko's price". sources[i] and
 * prices[i] as given to crosscheck_decide. */
void crosscheck_describe(const char *symbol, const char *ccy, const char *const *sources,
                         const double *prices, const struct xc_verdict *v, double limit_pct,
                         char *out, size_t outlen);

#endif
