/*
 * heartbeat — see heartbeat.h.
 */
#include "heartbeat.h"
#include "jbuf.h"
#include "sql.h"

#include <stdlib.h>
#include <string.h>

struct heartbeat {
    struct daemon *d;
    struct scheduler *s;
    int64_t timer;
    int inflight;
};

static char *build(struct heartbeat *h, const char *state)
{
    struct daemon *d = h->d;
    struct sched_info si;
    scheduler_get(h->s, &si);
    struct queue_counters qc;
    queue_get_counters(d->queue, &qc);
    struct writer_stats ws;
    writer_get_stats(d->writer, &ws);
    char t[32];
    struct jbuf b;
    jbuf_init(&b);
    jbuf_obj(&b);
    jbuf_key(&b, "instance_id");
    jbuf_str(&b, d->instance_id);
    jbuf_key(&b, "host");
    jbuf_str(&b, d->host);
    jbuf_key(&b, "pid");
    jbuf_int(&b, d->pid);
    jbuf_key(&b, "version");
    jbuf_str(&b, FETCHER_VERSION);
    jbuf_key(&b, "started_at");
    util_fmt_time(d->started_wall_ms, t, sizeof t);
    jbuf_str(&b, t);
    jbuf_key(&b, "state");
    jbuf_str(&b, state);
    jbuf_key(&b, "phase");
    jbuf_str(&b, strcmp(state, "stopped") == 0 ? "idle" : si.progress.phase);
    jbuf_key(&b, "interval_s");
    jbuf_int(&b, cfg->fetch_interval_s);
    jbuf_key(&b, "next_cycle_at");
    if (si.next_deadline_mono > 0) {
        int64_t in = si.next_deadline_mono - util_mono_ms();
        util_fmt_time(util_wall_ms() + (in > 0 ? in : 0), t, sizeof t);
        jbuf_str(&b, t);
    } else {
        jbuf_null(&b);
    }
    /* A cycle is named only while it is active (fetching, or its writes
     * pending): an idle daemon has no current cycle. */
    int active = si.progress.seq > 0 && strcmp(si.progress.phase, "idle") != 0;
    jbuf_key(&b, "cycle_seq");
    if (active)
        jbuf_int(&b, si.progress.seq);
    else
        jbuf_null(&b);
    jbuf_key(&b, "cycle_started");
    if (active) {
        util_fmt_time(si.progress.started_wall_ms, t, sizeof t);
        jbuf_str(&b, t);
    } else {
        jbuf_null(&b);
    }
    jbuf_key(&b, "cycle_done");
    jbuf_int(&b, si.progress.done);
    jbuf_key(&b, "cycle_total");
    jbuf_int(&b, si.progress.total);
    jbuf_key(&b, "tracked_assets");
    jbuf_int(&b, si.tracked_assets < 0 ? 0 : si.tracked_assets);
    jbuf_key(&b, "queue");
    jbuf_obj(&b);
    jbuf_key(&b, "queued");
    jbuf_int(&b, (int64_t)qc.queued);
    jbuf_key(&b, "in_flight");
    jbuf_int(&b, (int64_t)qc.in_flight);
    jbuf_key(&b, "backoff");
    jbuf_int(&b, (int64_t)qc.backoff);
    jbuf_key(&b, "completed");
    jbuf_int(&b, (int64_t)qc.completed);
    jbuf_key(&b, "deduplicated");
    jbuf_int(&b, (int64_t)qc.deduplicated);
    jbuf_key(&b, "errors");
    jbuf_int(&b, (int64_t)qc.errors);
    jbuf_key(&b, "retries");
    jbuf_int(&b, (int64_t)qc.retries);
    jbuf_key(&b, "cache_hits");
    jbuf_int(&b, (int64_t)qc.cache_hits);
    jbuf_key(&b, "cache_misses");
    jbuf_int(&b, (int64_t)qc.cache_misses);
    /* Requests as sent (fallbacks included); batches are the queue's unit. */
    uint64_t requests = fetcher_requests(d->fetcher);
    jbuf_key(&b, "upstream_requests");
    jbuf_int(&b, (int64_t)requests);
    jbuf_key(&b, "batches");
    jbuf_int(&b, (int64_t)qc.upstream_requests);
    jbuf_key(&b, "keys_per_request");
    jbuf_num(&b, requests ? (double)qc.keys_requested / (double)requests : 0.0);
    jbuf_key(&b, "bytes_received");
    jbuf_int(&b, (int64_t)fetcher_bytes_received(d->fetcher));
    jbuf_key(&b, "rate_limited");
    jbuf_int(&b, (int64_t)qc.rate_limited);
    jbuf_key(&b, "cached");
    jbuf_int(&b, (int64_t)qc.cached);
    jbuf_key(&b, "providers");
    jbuf_arr(&b);
    struct queue_provider_info pi[8];
    int np = queue_get_providers(d->queue, pi, 8);
    int64_t mono = util_mono_ms(), wall = util_wall_ms();
    for (int i = 0; i < np && i < 8; i++) {
        jbuf_obj(&b);
        jbuf_key(&b, "name");
        jbuf_str(&b, pi[i].name);
        jbuf_key(&b, "state");
        jbuf_str(&b, qc.offline ? "offline" : pi[i].paused_until ? "paused" : "ok");
        jbuf_key(&b, "paused_until");
        if (pi[i].paused_until) {
            util_fmt_time(wall + (pi[i].paused_until - mono), t, sizeof t);
            jbuf_str(&b, t);
        } else {
            jbuf_null(&b);
        }
        jbuf_key(&b, "in_flight");
        jbuf_int(&b, pi[i].batches_in_flight);
        jbuf_key(&b, "queued");
        jbuf_int(&b, (int64_t)pi[i].queued);
        jbuf_key(&b, "requests");
        jbuf_int(&b, (int64_t)pi[i].requests);
        jbuf_key(&b, "errors");
        jbuf_int(&b, (int64_t)pi[i].errors);
        jbuf_key(&b, "down"); /* failing as a whole: its assets fail over */
        jbuf_bool(&b, pi[i].down);
        jbuf_key(&b, "failovers_out");
        jbuf_int(&b, (int64_t)pi[i].failovers_out);
        jbuf_key(&b, "failovers_in");
        jbuf_int(&b, (int64_t)pi[i].failovers_in);
        jbuf_key(&b, "rate_per_minute");
        jbuf_int(&b, pi[i].rate_per_minute);
        jbuf_key(&b, "latency_p50_ms");
        jbuf_num(&b, pi[i].latency_p50_ms);
        jbuf_key(&b, "latency_p95_ms");
        jbuf_num(&b, pi[i].latency_p95_ms);
        jbuf_obj_end(&b);
    }
    jbuf_arr_end(&b);
    jbuf_obj_end(&b);
    jbuf_key(&b, "detail");
    jbuf_obj(&b);
    jbuf_key(&b, "db");
    jbuf_str(&b, dbconn_state(d->db));
    jbuf_key(&b, "offline");
    jbuf_bool(&b, qc.offline);
    jbuf_key(&b, "degraded_reason");
    if (qc.offline)
        jbuf_str(&b, "offline: no upstream reachable at the connection level");
    else
        jbuf_null(&b);
    jbuf_key(&b, "paused");
    jbuf_bool(&b, si.paused);
    jbuf_key(&b, "paused_since");
    if (si.paused && si.paused_since_wall_ms > 0) {
        util_fmt_time(si.paused_since_wall_ms, t, sizeof t);
        jbuf_str(&b, t);
    } else {
        jbuf_null(&b);
    }
    jbuf_key(&b, "heartbeat_s");
    jbuf_int(&b, cfg->heartbeat_s);
    jbuf_key(&b, "skipped_deadlines");
    jbuf_int(&b, si.skipped);
    jbuf_key(&b, "cycles_started");
    jbuf_int(&b, si.cycles_started);
    jbuf_key(&b, "write_buffer_rows");
    jbuf_int(&b, (int64_t)ws.buffered_rows);
    jbuf_key(&b, "rows_dropped");
    jbuf_int(&b, (int64_t)ws.dropped_rows);
    jbuf_obj_end(&b);
    jbuf_obj_end(&b);
    return jbuf_take(&b);
}

static void on_sent(const PGresult *res, enum db_status st, const char *err, void *cls)
{
    (void)res;
    (void)st;
    (void)err;
    struct heartbeat *h = cls;
    h->inflight = 0;
}

void heartbeat_now(struct heartbeat *h)
{
    /* after the final "stopped" row, a late "running" one would undo it */
    if (!h->inflight && !h->d->stopping && dbconn_is_up(h->d->db)) {
        char *json = build(h, "running");
        const char *params[1] = {json};
        if (json && dbconn_query(h->d->db, SQL_HEARTBEAT, 1, params, on_sent, h) == 0)
            h->inflight = 1;
        free(json);
    }
}

static int64_t on_timer(struct loop *l, void *cls)
{
    (void)l;
    heartbeat_now(cls);
    return cfg->heartbeat_s * 1000;
}

struct heartbeat *heartbeat_setup(struct daemon *d, struct scheduler *s)
{
    struct heartbeat *h = calloc(1, sizeof *h);
    if (h == NULL)
        return NULL;
    h->d = d;
    h->s = s;
    h->timer = loop_timer_add(d->loop, 0, on_timer, h);
    if (h->timer < 0) {
        free(h);
        return NULL;
    }
    return h;
}

void heartbeat_final(struct heartbeat *h)
{
    if (h->timer > 0)
        loop_timer_del(h->d->loop, h->timer);
    h->timer = 0;
    char *json = build(h, "stopped");
    const char *params[1] = {json};
    if (json == NULL ||
        writer_submit(h->d->writer, WRITE_DATA, SQL_HEARTBEAT, 1, params, 1, NULL, NULL) != 0)
        log_msg(LOG_ERROR, "heartbeat: cannot queue the final heartbeat");
    free(json);
}

void heartbeat_free(struct heartbeat *h)
{
    if (h == NULL)
        return;
    if (h->timer > 0)
        loop_timer_del(h->d->loop, h->timer);
    free(h);
}
