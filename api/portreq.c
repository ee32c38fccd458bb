/*
 * portreq — see portreq.h.
 */
#include "portreq.h"
#include "query.h"

#include <json-c/json.h>
#include <stdio.h>
#include <string.h>

static int pr_fail(const char **field, const char *name, char *msg, size_t msglen, const char *why)
{
    *field = name;
    snprintf(msg, msglen, "%s %s", name, why);
    return -1;
}

/* The body as one JSON object, nothing after it; NULL (with the reason
 * given) otherwise. The caller puts the object. */
static struct json_object *pr_object(const char *body, size_t len, const char **field, char *msg,
                                     size_t msglen)
{
    struct json_object *o = NULL;
    if (body == NULL || len == 0 || strlen(body) != len) {
        pr_fail(field, "body", msg, msglen, "must be a JSON object");
        return NULL;
    }
    struct json_tokener *tok = json_tokener_new();
    if (tok == NULL) {
        pr_fail(field, "body", msg, msglen, "could not be read");
        return NULL;
    }
    o = json_tokener_parse_ex(tok, body, (int)len);
    int trailing = o != NULL && tok->char_offset < (int)len &&
                   strspn(body + tok->char_offset, " \t\r\n") != len - (size_t)tok->char_offset;
    json_tokener_free(tok);
    if (o == NULL || trailing || !json_object_is_type(o, json_type_object)) {
        json_object_put(o);
        pr_fail(field, "body", msg, msglen, "must be a JSON object");
        return NULL;
    }
    return o;
}

/* -1 (after naming it) when o has a key not in keys. */
static int pr_known_keys(struct json_object *o, const char *const *keys, size_t n,
                         const char **field, char *msg, size_t msglen)
{
    json_object_object_foreach(o, key, val)
    {
        (void)val;
        int known = 0;
        for (size_t i = 0; i < n; i++)
            known |= strcmp(key, keys[i]) == 0;
        if (!known) {
            *field = "body";
            snprintf(msg, msglen, "body has an unknown field '%.40s'", key);
            return -1;
        }
    }
    return 0;
}

int portreq_currency(const char *s)
{
    return s != NULL && strlen(s) == 3 && strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZ") == 3;
}

int portreq_utf8(const char *s, size_t len, size_t *chars)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t n = 0, i = 0;
    while (i < len) {
        unsigned c = p[i];
        int extra = c == 0               ? -1
                    : c < 0x80           ? 0
                    : (c & 0xE0) == 0xC0 ? 1
                    : (c & 0xF0) == 0xE0 ? 2
                    : (c & 0xF8) == 0xF0 ? 3
                                         : -1;
        if (extra < 0 || (extra == 1 && c < 0xC2) || (extra == 3 && c > 0xF4) ||
            len - i <= (size_t)extra)
            return -1;
        unsigned cp = extra == 0 ? c : c & (0x3Fu >> extra);
        for (int k = 1; k <= extra; k++) {
            if ((p[i + (size_t)k] & 0xC0) != 0x80)
                return -1;
            cp = (cp << 6) | (p[i + (size_t)k] & 0x3Fu);
        }
        if ((extra == 2 && (cp < 0x800 || (cp >= 0xD800 && cp <= 0xDFFF))) ||
            (extra == 3 && (cp < 0x10000 || cp > 0x10FFFF)))
            return -1;
        i += (size_t)extra + 1;
        n++;
    }
    if (chars != NULL)
        *chars = n;
    return 0;
}

int portreq_decimal(const char *s, char *out, char *msg, size_t msglen)
{
    static const char rule[] =
        "must be a plain decimal number >= 0 (digits, optional '.', up to 10 decimals, "
        "no sign or exponent)";
    size_t n = s != NULL ? strlen(s) : 0;
    size_t ip = s != NULL ? strspn(s, "0123456789") : 0;
    if (n == 0 || ip == 0 || n >= PORTREQ_DECIMAL_MAX) {
        snprintf(msg, msglen, "%s", rule);
        return -1;
    }
    size_t fp = 0;
    if (s[ip] == '.') {
        fp = strspn(s + ip + 1, "0123456789");
        if (fp == 0 || ip + 1 + fp != n) {
            snprintf(msg, msglen, "%s", rule);
            return -1;
        }
    } else if (ip != n) {
        snprintf(msg, msglen, "%s", rule);
        return -1;
    }
    if (fp > 10) {
        snprintf(msg, msglen, "has more than 10 decimals");
        return -1;
    }
    /* leading zeros: "007" is 7, "0.5" stays */
    size_t skip = 0;
    while (skip + 1 < ip && s[skip] == '0')
        skip++;
    if (ip - skip > 20) {
        snprintf(msg, msglen, "is too large (at most 20 digits before the decimal point)");
        return -1;
    }
    memcpy(out, s + skip, n - skip);
    out[n - skip] = '\0';
    return 0;
}

int portreq_id(const char *seg, long long *id)
{
    int64_t v;
    char msg[64];
    if (seg == NULL || seg[0] == '\0' ||
        query_uint(seg, 1, INT64_MAX, 0, &v, msg, sizeof msg) != QUERY_OK)
        return -1;
    *id = (long long)v;
    return 0;
}

/* An amount: a JSON number written as a plain decimal, or a string
 * holding one. */
static int pr_amount(struct json_object *v, const char *name, char *out, const char **field,
                     char *msg, size_t msglen)
{
    char why[128];
    const char *text = NULL;
    if (json_object_is_type(v, json_type_string))
        text = json_object_get_string(v);
    else if (json_object_is_type(v, json_type_int) || json_object_is_type(v, json_type_double))
        text = json_object_to_json_string_ext(v, JSON_C_TO_STRING_PLAIN);
    if (text == NULL)
        return pr_fail(field, name, msg, msglen, "must be a number");
    if (portreq_decimal(text, out, why, sizeof why) != 0)
        return pr_fail(field, name, msg, msglen, why);
    return 0;
}

int portreq_portfolio(const char *body, size_t len, int create, struct portfolio_req *out,
                      const char **field, char *msg, size_t msglen)
{
    static const char *const keys[] = {"name", "currency"};
    int rc = -1;
    struct json_object *v;
    memset(out, 0, sizeof *out);
    struct json_object *o = pr_object(body, len, field, msg, msglen);
    if (o == NULL)
        return -1;
    if (pr_known_keys(o, keys, ARRAY_LEN(keys), field, msg, msglen) != 0)
        goto out;
    if (json_object_object_get_ex(o, "name", &v)) {
        size_t chars = 0;
        char why[96];
        int present;
        if (!json_object_is_type(v, json_type_string)) {
            pr_fail(field, "name", msg, msglen, "must be a string");
            goto out;
        }
        const char *s = json_object_get_string(v);
        if (strlen(s) >= sizeof out->name || portreq_utf8(s, strlen(s), &chars) != 0 ||
            chars > PORTREQ_NAME_MAX ||
            query_text(s, sizeof out->name - 1, &present, why, sizeof why) != QUERY_OK ||
            strspn(s, " ") == strlen(s)) {
            pr_fail(field, "name", msg, msglen,
                    "must be 1 to 100 characters of UTF-8 text, not only spaces, no control "
                    "characters");
            goto out;
        }
        util_strlcpy(out->name, s, sizeof out->name);
        out->has_name = 1;
    } else if (create) {
        pr_fail(field, "name", msg, msglen, "is required");
        goto out;
    }
    if (json_object_object_get_ex(o, "currency", &v)) {
        if (!json_object_is_type(v, json_type_string) ||
            !portreq_currency(json_object_get_string(v))) {
            pr_fail(field, "currency", msg, msglen,
                    "must be a three-letter upper-case ISO 4217 code");
            goto out;
        }
        util_strlcpy(out->currency, json_object_get_string(v), sizeof out->currency);
        out->has_currency = 1;
    } else if (create) {
        util_strlcpy(out->currency, "USD", sizeof out->currency);
        out->has_currency = 1;
    }
    if (!out->has_name && !out->has_currency) {
        pr_fail(field, "body", msg, msglen, "must change name or currency");
        goto out;
    }
    rc = 0;
out:
    json_object_put(o);
    return rc;
}

int portreq_position(const char *body, size_t len, int create, struct position_req *out,
                     const char **field, char *msg, size_t msglen)
{
    static const char *const create_keys[] = {"symbol", "quantity", "average_buy_price",
                                              "currency"};
    int rc = -1;
    struct json_object *v;
    memset(out, 0, sizeof *out);
    struct json_object *o = pr_object(body, len, field, msg, msglen);
    if (o == NULL)
        return -1;
    /* On update the symbol is the path's: naming it in the body is an
     * unknown field, not a rename. */
    if (pr_known_keys(o, create ? create_keys : create_keys + 1, ARRAY_LEN(create_keys) - !create,
                      field, msg, msglen) != 0)
        goto out;
    if (create) {
        char why[96];
        int present;
        if (!json_object_object_get_ex(o, "symbol", &v)) {
            pr_fail(field, "symbol", msg, msglen, "is required");
            goto out;
        }
        if (!json_object_is_type(v, json_type_string)) {
            pr_fail(field, "symbol", msg, msglen, "must be a string");
            goto out;
        }
        if (query_symbol(json_object_get_string(v), &present, why, sizeof why) != QUERY_OK) {
            pr_fail(field, "symbol", msg, msglen, why);
            goto out;
        }
        util_strlcpy(out->symbol, json_object_get_string(v), sizeof out->symbol);
        out->has_symbol = 1;
    }
    if (json_object_object_get_ex(o, "quantity", &v)) {
        if (pr_amount(v, "quantity", out->quantity, field, msg, msglen) != 0)
            goto out;
        out->has_quantity = 1;
    } else if (create) {
        pr_fail(field, "quantity", msg, msglen, "is required");
        goto out;
    }
    if (json_object_object_get_ex(o, "average_buy_price", &v)) {
        if (pr_amount(v, "average_buy_price", out->price, field, msg, msglen) != 0)
            goto out;
        out->has_price = 1;
    } else if (create) {
        pr_fail(field, "average_buy_price", msg, msglen, "is required");
        goto out;
    }
    if (json_object_object_get_ex(o, "currency", &v)) {
        /* null: the asset's own currency again (update only; on create
         * leaving it out says the same) */
        if (v == NULL && !create) {
            out->has_currency = 1;
        } else if (v == NULL || !json_object_is_type(v, json_type_string) ||
                   !portreq_currency(json_object_get_string(v))) {
            pr_fail(field, "currency", msg, msglen,
                    create ? "must be a three-letter upper-case ISO 4217 code"
                           : "must be a three-letter upper-case ISO 4217 code, or null");
            goto out;
        } else {
            util_strlcpy(out->currency, json_object_get_string(v), sizeof out->currency);
            out->has_currency = 1;
        }
    }
    if (!create && !out->has_quantity && !out->has_price && !out->has_currency) {
        pr_fail(field, "body", msg, msglen, "must change quantity, average_buy_price or currency");
        goto out;
    }
    rc = 0;
out:
    json_object_put(o);
    return rc;
}
