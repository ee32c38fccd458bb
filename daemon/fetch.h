/*
 * fetch — HTTP transfers on fetcherd's loop through libcurl's multi
 * interface; the only file that includes curl/curl.h. Every transfer runs
 * concurrently in the loop's thread; connections are reused between
 * transfers to the same host.
 *
 * Untrusted upstreams: connect and total timeouts, a low-speed limit, http
 * and https only (also after redirects, at most 3), TLS verification on, and
 * a body cap enforced while receiving (a larger body fails as "too large").
 *
 * What it is not: it does not parse bodies or decide retries; it reports
 * what happened, classified, to its caller (daemon/upstream.c).
 */
#ifndef FETCHER_FETCH_H
#define FETCHER_FETCH_H

#include "loop.h"
#include "quote.h"

#include <stddef.h>

struct fetcher;
struct fetch_handle;

struct fetch_options {
    int64_t timeout_ms;
    int64_t connect_timeout_ms;
    size_t max_body;
    int max_connections; /* open connections in total */
};

struct fetch_response {
    enum quote_error_kind kind; /* QUOTE_OK when an HTTP answer arrived */
    long http_status;
    const char *body; /* NUL-terminated; borrowed for the callback only */
    size_t len;
    char content_type[64];
    int retry_after_s; /* Retry-After in seconds (either form, at most 3600), else 0 */
    double elapsed_ms;
    char error[160]; /* why kind != QUOTE_OK, for people; never the URL */
};

typedef void (*fetch_cb)(const struct fetch_response *r, void *cls);

/* Returns a fetcher attached to loop, or NULL. */
struct fetcher *fetcher_new(struct loop *l, const struct fetch_options *opt);
/* Aborts every transfer without calling callbacks and frees all. NULL ok. */
void fetcher_free(struct fetcher *f);

/* Starts GET url with extra headers (NULL-terminated array, may be NULL;
 * copied). Returns a handle, or NULL (then cb never runs). cb runs exactly
 * once from the loop (never inside a libcurl callback); the handle is freed
 * after it returns. */
struct fetch_handle *fetch_start(struct fetcher *f, const char *url, const char *const *headers,
                                 fetch_cb cb, void *cls);
/* Aborts a transfer whose callback has not run; cb will not run. */
void fetch_cancel(struct fetcher *f, struct fetch_handle *h);

/* Transfers in progress. */
size_t fetcher_active(const struct fetcher *f);
/* Transfers started so far (each is one request to an upstream; a
 * redirect it follows is not counted again). */
uint64_t fetcher_requests(const struct fetcher *f);
/* Bytes received in bodies so far. */
uint64_t fetcher_bytes_received(const struct fetcher *f);

#endif
