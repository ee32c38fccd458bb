/*
 * jbuf — see jbuf.h.
 */
#include "jbuf.h"
#include "log.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void jbuf_init(struct jbuf *b)
{
    memset(b, 0, sizeof *b);
    b->first[0] = 1;
}

void jbuf_free(struct jbuf *b)
{
    free(b->p);
    jbuf_init(b);
}

const char *jbuf_text(const struct jbuf *b)
{
    return b->oom ? NULL : (b->p ? b->p : "");
}

char *jbuf_take(struct jbuf *b)
{
    char *p = b->oom ? NULL : b->p;
    if (p == NULL && !b->oom)
        p = calloc(1, 1);
    if (b->oom)
        free(b->p);
    jbuf_init(b);
    return p;
}

int jbuf_ok(const struct jbuf *b)
{
    return !b->oom;
}

static void jb_put(struct jbuf *b, const char *s, size_t n)
{
    if (b->oom)
        return;
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 256;
        while (cap < b->len + n + 1)
            cap *= 2;
        char *p = realloc(b->p, cap);
        if (p == NULL) {
            b->oom = 1;
            return;
        }
        b->p = p;
        b->cap = cap;
    }
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = '\0';
}

/* Before any value: a comma unless it is the first at this depth (or it
 * follows a key, which placed its own comma). */
static void jb_sep(struct jbuf *b)
{
    if (b->after_key) {
        b->after_key = 0;
        return;
    }
    if (!b->first[b->depth])
        jb_put(b, ",", 1);
    b->first[b->depth] = 0;
}

static void jb_open(struct jbuf *b, char c)
{
    jb_sep(b);
    jb_put(b, &c, 1);
    /* Deeper than any document we write: our bug. The document is unusable
     * all the same, so it fails like one that ran out of memory, after the
     * CRITICAL line that says what it really was. */
    if (FETCHER_ASSERT(b->depth + 1 < JBUF_MAX_DEPTH))
        b->depth++;
    else
        b->oom = 1;
    b->first[b->depth] = 1;
}

static void jb_close(struct jbuf *b, char c)
{
    /* a close without its open is our bug: the document is unusable */
    if (!FETCHER_ASSERT(b->depth > 0)) {
        b->oom = 1;
        return;
    }
    jb_put(b, &c, 1);
    b->depth--;
}

void jbuf_obj(struct jbuf *b)
{
    jb_open(b, '{');
}

void jbuf_obj_end(struct jbuf *b)
{
    jb_close(b, '}');
}

void jbuf_arr(struct jbuf *b)
{
    jb_open(b, '[');
}

void jbuf_arr_end(struct jbuf *b)
{
    jb_close(b, ']');
}

/* Length of the valid UTF-8 sequence at s, or 0 if it is not one. */
static size_t jb_utf8_len(const unsigned char *s)
{
    if (s[0] < 0x80)
        return 1;
    size_t n;
    uint32_t cp;
    if ((s[0] & 0xE0) == 0xC0) {
        n = 2;
        cp = s[0] & 0x1F;
    } else if ((s[0] & 0xF0) == 0xE0) {
        n = 3;
        cp = s[0] & 0x0F;
    } else if ((s[0] & 0xF8) == 0xF0) {
        n = 4;
        cp = s[0] & 0x07;
    } else {
        return 0;
    }
    for (size_t i = 1; i < n; i++) {
        if ((s[i] & 0xC0) != 0x80)
            return 0;
        cp = (cp << 6) | (s[i] & 0x3F);
    }
    /* overlong forms, surrogates and values past U+10FFFF are invalid */
    if ((n == 2 && cp < 0x80) || (n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) ||
        (cp >= 0xD800 && cp <= 0xDFFF) || cp > 0x10FFFF)
        return 0;
    return n;
}

static void jb_put_escaped(struct jbuf *b, const char *s)
{
    jb_put(b, "\"", 1);
    const unsigned char *p = (const unsigned char *)s;
    while (*p) {
        const unsigned char *run = p;
        while (*p >= 0x20 && *p < 0x80 && *p != '"' && *p != '\\')
            p++;
        jb_put(b, (const char *)run, (size_t)(p - run));
        if (*p == '\0')
            break;
        char esc[8];
        if (*p == '"' || *p == '\\') {
            esc[0] = '\\';
            esc[1] = (char)*p;
            jb_put(b, esc, 2);
            p++;
        } else if (*p < 0x20) {
            snprintf(esc, sizeof esc, "\\u%04x", *p);
            jb_put(b, esc, 6);
            p++;
        } else {
            size_t n = jb_utf8_len(p);
            if (n == 0) {
                jb_put(b, "\\ufffd", 6);
                p++;
            } else {
                jb_put(b, (const char *)p, n);
                p += n;
            }
        }
    }
    jb_put(b, "\"", 1);
}

void jbuf_key(struct jbuf *b, const char *key)
{
    jb_sep(b);
    jb_put_escaped(b, key);
    jb_put(b, ":", 1);
    b->after_key = 1;
}

void jbuf_str(struct jbuf *b, const char *s)
{
    if (s == NULL) {
        jbuf_null(b);
        return;
    }
    jb_sep(b);
    jb_put_escaped(b, s);
}

void jbuf_int(struct jbuf *b, int64_t v)
{
    char t[24];
    int n = snprintf(t, sizeof t, "%lld", (long long)v);
    jb_sep(b);
    jb_put(b, t, (size_t)n);
}

void jbuf_num(struct jbuf *b, double v)
{
    if (!isfinite(v)) {
        jbuf_null(b);
        return;
    }
    char t[40];
    /* 15 significant digits: exact for every decimal a price is quoted in,
     * without the …0000001 tails of %.17g. Within ~1e-15 of DBL_MAX they
     * round up to a number that reads back as infinity (found by fuzzing);
     * there 17 digits are used. */
    int n = snprintf(t, sizeof t, "%.15g", v);
    if (!isfinite(strtod(t, NULL)))
        n = snprintf(t, sizeof t, "%.17g", v);
    jb_sep(b);
    jb_put(b, t, (size_t)n);
}

void jbuf_bool(struct jbuf *b, int v)
{
    jb_sep(b);
    jb_put(b, v ? "true" : "false", v ? 4 : 5);
}

void jbuf_null(struct jbuf *b)
{
    jb_sep(b);
    jb_put(b, "null", 4);
}

void jbuf_raw(struct jbuf *b, const char *json)
{
    jb_sep(b);
    jb_put(b, json, strlen(json));
}

void jbuf_typed(struct jbuf *b, enum jbuf_type t, const void *p)
{
    switch (t) {
    case JBUF_INT:
        jbuf_int(b, *(const int64_t *)p);
        break;
    case JBUF_INT_OR_NULL:
        if (*(const int64_t *)p != 0)
            jbuf_int(b, *(const int64_t *)p);
        else
            jbuf_null(b);
        break;
    case JBUF_NUM:
        jbuf_num(b, *(const double *)p);
        break;
    case JBUF_BOOL:
        jbuf_bool(b, *(const int *)p);
        break;
    case JBUF_STR:
        jbuf_str(b, *(const char *const *)p);
        break;
    case JBUF_TIME: {
        int64_t ms = *(const int64_t *)p;
        char text[32];
        if (ms != 0) {
            util_fmt_time(ms, text, sizeof text);
            jbuf_str(b, text);
        } else {
            jbuf_null(b);
        }
        break;
    }
    }
}

void jbuf_fields(struct jbuf *b, const struct jbuf_field *fields, size_t n, const void *s)
{
    for (size_t i = 0; i < n; i++) {
        jbuf_key(b, fields[i].name);
        jbuf_typed(b, fields[i].type, (const char *)s + fields[i].offset);
    }
}

void jbuf_json(struct jbuf *b, json_object *v)
{
    switch (json_object_get_type(v)) {
    case json_type_null:
        jbuf_null(b);
        break;
    case json_type_boolean:
        jbuf_bool(b, json_object_get_boolean(v));
        break;
    case json_type_int:
    case json_type_double: {
        /* json-c's own text: the number a json-c writer would have stored;
         * NULL when json-c ran out of memory printing it */
        const char *text = json_object_to_json_string_ext(v, JSON_C_TO_STRING_PLAIN);
        if (text != NULL)
            jbuf_raw(b, text);
        else
            b->oom = 1;
        break;
    }
    case json_type_string:
        jbuf_str(b, json_object_get_string(v));
        break;
    case json_type_object: {
        jbuf_obj(b);
        json_object_object_foreach(v, key, val)
        {
            jbuf_key(b, key);
            jbuf_json(b, val);
        }
        jbuf_obj_end(b);
        break;
    }
    case json_type_array:
        jbuf_arr(b);
        for (size_t i = 0; i < json_object_array_length(v); i++)
            jbuf_json(b, json_object_array_get_idx(v, i));
        jbuf_arr_end(b);
        break;
    }
}
