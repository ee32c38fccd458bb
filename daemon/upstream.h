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
 * chart behind its spark batch; see provider.h) gets such a request, from
 * the queue, for each key its batch answer lacks (or gives no usable price
 * for), and for each key of a batch whose 200 or 4xx answer is JSON of a
 * shape we cannot read. Never for a refusal (401/403, an HTML, empty or
 * non-JSON 200): that is the provider's state, not a symbol's, and the
 * keys fail with `refused` set so the queue pauses the provider. Nor for
 * transient failures (429, 5xx, timeouts): the queue retries those.
 *
 * History: a QREQ_HISTORY batch (one key) is the provider's history
 * request. Its series goes to the history sink before the queue hears of
 * the key (so the sink has it when the key's waiter runs); the key's quote
 * says only whether it came (the newest close) or why not.
 *
 * A batch whose URL would exceed PROVIDER_URL_MAX carries as many keys as
 * fit; the rest go back to the queue for the next request.
 */
#ifndef FETCHER_UPSTREAM_H
#define FETCHER_UPSTREAM_H

#include "config.h"
#include "fetch.h"
#include "history.h"
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

/* Receives a history answer's series (taken over: the sink frees it) for
 * provider:symbol; runs inside the transport, before the key's waiters. */
typedef void (*upstream_history_cb)(const char *provider, const char *symbol,
                                    struct history_series *s, void *cls);
/* Where history series go (NULL: they are dropped). */
void upstream_set_history_sink(struct upstream *u, upstream_history_cb cb, void *cls);

struct upstream_counters {
    uint64_t requests;          /* every HTTP request started: batch + fallback + history */
    uint64_t history_requests;  /* of which history (backfill) requests */
    uint64_t fallback_requests; /* of which single-symbol fallback requests */
    uint64_t fallback_keys;     /* keys a batch answer lacked */
    uint64_t refused;           /* answers that were refusals */
};

/* Whether an HTTP answer is the provider refusing us rather than data: 401,
 * 403, or a 200 that is HTML (a consent or block page), empty, or text that
 * is not JSON. Returns 1 with the reason in why, else 0. (Also used by
 * `fetcherd check`.) A 200 that looks like JSON but does not parse is a
 * refusal too; the transport finds that out when it parses. */
int upstream_refusal(const struct fetch_response *r, char *why, size_t whylen);

void upstream_get_counters(const struct upstream *u, struct upstream_counters *out);

#endif
