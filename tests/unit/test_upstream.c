/*
 * Unit tests of daemon/upstream.c: the real queue, upstream, fetch and
 * providers on the real loop, talking HTTP over loopback to a server of
 * the test's own (tests/unit/wire_server.c) that answers with the real
 * providers' recorded answers (tests/fixtures/real/) or misbehaves. Each
 * provider-level failure (status classes, refusals, too large, a partial
 * batch, an unknown shape, no connection) must reach the queue's waiter
 * as the right kind, with the reason a person reads, the HTTP status,
 * `refused` and Retry-After where they apply, and cost exactly the
 * requests the contract in upstream.h allows (a fallback per missing key,
 * none for a refusal or a transient failure).
 */
#include "alloc_fail.h"
#include "fetch.h"
#include "log.h"
#include "loop.h"
#include "provider.h"
#include "queue.h"
#include "upstream.h"
#include "wire_server.h"

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

#define REAL "tests/fixtures/real/"

static struct config C;

struct slot {
    int calls;
    struct quote q;
};

static void on_quote(const struct quote *q, void *cls)
{
    struct slot *s = cls;
    s->calls++;
    s->q = *q;
}

struct fx {
    struct loop *loop;
    struct wire_server *ws;
    struct fetcher *f;
    struct upstream *up;
    struct fetch_queue *q;
};

static struct fx F;

/* A fresh stack per case: a refusal pauses its provider, and the next case
 * must not inherit that. base (NULL: the test server) is every
 * provider's base URL. */
static void fx_open(const char *base, size_t max_body)
{
    memset(&F, 0, sizeof F);
    F.loop = loop_new();
    assert_non_null(F.loop);
    F.ws = ws_start();
    assert_non_null(F.ws);
    if (base == NULL)
        base = ws_url(F.ws);
    memset(&C, 0, sizeof C);
    snprintf(C.yahoo_base_url, sizeof C.yahoo_base_url, "%s", base);
    snprintf(C.coingecko_base_url, sizeof C.coingecko_base_url, "%s/api/v3", base);
    snprintf(C.fx_base_url, sizeof C.fx_base_url, "%s/v1", base);
    snprintf(C.kraken_base_url, sizeof C.kraken_base_url, "%s/0/public", base);
    snprintf(C.binance_base_url, sizeof C.binance_base_url, "%s", base);
    C.coingecko_batch = 100;
    struct fetch_options fo = {.timeout_ms = 1500,
                               .connect_timeout_ms = 1000,
                               .max_body = max_body ? max_body : 256 * 1024,
                               .max_connections = 8};
    F.f = fetcher_new(F.loop, &fo);
    assert_non_null(F.f);
    F.up = upstream_new(F.loop, F.f, &C);
    assert_non_null(F.up);
    struct queue_transport tr = upstream_transport(F.up);
    /* no retries: the first answer's kind is what the waiter hears */
    struct queue_limits lim = {.concurrency = 4,
                               .max_retries = 0,
                               .backoff_ms = 100,
                               .backoff_max_ms = 1000,
                               .probe_ms = 60000};
    F.q = queue_new(&tr, &lim);
    assert_non_null(F.q);
    upstream_attach(F.up, F.q);
    size_t np;
    const struct provider *const *ps = provider_all(&np);
    for (size_t i = 0; i < np; i++)
        assert_true(
            queue_add_provider(F.q, ps[i]->name, ps[i]->batch_size(&C), ps[i]->concurrency) >= 0);
}

static void fx_close(void)
{
    queue_free(F.q);
    upstream_free(F.up);
    fetcher_free(F.f);
    ws_stop(F.ws);
    loop_free(F.loop);
    memset(&F, 0, sizeof F);
}

static void submit(const char *provider, const char *sym, struct slot *s)
{
    assert_int_equal(queue_submit(F.q, provider, sym, QPRIO_SCHEDULED, 0, on_quote, s), 0);
}

/* Runs the loop and the queue until every slot is answered. */
static void wait_all(struct slot *s, size_t n)
{
    int64_t end = util_mono_ms() + 10000;
    for (;;) {
        queue_run(F.q, loop_now(F.loop));
        size_t done = 0;
        for (size_t i = 0; i < n; i++)
            done += s[i].calls > 0;
        if (done == n || util_mono_ms() > end)
            break;
        loop_run_once(F.loop, 10);
    }
    for (int i = 0; i < 5; i++) {
        loop_run_once(F.loop, 5);
        queue_run(F.q, loop_now(F.loop));
    }
    for (size_t i = 0; i < n; i++) {
        if (getenv("UPSTREAM_DEBUG"))
            fprintf(stderr, "slot %zu: kind %d status %d '%s'\n", i, s[i].q.kind,
                    s[i].q.http_status, s[i].q.error);
        assert_int_equal(s[i].calls, 1);
    }
}

static struct upstream_counters counters(void)
{
    struct upstream_counters c;
    upstream_get_counters(F.up, &c);
    return c;
}

#define assert_prefix(s, p) assert_int_equal(strncmp((s), (p), strlen(p)), 0)

/* ---- answers that price ----------------------------------------------- */

static void test_batch_answer_prices_each_key(void **state)
{
    (void)state;
    fx_open(NULL, 0);
    char *spark = ws_fixture(REAL "yahoo_spark_v7_MSFT_AAPL_meta_2026-07-27_TRIMMED.json", NULL);
    assert_non_null(spark);
    struct ws_rule r[] = {{.match = "/v7/finance/spark?symbols=MSFT,AAPL&", .body = spark}};
    ws_set_rules(F.ws, r, 1);
    struct slot s[2] = {0};
    submit("yahoo", "MSFT", &s[0]);
    submit("yahoo", "AAPL", &s[1]);
    wait_all(s, 2);
    assert_int_equal(s[0].q.kind, QUOTE_OK);
    assert_true(s[0].q.price == 389.1);
    assert_string_equal(s[0].q.currency, "USD");
    assert_int_equal(s[0].q.http_status, 200);
    assert_int_equal(s[1].q.kind, QUOTE_OK);
    assert_true(s[1].q.price == 336.91);
    assert_int_equal(ws_count(F.ws, NULL), 1);
    struct upstream_counters c = counters();
    assert_int_equal(c.requests, 1);
    assert_int_equal(c.fallback_requests, 0);
    fx_close();
    free(spark);
}

/* A key the batch answer lacks gets its own chart request; that one's 404
 * speaks for itself in Yahoo's words. */
static void test_partial_batch_asks_the_missing_key_alone(void **state)
{
    (void)state;
    fx_open(NULL, 0);
    char *spark = ws_fixture(REAL "yahoo_spark_v7_MSFT_AAPL_meta_2026-07-27_TRIMMED.json", NULL);
    char *chart404 = ws_fixture(REAL "yahoo_chart_v8_404_unknown_symbol.json", NULL);
    assert_non_null(spark);
    assert_non_null(chart404);
    struct ws_rule r[] = {{.match = "/v7/finance/spark", .body = spark},
                          {.match = "/v8/finance/chart/NVDA", .status = 404, .body = chart404}};
    ws_set_rules(F.ws, r, 2);
    struct slot s[3] = {0};
    submit("yahoo", "MSFT", &s[0]);
    submit("yahoo", "AAPL", &s[1]);
    submit("yahoo", "NVDA", &s[2]);
    wait_all(s, 3);
    assert_int_equal(s[0].q.kind, QUOTE_OK);
    assert_int_equal(s[1].q.kind, QUOTE_OK);
    assert_int_equal(s[2].q.kind, QUOTE_PERMANENT);
    assert_int_equal(s[2].q.http_status, 404);
    assert_string_equal(s[2].q.error, "yahoo: HTTP 404: No data found, symbol may be delisted");
    assert_int_equal(s[2].q.refused, 0);
    assert_int_equal(ws_count(F.ws, "/v7/finance/spark"), 1);
    assert_int_equal(ws_count(F.ws, "/v8/finance/chart/"), 1);
    struct upstream_counters c = counters();
    assert_int_equal(c.requests, 2);
    assert_int_equal(c.fallback_requests, 1);
    assert_int_equal(c.fallback_keys, 1);
    fx_close();
    free(spark);
    free(chart404);
}

/* Binance: one unknown pair fails a symbols=[…] request as a whole, with
 * HTTP 400 and the recorded {"code":-1121,"msg":"Invalid symbol."}. The
 * batch's keys are then asked one by one (?symbol=…): the known pair is
 * priced from its recorded answer, the unknown one fails alone with
 * Binance's reason, and nothing is retried (1 + 2 requests). */
static void test_binance_bad_symbol_isolated(void **state)
{
    (void)state;
    fx_open(NULL, 0);
    char *bad = ws_fixture(REAL "binance_error_invalid_symbol_400.json", NULL);
    char *bnb = ws_fixture(REAL "binance_ticker_price_symbol_BNBUSDT.json", NULL);
    assert_non_null(bad);
    assert_non_null(bnb);
    struct ws_rule r[] = {
        {.match = "/api/v3/ticker/price?symbols=", .status = 400, .body = bad},
        {.match = "/api/v3/ticker/price?symbol=BNBUSDT", .body = bnb},
        {.match = "/api/v3/ticker/price?symbol=NOPEUSDT", .status = 400, .body = bad}};
    ws_set_rules(F.ws, r, 3);
    struct slot s[2] = {0};
    submit("binance", "BNBUSDT", &s[0]);
    submit("binance", "NOPEUSDT", &s[1]);
    wait_all(s, 2);
    assert_int_equal(s[0].q.kind, QUOTE_OK);
    assert_true(s[0].q.price == 290.0); /* anchor: "price":"290.00000000" */
    assert_string_equal(s[0].q.currency, "USD");
    assert_string_equal(s[0].q.quoted_currency, "USDT");
    assert_int_equal(s[1].q.kind, QUOTE_PERMANENT);
    assert_int_equal(s[1].q.http_status, 400);
    assert_int_equal(s[1].q.refused, 0);
    assert_string_equal(s[1].q.error,
                        "binance: HTTP 400: NOPEUSDT is not a Binance pair (Invalid symbol.)");
    assert_int_equal(ws_count(F.ws, "/api/v3/ticker/price?symbols="), 1);
    assert_int_equal(ws_count(F.ws, "/api/v3/ticker/price?symbol="), 2);
    struct upstream_counters c = counters();
    assert_int_equal(c.requests, 3);
    assert_int_equal(c.fallback_requests, 2);
    fx_close();
    free(bad);
    free(bnb);
}

/* A provider without a second request kind fails the missing key, and
 * prices the others. */
static void test_partial_batch_without_fallback(void **state)
{
    (void)state;
    fx_open(NULL, 0);
    char *cg = ws_fixture(REAL "coingecko_simple_price_bitcoin_usd_2025-10-12.json", NULL);
    assert_non_null(cg);
    struct ws_rule r[] = {{.match = "/api/v3/simple/price", .body = cg}};
    ws_set_rules(F.ws, r, 1);
    struct slot s[2] = {0};
    submit("coingecko", "bitcoin", &s[0]);
    submit("coingecko", "ethereum", &s[1]);
    wait_all(s, 2);
    assert_int_equal(s[0].q.kind, QUOTE_OK);
    assert_true(s[0].q.price == 111813);
    assert_int_equal(s[1].q.kind, QUOTE_PERMANENT);
    assert_string_equal(s[1].q.error, "coingecko: symbol ethereum missing from the answer");
    assert_int_equal(ws_count(F.ws, NULL), 1);
    fx_close();
    free(cg);
}

/* ---- status classes ------------------------------------------------------ */

/* 5xx and 429 are transient whatever the body, and never split into
 * per-key requests (that would multiply the load on a struggling host). */
static void test_server_error_is_transient_and_not_split(void **state)
{
    (void)state;
    fx_open(NULL, 0);
    char *html = ws_fixture(REAL "yahoo_search_500_html_error_report_2025-11-10.html", NULL);
    assert_non_null(html);
    struct ws_rule r[] = {{.status = 500, .content_type = "text/html", .body = html}};
    ws_set_rules(F.ws, r, 1);
    struct slot s[2] = {0};
    submit("yahoo", "MSFT", &s[0]);
    submit("yahoo", "AAPL", &s[1]);
    wait_all(s, 2);
    for (int i = 0; i < 2; i++) {
        assert_int_equal(s[i].q.kind, QUOTE_TRANSIENT);
        assert_int_equal(s[i].q.http_status, 500);
        assert_int_equal(s[i].q.refused, 0);
        assert_string_equal(s[i].q.error, "yahoo: HTTP 500 (server error)");
    }
    assert_int_equal(ws_count(F.ws, NULL), 1);
    assert_int_equal(ws_count(F.ws, "/v8/finance/chart/"), 0);
    fx_close();
    free(html);
}

static void test_rate_limited_carries_retry_after(void **state)
{
    (void)state;
    fx_open(NULL, 0);
    char *body = ws_fixture(REAL "coingecko_429_rate_limit.json", NULL);
    assert_non_null(body);
    struct ws_rule r[] = {{.status = 429, .headers = "Retry-After: 5\r\n", .body = body}};
    ws_set_rules(F.ws, r, 1);
    struct slot s[2] = {0};
    submit("coingecko", "bitcoin", &s[0]);
    submit("coingecko", "ethereum", &s[1]);
    wait_all(s, 2);
    for (int i = 0; i < 2; i++) {
        assert_int_equal(s[i].q.kind, QUOTE_TRANSIENT);
        assert_int_equal(s[i].q.http_status, 429);
        assert_int_equal(s[i].q.retry_after_s, 5);
        assert_int_equal(s[i].q.refused, 0);
        assert_string_equal(s[i].q.error, "coingecko: HTTP 429 (rate limited, Retry-After 5 s)");
    }
    assert_int_equal(ws_count(F.ws, NULL), 1);
    struct queue_counters qc;
    queue_get_counters(F.q, &qc);
    assert_int_equal(qc.rate_limited, 1);
    fx_close();
    free(body);
}

/* ---- refusals ------------------------------------------------------------- */

struct refusal_case {
    const char *what;
    int status;
    const char *ctype;
    const char *fixture; /* or body */
    const char *body;
    const char *want; /* the reason's start, after "yahoo: " */
};

/* The provider's answer, not a symbol's: both keys fail as refused (so
 * the queue pauses yahoo), and no per-key chart request follows. */
static void test_refusals_pause_not_fan_out(void **state)
{
    (void)state;
    static const struct refusal_case cases[] = {
        {"401 in Yahoo's JSON", 401, NULL, REAL "yahoo_v7_quote_401_invalid_crumb.json", NULL,
         "HTTP 401: refused"},
        {"403 text", 403, "text/plain", NULL, "Forbidden", "HTTP 403: refused (\"Forbidden\")"},
        {"consent page", 200, "text/html", REAL "yahoo_consent_collectConsent_200_EXCERPT.html",
         NULL, "answered an HTML page, not data"},
        {"HTML without its type", 200, "application/json", NULL, "  <!doctype html><p>blocked",
         "answered an HTML page, not data"},
        {"empty 200", 200, NULL, NULL, "", "answered an empty body"},
        {"edge text", 200, "text/plain", REAL "yahoo_429_edge_too_many_requests.txt", NULL,
         "answered text, not JSON: \"Edge: Too Many Requests\""},
        {"broken JSON", 200, NULL, NULL, "{\"spark\":{\"result\":[", ""},
    };
    for (size_t k = 0; k < ARRAY_LEN(cases); k++) {
        const struct refusal_case *rc = &cases[k];
        fx_open(NULL, 0);
        char *body = rc->fixture ? ws_fixture(rc->fixture, NULL) : NULL;
        struct ws_rule r[] = {{.status = rc->status,
                               .content_type = rc->ctype,
                               .body = rc->fixture ? body : rc->body}};
        ws_set_rules(F.ws, r, 1);
        struct slot s[2] = {0};
        submit("yahoo", "MSFT", &s[0]);
        submit("yahoo", "AAPL", &s[1]);
        wait_all(s, 2);
        for (int i = 0; i < 2; i++) {
            if (s[i].q.kind != QUOTE_PERMANENT || !s[i].q.refused ||
                s[i].q.http_status != rc->status || strncmp(s[i].q.error, "yahoo: ", 7) != 0 ||
                strncmp(s[i].q.error + 7, rc->want, strlen(rc->want)) != 0)
                fail_msg("%s: kind %d refused %d status %d error '%s'", rc->what, s[i].q.kind,
                         s[i].q.refused, s[i].q.http_status, s[i].q.error);
        }
        if (ws_count(F.ws, NULL) != 1)
            fail_msg("%s: %zu requests, want 1", rc->what, ws_count(F.ws, NULL));
        assert_int_equal(counters().refused, 1);
        struct queue_provider_info pi[16];
        int np = queue_get_providers(F.q, pi, 16);
        int paused = 0;
        for (int i = 0; i < np; i++)
            if (strcmp(pi[i].name, "yahoo") == 0)
                paused = pi[i].paused_until > 0 && pi[i].refused;
        if (!paused)
            fail_msg("%s: yahoo not paused as refused", rc->what);
        fx_close();
        free(body);
    }
}

/* ---- answers that cannot be read as a whole ------------------------------ */

/* JSON of a shape yahoo's spark reader does not know: each key gets the
 * chart request, whose real answer prices it. */
static void test_unknown_shape_falls_back_per_key(void **state)
{
    (void)state;
    fx_open(NULL, 0);
    char *chart = ws_fixture(REAL "yahoo_chart_v8_WSU.DE_XETRA_EUR_2023-08.json", NULL);
    assert_non_null(chart);
    struct ws_rule r[] = {{.match = "/v7/finance/spark", .body = "{\"quoteResponse\":{}}"},
                          {.match = "/v8/finance/chart/WSU.DE", .body = chart}};
    ws_set_rules(F.ws, r, 2);
    struct slot s = {0};
    submit("yahoo", "WSU.DE", &s);
    wait_all(&s, 1);
    assert_int_equal(s.q.kind, QUOTE_OK);
    assert_true(s.q.price > 0);
    assert_string_equal(s.q.currency, "EUR");
    assert_int_equal(ws_count(F.ws, "/v8/finance/chart/WSU.DE"), 1);
    assert_int_equal(counters().fallback_requests, 1);
    fx_close();
    free(chart);
}

/* Without a second request kind, the same answer fails the key, for
 * good, with the reader's reason. */
static void test_unknown_shape_without_fallback(void **state)
{
    (void)state;
    fx_open(NULL, 0);
    struct ws_rule r[] = {{.body = "[1,2,3]"}};
    ws_set_rules(F.ws, r, 1);
    struct slot s = {0};
    submit("coingecko", "bitcoin", &s);
    wait_all(&s, 1);
    assert_int_equal(s.q.kind, QUOTE_PERMANENT);
    assert_int_equal(s.q.refused, 0);
    assert_int_equal(s.q.http_status, 200);
    assert_prefix(s.q.error, "coingecko: ");
    assert_true(strlen(s.q.error) > strlen("coingecko: "));
    fx_close();
}

/* A 4xx in the provider's own format: its reason, not a snippet. */
static void test_client_error_in_provider_words(void **state)
{
    (void)state;
    fx_open(NULL, 0);
    char *body = ws_fixture(REAL "coingecko_error_422_missing_vs_currency.json", NULL);
    assert_non_null(body);
    struct ws_rule r[] = {{.status = 422, .body = body}};
    ws_set_rules(F.ws, r, 1);
    struct slot s = {0};
    submit("coingecko", "bitcoin", &s);
    wait_all(&s, 1);
    assert_int_equal(s.q.kind, QUOTE_PERMANENT);
    assert_int_equal(s.q.http_status, 422);
    assert_int_equal(s.q.refused, 0);
    assert_prefix(s.q.error, "coingecko: HTTP 422: ");
    assert_int_equal(ws_count(F.ws, NULL), 1);
    fx_close();
    free(body);
}

/* Too large: permanent; a batch of several splits (one poisoned symbol
 * must not fail its batch-mates), a single key fails. */
static void test_too_large(void **state)
{
    (void)state;
    fx_open(NULL, 32 * 1024);
    char *chart = ws_fixture(REAL "yahoo_chart_v8_WSU.DE_XETRA_EUR_2023-08.json", NULL);
    char *chart404 = ws_fixture(REAL "yahoo_chart_v8_404_unknown_symbol.json", NULL);
    assert_non_null(chart);
    assert_non_null(chart404);
    struct ws_rule r[] = {
        {.match = "/v7/finance/spark", .action = WS_BIG, .size = 1 << 20},
        {.match = "/v8/finance/chart/WSU.DE", .body = chart},
        {.match = "/v8/finance/chart/BIG", .action = WS_BIG, .size = 1 << 20, .no_length = 1},
        {.match = "/api/v3/simple/price", .action = WS_BIG, .size = 1 << 20, .no_length = 1},
    };
    ws_set_rules(F.ws, r, 4);
    struct slot s[3] = {0};
    submit("yahoo", "WSU.DE", &s[0]);
    submit("yahoo", "BIG", &s[1]);
    submit("coingecko", "bitcoin", &s[2]);
    wait_all(s, 3);
    assert_int_equal(s[0].q.kind, QUOTE_OK); /* its own request priced it */
    assert_int_equal(s[1].q.kind, QUOTE_PERMANENT);
    assert_string_equal(s[1].q.error, "yahoo: answer too large (over 32768 bytes)");
    assert_int_equal(s[2].q.kind, QUOTE_PERMANENT);
    assert_string_equal(s[2].q.error, "coingecko: answer too large (over 32768 bytes)");
    assert_int_equal(ws_count(F.ws, "/v7/finance/spark"), 1);
    assert_int_equal(ws_count(F.ws, "/v8/finance/chart/"), 2);
    fx_close();
    free(chart);
    free(chart404);
}

/* ---- no answer at all ------------------------------------------------------ */

static void test_timeout_is_transient_and_not_split(void **state)
{
    (void)state;
    fx_open(NULL, 0);
    struct ws_rule r[] = {{.action = WS_STALL, .stall_ms = 4000}};
    ws_set_rules(F.ws, r, 1);
    struct slot s[2] = {0};
    submit("yahoo", "MSFT", &s[0]);
    submit("yahoo", "AAPL", &s[1]);
    wait_all(s, 2);
    for (int i = 0; i < 2; i++) {
        assert_int_equal(s[i].q.kind, QUOTE_TRANSIENT);
        assert_int_equal(s[i].q.http_status, 0);
        assert_string_equal(s[i].q.error, "yahoo: no answer within the time limit");
    }
    assert_int_equal(ws_count(F.ws, NULL), 1);
    fx_close();
}

/* The server answered 200 and the body broke off: transient too, and the
 * batch is asked again whole (not one request per key). */
static void test_truncated_answer_is_transient_and_not_split(void **state)
{
    (void)state;
    fx_open(NULL, 0);
    struct ws_rule r[] = {
        {.action = WS_TRUNCATE, .size = 4000, .body = "{\"spark\":{\"result\":["}};
    ws_set_rules(F.ws, r, 1);
    struct slot s[2] = {0};
    submit("yahoo", "MSFT", &s[0]);
    submit("yahoo", "AAPL", &s[1]);
    wait_all(s, 2);
    for (int i = 0; i < 2; i++) {
        assert_int_equal(s[i].q.kind, QUOTE_TRANSIENT);
        assert_int_equal(s[i].q.refused, 0);
        assert_string_equal(s[i].q.error, "yahoo: answer truncated (connection closed early)");
    }
    assert_int_equal(ws_count(F.ws, NULL), 1);
    assert_int_equal(ws_count(F.ws, "/v8/finance/chart/"), 0);
    fx_close();
}

static void test_reset_is_transient(void **state)
{
    (void)state;
    fx_open(NULL, 0);
    struct ws_rule r[] = {{.action = WS_RESET}};
    ws_set_rules(F.ws, r, 1);
    struct slot s = {0};
    submit("coingecko", "bitcoin", &s);
    wait_all(&s, 1);
    assert_int_equal(s.q.kind, QUOTE_TRANSIENT);
    assert_prefix(s.q.error, "coingecko: ");
    fx_close();
}

static void test_unreachable_hosts_are_connection_failures(void **state)
{
    (void)state;
    fx_open("http://nonexistent.invalid", 0);
    struct slot s = {0};
    submit("yahoo", "MSFT", &s);
    wait_all(&s, 1);
    assert_int_equal(s.q.kind, QUOTE_CONNECTION);
    assert_string_equal(s.q.error, "yahoo: cannot resolve host nonexistent.invalid (no such name, "
                                   "or no DNS server answered)");
    fx_close();

    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof a), 0);
    assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &len), 0);
    close(fd);
    char base[64];
    snprintf(base, sizeof base, "http://127.0.0.1:%d", ntohs(a.sin_port));
    fx_open(base, 0);
    struct slot t = {0};
    submit("coingecko", "bitcoin", &t);
    wait_all(&t, 1);
    assert_int_equal(t.q.kind, QUOTE_CONNECTION);
    assert_string_equal(t.q.error, "coingecko: cannot connect to 127.0.0.1: connection refused");
    fx_close();
}

/* ---- the batch's URL ------------------------------------------------------ */

/* Twenty symbols whose URL would pass PROVIDER_URL_MAX: the request
 * carries as many as fit and the rest go in a later one; none is lost. */
static void test_long_url_carries_what_fits(void **state)
{
    (void)state;
    fx_open(NULL, 0);
    char *spark = ws_fixture(REAL "yahoo_spark_v7_MSFT_AAPL_meta_2026-07-27_TRIMMED.json", NULL);
    assert_non_null(spark);
    struct ws_rule r[] = {{.match = "/v7/finance/spark", .body = spark},
                          {.match = "/v8/finance/chart/", .status = 404, .body = "{}"}};
    ws_set_rules(F.ws, r, 2);
    enum { N = 20 };
    struct slot s[N];
    memset(s, 0, sizeof s);
    char syms[N][88];
    for (int i = 0; i < N; i++) {
        /* '^' becomes %5E: 76 of them and 4 digits are 232 bytes of URL
         * each, and twenty of those 4.6 KB */
        memset(syms[i], '^', 76);
        snprintf(syms[i] + 76, 12, "%04d", i);
        submit("yahoo", syms[i], &s[i]);
    }
    wait_all(s, N);
    size_t sparks = ws_count(F.ws, "/v7/finance/spark");
    assert_true(sparks >= 2);
    size_t carried = 0;
    for (size_t i = 0; i < ws_count(F.ws, NULL); i++) {
        char t[4300];
        ws_target(F.ws, i, t, sizeof t);
        if (strstr(t, "/v7/finance/spark") == NULL)
            continue;
        assert_true(strlen(ws_url(F.ws)) + strlen(t) < PROVIDER_URL_MAX);
        for (const char *p = t; (p = strstr(p, "%5E%5E%5E%5E%5E%5E%5E%5E%5E%5E")) != NULL;
             p = strchr(p, ',') ? strchr(p, ',') : p + strlen(p))
            carried++;
    }
    assert_int_equal(carried, N); /* each symbol asked once, none dropped */
    for (int i = 0; i < N; i++)
        assert_int_not_equal(s[i].q.kind, QUOTE_OK);
    fx_close();
    free(spark);
}

/* ---- our own trouble ------------------------------------------------------ */

/* Memory runs out while json-c reads a good answer (json-c 0.16 then
 * returns no value and no error): that is ours, not the provider's. The
 * keys fail as transient (asked again), never as a refusal that would
 * pause the provider for 30 s and more. */
static void test_out_of_memory_reading_is_not_a_refusal(void **state)
{
    (void)state;
    fx_open(NULL, 0);
    char *spark = ws_fixture(REAL "yahoo_spark_v7_MSFT_AAPL_meta_2026-07-27_TRIMMED.json", NULL);
    assert_non_null(spark);
    struct ws_rule r[] = {{.match = "/v7/finance/spark", .body = spark}};
    ws_set_rules(F.ws, r, 1);
    struct slot s[2] = {0};
    submit("yahoo", "MSFT", &s[0]);
    submit("yahoo", "AAPL", &s[1]);
    af_arm_only("json_tokener_parse_ex", 1);
    wait_all(s, 2);
    af_disarm();
    assert_true(af_failed());
    for (int i = 0; i < 2; i++) {
        assert_int_equal(s[i].q.kind, QUOTE_TRANSIENT);
        assert_int_equal(s[i].q.refused, 0);
        assert_string_equal(s[i].q.error, "yahoo: out of memory reading the answer");
    }
    assert_int_equal(counters().refused, 0);
    struct queue_provider_info pi[16];
    int np = queue_get_providers(F.q, pi, 16);
    for (int i = 0; i < np; i++)
        if (strcmp(pi[i].name, "yahoo") == 0)
            assert_int_equal(pi[i].paused_until, 0);
    fx_close();
    free(spark);
}

/* ---- lifetime ------------------------------------------------------------- */

/* Freed with requests in flight: nothing reported, nothing leaked. */
static void test_free_in_flight(void **state)
{
    (void)state;
    fx_open(NULL, 0);
    struct ws_rule r[] = {{.action = WS_STALL, .stall_ms = 3000}};
    ws_set_rules(F.ws, r, 1);
    struct slot s[2] = {0};
    submit("yahoo", "MSFT", &s[0]);
    submit("coingecko", "bitcoin", &s[1]);
    /* both requests sent (and stalled) */
    int64_t end = util_mono_ms() + 5000;
    while ((fetcher_active(F.f) < 2 || ws_count(F.ws, NULL) < 2) && util_mono_ms() < end) {
        queue_run(F.q, loop_now(F.loop));
        loop_run_once(F.loop, 10);
    }
    assert_int_equal(fetcher_active(F.f), 2);
    fx_close();
    assert_int_equal(s[0].calls + s[1].calls, 0);
}

int main(void)
{
    if (getenv("UPSTREAM_DEBUG") == NULL)
        log_set_min_level(LOG_CRITICAL);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_batch_answer_prices_each_key),
        cmocka_unit_test(test_partial_batch_asks_the_missing_key_alone),
        cmocka_unit_test(test_partial_batch_without_fallback),
        cmocka_unit_test(test_binance_bad_symbol_isolated),
        cmocka_unit_test(test_server_error_is_transient_and_not_split),
        cmocka_unit_test(test_rate_limited_carries_retry_after),
        cmocka_unit_test(test_refusals_pause_not_fan_out),
        cmocka_unit_test(test_unknown_shape_falls_back_per_key),
        cmocka_unit_test(test_unknown_shape_without_fallback),
        cmocka_unit_test(test_client_error_in_provider_words),
        cmocka_unit_test(test_too_large),
        cmocka_unit_test(test_timeout_is_transient_and_not_split),
        cmocka_unit_test(test_truncated_answer_is_transient_and_not_split),
        cmocka_unit_test(test_reset_is_transient),
        cmocka_unit_test(test_unreachable_hosts_are_connection_failures),
        cmocka_unit_test(test_long_url_carries_what_fits),
        cmocka_unit_test(test_out_of_memory_reading_is_not_a_refusal),
        cmocka_unit_test(test_free_in_flight),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
