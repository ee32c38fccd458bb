/*
 * Unit tests of daemon/queue.c — one test per rule of queue.h, then a
 * randomized run checking the invariants after every step.
 *
 * The transport is a fake: start() records the batch (provider, symbols)
 * and keeps it "in flight" until the test completes it with the quotes it
 * chooses; now() is a fake clock the test advances, so backoff and cache
 * TTL are tested without sleeping. Every call into queue_submit() and
 * queue_batch_done() runs with `in_api` set, and every callback asserts it
 * is clear: callbacks must only come from queue_run().
 */
#include "queue.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#define MAX_LIVE 64
#define MAX_BATCH 16
#define MAX_HIST 256
#define MAX_PROV 4

struct live_batch {
    struct queue_batch *b;
    char provider[32];
    size_t n;
    char sym[MAX_BATCH][32];
};

struct fake {
    int64_t now;
    struct live_batch live[MAX_LIVE];
    size_t nlive;
    int starts, cancels;
    int fail_starts; /* the next N start() calls return -1 */
    /* limits the fake checks at every start() */
    int conc_total;
    char prov_name[MAX_PROV][32];
    int prov_conc[MAX_PROV], prov_batch[MAX_PROV];
    int nprov;
    /* "provider:sym,sym" per start, in order */
    char hist[MAX_HIST][128];
    size_t nhist;
};

static struct fake F;
static int in_api;

static int fake_prov(const char *name)
{
    for (int i = 0; i < F.nprov; i++)
        if (strcmp(F.prov_name[i], name) == 0)
            return i;
    return -1;
}

/* The invariants of a started batch, checked when it starts: no key in two
 * in-flight batches, limits total and per provider, batch size. */
static void check_live(void)
{
    assert_true(F.nlive <= (size_t)F.conc_total);
    int per[MAX_PROV] = {0};
    for (size_t i = 0; i < F.nlive; i++) {
        int p = fake_prov(F.live[i].provider);
        assert_true(p >= 0);
        per[p]++;
        assert_true(F.live[i].n >= 1);
        assert_true(F.live[i].n <= (size_t)F.prov_batch[p]);
        for (size_t j = 0; j < F.live[i].n; j++)
            for (size_t k = i; k < F.nlive; k++)
                for (size_t m = (k == i ? j + 1 : 0); m < F.live[k].n; m++)
                    if (strcmp(F.live[k].provider, F.live[i].provider) == 0)
                        assert_string_not_equal(F.live[i].sym[j], F.live[k].sym[m]);
    }
    for (int p = 0; p < F.nprov; p++)
        assert_true(per[p] <= F.prov_conc[p]);
}

static int fk_start(void *ctx, struct queue_batch *b)
{
    assert_ptr_equal(ctx, &F);
    F.starts++;
    if (F.fail_starts > 0) {
        F.fail_starts--;
        return -1;
    }
    assert_true(F.nlive < MAX_LIVE);
    struct live_batch *x = &F.live[F.nlive++];
    x->b = b;
    snprintf(x->provider, sizeof x->provider, "%s", queue_batch_provider(b));
    x->n = queue_batch_size(b);
    assert_true(x->n <= MAX_BATCH);
    assert_null(queue_batch_symbol(b, x->n)); /* out of range */
    char h[128];
    snprintf(h, sizeof h, "%s:", queue_batch_provider(b));
    for (size_t i = 0; i < x->n; i++) {
        snprintf(x->sym[i], sizeof x->sym[i], "%s", queue_batch_symbol(b, i));
        size_t l = strlen(h);
        snprintf(h + l, sizeof h - l, "%s%s", i ? "," : "", queue_batch_symbol(b, i));
    }
    if (F.nhist < MAX_HIST)
        memcpy(F.hist[F.nhist++], h, sizeof h);
    check_live();
    return 0;
}

static void live_remove(size_t i)
{
    F.live[i] = F.live[--F.nlive];
}

static void fk_cancel(void *ctx, struct queue_batch *b)
{
    assert_ptr_equal(ctx, &F);
    F.cancels++;
    for (size_t i = 0; i < F.nlive; i++)
        if (F.live[i].b == b) {
            live_remove(i);
            return;
        }
    fail_msg("cancel of a batch the transport does not have in flight");
}

static int64_t fk_now(void *ctx)
{
    assert_ptr_equal(ctx, &F);
    return F.now;
}

/* ---- helpers ---------------------------------------------------------- */

struct rec {
    int calls;
    struct quote q;
};

static void cb_rec(const struct quote *q, void *cls)
{
    assert_false(in_api); /* never from inside queue_submit/queue_batch_done */
    struct rec *r = cls;
    r->calls++;
    r->q = *q;
}

static struct fetch_queue *mkq(int conc, int max_retries, int64_t backoff_ms, int64_t backoff_max)
{
    memset(&F, 0, sizeof F);
    F.conc_total = conc;
    struct queue_transport t = {fk_start, fk_cancel, fk_now, &F};
    struct queue_limits lim = {conc, max_retries, backoff_ms, backoff_max};
    struct fetch_queue *q = queue_new(&t, &lim);
    assert_non_null(q);
    return q;
}

static void addp(struct fetch_queue *q, const char *name, int batch_max, int conc)
{
    int i = queue_add_provider(q, name, batch_max, conc);
    assert_int_equal(i, F.nprov);
    snprintf(F.prov_name[F.nprov], sizeof F.prov_name[0], "%s", name);
    F.prov_batch[F.nprov] = batch_max;
    F.prov_conc[F.nprov] = conc;
    F.nprov++;
}

static void submit(struct fetch_queue *q, const char *prov, const char *sym, int prio, int64_t ttl,
                   struct rec *r)
{
    in_api = 1;
    int rc = queue_submit(q, prov, sym, prio, ttl, cb_rec, r);
    in_api = 0;
    assert_int_equal(rc, 0);
}

static void run(struct fetch_queue *q)
{
    queue_run(q, F.now);
}

static struct quote ok_q(double price)
{
    struct quote r = {.kind = QUOTE_OK, .price = price, .price_time = 1763700000};
    snprintf(r.currency, sizeof r.currency, "USD");
    return r;
}

static struct quote err_q(enum quote_error_kind k, const char *msg)
{
    struct quote r = {.kind = k};
    snprintf(r.error, sizeof r.error, "%s", msg);
    return r;
}

static size_t live_find(const char *sym)
{
    for (size_t i = 0; i < F.nlive; i++)
        for (size_t j = 0; j < F.live[i].n; j++)
            if (strcmp(F.live[i].sym[j], sym) == 0)
                return i;
    fail_msg("no batch in flight holds %s", sym);
    return 0;
}

/* Completes in-flight batch i with r for every key. */
static void finish(struct fetch_queue *q, size_t i, const struct quote *r)
{
    struct queue_batch *b = F.live[i].b;
    live_remove(i);
    queue_batch_set_all(b, r);
    in_api = 1;
    queue_batch_done(q, b);
    in_api = 0;
}

static void finish_sym(struct fetch_queue *q, const char *sym, const struct quote *r)
{
    finish(q, live_find(sym), r);
}

static struct queue_counters counters(const struct fetch_queue *q)
{
    struct queue_counters c;
    queue_get_counters(q, &c);
    return c;
}

/* ---- coalescing ------------------------------------------------------- */

static void test_coalesce(void **state)
{
    (void)state;
    struct fetch_queue *q = mkq(4, 0, 100, 1000);
    addp(q, "yahoo", 1, 4);
    struct rec r[6] = {0};
    for (int i = 0; i < 3; i++) /* while queued */
        submit(q, "yahoo", "AAPL", QPRIO_SCHEDULED, 0, &r[i]);
    assert_int_equal(F.starts, 0); /* nothing starts before queue_run */
    run(q);
    assert_int_equal(F.nlive, 1);
    assert_int_equal(F.live[0].n, 1);
    assert_string_equal(F.live[0].sym[0], "AAPL");
    for (int i = 3; i < 6; i++) /* while in flight */
        submit(q, "yahoo", "AAPL", QPRIO_ON_DEMAND, 0, &r[i]);
    run(q);
    assert_int_equal(F.starts, 1);
    struct quote ok = ok_q(189.84);
    finish_sym(q, "AAPL", &ok);
    for (int i = 0; i < 6; i++)
        assert_int_equal(r[i].calls, 0);
    run(q);
    run(q);
    for (int i = 0; i < 6; i++) {
        assert_int_equal(r[i].calls, 1);
        assert_int_equal(r[i].q.kind, QUOTE_OK);
        assert_true(r[i].q.price == 189.84);
        assert_string_equal(r[i].q.currency, "USD");
    }
    struct queue_counters c = counters(q);
    assert_int_equal(c.submitted, 6);
    assert_int_equal(c.deduplicated, 5);
    assert_int_equal(c.upstream_requests, 1);
    assert_int_equal(c.keys_requested, 1);
    assert_int_equal(c.completed, 1);
    assert_int_equal(c.errors, 0);
    assert_int_equal(queue_outstanding(q), 0);
    assert_int_equal(F.starts, 1);
    queue_free(q);
}

static void test_same_error(void **state)
{
    (void)state;
    struct fetch_queue *q = mkq(4, 3, 100, 1000);
    addp(q, "yahoo", 1, 4);
    struct rec r[3] = {0};
    for (int i = 0; i < 3; i++)
        submit(q, "yahoo", "NOPE", QPRIO_SCHEDULED, 0, &r[i]);
    run(q);
    struct quote e = err_q(QUOTE_PERMANENT, "yahoo: No data found, symbol may be delisted");
    e.http_status = 404;
    finish_sym(q, "NOPE", &e);
    run(q);
    for (int i = 0; i < 3; i++) {
        assert_int_equal(r[i].calls, 1);
        assert_int_equal(r[i].q.kind, QUOTE_PERMANENT);
        assert_int_equal(r[i].q.http_status, 404);
        assert_string_equal(r[i].q.error, e.error);
    }
    struct queue_counters c = counters(q);
    assert_int_equal(c.errors, 1);
    assert_int_equal(c.retries, 0); /* permanent: not retried */
    assert_int_equal(F.starts, 1);
    queue_free(q);
}

/* ---- priority --------------------------------------------------------- */

static void drain_in_order(struct fetch_queue *q, const char *const *want, size_t n)
{
    struct quote ok = ok_q(1);
    for (size_t i = 0; i < n; i++) {
        run(q);
        assert_int_equal(F.nlive, 1);
        assert_string_equal(F.live[0].sym[0], want[i]);
        finish(q, 0, &ok);
    }
    run(q);
    assert_int_equal(F.nlive, 0);
}

static void test_priority_order(void **state)
{
    (void)state;
    struct fetch_queue *q = mkq(1, 0, 100, 1000);
    addp(q, "yahoo", 1, 1);
    struct rec r[6] = {0};
    submit(q, "yahoo", "S1", QPRIO_SCHEDULED, 0, &r[0]);
    submit(q, "yahoo", "M1", QPRIO_MANUAL, 0, &r[1]);
    submit(q, "yahoo", "S2", QPRIO_SCHEDULED, 0, &r[2]);
    submit(q, "yahoo", "D1", QPRIO_ON_DEMAND, 0, &r[3]);
    submit(q, "yahoo", "M2", QPRIO_MANUAL, 0, &r[4]);
    submit(q, "yahoo", "D2", QPRIO_ON_DEMAND, 0, &r[5]);
    static const char *const want[] = {"D1", "D2", "M1", "M2", "S1", "S2"};
    drain_in_order(q, want, ARRAY_LEN(want));
    for (int i = 0; i < 6; i++)
        assert_int_equal(r[i].calls, 1);
    queue_free(q);
}

/* Across providers the best pending entry wins too. */
static void test_priority_across_providers(void **state)
{
    (void)state;
    struct fetch_queue *q = mkq(1, 0, 100, 1000);
    addp(q, "yahoo", 1, 1);
    addp(q, "coingecko", 10, 1);
    struct rec r[3] = {0};
    submit(q, "yahoo", "AAPL", QPRIO_SCHEDULED, 0, &r[0]);
    submit(q, "coingecko", "bitcoin", QPRIO_MANUAL, 0, &r[1]);
    submit(q, "yahoo", "MSFT", QPRIO_SCHEDULED, 0, &r[2]);
    run(q);
    assert_int_equal(F.nlive, 1);
    assert_string_equal(F.hist[0], "coingecko:bitcoin");
    struct quote ok = ok_q(1);
    finish(q, 0, &ok);
    run(q);
    assert_string_equal(F.hist[1], "yahoo:AAPL");
    finish(q, 0, &ok);
    run(q);
    assert_string_equal(F.hist[2], "yahoo:MSFT");
    finish(q, 0, &ok);
    run(q);
    queue_free(q);
}

static void test_priority_raise(void **state)
{
    (void)state;
    struct fetch_queue *q = mkq(1, 0, 100, 1000);
    addp(q, "yahoo", 1, 1);
    struct rec r[6] = {0};
    submit(q, "yahoo", "B", QPRIO_SCHEDULED, 0, &r[0]);
    submit(q, "yahoo", "M", QPRIO_MANUAL, 0, &r[1]);
    submit(q, "yahoo", "C", QPRIO_SCHEDULED, 0, &r[2]);
    submit(q, "yahoo", "A", QPRIO_SCHEDULED, 0, &r[3]);
    /* a later, higher waiter lifts A to MANUAL: after M (FIFO at its new
     * level), before B and C */
    submit(q, "yahoo", "A", QPRIO_MANUAL, 0, &r[4]);
    /* a lower later waiter does not lower it */
    submit(q, "yahoo", "A", QPRIO_SCHEDULED, 0, &r[5]);
    static const char *const want[] = {"M", "A", "B", "C"};
    drain_in_order(q, want, ARRAY_LEN(want));
    for (int i = 0; i < 6; i++)
        assert_int_equal(r[i].calls, 1);
    assert_int_equal(counters(q).deduplicated, 2);
    queue_free(q);
}

/* Out-of-range priorities are clamped, not refused. */
static void test_priority_clamped(void **state)
{
    (void)state;
    struct fetch_queue *q = mkq(1, 0, 100, 1000);
    addp(q, "yahoo", 1, 1);
    struct rec r[3] = {0};
    submit(q, "yahoo", "LOW", -5, 0, &r[0]);
    submit(q, "yahoo", "MID", QPRIO_MANUAL, 0, &r[1]);
    submit(q, "yahoo", "HIGH", 99, 0, &r[2]);
    static const char *const want[] = {"HIGH", "MID", "LOW"};
    drain_in_order(q, want, ARRAY_LEN(want));
    queue_free(q);
}

/* ---- concurrency ------------------------------------------------------ */

static void test_concurrency_total(void **state)
{
    (void)state;
    struct fetch_queue *q = mkq(3, 0, 100, 1000);
    addp(q, "yahoo", 1, 10);
    addp(q, "coingecko", 1, 10);
    struct rec r[10] = {0};
    char sym[16];
    for (int i = 0; i < 10; i++) {
        snprintf(sym, sizeof sym, "S%d", i);
        submit(q, i % 2 ? "yahoo" : "coingecko", sym, QPRIO_SCHEDULED, 0, &r[i]);
    }
    run(q);
    assert_int_equal(F.nlive, 3);
    run(q);
    assert_int_equal(F.nlive, 3); /* still at the limit */
    assert_int_equal(counters(q).in_flight, 3);
    assert_int_equal(counters(q).queued, 7);
    /* a failure frees its slot as a success does */
    struct quote e = err_q(QUOTE_TRANSIENT, "HTTP 503");
    finish(q, 0, &e);
    run(q);
    assert_int_equal(F.nlive, 3);
    struct quote ok = ok_q(2);
    while (F.nlive > 0) {
        finish(q, 0, &ok);
        run(q);
        assert_true(F.nlive <= 3);
    }
    for (int i = 0; i < 10; i++)
        assert_int_equal(r[i].calls, 1);
    assert_int_equal(F.starts, 10);
    assert_int_equal(counters(q).errors, 1);
    queue_free(q);
}

static void test_concurrency_per_provider(void **state)
{
    (void)state;
    struct fetch_queue *q = mkq(10, 0, 100, 1000);
    addp(q, "yahoo", 1, 2);
    addp(q, "coingecko", 1, 1);
    struct rec r[8] = {0};
    char sym[16];
    for (int i = 0; i < 5; i++) {
        snprintf(sym, sizeof sym, "Y%d", i);
        submit(q, "yahoo", sym, QPRIO_SCHEDULED, 0, &r[i]);
    }
    for (int i = 5; i < 8; i++) {
        snprintf(sym, sizeof sym, "c%d", i);
        submit(q, "coingecko", sym, QPRIO_ON_DEMAND, 0, &r[i]);
    }
    run(q);
    assert_int_equal(F.nlive, 3); /* 2 yahoo + 1 coingecko, not 10 */
    struct quote e = err_q(QUOTE_PERMANENT, "HTTP 404");
    finish_sym(q, "Y0", &e);
    run(q);
    assert_int_equal(F.nlive, 3);
    assert_int_equal(r[0].calls, 1);
    assert_int_equal(r[0].q.kind, QUOTE_PERMANENT);
    struct quote ok = ok_q(3);
    while (F.nlive > 0) {
        finish(q, 0, &ok);
        run(q);
    }
    for (int i = 0; i < 8; i++)
        assert_int_equal(r[i].calls, 1);
    queue_free(q);
}

/* A transport that cannot start a batch: it fails as transient (retried)
 * and never holds a slot. */
static void test_start_failure(void **state)
{
    (void)state;
    struct fetch_queue *q = mkq(1, 1, 100, 1000);
    addp(q, "yahoo", 1, 1);
    struct rec r[2] = {0};
    submit(q, "yahoo", "A", QPRIO_SCHEDULED, 0, &r[0]);
    submit(q, "yahoo", "B", QPRIO_SCHEDULED, 0, &r[1]);
    F.fail_starts = 3;
    run(q); /* A fails, B fails: both to backoff, no slot held */
    assert_int_equal(F.starts, 2);
    assert_int_equal(F.nlive, 0);
    assert_int_equal(counters(q).backoff, 2);
    assert_int_equal(counters(q).in_flight, 0);
    F.now += 1000;
    run(q); /* A's retry fails again (last try), B's retry starts */
    assert_int_equal(r[0].calls, 1);
    assert_int_equal(r[0].q.kind, QUOTE_TRANSIENT);
    assert_non_null(strstr(r[0].q.error, "could not start"));
    assert_int_equal(F.nlive, 1);
    struct quote ok = ok_q(4);
    finish(q, 0, &ok);
    run(q);
    assert_int_equal(r[1].calls, 1);
    assert_int_equal(r[1].q.kind, QUOTE_OK);
    queue_free(q);
}

/* ---- batching --------------------------------------------------------- */

static void test_batching(void **state)
{
    (void)state;
    struct fetch_queue *q = mkq(1, 0, 100, 1000);
    addp(q, "coingecko", 3, 1);
    static const char *const ids[] = {"bitcoin",  "ethereum", "solana",  "cardano",
                                      "dogecoin", "tron",     "polkadot"};
    struct rec r[7] = {0};
    for (size_t i = 0; i < 7; i++)
        submit(q, "coingecko", ids[i], QPRIO_SCHEDULED, 0, &r[i]);
    run(q);
    assert_int_equal(F.nlive, 1);
    assert_string_equal(F.hist[0], "coingecko:bitcoin,ethereum,solana");
    /* the answer lacks ethereum: it alone fails, as missing */
    struct queue_batch *b = F.live[0].b;
    struct quote btc = ok_q(67187.34), sol = ok_q(140.5);
    queue_batch_set(b, 0, &btc);
    queue_batch_set(b, 2, &sol);
    queue_batch_set(b, 7, &sol); /* out of range: ignored */
    live_remove(0);
    in_api = 1;
    queue_batch_done(q, b);
    in_api = 0;
    run(q);
    assert_int_equal(r[0].q.kind, QUOTE_OK);
    assert_true(r[0].q.price == 67187.34);
    assert_int_equal(r[1].q.kind, QUOTE_PERMANENT);
    assert_non_null(strstr(r[1].q.error, "missing"));
    assert_non_null(strstr(r[1].q.error, "ethereum"));
    assert_int_equal(r[2].q.kind, QUOTE_OK);
    assert_true(r[2].q.price == 140.5);
    assert_string_equal(F.hist[1], "coingecko:cardano,dogecoin,tron");
    struct quote ok = ok_q(1);
    finish(q, 0, &ok);
    run(q);
    assert_string_equal(F.hist[2], "coingecko:polkadot");
    finish(q, 0, &ok);
    run(q);
    for (int i = 0; i < 7; i++)
        assert_int_equal(r[i].calls, 1);
    struct queue_counters c = counters(q);
    assert_int_equal(c.upstream_requests, 3);
    assert_int_equal(c.keys_requested, 7);
    assert_int_equal(c.errors, 1);
    queue_free(q);
}

/* A batch takes the best keys first: higher priority before older. */
static void test_batching_priority(void **state)
{
    (void)state;
    struct fetch_queue *q = mkq(1, 0, 100, 1000);
    addp(q, "coingecko", 2, 1);
    struct rec r[4] = {0};
    submit(q, "coingecko", "a", QPRIO_SCHEDULED, 0, &r[0]);
    submit(q, "coingecko", "b", QPRIO_SCHEDULED, 0, &r[1]);
    submit(q, "coingecko", "c", QPRIO_ON_DEMAND, 0, &r[2]);
    submit(q, "coingecko", "d", QPRIO_MANUAL, 0, &r[3]);
    run(q);
    assert_string_equal(F.hist[0], "coingecko:c,d");
    struct quote ok = ok_q(1);
    finish(q, 0, &ok);
    run(q);
    assert_string_equal(F.hist[1], "coingecko:a,b");
    finish(q, 0, &ok);
    run(q);
    queue_free(q);
}

/* ---- cache ------------------------------------------------------------ */

static void test_cache(void **state)
{
    (void)state;
    struct fetch_queue *q = mkq(2, 0, 100, 1000);
    addp(q, "yahoo", 1, 2);
    struct rec r[8] = {0};
    F.now = 1000;
    submit(q, "yahoo", "AAPL", QPRIO_SCHEDULED, 60000, &r[0]);
    run(q);
    struct quote ok = ok_q(189.84);
    finish(q, 0, &ok);
    run(q);
    assert_int_equal(r[0].calls, 1);
    assert_int_equal(counters(q).cached, 1);

    /* within the TTL: answered from memory, no batch, and not synchronously */
    F.now = 1000 + 60000;
    submit(q, "yahoo", "AAPL", QPRIO_ON_DEMAND, 60000, &r[1]);
    assert_int_equal(r[1].calls, 0);
    run(q);
    assert_int_equal(r[1].calls, 1);
    assert_true(r[1].q.price == 189.84);
    assert_int_equal(F.starts, 1);
    assert_int_equal(counters(q).cache_hits, 1);

    /* the caller decides the TTL: a shorter one refetches */
    submit(q, "yahoo", "AAPL", QPRIO_ON_DEMAND, 1000, &r[2]);
    run(q);
    assert_int_equal(F.starts, 2);
    assert_int_equal(r[2].calls, 0);
    struct quote ok2 = ok_q(190.01);
    finish(q, 0, &ok2);
    run(q);
    assert_true(r[2].q.price == 190.01);

    /* after the TTL: a new fetch */
    F.now += 60001;
    submit(q, "yahoo", "AAPL", QPRIO_SCHEDULED, 60000, &r[3]);
    run(q);
    assert_int_equal(F.starts, 3);
    finish(q, 0, &ok);
    run(q);
    assert_int_equal(r[3].calls, 1);

    /* ttl 0: never from the cache */
    submit(q, "yahoo", "AAPL", QPRIO_SCHEDULED, 0, &r[4]);
    run(q);
    assert_int_equal(F.starts, 4);
    finish(q, 0, &ok);
    run(q);

    /* failures are not cached */
    submit(q, "yahoo", "BAD", QPRIO_SCHEDULED, 60000, &r[5]);
    run(q);
    struct quote e = err_q(QUOTE_PERMANENT, "HTTP 404");
    finish(q, 0, &e);
    run(q);
    submit(q, "yahoo", "BAD", QPRIO_SCHEDULED, 60000, &r[6]);
    run(q);
    assert_int_equal(F.starts, 6);
    assert_int_equal(r[6].calls, 0);
    finish(q, 0, &e);
    run(q);
    assert_int_equal(r[6].calls, 1);

    struct queue_counters c = counters(q);
    assert_int_equal(c.cache_hits, 1);
    assert_int_equal(c.cache_misses, 6);
    assert_int_equal(c.submitted, 7);
    assert_int_equal(c.cached, 1); /* AAPL only */
    for (int i = 0; i < 7; i++)
        assert_int_equal(r[i].calls, 1);
    queue_free(q);
}

/* ---- retries ---------------------------------------------------------- */

static void test_retries_transient(void **state)
{
    (void)state;
    struct fetch_queue *q = mkq(1, 2, 1000, 8000);
    addp(q, "yahoo", 1, 1);
    struct rec r = {0};
    submit(q, "yahoo", "AAPL", QPRIO_SCHEDULED, 0, &r);
    run(q);
    struct quote e = err_q(QUOTE_TRANSIENT, "HTTP 503 (server error)");
    e.http_status = 503;
    /* attempt 1 fails: backoff in [500, 1000] ms (equal jitter) */
    finish(q, 0, &e);
    run(q);
    assert_int_equal(r.calls, 0);
    assert_int_equal(counters(q).backoff, 1);
    assert_int_equal(queue_outstanding(q), 1);
    F.now += 499;
    run(q);
    assert_int_equal(F.starts, 1);
    F.now += 501; /* 1000 after the failure */
    run(q);
    assert_int_equal(F.starts, 2);
    /* attempt 2 fails: backoff doubles, in [1000, 2000] */
    int64_t t0 = F.now;
    finish(q, 0, &e);
    F.now = t0 + 999;
    run(q);
    assert_int_equal(F.starts, 2);
    F.now = t0 + 2000;
    run(q);
    assert_int_equal(F.starts, 3);
    /* attempt 3 (= 1 + max_retries) fails: the error reaches the waiter */
    struct quote c503 = err_q(QUOTE_CONNECTION, "could not connect");
    finish(q, 0, &c503);
    run(q);
    assert_int_equal(r.calls, 1);
    assert_int_equal(r.q.kind, QUOTE_CONNECTION);
    struct queue_counters c = counters(q);
    assert_int_equal(c.retries, 2);
    assert_int_equal(c.errors, 1);
    assert_int_equal(c.completed, 1);
    assert_int_equal(c.upstream_requests, 3);
    assert_int_equal(queue_outstanding(q), 0);
    queue_free(q);
}

/* A retry that succeeds delivers the success (and caches it). */
static void test_retry_then_success(void **state)
{
    (void)state;
    struct fetch_queue *q = mkq(1, 3, 100, 1000);
    addp(q, "yahoo", 1, 1);
    struct rec r[2] = {0};
    submit(q, "yahoo", "AAPL", QPRIO_SCHEDULED, 0, &r[0]);
    run(q);
    struct quote e = err_q(QUOTE_CONNECTION, "timeout");
    finish(q, 0, &e);
    run(q);
    /* a waiter arriving during backoff joins the retry */
    submit(q, "yahoo", "AAPL", QPRIO_SCHEDULED, 0, &r[1]);
    F.now += 100;
    run(q);
    assert_int_equal(F.starts, 2);
    struct quote ok = ok_q(5);
    finish(q, 0, &ok);
    run(q);
    for (int i = 0; i < 2; i++) {
        assert_int_equal(r[i].calls, 1);
        assert_int_equal(r[i].q.kind, QUOTE_OK);
    }
    assert_int_equal(counters(q).retries, 1);
    assert_int_equal(counters(q).errors, 0);
    assert_int_equal(counters(q).deduplicated, 1);
    queue_free(q);
}

static void test_retry_after_floor(void **state)
{
    (void)state;
    struct fetch_queue *q = mkq(1, 1, 100, 1000);
    addp(q, "yahoo", 1, 1);
    struct rec r = {0};
    submit(q, "yahoo", "AAPL", QPRIO_SCHEDULED, 0, &r);
    run(q);
    struct quote e = err_q(QUOTE_TRANSIENT, "HTTP 429 (rate limited)");
    e.http_status = 429;
    e.retry_after_s = 5;
    finish(q, 0, &e);
    F.now += 4999;
    run(q);
    assert_int_equal(F.starts, 1);
    F.now += 1;
    run(q);
    assert_int_equal(F.starts, 2);
    struct quote ok = ok_q(1);
    finish(q, 0, &ok);
    run(q);
    assert_int_equal(r.calls, 1);
    queue_free(q);
}

/* Permanent failures (and max_retries 0) are never retried. */
static void test_no_retry(void **state)
{
    (void)state;
    static const struct {
        int max_retries;
        enum quote_error_kind kind;
        int starts;
    } cases[] = {
        {3, QUOTE_PERMANENT, 1}, {0, QUOTE_TRANSIENT, 1}, {0, QUOTE_CONNECTION, 1},
        {1, QUOTE_TRANSIENT, 2}, {4, QUOTE_TRANSIENT, 5}, {2, QUOTE_CONNECTION, 3},
    };
    for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
        struct fetch_queue *q = mkq(1, cases[i].max_retries, 10, 10);
        addp(q, "yahoo", 1, 1);
        struct rec r = {0};
        submit(q, "yahoo", "AAPL", QPRIO_SCHEDULED, 0, &r);
        for (int k = 0; k < 20 && r.calls == 0; k++) {
            run(q);
            if (F.nlive) {
                struct quote e = err_q(cases[i].kind, "no");
                finish(q, 0, &e);
            }
            F.now += 10;
        }
        run(q);
        assert_int_equal(r.calls, 1);
        assert_int_equal(r.q.kind, cases[i].kind);
        assert_int_equal(F.starts, cases[i].starts);
        assert_int_equal(counters(q).retries, (uint64_t)(cases[i].starts - 1));
        queue_free(q);
    }
}

/* ---- cancel_all ------------------------------------------------------- */

static void test_cancel_all(void **state)
{
    (void)state;
    struct fetch_queue *q = mkq(2, 5, 1000, 1000);
    addp(q, "yahoo", 1, 2);
    addp(q, "coingecko", 5, 1);
    struct rec r[7] = {0};
    submit(q, "yahoo", "A", QPRIO_SCHEDULED, 0, &r[0]);
    submit(q, "yahoo", "R", QPRIO_ON_DEMAND, 0, &r[1]);
    submit(q, "coingecko", "bitcoin", QPRIO_MANUAL, 0, &r[2]);
    submit(q, "coingecko", "ethereum", QPRIO_MANUAL, 0, &r[3]);
    run(q); /* in flight: R, coingecko batch */
    assert_int_equal(F.nlive, 2);
    struct quote e = err_q(QUOTE_TRANSIENT, "503");
    finish_sym(q, "R", &e);                                    /* R to backoff */
    run(q);                                                    /* A starts */
    submit(q, "yahoo", "A", QPRIO_SCHEDULED, 0, &r[4]);        /* in flight */
    submit(q, "yahoo", "Q", QPRIO_SCHEDULED, 0, &r[5]);        /* queued (global limit) */
    submit(q, "coingecko", "tron", QPRIO_SCHEDULED, 0, &r[6]); /* queued */
    struct queue_counters c = counters(q);
    assert_int_equal(c.in_flight, 3);
    assert_int_equal(c.backoff, 1);
    assert_int_equal(c.queued, 2);

    queue_cancel_all(q);
    assert_int_equal(F.cancels, 2); /* each in-flight batch once */
    assert_int_equal(F.nlive, 0);
    for (int i = 0; i < 7; i++)
        assert_int_equal(r[i].calls, 0); /* only from queue_run */
    run(q);
    assert_int_equal(F.starts, 3); /* nothing new starts */
    for (int i = 0; i < 7; i++) {
        assert_int_equal(r[i].calls, 1);
        assert_int_equal(r[i].q.kind, QUOTE_CANCELLED);
    }
    run(q);
    for (int i = 0; i < 7; i++)
        assert_int_equal(r[i].calls, 1);
    c = counters(q);
    assert_int_equal(c.cancelled, 6); /* keys: A, R, bitcoin, ethereum, Q, tron */
    assert_int_equal(c.errors, 0);
    assert_int_equal(queue_outstanding(q), 0);
    /* cancel_all on an idle queue is harmless */
    queue_cancel_all(q);
    run(q);
    assert_int_equal(F.cancels, 2);
    queue_free(q);
}

/* ---- callbacks -------------------------------------------------------- */

struct resub {
    struct fetch_queue *q;
    const char *sym;
    int64_t ttl;
    struct rec *next;
    int calls;
};

static void cb_resubmit(const struct quote *r, void *cls)
{
    (void)r;
    assert_false(in_api);
    struct resub *s = cls;
    s->calls++;
    in_api = 1;
    int rc = queue_submit(s->q, "yahoo", s->sym, QPRIO_MANUAL, s->ttl, cb_rec, s->next);
    in_api = 0;
    assert_int_equal(rc, 0);
}

static void test_callback_submits(void **state)
{
    (void)state;
    struct fetch_queue *q = mkq(2, 0, 100, 1000);
    addp(q, "yahoo", 1, 2);
    struct rec again = {0}, other = {0};
    struct resub s1 = {q, "AAPL", 60000, &again, 0};
    struct resub s2 = {q, "MSFT", 0, &other, 0};
    in_api = 1;
    assert_int_equal(queue_submit(q, "yahoo", "AAPL", QPRIO_SCHEDULED, 0, cb_resubmit, &s1), 0);
    assert_int_equal(queue_submit(q, "yahoo", "AAPL", QPRIO_SCHEDULED, 0, cb_resubmit, &s2), 0);
    in_api = 0;
    run(q);
    struct quote ok = ok_q(7);
    finish(q, 0, &ok);
    assert_int_equal(s1.calls + s2.calls, 0);
    run(q);
    assert_int_equal(s1.calls, 1);
    assert_int_equal(s2.calls, 1);
    /* the cache hit submitted from a callback is delivered in the same run;
     * the new key is already started */
    assert_int_equal(again.calls, 1);
    assert_true(again.q.price == 7);
    assert_int_equal(other.calls, 0);
    assert_int_equal(F.nlive, 1);
    assert_string_equal(F.live[0].sym[0], "MSFT");
    finish(q, 0, &ok);
    run(q);
    assert_int_equal(other.calls, 1);
    queue_free(q);
}

/* ---- refusals --------------------------------------------------------- */

static void test_refusals(void **state)
{
    (void)state;
    struct fetch_queue *q = mkq(1, 0, 100, 1000);
    addp(q, "yahoo", 1, 1);
    char longsym[QUEUE_KEY_MAX + 8];
    memset(longsym, 'X', sizeof longsym - 1);
    longsym[sizeof longsym - 1] = '\0';
    struct rec r = {0};
    static const struct {
        const char *prov, *sym;
    } bad[] = {{"nosuch", "AAPL"}, {"yahoo", ""}, {"yahoo", NULL}};
    for (size_t i = 0; i < ARRAY_LEN(bad); i++)
        assert_int_equal(
            queue_submit(q, bad[i].prov, bad[i].sym ? bad[i].sym : longsym, 0, 0, cb_rec, &r), -1);
    assert_int_equal(queue_submit(q, "yahoo", "AAPL", 0, 0, NULL, &r), -1);
    /* bad providers */
    assert_int_equal(queue_add_provider(q, "zero-batch", 0, 1), -1);
    assert_int_equal(queue_add_provider(q, "zero-conc", 1, 0), -1);
    assert_int_equal(queue_add_provider(q, "a-name-longer-than-thirty-one-chars", 1, 1), -1);
    run(q);
    assert_int_equal(r.calls, 0);
    assert_int_equal(F.starts, 0);
    assert_int_equal(counters(q).submitted, 0);
    queue_free(q);
    queue_free(NULL);
}

/* queue_free with work outstanding frees it without calling back (ASan
 * checks nothing leaks). */
static void test_free_with_work(void **state)
{
    (void)state;
    struct fetch_queue *q = mkq(1, 3, 100, 1000);
    addp(q, "yahoo", 1, 1);
    struct rec r[3] = {0};
    submit(q, "yahoo", "A", 0, 0, &r[0]);
    submit(q, "yahoo", "B", 0, 0, &r[1]);
    submit(q, "yahoo", "C", 0, 0, &r[2]);
    run(q);
    struct quote e = err_q(QUOTE_TRANSIENT, "x");
    finish(q, 0, &e); /* A to backoff */
    run(q);           /* B in flight, C queued */
    struct quote ok = ok_q(1);
    finish(q, 0, &ok); /* B delivered on the next run, which never comes */
    queue_free(q);
    for (int i = 0; i < 3; i++)
        assert_int_equal(r[i].calls, 0);
}

/* Many keys: the hash table grows and the cache holds them all. */
static void test_many_keys(void **state)
{
    (void)state;
    struct fetch_queue *q = mkq(8, 0, 100, 1000);
    addp(q, "coingecko", 16, 8);
    enum { N = 5000 };
    struct rec *r = calloc(N, sizeof *r);
    assert_non_null(r);
    char sym[16];
    for (int i = 0; i < N; i++) {
        snprintf(sym, sizeof sym, "c%d", i);
        submit(q, "coingecko", sym, 0, 100000, &r[i]);
    }
    struct quote ok = ok_q(1);
    for (int k = 0; k < 10000 && queue_outstanding(q) > 0; k++) {
        run(q);
        while (F.nlive > 0)
            finish(q, 0, &ok);
    }
    run(q);
    for (int i = 0; i < N; i++)
        assert_int_equal(r[i].calls, 1);
    assert_int_equal(counters(q).cached, N);
    for (int i = 0; i < N; i++) {
        snprintf(sym, sizeof sym, "c%d", i);
        submit(q, "coingecko", sym, 0, 100000, &r[i]);
    }
    run(q);
    for (int i = 0; i < N; i++)
        assert_int_equal(r[i].calls, 2);
    assert_int_equal(counters(q).cache_hits, N);
    assert_int_equal(counters(q).upstream_requests, (N + 15) / 16);
    queue_free(q);
    free(r);
}

/* ---- randomized ------------------------------------------------------- */

#define RW_MAX 40000

struct rwaiter {
    int calls;
    int key;      /* provider * NKEYS + symbol */
    unsigned alt; /* chain waiters: the providers (bits) that may answer */
    enum quote_error_kind kind;
};

static struct rwaiter *RW;
static int nrw, rdelivered;
static uint64_t rng_state;
static struct fetch_queue *RQ;
static int rchains; /* rsubmit asks for chains of sources too */
static int rfinal;  /* the final drain: callbacks submit nothing more */

static const char *const rprov[] = {"yahoo", "coingecko", "fx"};
#define NKEYS 8

static uint32_t rnd(uint32_t n)
{
    rng_state = rng_state * 6364136223846793005ull + 1442695040888963407ull;
    return (uint32_t)(rng_state >> 33) % n;
}

static void rsubmit(void);

static void cb_random(const struct quote *r, void *cls)
{
    assert_false(in_api);
    struct rwaiter *w = &RW[(intptr_t)cls];
    w->calls++;
    assert_int_equal(w->calls, 1); /* exactly once */
    rdelivered++;
    w->kind = r->kind;
    if (r->kind == QUOTE_OK && w->alt == 0) {
        /* the fake puts the key into the price: a waiter gets its own */
        assert_true(r->price == (double)(1 + w->key));
    } else if (r->kind == QUOTE_OK) {
        /* one of its chain's keys, and the source says which */
        int got = (int)r->price - 1, p = got / NKEYS;
        assert_int_equal(got % NKEYS, w->key % NKEYS);
        assert_true((w->alt >> p) & 1);
        assert_string_equal(r->source, rprov[p]);
        if (p != w->key / NKEYS)
            assert_true(strncmp(r->failover_reason, rprov[w->key / NKEYS],
                                strlen(rprov[w->key / NKEYS])) == 0);
    }
    if (!rfinal && rnd(10) == 0 && nrw < RW_MAX - 1000)
        rsubmit(); /* a callback may submit again */
}

static void rsubmit(void)
{
    assert_true(nrw < RW_MAX);
    int p = (int)rnd(3), k = (int)rnd(NKEYS);
    char sym[16];
    snprintf(sym, sizeof sym, "s%d", k);
    static const int64_t ttls[] = {0, 0, 300, 3000};
    int idx = nrw++;
    RW[idx].key = p * NKEYS + k;
    int rc;
    in_api = 1;
    if (rchains && rnd(2)) {
        /* p first, then one or two of the others, in a random order */
        const char *pv[3], *sv[3] = {sym, sym, sym};
        int q2 = (p + 1 + (int)rnd(2)) % 3, n = 2 + (int)rnd(2);
        pv[0] = rprov[p];
        pv[1] = rprov[q2];
        pv[2] = rprov[3 - p - q2];
        RW[idx].alt = 1u << p | 1u << q2 | (n == 3 ? 1u << (3 - p - q2) : 0);
        rc = queue_submit_chain(RQ, pv, sv, (size_t)n, (int)rnd(QPRIO_COUNT), ttls[rnd(4)],
                                cb_random, (void *)(intptr_t)idx);
    } else {
        RW[idx].alt = 0;
        rc = queue_submit(RQ, rprov[p], sym, (int)rnd(QPRIO_COUNT), ttls[rnd(4)], cb_random,
                          (void *)(intptr_t)idx);
    }
    in_api = 0;
    assert_int_equal(rc, 0);
}

static void rcomplete(void)
{
    size_t i = rnd((uint32_t)F.nlive);
    struct live_batch x = F.live[i];
    live_remove(i);
    int mode = (int)rnd(6);
    for (size_t j = 0; j < x.n; j++) {
        int p = fake_prov(x.provider);
        int k = (int)strtol(x.sym[j] + 1, NULL, 10); /* "sN" */
        struct quote r;
        int what = mode < 4 ? (int)rnd(5) : mode - 4; /* whole-batch outcomes too */
        switch (what) {
        case 0:
        case 4:
            /* the price names the key, so a waiter can tell it got its own */
            r = ok_q(1 + p * NKEYS + k);
            break;
        case 1:
            r = err_q(QUOTE_TRANSIENT, "503");
            break;
        case 2:
            r = err_q(QUOTE_PERMANENT, "404");
            break;
        default:
            continue; /* missing from the answer */
        }
        queue_batch_set(x.b, j, &r);
    }
    in_api = 1;
    queue_batch_done(RQ, x.b);
    in_api = 0;
}

static void rcheck(void)
{
    check_live();
    struct queue_counters c;
    queue_get_counters(RQ, &c);
    size_t keys = 0;
    for (size_t i = 0; i < F.nlive; i++)
        keys += F.live[i].n;
    assert_int_equal(c.in_flight, keys);
    assert_int_equal(queue_outstanding(RQ), c.queued + c.in_flight + c.backoff);
    assert_int_equal(c.submitted, (uint64_t)nrw);
    /* each failover attaches the waiter once more */
    assert_int_equal(c.submitted + c.failovers, c.cache_hits + c.cache_misses + c.deduplicated);
    /* every fetch started by a miss ends once: completed, cancelled, or
     * still outstanding */
    assert_int_equal(c.cache_misses,
                     c.completed + c.cancelled + c.queued + c.in_flight + c.backoff);
    assert_true(c.errors <= c.completed);
    assert_true(c.cached <= (size_t)(3 * NKEYS));
}

static void random_run(int chains)
{
    rchains = chains;
    rfinal = 0;
    RW = calloc(RW_MAX, sizeof *RW);
    assert_non_null(RW);
    nrw = rdelivered = 0;
    rng_state = 20261121;
    RQ = mkq(4, 2, 50, 400);
    addp(RQ, "yahoo", 1, 3);
    addp(RQ, "coingecko", 4, 2);
    addp(RQ, "fx", 2, 1);
    for (int step = 0; step < 20000; step++) {
        uint32_t a = rnd(100);
        if (a < 40) {
            rsubmit();
        } else if (a < 70) {
            if (F.nlive > 0)
                rcomplete();
        } else if (a < 73) {
            F.fail_starts = 1 + (int)rnd(2);
        } else if (a < 74) {
            queue_cancel_all(RQ);
            assert_int_equal(F.nlive, 0);
            assert_int_equal(queue_outstanding(RQ), 0);
        } else if (a < 85) {
            F.now += rnd(300);
        } else {
            queue_run(RQ, F.now);
        }
        rcheck();
    }
    /* a callback of the final run would otherwise submit work the drain
     * has already passed */
    rfinal = 1;
    queue_cancel_all(RQ);
    queue_run(RQ, F.now);
    rcheck();
    assert_int_equal(queue_outstanding(RQ), 0);
    assert_int_equal(F.nlive, 0);
    for (int i = 0; i < nrw; i++)
        assert_int_equal(RW[i].calls, 1);
    assert_int_equal(rdelivered, nrw);
    struct queue_counters c;
    queue_get_counters(RQ, &c);
    assert_int_equal(c.submitted, (uint64_t)rdelivered);
    assert_int_equal(c.cache_misses, c.completed + c.cancelled);
    if (chains)
        assert_true(c.failovers > 0);
    /* the run exercised every path */
    assert_true(c.cache_hits > 0);
    assert_true(c.deduplicated > 0);
    assert_true(c.retries > 0);
    assert_true(c.cancelled > 0);
    assert_true(c.errors > 0);
    assert_true(F.cancels > 0);
    queue_free(RQ);
    RQ = NULL;
    free(RW);
    RW = NULL;
}

static void test_random(void **state)
{
    (void)state;
    random_run(0);
}

/* The same with half the waiters on chains of two or three sources: every
 * invariant holds, every waiter hears once, from a source of its chain. */
static void test_random_chains(void **state)
{
    (void)state;
    random_run(1);
}

/* ---- rate limits, 429 pauses, offline, latency ----------------------- */

/* A token bucket per provider: a burst of a tenth of the per-minute rate,
 * then one request per 60/rate seconds; other providers are not held up. */
static void test_rate_limit(void **state)
{
    (void)state;
    struct fetch_queue *q = mkq(8, 0, 10, 10);
    addp(q, "yahoo", 1, 8);
    addp(q, "coingecko", 1, 8);
    queue_set_rate_limit(q, 0, 60); /* burst 6, then one a second */
    struct rec r[12] = {0};
    char sym[12][16];
    for (int i = 0; i < 10; i++) {
        snprintf(sym[i], sizeof sym[i], "S%d", i);
        submit(q, "yahoo", sym[i], QPRIO_SCHEDULED, 0, &r[i]);
    }
    submit(q, "coingecko", "bitcoin", QPRIO_SCHEDULED, 0, &r[10]);
    run(q);
    assert_int_equal(F.starts, 7); /* 6 yahoo + coingecko, unlimited */
    while (F.nlive) {
        struct quote ok = ok_q(1);
        finish(q, 0, &ok);
    }
    F.now += 999;
    run(q);
    assert_int_equal(F.starts, 7);
    int64_t next = queue_next_event(q);
    assert_true(next > F.now && next <= F.now + 2);
    F.now += 1;
    run(q);
    assert_int_equal(F.starts, 8);
    queue_set_rate_limit(q, 0, 0); /* lifted */
    run(q);
    assert_int_equal(F.starts, 11);
    queue_free(q);
}

/* A 429 pauses that provider for its Retry-After (else the default), not
 * the others; it is counted. */
static void test_429_pauses_provider(void **state)
{
    (void)state;
    static const struct {
        int retry_after_s;
        int64_t pause_ms;
    } cases[] = {{2, 2000}, {0, QUEUE_DEFAULT_PAUSE_MS}};
    for (size_t c = 0; c < ARRAY_LEN(cases); c++) {
        struct fetch_queue *q = mkq(8, 3, 10, 10);
        addp(q, "yahoo", 1, 8);
        addp(q, "coingecko", 1, 8);
        struct rec r[4] = {0};
        submit(q, "yahoo", "AAPL", QPRIO_SCHEDULED, 0, &r[0]);
        run(q);
        struct quote e = err_q(QUOTE_TRANSIENT, "HTTP 429");
        e.http_status = 429;
        e.retry_after_s = cases[c].retry_after_s;
        finish(q, 0, &e);
        assert_int_equal(counters(q).rate_limited, 1);
        submit(q, "yahoo", "MSFT", QPRIO_SCHEDULED, 0, &r[1]);
        submit(q, "coingecko", "bitcoin", QPRIO_SCHEDULED, 0, &r[2]);
        F.now += 1;
        run(q);
        assert_int_equal(F.starts, 2); /* only coingecko went */
        assert_string_equal(F.live[0].provider, "coingecko");
        struct queue_provider_info info[2];
        assert_int_equal(queue_get_providers(q, info, 2), 2);
        assert_true(info[0].paused_until > F.now);
        assert_int_equal(info[1].paused_until, 0);
        F.now = cases[c].pause_ms - 1;
        run(q);
        assert_int_equal(F.starts, 2);
        F.now = cases[c].pause_ms;
        run(q);
        assert_true(F.starts >= 3); /* yahoo again: the retry and MSFT */
        /* the pause is over and keys wait for a slot: never an event in the
         * past (the loop would spin until a slot frees) */
        struct rec more[12] = {0};
        char msym[12][16];
        for (int i = 0; i < 12; i++) {
            snprintf(msym[i], sizeof msym[i], "M%d", i);
            submit(q, "yahoo", msym[i], QPRIO_SCHEDULED, 0, &more[i]);
        }
        F.now += 10;
        run(q);
        int64_t next = queue_next_event(q);
        assert_true(next < 0 || next > F.now);
        queue_cancel_all(q);
        run(q);
        queue_free(q);
    }
}

/* Every provider in use failing to connect three times in a row: offline.
 * Waiting keys fail at once with the reason; one probe every
 * QUEUE_PROBE_MS; an answer brings the queue back. */
static void test_offline(void **state)
{
    (void)state;
    struct fetch_queue *q = mkq(8, 5, 10, 10);
    addp(q, "yahoo", 1, 1);
    struct rec r[6] = {0};
    submit(q, "yahoo", "AAPL", QPRIO_SCHEDULED, 0, &r[0]);
    submit(q, "yahoo", "MSFT", QPRIO_SCHEDULED, 0, &r[1]);
    submit(q, "yahoo", "NVDA", QPRIO_SCHEDULED, 0, &r[2]);
    struct quote down = err_q(QUOTE_CONNECTION, "Couldn't connect to server");
    for (int i = 0; i < 3; i++) {
        run(q);
        assert_int_equal(F.nlive, 1);
        assert_int_equal(counters(q).offline, 0);
        finish(q, 0, &down);
        F.now += 100;
    }
    assert_int_equal(counters(q).offline, 1);
    run(q);
    /* all but the one key the probe will carry have failed: the key whose
     * failure completed the streak with its own error, the others with
     * the offline reason */
    int failed = 0, said_offline = 0;
    for (int i = 0; i < 3; i++)
        if (r[i].calls) {
            failed++;
            assert_int_equal(r[i].q.kind, QUOTE_CONNECTION);
            said_offline += strstr(r[i].q.error, "offline") != NULL;
        }
    assert_int_equal(failed, 2);
    assert_int_equal(said_offline, 1);
    int starts = F.starts;
    submit(q, "yahoo", "META", QPRIO_SCHEDULED, 0, &r[3]);
    run(q);
    assert_int_equal(r[3].calls, 1); /* new work fails at once, no request */
    assert_int_equal(F.starts, starts);
    assert_true(queue_next_event(q) > F.now);
    F.now += QUEUE_PROBE_MS;
    run(q);
    assert_int_equal(F.starts, starts + 1); /* the probe */
    assert_int_equal(F.nlive, 1);
    struct quote ok = ok_q(3);
    finish(q, 0, &ok);
    assert_int_equal(counters(q).offline, 0);
    run(q);
    submit(q, "yahoo", "TSLA", QPRIO_SCHEDULED, 0, &r[4]);
    run(q);
    assert_int_equal(F.starts, starts + 2); /* online: dispatching again */
    finish(q, 0, &ok);
    run(q);
    for (int i = 0; i < 5; i++)
        assert_int_equal(r[i].calls, 1);
    queue_free(q);
}

/* One provider down while another answers is not offline. */
static void test_not_offline_when_one_answers(void **state)
{
    (void)state;
    struct fetch_queue *q = mkq(8, 0, 10, 10);
    addp(q, "yahoo", 1, 8);
    addp(q, "coingecko", 1, 8);
    struct rec r[8] = {0};
    char sym[8][16];
    for (int i = 0; i < 4; i++) {
        snprintf(sym[i], sizeof sym[i], "Y%d", i);
        submit(q, "yahoo", sym[i], QPRIO_SCHEDULED, 0, &r[i]);
    }
    submit(q, "coingecko", "bitcoin", QPRIO_SCHEDULED, 0, &r[4]);
    run(q);
    struct quote down = err_q(QUOTE_CONNECTION, "refused");
    struct quote ok = ok_q(1);
    finish_sym(q, "bitcoin", &ok);
    while (F.nlive)
        finish(q, 0, &down);
    run(q);
    assert_int_equal(counters(q).offline, 0);
    queue_free(q);
}

/* Latency percentiles per provider over the recent requests. */
static void test_latency(void **state)
{
    (void)state;
    struct fetch_queue *q = mkq(1, 0, 10, 10);
    addp(q, "yahoo", 1, 1);
    struct rec r = {0};
    for (int i = 1; i <= 100; i++) {
        char sym[16];
        snprintf(sym, sizeof sym, "L%d", i);
        submit(q, "yahoo", sym, QPRIO_SCHEDULED, 0, &r);
        run(q);
        queue_batch_note_latency(F.live[0].b, (double)i);
        struct quote ok = ok_q(1);
        finish(q, 0, &ok);
        run(q);
    }
    struct queue_provider_info info;
    assert_int_equal(queue_get_providers(q, &info, 1), 1);
    assert_true(info.latency_p50_ms >= 49 && info.latency_p50_ms <= 51);
    assert_true(info.latency_p95_ms >= 94 && info.latency_p95_ms <= 96);
    assert_int_equal(info.requests, 100);
    queue_free(q);
}

/* ---- request kinds: the single-symbol request ------------------------ */

/* Completes in-flight batch i with the quotes it chose and the deferrals;
 * unlike finish(), keys left alone stay unset (deferred or missing). */
static void done_live(struct fetch_queue *q, size_t i)
{
    struct queue_batch *b = F.live[i].b;
    live_remove(i);
    in_api = 1;
    queue_batch_done(q, b);
    in_api = 0;
}

/* A key the batch answer lacks, handed to the single-symbol request: it
 * goes back to pending and is sent alone (its own request of kind
 * QREQ_SINGLE), taking a token and its turn by priority; its waiters,
 * including those who joined while it was deferred, get the single
 * request's answer exactly once. */
static void test_defer_single(void **state)
{
    (void)state;
    struct fetch_queue *q = mkq(4, 0, 100, 1000);
    addp(q, "yahoo", 4, 1);
    queue_set_rate_limit(q, 0, 10); /* burst 1, then one token every 6 s */
    struct rec r[6] = {0};
    submit(q, "yahoo", "A", QPRIO_SCHEDULED, 0, &r[0]);
    submit(q, "yahoo", "B", QPRIO_SCHEDULED, 0, &r[1]);
    submit(q, "yahoo", "C", QPRIO_SCHEDULED, 0, &r[2]);
    run(q);
    assert_int_equal(F.nlive, 1);
    assert_string_equal(F.hist[0], "yahoo:A,B,C");
    struct queue_batch *b = F.live[0].b;
    assert_int_equal(queue_batch_kind(b), QREQ_BATCH);
    submit(q, "yahoo", "B", QPRIO_SCHEDULED, 0, &r[3]); /* joins while in flight */
    submit(q, "yahoo", "D", QPRIO_SCHEDULED, 0, &r[5]); /* queued before B is deferred */
    struct quote a = ok_q(1), c = ok_q(3);
    queue_batch_set(b, 0, &a);
    queue_batch_defer(b, 0, 1); /* already answered: not deferred */
    queue_batch_defer(b, 1, 1);
    queue_batch_set(b, 2, &c);
    done_live(q, 0);
    run(q);
    assert_int_equal(r[0].calls, 1);
    assert_true(r[0].q.price == 1);
    assert_int_equal(r[2].calls, 1);
    assert_int_equal(r[1].calls + r[3].calls, 0); /* not "missing from answer" */
    struct queue_counters k = counters(q);
    assert_int_equal(k.queued, 2); /* B (single) and D (batch) */
    assert_int_equal(k.errors, 0);
    assert_int_equal(F.starts, 1); /* the single request waits for a token */
    assert_int_equal(queue_next_event(q), 6000);
    /* a waiter joining the deferred key lifts it above D */
    submit(q, "yahoo", "B", QPRIO_ON_DEMAND, 0, &r[4]);
    assert_int_equal(counters(q).deduplicated, 2);
    F.now = 5999;
    run(q);
    assert_int_equal(F.starts, 1);
    F.now = 6000;
    run(q);
    assert_int_equal(F.starts, 2);
    assert_int_equal(F.nlive, 1);
    assert_string_equal(F.hist[1], "yahoo:B");
    assert_int_equal(queue_batch_kind(F.live[0].b), QREQ_SINGLE);
    assert_int_equal(queue_batch_size(F.live[0].b), 1);
    struct quote single = ok_q(2.5);
    finish(q, 0, &single);
    run(q);
    for (int i = 1; i <= 4; i += (i == 1 ? 2 : 1)) {
        assert_int_equal(r[i].calls, 1);
        assert_int_equal(r[i].q.kind, QUOTE_OK);
        assert_true(r[i].q.price == 2.5);
    }
    /* D goes on the next token, in the batch request */
    F.now = 11999;
    run(q);
    assert_int_equal(F.starts, 2);
    F.now = 12000;
    run(q);
    assert_string_equal(F.hist[2], "yahoo:D");
    assert_int_equal(queue_batch_kind(F.live[0].b), QREQ_BATCH);
    struct quote d = ok_q(4);
    finish(q, 0, &d);
    run(q);
    run(q);
    for (int i = 0; i < 6; i++)
        assert_int_equal(r[i].calls, 1);
    k = counters(q);
    assert_int_equal(k.upstream_requests, 3);
    assert_int_equal(k.completed, 4);
    assert_int_equal(k.deduplicated, 2);
    assert_int_equal(queue_outstanding(q), 0);
    queue_free(q);
}

/* The single-symbol request obeys the provider's pause and concurrency:
 * a 429 on the batch holds the deferred keys back until it ends, two
 * deferred keys of a one-slot provider go one after the other, and among
 * equal priorities the oldest pending key goes first, whichever its kind. */
static void test_defer_single_pause(void **state)
{
    (void)state;
    struct fetch_queue *q = mkq(4, 3, 10, 10);
    addp(q, "yahoo", 4, 1);
    struct rec r[4] = {0};
    submit(q, "yahoo", "A", QPRIO_SCHEDULED, 0, &r[0]);
    submit(q, "yahoo", "B", QPRIO_SCHEDULED, 0, &r[1]);
    submit(q, "yahoo", "C", QPRIO_SCHEDULED, 0, &r[2]);
    run(q);
    struct queue_batch *b = F.live[0].b;
    struct quote limited = err_q(QUOTE_TRANSIENT, "yahoo: HTTP 429 (rate limited)");
    limited.http_status = 429;
    limited.retry_after_s = 5;
    queue_batch_set(b, 0, &limited);
    queue_batch_defer(b, 1, 1);
    queue_batch_defer(b, 2, 1);
    done_live(q, 0);
    F.now = 1;
    submit(q, "yahoo", "E", QPRIO_SCHEDULED, 0, &r[3]); /* after B and C went back */
    F.now = 4999;
    run(q);
    assert_int_equal(F.starts, 1);
    F.now = 5000;
    run(q); /* A's retry is due too, behind E */
    run(q);
    /* one slot, whichever kind; equal priorities in the order they went
     * (back) to pending, across the two kinds */
    static const char *const want[] = {"yahoo:B", "yahoo:C", "yahoo:E,A"};
    struct quote ok = ok_q(1);
    for (size_t n = 0; n < ARRAY_LEN(want); n++) {
        assert_int_equal(F.nlive, 1);
        assert_string_equal(F.hist[1 + n], want[n]);
        assert_int_equal(queue_batch_kind(F.live[0].b), n < 2 ? QREQ_SINGLE : QREQ_BATCH);
        finish(q, 0, &ok);
        run(q);
    }
    assert_int_equal(F.starts, 4);
    for (int i = 0; i < 4; i++)
        assert_int_equal(r[i].calls, 1);
    queue_free(q);
}

/* A key the request could not carry goes back as the same kind and was
 * not an attempt: with max_retries 1 it still has its retry after the
 * next request fails. */
static void test_defer_same(void **state)
{
    (void)state;
    struct fetch_queue *q = mkq(1, 1, 10, 10);
    addp(q, "yahoo", 3, 1);
    struct rec r[4] = {0};
    static const char *const syms[] = {"A", "B", "C", "D"};
    for (int i = 0; i < 4; i++)
        submit(q, "yahoo", syms[i], QPRIO_SCHEDULED, 0, &r[i]);
    run(q);
    assert_string_equal(F.hist[0], "yahoo:A,B,C");
    struct queue_batch *b = F.live[0].b;
    struct quote ok = ok_q(1);
    queue_batch_set(b, 0, &ok);
    queue_batch_set(b, 1, &ok);
    queue_batch_defer(b, 2, 0);
    done_live(q, 0);
    run(q);
    assert_int_equal(r[2].calls, 0);
    assert_int_equal(counters(q).errors, 0);
    assert_int_equal(F.nlive, 1);
    assert_int_equal(queue_batch_kind(F.live[0].b), QREQ_BATCH);
    assert_int_equal(F.live[0].n, 2); /* C and D, together */
    live_find("C");
    struct quote e = err_q(QUOTE_TRANSIENT, "yahoo: HTTP 503 (server error)");
    finish(q, 0, &e);
    run(q);
    /* first attempt for both: both retried */
    assert_int_equal(r[2].calls, 0);
    assert_int_equal(counters(q).retries, 2);
    assert_int_equal(counters(q).backoff, 2);
    F.now += 10;
    run(q);
    assert_int_equal(F.starts, 3);
    finish(q, 0, &e);
    run(q);
    assert_int_equal(r[2].calls, 1); /* second attempt: out of retries */
    assert_int_equal(r[2].q.kind, QUOTE_TRANSIENT);
    assert_int_equal(r[3].calls, 1);
    assert_int_equal(counters(q).retries, 2);
    queue_free(q);
}

/* A deferred key that is then set is not deferred (queue.h): its quote
 * is what the waiters get and what the queue learns from. A refusal set
 * over a deferral (queue_batch_set_all after queue_batch_defer) pauses the
 * provider as any refusal does. */
static void test_defer_then_set(void **state)
{
    (void)state;
    struct fetch_queue *q = mkq(4, 0, 10, 10);
    addp(q, "yahoo", 2, 1);
    struct rec r[3] = {0};
    submit(q, "yahoo", "A", QPRIO_SCHEDULED, 0, &r[0]);
    submit(q, "yahoo", "B", QPRIO_SCHEDULED, 0, &r[1]);
    run(q);
    struct queue_batch *b = F.live[0].b;
    queue_batch_defer(b, 0, 1);
    queue_batch_defer(b, 1, 0);
    struct quote no = err_q(QUOTE_PERMANENT, "yahoo: HTTP 403: refused");
    no.http_status = 403;
    no.refused = 1;
    queue_batch_set_all(b, &no);
    done_live(q, 0);
    submit(q, "yahoo", "C", QPRIO_SCHEDULED, 0, &r[2]);
    run(q);
    for (int i = 0; i < 3; i++) {
        assert_int_equal(r[i].calls, 1);
        assert_int_equal(r[i].q.refused, 1);
    }
    assert_non_null(strstr(r[2].q.error, "(paused 30s)"));
    assert_int_equal(F.starts, 1);
    assert_int_equal(counters(q).refused, 1);
    struct queue_provider_info info;
    assert_int_equal(queue_get_providers(q, &info, 1), 1);
    assert_int_equal(info.paused_until, QUEUE_DEFAULT_PAUSE_MS);
    assert_int_equal(info.errors, 1); /* one request refused, whatever it carried */
    queue_free(q);
}

/* A provider's errors count failed requests, not the keys they carried
 * (a batch of 31 that fails is one error against one request), and its
 * recent requests say whether it is well now: a failure shows among the
 * last ten requests of the last 15 minutes, then ages out. */
static void test_provider_recent_errors(void **state)
{
    (void)state;
    struct fetch_queue *q = mkq(4, 0, 10, 10);
    addp(q, "yahoo", 4, 1);
    struct rec r[6] = {0};
    for (int i = 0; i < 4; i++) {
        char sym[16];
        snprintf(sym, sizeof sym, "S%d", i);
        submit(q, "yahoo", sym, QPRIO_SCHEDULED, 0, &r[i]);
    }
    run(q);
    struct quote bad = err_q(QUOTE_TRANSIENT, "yahoo: HTTP 503");
    bad.http_status = 503;
    finish(q, 0, &bad);
    struct queue_provider_info info;
    assert_int_equal(queue_get_providers(q, &info, 1), 1);
    assert_int_equal(info.requests, 1);
    assert_int_equal(info.errors, 1);
    assert_int_equal(info.recent_requests, 1);
    assert_int_equal(info.recent_failed, 1);
    assert_string_equal(info.last_error, "yahoo: HTTP 503");
    /* a good answer later: still one failure among the recent ones */
    F.now += 60000;
    submit(q, "yahoo", "S4", QPRIO_SCHEDULED, 0, &r[4]);
    run(q);
    struct quote good = ok_q(1.0);
    finish(q, 0, &good);
    assert_int_equal(queue_get_providers(q, &info, 1), 1);
    assert_int_equal(info.requests, 2);
    assert_int_equal(info.errors, 1);
    assert_int_equal(info.recent_requests, 2);
    assert_int_equal(info.recent_failed, 1);
    /* fifteen minutes on, the failure is history: nothing failed lately */
    F.now += 15 * 60000 + 1;
    submit(q, "yahoo", "S5", QPRIO_SCHEDULED, 0, &r[5]);
    run(q);
    finish(q, 0, &good);
    assert_int_equal(queue_get_providers(q, &info, 1), 1);
    assert_int_equal(info.recent_failed, 0);
    assert_int_equal(info.recent_requests, 1);
    assert_string_equal(info.last_error, "");
    queue_free(q);
}

/* ---- refusals and doubling pauses ------------------------------------ */

static struct quote refused_q(void)
{
    struct quote r = err_q(QUOTE_PERMANENT, "yahoo: HTTP 403: refused (\"Forbidden\")");
    r.http_status = 403;
    r.refused = 1;
    return r;
}

/* Events: what the queue learns is reported once, when it changes, and
 * only from queue_run(), never inside queue_batch_done(). */
struct ev_log {
    int n;
    struct queue_event ev[16];
};
static void ev_rec(const struct queue_event *ev, void *cls)
{
    struct ev_log *l = cls;
    assert_int_equal(in_api, 0);
    assert_true(l->n < 16);
    l->ev[l->n++] = *ev;
}

static void test_events(void **state)
{
    (void)state;
    struct fetch_queue *q = mkq(8, 0, 10, 10);
    addp(q, "yahoo", 1, 4);
    struct ev_log log = {0};
    queue_set_event_cb(q, ev_rec, &log);
    struct rec r[8] = {0};
    /* a burst of two refused batches: one pause, one event */
    submit(q, "yahoo", "A", QPRIO_SCHEDULED, 0, &r[0]);
    submit(q, "yahoo", "B", QPRIO_SCHEDULED, 0, &r[1]);
    run(q);
    struct quote no = refused_q();
    finish_sym(q, "A", &no);
    finish_sym(q, "B", &no);
    assert_int_equal(log.n, 0); /* not inside queue_batch_done() */
    run(q);
    /* one pause for the burst; two whole failures in a row also make the
     * provider down */
    assert_int_equal(log.n, 2);
    assert_int_equal(log.ev[0].type, QEV_PAUSED);
    assert_string_equal(log.ev[0].provider, "yahoo");
    assert_int_equal(log.ev[0].refused, 1);
    assert_int_equal(log.ev[0].pause_ms, QUEUE_DEFAULT_PAUSE_MS);
    assert_string_equal(log.ev[0].reason, no.error);
    assert_int_equal(log.ev[1].type, QEV_DOWN);
    run(q);
    assert_int_equal(log.n, 2); /* nothing new: nothing said */
    /* after the pause, the probe is rate limited: a 429 pause, not a refusal */
    F.now = QUEUE_DEFAULT_PAUSE_MS;
    submit(q, "yahoo", "C", QPRIO_SCHEDULED, 0, &r[2]);
    run(q);
    struct quote limited = err_q(QUOTE_TRANSIENT, "yahoo: HTTP 429 (rate limited)");
    limited.http_status = 429;
    finish_sym(q, "C", &limited);
    run(q);
    assert_int_equal(log.n, 3);
    assert_int_equal(log.ev[2].type, QEV_PAUSED);
    assert_int_equal(log.ev[2].refused, 0);
    assert_int_equal(log.ev[2].pause_ms, 2 * QUEUE_DEFAULT_PAUSE_MS);
    /* the network gone, and back */
    F.now += 10 * QUEUE_DEFAULT_PAUSE_MS;
    struct quote cut = err_q(QUOTE_CONNECTION, "cannot connect");
    for (int i = 0; i < 3; i++) {
        char sym[16];
        snprintf(sym, sizeof sym, "N%d", i);
        submit(q, "yahoo", sym, QPRIO_SCHEDULED, 0, &r[3 + i]);
        run(q);
        finish_sym(q, sym, &cut);
        F.now += 100;
    }
    run(q);
    int offline = 0, down = 0;
    for (int i = 3; i < log.n; i++) {
        offline += log.ev[i].type == QEV_OFFLINE;
        down += log.ev[i].type == QEV_DOWN;
    }
    assert_int_equal(offline, 1);
    assert_int_equal(down, 0); /* down since the refusals: not said again */
    int before = log.n;
    F.now += QUEUE_PROBE_MS;
    submit(q, "yahoo", "P", QPRIO_SCHEDULED, 0, &r[6]);
    run(q);
    struct quote ok = ok_q(1);
    while (F.nlive)
        finish(q, 0, &ok);
    run(q);
    int online = 0, up = 0;
    for (int i = before; i < log.n; i++) {
        online += log.ev[i].type == QEV_ONLINE;
        up += log.ev[i].type == QEV_UP;
    }
    assert_int_equal(online, 1);
    assert_int_equal(up, 1);
    assert_int_equal(counters(q).events_dropped, 0);
    queue_free(q);
}

/* Back from offline, a provider that went down in the outage is down no
 * more, though nothing asked it since: a second source whose first answers
 * again would otherwise never be probed and stay "down" for good. */
static void test_online_forgives_the_outage(void **state)
{
    (void)state;
    struct fetch_queue *q = mkq(8, 0, 10, 10);
    addp(q, "fx", 1, 4);
    addp(q, "erapi", 1, 4);
    struct ev_log log = {0};
    queue_set_event_cb(q, ev_rec, &log);
    struct rec r[8] = {0};
    struct quote cut = err_q(QUOTE_CONNECTION, "cannot connect");
    for (int i = 0; i < 3; i++) {
        char a[16], b[16];
        snprintf(a, sizeof a, "F%d", i);
        snprintf(b, sizeof b, "E%d", i);
        submit(q, "fx", a, QPRIO_SCHEDULED, 0, &r[2 * i]);
        submit(q, "erapi", b, QPRIO_SCHEDULED, 0, &r[2 * i + 1]);
        run(q);
        finish_sym(q, a, &cut);
        finish_sym(q, b, &cut);
        F.now += 100;
    }
    run(q);
    struct queue_provider_info info[2];
    queue_get_providers(q, info, 2);
    assert_int_equal(counters(q).offline, 1);
    assert_int_equal(info[0].down + info[1].down, 2);
    /* fx's probe answers; nothing is asked of erapi */
    F.now += QUEUE_PROBE_MS;
    submit(q, "fx", "P", QPRIO_SCHEDULED, 0, &r[6]);
    run(q);
    assert_int_equal(F.nlive, 1);
    struct quote ok = ok_q(1);
    finish_sym(q, "P", &ok);
    run(q);
    assert_int_equal(counters(q).offline, 0);
    queue_get_providers(q, info, 2);
    assert_int_equal(info[0].down, 0);
    assert_int_equal(info[1].down, 0);
    int up = 0, said = 0;
    for (int i = 0; i < log.n; i++)
        if (log.ev[i].type == QEV_UP) {
            up++;
            if (strcmp(log.ev[i].provider, "erapi") == 0)
                said += strcmp(log.ev[i].reason, "the network is back") == 0;
        }
    assert_int_equal(up, 2); /* fx answers again; erapi is forgiven, and says why */
    assert_int_equal(said, 1);
    /* erapi is judged again by its own requests: its streak began anew,
     * so one failure does not make it down (two in a row would) */
    submit(q, "erapi", "E8", QPRIO_SCHEDULED, 0, &r[7]);
    run(q);
    finish_sym(q, "E8", &cut);
    run(q);
    queue_get_providers(q, info, 2);
    assert_int_equal(info[1].down, 0);
    queue_free(q);
}

/* The offline window of queue.h, with the default limits mkq() leaves. */
#define OFFLINE_WINDOW_MS (QUEUE_PROBE_MS + QUEUE_OFFLINE_STREAK * QUEUE_REQUEST_TIMEOUT_MS)

/* One request of prov for sym, sent now and failing to connect. */
static void conn_fail(struct fetch_queue *q, const char *prov, const char *sym, struct rec *r)
{
    struct quote down = err_q(QUOTE_CONNECTION, "cannot connect");
    submit(q, prov, sym, QPRIO_SCHEDULED, 0, r);
    run(q);
    finish_sym(q, sym, &down);
    run(q);
}

/* Yahoo answered once, long ago (its market closed for the weekend after
 * one history request), and nobody asks it since; then coingecko fails to
 * connect QUEUE_OFFLINE_STREAK times in a row. Yahoo's old answer says
 * nothing of the network now: the queue is offline. */
static void test_offline_despite_one_asked_long_ago(void **state)
{
    (void)state;
    struct fetch_queue *q = mkq(8, 0, 10, 10);
    addp(q, "yahoo", 1, 4);
    addp(q, "coingecko", 1, 4);
    struct ev_log log = {0};
    queue_set_event_cb(q, ev_rec, &log);
    struct rec r[8] = {0};
    F.now = 1000;
    submit(q, "yahoo", "AAPL", QPRIO_BACKGROUND, 0, &r[0]);
    run(q);
    struct quote ok = ok_q(1);
    finish_sym(q, "AAPL", &ok);
    run(q);
    assert_int_equal(r[0].calls, 1);
    F.now += OFFLINE_WINDOW_MS + 1;
    char sym[QUEUE_OFFLINE_STREAK][16];
    for (int i = 0; i < QUEUE_OFFLINE_STREAK; i++) {
        assert_int_equal(counters(q).offline, 0);
        snprintf(sym[i], sizeof sym[i], "C%d", i);
        conn_fail(q, "coingecko", sym[i], &r[1 + i]);
        F.now += 100;
    }
    assert_int_equal(counters(q).offline, 1);
    int offline = 0;
    for (int i = 0; i < log.n; i++)
        offline += log.ev[i].type == QEV_OFFLINE;
    assert_int_equal(offline, 1);
    /* offline as queue.h says: new work fails at once with the reason */
    int starts = F.starts;
    submit(q, "yahoo", "MSFT", QPRIO_SCHEDULED, 0, &r[5]);
    submit(q, "yahoo", "NVDA", QPRIO_SCHEDULED, 0, &r[6]);
    run(q);
    assert_int_equal(F.starts, starts);
    assert_int_equal(r[5].calls + r[6].calls, 1); /* the other waits for the probe */
    struct rec *failed = r[5].calls ? &r[5] : &r[6];
    assert_non_null(strstr(failed->q.error, "offline: no upstream reachable"));
    queue_free(q);
}

/* The counter-case, at the window's edge: yahoo asked within the window
 * and answered is the network answering, so coingecko's failures are one
 * host's, not offline; the window is probe_ms + QUEUE_OFFLINE_STREAK x
 * request_timeout_ms, and once yahoo's answer is older than that,
 * coingecko's next failure is judged alone. A yahoo request still in
 * flight keeps the queue online too: its answer is yet to say. */
static void test_not_offline_when_one_asked_of_late(void **state)
{
    (void)state;
    struct fetch_queue *q = mkq(8, 0, 10, 10);
    addp(q, "yahoo", 1, 4);
    addp(q, "coingecko", 1, 4);
    struct rec r[12] = {0};
    int64_t t0 = 1000;
    F.now = t0;
    submit(q, "yahoo", "AAPL", QPRIO_SCHEDULED, 0, &r[0]);
    run(q);
    struct quote ok = ok_q(1);
    F.now += 300;
    finish_sym(q, "AAPL", &ok);
    run(q);
    /* coingecko's streak ends with yahoo's request just inside the window */
    char sym[8][16];
    for (int i = 0; i < QUEUE_OFFLINE_STREAK; i++) {
        F.now = t0 + OFFLINE_WINDOW_MS - 100 * (QUEUE_OFFLINE_STREAK - i);
        snprintf(sym[i], sizeof sym[i], "C%d", i);
        conn_fail(q, "coingecko", sym[i], &r[1 + i]);
    }
    assert_int_equal(F.now, t0 + OFFLINE_WINDOW_MS - 100);
    assert_int_equal(counters(q).offline, 0);
    /* past the window, coingecko's next failure is judged alone */
    F.now = t0 + OFFLINE_WINDOW_MS + 1;
    conn_fail(q, "coingecko", "C3", &r[4]);
    assert_int_equal(counters(q).offline, 1);
    queue_free(q);

    /* yahoo asked long ago, and again now: its request in flight keeps the
     * queue online while coingecko fails */
    q = mkq(8, 0, 10, 10);
    addp(q, "yahoo", 1, 4);
    addp(q, "coingecko", 1, 4);
    memset(r, 0, sizeof r);
    F.now = t0;
    submit(q, "yahoo", "AAPL", QPRIO_SCHEDULED, 0, &r[0]);
    run(q);
    finish_sym(q, "AAPL", &ok);
    run(q);
    F.now += 10 * OFFLINE_WINDOW_MS;
    submit(q, "yahoo", "MSFT", QPRIO_SCHEDULED, 0, &r[1]);
    run(q);
    assert_int_equal(F.nlive, 1);
    for (int i = 0; i < QUEUE_OFFLINE_STREAK + 2; i++) {
        F.now += 1000;
        snprintf(sym[i], sizeof sym[i], "C%d", i);
        conn_fail(q, "coingecko", sym[i], &r[2 + i]);
    }
    assert_int_equal(counters(q).offline, 0);
    /* ... and its answer too */
    finish_sym(q, "MSFT", &ok);
    run(q);
    F.now += 1000;
    conn_fail(q, "coingecko", "C7", &r[9]);
    assert_int_equal(counters(q).offline, 0);
    queue_free(q);
}

/* A refusal pauses only that provider; its keys waiting now, or submitted
 * while the pause lasts, fail at once with the reason and the time left;
 * another provider goes on as before. */
static void test_refusal_fails_waiting(void **state)
{
    (void)state;
    struct fetch_queue *q = mkq(8, 3, 10, 10);
    addp(q, "yahoo", 1, 4);
    addp(q, "coingecko", 1, 4);
    struct rec r[6] = {0};
    submit(q, "yahoo", "A", QPRIO_SCHEDULED, 0, &r[0]);
    run(q);
    submit(q, "yahoo", "B", QPRIO_SCHEDULED, 0, &r[1]); /* waiting when A is refused */
    submit(q, "yahoo", "C", QPRIO_ON_DEMAND, 0, &r[2]);
    submit(q, "coingecko", "bitcoin", QPRIO_SCHEDULED, 0, &r[3]);
    struct quote no = refused_q();
    finish_sym(q, "A", &no);
    run(q);
    assert_int_equal(F.starts, 2); /* A and bitcoin, neither B nor C */
    assert_int_equal(F.nlive, 1);
    assert_string_equal(F.live[0].provider, "coingecko");
    assert_int_equal(r[0].calls, 1);
    assert_string_equal(r[0].q.error, no.error);
    for (int i = 1; i <= 2; i++) {
        assert_int_equal(r[i].calls, 1);
        assert_int_equal(r[i].q.kind, QUOTE_PERMANENT);
        assert_int_equal(r[i].q.refused, 1);
        assert_non_null(strstr(r[i].q.error, no.error));
        assert_non_null(strstr(r[i].q.error, "(paused 30s)"));
    }
    struct queue_counters k = counters(q);
    assert_int_equal(k.refused, 1);
    assert_int_equal(k.retries, 0);
    struct queue_provider_info info[2];
    assert_int_equal(queue_get_providers(q, info, 2), 2);
    assert_int_equal(info[0].refused, 1);
    assert_string_equal(info[0].pause_reason, no.error);
    assert_int_equal(info[0].paused_until, QUEUE_DEFAULT_PAUSE_MS);
    assert_int_equal(info[0].refusals, 1);
    assert_int_equal(info[1].refused, 0);
    assert_int_equal(info[1].paused_until, 0);
    /* later in the pause: at once, with the time left */
    F.now = 10000;
    submit(q, "yahoo", "D", QPRIO_SCHEDULED, 0, &r[4]);
    struct quote ok = ok_q(1);
    finish(q, 0, &ok);
    submit(q, "coingecko", "ethereum", QPRIO_SCHEDULED, 0, &r[5]);
    run(q);
    assert_int_equal(r[4].calls, 1);
    assert_non_null(strstr(r[4].q.error, "(paused 20s)"));
    assert_int_equal(r[3].calls, 1);
    assert_int_equal(r[3].q.kind, QUOTE_OK);
    assert_int_equal(F.starts, 3); /* ethereum: coingecko is not paused */
    assert_string_equal(F.live[0].sym[0], "ethereum");
    finish(q, 0, &ok);
    run(q);
    assert_int_equal(r[5].calls, 1);
    assert_int_equal(counters(q).refused, 1);
    assert_int_equal(queue_outstanding(q), 0);
    queue_free(q);
}

/* A burst sent before a refusal arrived says nothing about the provider:
 * batch A is refused while B, sent at the same time, is still out; B's
 * normal answer must not end the refusal (keys still fail at once, the
 * provider stays refused, probation holds, and the next refusal doubles). */
static void test_refusal_not_undone_by_earlier_batch(void **state)
{
    (void)state;
    struct fetch_queue *q = mkq(8, 3, 10, 10);
    addp(q, "yahoo", 1, 4);
    struct rec r[4] = {0};
    submit(q, "yahoo", "A", QPRIO_SCHEDULED, 0, &r[0]);
    submit(q, "yahoo", "B", QPRIO_SCHEDULED, 0, &r[1]);
    run(q);
    assert_int_equal(F.nlive, 2);
    struct quote no = refused_q();
    finish_sym(q, "A", &no);
    F.now = 100;
    struct quote ok = ok_q(1);
    finish_sym(q, "B", &ok);
    run(q);
    assert_int_equal(r[1].q.kind, QUOTE_OK);
    F.now = 1000;
    submit(q, "yahoo", "C", QPRIO_SCHEDULED, 0, &r[2]);
    run(q);
    assert_int_equal(r[2].calls, 1);
    assert_int_equal(r[2].q.refused, 1);
    assert_non_null(strstr(r[2].q.error, "(paused 29s)"));
    struct queue_provider_info info[1];
    queue_get_providers(q, info, 1);
    assert_int_equal(info[0].refused, 1);
    /* after the pause, one probe; refused again: 60 s, not 30 */
    F.now = QUEUE_DEFAULT_PAUSE_MS;
    submit(q, "yahoo", "D", QPRIO_SCHEDULED, 0, &r[3]);
    run(q);
    assert_int_equal(F.nlive, 1);
    finish_sym(q, "D", &no);
    run(q);
    queue_get_providers(q, info, 1);
    assert_int_equal(info[0].paused_until, QUEUE_DEFAULT_PAUSE_MS + 2 * QUEUE_DEFAULT_PAUSE_MS);
    queue_free(q);
}

/* Keys a request could not carry (deferred as the same kind) were never
 * sent: batches of nothing but such keys are no evidence that the network
 * is gone. */
static void test_defer_same_not_offline(void **state)
{
    (void)state;
    struct fetch_queue *q = mkq(8, 3, 10, 10);
    addp(q, "yahoo", 4, 4);
    struct rec r[1] = {0};
    submit(q, "yahoo", "A", QPRIO_SCHEDULED, 0, &r[0]);
    for (int k = 0; k < 5; k++) {
        run(q);
        assert_int_equal(F.nlive, 1);
        struct queue_batch *b = F.live[0].b;
        live_remove(0);
        queue_batch_defer(b, 0, 0);
        in_api = 1;
        queue_batch_done(q, b);
        in_api = 0;
    }
    assert_int_equal(counters(q).offline, 0);
    assert_int_equal(r[0].calls, 0);
    queue_free(q);
}

/* One 429 without Retry-After or one refusal after another, each answering
 * the single batch let through when the previous pause ended: the pause is
 * 30 s, doubling up to QUEUE_PAUSE_MAX_MS; while it lasts no request goes
 * (a refused provider's new keys fail at once, a rate-limited one's wait);
 * after it one batch at a time goes although more keys and slots wait;
 * a normal answer ends that and starts the doubling again from 30 s. */
static void check_pause_doubling(const struct quote *bad)
{
    static const int64_t want_s[] = {30, 60, 120, 240, 480, 960, 1800, 1800};
    struct fetch_queue *q = mkq(8, 1000, 10, 10);
    addp(q, "yahoo", 1, 4);
    struct rec r[64] = {0};
    int nr = 0;
    char sym[16];
#define SUBMIT_NEW()                                                                               \
    do {                                                                                           \
        assert_true(nr < (int)ARRAY_LEN(r));                                                       \
        snprintf(sym, sizeof sym, "K%d", nr);                                                      \
        submit(q, "yahoo", sym, QPRIO_SCHEDULED, 0, &r[nr]);                                       \
        nr++;                                                                                      \
    } while (0)
    SUBMIT_NEW();
    run(q);
    assert_int_equal(F.nlive, 1);
    struct queue_provider_info info;
    for (size_t i = 0; i < ARRAY_LEN(want_s); i++) {
        int64_t t0 = F.now, until = t0 + want_s[i] * 1000;
        finish(q, 0, bad);
        run(q);
        assert_int_equal(queue_get_providers(q, &info, 1), 1);
        assert_int_equal(info.paused_until, until);
        int starts = F.starts;
        F.now = until - 1;
        SUBMIT_NEW();
        run(q);
        assert_int_equal(F.starts, starts);
        assert_int_equal(r[nr - 1].calls, bad->refused ? 1 : 0);
        if (bad->refused)
            assert_non_null(strstr(r[nr - 1].q.error, "(paused 1s)"));
        F.now = until;
        SUBMIT_NEW();
        SUBMIT_NEW();
        run(q);
        run(q);
        assert_int_equal(F.starts, starts + 1); /* one request per pause */
        assert_int_equal(F.nlive, 1);
    }
    /* a normal answer: the other waiting keys go together */
    struct quote ok = ok_q(1);
    finish(q, 0, &ok);
    SUBMIT_NEW();
    SUBMIT_NEW();
    run(q);
    assert_true(F.nlive >= 3);
    while (F.nlive > 1)
        finish(q, 0, &ok);
    int64_t t0 = F.now;
    finish(q, 0, bad);
    run(q);
    assert_int_equal(queue_get_providers(q, &info, 1), 1);
    assert_int_equal(info.paused_until, t0 + QUEUE_DEFAULT_PAUSE_MS);
    queue_cancel_all(q);
    run(q);
    for (int i = 0; i < nr; i++)
        assert_int_equal(r[i].calls, 1);
    queue_free(q);
#undef SUBMIT_NEW
}

static void test_pause_doubling(void **state)
{
    (void)state;
    struct quote limited = err_q(QUOTE_TRANSIENT, "yahoo: HTTP 429 (rate limited)");
    limited.http_status = 429;
    check_pause_doubling(&limited);
    struct quote no = refused_q();
    check_pause_doubling(&no);
}

/* A 429 with Retry-After pauses exactly that long, the second in a row
 * too: the provider's own word is not doubled. */
static void test_429_retry_after_exact(void **state)
{
    (void)state;
    struct fetch_queue *q = mkq(8, 10, 10, 10);
    addp(q, "yahoo", 1, 4);
    struct rec r = {0};
    submit(q, "yahoo", "AAPL", QPRIO_SCHEDULED, 0, &r);
    run(q);
    struct quote e = err_q(QUOTE_TRANSIENT, "yahoo: HTTP 429 (rate limited, Retry-After 7 s)");
    e.http_status = 429;
    e.retry_after_s = 7;
    for (int n = 0; n < 3; n++) {
        int64_t t0 = F.now;
        finish(q, 0, &e);
        struct queue_provider_info info;
        assert_int_equal(queue_get_providers(q, &info, 1), 1);
        assert_int_equal(info.paused_until, t0 + 7000);
        F.now = t0 + 6999;
        run(q);
        assert_int_equal(F.starts, n + 1);
        F.now = t0 + 7000;
        run(q);
        assert_int_equal(F.starts, n + 2);
    }
    assert_int_equal(counters(q).rate_limited, 3);
    struct quote ok = ok_q(1);
    finish(q, 0, &ok);
    run(q);
    assert_int_equal(r.calls, 1);
    assert_int_equal(r.q.kind, QUOTE_OK);
    queue_free(q);
}

/* ---- token bucket remainder ------------------------------------------ */

/* queue_run every millisecond of ten simulated minutes, each batch answered
 * at once: the burst at t = 0, then one batch per token, so rate * 10 +
 * burst batches in all (one fewer at most: a one-token bucket is full at
 * the millisecond its token comes, which drops the fraction of a
 * millisecond beyond); the k-th token comes no sooner than
 * k * 60000 / rate ms and at most a millisecond per token later; and
 * queue_next_event() names the very millisecond the next batch starts,
 * never one in the past. Without the carried remainder a 1 ms loop never
 * refilled a 7/min or 30/min bucket at all. */
static void test_token_bucket_1ms(void **state)
{
    (void)state;
    static const int rates[] = {7, 30, 300};
    for (size_t c = 0; c < ARRAY_LEN(rates); c++) {
        int rate = rates[c], burst = rate / 10 > 1 ? rate / 10 : 1;
        struct fetch_queue *q = mkq(MAX_LIVE, 0, 10, 10);
        addp(q, "yahoo", 1, MAX_LIVE);
        queue_set_rate_limit(q, 0, rate);
        struct rec r = {0};
        int nkeys = rate * 10 + burst + 20;
        char sym[16];
        for (int i = 0; i < nkeys; i++) {
            snprintf(sym, sizeof sym, "T%d", i);
            submit(q, "yahoo", sym, QPRIO_SCHEDULED, 0, &r);
        }
        struct quote ok = ok_q(1);
        int64_t predicted = -1, step = (60000 + rate - 1) / rate;
        for (F.now = 0; F.now <= 600000; F.now++) {
            int before = F.starts;
            run(q);
            int started = F.starts - before;
            if (F.now == 0) {
                assert_int_equal(started, burst);
            } else if (started) {
                int64_t k = F.starts - burst; /* the k-th token after the burst */
                assert_int_equal(started, 1);
                assert_int_equal(predicted, F.now);
                assert_true(F.now >= (k * 60000 + rate - 1) / rate);
                assert_true(F.now <= k * step);
            } else {
                assert_true(predicted != F.now); /* a wake-up for nothing */
            }
            while (F.nlive > 0)
                finish(q, 0, &ok);
            predicted = queue_next_event(q);
            assert_true(predicted > F.now);
        }
        assert_true(F.starts >= rate * 10 + burst - 1);
        assert_true(F.starts <= rate * 10 + burst);
        queue_cancel_all(q);
        run(q);
        assert_int_equal(r.calls, nkeys);
        queue_free(q);
    }
}

/* The wake-up for the next token counts the carried remainder: it is in
 * the future, run a millisecond earlier no batch starts (and the wake-up
 * stays), run then one does; tokens come at the rate, not slower. */
static void test_next_event_remainder(void **state)
{
    (void)state;
    static const int rates[] = {7, 30, 45, 110};
    for (size_t c = 0; c < ARRAY_LEN(rates); c++) {
        int rate = rates[c], burst = rate / 10 > 1 ? rate / 10 : 1;
        struct fetch_queue *q = mkq(16, 0, 10, 10);
        addp(q, "yahoo", 1, 16);
        queue_set_rate_limit(q, 0, rate);
        struct rec r = {0};
        char sym[16];
        for (int i = 0; i < burst + 25; i++) {
            snprintf(sym, sizeof sym, "N%d", i);
            submit(q, "yahoo", sym, QPRIO_SCHEDULED, 0, &r);
        }
        struct quote ok = ok_q(1);
        run(q);
        assert_int_equal(F.starts, burst);
        int64_t step = (60000 + rate - 1) / rate;
        for (int64_t k = 1; k <= 25; k++) {
            while (F.nlive > 0)
                finish(q, 0, &ok);
            int64_t next = queue_next_event(q);
            assert_true(next > F.now);
            assert_true(next >= (k * 60000 + rate - 1) / rate);
            assert_true(next <= k * step);
            F.now = next - 1;
            run(q);
            assert_int_equal(F.starts, burst + k - 1);
            assert_int_equal(queue_next_event(q), next);
            F.now = next;
            run(q);
            assert_int_equal(F.starts, burst + k);
        }
        while (F.nlive > 0)
            finish(q, 0, &ok);
        run(q);
        assert_int_equal(queue_next_event(q), -1); /* nothing waits: no wake-up */
        queue_free(q);
    }
}

/* Two requests of one burst both refused are one refusal: the pause is
 * the first step's, not doubled by the batch that was already on its way. */
static void test_refusal_burst_one_step(void **state)
{
    (void)state;
    struct fetch_queue *q = mkq(4, 0, 100, 1000);
    addp(q, "yahoo", 1, 2);
    struct rec a = {0}, b = {0};
    submit(q, "yahoo", "AAPL", QPRIO_SCHEDULED, 0, &a);
    submit(q, "yahoo", "MSFT", QPRIO_SCHEDULED, 0, &b);
    run(q);
    assert_int_equal(F.nlive, 2);
    struct quote e = err_q(QUOTE_PERMANENT, "answered an HTML page, not data");
    e.refused = 1;
    finish_sym(q, "AAPL", &e);
    finish_sym(q, "MSFT", &e);
    struct queue_provider_info info[1];
    queue_get_providers(q, info, 1);
    assert_int_equal(info[0].paused_until - F.now, QUEUE_DEFAULT_PAUSE_MS);
    /* the next refusal, of a request sent after the pause began, doubles */
    F.now += QUEUE_DEFAULT_PAUSE_MS;
    struct rec c = {0};
    submit(q, "yahoo", "NVDA", QPRIO_SCHEDULED, 0, &c);
    run(q);
    finish_sym(q, "NVDA", &e);
    queue_get_providers(q, info, 1);
    assert_int_equal(info[0].paused_until - F.now, 2 * QUEUE_DEFAULT_PAUSE_MS);
    run(q);
    queue_free(q);
}

/* ---- failover (queue_submit_chain) ------------------------------------ */

static void submit_chain(struct fetch_queue *q, const char *p1, const char *s1, const char *p2,
                         const char *s2, int64_t ttl, struct rec *r)
{
    const char *pv[2] = {p1, p2}, *sv[2] = {s1, s2};
    in_api = 1;
    int rc = queue_submit_chain(q, pv, sv, 2, QPRIO_SCHEDULED, ttl, cb_rec, r);
    in_api = 0;
    assert_int_equal(rc, 0);
}

static int hist_count(const char *prefix)
{
    int n = 0;
    for (size_t i = 0; i < F.nhist; i++)
        n += strncmp(F.hist[i], prefix, strlen(prefix)) == 0;
    return n;
}

/* A symbol the first source refuses moves, in the same queue_run, to the
 * next source's entry, where it dedups with a plain waiter of that key:
 * one request, both answered, the answer naming its source and the chain
 * waiter saying why the first did not answer. */
static void test_failover_permanent(void **state)
{
    (void)state;
    struct fetch_queue *q = mkq(4, 3, 100, 1000);
    addp(q, "yahoo", 10, 2);
    addp(q, "td", 8, 2);
    struct rec a = {0}, plain = {0};
    submit_chain(q, "yahoo", "AAPL", "td", "AAPL", 0, &a);
    run(q);
    assert_int_equal(F.nlive, 1);
    submit(q, "td", "AAPL", QPRIO_SCHEDULED, 0, &plain);
    struct quote nf = err_q(QUOTE_PERMANENT, "symbol AAPL not found (HTTP 404)");
    finish_sym(q, "AAPL", &nf);
    run(q);
    assert_int_equal(a.calls, 0); /* not told: it moved on */
    assert_int_equal(F.nlive, 1);
    assert_string_equal(F.live[0].provider, "td");
    assert_int_equal(F.live[0].n, 1); /* the two waiters, one key */
    struct quote ok = ok_q(189.5);
    finish_sym(q, "AAPL", &ok);
    run(q);
    assert_int_equal(a.calls, 1);
    assert_int_equal(plain.calls, 1);
    assert_int_equal(a.q.kind, QUOTE_OK);
    assert_string_equal(a.q.source, "td");
    assert_string_equal(a.q.failover_reason, "yahoo: symbol AAPL not found (HTTP 404)");
    assert_string_equal(plain.q.source, "td");
    assert_string_equal(plain.q.failover_reason, "");
    assert_int_equal(counters(q).failovers, 1);
    struct queue_provider_info info[2];
    assert_int_equal(queue_get_providers(q, info, 2), 2);
    assert_int_equal(info[0].failovers_out, 1);
    assert_int_equal(info[1].failovers_in, 1);
    /* without a failure nothing moves: the first source answers */
    struct rec b = {0};
    submit_chain(q, "yahoo", "MSFT", "td", "MSFT", 0, &b);
    run(q);
    ok = ok_q(400);
    finish_sym(q, "MSFT", &ok);
    run(q);
    assert_string_equal(b.q.source, "yahoo");
    assert_string_equal(b.q.failover_reason, "");
    assert_int_equal(hist_count("td:"), 1);
    queue_free(q);
}

/* Every source failing: the last one's error, the first one's reason; a
 * transient failure moves on only after its retries. */
static void test_failover_exhausted(void **state)
{
    (void)state;
    struct fetch_queue *q = mkq(4, 1, 100, 100);
    addp(q, "yahoo", 10, 2);
    addp(q, "td", 8, 2);
    struct rec a = {0};
    submit_chain(q, "yahoo", "AAPL", "td", "AAPL", 0, &a);
    run(q);
    struct quote e503 = err_q(QUOTE_TRANSIENT, "HTTP 503 from yahoo");
    finish_sym(q, "AAPL", &e503);
    run(q);
    assert_int_equal(F.nlive, 0); /* a retry first, not the next source */
    F.now += 1000;
    run(q);
    assert_string_equal(F.live[0].provider, "yahoo");
    /* answered, but with a per-symbol verdict: the provider is not down */
    struct quote bad = err_q(QUOTE_PERMANENT, "answer has no price for AAPL");
    finish_sym(q, "AAPL", &bad);
    run(q);
    assert_string_equal(F.live[0].provider, "td");
    struct quote nf = err_q(QUOTE_PERMANENT, "Twelve Data: symbol not found");
    finish_sym(q, "AAPL", &nf);
    run(q);
    assert_int_equal(a.calls, 1);
    assert_int_equal(a.q.kind, QUOTE_PERMANENT);
    assert_string_equal(a.q.error, "Twelve Data: symbol not found");
    assert_string_equal(a.q.source, "td");
    assert_string_equal(a.q.failover_reason, "yahoo: answer has no price for AAPL");
    queue_free(q);
}

/* A provider that fails as a whole twice in a row is down: its chain
 * waiters leave at once (no more retries), new ones go straight to the
 * next source, and one key per probe interval is its probe; when the probe
 * answers, its keys come back to it. */
static void test_failover_down_probe(void **state)
{
    (void)state;
    struct fetch_queue *q = mkq(8, 3, 100, 100);
    addp(q, "yahoo", 10, 2);
    addp(q, "td", 8, 2);
    static const char *const syms[] = {"AAPL", "MSFT", "NVDA"};
    struct rec r[3] = {0};
    for (int i = 0; i < 3; i++)
        submit_chain(q, "yahoo", syms[i], "td", syms[i], 0, &r[i]);
    run(q);
    struct quote conn = err_q(QUOTE_CONNECTION, "cannot connect to yahoo");
    finish_sym(q, "AAPL", &conn);
    run(q);
    F.now += 1000;
    run(q);
    assert_int_equal(hist_count("yahoo:"), 2); /* the retry */
    finish_sym(q, "AAPL", &conn);
    run(q);
    /* down: all three on the next source, in one batch, without the two
     * retries that were left */
    assert_int_equal(F.nlive, 1);
    assert_string_equal(F.hist[F.nhist - 1], "td:AAPL,MSFT,NVDA");
    struct queue_provider_info info[2];
    queue_get_providers(q, info, 2);
    assert_int_equal(info[0].down, 1);
    struct quote ok = ok_q(10);
    finish_sym(q, "AAPL", &ok);
    run(q);
    for (int i = 0; i < 3; i++) {
        assert_int_equal(r[i].calls, 1);
        assert_string_equal(r[i].q.source, "td");
        assert_string_equal(r[i].q.failover_reason, "yahoo: down (cannot connect to yahoo)");
    }
    /* the next cycle, before the probe is due: no request to yahoo at all */
    memset(r, 0, sizeof r);
    F.now += 2000;
    for (int i = 0; i < 3; i++)
        submit_chain(q, "yahoo", syms[i], "td", syms[i], 0, &r[i]);
    run(q);
    assert_int_equal(hist_count("yahoo:"), 2);
    assert_string_equal(F.hist[F.nhist - 1], "td:AAPL,MSFT,NVDA");
    finish_sym(q, "AAPL", &ok);
    run(q);
    assert_string_equal(r[2].q.failover_reason, "yahoo: down (cannot connect to yahoo)");
    /* a probe interval later: one key is the probe, the others go on */
    memset(r, 0, sizeof r);
    F.now += QUEUE_PROBE_MS;
    for (int i = 0; i < 3; i++)
        submit_chain(q, "yahoo", syms[i], "td", syms[i], 0, &r[i]);
    run(q);
    assert_int_equal(hist_count("yahoo:"), 3);
    assert_int_equal(F.nlive, 2);
    size_t y = strcmp(F.live[0].provider, "yahoo") == 0 ? 0 : 1;
    assert_int_equal(F.live[y].n, 1);
    assert_int_equal(F.live[1 - y].n, 2);
    char probed[32];
    snprintf(probed, sizeof probed, "%s", F.live[y].sym[0]);
    finish(q, 1 - y, &ok);
    finish(q, 0, &ok); /* the probe answers */
    run(q);
    queue_get_providers(q, info, 2);
    assert_int_equal(info[0].down, 0);
    /* the probe's answer says so (the cycle cross-checks it); the others'
     * do not */
    for (int i = 0; i < 3; i++) {
        assert_int_equal(r[i].calls, 1);
        assert_int_equal(r[i].q.probe, strcmp(syms[i], probed) == 0);
        assert_string_equal(r[i].q.source, strcmp(syms[i], probed) == 0 ? "yahoo" : "td");
    }
    /* back to the first source */
    memset(r, 0, sizeof r);
    F.now += 2000;
    for (int i = 0; i < 3; i++)
        submit_chain(q, "yahoo", syms[i], "td", syms[i], 0, &r[i]);
    run(q);
    assert_string_equal(F.hist[F.nhist - 1], "yahoo:AAPL,MSFT,NVDA");
    queue_free(q);
}

/* An accept function that takes USD answers only, and counts its calls. */
static int accept_calls;
static int accept_usd(const struct quote *qt, void *cls, char *why, size_t whylen)
{
    assert_false(in_api);
    assert_non_null(cls);
    accept_calls++;
    if (strcmp(qt->currency, "USD") == 0)
        return 1;
    snprintf(why, whylen, "currency mismatch: answer in %s, asset is priced in USD", qt->currency);
    return 0;
}

static void submit_chain_usd(struct fetch_queue *q, const char *const *pv, const char *const *sv,
                             size_t n, int64_t ttl, struct rec *r)
{
    in_api = 1;
    int rc = queue_submit_chain_accept(q, pv, sv, n, QPRIO_SCHEDULED, ttl, accept_usd, cb_rec, r);
    in_api = 0;
    assert_int_equal(rc, 0);
}

/* A successful answer the waiter refuses (a wrong currency) is a miss of
 * that source: the chain waiter moves on with the reason, a plain waiter
 * of the same key takes it as it is, the move is counted from → to, and a
 * refused answer of the last source is delivered as it is. */
static void test_failover_accept(void **state)
{
    (void)state;
    struct fetch_queue *q = mkq(4, 0, 100, 100);
    addp(q, "yahoo", 10, 2);
    addp(q, "td", 8, 2);
    addp(q, "cb", 1, 2);
    const char *pv[3] = {"yahoo", "td", "cb"}, *sv[3] = {"AAPL", "AAPL", "AAPL-USD"};
    struct rec a = {0}, plain = {0};
    accept_calls = 0;
    submit_chain_usd(q, pv, sv, 3, 60000, &a);
    submit(q, "yahoo", "AAPL", QPRIO_SCHEDULED, 0, &plain);
    run(q);
    struct quote eur = ok_q(170);
    snprintf(eur.currency, sizeof eur.currency, "EUR");
    finish_sym(q, "AAPL", &eur);
    run(q);
    assert_int_equal(plain.calls, 1);
    assert_string_equal(plain.q.currency, "EUR");
    assert_int_equal(a.calls, 0); /* refused: it moved on */
    assert_string_equal(F.live[0].provider, "td");
    struct quote usd = ok_q(189.5);
    finish_sym(q, "AAPL", &usd);
    run(q);
    assert_int_equal(a.calls, 1);
    assert_int_equal(a.q.kind, QUOTE_OK);
    assert_string_equal(a.q.source, "td");
    assert_string_equal(a.q.currency, "USD");
    assert_string_equal(a.q.failover_reason,
                        "yahoo: currency mismatch: answer in EUR, asset is priced in USD");
    assert_int_equal(accept_calls, 2);
    struct queue_provider_info info[3];
    assert_int_equal(queue_get_providers(q, info, 3), 3);
    assert_int_equal(info[0].failovers_out, 1);
    assert_int_equal(info[0].failovers_to[1], 1);
    assert_int_equal(info[0].failovers_to[2], 0);
    assert_int_equal(info[1].failovers_in, 1);
    assert_int_equal(counters(q).failovers, 1);
    /* within the TTL both answers come from the cache, the refusal too:
     * no request at all */
    int starts = F.starts;
    struct rec b = {0};
    submit_chain_usd(q, pv, sv, 3, 60000, &b);
    run(q);
    assert_int_equal(F.starts, starts);
    assert_int_equal(b.calls, 1);
    assert_string_equal(b.q.source, "td");
    uint64_t moved = info[0].failovers_to[1];
    queue_get_providers(q, info, 3);
    assert_int_equal(info[0].failovers_to[1], moved + 1); /* the cached refusal moved it too */
    /* every source in the wrong currency: the last one's answer as it is,
     * with the first one's reason */
    struct rec c = {0};
    const char *sv2[3] = {"MSFT", "MSFT", "MSFT-USD"};
    submit_chain_usd(q, pv, sv2, 3, 0, &c);
    run(q);
    finish_sym(q, "MSFT", &eur);
    run(q);
    finish_sym(q, "MSFT", &eur);
    run(q);
    finish_sym(q, "MSFT-USD", &eur);
    run(q);
    assert_int_equal(c.calls, 1);
    assert_int_equal(c.q.kind, QUOTE_OK);
    assert_string_equal(c.q.currency, "EUR");
    assert_string_equal(c.q.source, "cb");
    assert_string_equal(c.q.failover_reason,
                        "yahoo: currency mismatch: answer in EUR, asset is priced in USD");
    queue_free(q);
}

/* Background work (the cross-check's extra asks) goes after everything
 * the schedule asked for, whatever the order of submission. */
static void test_priority_background(void **state)
{
    (void)state;
    struct fetch_queue *q = mkq(1, 0, 100, 100);
    addp(q, "kraken", 1, 1);
    struct rec r[3] = {0};
    submit(q, "kraken", "BG", QPRIO_BACKGROUND, 0, &r[0]);
    submit(q, "kraken", "S1", QPRIO_SCHEDULED, 0, &r[1]);
    submit(q, "kraken", "S2", QPRIO_SCHEDULED, 0, &r[2]);
    run(q);
    struct quote ok = ok_q(1);
    for (int i = 0; i < 3; i++) {
        assert_int_equal(F.nlive, 1);
        finish(q, 0, &ok);
        run(q);
    }
    assert_string_equal(F.hist[0], "kraken:S1");
    assert_string_equal(F.hist[1], "kraken:S2");
    assert_string_equal(F.hist[2], "kraken:BG");
    queue_free(q);
}

/* A 429 pauses the provider: chain waiters move on at once instead of
 * waiting out Retry-After; a waiter without alternatives still waits. */
static void test_failover_paused(void **state)
{
    (void)state;
    struct fetch_queue *q = mkq(4, 3, 100, 1000);
    addp(q, "yahoo", 10, 2);
    addp(q, "td", 8, 2);
    struct rec a = {0}, plain = {0}, late = {0};
    submit_chain(q, "yahoo", "AAPL", "td", "AAPL", 0, &a);
    submit(q, "yahoo", "MSFT", QPRIO_SCHEDULED, 0, &plain);
    run(q);
    struct quote e = err_q(QUOTE_TRANSIENT, "HTTP 429 from yahoo");
    e.http_status = 429;
    e.retry_after_s = 60;
    finish_sym(q, "AAPL", &e);
    run(q);
    assert_int_equal(F.nlive, 1);
    assert_string_equal(F.live[0].provider, "td");
    submit_chain(q, "yahoo", "NVDA", "td", "NVDA", 0, &late);
    run(q);
    struct quote ok = ok_q(5);
    finish_sym(q, "AAPL", &ok);
    run(q);
    assert_string_equal(F.hist[F.nhist - 1], "td:NVDA");
    finish_sym(q, "NVDA", &ok);
    run(q);
    assert_string_equal(a.q.source, "td");
    assert_string_equal(late.q.failover_reason, "yahoo: paused after HTTP 429");
    assert_int_equal(plain.calls, 0); /* waits for the pause to end */
    F.now += 61000;
    run(q);
    assert_string_equal(F.hist[F.nhist - 1], "yahoo:MSFT");
    finish_sym(q, "MSFT", &ok);
    run(q);
    assert_int_equal(plain.calls, 1);
    queue_free(q);
}

/* The next source's cache answers a failover as it answers a submit. */
static void test_failover_cache(void **state)
{
    (void)state;
    struct fetch_queue *q = mkq(4, 0, 100, 1000);
    addp(q, "yahoo", 10, 2);
    addp(q, "td", 8, 2);
    struct rec warm = {0}, a = {0};
    submit(q, "td", "AAPL", QPRIO_SCHEDULED, 0, &warm);
    run(q);
    struct quote ok = ok_q(7);
    finish_sym(q, "AAPL", &ok);
    run(q);
    submit_chain(q, "yahoo", "AAPL", "td", "AAPL", 5000, &a);
    run(q);
    struct quote nf = err_q(QUOTE_PERMANENT, "not found");
    finish_sym(q, "AAPL", &nf);
    run(q);
    assert_int_equal(F.nlive, 0);
    assert_int_equal(a.calls, 1);
    assert_true(a.q.price == 7);
    assert_string_equal(a.q.source, "td");
    assert_string_equal(a.q.failover_reason, "yahoo: not found");
    assert_int_equal(counters(q).cache_hits, 1);
    /* a chain naming an unknown provider is refused whole */
    const char *pv[2] = {"yahoo", "nosuch"}, *sv[2] = {"A", "A"};
    assert_int_equal(queue_submit_chain(q, pv, sv, 2, 0, 0, cb_rec, &a), -1);
    queue_free(q);
}

/* ---- history (backfill) requests ------------------------------------- */

static void submit_history(struct fetch_queue *q, const char *prov, const char *sym, struct rec *r)
{
    in_api = 1;
    int rc = queue_submit_history(q, prov, sym, cb_rec, r);
    in_api = 0;
    assert_int_equal(rc, 0);
}

/* A history request is its own key (never merged with the price key of
 * the same symbol), one symbol per request, of kind QREQ_HISTORY. */
static void test_history_is_its_own_key(void **state)
{
    (void)state;
    struct fetch_queue *q = mkq(8, 0, 100, 1000);
    addp(q, "yahoo", 20, 4);
    struct rec price = {0}, hist[2] = {0};
    submit(q, "yahoo", "AAPL", QPRIO_SCHEDULED, 0, &price);
    submit_history(q, "yahoo", "AAPL", &hist[0]);
    submit_history(q, "yahoo", "AAPL", &hist[1]); /* deduplicated with the first */
    run(q);
    assert_int_equal(F.nlive, 1); /* the price batch; history waits for an idle provider */
    assert_int_equal(queue_batch_kind(F.live[0].b), QREQ_BATCH);
    struct quote ok = ok_q(10);
    finish(q, 0, &ok);
    run(q);
    assert_int_equal(price.calls, 1);
    assert_int_equal(hist[0].calls, 0);
    assert_int_equal(F.nlive, 1);
    assert_int_equal(queue_batch_kind(F.live[0].b), QREQ_HISTORY);
    assert_int_equal(F.live[0].n, 1);
    assert_string_equal(F.live[0].sym[0], "AAPL");
    struct quote h = ok_q(9);
    finish(q, 0, &h);
    run(q);
    assert_int_equal(hist[0].calls, 1);
    assert_int_equal(hist[1].calls, 1);
    assert_true(hist[0].q.price == 9);
    assert_int_equal(counters(q).upstream_requests, 2);
    queue_free(q);
}

/* Backfill only fills the gaps: while its provider has scheduled work in
 * flight or waiting, no history request starts, and scheduled work that
 * comes while one is in flight starts at once beside it. */
static void test_history_never_delays_scheduled_work(void **state)
{
    (void)state;
    struct fetch_queue *q = mkq(8, 0, 100, 1000);
    addp(q, "yahoo", 2, 4);
    struct rec s[4] = {0}, h[3] = {0};
    submit_history(q, "yahoo", "H1", &h[0]);
    submit_history(q, "yahoo", "H2", &h[1]);
    submit(q, "yahoo", "S1", QPRIO_SCHEDULED, 0, &s[0]);
    submit(q, "yahoo", "S2", QPRIO_SCHEDULED, 0, &s[1]);
    submit(q, "yahoo", "S3", QPRIO_SCHEDULED, 0, &s[2]);
    run(q);
    /* both scheduled batches, no history beside them */
    assert_int_equal(F.nlive, 2);
    for (size_t i = 0; i < F.nlive; i++)
        assert_int_equal(queue_batch_kind(F.live[i].b), QREQ_BATCH);
    struct quote ok = ok_q(1);
    finish_sym(q, "S1", &ok);
    run(q);
    assert_int_equal(F.nlive, 1); /* S3's batch still out: no history yet */
    finish_sym(q, "S3", &ok);
    run(q);
    assert_int_equal(F.nlive, 1); /* idle now: one history request, only one */
    assert_int_equal(queue_batch_kind(F.live[0].b), QREQ_HISTORY);
    submit(q, "yahoo", "S4", QPRIO_SCHEDULED, 0, &s[3]);
    run(q);
    assert_int_equal(F.nlive, 2); /* the scheduled key did not wait for it */
    assert_int_equal(queue_batch_kind(F.live[1].b), QREQ_BATCH);
    finish_sym(q, "S4", &ok);
    finish_sym(q, "H1", &ok);
    run(q);
    finish_sym(q, "H2", &ok);
    run(q);
    for (int i = 0; i < 4; i++)
        assert_int_equal(s[i].calls, 1);
    assert_int_equal(h[0].calls + h[1].calls, 2);
    queue_free(q);
}

/* A rate-limited provider gets a history request only with a full bucket,
 * and never with the queue's last free slot. */
static void test_history_waits_for_a_full_bucket(void **state)
{
    (void)state;
    struct fetch_queue *q = mkq(2, 0, 100, 1000);
    addp(q, "coingecko", 100, 2);
    addp(q, "yahoo", 20, 2);
    queue_set_rate_limit(q, 0, 60); /* burst 6, one token a second */
    struct rec s = {0}, h = {0}, y = {0};
    submit(q, "coingecko", "bitcoin", QPRIO_SCHEDULED, 0, &s);
    run(q);
    struct quote ok = ok_q(1);
    finish_sym(q, "bitcoin", &ok);
    submit_history(q, "coingecko", "ethereum", &h);
    run(q);
    assert_int_equal(F.nlive, 0); /* 5 of 6 tokens: not full */
    assert_true(queue_next_event(q) > F.now);
    F.now = queue_next_event(q);
    /* the queue's second slot is taken: history would take its last one */
    submit(q, "yahoo", "AAPL", QPRIO_SCHEDULED, 0, &y);
    run(q);
    assert_int_equal(F.nlive, 1);
    assert_string_equal(F.live[0].provider, "yahoo");
    finish_sym(q, "AAPL", &ok);
    run(q);
    assert_int_equal(F.nlive, 1);
    assert_int_equal(queue_batch_kind(F.live[0].b), QREQ_HISTORY);
    finish_sym(q, "ethereum", &ok);
    run(q);
    assert_int_equal(h.calls, 1);
    queue_free(q);
}

/* ---- what /metrics counts: outcomes, latency buckets, failovers ------- */

/* One outcome per finished request, by the provider's verdict first (a
 * refusal, a 429), then whether it answered at all; their sum is the
 * provider's requests. */
static void test_outcomes(void **state)
{
    (void)state;
    struct fetch_queue *q = mkq(1, 0, 10, 10);
    addp(q, "yahoo", 1, 1);
    struct quote ok = ok_q(1), nf = err_q(QUOTE_PERMANENT, "symbol not found");
    struct quote e503 = err_q(QUOTE_TRANSIENT, "HTTP 503"),
                 conn = err_q(QUOTE_CONNECTION, "refused");
    struct quote r429 = err_q(QUOTE_TRANSIENT, "HTTP 429"), refused = err_q(QUOTE_PERMANENT, "403");
    struct quote cancel = err_q(QUOTE_CANCELLED, "bye");
    r429.http_status = 429;
    refused.refused = 1;
    refused.http_status = 403;
    const struct quote *answers[] = {&ok, &nf, &e503, &conn, &r429, &refused, &cancel};
    const enum queue_outcome want[] = {QOUT_OK,         QOUT_OK,           QOUT_ERROR,
                                       QOUT_CONNECTION, QOUT_RATE_LIMITED, QOUT_REFUSED,
                                       QOUT_CANCELLED};
    struct rec r[7] = {{0}};
    for (size_t i = 0; i < 7; i++) {
        char sym[8];
        snprintf(sym, sizeof sym, "S%zu", i);
        F.now += 10 * 60 * 1000; /* past any pause the one before began */
        submit(q, "yahoo", sym, QPRIO_SCHEDULED, 0, &r[i]);
        run(q);
        assert_int_equal(F.nlive, 1);
        queue_batch_note_latency(F.live[0].b, 30.0 * (double)(i + 1));
        finish(q, 0, answers[i]);
        run(q);
        struct queue_provider_info info;
        assert_int_equal(queue_get_providers(q, &info, 1), 1);
        uint64_t sum = 0;
        for (size_t k = 0; k < QUEUE_OUTCOMES; k++)
            sum += info.outcomes[k];
        assert_int_equal(sum, info.requests);
        assert_int_equal(info.outcomes[want[i]],
                         1 + (i == 1)); /* ok twice: a verdict is an answer */
    }
    /* latencies 30, 60 … 210 ms: the 25 ms bucket is empty, 50 has one,
     * 100 two (60, 90), 250 the other four; their sum */
    struct queue_provider_info info;
    assert_int_equal(queue_get_providers(q, &info, 1), 1);
    assert_int_equal(info.latency_buckets[0], 0);
    assert_int_equal(info.latency_buckets[1], 1);
    assert_int_equal(info.latency_buckets[2], 2);
    assert_int_equal(info.latency_buckets[3], 4);
    assert_int_equal(info.latency_buckets[QUEUE_LATENCY_BUCKETS], 0);
    assert_float_equal(info.latency_sum_ms, 30.0 * 28, 1e-9);
    queue_free(q);
}

/* A latency past the last bound lands in the last bucket. */
static void test_latency_overflow_bucket(void **state)
{
    (void)state;
    struct fetch_queue *q = mkq(1, 0, 10, 10);
    addp(q, "yahoo", 1, 1);
    struct rec r = {0};
    submit(q, "yahoo", "SLOW", QPRIO_SCHEDULED, 0, &r);
    run(q);
    queue_batch_note_latency(F.live[0].b, queue_latency_bounds_ms[QUEUE_LATENCY_BUCKETS - 1] + 1.0);
    struct quote ok = ok_q(1);
    finish(q, 0, &ok);
    run(q);
    struct queue_provider_info info;
    assert_int_equal(queue_get_providers(q, &info, 1), 1);
    assert_int_equal(info.latency_buckets[QUEUE_LATENCY_BUCKETS], 1);
    for (size_t b = 1; b < QUEUE_LATENCY_BUCKETS; b++)
        assert_true(queue_latency_bounds_ms[b] > queue_latency_bounds_ms[b - 1]);
    queue_free(q);
}

/* failovers_to says where each waiter went: yahoo → td for one key, and a
 * three-source chain yahoo → td → cb counts each hop once. */
static void test_failovers_to(void **state)
{
    (void)state;
    struct fetch_queue *q = mkq(4, 0, 100, 1000);
    addp(q, "yahoo", 10, 2);
    addp(q, "td", 8, 2);
    addp(q, "cb", 1, 2);
    struct rec a = {0}, b = {0};
    submit_chain(q, "yahoo", "AAPL", "td", "AAPL", 0, &a);
    const char *provs[] = {"yahoo", "td", "cb"}, *syms[] = {"BTC", "BTC", "BTC"};
    in_api = 1;
    assert_int_equal(queue_submit_chain(q, provs, syms, 3, QPRIO_SCHEDULED, 0, cb_rec, &b), 0);
    in_api = 0;
    run(q);
    struct quote nf = err_q(QUOTE_PERMANENT, "not found");
    finish_sym(q, "AAPL", &nf); /* both keys were in one yahoo batch */
    run(q);
    /* td's batch holds both: AAPL answers, BTC is not found */
    struct quote ok = ok_q(2);
    size_t i = live_find("BTC");
    struct queue_batch *tb = F.live[i].b;
    size_t n = F.live[i].n;
    char syms_td[MAX_BATCH][32];
    memcpy(syms_td, F.live[i].sym, sizeof syms_td);
    live_remove(i);
    for (size_t k = 0; k < n; k++)
        queue_batch_set(tb, k, strcmp(syms_td[k], "BTC") == 0 ? &nf : &ok);
    in_api = 1;
    queue_batch_done(q, tb);
    in_api = 0;
    run(q);
    while (F.nlive > 0) {
        finish(q, 0, &ok);
        run(q);
    }
    assert_string_equal(a.q.source, "td");
    assert_string_equal(b.q.source, "cb");
    struct queue_provider_info info[3];
    assert_int_equal(queue_get_providers(q, info, 3), 3);
    assert_int_equal(info[0].failovers_to[1], 2); /* yahoo → td: AAPL and BTC */
    assert_int_equal(info[0].failovers_to[2], 0);
    assert_int_equal(info[1].failovers_to[2], 1); /* td → cb: BTC */
    assert_int_equal(info[0].failovers_out, 2);
    assert_int_equal(info[1].failovers_out, 1);
    assert_int_equal(info[2].failovers_in, 1);
    queue_free(q);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_coalesce),
        cmocka_unit_test(test_outcomes),
        cmocka_unit_test(test_latency_overflow_bucket),
        cmocka_unit_test(test_failovers_to),
        cmocka_unit_test(test_same_error),
        cmocka_unit_test(test_priority_order),
        cmocka_unit_test(test_priority_across_providers),
        cmocka_unit_test(test_priority_raise),
        cmocka_unit_test(test_priority_clamped),
        cmocka_unit_test(test_concurrency_total),
        cmocka_unit_test(test_concurrency_per_provider),
        cmocka_unit_test(test_start_failure),
        cmocka_unit_test(test_batching),
        cmocka_unit_test(test_batching_priority),
        cmocka_unit_test(test_cache),
        cmocka_unit_test(test_retries_transient),
        cmocka_unit_test(test_retry_then_success),
        cmocka_unit_test(test_retry_after_floor),
        cmocka_unit_test(test_no_retry),
        cmocka_unit_test(test_cancel_all),
        cmocka_unit_test(test_callback_submits),
        cmocka_unit_test(test_refusals),
        cmocka_unit_test(test_free_with_work),
        cmocka_unit_test(test_many_keys),
        cmocka_unit_test(test_random),
        cmocka_unit_test(test_random_chains),
        cmocka_unit_test(test_rate_limit),
        cmocka_unit_test(test_429_pauses_provider),
        cmocka_unit_test(test_offline),
        cmocka_unit_test(test_not_offline_when_one_answers),
        cmocka_unit_test(test_offline_despite_one_asked_long_ago),
        cmocka_unit_test(test_not_offline_when_one_asked_of_late),
        cmocka_unit_test(test_online_forgives_the_outage),
        cmocka_unit_test(test_latency),
        cmocka_unit_test(test_defer_single),
        cmocka_unit_test(test_defer_single_pause),
        cmocka_unit_test(test_defer_same),
        cmocka_unit_test(test_defer_then_set),
        cmocka_unit_test(test_provider_recent_errors),
        cmocka_unit_test(test_refusal_fails_waiting),
        cmocka_unit_test(test_events),
        cmocka_unit_test(test_refusal_not_undone_by_earlier_batch),
        cmocka_unit_test(test_defer_same_not_offline),
        cmocka_unit_test(test_pause_doubling),
        cmocka_unit_test(test_429_retry_after_exact),
        cmocka_unit_test(test_token_bucket_1ms),
        cmocka_unit_test(test_next_event_remainder),
        cmocka_unit_test(test_refusal_burst_one_step),
        cmocka_unit_test(test_failover_permanent),
        cmocka_unit_test(test_failover_exhausted),
        cmocka_unit_test(test_failover_down_probe),
        cmocka_unit_test(test_failover_paused),
        cmocka_unit_test(test_failover_accept),
        cmocka_unit_test(test_priority_background),
        cmocka_unit_test(test_failover_cache),
        cmocka_unit_test(test_history_is_its_own_key),
        cmocka_unit_test(test_history_never_delays_scheduled_work),
        cmocka_unit_test(test_history_waits_for_a_full_bucket),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
