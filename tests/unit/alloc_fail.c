/*
 * alloc_fail — see alloc_fail.h. The __real_ functions are the library's
 * (the sanitizer's allocator in the ASan build), so what is allocated here
 * is freed by the ordinary free().
 */
#include "alloc_fail.h"

#include <json-c/json.h>
#include <string.h>

static long af_count, af_nth;
static int af_armed, af_hit;
static const char *af_only; /* count only this function's calls; NULL: all */

void af_arm_only(const char *fn, long nth)
{
    af_arm(nth);
    af_only = fn;
}

void af_arm(long nth)
{
    af_only = NULL;
    af_count = 0;
    af_nth = nth;
    af_hit = 0;
    af_armed = 1;
}

long af_disarm(void)
{
    af_armed = 0;
    return af_count;
}

int af_failed(void)
{
    return af_hit;
}

/* 1 when this allocation (a call of fn) is the one to fail. */
static int af_fail_now(const char *fn)
{
    if (!af_armed || (af_only != NULL && strcmp(fn, af_only) != 0))
        return 0;
    af_count++;
    if (af_count == af_nth) {
        af_hit = 1;
        return 1;
    }
    return 0;
}

void *__real_malloc(size_t n);
void *__real_calloc(size_t n, size_t size);
void *__real_realloc(void *p, size_t n);
void *__wrap_malloc(size_t n);
void *__wrap_calloc(size_t n, size_t size);
void *__wrap_realloc(void *p, size_t n);
char *__wrap_strdup(const char *s);
char *__wrap_strndup(const char *s, size_t max);

void *__wrap_malloc(size_t n)
{
    return af_fail_now("malloc") ? NULL : __real_malloc(n);
}

void *__wrap_calloc(size_t n, size_t size)
{
    return af_fail_now("calloc") ? NULL : __real_calloc(n, size);
}

void *__wrap_realloc(void *p, size_t n)
{
    return af_fail_now("realloc") ? NULL : __real_realloc(p, n);
}

char *__wrap_strdup(const char *s)
{
    size_t n = strlen(s) + 1;
    char *p = af_fail_now("strdup") ? NULL : __real_malloc(n);
    if (p != NULL)
        memcpy(p, s, n);
    return p;
}

char *__wrap_strndup(const char *s, size_t max)
{
    size_t n = strnlen(s, max);
    char *p = af_fail_now("strndup") ? NULL : __real_malloc(n + 1);
    if (p != NULL) {
        memcpy(p, s, n);
        p[n] = '\0';
    }
    return p;
}

/* ---- json-c's allocating calls ------------------------------------------ */

struct json_tokener *__real_json_tokener_new(void);
struct json_tokener *__real_json_tokener_new_ex(int depth);
struct json_object *__real_json_tokener_parse(const char *str);
struct json_object *__real_json_tokener_parse_ex(struct json_tokener *tok, const char *str,
                                                 int len);
const char *__real_json_object_to_json_string_ext(struct json_object *obj, int flags);
struct json_tokener *__wrap_json_tokener_new(void);
struct json_tokener *__wrap_json_tokener_new_ex(int depth);
struct json_object *__wrap_json_tokener_parse(const char *str);
struct json_object *__wrap_json_tokener_parse_ex(struct json_tokener *tok, const char *str,
                                                 int len);
const char *__wrap_json_object_to_json_string_ext(struct json_object *obj, int flags);

struct json_tokener *__wrap_json_tokener_new(void)
{
    return af_fail_now("json_tokener_new") ? NULL : __real_json_tokener_new();
}

struct json_tokener *__wrap_json_tokener_new_ex(int depth)
{
    return af_fail_now("json_tokener_new_ex") ? NULL : __real_json_tokener_new_ex(depth);
}

struct json_object *__wrap_json_tokener_parse(const char *str)
{
    return af_fail_now("json_tokener_parse") ? NULL : __real_json_tokener_parse(str);
}

/* As json-c 0.16 fails: NULL, and the error still "success". */
struct json_object *__wrap_json_tokener_parse_ex(struct json_tokener *tok, const char *str, int len)
{
    if (af_fail_now("json_tokener_parse_ex")) {
        json_tokener_reset(tok);
        return NULL;
    }
    return __real_json_tokener_parse_ex(tok, str, len);
}

const char *__wrap_json_object_to_json_string_ext(struct json_object *obj, int flags)
{
    return af_fail_now("json_object_to_json_string_ext")
               ? NULL
               : __real_json_object_to_json_string_ext(obj, flags);
}
