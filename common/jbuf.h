/*
 * jbuf — writes JSON text straight into a growable buffer. The daemon's
 * one way to write batches and large documents (a cycle's rows, log rows,
 * a heartbeat), where building a json-c tree first would cost an
 * allocation per value, and where one invalid byte from upstream must not
 * make PostgreSQL refuse the whole batch. Small documents (a log row's
 * context, an event) are json-c trees; json-c remains the reader.
 *
 * Commas are placed by the builder: callers only open, key and close. Out of
 * memory is sticky (jbuf_ok() says so at the end), so call sites need not
 * check every append.
 */
#ifndef FETCHER_JBUF_H
#define FETCHER_JBUF_H

#include "util.h"

#include <json-c/json.h>
#include <stddef.h>
#include <stdint.h>

#define JBUF_MAX_DEPTH 16

struct jbuf {
    char *p;
    size_t len, cap;
    int oom;
    int depth;
    unsigned char first[JBUF_MAX_DEPTH]; /* no element yet at this depth */
    int after_key;
};

void jbuf_init(struct jbuf *b);
/* Frees the text. */
void jbuf_free(struct jbuf *b);
/* The NUL-terminated text, or NULL when out of memory. Still owned by b. */
const char *jbuf_text(const struct jbuf *b);
/* Hands the text to the caller (free()) and resets b. NULL when OOM. */
char *jbuf_take(struct jbuf *b);
int jbuf_ok(const struct jbuf *b);

void jbuf_obj(struct jbuf *b);
void jbuf_obj_end(struct jbuf *b);
void jbuf_arr(struct jbuf *b);
void jbuf_arr_end(struct jbuf *b);
void jbuf_key(struct jbuf *b, const char *key);

/* Escapes control characters, quotes and backslashes; invalid UTF-8 bytes
 * become U+FFFD so the output is always valid JSON. NULL writes null. */
void jbuf_str(struct jbuf *b, const char *s);
void jbuf_int(struct jbuf *b, int64_t v);
/* Non-finite values write null (JSON has no NaN). */
void jbuf_num(struct jbuf *b, double v);
void jbuf_bool(struct jbuf *b, int v);
void jbuf_null(struct jbuf *b);
/* Appends already-valid JSON text as one value. */
void jbuf_raw(struct jbuf *b, const char *json);
/* Typed values for writing a struct's members from a table. */
enum jbuf_type {
    JBUF_INT,         /* int64_t */
    JBUF_INT_OR_NULL, /* int64_t, 0 writes null */
    JBUF_NUM,         /* double */
    JBUF_BOOL,        /* int */
    JBUF_STR,         /* const char *, NULL writes null */
    JBUF_TIME,        /* int64_t wall-clock ms as ISO-8601 UTC, 0 writes null */
};
/* Writes the value of type t that p points to. */
void jbuf_typed(struct jbuf *b, enum jbuf_type t, const void *p);

struct jbuf_field {
    const char *name;
    enum jbuf_type type;
    size_t offset; /* of the member in the struct */
};
/* Writes "name": value for each of fields[0, n), the values read from the
 * struct at s, into the open object. */
void jbuf_fields(struct jbuf *b, const struct jbuf_field *fields, size_t n, const void *s);

/* Writes a json-c value (borrowed) as one value: strings as jbuf_str
 * writes them, numbers as json-c prints them. NULL writes null. */
void jbuf_json(struct jbuf *b, json_object *v);

#endif
