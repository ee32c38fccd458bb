/*
 * queue — see queue.h.
 *
 * An entry's state is the list it sits on (pgbouncer's habit): pending lists
 * per provider and priority, the in-flight list, the backoff list and the
 * cache list. set_state() is the only way between them, so the counters
 * are list lengths and cannot drift from the truth.
 *
 * Entries are found by key in a chained hash table. A cached entry stays in
 * the table after success so a later submit within its TTL is answered from
 * memory; a failed entry leaves the table, so failures are never cached.
 */
#include "queue.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Successes kept for the cache; beyond this the oldest are forgotten. */
#define QUEUE_CACHE_MAX 200000

enum entry_state { ST_NONE, ST_PENDING, ST_INFLIGHT, ST_BACKOFF, ST_CACHED };

/* What queue_batch_done() does with a deferred key. */
enum { DEFER_NO = 0, DEFER_SINGLE, DEFER_SAME };

/* One answer shared by every waiter of a key (refs: waiters not yet
 * delivered), so ten thousand waiters do not each carry a copy. */
struct result {
    int refs;
    struct quote q;
};

/* A waiter's alternatives (queue_submit_chain): where it goes when the
 * key it waits on fails. Only chain waiters carry one. */
struct chain_step {
    int provider;
    char symbol[QUEUE_KEY_MAX];
};

struct chain {
    size_t n, at; /* steps; the one it waits on now */
    int priority;
    int64_t ttl_ms;
    char why[sizeof(((struct quote *)0)->failover_reason)]; /* the first failure */
    struct chain_step step[];
};

struct waiter {
    struct waiter *next;
    queue_cb cb;
    queue_accept_cb accept; /* chain waiters only; NULL takes every answer */
    void *cls;
    struct result *res;
    struct chain *chain; /* NULL: no alternatives */
};

/* What the cache keeps of a success: enough to answer a hit. */
struct cached {
    double price;
    int64_t price_time;
    char currency[8];
};

struct entry;

struct list {
    struct entry *head, *tail;
    size_t len;
};

struct entry {
    const char *symbol; /* points into key, after the ':' */
    uint32_t hash;
    struct entry *hnext;
    int provider;
    int priority;
    uint64_t seq; /* FIFO order among equal priorities */
    enum entry_state state;
    struct list *on; /* the list it sits on */
    struct entry *prev, *next;
    struct waiter *waiters;
    int attempts;
    uint8_t kind;     /* enum queue_request_kind it waits for */
    int64_t ready_at; /* backoff: when it may be dispatched again */
    int64_t fetched_at;
    struct cached cached;
    char key[]; /* "provider:symbol", allocated to its length */
};

#define LATENCY_RING 256
/* A provider's recent requests, for its state: degraded while any of its
 * last RECENT_RING requests made within RECENT_MS failed. One failure in a
 * cycle shows until the cycle after next (at the default interval), not
 * for the last ten requests, however old. */
#define RECENT_RING 10
#define RECENT_MS (15 * 60 * 1000)

struct provider {
    char name[32];
    int batch_max;
    int concurrency;
    int batches_in_flight;
    struct list pending[QUEUE_KINDS][QPRIO_COUNT];
    /* token bucket: tokens in thousandths, refilled continuously; the
     * refill's remainder (in thousandths × 60) is kept, so that a loop that
     * turns every millisecond still refills a 7/min bucket */
    int rate_per_minute;
    int64_t tokens_milli, burst_milli, refilled_at, refill_rem;
    int64_t paused_until;
    int64_t paused_at; /* when the current pause began */
    /* Why it is paused, when it refused us (401/403, a block page): while
     * such a pause lasts, its waiting keys fail at once with this reason. */
    int refused;
    char pause_reason[160];
    int pause_streak; /* consecutive 429s/refusals: the pause doubles */
    /* Has answered normally since its last refusal or 429. Until it has,
     * one batch at a time goes out (see slots()): a blocked provider costs
     * one request per pause, not a burst. */
    int trusted;
    int used;             /* has made a request: counts for offline detection */
    int64_t last_sent_ms; /* its latest request went out then (the offline window) */
    int conn_streak;      /* consecutive batches that failed to connect */
    /* Down: QUEUE_DOWN_STREAK requests in a row failed as a whole. Chain
     * waiters leave it at once; one key per probe interval stays, as the
     * probe (probe_at: when the next may go). */
    int down;
    int fail_streak;
    int64_t probe_at;
    char down_reason[160];
    uint64_t failovers_out, failovers_in;
    uint64_t failovers_to[QUEUE_MAX_PROVIDERS];
    uint64_t requests, errors, refusals;
    uint64_t outcomes[QUEUE_OUTCOMES];
    double latency[LATENCY_RING];
    size_t nlatency, latency_pos;
    struct {
        int64_t at;
        int failed;
    } recent[RECENT_RING];
    size_t nrecent, recent_pos;
    char last_error[160]; /* of the last failed request */
    uint64_t latency_buckets[QUEUE_LATENCY_BUCKETS + 1];
    double latency_sum_ms;
};

const double queue_latency_bounds_ms[QUEUE_LATENCY_BUCKETS] = {25,   50,   100,  250,   500,
                                                               1000, 2500, 5000, 10000, 30000};

struct queue_batch {
    int provider;
    int kind;                  /* enum queue_request_kind */
    int probe;                 /* sent while offline to see whether the network is back */
    int down_probe;            /* sent to a down provider as its probe */
    const char *provider_name; /* the queue's copy; lives as long as the queue */
    size_t n;
    struct entry **entries;
    struct quote *results;
    unsigned char *set;
    unsigned char *defer; /* DEFER_*: key goes back to pending, unanswered */
    int64_t sent_at;      /* monotonic ms */
    double latency_ms;
    struct queue_batch *prev, *next;
};

struct fetch_queue {
    struct queue_transport tr;
    struct queue_limits lim;
    struct provider providers[QUEUE_MAX_PROVIDERS];
    int nproviders;
    struct entry **buckets;
    size_t nbuckets, nentries;
    struct list inflight, backoff, cached;
    struct queue_batch *batches; /* in flight */
    int batches_in_flight;
    struct waiter *deliver_head, *deliver_tail;
    struct result oom; /* delivered when a result cannot be allocated */
    struct queue_counters c;
    uint64_t seq;
    uint64_t rng;
    int offline;
    int64_t next_probe;
    queue_event_cb event_cb;
    void *event_cls;
    struct queue_event events[QUEUE_EVENTS_MAX]; /* waiting for queue_run() */
    size_t nevents;
};

/* Keeps ev for the next queue_run(): learn_from() runs inside
 * queue_batch_done(), where no callback of ours may run. */
static void q_event(struct fetch_queue *q, enum queue_event_type type, const char *provider,
                    int64_t pause_ms, int refused, const char *reason)
{
    if (q->event_cb == NULL)
        return;
    if (q->nevents == QUEUE_EVENTS_MAX) {
        q->c.events_dropped++;
        return;
    }
    struct queue_event *ev = &q->events[q->nevents++];
    *ev = (struct queue_event){
        .type = type, .provider = provider, .pause_ms = pause_ms, .refused = refused};
    if (reason)
        util_strlcpy(ev->reason, reason, sizeof ev->reason);
}

static void q_deliver_events(struct fetch_queue *q)
{
    /* a callback may run the queue again: take the batch first */
    struct queue_event evs[QUEUE_EVENTS_MAX];
    size_t n = q->nevents;
    memcpy(evs, q->events, n * sizeof evs[0]);
    q->nevents = 0;
    for (size_t i = 0; i < n; i++)
        q->event_cb(&evs[i], q->event_cls);
}

void queue_set_event_cb(struct fetch_queue *q, queue_event_cb cb, void *cls)
{
    q->event_cb = cb;
    q->event_cls = cls;
}

/* ---- lists and states ---------------------------------------------- */

static void list_remove(struct list *l, struct entry *e)
{
    if (e->prev)
        e->prev->next = e->next;
    else
        l->head = e->next;
    if (e->next)
        e->next->prev = e->prev;
    else
        l->tail = e->prev;
    e->prev = e->next = NULL;
    l->len--;
}

static void list_append(struct list *l, struct entry *e)
{
    e->next = NULL;
    e->prev = l->tail;
    if (l->tail)
        l->tail->next = e;
    else
        l->head = e;
    l->tail = e;
    l->len++;
}

static void set_state(struct fetch_queue *q, struct entry *e, enum entry_state st)
{
    if (e->on)
        list_remove(e->on, e);
    e->on = NULL;
    e->state = st;
    switch (st) {
    case ST_PENDING:
        e->seq = q->seq++;
        e->on = &q->providers[e->provider].pending[e->kind][e->priority];
        break;
    case ST_INFLIGHT:
        e->on = &q->inflight;
        break;
    case ST_BACKOFF:
        e->on = &q->backoff;
        break;
    case ST_CACHED:
        e->on = &q->cached;
        break;
    case ST_NONE:
        break;
    }
    if (e->on)
        list_append(e->on, e);
}

/* ---- hash table ----------------------------------------------------- */

static uint32_t hash_key(const char *s)
{
    uint32_t h = 2166136261u; /* FNV-1a */
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 16777619u;
    return h;
}

static struct entry *find(const struct fetch_queue *q, const char *key, uint32_t h)
{
    for (struct entry *e = q->buckets[h & (q->nbuckets - 1)]; e; e = e->hnext)
        if (e->hash == h && strcmp(e->key, key) == 0)
            return e;
    return NULL;
}

static int grow(struct fetch_queue *q)
{
    size_t n = q->nbuckets * 2;
    struct entry **b = calloc(n, sizeof *b);
    if (b == NULL)
        return -1;
    for (size_t i = 0; i < q->nbuckets; i++) {
        struct entry *e = q->buckets[i];
        while (e) {
            struct entry *next = e->hnext;
            e->hnext = b[e->hash & (n - 1)];
            b[e->hash & (n - 1)] = e;
            e = next;
        }
    }
    free(q->buckets);
    q->buckets = b;
    q->nbuckets = n;
    return 0;
}

static void unlink_entry(struct fetch_queue *q, struct entry *e)
{
    struct entry **pp = &q->buckets[e->hash & (q->nbuckets - 1)];
    while (*pp != e)
        pp = &(*pp)->hnext;
    *pp = e->hnext;
    q->nentries--;
}

static void free_entry(struct fetch_queue *q, struct entry *e)
{
    set_state(q, e, ST_NONE);
    unlink_entry(q, e);
    free(e);
}

/* ---- construction --------------------------------------------------- */

struct fetch_queue *queue_new(const struct queue_transport *t, const struct queue_limits *lim)
{
    struct fetch_queue *q = calloc(1, sizeof *q);
    if (q == NULL)
        return NULL;
    q->nbuckets = 1024;
    q->buckets = calloc(q->nbuckets, sizeof *q->buckets);
    if (q->buckets == NULL) {
        free(q);
        return NULL;
    }
    q->tr = *t;
    q->lim = *lim;
    if (q->lim.concurrency < 1)
        q->lim.concurrency = 1;
    if (q->lim.probe_ms <= 0)
        q->lim.probe_ms = QUEUE_PROBE_MS;
    if (q->lim.request_timeout_ms <= 0)
        q->lim.request_timeout_ms = QUEUE_REQUEST_TIMEOUT_MS;
    q->rng = 0x9E3779B97F4A7C15ull;
    q->oom.q.kind = QUOTE_TRANSIENT;
    snprintf(q->oom.q.error, sizeof q->oom.q.error, "out of memory in the fetch queue");
    return q;
}

static void result_drop(struct fetch_queue *q, struct result *r)
{
    if (r != NULL && r != &q->oom && --r->refs == 0)
        free(r);
}

static void free_waiters(struct fetch_queue *q, struct waiter *w)
{
    while (w) {
        struct waiter *next = w->next;
        result_drop(q, w->res);
        free(w->chain);
        free(w);
        w = next;
    }
}

static void free_batch(struct queue_batch *b)
{
    free(b->entries);
    free(b->results);
    free(b->set);
    free(b->defer);
    free(b);
}

void queue_free(struct fetch_queue *q)
{
    if (q == NULL)
        return;
    while (q->batches) {
        struct queue_batch *b = q->batches;
        q->batches = b->next;
        free_batch(b);
    }
    for (size_t i = 0; i < q->nbuckets; i++) {
        struct entry *e = q->buckets[i];
        while (e) {
            struct entry *next = e->hnext;
            free_waiters(q, e->waiters);
            free(e);
            e = next;
        }
    }
    free_waiters(q, q->deliver_head);
    free(q->buckets);
    free(q);
}

int queue_add_provider(struct fetch_queue *q, const char *name, int batch_max, int concurrency)
{
    if (q->nproviders == QUEUE_MAX_PROVIDERS || strlen(name) >= sizeof q->providers[0].name ||
        batch_max < 1 || concurrency < 1)
        return -1;
    struct provider *p = &q->providers[q->nproviders];
    memset(p, 0, sizeof *p);
    util_strlcpy(p->name, name, sizeof p->name);
    p->batch_max = batch_max;
    p->concurrency = concurrency;
    return q->nproviders++;
}

/* ---- submitting ----------------------------------------------------- */

static int64_t now_ms(const struct fetch_queue *q)
{
    return q->tr.now ? q->tr.now(q->tr.ctx) : util_mono_ms();
}

/* r: a reference the waiter takes over. */
static void deliver(struct fetch_queue *q, struct waiter *w, struct result *r)
{
    w->res = r;
    w->next = NULL;
    if (q->deliver_tail)
        q->deliver_tail->next = w;
    else
        q->deliver_head = w;
    q->deliver_tail = w;
}

static void add_waiter(struct entry *e, struct waiter *w)
{
    w->next = e->waiters;
    e->waiters = w;
}

static int find_provider(const struct fetch_queue *q, const char *name)
{
    for (int i = 0; i < q->nproviders; i++)
        if (strcmp(q->providers[i].name, name) == 0)
            return i;
    return -1;
}

/* Puts w on provider p's entry for symbol: answered from the cache when a
 * success at most ttl_ms old is there, joined to the entry when the key
 * is queued, in flight or waiting to retry, else on a new entry. Returns
 * 0, or -1 (key too long, out of memory) and w is left as it was. */
/* A history key is the provider's with this suffix before the ':', so it
 * never meets the price key of the same symbol (provider names hold no
 * ':', so the symbol always starts after the first one). */
#define QUEUE_HISTORY_TAG "/history"

static int attach_kind(struct fetch_queue *q, struct waiter *w, int p, const char *symbol,
                       int priority, int64_t ttl_ms, int kind)
{
    const char *provider = q->providers[p].name;
    char key[QUEUE_KEY_MAX];
    int kl = snprintf(key, sizeof key, "%s%s:%s", provider,
                      kind == QREQ_HISTORY ? QUEUE_HISTORY_TAG : "", symbol);
    if (kl < 0 || (size_t)kl >= sizeof key)
        return -1;
    uint32_t h = hash_key(key);
    struct entry *e = find(q, key, h);
    if (e != NULL && e->state == ST_CACHED) {
        if (ttl_ms > 0 && now_ms(q) - e->fetched_at <= ttl_ms) {
            struct result *r = calloc(1, sizeof *r);
            if (r == NULL)
                return -1;
            r->refs = 1;
            r->q.kind = QUOTE_OK;
            r->q.price = e->cached.price;
            r->q.price_time = e->cached.price_time;
            memcpy(r->q.currency, e->cached.currency, sizeof r->q.currency);
            util_strlcpy(r->q.source, provider, sizeof r->q.source);
            q->c.cache_hits++;
            deliver(q, w, r);
            return 0;
        }
        /* Stale: the entry is fetched anew, as if it were new (and in a
         * batch again, whatever request kind answered it last time). */
        q->c.cache_misses++;
        e->priority = priority;
        e->attempts = 0;
        e->kind = kind == QREQ_HISTORY ? QREQ_HISTORY : QREQ_BATCH;
        add_waiter(e, w);
        set_state(q, e, ST_PENDING);
        return 0;
    }
    if (e != NULL) {
        /* Queued, in flight or waiting to retry: join, fetch once. */
        q->c.deduplicated++;
        add_waiter(e, w);
        if (priority > e->priority) {
            e->priority = priority;
            if (e->state == ST_PENDING)
                set_state(q, e, ST_PENDING); /* to the tail of its new level */
        }
        return 0;
    }
    if (q->nentries >= q->nbuckets && grow(q) != 0)
        return -1;
    e = calloc(1, sizeof *e + (size_t)kl + 1);
    if (e == NULL)
        return -1;
    memcpy(e->key, key, (size_t)kl + 1);
    e->symbol = strchr(e->key, ':') + 1;
    e->hash = h;
    e->provider = p;
    e->priority = priority;
    e->kind = kind == QREQ_HISTORY ? QREQ_HISTORY : QREQ_BATCH;
    e->hnext = q->buckets[h & (q->nbuckets - 1)];
    q->buckets[h & (q->nbuckets - 1)] = e;
    q->nentries++;
    q->c.cache_misses++;
    add_waiter(e, w);
    set_state(q, e, ST_PENDING);
    return 0;
}

static int attach(struct fetch_queue *q, struct waiter *w, int p, const char *symbol, int priority,
                  int64_t ttl_ms)
{
    return attach_kind(q, w, p, symbol, priority, ttl_ms, QREQ_BATCH);
}

static int clamp_priority(int priority)
{
    if (priority < 0)
        return 0;
    return priority >= QPRIO_COUNT ? QPRIO_COUNT - 1 : priority;
}

int queue_submit(struct fetch_queue *q, const char *provider, const char *symbol, int priority,
                 int64_t ttl_ms, queue_cb cb, void *cls)
{
    int p = find_provider(q, provider);
    if (p < 0 || symbol[0] == '\0' || cb == NULL)
        return -1;
    struct waiter *w = calloc(1, sizeof *w);
    if (w == NULL)
        return -1;
    w->cb = cb;
    w->cls = cls;
    if (attach(q, w, p, symbol, clamp_priority(priority), ttl_ms) != 0) {
        free(w); /* refused: cb never runs, so it was never submitted */
        return -1;
    }
    q->c.submitted++;
    return 0;
}

int queue_submit_history(struct fetch_queue *q, const char *provider, const char *symbol,
                         queue_cb cb, void *cls)
{
    int p = find_provider(q, provider);
    if (p < 0 || symbol[0] == '\0' || cb == NULL)
        return -1;
    struct waiter *w = calloc(1, sizeof *w);
    if (w == NULL)
        return -1;
    w->cb = cb;
    w->cls = cls;
    if (attach_kind(q, w, p, symbol, QPRIO_BACKGROUND, 0, QREQ_HISTORY) != 0) {
        free(w);
        return -1;
    }
    q->c.submitted++;
    return 0;
}

int queue_submit_chain(struct fetch_queue *q, const char *const *providers,
                       const char *const *symbols, size_t n, int priority, int64_t ttl_ms,
                       queue_cb cb, void *cls)
{
    return queue_submit_chain_accept(q, providers, symbols, n, priority, ttl_ms, NULL, cb, cls);
}

int queue_submit_chain_accept(struct fetch_queue *q, const char *const *providers,
                              const char *const *symbols, size_t n, int priority, int64_t ttl_ms,
                              queue_accept_cb accept, queue_cb cb, void *cls)
{
    if (n == 0 || cb == NULL)
        return -1;
    if (n == 1)
        return queue_submit(q, providers[0], symbols[0], priority, ttl_ms, cb, cls);
    struct waiter *w = calloc(1, sizeof *w);
    struct chain *ch = calloc(1, sizeof *ch + n * sizeof ch->step[0]);
    if (w == NULL || ch == NULL)
        goto fail;
    for (size_t i = 0; i < n; i++) {
        int p = find_provider(q, providers[i]);
        size_t sl = strlen(symbols[i]);
        if (p < 0 || sl == 0 || sl >= sizeof ch->step[0].symbol)
            goto fail;
        int dup = 0;
        for (size_t j = 0; j < ch->n; j++)
            dup |= ch->step[j].provider == p;
        if (dup)
            continue; /* asked once: its failure would repeat */
        ch->step[ch->n].provider = p;
        memcpy(ch->step[ch->n].symbol, symbols[i], sl + 1);
        ch->n++;
    }
    ch->priority = clamp_priority(priority);
    ch->ttl_ms = ttl_ms;
    w->cb = cb;
    w->cls = cls;
    w->chain = ch->n > 1 ? ch : NULL;
    w->accept = w->chain ? accept : NULL;
    if (attach(q, w, ch->step[0].provider, ch->step[0].symbol, ch->priority, ttl_ms) != 0)
        goto fail;
    if (w->chain == NULL)
        free(ch);
    q->c.submitted++;
    return 0;
fail:
    free(ch);
    free(w);
    return -1;
}

/* ---- completing ----------------------------------------------------- */

static uint64_t next_rand(struct fetch_queue *q)
{
    q->rng ^= q->rng << 13; /* xorshift64 */
    q->rng ^= q->rng >> 7;
    q->rng ^= q->rng << 17;
    return q->rng;
}

/* Exponential backoff with "equal jitter": half fixed, half random, so
 * retries of many keys spread out instead of hitting a recovering upstream
 * together. A 429's Retry-After is a floor. */
static int64_t backoff_delay(struct fetch_queue *q, int attempts, int retry_after_s)
{
    int64_t d = q->lim.backoff_ms > 0 ? q->lim.backoff_ms : 500;
    for (int i = 1; i < attempts && d < q->lim.backoff_max_ms; i++)
        d *= 2;
    if (q->lim.backoff_max_ms > 0 && d > q->lim.backoff_max_ms)
        d = q->lim.backoff_max_ms;
    d = d / 2 + (int64_t)(next_rand(q) % (uint64_t)(d / 2 + 1));
    if (retry_after_s > 0 && d < (int64_t)retry_after_s * 1000)
        d = (int64_t)retry_after_s * 1000;
    return d;
}

/* Moves w (on no list now; its chain has a step left) from provider
 * `from` to its next source's entry; why is from's failure, kept as the
 * reason when it is the waiter's first. */
static void move_waiter(struct fetch_queue *q, struct waiter *w, int from, const char *why)
{
    struct chain *ch = w->chain;
    struct provider *fp = &q->providers[from];
    if (ch->why[0] == '\0')
        snprintf(ch->why, sizeof ch->why, "%s: %s", fp->name, why);
    fp->failovers_out++;
    q->c.failovers++;
    int moved = 0;
    while (!moved && ch->at + 1 < ch->n) {
        const struct chain_step *st = &ch->step[++ch->at];
        moved = attach(q, w, st->provider, st->symbol, ch->priority, ch->ttl_ms) == 0;
        if (moved) {
            q->providers[st->provider].failovers_in++;
            fp->failovers_to[st->provider]++;
        }
    }
    if (!moved)
        deliver(q, w, &q->oom);
}

/* Moves every waiter of e that has an alternative left to its next
 * source's entry (where it dedups, batches and waits like any request);
 * why is e's failure. */
static void fail_over(struct fetch_queue *q, struct entry *e, const char *why)
{
    struct waiter **pp = &e->waiters;
    while (*pp) {
        struct waiter *w = *pp;
        struct chain *ch = w->chain;
        if (ch == NULL || ch->at + 1 >= ch->n) {
            pp = &w->next;
            continue;
        }
        *pp = w->next;
        w->next = NULL;
        move_waiter(q, w, e->provider, why);
    }
}

static void complete_entry(struct fetch_queue *q, struct entry *e, const struct quote *r)
{
    int retryable = r->kind == QUOTE_TRANSIENT || (r->kind == QUOTE_CONNECTION && !q->offline);
    if (retryable && e->attempts <= q->lim.max_retries) {
        q->c.retries++;
        e->ready_at = now_ms(q) + backoff_delay(q, e->attempts, r->retry_after_s);
        set_state(q, e, ST_BACKOFF);
        return;
    }
    if (r->kind == QUOTE_CANCELLED)
        q->c.cancelled++;
    else
        q->c.completed++;
    if (r->kind != QUOTE_OK && r->kind != QUOTE_CANCELLED) {
        q->c.errors++;
        fail_over(q, e, r->error);
    }
    struct waiter *w = e->waiters;
    e->waiters = NULL;
    int n = 0;
    for (struct waiter *x = w; x; x = x->next)
        n++;
    struct result *shared = n ? malloc(sizeof *shared) : NULL;
    if (shared != NULL) {
        shared->refs = n;
        shared->q = *r;
        util_strlcpy(shared->q.source, q->providers[e->provider].name, sizeof shared->q.source);
    } else if (n > 0) {
        shared = &q->oom;
    }
    while (w) {
        struct waiter *next = w->next;
        deliver(q, w, shared);
        w = next;
    }
    if (r->kind == QUOTE_OK) {
        e->cached.price = r->price;
        e->cached.price_time = r->price_time;
        memcpy(e->cached.currency, r->currency, sizeof e->cached.currency);
        e->fetched_at = now_ms(q);
        e->attempts = 0;
        set_state(q, e, ST_CACHED);
        if (q->cached.len > QUEUE_CACHE_MAX)
            free_entry(q, q->cached.head);
    } else {
        free_entry(q, e);
    }
}

const char *queue_batch_provider(const struct queue_batch *b)
{
    return b->provider_name;
}

size_t queue_batch_size(const struct queue_batch *b)
{
    return b->n;
}

const char *queue_batch_symbol(const struct queue_batch *b, size_t i)
{
    return i < b->n ? b->entries[i]->symbol : NULL;
}

void queue_batch_set(struct queue_batch *b, size_t i, const struct quote *r)
{
    if (i < b->n) {
        b->results[i] = *r;
        b->set[i] = 1;
    }
}

void queue_batch_set_all(struct queue_batch *b, const struct quote *r)
{
    for (size_t i = 0; i < b->n; i++)
        if (!b->set[i])
            queue_batch_set(b, i, r);
}

static void unlink_batch(struct fetch_queue *q, struct queue_batch *b)
{
    if (b->prev)
        b->prev->next = b->next;
    else
        q->batches = b->next;
    if (b->next)
        b->next->prev = b->prev;
    q->batches_in_flight--;
    q->providers[b->provider].batches_in_flight--;
}

void queue_batch_note_latency(struct queue_batch *b, double ms)
{
    b->latency_ms = ms;
}

static void record_latency(struct provider *p, double ms)
{
    p->latency[p->latency_pos] = ms;
    p->latency_pos = (p->latency_pos + 1) % LATENCY_RING;
    if (p->nlatency < LATENCY_RING)
        p->nlatency++;
    size_t b = 0;
    while (b < QUEUE_LATENCY_BUCKETS && ms > queue_latency_bounds_ms[b])
        b++;
    p->latency_buckets[b]++;
    p->latency_sum_ms += ms;
}

/* One request's outcome (queue.h), from what learn_from() saw of it: the
 * provider's own verdict (a refusal, a 429) first, then whether it
 * answered at all. */
static enum queue_outcome batch_outcome(int refused, int limited, int healthy, int conn,
                                        int cancelled, int sent)
{
    if (refused)
        return QOUT_REFUSED;
    if (limited)
        return QOUT_RATE_LIMITED;
    if (healthy)
        return QOUT_OK;
    if (cancelled > 0 && cancelled == sent)
        return QOUT_CANCELLED;
    if (conn)
        return QOUT_CONNECTION;
    return QOUT_ERROR;
}

/* The pause after the streak-th 429 without Retry-After, or refusal, in a
 * row: doubling from QUEUE_DEFAULT_PAUSE_MS up to QUEUE_PAUSE_MAX_MS, so a
 * provider that keeps refusing is asked less and less often. */
static int64_t pause_for(int streak)
{
    int64_t ms = QUEUE_DEFAULT_PAUSE_MS;
    for (int i = 1; i < streak && ms < QUEUE_PAUSE_MAX_MS; i++)
        ms *= 2;
    return ms < QUEUE_PAUSE_MAX_MS ? ms : QUEUE_PAUSE_MAX_MS;
}

/* The network is back (p answered). While offline every provider asked
 * of late failed to connect, so a down one's latest failures were the
 * outage's (or, one asked before it, are older than what we know now):
 * it is not known to be down any more, and is judged again by its next
 * requests. Left down, one nobody asks (a second source whose first
 * answers again) would never be probed and would stay "down" for good. */
static void q_forgive_outage(struct fetch_queue *q, const struct provider *p)
{
    for (int i = 0; i < q->nproviders; i++) {
        struct provider *o = &q->providers[i];
        if (o == p || !o->used || !o->down)
            continue;
        o->down = 0;
        o->fail_streak = 0;
        o->conn_streak = 0;
        q_event(q, QEV_UP, o->name, 0, 0, "the network is back");
    }
}

/* How recently a provider must have been asked to count in the offline
 * judgement (queue.h): the longest one provider's streak of connection
 * failures can span, each failure up to a request's time limit and the
 * last one a probe interval after it went down. */
static int64_t offline_window_ms(const struct fetch_queue *q)
{
    return q->lim.probe_ms + QUEUE_OFFLINE_STREAK * q->lim.request_timeout_ms;
}

/* What a batch's answers say about its provider and the network: a 429 or
 * a refusal pauses the provider; connection failures of every provider
 * asked of late mean offline; any answer at all means online again. */
static void learn_from(struct fetch_queue *q, struct queue_batch *b)
{
    struct provider *p = &q->providers[b->provider];
    int conn = 0, answered = 0, limited = 0, sent = 0, whole = 0, healthy = 0, cancelled = 0;
    int64_t retry_after_ms = 0;
    const struct quote *refusal = NULL, *whole_err = NULL;
    for (size_t i = 0; i < b->n; i++) {
        const struct quote *r = &b->results[i];
        if (!b->set[i] && b->defer[i] != DEFER_NO) {
            /* No answer of its own. A key handed to the single-symbol
             * request still means the provider answered; a key the
             * request could not carry says nothing. */
            if (b->defer[i] == DEFER_SINGLE)
                answered = healthy = 1;
            continue;
        }
        if (sent++ == 0)
            conn = 1;
        /* A failure of the provider as a whole (it answered for no key
         * with data or a per-symbol verdict), or an answer. */
        if (r->kind == QUOTE_OK || (r->kind == QUOTE_PERMANENT && !r->refused))
            healthy = 1;
        else if (r->kind != QUOTE_CANCELLED) {
            whole++;
            if (whole_err == NULL)
                whole_err = r;
        }
        if (r->kind != QUOTE_CONNECTION)
            conn = 0;
        if (r->kind != QUOTE_CONNECTION && r->kind != QUOTE_CANCELLED)
            answered = 1;
        if (r->refused && refusal == NULL)
            refusal = r;
        if (r->http_status == 429) {
            limited = 1;
            if ((int64_t)r->retry_after_s * 1000 > retry_after_ms)
                retry_after_ms = (int64_t)r->retry_after_s * 1000;
        }
        if (r->kind == QUOTE_CANCELLED)
            cancelled++;
    }
    if (answered)
        conn = 0;
    /* One request, one verdict: it failed when it brought nothing usable
     * (no price, no per-symbol answer) — so errors never outnumber
     * requests, however many keys the request carried. */
    if (sent > 0) {
        int failed = !healthy && whole > 0;
        p->errors += (uint64_t)failed;
        p->recent[p->recent_pos].at = now_ms(q);
        p->recent[p->recent_pos].failed = failed;
        p->recent_pos = (p->recent_pos + 1) % RECENT_RING;
        if (p->nrecent < RECENT_RING)
            p->nrecent++;
        if (failed)
            util_strlcpy(p->last_error, whole_err->error, sizeof p->last_error);
    }
    p->outcomes[batch_outcome(refusal != NULL, limited, healthy, conn, cancelled, sent)]++;
    if (b->latency_ms > 0)
        record_latency(p, b->latency_ms);
    if (healthy) {
        p->fail_streak = 0;
        if (p->down)
            q_event(q, QEV_UP, p->name, 0, 0, NULL);
        p->down = 0;
    } else if (whole > 0 && ++p->fail_streak >= QUEUE_DOWN_STREAK) {
        util_strlcpy(p->down_reason, whole_err->error, sizeof p->down_reason);
        if (!p->down) {
            p->probe_at = now_ms(q) + q->lim.probe_ms;
            q_event(q, QEV_DOWN, p->name, 0, 0, p->down_reason);
        }
        p->down = 1;
    }
    if (limited || refusal) {
        /* A Retry-After is the provider's own word; without one the pause
         * grows with every 429 or refusal in a row. Answers to requests of
         * one burst (sent before the pause they now find began) are one
         * refusal, not several: the pause doubles per probe, not per
         * batch that was already on its way. */
        int64_t was_until = p->paused_until;
        int was_streak = p->pause_streak;
        if (p->pause_streak == 0 || b->sent_at > p->paused_at)
            p->pause_streak++;
        p->trusted = 0;
        int64_t pause = retry_after_ms > 0 ? retry_after_ms : pause_for(p->pause_streak);
        if (limited)
            q->c.rate_limited++;
        p->refused = refusal != NULL;
        if (refusal) {
            q->c.refused++;
            p->refusals++;
            util_strlcpy(p->pause_reason, refusal->error, sizeof p->pause_reason);
        }
        if (now_ms(q) + pause > p->paused_until)
            p->paused_until = now_ms(q) + pause;
        /* one event per pause: not again for a batch of the same burst */
        if (was_until <= now_ms(q) || p->pause_streak > was_streak)
            q_event(q, QEV_PAUSED, p->name, p->paused_until - now_ms(q), p->refused,
                    p->refused ? p->pause_reason : NULL);
        p->paused_at = now_ms(q);
    } else if (answered && (p->pause_streak == 0 || b->sent_at > p->paused_at)) {
        /* Only an answer to a request sent after the last pause began
         * says the provider is well again: one of a burst sent before a
         * refusal arrived says nothing about it. */
        p->pause_streak = 0;
        p->refused = 0;
        p->trusted = 1;
    }
    if (conn) {
        p->conn_streak++;
    } else if (answered) {
        p->conn_streak = 0;
        if (q->offline) {
            q_event(q, QEV_ONLINE, NULL, 0, 0, NULL);
            q_forgive_outage(q, p);
        }
        q->offline = 0;
    }
    if (!q->offline && conn && p->conn_streak >= QUEUE_OFFLINE_STREAK) {
        /* p is failing; so is the network when no other provider asked
         * within the window (queue.h) connects. One asked before it says
         * nothing of now: it never blocks offline for good. */
        int64_t since = now_ms(q) - offline_window_ms(q);
        int all = 1;
        for (int i = 0; i < q->nproviders; i++) {
            const struct provider *o = &q->providers[i];
            if (o != p && o->used && o->last_sent_ms >= since &&
                o->conn_streak < QUEUE_OFFLINE_STREAK)
                all = 0;
        }
        if (all) {
            q->offline = 1;
            q->next_probe = now_ms(q) + q->lim.probe_ms;
            q_event(q, QEV_OFFLINE, NULL, 0, 0, NULL);
        }
    }
}

void queue_batch_defer(struct queue_batch *b, size_t i, int single)
{
    if (i < b->n && !b->set[i])
        b->defer[i] = single && b->kind == QREQ_BATCH ? DEFER_SINGLE : DEFER_SAME;
}

int queue_batch_kind(const struct queue_batch *b)
{
    return b->kind;
}

void queue_batch_done(struct fetch_queue *q, struct queue_batch *b)
{
    unlink_batch(q, b);
    learn_from(q, b);
    for (size_t i = 0; i < b->n; i++) {
        struct entry *e = b->entries[i];
        if (!b->set[i] && b->defer[i] != DEFER_NO) {
            /* Back to pending, as a new request: the single-symbol kind
             * takes its turn, its token and its slot like any request. A
             * key that was never sent was not an attempt. */
            if (b->defer[i] == DEFER_SINGLE) {
                e->kind = QREQ_SINGLE;
                e->attempts = 0;
            } else if (e->attempts > 0) {
                e->attempts--;
            }
            set_state(q, e, ST_PENDING);
            continue;
        }
        if (!b->set[i]) {
            struct quote miss = {.kind = QUOTE_PERMANENT};
            snprintf(miss.error, sizeof miss.error, "symbol %s missing from %s's answer", e->symbol,
                     q->providers[b->provider].name);
            b->results[i] = miss;
        }
        b->results[i].probe = b->down_probe && b->results[i].kind == QUOTE_OK;
        complete_entry(q, e, &b->results[i]);
    }
    free_batch(b);
}

/* ---- dispatching ---------------------------------------------------- */

/* The provider whose best pending entry comes first: highest priority, then
 * the oldest, among providers with a free slot. */
static void refill(struct provider *p, int64_t now)
{
    if (p->rate_per_minute <= 0)
        return;
    int64_t dt = now - p->refilled_at;
    if (dt <= 0)
        return;
    /* per_minute tokens per 60,000 ms is rate/60 thousandths per ms; the
     * part that does not make a whole thousandth is carried over */
    int64_t units = dt * p->rate_per_minute + p->refill_rem;
    p->tokens_milli += units / 60;
    p->refill_rem = units % 60;
    if (p->tokens_milli >= p->burst_milli) {
        p->tokens_milli = p->burst_milli;
        p->refill_rem = 0;
    }
    p->refilled_at = now;
}

static int may_send(const struct provider *p, int64_t now)
{
    if (p->paused_until > now)
        return 0;
    return p->rate_per_minute <= 0 || p->tokens_milli >= 1000;
}

/* The pending list whose head goes first for provider p: highest priority,
 * then the oldest, over both request kinds; NULL when none is waiting. */
static struct list *best_list(struct provider *p)
{
    struct list *best = NULL;
    for (int prio = QPRIO_COUNT - 1; prio >= 0 && best == NULL; prio--)
        for (int k = 0; k < QUEUE_KINDS; k++) {
            struct list *l = &p->pending[k][prio];
            if (l->head && (best == NULL || l->head->seq < best->head->seq))
                best = l;
        }
    return best;
}

/* Batches provider p may have in flight now: one while it is on probation
 * after a refusal or a 429, so that a blocked provider costs one request
 * per pause, not a burst. */
static int slots(const struct provider *p)
{
    return p->trusted || p->pause_streak == 0 ? p->concurrency : 1;
}

/* Whether a history request may go to p now: only into the gaps, so that
 * a backfill never delays scheduled work (see "History" in queue.h). The
 * cross-check's asks share the lowest priority but not this: they are a
 * few keys, asked once the cycle's own answers are in. */
static int backfill_may_send(const struct fetch_queue *q, const struct provider *p)
{
    /* one slot stays free for the schedule, unless there is only one */
    int spare = q->lim.concurrency > 1 ? 1 : 0;
    if (p->batches_in_flight > 0 || q->batches_in_flight + spare >= q->lim.concurrency)
        return 0;
    return p->rate_per_minute <= 0 || p->tokens_milli >= p->burst_milli;
}

static int pick_provider(struct fetch_queue *q, int64_t now)
{
    int best = -1, best_prio = -1;
    uint64_t best_seq = 0;
    for (int i = 0; i < q->nproviders; i++) {
        struct provider *p = &q->providers[i];
        if (p->batches_in_flight >= slots(p) || !may_send(p, now))
            continue;
        struct list *l = best_list(p);
        if (l == NULL)
            continue;
        const struct entry *h = l->head;
        if (h->kind == QREQ_HISTORY && !backfill_may_send(q, p))
            continue;
        if (h->priority > best_prio || (h->priority == best_prio && h->seq < best_seq)) {
            best = i;
            best_prio = h->priority;
            best_seq = h->seq;
        }
    }
    return best;
}

static size_t provider_queued(const struct provider *p)
{
    size_t n = 0;
    for (int k = 0; k < QUEUE_KINDS; k++)
        for (int prio = 0; prio < QPRIO_COUNT; prio++)
            n += p->pending[k][prio].len;
    return n;
}

/* Returns 0, or -1 when out of memory (the keys stay pending). A batch is
 * of one request kind: the provider's batch request takes up to batch_max
 * keys of that kind, its single-symbol request one key. */
static int start_batch(struct fetch_queue *q, int pi)
{
    struct provider *p = &q->providers[pi];
    struct list *first = best_list(p);
    int kind = first->head->kind;
    size_t avail = 0;
    for (int prio = 0; prio < QPRIO_COUNT; prio++)
        avail += p->pending[kind][prio].len;
    size_t max = kind == QREQ_BATCH ? (size_t)p->batch_max : 1;
    size_t n = avail < max ? avail : max;
    struct queue_batch *b = calloc(1, sizeof *b);
    if (b != NULL) {
        b->entries = calloc(n, sizeof *b->entries);
        b->results = calloc(n, sizeof *b->results);
        b->set = calloc(n, 1);
        b->defer = calloc(n, 1);
    }
    if (b == NULL || b->entries == NULL || b->results == NULL || b->set == NULL ||
        b->defer == NULL) {
        if (b)
            free_batch(b);
        return -1; /* out of memory: leave them pending, try next iteration */
    }
    b->provider = pi;
    b->kind = kind;
    b->sent_at = now_ms(q);
    b->provider_name = p->name;
    for (int prio = QPRIO_COUNT - 1; prio >= 0 && b->n < n; prio--) {
        struct list *l = &p->pending[kind][prio];
        while (b->n < n && l->head) {
            struct entry *e = l->head;
            e->attempts++;
            set_state(q, e, ST_INFLIGHT);
            b->entries[b->n++] = e;
        }
    }
    b->next = q->batches;
    if (q->batches)
        q->batches->prev = b;
    q->batches = b;
    q->batches_in_flight++;
    p->batches_in_flight++;
    p->used = 1;
    p->last_sent_ms = now_ms(q);
    p->requests++;
    if (p->down) {
        p->probe_at = now_ms(q) + q->lim.probe_ms; /* this request is its probe */
        b->down_probe = 1;
    }
    if (p->rate_per_minute > 0)
        p->tokens_milli -= 1000;
    b->probe = q->offline;
    q->c.upstream_requests++;
    q->c.keys_requested += b->n;
    int history = kind == QREQ_HISTORY;
    if (q->tr.start(q->tr.ctx, b) == 0) {
        q->c.history_requests += (uint64_t)history;
    } else {
        struct quote r = {.kind = QUOTE_TRANSIENT};
        snprintf(r.error, sizeof r.error, "could not start a request to %s", p->name);
        queue_batch_set_all(b, &r);
        queue_batch_done(q, b);
    }
    return 0;
}

/* Fails every pending key of p with r, except keep (may be NULL). */
static void fail_pending(struct fetch_queue *q, struct provider *p, const struct entry *keep,
                         const struct quote *r)
{
    for (int k = 0; k < QUEUE_KINDS; k++)
        for (int prio = 0; prio < QPRIO_COUNT; prio++) {
            struct entry *e = p->pending[k][prio].head;
            while (e) {
                struct entry *next = e->next;
                if (e != keep)
                    complete_entry(q, e, r);
                e = next;
            }
        }
}

/* Offline: every waiting key fails now with the reason, except what the
 * next probe will carry (the oldest key of each provider stays queued), so
 * cycles end instead of hanging on a dead network. */
static void fail_offline(struct fetch_queue *q, int64_t now)
{
    struct quote r = {.kind = QUOTE_CONNECTION};
    int64_t in = q->next_probe > now ? (q->next_probe - now + 999) / 1000 : 0;
    snprintf(r.error, sizeof r.error,
             "offline: no upstream reachable at the connection level (next probe in %llds)",
             (long long)in);
    for (int i = 0; i < q->nproviders; i++) {
        struct provider *p = &q->providers[i];
        struct list *l = best_list(p);
        fail_pending(q, p, l ? l->head : NULL, &r);
    }
    while (q->backoff.head)
        complete_entry(q, q->backoff.head, &r);
}

/* A provider that refused us (401/403, a block page) and is still paused:
 * its waiting keys fail now with that reason instead of waiting out the
 * pause, so a cycle ends and says why. The backoff list keeps its keys;
 * they come back when their retry is due. */
static void fail_refused(struct fetch_queue *q, int64_t now)
{
    for (int i = 0; i < q->nproviders; i++) {
        struct provider *p = &q->providers[i];
        if (!p->refused || p->paused_until <= now || provider_queued(p) == 0)
            continue;
        struct quote r = {.kind = QUOTE_PERMANENT, .refused = 1};
        snprintf(r.error, sizeof r.error, "%.150s (paused %llds)", p->pause_reason,
                 (long long)((p->paused_until - now + 999) / 1000));
        fail_pending(q, p, NULL, &r);
    }
}

/* Fails e's chain waiters over; an entry left without waiters has ended
 * (counted as completed, so every miss still ends exactly once). */
static void move_on(struct fetch_queue *q, struct entry *e, const char *why)
{
    fail_over(q, e, why);
    if (e->waiters == NULL) {
        q->c.completed++;
        free_entry(q, e);
    }
}

/* Chain waiters of a provider that is paused (429, refusal) or down move
 * on now instead of waiting out the pause or the retries; what is left (keys
 * without alternatives) waits as before. A down provider keeps its oldest
 * pending key when a probe is due, so that key goes out as the probe. */
static void fail_over_waiting(struct fetch_queue *q, int64_t now)
{
    for (int i = 0; i < q->nproviders; i++) {
        struct provider *p = &q->providers[i];
        int paused = p->paused_until > now;
        if (!p->down && !paused)
            continue;
        char why[200];
        if (p->down)
            snprintf(why, sizeof why, "down (%.150s)", p->down_reason);
        else if (p->refused)
            snprintf(why, sizeof why, "paused (%.150s)", p->pause_reason);
        else
            snprintf(why, sizeof why, "paused after HTTP 429");
        const struct entry *keep = NULL;
        if (p->down && !paused && now >= p->probe_at && p->batches_in_flight == 0) {
            struct list *l = best_list(p);
            keep = l ? l->head : NULL;
        }
        for (int k = 0; k < QUEUE_KINDS; k++)
            for (int prio = 0; prio < QPRIO_COUNT; prio++)
                for (struct entry *e = p->pending[k][prio].head, *next; e; e = next) {
                    next = e->next;
                    if (e == keep)
                        continue;
                    move_on(q, e, why);
                }
        for (struct entry *e = q->backoff.head, *next; e; e = next) {
            next = e->next;
            if (e->provider != i)
                continue;
            move_on(q, e, why);
        }
    }
}

static void deliver_all(struct fetch_queue *q)
{
    /* A callback may submit again; a cache hit then lands on this list and
     * is delivered in the same pass. */
    while (q->deliver_head) {
        struct waiter *w = q->deliver_head;
        q->deliver_head = w->next;
        if (q->deliver_head == NULL)
            q->deliver_tail = NULL;
        const struct quote *r = &w->res->q;
        char why[sizeof r->error];
        /* every answer names its provider (complete_entry, cache hits) */
        int from = r->kind == QUOTE_OK ? find_provider(q, r->source) : -1;
        if (w->accept != NULL && from >= 0 && w->chain->at + 1 < w->chain->n &&
            !w->accept(r, w->cls, why, sizeof why)) {
            /* a miss of this source: on to the next, like a failure */
            result_drop(q, w->res);
            w->res = NULL;
            w->next = NULL;
            move_waiter(q, w, from, why);
            continue;
        }
        struct quote with_reason;
        if (w->chain != NULL && w->chain->why[0]) {
            /* the answer is shared; the reason is this waiter's own */
            with_reason = *r;
            util_strlcpy(with_reason.failover_reason, w->chain->why,
                         sizeof with_reason.failover_reason);
            r = &with_reason;
        }
        w->cb(r, w->cls);
        result_drop(q, w->res);
        free(w->chain);
        free(w);
    }
}

void queue_run(struct fetch_queue *q, int64_t now)
{
    /* One pass over the (unsorted) backoff list, saving next before an
     * entry moves to its pending list. */
    for (struct entry *e = q->backoff.head, *next; e; e = next) {
        next = e->next;
        if (e->ready_at <= now)
            set_state(q, e, ST_PENDING);
    }
    deliver_all(q);
    for (int i = 0; i < q->nproviders; i++)
        refill(&q->providers[i], now);
    if (q->offline)
        fail_offline(q, now);
    fail_over_waiting(q, now);
    fail_refused(q, now);
    for (;;) {
        if (q->batches_in_flight >= q->lim.concurrency)
            break;
        if (q->offline && (now < q->next_probe || q->batches_in_flight > 0))
            break; /* offline: only the probe goes out */
        int pi = pick_provider(q, now);
        if (pi < 0)
            break;
        if (q->offline)
            q->next_probe = now + q->lim.probe_ms;
        if (start_batch(q, pi) != 0)
            break; /* the same provider would be picked again: no spinning */
    }
    deliver_all(q);
    q_deliver_events(q);
}

void queue_cancel_all(struct fetch_queue *q)
{
    queue_cancel_all_why(q, "cancelled: fetcherd is shutting down");
}

void queue_cancel_all_why(struct fetch_queue *q, const char *why)
{
    struct quote r = {.kind = QUOTE_CANCELLED};
    snprintf(r.error, sizeof r.error, "%s", why);
    while (q->batches) {
        struct queue_batch *b = q->batches;
        if (q->tr.cancel)
            q->tr.cancel(q->tr.ctx, b);
        for (size_t i = 0; i < b->n; i++)
            b->set[i] = 0;
        queue_batch_set_all(b, &r);
        queue_batch_done(q, b);
    }
    for (int i = 0; i < q->nproviders; i++)
        fail_pending(q, &q->providers[i], NULL, &r);
    while (q->backoff.head)
        complete_entry(q, q->backoff.head, &r);
}

void queue_get_counters(const struct fetch_queue *q, struct queue_counters *out)
{
    *out = q->c;
    out->queued = 0;
    for (int i = 0; i < q->nproviders; i++)
        out->queued += provider_queued(&q->providers[i]);
    out->in_flight = q->inflight.len;
    out->backoff = q->backoff.len;
    out->cached = q->cached.len;
    out->offline = q->offline;
}

void queue_set_rate_limit(struct fetch_queue *q, int provider, int per_minute)
{
    if (provider < 0 || provider >= q->nproviders)
        return;
    struct provider *p = &q->providers[provider];
    p->rate_per_minute = per_minute > 0 ? per_minute : 0;
    int64_t burst = per_minute / 10 > 1 ? per_minute / 10 : 1;
    p->burst_milli = burst * 1000;
    p->tokens_milli = p->burst_milli;
    p->refill_rem = 0;
    p->refilled_at = now_ms(q);
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

int queue_get_providers(const struct fetch_queue *q, struct queue_provider_info *out, int max)
{
    int64_t now = now_ms(q);
    for (int i = 0; i < q->nproviders && i < max; i++) {
        const struct provider *p = &q->providers[i];
        struct queue_provider_info *o = &out[i];
        memset(o, 0, sizeof *o);
        o->name = p->name;
        o->batches_in_flight = p->batches_in_flight;
        o->queued = provider_queued(p);
        o->requests = p->requests;
        o->refusals = p->refusals;
        o->refused = p->refused && p->paused_until > now;
        if (o->refused)
            util_strlcpy(o->pause_reason, p->pause_reason, sizeof o->pause_reason);
        o->errors = p->errors;
        for (size_t k = 0; k < p->nrecent; k++) {
            if (now - p->recent[k].at > RECENT_MS)
                continue;
            o->recent_requests++;
            o->recent_failed += p->recent[k].failed;
        }
        if (o->recent_failed > 0)
            util_strlcpy(o->last_error, p->last_error, sizeof o->last_error);
        o->paused_until = p->paused_until > now ? p->paused_until : 0;
        o->rate_per_minute = p->rate_per_minute;
        o->down = p->down;
        o->failovers_out = p->failovers_out;
        o->failovers_in = p->failovers_in;
        memcpy(o->failovers_to, p->failovers_to, sizeof o->failovers_to);
        memcpy(o->outcomes, p->outcomes, sizeof o->outcomes);
        memcpy(o->latency_buckets, p->latency_buckets, sizeof o->latency_buckets);
        o->latency_sum_ms = p->latency_sum_ms;
        if (p->nlatency > 0) {
            double sorted[LATENCY_RING];
            memcpy(sorted, p->latency, p->nlatency * sizeof sorted[0]);
            qsort(sorted, p->nlatency, sizeof sorted[0], cmp_double);
            o->latency_p50_ms = sorted[(p->nlatency - 1) / 2];
            o->latency_p95_ms = sorted[(p->nlatency - 1) * 95 / 100];
        }
    }
    return q->nproviders;
}

int64_t queue_next_event(const struct fetch_queue *q)
{
    int64_t next = -1;
#define EARLIER(t)                                                                                 \
    do {                                                                                           \
        if (next < 0 || (t) < next)                                                                \
            next = (t);                                                                            \
    } while (0)
    for (const struct entry *e = q->backoff.head; e; e = e->next)
        EARLIER(e->ready_at);
    for (int i = 0; i < q->nproviders; i++) {
        const struct provider *p = &q->providers[i];
        if (provider_queued(p) == 0)
            continue;
        int64_t now = now_ms(q);
        /* only a pause still to come: a past one would make the loop spin */
        if (p->paused_until > now)
            EARLIER(p->paused_until);
        /* backfill waits for a full bucket, everything else for a token */
        const struct list *bl = best_list((struct provider *)p);
        int64_t want = bl && bl->head->kind == QREQ_HISTORY ? p->burst_milli : 1000;
        if (p->rate_per_minute > 0 && p->tokens_milli < want)
            EARLIER(p->refilled_at +
                    ((want - p->tokens_milli) * 60 - p->refill_rem + p->rate_per_minute - 1) /
                        p->rate_per_minute);
        if (q->offline && q->next_probe > now)
            EARLIER(q->next_probe);
    }
#undef EARLIER
    return next;
}

size_t queue_outstanding(const struct fetch_queue *q)
{
    struct queue_counters c;
    queue_get_counters(q, &c);
    return c.queued + c.in_flight + c.backoff;
}
