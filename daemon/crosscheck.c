/*
 * crosscheck — see crosscheck.h.
 */
#include "crosscheck.h"

#include <math.h>
#include <stdio.h>
#include <strings.h>

/* |b − a| / a in %, a the earlier source. */
static double xc_diff(double a, double b)
{
    return fabs(b - a) / a * 100.0;
}

void crosscheck_decide(const double *prices, size_t n, double limit_pct, struct xc_verdict *out)
{
    *out = (struct xc_verdict){.n = n < XC_MAX ? n : XC_MAX, .outlier = -1};
    if (out->n < 2)
        return;
    double d01 = xc_diff(prices[0], prices[1]);
    out->diff_pct = d01;
    out->disagree = d01 > limit_pct;
    if (out->n == 2)
        return;
    double d02 = xc_diff(prices[0], prices[2]), d12 = xc_diff(prices[1], prices[2]);
    if (d02 > out->diff_pct)
        out->diff_pct = d02;
    if (d12 > out->diff_pct)
        out->diff_pct = d12;
    int a01 = d01 <= limit_pct, a02 = d02 <= limit_pct, a12 = d12 <= limit_pct;
    out->disagree = !(a01 && a02 && a12);
    if (a12 && !a01 && !a02) {
        out->outlier = 0;
        out->kept = 1; /* the majority's first source */
    } else if (a02 && !a01 && !a12) {
        out->outlier = 1;
    } else if (a01 && !a02 && !a12) {
        out->outlier = 2;
    }
}

static int xc_per_usd(const char *ccy, const struct xc_rate *rates, size_t n, double *out)
{
    if (strcasecmp(ccy, "USD") == 0) {
        *out = 1.0;
        return 0;
    }
    for (size_t i = 0; i < n; i++)
        if (rates[i].ccy != NULL && strcasecmp(rates[i].ccy, ccy) == 0 &&
            isfinite(rates[i].per_usd) && rates[i].per_usd > 0) {
            *out = rates[i].per_usd;
            return 0;
        }
    return -1;
}

int crosscheck_convert(double price, const char *from, const char *to, const struct xc_rate *rates,
                       size_t n, double *out)
{
    if (strcasecmp(from, to) == 0) {
        *out = price;
        return 0;
    }
    double f, t;
    if (xc_per_usd(from, rates, n, &f) != 0 || xc_per_usd(to, rates, n, &t) != 0)
        return -1;
    *out = price / f * t;
    return 0;
}

void crosscheck_describe(const char *symbol, const char *ccy, const char *const *sources,
                         const double *prices, const struct xc_verdict *v, double limit_pct,
                         char *out, size_t outlen)
{
    size_t used = 0;
#define XC_PUT(...)                                                                                \
    do {                                                                                           \
        int w_ = snprintf(out + used, outlen - used, __VA_ARGS__);                                 \
        if (w_ < 0 || (size_t)w_ >= outlen - used)                                                 \
            return;                                                                                \
        used += (size_t)w_;                                                                        \
    } while (0)
    if (outlen == 0)
        return;
    out[0] = '\0';
    if (v->outlier == 0) {
        XC_PUT("%s: %s %.10g %s is the outlier of three (", symbol, sources[0], prices[0], ccy);
        for (size_t i = 1; i < v->n; i++)
            XC_PUT("%s%s %.10g %s", i > 1 ? ", " : "", sources[i], prices[i], ccy);
        XC_PUT("; more than %.10g%% apart); kept %s's price", limit_pct, sources[v->kept]);
        return;
    }
    XC_PUT("%s: sources disagree by %s%.2f%% (more than %.10g%%): ", symbol,
           v->n > 2 ? "up to " : "", v->diff_pct, limit_pct);
    for (size_t i = 0; i < v->n; i++)
        XC_PUT("%s%s %.10g %s", i ? ", " : "", sources[i], prices[i], ccy);
    XC_PUT("; kept %s's price", sources[v->kept]);
#undef XC_PUT
}
