/*
 * ep_metrics — GET /metrics in the Prometheus text format 0.0.4. Names are
 * prefixed fetcherd_ (the standard process_* series excepted), values in
 * base units (seconds, bytes), every family with HELP and TYPE, counters
 * end in _total, and no label takes a value per symbol (unbounded series
 * are what break Prometheus). README "Monitoring and alerts" lists them.
 *
 * From the database, in one statement (SQL_METRICS): cycles by status (the
 * trigger-kept fetcher_cycle_counts), the last successful cycle, a
 * histogram of the last 1000 finished cycles' durations, tracked assets,
 * failed price updates by provider over the retention window, price age
 * and staleness per asset type, open alerts, and the live instances'
 * heartbeats. From each heartbeat (PostgreSQL is the only channel between
 * the programs), one series per live instance, labelled instance_id (not
 * `instance`, which Prometheus gives the scrape target): the queue,
 * per-provider request outcomes, latency histogram, state and failovers,
 * the write buffer, and fetcherd's own process_* figures. Counters there
 * start again at 0 when a daemon restarts, under a new instance_id unless
 * FETCHER_INSTANCE_ID is set; rate() handles both.
 *
 * From this process: request counters and latencies (metrics.c), event
 * streams (events.c), the webhook's notifications (alerts.c) and its own
 * process_* figures. When the database is away the answer is still 200,
 * with these and fetcherd_database_up 0, so "the database is away" is a
 * series one can alert on rather than a failed scrape.
 */
#include "alerts.h"
#include "apidb.h"
#include "config.h"
#include "events.h"
#include "handlers.h"
#include "heartbeat_schema.h"
#include "log.h"
#include "metrics.h"
#include "procstat.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* One live instance with seven providers takes about 20 KB. */
#define METRICS_BUF (512 * 1024)

/* Bucket bounds of fetcherd_cycle_duration_seconds: the same list, in ms,
 * as the FILTERs of SQL_METRICS. */
static const double cycle_bounds_s[] = {0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300};

/* What a provider's state is called in fetcherd_provider_state: the
 * heartbeat's ok|degraded|paused|down|offline, with a pause split by its
 * cause (a 429 or a refusal). Every provider has one series per state, 1
 * for its state and 0 for the others, so an alert sees a state end. */
static const char *const provider_states[] = {"ok",      "degraded", "rate_limited",
                                              "blocked", "down",     "offline"};

struct out {
    char *b;
    size_t n, len;
};

#define OUT(o, ...) metrics_appendf((o)->b, (o)->n, &(o)->len, __VA_ARGS__)

static json_object *jget(json_object *o, const char *key)
{
    json_object *v = NULL;
    if (o == NULL || !json_object_object_get_ex(o, key, &v))
        return NULL;
    return v;
}

static int64_t jint(json_object *o, const char *key)
{
    json_object *v = jget(o, key);
    return v != NULL ? json_object_get_int64(v) : 0;
}

static double jnum(json_object *o, const char *key)
{
    json_object *v = jget(o, key);
    return v != NULL ? json_object_get_double(v) : 0.0;
}

static const char *jstr(json_object *o, const char *key)
{
    json_object *v = jget(o, key);
    return v != NULL && json_object_is_type(v, json_type_string) ? json_object_get_string(v) : "";
}

/* Label values: backslash, quote and newline escaped, as the format asks;
 * cut at outlen. */
static void label_value(const char *s, char *out, size_t outlen)
{
    size_t w = 0;
    for (; *s != '\0' && w + 3 < outlen; s++) {
        if (*s == '\\' || *s == '"') {
            out[w++] = '\\';
            out[w++] = *s;
        } else if (*s == '\n') {
            out[w++] = '\\';
            out[w++] = 'n';
        } else {
            out[w++] = *s;
        }
    }
    out[w] = '\0';
}

static void family(struct out *o, const char *name, const char *type, const char *help)
{
    OUT(o, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* ---- from the database ------------------------------------------------ */

static void fmt_cycles(struct out *o, json_object *d)
{
    static const char *const statuses[] = {"succeeded", "partial", "failed",
                                           "aborted",   "empty",   "running"};
    family(o, "fetcherd_cycles_total", "counter",
           "Fetch cycles recorded in fetcher_cycles, by status (running = started and not "
           "finished).");
    json_object *v = jget(d, "cycles");
    for (size_t i = 0; i < ARRAY_LEN(statuses); i++)
        OUT(o, "fetcherd_cycles_total{status=\"%s\"} %lld\n", statuses[i],
            (long long)jint(v, statuses[i]));

    family(o, "fetcherd_last_success_timestamp_seconds", "gauge",
           "When the newest cycle with status succeeded finished (Unix time; 0 = never).");
    OUT(o, "fetcherd_last_success_timestamp_seconds %.3f\n", jnum(d, "last_success"));

    family(o, "fetcherd_cycle_duration_seconds", "histogram",
           "Duration of the last 1000 finished cycles (a window over fetcher_cycles, not since "
           "process start).");
    v = jget(d, "durations");
    json_object *le = jget(v, "le");
    for (size_t i = 0; i < ARRAY_LEN(cycle_bounds_s); i++)
        OUT(o, "fetcherd_cycle_duration_seconds_bucket{le=\"%g\"} %lld\n", cycle_bounds_s[i],
            le != NULL ? (long long)json_object_get_int64(json_object_array_get_idx(le, i)) : 0LL);
    long long cnt = (long long)jint(v, "count");
    OUT(o, "fetcherd_cycle_duration_seconds_bucket{le=\"+Inf\"} %lld\n", cnt);
    OUT(o, "fetcherd_cycle_duration_seconds_sum %.3f\n", (double)jint(v, "sum_ms") / 1000.0);
    OUT(o, "fetcherd_cycle_duration_seconds_count %lld\n", cnt);

    family(o, "fetcherd_assets_tracked", "gauge", "Assets in tracked_assets.");
    OUT(o, "fetcherd_assets_tracked %lld\n", (long long)jint(d, "assets_tracked"));

    family(o, "fetcherd_failed_updates", "gauge",
           "Failed price updates by provider, over the price_update_log rows still kept "
           "(LOG_RETENTION_DAYS); it decreases when old rows expire.");
    v = jget(d, "errors");
    if (v != NULL && json_object_is_type(v, json_type_object)) {
        json_object_object_foreach(v, prov, cntv)
        {
            char lv[80];
            label_value(prov, lv, sizeof lv);
            OUT(o, "fetcherd_failed_updates{provider=\"%s\"} %lld\n", lv,
                (long long)json_object_get_int64(cntv));
        }
    }
}

/* Per asset type, every type the schema knows (so a stale count going
 * back to 0 is seen, not a series vanishing); the age only where the type
 * has tracked assets. */
static void fmt_staleness(struct out *o, json_object *d)
{
    static const char *const types[] = {"stock", "etf",  "crypto", "fx",
                                        "bond",  "fund", "index",  "commodity"};
    json_object *st = jget(d, "staleness");
    family(o, "fetcherd_price_age_seconds", "gauge",
           "Age of the oldest tracked price of each asset type: time since its last successful "
           "update (since it was tracked, when it never had one).");
    for (size_t i = 0; i < ARRAY_LEN(types); i++) {
        json_object *t = jget(st, types[i]);
        if (t != NULL)
            OUT(o, "fetcherd_price_age_seconds{type=\"%s\"} %.3f\n", types[i],
                jnum(t, "max_age_s"));
    }
    family(o, "fetcherd_price_stale_after_seconds", "gauge",
           "Age past which a price of the type counts as stale: fetcherd's staleness bound "
           "(FETCH_STALENESS) plus one fetch interval.");
    for (size_t i = 0; i < ARRAY_LEN(types); i++) {
        json_object *t = jget(st, types[i]);
        if (t != NULL)
            OUT(o, "fetcherd_price_stale_after_seconds{type=\"%s\"} %lld\n", types[i],
                (long long)jint(t, "bound_s"));
    }
    family(o, "fetcherd_stale_assets", "gauge",
           "Tracked assets whose price is older than fetcherd_price_stale_after_seconds.");
    for (size_t i = 0; i < ARRAY_LEN(types); i++)
        OUT(o, "fetcherd_stale_assets{type=\"%s\"} %lld\n", types[i],
            (long long)jint(jget(st, types[i]), "stale"));
}

static void fmt_alerts_open(struct out *o, json_object *d)
{
    json_object *a = jget(d, "alerts");
    family(o, "fetcherd_alerts_firing", "gauge",
           "Alerts fetcher-api has raised and not yet resolved (fetcher_alerts), by alert.");
    for (size_t i = 0; i < ALERT_KINDS; i++)
        OUT(o, "fetcherd_alerts_firing{alert=\"%s\"} %lld\n", alert_kind_name(i),
            (long long)jint(a, alert_kind_name(i)));
}

/* ---- from the live instances' heartbeats ------------------------------ */

struct inst {
    json_object *queue, *detail, *providers;
    double started_at;
    char id[160]; /* escaped */
};

#define MAX_INST 16

static size_t read_instances(json_object *d, struct inst *in)
{
    json_object *arr = jget(d, "instances");
    size_t n = 0;
    if (arr == NULL || !json_object_is_type(arr, json_type_array))
        return 0;
    for (size_t i = 0; i < json_object_array_length(arr) && n < MAX_INST; i++) {
        json_object *e = json_object_array_get_idx(arr, i);
        json_object *q = jget(e, "queue");
        if (q == NULL || !json_object_is_type(q, json_type_object))
            continue;
        in[n].queue = q;
        in[n].detail = jget(e, "detail");
        in[n].providers = jget(q, HBS_QUEUE_PROVIDERS);
        if (in[n].providers != NULL && !json_object_is_type(in[n].providers, json_type_array))
            in[n].providers = NULL;
        in[n].started_at = jnum(e, "started_at");
        label_value(jstr(e, "id"), in[n].id, sizeof in[n].id);
        n++;
    }
    return n;
}

static size_t nprov(const struct inst *in)
{
    return in->providers != NULL ? json_object_array_length(in->providers) : 0;
}

/* One gauge or counter per instance from a member of its queue or detail
 * object. */
static void fmt_per_instance(struct out *o, const struct inst *in, size_t n)
{
    static const struct {
        const char *metric, *type, *obj, *key, *help;
    } s[] = {
        {"fetcherd_upstream_requests_total", "counter", "queue", "upstream_requests",
         "HTTP requests fetcherd sent to price providers, per live instance since its start."},
        {"fetcherd_deduplicated_total", "counter", "queue", "deduplicated",
         "Fetches served by a request already queued or in flight, per live instance."},
        {"fetcherd_cache_hits_total", "counter", "queue", "cache_hits",
         "Fetches served from fetcherd's TTL cache, per live instance."},
        {"fetcherd_queue_depth", "gauge", "queue", "queued",
         "Fetch queue entries waiting to be sent (not in flight, not in backoff)."},
        {"fetcherd_queue_in_flight", "gauge", "queue", "in_flight",
         "Fetch queue entries whose request is on its way."},
        {"fetcherd_write_buffer_rows", "gauge", "detail", "write_buffer_rows",
         "Rows fetcherd holds in memory until the database takes them (they pile up while it "
         "is away)."},
        {"fetcherd_write_buffer_capacity_rows", "gauge", "detail", "write_buffer_capacity",
         "The write buffer's size (WRITE_BUFFER_ROWS); past it rows are dropped."},
        {"fetcherd_write_buffer_dropped_rows_total", "counter", "detail", "rows_dropped",
         "Rows dropped because the write buffer was full."},
    };
    for (size_t k = 0; k < ARRAY_LEN(s); k++) {
        family(o, s[k].metric, s[k].type, s[k].help);
        for (size_t i = 0; i < n; i++) {
            json_object *src = strcmp(s[k].obj, "queue") == 0 ? in[i].queue : in[i].detail;
            OUT(o, "%s{instance_id=\"%s\"} %lld\n", s[k].metric, in[i].id,
                (long long)jint(src, s[k].key));
        }
    }
    family(o, "fetcherd_daemon_database_connected", "gauge",
           "1 when fetcherd's own connection to the database is up (its heartbeat says db ok).");
    for (size_t i = 0; i < n; i++)
        OUT(o, "fetcherd_daemon_database_connected{instance_id=\"%s\"} %d\n", in[i].id,
            strcmp(jstr(in[i].detail, "db"), "ok") == 0);
}

static void fmt_providers(struct out *o, const struct inst *in, size_t n)
{
    char pv[80], pv2[80];
    family(o, "fetcherd_provider_requests_total", "counter",
           "Upstream requests (a batch is one) per provider, by outcome: ok, error (5xx, "
           "timeout, an answer we cannot read), connection, rate_limited (429), refused "
           "(401/403, a block page), cancelled.");
    for (size_t i = 0; i < n; i++)
        for (size_t p = 0; p < nprov(&in[i]); p++) {
            json_object *pr = json_object_array_get_idx(in[i].providers, p);
            json_object *oc = jget(pr, HBS_PROVIDER_OUTCOMES);
            label_value(jstr(pr, "name"), pv, sizeof pv);
            for (size_t k = 0; k < HBS_OUTCOMES; k++)
                OUT(o,
                    "fetcherd_provider_requests_total{instance_id=\"%s\",provider=\"%s\","
                    "outcome=\"%s\"} %lld\n",
                    in[i].id, pv, hbs_outcome_names[k], (long long)jint(oc, hbs_outcome_names[k]));
        }

    family(o, "fetcherd_provider_request_duration_seconds", "histogram",
           "Time from sending a request to a provider to its answer (or failure), per provider.");
    for (size_t i = 0; i < n; i++) {
        json_object *bounds = jget(in[i].queue, HBS_QUEUE_LATENCY_BOUNDS);
        size_t nb = bounds != NULL && json_object_is_type(bounds, json_type_array)
                        ? json_object_array_length(bounds)
                        : 0;
        for (size_t p = 0; p < nprov(&in[i]); p++) {
            json_object *pr = json_object_array_get_idx(in[i].providers, p);
            json_object *bk = jget(pr, HBS_PROVIDER_LATENCY_BUCKETS);
            if (bk == NULL || !json_object_is_type(bk, json_type_array) ||
                json_object_array_length(bk) != nb + 1)
                continue; /* a heartbeat of another shape: no histogram rather than a wrong one */
            label_value(jstr(pr, "name"), pv, sizeof pv);
            long long cum = 0;
            for (size_t k = 0; k <= nb; k++) {
                cum += (long long)json_object_get_int64(json_object_array_get_idx(bk, k));
                if (k < nb)
                    OUT(o,
                        "fetcherd_provider_request_duration_seconds_bucket{instance_id=\"%s\","
                        "provider=\"%s\",le=\"%g\"} %lld\n",
                        in[i].id, pv, json_object_get_double(json_object_array_get_idx(bounds, k)),
                        cum);
                else
                    OUT(o,
                        "fetcherd_provider_request_duration_seconds_bucket{instance_id=\"%s\","
                        "provider=\"%s\",le=\"+Inf\"} %lld\n",
                        in[i].id, pv, cum);
            }
            OUT(o,
                "fetcherd_provider_request_duration_seconds_sum{instance_id=\"%s\",provider=\"%s\"}"
                " %.6f\n",
                in[i].id, pv, jnum(pr, HBS_PROVIDER_LATENCY_SUM));
            OUT(o,
                "fetcherd_provider_request_duration_seconds_count{instance_id=\"%s\","
                "provider=\"%s\"} %lld\n",
                in[i].id, pv, cum);
        }
    }

    family(o, "fetcherd_provider_state", "gauge",
           "A provider's state, one series per state with 1 for the current one: ok, "
           "degraded (some of its last requests, within 15 min, failed), "
           "rate_limited (paused after a 429), blocked (paused after a refusal), down (failing "
           "as a whole; its assets fail over) or offline (no provider reachable at all).");
    for (size_t i = 0; i < n; i++)
        for (size_t p = 0; p < nprov(&in[i]); p++) {
            json_object *pr = json_object_array_get_idx(in[i].providers, p);
            const char *st = jstr(pr, "state");
            json_object *ref = jget(pr, "refused");
            int refused = ref != NULL && json_object_get_boolean(ref);
            const char *now =
                strcmp(st, "paused") == 0 ? (refused ? "blocked" : "rate_limited") : st;
            label_value(jstr(pr, "name"), pv, sizeof pv);
            for (size_t k = 0; k < ARRAY_LEN(provider_states); k++)
                OUT(o,
                    "fetcherd_provider_state{instance_id=\"%s\",provider=\"%s\",state=\"%s\"} "
                    "%d\n",
                    in[i].id, pv, provider_states[k], strcmp(now, provider_states[k]) == 0);
        }

    family(o, "fetcherd_failovers_total", "counter",
           "Assets (queue keys) that moved from one source to the next after the first failed "
           "or was paused, down or offline.");
    for (size_t i = 0; i < n; i++)
        for (size_t p = 0; p < nprov(&in[i]); p++) {
            json_object *pr = json_object_array_get_idx(in[i].providers, p);
            json_object *to = jget(pr, HBS_PROVIDER_FAILOVERS_TO);
            if (to == NULL || !json_object_is_type(to, json_type_object))
                continue;
            label_value(jstr(pr, "name"), pv, sizeof pv);
            json_object_object_foreach(to, dst, cntv)
            {
                label_value(dst, pv2, sizeof pv2);
                OUT(o, "fetcherd_failovers_total{instance_id=\"%s\",from=\"%s\",to=\"%s\"} %lld\n",
                    in[i].id, pv, pv2, (long long)json_object_get_int64(cntv));
            }
        }
}

/* ---- process_* ----------------------------------------------------------- */

/* The standard series of Prometheus's client libraries, for both programs:
 * fetcher-api's from /proc here, each live fetcherd's from its heartbeat
 * (as of its last beat), told apart by the `program` label. */
static void fmt_process(struct out *o, const struct inst *in, size_t n)
{
    static const struct {
        const char *metric, *type, *key, *help;
        int integer;
    } s[] = {
        {"process_cpu_seconds_total", "counter", "cpu_seconds",
         "Total user and system CPU time spent in seconds.", 0},
        {"process_resident_memory_bytes", "gauge", "resident_memory_bytes",
         "Resident memory size in bytes.", 1},
        {"process_virtual_memory_bytes", "gauge", "virtual_memory_bytes",
         "Virtual memory size in bytes.", 1},
        {"process_open_fds", "gauge", "open_fds", "Number of open file descriptors.", 1},
        {"process_max_fds", "gauge", "max_fds", "Maximum number of open file descriptors.", 1},
        {"process_start_time_seconds", "gauge", "start_time_seconds",
         "Start time of the process since unix epoch in seconds.", 0},
    };
    struct procstat self;
    if (procstat_read(&self) != 0)
        log_msg(LOG_WARNING, "metrics: cannot read /proc/self for the process_* series");
    const double mine[] = {self.cpu_seconds,           (double)self.resident_bytes,
                           (double)self.virtual_bytes, (double)self.open_fds,
                           (double)self.max_fds,       self.start_time_seconds};
    for (size_t k = 0; k < ARRAY_LEN(s); k++) {
        family(o, s[k].metric, s[k].type, s[k].help);
        if (s[k].integer)
            OUT(o, "%s{program=\"fetcher-api\"} %.0f\n", s[k].metric, mine[k]);
        else
            OUT(o, "%s{program=\"fetcher-api\"} %.3f\n", s[k].metric, mine[k]);
        for (size_t i = 0; i < n; i++) {
            json_object *pr = jget(in[i].detail, HBS_DETAIL_PROCESS);
            if (pr == NULL || jget(pr, s[k].key) == NULL)
                continue;
            if (s[k].integer)
                OUT(o, "%s{program=\"fetcherd\",instance_id=\"%s\"} %lld\n", s[k].metric, in[i].id,
                    (long long)jint(pr, s[k].key));
            else
                OUT(o, "%s{program=\"fetcherd\",instance_id=\"%s\"} %.3f\n", s[k].metric, in[i].id,
                    jnum(pr, s[k].key));
        }
    }
}

static void fmt_db(struct out *o, json_object *d)
{
    struct inst in[MAX_INST];
    size_t n = read_instances(d, in);
    fmt_cycles(o, d);
    fmt_staleness(o, d);
    fmt_alerts_open(o, d);
    fmt_per_instance(o, in, n);
    fmt_providers(o, in, n);
    family(o, "fetcherd_up", "gauge",
           "1 when a fetcherd instance is live (fresh heartbeat), else 0.");
    OUT(o, "fetcherd_up %d\n", n > 0);
    family(o, "fetcherd_live_instances", "gauge", "fetcherd instances with a fresh heartbeat.");
    OUT(o, "fetcherd_live_instances %zu\n", n);
    json_object *age = jget(d, "heartbeat_age_s");
    if (age != NULL) {
        family(o, "fetcherd_heartbeat_age_seconds", "gauge",
               "Time since the newest heartbeat of any fetcherd instance.");
        OUT(o, "fetcherd_heartbeat_age_seconds %.3f\n", json_object_get_double(age));
    }
    fmt_process(o, in, n);
}

static void fmt_local(struct out *o)
{
    metrics_format_requests(o->b, o->n, &o->len);
    struct events_stats es;
    events_get_stats(&es);
    OUT(o,
        "# HELP fetcherd_api_event_streams Server-sent event streams open now.\n"
        "# TYPE fetcherd_api_event_streams gauge\nfetcherd_api_event_streams %lld\n"
        "# HELP fetcherd_api_events_total Notifications on fetcher_events forwarded to streams.\n"
        "# TYPE fetcherd_api_events_total counter\nfetcherd_api_events_total %lld\n"
        "# HELP fetcherd_api_events_invalid_total Notifications dropped (not a JSON object with "
        "a type).\n# TYPE fetcherd_api_events_invalid_total counter\n"
        "fetcherd_api_events_invalid_total %lld\n"
        "# HELP fetcherd_api_event_streams_dropped_total Streams ended because the client fell "
        "too far behind.\n# TYPE fetcherd_api_event_streams_dropped_total counter\n"
        "fetcherd_api_event_streams_dropped_total %lld\n"
        "# HELP fetcherd_api_event_streams_refused_total Streams refused with 503 at the cap.\n"
        "# TYPE fetcherd_api_event_streams_refused_total counter\n"
        "fetcherd_api_event_streams_refused_total %lld\n",
        (long long)es.clients, (long long)es.received, (long long)es.invalid,
        (long long)es.dropped_slow, (long long)es.refused);
    struct alerts_stats as;
    alerts_get_stats(&as);
    family(o, "fetcherd_alert_notifications_total", "counter",
           "Alert notifications fetcher-api queued for ALERT_WEBHOOK_URL, by what became of "
           "them: delivered, rejected (a 4xx: not retried), dropped (the queue was full).");
    OUT(o, "fetcherd_alert_notifications_total{result=\"delivered\"} %llu\n",
        (unsigned long long)as.delivered);
    OUT(o, "fetcherd_alert_notifications_total{result=\"rejected\"} %llu\n",
        (unsigned long long)as.rejected);
    OUT(o, "fetcherd_alert_notifications_total{result=\"dropped\"} %llu\n",
        (unsigned long long)as.dropped);
    family(o, "fetcherd_alert_webhook_attempts_total", "counter",
           "POSTs to ALERT_WEBHOOK_URL, by result (failed ones are retried with backoff).");
    OUT(o, "fetcherd_alert_webhook_attempts_total{result=\"ok\"} %llu\n",
        (unsigned long long)as.attempts_ok);
    OUT(o, "fetcherd_alert_webhook_attempts_total{result=\"failed\"} %llu\n",
        (unsigned long long)as.attempts_failed);
    family(o, "fetcherd_alert_queue_notifications", "gauge",
           "Alert notifications waiting to be delivered.");
    OUT(o, "fetcherd_alert_queue_notifications %llu\n", (unsigned long long)as.queued);
}

enum MHD_Result ep_metrics(struct MHD_Connection *conn, const struct api_request *req)
{
    (void)req;
    PGresult *r = NULL;
    char window[16], bound[24];
    snprintf(window, sizeof window, "%d", ep_live_window_s());
    snprintf(bound, sizeof bound, "%lld", (long long)cfg->fetch_interval_s);
    const char *params[] = {window, bound};
    json_object *d = NULL;
    if (apidb_exec(SQL_METRICS, params, &r) == DB_OK) {
        if (PQntuples(r) == 1)
            d = json_tokener_parse(PQgetvalue(r, 0, 0));
        PQclear(r);
    }
    struct out o = {.b = malloc(METRICS_BUF), .n = METRICS_BUF};
    if (o.b == NULL) {
        json_object_put(d);
        return MHD_NO;
    }
    if (d != NULL)
        fmt_db(&o, d);
    else
        fmt_process(&o, NULL, 0);
    json_object_put(d);
    family(&o, "fetcherd_database_up", "gauge",
           "1 when fetcher-api could read this scrape's figures from the database; 0 when not "
           "(then only fetcher-api's own series are here).");
    OUT(&o, "fetcherd_database_up %d\n", d != NULL);
    fmt_local(&o);
    enum MHD_Result ret;
    if (o.len >= METRICS_BUF) {
        log_msg(LOG_ERROR, "metrics: the answer passed %d bytes", METRICS_BUF);
        ret = reply_error(conn, MHD_HTTP_INTERNAL_SERVER_ERROR, NULL, "metrics too large");
    } else {
        ret = http_reply_text(conn, MHD_HTTP_OK, "text/plain; version=0.0.4; charset=utf-8", o.b,
                              o.len);
    }
    free(o.b);
    return ret;
}

enum MHD_Result ep_events(struct MHD_Connection *conn, const struct api_request *req)
{
    return events_serve(conn, req);
}
