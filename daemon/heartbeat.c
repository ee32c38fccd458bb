/*
 * heartbeat — see heartbeat.h.
 */
#include "heartbeat.h"
#include "backfill.h"
#include "fleet.h"
#include "heartbeat_schema.h"
#include "jbuf.h"
#include "procstat.h"
#include "sources.h"
#include "sql.h"
#include "staleness.h"

#include <stdlib.h>
#include <string.h>

/* The queue's per-provider arrays travel in the heartbeat's. */
_Static_assert((int)QUEUE_OUTCOMES == (int)HBS_OUTCOMES, "one outcome list");
_Static_assert(QUEUE_LATENCY_BUCKETS <= HBS_LATENCY_MAX, "latency buckets fit");
_Static_assert(QUEUE_MAX_PROVIDERS <= HBS_MAX_PROVIDERS, "providers fit");
_Static_assert(STALENESS_TYPES <= HBS_MAX_TYPES, "asset types fit");

struct heartbeat {
    struct daemon *d;
    struct scheduler *s;
    int64_t timer;
    int inflight;
    int again; /* asked for while one was in flight: send when it lands */
};

/* The `queue` column's counters. */
static void hb_queue(struct daemon *d, const struct queue_counters *qc, struct hbs_queue *q)
{
    /* Requests as sent (fallbacks included); batches are the queue's unit. */
    uint64_t requests = fetcher_requests(d->fetcher);
    *q = (struct hbs_queue){
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
        .nlatency_bounds = QUEUE_LATENCY_BUCKETS,
    };
    for (size_t i = 0; i < QUEUE_LATENCY_BUCKETS; i++)
        q->latency_bounds_s[i] = queue_latency_bounds_ms[i] / 1000.0;
}

/* Each provider's state, into p[0, HB_PROVIDERS); returns how many. */
#define HB_PROVIDERS QUEUE_MAX_PROVIDERS
static size_t hb_providers(struct daemon *d, const struct queue_counters *qc,
                           struct queue_provider_info *pi, struct hbs_provider *p)
{
    int np = queue_get_providers(d->queue, pi, HB_PROVIDERS);
    int64_t mono = util_mono_ms(), wall = util_wall_ms();
    size_t n = 0;
    for (; (int)n < np && n < HB_PROVIDERS; n++) {
        p[n] = (struct hbs_provider){
            .name = pi[n].name,
            /* "ok" only when its recent requests all worked: one that
             * answers errors is degraded, not ok */
            .state = qc->offline               ? "offline"
                     : pi[n].paused_until      ? "paused"
                     : pi[n].down              ? "down"
                     : pi[n].recent_failed > 0 ? "degraded"
                                               : "ok",
            .recent_requests = pi[n].recent_requests,
            .recent_failed = pi[n].recent_failed,
            .last_error = pi[n].recent_failed > 0 ? pi[n].last_error : NULL,
            .paused_until = pi[n].paused_until ? wall + (pi[n].paused_until - mono) : 0,
            .refused = pi[n].refused,
            .pause_reason = pi[n].refused ? pi[n].pause_reason : NULL,
            .down = pi[n].down,
            .refusals = (int64_t)pi[n].refusals,
            .failovers_out = (int64_t)pi[n].failovers_out,
            .failovers_in = (int64_t)pi[n].failovers_in,
            .in_flight = pi[n].batches_in_flight,
            .queued = (int64_t)pi[n].queued,
            .requests = (int64_t)pi[n].requests,
            .errors = (int64_t)pi[n].errors,
            .rate_per_minute = pi[n].rate_per_minute,
            .latency_p50_ms = pi[n].latency_p50_ms,
            .latency_p95_ms = pi[n].latency_p95_ms,
            .latency_sum_s = pi[n].latency_sum_ms / 1000.0,
        };
        for (size_t k = 0; k < QUEUE_OUTCOMES; k++)
            p[n].outcomes[k] = (int64_t)pi[n].outcomes[k];
        for (size_t k = 0; k <= QUEUE_LATENCY_BUCKETS; k++)
            p[n].latency_buckets[k] = (int64_t)pi[n].latency_buckets[k];
        for (size_t k = 0; k < QUEUE_MAX_PROVIDERS; k++)
            p[n].failovers_to[k] = (int64_t)pi[n].failovers_to[k];
    }
    return n;
}

/* The from → to pairs that happened, into fo[0, HB_PROVIDERS²); returns
 * how many. */
static size_t hb_failovers(const struct queue_provider_info *pi, size_t np, struct hbs_failover *fo)
{
    size_t n = 0;
    for (size_t i = 0; i < np; i++)
        for (size_t j = 0; j < np && j < QUEUE_MAX_PROVIDERS; j++)
            if (pi[i].failovers_to[j] > 0)
                fo[n++] =
                    (struct hbs_failover){pi[i].name, pi[j].name, (int64_t)pi[i].failovers_to[j]};
    return n;
}

/* Each class's sources as configured, into cl[0, SRC_CLASSES); the texts
 * into text. */
static size_t hb_classes(const struct daemon *d, struct hbs_source_class *cl, char (*text)[128])
{
    for (int c = 0; c < SRC_CLASSES; c++) {
        const char *note;
        size_t usable = sources_usable(d->sources, (enum source_class)c, &note);
        sources_describe(d->sources, (enum source_class)c, text[c], sizeof text[c]);
        cl[c] = (struct hbs_source_class){sources_class_name((enum source_class)c), text[c],
                                          (int64_t)usable, note};
    }
    return SRC_CLASSES;
}

/* The heartbeat document (heartbeat_schema.h) for state "running" or
 * "stopped"; malloc'd, or NULL when out of memory. */
static char *hb_build(struct heartbeat *h, const char *state)
{
    struct daemon *d = h->d;
    struct sched_info si;
    scheduler_get(h->s, &si);
    struct queue_counters qc;
    queue_get_counters(d->queue, &qc);
    struct writer_stats ws;
    writer_get_stats(d->writer, &ws);
    int64_t next = 0;
    if (si.next_deadline_mono > 0) {
        int64_t in = si.next_deadline_mono - util_mono_ms();
        next = util_wall_ms() + (in > 0 ? in : 0);
    }
    /* A cycle is named only while it is active (fetching, or its writes
     * pending): an idle daemon has no current cycle. The leader of a fleet
     * names the shared cycle it planned, with the fleet's progress. */
    struct fleet_info fi;
    fleet_get(d->fleet, &fi);
    if (strcmp(si.progress.phase, "idle") == 0 && fi.open_cycle_id != 0) {
        si.progress.seq = fi.open_seq;
        si.progress.phase = "fetching";
        si.progress.done = (int)fi.open_done;
        si.progress.total = (int)fi.open_total;
        si.progress.started_wall_ms = 0;
    }
    int active = si.progress.seq > 0 && strcmp(si.progress.phase, "idle") != 0;
    struct hbs_row row = {
        .instance_id = d->instance_id,
        .host = d->host,
        .version = FETCHER_VERSION,
        .pid = d->pid,
        .started_at = d->started_wall_ms,
        .state = state,
        .phase = strcmp(state, "stopped") == 0 ? "idle" : si.progress.phase,
        .interval_s = cfg->fetch_interval_s,
        .next_cycle_at = next,
        .cycle_seq = active ? si.progress.seq : 0,
        .cycle_started = active ? si.progress.started_wall_ms : 0,
        .cycle_done = si.progress.done,
        .cycle_total = si.progress.total,
        .tracked_assets = si.tracked_assets < 0 ? 0 : si.tracked_assets,
    };
    struct hbs_queue q;
    hb_queue(d, &qc, &q);
    struct queue_provider_info pi[HB_PROVIDERS];
    struct hbs_provider p[HB_PROVIDERS];
    size_t np = hb_providers(d, &qc, pi, p);
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
        .fleet_role = fi.role_name,
        .fleet_leader = fi.leader[0] ? fi.leader : NULL,
        .fleet_epoch = fi.epoch,
        .fleet_shares = fi.shares_done,
        .fleet_assets = fi.assets_done,
        .fleet_claims_released = fi.claims_released,
        .write_buffer_capacity = cfg->write_buffer_rows,
        .stale_types = staleness_type_names,
        .stale_after_s = d->staleness != NULL ? d->staleness->bound_s : NULL,
        .nstale = d->staleness != NULL ? STALENESS_TYPES : 0,
    };
    detail.market_hours = (int)cfg->market_hours;
    if (d->backfill) {
        struct backfill_info bi;
        backfill_get(d->backfill, &bi);
        detail.backfill_active = bi.active;
        detail.backfill_total = bi.total;
        detail.backfill_done = bi.done;
        detail.backfill_failed = bi.failed;
        detail.backfill_requests = (int64_t)qc.history_requests;
    }
    struct procstat ps;
    if (procstat_read(&ps) == 0)
        detail.process = (struct hbs_process){
            .cpu_seconds = ps.cpu_seconds,
            .resident_memory_bytes = ps.resident_bytes,
            .virtual_memory_bytes = ps.virtual_bytes,
            .open_fds = ps.open_fds,
            .max_fds = ps.max_fds,
            .start_time_seconds = ps.start_time_seconds,
        };
    struct jbuf b;
    jbuf_init(&b);
    struct hbs_failover fo[HB_PROVIDERS * HB_PROVIDERS];
    struct hbs_source_class cl[SRC_CLASSES];
    char cltext[SRC_CLASSES][128];
    struct hbs_queue_extra extra = {fo, hb_failovers(pi, np, fo), cl, hb_classes(d, cl, cltext)};
    hbs_write_ex(&b, &row, &q, p, np, &extra, &detail);
    return jbuf_take(&b);
}

static void hb_on_sent(int written, const PGresult *res, void *cls)
{
    (void)written;
    (void)res;
    struct heartbeat *h = cls;
    h->inflight = 0;
    if (h->again) {
        h->again = 0;
        heartbeat_now(h);
    }
}

void heartbeat_now(struct heartbeat *h)
{
    /* after the final "stopped" row, a late "running" one would undo it */
    if (h->inflight) {
        h->again = 1; /* what changed meanwhile goes out when this lands */
        return;
    }
    if (!h->d->stopping) {
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
