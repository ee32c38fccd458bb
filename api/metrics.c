/*
 * metrics — see metrics.h.
 */
#include "metrics.h"
#include "util.h"

#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>

static const unsigned codes[] = {200, 201, 202, 204, 304, 400, 401,
                                 403, 404, 405, 409, 413, 500, 503};
static _Atomic uint64_t by_code[ARRAY_LEN(codes) + 1]; /* last: other */

/* Upper bounds in microseconds; the histogram is cumulative when printed. */
static const int64_t bounds_us[] = {250,   500,   1000,   2500,   5000,   10000,
                                    25000, 50000, 100000, 250000, 500000, 1000000};
static _Atomic uint64_t buckets[ARRAY_LEN(bounds_us) + 1]; /* last: +Inf */
static _Atomic uint64_t sum_us;

void metrics_record(unsigned status, int64_t duration_us, int count_latency)
{
    size_t i = 0;
    while (i < ARRAY_LEN(codes) && codes[i] != status)
        i++;
    atomic_fetch_add_explicit(&by_code[i], 1, memory_order_relaxed);
    if (!count_latency)
        return;
    if (duration_us < 0)
        duration_us = 0;
    size_t b = 0;
    while (b < ARRAY_LEN(bounds_us) && duration_us > bounds_us[b])
        b++;
    atomic_fetch_add_explicit(&buckets[b], 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&sum_us, (uint64_t)duration_us, memory_order_relaxed);
}

void metrics_appendf(char *buf, size_t buflen, size_t *len, const char *fmt, ...)
{
    if (*len >= buflen)
        return;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf + *len, buflen - *len, fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    *len = (size_t)n >= buflen - *len ? buflen : *len + (size_t)n;
}

void metrics_format_requests(char *buf, size_t buflen, size_t *len)
{
    metrics_appendf(buf, buflen, len,
                    "# HELP fetcherd_api_requests_total HTTP requests answered by fetcher-api, "
                    "by status code.\n# TYPE fetcherd_api_requests_total counter\n");
    for (size_t i = 0; i <= ARRAY_LEN(codes); i++) {
        uint64_t v = atomic_load_explicit(&by_code[i], memory_order_relaxed);
        if (i < ARRAY_LEN(codes))
            metrics_appendf(buf, buflen, len, "fetcherd_api_requests_total{code=\"%u\"} %llu\n",
                            codes[i], (unsigned long long)v);
        else
            metrics_appendf(buf, buflen, len, "fetcherd_api_requests_total{code=\"other\"} %llu\n",
                            (unsigned long long)v);
    }
    metrics_appendf(buf, buflen, len,
                    "# HELP fetcherd_api_request_duration_seconds Time from a request's arrival "
                    "to its answer being complete, event streams excluded.\n"
                    "# TYPE fetcherd_api_request_duration_seconds histogram\n");
    uint64_t cum = 0;
    for (size_t b = 0; b <= ARRAY_LEN(bounds_us); b++) {
        cum += atomic_load_explicit(&buckets[b], memory_order_relaxed);
        if (b < ARRAY_LEN(bounds_us))
            metrics_appendf(buf, buflen, len,
                            "fetcherd_api_request_duration_seconds_bucket{le=\"%g\"} %llu\n",
                            (double)bounds_us[b] / 1e6, (unsigned long long)cum);
        else
            metrics_appendf(buf, buflen, len,
                            "fetcherd_api_request_duration_seconds_bucket{le=\"+Inf\"} %llu\n",
                            (unsigned long long)cum);
    }
    metrics_appendf(buf, buflen, len, "fetcherd_api_request_duration_seconds_sum %.6f\n",
                    (double)atomic_load(&sum_us) / 1e6);
    metrics_appendf(buf, buflen, len, "fetcherd_api_request_duration_seconds_count %llu\n",
                    (unsigned long long)cum);
}
