/*
 * provider — the registry and the JSON helpers every provider shares.
 */
#include "provider.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

extern const struct provider provider_yahoo;
extern const struct provider provider_coingecko;
extern const struct provider provider_fx;
extern const struct provider provider_kraken;
extern const struct provider provider_erapi;
extern const struct provider provider_twelvedata;
extern const struct provider provider_coinbase;
extern const struct provider provider_binance;

/* The registry: one line per provider. */
static const struct provider *const registry[] = {
    &provider_yahoo,      /* stocks, ETFs, indices, futures, pairs */
    &provider_coingecko,  /* crypto */
    &provider_fx,         /* exchange rates (ECB) */
    &provider_kraken,     /* crypto, second source */
    &provider_erapi,      /* exchange rates, second source */
    &provider_twelvedata, /* stocks, second source (with a key) */
    &provider_coinbase,   /* crypto, third source (one pair a request) */
    &provider_binance,    /* crypto, fourth source (USDT pairs) */
};

const struct provider *provider_find(const char *name)
{
    for (size_t i = 0; i < ARRAY_LEN(registry); i++)
        if (strcmp(registry[i]->name, name) == 0)
            return registry[i];
    return NULL;
}

const struct provider *const *provider_all(size_t *n)
{
    *n = ARRAY_LEN(registry);
    return registry;
}

/* Deep enough for every provider's answer; deeper is hostile or broken. */
#define JSON_MAX_DEPTH 24

/* Whether body is the JSON literal null (json-c's NULL with no error). */
static int prv_is_json_null(const char *body, size_t len)
{
    size_t i = 0;
    while (i < len && strchr(" \t\r\n", body[i]) != NULL)
        i++;
    if (len - i < 4 || memcmp(body + i, "null", 4) != 0)
        return 0;
    for (i += 4; i < len; i++)
        if (strchr(" \t\r\n", body[i]) == NULL)
            return 0;
    return 1;
}

json_object *provider_parse_json(const char *body, size_t len, const char *content_type, char *err,
                                 size_t errlen)
{
    json_tokener *tok = json_tokener_new_ex(JSON_MAX_DEPTH);
    if (tok == NULL) {
        snprintf(err, errlen, "%s", PROVIDER_ERR_OOM);
        return NULL;
    }
    json_object *root = NULL;
    if (len > 0 && len < (size_t)INT32_MAX)
        root = json_tokener_parse_ex(tok, body, (int)len);
    enum json_tokener_error jerr = json_tokener_get_error(tok);
    size_t used = json_tokener_get_parse_end(tok);
    json_tokener_free(tok);
    if (root == NULL && jerr == json_tokener_success && len > 0 && !prv_is_json_null(body, len)) {
        /* json-c 0.16 reports a failed allocation inside the parser no
         * other way: no value, and no error. Not the answer's fault. */
        snprintf(err, errlen, "%s", PROVIDER_ERR_OOM);
        return NULL;
    }
    if (root != NULL && jerr == json_tokener_success) {
        /* Anything but white space after the value means it was not one
         * JSON document. */
        for (size_t i = used; i < len; i++) {
            if (body[i] != ' ' && body[i] != '\n' && body[i] != '\r' && body[i] != '\t') {
                json_object_put(root);
                root = NULL;
                break;
            }
        }
        if (root != NULL)
            return root;
    }
    json_object_put(root);
    char snip[64];
    util_snippet(body, len, 48, snip, sizeof snip);
    if (len == 0)
        snprintf(err, errlen, "empty answer");
    else if (jerr == json_tokener_continue)
        snprintf(err, errlen, "answer truncated (JSON ends early)");
    else if (content_type && content_type[0] && strstr(content_type, "json") == NULL)
        snprintf(err, errlen, "answer is not JSON (%.40s): \"%s\"", content_type, snip);
    else
        snprintf(err, errlen, "answer is not valid JSON: \"%s\"", snip);
    return NULL;
}

int provider_number(json_object *o, const char *what, double *out, char *err, size_t errlen)
{
    if (o == NULL || json_object_get_type(o) == json_type_null) {
        snprintf(err, errlen, "%s is missing or null", what);
        return -1;
    }
    enum json_type t = json_object_get_type(o);
    if (t != json_type_double && t != json_type_int) {
        char snip[40];
        const char *s = json_object_to_json_string(o);
        util_snippet(s, strlen(s), 24, snip, sizeof snip);
        snprintf(err, errlen, "%s is not a number: %s", what, snip);
        return -1;
    }
    double v = json_object_get_double(o);
    if (!isfinite(v)) {
        snprintf(err, errlen, "%s is not finite", what);
        return -1;
    }
    *out = v;
    return 0;
}

/* Longer than any price a provider writes; longer is not a price. */
#define DECIMAL_STRING_MAX 40

int provider_decimal_string(json_object *o, const char *what, double *out, char *err, size_t errlen)
{
    if (o == NULL || json_object_get_type(o) == json_type_null) {
        snprintf(err, errlen, "%s is missing or null", what);
        return -1;
    }
    if (!json_object_is_type(o, json_type_string)) {
        char snip[40];
        const char *s = json_object_to_json_string(o);
        util_snippet(s, strlen(s), 24, snip, sizeof snip);
        snprintf(err, errlen, "%s is not a decimal string: %s", what, snip);
        return -1;
    }
    const char *s = json_object_get_string(o);
    size_t len = strlen(s);
    size_t k = (len > 0 && s[0] == '-') ? 1 : 0;
    size_t digits = 0, dots = 0;
    int plain = len > k && len <= DECIMAL_STRING_MAX;
    for (size_t i = k; plain && i < len; i++) {
        if (s[i] >= '0' && s[i] <= '9')
            digits++;
        else if (s[i] == '.' && dots == 0 && digits > 0 && i + 1 < len)
            dots++;
        else
            plain = 0;
    }
    if (!plain || digits == 0) {
        char snip[40];
        util_snippet(s, len, 24, snip, sizeof snip);
        snprintf(err, errlen, "%s is not a decimal: \"%s\"", what, snip);
        return -1;
    }
    char *end = NULL;
    double v = strtod(s, &end);
    if (end == NULL || *end != '\0' || !isfinite(v)) {
        snprintf(err, errlen, "%s is not a finite decimal", what);
        return -1;
    }
    *out = v;
    return 0;
}

json_object *provider_get(json_object *obj, const char *key)
{
    json_object *v = NULL;
    if (obj == NULL || !json_object_is_type(obj, json_type_object))
        return NULL;
    if (!json_object_object_get_ex(obj, key, &v))
        return NULL;
    return v;
}
