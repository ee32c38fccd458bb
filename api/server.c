/*
 * fetcher-api — the REST API and dashboard server of fetcherd.
 *
 * Threading model, and why: every request is short (one or two indexed
 * queries against PostgreSQL, or one small file), and libpq's calls block.
 * libmicrohttpd's internal thread pool (MHD_USE_INTERNAL_POLLING_THREAD +
 * MHD_OPTION_THREAD_POOL_SIZE = API_THREADS) gives each worker its own
 * listen/poll loop, and each worker owns one PostgreSQL connection
 * (apidb.c), so blocking on the database stalls one worker, needs no locks
 * and no connection pool, and the number of database connections is fixed
 * and small. An event loop with asynchronous libpq would save threads we do
 * not need; a thread per connection would let a burst of clients open a
 * burst of database connections. Long-lived streams (server-sent events)
 * do not fit this model, so they do not hold a worker: events.c has one
 * listener thread with its own connection (LISTEN fetcher_events) and each
 * stream is a callback response whose connection is suspended while it has
 * nothing to send and resumed by the listener (MHD_ALLOW_SUSPEND_RESUME).
 * Streams get their own, longer idle timeout and a keep-alive comment every
 * 15 s, well inside it.
 *
 * Alerts (alerts.c) have a thread of their own too: judging the database
 * every few seconds and POSTing to a webhook that may hang must never hold
 * a worker.
 *
 * This file: start-up (config, flags), the MHD daemon and its limits, the
 * per-request life cycle (body capped at HTTP_BODY_MAX, state freed in the
 * completion callback), signals, and --healthcheck / --readycheck. Not
 * here: routes, endpoints, SQL.
 */
#include "alerts.h"
#include "apidb.h"
#include "cache.h"
#include "crosssite.h"
#include "events.h"
#include "guard.h"
#include "metrics.h"
#include "config.h"
#include "handlers.h"
#include "http.h"
#include "log.h"
#include "routes.h"
#include "search.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

/* Idle keep-alive connections are closed after this; a slow client cannot
 * hold a worker's slot for long. Above the event streams' keep-alive
 * period (EVENTS_KEEPALIVE_S), and streams get a longer one of their own. */
#define SERVER_CONNECTION_TIMEOUT_S 30
_Static_assert(SERVER_CONNECTION_TIMEOUT_S > EVENTS_KEEPALIVE_S, "keep-alive inside the timeout");
/* Connections at once, in total and per client address: enough for many
 * dashboards and scripts, small enough that memory stays bounded (each
 * connection: SERVER_CONNECTION_MEMORY at most). Slow clients cannot hold
 * them for long (guard.c); the open-files limit is raised to fit. */
#define SERVER_CONNECTION_LIMIT 4096
#define SERVER_PER_IP_LIMIT 128
/* MHD's per-connection buffer: bounds the request line plus headers (MHD
 * answers 414/431 beyond it) and the read buffer. */
#define SERVER_CONNECTION_MEMORY (32 * 1024)

static void srv_usage(FILE *f)
{
    fprintf(f, "usage: fetcher-api [--help | --version | --healthcheck | --readycheck]\n"
               "\n"
               "Serves fetcherd's monitoring data as a REST API under /api/fetcher/ and the\n"
               "dashboard under /. All settings come from the environment.\n"
               "\n"
               "  --healthcheck  GET /healthz on API_BIND:API_PORT; exit 0 when it answers 200\n"
               "                 (the process answers), else 1\n"
               "  --readycheck   GET /readyz on API_BIND:API_PORT; exit 0 when it answers 200\n"
               "                 (database reachable and migrated: requests would succeed),\n"
               "                 else 1 with the reason on stderr (for Docker HEALTHCHECK)\n"
               "  --version      print the version and exit\n"
               "  --help         this text\n\n");
}

/* The address to reach the server at: a wildcard bind is reached on the
 * loopback address of the same family. */
static const char *srv_connect_host(const char *bind)
{
    if (strcmp(bind, "0.0.0.0") == 0 || bind[0] == '\0')
        return "127.0.0.1";
    if (strcmp(bind, "::") == 0)
        return "::1";
    return bind;
}

/* A raw-socket HTTP/1.0 GET of PATH (/healthz or /readyz): no libcurl
 * start-up cost, nothing to leak, and the container check stays independent
 * of the code it checks. On anything but 200 the answer's first line of body
 * (the {"error": …} naming the reason) goes to stderr, which Docker keeps in
 * the container's health log. */
static int srv_healthcheck(const struct config *c, const char *path)
{
    int rc = 1;
    int fd = -1;
    struct addrinfo hints = {.ai_socktype = SOCK_STREAM, .ai_flags = AI_NUMERICHOST};
    struct addrinfo *ai = NULL;
    char port[16];
    snprintf(port, sizeof port, "%lld", (long long)c->api_port);
    const char *host = srv_connect_host(c->api_bind);
    if (getaddrinfo(host, port, &hints, &ai) != 0 || ai == NULL) {
        fprintf(stderr, "fetcher-api: healthcheck: bad address %s\n", host);
        goto out;
    }
    fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        goto out;
    struct timeval tv = {.tv_sec = 3};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    if (connect(fd, ai->ai_addr, ai->ai_addrlen) != 0) {
        fprintf(stderr, "fetcher-api: healthcheck: connect %s:%s: %s\n", host, port,
                strerror(errno));
        goto out;
    }
    /* Host: the address itself, which API_ALLOWED_HOSTS always admits
     * (a name would need an entry there; /readyz is not exempt). */
    int v6 = strchr(host, ':') != NULL;
    char reqline[256];
    int reqlen = snprintf(reqline, sizeof reqline, "GET %s HTTP/1.0\r\nHost: %s%s%s:%s\r\n\r\n",
                          path, v6 ? "[" : "", host, v6 ? "]" : "", port);
    if (reqlen < 0 || (size_t)reqlen >= sizeof reqline)
        goto out;
    if (send(fd, reqline, (size_t)reqlen, MSG_NOSIGNAL) != (ssize_t)reqlen)
        goto out;
    char buf[1024];
    size_t got = 0;
    while (got < sizeof buf - 1) {
        ssize_t n = recv(fd, buf + got, sizeof buf - 1 - got, 0);
        if (n <= 0)
            break;
        got += (size_t)n;
    }
    buf[got] = '\0';
    /* "HTTP/1.x 200 " — only the status line matters. */
    if (got >= 12 && strncmp(buf, "HTTP/1.", 7) == 0 && strncmp(buf + 8, " 200", 4) == 0) {
        rc = 0;
    } else {
        const char *body = strstr(buf, "\r\n\r\n");
        body = body != NULL ? body + 4 : "";
        fprintf(stderr, "fetcher-api: %s: %.12s %.*s\n", path, buf, (int)strcspn(body, "\r\n"),
                body);
    }
out:
    if (fd >= 0)
        close(fd);
    if (ai != NULL)
        freeaddrinfo(ai);
    return rc;
}

static enum MHD_Result srv_handle(struct MHD_Connection *conn, const char *url, const char *method,
                                  const char *upload_data, size_t *upload_data_size, void **con_cls)
{
    struct api_request *req = *con_cls;
    if (req == NULL) {
        req = calloc(1, sizeof *req);
        if (req == NULL)
            return MHD_NO;
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        req->start_us = (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
        req->method = method;
        req->url = url;
        req->head = strcmp(method, "HEAD") == 0;
        req->host = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_HOST);
        req->origin = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_ORIGIN);
        req->fetch_site = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Sec-Fetch-Site");
        req->content_type =
            MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_TYPE);
        *con_cls = req;
        /* A declared length over the cap is refused before any of the body
         * is read; MHD then closes the connection. */
        const char *cl =
            MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
        int64_t n;
        if (cl != NULL && util_parse_i64(cl, 0, INT64_MAX, &n) == 0 && n > HTTP_BODY_MAX)
            return reply_error(conn, MHD_HTTP_CONTENT_TOO_LARGE, NULL,
                               "request body larger than 65536 bytes");
        return MHD_YES;
    }
    if (*upload_data_size > 0) {
        size_t n = *upload_data_size;
        *upload_data_size = 0;
        if (req->body_too_large || req->body_len + n > HTTP_BODY_MAX) {
            /* Chunked bodies have no declared length: read and drop the
             * rest, answer 413 at the end. */
            req->body_too_large = 1;
            return MHD_YES;
        }
        char *b = realloc(req->body, req->body_len + n + 1);
        if (b == NULL)
            return MHD_NO;
        memcpy(b + req->body_len, upload_data, n);
        req->body = b;
        req->body_len += n;
        req->body[req->body_len] = '\0';
        return MHD_YES;
    }
    if (req->body_too_large)
        return reply_error(conn, MHD_HTTP_CONTENT_TOO_LARGE, NULL,
                           "request body larger than 65536 bytes");
    enum MHD_Result r = routes_dispatch(conn, req);
    req->stream = req->route != NULL && req->route->handler == ep_events;
    return r;
}

static enum MHD_Result srv_on_request(void *cls, struct MHD_Connection *conn, const char *url,
                                      const char *method, const char *version,
                                      const char *upload_data, size_t *upload_data_size,
                                      void **con_cls)
{
    (void)cls;
    (void)version;
    (void)http_take_status();
    if (*con_cls == NULL)
        guard_headers_done(conn); /* the first call: the headers are all here */
    enum MHD_Result r = srv_handle(conn, url, method, upload_data, upload_data_size, con_cls);
    unsigned st = http_take_status();
    struct api_request *req = *con_cls;
    if (st != 0 && req != NULL)
        req->status = st;
    return r;
}

static void srv_on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                             enum MHD_RequestTerminationCode toe)
{
    (void)cls;
    (void)toe;
    guard_request_done(conn);
    struct api_request *req = *con_cls;
    if (req != NULL && req->status != 0) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        int64_t now_us = (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
        metrics_record(req->status, now_us - req->start_us, !req->stream);
    }
    http_request_free(req);
    *con_cls = NULL;
}

static int srv_hex_value(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Percent-decoding in place, as MHD's own, except that "%00" stays as
 * written: a decoded NUL would silently cut the path or value short
 * ("/index.html%00.js" → "/index.html"); kept literal, every name and
 * parameter check refuses it. */
static size_t srv_unescape(void *cls, struct MHD_Connection *conn, char *s)
{
    (void)cls;
    (void)conn;
    char *w = s;
    for (const char *r = s; *r != '\0'; w++) {
        int hi = r[0] == '%' ? srv_hex_value(r[1]) : -1;
        int lo = hi >= 0 ? srv_hex_value(r[2]) : -1;
        if (lo >= 0 && (hi | lo) != 0) {
            *w = (char)(hi * 16 + lo);
            r += 3;
        } else {
            *w = *r++;
        }
    }
    *w = '\0';
    return (size_t)(w - s);
}

/* A client that goes away (a closed dashboard tab, a curl ^C) makes MHD
 * report that it could not send the rest: normal, not a warning. Anything
 * else MHD says is. */
static void srv_mhd_log(void *cls, const char *fmt, va_list ap)
{
    (void)cls;
    char msg[512];
    vsnprintf(msg, sizeof msg, fmt, ap);
    static const char *const client_gone[] = {
        "closed by remote peer", "no longer available for sending", "Connection reset",
        "Broken pipe",           "connection was closed",           "Socket disconnected"};
    enum log_level lv = LOG_WARNING;
    for (size_t i = 0; i < ARRAY_LEN(client_gone); i++)
        if (strstr(msg, client_gone[i]) != NULL)
            lv = LOG_DEBUG;
    size_t n = strlen(msg);
    while (n > 0 && (msg[n - 1] == '\n' || msg[n - 1] == ' '))
        msg[--n] = '\0';
    log_msg(lv, "http: %s", msg);
}

int main(int argc, char **argv)
{
    static struct config config;
    char err[512];
    int rc = 1;
    int events_started = 0, guard_started = 0, alerts_started = 0, search_started = 0;
    struct MHD_Daemon *d = NULL;
    struct addrinfo *ai = NULL;

    log_set_program("fetcher-api");
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            srv_usage(stdout);
            config_print_help();
            return 0;
        }
        if (strcmp(argv[i], "--version") == 0) {
            printf("fetcher-api %s\n", FETCHER_VERSION);
            return 0;
        }
        if (strcmp(argv[i], "--healthcheck") != 0 && strcmp(argv[i], "--readycheck") != 0) {
            fprintf(stderr, "fetcher-api: unknown argument '%s' (try --help)\n", argv[i]);
            return 2;
        }
    }
    if (config_load(&config, err, sizeof err) != 0) {
        fprintf(stderr, "fetcher-api: %s\n", err);
        return 2;
    }
    cfg = &config;
    /* A bad host list is a bad setting: refused at start-up like any other
     * (exit 2), --healthcheck included. */
    if (crosssite_setup(cfg->api_allowed_hosts, cfg->api_cors_origin, err, sizeof err) != 0) {
        fprintf(stderr, "fetcher-api: %s\n", err);
        return 2;
    }
    enum log_level lv;
    if (log_level_parse(cfg->log_level, &lv) == 0)
        log_set_min_level(lv);
    if (argc > 1) /* --healthcheck or --readycheck, the only arguments left */
        return srv_healthcheck(cfg, strcmp(argv[argc - 1], "--readycheck") == 0 ? "/readyz"
                                                                                : "/healthz");

    struct addrinfo hints = {.ai_socktype = SOCK_STREAM, .ai_flags = AI_NUMERICHOST | AI_PASSIVE};
    char port[16];
    snprintf(port, sizeof port, "%lld", (long long)cfg->api_port);
    if (getaddrinfo(cfg->api_bind, port, &hints, &ai) != 0 || ai == NULL) {
        fprintf(stderr, "fetcher-api: API_BIND: '%s' is not a numeric IPv4 or IPv6 address\n",
                cfg->api_bind);
        return 2;
    }
    if (search_setup() != 0) {
        log_msg(LOG_CRITICAL, "cannot initialise libcurl (for /api/fetcher/search)");
        goto out;
    }
    search_started = 1;
    if (apidb_init() != 0) {
        log_msg(LOG_CRITICAL, "cannot create the thread key");
        goto out;
    }
    if (static_setup() != 0)
        log_msg(LOG_WARNING, "no dashboard directory found; / answers 404");
    http_setup(cfg->api_cors_origin);
    cache_setup(cfg->api_cache_ms);

    /* Signals are taken synchronously by sigwait() below; block them before
     * MHD creates its threads so that they inherit the mask and none of them
     * is interrupted. SIGPIPE: a client that hangs up is not our death. */
    sigset_t sigs;
    sigemptyset(&sigs);
    sigaddset(&sigs, SIGTERM);
    sigaddset(&sigs, SIGINT);
    pthread_sigmask(SIG_BLOCK, &sigs, NULL);
    signal(SIGPIPE, SIG_IGN);

    /* Room for SERVER_CONNECTION_LIMIT sockets plus our own descriptors:
     * the soft open-files limit (often 1024) up to the hard one. */
    struct rlimit nofile;
    if (getrlimit(RLIMIT_NOFILE, &nofile) == 0 && nofile.rlim_cur < SERVER_CONNECTION_LIMIT + 256) {
        nofile.rlim_cur = nofile.rlim_max < SERVER_CONNECTION_LIMIT + 256
                              ? nofile.rlim_max
                              : SERVER_CONNECTION_LIMIT + 256;
        if (setrlimit(RLIMIT_NOFILE, &nofile) != 0)
            log_msg(LOG_WARNING, "cannot raise the open-files limit; fewer connections fit");
    }
    /* First of our threads: it initialises libcurl, which must happen
     * while no other thread runs. */
    if (alerts_start() != 0) {
        log_msg(LOG_CRITICAL, "cannot start the alerts thread");
        goto out;
    }
    alerts_started = 1;
    if (guard_start() != 0) {
        log_msg(LOG_CRITICAL, "cannot start the header-deadline thread");
        goto out;
    }
    guard_started = 1;
    if (events_start((int)cfg->api_sse_max_clients) != 0) {
        log_msg(LOG_CRITICAL, "cannot start the event listener thread");
        goto out;
    }
    events_started = 1;
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_AUTO | MHD_USE_ERROR_LOG |
                     MHD_ALLOW_SUSPEND_RESUME;
    if (ai->ai_family == AF_INET6)
        flags |= MHD_USE_IPv6;
    d = MHD_start_daemon(flags, (uint16_t)cfg->api_port, NULL, NULL, srv_on_request, NULL,
                         MHD_OPTION_EXTERNAL_LOGGER, srv_mhd_log, NULL, MHD_OPTION_SOCK_ADDR,
                         ai->ai_addr, MHD_OPTION_THREAD_POOL_SIZE, (unsigned)cfg->api_threads,
                         MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)SERVER_CONNECTION_TIMEOUT_S,
                         MHD_OPTION_CONNECTION_LIMIT, (unsigned)SERVER_CONNECTION_LIMIT,
                         MHD_OPTION_PER_IP_CONNECTION_LIMIT, (unsigned)SERVER_PER_IP_LIMIT,
                         MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)SERVER_CONNECTION_MEMORY,
                         MHD_OPTION_NOTIFY_COMPLETED, srv_on_completed, NULL,
                         MHD_OPTION_NOTIFY_CONNECTION, guard_notify, NULL,
                         MHD_OPTION_UNESCAPE_CALLBACK, srv_unescape, NULL, MHD_OPTION_END);
    if (d == NULL) {
        log_msg(LOG_CRITICAL, "cannot listen on %s:%s (in use, or not an address of this host)",
                cfg->api_bind, port);
        goto out;
    }
    log_msg(LOG_INFO, "listening on %s:%s with %lld threads", cfg->api_bind, port,
            (long long)cfg->api_threads);

    int sig = 0;
    while (sigwait(&sigs, &sig) != 0)
        ;
    log_msg(LOG_INFO, "signal %d: stopping", sig);
    rc = 0;
out:
    /* Stops the workers; their thread-key destructors close the database
     * connections. */
    if (events_started)
        events_stop(1000); /* MHD must not stop with suspended streams */
    if (d != NULL)
        MHD_stop_daemon(d);
    if (guard_started)
        guard_stop();
    if (search_started)
        search_cleanup();
    if (alerts_started)
        alerts_stop();
    if (ai != NULL)
        freeaddrinfo(ai);
    return rc;
}
