/*
 * yahoo — Yahoo Finance's chart API for stocks, ETFs and indices:
 * GET {YAHOO_BASE_URL}/v8/finance/chart/{SYMBOL}?interval=1d&range=1d, one
 * symbol per request. The answer's chart.result[0].meta carries the price
 * (regularMarketPrice), its time (regularMarketTime, unix seconds) and the
 * listing's currency; chart.error explains a refusal.
 */
#include "provider.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

static int yahoo_batch(const struct config *c)
{
    (void)c;
    return 1;
}

static int yahoo_normalize(const char *in, char *out, size_t outlen)
{
    size_t n = strlen(in);
    if (n == 0 || n >= outlen || n > 32)
        return -1;
    for (size_t i = 0; i <= n; i++) {
        unsigned char ch = (unsigned char)in[i];
        if (ch && !isalnum(ch) && !strchr(".-^=_", ch))
            return -1;
        out[i] = (char)toupper(ch);
    }
    return 0;
}

static int yahoo_url(const struct config *c, const char *const *symbols, size_t n, char *url,
                     size_t urllen)
{
    char enc[128];
    if (n != 1 || util_urlencode(symbols[0], enc, sizeof enc) < 0)
        return -1;
    int w = snprintf(url, urllen, "%s/v8/finance/chart/%s?interval=1d&range=1d",
                     c->yahoo_base_url, enc);
    return (w < 0 || (size_t)w >= urllen) ? -1 : 0;
}

static int yahoo_parse(json_object *root, const char *const *symbols, size_t n, struct quote *out,
                       unsigned char *found, char *err, size_t errlen)
{
    (void)symbols;
    if (n != 1) {
        /* the caller prints err: never leave it unset */
        snprintf(err, errlen, "yahoo answers one symbol per request, asked for %zu", n);
        return -1;
    }
    json_object *chart = provider_get(root, "chart");
    if (chart == NULL) {
        snprintf(err, errlen, "answer has no 'chart' object (unexpected shape)");
        return -1;
    }
    json_object *cerr = provider_get(chart, "error");
    if (cerr != NULL && !json_object_is_type(cerr, json_type_null)) {
        json_object *d = provider_get(cerr, "description");
        const char *ds = d ? json_object_get_string(d) : "unknown error";
        char snip[100];
        util_snippet(ds, strlen(ds), 80, snip, sizeof snip);
        snprintf(out[0].error, sizeof out[0].error, "%s", snip);
        out[0].kind = QUOTE_PERMANENT;
        found[0] = 1;
        return 0;
    }
    json_object *result = provider_get(chart, "result");
    if (result == NULL || !json_object_is_type(result, json_type_array)) {
        snprintf(err, errlen, "answer has no chart.result array (unexpected shape)");
        return -1;
    }
    if (json_object_array_length(result) == 0)
        return 0; /* empty result: the symbol is missing */
    json_object *meta = provider_get(json_object_array_get_idx(result, 0), "meta");
    if (meta == NULL) {
        snprintf(err, errlen, "chart.result[0] has no meta (unexpected shape)");
        return -1;
    }
    struct quote *q = &out[0];
    found[0] = 1;
    char why[160];
    if (provider_number(provider_get(meta, "regularMarketPrice"), "price", &q->price, why,
                        sizeof why) != 0) {
        q->kind = QUOTE_PERMANENT;
        snprintf(q->error, sizeof q->error, "%s", why);
        return 0;
    }
    double t = 0;
    if (provider_number(provider_get(meta, "regularMarketTime"), "time", &t, why, sizeof why) ==
        0) {
        /* converting a double outside int64's range is undefined behaviour */
        if (!(t > -9.2e18 && t < 9.2e18)) {
            q->kind = QUOTE_PERMANENT;
            snprintf(q->error, sizeof q->error, "time %.6g is out of range", t);
            return 0;
        }
        q->price_time = (int64_t)t;
    }
    json_object *ccy = provider_get(meta, "currency");
    if (ccy && json_object_is_type(ccy, json_type_string))
        util_strlcpy(q->currency, json_object_get_string(ccy), sizeof q->currency);
    q->kind = QUOTE_OK;
    return 0;
}

const struct provider provider_yahoo = {
    .name = "yahoo",
    .batch_size = yahoo_batch,
    .concurrency = 8,
    .normalize = yahoo_normalize,
    .build_url = yahoo_url,
    .headers = NULL,
    .parse = yahoo_parse,
};
