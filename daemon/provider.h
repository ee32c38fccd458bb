/*
 * provider — one upstream market-data API behind one small interface: how
 * many symbols one request may carry, how to build that request, how to
 * read its answer into quotes. Each provider is one file in
 * daemon/providers/; adding one touches only that file and a line of the
 * registry in daemon/provider.c.
 *
 * What it is not: providers do no I/O. daemon/upstream.c sends the request,
 * checks the HTTP status, and hands a 200 body to parse() (and a 4xx body
 * too: a provider may explain a refusal in its own format).
 */
#ifndef FETCHER_PROVIDER_H
#define FETCHER_PROVIDER_H

#include "config.h"
#include "history.h"
#include "quote.h"

#include <json-c/json.h>
#include <stddef.h>

#define PROVIDER_URL_MAX 4096
#define PROVIDER_HEADER_MAX 320

struct provider {
    const char *name;
    /* Symbols per request (1 = one request per symbol). */
    int (*batch_size)(const struct config *c);
    /* Requests in flight at once to this provider. */
    int concurrency;
    /* Canonical form of a provider symbol (yahoo: upper case; coingecko:
     * lower case). Returns 0, or -1 if the symbol cannot be valid. */
    int (*normalize)(const char *in, char *out, size_t outlen);
    /* Writes the URL for symbols[0..n). Returns 0 or -1 (too long). */
    int (*build_url)(const struct config *c, const char *const *symbols, size_t n, char *url,
                     size_t urllen);
    /* Writes extra request headers (API keys travel here, never in URLs, so
     * they cannot leak into logs). Returns how many. May be NULL. */
    size_t (*headers)(const struct config *c, char out[][PROVIDER_HEADER_MAX], size_t max);
    /* Reads a parsed 200 answer: for each symbol it finds, fills out[i] and
     * sets found[i]. Returns 0, or -1 with err when the answer as a whole is
     * unusable (wrong shape). Unfound symbols fail as missing. */
    int (*parse)(json_object *root, const char *const *symbols, size_t n, struct quote *out,
                 unsigned char *found, char *err, size_t errlen);

    /* Optional second request kind, one symbol at a time, for a symbol the
     * batch answer lacks (yahoo: the chart endpoint behind the spark
     * batch). Both NULL when the provider has none. Same contracts as
     * build_url and parse, always called with n == 1. upstream.c uses it
     * (1) for each symbol a usable batch answer does not carry, and (2) for
     * every symbol of a batch of more than one whose answer is unusable as
     * a whole in a way that is not transient (not JSON, wrong shape, a 4xx,
     * too large, bad redirect): one poisoned symbol must not fail its
     * batch-mates. Transient failures (429, 5xx, timeouts) are never split:
     * the queue retries the batch, and splitting would multiply the load on
     * an upstream that is already struggling. */
    int (*fallback_url)(const struct config *c, const char *const *symbols, size_t n, char *url,
                        size_t urllen);
    int (*fallback_parse)(json_object *root, const char *const *symbols, size_t n,
                          struct quote *out, unsigned char *found, char *err, size_t errlen);

    /* Optional daily-history request, one symbol (a backfill): both NULL
     * when the provider has none. history_url writes the URL (0, or -1
     * when too long). history_parse reads a parsed answer into out (days
     * the answer has without a close are counted in out->nulls, never
     * stored) and fills q: QUOTE_OK with the newest close, or why not
     * (an unknown symbol, the provider's error). Returns 0, or -1 with
     * err when the answer as a whole is of a shape it does not know. The
     * market day of each close is the provider's to say (its file tells
     * how). */
    int (*history_url)(const struct config *c, const char *symbol, char *url, size_t urllen);
    int (*history_parse)(json_object *root, const char *symbol, struct history_series *out,
                         struct quote *q, char *err, size_t errlen);
};

/* The provider called name, or NULL. */
const struct provider *provider_find(const char *name);
/* Every registered provider; *n gets the count. */
const struct provider *const *provider_all(size_t *n);

/* Parses body (len bytes) as JSON with a nesting cap. Returns the root
 * (caller puts it), or NULL with a reason naming what came instead; the
 * reason is exactly PROVIDER_ERR_OOM when memory ran out (the answer may
 * be fine: not the upstream's fault). */
#define PROVIDER_ERR_OOM "out of memory"
json_object *provider_parse_json(const char *body, size_t len, const char *content_type, char *err,
                                 size_t errlen);

/* Reads a JSON number (int or double, not a string, not null) into *out.
 * Returns 0, or -1 with a reason in err ("price is null", …). */
int provider_number(json_object *o, const char *what, double *out, char *err, size_t errlen);

/* Reads a decimal number that the answer carries as a JSON string
 * ("64547.20000": Kraken, Twelve Data, Coinbase) into *out. Only plain
 * decimals count: digits with an optional sign and fraction; "1e5", "inf",
 * "0x10", " 5" and "" do not, so strtod's leniency cannot turn garbage
 * into a price. Returns 0, or -1 with a reason in err. */
int provider_decimal_string(json_object *o, const char *what, double *out, char *err,
                            size_t errlen);

/* obj[key] if obj is an object and key is present, else NULL. */
json_object *provider_get(json_object *obj, const char *key);

#endif
