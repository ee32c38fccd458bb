/*
 * heartbeat_schema — see heartbeat_schema.h.
 *
 * The tables are the contract; the readers and writers walk them rather
 * than naming fields, so a field exists on both sides or on neither.
 */
#include "heartbeat_schema.h"
#include "util.h"

#include <stddef.h>

#define HBS_R(name, type, unit)                                                                    \
    {                                                                                              \
#name, type, unit, HBS_IF_SENT, offsetof(struct hbs_row, name)                             \
    }
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

const struct hbs_field hbs_row_fields[] = {
    HBS_R(instance_id, JBUF_STR, "id"),
    HBS_R(host, JBUF_STR, "host name"),
    HBS_R(pid, JBUF_INT, "process id"),
    HBS_R(version, JBUF_STR, "fetcherd version"),
    HBS_R(started_at, JBUF_TIME, "time"),
    HBS_R(state, JBUF_STR, "running | stopped"),
    HBS_R(phase, JBUF_STR, "fetching | writing | recalculating | idle"),
    HBS_R(interval_s, JBUF_INT, "s between cycles"),
    HBS_R(next_cycle_at, JBUF_TIME, "time, or null"),
    HBS_R(cycle_seq, JBUF_INT_OR_NULL, "this instance's cycle number, or null"),
    HBS_R(cycle_started, JBUF_TIME, "time, or null"),
    HBS_R(cycle_done, JBUF_INT, "assets answered"),
    HBS_R(cycle_total, JBUF_INT, "assets in the cycle"),
    HBS_R(tracked_assets, JBUF_INT, "assets"),
};
const size_t hbs_row_nfields = ARRAY_LEN(hbs_row_fields);

/* In the order fetcher-api answers them: the HBS_ALWAYS ones first. */
const struct hbs_field hbs_queue_fields[] = {
    HBS_Q(queued, JBUF_INT, "entries waiting now", HBS_ALWAYS),
    HBS_Q(in_flight, JBUF_INT, "entries being fetched now", HBS_ALWAYS),
    HBS_Q(completed, JBUF_INT, "entries", HBS_ALWAYS),
    HBS_Q(deduplicated, JBUF_INT, "submissions served by another's fetch", HBS_ALWAYS),
    HBS_Q(errors, JBUF_INT, "failed entries", HBS_ALWAYS),
    HBS_Q(retries, JBUF_INT, "retries", HBS_ALWAYS),
    HBS_Q(cache_hits, JBUF_INT, "submissions", HBS_ALWAYS),
    HBS_Q(cache_misses, JBUF_INT, "submissions", HBS_ALWAYS),
    /* HTTP requests as sent, chart fallbacks included */
    HBS_Q(upstream_requests, JBUF_INT, "requests", HBS_ALWAYS),
    /* the queue's unit of upstream work */
    HBS_Q(batches, JBUF_INT, "batches", HBS_RAW_ONLY),
    HBS_Q(rate_limited, JBUF_INT, "HTTP 429 answers", HBS_IF_SENT),
    HBS_Q(keys_per_request, JBUF_NUM, "symbols per request", HBS_IF_SENT),
    HBS_Q(bytes_received, JBUF_INT, "bytes", HBS_IF_SENT),
    HBS_Q(backoff, JBUF_INT, "entries waiting to retry now", HBS_IF_SENT),
    HBS_Q(cached, JBUF_INT, "entries in the TTL cache now", HBS_IF_SENT),
};
const size_t hbs_queue_nfields = ARRAY_LEN(hbs_queue_fields);

const struct hbs_field hbs_provider_fields[] = {
    HBS_P(name, JBUF_STR, "provider name"),
    HBS_P(state, JBUF_STR, "ok | degraded | paused | down | offline"),
    HBS_P(paused_until, JBUF_TIME, "time a 429 or refusal pause ends"),
    HBS_P(refused, JBUF_BOOL, "the pause is a refusal"),
    HBS_P(pause_reason, JBUF_STR, "why it refused us"),
    HBS_P(down, JBUF_BOOL, "failing as a whole: its assets fail over"),
    HBS_P(in_flight, JBUF_INT, "batches now"),
    HBS_P(queued, JBUF_INT, "entries now"),
    HBS_P(requests, JBUF_INT, "requests"),
    HBS_P(errors, JBUF_INT, "failed requests"),
    HBS_P(refusals, JBUF_INT, "refused requests"),
    HBS_P(failovers_out, JBUF_INT, "keys moved to a later source"),
    HBS_P(failovers_in, JBUF_INT, "keys taken over from an earlier source"),
    HBS_P(rate_per_minute, JBUF_INT, "requests per minute allowed"),
    HBS_P(latency_p50_ms, JBUF_NUM, "ms"),
    HBS_P(latency_p95_ms, JBUF_NUM, "ms"),
    HBS_P(recent_requests, JBUF_INT, "its last requests (at most 10, 15 min)"),
    HBS_P(recent_failed, JBUF_INT, "of those, failed"),
    HBS_P(last_error, JBUF_STR, "why the last failed one did, or null"),
};
const size_t hbs_provider_nfields = ARRAY_LEN(hbs_provider_fields);

const char *const hbs_outcome_names[HBS_OUTCOMES] = {"ok",           "error",   "connection",
                                                     "rate_limited", "refused", "cancelled"};

#define HBS_PR(name, type, unit)                                                                   \
    {                                                                                              \
#name, type, unit, HBS_IF_SENT, offsetof(struct hbs_process, name)                         \
    }

const struct hbs_field hbs_process_fields[] = {
    HBS_PR(cpu_seconds, JBUF_NUM, "s of CPU, user + system"),
    HBS_PR(resident_memory_bytes, JBUF_INT, "bytes"),
    HBS_PR(virtual_memory_bytes, JBUF_INT, "bytes"),
    HBS_PR(open_fds, JBUF_INT, "file descriptors"),
    HBS_PR(max_fds, JBUF_INT, "file descriptors (soft limit)"),
    HBS_PR(start_time_seconds, JBUF_NUM, "Unix time"),
};
const size_t hbs_process_nfields = ARRAY_LEN(hbs_process_fields);
const struct hbs_field hbs_failover_fields[] = {
    {"from", JBUF_STR, "provider the waiters left", HBS_IF_SENT,
     offsetof(struct hbs_failover, from)},
    {"to", JBUF_STR, "provider they went to", HBS_IF_SENT, offsetof(struct hbs_failover, to)},
    {"count", JBUF_INT, "waiters", HBS_IF_SENT, offsetof(struct hbs_failover, count)},
};
const size_t hbs_failover_nfields = ARRAY_LEN(hbs_failover_fields);

const struct hbs_field hbs_source_class_fields[] = {
    {"class", JBUF_STR, "stock | crypto | fx", HBS_IF_SENT,
     offsetof(struct hbs_source_class, name)},
    {"sources", JBUF_STR, "providers in order, comma-separated", HBS_IF_SENT,
     offsetof(struct hbs_source_class, sources)},
    {"usable", JBUF_INT, "providers that can be asked", HBS_IF_SENT,
     offsetof(struct hbs_source_class, usable)},
    {"note", JBUF_STR, "why there is no second source, or null", HBS_IF_SENT,
     offsetof(struct hbs_source_class, note)},
};
const size_t hbs_source_class_nfields = ARRAY_LEN(hbs_source_class_fields);

const struct hbs_field hbs_detail_fields[] = {
    HBS_D(db, JBUF_STR, "ok | connecting | reconnecting"),
    HBS_D(offline, JBUF_BOOL, "no upstream reachable"),
    HBS_D(degraded_reason, JBUF_STR, "for people, or null"),
    HBS_D(paused, JBUF_BOOL, "scheduled cycles paused"),
    HBS_D(paused_since, JBUF_TIME, "time"),
    HBS_D(heartbeat_s, JBUF_INT, "s between heartbeats"),
    HBS_D(skipped_deadlines, JBUF_INT, "deadlines"),
    HBS_D(cycles_started, JBUF_INT, "cycles"),
    HBS_D(write_buffer_rows, JBUF_INT, "rows buffered now"),
    HBS_D(rows_dropped, JBUF_INT, "rows"),
    HBS_D(fleet_role, JBUF_STR, "unknown | solo | leader | follower"),
    HBS_D(fleet_leader, JBUF_STR, "instance id, or null"),
    HBS_D(fleet_epoch, JBUF_INT, "lease changes of holder, while we hold it; else 0"),
    HBS_D(fleet_shares, JBUF_INT, "shares of shared cycles recorded"),
    HBS_D(fleet_assets, JBUF_INT, "assets in those shares"),
    HBS_D(fleet_claims_released, JBUF_INT, "dead instances' claims returned to the pool"),
    HBS_D(write_buffer_capacity, JBUF_INT, "rows (WRITE_BUFFER_ROWS)"),
    HBS_D(backfill_active, JBUF_BOOL, "a daily-history backfill is running"),
    HBS_D(market_hours, JBUF_BOOL, "closed markets are not fetched (FETCH_MARKET_HOURS)"),
    HBS_D(backfill_total, JBUF_INT, "assets in the backfill's round"),
    HBS_D(backfill_done, JBUF_INT, "assets answered (stored or failed)"),
    HBS_D(backfill_failed, JBUF_INT, "assets whose backfill failed"),
    HBS_D(backfill_requests, JBUF_INT, "history requests sent since start"),
};
const size_t hbs_detail_nfields = ARRAY_LEN(hbs_detail_fields);

void hbs_write_fields(struct jbuf *b, const struct hbs_field *fields, size_t n, const void *s)
{
    for (size_t i = 0; i < n; i++) {
        jbuf_key(b, fields[i].name);
        jbuf_typed(b, fields[i].type, (const char *)s + fields[i].offset);
    }
}

/* A provider's counters for /metrics (see struct hbs_provider); all
 * providers' names, for failovers_to. */
static void hbs_write_provider_counts(struct jbuf *b, const struct hbs_queue *q,
                                      const struct hbs_provider *all, size_t np, size_t self)
{
    const struct hbs_provider *p = &all[self];
    jbuf_key(b, HBS_PROVIDER_OUTCOMES);
    jbuf_obj(b);
    for (size_t i = 0; i < HBS_OUTCOMES; i++) {
        jbuf_key(b, hbs_outcome_names[i]);
        jbuf_int(b, p->outcomes[i]);
    }
    jbuf_obj_end(b);
    size_t nb = q->nlatency_bounds < HBS_LATENCY_MAX ? q->nlatency_bounds : HBS_LATENCY_MAX;
    jbuf_key(b, HBS_PROVIDER_LATENCY_BUCKETS);
    jbuf_arr(b);
    for (size_t i = 0; i <= nb; i++)
        jbuf_int(b, p->latency_buckets[i]);
    jbuf_arr_end(b);
    jbuf_key(b, HBS_PROVIDER_LATENCY_SUM);
    jbuf_num(b, p->latency_sum_s);
    jbuf_key(b, HBS_PROVIDER_FAILOVERS_TO);
    jbuf_obj(b);
    for (size_t i = 0; i < np && i < HBS_MAX_PROVIDERS; i++) {
        if (p->failovers_to[i] == 0 || all[i].name == NULL)
            continue;
        jbuf_key(b, all[i].name);
        jbuf_int(b, p->failovers_to[i]);
    }
    jbuf_obj_end(b);
}

/* Writes key: [elements of fields each] into the open object of b. */
static void hbs_write_array(struct jbuf *b, const char *key, const struct hbs_field *fields,
                            size_t nfields, const void *elems, size_t size, size_t n)
{
    jbuf_key(b, key);
    jbuf_arr(b);
    for (size_t i = 0; i < n; i++) {
        jbuf_obj(b);
        hbs_write_fields(b, fields, nfields, (const char *)elems + i * size);
        jbuf_obj_end(b);
    }
    jbuf_arr_end(b);
}

void hbs_write(struct jbuf *b, const struct hbs_row *row, const struct hbs_queue *q,
               const struct hbs_provider *p, size_t np, const struct hbs_detail *detail)
{
    hbs_write_ex(b, row, q, p, np, NULL, detail);
}

void hbs_write_ex(struct jbuf *b, const struct hbs_row *row, const struct hbs_queue *q,
                  const struct hbs_provider *p, size_t np, const struct hbs_queue_extra *extra,
                  const struct hbs_detail *detail)
{
    jbuf_obj(b);
    hbs_write_fields(b, hbs_row_fields, hbs_row_nfields, row);
    jbuf_key(b, "queue");
    jbuf_obj(b);
    hbs_write_fields(b, hbs_queue_fields, hbs_queue_nfields, q);
    jbuf_key(b, HBS_QUEUE_LATENCY_BOUNDS);
    jbuf_arr(b);
    for (size_t i = 0; i < q->nlatency_bounds && i < HBS_LATENCY_MAX; i++)
        jbuf_num(b, q->latency_bounds_s[i]);
    jbuf_arr_end(b);
    jbuf_key(b, HBS_QUEUE_PROVIDERS);
    jbuf_arr(b);
    for (size_t i = 0; i < np; i++) {
        jbuf_obj(b);
        hbs_write_fields(b, hbs_provider_fields, hbs_provider_nfields, &p[i]);
        hbs_write_provider_counts(b, q, p, np, i);
        jbuf_obj_end(b);
    }
    jbuf_arr_end(b);
    if (extra != NULL) {
        hbs_write_array(b, HBS_QUEUE_FAILOVERS, hbs_failover_fields, hbs_failover_nfields,
                        extra->failovers, sizeof extra->failovers[0], extra->nfailovers);
        hbs_write_array(b, HBS_QUEUE_SOURCES, hbs_source_class_fields, hbs_source_class_nfields,
                        extra->classes, sizeof extra->classes[0], extra->nclasses);
    }
    jbuf_obj_end(b);
    jbuf_key(b, "detail");
    jbuf_obj(b);
    hbs_write_fields(b, hbs_detail_fields, hbs_detail_nfields, detail);
    jbuf_key(b, HBS_DETAIL_PROCESS);
    jbuf_obj(b);
    hbs_write_fields(b, hbs_process_fields, hbs_process_nfields, &detail->process);
    jbuf_obj_end(b);
    jbuf_key(b, HBS_DETAIL_STALE_AFTER);
    jbuf_obj(b);
    for (size_t i = 0; i < detail->nstale; i++) {
        jbuf_key(b, detail->stale_types[i]);
        jbuf_int(b, detail->stale_after_s[i]);
    }
    jbuf_obj_end(b);
    jbuf_obj_end(b);
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
    hbs_pass_on(q, src, HBS_QUEUE_FAILOVERS);
    hbs_pass_on(q, src, HBS_QUEUE_SOURCES);
    for (size_t i = 0; i < hbs_queue_nfields; i++)
        if (hbs_queue_fields[i].serve == HBS_IF_SENT)
            hbs_pass_on(q, src, hbs_queue_fields[i].name);
    return q;
}
