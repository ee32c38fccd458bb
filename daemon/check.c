/*
 * check — see check.h. Runs its own loop and fetcher: the daemon's are not
 * started, so a broken database cannot hide a broken provider.
 */
#include "check.h"
#include "fetch.h"
#include "loop.h"
#include "provider.h"
#include "upstream.h"
#include "util.h"
#include "validate.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct chk_probe {
    const char *provider, *symbol, *currency;
    const struct provider *p;
    const struct config *c;
    struct loop *loop;
    int *pending;
    int ok;
};

/* The reason a transport failure gives, with the layer it failed at. */
static const char *chk_layer(const struct fetch_response *r)
{
    if (strstr(r->error, "resolve"))
        return "DNS";
    if (strstr(r->error, "TLS"))
        return "TLS";
    if (strstr(r->error, "connect"))
        return "connection";
    if (strstr(r->error, "time"))
        return "timeout";
    return "transfer";
}

static void chk_report(struct chk_probe *pr, const struct fetch_response *r)
{
    char why[200];
    char err[160] = "";
    printf("%-10s %-8s ", pr->provider, pr->symbol);
    if (r->kind != QUOTE_OK) {
        printf("FAILED  %s: %s\n", chk_layer(r), r->error);
        return;
    }
    if (upstream_refusal(r, why, sizeof why)) {
        printf("FAILED  refused: %s (%.0f ms)\n", why, r->elapsed_ms);
        return;
    }
    if (r->http_status == 429) {
        printf("FAILED  HTTP 429: rate limited%s (%.0f ms)\n",
               r->retry_after_s > 0 ? ", see Retry-After" : "", r->elapsed_ms);
        return;
    }
    json_object *root = provider_parse_json(r->body, r->len, r->content_type, err, sizeof err);
    struct quote q;
    memset(&q, 0, sizeof q);
    unsigned char found = 0;
    const char *sym[1] = {pr->symbol};
    int rc = root ? pr->p->parse(root, sym, 1, &q, &found, err, sizeof err) : -1;
    json_object_put(root);
    if (rc != 0) {
        printf("FAILED  HTTP %ld: %s (%.0f ms)\n", r->http_status, err, r->elapsed_ms);
        return;
    }
    if (!found) {
        printf("FAILED  HTTP %ld: the answer carries no usable price for %s (shape changed?) "
               "(%.0f ms)\n",
               r->http_status, pr->symbol, r->elapsed_ms);
        return;
    }
    char quoted[8];
    util_strlcpy(quoted, q.currency, sizeof quoted);
    validate_quote(&q, pr->currency, util_wall_ms() / 1000, pr->c->price_max_age_s);
    if (q.kind != QUOTE_OK) {
        printf("FAILED  HTTP %ld: %s (%.0f ms)\n", r->http_status, q.error, r->elapsed_ms);
        return;
    }
    char t[32] = "time unknown";
    if (q.price_time > 0)
        util_fmt_time(q.price_time * 1000, t, sizeof t);
    printf("ok      %.10g %s", q.price, q.currency);
    if (strcmp(quoted, q.currency) != 0)
        printf(" (quoted in %s)", quoted);
    printf(" at %s%s, %.0f ms\n", t, q.time_basis == QTIME_BAR ? " (bar start)" : "",
           r->elapsed_ms);
    pr->ok = 1;
}

static void chk_on_response(const struct fetch_response *r, void *cls)
{
    struct chk_probe *pr = cls;
    chk_report(pr, r);
    fflush(stdout);
    if (--*pr->pending == 0)
        loop_stop(pr->loop);
}

int check_run(const struct config *c)
{
    struct chk_probe probes[] = {
        {.provider = "yahoo", .symbol = "AAPL", .currency = "USD"},
        {.provider = "coingecko", .symbol = "bitcoin", .currency = "USD"},
        {.provider = "fx", .symbol = "EUR", .currency = "EUR"},
    };
    size_t n = sizeof probes / sizeof probes[0];
    int pending = 0, rc = 2;
    struct loop *l = loop_new();
    struct fetch_options fo = {
        .timeout_ms = c->fetch_timeout_s * 1000,
        .connect_timeout_ms = 5000,
        .max_body = (size_t)c->max_body_bytes,
        .max_connections = 4,
    };
    struct fetcher *f = l ? fetcher_new(l, &fo) : NULL;
    char *url = malloc(PROVIDER_URL_MAX);
    if (f == NULL || url == NULL)
        goto out;
    for (size_t i = 0; i < n; i++) {
        struct chk_probe *pr = &probes[i];
        pr->p = provider_find(pr->provider);
        pr->c = c;
        pr->loop = l;
        pr->pending = &pending;
        const char *sym[1] = {pr->symbol};
        if (pr->p == NULL || pr->p->build_url(c, sym, 1, url, PROVIDER_URL_MAX) != 0) {
            printf("%-10s %-8s FAILED  cannot build the request URL\n", pr->provider, pr->symbol);
            continue;
        }
        char hdrs[4][PROVIDER_HEADER_MAX];
        const char *hp[6] = {"Accept: application/json"};
        size_t nh = pr->p->headers ? pr->p->headers(c, hdrs, 4) : 0;
        for (size_t k = 0; k < nh; k++)
            hp[k + 1] = hdrs[k];
        hp[nh + 1] = NULL;
        if (fetch_start(f, url, hp, chk_on_response, pr) == NULL) {
            printf("%-10s %-8s FAILED  could not start a request\n", pr->provider, pr->symbol);
            continue;
        }
        pending++;
    }
    if (pending > 0)
        loop_run(l);
    rc = 0;
    for (size_t i = 0; i < n; i++)
        if (!probes[i].ok)
            rc = 1;
out:
    free(url);
    fetcher_free(f);
    loop_free(l);
    return rc;
}
