/*
 * scheduler — decides when work runs: a check at start, then on absolute
 * deadlines (start + k × the check interval on the monotonic clock) so the
 * schedule never drifts however long cycles take. Each check asks the
 * database which tracked assets are due (fetcher_due_assets: each asset's
 * refresh bound, FETCH_STALENESS or its own, and its market's hours) and
 * fetches those as one cycle; a check that finds nothing due is idle: no
 * cycle, no row. The check interval is FETCH_CHECK_INTERVAL, or the
 * shortest bound when that is shorter (FETCH_INTERVAL=2s checks every 2 s).
 * Every FETCH_INTERVAL a check is "full": the exchange rates are fetched
 * with it (a cycle even if no asset is due), and with the database away
 * the cached list is fetched whole, as before there were bounds.
 *
 * A deadline that finds a cycle still running is skipped, counted and
 * logged. A manual trigger (NOTIFY fetcher_trigger) starts a cycle now
 * unless one is running.
 *
 * With several instances on one database (fleet.h) only the leader's
 * deadlines and triggers start anything: alone, it runs the cycle itself;
 * with others alive, the fleet plans a shared cycle instead. A follower's
 * deadlines pass unused (not counted as skipped).
 */
#ifndef FETCHER_SCHEDULER_H
#define FETCHER_SCHEDULER_H

#include "cycle.h"
#include "daemon.h"

struct scheduler;

struct sched_info {
    int64_t next_deadline_mono; /* 0 when not scheduling */
    int64_t skipped;
    int64_t cycles_started; /* checks that found work (idle ones are not cycles) */
    int64_t checks;         /* every check, idle ones too */
    int64_t check_ms;       /* the check interval */
    int tracked_assets;     /* -1 before the first read */
    struct cycle_progress progress;
    int running; /* a cycle is fetching */
    int paused;
    int64_t paused_since_wall_ms;
};

/* once = run one cycle, then call on_idle. on_idle (may be NULL) runs when
 * a once-cycle is done. */
/* Cycle numbers start after first_seq (0 for a new instance). */
struct scheduler *scheduler_new(struct daemon *d, int once, int64_t first_seq,
                                void (*on_once_done)(int ok, void *), void *cls);
void scheduler_free(struct scheduler *s);
/* Arms the first cycle (now). Returns 0 or -1. */
int scheduler_setup(struct scheduler *s) MUST_CHECK;
/* A manual trigger; source says who asked (for the log). */
void scheduler_trigger(struct scheduler *s, const char *source);
/* Refreshes the tracked assets named in symbols_json (a JSON array) now,
 * at the highest priority, whether or not a cycle is running. */
void scheduler_refresh(struct scheduler *s, const char *symbols_json, const char *source);
/* Pauses or resumes scheduled cycles (manual triggers, refreshes and the
 * one cycle of a --once run still run; the heartbeat goes on). since is
 * wall-clock ms. */
void scheduler_set_paused(struct scheduler *s, int paused, int64_t since_wall_ms);
/* The fleet's last scheduled cycle started since_ms ago (fleet.c, on
 * taking the lease): the next full check (rates) comes an interval after
 * it; since_ms at or beyond FETCH_INTERVAL (INT64_MAX: "never") makes a
 * full check due now. What each check fetches is the database's judgement
 * of what is due, so a change of leader neither fetches early nor misses
 * an asset. */
void scheduler_rebase(struct scheduler *s, int64_t since_ms);
/* The fleet's answer to the plan of check seq: nothing was due, so no
 * cycle (fleet.c); its number is the next one's. */
void scheduler_plan_idle(struct scheduler *s, int64_t seq);
/* fn(cls) runs, from the loop, whenever the current cycle's phase changes
 * at its end (fetching done; then its writes done, idle): the heartbeat
 * says so at once rather than at its next tick. */
void scheduler_on_change(struct scheduler *s, void (*fn)(void *cls), void *cls);
/* Stops arming cycles (shutdown). A running cycle goes on. */
void scheduler_stop(struct scheduler *s);
void scheduler_get(const struct scheduler *s, struct sched_info *out);

#endif
