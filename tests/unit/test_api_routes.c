/*
 * Unit tests of api/routes.c: which handler a method and path reach, 404
 * versus 405 and the Allow list, the one-segment '*' patterns, HEAD as GET,
 * and that the cross-site rules (crosssite.c, linked for real) stand
 * before every write in the table and every path but /healthz.
 * The handlers and the reply functions are stubs that record the call, so
 * the route table is tested alone, without MHD or a database.
 */
#include "cache.h"
#include "crosssite.h"
#include "handlers.h"
#include "http.h"
#include "routes.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

static const char *called;            /* handler name, or "404", "405", "preflight" */
static char allow_seen[64];           /* Allow of the last 405 / preflight */
static char tail_seen[64];            /* routes_tail() inside the handler */
static char tail2_seen[64];           /* routes_tail2() inside the handler */
static unsigned status_seen;          /* status of the last reply_error */
static unsigned handler_status = 200; /* what a stub handler "answers" */
static unsigned queued;               /* the status the request got, for http_peek_status */

#define STUB(name)                                                                                 \
    enum MHD_Result name(struct MHD_Connection *conn, const struct api_request *req)               \
    {                                                                                              \
        (void)conn;                                                                                \
        called = #name;                                                                            \
        queued = handler_status;                                                                   \
        snprintf(tail_seen, sizeof tail_seen, "%s", routes_tail(req));                             \
        snprintf(tail2_seen, sizeof tail2_seen, "%s", routes_tail2(req));                          \
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
STUB(ep_alerts)
STUB(ep_assets)
STUB(ep_portfolios)
STUB(ep_trigger_update)
STUB(ep_track)
STUB(ep_untrack)
STUB(ep_refresh)
STUB(ep_history)
STUB(ep_history_batch)
STUB(ep_pause)
STUB(ep_resume)
STUB(ep_metrics)
STUB(ep_events)
STUB(ep_portfolio_create)
STUB(ep_portfolio_get)
STUB(ep_portfolio_update)
STUB(ep_portfolio_delete)
STUB(ep_position_add)
STUB(ep_position_update)
STUB(ep_position_delete)
STUB(ep_portfolio_import)
STUB(ep_search)
STUB(ep_demo_load)
STUB(ep_openapi)
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

void http_cache_capture(const char *key, uint64_t gen)
{
    (void)key;
    (void)gen;
}

unsigned http_peek_status(void)
{
    return queued;
}

enum MHD_Result reply_error(struct MHD_Connection *conn, unsigned status, const char *parameter,
                            const char *message)
{
    (void)conn;
    (void)parameter;
    (void)message;
    called = status == 404 ? "404" : "other error";
    status_seen = status;
    queued = status;
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

/* A request as curl sends it: no Host check matters (absent), and writes
 * carry the JSON content type every write needs. */
static void run(const char *method, const char *url)
{
    struct api_request req = {.method = method, .url = url, .head = strcmp(method, "HEAD") == 0};
    if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0)
        req.content_type = "application/json";
    called = NULL;
    queued = 0;
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
        {"GET", "/api/fetcher/assets/BRK-B/history", "ep_history", "", "BRK-B"},
        {"GET", "/api/fetcher/history", "ep_history_batch", "", ""},
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

static void run_hdrs(const char *method, const char *url, const char *host, const char *origin,
                     const char *site, const char *type)
{
    struct api_request req = {.method = method,
                              .url = url,
                              .head = strcmp(method, "HEAD") == 0,
                              .host = host,
                              .origin = origin,
                              .fetch_site = site,
                              .content_type = type};
    called = NULL;
    status_seen = queued = 0;
    assert_int_equal(routes_dispatch(NULL, &req), MHD_YES);
    assert_non_null(called);
}

/* Every non-GET route of the table, found through the dispatcher itself
 * (a 405's Allow list names them), is refused a forged Origin, a cross-site
 * fetch and each simple content type, and reaches its handler when it is
 * same-origin JSON: a write added to the table gets the rules without
 * anyone remembering. */
static void test_crosssite_gate(void **state)
{
    (void)state;
    char err[128];
    assert_int_equal(crosssite_setup("localhost", "", err, sizeof err), 0);
    static const struct {
        const char *method, *url, *handler;
    } writes[] = {
        {"POST", "/api/fetcher/trigger-update", "ep_trigger_update"},
        {"POST", "/api/fetcher/assets", "ep_track"},
        {"DELETE", "/api/fetcher/assets/AAPL", "ep_untrack"},
        {"POST", "/api/fetcher/assets/AAPL/refresh", "ep_refresh"},
        {"POST", "/api/fetcher/pause", "ep_pause"},
        {"POST", "/api/fetcher/resume", "ep_resume"},
    };
    static const struct {
        const char *origin, *site, *type;
        unsigned want;
    } bad[] = {
        {"https://evil.example", NULL, "application/json", 403},
        {"null", NULL, "application/json", 403},
        {"http://localhost:3000", "same-site", "application/json", 403},
        {NULL, "cross-site", "application/json", 403},
        {NULL, NULL, "text/plain", 415},
        {NULL, NULL, "application/x-www-form-urlencoded", 415},
        {NULL, NULL, "multipart/form-data; boundary=x", 415},
        {NULL, NULL, NULL, 415},
        {"https://evil.example", "cross-site", "text/plain", 403},
    };
    for (size_t i = 0; i < sizeof writes / sizeof writes[0]; i++) {
        for (size_t j = 0; j < sizeof bad / sizeof bad[0]; j++) {
            run_hdrs(writes[i].method, writes[i].url, "localhost:8080", bad[j].origin, bad[j].site,
                     bad[j].type);
            if (status_seen != bad[j].want)
                fail_msg("%s %s with case %zu: got %s (%u), want %u", writes[i].method,
                         writes[i].url, j, called, status_seen, bad[j].want);
        }
        run_hdrs(writes[i].method, writes[i].url, "localhost:8080", "http://localhost:8080",
                 "same-origin", "application/json; charset=utf-8");
        assert_string_equal(called, writes[i].handler);
        run_hdrs(writes[i].method, writes[i].url, "127.0.0.1:8080", NULL, NULL, "application/json");
        assert_string_equal(called, writes[i].handler);
    }
    /* The table has no write this test does not know: every path that
     * takes a method other than GET is in writes[]. */
    static const char *const paths[] = {
        "/api/fetcher/trigger-update",   "/api/fetcher/assets", "/api/fetcher/assets/X",
        "/api/fetcher/assets/X/refresh", "/api/fetcher/pause",  "/api/fetcher/resume"};
    size_t nwrites = 0;
    for (size_t i = 0; i < sizeof paths / sizeof paths[0]; i++) {
        run("PATCH", paths[i]);
        assert_string_equal(called, "405");
        nwrites += strstr(allow_seen, "POST") != NULL || strstr(allow_seen, "DELETE") != NULL;
    }
    assert_int_equal(nwrites, sizeof writes / sizeof writes[0]);

    /* Host: a foreign name on reads, files, streams and writes is 421;
     * /healthz answers anyone; addresses and localhost are served. */
    static const char *const reads[] = {"/api/fetcher/status", "/",        "/app.js",
                                        "/api/fetcher/events", "/metrics", "/readyz"};
    for (size_t i = 0; i < sizeof reads / sizeof reads[0]; i++) {
        run_hdrs("GET", reads[i], "evil.example", NULL, NULL, NULL);
        assert_int_equal(status_seen, 421);
        run_hdrs("GET", reads[i], "attacker.example:8080", NULL, NULL, NULL);
        assert_int_equal(status_seen, 421);
        run_hdrs("GET", reads[i], "localhost:8080", NULL, NULL, NULL);
        assert_int_equal(status_seen, 0);
        run_hdrs("GET", reads[i], "[::1]:8080", NULL, NULL, NULL);
        assert_int_equal(status_seen, 0);
    }
    run_hdrs("POST", "/api/fetcher/pause", "attacker.example:8080", "http://attacker.example:8080",
             "same-origin", "application/json");
    assert_int_equal(status_seen, 421);
    run_hdrs("GET", "/healthz", "evil.example", NULL, NULL, NULL);
    assert_string_equal(called, "ep_healthz");

    /* Preflights: a foreign origin is refused, ours is answered. */
    run_hdrs("OPTIONS", "/api/fetcher/pause", "localhost:8080", "https://evil.example", NULL, NULL);
    assert_int_equal(status_seen, 403);
    run_hdrs("OPTIONS", "/api/fetcher/pause", "localhost:8080", "http://localhost:8080", NULL,
             NULL);
    assert_string_equal(called, "preflight");
    assert_int_equal(crosssite_setup("", "", err, sizeof err), 0);
}

/* A write empties the answer cache only when it was not refused: a 4xx
 * (refused by the cross-site rules or by its handler) changed nothing, so
 * readers keep their answers; 2xx and 5xx (it may have committed) clear. */
static void test_cache_clear_rule(void **state)
{
    (void)state;
    size_t len;
    int64_t age;
    cache_setup(60000);
    static const struct {
        const char *type;
        unsigned handler;
        int cleared;
    } cases[] = {
        {"application/json", 200, 1}, {"application/json", 202, 1}, {"application/json", 204, 1},
        {"application/json", 403, 0}, {"application/json", 401, 0}, {"application/json", 404, 0},
        {"application/json", 409, 0}, {"application/json", 400, 0}, {"application/json", 503, 1},
        {"application/json", 500, 1}, {"text/plain", 200, 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        cache_put("/api/fetcher/status", "{}", 2, cache_generation());
        handler_status = cases[i].handler;
        run_hdrs("POST", "/api/fetcher/pause", NULL, NULL, NULL, cases[i].type);
        char *b = cache_get("/api/fetcher/status", &len, &age);
        if ((b == NULL) != cases[i].cleared)
            fail_msg("write answered %u (%s): cache %s", cases[i].handler, cases[i].type,
                     b == NULL ? "cleared" : "kept");
        free(b);
    }
    handler_status = 200;
    cache_clear();
    cache_setup(0);
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

/* Portfolio routes: two segments, each method to its handler. */
static void test_portfolio_routes(void **state)
{
    (void)state;
    static const struct {
        const char *method, *url, *handler, *seg1, *seg2;
    } cases[] = {
        {"GET", "/api/fetcher/portfolios", "ep_portfolios", "", ""},
        {"POST", "/api/fetcher/portfolios", "ep_portfolio_create", "", ""},
        {"GET", "/api/fetcher/portfolios/12", "ep_portfolio_get", "12", ""},
        {"PATCH", "/api/fetcher/portfolios/12", "ep_portfolio_update", "12", ""},
        {"DELETE", "/api/fetcher/portfolios/12", "ep_portfolio_delete", "12", ""},
        {"POST", "/api/fetcher/portfolios/12/positions", "ep_position_add", "12", ""},
        {"PATCH", "/api/fetcher/portfolios/12/positions/BRK-B", "ep_position_update", "12",
         "BRK-B"},
        {"DELETE", "/api/fetcher/portfolios/7/positions/^GSPC", "ep_position_delete", "7", "^GSPC"},
        {"POST", "/api/fetcher/portfolios/7/import", "ep_portfolio_import", "7", ""},
        {"GET", "/api/fetcher/search", "ep_search", "", ""},
        {"POST", "/api/fetcher/demo", "ep_demo_load", "", ""},
        {"GET", "/api/fetcher/openapi.json", "ep_openapi", "", ""},
        /* neither path takes these: 405 with what it does take, or 404 */
        {"PUT", "/api/fetcher/portfolios/12", "405", "", ""},
        {"GET", "/api/fetcher/portfolios/12/positions/A/B", "404", "", ""},
        {"GET", "/api/fetcher/portfolios/12/positions", "405", "", ""},
        {"PATCH", "/api/fetcher/portfolios//positions/A", "404", "", ""},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        run(cases[i].method, cases[i].url);
        if (strcmp(called, cases[i].handler) != 0)
            fail_msg("%s %s: reached %s, want %s", cases[i].method, cases[i].url, called,
                     cases[i].handler);
        if (cases[i].handler[0] == 'e') {
            assert_string_equal(tail_seen, cases[i].seg1);
            assert_string_equal(tail2_seen, cases[i].seg2);
        }
    }
    run("PUT", "/api/fetcher/portfolios/12");
    assert_string_equal(allow_seen, "GET, HEAD, PATCH, DELETE");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_portfolio_routes),
        cmocka_unit_test(test_table),
        cmocka_unit_test(test_crosssite_gate),
        cmocka_unit_test(test_cache_clear_rule),
        cmocka_unit_test(test_match),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
