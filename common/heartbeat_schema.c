/*
 * heartbeat_schema — see heartbeat_schema.h.
 *
 * The tables are the contract; the readers and writers walk them rather
 * than naming fields, so a field exists on both sides or on neither.
 */
#include "heartbeat_schema.h"
#include "util.h"

#include <stddef.h>

#define HBS_Q(name, type, unit, serve)                                                             \
    {                                                                                              \
#name, type, unit, serve, offsetof(struct hbs_queue, name)                                 \
    }
#define HBS_P(name, type, unit)                                                                    \
    {                                                                                              \
#name, type, unit, HBS_IF_SENT, offsetof(struct hbs_provider, name)                        \
    }
#define HBS_D(name, type, unit)                                                                    \
    {                                                                                              \
#name, type, unit, HBS_IF_SENT, offsetof(struct hbs_detail, name)                          \
    }

/* In the order fetcher-api answers them: the HBS_ALWAYS ones first. */
const struct hbs_field hbs_queue_fields[] = {
    HBS_Q(queued, HBS_COUNT, "entries waiting now", HBS_ALWAYS),
    HBS_Q(in_flight, HBS_COUNT, "entries being fetched now", HBS_ALWAYS),
    HBS_Q(completed, HBS_COUNT, "entries", HBS_ALWAYS),
    HBS_Q(deduplicated, HBS_COUNT, "submissions served by another's fetch", HBS_ALWAYS),
    HBS_Q(errors, HBS_COUNT, "failed entries", HBS_ALWAYS),
    HBS_Q(retries, HBS_COUNT, "retries", HBS_ALWAYS),
    HBS_Q(cache_hits, HBS_COUNT, "submissions", HBS_ALWAYS),
    HBS_Q(cache_misses, HBS_COUNT, "submissions", HBS_ALWAYS),
    /* HTTP requests as sent, chart fallbacks included */
    HBS_Q(upstream_requests, HBS_COUNT, "requests", HBS_ALWAYS),
    /* the queue's unit of upstream work */
    HBS_Q(batches, HBS_COUNT, "batches", HBS_RAW_ONLY),
    HBS_Q(rate_limited, HBS_COUNT, "HTTP 429 answers", HBS_IF_SENT),
    HBS_Q(keys_per_request, HBS_NUMBER, "symbols per request", HBS_IF_SENT),
    HBS_Q(bytes_received, HBS_COUNT, "bytes", HBS_IF_SENT),
    HBS_Q(backoff, HBS_COUNT, "entries waiting to retry now", HBS_IF_SENT),
    HBS_Q(cached, HBS_COUNT, "entries in the TTL cache now", HBS_IF_SENT),
};
const size_t hbs_queue_nfields = ARRAY_LEN(hbs_queue_fields);

const struct hbs_field hbs_provider_fields[] = {
    HBS_P(name, HBS_STRING, "provider name"),
    HBS_P(state, HBS_STRING, "ok | paused | offline"),
    HBS_P(paused_until, HBS_TIME, "time a 429 pause ends"),
    HBS_P(in_flight, HBS_COUNT, "batches now"),
    HBS_P(queued, HBS_COUNT, "entries now"),
    HBS_P(requests, HBS_COUNT, "requests"),
    HBS_P(errors, HBS_COUNT, "failed requests"),
    HBS_P(rate_per_minute, HBS_COUNT, "requests per minute allowed"),
    HBS_P(latency_p50_ms, HBS_NUMBER, "ms"),
    HBS_P(latency_p95_ms, HBS_NUMBER, "ms"),
};
const size_t hbs_provider_nfields = ARRAY_LEN(hbs_provider_fields);

const struct hbs_field hbs_detail_fields[] = {
    HBS_D(db, HBS_STRING, "ok | connecting | reconnecting"),
    HBS_D(offline, HBS_BOOL, "no upstream reachable"),
    HBS_D(degraded_reason, HBS_STRING, "for people, or null"),
    HBS_D(paused, HBS_BOOL, "scheduled cycles paused"),
    HBS_D(paused_since, HBS_TIME, "time"),
    HBS_D(heartbeat_s, HBS_COUNT, "s between heartbeats"),
    HBS_D(skipped_deadlines, HBS_COUNT, "deadlines"),
    HBS_D(cycles_started, HBS_COUNT, "cycles"),
    HBS_D(write_buffer_rows, HBS_COUNT, "rows buffered now"),
    HBS_D(rows_dropped, HBS_COUNT, "rows"),
};
const size_t hbs_detail_nfields = ARRAY_LEN(hbs_detail_fields);

void hbs_write_fields(struct jbuf *b, const struct hbs_field *fields, size_t n, const void *s)
{
    const char *base = s;
    for (size_t i = 0; i < n; i++) {
        const struct hbs_field *f = &fields[i];
        const void *v = base + f->offset;
        jbuf_key(b, f->name);
        switch (f->type) {
        case HBS_COUNT:
            jbuf_int(b, *(const int64_t *)v);
            break;
        case HBS_NUMBER:
            jbuf_num(b, *(const double *)v);
            break;
        case HBS_BOOL:
            jbuf_bool(b, *(const int *)v);
            break;
        case HBS_STRING:
            jbuf_str(b, *(const char *const *)v);
            break;
        case HBS_TIME: {
            int64_t ms = *(const int64_t *)v;
            char t[32];
            if (ms > 0) {
                util_fmt_time(ms, t, sizeof t);
                jbuf_str(b, t);
            } else {
                jbuf_null(b);
            }
            break;
        }
        }
    }
}

void hbs_write_queue(struct jbuf *b, const struct hbs_queue *q, const struct hbs_provider *p,
                     size_t np)
{
    jbuf_obj(b);
    hbs_write_fields(b, hbs_queue_fields, hbs_queue_nfields, q);
    jbuf_key(b, HBS_QUEUE_PROVIDERS);
    jbuf_arr(b);
    for (size_t i = 0; i < np; i++) {
        jbuf_obj(b);
        hbs_write_fields(b, hbs_provider_fields, hbs_provider_nfields, &p[i]);
        jbuf_obj_end(b);
    }
    jbuf_arr_end(b);
    jbuf_obj_end(b);
}

/* Copies src's key (a new reference) into dst when present. */
static void hbs_pass_on(json_object *dst, json_object *src, const char *key)
{
    json_object *v = NULL;
    if (src != NULL && json_object_object_get_ex(src, key, &v))
        json_object_object_add(dst, key, json_object_get(v));
}

json_object *hbs_read_queue(json_object *src)
{
    json_object *q = json_object_new_object();
    if (q == NULL)
        return NULL;
    if (src != NULL && !json_object_is_type(src, json_type_object))
        src = NULL;
    /* The counters clients may rely on: present, and integers. */
    for (size_t i = 0; i < hbs_queue_nfields; i++) {
        const struct hbs_field *f = &hbs_queue_fields[i];
        json_object *v = NULL;
        if (f->serve != HBS_ALWAYS)
            continue;
        if (src != NULL && json_object_object_get_ex(src, f->name, &v) &&
            json_object_is_type(v, json_type_int))
            json_object_object_add(q, f->name, json_object_get(v));
        else
            json_object_object_add(q, f->name, json_object_new_int(0));
    }
    /* Passed on as fetcherd wrote them, when present: per-provider state
     * and the batching figures. */
    hbs_pass_on(q, src, HBS_QUEUE_PROVIDERS);
    for (size_t i = 0; i < hbs_queue_nfields; i++)
        if (hbs_queue_fields[i].serve == HBS_IF_SENT)
            hbs_pass_on(q, src, hbs_queue_fields[i].name);
    return q;
}
