/*
 * routes — the route table of fetcher-api and the dispatcher over it.
 *
 * A route is {method, path, handler, flags}. A path is exact ("/healthz")
 * or has up to two '*', each standing for one segment without '/', at the
 * end (cycles/{id} is "/api/fetcher/cycles/" + star) or inside
 * (assets/{symbol}/refresh, portfolios/{id}/positions/{symbol}); a segment
 * inside a path must not be empty; the handler reads the first segment
 * with routes_tail() and the second with routes_tail2(). A known path asked
 * with another method gets 405 with Allow listing the methods it does take;
 * anything else 404. HEAD is answered as GET (MHD drops the body).
 *
 * ROUTE_CACHED answers may be served from cache.h; a request with any other
 * method than GET empties the cache (a write changes what reads see).
 *
 * Before any handler: the Host of every request but /healthz, and the
 * cross-site rules of every write (any route whose method is not GET) and
 * of preflights, from crosssite.h; a refusal is answered here.
 */
#ifndef FETCHER_API_ROUTES_H
#define FETCHER_API_ROUTES_H

#include "http.h"

#include <microhttpd.h>

typedef enum MHD_Result (*api_handler)(struct MHD_Connection *conn, const struct api_request *req);

enum { ROUTE_CACHED = 1 };

struct api_route {
    const char *method;
    const char *path;
    api_handler handler;
    int flags;
};

/* Answers req: runs the matching handler, or 404/405 (and CORS preflights
 * for OPTIONS). */
enum MHD_Result routes_dispatch(struct MHD_Connection *conn, struct api_request *req) MUST_CHECK;

/* The segment the route's '*' matched ("" when none), owned by req. */
const char *routes_tail(const struct api_request *req);

/* The segment the route's second '*' matched ("" when none), owned by req. */
const char *routes_tail2(const struct api_request *req);

/* Pure matching, for tests and fuzzing: 1 when url matches pattern (one
 * '*' at most), with the '*' segment copied into seg (seglen bytes; a
 * longer segment does not match). */
int routes_match(const char *pattern, const char *url, char *seg, size_t seglen);

#endif
