/*
 * query — strict parsing of query-string values for the REST API. Pure: no
 * MHD, no I/O, no allocation, so every rule is unit-tested in isolation.
 *
 * Each function takes the raw value (NULL = parameter absent) and either
 * fills *out (with the default when absent) or returns QUERY_BAD with a short
 * reason in msg; the caller answers 400 naming the parameter. Lenient parsing
 * ("12abc" → 12, "-1" → huge offset) is what makes APIs lie, so nothing here
 * guesses: digits only, inside the range, or refused.
 *
 * Not here: which parameters an endpoint takes (its handler knows), unknown
 * parameters (ignored by design, so clients may send extras).
 */
#ifndef FETCHER_API_QUERY_H
#define FETCHER_API_QUERY_H

#include "util.h"

#include <stddef.h>
#include <stdint.h>

enum query_result { QUERY_OK = 0, QUERY_BAD = -1 };

/* Longest value accepted at all; longer values are refused before parsing. */
#define QUERY_VALUE_MAX 256

/* Unsigned decimal integer in [min, max] (min >= 0): ASCII digits only, no
 * sign, no spaces, at most 18 digits. Absent → def. */
enum query_result query_uint(const char *val, int64_t min, int64_t max, int64_t def, int64_t *out,
                             char *msg, size_t msglen) MUST_CHECK;

/* Log level, case-insensitive, one of DEBUG INFO WARNING ERROR CRITICAL.
 * Absent → *out = NULL. On success *out is the canonical upper-case name
 * (a static string) and *rank its order (DEBUG = 0 … CRITICAL = 4). */
enum query_result query_level(const char *val, const char **out, int *rank, char *msg,
                              size_t msglen) MUST_CHECK;

/* Boolean: true/false/1/0 (case-insensitive). Absent → *out = -1. */
enum query_result query_bool(const char *val, int *out, char *msg, size_t msglen) MUST_CHECK;

/* RFC 3339 date-time with a mandatory offset ("2026-11-21T05:15:46Z",
 * "2026-11-21T05:15:46.123+01:00"). Absent → *present = 0. On success the
 * value is copied, normalised ('t'/'z' upper-cased), into out (at least
 * 40 bytes) for PostgreSQL to convert; fields are range-checked here so the
 * database never sees a value it would reject. */
enum query_result query_time(const char *val, char *out, size_t outlen, int *present, char *msg,
                             size_t msglen) MUST_CHECK;

/* Free-text filter: 1..max_len bytes, no control characters. Absent →
 * *present = 0. The value is used as is (borrowed). */
enum query_result query_text(const char *val, size_t max_len, int *present, char *msg,
                             size_t msglen) MUST_CHECK;

/* Asset symbol: 1..32 of [A-Za-z0-9.^=_-] (the assets.symbol CHECK). */
enum query_result query_symbol(const char *val, int *present, char *msg, size_t msglen) MUST_CHECK;

#endif
