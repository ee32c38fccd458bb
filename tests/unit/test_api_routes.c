/*
 * Unit tests of api/routes.c: which handler a method and path reach, 404
 * versus 405 and the Allow list, the one-segment '*' patterns, HEAD as GET.
 * The handlers and the reply functions are stubs that record the call, so
 * the route table is tested alone, without MHD or a database.
 */
#include "handlers.h"
#include "http.h"
#include "routes.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

static const char *called;  /* handler name, or "404", "405", "preflight" */
static char allow_seen[64]; /* Allow of the last 405 / preflight */
static char tail_seen[64];  /* routes_tail() inside the handler */

#define STUB(name)                                                                                 \
    enum MHD_Result name(struct MHD_Connection *conn, const struct api_request *req)               \
    {                                                                                              \
        (void)conn;                                                                                \
        called = #name;                                                                            \
        snprintf(tail_seen, sizeof tail_seen, "%s", routes_tail(req));                             \
        return MHD_YES;                                                                            \
    }
STUB(ep_healthz)
STUB(ep_readyz)
STUB(ep_status)
STUB(ep_statistics)
STUB(ep_queue)
STUB(ep_logs)
STUB(ep_recent_updates)
STUB(ep_cycles)
STUB(ep_cycle)
STUB(ep_assets)
STUB(ep_portfolios)
STUB(ep_trigger_update)
STUB(ep_track)
STUB(ep_untrack)
STUB(ep_refresh)
STUB(ep_pause)
STUB(ep_resume)
STUB(ep_metrics)
STUB(ep_events)
STUB(static_serve)

/* The cache is off in these tests (cache_setup never called); these are
 * only reached when it is on. */
enum MHD_Result http_reply_cached(struct MHD_Connection *conn, const char *json, size_t len,
                                  int64_t age_ms)
{
    (void)conn;
    (void)json;
    (void)len;
    (void)age_ms;
    called = "cached";
    return MHD_YES;
}

void http_cache_capture(const char *key)
{
    (void)key;
}

enum MHD_Result reply_error(struct MHD_Connection *conn, unsigned status, const char *parameter,
                            const char *message)
{
    (void)conn;
    (void)parameter;
    (void)message;
    called = status == 404 ? "404" : "other error";
    return MHD_YES;
}

enum MHD_Result http_reply_405(struct MHD_Connection *conn, const char *allow)
{
    (void)conn;
    called = "405";
    snprintf(allow_seen, sizeof allow_seen, "%s", allow);
    return MHD_YES;
}

enum MHD_Result http_reply_preflight(struct MHD_Connection *conn, const char *allow)
{
    (void)conn;
    called = "preflight";
    snprintf(allow_seen, sizeof allow_seen, "%s", allow);
    return MHD_YES;
}

static void run(const char *method, const char *url)
{
    struct api_request req = {.method = method, .url = url, .head = strcmp(method, "HEAD") == 0};
    called = NULL;
    allow_seen[0] = tail_seen[0] = '\0';
    assert_int_equal(routes_dispatch(NULL, &req), MHD_YES);
    assert_non_null(called);
}

static void test_table(void **state)
{
    (void)state;
    static const struct {
        const char *method, *url, *want, *allow, *tail;
    } cases[] = {
        {"GET", "/healthz", "ep_healthz", "", ""},
        {"GET", "/readyz", "ep_readyz", "", ""},
        {"GET", "/api/fetcher/status", "ep_status", "", ""},
        {"HEAD", "/api/fetcher/status", "ep_status", "", ""},
        {"GET", "/api/fetcher/statistics", "ep_statistics", "", ""},
        {"GET", "/api/fetcher/logs", "ep_logs", "", ""},
        {"GET", "/api/fetcher/recent-updates", "ep_recent_updates", "", ""},
        {"GET", "/api/fetcher/cycles", "ep_cycles", "", ""},
        {"GET", "/api/fetcher/cycles/42", "ep_cycle", "", "42"},
        {"GET", "/api/fetcher/cycles/", "ep_cycle", "", ""},
        {"GET", "/api/fetcher/assets", "ep_assets", "", ""},
        {"GET", "/api/fetcher/portfolios", "ep_portfolios", "", ""},
        {"GET", "/api/fetcher/queue", "ep_queue", "", ""},
        {"POST", "/api/fetcher/trigger-update", "ep_trigger_update", "", ""},
        {"POST", "/api/fetcher/assets", "ep_track", "", ""},
        {"DELETE", "/api/fetcher/assets/AAPL", "ep_untrack", "", "AAPL"},
        {"DELETE", "/api/fetcher/assets/", "ep_untrack", "", ""},
        {"POST", "/api/fetcher/assets/BRK-B/refresh", "ep_refresh", "", "BRK-B"},
        {"POST", "/api/fetcher/pause", "ep_pause", "", ""},
        {"POST", "/api/fetcher/resume", "ep_resume", "", ""},
        {"GET", "/api/fetcher/events", "ep_events", "", ""},
        {"GET", "/metrics", "ep_metrics", "", ""},
        {"PUT", "/api/fetcher/assets", "405", "GET, HEAD, POST", ""},
        {"GET", "/api/fetcher/assets/AAPL", "405", "DELETE", ""},
        {"GET", "/api/fetcher/assets/AAPL/refresh", "405", "POST", ""},
        {"GET", "/api/fetcher/pause", "405", "POST", ""},
        {"POST", "/api/fetcher/events", "405", "GET, HEAD", ""},
        {"POST", "/metrics", "405", "GET, HEAD", ""},
        {"POST", "/api/fetcher/assets//refresh", "404", "", ""},
        {"POST", "/api/fetcher/assets/A/B/refresh", "404", "", ""},
        {"POST", "/api/fetcher/assets/A/refresh/", "404", "", ""},
        {"GET", "/", "static_serve", "", ""},
        {"GET", "/app.js", "static_serve", "", "app.js"},
        /* wrong method on a known path: 405 with every method it takes */
        {"POST", "/api/fetcher/status", "405", "GET, HEAD", ""},
        {"DELETE", "/api/fetcher/logs", "405", "GET, HEAD", ""},
        {"GET", "/api/fetcher/trigger-update", "405", "POST", ""},
        {"PUT", "/api/fetcher/cycles/7", "405", "GET, HEAD", ""},
        {"POST", "/style.css", "405", "GET, HEAD", ""},
        {"OPTIONS", "/api/fetcher/trigger-update", "preflight", "POST", ""},
        /* unknown: 404, and never a static file under /api/ */
        {"GET", "/api/fetcher/nope", "404", "", ""},
        {"POST", "/api/fetcher/nope", "404", "", ""},
        {"GET", "/api", "404", "", ""},
        {"GET", "/api/fetcher/status/", "404", "", ""},
        {"GET", "/api/fetcher/cycles/1/x", "404", "", ""},
        {"GET", "/a/b", "404", "", ""},
        {"GET", "/healthz/x", "404", "", ""},
        {"GET", "/api/fetcher/STATUS", "404", "", ""},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        run(cases[i].method, cases[i].url);
        if (strcmp(called, cases[i].want) != 0)
            fail_msg("%s %s: got %s, want %s", cases[i].method, cases[i].url, called,
                     cases[i].want);
        assert_string_equal(allow_seen, cases[i].allow);
        assert_string_equal(tail_seen, cases[i].tail);
    }
}

static void test_match(void **state)
{
    (void)state;
    char seg[8];
    assert_int_equal(routes_match("/a/*/r", "/a/xy/r", seg, sizeof seg), 1);
    assert_string_equal(seg, "xy");
    assert_int_equal(routes_match("/a/*/r", "/a//r", seg, sizeof seg), 0);
    assert_int_equal(routes_match("/a/*/r", "/a/x/rr", seg, sizeof seg), 0);
    assert_int_equal(routes_match("/a/*/r", "/a/x", seg, sizeof seg), 0);
    assert_int_equal(routes_match("/a/*", "/a/", seg, sizeof seg), 1);
    assert_string_equal(seg, "");
    /* a segment that does not fit the buffer does not match */
    assert_int_equal(routes_match("/a/*", "/a/1234567", seg, sizeof seg), 1);
    assert_int_equal(routes_match("/a/*", "/a/12345678", seg, sizeof seg), 0);
    assert_int_equal(routes_match("/a", "/a", seg, sizeof seg), 1);
    assert_int_equal(routes_match("/a", "/ab", seg, sizeof seg), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_table),
        cmocka_unit_test(test_match),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
