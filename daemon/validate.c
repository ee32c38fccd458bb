/*
 * validate — see validate.h.
 */
#include "validate.h"
#include "currency.h"
#include "util.h"

#include <math.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

static int val_currency_why(const char *ccy, const char *expected, char *why, size_t whylen)
{
    if (expected && expected[0] && ccy[0] && strcasecmp(ccy, expected) != 0) {
        snprintf(why, whylen, "currency mismatch: answer in %.7s, asset is priced in %.7s", ccy,
                 expected);
        return 0;
    }
    return 1;
}

int validate_currency(const struct quote *q, const char *expected_currency, char *why,
                      size_t whylen)
{
    const char *major = currency_major(q->currency);
    return val_currency_why(major ? major : q->currency, expected_currency, why, whylen);
}

void validate_quote(struct quote *q, const char *expected_currency, int64_t now_s,
                    int64_t max_age_s)
{
    if (q->kind != QUOTE_OK)
        return;
    char why[sizeof q->error];
    why[0] = '\0';
    /* Quotes in a minor unit (Yahoo: London in pence "GBp"/"GBX",
     * Johannesburg in cents "ZAc", Tel Aviv in agorot "ILA", US cents
     * futures "USX") become the major unit, so a price is never stored a
     * hundred times too high. The division is exact as stored: prices are
     * written with 15 significant digits (jbuf_num), and 305.3 / 100 reads
     * 3.053. The answer's own code is kept beside it. */
    const char *major = currency_major(q->currency);
    if (major != NULL) {
        q->price /= 100.0;
        util_strlcpy(q->quoted_currency, q->currency, sizeof q->quoted_currency);
        util_strlcpy(q->currency, major, sizeof q->currency);
    }
    if (!isfinite(q->price))
        snprintf(why, sizeof why, "price is not a finite number");
    else if (q->price <= 0)
        snprintf(why, sizeof why, "price %.6g is not positive", q->price);
    else if (q->price < VALIDATE_PRICE_MIN || q->price >= VALIDATE_PRICE_MAX)
        /* asset_prices.price is numeric(30,10): outside this range one
         * row would make the database refuse the whole batch it is in */
        snprintf(why, sizeof why, "price %.6g is outside the storable range (%g to %g)", q->price,
                 VALIDATE_PRICE_MIN, VALIDATE_PRICE_MAX);
    else if (!val_currency_why(q->currency, expected_currency, why, sizeof why)) {
        /* why says which currencies */
    } else if (q->price_time < 0)
        /* 0 means unknown; below it is garbage, not a very old price */
        snprintf(why, sizeof why, "price time %lld is negative", (long long)q->price_time);
    else if (q->price_time > now_s + VALIDATE_FUTURE_SLACK_S)
        snprintf(why, sizeof why,
                 "price time is %lld s (%.1f h) in the future, more than %d s of clock skew",
                 (long long)(q->price_time - now_s), (double)(q->price_time - now_s) / 3600.0,
                 VALIDATE_FUTURE_SLACK_S);
    else if (q->price_time > 0 && max_age_s > 0 && q->price_time < now_s - max_age_s)
        snprintf(why, sizeof why, "price is stale: %lld h old, the limit is %lld h",
                 (long long)((now_s - q->price_time) / 3600), (long long)(max_age_s / 3600));
    if (why[0]) {
        q->kind = QUOTE_PERMANENT;
        memcpy(q->error, why, sizeof why);
    }
    if (q->kind == QUOTE_OK && q->currency[0] == '\0' && expected_currency)
        util_strlcpy(q->currency, expected_currency, sizeof q->currency);
}

void validate_rate(struct quote *q, const char *ccy, int64_t now_s, int64_t max_age_s)
{
    validate_quote(q, ccy, now_s, max_age_s);
    if (q->kind == QUOTE_OK && q->price >= VALIDATE_RATE_MAX) {
        q->kind = QUOTE_PERMANENT;
        snprintf(q->error, sizeof q->error, "rate %.6g is outside the storable range (below %g)",
                 q->price, VALIDATE_RATE_MAX);
    }
}

int validate_move(double last, double now, double max_ratio, char *why, size_t whylen)
{
    if (whylen > 0)
        why[0] = '\0';
    if (!isfinite(last) || !isfinite(now) || !isfinite(max_ratio) || last <= 0 || now <= 0 ||
        max_ratio <= 0)
        return 0;
    double move = (now - last) / last;
    if (fabs(move) <= max_ratio)
        return 0;
    if (whylen > 0)
        snprintf(why, whylen,
                 "price moved %+.1f%% since the last one (%.10g -> %.10g), more than %.10g%%",
                 move * 100.0, last, now, max_ratio * 100.0);
    return 1;
}
