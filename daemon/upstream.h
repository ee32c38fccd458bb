/*
 * upstream — the fetch queue's transport in the daemon: for a batch of keys
 * it asks the provider for the URL and headers, sends the request through
 * fetch, checks the HTTP status before parsing anything, lets the provider
 * parse a 200 answer, and reports a quote per key back to the queue.
 *
 * This is where "HTTP 503 from yahoo" and "answer is not JSON" are decided;
 * the queue only sees quotes.
 */
#ifndef FETCHER_UPSTREAM_H
#define FETCHER_UPSTREAM_H

#include "config.h"
#include "fetch.h"
#include "queue.h"

struct upstream;

/* c and f are borrowed and must outlive the upstream. */
struct upstream *upstream_new(struct loop *l, struct fetcher *f, const struct config *c);
/* Cancels in-flight requests without reporting them. NULL ok. */
void upstream_free(struct upstream *u);
/* The transport to give queue_new(); then upstream_attach() the queue. */
struct queue_transport upstream_transport(struct upstream *u);
void upstream_attach(struct upstream *u, struct fetch_queue *q);

#endif
