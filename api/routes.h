/*
 * routes — the route table of fetcher-api and the dispatcher over it.
 *
 * A route is {method, path, handler}. A path is exact ("/healthz") or a
 * pattern ending in '*' that matches one trailing segment without '/'
 * ("/api/fetcher/cycles/{id}" is written with a star for {id}); the
 * handler reads the segment itself. A known path asked with another method gets 405 with Allow
 * listing the methods it does take; anything else 404. HEAD is answered as GET (MHD drops the
 * body).
 */
#ifndef FETCHER_API_ROUTES_H
#define FETCHER_API_ROUTES_H

#include "http.h"

#include <microhttpd.h>

typedef enum MHD_Result (*api_handler)(struct MHD_Connection *conn, const struct api_request *req);

struct api_route {
    const char *method;
    const char *path;
    api_handler handler;
};

/* Answers req: runs the matching handler, or 404/405 (and CORS preflights
 * for OPTIONS). */
enum MHD_Result routes_dispatch(struct MHD_Connection *conn, struct api_request *req) MUST_CHECK;

/* The trailing segment a '*' route matched (empty when none), borrowed from
 * req->url. */
const char *routes_tail(const struct api_request *req);

#endif
