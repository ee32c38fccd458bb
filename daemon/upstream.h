/*
 * upstream — the fetch queue's transport in the daemon: for a batch of keys
 * it asks the provider for the URL and headers, sends the request through
 * fetch, checks the HTTP status before parsing anything, lets the provider
 * parse a 200 answer, and reports a quote per key back to the queue.
 *
 * This is where "HTTP 503 from yahoo" and "answer is not JSON" are decided;
 * the queue only sees quotes.
 *
 * Fallback: a provider with a second, single-symbol request kind (yahoo's
 * chart behind its spark batch; see provider.h) gets one such request per
 * key its batch answer lacks, or per key of a multi-key batch whose answer
 * was unusable in a way that is not transient; only then is the batch
 * done. The queue counts one request per batch; every request really sent
 * is counted here (and in fetch's fetcher_requests()).
 */
#ifndef FETCHER_UPSTREAM_H
#define FETCHER_UPSTREAM_H

#include "config.h"
#include "fetch.h"
#include "queue.h"

#include <stdint.h>

struct upstream;

/* c and f are borrowed and must outlive the upstream. */
struct upstream *upstream_new(struct loop *l, struct fetcher *f, const struct config *c);
/* Cancels in-flight requests without reporting them. NULL ok. */
void upstream_free(struct upstream *u);
/* The transport to give queue_new(); then upstream_attach() the queue. */
struct queue_transport upstream_transport(struct upstream *u);
void upstream_attach(struct upstream *u, struct fetch_queue *q);

struct upstream_counters {
    uint64_t requests;          /* every HTTP request started: batch + fallback */
    uint64_t fallback_requests; /* of which single-symbol fallback requests */
    uint64_t fallback_keys;     /* keys that needed one */
};

void upstream_get_counters(const struct upstream *u, struct upstream_counters *out);

#endif
