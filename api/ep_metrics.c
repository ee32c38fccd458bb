/*
 * ep_metrics — GET /metrics in the Prometheus text format 0.0.4. Names are
 * prefixed fetcherd_, values in base units (seconds, bytes), and no label
 * takes a value per symbol (unbounded series are what break Prometheus).
 *
 * From the database, in one statement (SQL_METRICS): cycles by status (the
 * trigger-kept fetcher_cycle_counts), the last successful cycle, a
 * histogram of the last 1000 finished cycles' durations, tracked assets,
 * failed price updates by provider over the retention window, and the live
 * instances' queue counters. From this process: request counters and
 * latencies (metrics.c), event streams (events.c), resident memory.
 */
#include "apidb.h"
#include "events.h"
#include "handlers.h"
#include "metrics.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define METRICS_BUF (32 * 1024)

/* Bucket bounds of fetcherd_cycle_duration_seconds: the same list, in ms,
 * as the FILTERs of SQL_METRICS. */
static const double cycle_bounds_s[] = {0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300};

static int64_t obj_i64(struct json_object *o, const char *key)
{
    struct json_object *v;
    return json_object_object_get_ex(o, key, &v) ? json_object_get_int64(v) : 0;
}

/* Label values: backslash, quote and newline escaped, as the format asks. */
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

static long long rss_bytes(void)
{
    long long size = 0, resident = 0;
    FILE *f = fopen("/proc/self/statm", "re");
    if (f == NULL)
        return 0;
    if (fscanf(f, "%lld %lld", &size, &resident) != 2)
        resident = 0;
    fclose(f);
    return resident * sysconf(_SC_PAGESIZE);
}

static void format_db(char *b, size_t n, size_t *len, struct json_object *d)
{
    static const char *const statuses[] = {"succeeded", "partial", "failed",
                                           "aborted",   "empty",   "running"};
    struct json_object *v, *x;
    metrics_appendf(b, n, len,
                    "# HELP fetcherd_cycles_total Fetch cycles recorded in fetcher_cycles, by "
                    "status (running = started and not finished).\n"
                    "# TYPE fetcherd_cycles_total counter\n");
    json_object_object_get_ex(d, "cycles", &v);
    for (size_t i = 0; i < ARRAY_LEN(statuses); i++)
        metrics_appendf(b, n, len, "fetcherd_cycles_total{status=\"%s\"} %lld\n", statuses[i],
                        v != NULL ? (long long)obj_i64(v, statuses[i]) : 0LL);

    metrics_appendf(b, n, len,
                    "# HELP fetcherd_last_success_timestamp_seconds When the newest cycle with "
                    "status succeeded finished (Unix time; 0 = never).\n"
                    "# TYPE fetcherd_last_success_timestamp_seconds gauge\n");
    double last = 0;
    if (json_object_object_get_ex(d, "last_success", &v) && v != NULL)
        last = json_object_get_double(v);
    metrics_appendf(b, n, len, "fetcherd_last_success_timestamp_seconds %.3f\n", last);

    metrics_appendf(b, n, len,
                    "# HELP fetcherd_cycle_duration_seconds Duration of the last 1000 finished "
                    "cycles (a window over fetcher_cycles, not since process start).\n"
                    "# TYPE fetcherd_cycle_duration_seconds histogram\n");
    json_object_object_get_ex(d, "durations", &v);
    x = NULL;
    if (v != NULL)
        json_object_object_get_ex(v, "le", &x);
    for (size_t i = 0; i < ARRAY_LEN(cycle_bounds_s); i++)
        metrics_appendf(
            b, n, len, "fetcherd_cycle_duration_seconds_bucket{le=\"%g\"} %lld\n",
            cycle_bounds_s[i],
            x != NULL ? (long long)json_object_get_int64(json_object_array_get_idx(x, i)) : 0LL);
    long long cnt = v != NULL ? (long long)obj_i64(v, "count") : 0;
    metrics_appendf(b, n, len, "fetcherd_cycle_duration_seconds_bucket{le=\"+Inf\"} %lld\n", cnt);
    metrics_appendf(b, n, len, "fetcherd_cycle_duration_seconds_sum %.3f\n",
                    v != NULL ? (double)obj_i64(v, "sum_ms") / 1000.0 : 0.0);
    metrics_appendf(b, n, len, "fetcherd_cycle_duration_seconds_count %lld\n", cnt);

    metrics_appendf(b, n, len,
                    "# HELP fetcherd_assets_tracked Assets in tracked_assets.\n"
                    "# TYPE fetcherd_assets_tracked gauge\nfetcherd_assets_tracked %lld\n",
                    (long long)obj_i64(d, "assets_tracked"));

    metrics_appendf(
        b, n, len,
        "# HELP fetcherd_errors_total Failed price updates by provider, counted over "
        "the price_update_log rows still kept (LOG_RETENTION_DAYS), so it can "
        "decrease when old rows expire (hence a gauge).\n# TYPE fetcherd_errors_total gauge\n");
    if (json_object_object_get_ex(d, "errors", &v) && v != NULL) {
        json_object_object_foreach(v, prov, cntv)
        {
            char lv[80];
            label_value(prov, lv, sizeof lv);
            metrics_appendf(b, n, len, "fetcherd_errors_total{provider=\"%s\"} %lld\n", lv,
                            (long long)json_object_get_int64(cntv));
        }
    }

    /* Queue counters live in each daemon's heartbeat and restart with it:
     * one series per live instance, as Prometheus expects of a counter. */
    static const struct {
        const char *metric, *key, *help;
    } qc[] = {
        {"fetcherd_upstream_requests_total", "upstream_requests",
         "HTTP requests fetcherd sent to price providers, per live instance since its start."},
        {"fetcherd_deduplicated_total", "deduplicated",
         "Fetches served by a request already queued or in flight, per live instance."},
        {"fetcherd_cache_hits_total", "cache_hits",
         "Fetches served from fetcherd's TTL cache, per live instance."},
    };
    struct json_object *inst = NULL;
    json_object_object_get_ex(d, "instances", &inst);
    size_t ninst = inst != NULL && json_object_is_type(inst, json_type_array)
                       ? json_object_array_length(inst)
                       : 0;
    for (size_t q = 0; q < ARRAY_LEN(qc); q++) {
        metrics_appendf(b, n, len, "# HELP %s %s\n# TYPE %s counter\n", qc[q].metric, qc[q].help,
                        qc[q].metric);
        for (size_t i = 0; i < ninst; i++) {
            struct json_object *e = json_object_array_get_idx(inst, i), *id, *queue;
            if (!json_object_object_get_ex(e, "id", &id) ||
                !json_object_object_get_ex(e, "queue", &queue) || queue == NULL)
                continue;
            char lv[160];
            label_value(json_object_get_string(id), lv, sizeof lv);
            metrics_appendf(b, n, len, "%s{instance=\"%s\"} %lld\n", qc[q].metric, lv,
                            (long long)obj_i64(queue, qc[q].key));
        }
    }
    metrics_appendf(b, n, len,
                    "# HELP fetcherd_up 1 when a fetcherd instance is live (fresh heartbeat), "
                    "else 0.\n# TYPE fetcherd_up gauge\nfetcherd_up %d\n",
                    ninst > 0 ? 1 : 0);
}

enum MHD_Result ep_metrics(struct MHD_Connection *conn, const struct api_request *req)
{
    (void)req;
    PGresult *r = NULL;
    char window[16];
    snprintf(window, sizeof window, "%d", ep_live_window_s());
    const char *params[] = {window};
    enum db_status st = apidb_exec(SQL_METRICS, params, &r);
    if (st != DB_OK)
        return http_reply_db(conn, st);
    struct json_object *d = PQntuples(r) == 1 ? json_tokener_parse(PQgetvalue(r, 0, 0)) : NULL;
    PQclear(r);
    if (d == NULL)
        return reply_error(conn, MHD_HTTP_INTERNAL_SERVER_ERROR, NULL, "internal error");
    char *buf = malloc(METRICS_BUF);
    if (buf == NULL) {
        json_object_put(d);
        return MHD_NO;
    }
    size_t len = 0;
    format_db(buf, METRICS_BUF, &len, d);
    json_object_put(d);
    metrics_format_requests(buf, METRICS_BUF, &len);
    struct events_stats es;
    events_get_stats(&es);
    metrics_appendf(
        buf, METRICS_BUF, &len,
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
        "fetcherd_api_event_streams_refused_total %lld\n"
        "# HELP fetcherd_process_resident_memory_bytes Resident memory of fetcher-api "
        "(/proc/self/statm).\n# TYPE fetcherd_process_resident_memory_bytes gauge\n"
        "fetcherd_process_resident_memory_bytes %lld\n",
        (long long)es.clients, (long long)es.received, (long long)es.invalid,
        (long long)es.dropped_slow, (long long)es.refused, rss_bytes());
    enum MHD_Result ret =
        http_reply_text(conn, MHD_HTTP_OK, "text/plain; version=0.0.4; charset=utf-8", buf,
                        len < METRICS_BUF ? len : METRICS_BUF - 1);
    free(buf);
    return ret;
}

enum MHD_Result ep_events(struct MHD_Connection *conn, const struct api_request *req)
{
    return events_serve(conn, req);
}
