/*
 * queue — the fetch queue: every upstream request of fetcherd goes through
 * it. Keys are "provider:symbol". A key queued or in flight is fetched once,
 * whoever asks for it how often; every waiter receives the same quote (or the
 * same error) exactly once. Higher priority first, FIFO among equals; at most
 * `concurrency` batches in flight in total and per provider; keys of a
 * provider that takes many symbols per request travel together; successes
 * are cached for the TTL the caller asks; transient failures are retried with
 * backoff.
 *
 * What it is not: it knows nothing of HTTP, JSON or SQL. A transport starts
 * each batch (daemon/upstream.c in the daemon, a fake in the unit tests) and
 * reports the per-key quotes back with queue_batch_done().
 *
 * Per provider: a token-bucket rate limit, and a pause when it answers 429
 * (for its Retry-After; without one 30 s, doubling with every 429 in a row
 * up to 30 min) or refuses us (a quote marked `refused`: 401/403, a block
 * page; the same doubling pause, and its waiting keys fail at once with
 * the reason). After a 429 or a refusal one batch at a time goes to that
 * provider until it answers normally, so a blocked provider costs one
 * request per pause.
 *
 * Offline: when every provider asked of late fails at the connection level
 * (QUEUE_OFFLINE_STREAK requests in a row each, nothing reached) the queue
 * goes offline: waiting keys fail at once with that reason, and one request
 * every probe interval (30 s) probes until an answer comes. Asked of late
 * is a request sent within the offline window, probe_ms +
 * QUEUE_OFFLINE_STREAK x request_timeout_ms (75 s by default): the longest
 * one provider's streak of failures can span (each takes at most a
 * request's time limit; after two it is down and the last is its probe, a
 * probe interval later). So a provider asked while another was failing,
 * that connected (or has not answered yet), keeps the queue online: one
 * host's outage is not offline. A provider nobody asks any more (its market
 * closed for the weekend after one history request, a second source used
 * once by failover) leaves the judgement once its last request is older
 * than the window: its old answer says nothing of the network now. The
 * provider whose failure is judged always counts, so offline is never
 * declared on no evidence.
 *
 * Request kinds: a provider may have a single-symbol request besides its
 * batch request (yahoo's chart behind its spark batch). A transport hands a
 * key to it with queue_batch_defer(); the key goes back to pending and is
 * sent alone, under the same priority, rate limit, pause and concurrency as
 * every other request. Nothing reaches upstream around the queue.
 *
 * Failover: queue_submit_chain() asks for one of several keys, in order
 * (yahoo:AAPL, then twelvedata:AAPL). The waiter sits on the first key's
 * entry like any waiter; when that entry ends in a failure (transient after
 * its retries, a refusal, offline, or a permanent "not found"/"not
 * offered"), or in an answer the waiter's accept function refuses (the
 * cycle's: a currency other than the asset's), the waiter moves to the
 * next key's entry instead of hearing of it, and there it dedups, batches,
 * waits for rate limits and hits the cache like any other request. The
 * same happens at once, without waiting for retries, while its provider is
 * paused (429, refusal) or down. Waiters without alternatives keep the
 * behaviour above. Moves are counted per provider, in and out, and from →
 * to (queue_provider_info).
 *
 * Down: a provider whose requests fail as a whole (connection, 5xx, 429,
 * refusal: nothing answered) QUEUE_DOWN_STREAK times in a row is down
 * until a request succeeds. While down, the keys of chain waiters leave it
 * at once, except one key per probe interval, sent as a probe: a dead
 * provider costs one request per interval, not a timeout per asset, and
 * when it answers its assets come back to it from the next cycle on. When
 * the queue comes back from offline, every provider counted down is down
 * no more and is judged again by its next requests: its latest failures
 * were the outage's, and a provider nobody asks (a second source) would
 * otherwise never be probed.
 *
 * History: queue_submit_history() asks for a symbol's daily history (a
 * backfill). Its key is the provider's, apart from the price key of the
 * same symbol (a backfill never answers a price waiter, nor the other
 * way), one symbol a request, under the provider's rate limit, pause and
 * down state like any request, at QPRIO_BACKGROUND. So that a backfill never
 * delays scheduled work, a history request goes out only when its
 * provider has nothing else in flight or waiting, the queue has a free
 * slot besides the one it takes, and a rate-limited provider's bucket is
 * full (it spends a token a scheduled request will find refilled). At
 * most one history request per provider is in flight.
 *
 * Callbacks never run inside queue_submit() or queue_batch_done(): results
 * are delivered from queue_run(), which the daemon calls in the loop's
 * before-sleep step, so a waiter may submit again or free its state freely.
 */
#ifndef FETCHER_QUEUE_H
#define FETCHER_QUEUE_H

#include "quote.h"
#include "util.h"

#include <stddef.h>
#include <stdint.h>

struct fetch_queue;
struct queue_batch;

/* Priorities: an API caller's on-demand refresh beats a manual trigger,
 * which beats the schedule, which beats background work: the cross-check's
 * extra asks (they may wait, the cycle's own prices may not) and a history
 * backfill (more than last: see "History" above). */
enum queue_priority {
    QPRIO_BACKGROUND = 0,
    QPRIO_SCHEDULED = 1,
    QPRIO_MANUAL = 2,
    QPRIO_ON_DEMAND = 3,
    QPRIO_COUNT
};

/* Providers a queue may register. */
#define QUEUE_MAX_PROVIDERS 8

#define QUEUE_KEY_MAX 96

/* Which of a provider's requests a batch is: its batch request, its
 * single-symbol request, or its daily-history request (one symbol). */
enum queue_request_kind { QREQ_BATCH = 0, QREQ_SINGLE = 1, QREQ_HISTORY = 2 };
#define QUEUE_KINDS 3

/* Called once per waiter; q is borrowed for the call only. */
typedef void (*queue_cb)(const struct quote *q, void *cls);

/* Whether a chain waiter takes a successful answer: 1 to take it, or 0
 * with the reason in why (e.g. "currency mismatch: answer in EUR, asset
 * is priced in USD"); a refused answer is a miss of that source, and the
 * waiter moves to its next one exactly as after a failure. Called from
 * queue_run() only, before cb; it must not call into the queue. cls is
 * the waiter's cb argument. */
typedef int (*queue_accept_cb)(const struct quote *q, void *cls, char *why, size_t whylen);

struct queue_transport {
    /* Starts an upstream request for every key of batch. Returns 0 and later
     * calls queue_batch_done() exactly once, or -1 (then the batch fails as
     * a transient error and start is not called again for it). */
    int (*start)(void *ctx, struct queue_batch *b);
    /* Aborts a started batch; the transport must not call
     * queue_batch_done() for it afterwards. */
    void (*cancel)(void *ctx, struct queue_batch *b);
    /* The monotonic clock in ms (the loop's "now"; a fake one in tests). */
    int64_t (*now)(void *ctx);
    void *ctx;
};

struct queue_limits {
    int concurrency;    /* batches in flight, all providers */
    int max_retries;    /* retries of a transient failure */
    int64_t backoff_ms; /* first retry delay; doubles, with jitter */
    int64_t backoff_max_ms;
    int64_t probe_ms;           /* a down provider, or the network offline, is probed
                                 * this often; 0 = QUEUE_PROBE_MS */
    int64_t request_timeout_ms; /* the transport's time limit on one request,
                                 * for the offline window (above); 0 =
                                 * QUEUE_REQUEST_TIMEOUT_MS */
};

struct queue_counters {
    uint64_t submitted, completed, deduplicated, errors, retries, cancelled;
    uint64_t cache_hits, cache_misses, upstream_requests, keys_requested;
    uint64_t rate_limited;     /* 429 answers */
    uint64_t refused;          /* batches a provider refused (401/403, block page) */
    uint64_t events_dropped;   /* events that found QUEUE_EVENTS_MAX waiting */
    uint64_t failovers;        /* waiters moved to their next source */
    uint64_t history_requests; /* of upstream_requests, history (backfill) requests started */
    size_t queued, in_flight, backoff, cached;
    int offline;
};

/* The first pause after a 429 without Retry-After, or a refusal; it
 * doubles with each one in a row, up to the maximum. */
#define QUEUE_DEFAULT_PAUSE_MS 30000
#define QUEUE_PAUSE_MAX_MS (30 * 60 * 1000)
/* While offline or a provider is down, one probe request this often (the
 * default of queue_limits.probe_ms). */
#define QUEUE_PROBE_MS 30000
/* Requests of a provider in a row that fail as a whole before it is down:
 * one may be a bad moment, two in a row (a retry included) is a pattern. */
#define QUEUE_DOWN_STREAK 2
/* Connection failures in a row, of every provider asked of late (within
 * the offline window), that mean the network is gone rather than one host
 * having a bad moment. */
#define QUEUE_OFFLINE_STREAK 3
/* The default of queue_limits.request_timeout_ms (FETCH_TIMEOUT's). */
#define QUEUE_REQUEST_TIMEOUT_MS 15000

/* Providers a queue can hold. */
#define QUEUE_MAX_PROVIDERS 8

/* What became of one upstream request (a batch), for /metrics: ok (an
 * answer with data or per-symbol verdicts), error (5xx, a timeout, an
 * answer we cannot read), connection (nothing reached), rate_limited
 * (429), refused (401/403, a block page), cancelled (shutdown). One per
 * finished request, so their sum is the provider's requests less those
 * in flight. */
enum queue_outcome {
    QOUT_OK = 0,
    QOUT_ERROR,
    QOUT_CONNECTION,
    QOUT_RATE_LIMITED,
    QOUT_REFUSED,
    QOUT_CANCELLED,
    QUEUE_OUTCOMES
};

/* Upper bounds (ms) of the per-provider request-latency histogram; a last
 * bucket holds the rest. From a fast local answer to FETCH_TIMEOUT's range. */
#define QUEUE_LATENCY_BUCKETS 10
extern const double queue_latency_bounds_ms[QUEUE_LATENCY_BUCKETS];

struct queue_provider_info {
    const char *name;
    int batches_in_flight;
    size_t queued;
    uint64_t requests, errors, refusals; /* errors: requests that failed as a whole */
    /* Its last requests (at most 10, none older than 15 min) and how many
     * of them failed; last_error says why the last failed one did. */
    int recent_requests, recent_failed;
    char last_error[160];
    int64_t paused_until; /* monotonic ms; 0 = not paused */
    int refused;          /* paused because it refused us; why: */
    char pause_reason[160];
    int down;                             /* failing as a whole: only probes go to it */
    uint64_t failovers_out, failovers_in; /* waiters that left it, came to it */
    /* failovers_out by where they went: [j] counts waiters that moved
     * from this provider to the provider of index j (queue_add_provider's
     * order, the order queue_get_providers() fills) */
    uint64_t failovers_to[QUEUE_MAX_PROVIDERS];
    int rate_per_minute;                   /* 0 = unlimited */
    double latency_p50_ms, latency_p95_ms; /* over the last 256 requests */
    /* Since the queue was made: finished requests by outcome; request
     * latencies (those the transport noted) by bucket of
     * queue_latency_bounds_ms, not cumulative, the last one past them all,
     * and their sum (waiters that left this provider for each provider:
     * failovers_to, above). */
    uint64_t outcomes[QUEUE_OUTCOMES];
    uint64_t latency_buckets[QUEUE_LATENCY_BUCKETS + 1];
    double latency_sum_ms;
};

/* What the queue learnt about a provider or the network, for the log:
 * reported when it changes, not found by polling. */
enum queue_event_type {
    QEV_PAUSED,  /* a 429 or a refusal paused provider for pause_ms */
    QEV_DOWN,    /* provider fails as a whole; its keys go to their next source */
    QEV_UP,      /* provider answers again; with a reason: no longer counted down
                  * because the network is back (its failures were the outage's) */
    QEV_OFFLINE, /* no provider reachable at the connection level */
    QEV_ONLINE,  /* an upstream answered again */
};

struct queue_event {
    enum queue_event_type type;
    const char *provider; /* NULL for QEV_OFFLINE / QEV_ONLINE; the queue's copy */
    int64_t pause_ms;     /* QEV_PAUSED */
    int refused;          /* QEV_PAUSED: a refusal, not a 429 */
    char reason[160];     /* QEV_PAUSED (refusal), QEV_DOWN, QEV_UP (see above) */
};

/* Called once per event, from queue_run() (never inside queue_submit() or
 * queue_batch_done()); ev is borrowed for the call. */
typedef void (*queue_event_cb)(const struct queue_event *ev, void *cls);

/* Returns a queue or NULL. The transport is copied. */
struct fetch_queue *queue_new(const struct queue_transport *t, const struct queue_limits *lim);
/* Frees everything without calling any callback (use queue_cancel_all
 * first for an orderly end). NULL is a no-op. */
void queue_free(struct fetch_queue *q);

/* Registers a provider: at most batch_max keys per request and concurrency
 * batches in flight. Returns its index or -1. */
int queue_add_provider(struct fetch_queue *q, const char *name, int batch_max,
                       int concurrency) MUST_CHECK;

/* Limits provider (an index from queue_add_provider) to per_minute
 * requests, with bursts of up to a tenth of that (at least 1); 0 lifts the
 * limit. */
void queue_set_rate_limit(struct fetch_queue *q, int provider, int per_minute);

/* Asks for provider:symbol. ttl_ms > 0 accepts a cached success at most that
 * old. cb runs exactly once, from a later queue_run(). Returns 0, or -1
 * (unknown provider, key too long, out of memory) and cb never runs. */
int queue_submit(struct fetch_queue *q, const char *provider, const char *symbol, int priority,
                 int64_t ttl_ms, queue_cb cb, void *cls) MUST_CHECK;

/* Asks for the first of n keys providers[i]:symbols[i] that answers, in
 * that order (see "Failover" above); the quote names the provider that
 * answered in `source` and, if not the first, the first one's failure in
 * `failover_reason`; a key whose every source failed gets the last one's
 * error. A provider named twice is asked once. n == 1 is queue_submit().
 * Returns 0, or -1 (n == 0, an unknown provider, a key too long, out of
 * memory) and cb never runs. */
int queue_submit_chain(struct fetch_queue *q, const char *const *providers,
                       const char *const *symbols, size_t n, int priority, int64_t ttl_ms,
                       queue_cb cb, void *cls) MUST_CHECK;
/* queue_submit_chain() whose waiter also refuses successful answers that
 * accept (may be NULL) turns down: such an answer moves the waiter to its
 * next source like a failure, with accept's reason; when no source is
 * left the refused answer is delivered as it is (the caller's own checks
 * then reject it with the same reason). */
int queue_submit_chain_accept(struct fetch_queue *q, const char *const *providers,
                              const char *const *symbols, size_t n, int priority, int64_t ttl_ms,
                              queue_accept_cb accept, queue_cb cb, void *cls) MUST_CHECK;

/* Asks for provider's daily history of symbol (QREQ_HISTORY, priority
 * QPRIO_BACKGROUND, never from the cache). cb runs exactly once, from a later
 * queue_run(); the quote says whether the request succeeded (the series
 * itself goes from the transport to its consumer: upstream.h). Returns 0 or
 * -1 like queue_submit(). */
int queue_submit_history(struct fetch_queue *q, const char *provider, const char *symbol,
                         queue_cb cb, void *cls) MUST_CHECK;

/* Delivers finished results, moves due retries back to pending, and starts
 * batches up to the limits. now is monotonic ms. */
void queue_run(struct fetch_queue *q, int64_t now);

/* Where events go (NULL: nowhere). At most QUEUE_EVENTS_MAX wait between
 * two queue_run() calls; more are counted in events_dropped. */
#define QUEUE_EVENTS_MAX 32
void queue_set_event_cb(struct fetch_queue *q, queue_event_cb cb, void *cls);

/* Ends every queued and in-flight request; each waiter receives a
 * QUOTE_CANCELLED quote from the next queue_run(). */
void queue_cancel_all(struct fetch_queue *q);
/* The same, the quotes' error saying why (copied, truncated to fit). */
void queue_cancel_all_why(struct fetch_queue *q, const char *why);

/* The batch's provider name, key count and i-th symbol (borrowed until
 * queue_batch_done). */
const char *queue_batch_provider(const struct queue_batch *b);
size_t queue_batch_size(const struct queue_batch *b);
const char *queue_batch_symbol(const struct queue_batch *b, size_t i);
/* Records the quote for key i (copied). */
void queue_batch_set(struct queue_batch *b, size_t i, const struct quote *r);
/* Records the same quote for every key not yet set. */
void queue_batch_set_all(struct queue_batch *b, const struct quote *r);
/* The batch's request kind (enum queue_request_kind). */
int queue_batch_kind(const struct queue_batch *b);
/* Leaves key i unanswered and puts it back to pending when the batch is
 * done: single != 0 for the provider's single-symbol request (a key the
 * batch answer lacks), 0 for the same kind again (a key the request could
 * not carry, e.g. a URL that would be too long; not counted as an attempt).
 * A key set with queue_batch_set() is not deferred. */
void queue_batch_defer(struct queue_batch *b, size_t i, int single);
/* Records how long the batch's upstream request took (for p50/p95). */
void queue_batch_note_latency(struct queue_batch *b, double ms);
/* Ends the batch: keys without a quote fail with "missing from answer". The
 * batch is freed; b is invalid afterwards. */
void queue_batch_done(struct fetch_queue *q, struct queue_batch *b);

void queue_get_counters(const struct fetch_queue *q, struct queue_counters *out);
/* Providers, for the heartbeat: returns the count; fills out[0..max). */
int queue_get_providers(const struct fetch_queue *q, struct queue_provider_info *out, int max);
/* The monotonic time of the queue's next timed event (a retry becomes due,
 * a rate-limit token or a pause ends, an offline probe), or -1 for none:
 * the loop must run queue_run() by then. */
int64_t queue_next_event(const struct fetch_queue *q);
/* Pending + in flight + backoff: work not yet answered. */
size_t queue_outstanding(const struct fetch_queue *q);

#endif
