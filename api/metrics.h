/*
 * metrics — fetcher-api's own request counters for /metrics, kept with
 * atomics so recording one costs a few nanoseconds and no lock.
 *
 * Codes are counted by exact status for the ones fetcher-api sends and
 * "other" for the rest (bounded label set). The latency histogram covers
 * every answer except event streams (whose "duration" is how long a
 * dashboard stayed open).
 */
#ifndef FETCHER_API_METRICS_H
#define FETCHER_API_METRICS_H

#include <stddef.h>
#include <stdint.h>

/* Records one finished request: its status and how long it took. */
void metrics_record(unsigned status, int64_t duration_us, int count_latency);

/* Appends the Prometheus text of the request counters and the latency
 * histogram to buf at *len (buflen bytes in all; stops when full). */
void metrics_format_requests(char *buf, size_t buflen, size_t *len);

/* Like snprintf at buf + *len, advancing *len; never past buflen. */
void metrics_appendf(char *buf, size_t buflen, size_t *len, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

#endif
