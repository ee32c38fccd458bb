/*
 * upstream — see upstream.h.
 *
 * A job is one batch from the queue and exactly one HTTP request: the
 * provider's batch request, or its single-symbol request for a key the
 * queue sends alone. A key the batch answer lacks is handed back to the
 * queue (queue_batch_defer) rather than asked for here, so that every
 * request, fallbacks included, takes its turn under the queue's priority,
 * rate limit, pause and concurrency. When requests go is the queue's
 * business; what an answer means is ours.
 */
#include "upstream.h"
#include "log.h"
#include "provider.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>

#define UPSTREAM_MAX_HEADERS 4

struct job {
    struct upstream *u;
    struct queue_batch *batch;
    const struct provider *p;
    int single;             /* the provider's single-symbol request */
    int history;            /* the provider's history request */
    size_t n;               /* keys this request carries (a prefix of the batch) */
    const char **syms;      /* borrowed from the batch */
    struct fetch_handle *h; /* NULL once answered */
    TAILQ_ENTRY(job) link;
};

TAILQ_HEAD(job_list, job);

struct upstream {
    struct loop *loop;
    struct fetcher *f;
    const struct config *c;
    struct fetch_queue *q;
    struct job_list jobs;
    struct upstream_counters cnt;
    upstream_history_cb history_cb;
    void *history_cls;
};

static void up_job_free(struct job *j)
{
    if (j == NULL)
        return;
    free(j->syms);
    free(j);
}

static void up_set(struct job *j, size_t i, struct quote *q, const char *provider, long status)
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
    queue_batch_set(j->batch, i, q);
}

/* Every reason a person reads names the provider, and the HTTP status
 * when it was not 200: "yahoo: HTTP 404: No data found, …". */
static void up_fail(struct job *j, size_t i, enum quote_error_kind kind, int http, int retry_after,
                    int refused, const char *why)
{
    struct quote r = {
        .kind = kind, .http_status = http, .retry_after_s = retry_after, .refused = refused};
    snprintf(r.error, sizeof r.error, "%.20s: %.170s", j->p->name, why);
    queue_batch_set(j->batch, i, &r);
}

int upstream_refusal(const struct fetch_response *r, char *why, size_t whylen)
{
    char snip[64];
    util_snippet(r->body, r->len, 48, snip, sizeof snip);
    if (r->http_status == 401 || r->http_status == 403) {
        snprintf(why, whylen, "HTTP %ld: refused (\"%s\")", r->http_status, snip);
        return 1;
    }
    if (r->http_status != 200)
        return 0;
    size_t k = 0;
    while (k < r->len &&
           (r->body[k] == ' ' || r->body[k] == '\n' || r->body[k] == '\r' || r->body[k] == '\t'))
        k++;
    int html = strstr(r->content_type, "html") != NULL || (k < r->len && r->body[k] == '<');
    if (html) {
        snprintf(why, whylen, "answered an HTML page, not data (a consent or block page?): \"%s\"",
                 snip);
        return 1;
    }
    if (k == r->len) {
        snprintf(why, whylen, "answered an empty body");
        return 1;
    }
    if (r->body[k] != '{' && r->body[k] != '[') {
        snprintf(why, whylen, "answered text, not JSON: \"%s\"", snip);
        return 1;
    }
    return 0;
}

/* What one answer says about keys [0, j->n) of the batch. Sets a quote
 * for each key it decides; hands the others to the single-symbol request
 * (queue_batch_defer) when the provider has one, or fails them. */
static void up_judge(struct job *j, const struct fetch_response *r)
{
    const char *name = j->p->name;
    int (*parse)(json_object *, const char *const *, size_t, struct quote *, unsigned char *,
                 char *, size_t) = j->single ? j->p->fallback_parse : j->p->parse;
    int can_defer = !j->single && j->p->fallback_url != NULL && j->p->fallback_parse != NULL;
    size_t n = j->n;
    char why[200];
    char err[160];
    struct quote *qs = calloc(n ? n : 1, sizeof *qs);
    unsigned char *found = calloc(n ? n : 1, 1);
    json_object *root = NULL;
    if (qs == NULL || found == NULL) {
        for (size_t i = 0; i < n; i++)
            up_fail(j, i, QUOTE_TRANSIENT, 0, 0, 0, "out of memory");
        goto out;
    }
    if (r->kind != QUOTE_OK) {
        /* Transport trouble; fetch's reason never holds the URL. When the
         * server did answer (too large, a bad redirect) one poisoned symbol
         * may be the cause: each gets a request of its own. A TLS failure
         * or a timeout is the host's, not a symbol's. */
        int split = can_defer && n > 1 && r->kind == QUOTE_PERMANENT && r->http_status != 0;
        for (size_t i = 0; i < n; i++) {
            if (split)
                queue_batch_defer(j->batch, i, 1);
            else
                up_fail(j, i, r->kind, (int)r->http_status, 0, 0, r->error);
        }
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
            up_fail(j, i, QUOTE_TRANSIENT, (int)r->http_status,
                    r->http_status == 429 ? r->retry_after_s : 0, 0, why);
        goto out;
    }
    /* A refusal is the provider's, not a symbol's: asking again per symbol
     * would multiply the traffic that caused it. The queue pauses it. */
    if (upstream_refusal(r, why, sizeof why)) {
        /* a JSON refusal may say why in the provider's own format */
        root = provider_parse_json(r->body, r->len, r->content_type, err, sizeof err);
        if (root != NULL && parse(root, j->syms, n, qs, found, err, sizeof err) != 0)
            snprintf(why, sizeof why, "HTTP %ld: refused: %.160s", r->http_status, err);
        for (size_t i = 0; i < n; i++)
            up_fail(j, i, QUOTE_PERMANENT, (int)r->http_status, 0, 1, why);
        j->u->cnt.refused++;
        goto out;
    }
    root = provider_parse_json(r->body, r->len, r->content_type, err, sizeof err);
    if (root == NULL && strcmp(err, PROVIDER_ERR_OOM) == 0) {
        /* ours, not the provider's: no refusal, no pause; asked again */
        for (size_t i = 0; i < n; i++)
            up_fail(j, i, QUOTE_TRANSIENT, (int)r->http_status, 0, 0,
                    "out of memory reading the answer");
        goto out;
    }
    if (root == NULL && r->http_status == 200) {
        /* a 200 that is not JSON at all is no answer about any symbol */
        for (size_t i = 0; i < n; i++)
            up_fail(j, i, QUOTE_PERMANENT, 200, 0, 1, err);
        j->u->cnt.refused++;
        goto out;
    }
    int rc = -1;
    if (root != NULL)
        rc = parse(root, j->syms, n, qs, found, err, sizeof err);
    if (r->http_status != 200) {
        /* A 4xx may still explain itself in the provider's own format
         * (Yahoo's 404 says "No data found, symbol may be delisted"); its
         * reason, else the status and a snippet, for the keys it does not
         * decide, unless the single-symbol request may still find them. */
        char snip[64];
        util_snippet(r->body, r->len, 48, snip, sizeof snip);
        if (rc != 0 && root != NULL)
            snprintf(why, sizeof why, "HTTP %ld: %.150s", r->http_status, err);
        else
            snprintf(why, sizeof why, "HTTP %ld: \"%s\"", r->http_status, snip);
        for (size_t i = 0; i < n; i++) {
            if (rc == 0 && found[i])
                up_set(j, i, &qs[i], name, r->http_status);
            else if (can_defer)
                queue_batch_defer(j->batch, i, 1);
            else
                up_fail(j, i, QUOTE_PERMANENT, (int)r->http_status, 0, 0, why);
        }
        goto out;
    }
    if (rc != 0) {
        /* JSON of a shape we do not know: the single-symbol request may
         * still be readable (each takes its own token) */
        for (size_t i = 0; i < n; i++) {
            if (can_defer)
                queue_batch_defer(j->batch, i, 1);
            else
                up_fail(j, i, QUOTE_PERMANENT, 200, 0, 0, err);
        }
        goto out;
    }
    for (size_t i = 0; i < n; i++) {
        if (found[i]) {
            up_set(j, i, &qs[i], name, 200);
        } else if (can_defer) {
            queue_batch_defer(j->batch, i, 1);
            j->u->cnt.fallback_keys++;
        } else {
            snprintf(why, sizeof why, "symbol %.40s missing from the answer", j->syms[i]);
            up_fail(j, i, QUOTE_PERMANENT, 200, 0, 0, why);
        }
    }
out:
    json_object_put(root);
    free(qs);
    free(found);
}

/* A history answer (one key): the status first, as up_judge does; then
 * the provider's history parse; the series to the sink. */
static void up_judge_history(struct job *j, const struct fetch_response *r)
{
    const char *name = j->p->name;
    char why[200], err[160];
    struct quote q = {0};
    json_object *root = NULL;
    struct history_series *hs = NULL;
    if (r->kind != QUOTE_OK) {
        up_fail(j, 0, r->kind, (int)r->http_status, 0, 0, r->error);
        goto out;
    }
    if (r->http_status == 429 || r->http_status >= 500) {
        snprintf(why, sizeof why, "HTTP %ld (%s)", r->http_status,
                 r->http_status == 429 ? "rate limited" : "server error");
        up_fail(j, 0, QUOTE_TRANSIENT, (int)r->http_status,
                r->http_status == 429 ? r->retry_after_s : 0, 0, why);
        goto out;
    }
    if (upstream_refusal(r, why, sizeof why)) {
        up_fail(j, 0, QUOTE_PERMANENT, (int)r->http_status, 0, 1, why);
        j->u->cnt.refused++;
        goto out;
    }
    root = provider_parse_json(r->body, r->len, r->content_type, err, sizeof err);
    hs = history_new();
    if (root == NULL || hs == NULL) {
        up_fail(j, 0, QUOTE_PERMANENT, (int)r->http_status, 0,
                root == NULL && r->http_status == 200, root == NULL ? err : "out of memory");
        goto out;
    }
    if (j->p->history_parse(root, j->syms[0], hs, &q, err, sizeof err) != 0) {
        up_fail(j, 0, QUOTE_PERMANENT, (int)r->http_status, 0, 0, err);
        goto out;
    }
    if (q.kind == QUOTE_OK && r->http_status != 200) {
        q.kind = QUOTE_PERMANENT;
        snprintf(q.error, sizeof q.error, "history answered with a price series");
    }
    if (q.kind == QUOTE_OK && j->u->history_cb != NULL) {
        j->u->history_cb(name, j->syms[0], hs, j->u->history_cls);
        hs = NULL;
    }
    up_set(j, 0, &q, name, r->http_status);
out:
    history_free(hs);
    json_object_put(root);
}

static void up_on_response(const struct fetch_response *r, void *cls)
{
    struct job *j = cls;
    struct upstream *u = j->u;
    j->h = NULL; /* fetch frees it after we return */
    if (j->history)
        up_judge_history(j, r);
    else
        up_judge(j, r);
    if (r->elapsed_ms > 0)
        queue_batch_note_latency(j->batch, r->elapsed_ms);
    TAILQ_REMOVE(&u->jobs, j, link);
    queue_batch_done(u->q, j->batch);
    up_job_free(j);
}

/* Builds the request URL for as many of the batch's keys as fit, from
 * the front; the rest go back to the queue for a later request. Returns
 * how many the URL carries, 0 when not even one fits. */
static size_t up_build_url(const struct provider *p, const struct config *c, int single,
                           const char **syms, size_t n, char *url)
{
    int (*build)(const struct config *, const char *const *, size_t, char *, size_t) =
        single ? p->fallback_url : p->build_url;
    if (build(c, syms, n, url, PROVIDER_URL_MAX) == 0)
        return n;
    size_t lo = 0, hi = n; /* lo fits (or is 0), hi does not */
    while (hi - lo > 1) {
        size_t mid = lo + (hi - lo) / 2;
        if (build(c, syms, mid, url, PROVIDER_URL_MAX) == 0)
            lo = mid;
        else
            hi = mid;
    }
    if (lo > 0 && build(c, syms, lo, url, PROVIDER_URL_MAX) != 0)
        lo = 0;
    return lo;
}

static int up_start(void *ctx, struct queue_batch *b)
{
    struct upstream *u = ctx;
    const struct provider *p = provider_find(queue_batch_provider(b));
    if (p == NULL)
        return -1;
    int single = queue_batch_kind(b) == QREQ_SINGLE;
    int history = queue_batch_kind(b) == QREQ_HISTORY;
    if (single && (p->fallback_url == NULL || p->fallback_parse == NULL))
        return -1;
    if (history && (p->history_url == NULL || p->history_parse == NULL))
        return -1;
    size_t n = queue_batch_size(b);
    char *url = malloc(PROVIDER_URL_MAX);
    struct job *j = calloc(1, sizeof *j);
    int rc = -1;
    if (url == NULL || j == NULL)
        goto out;
    j->syms = calloc(n ? n : 1, sizeof *j->syms);
    if (j->syms == NULL)
        goto out;
    for (size_t i = 0; i < n; i++)
        j->syms[i] = queue_batch_symbol(b, i);
    size_t fit = history ? (n == 1 && p->history_url(u->c, j->syms[0], url, PROVIDER_URL_MAX) == 0)
                         : up_build_url(p, u->c, single, j->syms, n, url);
    if (fit == 0) {
        log_msg(LOG_ERROR, "%s: cannot build a request URL for %s (symbol too long?)", p->name,
                j->syms[0]);
        goto out;
    }
    for (size_t i = fit; i < n; i++)
        queue_batch_defer(b, i, 0);
    char hdrs[UPSTREAM_MAX_HEADERS][PROVIDER_HEADER_MAX];
    const char *hp[UPSTREAM_MAX_HEADERS + 2] = {"Accept: application/json"};
    size_t nh = p->headers ? p->headers(u->c, hdrs, UPSTREAM_MAX_HEADERS) : 0;
    for (size_t i = 0; i < nh; i++)
        hp[i + 1] = hdrs[i];
    hp[nh + 1] = NULL;
    j->u = u;
    j->batch = b;
    j->p = p;
    j->single = single;
    j->history = history;
    j->n = fit;
    j->h = fetch_start(u->f, url, hp, up_on_response, j);
    if (j->h == NULL)
        goto out;
    u->cnt.requests++;
    if (single)
        u->cnt.fallback_requests++;
    if (history)
        u->cnt.history_requests++;
    TAILQ_INSERT_HEAD(&u->jobs, j, link);
    j = NULL;
    rc = 0;
out:
    up_job_free(j);
    free(url);
    return rc;
}

static void up_cancel(void *ctx, struct queue_batch *b)
{
    struct upstream *u = ctx;
    struct job *j;
    TAILQ_FOREACH(j, &u->jobs, link)
    {
        if (j->batch == b) {
            TAILQ_REMOVE(&u->jobs, j, link);
            fetch_cancel(u->f, j->h);
            up_job_free(j);
            return;
        }
    }
}

static int64_t up_now(void *ctx)
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
    TAILQ_INIT(&u->jobs);
    return u;
}

void upstream_free(struct upstream *u)
{
    if (u == NULL)
        return;
    struct job *j;
    while ((j = TAILQ_FIRST(&u->jobs)) != NULL) {
        TAILQ_REMOVE(&u->jobs, j, link);
        fetch_cancel(u->f, j->h);
        up_job_free(j);
    }
    free(u);
}

struct queue_transport upstream_transport(struct upstream *u)
{
    return (struct queue_transport){
        .start = up_start, .cancel = up_cancel, .now = up_now, .ctx = u};
}

void upstream_set_history_sink(struct upstream *u, upstream_history_cb cb, void *cls)
{
    u->history_cb = cb;
    u->history_cls = cls;
}

void upstream_attach(struct upstream *u, struct fetch_queue *q)
{
    u->q = q;
}

void upstream_get_counters(const struct upstream *u, struct upstream_counters *out)
{
    *out = u->cnt;
}
