/*
 * libFuzzer target for fetcher-api's request parsing: every strict
 * query-string parser (api/query.c), the route matcher and dispatcher
 * (api/routes.c, with stub handlers, as in tests/unit/test_api_routes.c)
 * with the cross-site rules it applies (api/crosssite.c) and the POST
 * /assets body parser (api/assetreq.c). Built and run by
 * tests/fuzz/run.sh api_query SECONDS.
 *
 * Input: the first byte chooses the target, the rest is the text it gets
 * (for routes: "METHOD URL", split at the first space, then optionally
 * "\nHost\nOrigin\nSec-Fetch-Site\nContent-Type" header values). Besides "no crash,
 * no sanitizer report", each target checks its own contract: parsers that
 * accept fill their output within range; a matched '*' segment has no '/'.
 */
#include "assetreq.h"
#include "crosssite.h"
#include "handlers.h"
#include "http.h"
#include "query.h"
#include "routes.h"

#include <assert.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *called;
static unsigned error_status;

#define STUB(name)                                                                                 \
    enum MHD_Result name(struct MHD_Connection *conn, const struct api_request *req)               \
    {                                                                                              \
        (void)conn;                                                                                \
        called = #name;                                                                            \
        assert(strchr(routes_tail(req), '/') == NULL);                                             \
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
STUB(ep_alerts)
STUB(static_serve)

enum MHD_Result reply_error(struct MHD_Connection *conn, unsigned status, const char *parameter,
                            const char *message)
{
    (void)conn, (void)parameter;
    /* Every refusal says what is wrong, in printable text. */
    assert(message != NULL && message[0] != '\0');
    for (const char *p = message; *p != '\0'; p++)
        assert(*p >= 0x20 && *p < 0x7f);
    called = "error";
    error_status = status;
    return MHD_YES;
}
enum MHD_Result http_reply_405(struct MHD_Connection *conn, const char *allow)
{
    (void)conn;
    assert(allow[0] != '\0');
    called = "405";
    return MHD_YES;
}
enum MHD_Result http_reply_preflight(struct MHD_Connection *conn, const char *allow)
{
    (void)conn, (void)allow;
    called = "preflight";
    return MHD_YES;
}
enum MHD_Result http_reply_cached(struct MHD_Connection *conn, const char *json, size_t len,
                                  int64_t age_ms)
{
    (void)conn, (void)json, (void)len, (void)age_ms;
    abort(); /* the cache is off here */
}
void http_cache_capture(const char *key, uint64_t gen)
{
    (void)key, (void)gen;
}
unsigned http_peek_status(void)
{
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1 || size > 4096)
        return 0;
    char *s = malloc(size);
    if (s == NULL)
        return 0;
    memcpy(s, data + 1, size - 1);
    s[size - 1] = '\0';
    char msg[160], out[48];
    int present, rank, b;
    int64_t n;
    const char *level;
    switch (data[0] % 8) {
    case 0:
        if (query_uint(s, 1, 1000, 100, &n, msg, sizeof msg) == QUERY_OK)
            assert(n >= 1 && n <= 1000);
        if (query_uint(s, 0, INT64_MAX, 0, &n, msg, sizeof msg) == QUERY_OK)
            assert(n >= 0);
        break;
    case 1:
        if (query_level(s, &level, &rank, msg, sizeof msg) == QUERY_OK && level != NULL)
            assert(rank >= 0 && rank <= 4);
        (void)query_bool(s, &b, msg, sizeof msg);
        break;
    case 2:
        if (query_time(s, out, sizeof out, &present, msg, sizeof msg) == QUERY_OK && present)
            assert(strlen(out) == strlen(s));
        break;
    case 3:
        if (query_text(s, 200, &present, msg, sizeof msg) == QUERY_OK && present)
            assert(strlen(s) <= 200);
        if (query_symbol(s, &present, msg, sizeof msg) == QUERY_OK && present)
            assert(strlen(s) <= 32);
        break;
    case 4:
    case 5: {
        char *sp = strchr(s, ' ');
        if (sp == NULL)
            break;
        *sp = '\0';
        struct api_request req = {.method = s, .url = sp + 1, .head = strcmp(s, "HEAD") == 0};
        /* Header values follow the URL, one per line; an absent line is an
         * absent header. */
        const char **hdrs[] = {&req.host, &req.origin, &req.fetch_site, &req.content_type};
        char *nl = strchr(sp + 1, '\n');
        for (size_t i = 0; i < sizeof hdrs / sizeof hdrs[0] && nl != NULL; i++) {
            *nl = '\0';
            *hdrs[i] = nl + 1;
            nl = strchr(nl + 1, '\n');
        }
        static int set_up;
        char err[160];
        if (!set_up &&
            crosssite_setup("localhost,api:8080", "https://dash.example", err, sizeof err) == 0)
            set_up = 1;
        called = NULL;
        error_status = 0;
        (void)routes_dispatch(NULL, &req);
        assert(called != NULL);
        /* Only refusals we know: 4xx from the rules and 404. */
        if (strcmp(called, "error") == 0)
            assert(error_status == 403 || error_status == 404 || error_status == 415 ||
                   error_status == 421);
        break;
    }
    case 6: {
        char seg[16];
        char *sp = strchr(s, ' ');
        if (sp == NULL)
            break;
        *sp = '\0';
        if (routes_match(s, sp + 1, seg, sizeof seg))
            assert(strchr(seg, '/') == NULL && strlen(seg) < sizeof seg);
        break;
    }
    case 7: {
        struct asset_req a;
        const char *field = NULL;
        if (assetreq_parse(s, strlen(s), &a, &field, msg, sizeof msg) == 0) {
            assert(a.symbol[0] != '\0' && a.provider[0] != '\0' && strlen(a.currency) == 3);
        } else {
            assert(field != NULL);
        }
        break;
    }
    }
    free(s);
    return 0;
}
