/*
 * Unit tests of common/heartbeat_schema.c — what fetcherd writes into a
 * heartbeat's queue and detail columns is what fetcher-api reads back:
 * every field of the tables (the row, its queue and detail columns)
 * round-trips with its value and type, the
 * counters clients rely on are there (zero) when fetcherd wrote nothing,
 * and the fields the API's status rule reads are in the contract.
 */
#include "heartbeat_schema.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

/* Checks that o[f->name] holds s's member f, as f's type says. */
static void check_field(json_object *o, const struct hbs_field *f, const void *s)
{
    const char *v = (const char *)s + f->offset;
    json_object *j = NULL;
    if (!json_object_object_get_ex(o, f->name, &j))
        fail_msg("field %s missing", f->name);
    switch (f->type) {
    case JBUF_INT:
        assert_true(json_object_is_type(j, json_type_int));
        assert_int_equal(json_object_get_int64(j), *(const int64_t *)v);
        break;
    case JBUF_INT_OR_NULL:
        if (*(const int64_t *)v == 0) {
            assert_null(j);
        } else {
            assert_true(json_object_is_type(j, json_type_int));
            assert_int_equal(json_object_get_int64(j), *(const int64_t *)v);
        }
        break;
    case JBUF_NUM:
        assert_true(json_object_is_type(j, json_type_double) ||
                    json_object_is_type(j, json_type_int));
        assert_float_equal(json_object_get_double(j), *(const double *)v, 1e-9);
        break;
    case JBUF_BOOL:
        assert_true(json_object_is_type(j, json_type_boolean));
        assert_int_equal(json_object_get_boolean(j), !!*(const int *)v);
        break;
    case JBUF_STR:
        if (*(const char *const *)v == NULL)
            assert_null(j);
        else
            assert_string_equal(json_object_get_string(j), *(const char *const *)v);
        break;
    case JBUF_TIME:
        if (*(const int64_t *)v == 0) {
            assert_null(j);
        } else {
            char t[32];
            util_fmt_time(*(const int64_t *)v, t, sizeof t);
            assert_string_equal(json_object_get_string(j), t);
        }
        break;
    }
}

static json_object *parse_or_fail(struct jbuf *b)
{
    assert_true(jbuf_ok(b));
    json_object *o = json_tokener_parse(jbuf_text(b));
    if (o == NULL)
        fail_msg("not JSON: %s", jbuf_text(b));
    return o;
}

static const struct hbs_queue sample_queue = {
    .queued = 1,
    .in_flight = 2,
    .backoff = 3,
    .completed = 4,
    .deduplicated = 5,
    .errors = 6,
    .retries = 7,
    .cache_hits = 8,
    .cache_misses = 9,
    .upstream_requests = 10,
    .batches = 11,
    .bytes_received = 12,
    .rate_limited = 13,
    .cached = 14,
    .keys_per_request = 2.5,
};

static const struct hbs_provider sample_providers[] = {
    {.name = "yahoo",
     .state = "ok",
     .in_flight = 1,
     .queued = 2,
     .requests = 30,
     .errors = 1,
     .rate_per_minute = 60,
     .latency_p50_ms = 12.5,
     .latency_p95_ms = 80},
    {.name = "coingecko",
     .state = "paused",
     .paused_until = 1767225600000,
     .requests = 4,
     .rate_per_minute = 10},
};

static const struct hbs_row sample_row = {.instance_id = "host-1-ab",
                                          .host = "host",
                                          .version = "0.1.0",
                                          .pid = 1,
                                          .started_at = 1767225600000,
                                          .state = "running",
                                          .phase = "fetching",
                                          .interval_s = 600,
                                          .next_cycle_at = 1767226200000,
                                          .cycle_seq = 3,
                                          .cycle_started = 1767225900000,
                                          .cycle_done = 4,
                                          .cycle_total = 10,
                                          .tracked_assets = 10};

static const struct hbs_detail sample_detail = {.db = "ok", .heartbeat_s = 5};

static void test_queue_round_trip(void **state)
{
    (void)state;
    struct jbuf b;
    jbuf_init(&b);
    hbs_write(&b, &sample_row, &sample_queue, sample_providers, 2, &sample_detail);
    json_object *doc = parse_or_fail(&b);
    json_object *o = NULL;
    assert_true(json_object_object_get_ex(doc, "queue", &o));
    for (size_t i = 0; i < hbs_queue_nfields; i++)
        check_field(o, &hbs_queue_fields[i], &sample_queue);
    json_object *list = NULL;
    assert_true(json_object_object_get_ex(o, HBS_QUEUE_PROVIDERS, &list));
    assert_int_equal(json_object_array_length(list), 2);
    for (size_t p = 0; p < 2; p++)
        for (size_t i = 0; i < hbs_provider_nfields; i++)
            check_field(json_object_array_get_idx(list, p), &hbs_provider_fields[i],
                        &sample_providers[p]);

    /* What the API answers: every served field as written, nothing else. */
    json_object *q = hbs_read_queue(o);
    assert_non_null(q);
    size_t served = 0;
    for (size_t i = 0; i < hbs_queue_nfields; i++) {
        const struct hbs_field *f = &hbs_queue_fields[i];
        if (f->serve == HBS_RAW_ONLY) {
            assert_false(json_object_object_get_ex(q, f->name, NULL));
            continue;
        }
        check_field(q, f, &sample_queue);
        served++;
    }
    assert_true(json_object_object_get_ex(q, HBS_QUEUE_PROVIDERS, &list));
    assert_int_equal(json_object_array_length(list), 2);
    assert_int_equal(json_object_object_length(q), served + 1);
    json_object_put(q);
    json_object_put(doc);
    jbuf_free(&b);
}

/* The failovers (from → to) and the classes' sources: written by
 * hbs_write_ex, passed on by hbs_read_queue as they are, for /queue and
 * /metrics. */
static void test_queue_extra_round_trip(void **state)
{
    (void)state;
    const struct hbs_failover fo[] = {{"yahoo", "twelvedata", 7}, {"coingecko", "kraken", 2}};
    const struct hbs_source_class cl[] = {
        {"stock", "yahoo,twelvedata (no key)", 1,
         "no second source: TWELVEDATA_API_KEY is not set"},
        {"crypto", "coingecko,kraken,coinbase", 3, NULL},
    };
    const struct hbs_queue_extra extra = {fo, 2, cl, 2};
    struct jbuf b;
    jbuf_init(&b);
    hbs_write_ex(&b, &sample_row, &sample_queue, sample_providers, 2, &extra, &sample_detail);
    json_object *doc = parse_or_fail(&b);
    json_object *o = NULL, *list = NULL;
    assert_true(json_object_object_get_ex(doc, "queue", &o));
    json_object *q = hbs_read_queue(o);
    assert_non_null(q);
    assert_true(json_object_object_get_ex(q, HBS_QUEUE_FAILOVERS, &list));
    assert_int_equal(json_object_array_length(list), 2);
    for (size_t e = 0; e < 2; e++)
        for (size_t i = 0; i < hbs_failover_nfields; i++)
            check_field(json_object_array_get_idx(list, e), &hbs_failover_fields[i], &fo[e]);
    assert_true(json_object_object_get_ex(q, HBS_QUEUE_SOURCES, &list));
    assert_int_equal(json_object_array_length(list), 2);
    for (size_t e = 0; e < 2; e++)
        for (size_t i = 0; i < hbs_source_class_nfields; i++)
            check_field(json_object_array_get_idx(list, e), &hbs_source_class_fields[i], &cl[e]);
    json_object_put(q);
    json_object_put(doc);
    jbuf_free(&b);
    /* without extra, neither key is there */
    jbuf_init(&b);
    hbs_write(&b, &sample_row, &sample_queue, sample_providers, 2, &sample_detail);
    doc = parse_or_fail(&b);
    assert_true(json_object_object_get_ex(doc, "queue", &o));
    assert_false(json_object_object_get_ex(o, HBS_QUEUE_FAILOVERS, NULL));
    assert_false(json_object_object_get_ex(o, HBS_QUEUE_SOURCES, NULL));
    json_object_put(doc);
    jbuf_free(&b);
}

/* The row's own fields (the table's columns), with and without a cycle. */
static void test_row_round_trip(void **state)
{
    (void)state;
    /* a stopped daemon: no schedule, no cycle (the nulls) */
    struct hbs_row rows[2] = {sample_row, sample_row};
    rows[1].state = "stopped";
    rows[1].phase = "idle";
    rows[1].next_cycle_at = rows[1].cycle_seq = rows[1].cycle_started = 0;
    for (size_t r = 0; r < 2; r++) {
        struct jbuf b;
        jbuf_init(&b);
        hbs_write(&b, &rows[r], &sample_queue, NULL, 0, &sample_detail);
        json_object *o = parse_or_fail(&b);
        for (size_t i = 0; i < hbs_row_nfields; i++)
            check_field(o, &hbs_row_fields[i], &rows[r]);
        json_object *detail = NULL;
        assert_true(json_object_object_get_ex(o, "detail", &detail));
        for (size_t i = 0; i < hbs_detail_nfields; i++)
            check_field(detail, &hbs_detail_fields[i], &sample_detail);
        assert_int_equal(json_object_object_length(o), hbs_row_nfields + 2);
        json_object_put(o);
        jbuf_free(&b);
    }
}

static void test_queue_missing(void **state)
{
    (void)state;
    json_object *garbage = json_object_new_string("not an object");
    json_object *srcs[] = {NULL, json_object_new_object(), garbage};
    for (size_t s = 0; s < 3; s++) {
        json_object *q = hbs_read_queue(srcs[s]);
        assert_non_null(q);
        size_t always = 0;
        for (size_t i = 0; i < hbs_queue_nfields; i++) {
            const struct hbs_field *f = &hbs_queue_fields[i];
            json_object *v = NULL;
            if (f->serve != HBS_ALWAYS) {
                assert_false(json_object_object_get_ex(q, f->name, NULL));
                continue;
            }
            assert_true(json_object_object_get_ex(q, f->name, &v));
            assert_int_equal(json_object_get_int64(v), 0);
            always++;
        }
        assert_int_equal(json_object_object_length(q), always);
        json_object_put(q);
        json_object_put(srcs[s]);
    }
}

static void test_queue_wrong_type(void **state)
{
    (void)state;
    /* A counter clients rely on that is not an integer reads as 0. */
    json_object *src = json_tokener_parse("{\"queued\": \"many\", \"errors\": 3}");
    json_object *q = hbs_read_queue(src);
    json_object *v = NULL;
    assert_true(json_object_object_get_ex(q, "queued", &v));
    assert_int_equal(json_object_get_int64(v), 0);
    assert_true(json_object_object_get_ex(q, "errors", &v));
    assert_int_equal(json_object_get_int64(v), 3);
    json_object_put(q);
    json_object_put(src);
}

static void test_detail_round_trip(void **state)
{
    (void)state;
    const struct hbs_detail samples[] = {
        {.db = "ok",
         .heartbeat_s = 5,
         .skipped_deadlines = 2,
         .cycles_started = 7,
         .write_buffer_rows = 40,
         .rows_dropped = 1},
        {.db = "reconnecting",
         .offline = 1,
         .degraded_reason = "offline: no upstream",
         .paused = 1,
         .paused_since = 1767225600000,
         .heartbeat_s = 5},
    };
    for (size_t s = 0; s < 2; s++) {
        struct jbuf b;
        jbuf_init(&b);
        jbuf_obj(&b);
        hbs_write_fields(&b, hbs_detail_fields, hbs_detail_nfields, &samples[s]);
        jbuf_obj_end(&b);
        json_object *o = parse_or_fail(&b);
        for (size_t i = 0; i < hbs_detail_nfields; i++)
            check_field(o, &hbs_detail_fields[i], &samples[s]);
        assert_int_equal(json_object_object_length(o), hbs_detail_nfields);
        json_object_put(o);
        jbuf_free(&b);
    }
}

static int in_table(const struct hbs_field *fields, size_t n, const char *name)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(fields[i].name, name) == 0)
            return 1;
    return 0;
}

static void test_tables(void **state)
{
    (void)state;
    /* the names the API's status rule reads are part of the contract */
    assert_true(in_table(hbs_detail_fields, hbs_detail_nfields, HBS_DETAIL_DB));
    assert_true(in_table(hbs_detail_fields, hbs_detail_nfields, HBS_DETAIL_OFFLINE));
    assert_true(in_table(hbs_detail_fields, hbs_detail_nfields, HBS_DETAIL_DEGRADED_REASON));
    assert_false(in_table(hbs_queue_fields, hbs_queue_nfields, HBS_QUEUE_PROVIDERS));
    /* no name twice, every field documented */
    const struct {
        const struct hbs_field *f;
        size_t n;
    } tables[] = {{hbs_row_fields, hbs_row_nfields},
                  {hbs_queue_fields, hbs_queue_nfields},
                  {hbs_provider_fields, hbs_provider_nfields},
                  {hbs_detail_fields, hbs_detail_nfields}};
    for (size_t t = 0; t < ARRAY_LEN(tables); t++)
        for (size_t i = 0; i < tables[t].n; i++) {
            assert_true(tables[t].f[i].unit != NULL && tables[t].f[i].unit[0] != '\0');
            for (size_t j = i + 1; j < tables[t].n; j++)
                assert_string_not_equal(tables[t].f[i].name, tables[t].f[j].name);
        }
}

/* What /metrics reads besides the tables: each provider's outcomes (every
 * name, zeros too), its latency buckets (one more than the bounds), their
 * sum, failovers_to by the other providers' names (zeros left out); the
 * queue's bounds; detail's process object and stale_after_s. */
static void test_metrics_round_trip(void **state)
{
    (void)state;
    struct hbs_queue q = sample_queue;
    q.nlatency_bounds = 3;
    q.latency_bounds_s[0] = 0.025;
    q.latency_bounds_s[1] = 0.1;
    q.latency_bounds_s[2] = 1;
    struct hbs_provider p[2] = {sample_providers[0], sample_providers[1]};
    p[0].outcomes[0] = 28;
    p[0].outcomes[2] = 2;
    p[0].latency_buckets[0] = 10;
    p[0].latency_buckets[3] = 1;
    p[0].latency_sum_s = 4.25;
    p[0].failovers_to[1] = 7;
    static const char *const types[] = {"stock", "crypto"};
    static const int64_t bounds[] = {600, 60};
    struct hbs_detail d = sample_detail;
    d.process = (struct hbs_process){.cpu_seconds = 1.5,
                                     .resident_memory_bytes = 123456,
                                     .virtual_memory_bytes = 654321,
                                     .open_fds = 12,
                                     .max_fds = 1024,
                                     .start_time_seconds = 1796500000.5};
    d.stale_types = types;
    d.stale_after_s = bounds;
    d.nstale = 2;
    struct jbuf b;
    jbuf_init(&b);
    hbs_write(&b, &sample_row, &q, p, 2, &d);
    json_object *doc = parse_or_fail(&b), *queue, *list, *v, *x;
    assert_true(json_object_object_get_ex(doc, "queue", &queue));
    assert_true(json_object_object_get_ex(queue, HBS_QUEUE_LATENCY_BOUNDS, &v));
    assert_int_equal(json_object_array_length(v), 3);
    assert_float_equal(json_object_get_double(json_object_array_get_idx(v, 0)), 0.025, 1e-12);
    assert_true(json_object_object_get_ex(queue, HBS_QUEUE_PROVIDERS, &list));
    json_object *y = json_object_array_get_idx(list, 0), *cg = json_object_array_get_idx(list, 1);
    assert_true(json_object_object_get_ex(y, HBS_PROVIDER_OUTCOMES, &v));
    assert_int_equal(json_object_object_length(v), HBS_OUTCOMES);
    for (size_t k = 0; k < HBS_OUTCOMES; k++) {
        assert_true(json_object_object_get_ex(v, hbs_outcome_names[k], &x));
        assert_int_equal(json_object_get_int64(x), p[0].outcomes[k]);
    }
    assert_true(json_object_object_get_ex(y, HBS_PROVIDER_LATENCY_BUCKETS, &v));
    assert_int_equal(json_object_array_length(v), 4);
    assert_int_equal(json_object_get_int64(json_object_array_get_idx(v, 0)), 10);
    assert_int_equal(json_object_get_int64(json_object_array_get_idx(v, 3)), 1);
    assert_true(json_object_object_get_ex(y, HBS_PROVIDER_LATENCY_SUM, &v));
    assert_float_equal(json_object_get_double(v), 4.25, 1e-12);
    assert_true(json_object_object_get_ex(y, HBS_PROVIDER_FAILOVERS_TO, &v));
    assert_int_equal(json_object_object_length(v), 1);
    assert_true(json_object_object_get_ex(v, "coingecko", &x));
    assert_int_equal(json_object_get_int64(x), 7);
    assert_true(json_object_object_get_ex(cg, HBS_PROVIDER_FAILOVERS_TO, &v));
    assert_int_equal(json_object_object_length(v), 0);
    json_object *detail;
    assert_true(json_object_object_get_ex(doc, "detail", &detail));
    assert_true(json_object_object_get_ex(detail, HBS_DETAIL_PROCESS, &v));
    for (size_t i = 0; i < hbs_process_nfields; i++)
        check_field(v, &hbs_process_fields[i], &d.process);
    assert_true(json_object_object_get_ex(detail, HBS_DETAIL_STALE_AFTER, &v));
    assert_int_equal(json_object_object_length(v), 2);
    assert_true(json_object_object_get_ex(v, "crypto", &x));
    assert_int_equal(json_object_get_int64(x), 60);
    json_object_put(doc);
    jbuf_free(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_metrics_round_trip), cmocka_unit_test(test_queue_round_trip),
        cmocka_unit_test(test_row_round_trip),     cmocka_unit_test(test_queue_extra_round_trip),
        cmocka_unit_test(test_queue_missing),      cmocka_unit_test(test_queue_wrong_type),
        cmocka_unit_test(test_detail_round_trip),  cmocka_unit_test(test_tables),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
