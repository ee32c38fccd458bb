/*
 * cycle — one refresh of every tracked asset: read the list (or reuse the
 * last one while the database is away), ask the fetch queue for every price,
 * validate each answer, then write the whole cycle in a few batched
 * statements (the cycle row, one price_update_log row per asset, prices,
 * logs), recalculate portfolios if anything changed, and persist statistics.
 *
 * What it is not: it does not decide when cycles run (scheduler.c) and has
 * no HTTP or SQL text of its own (queue.c, sql.c).
 */
#ifndef FETCHER_CYCLE_H
#define FETCHER_CYCLE_H

#include "daemon.h"
#include "quote.h"

enum cycle_status { CYCLE_SUCCEEDED, CYCLE_PARTIAL, CYCLE_FAILED, CYCLE_ABORTED };

struct cycle_progress {
    int64_t seq;
    int64_t started_wall_ms;
    int done, total;
    const char *phase; /* "fetching", "writing", "recalculating", "idle" */
};

/* The tracked assets as last read from the database: a cycle uses it when
 * the database is away, so fetching goes on on schedule. */
struct asset_cache;
struct asset_cache *asset_cache_new(void);
void asset_cache_free(struct asset_cache *ac);
/* Assets known, or -1 before the first successful read. */
int asset_cache_count(const struct asset_cache *ac);

typedef void (*cycle_done_cb)(enum cycle_status st, void *cls);

/* Starts cycle number seq. trigger is "startup", "schedule", "manual" or
 * "once". done runs exactly once, when every asset has an answer and the
 * cycle's writes are queued (not necessarily written). Returns the cycle
 * holding one reference for the caller, or NULL (then done never runs).
 * ac is borrowed and must outlive the cycle. */
struct cycle *cycle_start(struct daemon *d, struct asset_cache *ac, int64_t seq,
                          const char *trigger, int priority, cycle_done_cb done, void *cls);
/* An on-demand refresh of the tracked assets named in symbols_json (a JSON
 * array of symbols), at the highest priority: no cycle row, one
 * price_update_log row per asset (without a cycle), portfolios
 * recalculated. A symbol a running cycle is fetching costs no second
 * request. client says who asked (for the log). Same ownership as
 * cycle_start. */
struct cycle *cycle_start_refresh(struct daemon *d, struct asset_cache *ac,
                                  const char *symbols_json, const char *client, cycle_done_cb done,
                                  void *cls);
/* Queues a fetcher_statistics row computed from fetcher_cycles (after
 * every cycle, and every STATS_PERSIST_INTERVAL). */
void cycle_persist_stats(struct daemon *d);
/* Progress for the heartbeat: phase is "fetching" until every answer is in,
 * then "writing" and "recalculating" until those writes are done, then
 * "idle". */
void cycle_get_progress(const struct cycle *c, struct cycle_progress *out);
/* Drops the caller's reference; the cycle is freed once its pending writes
 * have reported too. NULL is a no-op. */
void cycle_release(struct cycle *c);

#endif
