/*
 * fuzz_jbuf — the JSON writer's escaping. The input is split at NUL bytes
 * into strings (C strings cannot hold a NUL); each goes through jbuf_key
 * and jbuf_str inside an object and an array, beside integers, numbers,
 * booleans and nulls taken from the input's bytes.
 *
 * Checked: the text jbuf writes always parses with json-c (strictly, with
 * UTF-8 validation on); every string whose bytes are valid UTF-8 comes back
 * exactly; an invalid one comes back as the same text with each invalid
 * byte replaced by U+FFFD (checked against an independent decoder below);
 * integers come back exactly; non-finite numbers become null.
 */
#include "jbuf.h"

#include <json-c/json.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* Independent of jbuf.c: the length of the valid UTF-8 sequence at s
 * (RFC 3629: no overlongs, no surrogates, nothing past U+10FFFF), or 0. */
static size_t seq_len(const unsigned char *s, size_t left)
{
    unsigned c = s[0];
    if (c < 0x80)
        return 1;
    size_t n;
    unsigned lo = 0x80, hi = 0xBF;
    if (c >= 0xC2 && c <= 0xDF)
        n = 2;
    else if (c >= 0xE0 && c <= 0xEF) {
        n = 3;
        if (c == 0xE0)
            lo = 0xA0;
        if (c == 0xED)
            hi = 0x9F;
    } else if (c >= 0xF0 && c <= 0xF4) {
        n = 4;
        if (c == 0xF0)
            lo = 0x90;
        if (c == 0xF4)
            hi = 0x8F;
    } else
        return 0;
    if (left < n)
        return 0;
    if (s[1] < lo || s[1] > hi)
        return 0;
    for (size_t i = 2; i < n; i++)
        if (s[i] < 0x80 || s[i] > 0xBF)
            return 0;
    return n;
}

/* What the string should read as after a round trip: invalid bytes → U+FFFD. */
static char *expected_of(const char *s, size_t len)
{
    char *out = malloc(len * 3 + 1);
    size_t o = 0;
    const unsigned char *p = (const unsigned char *)s;
    size_t i = 0;
    while (i < len) {
        size_t n = seq_len(p + i, len - i);
        if (n == 0) {
            memcpy(out + o, "\xEF\xBF\xBD", 3);
            o += 3;
            i++;
        } else {
            memcpy(out + o, p + i, n);
            o += n;
            i += n;
        }
    }
    out[o] = '\0';
    return out;
}

static void expect_string(json_object *v, const char *want)
{
    if (!json_object_is_type(v, json_type_string))
        abort();
    const char *got = json_object_get_string(v);
    size_t glen = (size_t)json_object_get_string_len(v);
    if (glen != strlen(want) || memcmp(got, want, glen) != 0)
        abort();
}

#define MAX_STR 16

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *buf = malloc(size + 1);
    if (buf == NULL)
        return 0;
    memcpy(buf, data, size);
    buf[size] = '\0';
    const char *strs[MAX_STR];
    size_t n = 0;
    for (size_t i = 0; i <= size && n < MAX_STR;) {
        strs[n++] = buf + i;
        i += strlen(buf + i) + 1;
    }
    int64_t iv = 0;
    double dv = 0;
    if (size >= 8) {
        memcpy(&iv, data, 8);
        memcpy(&dv, data + size - 8, 8);
    }

    struct jbuf b;
    jbuf_init(&b);
    jbuf_obj(&b);
    jbuf_key(&b, "strings");
    jbuf_arr(&b);
    for (size_t i = 0; i < n; i++)
        jbuf_str(&b, strs[i]);
    jbuf_str(&b, NULL);
    jbuf_arr_end(&b);
    jbuf_key(&b, "int");
    jbuf_int(&b, iv);
    jbuf_key(&b, "num");
    jbuf_num(&b, dv);
    jbuf_key(&b, "flags");
    jbuf_arr(&b);
    jbuf_bool(&b, size & 1);
    jbuf_null(&b);
    jbuf_obj(&b);
    jbuf_obj_end(&b);
    jbuf_arr_end(&b);
    jbuf_key(&b, "byname");
    jbuf_obj(&b);
    for (size_t i = 0; i < n; i++) {
        jbuf_key(&b, strs[i]);
        jbuf_int(&b, (int64_t)i);
    }
    jbuf_obj_end(&b);
    jbuf_obj_end(&b);
    if (!jbuf_ok(&b))
        abort();
    const char *text = jbuf_text(&b);

    struct json_tokener *tok = json_tokener_new();
    json_tokener_set_flags(tok, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
    json_object *root = json_tokener_parse_ex(tok, text, (int)strlen(text) + 1);
    if (root == NULL || json_tokener_get_error(tok) != json_tokener_success)
        abort(); /* jbuf wrote text that is not JSON */
    json_tokener_free(tok);

    json_object *arr = json_object_object_get(root, "strings");
    if (arr == NULL || json_object_array_length(arr) != n + 1)
        abort();
    for (size_t i = 0; i < n; i++) {
        char *want = expected_of(strs[i], strlen(strs[i]));
        expect_string(json_object_array_get_idx(arr, i), want);
        free(want);
    }
    if (json_object_array_get_idx(arr, n) != NULL)
        abort(); /* NULL → null */
    json_object *jv = json_object_object_get(root, "int");
    if (!json_object_is_type(jv, json_type_int) || json_object_get_int64(jv) != iv)
        abort();
    json_object *nv = NULL;
    if (!json_object_object_get_ex(root, "num", &nv))
        abort();
    if (!isfinite(dv) ? nv != NULL : nv == NULL)
        abort();
    /* %.15g keeps 15 significant digits: the value comes back within that
     * precision, and finite (near DBL_MAX jbuf switches to 17 digits). */
    if (nv != NULL) {
        double back = json_object_get_double(nv);
        if (!isfinite(back) || fabs(back - dv) > fabs(dv) * 1e-14)
            abort();
    }
    /* keys round-trip too (the first of equal keys wins) */
    json_object *byname = json_object_object_get(root, "byname");
    for (size_t i = 0; i < n; i++) {
        char *want = expected_of(strs[i], strlen(strs[i]));
        if (!json_object_object_get_ex(byname, want, NULL))
            abort();
        free(want);
    }
    json_object_put(root);
    jbuf_free(&b);
    free(buf);
    return 0;
}
