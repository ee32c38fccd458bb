/*
 * fleet — see fleet.h.
 *
 * Every statement here is small and answers at once; those that name rows
 * of ours in an order that matters (the plan, a cycle's finish, giving back
 * claims and the lease at shutdown) go through the writer, the rest
 * (renewing the lease, claiming, reaping) straight to dbconn: they read or
 * change only coordination rows, and a lost answer costs one interval.
 */
#include "fleet.h"
#include "assets.h"
#include "cycle.h"
#include "jbuf.h"
#include "log.h"
#include "provider.h"
#include "queue.h"
#include "scheduler.h"
#include "sql.h"
#include "stats.h"

#include <json-c/json.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Shares in flight at once per instance, so that this many chunks can be
 * on the wire while the next claim is on its way. */
#define FLEET_MAX_SHARES 8
/* A claim takes up to this many of its provider's batches (fewer when
 * that would leave another live instance without a share): a chunk is
 * claimed in one statement and recorded in one, so 10,000 assets cost
 * about a hundred of each a cycle instead of five hundred, and an
 * instance that dies leaves at most this many batches to fetch again. */
#define FLEET_CHUNK_BATCHES "4"
/* Cycles whose shares this instance recorded and has not yet asked to
 * finish: a few at most (one cycle at a time, and its predecessor). */
#define FLEET_PENDING 8
/* A lease lasts this many of the holder's heartbeat intervals. */
#define FLEET_LEASE_BEATS 3
/* Before the first answer: how soon to ask again while the connection,
 * opened asynchronously at start, is not up yet. */
#define FLEET_FIRST_ASK_MS 200

struct fleet {
    struct daemon *d;
    struct asset_cache *ac; /* the currencies a shared cycle's rates need */
    int64_t timer;
    int lease_inflight, claim_inflight, reap_inflight, planning;
    int64_t lease_asked_ms; /* when the renewal in flight was sent (mono) */
    int64_t lease_sent_ms;  /* when the renewal last answered was sent */
    int64_t claim_sent_ms;
    int64_t plan_answered_ms; /* when our last plan was answered (mono) */
    int64_t tick_ms;          /* the lease timer's last run (mono) */
    int orphans;              /* the last lease answer saw claims of ours while we ran no share */
    int releasing;            /* those are being given back */
    int have_answer;
    int leader; /* the last answer said the lease is ours */
    int64_t epoch, others;
    char holder[64];
    int64_t plan_seq;
    int plan_full;      /* the plan in flight is a full check (rates) */
    int64_t planned_id; /* our last shared cycle */
    int64_t open_id, open_seq, open_total, open_done;
    int64_t shares, shares_done, assets_done, released;
    int64_t pending[FLEET_PENDING]; /* cycles to ask to finish, 0 = free */
    uint64_t requests_reported;     /* fetcher_requests() already added to a cycle */
    char batch[256];                /* {"yahoo": 20, …}: each provider's chunk */
    int stopping;
};

/* A share in flight: what its callback needs. */
struct fl_share {
    struct fleet *f;
    int64_t cycle_id;
    size_t n;
};

static int64_t fl_ttl_ms(void)
{
    return FLEET_LEASE_BEATS * cfg->heartbeat_s * 1000;
}

/* A column of ours, read as an integer; NULL or not a number (our own
 * statements never give one) reads 0. */
static int64_t fl_int(const PGresult *res, int row, int col)
{
    int64_t v;
    if (PQgetisnull(res, row, col) ||
        util_parse_i64(PQgetvalue(res, row, col), -1, INT64_MAX, &v) != 0)
        return 0;
    return v;
}

static const char *const fl_role_names[] = {"unknown", "solo", "leader", "follower"};

enum fleet_role fleet_role(const struct fleet *f)
{
    if (f == NULL)
        return FLEET_SOLO;
    if (!f->have_answer)
        return FLEET_UNKNOWN;
    /* Alone when the database went away: go on as one fetcherd always did
     * (its rows wait in the write buffer). In a fleet, nothing without
     * the database: the others may own the work. */
    if (!dbconn_is_up(f->d->db))
        return f->leader && f->others == 0 ? FLEET_SOLO : FLEET_FOLLOWER;
    if (!f->leader || loop_now(f->d->loop) >= f->lease_sent_ms + fl_ttl_ms())
        return FLEET_FOLLOWER;
    return f->others == 0 ? FLEET_SOLO : FLEET_LEADER;
}

int fleet_cycle_open(const struct fleet *f)
{
    return f != NULL && (f->planning || f->open_id != 0);
}

void fleet_get(const struct fleet *f, struct fleet_info *out)
{
    memset(out, 0, sizeof *out);
    out->role = fleet_role(f);
    out->role_name = fl_role_names[out->role];
    if (f == NULL)
        return;
    util_strlcpy(out->leader, f->holder, sizeof out->leader);
    out->epoch = fleet_role(f) == FLEET_LEADER || fleet_role(f) == FLEET_SOLO ? f->epoch : 0;
    out->others = f->others;
    if (f->open_id != 0 && f->open_id == f->planned_id) {
        out->open_cycle_id = f->open_id;
        out->open_seq = f->open_seq;
        out->open_total = f->open_total;
        out->open_done = f->open_done;
    }
    out->shares_done = f->shares_done;
    out->assets_done = f->assets_done;
    out->shares_in_flight = f->shares;
    out->claims_released = f->released;
}

/* ---- finishing a shared cycle ---------------------------------------- */

static void fl_claim(struct fleet *f);
static void fl_reap(struct fleet *f);

/* We found the cycle's last open work done: log it, recalculate. */
static void fl_on_finish(int written, const PGresult *res, void *cls)
{
    struct fleet *f = cls;
    if (!written || res == NULL || PQntuples(res) != 1)
        return;
    int64_t id = 0, seq = 0, ok = 0, failed = 0, total = 0, ms = 0, requests = 0;
    id = fl_int(res, 0, 0);
    seq = fl_int(res, 0, 2);
    ok = fl_int(res, 0, 4);
    failed = fl_int(res, 0, 5);
    total = fl_int(res, 0, 6);
    ms = fl_int(res, 0, 7);
    requests = fl_int(res, 0, 8);
    const char *status = PQgetvalue(res, 0, 3);
    if (id == f->open_id)
        f->open_id = 0;
    json_object *ctx = json_object_new_object();
    json_object_object_add(ctx, "status", json_object_new_string(status));
    json_object_object_add(ctx, "assets_total", json_object_new_int64(total));
    json_object_object_add(ctx, "assets_succeeded", json_object_new_int64(ok));
    json_object_object_add(ctx, "assets_failed", json_object_new_int64(failed));
    json_object_object_add(ctx, "upstream_requests", json_object_new_int64(requests));
    json_object_object_add(ctx, "instances", json_object_new_string(PQgetvalue(res, 0, 9)));
    json_object_object_add(ctx, "duration_seconds", json_object_new_double((double)ms / 1000.0));
    writer_log(f->d->writer, strcmp(status, "failed") == 0 ? LOG_ERROR : LOG_INFO, -id, ctx,
               "Cycle %lld %s: %lld/%lld assets updated in %.2fs, shared by %s", (long long)id,
               status, (long long)ok, (long long)total, (double)ms / 1000.0,
               PQgetvalue(res, 0, 9)[0] ? PQgetvalue(res, 0, 9) : "no instance");
    if (ok > 0)
        cycle_recalculate(f->d, PQgetvalue(res, 0, 1), seq, -id);
    stats_persist(f->d);
}

/* After our rows of cycle id (queued before this, so written before it):
 * adds the requests we made since the last report, and finishes the
 * cycle if no open work is left. */
static void fl_submit_finish(struct fleet *f, int64_t id)
{
    uint64_t now = fetcher_requests(f->d->fetcher);
    uint64_t delta = now - f->requests_reported;
    f->requests_reported = now;
    char sid[24], sreq[24];
    snprintf(sid, sizeof sid, "%lld", (long long)id);
    snprintf(sreq, sizeof sreq, "%llu", (unsigned long long)(delta > 1000000 ? 1000000 : delta));
    const char *params[2] = {sid, sreq};
    if (writer_submit(f->d->writer, WRITE_DATA, SQL_FLEET_FINISH, 2, params, 1, fl_on_finish, f) !=
        0)
        log_msg(LOG_ERROR, "fleet: out of memory; cycle %lld is finished by the next check",
                (long long)id);
}

/* ---- orphaned claims -------------------------------------------------------- */

static void fl_on_orphans_released(int written, const PGresult *res, void *cls)
{
    struct fleet *f = cls;
    f->releasing = 0;
    if (written && res != NULL && PQntuples(res) == 1) {
        int64_t n = fl_int(res, 0, 0);
        if (n > 0) {
            json_object *ctx = json_object_new_object();
            json_object_object_add(ctx, "claims", json_object_new_int64(n));
            writer_log(f->d->writer, LOG_WARNING, 0, ctx,
                       "%lld assets claimed under this instance's name but fetched by none of "
                       "its shares went back to the pool",
                       (long long)n);
        }
    }
    if (written)
        fl_claim(f); /* not from writer_free */
}

/* Claims under our name that no share of ours is working on: a claim
 * whose answer was lost with the connection, rows the writer dropped or
 * the database refused, a previous process with this FETCHER_INSTANCE_ID
 * killed mid-cycle. While we heartbeat no other instance returns them,
 * and their cycle would stay open for ever (the leader plans no other).
 * Only when idle (no share, and a claim just found nothing more), through
 * the writer so that our rows already queued mark their work done first,
 * and claiming nothing until it is answered: what it gives back is
 * nobody's work. */
static void fl_release_orphans(struct fleet *f)
{
    f->orphans = 0;
    const char *params[1] = {f->d->instance_id};
    if (writer_submit_news(f->d->writer, SQL_FLEET_RELEASE_MINE, 1, params, fl_on_orphans_released,
                           f) == 0)
        f->releasing = 1;
}

/* ---- shares ------------------------------------------------------------ */

/* A cycle is asked to finish once this instance has no more of its work:
 * not after every chunk (a statement each), but when a claim finds the
 * pool empty with none of our shares in flight. The finish goes through
 * the writer after our rows, so it sees them. */
static void fl_remember(struct fleet *f, int64_t cycle_id)
{
    for (int i = 0; i < FLEET_PENDING; i++)
        if (f->pending[i] == cycle_id)
            return;
    for (int i = 0; i < FLEET_PENDING; i++)
        if (f->pending[i] == 0) {
            f->pending[i] = cycle_id;
            return;
        }
    fl_submit_finish(f, cycle_id); /* no room: ask now */
}

static void fl_finish_pending(struct fleet *f)
{
    if (f->shares > 0)
        return;
    for (int i = 0; i < FLEET_PENDING; i++)
        if (f->pending[i] != 0) {
            fl_submit_finish(f, f->pending[i]);
            f->pending[i] = 0;
        }
}

static void fl_on_share_done(enum cycle_status st, void *cls)
{
    (void)st;
    struct fl_share *sh = cls;
    struct fleet *f = sh->f;
    f->shares--;
    f->shares_done++;
    f->assets_done += (int64_t)sh->n;
    fl_remember(f, sh->cycle_id);
    free(sh);
    fl_claim(f);
}

static void fl_give_back(struct fleet *f, const char *why)
{
    log_msg(LOG_WARNING, "fleet: giving back our claims (%s)", why);
    const char *params[1] = {f->d->instance_id};
    if (writer_submit(f->d->writer, WRITE_DATA, SQL_FLEET_RELEASE_MINE, 1, params, 1, NULL, NULL) !=
        0)
        log_msg(LOG_ERROR, "fleet: out of memory; our claims return when our heartbeat stops");
}

static void fl_on_claim(const PGresult *res, enum db_status st, const char *err, void *cls)
{
    struct fleet *f = cls;
    f->claim_inflight = 0;
    if (st != DB_OK) {
        log_msg(LOG_WARNING, "fleet: could not claim work: %s", err);
        return;
    }
    int n = PQntuples(res);
    if (n == 0) {
        if (f->orphans && f->shares == 0 && !f->stopping)
            fl_release_orphans(f);
        fl_finish_pending(f);
        return;
    }
    if (f->stopping) {
        fl_give_back(f, "shutting down");
        return;
    }
    /* An answer this late means we slept (SIGSTOP, a stalled host) or the
     * database held it up: the claims may already be another instance's.
     * Fetch none of them; they are orphans, given back when we are idle
     * (giving back all of ours now would take the claims of the shares
     * still fetching from under them: fetched twice). */
    if (loop_now(f->d->loop) - f->claim_sent_ms >= fl_ttl_ms()) {
        log_msg(LOG_WARNING,
                "fleet: a claim of %d assets answered after the lease time: not fetched, "
                "given back when this instance is idle",
                n);
        f->orphans = 1;
        if (f->shares == 0 && !f->releasing)
            fl_release_orphans(f);
        return;
    }
    int64_t cycle_id = 0;
    cycle_id = fl_int(res, 0, 13); /* after SQL_TRACKED_ASSETS' columns */
    struct asset_list *list = assets_from_rows(res);
    struct fl_share *sh = calloc(1, sizeof *sh);
    if (list == NULL || sh == NULL || cycle_id == 0) {
        asset_list_release(list);
        free(sh);
        fl_give_back(f, "out of memory");
        return;
    }
    *sh = (struct fl_share){f, cycle_id, asset_list_len(list)};
    struct cycle *c = cycle_start_share(f->d, list, cycle_id, fl_on_share_done, sh);
    if (c == NULL) {
        free(sh);
        fl_give_back(f, "out of memory");
        return;
    }
    cycle_release(c); /* the share owns itself until its rows are written */
    f->shares++;
    fl_claim(f); /* keep up to FLEET_MAX_SHARES on the way */
}

static void fl_claim(struct fleet *f)
{
    if (f->claim_inflight || f->releasing || f->stopping || f->shares >= FLEET_MAX_SHARES ||
        !dbconn_is_up(f->d->db))
        return;
    char live[24];
    snprintf(live, sizeof live, "%lld", (long long)(f->others + 1));
    const char *params[4] = {f->d->instance_id, f->batch, FLEET_CHUNK_BATCHES, live};
    if (dbconn_query(f->d->db, SQL_FLEET_CLAIM, 4, params, fl_on_claim, f) == 0) {
        f->claim_inflight = 1;
        f->claim_sent_ms = loop_now(f->d->loop);
    }
}

void fleet_on_notify(struct fleet *f, const char *payload)
{
    if (f == NULL)
        return;
    int64_t id;
    /* whoever finished it, the leader's next deadline may plan again */
    if (strncmp(payload, "finished ", 9) == 0 &&
        util_parse_i64(payload + 9, 1, INT64_MAX, &id) == 0) {
        if (id == f->open_id)
            f->open_id = 0;
        return;
    }
    fl_claim(f);
}

/* ---- planning (the leader) --------------------------------------------- */

static void fl_on_rates_done(enum cycle_status st, void *cls)
{
    (void)st;
    (void)cls;
}

static void fl_on_plan(int written, const PGresult *res, void *cls)
{
    struct fleet *f = cls;
    f->planning = 0;
    f->plan_answered_ms = loop_now(f->d->loop);
    if (!written || res == NULL || PQntuples(res) != 1) {
        writer_log(f->d->writer, LOG_WARNING, 0, NULL,
                   "A shared cycle could not be planned (the database went away); the "
                   "leader's next check plans again");
        scheduler_plan_idle(f->d->sched, f->plan_seq);
        return;
    }
    if (PQgetisnull(res, 0, 0)) {
        /* nothing due (an idle check: no cycle), or the lease was lost */
        if (strcmp(PQgetvalue(res, 0, 2), "t") != 0)
            writer_log(f->d->writer, LOG_INFO, 0, NULL,
                       "A shared cycle was not planned: the schedule lease was no longer ours");
        scheduler_plan_idle(f->d->sched, f->plan_seq);
        return;
    }
    int64_t id = fl_int(res, 0, 0), total = fl_int(res, 0, 1);
    f->planned_id = f->open_id = id;
    f->open_seq = f->plan_seq;
    f->open_total = total;
    f->open_done = 0;
    json_object *ctx = json_object_new_object();
    json_object_object_add(ctx, "cycle_id", json_object_new_int64(id));
    json_object_object_add(ctx, "assets", json_object_new_int64(total));
    json_object_object_add(ctx, "instances", json_object_new_int64(f->others + 1));
    writer_log(f->d->writer, LOG_INFO, -id, ctx,
               "Cycle %lld started, shared by %lld live instances: %lld assets due", (long long)id,
               (long long)(f->others + 1), (long long)total);
    /* the leader fetches the cycle's exchange rates itself, on a full
     * check (the plan made a cycle of it even with nothing due) */
    if (f->plan_full)
        cycle_release(cycle_start_rates(f->d, f->ac, id, fl_on_rates_done, f));
    if (total == 0)
        fl_submit_finish(f, id);
    fl_claim(f);
}

int fleet_plan(struct fleet *f, int64_t seq, const char *trigger, int honours_staleness, int full,
               const struct due_params *dp)
{
    if (f == NULL || f->planning || f->stopping || !dbconn_is_up(f->d->db))
        return -1;
    struct jbuf b;
    jbuf_init(&b);
    jbuf_obj(&b);
    jbuf_key(&b, "instance_id");
    jbuf_str(&b, f->d->instance_id);
    jbuf_key(&b, "seq");
    jbuf_int(&b, seq);
    jbuf_key(&b, "trigger");
    jbuf_str(&b, trigger);
    jbuf_key(&b, "check_s");
    jbuf_int(&b, dp->check_s);
    jbuf_key(&b, "bounds");
    jbuf_raw(&b, dp->bounds_json[0] ? dp->bounds_json : "{}");
    jbuf_key(&b, "default_s");
    jbuf_int(&b, dp->default_s);
    jbuf_key(&b, "market_hours");
    jbuf_bool(&b, dp->market_hours);
    jbuf_key(&b, "honour");
    jbuf_bool(&b, honours_staleness);
    jbuf_key(&b, "full_check");
    jbuf_bool(&b, full);
    jbuf_obj_end(&b);
    char *doc = jbuf_take(&b);
    jbuf_free(&b);
    if (doc == NULL)
        return -1;
    const char *params[1] = {doc};
    int rc = writer_submit_news(f->d->writer, SQL_FLEET_PLAN, 1, params, fl_on_plan, f);
    free(doc);
    if (rc != 0)
        return -1;
    f->planning = 1;
    f->plan_seq = seq;
    f->plan_full = full;
    return 0;
}

/* ---- the lease ------------------------------------------------------------ */

static void fl_on_lease(const PGresult *res, enum db_status st, const char *err, void *cls)
{
    struct fleet *f = cls;
    f->lease_inflight = 0;
    if (st != DB_OK || PQntuples(res) != 1) {
        log_msg(LOG_WARNING, "fleet: could not renew the schedule lease: %s",
                st != DB_OK ? err : "no row");
        return;
    }
    int was_leader = f->leader && f->have_answer;
    int leader = !PQgetisnull(res, 0, 0);
    int64_t since = -1;
    f->have_answer = 1;
    f->lease_sent_ms = f->lease_asked_ms;
    f->leader = leader;
    f->epoch = fl_int(res, 0, 0);
    f->others = fl_int(res, 0, 1);
    if (!PQgetisnull(res, 0, 2))
        since = fl_int(res, 0, 2);
    util_strlcpy(f->holder, PQgetvalue(res, 0, 6), sizeof f->holder);
    /* An answer to a renewal sent before our plan was answered may not see
     * the cycle yet: it says nothing about it. */
    if (f->lease_sent_ms >= f->plan_answered_ms) {
        int64_t open = 0;
        if (!PQgetisnull(res, 0, 3))
            open = fl_int(res, 0, 3);
        f->open_id = open;
        if (open != 0) {
            f->open_total = fl_int(res, 0, 4);
            f->open_done = fl_int(res, 0, 5);
            f->open_seq = fl_int(res, 0, 7);
        }
    }
    /* claims under our name while we run no share: given back when the
     * next claim finds nothing more (fl_on_claim); none: nothing to do */
    if (fl_int(res, 0, 8) == 0)
        f->orphans = 0;
    else if (f->shares == 0)
        f->orphans = 1;
    if (leader && !was_leader) {
        json_object *ctx = json_object_new_object();
        json_object_object_add(ctx, "epoch", json_object_new_int64(f->epoch));
        json_object_object_add(ctx, "other_instances", json_object_new_int64(f->others));
        writer_log(f->d->writer, LOG_INFO, 0, ctx,
                   "This instance leads the schedule now (lease epoch %lld, %lld other live "
                   "instances)",
                   (long long)f->epoch, (long long)f->others);
        /* Taking over a running fleet: its schedule goes on where the last
         * leader's left it, neither a cycle early nor one missed. Alone and
         * new, this process runs its start-up cycle now, as one fetcherd
         * always has (a crashed predecessor's cycle counts for nothing),
         * and so does one whose fleet has not run a cycle yet. */
        struct sched_info si;
        scheduler_get(f->d->sched, &si);
        if (si.cycles_started == 0 && (f->others == 0 || since < 0))
            scheduler_rebase(f->d->sched, INT64_MAX);
        else if (since >= 0)
            scheduler_rebase(f->d->sched, since);
    } else if (!leader && was_leader) {
        writer_log(f->d->writer, LOG_INFO, 0, NULL,
                   "This instance no longer leads the schedule (the lease is %s's)",
                   f->holder[0] ? f->holder : "nobody's");
    }
    fl_claim(f);
}

static void fl_renew(struct fleet *f)
{
    if (f->lease_inflight)
        return;
    char ttl[24];
    snprintf(ttl, sizeof ttl, "%lld", (long long)(fl_ttl_ms() / 1000));
    const char *params[3] = {f->d->instance_id, ttl, f->stopping ? "false" : "true"};
    f->lease_asked_ms = loop_now(f->d->loop);
    if (dbconn_query(f->d->db, SQL_FLEET_LEASE, 3, params, fl_on_lease, f) == 0)
        f->lease_inflight = 1;
}

static int64_t fl_on_timer(struct loop *l, void *cls)
{
    (void)l;
    struct fleet *f = cls;
    if (f->stopping)
        return LOOP_TIMER_STOP;
    int64_t now = loop_now(f->d->loop);
    /* A tick this late means the process slept (SIGSTOP, a suspended
     * host) for the lease time or longer: the claims of our shares have
     * gone back to the pool and other instances may have fetched them.
     * What our queue has yet to send for them is theirs now, so nothing
     * of it goes out (this runs before the loop's next queue_run). Our
     * claims that were not taken meanwhile go back when we are idle. */
    if (f->tick_ms > 0 && now - f->tick_ms >= fl_ttl_ms() && f->shares > 0) {
        json_object *ctx = json_object_new_object();
        json_object_object_add(ctx, "paused_ms", json_object_new_int64(now - f->tick_ms));
        json_object_object_add(ctx, "shares", json_object_new_int64(f->shares));
        writer_log(f->d->writer, LOG_WARNING, 0, ctx,
                   "This instance was paused for %.1fs, longer than its claims last: the "
                   "fetches of its %lld shares are cancelled",
                   (double)(now - f->tick_ms) / 1000.0, (long long)f->shares);
        queue_cancel_all_why(f->d->queue,
                             "cancelled: this instance was paused longer than its claims last");
    }
    f->tick_ms = now;
    fl_renew(f);
    /* every heartbeat interval, so a dead instance's claims are back in
     * the pool one interval after its heartbeats are three behind */
    fl_reap(f);
    fl_claim(f);
    fl_finish_pending(f); /* a claim may be refused while the database is away */
    /* Until the database first answers, who leads is unknown and the
     * scheduler holds its first deadline for it (at most 10 s, then it
     * runs that cycle alone): ask again soon, not a heartbeat later. */
    if (!f->have_answer)
        return FLEET_FIRST_ASK_MS;
    return cfg->heartbeat_s * 1000;
}

/* ---- reaping --------------------------------------------------------------- */

static void fl_on_reap(const PGresult *res, enum db_status st, const char *err, void *cls)
{
    struct fleet *f = cls;
    f->reap_inflight = 0;
    if (st != DB_OK) {
        log_msg(LOG_WARNING, "fleet: could not check for dead instances' claims: %s", err);
        return;
    }
    for (int i = 0; i < PQntuples(res); i++) {
        int64_t id = 0, n = 0;
        id = fl_int(res, i, 1);
        if (strcmp(PQgetvalue(res, i, 0), "finish") == 0) {
            fl_submit_finish(f, id);
            continue;
        }
        n = fl_int(res, i, 3);
        f->released += n;
        json_object *ctx = json_object_new_object();
        json_object_object_add(ctx, "instance_id", json_object_new_string(PQgetvalue(res, i, 2)));
        json_object_object_add(ctx, "claims", json_object_new_int64(n));
        writer_log(f->d->writer, LOG_WARNING, -id, ctx,
                   "%lld assets claimed by instance %s in cycle %lld went back to the pool (it "
                   "stopped heartbeating)",
                   (long long)n, PQgetvalue(res, i, 2), (long long)id);
    }
    fl_claim(f);
}

/* Returns dead instances' claims to the pool and finishes shared cycles
 * left without open work. */
static void fl_reap(struct fleet *f)
{
    if (f == NULL || f->reap_inflight || f->stopping)
        return;
    if (dbconn_query(f->d->db, SQL_FLEET_REAP, 0, NULL, fl_on_reap, f) == 0)
        f->reap_inflight = 1;
}

/* ---- life ------------------------------------------------------------------ */

struct fleet *fleet_new(struct daemon *d)
{
    struct fleet *f = calloc(1, sizeof *f);
    if (f == NULL)
        return NULL;
    f->d = d;
    f->ac = asset_cache_new();
    if (f->ac == NULL) {
        free(f);
        return NULL;
    }
    f->requests_reported = fetcher_requests(d->fetcher);
    /* each provider's batch size, for the size of its chunks */
    size_t np, off = 0;
    const struct provider *const *ps = provider_all(&np);
    off += (size_t)snprintf(f->batch, sizeof f->batch, "{");
    for (size_t i = 0; i < np && off < sizeof f->batch; i++)
        off += (size_t)snprintf(f->batch + off, sizeof f->batch - off, "%s\"%s\": %d",
                                i ? ", " : "", ps[i]->name, ps[i]->batch_size(cfg));
    if (off < sizeof f->batch)
        snprintf(f->batch + off, sizeof f->batch - off, "}");
    if (off + 1 >= sizeof f->batch)
        util_strlcpy(f->batch, "{}", sizeof f->batch); /* every provider: 20 (sql.c) */
    return f;
}

int fleet_setup(struct fleet *f)
{
    f->timer = loop_timer_add(f->d->loop, 0, fl_on_timer, f);
    return f->timer > 0 ? 0 : -1;
}

void fleet_final(struct fleet *f)
{
    if (f == NULL || f->stopping)
        return;
    f->stopping = 1;
    if (f->timer > 0)
        loop_timer_del(f->d->loop, f->timer);
    f->timer = 0;
    const char *params[1] = {f->d->instance_id};
    if (writer_submit(f->d->writer, WRITE_DATA, SQL_FLEET_RELEASE_MINE, 1, params, 1, NULL, NULL) !=
            0 ||
        writer_submit(f->d->writer, WRITE_DATA, SQL_FLEET_LEASE_RELEASE, 1, params, 1, NULL,
                      NULL) != 0)
        log_msg(LOG_WARNING, "fleet: out of memory; our claims and lease expire on their own");
}

void fleet_free(struct fleet *f)
{
    if (f == NULL)
        return;
    if (f->timer > 0)
        loop_timer_del(f->d->loop, f->timer);
    asset_cache_free(f->ac);
    free(f);
}
