/*
 * wire_server — see wire_server.h.
 *
 * Blocking sockets in threads of their own, so the code under test (one
 * thread, one loop) meets the server only through the network. A stall
 * sleeps in short slices so ws_stop never waits for one to run out.
 */
#include "wire_server.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define WS_MAX_CONNS 512
#define WS_MAX_LOG 1024
#define WS_TARGET_MAX 4200

struct ws_conn {
    struct wire_server *s;
    int fd;
};

struct wire_server {
    int listen_fd;
    int port;
    char url[64];
    pthread_t acceptor;
    pthread_mutex_t mu;
    const struct ws_rule *rules;
    size_t nrules;
    volatile int stopping;
    pthread_t threads[WS_MAX_CONNS];
    size_t nthreads;
    char *log[WS_MAX_LOG];
    size_t nlog;
};

static void ws_sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

/* Sleeps ms, in slices, unless the server stops first. */
static void ws_stall(struct wire_server *s, int ms)
{
    for (int t = 0; t < ms && !s->stopping; t += 10)
        ws_sleep_ms(10);
}

static int ws_send_all(int fd, const char *p, size_t n)
{
    while (n > 0) {
        ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return -1;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

static void ws_headers(int fd, int status, const char *ctype, const char *extra, long long length)
{
    char h[2048];
    int n = snprintf(h, sizeof h, "HTTP/1.1 %d %s\r\nContent-Type: %s\r\nConnection: close\r\n%s",
                     status, status == 200 ? "OK" : "Status", ctype ? ctype : "application/json",
                     extra ? extra : "");
    if (length >= 0)
        n += snprintf(h + n, sizeof h - (size_t)n, "Content-Length: %lld\r\n", length);
    n += snprintf(h + n, sizeof h - (size_t)n, "\r\n");
    (void)ws_send_all(fd, h, (size_t)n);
}

/* Reads the request head; returns its target (malloc'd) or NULL. *bad
 * is set when the bytes are not HTTP at all (a TLS ClientHello). */
static char *ws_read_request(int fd, int *bad)
{
    *bad = 0;
    char buf[8192];
    size_t len = 0;
    while (len < sizeof buf - 1) {
        ssize_t r = recv(fd, buf + len, sizeof buf - 1 - len, 0);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            return NULL;
        len += (size_t)r;
        buf[len] = '\0';
        if (buf[0] < 'A' || buf[0] > 'Z') {
            *bad = 1;
            return NULL;
        }
        if (strstr(buf, "\r\n\r\n") != NULL)
            break;
    }
    char *sp = strchr(buf, ' ');
    if (sp == NULL)
        return NULL;
    char *end = strchr(sp + 1, ' ');
    if (end == NULL)
        return NULL;
    *end = '\0';
    return strdup(sp + 1);
}

static void ws_answer(struct wire_server *s, int fd, const struct ws_rule *r)
{
    switch (r->action) {
    case WS_REPLY: {
        ws_stall(s, r->stall_ms);
        const char *body = r->body ? r->body : "";
        size_t len = strlen(body);
        ws_headers(fd, r->status ? r->status : 200, r->content_type, r->headers, (long long)len);
        (void)ws_send_all(fd, body, len);
        break;
    }
    case WS_RESET: {
        struct linger lg = {1, 0};
        setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
        break;
    }
    case WS_CLOSE:
        break;
    case WS_STALL:
        ws_stall(s, r->stall_ms);
        break;
    case WS_STALL_BODY:
        ws_headers(fd, 200, r->content_type, r->headers, (long long)r->size);
        (void)ws_send_all(fd, "{\"spark\":{\"res\"", 16);
        ws_stall(s, r->stall_ms);
        break;
    case WS_TRUNCATE: {
        const char *body = r->body ? r->body : "";
        ws_headers(fd, 200, r->content_type, r->headers, (long long)r->size);
        (void)ws_send_all(fd, body, strlen(body));
        break;
    }
    case WS_BIG: {
        ws_headers(fd, 200, r->content_type, r->headers, r->no_length ? -1 : (long long)r->size);
        char chunk[8192];
        memset(chunk, ' ', sizeof chunk);
        chunk[0] = '[';
        for (size_t sent = 0; sent < r->size && !s->stopping;) {
            size_t n = r->size - sent < sizeof chunk ? r->size - sent : sizeof chunk;
            if (ws_send_all(fd, chunk, n) != 0)
                break;
            sent += n;
            chunk[0] = ' ';
        }
        break;
    }
    case WS_REDIRECT: {
        char h[1200];
        snprintf(h, sizeof h, "Location: %s\r\n", r->location ? r->location : "/");
        ws_headers(fd, r->status ? r->status : 302, "text/plain", h, 0);
        break;
    }
    }
}

static void *ws_serve(void *arg)
{
    struct ws_conn *c = arg;
    struct wire_server *s = c->s;
    int fd = c->fd;
    free(c);
    int bad = 0;
    char *target = ws_read_request(fd, &bad);
    if (bad) {
        /* what a plain HTTP server says to a TLS handshake */
        static const char no[] = "HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n";
        (void)ws_send_all(fd, no, sizeof no - 1);
    }
    if (target != NULL) {
        struct ws_rule rule = {
            .action = WS_REPLY, .status = 404, .body = "{\"error\":\"no rule\"}"};
        pthread_mutex_lock(&s->mu);
        if (s->nlog < WS_MAX_LOG)
            s->log[s->nlog++] = strdup(target);
        for (size_t i = 0; i < s->nrules; i++) {
            if (s->rules[i].match == NULL || strstr(target, s->rules[i].match) != NULL) {
                rule = s->rules[i];
                break;
            }
        }
        pthread_mutex_unlock(&s->mu);
        ws_answer(s, fd, &rule);
        free(target);
    }
    close(fd);
    return NULL;
}

static void *ws_accept_loop(void *arg)
{
    struct wire_server *s = arg;
    for (;;) {
        int fd = accept(s->listen_fd, NULL, NULL);
        if (s->stopping) {
            if (fd >= 0)
                close(fd);
            break;
        }
        if (fd < 0) {
            if (errno == EINTR || errno == ECONNABORTED)
                continue;
            break;
        }
        struct ws_conn *c = malloc(sizeof *c);
        pthread_mutex_lock(&s->mu);
        int room = s->nthreads < WS_MAX_CONNS;
        pthread_mutex_unlock(&s->mu);
        if (c == NULL || !room) {
            free(c);
            close(fd);
            continue;
        }
        c->s = s;
        c->fd = fd;
        pthread_t t;
        if (pthread_create(&t, NULL, ws_serve, c) != 0) {
            free(c);
            close(fd);
            continue;
        }
        pthread_mutex_lock(&s->mu);
        s->threads[s->nthreads++] = t;
        pthread_mutex_unlock(&s->mu);
    }
    return NULL;
}

struct wire_server *ws_start(void)
{
    struct wire_server *s = calloc(1, sizeof *s);
    if (s == NULL)
        return NULL;
    pthread_mutex_init(&s->mu, NULL);
    s->listen_fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t alen = sizeof a;
    if (s->listen_fd < 0 || bind(s->listen_fd, (struct sockaddr *)&a, sizeof a) != 0 ||
        listen(s->listen_fd, 64) != 0 ||
        getsockname(s->listen_fd, (struct sockaddr *)&a, &alen) != 0) {
        if (s->listen_fd >= 0)
            close(s->listen_fd);
        free(s);
        return NULL;
    }
    s->port = ntohs(a.sin_port);
    snprintf(s->url, sizeof s->url, "http://127.0.0.1:%d", s->port);
    if (pthread_create(&s->acceptor, NULL, ws_accept_loop, s) != 0) {
        close(s->listen_fd);
        free(s);
        return NULL;
    }
    return s;
}

void ws_set_rules(struct wire_server *s, const struct ws_rule *rules, size_t n)
{
    pthread_mutex_lock(&s->mu);
    s->rules = rules;
    s->nrules = n;
    pthread_mutex_unlock(&s->mu);
}

int ws_port(const struct wire_server *s)
{
    return s->port;
}

const char *ws_url(const struct wire_server *s)
{
    return s->url;
}

size_t ws_count(struct wire_server *s, const char *match)
{
    size_t n = 0;
    pthread_mutex_lock(&s->mu);
    for (size_t i = 0; i < s->nlog; i++)
        if (match == NULL || strstr(s->log[i], match) != NULL)
            n++;
    pthread_mutex_unlock(&s->mu);
    return n;
}

void ws_target(struct wire_server *s, size_t i, char *out, size_t outlen)
{
    pthread_mutex_lock(&s->mu);
    snprintf(out, outlen, "%s", i < s->nlog ? s->log[i] : "");
    pthread_mutex_unlock(&s->mu);
}

void ws_reset_log(struct wire_server *s)
{
    pthread_mutex_lock(&s->mu);
    for (size_t i = 0; i < s->nlog; i++)
        free(s->log[i]);
    s->nlog = 0;
    pthread_mutex_unlock(&s->mu);
}

void ws_stop(struct wire_server *s)
{
    if (s == NULL)
        return;
    s->stopping = 1;
    /* wakes the acceptor: a connection of our own */
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)s->port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (fd >= 0) {
        (void)connect(fd, (struct sockaddr *)&a, sizeof a);
        close(fd);
    }
    pthread_join(s->acceptor, NULL);
    close(s->listen_fd);
    for (size_t i = 0; i < s->nthreads; i++)
        pthread_join(s->threads[i], NULL);
    ws_reset_log(s);
    pthread_mutex_destroy(&s->mu);
    free(s);
}

char *ws_fixture(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return NULL;
    size_t cap = 1 << 16, n = 0;
    char *p = malloc(cap);
    while (p != NULL) {
        size_t r = fread(p + n, 1, cap - n - 1, f);
        n += r;
        if (r == 0)
            break;
        if (n + 1 == cap) {
            char *q = realloc(p, cap * 2);
            if (q == NULL) {
                free(p);
                p = NULL;
                break;
            }
            p = q;
            cap *= 2;
        }
    }
    fclose(f);
    if (p == NULL)
        return NULL;
    p[n] = '\0';
    if (len)
        *len = n;
    return p;
}
