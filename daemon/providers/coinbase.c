/*
 * coinbase — Coinbase's public spot price, keyless, a third crypto source:
 * GET {COINBASE_BASE_URL}/v2/prices/BTC-USD/spot →
 * {"data":{"amount":"62993.975","base":"BTC","currency":"USD"}}
 * (coinbase_spot_btc_usd_2026-08-01): one pair per request, the amount a
 * string, no time (price_time stays 0: the fetch's). An unlisted base
 * answers {"errors":[{"id":"not_found","message":"Invalid base currency"}]}
 * (coinbase_error_invalid_base_currency), a 429 {"errors":[{"id":
 * "rate_limit_exceeded","message":"Too many requests"}]} (Coinbase's
 * rate-limit docs); both fail the one pair with the message, the 429 as
 * transient.
 *
 * What it is not: a batch source. One request per pair puts it late in
 * the crypto order (after coingecko and kraken; binance, batched but in
 * USDT, comes after it), and its rate limit
 * (10,000 requests an hour per key in Coinbase's docs; keyless per IP)
 * is then ample.
 *
 * A symbol is a CoinGecko id, a ticker or a product ("BTC-USD");
 * normalize() gives the product, the queue's key. Ids map through a short
 * table, each evidenced by a live probe quoted in a public client's source
 * (2026-08: BTC, ETH, SOL, XRP, LTC, DOGE and ETC, "COINBASE_PRODUCTS";
 * DOGE-USD and ETC-USD by verbatim curl output) or by a recorded answer
 * (ADA, DOT, LINK); an id not in it is refused, never guessed (BNB: no
 * recording shows a BNB-USD answer). Only USD products are asked for.
 */
#include "provider.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

/* The longest base this module asks for (Coinbase bases are tickers). */
#define COINBASE_BASE_MAX 12

static const struct {
    const char *id;
    const char *product;
} cb_table[] = {
    {"bitcoin", "BTC-USD"},
    {"ethereum", "ETH-USD"},
    {"solana", "SOL-USD"},
    {"ripple", "XRP-USD"},
    {"litecoin", "LTC-USD"},
    {"dogecoin", "DOGE-USD"},
    {"ethereum-classic", "ETC-USD"},
    /* recorded answers in tests/fixtures/real (README table):
     * coinbase_spot_ada_usd, coinbase_spot_dot_usd,
     * coinbase_spot_link_usd_2026-07-27 */
    {"cardano", "ADA-USD"},
    {"polkadot", "DOT-USD"},
    {"chainlink", "LINK-USD"},
};

static int cb_batch(const struct config *c)
{
    (void)c;
    return 1; /* one product per request: the URL names it */
}

static int cb_normalize(const char *in, char *out, size_t outlen)
{
    size_t n = strlen(in);
    if (n == 0 || n > 64)
        return -1;
    int lower = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)in[i];
        if (!isalnum(ch) && ch != '-')
            return -1;
        if (islower(ch))
            lower = 1;
    }
    if (lower) { /* a CoinGecko id */
        for (size_t i = 0; i < ARRAY_LEN(cb_table); i++)
            if (strcmp(cb_table[i].id, in) == 0)
                return util_strlcpy(out, cb_table[i].product, outlen) < outlen ? 0 : -1;
        return -1;
    }
    const char *dash = strchr(in, '-');
    size_t base = dash ? (size_t)(dash - in) : n;
    if (base == 0 || base > COINBASE_BASE_MAX)
        return -1;
    if (dash != NULL && strcmp(dash, "-USD") != 0)
        return -1; /* only USD products */
    int w = snprintf(out, outlen, "%.*s-USD", (int)base, in);
    return (w < 0 || (size_t)w >= outlen) ? -1 : 0;
}

static int cb_url(const struct config *c, const char *const *symbols, size_t n, char *url,
                  size_t urllen)
{
    if (n != 1)
        return -1;
    /* products are letters, digits and one '-' (normalize() checked) */
    int w = snprintf(url, urllen, "%s/v2/prices/%s/spot", c->coinbase_base_url, symbols[0]);
    return (w < 0 || (size_t)w >= urllen) ? -1 : 0;
}

static int cb_parse(json_object *root, const char *const *symbols, size_t n, struct quote *out,
                    unsigned char *found, char *err, size_t errlen)
{
    if (n != 1) {
        snprintf(err, errlen, "coinbase answers one product per request, asked for %zu", n);
        return -1;
    }
    if (!json_object_is_type(root, json_type_object)) {
        snprintf(err, errlen, "answer is not a JSON object (unexpected shape)");
        return -1;
    }
    struct quote *q = &out[0];
    json_object *errors = provider_get(root, "errors");
    if (errors != NULL && json_object_is_type(errors, json_type_array) &&
        json_object_array_length(errors) > 0) {
        json_object *e0 = json_object_array_get_idx(errors, 0);
        json_object *id = provider_get(e0, "id");
        json_object *m = provider_get(e0, "message");
        const char *ids =
            id && json_object_is_type(id, json_type_string) ? json_object_get_string(id) : "error";
        const char *ms = m && json_object_is_type(m, json_type_string) ? json_object_get_string(m)
                                                                       : "no message";
        char said[100];
        util_snippet(ms, strlen(ms), 80, said, sizeof said);
        found[0] = 1;
        q->kind = strcmp(ids, "rate_limit_exceeded") == 0 ? QUOTE_TRANSIENT : QUOTE_PERMANENT;
        snprintf(q->error, sizeof q->error, "coinbase %.24s: %s", ids, said);
        return 0;
    }
    json_object *data = provider_get(root, "data");
    if (data == NULL || !json_object_is_type(data, json_type_object)) {
        snprintf(err, errlen, "answer has no data object (unexpected shape)");
        return -1;
    }
    found[0] = 1;
    char why[160];
    json_object *cur = provider_get(data, "currency");
    json_object *base = provider_get(data, "base");
    const char *dash = strchr(symbols[0], '-');
    size_t blen = dash ? (size_t)(dash - symbols[0]) : strlen(symbols[0]);
    if (base != NULL && json_object_is_type(base, json_type_string) &&
        (strlen(json_object_get_string(base)) != blen ||
         strncmp(json_object_get_string(base), symbols[0], blen) != 0)) {
        /* an answer about another coin is no answer about this one */
        q->kind = QUOTE_PERMANENT;
        snprintf(q->error, sizeof q->error, "answer is for %.12s, asked for %.20s",
                 json_object_get_string(base), symbols[0]);
        return 0;
    }
    if (cur == NULL || !json_object_is_type(cur, json_type_string) ||
        json_object_get_string_len(cur) == 0) {
        q->kind = QUOTE_PERMANENT;
        snprintf(q->error, sizeof q->error, "answer has no currency");
        return 0;
    }
    if (provider_decimal_string(provider_get(data, "amount"), "amount", &q->price, why,
                                sizeof why) != 0) {
        q->kind = QUOTE_PERMANENT;
        snprintf(q->error, sizeof q->error, "%s", why);
        return 0;
    }
    util_strlcpy(q->currency, json_object_get_string(cur), sizeof q->currency);
    q->kind = QUOTE_OK;
    return 0;
}

const struct provider provider_coinbase = {
    .name = "coinbase",
    .batch_size = cb_batch,
    .concurrency = 2,
    .normalize = cb_normalize,
    .build_url = cb_url,
    .headers = NULL,
    .parse = cb_parse,
};
