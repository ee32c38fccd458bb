/*
 * searchwire — see searchwire.h.
 */
#include "searchwire.h"
#include "currency.h"

#include <json-c/json.h>
#include <stdio.h>
#include <string.h>

static const char sw_symbol_chars[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789.^=_-";

static struct json_object *sw_parse(const char *body, size_t len, const char *key,
                                    struct json_object **arr, char *why, size_t whylen)
{
    struct json_tokener *tok = json_tokener_new();
    struct json_object *o = NULL;
    *arr = NULL;
    if (tok != NULL && body != NULL && len > 0 && len <= (size_t)INT32_MAX)
        o = json_tokener_parse_ex(tok, body, (int)len);
    json_tokener_free(tok);
    if (o == NULL || !json_object_is_type(o, json_type_object)) {
        snprintf(why, whylen, "the answer is not a JSON object");
        json_object_put(o);
        return NULL;
    }
    if (!json_object_object_get_ex(o, key, arr) || !json_object_is_type(*arr, json_type_array)) {
        snprintf(why, whylen, "the answer has no \"%s\" list", key);
        json_object_put(o);
        *arr = NULL;
        return NULL;
    }
    return o;
}

/* A string member, or NULL when absent or not a string. */
static const char *sw_str(struct json_object *o, const char *key)
{
    struct json_object *v;
    if (!json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_string))
        return NULL;
    return json_object_get_string(v);
}

/* Copies s into dst when it fits and has no control characters; "" else. */
static void sw_text(char *dst, size_t dstlen, const char *s)
{
    dst[0] = '\0';
    if (s == NULL)
        return;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++)
        if (*p < 0x20 || *p == 0x7f)
            return;
    util_strlcpy(dst, s, dstlen);
}

static int sw_symbol_ok(const char *s, size_t max)
{
    size_t n = s != NULL ? strlen(s) : 0;
    return n > 0 && n <= max && strspn(s, sw_symbol_chars) == n;
}

int searchwire_yahoo(const char *body, size_t len, struct search_hit *hits, size_t max, size_t *n,
                     size_t *skipped, char *why, size_t whylen)
{
    static const struct {
        const char *quote_type, *type;
    } kinds[] = {{"EQUITY", "stock"},
                 {"ETF", "etf"},
                 {"MUTUALFUND", "fund"},
                 {"INDEX", "index"},
                 {"FUTURE", "commodity"}};
    struct json_object *quotes;
    *n = 0;
    *skipped = 0;
    struct json_object *o = sw_parse(body, len, "quotes", &quotes, why, whylen);
    if (o == NULL)
        return -1;
    for (size_t i = 0; i < json_object_array_length(quotes); i++) {
        struct json_object *q = json_object_array_get_idx(quotes, i), *v;
        if (!json_object_is_type(q, json_type_object))
            continue;
        /* Entries that are not quotes (people, news topics) say
         * isYahooFinance false and have no symbol. */
        int yf = json_object_object_get_ex(q, "isYahooFinance", &v) &&
                 json_object_is_type(v, json_type_boolean) && json_object_get_boolean(v);
        const char *sym = sw_str(q, "symbol"), *qt = sw_str(q, "quoteType");
        const char *type = NULL;
        for (size_t k = 0; qt != NULL && k < ARRAY_LEN(kinds); k++)
            if (strcmp(qt, kinds[k].quote_type) == 0)
                type = kinds[k].type;
        if (!yf || type == NULL || !sw_symbol_ok(sym, 32) || *n == max) {
            (*skipped)++;
            continue;
        }
        struct search_hit *h = &hits[(*n)++];
        memset(h, 0, sizeof *h);
        util_strlcpy(h->symbol, sym, sizeof h->symbol);
        util_strlcpy(h->provider_symbol, sym, sizeof h->provider_symbol);
        util_strlcpy(h->provider, "yahoo", sizeof h->provider);
        util_strlcpy(h->type, type, sizeof h->type);
        const char *name = sw_str(q, "longname");
        if (name == NULL || name[0] == '\0')
            name = sw_str(q, "shortname");
        sw_text(h->name, sizeof h->name, name);
        if (h->name[0] == '\0')
            util_strlcpy(h->name, sym, sizeof h->name);
        sw_text(h->type_display, sizeof h->type_display, sw_str(q, "typeDisp"));
        const char *ex = sw_str(q, "exchDisp");
        sw_text(h->exchange, sizeof h->exchange, ex != NULL ? ex : sw_str(q, "exchange"));
    }
    json_object_put(o);
    return 0;
}

int searchwire_yahoo_currencies(const char *body, size_t len, struct search_hit *hits, size_t n,
                                char *why, size_t whylen)
{
    struct json_object *spark, *result;
    struct json_tokener *tok = json_tokener_new();
    struct json_object *o = NULL;
    if (tok != NULL && body != NULL && len > 0 && len <= (size_t)INT32_MAX)
        o = json_tokener_parse_ex(tok, body, (int)len);
    json_tokener_free(tok);
    if (o == NULL || !json_object_object_get_ex(o, "spark", &spark) ||
        !json_object_object_get_ex(spark, "result", &result) ||
        !json_object_is_type(result, json_type_array)) {
        snprintf(why, whylen, "the answer is not a spark answer");
        json_object_put(o);
        return -1;
    }
    for (size_t i = 0; i < json_object_array_length(result); i++) {
        struct json_object *e = json_object_array_get_idx(result, i), *resp, *meta;
        const char *sym = sw_str(e, "symbol");
        if (sym == NULL || !json_object_object_get_ex(e, "response", &resp) ||
            !json_object_is_type(resp, json_type_array) || json_object_array_length(resp) < 1 ||
            !json_object_object_get_ex(json_object_array_get_idx(resp, 0), "meta", &meta))
            continue;
        const char *cur = sw_str(meta, "currency");
        const char *major = currency_major(cur);
        if (major != NULL)
            cur = major;
        /* a code assets.currency takes: three upper-case letters */
        if (cur == NULL || strlen(cur) != 3 || strspn(cur, "ABCDEFGHIJKLMNOPQRSTUVWXYZ") != 3)
            continue;
        for (size_t k = 0; k < n; k++)
            if (strcmp(hits[k].provider_symbol, sym) == 0)
                util_strlcpy(hits[k].currency, cur, sizeof hits[k].currency);
    }
    json_object_put(o);
    return 0;
}

int searchwire_coingecko(const char *body, size_t len, struct search_hit *hits, size_t max,
                         size_t *n, size_t *skipped, char *why, size_t whylen)
{
    struct json_object *coins;
    *n = 0;
    *skipped = 0;
    struct json_object *o = sw_parse(body, len, "coins", &coins, why, whylen);
    if (o == NULL)
        return -1;
    for (size_t i = 0; i < json_object_array_length(coins); i++) {
        struct json_object *c = json_object_array_get_idx(coins, i), *v;
        const char *id = sw_str(c, "id"), *sym = sw_str(c, "symbol");
        if (!sw_symbol_ok(id, 64) || !sw_symbol_ok(sym, 32) || *n == max) {
            (*skipped)++;
            continue;
        }
        struct search_hit *h = &hits[(*n)++];
        memset(h, 0, sizeof *h);
        util_strlcpy(h->symbol, sym, sizeof h->symbol);
        for (char *p = h->symbol; *p; p++)
            if (*p >= 'a' && *p <= 'z')
                *p = (char)(*p - 'a' + 'A');
        util_strlcpy(h->provider_symbol, id, sizeof h->provider_symbol);
        util_strlcpy(h->provider, "coingecko", sizeof h->provider);
        util_strlcpy(h->type, "crypto", sizeof h->type);
        util_strlcpy(h->type_display, "Crypto", sizeof h->type_display);
        util_strlcpy(h->currency, "USD", sizeof h->currency);
        sw_text(h->name, sizeof h->name, sw_str(c, "name"));
        if (h->name[0] == '\0')
            util_strlcpy(h->name, h->symbol, sizeof h->name);
        if (json_object_object_get_ex(c, "market_cap_rank", &v) &&
            json_object_is_type(v, json_type_int))
            h->rank = json_object_get_int(v);
    }
    json_object_put(o);
    return 0;
}
