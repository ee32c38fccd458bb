/*
 * routes — see routes.h. The table is the API's table of contents: read it
 * to know every path fetcher-api answers.
 */
#include "routes.h"
#include "cache.h"
#include "crosssite.h"
#include "handlers.h"

#include <stdlib.h>
#include <string.h>

static const struct api_route routes[] = {
    {"GET", "/healthz", ep_healthz, 0},
    {"GET", "/readyz", ep_readyz, 0},
    {"GET", "/metrics", ep_metrics, ROUTE_CACHED},
    {"GET", "/api/fetcher/status", ep_status, ROUTE_CACHED},
    {"GET", "/api/fetcher/statistics", ep_statistics, ROUTE_CACHED},
    {"GET", "/api/fetcher/queue", ep_queue, ROUTE_CACHED},
    {"GET", "/api/fetcher/logs", ep_logs, ROUTE_CACHED},
    {"GET", "/api/fetcher/recent-updates", ep_recent_updates, ROUTE_CACHED},
    {"GET", "/api/fetcher/cycles", ep_cycles, ROUTE_CACHED},
    {"GET", "/api/fetcher/cycles/*", ep_cycle, ROUTE_CACHED},
    {"GET", "/api/fetcher/assets", ep_assets, ROUTE_CACHED},
    {"POST", "/api/fetcher/assets", ep_track, 0},
    {"DELETE", "/api/fetcher/assets/*", ep_untrack, 0},
    {"POST", "/api/fetcher/assets/*/refresh", ep_refresh, 0},
    {"GET", "/api/fetcher/assets/*/history", ep_history, ROUTE_CACHED},
    {"GET", "/api/fetcher/history", ep_history_batch, ROUTE_CACHED},
    {"GET", "/api/fetcher/portfolios", ep_portfolios, ROUTE_CACHED},
    {"POST", "/api/fetcher/portfolios", ep_portfolio_create, 0},
    {"GET", "/api/fetcher/portfolios/*", ep_portfolio_get, ROUTE_CACHED},
    {"PATCH", "/api/fetcher/portfolios/*", ep_portfolio_update, 0},
    {"DELETE", "/api/fetcher/portfolios/*", ep_portfolio_delete, 0},
    {"POST", "/api/fetcher/portfolios/*/positions", ep_position_add, 0},
    {"PATCH", "/api/fetcher/portfolios/*/positions/*", ep_position_update, 0},
    {"DELETE", "/api/fetcher/portfolios/*/positions/*", ep_position_delete, 0},
    {"POST", "/api/fetcher/portfolios/*/import", ep_portfolio_import, 0},
    {"GET", "/api/fetcher/search", ep_search, ROUTE_CACHED},
    {"POST", "/api/fetcher/demo", ep_demo_load, 0},
    {"GET", "/api/fetcher/openapi.json", ep_openapi, 0},
    {"GET", "/api/fetcher/alerts", ep_alerts, ROUTE_CACHED},
    {"GET", "/api/fetcher/events", ep_events, 0},
    {"POST", "/api/fetcher/trigger-update", ep_trigger_update, 0},
    {"POST", "/api/fetcher/pause", ep_pause, 0},
    {"POST", "/api/fetcher/resume", ep_resume, 0},
    /* Last: the dashboard's files, one segment under the root, never under
     * /api/ (an unknown API path is a JSON 404, not a missing file). */
    {"GET", "/*", static_serve, 0},
};

/* Matches url against pattern, copying the segment of each '*' into
 * segs[k * seglen] (nsegs of them, seglen bytes each). A segment never
 * holds '/'; an empty one matches a trailing star only. */
static int match_segments(const char *p, const char *u, char *segs, size_t nsegs, size_t seglen)
{
    size_t k = 0;
    for (size_t i = 0; seglen > 0 && i < nsegs; i++)
        segs[i * seglen] = '\0';
    for (;;) {
        const char *star = strchr(p, '*');
        if (star == NULL)
            return strcmp(u, p) == 0;
        size_t fixed = (size_t)(star - p);
        if (strncmp(u, p, fixed) != 0)
            return 0;
        u += fixed;
        size_t n = strcspn(u, "/");
        /* An empty segment ("/cycles/") matches a trailing star only, so the
         * handler answers 404 itself; inside a path it never matches. */
        if (n == 0 && star[1] != '\0')
            return 0;
        if (k >= nsegs || n >= seglen)
            return 0;
        memcpy(segs + k * seglen, u, n);
        segs[k * seglen + n] = '\0';
        k++;
        u += n;
        p = star + 1;
    }
}

int routes_match(const char *pattern, const char *url, char *seg, size_t seglen)
{
    return match_segments(pattern, url, seg, 1, seglen);
}

static int is_api(const char *url)
{
    return strncmp(url, "/api/", 5) == 0 || strcmp(url, "/api") == 0;
}

const char *routes_tail(const struct api_request *req)
{
    return req->segment;
}

const char *routes_tail2(const struct api_request *req)
{
    return req->segment2;
}

/* "path?k=v&k2=v2" in the order the client sent them, into key; -1 when
 * it does not fit (the request is then not cached). */
struct key_buf {
    char *p;
    size_t len, cap;
    int overflow;
};

static void key_add(struct key_buf *k, const char *s)
{
    size_t n = strlen(s);
    if (k->len + n + 1 > k->cap) {
        k->overflow = 1;
        return;
    }
    memcpy(k->p + k->len, s, n + 1);
    k->len += n;
}

static enum MHD_Result key_arg(void *cls, enum MHD_ValueKind kind, const char *key,
                               const char *value)
{
    (void)kind;
    struct key_buf *k = cls;
    key_add(k, k->len > 0 && strchr(k->p, '?') != NULL ? "&" : "?");
    key_add(k, key);
    if (value != NULL) {
        key_add(k, "=");
        key_add(k, value);
    }
    return k->overflow ? MHD_NO : MHD_YES;
}

static enum MHD_Result run_cached(struct MHD_Connection *conn, const struct api_route *r,
                                  struct api_request *req)
{
    char key[CACHE_KEY_MAX];
    struct key_buf k = {key, 0, sizeof key, 0};
    key[0] = '\0';
    key_add(&k, req->url);
    MHD_get_connection_values(conn, MHD_GET_ARGUMENT_KIND, key_arg, &k);
    if (k.overflow)
        return r->handler(conn, req);
    /* Before the handler asks the database: a write that empties the cache
     * after this makes the answer unstorable (cache.h). */
    uint64_t gen = cache_generation();
    size_t len;
    int64_t age;
    char *body = cache_get(key, &len, &age);
    if (body != NULL) {
        enum MHD_Result ret = http_reply_cached(conn, body, len, age);
        free(body);
        return ret;
    }
    http_cache_capture(key, gen);
    enum MHD_Result ret = r->handler(conn, req);
    http_cache_capture(NULL, 0);
    return ret;
}

enum MHD_Result routes_dispatch(struct MHD_Connection *conn, struct api_request *req)
{
    const char *method = req->head ? "GET" : req->method;
    char allow[64] = "";
    size_t alen = 0;
    char seg[2][sizeof req->segment];
    _Static_assert(sizeof req->segment == sizeof req->segment2, "one size for both segments");
    char why[256];
    const char *param = NULL;
    unsigned refused;
    /* Every request names a host we serve (crosssite.h), files and event
     * streams included. /healthz is exempt: it tells nothing but "up", and
     * probes (Docker's, an orchestrator's) address it under whatever name
     * or address they have for the container. */
    if (strcmp(req->url, "/healthz") != 0) {
        refused = crosssite_check_host(req->host, &param, why, sizeof why);
        if (refused != 0)
            return reply_error(conn, refused, param, why);
    }
    for (size_t i = 0; i < ARRAY_LEN(routes); i++) {
        const struct api_route *r = &routes[i];
        if (!match_segments(r->path, req->url, &seg[0][0], 2, sizeof seg[0]))
            continue;
        if (r == &routes[ARRAY_LEN(routes) - 1] && is_api(req->url))
            continue;
        if (strcmp(r->method, method) == 0) {
            req->route = r;
            memcpy(req->segment, seg[0], sizeof req->segment);
            memcpy(req->segment2, seg[1], sizeof req->segment2);
            if ((r->flags & ROUTE_CACHED) && cache_enabled())
                return run_cached(conn, r, req);
            /* Every route that is not a read is a write and gets the
             * cross-site rules here, before its handler, so a new write
             * endpoint cannot forget them. */
            if (strcmp(method, "GET") != 0) {
                refused = crosssite_check_write(req->host, req->origin, req->fetch_site,
                                                req->content_type, &param, why, sizeof why);
                if (refused != 0)
                    return reply_error(conn, refused, param, why);
            }
            enum MHD_Result ret = r->handler(conn, req);
            /* A write changes what reads see, unless it was refused (4xx:
             * nothing was written); a 5xx may have committed, so it counts
             * as a write. */
            unsigned st = http_peek_status();
            if (strcmp(method, "GET") != 0 && cache_enabled() && !(st >= 400 && st < 500))
                cache_clear();
            return ret;
        }
        /* Collect every method this path takes, for Allow. */
        const char *m = strcmp(r->method, "GET") == 0 ? "GET, HEAD" : r->method;
        size_t mlen = strlen(m);
        if (strstr(allow, m) == NULL && alen + mlen + 3 < sizeof allow) {
            if (alen > 0) {
                memcpy(allow + alen, ", ", 2);
                alen += 2;
            }
            memcpy(allow + alen, m, mlen + 1);
            alen += mlen;
        }
    }
    if (alen == 0)
        return reply_error(conn, MHD_HTTP_NOT_FOUND, NULL, "not found");
    if (strcmp(method, "OPTIONS") == 0) {
        /* Granting nothing (no Allow-Origin) would already stop a foreign
         * page; refusing says so, and keeps our Allow-Headers from anyone
         * but our own pages and API_CORS_ORIGIN. */
        refused = crosssite_check_preflight(req->host, req->origin, &param, why, sizeof why);
        if (refused != 0)
            return reply_error(conn, refused, param, why);
        return http_reply_preflight(conn, allow);
    }
    return http_reply_405(conn, allow);
}
