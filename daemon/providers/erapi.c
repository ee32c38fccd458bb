/*
 * erapi — exchange rates from open.er-api.com (ExchangeRate-API's keyless
 * endpoint), the second FX source:
 * GET {ERAPI_BASE_URL}/v6/latest/USD → {"result":"success",
 * "time_last_update_unix":1724025751, …, "base_code":"USD",
 * "rates":{"USD":1,"AED":3.6725,…}} with 162 currencies
 * (erapi_latest_usd_2024-08-19). Like fx, a "symbol" is the quote
 * currency and its price is how many of it one USD buys; unlike the ECB
 * table it covers TWD, AED, SAR and the rest.
 *
 * One request answers for every currency, so the URL does not name them
 * and a batch is as large as the currencies in use. A code absent from a
 * successful answer fails alone, "not offered by open.er-api". An error
 * answer, {"result":"error","error-type":"unsupported-code"}
 * (erapi_error_unsupported_code), names the base we asked for, so it is
 * the whole answer's failure, with its error-type as the reason.
 *
 * The time: time_last_update_unix, the instant the provider says its
 * figures were last updated (once a day, just after 00:00 UTC). It is
 * stored as the rate's own time (QTIME_MARKET), not as a day (QTIME_DATE):
 * the answer states the instant, and truncating it to a date would claim
 * a precision of a day where the answer gives seconds. A rate whose
 * update time is old is then judged stale by the same PRICE_MAX_AGE rule
 * as any price.
 *
 * Terms: the open endpoint is rate limited per IP (HTTP 429, lifted after
 * 20 minutes, per its docs) and asks for attribution; one request a cycle
 * is all it gets.
 */
#include "provider.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

/* Every currency the table has (162) fits one request; the URL does not
 * grow with the batch, so the only bound is the table. */
#define ERAPI_BATCH 200

static int er_batch(const struct config *c)
{
    (void)c;
    return ERAPI_BATCH;
}

static int er_normalize(const char *in, char *out, size_t outlen)
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

static int er_url(const struct config *c, const char *const *symbols, size_t n, char *url,
                  size_t urllen)
{
    (void)symbols;
    if (n == 0)
        return -1;
    int w = snprintf(url, urllen, "%s/v6/latest/USD", c->erapi_base_url);
    return (w < 0 || (size_t)w >= urllen) ? -1 : 0;
}

static const char *er_string(json_object *obj, const char *key)
{
    json_object *v = provider_get(obj, key);
    return v != NULL && json_object_is_type(v, json_type_string) ? json_object_get_string(v) : NULL;
}

static int er_parse(json_object *root, const char *const *symbols, size_t n, struct quote *out,
                    unsigned char *found, char *err, size_t errlen)
{
    if (!json_object_is_type(root, json_type_object)) {
        snprintf(err, errlen, "answer is not a JSON object (unexpected shape)");
        return -1;
    }
    const char *result = er_string(root, "result");
    if (result != NULL && strcmp(result, "success") != 0) {
        const char *type = er_string(root, "error-type");
        char said[100];
        const char *t = type ? type : result;
        util_snippet(t, strlen(t), 80, said, sizeof said);
        snprintf(err, errlen, "open.er-api refused: %s", said);
        return -1;
    }
    json_object *rates = provider_get(root, "rates");
    const char *base = er_string(root, "base_code");
    if (result == NULL || rates == NULL || !json_object_is_type(rates, json_type_object)) {
        snprintf(err, errlen, "answer has no result/rates (unexpected shape)");
        return -1;
    }
    if (base == NULL || strcmp(base, "USD") != 0) {
        snprintf(err, errlen, "answer is based on %.8s, asked for USD", base ? base : "nothing");
        return -1;
    }
    int64_t t = 0;
    double tu = 0;
    char why[160];
    if (provider_number(provider_get(root, "time_last_update_unix"), "time", &tu, why,
                        sizeof why) == 0 &&
        tu > 0 && tu < 9.2e18)
        t = (int64_t)tu;
    for (size_t i = 0; i < n; i++) {
        json_object *r = NULL;
        struct quote *q = &out[i];
        found[i] = 1;
        /* get_ex: a JSON null rate is present (and wrong), not missing */
        if (!json_object_object_get_ex(rates, symbols[i], &r)) {
            q->kind = QUOTE_PERMANENT;
            snprintf(q->error, sizeof q->error, "%.3s is not offered by open.er-api", symbols[i]);
            continue;
        }
        if (provider_number(r, "rate", &q->price, why, sizeof why) != 0) {
            q->kind = QUOTE_PERMANENT;
            snprintf(q->error, sizeof q->error, "%s", why);
            continue;
        }
        q->kind = QUOTE_OK;
        q->price_time = t;
        q->time_basis = QTIME_MARKET;
        util_strlcpy(q->currency, symbols[i], sizeof q->currency);
    }
    return 0;
}

const struct provider provider_erapi = {
    .name = "erapi",
    .batch_size = er_batch,
    .concurrency = 1,
    .normalize = er_normalize,
    .build_url = er_url,
    .headers = NULL,
    .parse = er_parse,
};
