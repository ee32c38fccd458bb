/*
 * history — a symbol's daily closes as a provider's history request
 * answered them (a backfill): one close per market day, oldest first, in
 * the currency the answer names (a minor unit such as "GBp" is converted
 * to the major one by history_to_major(), as validate.c does for prices).
 *
 * What it is not: it fetches and stores nothing. providers/<name>.c fill
 * it (history_parse), upstream.c hands it on, backfill.c writes it.
 */
#ifndef FETCHER_HISTORY_H
#define FETCHER_HISTORY_H

#include "util.h"

#include <stddef.h>
#include <stdint.h>

/* More than 10 years of trading days, or 5 of calendar days: the most a
 * backfill keeps of one answer (the newest). */
#define HISTORY_MAX_POINTS 4000

struct history_point {
    int32_t day;        /* the market's date, days since 1970-01-01 */
    int64_t price_time; /* when the close was the price, unix seconds */
    double close;
};

struct history_series {
    char currency[8];
    char quoted_currency[8]; /* "GBp" when converted; "" otherwise */
    size_t n, cap;
    size_t nulls; /* points the answer had without a close (skipped) */
    struct history_point *p;
};

/* A new empty series, or NULL. */
struct history_series *history_new(void);
/* NULL is a no-op. */
void history_free(struct history_series *s);
/* Appends a close for day, replacing the last point when it is the same
 * day (the later answer wins: a series is oldest first). Beyond
 * HISTORY_MAX_POINTS the oldest point goes. Returns 0 or -1 (out of
 * memory). */
int history_push(struct history_series *s, int32_t day, int64_t price_time,
                 double close) MUST_CHECK;
/* Converts a minor-unit series ("GBp", "GBX", "ZAc", "ILA", "USX") to its
 * major unit, dividing every close by 100 and keeping the code in
 * quoted_currency. */
void history_to_major(struct history_series *s);
/* Days since 1970-01-01 of unix second t shifted by offset_s (the
 * exchange's UTC offset). */
int32_t history_day(int64_t t, int64_t offset_s);
/* "YYYY-MM-DD" of day into out (at least 11 bytes). */
void history_fmt_day(int32_t day, char *out, size_t outlen);

#endif
