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

/* What fetcher-api does with a queue field. */
enum hbs_serve {
    HBS_ALWAYS,   /* in every queue object it answers; 0 when not written */
    HBS_IF_SENT,  /* passed on as written, when written */
    HBS_RAW_ONLY, /* only in the raw copy of /statistics' instances */
};

/* A field: its name, its JSON type (jbuf.h: JBUF_INT an integer, JBUF_TIME
 * an ISO-8601 UTC string, …; each "or null" where the type says so), its
 * unit, and the member of the table's struct that holds it. */
struct hbs_field {
    const char *name;
    enum jbuf_type type;
    const char *unit; /* for people: "entries", "requests", "ms", … */
    enum hbs_serve serve;
    size_t offset; /* of the value in the table's struct */
};

/* The row itself (SQL_HEARTBEAT unpacks it into fetcher_instances'
 * columns; `queue` and `detail` below are its two JSON columns). */
struct hbs_row {
    const char *instance_id, *host, *version;
    int64_t pid;
    int64_t started_at; /* wall ms */
    const char *state;  /* "running" or "stopped" */
    const char *phase;  /* cycle_progress's phase */
    int64_t interval_s;
    int64_t next_cycle_at; /* wall ms; 0 = none scheduled */
    int64_t cycle_seq;     /* the active cycle, 0 = none */
    int64_t cycle_started; /* wall ms; 0 = no active cycle */
    int64_t cycle_done, cycle_total, tracked_assets;
};
extern const struct hbs_field hbs_row_fields[];
extern const size_t hbs_row_nfields;

/* Sizes of the arrays the heartbeat carries for /metrics. */
#define HBS_MAX_PROVIDERS 8 /* the fetch queue's QUEUE_MAX_PROVIDERS */
#define HBS_LATENCY_MAX 16  /* latency histogram bounds */
#define HBS_MAX_TYPES 8     /* asset types with a staleness bound */

/* Outcomes of a provider's requests (daemon/queue.h, enum queue_outcome,
 * in the same order), as the keys of a provider's "outcomes" object. */
enum { HBS_OUTCOMES = 6 };
extern const char *const hbs_outcome_names[HBS_OUTCOMES];

/* `queue`: the fetch queue's counters, totals since the process started
 * unless the unit says otherwise. Followed on the wire by "providers", an
 * array of hbs_provider objects. */
struct hbs_queue {
    int64_t queued, in_flight, backoff, completed, deduplicated, errors, retries;
    int64_t cache_hits, cache_misses, upstream_requests, batches, bytes_received;
    int64_t rate_limited, cached;
    double keys_per_request;
    /* Written after the table's fields as "latency_bounds_s", an array:
     * the upper bounds of every provider's latency_buckets. */
    double latency_bounds_s[HBS_LATENCY_MAX];
    size_t nlatency_bounds;
};
#define HBS_QUEUE_LATENCY_BOUNDS "latency_bounds_s"
extern const struct hbs_field hbs_queue_fields[];
extern const size_t hbs_queue_nfields;
#define HBS_QUEUE_PROVIDERS "providers"

/* One element of queue.providers. */
struct hbs_provider {
    const char *name;
    /* "ok", "degraded" (some of its recent requests failed), "paused" (a
     * 429 or a refusal), "down" or "offline" */
    const char *state;
    int64_t paused_until; /* wall ms; 0 = not paused */
    int refused;          /* the pause is a refusal (401/403, a block page) */
    const char *pause_reason;
    int down; /* failing as a whole: its assets fail over */
    int64_t in_flight, queued, requests, errors, refusals, rate_per_minute;
    int64_t failovers_out, failovers_in;
    double latency_p50_ms, latency_p95_ms;
    int64_t recent_requests, recent_failed;
    const char *last_error; /* of the last failed recent request, or NULL */
    /* Written after the table's fields, totals since the daemon started:
     *   "outcomes": {"ok": n, …} — finished requests by hbs_outcome_names;
     *   "latency_buckets": [n, …] — request latencies per bucket of the
     *     queue's latency_bounds_s, not cumulative, one more for the rest;
     *   "latency_sum_s": the sum of those latencies;
     *   "failovers_to": {"kraken": n, …} — keys that left this provider for
     *     another (by its index in the providers array; zeros left out). */
    int64_t outcomes[HBS_OUTCOMES];
    int64_t latency_buckets[HBS_LATENCY_MAX + 1];
    double latency_sum_s;
    int64_t failovers_to[HBS_MAX_PROVIDERS];
};
#define HBS_PROVIDER_OUTCOMES "outcomes"
#define HBS_PROVIDER_LATENCY_BUCKETS "latency_buckets"
#define HBS_PROVIDER_LATENCY_SUM "latency_sum_s"
#define HBS_PROVIDER_FAILOVERS_TO "failovers_to"
extern const struct hbs_field hbs_provider_fields[];
extern const size_t hbs_provider_nfields;

/* The daemon process's own figures (/proc), for the standard process_*
 * series of /metrics: detail's "process" object. */
struct hbs_process {
    double cpu_seconds;
    int64_t resident_memory_bytes, virtual_memory_bytes, open_fds, max_fds;
    double start_time_seconds; /* Unix time */
};
extern const struct hbs_field hbs_process_fields[];
extern const size_t hbs_process_nfields;
#define HBS_DETAIL_PROCESS "process"

/* One element of queue.failovers: waiters that moved from provider `from`
 * to the next source `to`, since the process started (only pairs that
 * happened). /metrics serves it as fetcherd_failovers_total{from,to}. */
struct hbs_failover {
    const char *from, *to;
    int64_t count;
};
extern const struct hbs_field hbs_failover_fields[];
extern const size_t hbs_failover_nfields;
#define HBS_QUEUE_FAILOVERS "failovers"

/* One element of queue.sources: an asset class's sources as configured
 * (FETCH_SOURCES), how many of them can be used, and for people why a
 * class has no second source ("TWELVEDATA_API_KEY is not set"), or null. */
struct hbs_source_class {
    const char *name;    /* "stock", "crypto", "fx" */
    const char *sources; /* "yahoo,twelvedata (no key)" */
    int64_t usable;
    const char *note;
};
extern const struct hbs_field hbs_source_class_fields[];
extern const size_t hbs_source_class_nfields;
#define HBS_QUEUE_SOURCES "sources"

/* What `queue` carries besides its counters and providers. */
struct hbs_queue_extra {
    const struct hbs_failover *failovers;
    size_t nfailovers;
    const struct hbs_source_class *classes;
    size_t nclasses;
};

/* `detail`: the daemon's view of its own health. fetcher-api's status rule
 * reads the three fields named below; the others are shown as written. */
struct hbs_detail {
    const char *db; /* dbconn_state(): "ok", "connecting", "reconnecting" */
    int offline;
    const char *degraded_reason;
    int paused;
    int64_t paused_since; /* wall ms; 0 = unknown or not paused */
    int64_t heartbeat_s, skipped_deadlines, cycles_started, write_buffer_rows, rows_dropped;
    /* several instances on one database (daemon/fleet.h) */
    const char *fleet_role;   /* "unknown", "solo", "leader", "follower" */
    const char *fleet_leader; /* the schedule lease's holder as last seen, or null */
    int64_t fleet_epoch, fleet_shares, fleet_assets, fleet_claims_released;
    int64_t write_buffer_capacity;
    /* the daily-history backfill's round: "backfilling done of total" */
    int backfill_active;
    int market_hours; /* FETCH_MARKET_HOURS: closed markets are not fetched */
    int64_t backfill_total, backfill_done, backfill_failed, backfill_requests;
    /* Written after the table's fields: "process" (the struct above), and
     * "stale_after_s": {"stock": 600, …}, each asset type's staleness bound
     * (FETCH_STALENESS), which fetcher-api adds one fetch interval to when
     * it counts stale prices. */
    struct hbs_process process;
    const char *const *stale_types;
    const int64_t *stale_after_s;
    size_t nstale;
};
#define HBS_DETAIL_STALE_AFTER "stale_after_s"
extern const struct hbs_field hbs_detail_fields[];
extern const size_t hbs_detail_nfields;
#define HBS_DETAIL_DB "db"
#define HBS_DETAIL_OFFLINE "offline"
#define HBS_DETAIL_DEGRADED_REASON "degraded_reason"

/* Writes the members of s described by fields[0, n) into the open object
 * of b. */
void hbs_write_fields(struct jbuf *b, const struct hbs_field *fields, size_t n, const void *s);
/* Writes the whole heartbeat document: row's fields, then q and
 * providers[0, np) as `queue`, then `detail`. */
void hbs_write(struct jbuf *b, const struct hbs_row *row, const struct hbs_queue *q,
               const struct hbs_provider *p, size_t np, const struct hbs_detail *detail);
/* hbs_write() with `queue`'s failovers and sources arrays (extra may be
 * NULL: both left out). */
void hbs_write_ex(struct jbuf *b, const struct hbs_row *row, const struct hbs_queue *q,
                  const struct hbs_provider *p, size_t np, const struct hbs_queue_extra *extra,
                  const struct hbs_detail *detail);

/* The queue object fetcher-api answers, from the column's parsed JSON (src
 * borrowed; NULL or not an object: all HBS_ALWAYS counters 0). Returns a
 * new object (one reference for the caller) or NULL when out of memory. */
json_object *hbs_read_queue(json_object *src);

#endif
