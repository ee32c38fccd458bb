/*
 * cycle — see cycle.h.
 *
 * The state machine, in the order it runs:
 *
 *   cycle_start ─► reading assets ─► cyc_begin ─► fetching ─► cyc_finish
 *                       │ (no list at all)            (every answer in)
 *                       └──► cyc_fail_early                 │
 *                                                  writing, recalculating
 *                                                  (the writer reports back)
 *
 * A cycle is reference-counted: its starter holds one, the asset read
 * holds one until it answers, the fetching phase holds one (the queue's
 * waiters point into it) until cyc_finish, and each batched write that
 * reports back to it (results, recalculation) holds one, because with the
 * database away those writes may finish long after the fetching did. An
 * on-demand refresh has no owner but these.
 *
 * Memory is per asset and a cycle may hold ten thousand: a result keeps a
 * compact answer (the error text is allocated only on failure), the asset
 * list is shared with the cache by reference, and record.c builds each
 * chunk of rows only when the writer is ready to send it.
 */
#include "cycle.h"
#include "crosscheck.h"
#include "jbuf.h"
#include "provider.h"
#include "record.h"
#include "sources.h"
#include "sql.h"
#include "staleness.h"
#include "stats.h"
#include "validate.h"

#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Causes of failure logged per cycle, one line each (cyc_log_failures);
 * the rest are summed up, so a cycle never writes more than this many
 * failure lines, however many assets fail. */
#define CYCLE_LOG_FAILURES 20
/* Symbols a cause's line lists in its context (the count says the rest). */
#define CYCLE_LOG_SYMBOLS 50
/* Progress events at most this often while a cycle fetches. */
#define CYCLE_PROGRESS_MS 1000
/* How old a queue cache answer work that does not honour staleness takes:
 * a few seconds, so that a symbol a running cycle just fetched costs no
 * second request. */
#define CYCLE_RECENT_ANSWER_MS 5000

/* What tells one kind of work from another. The backfill and due-check
 * work of the history issue get entries here, not branches below. */
struct work_kind {
    const char *trigger; /* fetcher_cycles.trigger, and the log's name */
    enum queue_priority priority;
    /* A numbered cycle: a fetcher_cycles row at start and finish, progress
     * events, a statistics row after, log lines that name it by number. */
    int writes_cycle_row;
    /* Fetch only what the schedule says is due (fresh enough by its
     * refresh bound, or its market closed, is skipped), and accept no
     * cached answer at all, however late the cycle starts after the last
     * one. Work someone asked for fetches everything it names. */
    int honours_staleness;
    /* Skip assets whose market is closed and that have their closing
     * price (the database says: market_closed), counted as such. */
    int honours_market_hours;
    /* USD rates for the currencies in use, for portfolio valuation. */
    int fetches_rates;
    /* Cross-checks PRICE_CROSSCHECK_SAMPLE of its assets against their
     * other sources: the numbered cycles do; an on-demand refresh wants
     * its few prices now. */
    int crosschecks;
    /* The assets of its list are fetched (the rates of a shared cycle
     * read the list only for its currencies). */
    int fetches_assets;
    /* Portfolios are recalculated when it is written (a shared cycle's
     * finisher does that once for all its shares: fleet.c). */
    int recalculates;
    /* Its start and end are logged as an on-demand refresh's (a share's
     * are not: the fleet logs the cycle it is part of). */
    int logs_as_refresh;
    /* Takes no answer from the queue's cache, however recent: a cycle's
     * prices are fetched for it. Work someone asked for takes one a few
     * seconds old (a symbol a running cycle just fetched). */
    int fresh_only;
};

static const struct work_kind cyc_kinds[] = {
    [WORK_STARTUP] = {.trigger = "startup",
                      .priority = QPRIO_SCHEDULED,
                      .writes_cycle_row = 1,
                      .honours_staleness = 1,
                      .honours_market_hours = 1,
                      .fetches_rates = 1,
                      .crosschecks = 1,
                      .fetches_assets = 1,
                      .recalculates = 1,
                      .fresh_only = 1},
    [WORK_SCHEDULE] = {.trigger = "schedule",
                       .priority = QPRIO_SCHEDULED,
                       .writes_cycle_row = 1,
                       .honours_staleness = 1,
                       .honours_market_hours = 1,
                       .fetches_rates = 1,
                       .crosschecks = 1,
                       .fetches_assets = 1,
                       .recalculates = 1,
                       .fresh_only = 1},
    [WORK_MANUAL] = {.trigger = "manual",
                     .priority = QPRIO_MANUAL,
                     .writes_cycle_row = 1,
                     .fetches_rates = 1,
                     .crosschecks = 1,
                     .fetches_assets = 1,
                     .recalculates = 1},
    [WORK_REFRESH] = {.trigger = "refresh",
                      .priority = QPRIO_ON_DEMAND,
                      .fetches_assets = 1,
                      .recalculates = 1,
                      .logs_as_refresh = 1},
    /* someone ran it to fetch now: no asset is "fresh enough" */
    [WORK_ONCE] = {.trigger = "once",
                   .priority = QPRIO_SCHEDULED,
                   .writes_cycle_row = 1,
                   .fetches_rates = 1,
                   .crosschecks = 1,
                   .fetches_assets = 1,
                   .recalculates = 1,
                   .fresh_only = 1},
    /* a chunk of a shared cycle: the plan judged staleness and market
     * hours, so every asset of a share is fetched */
    [WORK_SHARE] = {.trigger = "share",
                    .priority = QPRIO_SCHEDULED,
                    .fetches_assets = 1,
                    .fresh_only = 1},
    [WORK_RATES] = {.trigger = "rates",
                    .priority = QPRIO_SCHEDULED,
                    .fetches_rates = 1,
                    .fresh_only = 1},
};

/* One cross-check ask: the answer of another source for asset i. */
struct xc_ask {
    struct cycle *c;
    size_t i;
    struct quote q;
    int answered;
};

/* An asset's cross-check: why, and the other sources asked ([0] of the
 * comparison is the asset's own answer, in its asset_result). */
struct cyc_xc {
    const char *reason; /* "probe", "failover" or "sample" */
    size_t nask;
    struct xc_ask ask[XC_MAX - 1];
    /* the source after the one asked first, asked only to settle a
     * disagreement (or when the first cannot answer) */
    struct source_choice more;
    int has_more;
};

/* Where a queue answer goes: results[i] or rates[i] of c. */
struct cyc_waiter {
    struct cycle *c;
    size_t i;
    int64_t submitted_ms;
};

struct cycle {
    struct daemon *d;
    const struct work_kind *kind;
    int refs;
    /* 0 for work without a cycle row; for a shared cycle's work, minus
     * the fetcher_cycles id (rows and logs name the cycle that way) */
    int64_t seq;
    int64_t id;          /* fetcher_cycles.id when reserved (cycle_set_id), else 0 */
    char name[64];       /* how log lines name it: the id, as the dashboard does */
    int64_t start_timer; /* a share's deferred start, or 0 */
    char client[64];     /* who asked, for work someone asked for */
    int64_t started_wall_ms, started_mono_ms;
    uint64_t upstream_at_start; /* fetcher_requests() when it started */
    uint64_t history_at_start;  /* the queue's history_requests then */
    struct asset_list *list;    /* the assets of this cycle (a reference) */
    struct asset_result *results;
    struct cyc_waiter *waiters; /* n for the assets, then nrates */
    size_t n, done, skipped;
    size_t cancelled;     /* not fetched: fetcherd began to stop */
    size_t market_closed; /* of skipped: stale, but their market is closed */
    int64_t last_progress_ms;
    struct rate_result *rates;
    size_t nrates, answered; /* answered: assets and rates */
    int fetching;            /* 1 until every answer is in */
    /* the cross-check (crosscheck.h): per asset, NULL unless checked;
     * started once every asset and rate has its answer, so its asks never
     * compete with the cycle's own */
    struct cyc_xc **xc;
    int xc_started;
    size_t xc_pending;        /* asks not yet answered */
    struct xc_rate *xc_rates; /* the cycle's USD rates, once they are in */
    size_t xc_nrates;
    unsigned flags;      /* CYCLE_* */
    int results_pending; /* record_results statements not yet written */
    int recalc_pending;
    cycle_done_cb cb;
    void *cls;
    void (*idle)(void *cls); /* cycle_on_idle */
    void *idle_cls;
    int idle_told;
};

/* ---- lifetime and progress --------------------------------------------- */

static void cyc_ref(struct cycle *c)
{
    c->refs++;
}

void cycle_release(struct cycle *c)
{
    if (c == NULL || --c->refs > 0)
        return;
    for (size_t i = 0; i < c->n; i++) {
        free(c->results[i].error);
        free(c->results[i].market);
        free(c->results[i].failover);
        free(c->results[i].crosscheck);
        if (c->xc)
            free(c->xc[i]);
    }
    free(c->xc);
    free(c->xc_rates);
    free(c->results);
    free(c->waiters);
    asset_list_release(c->list);
    free(c->rates);
    free(c);
}

void cycle_set_id(struct cycle *c, int64_t id)
{
    c->id = id;
    if (id > 0)
        snprintf(c->name, sizeof c->name, "%lld", (long long)id);
    else
        snprintf(c->name, sizeof c->name, "(seq %lld; numbered when the database returns)",
                 (long long)c->seq);
}

void cycle_on_idle(struct cycle *c, void (*idle)(void *cls), void *cls)
{
    if (c == NULL)
        return;
    c->idle = idle;
    c->idle_cls = cls;
}

/* Fetching done and every write reported: the phase is "idle" now. */
static void cyc_check_idle(struct cycle *c)
{
    if (c->fetching || c->results_pending > 0 || c->recalc_pending > 0 || c->idle_told)
        return;
    c->idle_told = 1;
    if (c->idle)
        c->idle(c->idle_cls);
}

int64_t cycle_id(const struct cycle *c)
{
    return c ? c->id : 0;
}

void cycle_get_progress(const struct cycle *c, struct cycle_progress *out)
{
    memset(out, 0, sizeof *out);
    out->phase = "idle";
    if (c == NULL)
        return;
    out->seq = c->seq;
    out->started_wall_ms = c->started_wall_ms;
    out->done = (int)c->done;
    out->total = (int)c->n;
    out->phase = c->fetching          ? "fetching"
                 : c->results_pending ? "writing"
                 : c->recalc_pending  ? "recalculating"
                                      : "idle";
}

static const char *cyc_status_name(enum cycle_status st)
{
    static const char *const names[] = {"succeeded", "partial", "failed",
                                        "aborted",   "empty",   "idle"};
    return names[st];
}

static struct record_owner cyc_owner(const struct cycle *c)
{
    return (struct record_owner){c->d->writer, c->d->instance_id, c->seq,
                                 asset_list_checked_at(c->list)};
}

/* Requests sent while the cycle ran, less the backfill's history
 * requests sent meanwhile (they are no part of the cycle's work). */
static uint64_t cyc_upstream_requests(const struct cycle *c)
{
    struct queue_counters qc;
    queue_get_counters(c->d->queue, &qc);
    return fetcher_requests(c->d->fetcher) - c->upstream_at_start -
           (qc.history_requests - c->history_at_start);
}

/* The fetcher_cycles row: "running" at the start, the outcome at the end. */
static void cyc_write_row(const struct cycle *c, const char *stmt, const char *status,
                          int64_t now_wall, int ok, int failed, const char *error)
{
    struct record_owner o = cyc_owner(c);
    struct record_cycle row = {
        .id = c->id,
        .trigger = c->kind->trigger,
        .status = status,
        .error = error,
        .started_wall_ms = c->started_wall_ms,
        .finished_wall_ms = now_wall,
        .duration_ms = loop_now(c->d->loop) - c->started_mono_ms,
        .total = (int64_t)c->n,
        .succeeded = ok,
        .failed = failed,
        .skipped = (int64_t)c->skipped,
        .upstream_requests = (int64_t)cyc_upstream_requests(c),
        .market_closed = (int64_t)c->market_closed,
    };
    record_cycle_row(&o, stmt, &row);
}

/* Progress is news only now (writer_submit_news: sent if the database is
 * there, never buffered), and only for numbered cycles (the dashboard
 * follows those). */
static void cyc_send_progress(struct cycle *c)
{
    if (!c->kind->writes_cycle_row)
        return;
    c->last_progress_ms = loop_now(c->d->loop);
    json_object *ev = json_object_new_object();
    json_object_object_add(ev, "type", json_object_new_string("progress"));
    json_object_object_add(ev, "instance_id", json_object_new_string(c->d->instance_id));
    json_object_object_add(ev, "seq", json_object_new_int64(c->seq));
    json_object_object_add(ev, "done", json_object_new_int64((int64_t)c->done));
    json_object_object_add(ev, "total", json_object_new_int64((int64_t)c->n));
    json_object_object_add(ev, "phase",
                           json_object_new_string(c->fetching ? "fetching" : "writing"));
    const char *text = json_object_to_json_string_ext(ev, JSON_C_TO_STRING_PLAIN);
    char seq[24];
    snprintf(seq, sizeof seq, "%lld", (long long)c->seq);
    const char *params[3] = {text, c->d->instance_id, seq};
    if (text && writer_submit_news(c->d->writer, SQL_NOTIFY_EVENT, 3, params, NULL, NULL) != 0)
        log_msg(LOG_DEBUG, "cycle: progress event dropped (database away)");
    json_object_put(ev);
}

/* ---- the end -------------------------------------------------------------- */

/* Logs the recalculation's end: each portfolio that could not be valued
 * (its previous values stay), each valued with a gap (no price yet:
 * average buy price used; no exchange rate: left out) — one line per
 * portfolio, not per position — and the totals. To fetcher_logs, so the
 * dashboard shows them. */
static void cyc_log_recalc(struct writer *wr, int64_t ref, const char *name, int written,
                           const PGresult *res)
{
    if (!written || res == NULL) {
        writer_log(wr, LOG_ERROR, ref, NULL,
                   "Portfolio recalculation of cycle %s not done: the statement was dropped or "
                   "refused (see fetcherd's output); values stay as they were",
                   name);
        return;
    }
    int failed = 0, gapped = 0, n = PQntuples(res);
    for (int i = 0; i < n; i++) {
        const char *pid = PQgetvalue(res, i, 0);
        if (!PQgetisnull(res, i, 3)) {
            failed++;
            json_object *ctx = json_object_new_object();
            json_object_object_add(ctx, "portfolio_id", json_object_new_string(pid));
            json_object_object_add(ctx, "error", json_object_new_string(PQgetvalue(res, i, 3)));
            json_object_object_add(ctx, "sqlstate", json_object_new_string(PQgetvalue(res, i, 4)));
            writer_log(wr, LOG_ERROR, ref, ctx,
                       "Portfolio %s: recalculation failed; its previous values stay", pid);
            continue;
        }
        int64_t gaps = 0;
        if (util_parse_i64(PQgetvalue(res, i, 1), 0, INT64_MAX, &gaps) != 0 || gaps == 0)
            continue;
        gapped++;
        json_object *ctx = json_object_new_object();
        json_object_object_add(ctx, "portfolio_id", json_object_new_string(pid));
        json_object *missing = json_tokener_parse(PQgetvalue(res, i, 2));
        json_object_object_add(ctx, "missing", missing);
        writer_log(wr, LOG_WARNING, ref, ctx,
                   "Portfolio %s: %lld positions valued without a current price or rate", pid,
                   (long long)gaps);
    }
    json_object *ctx = json_object_new_object();
    json_object_object_add(ctx, "portfolios", json_object_new_int(n));
    json_object_object_add(ctx, "updated", json_object_new_int(n - failed));
    json_object_object_add(ctx, "failed", json_object_new_int(failed));
    json_object_object_add(ctx, "with_gaps", json_object_new_int(gapped));
    writer_log(wr, failed ? LOG_WARNING : LOG_INFO, ref, ctx,
               "Portfolio recalculation done: %d of %d portfolios updated, %d failed", n - failed,
               n, failed);
}

static void cyc_on_recalc_written(int written, const PGresult *res, void *cls)
{
    struct cycle *c = cls;
    cyc_log_recalc(c->d->writer, c->seq, c->name, written, res);
    c->recalc_pending--;
    cyc_check_idle(c);
    cycle_release(c);
}

/* A shared cycle's recalculation: what the log needs outlives the call. */
struct cyc_recalc {
    struct writer *wr;
    int64_t ref;
    char name[24];
};

static void cyc_on_fleet_recalc_written(int written, const PGresult *res, void *cls)
{
    struct cyc_recalc *r = cls;
    cyc_log_recalc(r->wr, r->ref, r->name, written, res);
    free(r);
}

void cycle_recalculate(struct daemon *d, const char *instance_id, int64_t seq, int64_t cycle_ref)
{
    struct cyc_recalc *r = malloc(sizeof *r);
    if (r == NULL) {
        log_msg(LOG_ERROR, "cycle: out of memory; portfolios not recalculated");
        return;
    }
    *r = (struct cyc_recalc){d->writer, cycle_ref, ""};
    snprintf(r->name, sizeof r->name, "%lld", (long long)(cycle_ref < 0 ? -cycle_ref : cycle_ref));
    char s[24];
    snprintf(s, sizeof s, "%lld", (long long)seq);
    const char *params[2] = {instance_id, s};
    writer_log(d->writer, LOG_INFO, cycle_ref, NULL, "Portfolio recalculation started (cycle %s)",
               r->name);
    if (writer_submit(d->writer, WRITE_DATA, SQL_RECALC_PORTFOLIOS, 2, params, 1,
                      cyc_on_fleet_recalc_written, r) != 0)
        cyc_on_fleet_recalc_written(0, NULL, r);
}

static void cyc_on_results_written(int written, const PGresult *res, void *cls)
{
    (void)written;
    (void)res;
    struct cycle *c = cls;
    c->results_pending--;
    cyc_check_idle(c);
    cycle_release(c);
}

static void cyc_recalculate(struct cycle *c)
{
    char seq[24];
    snprintf(seq, sizeof seq, "%lld", (long long)c->seq);
    const char *params[2] = {c->d->instance_id, seq};
    writer_log(c->d->writer, LOG_INFO, c->seq, NULL, "Portfolio recalculation started (cycle %s)",
               c->name);
    c->recalc_pending++;
    cyc_ref(c);
    if (writer_submit(c->d->writer, WRITE_DATA, SQL_RECALC_PORTFOLIOS, 2, params, 1,
                      cyc_on_recalc_written, c) != 0)
        cyc_on_recalc_written(0, NULL, c);
}

/* One line per cause, not per asset: an outage fails every asset for the
 * same reason, and ten thousand lines saying so bury everything else. The
 * line says how many and which (the first CYCLE_LOG_SYMBOLS in its
 * context); each asset's own row is in price_update_log. Causes past
 * CYCLE_LOG_FAILURES are summed up in one more line. Assets cancelled by
 * shutdown did not fail and are not listed. */
struct cyc_cause {
    const char *why;
    const struct asset_result *first;
    size_t count;
    json_object *symbols;
};

static void cyc_log_cause(struct cycle *c, struct cyc_cause *k)
{
    const struct asset_result *it = k->first;
    json_object *ctx = json_object_new_object();
    if (k->count == 1) {
        json_object_object_add(ctx, "symbol", json_object_new_string(it->a->symbol));
        json_object_object_add(ctx, "provider", json_object_new_string(it->a->provider));
        json_object_object_add(ctx, "provider_symbol", json_object_new_string(it->a->psym));
        json_object_object_add(ctx, "error", json_object_new_string(k->why));
        if (it->http_status)
            json_object_object_add(ctx, "http_status", json_object_new_int(it->http_status));
        json_object_put(k->symbols);
        writer_log(c->d->writer, LOG_ERROR, c->seq, ctx, "Failed to update %s: %s", it->a->symbol,
                   k->why);
        return;
    }
    size_t listed = json_object_array_length(k->symbols);
    char some[160] = "";
    size_t len = 0;
    for (size_t i = 0; i < listed && i < 3 && len < sizeof some; i++)
        len += (size_t)snprintf(some + len, sizeof some - len, "%s%s", i ? ", " : "",
                                json_object_get_string(json_object_array_get_idx(k->symbols, i)));
    json_object_object_add(ctx, "error", json_object_new_string(k->why));
    json_object_object_add(ctx, "count", json_object_new_int64((int64_t)k->count));
    json_object_object_add(ctx, "symbols", k->symbols);
    if (k->count > listed)
        json_object_object_add(ctx, "symbols_not_listed",
                               json_object_new_int64((int64_t)(k->count - listed)));
    if (it->http_status)
        json_object_object_add(ctx, "http_status", json_object_new_int(it->http_status));
    writer_log(c->d->writer, LOG_ERROR, c->seq, ctx, "Failed to update %zu assets: %s (%s%s)",
               k->count, k->why, some, k->count > 3 ? ", …" : "");
}

static void cyc_log_failures(struct cycle *c)
{
    struct cyc_cause causes[CYCLE_LOG_FAILURES];
    size_t ncauses = 0, more_assets = 0;
    const char *more_seen[CYCLE_LOG_FAILURES];
    size_t nmore_seen = 0;
    for (size_t i = 0; i < c->n; i++) {
        const struct asset_result *it = &c->results[i];
        if (it->kind == QUOTE_OK || it->kind == QUOTE_CANCELLED || it->skipped)
            continue;
        const char *why = it->error ? it->error : "unknown error";
        size_t k = 0;
        while (k < ncauses && strcmp(causes[k].why, why) != 0)
            k++;
        if (k == ncauses && ncauses == CYCLE_LOG_FAILURES) {
            more_assets++;
            /* other causes, counted while few; "at least" past that */
            size_t m = 0;
            while (m < nmore_seen && strcmp(more_seen[m], why) != 0)
                m++;
            if (m == nmore_seen && nmore_seen < CYCLE_LOG_FAILURES)
                more_seen[nmore_seen++] = why;
            continue;
        }
        if (k == ncauses) {
            causes[k] =
                (struct cyc_cause){.why = why, .first = it, .symbols = json_object_new_array()};
            ncauses++;
        }
        causes[k].count++;
        if (json_object_array_length(causes[k].symbols) < CYCLE_LOG_SYMBOLS)
            json_object_array_add(causes[k].symbols, json_object_new_string(it->a->symbol));
    }
    for (size_t k = 0; k < ncauses; k++)
        cyc_log_cause(c, &causes[k]);
    if (more_assets > 0) {
        json_object *ctx = json_object_new_object();
        json_object_object_add(ctx, "not_listed", json_object_new_int64((int64_t)more_assets));
        writer_log(c->d->writer, LOG_ERROR, c->seq, ctx,
                   "%zu more assets failed in cycle %s, for %s%zu other reasons (see "
                   "price_update_log)",
                   more_assets, c->name, nmore_seen == CYCLE_LOG_FAILURES ? "at least " : "",
                   nmore_seen);
    }
}

/* The closing record: the cycle row and its summary line and statistics,
 * or for other work one summary line. */
static void cyc_log_finish(struct cycle *c, enum cycle_status st, int64_t now_wall, int ok,
                           int failed)
{
    double secs = (double)(loop_now(c->d->loop) - c->started_mono_ms) / 1000.0;
    if (!c->kind->writes_cycle_row && !c->kind->logs_as_refresh)
        return;
    json_object *ctx = json_object_new_object();
    if (!c->kind->writes_cycle_row) {
        json_object_object_add(ctx, "client", json_object_new_string(c->client));
        json_object_object_add(ctx, "assets", json_object_new_int64((int64_t)c->n));
        json_object_object_add(ctx, "assets_succeeded", json_object_new_int(ok));
        writer_log(c->d->writer, LOG_INFO, 0, ctx,
                   "On-demand refresh for %s: %d/%zu assets updated in %.2fs", c->client, ok, c->n,
                   secs);
        return;
    }
    char reason[160] = "";
    if (st == CYCLE_ABORTED)
        snprintf(reason, sizeof reason,
                 "aborted by shutdown: fetcherd stopped during the cycle; %zu assets not fetched",
                 c->cancelled);
    cyc_write_row(c, SQL_CYCLE_FINISH, cyc_status_name(st), now_wall, ok, failed,
                  st == CYCLE_ABORTED ? reason : NULL);
    json_object_object_add(ctx, "status", json_object_new_string(cyc_status_name(st)));
    json_object_object_add(ctx, "assets_total", json_object_new_int64((int64_t)c->n));
    json_object_object_add(ctx, "assets_succeeded", json_object_new_int(ok));
    json_object_object_add(ctx, "assets_failed", json_object_new_int(failed));
    json_object_object_add(ctx, "assets_skipped", json_object_new_int64((int64_t)c->skipped));
    json_object_object_add(ctx, "assets_market_closed",
                           json_object_new_int64((int64_t)c->market_closed));
    json_object_object_add(ctx, "upstream_requests",
                           json_object_new_int64((int64_t)cyc_upstream_requests(c)));
    json_object_object_add(ctx, "duration_seconds", json_object_new_double(secs));
    char closed[64] = "";
    if (c->market_closed > 0)
        snprintf(closed, sizeof closed, " (%zu skipped: market closed)", c->market_closed);
    if (st == CYCLE_ABORTED) {
        /* A stop someone asked for is not an error: one INFO line, and no
         * failure rows for what was not fetched. */
        json_object_object_add(ctx, "assets_not_fetched",
                               json_object_new_int64((int64_t)c->cancelled));
        json_object_object_add(ctx, "reason", json_object_new_string("shutdown"));
        writer_log(c->d->writer, LOG_INFO, c->seq, ctx,
                   "Cycle %s aborted by shutdown after %.2fs: %d/%zu assets updated, %zu not "
                   "fetched",
                   c->name, secs, ok, c->n - c->skipped, c->cancelled);
    } else if (st == CYCLE_EMPTY) {
        writer_log(c->d->writer, LOG_INFO, c->seq, ctx, "Cycle %s empty: no assets tracked (%.2fs)",
                   c->name, secs);
    } else {
        writer_log(c->d->writer, st == CYCLE_FAILED ? LOG_ERROR : LOG_INFO, c->seq, ctx,
                   "Cycle %s %s: %d/%zu assets updated in %.2fs%s", c->name, cyc_status_name(st),
                   ok, c->n - c->skipped, secs, closed);
    }
    stats_persist(c->d);
}

/* ---- the cross-check's verdict ------------------------------------------- */

/* Writes one answer of a cross-check into b. */
static void cyc_xc_answer(struct jbuf *b, const char *source, double price, const char *ccy,
                          const struct quote *quoted, const char *error)
{
    jbuf_obj(b);
    jbuf_key(b, "source");
    jbuf_str(b, source);
    if (error != NULL) {
        jbuf_key(b, "error");
        jbuf_str(b, error);
    } else {
        jbuf_key(b, "price");
        jbuf_num(b, price);
        jbuf_key(b, "currency");
        jbuf_str(b, ccy);
        if (quoted != NULL) {
            /* converted: what the source itself said */
            jbuf_key(b, "quoted_price");
            jbuf_num(b, quoted->price);
            jbuf_key(b, "quoted_currency");
            jbuf_str(b, quoted->currency);
        }
    }
    jbuf_obj_end(b);
}

/* Compares asset i's answer with what its other sources said (every ask is
 * in), keeps the majority's price when the asset's own is the outlier of
 * three, logs a disagreement as one WARNING, and leaves the record for
 * price_update_log.crosscheck in the result. */
static void cyc_xc_judge(struct cycle *c, size_t i, const struct xc_rate *rates, size_t nrates)
{
    struct asset_result *it = &c->results[i];
    const struct cyc_xc *x = c->xc[i];
    if (it->kind != QUOTE_OK)
        return; /* cannot happen: only answered assets are checked */
    const char *src[XC_MAX];
    double price[XC_MAX];
    const struct quote *from[XC_MAX] = {NULL};
    size_t n = 0;
    src[n] = it->source;
    price[n++] = it->price;
    double limit = (double)cfg->crosscheck_pct;
    struct jbuf b;
    jbuf_init(&b);
    jbuf_obj(&b);
    jbuf_key(&b, "reason");
    jbuf_str(&b, x->reason);
    jbuf_key(&b, "limit_pct");
    jbuf_num(&b, limit);
    jbuf_key(&b, "answers");
    jbuf_arr(&b);
    cyc_xc_answer(&b, it->source, it->price, it->currency, NULL, NULL);
    for (size_t k = 0; k < x->nask; k++) {
        const struct quote *q = &x->ask[k].q;
        if (q->kind != QUOTE_OK) {
            cyc_xc_answer(&b, q->source, 0, NULL, NULL, q->error[0] ? q->error : "no answer");
            continue;
        }
        const char *ccy = q->currency[0] ? q->currency : it->currency;
        double conv;
        if (crosscheck_convert(q->price, ccy, it->currency, rates, nrates, &conv) != 0) {
            char why[120];
            snprintf(why, sizeof why, "answered %.10g %s; no rate this cycle to compare it in %s",
                     q->price, ccy, it->currency);
            cyc_xc_answer(&b, q->source, 0, NULL, NULL, why);
            continue;
        }
        int converted = strcasecmp(ccy, it->currency) != 0;
        cyc_xc_answer(&b, q->source, conv, it->currency, converted ? q : NULL, NULL);
        src[n] = q->source;
        from[n] = q;
        price[n++] = conv;
    }
    jbuf_arr_end(&b);
    struct xc_verdict v;
    crosscheck_decide(price, n, limit, &v);
    jbuf_key(&b, "compared");
    jbuf_int(&b, (int64_t)v.n);
    if (v.n >= 2) {
        jbuf_key(&b, "disagree");
        jbuf_bool(&b, v.disagree);
        jbuf_key(&b, "diff_pct");
        jbuf_num(&b, v.diff_pct);
        jbuf_key(&b, "kept");
        jbuf_str(&b, src[v.kept]);
        jbuf_key(&b, "outlier");
        jbuf_str(&b, v.outlier >= 0 ? src[v.outlier] : NULL);
    }
    jbuf_obj_end(&b);
    free(it->crosscheck);
    it->crosscheck = jbuf_take(&b); /* NULL (out of memory): recorded without it */
    if (v.n >= 2 && v.disagree) {
        char line[600];
        crosscheck_describe(it->a->symbol, it->currency, src, price, &v, limit, line, sizeof line);
        json_object *ctx = json_object_new_object();
        json_object_object_add(ctx, "symbol", json_object_new_string(it->a->symbol));
        if (it->crosscheck)
            json_object_object_add(ctx, "crosscheck", json_tokener_parse(it->crosscheck));
        writer_log(c->d->writer, LOG_WARNING, c->seq, ctx, "%s", line);
    }
    if (v.n >= 2 && v.kept != 0) {
        /* the asset's own source is the outlier of three: the majority's */
        const struct quote *q = from[v.kept];
        it->price = price[v.kept];
        it->price_time = q->price_time;
        it->time_basis = q->time_basis;
        util_strlcpy(it->source, q->source, sizeof it->source);
        util_strlcpy(it->quoted_currency, q->quoted_currency, sizeof it->quoted_currency);
        free(it->market); /* the outlier's listing details are not the kept price's */
        it->market = NULL;
    }
}

static void cyc_xc_judge_all(struct cycle *c)
{
    if (c->xc == NULL)
        return;
    for (size_t i = 0; i < c->n; i++)
        if (c->xc[i] != NULL)
            cyc_xc_judge(c, i, c->xc_rates, c->xc_nrates);
}

/* Every answer is in: queue the writes, then tell the owner. */
static void cyc_finish(struct cycle *c)
{
    c->fetching = 0;
    cyc_xc_judge_all(c);
    int64_t now_wall = util_wall_ms();
    int ok = 0, failed = 0, cancelled = 0;
    for (size_t i = 0; i < c->n; i++) {
        /* a share's asset cancelled by shutdown is no result: its claim
         * goes back to the pool for another instance (fleet_final) */
        if (c->kind == &cyc_kinds[WORK_SHARE] && c->results[i].kind == QUOTE_CANCELLED)
            c->results[i].skipped = 1;
        if (c->results[i].skipped)
            continue;
        if (c->results[i].kind == QUOTE_OK)
            ok++;
        else if (c->results[i].kind == QUOTE_CANCELLED)
            cancelled++; /* not fetched because fetcherd stops: no failure */
        else
            failed++;
    }
    c->cancelled = (size_t)cancelled;
    /* Nothing tracked is not a success: it is recorded as "empty" so the
     * statistics leave it out (migration 012). Assets all skipped as fresh
     * are still a cycle that judged them, and succeeds. */
    enum cycle_status st = cancelled     ? CYCLE_ABORTED
                           : c->n == 0   ? CYCLE_EMPTY
                           : failed == 0 ? CYCLE_SUCCEEDED
                           : ok > 0      ? CYCLE_PARTIAL
                                         : CYCLE_FAILED;
    cyc_send_progress(c);
    struct record_owner o = cyc_owner(c);
    /* one reference per statement that reports back; none reports inside
     * record_results, so taking them afterwards is safe */
    size_t chunks = record_results(&o, c->results, c->n, now_wall, cyc_on_results_written, c);
    c->results_pending += (int)chunks;
    c->refs += (int)chunks;
    int rates_ok = record_rates(&o, c->rates, c->nrates);
    if (c->kind->recalculates && (ok > 0 || rates_ok > 0))
        cyc_recalculate(c);
    cyc_log_failures(c);
    cyc_log_finish(c, st, now_wall, ok, failed);
    c->cb(st, c->cls);
    cyc_check_idle(c); /* nothing to write: idle at once */
    cycle_release(c);  /* the fetching phase's reference */
}

/* ---- fetching ------------------------------------------------------------- */

/* ---- the cross-check's asks ---------------------------------------------- */

static void cyc_maybe_finish(struct cycle *c)
{
    if (c->fetching && c->answered == c->n + c->nrates && c->xc_pending == 0)
        cyc_finish(c);
}

static void cyc_on_xc(const struct quote *q, void *cls);

/* Submits one ask of asset i's cross-check x to ch's source. Returns 0 or
 * -1 (not queued: it will not be answered). */
static int cyc_xc_submit(struct cycle *c, struct cyc_xc *x, size_t i,
                         const struct source_choice *ch)
{
    if (x->nask == XC_MAX - 1)
        return -1;
    struct xc_ask *ask = &x->ask[x->nask];
    *ask = (struct xc_ask){.c = c, .i = i};
    util_strlcpy(ask->q.source, ch->provider, sizeof ask->q.source);
    /* what this cycle already fetched of that key is as good as new */
    int64_t age = loop_now(c->d->loop) - c->started_mono_ms + 1;
    if (queue_submit(c->d->queue, ch->provider, ch->symbol, QPRIO_BACKGROUND, age, cyc_on_xc,
                     ask) != 0)
        return -1;
    x->nask++;
    c->xc_pending++;
    return 0;
}

/* Whether an ask's answer leaves the asset's price in doubt: it failed,
 * cannot be compared, or differs from the asset's own by more than the
 * limit. */
static int cyc_xc_unsettled(const struct cycle *c, const struct xc_ask *ask)
{
    const struct asset_result *it = &c->results[ask->i];
    const struct quote *q = &ask->q;
    double p[2] = {it->price, 0};
    if (q->kind != QUOTE_OK ||
        crosscheck_convert(q->price, q->currency[0] ? q->currency : it->currency, it->currency,
                           c->xc_rates, c->xc_nrates, &p[1]) != 0)
        return 1;
    struct xc_verdict v;
    crosscheck_decide(p, 2, (double)cfg->crosscheck_pct, &v);
    return v.disagree;
}

static void cyc_on_xc(const struct quote *q, void *cls)
{
    struct xc_ask *ask = cls;
    struct cycle *c = ask->c;
    char asked[sizeof ask->q.source];
    util_strlcpy(asked, ask->q.source, sizeof asked);
    ask->q = *q;
    if (ask->q.source[0] == '\0') /* an answer that never reached a provider */
        util_strlcpy(ask->q.source, asked, sizeof ask->q.source);
    /* minor units to major ones, range, time; the currency is converted,
     * not refused (crosscheck.h) */
    validate_quote(&ask->q, NULL, util_wall_ms() / 1000, cfg->price_max_age_s);
    ask->answered = 1;
    struct cyc_xc *x = c->xc[ask->i];
    if (x->has_more && !c->d->stopping && cyc_xc_unsettled(c, ask)) {
        /* a third opinion decides which of the two is the outlier */
        x->has_more = 0;
        cyc_xc_submit(c, x, ask->i, &x->more);
    }
    c->xc_pending--;
    cyc_maybe_finish(c);
}

/* Asset i's sources after the one that answered (up to XC_MAX - 1), into
 * ch[0, return): the ones a cross-check asks; 0 when it has none. */
static size_t cyc_xc_others(const struct cycle *c, size_t i, struct source_choice *ch)
{
    const struct asset_result *it = &c->results[i];
    const struct asset *a = it->a;
    struct source_choice all[SOURCES_MAX];
    char err[200];
    size_t n = sources_resolve(c->d->sources, sources_class_of(a->type), a->provider, a->psym,
                               a->sources, all, err, sizeof err);
    size_t k = 0;
    while (k < n && strcmp(all[k].provider, it->source) != 0)
        k++;
    size_t m = 0;
    for (size_t j = k + 1; j < n && m < XC_MAX - 1; j++)
        ch[m++] = all[j];
    return m;
}

/* Whether asset i may be cross-checked: answered, not checked yet, and a
 * source after the one that answered. */
static int cyc_xc_can(const struct cycle *c, size_t i)
{
    struct source_choice ch[XC_MAX - 1];
    const struct asset_result *it = &c->results[i];
    return it->kind == QUOTE_OK && !it->skipped && c->xc[i] == NULL && cyc_xc_others(c, i, ch) > 0;
}

/* Asks asset i's next source (cyc_xc_others) at background priority; the
 * one after it is kept to settle a disagreement. Returns 1 when the ask
 * is on its way. */
static int cyc_xc_ask(struct cycle *c, size_t i, const char *reason)
{
    struct source_choice ch[XC_MAX - 1];
    size_t n = cyc_xc_others(c, i, ch);
    if (n == 0)
        return 0; /* no source after the one that answered */
    struct cyc_xc *x = calloc(1, sizeof *x);
    if (x == NULL)
        return 0;
    x->reason = reason;
    if (n > 1) {
        x->more = ch[1];
        x->has_more = 1;
    }
    c->xc[i] = x; /* before the ask: its answer looks it up */
    if (cyc_xc_submit(c, x, i, &ch[0]) != 0) {
        c->xc[i] = NULL;
        free(x);
        return 0;
    }
    return 1;
}

/* Every asset and rate has its answer: picks what to cross-check, the
 * answers of a provider's probe (always: it just came back), then
 * failed-over answers, then a rotation through the assets that have
 * another source, at most PRICE_CROSSCHECK_SAMPLE besides the probes, and
 * asks. */
static void cyc_xc_start(struct cycle *c)
{
    c->xc_started = 1;
    if (c->xc == NULL || c->d->stopping)
        return;
    /* every rate is in: answers in another currency can be compared */
    c->xc_rates = c->nrates ? calloc(c->nrates, sizeof *c->xc_rates) : NULL;
    for (size_t k = 0; c->xc_rates != NULL && k < c->nrates; k++)
        if (c->rates[k].q.kind == QUOTE_OK)
            c->xc_rates[c->xc_nrates++] = (struct xc_rate){c->rates[k].ccy, c->rates[k].q.price};
    size_t budget = (size_t)cfg->crosscheck_sample;
    for (size_t i = 0; i < c->n; i++)
        if (c->results[i].kind == QUOTE_OK && c->results[i].probe)
            cyc_xc_ask(c, i, "probe");
    for (size_t i = 0; i < c->n && budget > 0; i++)
        if (c->results[i].failover && cyc_xc_can(c, i))
            budget -= (size_t)cyc_xc_ask(c, i, "failover");
    if (budget == 0)
        return;
    /* a window over the candidates that moves by the sample size each
     * cycle, so that in time every asset with another source is checked */
    size_t *cand = malloc(c->n * sizeof *cand), ncand = 0;
    if (cand == NULL)
        return; /* out of memory: no sample this cycle */
    for (size_t i = 0; i < c->n; i++)
        if (cyc_xc_can(c, i))
            cand[ncand++] = i;
    uint64_t start =
        ncand ? ((uint64_t)(c->seq > 0 ? c->seq - 1 : 0) * (uint64_t)cfg->crosscheck_sample) % ncand
              : 0;
    for (size_t j = 0; j < ncand && budget > 0; j++)
        budget -= (size_t)cyc_xc_ask(c, cand[(start + j) % ncand], "sample");
    free(cand);
}

/* Every asset and rate has its answer: the cross-check's asks go out, or
 * the cycle ends. */
static void cyc_fetched(struct cycle *c)
{
    if (!c->xc_started)
        cyc_xc_start(c);
    cyc_maybe_finish(c);
}

static void cyc_answered(struct cycle *c)
{
    if (++c->answered == c->n + c->nrates)
        cyc_fetched(c);
    else if (loop_now(c->d->loop) - c->last_progress_ms >= CYCLE_PROGRESS_MS)
        cyc_send_progress(c);
}

static void cyc_set_failure(struct asset_result *it, enum quote_error_kind kind, const char *why)
{
    it->kind = (uint8_t)kind;
    free(it->error);
    it->error = strdup(why); /* NULL (out of memory) reads as "unknown error" */
}

static void cyc_on_quote(const struct quote *answer, void *cls)
{
    struct cyc_waiter *w = cls;
    struct cycle *c = w->c;
    struct asset_result *it = &c->results[w->i];
    struct quote q = *answer;
    it->duration_ms = (int32_t)(loop_now(c->d->loop) - w->submitted_ms);
    validate_quote(&q, it->a->currency, util_wall_ms() / 1000, cfg->price_max_age_s);
    it->http_status = (int16_t)q.http_status;
    util_strlcpy(it->source, q.source, sizeof it->source);
    it->probe = q.probe;
    free(it->failover);
    it->failover = q.failover_reason[0] ? strdup(q.failover_reason) : NULL;
    if (q.kind == QUOTE_OK) {
        it->kind = QUOTE_OK;
        it->price = q.price;
        it->price_time = q.price_time;
        it->time_basis = q.time_basis;
        memcpy(it->currency, q.currency, sizeof it->currency);
        memcpy(it->quoted_currency, q.quoted_currency, sizeof it->quoted_currency);
        if (q.market.exchange[0]) {
            free(it->market);
            it->market = malloc(sizeof *it->market);
            if (it->market) /* out of memory: the price is stored without it */
                *it->market = q.market;
        }
        char why[200];
        if (validate_move(it->a->last_price, q.price, (double)cfg->price_move_warn_pct / 100.0, why,
                          sizeof why)) {
            json_object *ctx = json_object_new_object();
            json_object_object_add(ctx, "symbol", json_object_new_string(it->a->symbol));
            json_object_object_add(ctx, "previous_price",
                                   json_object_new_double(it->a->last_price));
            json_object_object_add(ctx, "price", json_object_new_double(q.price));
            writer_log(c->d->writer, LOG_WARNING, c->seq, ctx, "%s: %s (stored)", it->a->symbol,
                       why);
        }
    } else {
        cyc_set_failure(it, q.kind, q.error);
    }
    c->done++;
    cyc_answered(c);
}

static void cyc_on_rate(const struct quote *q, void *cls)
{
    struct cyc_waiter *w = cls;
    struct rate_result *r = &w->c->rates[w->i];
    r->q = *q;
    validate_rate(&r->q, r->ccy, util_wall_ms() / 1000, cfg->price_max_age_s);
    cyc_answered(w->c);
}

static void cyc_fail_item(struct asset_result *it, const char *fmt, const char *arg)
{
    char why[200];
    snprintf(why, sizeof why, fmt, arg);
    cyc_set_failure(it, QUOTE_PERMANENT, why);
}

/* An asset waiter takes an answer only in the asset's currency (a minor
 * unit counts as its major one): a wrong currency is that source's miss,
 * and the queue moves the asset to its next source (queue.h). */
static int cyc_accept(const struct quote *q, void *cls, char *why, size_t whylen)
{
    const struct cyc_waiter *w = cls;
    return validate_currency(q, w->c->results[w->i].a->currency, why, whylen);
}

/* Asks the queue for the first of the asset's sources that answers
 * (daemon/sources.h decides which, in which order, under which symbol);
 * accept as queue_submit_chain_accept takes it. *nsrc gets the number of
 * sources. Returns 0, or -1 with why (when there is room for it). */
static int cyc_submit_sources(struct cycle *c, enum source_class cls, const char *provider,
                              const char *psym, const char *override, int64_t ttl,
                              queue_accept_cb accept, queue_cb cb, void *cls_arg, size_t *nsrc,
                              char *why, size_t whylen)
{
    struct source_choice ch[SOURCES_MAX];
    char err[200];
    size_t n = sources_resolve(c->d->sources, cls, provider, psym, override, ch, err, sizeof err);
    const char *pv[SOURCES_MAX], *sv[SOURCES_MAX];
    for (size_t i = 0; i < n; i++) {
        pv[i] = ch[i].provider;
        sv[i] = ch[i].symbol;
    }
    *nsrc = n;
    if (n > 0 && queue_submit_chain_accept(c->d->queue, pv, sv, n, c->kind->priority, ttl, accept,
                                           cb, cls_arg) == 0)
        return 0;
    if (why != NULL)
        snprintf(why, whylen, "%s", n > 0 ? "could not queue it (out of memory)" : err);
    return -1;
}

/* Whether this work fetches a: work someone asked for, everything; a
 * scheduled check, what the database said is due (fetcher_due_assets: its
 * bound passed, not 'never', its market open or just closed), or, from a
 * cached list (the database away: no such answer), everything every
 * FETCH_INTERVAL (CYCLE_FULL) as before there were bounds. */
static int cyc_due(const struct cycle *c, const struct asset *a)
{
    /* the schedule's work (the first check too) leaves out what only
     * someone's asking fetches, and closed markets with their close */
    if (c->kind->honours_market_hours && a->due_known && (a->market_closed || a->never))
        return 0;
    if (!c->kind->honours_staleness)
        return 1;
    return a->due_known ? a->due : (c->flags & CYCLE_FULL) != 0;
}

static int cyc_fetch_asset(struct cycle *c, size_t i, int64_t ttl)
{
    struct asset_result *it = &c->results[i];
    struct cyc_waiter *w = &c->waiters[i];
    it->a = asset_list_at(c->list, i);
    w->c = c;
    w->i = i;
    w->submitted_ms = loop_now(c->d->loop);
    if (c->d->stopping) {
        /* the asset list came back after shutdown began: nothing is
         * fetched, and the cycle is recorded as aborted */
        cyc_set_failure(it, QUOTE_CANCELLED, "cancelled: fetcherd is shutting down");
        return 1;
    }
    if (!cyc_due(c, it->a)) {
        it->skipped = 1;
        c->skipped++;
        c->market_closed += it->a->market_closed;
        return 1;
    }
    char why[200];
    size_t nsrc = 0;
    int rc = cyc_submit_sources(c, sources_class_of(it->a->type), it->a->provider, it->a->psym,
                                it->a->sources, ttl, cyc_accept, cyc_on_quote, w, &nsrc, why,
                                sizeof why);
    it->source_count = (uint8_t)(nsrc < 255 ? nsrc : 255);
    if (rc == 0)
        return 0;
    cyc_fail_item(it, "%s", why);
    return 1;
}

/* Submits rate i; returns 1 when it was answered at once. */
static int cyc_fetch_rate(struct cycle *c, size_t i, int64_t ttl)
{
    struct rate_result *r = &c->rates[i];
    struct cyc_waiter *w = &c->waiters[c->n + i];
    w->c = c;
    w->i = i;
    if (c->d->stopping) {
        r->q.kind = QUOTE_CANCELLED;
        util_strlcpy(r->q.error, "cancelled: fetcherd is shutting down", sizeof r->q.error);
        return 1;
    }
    size_t nsrc;
    if (cyc_submit_sources(c, SRC_FX, NULL, r->ccy, NULL, ttl, NULL, cyc_on_rate, w, &nsrc, NULL,
                           0) != 0) {
        r->q.kind = QUOTE_PERMANENT;
        util_strlcpy(r->q.error, "could not queue the rate", sizeof r->q.error);
        return 1;
    }
    return 0;
}

static void cyc_fetch_all(struct cycle *c)
{
    /* Within one cycle a key is fetched once (coalescing). */
    int64_t ttl = c->kind->fresh_only ? 0 : CYCLE_RECENT_ANSWER_MS;
    size_t immediate = 0;
    for (size_t i = 0; i < c->n; i++)
        immediate += (size_t)cyc_fetch_asset(c, i, ttl);
    c->done += immediate;
    for (size_t i = 0; i < c->nrates; i++)
        immediate += (size_t)cyc_fetch_rate(c, i, ttl);
    c->answered += immediate;
    if (c->answered == c->n + c->nrates)
        cyc_fetched(c);
}

/* ---- starting --------------------------------------------------------------- */

static void cyc_log_start(struct cycle *c, const char *note)
{
    if (!c->kind->writes_cycle_row && !c->kind->logs_as_refresh)
        return;
    json_object *ctx = json_object_new_object();
    json_object_object_add(ctx, "assets", json_object_new_int64((int64_t)c->n));
    if (!c->kind->writes_cycle_row) {
        json_object_object_add(ctx, "client", json_object_new_string(c->client));
        writer_log(c->d->writer, LOG_INFO, 0, ctx, "On-demand refresh of %zu assets for %s", c->n,
                   c->client);
        return;
    }
    cyc_write_row(c, SQL_CYCLE_START, "running", c->started_wall_ms, 0, 0, NULL);
    json_object_object_add(ctx, "trigger", json_object_new_string(c->kind->trigger));
    if (note)
        json_object_object_add(ctx, "note", json_object_new_string(note));
    writer_log(c->d->writer, LOG_INFO, c->seq, ctx, "Cycle %s started (%s): %zu assets", c->name,
               c->kind->trigger, c->n);
}

/* Starts fetching the assets of list (a reference the cycle takes over;
 * NULL = none) and, if the kind wants them, the rates for ccy. */
static void cyc_begin(struct cycle *c, struct asset_list *list, const char (*ccy)[4], size_t nccy,
                      const char *note)
{
    if (!c->kind->fetches_assets) {
        asset_list_release(list);
        list = NULL;
    }
    c->list = list;
    c->n = asset_list_len(list);
    c->results = c->n ? calloc(c->n, sizeof *c->results) : NULL;
    if (c->n && c->results == NULL) {
        log_msg(LOG_ERROR, "cycle: out of memory for %zu assets", c->n);
        c->n = 0; /* recorded as an empty cycle; the next one tries again */
    }
    /* a check is idle when nothing is due: no row, no log, no fetch */
    size_t due = 0;
    for (size_t i = 0; i < c->n && due == 0; i++)
        due += (size_t)cyc_due(c, asset_list_at(list, i));
    if (c->kind->honours_staleness && due == 0 && !(c->flags & CYCLE_FULL)) {
        c->fetching = 0;
        c->cb(CYCLE_IDLE, c->cls);
        return;
    }
    if (c->n && c->kind->crosschecks && cfg->crosscheck_sample > 0)
        c->xc = calloc(c->n, sizeof *c->xc); /* NULL (out of memory): no cross-check */
    int rates = c->kind->fetches_rates && (!c->kind->honours_staleness || (c->flags & CYCLE_FULL));
    c->rates = rates && nccy ? calloc(nccy, sizeof *c->rates) : NULL;
    if (c->rates != NULL) {
        c->nrates = nccy;
        for (size_t i = 0; i < c->nrates; i++)
            memcpy(c->rates[i].ccy, ccy[i], sizeof c->rates[i].ccy);
    }
    size_t nw = c->n + c->nrates;
    c->waiters = nw ? calloc(nw, sizeof *c->waiters) : NULL;
    if (nw && c->waiters == NULL) {
        log_msg(LOG_ERROR, "cycle: out of memory for %zu assets", c->n);
        c->n = 0;
        c->nrates = 0;
    }
    cyc_log_start(c, note);
    c->last_progress_ms = loop_now(c->d->loop);
    cyc_ref(c); /* held by the fetching phase; released at the end of cyc_finish() */
    cyc_fetch_all(c);
}

/* No asset list at all: the work fails before fetching anything. */
static void cyc_fail_early(struct cycle *c, const char *why)
{
    c->fetching = 0;
    if (!c->kind->writes_cycle_row) {
        if (c->kind->logs_as_refresh)
            writer_log(c->d->writer, LOG_ERROR, 0, NULL, "On-demand refresh for %s failed: %s",
                       c->client, why);
        else
            writer_log(c->d->writer, LOG_WARNING, c->seq, NULL,
                       "Exchange rates of cycle %lld not fetched: %s",
                       (long long)(c->seq < 0 ? -c->seq : c->seq), why);
        c->cb(CYCLE_FAILED, c->cls);
        return;
    }
    cyc_write_row(c, SQL_CYCLE_START, "running", c->started_wall_ms, 0, 0, NULL);
    cyc_write_row(c, SQL_CYCLE_FINISH, "failed", util_wall_ms(), 0, 0, why);
    writer_log(c->d->writer, LOG_ERROR, c->seq, NULL, "Cycle %s failed: %s", c->name, why);
    stats_persist(c->d);
    c->cb(CYCLE_FAILED, c->cls);
}

static void cyc_on_assets(const struct asset_answer *a, void *cls)
{
    struct cycle *c = cls;
    if (a->list == NULL && a->error != NULL)
        cyc_fail_early(c, a->error);
    else
        cyc_begin(c, a->list, a->ccy, a->nccy, a->note);
    cycle_release(c); /* the read's reference */
}

static struct cycle *cyc_new(struct daemon *d, enum work_kind_id kind, int64_t seq,
                             cycle_done_cb done, void *cls)
{
    struct cycle *c = calloc(1, sizeof *c);
    if (c == NULL)
        return NULL;
    c->d = d;
    c->kind = &cyc_kinds[kind];
    c->refs = 1;
    c->seq = seq;
    c->started_wall_ms = util_wall_ms();
    c->started_mono_ms = loop_now(d->loop);
    c->fetching = 1;
    c->cb = done;
    c->cls = cls;
    cycle_set_id(c, 0);
    /* Requests as sent (a spark batch, its chart fallbacks), not batches. */
    c->upstream_at_start = fetcher_requests(d->fetcher);
    struct queue_counters qc;
    queue_get_counters(d->queue, &qc);
    c->history_at_start = qc.history_requests;
    return c;
}

struct cycle *cycle_start(struct daemon *d, struct asset_cache *ac, int64_t seq,
                          enum work_kind_id kind, unsigned flags, cycle_done_cb done, void *cls)
{
    struct cycle *c = cyc_new(d, kind, seq, done, cls);
    if (c == NULL)
        return NULL;
    c->flags = flags;
    cyc_ref(c); /* held by the read */
    if (assets_read_tracked(d->loop, d->db, ac, cyc_on_assets, c) == NULL) {
        free(c);
        return NULL;
    }
    return c;
}

/* A share's list is at hand: its fetching starts from the loop, so that
 * done never runs inside cycle_start_share. */
static int64_t cyc_on_share_start(struct loop *l, void *cls)
{
    (void)l;
    struct cycle *c = cls;
    c->start_timer = 0;
    struct asset_list *list = c->list;
    c->list = NULL;
    cyc_begin(c, list, NULL, 0, NULL);
    cycle_release(c); /* the timer's reference */
    return LOOP_TIMER_STOP;
}

struct cycle *cycle_start_share(struct daemon *d, struct asset_list *list, int64_t cycle_id,
                                cycle_done_cb done, void *cls)
{
    struct cycle *c = cyc_new(d, WORK_SHARE, -cycle_id, done, cls);
    if (c == NULL) {
        asset_list_release(list);
        return NULL;
    }
    cycle_set_id(c, cycle_id); /* its log lines name the shared cycle */
    c->list = list;
    cyc_ref(c); /* held by the timer */
    c->start_timer = loop_timer_add(d->loop, 0, cyc_on_share_start, c);
    if (c->start_timer <= 0) {
        asset_list_release(list);
        free(c);
        return NULL;
    }
    return c;
}

struct cycle *cycle_start_rates(struct daemon *d, struct asset_cache *ac, int64_t cycle_id,
                                cycle_done_cb done, void *cls)
{
    struct cycle *c = cyc_new(d, WORK_RATES, -cycle_id, done, cls);
    if (c == NULL)
        return NULL;
    cycle_set_id(c, cycle_id);
    cyc_ref(c); /* held by the read */
    if (assets_read_tracked(d->loop, d->db, ac, cyc_on_assets, c) == NULL) {
        free(c);
        return NULL;
    }
    return c;
}

struct cycle *cycle_start_refresh(struct daemon *d, const char *symbols_json, const char *client,
                                  cycle_done_cb done, void *cls)
{
    struct cycle *c = cyc_new(d, WORK_REFRESH, 0, done, cls);
    if (c == NULL)
        return NULL;
    util_strlcpy(c->client, client, sizeof c->client);
    cyc_ref(c); /* held by the read */
    if (assets_read_named(d->loop, d->db, symbols_json, cyc_on_assets, c) == NULL) {
        free(c);
        return NULL;
    }
    return c;
}
