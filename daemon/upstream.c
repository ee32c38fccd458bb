/*
 * upstream — see upstream.h.
 *
 * A job is one batch from the queue. Its life: the batch request (one
 * provider request for every key); then, if the provider has a fallback
 * kind and some keys are still without a quote, one fallback request per
 * such key, at most UPSTREAM_FALLBACK_PARALLEL at a time; then
 * queue_batch_done(). The queue sees one batch either way; the requests it
 * cost are counted here (upstream_get_counters) and in fetch
 * (fetcher_requests).
 */
#include "upstream.h"
#include "log.h"
#include "provider.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define UPSTREAM_MAX_HEADERS 4
/* Fallback requests of one job in flight at once: a batch rarely lacks
 * more than a symbol or two, and a whole batch split into singles should
 * not open twenty connections to an upstream at once. */
#define UPSTREAM_FALLBACK_PARALLEL 4

struct job;

struct fallback {
    struct job *j;
    size_t key; /* index in the batch */
    struct fetch_handle *h;
};

struct job {
    struct upstream *u;
    struct queue_batch *batch;
    const struct provider *p;
    size_t n;
    const char **syms;      /* borrowed from the batch */
    unsigned char *decided; /* decided[i]: key i has its quote */
    struct fetch_handle *h; /* the batch request; NULL once answered */
    size_t *todo;           /* keys waiting for a fallback request */
    size_t ntodo, next_todo;
    struct fallback fb[UPSTREAM_FALLBACK_PARALLEL];
    int fb_running;
    double latency_ms;
    struct job *prev, *next;
};

struct upstream {
    struct loop *loop;
    struct fetcher *f;
    const struct config *c;
    struct fetch_queue *q;
    struct job *jobs;
    struct upstream_counters cnt;
};

static void job_unlink(struct upstream *u, struct job *j)
{
    if (j->prev)
        j->prev->next = j->next;
    else
        u->jobs = j->next;
    if (j->next)
        j->next->prev = j->prev;
    j->prev = j->next = NULL;
}

static void job_free(struct job *j)
{
    if (j == NULL)
        return;
    free(j->syms);
    free(j->decided);
    free(j->todo);
    free(j);
}

/* Cancels whatever the job still has in flight (no callback will run). */
static void job_cancel_fetches(struct job *j)
{
    if (j->h) {
        fetch_cancel(j->u->f, j->h);
        j->h = NULL;
    }
    for (int k = 0; k < UPSTREAM_FALLBACK_PARALLEL; k++) {
        if (j->fb[k].h) {
            fetch_cancel(j->u->f, j->fb[k].h);
            j->fb[k].h = NULL;
        }
    }
}

/* Every reason a person reads names the provider, and the HTTP status
 * when it was not 200: "yahoo: HTTP 404: No data found, …". */
static void decide(struct job *j, size_t i, const struct quote *q)
{
    j->decided[i] = 1;
    queue_batch_set(j->batch, i, q);
}

static void set_found(struct job *j, size_t i, struct quote *q, const char *provider, long status)
{
    q->http_status = (int)status;
    if (q->kind != QUOTE_OK) {
        char why[sizeof q->error];
        memcpy(why, q->error, sizeof why);
        if (status != 200)
            snprintf(q->error, sizeof q->error, "%s: HTTP %ld: %.150s", provider, status, why);
        else
            snprintf(q->error, sizeof q->error, "%s: %.160s", provider, why);
    }
    decide(j, i, q);
}

static void fail_one(struct job *j, size_t i, enum quote_error_kind kind, int http, int retry_after,
                     const char *provider, const char *why)
{
    struct quote r = {.kind = kind, .http_status = http, .retry_after_s = retry_after};
    snprintf(r.error, sizeof r.error, "%.20s: %.170s", provider, why);
    decide(j, i, &r);
}

/* What one answer (batch or fallback) says about keys[0..n) of the batch.
 * Sets a quote for each key the answer decides and leaves the others
 * unset. Returns 1 when the answer as a whole was unusable in a way that
 * is not transient (the keys were failed with that reason), else 0. */
static int judge(struct job *j, const struct fetch_response *r, const size_t *keys, size_t n,
                 int fallback)
{
    const char *name = j->p->name;
    int (*parse)(json_object *, const char *const *, size_t, struct quote *, unsigned char *,
                 char *, size_t) = fallback ? j->p->fallback_parse : j->p->parse;
    char why[200];
    char err[160];
    int unusable = 0;
    const char **syms = calloc(n ? n : 1, sizeof *syms);
    struct quote *qs = calloc(n ? n : 1, sizeof *qs);
    unsigned char *found = calloc(n ? n : 1, 1);
    json_object *root = NULL;
    if (syms == NULL || qs == NULL || found == NULL) {
        for (size_t i = 0; i < n; i++)
            fail_one(j, keys[i], QUOTE_TRANSIENT, 0, 0, name, "out of memory");
        goto out;
    }
    for (size_t i = 0; i < n; i++)
        syms[i] = j->syms[keys[i]];

    if (r->kind != QUOTE_OK) {
        /* transport trouble; fetch's reason never holds the URL */
        for (size_t i = 0; i < n; i++)
            fail_one(j, keys[i], r->kind, (int)r->http_status, 0, name, r->error);
        /* Split only when the server did answer (too large, a bad
         * redirect): a TLS failure is the host's, not a symbol's. */
        unusable = r->kind == QUOTE_PERMANENT && r->http_status != 0;
        goto out;
    }
    /* The status first: a 429 or 5xx may pass, whatever its body says. */
    if (r->http_status == 429 || r->http_status >= 500) {
        if (r->http_status >= 500)
            snprintf(why, sizeof why, "HTTP %ld (server error)", r->http_status);
        else if (r->retry_after_s > 0)
            snprintf(why, sizeof why, "HTTP 429 (rate limited, Retry-After %d s)",
                     r->retry_after_s);
        else
            snprintf(why, sizeof why, "HTTP 429 (rate limited)");
        for (size_t i = 0; i < n; i++)
            fail_one(j, keys[i], QUOTE_TRANSIENT, (int)r->http_status,
                     r->http_status == 429 ? r->retry_after_s : 0, name, why);
        goto out;
    }
    root = provider_parse_json(r->body, r->len, r->content_type, err, sizeof err);
    int rc = -1;
    if (root != NULL)
        rc = parse(root, syms, n, qs, found, err, sizeof err);
    if (r->http_status != 200) {
        /* A 4xx may still explain itself in the provider's own format
         * (Yahoo's 404 says "No data found, symbol may be delisted");
         * keys it does not explain fail with the status and a snippet,
         * unless a fallback may still find them. */
        char snip[64];
        util_snippet(r->body, r->len, 48, snip, sizeof snip);
        snprintf(why, sizeof why, "HTTP %ld: \"%s\"", r->http_status, snip);
        for (size_t i = 0; i < n; i++) {
            if (rc == 0 && found[i])
                set_found(j, keys[i], &qs[i], name, r->http_status);
            else if (rc != 0 || fallback || j->p->fallback_url == NULL)
                fail_one(j, keys[i], QUOTE_PERMANENT, (int)r->http_status, 0, name, why);
        }
        unusable = rc != 0;
        goto out;
    }
    if (rc != 0) {
        for (size_t i = 0; i < n; i++)
            fail_one(j, keys[i], QUOTE_PERMANENT, 200, 0, name, err);
        unusable = 1;
        goto out;
    }
    for (size_t i = 0; i < n; i++) {
        if (found[i]) {
            set_found(j, keys[i], &qs[i], name, 200);
        } else if (fallback) {
            snprintf(why, sizeof why, "symbol %.40s missing from the answer", syms[i]);
            fail_one(j, keys[i], QUOTE_PERMANENT, 200, 0, name, why);
        }
    }
out:
    json_object_put(root);
    free(syms);
    free(qs);
    free(found);
    return unusable;
}

static void job_finish(struct job *j)
{
    struct upstream *u = j->u;
    job_unlink(u, j);
    if (j->latency_ms > 0)
        queue_batch_note_latency(j->batch, j->latency_ms);
    queue_batch_done(u->q, j->batch);
    job_free(j);
}

static void on_fallback(const struct fetch_response *r, void *cls);

/* Starts fallback requests while there is room; finishes the job when
 * nothing is left to do. */
static void pump(struct job *j)
{
    struct upstream *u = j->u;
    char *url = NULL;
    while (j->next_todo < j->ntodo && j->fb_running < UPSTREAM_FALLBACK_PARALLEL) {
        size_t key = j->todo[j->next_todo++];
        int slot = 0;
        while (j->fb[slot].h != NULL)
            slot++;
        if (url == NULL)
            url = malloc(PROVIDER_URL_MAX);
        const char *sym[1] = {j->syms[key]};
        if (url == NULL || j->p->fallback_url(u->c, sym, 1, url, PROVIDER_URL_MAX) != 0) {
            fail_one(j, key, QUOTE_PERMANENT, 0, 0, j->p->name,
                     "cannot build the single-symbol request (symbol too long?)");
            continue;
        }
        const char *hp[UPSTREAM_MAX_HEADERS + 2];
        char hdrs[UPSTREAM_MAX_HEADERS][PROVIDER_HEADER_MAX];
        hp[0] = "Accept: application/json";
        size_t nh = j->p->headers ? j->p->headers(u->c, hdrs, UPSTREAM_MAX_HEADERS) : 0;
        for (size_t i = 0; i < nh; i++)
            hp[i + 1] = hdrs[i];
        hp[nh + 1] = NULL;
        j->fb[slot].j = j;
        j->fb[slot].key = key;
        j->fb[slot].h = fetch_start(u->f, url, hp, on_fallback, &j->fb[slot]);
        if (j->fb[slot].h == NULL) {
            fail_one(j, key, QUOTE_TRANSIENT, 0, 0, j->p->name, "could not start a request");
            continue;
        }
        j->fb_running++;
        u->cnt.requests++;
        u->cnt.fallback_requests++;
    }
    free(url);
    if (j->fb_running == 0 && j->next_todo >= j->ntodo)
        job_finish(j);
}

static void on_fallback(const struct fetch_response *r, void *cls)
{
    struct fallback *fb = cls;
    struct job *j = fb->j;
    fb->h = NULL; /* fetch frees it after we return */
    j->fb_running--;
    size_t key = fb->key;
    judge(j, r, &key, 1, 1);
    pump(j);
}

/* The batch answer is in: decide what it can, then send the fallback
 * requests for the rest. */
static void on_response(const struct fetch_response *r, void *cls)
{
    struct job *j = cls;
    j->h = NULL;
    j->latency_ms = r->elapsed_ms;
    size_t *all = calloc(j->n ? j->n : 1, sizeof *all);
    if (all == NULL) {
        struct quote q = {.kind = QUOTE_TRANSIENT};
        snprintf(q.error, sizeof q.error, "%s: out of memory", j->p->name);
        queue_batch_set_all(j->batch, &q);
        job_finish(j);
        return;
    }
    for (size_t i = 0; i < j->n; i++)
        all[i] = i;
    int unusable = judge(j, r, all, j->n, 0);
    if (j->p->fallback_url != NULL && j->p->fallback_parse != NULL) {
        /* Keys still without a quote: the answer lacked them. If the answer
         * was unusable as a whole and carried several keys, each key gets a
         * request of its own, so a poisoned symbol fails alone. */
        size_t nt = 0;
        for (size_t i = 0; i < j->n; i++)
            if (!j->decided[i] || (unusable && j->n > 1))
                all[nt++] = i;
        j->todo = all;
        j->ntodo = nt;
        all = NULL;
        j->u->cnt.fallback_keys += nt;
    }
    free(all);
    pump(j);
}

static int start(void *ctx, struct queue_batch *b)
{
    struct upstream *u = ctx;
    const struct provider *p = provider_find(queue_batch_provider(b));
    if (p == NULL)
        return -1;
    size_t n = queue_batch_size(b);
    char *url = malloc(PROVIDER_URL_MAX);
    struct job *j = calloc(1, sizeof *j);
    int rc = -1;
    if (url == NULL || j == NULL)
        goto out;
    j->syms = calloc(n ? n : 1, sizeof *j->syms);
    j->decided = calloc(n ? n : 1, 1);
    if (j->syms == NULL || j->decided == NULL)
        goto out;
    for (size_t i = 0; i < n; i++)
        j->syms[i] = queue_batch_symbol(b, i);
    if (p->build_url(u->c, j->syms, n, url, PROVIDER_URL_MAX) != 0) {
        log_msg(LOG_ERROR, "%s: request URL for %zu symbols is too long", p->name, n);
        goto out;
    }
    char hdrs[UPSTREAM_MAX_HEADERS][PROVIDER_HEADER_MAX];
    const char *hp[UPSTREAM_MAX_HEADERS + 2] = {"Accept: application/json"};
    size_t nh = p->headers ? p->headers(u->c, hdrs, UPSTREAM_MAX_HEADERS) : 0;
    for (size_t i = 0; i < nh; i++)
        hp[i + 1] = hdrs[i];
    hp[nh + 1] = NULL;
    j->u = u;
    j->batch = b;
    j->p = p;
    j->n = n;
    j->h = fetch_start(u->f, url, hp, on_response, j);
    if (j->h == NULL)
        goto out;
    u->cnt.requests++;
    j->next = u->jobs;
    if (u->jobs)
        u->jobs->prev = j;
    u->jobs = j;
    j = NULL;
    rc = 0;
out:
    job_free(j);
    free(url);
    return rc;
}

static void cancel(void *ctx, struct queue_batch *b)
{
    struct upstream *u = ctx;
    for (struct job *j = u->jobs; j; j = j->next) {
        if (j->batch == b) {
            job_unlink(u, j);
            job_cancel_fetches(j);
            job_free(j);
            return;
        }
    }
}

static int64_t now(void *ctx)
{
    struct upstream *u = ctx;
    return loop_now(u->loop);
}

struct upstream *upstream_new(struct loop *l, struct fetcher *f, const struct config *c)
{
    struct upstream *u = calloc(1, sizeof *u);
    if (u == NULL)
        return NULL;
    u->loop = l;
    u->f = f;
    u->c = c;
    return u;
}

void upstream_free(struct upstream *u)
{
    if (u == NULL)
        return;
    while (u->jobs) {
        struct job *j = u->jobs;
        job_unlink(u, j);
        job_cancel_fetches(j);
        job_free(j);
    }
    free(u);
}

struct queue_transport upstream_transport(struct upstream *u)
{
    return (struct queue_transport){.start = start, .cancel = cancel, .now = now, .ctx = u};
}

void upstream_attach(struct upstream *u, struct fetch_queue *q)
{
    u->q = q;
}

void upstream_get_counters(const struct upstream *u, struct upstream_counters *out)
{
    *out = u->cnt;
}
