/*
 * Unit tests of daemon/fetch.c: real HTTP over loopback to a server of the
 * test's own (tests/unit/wire_server.c) that answers with a recorded real
 * answer, or resets, stalls, cuts a body short, sends more than the cap,
 * redirects badly; plus a name that cannot resolve (nonexistent.invalid,
 * RFC 2606), a port where nothing listens, and TLS spoken to a server that
 * does not. Each transfer runs on the real loop; every check is on what the
 * callback is told (kind, status, reason) and when (never inside
 * fetch_start, exactly once, never after a cancel).
 */
#include "fetch.h"
#include "log.h"
#include "loop.h"
#include "wire_server.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#define FX_TSLA "tests/fixtures/real/yahoo_spark_v7_TSLA.json"

struct got {
    int calls;
    enum quote_error_kind kind;
    long status;
    char *body;
    size_t len;
    char ctype[64];
    int retry_after;
    char error[160];
};

static void on_done(const struct fetch_response *r, void *cls)
{
    struct got *g = cls;
    g->calls++;
    g->kind = r->kind;
    g->status = r->http_status;
    free(g->body);
    g->body = malloc(r->len + 1);
    assert_non_null(g->body);
    memcpy(g->body, r->body, r->len + 1);
    g->len = r->len;
    snprintf(g->ctype, sizeof g->ctype, "%s", r->content_type);
    g->retry_after = r->retry_after_s;
    snprintf(g->error, sizeof g->error, "%s", r->error);
}

struct fx {
    struct loop *loop;
    struct fetcher *f;
    struct wire_server *ws;
};

static struct fx F;

static int fx_setup_opt(int64_t timeout_ms, size_t max_body)
{
    F.loop = loop_new();
    F.ws = ws_start();
    struct fetch_options o = {.timeout_ms = timeout_ms,
                              .connect_timeout_ms = 2000,
                              .max_body = max_body,
                              .max_connections = 4};
    F.f = F.loop ? fetcher_new(F.loop, &o) : NULL;
    return F.loop && F.ws && F.f ? 0 : -1;
}

static int setup(void **state)
{
    (void)state;
    return fx_setup_opt(1500, 64 * 1024);
}

static int teardown(void **state)
{
    (void)state;
    fetcher_free(F.f);
    ws_stop(F.ws);
    loop_free(F.loop);
    memset(&F, 0, sizeof F);
    return 0;
}

static void run_until(const int *v, int want, int64_t ms)
{
    int64_t end = util_mono_ms() + ms;
    while (*v < want && util_mono_ms() < end)
        loop_run_once(F.loop, 20);
}

/* Starts GET path on the test server and waits for the answer. */
static void get(const char *path, struct got *g)
{
    char url[512];
    snprintf(url, sizeof url, "%s%s", ws_url(F.ws), path);
    assert_non_null(fetch_start(F.f, url, NULL, on_done, g));
    assert_int_equal(g->calls, 0); /* never inside fetch_start */
    run_until(&g->calls, 1, 10000);
    assert_int_equal(g->calls, 1);
    /* exactly once: nothing more arrives */
    for (int i = 0; i < 5; i++)
        loop_run_once(F.loop, 5);
    assert_int_equal(g->calls, 1);
    assert_int_equal(fetcher_active(F.f), 0);
}

static void got_free(struct got *g)
{
    free(g->body);
    memset(g, 0, sizeof *g);
}

/* ---- answers ----------------------------------------------------------- */

static void test_recorded_answer_arrives_whole(void **state)
{
    (void)state;
    size_t len = 0;
    char *body = ws_fixture(FX_TSLA, &len);
    assert_non_null(body);
    struct ws_rule r[] = {{.match = "/spark", .action = WS_REPLY, .body = body}};
    ws_set_rules(F.ws, r, 1);
    struct got g = {0};
    const char *hdrs[] = {"Accept: application/json", "X-Test: 1", NULL};
    char url[256];
    snprintf(url, sizeof url, "%s/v7/finance/spark?symbols=TSLA", ws_url(F.ws));
    assert_non_null(fetch_start(F.f, url, hdrs, on_done, &g));
    assert_int_equal(fetcher_active(F.f), 1);
    run_until(&g.calls, 1, 5000);
    assert_int_equal(g.calls, 1);
    assert_int_equal(g.kind, QUOTE_OK);
    assert_int_equal(g.status, 200);
    assert_int_equal(g.len, len);
    assert_memory_equal(g.body, body, len);
    assert_string_equal(g.ctype, "application/json");
    assert_string_equal(g.error, "");
    assert_int_equal(fetcher_requests(F.f), 1);
    assert_int_equal(fetcher_bytes_received(F.f), len);
    assert_int_equal(ws_count(F.ws, "/v7/finance/spark?symbols=TSLA"), 1);
    got_free(&g);
    free(body);
}

/* fetch reports statuses, it does not judge them (upstream.c does). */
static void test_error_status_is_an_answer(void **state)
{
    (void)state;
    struct ws_rule r[] = {{.action = WS_REPLY,
                           .status = 503,
                           .content_type = "text/html",
                           .body = "<html>busy</html>"}};
    ws_set_rules(F.ws, r, 1);
    struct got g = {0};
    get("/x", &g);
    assert_int_equal(g.kind, QUOTE_OK);
    assert_int_equal(g.status, 503);
    assert_string_equal(g.body, "<html>busy</html>");
    assert_string_equal(g.ctype, "text/html");
    got_free(&g);
}

/* Retry-After in both forms (libcurl reads them), capped at an hour. */
static void test_retry_after_both_forms(void **state)
{
    (void)state;
    char date[160];
    time_t t = time(NULL) + 120;
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(date, sizeof date, "Retry-After: %a, %d %b %Y %H:%M:%S GMT\r\n", &tm);
    struct ws_rule r[] = {
        {.match = "/delta", .status = 429, .headers = "Retry-After: 7\r\n", .body = "{}"},
        {.match = "/date", .status = 429, .headers = date, .body = "{}"},
        {.match = "/huge", .status = 429, .headers = "Retry-After: 999999\r\n", .body = "{}"},
        {.match = "/none", .status = 429, .body = "{}"},
    };
    ws_set_rules(F.ws, r, 4);
    struct got a = {0}, b = {0}, c = {0}, d = {0};
    get("/delta", &a);
    get("/date", &b);
    get("/huge", &c);
    get("/none", &d);
    assert_int_equal(a.status, 429);
    assert_int_equal(a.retry_after, 7);
    assert_in_range(b.retry_after, 110, 121);
    assert_int_equal(c.retry_after, 3600);
    assert_int_equal(d.retry_after, 0);
    got_free(&a);
    got_free(&b);
    got_free(&c);
    got_free(&d);
}

/* ---- the connection misbehaves ---------------------------------------- */

static void test_reset_is_transient(void **state)
{
    (void)state;
    struct ws_rule r[] = {{.action = WS_RESET}};
    ws_set_rules(F.ws, r, 1);
    struct got g = {0};
    get("/v7/finance/spark?symbols=TSLA&apikey=SECRET", &g);
    assert_int_equal(g.kind, QUOTE_TRANSIENT);
    assert_int_equal(g.status, 0);
    assert_true(g.error[0] != '\0');
    assert_null(strstr(g.error, "SECRET")); /* never the URL */
    assert_null(strstr(g.error, "127.0.0.1"));
    got_free(&g);
}

static void test_closed_without_answer_is_transient(void **state)
{
    (void)state;
    struct ws_rule r[] = {{.action = WS_CLOSE}};
    ws_set_rules(F.ws, r, 1);
    struct got g = {0};
    get("/x", &g);
    assert_int_equal(g.kind, QUOTE_TRANSIENT);
    assert_true(g.error[0] != '\0');
    got_free(&g);
}

static void test_stall_before_answer_times_out(void **state)
{
    (void)state;
    struct ws_rule r[] = {{.action = WS_STALL, .stall_ms = 5000}};
    ws_set_rules(F.ws, r, 1);
    struct got g = {0};
    int64_t t0 = util_mono_ms();
    get("/x", &g);
    int64_t took = util_mono_ms() - t0;
    assert_int_equal(g.kind, QUOTE_TRANSIENT);
    assert_string_equal(g.error, "no answer within the time limit");
    assert_in_range(took, 1400, 4000); /* the 1.5 s limit, not the stall */
    got_free(&g);
}

static void test_stall_inside_body_times_out(void **state)
{
    (void)state;
    struct ws_rule r[] = {{.action = WS_STALL_BODY, .size = 1000, .stall_ms = 5000}};
    ws_set_rules(F.ws, r, 1);
    struct got g = {0};
    get("/x", &g);
    assert_int_equal(g.kind, QUOTE_TRANSIENT);
    assert_string_equal(g.error, "answer too slow (timed out while receiving)");
    got_free(&g);
}

static void test_truncated_body_is_transient(void **state)
{
    (void)state;
    struct ws_rule r[] = {{.action = WS_TRUNCATE, .size = 5000, .body = "{\"spark\":"}};
    ws_set_rules(F.ws, r, 1);
    struct got g = {0};
    get("/x", &g);
    assert_int_equal(g.kind, QUOTE_TRANSIENT);
    assert_string_equal(g.error, "answer truncated (connection closed early)");
    got_free(&g);
}

/* Over the cap: announced (refused before the body) or not (stopped while
 * receiving), both fail as "too large", permanently. */
static void test_oversized_bodies_fail_as_too_large(void **state)
{
    (void)state;
    struct ws_rule r[] = {
        {.match = "/announced", .action = WS_BIG, .size = 1 << 20},
        {.match = "/unannounced", .action = WS_BIG, .size = 1 << 20, .no_length = 1},
        {.match = "/fits", .action = WS_BIG, .size = 64 * 1024, .no_length = 1},
    };
    ws_set_rules(F.ws, r, 3);
    struct got a = {0}, b = {0}, c = {0};
    get("/announced", &a);
    assert_int_equal(a.kind, QUOTE_PERMANENT);
    assert_string_equal(a.error, "answer too large (over 65536 bytes)");
    assert_int_equal(a.status, 200);
    uint64_t before = fetcher_bytes_received(F.f);
    get("/unannounced", &b);
    assert_int_equal(b.kind, QUOTE_PERMANENT);
    assert_string_equal(b.error, "answer too large (over 65536 bytes)");
    /* it stopped reading at the cap, not at the end of the megabyte */
    assert_true(fetcher_bytes_received(F.f) - before < 256 * 1024);
    assert_true(b.len <= 64 * 1024);
    get("/fits", &c); /* exactly the cap is allowed */
    assert_int_equal(c.kind, QUOTE_OK);
    assert_int_equal(c.len, 64 * 1024);
    got_free(&a);
    got_free(&b);
    got_free(&c);
}

/* ---- redirects ----------------------------------------------------------- */

static void test_redirects(void **state)
{
    (void)state;
    char self[128], ok[128];
    snprintf(self, sizeof self, "%s/loop", ws_url(F.ws));
    snprintf(ok, sizeof ok, "%s/ok", ws_url(F.ws));
    struct ws_rule r[] = {
        {.match = "/loop", .action = WS_REDIRECT, .location = self},
        {.match = "/to-ftp", .action = WS_REDIRECT, .location = "ftp://127.0.0.1/x"},
        {.match = "/to-file", .action = WS_REDIRECT, .location = "file:///etc/passwd"},
        {.match = "/to-nowhere", .action = WS_REDIRECT, .location = "http://nonexistent.invalid/"},
        {.match = "/once", .action = WS_REDIRECT, .location = ok},
        {.match = "/ok", .body = "{\"ok\":true}"},
    };
    ws_set_rules(F.ws, r, 6);
    struct got a = {0}, b = {0}, c = {0}, d = {0}, e = {0};
    get("/loop", &a);
    assert_int_equal(a.kind, QUOTE_PERMANENT);
    assert_string_equal(a.error, "too many redirects (more than 3)");
    assert_int_equal(ws_count(F.ws, "/loop"), 4); /* the request and 3 redirects */
    assert_int_equal(fetcher_requests(F.f), 1);   /* one request of ours */
    get("/to-ftp", &b);
    assert_int_equal(b.kind, QUOTE_PERMANENT);
    assert_string_equal(b.error, "redirect to a protocol other than http/https");
    get("/to-file", &c);
    assert_int_equal(c.kind, QUOTE_PERMANENT);
    assert_string_equal(c.error, "redirect to a protocol other than http/https");
    get("/to-nowhere", &d);
    assert_int_equal(d.kind, QUOTE_CONNECTION);
    /* the host named is the redirect's, the one that did not resolve */
    assert_string_equal(d.error,
                        "cannot resolve host nonexistent.invalid (no such name, or no DNS server "
                        "answered)");
    get("/once", &e);
    assert_int_equal(e.kind, QUOTE_OK);
    assert_int_equal(e.status, 200);
    assert_string_equal(e.body, "{\"ok\":true}");
    got_free(&a);
    got_free(&b);
    got_free(&c);
    got_free(&d);
    got_free(&e);
}

/* ---- no server at all ---------------------------------------------------- */

static void get_url(const char *url, struct got *g)
{
    assert_non_null(fetch_start(F.f, url, NULL, on_done, g));
    assert_int_equal(g->calls, 0);
    run_until(&g->calls, 1, 10000);
    assert_int_equal(g->calls, 1);
}

static void test_unresolvable_name(void **state)
{
    (void)state;
    struct got g = {0};
    get_url("http://nonexistent.invalid/v7/finance/spark?symbols=AAPL", &g);
    assert_int_equal(g.kind, QUOTE_CONNECTION);
    assert_string_equal(g.error,
                        "cannot resolve host nonexistent.invalid (no such name, or no DNS server "
                        "answered)");
    got_free(&g);
}

static void test_connection_refused(void **state)
{
    (void)state;
    /* a port that was just free: nothing listens there */
    int s = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    assert_int_equal(bind(s, (struct sockaddr *)&a, sizeof a), 0);
    assert_int_equal(getsockname(s, (struct sockaddr *)&a, &len), 0);
    close(s);
    char url[128];
    snprintf(url, sizeof url, "http://127.0.0.1:%d/x", ntohs(a.sin_port));
    struct got g = {0};
    get_url(url, &g);
    assert_int_equal(g.kind, QUOTE_CONNECTION);
    assert_string_equal(g.error, "cannot connect to 127.0.0.1: connection refused");
    got_free(&g);
}

/* https to a server that speaks plain HTTP: the handshake fails, for
 * good (retrying will not make it speak TLS). */
static void test_tls_to_plain_server(void **state)
{
    (void)state;
    struct ws_rule r[] = {{.body = "{}"}};
    ws_set_rules(F.ws, r, 1);
    char url[128];
    snprintf(url, sizeof url, "https://127.0.0.1:%d/x", ws_port(F.ws));
    struct got g = {0};
    get_url(url, &g);
    assert_int_equal(g.kind, QUOTE_PERMANENT);
    assert_string_equal(g.error, "TLS handshake failed");
    got_free(&g);
}

/* ---- lifetime ------------------------------------------------------------ */

static void test_cancel_means_no_callback(void **state)
{
    (void)state;
    struct ws_rule r[] = {{.match = "/slow", .action = WS_STALL, .stall_ms = 3000},
                          {.match = "/fast", .body = "{}"}};
    ws_set_rules(F.ws, r, 2);
    struct got slow = {0}, fast = {0};
    char url[128];
    snprintf(url, sizeof url, "%s/slow", ws_url(F.ws));
    struct fetch_handle *h = fetch_start(F.f, url, NULL, on_done, &slow);
    assert_non_null(h);
    for (int i = 0; i < 10; i++)
        loop_run_once(F.loop, 10);
    fetch_cancel(F.f, h);
    assert_int_equal(fetcher_active(F.f), 0);
    get("/fast", &fast); /* the fetcher goes on */
    for (int i = 0; i < 20; i++)
        loop_run_once(F.loop, 10);
    assert_int_equal(slow.calls, 0);
    got_free(&fast);
}

/* A callback may start the next transfer (upstream's fallbacks do). */
struct chain {
    struct got first, second;
};

static void on_first(const struct fetch_response *r, void *cls)
{
    struct chain *c = cls;
    on_done(r, &c->first);
    char url[128];
    snprintf(url, sizeof url, "%s/second", ws_url(F.ws));
    assert_non_null(fetch_start(F.f, url, NULL, on_done, &c->second));
}

static void test_callback_starts_another(void **state)
{
    (void)state;
    struct ws_rule r[] = {{.match = "/first", .body = "[1]"}, {.match = "/second", .body = "[2]"}};
    ws_set_rules(F.ws, r, 2);
    struct chain c;
    memset(&c, 0, sizeof c);
    char url[128];
    snprintf(url, sizeof url, "%s/first", ws_url(F.ws));
    assert_non_null(fetch_start(F.f, url, NULL, on_first, &c));
    run_until(&c.second.calls, 1, 5000);
    assert_int_equal(c.first.calls, 1);
    assert_int_equal(c.second.calls, 1);
    assert_string_equal(c.second.body, "[2]");
    assert_int_equal(fetcher_requests(F.f), 2);
    got_free(&c.first);
    got_free(&c.second);
}

/* More transfers than connections: each is answered once. */
static void test_many_at_once(void **state)
{
    (void)state;
    struct ws_rule r[] = {{.body = "{\"n\":1}"}};
    ws_set_rules(F.ws, r, 1);
    enum { N = 24 };
    struct got g[N];
    memset(g, 0, sizeof g);
    int total = 0;
    for (int i = 0; i < N; i++) {
        char url[128];
        snprintf(url, sizeof url, "%s/n/%d", ws_url(F.ws), i);
        assert_non_null(fetch_start(F.f, url, NULL, on_done, &g[i]));
    }
    int64_t end = util_mono_ms() + 10000;
    while (util_mono_ms() < end) {
        loop_run_once(F.loop, 20);
        total = 0;
        for (int i = 0; i < N; i++)
            total += g[i].calls;
        if (total == N)
            break;
    }
    assert_int_equal(total, N);
    for (int i = 0; i < N; i++) {
        assert_int_equal(g[i].calls, 1);
        assert_int_equal(g[i].kind, QUOTE_OK);
        got_free(&g[i]);
    }
    assert_int_equal(ws_count(F.ws, "/n/"), N);
}

/* Freeing with transfers in flight: no callback, nothing leaks (ASan). */
static void test_free_with_transfers_in_flight(void **state)
{
    (void)state;
    struct ws_rule r[] = {{.action = WS_STALL, .stall_ms = 3000}};
    ws_set_rules(F.ws, r, 1);
    struct got a = {0}, b = {0};
    char url[128];
    snprintf(url, sizeof url, "%s/a", ws_url(F.ws));
    assert_non_null(fetch_start(F.f, url, NULL, on_done, &a));
    snprintf(url, sizeof url, "%s/b", ws_url(F.ws));
    assert_non_null(fetch_start(F.f, url, NULL, on_done, &b));
    for (int i = 0; i < 10; i++)
        loop_run_once(F.loop, 10);
    assert_int_equal(fetcher_active(F.f), 2);
    fetcher_free(F.f);
    F.f = NULL;
    for (int i = 0; i < 5; i++)
        loop_run_once(F.loop, 5);
    assert_int_equal(a.calls + b.calls, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_recorded_answer_arrives_whole, setup, teardown),
        cmocka_unit_test_setup_teardown(test_error_status_is_an_answer, setup, teardown),
        cmocka_unit_test_setup_teardown(test_retry_after_both_forms, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reset_is_transient, setup, teardown),
        cmocka_unit_test_setup_teardown(test_closed_without_answer_is_transient, setup, teardown),
        cmocka_unit_test_setup_teardown(test_stall_before_answer_times_out, setup, teardown),
        cmocka_unit_test_setup_teardown(test_stall_inside_body_times_out, setup, teardown),
        cmocka_unit_test_setup_teardown(test_truncated_body_is_transient, setup, teardown),
        cmocka_unit_test_setup_teardown(test_oversized_bodies_fail_as_too_large, setup, teardown),
        cmocka_unit_test_setup_teardown(test_redirects, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unresolvable_name, setup, teardown),
        cmocka_unit_test_setup_teardown(test_connection_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tls_to_plain_server, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cancel_means_no_callback, setup, teardown),
        cmocka_unit_test_setup_teardown(test_callback_starts_another, setup, teardown),
        cmocka_unit_test_setup_teardown(test_many_at_once, setup, teardown),
        cmocka_unit_test_setup_teardown(test_free_with_transfers_in_flight, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
