/*
 * upstream — see upstream.h.
 */
#include "upstream.h"
#include "log.h"
#include "provider.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define UPSTREAM_MAX_HEADERS 4

struct job {
    struct upstream *u;
    struct queue_batch *batch;
    const struct provider *p;
    struct fetch_handle *h;
    struct job *prev, *next;
};

struct upstream {
    struct loop *loop;
    struct fetcher *f;
    const struct config *c;
    struct fetch_queue *q;
    struct job *jobs;
};

static void job_unlink(struct upstream *u, struct job *j)
{
    if (j->prev)
        j->prev->next = j->next;
    else
        u->jobs = j->next;
    if (j->next)
        j->next->prev = j->prev;
}

/* Every reason a person reads names the provider, and the HTTP status
 * when it was not 200: "yahoo: HTTP 404: No data found, …". */
static void set_found(struct queue_batch *b, size_t i, struct quote *q, const char *provider,
                      long status)
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
    queue_batch_set(b, i, q);
}

static void fail_all(struct queue_batch *b, enum quote_error_kind kind, int http, int retry_after,
                     const char *provider, const char *why)
{
    struct quote r = {.kind = kind, .http_status = http, .retry_after_s = retry_after};
    snprintf(r.error, sizeof r.error, "%s: %s", provider, why);
    queue_batch_set_all(b, &r);
}

/* Non-200 answers, judged by status before any parsing: a 429 or 5xx may
 * pass; other 4xx will not. */
static void judge_status(struct job *j, const struct fetch_response *r, const char **syms, size_t n)
{
    char why[160];
    char snip[64];
    util_snippet(r->body, r->len, 48, snip, sizeof snip);
    if (r->http_status == 429) {
        snprintf(why, sizeof why, "HTTP 429 (rate limited)%s",
                 r->retry_after_s > 0 ? ", Retry-After given" : "");
        fail_all(j->batch, QUOTE_TRANSIENT, 429, r->retry_after_s, j->p->name, why);
        return;
    }
    if (r->http_status >= 500) {
        snprintf(why, sizeof why, "HTTP %ld (server error)", r->http_status);
        fail_all(j->batch, QUOTE_TRANSIENT, (int)r->http_status, 0, j->p->name, why);
        return;
    }
    /* A 4xx may still explain itself in the provider's own format (Yahoo's
     * 404 says "No data found, symbol may be delisted"). */
    char err[160];
    json_object *root = provider_parse_json(r->body, r->len, r->content_type, err, sizeof err);
    if (root != NULL) {
        struct quote *qs = calloc(n, sizeof *qs);
        unsigned char *found = calloc(n, 1);
        if (qs && found && j->p->parse(root, syms, n, qs, found, err, sizeof err) == 0) {
            for (size_t i = 0; i < n; i++)
                if (found[i] && qs[i].kind != QUOTE_OK)
                    set_found(j->batch, i, &qs[i], j->p->name, r->http_status);
        }
        free(qs);
        free(found);
        json_object_put(root);
    }
    snprintf(why, sizeof why, "HTTP %ld: \"%s\"", r->http_status, snip);
    fail_all(j->batch, QUOTE_PERMANENT, (int)r->http_status, 0, j->p->name, why);
}

static void on_response(const struct fetch_response *r, void *cls)
{
    struct job *j = cls;
    struct upstream *u = j->u;
    job_unlink(u, j);
    struct queue_batch *b = j->batch;
    size_t n = queue_batch_size(b);
    const char **syms = calloc(n ? n : 1, sizeof *syms);
    struct quote *qs = calloc(n ? n : 1, sizeof *qs);
    unsigned char *found = calloc(n ? n : 1, 1);
    if (syms == NULL || qs == NULL || found == NULL) {
        fail_all(b, QUOTE_TRANSIENT, 0, 0, j->p->name, "out of memory");
        goto out;
    }
    for (size_t i = 0; i < n; i++)
        syms[i] = queue_batch_symbol(b, i);

    if (r->kind != QUOTE_OK) {
        fail_all(b, r->kind, (int)r->http_status, 0, j->p->name, r->error);
        goto out;
    }
    if (r->http_status != 200) {
        judge_status(j, r, syms, n);
        goto out;
    }
    char err[160];
    json_object *root = provider_parse_json(r->body, r->len, r->content_type, err, sizeof err);
    if (root == NULL) {
        fail_all(b, QUOTE_PERMANENT, 200, 0, j->p->name, err);
        goto out;
    }
    if (j->p->parse(root, syms, n, qs, found, err, sizeof err) != 0) {
        fail_all(b, QUOTE_PERMANENT, 200, 0, j->p->name, err);
    } else {
        for (size_t i = 0; i < n; i++)
            if (found[i])
                set_found(b, i, &qs[i], j->p->name, 200);
    }
    json_object_put(root);
out:
    free(syms);
    free(qs);
    free(found);
    queue_batch_done(u->q, b);
    free(j);
}

static int start(void *ctx, struct queue_batch *b)
{
    struct upstream *u = ctx;
    const struct provider *p = provider_find(queue_batch_provider(b));
    if (p == NULL)
        return -1;
    size_t n = queue_batch_size(b);
    const char **syms = calloc(n, sizeof *syms);
    char *url = malloc(PROVIDER_URL_MAX);
    struct job *j = calloc(1, sizeof *j);
    int rc = -1;
    if (syms == NULL || url == NULL || j == NULL)
        goto out;
    for (size_t i = 0; i < n; i++)
        syms[i] = queue_batch_symbol(b, i);
    if (p->build_url(u->c, syms, n, url, PROVIDER_URL_MAX) != 0) {
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
    j->h = fetch_start(u->f, url, hp, on_response, j);
    if (j->h == NULL)
        goto out;
    j->next = u->jobs;
    if (u->jobs)
        u->jobs->prev = j;
    u->jobs = j;
    j = NULL;
    rc = 0;
out:
    free(j);
    free(url);
    free(syms);
    return rc;
}

static void cancel(void *ctx, struct queue_batch *b)
{
    struct upstream *u = ctx;
    for (struct job *j = u->jobs; j; j = j->next) {
        if (j->batch == b) {
            job_unlink(u, j);
            fetch_cancel(u->f, j->h);
            free(j);
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
        fetch_cancel(u->f, j->h);
        free(j);
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
