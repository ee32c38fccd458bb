/*
 * assetreq — the body of POST /api/fetcher/assets, parsed strictly. Pure
 * (json-c and query.h only), so every rule is unit-tested on its own.
 *
 * Body: {"symbol", "type", "name"?, "currency"?, "provider"?,
 * "provider_symbol"?, "exchange"?} (exchange: where it trades, as the
 * search answered it, 1 to 40 characters of text; kept in assets.exchange). Defaults: name =
 * symbol; currency = USD; provider from type (crypto → coingecko, stock/etf/index/fund → yahoo; the
 * other types need it given); provider_symbol: yahoo → the symbol, coingecko → the symbol in lower
 * case (CoinGecko ids are lower case). Any other key, a wrong JSON type or a value the assets table
 * would refuse is an error naming the field, so the database never sees a value it rejects.
 */
#ifndef FETCHER_API_ASSETREQ_H
#define FETCHER_API_ASSETREQ_H

#include "util.h"

#include <stddef.h>

struct asset_req {
    char symbol[33];
    char type[16];
    char name[201];
    char currency[4];
    char provider[33];
    char provider_symbol[65];
    char exchange[41]; /* "" when not given */
};

/* Parses body (len bytes, NUL-terminated). Returns 0 with *out filled, or
 * -1 with *field naming the bad field ("body" for the document itself; a
 * static string) and a reason in msg, or -2 when memory ran out reading
 * it (the body may be fine: the API answers 503, not 400). */
int assetreq_parse(const char *body, size_t len, struct asset_req *out, const char **field,
                   char *msg, size_t msglen) MUST_CHECK;

#endif
