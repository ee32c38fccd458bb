/*
 * Unit tests of daemon/dbconn.c against the real PostgreSQL of
 * tests/run.sh (PGLOCAL_PORT; skipped without it), reached through a small
 * TCP relay that runs on the same loop. The relay is how a send is made to
 * fail for real: it closes its sending side (FIN) and stops reading, as a
 * server does that is going away. libpq reports a write error only through
 * a later read, except when a message is larger than the socket can take:
 * then PQsendQueryPrepared flushes, the write stops short, libpq reads,
 * finds the end of the stream and fails the send inside the call. The
 * writer's batches are that large. No hook inside dbconn, no fake libpq.
 */
#include "dbconn.h"
#include "log.h"
#include "loop.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

/* ---- the relay ------------------------------------------------------ */

struct relay {
    struct loop *loop;
    int listen_fd;
    int port;
    int pg_port;
    int client_fd, server_fd; /* one connection at a time; -1 when none */
    int accepted;
};

static void rl_close_pair(struct relay *r)
{
    if (r->client_fd >= 0) {
        loop_unwatch(r->loop, r->client_fd);
        close(r->client_fd);
    }
    if (r->server_fd >= 0) {
        loop_unwatch(r->loop, r->server_fd);
        close(r->server_fd);
    }
    r->client_fd = r->server_fd = -1;
}

static void rl_on_data(struct loop *l, int fd, int events, void *cls)
{
    (void)l;
    (void)events;
    struct relay *r = cls;
    int to = fd == r->client_fd ? r->server_fd : r->client_fd;
    char buf[16384];
    ssize_t n = read(fd, buf, sizeof buf);
    if (n <= 0) {
        rl_close_pair(r);
        return;
    }
    /* Small messages on loopback: a blocking write is fine in a test. */
    for (ssize_t off = 0; off < n;) {
        ssize_t w = write(to, buf + off, (size_t)(n - off));
        if (w <= 0) {
            rl_close_pair(r);
            return;
        }
        off += w;
    }
}

static void rl_on_accept(struct loop *l, int fd, int events, void *cls)
{
    (void)events;
    struct relay *r = cls;
    int c = accept(fd, NULL, NULL);
    if (c < 0)
        return;
    rl_close_pair(r);
    int s = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)r->pg_port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (s < 0 || connect(s, (struct sockaddr *)&a, sizeof a) != 0) {
        close(c);
        if (s >= 0)
            close(s);
        return;
    }
    r->client_fd = c;
    r->server_fd = s;
    r->accepted++;
    assert_int_equal(loop_watch(l, c, LOOP_READABLE, rl_on_data, r), 0);
    assert_int_equal(loop_watch(l, s, LOOP_READABLE, rl_on_data, r), 0);
}

/* The relay's end says goodbye and stops listening; the socket stays open
 * so the bytes dbconn sends pile up unread. */
static void rl_half_close(struct relay *r)
{
    loop_unwatch(r->loop, r->client_fd);
    loop_unwatch(r->loop, r->server_fd);
    assert_int_equal(shutdown(r->client_fd, SHUT_WR), 0);
}

static void rl_start(struct relay *r, struct loop *l, int pg_port)
{
    memset(r, 0, sizeof *r);
    r->loop = l;
    r->pg_port = pg_port;
    r->client_fd = r->server_fd = -1;
    r->listen_fd = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(r->listen_fd >= 0);
    struct sockaddr_in a = {.sin_family = AF_INET};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(bind(r->listen_fd, (struct sockaddr *)&a, sizeof a), 0);
    assert_int_equal(listen(r->listen_fd, 8), 0);
    socklen_t len = sizeof a;
    assert_int_equal(getsockname(r->listen_fd, (struct sockaddr *)&a, &len), 0);
    r->port = ntohs(a.sin_port);
    assert_int_equal(loop_watch(l, r->listen_fd, LOOP_READABLE, rl_on_accept, r), 0);
}

static void rl_stop(struct relay *r)
{
    rl_close_pair(r);
    loop_unwatch(r->loop, r->listen_fd);
    close(r->listen_fd);
}

/* ---- the caller ----------------------------------------------------- */

static const struct db_stmt dbc_test_stmts[] = {
    {"ping", "SELECT 1", 0},
    {"len", "SELECT length($1)", 1},
};

/* Larger than any loopback socket buffer, so the send stops short. */
#define DBC_TEST_BIG (32u << 20)

/* Mirrors the writer, the heartbeat and the stale-cycle check: the flag is
 * set after dbconn_query returns 0 and cleared in the callback. */
struct caller {
    int inflight;
    int calls;
    enum db_status st;
    int ups, downs;
};

static void on_result(const PGresult *res, enum db_status st, const char *err, void *cls)
{
    (void)res;
    (void)err;
    struct caller *c = cls;
    c->calls++;
    c->st = st;
    c->inflight = 0;
}

static void on_state(int up, void *cls)
{
    struct caller *c = cls;
    if (up)
        c->ups++;
    else
        c->downs++;
}

static int pg_port_or_skip(void)
{
    const char *p = getenv("PGLOCAL_PORT");
    if (p == NULL || *p == '\0') {
        fprintf(stderr, "PGLOCAL_PORT unset: run through tests/run.sh\n");
        skip();
    }
    return (int)strtol(p, NULL, 10);
}

static void run_until(struct loop *l, const int *v, int want, int64_t ms)
{
    int64_t end = util_mono_ms() + ms;
    while (*v < want && util_mono_ms() < end)
        loop_run_once(l, 20);
}

static void caller_send(struct dbconn *d, struct caller *c)
{
    assert_int_equal(c->inflight, 0);
    if (dbconn_query(d, "ping", 0, NULL, on_result, c) == 0)
        c->inflight = 1;
}

static void caller_send_big(struct dbconn *d, struct caller *c)
{
    char *big = malloc(DBC_TEST_BIG + 1);
    assert_non_null(big);
    memset(big, 'x', DBC_TEST_BIG);
    big[DBC_TEST_BIG] = '\0';
    const char *params[1] = {big};
    assert_int_equal(c->inflight, 0);
    if (dbconn_query(d, "len", 1, params, on_result, c) == 0)
        c->inflight = 1;
    free(big);
}

/* A send that fails at once (the server went away while the loop was not
 * looking) must not run the callback inside dbconn_query: the caller's
 * flag would be set after its callback and stay set for good. */
static void test_send_fails_at_once_then_resumes(void **state)
{
    (void)state;
    int pg = pg_port_or_skip();
    struct loop *l = loop_new();
    assert_non_null(l);
    struct relay r;
    rl_start(&r, l, pg);
    char url[128];
    snprintf(url, sizeof url, "postgresql://fetcher@127.0.0.1:%d/postgres", r.port);
    struct caller c = {0};
    struct dbconn_events ev = {.state = on_state, .cls = &c};
    struct dbconn *d = dbconn_new(l, url, dbc_test_stmts, 1, NULL, &ev);
    assert_non_null(d);
    run_until(l, &c.ups, 1, 10000);
    assert_int_equal(c.ups, 1);

    caller_send(d, &c);
    assert_int_equal(c.inflight, 1);
    run_until(l, &c.calls, 1, 5000);
    assert_int_equal(c.calls, 1);
    assert_int_equal(c.st, DB_OK);

    rl_half_close(&r);
    usleep(50 * 1000); /* the FIN reaches dbconn's socket */

    caller_send_big(d, &c);
    /* The send failed inside the call (the connection is already down),
     * yet nothing ran: the caller records that it waits. */
    assert_false(dbconn_is_up(d));
    assert_int_equal(c.calls, 1);
    assert_int_equal(c.downs, 0);
    assert_int_equal(c.inflight, 1);

    run_until(l, &c.calls, 2, 2000);
    assert_int_equal(c.calls, 2);
    assert_int_equal(c.st, DB_RETRY);
    assert_int_equal(c.inflight, 0);
    assert_int_equal(c.downs, 1);

    /* It reconnects (1 s backoff) and the caller's next statement runs. */
    run_until(l, &c.ups, 2, 10000);
    assert_int_equal(c.ups, 2);
    assert_int_equal(r.accepted, 2);
    caller_send(d, &c);
    assert_int_equal(c.inflight, 1);
    run_until(l, &c.calls, 3, 5000);
    assert_int_equal(c.calls, 3);
    assert_int_equal(c.st, DB_OK);
    assert_int_equal(c.inflight, 0);

    dbconn_free(d);
    rl_stop(&r);
    loop_free(l);
}

/* Freeing with failures still owed: no callback runs, nothing leaks. */
static void test_free_with_owed_failures(void **state)
{
    (void)state;
    int pg = pg_port_or_skip();
    struct loop *l = loop_new();
    assert_non_null(l);
    struct relay r;
    rl_start(&r, l, pg);
    char url[128];
    snprintf(url, sizeof url, "postgresql://fetcher@127.0.0.1:%d/postgres", r.port);
    struct caller c = {0};
    struct dbconn_events ev = {.state = on_state, .cls = &c};
    struct dbconn *d = dbconn_new(l, url, dbc_test_stmts, 1, NULL, &ev);
    assert_non_null(d);
    run_until(l, &c.ups, 1, 10000);
    assert_int_equal(c.ups, 1);
    /* the set-up statements finish first */
    for (int i = 0; i < 20; i++)
        loop_run_once(l, 10);
    rl_half_close(&r);
    usleep(50 * 1000);
    caller_send_big(d, &c);
    assert_false(dbconn_is_up(d));
    dbconn_free(d);
    loop_run_once(l, 10);
    assert_int_equal(c.calls, 0);
    assert_int_equal(c.downs, 0);
    rl_stop(&r);
    loop_free(l);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_send_fails_at_once_then_resumes),
        cmocka_unit_test(test_free_with_owed_failures),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
