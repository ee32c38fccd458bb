/*
 * fleet — several fetcherd on one database, coordinated through it and
 * nothing else (migration 016).
 *
 * - The schedule lease. Every HEARTBEAT_INTERVAL each instance takes or
 *   renews the 'schedule' lease in one statement judged by the database's
 *   now(); it expires 3 × HEARTBEAT_INTERVAL after its last renewal, so a
 *   killed leader is replaced within that, whatever the clocks say. Locally
 *   the lease counts only until the time its renewal was *sent* plus that
 *   TTL (never later than the database's own expiry), so an instance that
 *   was paused longer than the TTL does not act as leader on waking.
 * - Roles. The leader alone decides that a cycle is due. With no other
 *   live instance it runs its cycles itself, exactly as a single fetcherd
 *   always has (and goes on doing so while the database is away). With
 *   others alive it *plans* a shared cycle instead: the cycle's row and
 *   one fetcher_work row per due asset, in one statement, then a NOTIFY.
 * - Shares. Every instance, leader included, claims the open work in
 *   chunks of one provider, at most that provider's batch size (FOR UPDATE
 *   SKIP LOCKED), runs each chunk as a cycle share (cycle.c), and records
 *   it with a statement that marks the work done only while the claim is
 *   still its own. Whoever then finds no open work left finishes the cycle
 *   (its counts come from the work rows) and recalculates the portfolios.
 * - Failure. Claims of an instance that stopped heartbeating return to the
 *   pool (every instance checks, every few seconds); an instance that
 *   stops cleanly gives back its claims and the lease first, and one that
 *   finds claims under its own name while no share of its is running (an
 *   answer lost with the connection, rows dropped, a previous process of
 *   the same FETCHER_INSTANCE_ID killed) gives them back too. A database-
 *   less instance claims nothing; a paused one finds its claims gone when
 *   it wakes, and its late rows are refused by that same statement.
 *
 * What it is not: it fetches nothing itself (cycle.c, queue.c) and holds no
 * SQL text (sql.c). Limits are per instance: FETCH_RATE_LIMITS applies to
 * each instance on its own (README, "Running several instances").
 */
#ifndef FETCHER_FLEET_H
#define FETCHER_FLEET_H

#include "assets.h"
#include "daemon.h"

#include <stdint.h>

enum fleet_role {
    FLEET_UNKNOWN,  /* no answer from the database yet */
    FLEET_SOLO,     /* the only live instance: runs its own cycles */
    FLEET_LEADER,   /* holds the lease, others are alive: plans shared cycles */
    FLEET_FOLLOWER, /* another instance leads (or we cannot tell): takes shares */
};

struct fleet_info {
    enum fleet_role role;
    const char *role_name;
    char leader[64]; /* the lease holder as last seen, "" = none */
    int64_t epoch;   /* the lease's epoch while we hold it, else 0 */
    int64_t others;  /* other live instances at the last renewal */
    /* the open shared cycle, as last seen: id 0 = none */
    int64_t open_cycle_id, open_seq, open_total, open_done;
    int64_t shares_done, assets_done; /* shares this process recorded */
    int64_t shares_in_flight;
    int64_t claims_released; /* dead instances' claims we returned */
};

struct fleet;

/* For one fetcherd process, once d's loop, dbconn, writer and scheduler
 * exist. NULL when out of memory. */
struct fleet *fleet_new(struct daemon *d);
/* Arms the lease timer (its first run now). 0 or -1. */
int fleet_setup(struct fleet *f) MUST_CHECK;
void fleet_free(struct fleet *f);

/* The role now (read once per decision: it changes with every renewal and
 * with the clock). NULL (a --once run, which plans alone) is FLEET_SOLO. */
enum fleet_role fleet_role(const struct fleet *f);
/* The leader's shared cycle is still open (its next deadline is skipped,
 * as a single instance skips one while its cycle runs). */
int fleet_cycle_open(const struct fleet *f);
/* Leader only: plans shared check number seq (its cycle's row names us
 * and seq), of trigger ("schedule", "manual", …): what dp says is due
 * (everything when honours_staleness is 0) becomes the cycle's work, and
 * with nothing due no cycle is made unless the check is full (rates).
 * Returns 0 when the statement was sent, -1 when it could not be (the
 * database is away): nothing is planned then. The answer comes later:
 * an idle check or a lost lease is handed back to the scheduler
 * (scheduler_plan_idle). */
int fleet_plan(struct fleet *f, int64_t seq, const char *trigger, int honours_staleness, int full,
               const struct due_params *dp) MUST_CHECK;

/* A NOTIFY on fetcher_work: there is work to claim, or (payload
 * "finished ID") shared cycle ID is finished. */
void fleet_on_notify(struct fleet *f, const char *payload);
/* Shutdown: no more claims; our unfinished claims and the lease are given
 * back, through the writer, after every row already queued. */
void fleet_final(struct fleet *f);

void fleet_get(const struct fleet *f, struct fleet_info *out);

#endif
