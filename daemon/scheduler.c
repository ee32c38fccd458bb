/*
 * scheduler — see scheduler.h.
 */
#include "scheduler.h"
#include "deadline.h"
#include "fleet.h"
#include "log.h"
#include "sql.h"
#include "staleness.h"

#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* How long a cycle waits for the first database connection. */
#define STARTUP_DB_WAIT_MS 10000
/* Cycle ids held in reserve for cycles that start while the database is
 * away (each cycle's own id is taken when it starts, so ids follow start
 * order; these only cover an outage's first few cycles). */
#define SCHED_SPARE_IDS 2

struct scheduler {
    struct daemon *d;
    struct asset_cache *assets;
    int once;
    void (*on_once_done)(int ok, void *cls);
    void *cls;
    int64_t start, interval, deadline; /* interval: the check interval */
    int64_t full_ms;                   /* FETCH_INTERVAL: rates, and a cached list whole */
    int64_t last_full;                 /* when the last full check started; -1 never */
    int64_t checks;
    struct due_params due; /* what a check asks the database */
    int64_t timer;
    int64_t seq;
    int64_t skipped;
    int64_t started;
    struct cycle *current; /* fetching, or the last one (for its write phase) */
    int64_t current_id;    /* its fetcher_cycles.id, 0 when none was reserved */
    int64_t spare_ids[SCHED_SPARE_IDS];
    int nspare;
    int reserving; /* an id is being reserved for the cycle about to start */
    enum work_kind_id pending_kind;
    void (*on_change)(void *cls); /* scheduler_on_change */
    void *change_cls;
    int running;
    int took_over; /* the lease taken over a running fleet: no start-up check */
    int stopped;
    int paused;
    int64_t paused_since;
};

static void sched_on_cycle_idle(void *cls)
{
    struct scheduler *s = cls;
    if (s->on_change)
        s->on_change(s->change_cls);
}

static void sched_on_cycle_done(enum cycle_status st, void *cls)
{
    struct scheduler *s = cls;
    s->running = 0;
    if (st == CYCLE_IDLE) {
        /* nothing was due: not a cycle, and its number is the next one's;
         * so is its id (no row was written with it) */
        s->started--;
        s->seq--;
        if (s->current_id > 0 && s->nspare < SCHED_SPARE_IDS) {
            memmove(s->spare_ids + 1, s->spare_ids, (size_t)s->nspare * sizeof s->spare_ids[0]);
            s->spare_ids[0] = s->current_id;
            s->nspare++;
        }
        s->current_id = 0;
    } else {
        sched_on_cycle_idle(s); /* the phase changed: fetching → writing */
    }
    if (s->once && s->on_once_done)
        s->on_once_done(st == CYCLE_SUCCEEDED || st == CYCLE_PARTIAL || st == CYCLE_EMPTY, s->cls);
}

/* How log lines name the current cycle: its id, as the dashboard does. */
static void sched_cycle_name(const struct scheduler *s, char *buf, size_t len)
{
    if (s->current_id > 0)
        snprintf(buf, len, "%lld", (long long)s->current_id);
    else
        snprintf(buf, len, "(seq %lld)", (long long)s->seq);
}

/* A check's flags and what it asks the database, for a cycle of this
 * process or one the fleet shares. */
static unsigned sched_check(struct scheduler *s, enum work_kind_id kind, struct due_params *dp)
{
    int64_t now = loop_now(s->d->loop);
    unsigned flags = 0;
    /* a full check every FETCH_INTERVAL (half a check early: the grid),
     * and work someone asked for is always full */
    if (kind != WORK_SCHEDULE || s->last_full < 0 ||
        now - s->last_full >= s->full_ms - s->interval / 2) {
        flags |= CYCLE_FULL;
        s->last_full = now;
    }
    /* A process's first check looks a whole FETCH_INTERVAL ahead (half a
     * check is the interval): what would be due before the next interval
     * is due now, so a start fetches what a start always fetched (with no
     * settings, everything) and a restart does not wait for the grid. */
    *dp = s->due;
    if (kind == WORK_STARTUP)
        dp->check_s = 2 * (s->full_ms / 1000);
    return flags;
}

static void sched_start_cycle(struct scheduler *s, enum work_kind_id kind, int64_t id)
{
    struct due_params dp;
    unsigned flags = sched_check(s, kind, &dp);
    asset_cache_set_due(s->assets, &dp);
    s->seq++;
    s->started++;
    s->checks++;
    s->running = 1;
    cycle_on_idle(s->current, NULL, NULL); /* only the current one reports */
    cycle_release(s->current);
    s->current = NULL;
    s->current_id = id;
    struct cycle *c = cycle_start(s->d, s->assets, s->seq, kind, flags, sched_on_cycle_done, s);
    if (c == NULL) {
        s->running = 0;
        log_msg(LOG_ERROR, "scheduler: cannot start a cycle (out of memory)");
        return;
    }
    cycle_set_id(c, id);
    cycle_on_idle(c, sched_on_cycle_idle, s);
    s->current = c;
}

static int64_t sched_take_spare(struct scheduler *s)
{
    if (s->nspare == 0)
        return 0;
    int64_t id = s->spare_ids[0];
    memmove(s->spare_ids, s->spare_ids + 1, (size_t)(s->nspare - 1) * sizeof s->spare_ids[0]);
    s->nspare--;
    return id;
}

static void sched_on_ids(const PGresult *res, enum db_status st, const char *err, void *cls)
{
    struct scheduler *s = cls;
    s->reserving = 0;
    int64_t id = 0;
    for (int i = 0; st == DB_OK && i < PQntuples(res); i++) {
        int64_t v;
        if (util_parse_i64(PQgetvalue(res, i, 0), 1, INT64_MAX, &v) != 0)
            continue;
        if (id == 0)
            id = v;
        else if (s->nspare < SCHED_SPARE_IDS)
            s->spare_ids[s->nspare++] = v;
    }
    if (st != DB_OK)
        log_msg(LOG_DEBUG, "scheduler: no cycle id reserved: %s", err);
    if (id == 0)
        id = sched_take_spare(s);
    if (s->stopped) {
        s->running = 0; /* stopping: the cycle never starts */
        return;
    }
    sched_start_cycle(s, s->pending_kind, id);
}

/* Reserves the cycle's id (and tops the spares up), then starts it; with
 * the database away, starts it at once with a spare id, or none. */
static void sched_run_cycle(struct scheduler *s, enum work_kind_id kind)
{
    s->running = 1;
    s->pending_kind = kind;
    char n[16];
    snprintf(n, sizeof n, "%d", 1 + SCHED_SPARE_IDS - s->nspare);
    const char *params[1] = {n};
    if (dbconn_query(s->d->db, SQL_RESERVE_CYCLE_IDS, 1, params, sched_on_ids, s) == 0) {
        s->reserving = 1;
        return;
    }
    sched_start_cycle(s, kind, sched_take_spare(s));
}

/* A check the fleet shares: the leader plans it (the cycle's row and its
 * due assets as work), every instance fetches its share (fleet.c). */
static void sched_plan_fleet(struct scheduler *s, enum work_kind_id kind)
{
    static const char *const triggers[] = {
        [WORK_STARTUP] = "startup", [WORK_SCHEDULE] = "schedule", [WORK_MANUAL] = "manual"};
    struct due_params dp;
    unsigned flags = sched_check(s, kind, &dp);
    s->seq++;
    s->started++;
    s->checks++;
    if (fleet_plan(s->d->fleet, s->seq, triggers[kind <= WORK_MANUAL ? kind : WORK_SCHEDULE],
                   kind != WORK_MANUAL, (flags & CYCLE_FULL) != 0, &dp) != 0) {
        s->seq--;
        s->started--;
        writer_log(s->d->writer, LOG_WARNING, 0, NULL,
                   "A shared cycle could not be planned (the database is away)");
    }
}

void scheduler_plan_idle(struct scheduler *s, int64_t seq)
{
    /* nothing was due: not a cycle, and its number is the next one's */
    if (seq == s->seq) {
        s->seq--;
        s->started--;
    }
}

/* Who acts on a deadline or a trigger now. A --once run is its own: it
 * runs its one cycle whatever the fleet does. */
static enum fleet_role sched_role(const struct scheduler *s)
{
    return s->once ? FLEET_SOLO : fleet_role(s->d->fleet);
}

static int64_t sched_on_deadline(struct loop *l, void *cls)
{
    struct scheduler *s = cls;
    if (s->stopped)
        return LOOP_TIMER_STOP;
    int64_t now = loop_now(l);
    /* Before the first asset list, a cycle has nothing to fetch without the
     * database: give the connection a moment (it is opened asynchronously
     * at start) before going ahead and failing that cycle. Likewise, who
     * leads is not known before the database first answers. */
    enum fleet_role role = sched_role(s);
    if (!s->running &&
        ((asset_cache_count(s->assets) < 0 && !dbconn_is_up(s->d->db)) || role == FLEET_UNKNOWN) &&
        now - s->deadline < STARTUP_DB_WAIT_MS)
        return 100;
    enum work_kind_id kind = s->once                            ? WORK_ONCE
                             : s->started == 0 && !s->took_over ? WORK_STARTUP
                                                                : WORK_SCHEDULE;
    if (s->paused && !s->once) {
        /* paused deadlines are not "skipped": nobody meant them to run. A
         * --once run is not a scheduled cycle: someone asked for it now. */
    } else if (role == FLEET_FOLLOWER) {
        /* the leader's deadline, not ours */
    } else if (role == FLEET_LEADER && fleet_cycle_open(s->d->fleet)) {
        s->skipped++;
        json_object *ctx = json_object_new_object();
        json_object_object_add(ctx, "skipped_deadlines", json_object_new_int64(s->skipped));
        writer_log(s->d->writer, LOG_WARNING, 0, ctx,
                   "The fleet's cycle is still running at the next deadline; skipping this "
                   "deadline");
    } else if (role == FLEET_LEADER && !s->running) {
        sched_plan_fleet(s, kind);
    } else if (s->running) {
        s->skipped++;
        json_object *ctx = json_object_new_object();
        json_object_object_add(ctx, "skipped_deadlines", json_object_new_int64(s->skipped));
        char name[48];
        sched_cycle_name(s, name, sizeof name);
        writer_log(s->d->writer, LOG_WARNING, s->seq, ctx,
                   "Cycle %s still running at the next deadline; skipping this deadline", name);
    } else {
        sched_run_cycle(s, kind);
    }
    if (s->once)
        return LOOP_TIMER_STOP;
    int64_t missed;
    int64_t fired = s->deadline;
    s->deadline = deadline_next(s->start, s->interval, fired, now, &missed);
    if (missed > 0) {
        s->skipped += missed;
        writer_log(s->d->writer, LOG_WARNING, s->seq, NULL,
                   "%lld deadlines passed while fetcherd was busy or stalled; skipped",
                   (long long)missed);
    }
    int64_t wait = s->deadline - loop_now(l);
    return wait < 0 ? 0 : wait;
}

struct scheduler *scheduler_new(struct daemon *d, int once, int64_t first_seq,
                                void (*on_once_done)(int, void *), void *cls)
{
    struct scheduler *s = malloc(sizeof *s);
    struct asset_cache *ac = asset_cache_new();
    if (s == NULL || ac == NULL) {
        free(s);
        asset_cache_free(ac);
        return NULL;
    }
    *s = (struct scheduler){.d = d,
                            .assets = ac,
                            .once = once,
                            .seq = first_seq,
                            .on_once_done = on_once_done,
                            .cls = cls,
                            .full_ms = cfg->fetch_interval_s * 1000,
                            .last_full = -1};
    /* the check interval: FETCH_CHECK_INTERVAL, no longer than the
     * shortest bound (FETCH_INTERVAL is every type's bound by default) */
    int64_t check_s = cfg->check_interval_s > 0 ? cfg->check_interval_s : cfg->fetch_interval_s;
    if (cfg->fetch_interval_s < check_s)
        check_s = cfg->fetch_interval_s;
    check_s = staleness_check_s(d->staleness, check_s);
    s->interval = check_s * 1000;
    /* what the database is asked at each check (fetcher_due_assets) */
    struct due_params dp = {.check_s = check_s,
                            .default_s = cfg->fetch_interval_s,
                            .market_hours = (int)cfg->market_hours};
    if (d->staleness == NULL ||
        staleness_json(d->staleness, dp.bounds_json, sizeof dp.bounds_json) != 0)
        util_strlcpy(dp.bounds_json, "{}", sizeof dp.bounds_json);
    s->due = dp;
    asset_cache_set_due(ac, &dp);
    return s;
}

void scheduler_free(struct scheduler *s)
{
    if (s == NULL)
        return;
    if (s->timer > 0)
        loop_timer_del(s->d->loop, s->timer);
    cycle_on_idle(s->current, NULL, NULL); /* its writes may report after us */
    cycle_release(s->current);
    asset_cache_free(s->assets);
    free(s);
}

int scheduler_setup(struct scheduler *s)
{
    s->start = loop_now(s->d->loop);
    s->deadline = s->start;
    s->timer = loop_timer_add(s->d->loop, 0, sched_on_deadline, s);
    return s->timer > 0 ? 0 : -1;
}

void scheduler_trigger(struct scheduler *s, const char *source)
{
    if (s->stopped || s->once)
        return;
    enum fleet_role role = sched_role(s);
    if (role == FLEET_FOLLOWER) {
        log_msg(LOG_DEBUG, "Manual trigger from %s: the leader acts on it", source);
        return;
    }
    if (role == FLEET_LEADER && !s->running) {
        if (fleet_cycle_open(s->d->fleet)) {
            writer_log(s->d->writer, LOG_INFO, 0, NULL,
                       "Manual trigger from %s ignored: the fleet's cycle is still running",
                       source);
            return;
        }
        writer_log(s->d->writer, LOG_INFO, 0, NULL,
                   "Manual trigger from %s: starting a shared cycle now", source);
        sched_plan_fleet(s, WORK_MANUAL);
        return;
    }
    if (s->running) {
        char name[48];
        sched_cycle_name(s, name, sizeof name);
        writer_log(s->d->writer, LOG_INFO, s->seq, NULL,
                   "Manual trigger from %s ignored: cycle %s is already running", source, name);
        return;
    }
    writer_log(s->d->writer, LOG_INFO, 0, NULL, "Manual trigger from %s: starting a cycle now",
               source);
    sched_run_cycle(s, WORK_MANUAL);
}

static void sched_on_refresh_done(enum cycle_status st, void *cls)
{
    (void)st;
    (void)cls;
}

void scheduler_refresh(struct scheduler *s, const char *symbols_json, const char *source)
{
    if (s->stopped)
        return;
    /* every instance hears the NOTIFY; one fetches, so two refreshes of
     * a symbol cost one request (the leader's queue coalesces them) */
    if (sched_role(s) == FLEET_FOLLOWER)
        return;
    /* The refresh owns itself until its writes are done. */
    cycle_release(cycle_start_refresh(s->d, symbols_json, source, sched_on_refresh_done, s));
}

void scheduler_set_paused(struct scheduler *s, int paused, int64_t since_wall_ms)
{
    if (paused != s->paused)
        log_msg(LOG_INFO, "scheduled cycles %s%s", paused ? "paused" : "resumed",
                paused && s->once ? " (this --once run goes ahead: it is no scheduled cycle)" : "");
    s->paused = paused;
    s->paused_since = paused ? since_wall_ms : 0;
}

void scheduler_rebase(struct scheduler *s, int64_t since_ms)
{
    if (s->stopped || s->once || s->timer <= 0)
        return;
    /* What is due is the database's judgement, asset by asset, so the
     * checks go on as they are; only the next full check (the rates)
     * continues the fleet's: an interval after its last one. */
    int64_t now = loop_now(s->d->loop);
    if (since_ms < s->full_ms) {
        s->last_full = now - since_ms;
        s->took_over = 1; /* the fleet has had its start-up */
        return;
    }
    s->last_full = -1; /* a full check now */
    s->deadline = now;
    (void)loop_timer_reset(s->d->loop, s->timer, 0);
}

void scheduler_on_change(struct scheduler *s, void (*fn)(void *cls), void *cls)
{
    s->on_change = fn;
    s->change_cls = cls;
}

void scheduler_stop(struct scheduler *s)
{
    s->stopped = 1;
    if (s->timer > 0)
        loop_timer_del(s->d->loop, s->timer);
    s->timer = 0;
}

void scheduler_get(const struct scheduler *s, struct sched_info *out)
{
    memset(out, 0, sizeof *out);
    out->next_deadline_mono = s->stopped || s->once ? 0 : s->deadline;
    out->skipped = s->skipped;
    out->cycles_started = s->started;
    out->checks = s->checks;
    out->check_ms = s->interval;
    out->tracked_assets = asset_cache_count(s->assets);
    out->running = s->running;
    out->paused = s->paused;
    out->paused_since_wall_ms = s->paused_since;
    cycle_get_progress(s->current, &out->progress);
}
