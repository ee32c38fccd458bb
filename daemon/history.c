/*
 * history — see history.h.
 */
#include "history.h"
#include "currency.h"
#include "validate.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct history_series *history_new(void)
{
    return calloc(1, sizeof(struct history_series));
}

void history_free(struct history_series *s)
{
    if (s == NULL)
        return;
    free(s->p);
    free(s);
}

int history_push(struct history_series *s, int32_t day, int64_t price_time, double close)
{
    if (s->n > 0 && s->p[s->n - 1].day == day) {
        s->p[s->n - 1] = (struct history_point){day, price_time, close};
        return 0;
    }
    if (s->n == HISTORY_MAX_POINTS) {
        memmove(s->p, s->p + 1, (s->n - 1) * sizeof *s->p);
        s->n--;
    }
    if (s->n == s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 256;
        if (cap > HISTORY_MAX_POINTS)
            cap = HISTORY_MAX_POINTS;
        struct history_point *np = realloc(s->p, cap * sizeof *np);
        if (np == NULL)
            return -1;
        s->p = np;
        s->cap = cap;
    }
    s->p[s->n++] = (struct history_point){day, price_time, close};
    return 0;
}

void history_to_major(struct history_series *s)
{
    const char *major = currency_major(s->currency);
    if (major == NULL)
        return;
    for (size_t k = 0; k < s->n; k++)
        s->p[k].close /= 100.0;
    util_strlcpy(s->quoted_currency, s->currency, sizeof s->quoted_currency);
    util_strlcpy(s->currency, major, sizeof s->currency);
}

int32_t history_day(int64_t t, int64_t offset_s)
{
    int64_t x = t + offset_s;
    /* floor division: a time before 1970 is a negative day, not day 0 */
    int64_t d = x / 86400;
    if (x % 86400 < 0)
        d--;
    return (int32_t)d;
}

void history_fmt_day(int32_t day, char *out, size_t outlen)
{
    time_t t = (time_t)day * 86400;
    struct tm tm;
    if (gmtime_r(&t, &tm) == NULL) {
        snprintf(out, outlen, "1970-01-01");
        return;
    }
    snprintf(out, outlen, "%04d-%02d-%02d", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday);
}
