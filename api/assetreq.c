/*
 * assetreq — see assetreq.h.
 */
#include "assetreq.h"
#include "query.h"

#include <json-c/json.h>
#include <stdio.h>
#include <string.h>

static const char *const types[] = {"stock", "etf",  "crypto", "fx",
                                    "bond",  "fund", "index",  "commodity"};
/* The providers fetcherd has for asset prices (fx is for exchange rates). */
static const char *const providers[] = {"yahoo", "coingecko"};
static const char *const fields[] = {"symbol",          "type",    "name", "currency", "provider",
                                     "provider_symbol", "exchange"};

static int fail(const char **field, const char *name, char *msg, size_t msglen, const char *why)
{
    *field = name;
    snprintf(msg, msglen, "%s %s", name, why);
    return -1;
}

/* The string value of key, NULL when absent; -1 when present but not a
 * string. */
static int get_str(struct json_object *o, const char *key, const char **out)
{
    struct json_object *v;
    *out = NULL;
    if (!json_object_object_get_ex(o, key, &v))
        return 0;
    if (!json_object_is_type(v, json_type_string))
        return -1;
    *out = json_object_get_string(v);
    return 0;
}

static int in_list(const char *s, const char *const *list, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(s, list[i]) == 0)
            return 1;
    return 0;
}

/* Whether body is the JSON literal null (json-c's NULL with no error). */
static int ar_is_json_null(const char *body)
{
    const char *p = body + strspn(body, " \t\r\n");
    if (strncmp(p, "null", 4) != 0)
        return 0;
    p += 4;
    return p[strspn(p, " \t\r\n")] == '\0';
}

int assetreq_parse(const char *body, size_t len, struct asset_req *out, const char **field,
                   char *msg, size_t msglen)
{
    int rc = -1;
    struct json_object *o = NULL;
    const char *v[ARRAY_LEN(fields)];
    memset(out, 0, sizeof *out);
    if (body == NULL || len == 0 || strlen(body) != len) {
        fail(field, "body", msg, msglen, "must be a JSON object");
        goto out;
    }
    struct json_tokener *tok = json_tokener_new();
    if (tok == NULL) {
        fail(field, "body", msg, msglen, "could not be read: out of memory");
        rc = -2;
        goto out;
    }
    o = json_tokener_parse_ex(tok, body, (int)len);
    if (o == NULL && json_tokener_get_error(tok) == json_tokener_success &&
        !ar_is_json_null(body)) {
        /* json-c 0.16 reports a failed allocation inside the parser no
         * other way: no value, and no error */
        json_tokener_free(tok);
        fail(field, "body", msg, msglen, "could not be read: out of memory");
        rc = -2;
        goto out;
    }
    /* Trailing bytes after the object ("{}x") are garbage, not ignored. */
    int trailing = o != NULL && tok->char_offset < (int)len &&
                   strspn(body + tok->char_offset, " \t\r\n") != len - (size_t)tok->char_offset;
    json_tokener_free(tok);
    if (o == NULL || trailing || !json_object_is_type(o, json_type_object)) {
        fail(field, "body", msg, msglen, "must be a JSON object");
        goto out;
    }
    json_object_object_foreach(o, key, val)
    {
        (void)val;
        int known = 0;
        for (size_t i = 0; i < ARRAY_LEN(fields); i++)
            known |= strcmp(key, fields[i]) == 0;
        if (!known) {
            *field = "body";
            snprintf(msg, msglen, "body has an unknown field '%.40s'", key);
            goto out;
        }
    }
    for (size_t i = 0; i < ARRAY_LEN(fields); i++)
        if (get_str(o, fields[i], &v[i]) != 0) {
            fail(field, fields[i], msg, msglen, "must be a string");
            goto out;
        }
    const char *symbol = v[0], *type = v[1], *name = v[2], *currency = v[3], *provider = v[4],
               *psym = v[5], *exchange = v[6];
    char why[96];
    int present;
    if (symbol == NULL) {
        fail(field, "symbol", msg, msglen, "is required");
        goto out;
    }
    if (query_symbol(symbol, &present, why, sizeof why) != QUERY_OK) {
        fail(field, "symbol", msg, msglen, why);
        goto out;
    }
    if (type == NULL) {
        fail(field, "type", msg, msglen, "is required");
        goto out;
    }
    if (!in_list(type, types, ARRAY_LEN(types))) {
        fail(field, "type", msg, msglen,
             "must be one of stock, etf, crypto, fx, bond, fund, index, commodity");
        goto out;
    }
    if (name != NULL && query_text(name, sizeof out->name - 1, &present, why, sizeof why) != 0) {
        fail(field, "name", msg, msglen, why);
        goto out;
    }
    if (currency != NULL &&
        (strlen(currency) != 3 || strspn(currency, "ABCDEFGHIJKLMNOPQRSTUVWXYZ") != 3)) {
        fail(field, "currency", msg, msglen, "must be a three-letter upper-case ISO 4217 code");
        goto out;
    }
    if (provider == NULL) {
        if (strcmp(type, "crypto") == 0)
            provider = "coingecko";
        else if (in_list(type, (const char *const[]){"stock", "etf", "index", "fund"}, 4))
            provider = "yahoo";
        else {
            fail(field, "provider", msg, msglen, "is required for this type");
            goto out;
        }
    }
    if (!in_list(provider, providers, ARRAY_LEN(providers))) {
        fail(field, "provider", msg, msglen, "must be one of yahoo, coingecko");
        goto out;
    }
    if (psym != NULL &&
        (psym[0] == '\0' || strlen(psym) > sizeof out->provider_symbol - 1 ||
         strspn(psym, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789.^=_-") !=
             strlen(psym))) {
        fail(field, "provider_symbol", msg, msglen, "must be 1 to 64 of A-Z a-z 0-9 . ^ = _ -");
        goto out;
    }
    if (exchange != NULL &&
        query_text(exchange, sizeof out->exchange - 1, &present, why, sizeof why) != 0) {
        fail(field, "exchange", msg, msglen, why);
        goto out;
    }
    if (exchange != NULL)
        util_strlcpy(out->exchange, exchange, sizeof out->exchange);
    util_strlcpy(out->symbol, symbol, sizeof out->symbol);
    util_strlcpy(out->type, type, sizeof out->type);
    util_strlcpy(out->name, name != NULL ? name : symbol, sizeof out->name);
    util_strlcpy(out->currency, currency != NULL ? currency : "USD", sizeof out->currency);
    util_strlcpy(out->provider, provider, sizeof out->provider);
    if (psym != NULL) {
        util_strlcpy(out->provider_symbol, psym, sizeof out->provider_symbol);
    } else {
        util_strlcpy(out->provider_symbol, symbol, sizeof out->provider_symbol);
        if (strcmp(provider, "coingecko") == 0)
            for (char *p = out->provider_symbol; *p != '\0'; p++)
                if (*p >= 'A' && *p <= 'Z')
                    *p = (char)(*p - 'A' + 'a');
    }
    rc = 0;
out:
    json_object_put(o);
    return rc;
}
