/*
 * binance — Binance's public spot price ticker, keyless, the fourth crypto
 * source (after coingecko, kraken and coinbase):
 * GET {BINANCE_BASE_URL}/api/v3/ticker/price?symbols=["BTCUSDT","BNBUSDT"]
 * (the brackets and quotes percent-encoded, as Binance's docs show them)
 * answers [{"symbol":"BTCUSDT","price":"46707.03000000"},…]
 * (binance_ticker_price_symbols_BTCUSDT_BNBUSDT), many pairs per request;
 * ?symbol=BNBUSDT answers one object {"symbol":"BNBUSDT","price":"…"}
 * (binance_ticker_price_symbol_BNBUSDT). Prices are decimal strings; the
 * answer carries no time, so price_time stays 0 (the fetch's time).
 *
 * The currency. Binance quotes the demo's coins against USDT (Tether), not
 * USD, and fetcherd has no USDT rate to convert through (the FX sources
 * carry fiat currencies only). A USDT price is stored as USD — currency
 * "USD" — with quoted_currency "USDT" on the row, so every stored price
 * says it was quoted in USDT, as a London price says it was quoted in
 * pence. Why that is acceptable for this module and no other: only USDT
 * pairs of the coins in the table below are asked for (a USD-pegged
 * stablecoin, a fraction of a percent from USD in normal markets), Binance
 * is the last source of the crypto chain (asked only when coingecko,
 * kraken and coinbase did not answer), and when two sources answer for an
 * asset the cross-check (PRICE_CROSSCHECK_PCT, 2 %) names a de-peg beyond
 * that. An asset priced in another currency (EUR) gets a currency mismatch
 * from validation and fails over: no USDT price is ever stored as EUR.
 *
 * What it is not: a Binance client. No other quote asset is asked for, and
 * no key is sent (the price ticker is public).
 *
 * A symbol is a CoinGecko id ("binancecoin", the crypto assets' psym), a
 * ticker ("BNB") or a pair ("BNBUSDT"); normalize() gives the pair, the
 * queue's key. Ids map through the short table below, each row a pair a
 * recording shows (binance_ticker_price_27_usdt_pairs_2022-12 and the two
 * BNB answers); an id not in it is refused, never guessed. A ticker not in
 * it becomes TICKERUSDT (Binance's pair names are base + quote), and a pair
 * as psym covers the rest.
 *
 * An unknown pair answers HTTP 400 {"code":-1121,"msg":"Invalid symbol."}
 * (binance_error_invalid_symbol_400), and in a symbols=[…] request it fails
 * the whole request. So parse() says, as kraken's does:
 * - n == 1: that pair is unknown (a permanent failure of that key alone);
 * - n > 1: the answer is unusable as a whole (-1), and upstream.c asks each
 *   of the batch's keys alone through the queue (the fallback request,
 *   ?symbol=…): one bad pair costs 1 + n requests, never its batch-mates'
 *   prices. The batch is kept at 20 pairs for that reason.
 * Other error codes: -1003 (too much request weight; Binance sends it with
 * 429, or 418 once an IP is banned) is transient for every key; any other
 * code is the answer's own reason, permanent, for every key.
 */
#include "provider.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

/* Pairs per request: a cycle's crypto in one request, and a bound on what
 * one unknown pair costs when the batch is split to find it. */
#define BINANCE_BATCH 20
/* Longest pair asked for: a ticker of up to 10 characters + "USDT". */
#define BINANCE_PAIR_MAX 14
#define BINANCE_QUOTE "USDT"
/* Binance's error codes (binance-spot-api-docs errors.md). */
#define BINANCE_BAD_SYMBOL (-1121)
#define BINANCE_TOO_MANY_REQUESTS (-1003)

static const struct {
    const char *id;     /* CoinGecko id */
    const char *ticker; /* the coin's usual ticker */
    const char *pair;   /* what to ask Binance for */
} bn_table[] = {
    /* binance_ticker_price_symbols_BTCUSDT_BNBUSDT, binance_ticker_price_
     * symbol_BNBUSDT and binance_ticker_price_27_usdt_pairs_2022-12 */
    {"bitcoin", "BTC", "BTCUSDT"},
    {"binancecoin", "BNB", "BNBUSDT"},
    /* binance_ticker_price_27_usdt_pairs_2022-12 alone */
    {"ethereum", "ETH", "ETHUSDT"},
    {"solana", "SOL", "SOLUSDT"},
    {"ripple", "XRP", "XRPUSDT"},
    {"cardano", "ADA", "ADAUSDT"},
    {"dogecoin", "DOGE", "DOGEUSDT"},
    {"chainlink", "LINK", "LINKUSDT"},
    {"litecoin", "LTC", "LTCUSDT"},
    {"eos", "EOS", "EOSUSDT"},
};

static int bn_batch(const struct config *c)
{
    (void)c;
    return BINANCE_BATCH;
}

static int bn_put(const char *pair, char *out, size_t outlen)
{
    return util_strlcpy(out, pair, outlen) < outlen ? 0 : -1;
}

static int bn_normalize(const char *in, char *out, size_t outlen)
{
    size_t n = strlen(in);
    if (n == 0 || n > 64)
        return -1;
    int lower = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)in[i];
        if (!isalnum(ch) && ch != '-')
            return -1;
        if (islower(ch) || ch == '-')
            lower = 1;
    }
    if (lower) {
        /* a CoinGecko id: only the ones a recording shows a pair for */
        for (size_t i = 0; i < ARRAY_LEN(bn_table); i++)
            if (strcmp(bn_table[i].id, in) == 0)
                return bn_put(bn_table[i].pair, out, outlen);
        return -1;
    }
    for (size_t i = 0; i < ARRAY_LEN(bn_table); i++)
        if (strcmp(bn_table[i].ticker, in) == 0 || strcmp(bn_table[i].pair, in) == 0)
            return bn_put(bn_table[i].pair, out, outlen);
    size_t q = strlen(BINANCE_QUOTE);
    if (n > q && strcmp(in + n - q, BINANCE_QUOTE) == 0)
        return n <= BINANCE_PAIR_MAX ? bn_put(in, out, outlen) : -1; /* a pair as given */
    if (n + q > BINANCE_PAIR_MAX || n + q + 1 > outlen)
        return -1;
    /* a ticker: its USDT pair */
    snprintf(out, outlen, "%s" BINANCE_QUOTE, in);
    return 0;
}

/* {base}/api/v3/ticker/price?symbols=%5B%22A%22,%22B%22%5D */
static int bn_url(const struct config *c, const char *const *symbols, size_t n, char *url,
                  size_t urllen)
{
    if (n == 0)
        return -1;
    int w = snprintf(url, urllen, "%s/api/v3/ticker/price?symbols=%%5B", c->binance_base_url);
    if (w < 0 || (size_t)w >= urllen)
        return -1;
    size_t o = (size_t)w;
    for (size_t i = 0; i < n; i++) {
        /* pairs are letters and digits (normalize() checked): no encoding
         * beyond the quotes; the comma is literal, as Binance's docs send it */
        int k = snprintf(url + o, urllen - o, "%s%%22%s%%22", i > 0 ? "," : "", symbols[i]);
        if (k < 0 || (size_t)k >= urllen - o || symbols[i][0] == '\0')
            return -1;
        o += (size_t)k;
    }
    int k = snprintf(url + o, urllen - o, "%%5D");
    return (k < 0 || (size_t)k >= urllen - o) ? -1 : 0;
}

/* {base}/api/v3/ticker/price?symbol=A: one pair, how a batch is split. */
static int bn_single_url(const struct config *c, const char *const *symbols, size_t n, char *url,
                         size_t urllen)
{
    if (n != 1 || symbols[0][0] == '\0')
        return -1;
    int w =
        snprintf(url, urllen, "%s/api/v3/ticker/price?symbol=%s", c->binance_base_url, symbols[0]);
    return (w < 0 || (size_t)w >= urllen) ? -1 : 0;
}

/* One {"symbol","price"} entry into the quote of the pair it names. */
static void bn_entry(json_object *e, const char *const *symbols, size_t n, struct quote *out,
                     unsigned char *found)
{
    json_object *sym = provider_get(e, "symbol");
    if (sym == NULL || !json_object_is_type(sym, json_type_string))
        return; /* not about any pair asked for */
    const char *s = json_object_get_string(sym);
    for (size_t i = 0; i < n; i++) {
        if (found[i] || strcmp(symbols[i], s) != 0)
            continue;
        struct quote *q = &out[i];
        char why[160];
        found[i] = 1;
        if (provider_decimal_string(provider_get(e, "price"), "price", &q->price, why,
                                    sizeof why) != 0) {
            q->kind = QUOTE_PERMANENT;
            snprintf(q->error, sizeof q->error, "%s", why);
            return;
        }
        /* a USDT pair (normalize() asks for no other): stored as USD, the
         * quote asset kept beside it (see the header) */
        util_strlcpy(q->currency, "USD", sizeof q->currency);
        util_strlcpy(q->quoted_currency, BINANCE_QUOTE, sizeof q->quoted_currency);
        q->kind = QUOTE_OK;
        return;
    }
}

static int bn_parse(json_object *root, const char *const *symbols, size_t n, struct quote *out,
                    unsigned char *found, char *err, size_t errlen)
{
    if (json_object_is_type(root, json_type_array)) {
        /* symbols=[…]: pairs the array lacks stay unfound (the single
         * request asks for each) */
        size_t len = json_object_array_length(root);
        for (size_t k = 0; k < len; k++) {
            json_object *e = json_object_array_get_idx(root, k);
            if (e != NULL && json_object_is_type(e, json_type_object))
                bn_entry(e, symbols, n, out, found);
        }
        return 0;
    }
    if (!json_object_is_type(root, json_type_object)) {
        snprintf(err, errlen, "answer is neither a JSON array nor an object (unexpected shape)");
        return -1;
    }
    json_object *code = provider_get(root, "code");
    if (code != NULL) {
        json_object *m = provider_get(root, "msg");
        const char *ms = m && json_object_is_type(m, json_type_string) ? json_object_get_string(m)
                                                                       : "no message";
        char said[100];
        util_snippet(ms, strlen(ms), 80, said, sizeof said);
        int64_t c = json_object_is_type(code, json_type_int) ? json_object_get_int64(code) : 0;
        if (c == BINANCE_BAD_SYMBOL && n > 1) {
            snprintf(err, errlen, "invalid symbol among %zu pairs (%s): split to find it", n, said);
            return -1;
        }
        for (size_t i = 0; i < n; i++) {
            struct quote *q = &out[i];
            found[i] = 1;
            if (c == BINANCE_BAD_SYMBOL) {
                q->kind = QUOTE_PERMANENT;
                snprintf(q->error, sizeof q->error, "%.20s is not a Binance pair (%s)", symbols[i],
                         said);
            } else {
                q->kind = c == BINANCE_TOO_MANY_REQUESTS ? QUOTE_TRANSIENT : QUOTE_PERMANENT;
                snprintf(q->error, sizeof q->error, "binance said %lld: %s", (long long)c, said);
            }
        }
        return 0;
    }
    if (provider_get(root, "symbol") == NULL) {
        snprintf(err, errlen, "answer has neither a symbol nor an error code (unexpected shape)");
        return -1;
    }
    bn_entry(root, symbols, n, out, found); /* ?symbol=…: one object */
    return 0;
}

const struct provider provider_binance = {
    .name = "binance",
    .batch_size = bn_batch,
    .concurrency = 2,
    .normalize = bn_normalize,
    .build_url = bn_url,
    .headers = NULL,
    .parse = bn_parse,
    /* the same ticker with one pair: how a poisoned batch is split */
    .fallback_url = bn_single_url,
    .fallback_parse = bn_parse,
};
