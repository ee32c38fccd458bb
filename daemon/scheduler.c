/*
 * scheduler — see scheduler.h.
 */
#include "scheduler.h"
#include "deadline.h"
#include "log.h"
#include "staleness.h"

#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* How long a cycle waits for the first database connection. */
#define STARTUP_DB_WAIT_MS 10000

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
    int running;
    int stopped;
    int paused;
    int64_t paused_since;
};

static void sched_on_cycle_done(enum cycle_status st, void *cls)
{
    struct scheduler *s = cls;
    s->running = 0;
    if (st == CYCLE_IDLE) {
        /* nothing was due: not a cycle, and its number is the next one's */
        s->started--;
        s->seq--;
    }
    if (s->once && s->on_once_done)
        s->on_once_done(st == CYCLE_SUCCEEDED || st == CYCLE_PARTIAL || st == CYCLE_EMPTY, s->cls);
}

static void sched_run_cycle(struct scheduler *s, enum work_kind_id kind)
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
    struct due_params dp = s->due;
    if (kind == WORK_STARTUP)
        dp.check_s = 2 * (s->full_ms / 1000);
    asset_cache_set_due(s->assets, &dp);
    s->seq++;
    s->started++;
    s->checks++;
    s->running = 1;
    cycle_release(s->current);
    s->current = NULL;
    struct cycle *c = cycle_start(s->d, s->assets, s->seq, kind, flags, sched_on_cycle_done, s);
    if (c == NULL) {
        s->running = 0;
        log_msg(LOG_ERROR, "scheduler: cannot start a cycle (out of memory)");
        return;
    }
    s->current = c;
}

static int64_t sched_on_deadline(struct loop *l, void *cls)
{
    struct scheduler *s = cls;
    if (s->stopped)
        return LOOP_TIMER_STOP;
    int64_t now = loop_now(l);
    /* Before the first asset list, a cycle has nothing to fetch without the
     * database: give the connection a moment (it is opened asynchronously
     * at start) before going ahead and failing that cycle. */
    if (!s->running && asset_cache_count(s->assets) < 0 && !dbconn_is_up(s->d->db) &&
        now - s->deadline < STARTUP_DB_WAIT_MS)
        return 100;
    if (s->paused && !s->once) {
        /* paused deadlines are not "skipped": nobody meant them to run. A
         * --once run is not a scheduled cycle: someone asked for it now. */
    } else if (s->running) {
        s->skipped++;
        json_object *ctx = json_object_new_object();
        json_object_object_add(ctx, "skipped_deadlines", json_object_new_int64(s->skipped));
        writer_log(s->d->writer, LOG_WARNING, s->seq, ctx,
                   "Cycle %lld still running at the next deadline; skipping this deadline",
                   (long long)s->seq);
    } else {
        sched_run_cycle(s, s->once ? WORK_ONCE : s->started == 0 ? WORK_STARTUP : WORK_SCHEDULE);
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
    if (s->running) {
        writer_log(s->d->writer, LOG_INFO, s->seq, NULL,
                   "Manual trigger from %s ignored: cycle %lld is already running", source,
                   (long long)s->seq);
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
