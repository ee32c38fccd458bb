/*
 * http — the request record every handler gets, and every way fetcher-api
 * answers: JSON documents, JSON errors through the one reply_error(), and
 * the database-trouble mapping. Headers every JSON answer carries (type,
 * no-store, ETag/304, CORS) are added here and nowhere else, so endpoints
 * cannot forget them.
 *
 * Not here: routing (routes.c), files (static.c), MHD's set-up (server.c).
 */
#ifndef FETCHER_API_HTTP_H
#define FETCHER_API_HTTP_H

#include "db.h"
#include "util.h"

#include <json-c/json.h>
#include <microhttpd.h>
#include <stddef.h>

/* Request bodies above this are refused with 413: no endpoint takes more
 * than a short JSON object, and a cap is what keeps a client from making us
 * buffer without end. */
#define HTTP_BODY_MAX (64 * 1024)

struct api_route;

/* One per request, created on MHD's first call for the connection and freed
 * in the completion callback (never inside the access handler). */
struct api_request {
    const char *method;            /* MHD's, valid for the request */
    const char *url;               /* MHD's, decoded path without query */
    const struct api_route *route; /* NULL until matched */
    char *body;                    /* owned, NUL-terminated, or NULL */
    size_t body_len;
    int body_too_large; /* the rest of the body was discarded */
    int head;           /* HEAD: answered as GET without body */
    char segment[72];   /* the segment a route's '*' matched (routes.c) */
    char segment2[72];  /* the segment its second '*' matched */
    int64_t start_us;   /* monotonic, when the request arrived (for metrics) */
    unsigned status;    /* the status queued for it, 0 until then */
    int stream;         /* a long-lived stream (SSE): kept out of the latency figures */
    /* Request headers crosssite.h judges, MHD's (valid for the request),
     * NULL when absent; read once so the dispatcher needs no connection. */
    const char *host, *origin, *fetch_site, *content_type;
};

/* Frees req and its body. NULL is a no-op. */
void http_request_free(struct api_request *req);

/* Queues a JSON answer (copied; the caller keeps json). A 200 answer to a
 * GET carries a strong ETag and becomes 304 when If-None-Match matches. */
enum MHD_Result http_reply_json(struct MHD_Connection *conn, unsigned status, const char *json,
                                size_t len) MUST_CHECK;

/* Same, serialising obj; takes the reference (obj is put, even on failure). */
enum MHD_Result http_reply_obj_take(struct MHD_Connection *conn, unsigned status,
                                    struct json_object *obj) MUST_CHECK;

/* The one error answer: {"error": message, "parameter": parameter}, the
 * parameter omitted when NULL. */
enum MHD_Result reply_error(struct MHD_Connection *conn, unsigned status, const char *parameter,
                            const char *message) MUST_CHECK;

/* 405 with an Allow header listing allow (e.g. "GET, HEAD"). */
enum MHD_Result http_reply_405(struct MHD_Connection *conn, const char *allow) MUST_CHECK;

/* Maps a failed database call to its answer: DB_RETRY → 503 "database
 * unavailable", DB_HARD → 500 "internal error". The SQL error text stays in
 * our log; clients never see it. */
enum MHD_Result http_reply_db(struct MHD_Connection *conn, enum db_status st) MUST_CHECK;

/* CORS preflight answer (204) for OPTIONS when API_CORS_ORIGIN is set. */
enum MHD_Result http_reply_preflight(struct MHD_Connection *conn, const char *allow) MUST_CHECK;

/* The client's address as text (numeric) in buf; "unknown" when MHD has
 * none. *loopback is set when it is 127.0.0.0/8, ::1 or ::ffff:127.x. */
void http_client_addr(struct MHD_Connection *conn, char *buf, size_t buflen, int *loopback);

/* Sets the CORS origin (NULL or "" = none); called once before serving.
 * Borrowed: must outlive the server. */
void http_setup(const char *cors_origin);

/* The query-string value of name, or NULL when absent. Values longer than
 * QUERY_VALUE_MAX come back as a string every query.h parser refuses, so
 * no parser ever sees an unbounded value. */
const char *http_arg(struct MHD_Connection *conn, const char *name);

/* 400 {"error": "<name> <why>", "parameter": name}. */
enum MHD_Result http_bad_param(struct MHD_Connection *conn, const char *name,
                               const char *why) MUST_CHECK;

/* Adds the API's common headers (CORS) to a response built elsewhere. */
void http_add_common_headers(struct MHD_Response *resp);

/* An answer without a body (e.g. 204), with the common headers. */
enum MHD_Result http_reply_empty(struct MHD_Connection *conn, unsigned status) MUST_CHECK;

/* A non-JSON answer (copied), no-store, with the common headers. */
enum MHD_Result http_reply_text(struct MHD_Connection *conn, unsigned status,
                                const char *content_type, const char *body, size_t len) MUST_CHECK;

/* Queues resp (and destroys the caller's reference), recording the status
 * for http_take_status(). Every answer of fetcher-api goes through here. */
enum MHD_Result http_queue(struct MHD_Connection *conn, unsigned status,
                           struct MHD_Response *resp) MUST_CHECK;

/* The status this thread queued since the last call (0 = none), for the
 * request life cycle in server.c. */
unsigned http_take_status(void);

/* The same, without taking it (for the dispatcher: did the write pass). */
unsigned http_peek_status(void);

/* A 200 JSON answer served from the cache (cache.h), with Age (seconds)
 * and "X-Cache: hit"; ETag and 304 as for any other. */
enum MHD_Result http_reply_cached(struct MHD_Connection *conn, const char *json, size_t len,
                                  int64_t age_ms) MUST_CHECK;

/* Answer caching (cache.h): while a key is set, a 200 JSON answer queued on
 * this thread is stored under it, as computed in generation gen (taken
 * before the handler ran). The dispatcher sets it around a cacheable
 * handler and clears it after. NULL clears. */
void http_cache_capture(const char *key, uint64_t gen);

#endif
