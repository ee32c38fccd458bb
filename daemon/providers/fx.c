/*
 * fx — exchange rates from Frankfurter (ECB reference rates), whose home is
 * https://api.frankfurter.dev/v1 (the old api.frankfurter.app host works
 * by promise only; /v2 answers another, array shape):
 * GET {FX_BASE_URL}/latest?from=USD&to=EUR,GBP,… → {"amount":1.0,
 * "base":"USD","date":"2026-11-20","rates":{"EUR":0.92,…}}
 * (frankfurter_v1_latest_base_USD). A "symbol" is the quote currency; its
 * price is how many of it one USD buys. The cycle stores them in
 * exchange_rates for portfolio conversion.
 *
 * It knows only the ECB's ~30 currencies. A code it does not know is simply
 * absent from a 200 answer, and fails alone as "not offered by the FX
 * provider"; only when it knows none of them does it answer 404
 * {"message":"not found"} (frankfurter_v1_404_not_found), and then every
 * code fails with that reason.
 */
#include "provider.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

static int fx_batch(const struct config *c)
{
    (void)c;
    return 40; /* every currency in use fits in one request */
}

static int fx_normalize(const char *in, char *out, size_t outlen)
{
    if (strlen(in) != 3 || outlen < 4)
        return -1;
    for (int i = 0; i < 3; i++) {
        if (!isalpha((unsigned char)in[i]))
            return -1;
        out[i] = (char)toupper((unsigned char)in[i]);
    }
    out[3] = '\0';
    return 0;
}

static int fx_url(const struct config *c, const char *const *symbols, size_t n, char *url,
                  size_t urllen)
{
    int w = snprintf(url, urllen, "%s/latest?from=USD&to=", c->fx_base_url);
    if (w < 0 || (size_t)w >= urllen)
        return -1;
    size_t o = (size_t)w;
    for (size_t i = 0; i < n; i++) {
        /* currency codes are three letters (normalize() checked): no encoding */
        if (o + (i > 0 ? 1 : 0) + 3 + 1 > urllen)
            return -1;
        if (i > 0)
            url[o++] = ',';
        memcpy(url + o, symbols[i], 3);
        o += 3;
    }
    url[o] = '\0';
    return 0;
}

/* "2026-11-20" → unix seconds at the start of that day (UTC): a daily
 * rate is valid from its date on, never "in the future". */
static int64_t parse_date(const char *s)
{
    struct tm tm;
    memset(&tm, 0, sizeof tm);
    const char *end = strptime(s, "%Y-%m-%d", &tm);
    if (end == NULL || *end != '\0')
        return 0;
    return (int64_t)timegm(&tm);
}

static void fx_not_offered(struct quote *q, const char *code, const char *said)
{
    q->kind = QUOTE_PERMANENT;
    if (said && said[0])
        snprintf(q->error, sizeof q->error, "%.3s is not offered by the FX provider (%.80s)", code,
                 said);
    else
        snprintf(q->error, sizeof q->error, "%.3s is not offered by the FX provider", code);
}

static int fx_parse(json_object *root, const char *const *symbols, size_t n, struct quote *out,
                    unsigned char *found, char *err, size_t errlen)
{
    json_object *base = provider_get(root, "base");
    json_object *rates = provider_get(root, "rates");
    json_object *msg = provider_get(root, "message");
    if (base == NULL && rates == NULL && msg != NULL &&
        json_object_is_type(msg, json_type_string)) {
        /* {"message":"not found"}: none of the codes (or the base) known */
        char said[100];
        const char *ms = json_object_get_string(msg);
        util_snippet(ms, strlen(ms), 80, said, sizeof said);
        for (size_t i = 0; i < n; i++) {
            found[i] = 1;
            fx_not_offered(&out[i], symbols[i], said);
        }
        return 0;
    }
    if (base == NULL || rates == NULL || !json_object_is_type(rates, json_type_object)) {
        snprintf(err, errlen, "answer has no base/rates (unexpected shape)");
        return -1;
    }
    if (strcmp(json_object_get_string(base), "USD") != 0) {
        snprintf(err, errlen, "answer is based on %.8s, asked for USD",
                 json_object_get_string(base));
        return -1;
    }
    json_object *date = provider_get(root, "date");
    int64_t t = date ? parse_date(json_object_get_string(date)) : 0;
    for (size_t i = 0; i < n; i++) {
        json_object *r = NULL;
        found[i] = 1;
        /* get_ex, not provider_get: a JSON null rate is present, not missing */
        if (!json_object_object_get_ex(rates, symbols[i], &r)) {
            fx_not_offered(&out[i], symbols[i], NULL);
            continue;
        }
        char why[160];
        if (provider_number(r, "rate", &out[i].price, why, sizeof why) != 0) {
            out[i].kind = QUOTE_PERMANENT;
            snprintf(out[i].error, sizeof out[i].error, "%s", why);
            continue;
        }
        out[i].kind = QUOTE_OK;
        out[i].price_time = t;
        out[i].time_basis = QTIME_DATE;
        util_strlcpy(out[i].currency, symbols[i], sizeof out[i].currency);
    }
    return 0;
}

const struct provider provider_fx = {
    .name = "fx",
    .batch_size = fx_batch,
    .concurrency = 1,
    .normalize = fx_normalize,
    .build_url = fx_url,
    .headers = NULL,
    .parse = fx_parse,
};
