/*
 * fetch — see fetch.h.
 *
 * libcurl tells us which sockets to watch (CURLMOPT_SOCKETFUNCTION) and
 * when to wake it (CURLMOPT_TIMERFUNCTION); the loop does the waiting. We
 * only ever remove an easy handle after curl_multi_info_read() said it is
 * done, and never from inside one of libcurl's callbacks.
 *
 * Host names: libcurl looks them up in a thread of its own (Debian's
 * libcurl4-openssl is built with the threaded resolver; fetcher_new
 * refuses a libcurl without an asynchronous one). Removing a transfer
 * whose lookup is still running (a timeout, a cancel on shutdown) would
 * wait for that thread — for as long as the system resolver takes, on
 * our loop — unless CURLOPT_QUICK_EXIT lets libcurl leave the thread to
 * finish on its own.
 */
#include "fetch.h"
#include "log.h"
#include "resolve.h"

#include <curl/curl.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct fetch_handle {
    struct fetcher *f;
    CURL *easy;
    struct curl_slist *headers;
    fetch_cb cb;
    void *cls;
    char *body;
    size_t len, cap;
    int too_large;
    char host[128]; /* for messages: the URL's host, never its path or query */
    struct fetch_handle *prev, *next;
};

struct fetcher {
    struct loop *loop;
    CURLM *multi;
    struct fetch_options opt;
    int64_t timer_id; /* the loop timer libcurl asked for; 0 = none */
    struct fetch_handle *active;
    size_t nactive;
    uint64_t bytes;
    uint64_t requests;
    int in_curl; /* guards against re-entering curl_multi_* from callbacks */
};

static int curl_global_done;

static void process_done(struct fetcher *f);

/* ---- socket and timer plumbing -------------------------------------- */

static void on_fd(struct loop *l, int fd, int events, void *cls)
{
    (void)l;
    struct fetcher *f = cls;
    int flags = ((events & LOOP_READABLE) ? CURL_CSELECT_IN : 0) |
                ((events & LOOP_WRITABLE) ? CURL_CSELECT_OUT : 0);
    int running;
    f->in_curl = 1;
    curl_multi_socket_action(f->multi, fd, flags, &running);
    f->in_curl = 0;
    process_done(f);
}

static int sock_cb(CURL *easy, curl_socket_t s, int what, void *userp, void *socketp)
{
    (void)easy;
    (void)socketp;
    struct fetcher *f = userp;
    if (what == CURL_POLL_REMOVE) {
        loop_unwatch(f->loop, s);
        return 0;
    }
    int mask =
        ((what & CURL_POLL_IN) ? LOOP_READABLE : 0) | ((what & CURL_POLL_OUT) ? LOOP_WRITABLE : 0);
    if (loop_watch(f->loop, s, mask, on_fd, f) != 0) {
        log_msg(LOG_ERROR, "fetch: cannot watch socket %d", (int)s);
        return -1;
    }
    return 0;
}

static int64_t on_timer(struct loop *l, void *cls)
{
    (void)l;
    struct fetcher *f = cls;
    f->timer_id = 0;
    int running;
    f->in_curl = 1;
    curl_multi_socket_action(f->multi, CURL_SOCKET_TIMEOUT, 0, &running);
    f->in_curl = 0;
    process_done(f);
    return LOOP_TIMER_STOP;
}

/* libcurl asks to be woken after timeout_ms (-1: no timer). Only re-arm the
 * loop's timer here; acting from inside this callback is not allowed. */
static int timer_cb(CURLM *multi, long timeout_ms, void *userp)
{
    (void)multi;
    struct fetcher *f = userp;
    if (f->timer_id > 0) {
        loop_timer_del(f->loop, f->timer_id);
        f->timer_id = 0;
    }
    if (timeout_ms >= 0) {
        f->timer_id = loop_timer_add(f->loop, timeout_ms, on_timer, f);
        if (f->timer_id < 0)
            f->timer_id = 0;
    }
    return 0;
}

/* ---- per-transfer callbacks ----------------------------------------- */

/* Counts bytes as they arrive and stops at the cap: CURLOPT_MAXFILESIZE
 * only helps when the server announces a length. */
static size_t write_cb(char *data, size_t size, size_t nmemb, void *userp)
{
    struct fetch_handle *h = userp;
    size_t n = size * nmemb;
    h->f->bytes += n;
    if (h->len + n > h->f->opt.max_body) {
        h->too_large = 1;
        return 0; /* makes libcurl fail the transfer with CURLE_WRITE_ERROR */
    }
    if (h->len + n + 1 > h->cap) {
        size_t cap = h->cap ? h->cap : 4096;
        while (cap < h->len + n + 1)
            cap *= 2;
        char *b = realloc(h->body, cap);
        if (b == NULL)
            return 0;
        h->body = b;
        h->cap = cap;
    }
    memcpy(h->body + h->len, data, n);
    h->len += n;
    h->body[h->len] = '\0';
    return n;
}

/* ---- lifecycle ------------------------------------------------------ */

struct fetcher *fetcher_new(struct loop *l, const struct fetch_options *opt)
{
    if (!curl_global_done) {
        if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
            return NULL;
        curl_global_done = 1;
    }
    if (!(curl_version_info(CURLVERSION_NOW)->features & CURL_VERSION_ASYNCHDNS)) {
        /* a synchronous resolver would stall the loop on every lookup */
        log_msg(LOG_ERROR, "fetch: this libcurl has no asynchronous resolver (need the threaded "
                           "or c-ares one)");
        return NULL;
    }
    struct fetcher *f = calloc(1, sizeof *f);
    if (f == NULL)
        return NULL;
    f->loop = l;
    f->opt = *opt;
    f->multi = curl_multi_init();
    if (f->multi == NULL) {
        free(f);
        return NULL;
    }
    curl_multi_setopt(f->multi, CURLMOPT_SOCKETFUNCTION, sock_cb);
    curl_multi_setopt(f->multi, CURLMOPT_SOCKETDATA, f);
    curl_multi_setopt(f->multi, CURLMOPT_TIMERFUNCTION, timer_cb);
    curl_multi_setopt(f->multi, CURLMOPT_TIMERDATA, f);
    if (opt->max_connections > 0)
        curl_multi_setopt(f->multi, CURLMOPT_MAX_TOTAL_CONNECTIONS, (long)opt->max_connections);
    curl_multi_setopt(f->multi, CURLMOPT_MAXCONNECTS, (long)(opt->max_connections + 4));
    return f;
}

static void handle_free(struct fetcher *f, struct fetch_handle *h)
{
    if (h->prev)
        h->prev->next = h->next;
    else
        f->active = h->next;
    if (h->next)
        h->next->prev = h->prev;
    f->nactive--;
    curl_multi_remove_handle(f->multi, h->easy);
    curl_easy_cleanup(h->easy);
    curl_slist_free_all(h->headers);
    free(h->body);
    free(h);
}

void fetcher_free(struct fetcher *f)
{
    if (f == NULL)
        return;
    while (f->active)
        handle_free(f, f->active);
    if (f->timer_id > 0)
        loop_timer_del(f->loop, f->timer_id);
    curl_multi_cleanup(f->multi);
    free(f);
}

struct fetch_handle *fetch_start(struct fetcher *f, const char *url, const char *const *headers,
                                 fetch_cb cb, void *cls)
{
    struct fetch_handle *h = calloc(1, sizeof *h);
    if (h == NULL)
        return NULL;
    h->f = f;
    h->cb = cb;
    h->cls = cls;
    h->easy = curl_easy_init();
    if (h->easy == NULL) {
        free(h);
        return NULL;
    }
    for (size_t i = 0; headers && headers[i]; i++) {
        struct curl_slist *s = curl_slist_append(h->headers, headers[i]);
        if (s == NULL) {
            curl_slist_free_all(h->headers);
            curl_easy_cleanup(h->easy);
            free(h);
            return NULL;
        }
        h->headers = s;
    }
    CURL *e = h->easy;
    CURLU *u = curl_url();
    char *host = NULL;
    if (u && curl_url_set(u, CURLUPART_URL, url, 0) == CURLUE_OK &&
        curl_url_get(u, CURLUPART_HOST, &host, 0) == CURLUE_OK)
        util_strlcpy(h->host, host, sizeof h->host);
    else
        util_strlcpy(h->host, "the provider", sizeof h->host);
    curl_free(host);
    curl_url_cleanup(u);
    curl_easy_setopt(e, CURLOPT_URL, url);
    curl_easy_setopt(e, CURLOPT_HTTPHEADER, h->headers);
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, write_cb);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, h);
    curl_easy_setopt(e, CURLOPT_PRIVATE, h);
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(e, CURLOPT_USERAGENT, "fetcherd/" FETCHER_VERSION " (price fetcher; libcurl)");
    curl_easy_setopt(e, CURLOPT_ACCEPT_ENCODING, "");
    /* Debian 12's libcurl (7.88) has neither a total timeout nor a redirect
     * cap by default: both are set explicitly. */
    curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, (long)f->opt.timeout_ms);
    curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, (long)f->opt.connect_timeout_ms);
    curl_easy_setopt(e, CURLOPT_LOW_SPEED_LIMIT, 64L); /* bytes/s, over … */
    curl_easy_setopt(e, CURLOPT_LOW_SPEED_TIME, 5L);   /* … 5 s: a drip fails */
    curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 1L);
    curl_easy_setopt(e, CURLOPT_MAXREDIRS, 3L);
    curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(e, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, 1L);
    curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, 2L);
    curl_easy_setopt(e, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)f->opt.max_body);
    /* a lookup still running when the transfer ends is left to finish in
     * its thread, not waited for on the loop (see the top of this file) */
    curl_easy_setopt(e, CURLOPT_QUICK_EXIT, 1L);
    if (curl_multi_add_handle(f->multi, e) != CURLM_OK) {
        curl_slist_free_all(h->headers);
        curl_easy_cleanup(e);
        free(h);
        return NULL;
    }
    h->next = f->active;
    if (f->active)
        f->active->prev = h;
    f->active = h;
    f->nactive++;
    f->requests++;
    return h;
}

void fetch_cancel(struct fetcher *f, struct fetch_handle *h)
{
    handle_free(f, h);
}

size_t fetcher_active(const struct fetcher *f)
{
    return f->nactive;
}

uint64_t fetcher_requests(const struct fetcher *f)
{
    return f->requests;
}

uint64_t fetcher_bytes_received(const struct fetcher *f)
{
    return f->bytes;
}

/* ---- completion ----------------------------------------------------- */

/* The host the transfer last tried (a redirect's target, if it followed
 * one), for messages; h->host when curl cannot say. */
static void fetch_last_host(struct fetch_handle *h, char *out, size_t len)
{
    util_strlcpy(out, h->host, len);
    char *eff = NULL, *host = NULL;
    if (curl_easy_getinfo(h->easy, CURLINFO_EFFECTIVE_URL, &eff) != CURLE_OK || eff == NULL)
        return;
    CURLU *u = curl_url();
    if (u && curl_url_set(u, CURLUPART_URL, eff, 0) == CURLUE_OK &&
        curl_url_get(u, CURLUPART_HOST, &host, 0) == CURLUE_OK)
        util_strlcpy(out, host, len);
    curl_free(host);
    curl_url_cleanup(u);
}

static void classify(struct fetch_handle *h, CURLcode code, struct fetch_response *r)
{
    r->kind = QUOTE_OK;
    if (code == CURLE_OK)
        return;
    if (h->too_large || code == CURLE_FILESIZE_EXCEEDED) {
        r->kind = QUOTE_PERMANENT;
        snprintf(r->error, sizeof r->error, "answer too large (over %zu bytes)",
                 h->f->opt.max_body);
        return;
    }
    /* Our own sentences where curl's would confuse ("SSL peer certificate
     * or SSH remote key was not OK"); never curl's error buffer, which may
     * quote the URL and with it a query string. */
    /* Name-resolution and connect failures are connection-level (the
     * queue's offline state and probes), also when they end as a timeout:
     * a resolver that never answers, a SYN nobody answers. Each message
     * says which, and names the host. */
    curl_off_t looked_up = 0, connected = 0;
    long sent = 0;
    curl_easy_getinfo(h->easy, CURLINFO_NAMELOOKUP_TIME_T, &looked_up);
    curl_easy_getinfo(h->easy, CURLINFO_CONNECT_TIME_T, &connected);
    /* a request that went out was connected, whatever the connect timer
     * says (it reads 0 on a reused connection) */
    curl_easy_getinfo(h->easy, CURLINFO_REQUEST_SIZE, &sent);
    long os_errno = 0;
    curl_easy_getinfo(h->easy, CURLINFO_OS_ERRNO, &os_errno);
    long csecs = (long)((h->f->opt.connect_timeout_ms + 999) / 1000);
    char host[sizeof h->host];
    fetch_last_host(h, host, sizeof host);
    switch (code) {
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_RESOLVE_PROXY:
        r->kind = QUOTE_CONNECTION;
        snprintf(r->error, sizeof r->error,
                 "cannot resolve host %.80s (no such name, or no DNS server answered)", host);
        return;
    case CURLE_COULDNT_CONNECT:
        r->kind = QUOTE_CONNECTION;
        snprintf(r->error, sizeof r->error, "cannot connect to %.80s: %s", host,
                 os_errno == ECONNREFUSED   ? "connection refused"
                 : os_errno == ENETUNREACH  ? "network unreachable"
                 : os_errno == EHOSTUNREACH ? "host unreachable"
                 : os_errno == ETIMEDOUT    ? "timed out"
                 : os_errno != 0            ? strerror((int)os_errno)
                                            : "refused or unreachable");
        return;
    case CURLE_OPERATION_TIMEDOUT:
        if (looked_up == 0 && sent == 0 && !resolve_is_numeric(host)) {
            r->kind = QUOTE_CONNECTION;
            snprintf(r->error, sizeof r->error,
                     "cannot resolve host %.80s: no answer from the DNS resolver within %lds", host,
                     csecs);
            return;
        }
        if (connected == 0 && sent == 0) {
            r->kind = QUOTE_CONNECTION;
            snprintf(r->error, sizeof r->error, "cannot connect to %.80s: no answer within %lds",
                     host, csecs);
            return;
        }
        if (r->http_status == 0 && h->len == 0)
            snprintf(r->error, sizeof r->error, "no answer within the time limit");
        else
            snprintf(r->error, sizeof r->error, "answer too slow (timed out while receiving)");
        r->kind = QUOTE_TRANSIENT;
        return;
    case CURLE_TOO_MANY_REDIRECTS:
        r->kind = QUOTE_PERMANENT;
        snprintf(r->error, sizeof r->error, "too many redirects (more than 3)");
        return;
    case CURLE_UNSUPPORTED_PROTOCOL:
        r->kind = QUOTE_PERMANENT;
        snprintf(r->error, sizeof r->error, "redirect to a protocol other than http/https");
        return;
    case CURLE_PARTIAL_FILE:
        r->kind = QUOTE_TRANSIENT;
        snprintf(r->error, sizeof r->error, "answer truncated (connection closed early)");
        return;
    case CURLE_PEER_FAILED_VERIFICATION:
        r->kind = QUOTE_PERMANENT;
        snprintf(r->error, sizeof r->error,
                 "TLS certificate verification failed (untrusted or wrong host)");
        return;
    case CURLE_SSL_CONNECT_ERROR:
        r->kind = QUOTE_PERMANENT;
        snprintf(r->error, sizeof r->error, "TLS handshake failed");
        return;
    default:
        r->kind = QUOTE_TRANSIENT;
        break;
    }
    snprintf(r->error, sizeof r->error, "%s", curl_easy_strerror(code));
}

static void process_done(struct fetcher *f)
{
    if (f->in_curl)
        return;
    CURLMsg *m;
    int left;
    while ((m = curl_multi_info_read(f->multi, &left)) != NULL) {
        if (m->msg != CURLMSG_DONE)
            continue;
        struct fetch_handle *h = NULL;
        curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, (char **)&h);
        CURLcode code = m->data.result;
        struct fetch_response r = {0};
        curl_easy_getinfo(h->easy, CURLINFO_RESPONSE_CODE, &r.http_status);
        double secs = 0;
        curl_easy_getinfo(h->easy, CURLINFO_TOTAL_TIME, &secs);
        r.elapsed_ms = secs * 1000.0;
        char *ct = NULL;
        curl_easy_getinfo(h->easy, CURLINFO_CONTENT_TYPE, &ct);
        if (ct)
            util_strlcpy(r.content_type, ct, sizeof r.content_type);
        classify(h, code, &r);
        r.body = h->body ? h->body : "";
        r.len = h->len;
        /* libcurl reads both forms of Retry-After (delta-seconds and an
         * HTTP-date, as seconds from now); more than an hour is taken as an
         * hour, so one odd header cannot silence a provider for a day. */
        curl_off_t ra = 0;
        if (curl_easy_getinfo(h->easy, CURLINFO_RETRY_AFTER, &ra) == CURLE_OK && ra > 0)
            r.retry_after_s = ra > 3600 ? 3600 : (int)ra;
        /* The callback may start new transfers; it must not cancel the one
         * it is told about (its owner drops that pointer in the callback). */
        h->cb(&r, h->cls);
        handle_free(f, h);
    }
}
