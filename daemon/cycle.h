/*
 * cycle — one piece of fetching work, from its asset list to its queued
 * writes: read the list (assets.c), ask the fetch queue for every price,
 * validate each answer, then hand the results to the writer in a few
 * batched statements (record.c), recalculate portfolios if anything
 * changed, and log what happened.
 *
 * The kinds of work (a scheduled cycle, a manual trigger, an on-demand
 * refresh) differ only in the properties of their entry in cycle.c's
 * table of work kinds: whether a fetcher_cycles row is written, whether
 * FETCH_STALENESS is honoured, whether exchange rates are fetched, the
 * queue priority.
 *
 * Once every asset and rate has its answer, a numbered cycle cross-checks
 * a few of them against their next source (PRICE_CROSSCHECK_SAMPLE; the
 * rules in crosscheck.h), at background priority, and only then writes.
 *
 * What it is not: it does not decide when cycles run (scheduler.c) and has
 * no HTTP or SQL text of its own (queue.c, sql.c).
 */
#ifndef FETCHER_CYCLE_H
#define FETCHER_CYCLE_H

#include "assets.h"
#include "daemon.h"
#include "quote.h"

/* CYCLE_EMPTY: nothing was tracked, so nothing was fetched; recorded as
 * "empty" and kept out of the success rate (migration 012). CYCLE_IDLE: a
 * check that found nothing due; no row, nothing logged. */
enum cycle_status {
    CYCLE_SUCCEEDED,
    CYCLE_PARTIAL,
    CYCLE_FAILED,
    CYCLE_ABORTED,
    CYCLE_EMPTY,
    CYCLE_IDLE
};

/* What the scheduler adds to a check (cycle_start's flags). */
enum {
    /* the exchange rates are due (every FETCH_INTERVAL), and a list from
     * the cache (the database away, so no due flags) is fetched whole */
    CYCLE_FULL = 1,
};

/* The kinds of work a cycle can be. */
enum work_kind_id {
    WORK_STARTUP,  /* the first scheduled cycle of this process */
    WORK_SCHEDULE, /* a scheduled cycle */
    WORK_MANUAL,   /* trigger-update */
    WORK_REFRESH,  /* an on-demand refresh of named assets */
    WORK_ONCE,     /* the one cycle of fetcherd --once: every tracked asset */
};

struct cycle_progress {
    int64_t seq;
    int64_t started_wall_ms;
    int done, total;
    const char *phase; /* "fetching", "writing", "recalculating", "idle" */
};

typedef void (*cycle_done_cb)(enum cycle_status st, void *cls);

/* Starts cycle number seq of kind (not WORK_REFRESH) over the tracked
 * assets, refreshing ac (borrowed; it must outlive the cycle); flags are
 * CYCLE_*. A scheduled check that finds nothing due (and no rates due)
 * ends as CYCLE_IDLE: no fetcher_cycles row, no log line. done runs
 * exactly once, from the loop, when every asset has an answer and the
 * cycle's writes are queued (not necessarily written). Returns the cycle
 * holding one reference for the caller, or NULL (then done never runs). */
struct cycle *cycle_start(struct daemon *d, struct asset_cache *ac, int64_t seq,
                          enum work_kind_id kind, unsigned flags, cycle_done_cb done, void *cls);
/* An on-demand refresh (WORK_REFRESH) of the tracked assets named in
 * symbols_json (a JSON array of symbols): no cycle row, one
 * price_update_log row per asset (without a cycle), portfolios
 * recalculated. A symbol a running cycle is fetching costs no second
 * request. client says who asked (for the log). Same ownership as
 * cycle_start. */
struct cycle *cycle_start_refresh(struct daemon *d, const char *symbols_json, const char *client,
                                  cycle_done_cb done, void *cls);
/* Progress for the heartbeat: phase is "fetching" until every answer is in,
 * then "writing" and "recalculating" until those writes are done, then
 * "idle". */
void cycle_get_progress(const struct cycle *c, struct cycle_progress *out);
/* Drops the caller's reference; the cycle is freed once its pending writes
 * have reported too. NULL is a no-op. */
void cycle_release(struct cycle *c);

#endif
