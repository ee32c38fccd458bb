/*
 * queue_bench — the fetch queue alone: one million submits over 100,000
 * keys (so every key is asked for ten times: coalescing and cache hits on
 * the hot path), with a transport that answers every batch at once. Prints
 * ops/s as "bench queue_submit_ops <n> ops/s". Not a test: a figure.
 */
#include "queue.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define KEYS 100000
#define SUBMITS 1000000

static struct fetch_queue *q;
static struct queue_batch *pending[64];
static int npending;
static uint64_t delivered;
static int64_t fake_now;

static int start(void *ctx, struct queue_batch *b)
{
    (void)ctx;
    pending[npending++] = b;
    return 0;
}

static int64_t now(void *ctx)
{
    (void)ctx;
    return fake_now;
}

static void on_quote(const struct quote *r, void *cls)
{
    (void)r;
    (void)cls;
    delivered++;
}

static double secs(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void answer_all(void)
{
    struct quote ok = {.kind = QUOTE_OK, .price = 1.0, .price_time = 1};
    memcpy(ok.currency, "USD", 4);
    while (npending > 0) {
        struct queue_batch *b = pending[--npending];
        queue_batch_set_all(b, &ok);
        queue_batch_done(q, b);
    }
}

int main(void)
{
    struct queue_transport t = {.start = start, .now = now};
    struct queue_limits lim = {
        .concurrency = 8, .max_retries = 3, .backoff_ms = 500, .backoff_max_ms = 30000};
    q = queue_new(&t, &lim);
    if (q == NULL || queue_add_provider(q, "yahoo", 20, 8) < 0 ||
        queue_add_provider(q, "coingecko", 100, 4) < 0)
        return 1;
    char(*keys)[16] = malloc((size_t)KEYS * sizeof *keys);
    if (keys == NULL)
        return 1;
    for (int i = 0; i < KEYS; i++)
        snprintf(keys[i], sizeof keys[i], "S%06d", i);
    srand(42);
    double t0 = secs();
    for (int i = 0; i < SUBMITS; i++) {
        int k = rand() % KEYS;
        const char *prov = (k % 5 == 0) ? "coingecko" : "yahoo";
        if (queue_submit(q, prov, keys[k], i % 3, 60000, on_quote, NULL) != 0)
            return 1;
        /* the loop's rhythm: every 64 submits, one before-sleep step */
        if (i % 64 == 63) {
            queue_run(q, fake_now);
            answer_all();
            fake_now++;
        }
    }
    while (queue_outstanding(q) > 0) {
        queue_run(q, fake_now);
        answer_all();
    }
    queue_run(q, fake_now);
    double dt = secs() - t0;
    struct queue_counters c;
    queue_get_counters(q, &c);
    printf("queue micro-benchmark: %d submits over %d keys in %.3f s\n", SUBMITS, KEYS, dt);
    printf("  upstream batches %llu, keys requested %llu, deduplicated %llu, cache hits %llu\n",
           (unsigned long long)c.upstream_requests, (unsigned long long)c.keys_requested,
           (unsigned long long)c.deduplicated, (unsigned long long)c.cache_hits);
    printf("bench queue_submit_ops %.0f ops/s\n", SUBMITS / dt);
    printf("bench queue_delivered %llu count\n", (unsigned long long)delivered);
    queue_free(q);
    free(keys);
    return delivered == SUBMITS ? 0 : 1;
}
