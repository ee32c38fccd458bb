/*
 * heartbeat_schema — the contract of the fetcher_instances row's two JSON
 * columns, `queue` and `detail`: which fields there are, their JSON types
 * and units, and which ones readers may count on. fetcherd writes them
 * (daemon/heartbeat.c); fetcher-api reads them back (api/ep_status.c,
 * api/status_rule.c). Both go through the tables here, so a field added on
 * one side is known to the other.
 *
 * What it is not: the row's other columns are plain SQL columns (sql.c on
 * each side); this says nothing about when heartbeats are sent.
 */
#ifndef FETCHER_HEARTBEAT_SCHEMA_H
#define FETCHER_HEARTBEAT_SCHEMA_H

#include "jbuf.h"

#include <json-c/json.h>
#include <stddef.h>
#include <stdint.h>

/* How a field appears on the wire. */
enum hbs_type {
    HBS_COUNT,  /* JSON integer (int64_t in the struct) */
    HBS_NUMBER, /* JSON number (double) */
    HBS_BOOL,   /* JSON true/false (int) */
    HBS_STRING, /* JSON string, or null when NULL (const char *) */
    HBS_TIME,   /* ISO-8601 UTC string, or null when 0 (int64_t wall ms) */
};

/* What fetcher-api does with a queue field. */
enum hbs_serve {
    HBS_ALWAYS,   /* in every queue object it answers; 0 when not written */
    HBS_IF_SENT,  /* passed on as written, when written */
    HBS_RAW_ONLY, /* only in the raw copy of /statistics' instances */
};

struct hbs_field {
    const char *name;
    enum hbs_type type;
    const char *unit; /* for people: "entries", "requests", "ms", … */
    enum hbs_serve serve;
    size_t offset; /* of the value in the table's struct */
};

/* `queue`: the fetch queue's counters, totals since the process started
 * unless the unit says otherwise. Followed on the wire by "providers", an
 * array of hbs_provider objects. */
struct hbs_queue {
    int64_t queued, in_flight, backoff, completed, deduplicated, errors, retries;
    int64_t cache_hits, cache_misses, upstream_requests, batches, bytes_received;
    int64_t rate_limited, cached;
    double keys_per_request;
};
extern const struct hbs_field hbs_queue_fields[];
extern const size_t hbs_queue_nfields;
#define HBS_QUEUE_PROVIDERS "providers"

/* One element of queue.providers. */
struct hbs_provider {
    const char *name;
    const char *state;    /* "ok", "paused" (by a 429) or "offline" */
    int64_t paused_until; /* wall ms; 0 = not paused */
    int64_t in_flight, queued, requests, errors, rate_per_minute;
    double latency_p50_ms, latency_p95_ms;
};
extern const struct hbs_field hbs_provider_fields[];
extern const size_t hbs_provider_nfields;

/* `detail`: the daemon's view of its own health. fetcher-api's status rule
 * reads the three fields named below; the others are shown as written. */
struct hbs_detail {
    const char *db; /* dbconn_state(): "ok", "connecting", "reconnecting" */
    int offline;
    const char *degraded_reason;
    int paused;
    int64_t paused_since; /* wall ms; 0 = unknown or not paused */
    int64_t heartbeat_s, skipped_deadlines, cycles_started, write_buffer_rows, rows_dropped;
};
extern const struct hbs_field hbs_detail_fields[];
extern const size_t hbs_detail_nfields;
#define HBS_DETAIL_DB "db"
#define HBS_DETAIL_OFFLINE "offline"
#define HBS_DETAIL_DEGRADED_REASON "degraded_reason"

/* Writes the members of s described by fields[0, n) into the open object
 * of b. */
void hbs_write_fields(struct jbuf *b, const struct hbs_field *fields, size_t n, const void *s);
/* Writes q and providers[0, np) as the `queue` object. */
void hbs_write_queue(struct jbuf *b, const struct hbs_queue *q, const struct hbs_provider *p,
                     size_t np);

/* The queue object fetcher-api answers, from the column's parsed JSON (src
 * borrowed; NULL or not an object: all HBS_ALWAYS counters 0). Returns a
 * new object (one reference for the caller) or NULL when out of memory. */
json_object *hbs_read_queue(json_object *src);

#endif
