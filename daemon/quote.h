/*
 * quote — the result of fetching one symbol: a price or the reason there is
 * none. Shared by the queue (which copies it to every waiter), the providers
 * (which fill it) and the cycle (which records it). Plain data, no pointers,
 * so copying it is always safe.
 */
#ifndef FETCHER_QUOTE_H
#define FETCHER_QUOTE_H

#include <stdint.h>

enum quote_error_kind {
    QUOTE_OK = 0,
    QUOTE_PERMANENT,  /* 4xx, bad answer, unknown symbol: retrying won't help */
    QUOTE_TRANSIENT,  /* 5xx, 429, timeout: may succeed later */
    QUOTE_CONNECTION, /* could not reach the host at all (offline detection) */
    QUOTE_CANCELLED,  /* shutdown */
};

struct quote {
    enum quote_error_kind kind;
    double price;
    char currency[8];
    int64_t price_time; /* upstream timestamp, unix seconds; 0 = unknown */
    int http_status;    /* 0 when no HTTP answer */
    int retry_after_s;  /* from a 429's Retry-After, else 0 */
    char error[200];    /* for people: "HTTP 503 from yahoo", … */
};

#endif
