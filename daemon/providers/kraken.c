/*
 * kraken — Kraken's public Ticker, keyless, as the second crypto source:
 * GET {KRAKEN_BASE_URL}/0/public/Ticker?pair=XBTUSD,ETHUSD
 * many pairs per request. The answer is {"error":[],"result":{KEY:{…}}}
 * where KEY is Kraken's canonical pair name, not the one asked for
 * (XBTUSD answers as XXBTZUSD, ETHUSD as XETHZUSD; many others as asked),
 * every number is a string, and c = [last trade price, lot volume]
 * (kraken_ticker_xbtusd_ethusd, kraken_ticker_xbtusd_ltcusd_eosusd_xmrusd).
 * The price is c[0] in USD; the answer carries no time, so price_time stays
 * 0 and the row says the time is the fetch's.
 *
 * What it is not: a general Kraken client. Only USD-quoted pairs are asked
 * for (the currency is then known without guessing); other quotes need a
 * currency column this module does not have.
 *
 * A symbol is a CoinGecko id ("bitcoin", the crypto assets' psym), a
 * ticker ("BTC") or a pair ("XBTUSD"); normalize() turns each into the
 * pair to ask for, which is the queue's key. The table below is short on
 * purpose: every row is evidenced by a recorded answer or a recorded live
 * probe (each row says which). An id not in it is refused rather than
 * guessed (CoinGecko ids are slugs, "ethereum-classic", not tickers); a
 * ticker not in it becomes TICKERUSD, Kraken's altname form for most
 * coins, and a per-asset override (a pair as psym) covers the rest.
 *
 * An unknown pair answers HTTP 200 {"error":["EQuery:Unknown asset pair"]}
 * with no result at all, and so fails the whole request: one bad pair
 * must not cost its batch-mates their prices. parse() therefore says:
 * - n == 1: that pair is unknown (a permanent failure of that key alone);
 * - n > 1: the answer is unusable as a whole (-1, err starting
 *   "unknown asset pair among N pairs"), which is the signal to split.
 * How a transport isolates the bad pair: re-ask the batch's keys in
 * smaller requests through the queue (each under the rate limit and
 * dedup), never in a loop of its own. The provider's fallback kind is the
 * same Ticker request with one pair, so upstream.c's existing rule (an
 * unusable batch answer → one request per key) already isolates it at a
 * cost of 1 + n requests for a batch of n. Halving instead (ask each half;
 * a half that answers is priced, a half that fails is halved again) finds
 * one bad pair in about 2·log2(n) + 1 requests; that choice belongs to the
 * queue. The batch is kept small for the same reason: it bounds what one
 * bad pair can cost.
 *
 * Other error strings: "EService:Unavailable", "EService:Busy",
 * "EGeneral:Too many requests" and "EAPI:Rate limit exceeded" are
 * transient (every key fails transient, the queue backs off); anything else
 * is the answer's own reason, for every key.
 */
#include "provider.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

/* Pairs per request: twenty assets per request already make a cycle a
 * handful of calls, and the limit bounds the requests one unknown pair
 * costs when the batch is split to find it (see the header). */
#define KRAKEN_BATCH 20
/* Longest pair this module asks for: altnames are a few letters + "USD". */
#define KRAKEN_PAIR_MAX 16

struct kr_row {
    const char *id;     /* CoinGecko id */
    const char *ticker; /* the coin's usual ticker */
    const char *pair;   /* what to ask Kraken for */
    const char *key;    /* what the answer names it */
    /* evidence: kraken_ticker_xbtusd_ethusd = tests/fixtures/real recording
     * (2024-03); kraken_ticker_xbtusd_ltcusd_eosusd_xmrusd = recording
     * (2019); "probe 2026-08" = live curl output quoted in a public client's
     * source (see NOTE_kraken_pairs.txt). */
};

static const struct kr_row kr_table[] = {
    {"bitcoin", "BTC", "XBTUSD", "XXBTZUSD"},          /* both recordings */
    {"ethereum", "ETH", "ETHUSD", "XETHZUSD"},         /* kraken_ticker_xbtusd_ethusd */
    {"litecoin", "LTC", "LTCUSD", "XLTCZUSD"},         /* 2019 recording; probe 2026-08-05 */
    {"monero", "XMR", "XMRUSD", "XXMRZUSD"},           /* 2019 recording */
    {"eos", "EOS", "EOSUSD", "EOSUSD"},                /* 2019 recording */
    {"ripple", "XRP", "XRPUSD", "XXRPZUSD"},           /* probe 2026-08 */
    {"solana", "SOL", "SOLUSD", "SOLUSD"},             /* probe 2026-08 */
    {"dogecoin", "DOGE", "XDGUSD", "XDGUSD"},          /* probe 2026-08-08 (not XXDGZUSD) */
    {"ethereum-classic", "ETC", "ETCUSD", "XETCZUSD"}, /* probe 2026-08-08 */
    {"cardano", "ADA", "ADAUSD", "ADAUSD"},            /* answer quoted in a client's source */
    {"chainlink", "LINK", "LINKUSD", "LINKUSD"},       /* live answer quoted 2026-07-27 */
};

static const struct kr_row *kr_by_pair(const char *pair)
{
    for (size_t i = 0; i < ARRAY_LEN(kr_table); i++)
        if (strcmp(kr_table[i].pair, pair) == 0 || strcmp(kr_table[i].key, pair) == 0)
            return &kr_table[i];
    return NULL;
}

static int kr_batch(const struct config *c)
{
    (void)c;
    return KRAKEN_BATCH;
}

static int kr_put(const char *pair, char *out, size_t outlen)
{
    return util_strlcpy(out, pair, outlen) < outlen ? 0 : -1;
}

static int kr_normalize(const char *in, char *out, size_t outlen)
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
        /* a CoinGecko id: only the ones whose pair is evidenced */
        for (size_t i = 0; i < ARRAY_LEN(kr_table); i++)
            if (strcmp(kr_table[i].id, in) == 0)
                return kr_put(kr_table[i].pair, out, outlen);
        return -1;
    }
    const struct kr_row *r = kr_by_pair(in);
    if (r != NULL)
        return kr_put(r->pair, out, outlen);
    for (size_t i = 0; i < ARRAY_LEN(kr_table); i++)
        if (strcmp(kr_table[i].ticker, in) == 0)
            return kr_put(kr_table[i].pair, out, outlen);
    if (strcmp(in, "XBT") == 0) /* Kraken's own ticker for bitcoin */
        return kr_put("XBTUSD", out, outlen);
    if (n > 3 && strcmp(in + n - 3, "USD") == 0)
        return n <= KRAKEN_PAIR_MAX ? kr_put(in, out, outlen) : -1; /* a pair as given */
    if (n + 3 > KRAKEN_PAIR_MAX || n + 4 > outlen)
        return -1;
    /* a ticker: its altname pair */
    snprintf(out, outlen, "%sUSD", in);
    return 0;
}

static int kr_url(const struct config *c, const char *const *symbols, size_t n, char *url,
                  size_t urllen)
{
    if (n == 0)
        return -1;
    int w = snprintf(url, urllen, "%s/0/public/Ticker?pair=", c->kraken_base_url);
    if (w < 0 || (size_t)w >= urllen)
        return -1;
    size_t o = (size_t)w;
    for (size_t i = 0; i < n; i++) {
        /* pairs are letters and digits (normalize() checked): no encoding;
         * the comma is literal, as Kraken's own examples send it */
        size_t len = strlen(symbols[i]);
        if (len == 0 || o + (i > 0 ? 1 : 0) + len + 1 > urllen)
            return -1;
        if (i > 0)
            url[o++] = ',';
        memcpy(url + o, symbols[i], len);
        o += len;
    }
    url[o] = '\0';
    return 0;
}

/* Kraken's error strings that say "later", not "never". */
static int kr_transient(const char *e)
{
    return strncmp(e, "EService:", 9) == 0 || strcmp(e, "EGeneral:Too many requests") == 0 ||
           strncmp(e, "EAPI:Rate limit", 15) == 0 || strcmp(e, "EGeneral:Temporary lockout") == 0;
}

/* The unknown-pair error; older servers spelt it "Equery:Unkown asset pair". */
static int kr_unknown_pair(const char *e)
{
    return strncasecmp(e, "EQuery:Unknown asset pair", 25) == 0 ||
           strncasecmp(e, "EQuery:Unkown asset pair", 24) == 0;
}

/* The member of result that answers pair, or NULL. */
static json_object *kr_entry(json_object *result, const char *pair, size_t n)
{
    json_object *v = provider_get(result, pair);
    if (v != NULL)
        return v;
    const struct kr_row *r = kr_by_pair(pair);
    if (r != NULL && (v = provider_get(result, r->key)) != NULL)
        return v;
    /* asked for one pair, answered one: that is its answer, whatever
     * Kraken now calls it (the canonical names have changed before) */
    if (n == 1 && json_object_object_length(result) == 1) {
        json_object_object_foreach(result, key, val)
        {
            (void)key;
            return val;
        }
    }
    return NULL;
}

static void kr_read(json_object *entry, const char *pair, struct quote *q)
{
    char why[160];
    json_object *c = provider_get(entry, "c");
    if (c == NULL || !json_object_is_type(c, json_type_array) || json_object_array_length(c) < 1) {
        q->kind = QUOTE_PERMANENT;
        snprintf(q->error, sizeof q->error, "entry for %.20s has no last trade (c)", pair);
        return;
    }
    if (provider_decimal_string(json_object_array_get_idx(c, 0), "last trade price", &q->price, why,
                                sizeof why) != 0) {
        q->kind = QUOTE_PERMANENT;
        snprintf(q->error, sizeof q->error, "%s", why);
        return;
    }
    util_strlcpy(q->currency, "USD", sizeof q->currency); /* only USD pairs are asked for */
    q->kind = QUOTE_OK;
}

static int kr_parse(json_object *root, const char *const *symbols, size_t n, struct quote *out,
                    unsigned char *found, char *err, size_t errlen)
{
    if (!json_object_is_type(root, json_type_object)) {
        snprintf(err, errlen, "answer is not a JSON object (unexpected shape)");
        return -1;
    }
    json_object *errors = provider_get(root, "error");
    json_object *result = provider_get(root, "result");
    const char *first = NULL;
    if (errors != NULL && json_object_is_type(errors, json_type_array) &&
        json_object_array_length(errors) > 0) {
        json_object *e0 = json_object_array_get_idx(errors, 0);
        first = e0 && json_object_is_type(e0, json_type_string) ? json_object_get_string(e0)
                                                                : "unreadable error";
    }
    int has_result = result != NULL && json_object_is_type(result, json_type_object) &&
                     json_object_object_length(result) > 0;
    if (first != NULL && !has_result) {
        char said[100];
        util_snippet(first, strlen(first), 80, said, sizeof said);
        if (kr_unknown_pair(first) && n > 1) {
            snprintf(err, errlen, "unknown asset pair among %zu pairs (%s): split to find it", n,
                     said);
            return -1;
        }
        for (size_t i = 0; i < n; i++) {
            struct quote *q = &out[i];
            found[i] = 1;
            if (kr_unknown_pair(first)) {
                q->kind = QUOTE_PERMANENT;
                snprintf(q->error, sizeof q->error, "%.20s is not a Kraken pair (%s)", symbols[i],
                         said);
            } else {
                q->kind = kr_transient(first) ? QUOTE_TRANSIENT : QUOTE_PERMANENT;
                snprintf(q->error, sizeof q->error, "kraken said: %s", said);
            }
        }
        return 0;
    }
    if (result == NULL || !json_object_is_type(result, json_type_object)) {
        snprintf(err, errlen, "answer has no result object (unexpected shape)");
        return -1;
    }
    /* Pairs the result lacks stay unfound: the single-pair request asks
     * for each (a partial answer with errors has been reported, 2022). */
    for (size_t i = 0; i < n; i++) {
        json_object *entry = kr_entry(result, symbols[i], n);
        if (entry == NULL)
            continue;
        found[i] = 1;
        if (!json_object_is_type(entry, json_type_object)) {
            out[i].kind = QUOTE_PERMANENT;
            snprintf(out[i].error, sizeof out[i].error, "entry for %.20s is not an object",
                     symbols[i]);
            continue;
        }
        kr_read(entry, symbols[i], &out[i]);
    }
    return 0;
}

static int kr_single_url(const struct config *c, const char *const *symbols, size_t n, char *url,
                         size_t urllen)
{
    return n == 1 ? kr_url(c, symbols, n, url, urllen) : -1;
}

const struct provider provider_kraken = {
    .name = "kraken",
    .batch_size = kr_batch,
    .concurrency = 2,
    .normalize = kr_normalize,
    .build_url = kr_url,
    .headers = NULL,
    .parse = kr_parse,
    /* the same request with one pair: how a poisoned batch is split */
    .fallback_url = kr_single_url,
    .fallback_parse = kr_parse,
};
