/*
 * The allocation-failure run ("torture", as curl calls its own) for the
 * modules that read what comes from outside: every provider's reader
 * (provider_parse_json, parse, the fallback reader, validate_quote) over
 * every recorded real answer in tests/fixtures/real/, jbuf writing those
 * answers as JSON, the body of POST /assets (api/assetreq.c), the NOTIFY
 * payloads fetcher-api relays (events_parse_payload), the query-string
 * parsers (api/query.c) and the Host/Origin checks (api/crosssite.c).
 *
 * For each input: a run that only counts the allocations (total), then a
 * run for each N = 1 … total in which the Nth fails (tests/unit/alloc_fail.c
 * says what an allocation is). Each run must not crash, must leak nothing
 * (LeakSanitizer checks after each input in the ASan build; valgrind by
 * hand in the normal one: glibc's per-thread cache makes its heap
 * counters useless for this), and must end either exactly
 * as the run without failures did (the failure was absorbed) or with an
 * error that says memory ran out: never a different price, never an
 * out-of-memory reported as a bad answer from upstream or a bad request.
 */
#include "alloc_fail.h"
#include "assetreq.h"
#include "crosssite.h"
#include "events.h"
#include "jbuf.h"
#include "provider.h"
#include "query.h"
#include "upstream.h"
#include "validate.h"

#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#ifdef __SANITIZE_ADDRESS__
#include <sanitizer/lsan_interface.h>
#endif

#define REAL "tests/fixtures/real/"
#define OUT_MAX 16384

static struct config C;

/* What one run did, in words; compared between runs. */
struct outcome {
    char text[OUT_MAX];
    size_t len;
};

static void out_add(struct outcome *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void out_add(struct outcome *o, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int w = vsnprintf(o->text + o->len, sizeof o->text - o->len, fmt, ap);
    va_end(ap);
    if (w > 0)
        o->len += (size_t)w < sizeof o->text - o->len ? (size_t)w : sizeof o->text - o->len - 1;
}

/* The totals this binary ran, printed at the end. */
static long t_inputs, t_points, t_runs;

typedef void (*run_fn)(const void *input, struct outcome *out);

static void leak_check(const char *what)
{
#ifdef __SANITIZE_ADDRESS__
    if (__lsan_do_recoverable_leak_check() != 0)
        fail_msg("%s: leaks after failed allocations (report above)", what);
#else
    (void)what;
#endif
}

/* Runs input with no failure, then with each allocation failing in turn.
 * oom_words: the text a run that failed for want of memory must contain;
 * NULL when the module has no way to say why (then any outcome other than
 * the first run's must be `fallback`). Returns the allocations counted. */
static long torture(const char *what, run_fn run, const void *input, const char *oom_words,
                    const char *fallback)
{
    static struct outcome base, got;
    memset(&base, 0, sizeof base);
    af_arm(0);
    run(input, &base);
    long total = af_disarm();
    for (long n = 1; n <= total; n++) {
        memset(&got, 0, sizeof got);
        af_arm(n);
        run(input, &got);
        af_disarm();
        if (!af_failed())
            fail_msg("%s: allocation %ld of %ld was never asked for", what, n, total);
        t_runs++;
        if (strcmp(got.text, base.text) == 0)
            continue;
        if (oom_words != NULL && strstr(got.text, oom_words) != NULL)
            continue;
        if (fallback != NULL && strcmp(got.text, fallback) == 0)
            continue;
        fail_msg("%s: allocation %ld of %ld failing gives\n  %.600s\ninstead of\n  %.600s\nor an "
                 "error saying '%s'",
                 what, n, total, got.text, base.text, oom_words ? oom_words : fallback);
    }
    t_inputs++;
    t_points += total;
    return total;
}

/* ---- the recorded answers ---------------------------------------------- */

struct fixture {
    char name[160];
    char *body;
    size_t len;
};

static struct fixture *fixtures;
static size_t nfixtures;

static int by_name(const void *a, const void *b)
{
    return strcmp(((const struct fixture *)a)->name, ((const struct fixture *)b)->name);
}

static char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *p = malloc((size_t)n + 1);
    if (p != NULL && fread(p, 1, (size_t)n, f) != (size_t)n) {
        free(p);
        p = NULL;
    }
    fclose(f);
    if (p != NULL) {
        p[n] = '\0';
        *len = (size_t)n;
    }
    return p;
}

/* Every recorded answer: the files that are not source notes. */
static int load_fixtures(void **state)
{
    (void)state;
    DIR *d = opendir(REAL);
    if (d == NULL)
        return -1;
    struct dirent *e;
    size_t cap = 0;
    while ((e = readdir(d)) != NULL) {
        const char *n = e->d_name;
        size_t l = strlen(n);
        if (n[0] == '.' || strstr(n, "NOTE") != NULL || strcmp(n, "README.md") == 0 ||
            (l > 8 && strcmp(n + l - 8, ".src.txt") == 0))
            continue;
        if (nfixtures == cap) {
            cap = cap ? cap * 2 : 64;
            fixtures = realloc(fixtures, cap * sizeof *fixtures);
            if (fixtures == NULL)
                return -1;
        }
        struct fixture *f = &fixtures[nfixtures];
        snprintf(f->name, sizeof f->name, "%.150s", n);
        char path[300];
        snprintf(path, sizeof path, REAL "%.250s", n);
        f->body = slurp(path, &f->len);
        if (f->body == NULL)
            return -1;
        nfixtures++;
    }
    closedir(d);
    qsort(fixtures, nfixtures, sizeof *fixtures, by_name);
    memset(&C, 0, sizeof C);
    C.coingecko_batch = 100;
    return nfixtures >= 40 ? 0 : -1;
}

static int free_fixtures(void **state)
{
    (void)state;
    for (size_t i = 0; i < nfixtures; i++)
        free(fixtures[i].body);
    free(fixtures);
    fprintf(stderr, "torture: %ld inputs, %ld allocations, %ld runs with one failing\n", t_inputs,
            t_points, t_runs);
    return 0;
}

/* ---- providers ---------------------------------------------------------- */

struct reader_input {
    const struct fixture *f;
    const struct provider *p;
    int single;
    const char *const *syms;
    size_t n;
};

/* What upstream.c does with a 200 answer, in the order it does it: the
 * refusal check, the JSON reader, the provider's reader, then (in the
 * cycle) validate_quote for each key found. */
static void run_reader(const void *input, struct outcome *out)
{
    const struct reader_input *in = input;
    struct fetch_response r = {.kind = QUOTE_OK,
                               .http_status = 200,
                               .body = in->f->body,
                               .len = in->f->len,
                               .content_type = "application/json"};
    char why[200];
    if (upstream_refusal(&r, why, sizeof why)) {
        out_add(out, "refusal: %s", why);
        return;
    }
    char err[200] = "";
    json_object *root =
        provider_parse_json(in->f->body, in->f->len, "application/json", err, sizeof err);
    if (root == NULL) {
        out_add(out, "unreadable: %s", err);
        return;
    }
    struct quote q[16];
    unsigned char found[16];
    memset(q, 0, sizeof q);
    memset(found, 0, sizeof found);
    int rc = (in->single ? in->p->fallback_parse : in->p->parse)(root, in->syms, in->n, q, found,
                                                                 err, sizeof err);
    json_object_put(root);
    if (rc != 0) {
        out_add(out, "shape: %s", err);
        return;
    }
    for (size_t i = 0; i < in->n; i++) {
        if (!found[i]) {
            out_add(out, "%s missing; ", in->syms[i]);
            continue;
        }
        validate_quote(&q[i], "USD", 1800000000, 0);
        if (q[i].kind == QUOTE_OK)
            out_add(out, "%s ok %.17g %s %lld %d; ", in->syms[i], q[i].price, q[i].currency,
                    (long long)q[i].price_time, q[i].time_basis);
        else
            out_add(out, "%s kind %d: %s; ", in->syms[i], q[i].kind, q[i].error);
    }
}

struct provider_syms {
    const char *name;
    const char *batch[8];
};

/* The symbols each provider is asked for: those its recordings carry, and
 * one none does. */
static const struct provider_syms asked[] = {
    {"yahoo", {"TSLA", "MSFT", "AAPL", "VTI", "NOSUCH", NULL}},
    {"coingecko", {"bitcoin", "ethereum", "nosuchcoin", NULL}},
    {"fx", {"EUR", "IDR", "GBP", "XXX", NULL}},
    {"kraken", {"XBTUSD", "ETHUSD", "LTCUSD", "EOSUSD", "XMRUSD", "ZZZUSD", NULL}},
    {"erapi", {"EUR", "GBP", "XXX", NULL}},
    {"twelvedata", {"AAPL", "VOO", "NOSUCH", NULL}},
    {"coinbase", {"BTC-USD", NULL}},
    {"binance", {"BTCUSDT", "BNBUSDT", "ETHUSDT", "NOPEUSDT", NULL}},
};

/* Yahoo's chart reader, one symbol at a time: those of the recordings. */
static const char *const chart_syms[] = {"AAPL",  "MSFT",   "NVDA",    "CL=F",   "EURUSD=X", "GC=F",
                                         "INR=X", "OCDO.L", "WSKT.JK", "WSU.DE", "NOSUCH"};

static void test_provider_readers(void **state)
{
    (void)state;
    long runs_before = t_runs;
    for (size_t k = 0; k < nfixtures; k++) {
        const struct fixture *f = &fixtures[k];
        for (size_t i = 0; i < ARRAY_LEN(asked); i++) {
            const struct provider *p = provider_find(asked[i].name);
            assert_non_null(p);
            size_t n = 0;
            while (asked[i].batch[n])
                n++;
            /* coinbase reads one product per answer */
            if (strcmp(p->name, "coinbase") == 0)
                n = 1;
            struct reader_input in = {f, p, 0, asked[i].batch, n};
            char what[256];
            snprintf(what, sizeof what, "%s read by %s", f->name, p->name);
            torture(what, run_reader, &in, "out of memory", NULL);
        }
        const struct provider *y = provider_find("yahoo");
        for (size_t s = 0; s < ARRAY_LEN(chart_syms); s++) {
            struct reader_input in = {f, y, 1, &chart_syms[s], 1};
            char what[256];
            snprintf(what, sizeof what, "%s read by yahoo's chart reader for %s", f->name,
                     chart_syms[s]);
            torture(what, run_reader, &in, "out of memory", NULL);
        }
        leak_check(f->name);
    }
    assert_true(t_runs > runs_before); /* the readers allocate: the run reached them */
}

/* ---- jbuf --------------------------------------------------------------- */

struct jbuf_input {
    const struct fixture *f;
    json_object *tree; /* the answer as json-c read it, or NULL */
};

/* An answer written as a JSON string and, when it is JSON, as a value:
 * what record.c and writer_log do with what came from outside. */
static void run_jbuf(const void *input, struct outcome *out)
{
    const struct jbuf_input *in = input;
    struct jbuf b;
    jbuf_init(&b);
    jbuf_arr(&b);
    jbuf_obj(&b);
    jbuf_key(&b, "name");
    jbuf_str(&b, in->f->name);
    jbuf_key(&b, "body");
    jbuf_str(&b, in->f->body);
    jbuf_key(&b, "len");
    jbuf_int(&b, (int64_t)in->f->len);
    jbuf_key(&b, "ratio");
    jbuf_num(&b, (double)in->f->len / 7.0);
    jbuf_key(&b, "tree");
    jbuf_json(&b, in->tree);
    jbuf_obj_end(&b);
    jbuf_arr_end(&b);
    int ok = jbuf_ok(&b);
    char *text = jbuf_take(&b);
    if (text == NULL)
        out_add(out, "out of memory (ok %d)", ok);
    else
        out_add(out, "%d %zu %.8000s", ok, strlen(text), text);
    free(text);
}

static void test_jbuf(void **state)
{
    (void)state;
    for (size_t k = 0; k < nfixtures; k++) {
        struct jbuf_input in = {&fixtures[k], json_tokener_parse(fixtures[k].body)};
        char what[256];
        snprintf(what, sizeof what, "jbuf writing %s", fixtures[k].name);
        long n = torture(what, run_jbuf, &in, "out of memory (ok 0)", NULL);
        json_object_put(in.tree);
        assert_true(n > 0);
    }
    leak_check("jbuf");
}

/* ---- the API's readers ---------------------------------------------------- */

static void run_assetreq(const void *input, struct outcome *out)
{
    const char *body = input;
    struct asset_req a;
    const char *field = "";
    char msg[200] = "";
    int rc = assetreq_parse(body, strlen(body), &a, &field, msg, sizeof msg);
    if (rc == 0)
        out_add(out, "ok %s %s %s %s %s %s", a.symbol, a.type, a.name, a.currency, a.provider,
                a.provider_symbol);
    else
        out_add(out, "%d %s: %s", rc, field, msg);
}

static void test_assetreq(void **state)
{
    (void)state;
    static const char *const bodies[] = {
        "{\"symbol\":\"AAPL\",\"type\":\"stock\"}",
        "{\"symbol\":\"BTC\",\"type\":\"crypto\",\"name\":\"Bitcoin\"}",
        "{\"symbol\":\"SAP.DE\",\"type\":\"stock\",\"currency\":\"EUR\",\"provider\":\"yahoo\","
        "\"provider_symbol\":\"SAP.DE\",\"name\":\"SAP SE\"}",
        "{\"symbol\":\"AAPL\",\"type\":\"stock\",\"extra\":1}",
        "{\"symbol\":\"AAPL\",\"type\":\"stock\"}x",
        "{\"symbol\":42,\"type\":\"stock\"}",
        "[\"AAPL\"]",
        "null",
        "{\"symbol\":\"\\u00e9\\u00e9\",\"type\":\"stock\"}",
        "{\"symbol\":\"A",
    };
    for (size_t i = 0; i < ARRAY_LEN(bodies); i++) {
        char what[160];
        snprintf(what, sizeof what, "POST /assets body %zu", i);
        torture(what, run_assetreq, bodies[i], "out of memory", NULL);
    }
    leak_check("assetreq");
}

static void run_payload(const void *input, struct outcome *out)
{
    char type[33] = "";
    char *s = events_parse_payload(input, type);
    if (s != NULL)
        out_add(out, "%s %s", type, s);
    else
        out_add(out, "(none)");
    free(s);
}

static void test_event_payloads(void **state)
{
    (void)state;
    static const char *const payloads[] = {
        "{\"type\":\"log\",\"id\":1,\"level\":\"ERROR\",\"message\":\"x\\ny\",\"cycle_id\":null}",
        "{\"type\":\"progress\",\"done\":3,\"total\":31,\"phase\":\"fetching\"}",
        "{\"type\":\"Bad\"}",
        "[1,2]",
        "not json",
    };
    for (size_t i = 0; i < ARRAY_LEN(payloads); i++) {
        char what[160];
        snprintf(what, sizeof what, "event payload %zu", i);
        /* without memory the event is not relayed, which is all the
         * function can say (NULL: the listener drops it) */
        torture(what, run_payload, payloads[i], NULL, "(none)");
    }
    leak_check("events");
}

/* api/query.h promises no allocation at all: checked over hostile values. */
static void run_query(const void *input, struct outcome *out)
{
    const char *v = input;
    char msg[160], t[48];
    int64_t n;
    const char *lv;
    int rank, b, present;
    out_add(out, "%d %d %d %d %d %d", query_uint(v, 0, 1000, 50, &n, msg, sizeof msg),
            query_level(v, &lv, &rank, msg, sizeof msg), query_bool(v, &b, msg, sizeof msg),
            query_time(v, t, sizeof t, &present, msg, sizeof msg),
            query_text(v, 100, &present, msg, sizeof msg),
            query_symbol(v, &present, msg, sizeof msg));
}

static void test_query_allocates_nothing(void **state)
{
    (void)state;
    static const char *const values[] = {"12",
                                         "-1",
                                         "12abc",
                                         "999999999999999999999",
                                         "ERROR",
                                         "warning",
                                         "true",
                                         "0",
                                         "2026-11-21T05:15:46.123+01:00",
                                         "2026-02-30T00:00:00Z",
                                         "AAPL",
                                         "BRK.B",
                                         "a\x01"
                                         "b",
                                         "\xc3\xa9t\xc3\xa9",
                                         ""};
    for (size_t i = 0; i < ARRAY_LEN(values); i++)
        assert_int_equal(torture("query", run_query, values[i], NULL, NULL), 0);
}

/* The Host and Origin checks read headers a stranger chooses. */
static void run_crosssite(const void *input, struct outcome *out)
{
    const char *v = input;
    const char *param = "";
    char msg[200] = "";
    unsigned h = crosssite_check_host(v, &param, msg, sizeof msg);
    out_add(out, "%u %s %s; ", h, param, msg);
    unsigned w = crosssite_check_write("127.0.0.1:8080", v, "same-origin", "application/json",
                                       &param, msg, sizeof msg);
    out_add(out, "%u %s %s; ", w, param, msg);
    unsigned p = crosssite_check_preflight("127.0.0.1:8080", v, &param, msg, sizeof msg);
    out_add(out, "%u %s %s", p, param, msg);
}

static void test_crosssite(void **state)
{
    (void)state;
    char err[200];
    assert_int_equal(
        crosssite_setup("localhost,127.0.0.1:8080", "http://127.0.0.1:8080", err, sizeof err), 0);
    static const char *const values[] = {
        "127.0.0.1:8080",  "evil.example", "http://127.0.0.1:8080", "http://evil.example", "null",
        "localhost:99999", "\x01\xff"};
    for (size_t i = 0; i < ARRAY_LEN(values); i++)
        torture("crosssite", run_crosssite, values[i], "out of memory", NULL);
    leak_check("crosssite");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_provider_readers),
        cmocka_unit_test(test_jbuf),
        cmocka_unit_test(test_assetreq),
        cmocka_unit_test(test_event_payloads),
        cmocka_unit_test(test_query_allocates_nothing),
        cmocka_unit_test(test_crosssite),
    };
    return cmocka_run_group_tests(tests, load_fixtures, free_fixtures);
}
