/*
 * heartbeat — see heartbeat.h.
 */
#include "heartbeat.h"
#include "heartbeat_schema.h"
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

/* The `queue` column: the queue's counters and each provider's state. */
static void hb_write_queue(struct jbuf *b, struct daemon *d, const struct queue_counters *qc)
{
    /* Requests as sent (fallbacks included); batches are the queue's unit. */
    uint64_t requests = fetcher_requests(d->fetcher);
    struct hbs_queue q = {
        .queued = (int64_t)qc->queued,
        .in_flight = (int64_t)qc->in_flight,
        .backoff = (int64_t)qc->backoff,
        .completed = (int64_t)qc->completed,
        .deduplicated = (int64_t)qc->deduplicated,
        .errors = (int64_t)qc->errors,
        .retries = (int64_t)qc->retries,
        .cache_hits = (int64_t)qc->cache_hits,
        .cache_misses = (int64_t)qc->cache_misses,
        .upstream_requests = (int64_t)requests,
        .batches = (int64_t)qc->upstream_requests,
        .keys_per_request = requests ? (double)qc->keys_requested / (double)requests : 0.0,
        .bytes_received = (int64_t)fetcher_bytes_received(d->fetcher),
        .rate_limited = (int64_t)qc->rate_limited,
        .cached = (int64_t)qc->cached,
    };
    struct queue_provider_info pi[8];
    struct hbs_provider p[8];
    int np = queue_get_providers(d->queue, pi, 8);
    int64_t mono = util_mono_ms(), wall = util_wall_ms();
    int n = 0;
    for (; n < np && n < 8; n++) {
        p[n] = (struct hbs_provider){
            .name = pi[n].name,
            .state = qc->offline          ? "offline"
                     : pi[n].paused_until ? "paused"
                                          : "ok",
            .paused_until = pi[n].paused_until ? wall + (pi[n].paused_until - mono) : 0,
            .in_flight = pi[n].batches_in_flight,
            .queued = (int64_t)pi[n].queued,
            .requests = (int64_t)pi[n].requests,
            .errors = (int64_t)pi[n].errors,
            .rate_per_minute = pi[n].rate_per_minute,
            .latency_p50_ms = pi[n].latency_p50_ms,
            .latency_p95_ms = pi[n].latency_p95_ms,
        };
    }
    hbs_write_queue(b, &q, p, (size_t)n);
}

static char *hb_build(struct heartbeat *h, const char *state)
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
    hb_write_queue(&b, d, &qc);
    struct hbs_detail detail = {
        .db = dbconn_state(d->db),
        .offline = qc.offline,
        .degraded_reason =
            qc.offline ? "offline: no upstream reachable at the connection level" : NULL,
        .paused = si.paused,
        .paused_since = si.paused ? si.paused_since_wall_ms : 0,
        .heartbeat_s = cfg->heartbeat_s,
        .skipped_deadlines = si.skipped,
        .cycles_started = si.cycles_started,
        .write_buffer_rows = (int64_t)ws.buffered_rows,
        .rows_dropped = (int64_t)ws.dropped_rows,
    };
    jbuf_key(&b, "detail");
    jbuf_obj(&b);
    hbs_write_fields(&b, hbs_detail_fields, hbs_detail_nfields, &detail);
    jbuf_obj_end(&b);
    jbuf_obj_end(&b);
    return jbuf_take(&b);
}

static void hb_on_sent(int written, const PGresult *res, void *cls)
{
    (void)written;
    (void)res;
    struct heartbeat *h = cls;
    h->inflight = 0;
}

void heartbeat_now(struct heartbeat *h)
{
    /* after the final "stopped" row, a late "running" one would undo it */
    if (!h->inflight && !h->d->stopping) {
        char *json = hb_build(h, "running");
        const char *params[1] = {json};
        if (json && writer_submit_news(h->d->writer, SQL_HEARTBEAT, 1, params, hb_on_sent, h) == 0)
            h->inflight = 1;
        free(json);
    }
}

static int64_t hb_on_timer(struct loop *l, void *cls)
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
    h->timer = loop_timer_add(d->loop, 0, hb_on_timer, h);
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
    char *json = hb_build(h, "stopped");
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
