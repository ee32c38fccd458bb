/*
 * routes — see routes.h. The table is the API's table of contents: read it
 * to know every path fetcher-api answers.
 */
#include "routes.h"
#include "handlers.h"

#include <string.h>

static const struct api_route routes[] = {
    {"GET", "/healthz", ep_healthz},
    {"GET", "/readyz", ep_readyz},
    {"GET", "/api/fetcher/status", ep_status},
    {"GET", "/api/fetcher/statistics", ep_statistics},
    {"GET", "/api/fetcher/queue", ep_queue},
    {"GET", "/api/fetcher/logs", ep_logs},
    {"GET", "/api/fetcher/recent-updates", ep_recent_updates},
    {"GET", "/api/fetcher/cycles", ep_cycles},
    {"GET", "/api/fetcher/cycles/*", ep_cycle},
    {"GET", "/api/fetcher/assets", ep_assets},
    {"GET", "/api/fetcher/portfolios", ep_portfolios},
    {"POST", "/api/fetcher/trigger-update", ep_trigger_update},
    /* Last: the dashboard's files, one segment under the root, never under
     * /api/ (an unknown API path is a JSON 404, not a missing file). */
    {"GET", "/*", static_serve},
};

/* Length of the fixed part the url matched, or -1. */
static int match(const struct api_route *r, const char *url)
{
    size_t plen = strlen(r->path);
    if (plen > 0 && r->path[plen - 1] == '*') {
        size_t fixed = plen - 1;
        if (strncmp(url, r->path, fixed) != 0 || strchr(url + fixed, '/') != NULL)
            return -1;
        return (int)fixed;
    }
    return strcmp(url, r->path) == 0 ? (int)plen : -1;
}

static int is_api(const char *url)
{
    return strncmp(url, "/api/", 5) == 0 || strcmp(url, "/api") == 0;
}

const char *routes_tail(const struct api_request *req)
{
    if (req->route == NULL)
        return "";
    int n = match(req->route, req->url);
    return n < 0 ? "" : req->url + n;
}

enum MHD_Result routes_dispatch(struct MHD_Connection *conn, struct api_request *req)
{
    const char *method = req->head ? "GET" : req->method;
    char allow[64] = "";
    size_t alen = 0;
    for (size_t i = 0; i < ARRAY_LEN(routes); i++) {
        const struct api_route *r = &routes[i];
        if (match(r, req->url) < 0)
            continue;
        if (r == &routes[ARRAY_LEN(routes) - 1] && is_api(req->url))
            continue;
        if (strcmp(r->method, method) == 0) {
            req->route = r;
            return r->handler(conn, req);
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
    if (strcmp(method, "OPTIONS") == 0)
        return http_reply_preflight(conn, allow);
    return http_reply_405(conn, allow);
}
