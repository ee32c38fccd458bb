/*
 * test_scheduler_loop — daemon/scheduler.c itself, on a loop whose clock
 * the test moves (test_scheduler.c checks only deadline.c's arithmetic).
 *
 * What the scheduler talks to is replaced at link level, here, by the
 * smallest stand-ins that record what they are asked:
 * - the loop: timers and loop_now() on a clock the test advances, firing
 *   due timers in time order and re-arming them by their return value, as
 *   daemon/loop.c does;
 * - cycles: cycle_start() records (seq, kind) and hands back a token; the
 *   test ends the cycle when it wants, through the done callback;
 * - the asset cache's count, dbconn_is_up(), dbconn_query() (the cycle
 *   id reservation, refused), writer_log() and log_msg();
 * - the fleet: fleet_role() answers what the test sets, fleet_plan()
 *   records the shared checks the leader plans.
 * Everything else is the real scheduler.c, deadline.c and staleness.c.
 *
 * Which assets a check fetches is the database's answer in the daemon
 * (fetcher_due_assets); here the cadence tests ask staleness_due(), its C
 * twin (test_sql checks that the two agree), at each check the real
 * scheduler makes.
 */
#include "assets.h"
#include "cycle.h"
#include "daemon.h"
#include "fleet.h"
#include "log.h"
#include "scheduler.h"
#include "staleness.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#define MIN 60000LL
#define INTERVAL (10 * MIN)

/* ---- the loop: a clock the test moves --------------------------------- */

#define NTIMERS 8
struct loop {
    int64_t now;
    struct {
        int64_t id, due;
        loop_timer_cb cb;
        void *cls;
        int armed;
    } t[NTIMERS];
    int64_t next_id;
};
static struct loop L;

int64_t loop_timer_add(struct loop *l, int64_t delay_ms, loop_timer_cb cb, void *cls)
{
    for (int i = 0; i < NTIMERS; i++)
        if (!l->t[i].armed) {
            l->t[i].id = ++l->next_id;
            l->t[i].due = l->now + delay_ms;
            l->t[i].cb = cb;
            l->t[i].cls = cls;
            l->t[i].armed = 1;
            return l->t[i].id;
        }
    return -1;
}

void loop_timer_del(struct loop *l, int64_t id)
{
    for (int i = 0; i < NTIMERS; i++)
        if (l->t[i].armed && l->t[i].id == id)
            l->t[i].armed = 0;
}

int loop_timer_reset(struct loop *l, int64_t id, int64_t delay_ms)
{
    for (int i = 0; i < NTIMERS; i++)
        if (l->t[i].armed && l->t[i].id == id) {
            l->t[i].due = l->now + delay_ms;
            return 0;
        }
    return -1;
}

int64_t loop_now(const struct loop *l)
{
    return l->now;
}

static int armed_timers(void)
{
    int n = 0;
    for (int i = 0; i < NTIMERS; i++)
        n += L.t[i].armed;
    return n;
}

/* Runs the loop until `to`: each due timer fires at its own time, in time
 * order; its return value re-arms it relative to that time. */
static void advance_to(int64_t to)
{
    for (int guard = 0; guard < 100000; guard++) {
        int best = -1;
        for (int i = 0; i < NTIMERS; i++)
            if (L.t[i].armed && L.t[i].due <= to && (best < 0 || L.t[i].due < L.t[best].due))
                best = i;
        if (best < 0)
            break;
        if (L.t[best].due > L.now)
            L.now = L.t[best].due;
        int64_t id = L.t[best].id;
        int64_t next = L.t[best].cb(&L, L.t[best].cls);
        /* the callback may have deleted (or replaced) its own timer */
        if (L.t[best].armed && L.t[best].id == id) {
            if (next == LOOP_TIMER_STOP)
                L.t[best].armed = 0;
            else
                L.t[best].due = L.now + next;
        }
    }
    if (to > L.now)
        L.now = to;
}

/* The loop did not turn (a stall): time moves, nothing fires until the
 * next advance_to(). */
static void stall_to(int64_t to)
{
    L.now = to;
}

/* ---- what the scheduler talks to -------------------------------------- */

static struct config test_cfg;
const struct config *cfg = &test_cfg;

struct cycle {
    int64_t seq;
    enum work_kind_id kind;
    unsigned flags;
    int refresh;
};

#define NCYC 64
static struct cycle cycles[NCYC];
static int64_t cycle_at[NCYC];
static int ncycles, nreleased;
static cycle_done_cb pending_done;
static void *pending_cls;
static int fail_start; /* cycle_start returns NULL (out of memory) */

struct cycle *cycle_start(struct daemon *d, struct asset_cache *ac, int64_t seq,
                          enum work_kind_id kind, unsigned flags, cycle_done_cb done, void *cls)
{
    (void)d;
    (void)ac;
    if (fail_start || ncycles == NCYC)
        return NULL;
    cycles[ncycles] = (struct cycle){.seq = seq, .kind = kind, .flags = flags};
    cycle_at[ncycles] = L.now;
    pending_done = done;
    pending_cls = cls;
    return &cycles[ncycles++];
}

struct cycle *cycle_start_refresh(struct daemon *d, const char *symbols_json, const char *client,
                                  cycle_done_cb done, void *cls)
{
    (void)d;
    (void)symbols_json;
    (void)client;
    (void)done;
    (void)cls;
    if (ncycles == NCYC)
        return NULL;
    cycles[ncycles] = (struct cycle){.kind = WORK_REFRESH, .refresh = 1};
    cycle_at[ncycles] = L.now;
    return &cycles[ncycles++];
}

void cycle_get_progress(const struct cycle *c, struct cycle_progress *out)
{
    (void)c;
    memset(out, 0, sizeof *out);
}

void cycle_release(struct cycle *c)
{
    if (c != NULL)
        nreleased++;
}

/* The id a cycle is named by: none here (no database, see dbconn_query). */
void cycle_set_id(struct cycle *c, int64_t id)
{
    (void)c;
    (void)id;
}

/* The end of a cycle's writes: these cycles write nothing. */
void cycle_on_idle(struct cycle *c, void (*idle)(void *cls), void *cls)
{
    (void)c;
    (void)idle;
    (void)cls;
}

/* Ends the running cycle with st. */
static void finish(enum cycle_status st)
{
    assert_non_null(pending_done);
    cycle_done_cb done = pending_done;
    pending_done = NULL;
    done(st, pending_cls);
}

static int asset_count = 3;
struct asset_cache {
    int unused;
};
static struct asset_cache the_cache;
struct asset_cache *asset_cache_new(void)
{
    return &the_cache;
}
void asset_cache_free(struct asset_cache *ac)
{
    (void)ac;
}
int asset_cache_count(const struct asset_cache *ac)
{
    (void)ac;
    return asset_count;
}

static struct due_params due_set;
void asset_cache_set_due(struct asset_cache *ac, const struct due_params *p)
{
    (void)ac;
    due_set = *p;
}

static int db_up = 1;
/* Reserving a cycle id is refused, as with the database away: the
 * scheduler then starts the cycle at once, without one. */
int dbconn_query(struct dbconn *d, const char *name, int nparams, const char *const *params,
                 dbconn_cb cb, void *cls)
{
    (void)d;
    (void)name;
    (void)nparams;
    (void)params;
    (void)cb;
    (void)cls;
    return -1;
}

int dbconn_is_up(const struct dbconn *d)
{
    (void)d;
    return db_up;
}

static char logged[64][256];
static int nlogged;
static void remember(const char *fmt, va_list ap)
{
    if (nlogged < 64)
        vsnprintf(logged[nlogged++], sizeof logged[0], fmt, ap);
}

void writer_log(struct writer *w, enum log_level level, int64_t cycle_seq, json_object *context,
                const char *fmt, ...)
{
    (void)w;
    (void)level;
    (void)cycle_seq;
    json_object_put(context);
    va_list ap;
    va_start(ap, fmt);
    remember(fmt, ap);
    va_end(ap);
}

void log_msg(enum log_level level, const char *fmt, ...)
{
    (void)level;
    va_list ap;
    va_start(ap, fmt);
    remember(fmt, ap);
    va_end(ap);
}

static int logged_with(const char *needle)
{
    int n = 0;
    for (int i = 0; i < nlogged; i++)
        n += strstr(logged[i], needle) != NULL;
    return n;
}

static enum fleet_role role = FLEET_SOLO;
static int fleet_open;
#define NPLAN 64
static struct {
    int64_t seq, at;
    char trigger[16];
    int honours, full;
} plans[NPLAN];
static int nplans;

enum fleet_role fleet_role(const struct fleet *f)
{
    (void)f;
    return role;
}

int fleet_cycle_open(const struct fleet *f)
{
    (void)f;
    return fleet_open;
}

int fleet_plan(struct fleet *f, int64_t seq, const char *trigger, int honours_staleness, int full,
               const struct due_params *dp)
{
    (void)f;
    (void)dp;
    if (nplans == NPLAN || !db_up)
        return -1;
    plans[nplans].seq = seq;
    plans[nplans].at = L.now;
    snprintf(plans[nplans].trigger, sizeof plans[0].trigger, "%s", trigger);
    plans[nplans].full = full;
    plans[nplans++].honours = honours_staleness;
    fleet_open = 1;
    return 0;
}

/* ---- fixture ------------------------------------------------------------ */

static struct daemon D;
static struct scheduler *S;
static int once_calls, once_ok;

static void on_once(int ok, void *cls)
{
    (void)cls;
    once_calls++;
    once_ok = ok;
}

static const struct staleness *start_staleness; /* FETCH_STALENESS for start() */

static void start(int once, int64_t first_seq)
{
    memset(&L, 0, sizeof L);
    L.now = 1000000; /* the monotonic clock does not start at 0 */
    memset(cycles, 0, sizeof cycles);
    ncycles = nreleased = nlogged = once_calls = once_ok = fail_start = 0;
    pending_done = NULL;
    asset_count = 3;
    db_up = 1;
    role = FLEET_SOLO;
    fleet_open = nplans = 0;
    test_cfg.fetch_interval_s = INTERVAL / 1000;
    D = (struct daemon){.loop = &L, .staleness = start_staleness};
    S = scheduler_new(&D, once, first_seq, on_once, NULL);
    assert_non_null(S);
    assert_int_equal(scheduler_setup(S), 0);
}

static int teardown(void **state)
{
    (void)state;
    scheduler_free(S);
    S = NULL;
    return 0;
}

static int64_t next_deadline(void)
{
    struct sched_info si;
    scheduler_get(S, &si);
    return si.next_deadline_mono;
}

static int64_t skipped(void)
{
    struct sched_info si;
    scheduler_get(S, &si);
    return si.skipped;
}

/* ---- tests -------------------------------------------------------------- */

/* A follower's deadlines and triggers start nothing: the leader's do. Its
 * deadlines are not "skipped" either. When it becomes the solo instance,
 * its own deadlines run cycles again. */
static void follower_starts_nothing(void **state)
{
    (void)state;
    start(0, 0);
    role = FLEET_FOLLOWER;
    int64_t t0 = L.now;
    advance_to(t0 + 3 * INTERVAL);
    scheduler_trigger(S, "tester");
    scheduler_refresh(S, "[\"AAPL\"]", "tester");
    assert_int_equal(ncycles, 0);
    assert_int_equal(nplans, 0);
    assert_int_equal(skipped(), 0);
    role = FLEET_SOLO;
    advance_to(t0 + 4 * INTERVAL);
    assert_int_equal(ncycles, 1);
    assert_int_equal(cycles[0].kind, WORK_STARTUP);
}

/* With others alive the leader plans shared cycles instead of running
 * them; one still open at the next deadline skips it, as a running cycle
 * does; a trigger plans a manual one unless one is open. */
static void leader_plans_shared_cycles(void **state)
{
    (void)state;
    start(0, 0);
    role = FLEET_LEADER;
    int64_t t0 = L.now;
    advance_to(t0);
    assert_int_equal(ncycles, 0);
    assert_int_equal(nplans, 1);
    assert_int_equal(plans[0].seq, 1);
    assert_string_equal(plans[0].trigger, "startup");
    assert_int_equal(plans[0].honours, 1);
    advance_to(t0 + INTERVAL); /* still open */
    assert_int_equal(nplans, 1);
    assert_int_equal(skipped(), 1);
    scheduler_trigger(S, "tester");
    assert_int_equal(nplans, 1);
    fleet_open = 0;
    scheduler_trigger(S, "tester");
    assert_int_equal(nplans, 2);
    assert_string_equal(plans[1].trigger, "manual");
    assert_int_equal(plans[1].honours, 0);
    fleet_open = 0;
    advance_to(t0 + 2 * INTERVAL);
    assert_int_equal(nplans, 3);
    assert_string_equal(plans[2].trigger, "schedule");
    assert_int_equal(plans[2].seq, 3);
    assert_int_equal(plans[2].at, t0 + 2 * INTERVAL);
    assert_int_equal(ncycles, 0);
}

/* Before the database says who leads, the first deadline waits (up to the
 * same 10 s as for the first asset list), then runs its cycle itself. */
static void unknown_role_waits_then_runs(void **state)
{
    (void)state;
    start(0, 0);
    role = FLEET_UNKNOWN;
    int64_t t0 = L.now;
    advance_to(t0 + 9000);
    assert_int_equal(ncycles, 0);
    role = FLEET_FOLLOWER;
    advance_to(t0 + 9200);
    assert_int_equal(ncycles, 0);
    scheduler_free(S);
    start(0, 0);
    role = FLEET_UNKNOWN;
    t0 = L.now;
    advance_to(t0 + 10100);
    assert_int_equal(ncycles, 1);
}

/* Taking the lease over a running fleet: the checks keep their grid
 * (what is due is the database's judgement, asset by asset), and the next
 * full check (the rates) comes an interval after the fleet's last one;
 * when that is longer ago than an interval, a full check runs now. */
static void rebase_continues_the_fleets_full_checks(void **state)
{
    (void)state;
    test_cfg.check_interval_s = 60;
    start(0, 0);
    role = FLEET_FOLLOWER;
    int64_t t0 = L.now;
    advance_to(t0 + 90000);
    assert_int_equal(nplans, 0);
    role = FLEET_LEADER;
    scheduler_rebase(S, 4 * MIN); /* its last full check: 4 min ago */
    int64_t last_full = t0 + 90000 - 4 * MIN;
    for (int64_t t = t0 + 2 * MIN; t <= t0 + 20 * MIN; t += MIN) {
        advance_to(t);
        assert_int_equal(plans[nplans - 1].at, t); /* the minute grid goes on */
        int full = t - last_full >= INTERVAL - MIN / 2;
        assert_int_equal(plans[nplans - 1].full, full);
        if (full)
            last_full = t;
        fleet_open = 0;
    }
    /* the fleet's last full check longer ago than an interval: one now */
    scheduler_rebase(S, 25 * MIN);
    assert_int_equal(next_deadline(), L.now);
    advance_to(L.now);
    assert_int_equal(plans[nplans - 1].full, 1);
    test_cfg.check_interval_s = 0;
}

/* The first cycle at start, then at start + k × interval exactly, however
 * long each cycle takes: no drift. */
static void deadlines_are_absolute(void **state)
{
    (void)state;
    start(0, 0);
    int64_t t0 = L.now;
    advance_to(t0);
    assert_int_equal(ncycles, 1);
    assert_int_equal(cycles[0].kind, WORK_STARTUP);
    assert_int_equal(cycles[0].seq, 1);
    for (int k = 1; k <= 5; k++) {
        advance_to(t0 + (k - 1) * INTERVAL + 250000 + 37 * k); /* a slow cycle */
        finish(CYCLE_SUCCEEDED);
        assert_int_equal(next_deadline(), t0 + k * INTERVAL);
        advance_to(t0 + k * INTERVAL - 1);
        assert_int_equal(ncycles, k);
        advance_to(t0 + k * INTERVAL);
        assert_int_equal(ncycles, k + 1);
        assert_int_equal(cycle_at[k], t0 + k * INTERVAL);
        assert_int_equal(cycles[k].kind, WORK_SCHEDULE);
        assert_int_equal(cycles[k].seq, k + 1);
    }
    assert_int_equal(skipped(), 0);
}

/* A deadline that finds the cycle still running is skipped, counted and
 * logged; the schedule stays on its grid. */
static void running_deadline_is_skipped(void **state)
{
    (void)state;
    start(0, 0);
    int64_t t0 = L.now;
    advance_to(t0);
    advance_to(t0 + INTERVAL); /* cycle 1 is still running */
    assert_int_equal(ncycles, 1);
    assert_int_equal(skipped(), 1);
    assert_int_equal(logged_with("still running at the next deadline"), 1);
    advance_to(t0 + INTERVAL + 90000);
    finish(CYCLE_PARTIAL);
    advance_to(t0 + 2 * INTERVAL - 1);
    assert_int_equal(ncycles, 1); /* not at once after the late finish */
    advance_to(t0 + 2 * INTERVAL);
    assert_int_equal(ncycles, 2);
    assert_int_equal(cycle_at[1], t0 + 2 * INTERVAL);
}

/* A stall of three intervals: one cycle when the loop turns again, the
 * deadlines that passed counted as skipped, the grid kept. */
static void deadlines_missed_in_a_stall_are_counted(void **state)
{
    (void)state;
    start(0, 0);
    int64_t t0 = L.now;
    advance_to(t0);
    finish(CYCLE_SUCCEEDED);
    stall_to(t0 + 3 * INTERVAL + 5000);
    advance_to(t0 + 3 * INTERVAL + 5000);
    assert_int_equal(ncycles, 2);
    assert_int_equal(skipped(), 2);
    assert_int_equal(logged_with("deadlines passed while fetcherd was busy or stalled"), 1);
    assert_int_equal(next_deadline(), t0 + 4 * INTERVAL);
    finish(CYCLE_SUCCEEDED);
    advance_to(t0 + 4 * INTERVAL);
    assert_int_equal(ncycles, 3);
    assert_int_equal(cycle_at[2], t0 + 4 * INTERVAL);
}

/* A manual trigger starts a cycle at once when idle, is refused (and
 * logged) while one runs, and never moves the schedule. */
static void trigger_runs_now_unless_running(void **state)
{
    (void)state;
    start(0, 0);
    int64_t t0 = L.now;
    advance_to(t0);
    scheduler_trigger(S, "test");
    assert_int_equal(ncycles, 1);
    /* no id could be reserved (dbconn_query above): named by its seq */
    assert_int_equal(logged_with("ignored: cycle (seq 1) is already running"), 1);
    finish(CYCLE_SUCCEEDED);
    advance_to(t0 + 2 * MIN);
    scheduler_trigger(S, "test");
    assert_int_equal(ncycles, 2);
    assert_int_equal(cycles[1].kind, WORK_MANUAL);
    assert_int_equal(cycle_at[1], t0 + 2 * MIN);
    finish(CYCLE_SUCCEEDED);
    assert_int_equal(next_deadline(), t0 + INTERVAL);
    advance_to(t0 + INTERVAL);
    assert_int_equal(ncycles, 3);
    assert_int_equal(cycles[2].seq, 3);
}

/* Paused: deadlines pass without a cycle and are not "skipped"; a manual
 * trigger still runs; resumed, the next deadline runs on the grid. */
static void paused_deadlines_do_not_run(void **state)
{
    (void)state;
    start(0, 0);
    int64_t t0 = L.now;
    advance_to(t0);
    finish(CYCLE_SUCCEEDED);
    scheduler_set_paused(S, 1, 123456);
    struct sched_info si;
    scheduler_get(S, &si);
    assert_int_equal(si.paused, 1);
    assert_int_equal(si.paused_since_wall_ms, 123456);
    advance_to(t0 + 3 * INTERVAL);
    assert_int_equal(ncycles, 1);
    assert_int_equal(skipped(), 0);
    scheduler_trigger(S, "test");
    assert_int_equal(ncycles, 2);
    finish(CYCLE_SUCCEEDED);
    scheduler_set_paused(S, 0, 0);
    advance_to(t0 + 4 * INTERVAL - 1);
    assert_int_equal(ncycles, 2);
    advance_to(t0 + 4 * INTERVAL);
    assert_int_equal(ncycles, 3);
    assert_int_equal(cycles[2].kind, WORK_SCHEDULE);
}

/* --once: one cycle at start, its outcome reported, no timer left, and
 * no trigger starts another. */
static void once_runs_one_cycle(void **state)
{
    (void)state;
    start(1, 41);
    int64_t t0 = L.now;
    advance_to(t0);
    assert_int_equal(ncycles, 1);
    assert_int_equal(cycles[0].seq, 42);
    assert_int_equal(armed_timers(), 0);
    assert_int_equal(next_deadline(), 0);
    scheduler_trigger(S, "test");
    assert_int_equal(ncycles, 1);
    finish(CYCLE_FAILED);
    assert_int_equal(once_calls, 1);
    assert_int_equal(once_ok, 0);
    scheduler_trigger(S, "test"); /* idle now, and still no second cycle */
    assert_int_equal(ncycles, 1);
    advance_to(t0 + 5 * INTERVAL);
    assert_int_equal(ncycles, 1);
}

/* --once while scheduled cycles are paused: an explicit run goes ahead. */
static void once_runs_while_paused(void **state)
{
    (void)state;
    start(1, 0);
    scheduler_set_paused(S, 1, 1);
    assert_int_equal(logged_with("this --once run goes ahead"), 1);
    advance_to(L.now);
    assert_int_equal(ncycles, 1);
    finish(CYCLE_PARTIAL);
    assert_int_equal(once_calls, 1);
    assert_int_equal(once_ok, 1);
}

/* Before the first asset list and with the database not yet up, the first
 * cycle waits for the connection (polling every 100 ms) … */
static void first_cycle_waits_for_the_database(void **state)
{
    (void)state;
    start(0, 0);
    int64_t t0 = L.now;
    asset_count = -1;
    db_up = 0;
    advance_to(t0 + 4900);
    assert_int_equal(ncycles, 0);
    db_up = 1;
    advance_to(t0 + 5000);
    assert_int_equal(ncycles, 1);
    assert_true(cycle_at[0] >= t0 + 4900 && cycle_at[0] <= t0 + 5000);
    assert_int_equal(cycles[0].kind, WORK_STARTUP);
    /* and the grid is still the start's, not the late first cycle's */
    finish(CYCLE_SUCCEEDED);
    assert_int_equal(next_deadline(), t0 + INTERVAL);
    advance_to(t0 + INTERVAL - 1);
    assert_int_equal(ncycles, 1);
    advance_to(t0 + INTERVAL);
    assert_int_equal(ncycles, 2);
    assert_int_equal(cycle_at[1], t0 + INTERVAL);
}

/* … and gives up after 10 s, running (and failing) the cycle. */
static void first_cycle_gives_up_waiting_after_10s(void **state)
{
    (void)state;
    start(0, 0);
    int64_t t0 = L.now;
    asset_count = -1;
    db_up = 0;
    advance_to(t0 + 9999);
    assert_int_equal(ncycles, 0);
    advance_to(t0 + 10100);
    assert_int_equal(ncycles, 1);
    assert_true(cycle_at[0] >= t0 + 10000);
}

/* A cycle that cannot start (out of memory) is logged and leaves the
 * scheduler idle: the next deadline tries again. */
static void a_cycle_that_cannot_start_leaves_it_idle(void **state)
{
    (void)state;
    start(0, 0);
    int64_t t0 = L.now;
    fail_start = 1;
    advance_to(t0);
    assert_int_equal(ncycles, 0);
    assert_int_equal(logged_with("cannot start a cycle"), 1);
    struct sched_info si;
    scheduler_get(S, &si);
    assert_int_equal(si.running, 0);
    fail_start = 0;
    advance_to(t0 + INTERVAL);
    assert_int_equal(ncycles, 1);
    assert_int_equal(skipped(), 0);
}

/* A refresh starts at once even while a cycle runs, and is released to
 * own itself. */
static void refresh_runs_beside_a_cycle(void **state)
{
    (void)state;
    start(0, 0);
    advance_to(L.now);
    int released = nreleased;
    scheduler_refresh(S, "[\"AAPL\"]", "test");
    assert_int_equal(ncycles, 2);
    assert_int_equal(cycles[1].refresh, 1);
    assert_int_equal(nreleased, released + 1);
    finish(CYCLE_SUCCEEDED); /* the scheduled cycle is unaffected */
}

/* Stopped: no further cycle, no deadline, triggers and refreshes ignored. */
static void stop_ends_scheduling(void **state)
{
    (void)state;
    start(0, 0);
    int64_t t0 = L.now;
    advance_to(t0);
    finish(CYCLE_SUCCEEDED);
    scheduler_stop(S);
    assert_int_equal(armed_timers(), 0);
    assert_int_equal(next_deadline(), 0);
    scheduler_trigger(S, "test");
    scheduler_refresh(S, "[\"AAPL\"]", "test");
    advance_to(t0 + 3 * INTERVAL);
    assert_int_equal(ncycles, 1);
}

/* ---- per-asset cadence --------------------------------------------------- */

/* The simulated universe of the cadence tests: per asset its type's bound
 * and when it was last asked for (-1: never). */
struct sim_asset {
    const char *type;
    int64_t asked;
    int fetches;
};

/* Runs the real scheduler for an hour of its checks; at each check the
 * assets due by staleness_due() are fetched; the check ends idle when
 * none was (and it was not a full one). Returns the number of checks. */
static int run_hour(struct sim_asset *a, size_t n, const struct staleness *st, int *full)
{
    int64_t t0 = L.now;
    int checks = 0;
    *full = 0;
    struct sched_info si;
    for (;;) {
        scheduler_get(S, &si);
        if (si.next_deadline_mono >= t0 + 60 * MIN)
            break;
        advance_to(si.next_deadline_mono > L.now ? si.next_deadline_mono : L.now);
        if (pending_done == NULL)
            continue;
        checks++;
        const struct cycle *c = &cycles[(ncycles - 1) % NCYC];
        *full += (c->flags & CYCLE_FULL) != 0;
        int any = 0;
        for (size_t i = 0; i < n; i++) {
            int64_t ago = a[i].asked < 0 ? -1 : L.now - a[i].asked;
            if (staleness_due(ago, staleness_bound(st, a[i].type), si.check_ms / 1000)) {
                a[i].fetches++;
                a[i].asked = L.now;
                any = 1;
            }
        }
        if (ncycles == NCYC)
            ncycles = 0; /* the recorder is a ring here: an hour has more checks */
        finish(any || (c->flags & CYCLE_FULL) ? CYCLE_SUCCEEDED : CYCLE_IDLE);
    }
    return checks;
}

/* FETCH_STALENESS=crypto=1m,stock=10m, FETCH_CHECK_INTERVAL=30s, over a
 * simulated hour: a check every 30 s; crypto fetched about 60 times,
 * stocks about 6; checks that find nothing due are no cycles, and their
 * numbers are not used up; the rates (a full check) every FETCH_INTERVAL. */
static void cadence_crypto_1m_stock_10m(void **state)
{
    (void)state;
    static struct staleness st;
    char err[200];
    assert_int_equal(staleness_parse("crypto=1m,stock=10m", INTERVAL / 1000, &st, err, sizeof err),
                     0);
    start_staleness = &st;
    test_cfg.check_interval_s = 30;
    start(0, 0);
    start_staleness = NULL;
    assert_int_equal(due_set.check_s, 30);
    assert_non_null(strstr(due_set.bounds_json, "\"crypto\":60"));
    assert_non_null(strstr(due_set.bounds_json, "\"stock\":600"));
    struct sim_asset a[] = {
        {"crypto", -1, 0}, {"crypto", -1, 0}, {"stock", -1, 0}, {"stock", -1, 0}, {"etf", -1, 0}};
    int full;
    int checks = run_hour(a, ARRAY_LEN(a), &st, &full);
    assert_int_equal(checks, 120);
    for (size_t i = 0; i < ARRAY_LEN(a); i++) {
        if (strcmp(a[i].type, "crypto") == 0)
            assert_true(a[i].fetches >= 59 && a[i].fetches <= 61);
        else
            assert_true(a[i].fetches >= 5 && a[i].fetches <= 7);
    }
    assert_int_equal(full, 6); /* rates every FETCH_INTERVAL (10 min) */
    struct sched_info si;
    scheduler_get(S, &si);
    assert_int_equal(si.checks, 120);
    assert_int_equal(si.cycles_started, a[0].fetches); /* every other check was idle */
    /* the last check (at 59:30) was idle: it had borrowed the next number */
    assert_int_equal(cycles[(ncycles - 1 + NCYC) % NCYC].seq, si.cycles_started + 1);
    test_cfg.check_interval_s = 0;
}

/* No settings (every bound FETCH_INTERVAL): checks every 30 s, but the
 * work is today's ten-minute cycle: every asset at the same checks, once
 * per FETCH_INTERVAL, with the rates. */
static void cadence_without_settings_is_the_ten_minute_cycle(void **state)
{
    (void)state;
    static struct staleness st;
    char err[200];
    assert_int_equal(staleness_parse("", INTERVAL / 1000, &st, err, sizeof err), 0);
    start_staleness = &st;
    test_cfg.check_interval_s = 30;
    start(0, 0);
    start_staleness = NULL;
    struct sim_asset a[] = {{"crypto", -1, 0}, {"stock", -1, 0}, {"bond", -1, 0}};
    int full;
    assert_int_equal(run_hour(a, ARRAY_LEN(a), &st, &full), 120);
    for (size_t i = 0; i < ARRAY_LEN(a); i++)
        assert_int_equal(a[i].fetches, 6);
    struct sched_info si;
    scheduler_get(S, &si);
    assert_int_equal(si.cycles_started, 6);
    assert_int_equal(full, 6);
    test_cfg.check_interval_s = 0;
}

/* never: not fetched by the schedule at all; always: at every check. */
static void cadence_never_and_always(void **state)
{
    (void)state;
    static struct staleness st;
    char err[200];
    assert_int_equal(staleness_parse("bond=never,fx=always", INTERVAL / 1000, &st, err, sizeof err),
                     0);
    start_staleness = &st;
    test_cfg.check_interval_s = 30;
    start(0, 0);
    start_staleness = NULL;
    struct sim_asset a[] = {{"bond", -1, 0}, {"fx", -1, 0}, {"stock", -1, 0}};
    int full;
    assert_int_equal(run_hour(a, ARRAY_LEN(a), &st, &full), 120);
    assert_int_equal(a[0].fetches, 0);
    assert_int_equal(a[1].fetches, 120);
    assert_int_equal(a[2].fetches, 6);
    test_cfg.check_interval_s = 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(deadlines_are_absolute, teardown),
        cmocka_unit_test_teardown(running_deadline_is_skipped, teardown),
        cmocka_unit_test_teardown(deadlines_missed_in_a_stall_are_counted, teardown),
        cmocka_unit_test_teardown(trigger_runs_now_unless_running, teardown),
        cmocka_unit_test_teardown(paused_deadlines_do_not_run, teardown),
        cmocka_unit_test_teardown(once_runs_one_cycle, teardown),
        cmocka_unit_test_teardown(once_runs_while_paused, teardown),
        cmocka_unit_test_teardown(first_cycle_waits_for_the_database, teardown),
        cmocka_unit_test_teardown(first_cycle_gives_up_waiting_after_10s, teardown),
        cmocka_unit_test_teardown(a_cycle_that_cannot_start_leaves_it_idle, teardown),
        cmocka_unit_test_teardown(refresh_runs_beside_a_cycle, teardown),
        cmocka_unit_test_teardown(stop_ends_scheduling, teardown),
        cmocka_unit_test_teardown(cadence_crypto_1m_stock_10m, teardown),
        cmocka_unit_test_teardown(cadence_without_settings_is_the_ten_minute_cycle, teardown),
        cmocka_unit_test_teardown(cadence_never_and_always, teardown),
        cmocka_unit_test_teardown(follower_starts_nothing, teardown),
        cmocka_unit_test_teardown(leader_plans_shared_cycles, teardown),
        cmocka_unit_test_teardown(unknown_role_waits_then_runs, teardown),
        cmocka_unit_test_teardown(rebase_continues_the_fleets_full_checks, teardown),
    };
    return cmocka_run_group_tests_name("scheduler on a moved clock", tests, NULL, NULL);
}
