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
    WORK_SHARE,    /* a chunk of a cycle the fleet shares (fleet.c) */
    WORK_RATES,    /* the exchange rates of a shared cycle (its leader) */
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
/* A share of the fleet's cycle cycle_id (fleet.c): fetches the assets of
 * list (a reference the share takes over) and records them as that
 * cycle's, each only while this instance's claim on it holds; no cycle
 * row, no portfolio recalculation, no exchange rates. An asset cancelled
 * by shutdown is not recorded (its claim goes back to the pool). Same
 * ownership and callback contract as cycle_start; done never runs inside
 * this call. */
struct cycle *cycle_start_share(struct daemon *d, struct asset_list *list, int64_t cycle_id,
                                cycle_done_cb done, void *cls);
/* The exchange rates the fleet's cycle cycle_id needs (its leader fetches
 * them), reading the tracked assets' currencies through ac (borrowed, as
 * for cycle_start). Same contract as cycle_start. */
struct cycle *cycle_start_rates(struct daemon *d, struct asset_cache *ac, int64_t cycle_id,
                                cycle_done_cb done, void *cls);
/* Recalculates every portfolio after the cycle (instance_id, seq), and
 * logs what it found under cycle_ref (a log's cycle: this instance's
 * number, or minus a fetcher_cycles id). For the instance that finished a
 * shared cycle; a cycle of one instance does this itself. */
void cycle_recalculate(struct daemon *d, const char *instance_id, int64_t seq, int64_t cycle_ref);
/* Gives the cycle the fetcher_cycles.id reserved for it (0: none could
 * be, the database picks one when its row is written); call right after
 * cycle_start, before the loop runs again. Its log lines name it by this
 * id, the number the dashboard and the API show. */
void cycle_set_id(struct cycle *c, int64_t id);
/* idle(cls) runs once, from the loop, when the cycle's phase becomes
 * "idle" (every answer in and every write it queued reported), so that
 * whoever shows its progress can say at once that it ended. NULL clears
 * it (an owner that goes away before the cycle's writes do). */
void cycle_on_idle(struct cycle *c, void (*idle)(void *cls), void *cls);
/* The id given by cycle_set_id, or 0. NULL is 0. */
int64_t cycle_id(const struct cycle *c);
/* Progress for the heartbeat: phase is "fetching" until every answer is in,
 * then "writing" and "recalculating" until those writes are done, then
 * "idle". */
void cycle_get_progress(const struct cycle *c, struct cycle_progress *out);
/* Drops the caller's reference; the cycle is freed once its pending writes
 * have reported too. NULL is a no-op. */
void cycle_release(struct cycle *c);

#endif
