/*
 * cycle — see cycle.h.
 *
 * A cycle is reference-counted: its starter holds one, the fetching phase
 * holds one (the queue's waiters point into it) until finish(), and each
 * batched write that reports back to it (results, recalculation) holds one,
 * because with the database away those writes may finish long after the
 * fetching did. An on-demand refresh has no owner but these.
 *
 * Memory is per asset and a cycle may hold ten thousand: an item keeps a
 * compact answer (the error text is allocated only on failure), the asset
 * list is shared with the cache by reference, and results travel to the
 * database in chunks of CYCLE_WRITE_CHUNK rows, each built only when the
 * writer is ready to send it.
 */
#include "cycle.h"
#include "jbuf.h"
#include "provider.h"
#include "sources.h"
#include "sql.h"
#include "staleness.h"
#include "validate.h"

#include <json-c/json.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Failures logged one by one per cycle; the rest are summarised, so a whole
 * provider failing does not write ten thousand log rows. */
#define CYCLE_LOG_FAILURES 20
/* Progress events at most this often while a cycle fetches. */
#define CYCLE_PROGRESS_MS 1000
/* Rows per record_updates statement: a few hundred KB of JSON, so neither
 * our buffers nor libpq's grow with the size of the cycle. */
#define CYCLE_WRITE_CHUNK 500

/* Field sizes follow the schema's CHECKs (symbol ≤ 32, provider ≤ 32 but
 * ours are short, provider_symbol ≤ 64, currency 3 letters): a cycle may
 * hold ten thousand of these. */
struct asset {
    int64_t id;
    char symbol[33];
    char type[12];
    char currency[4];
    char provider[16];
    char psym[65];
    char sources[64];  /* assets.sources, comma-separated; "" = its class's */
    int64_t age_s;     /* since its last update when read; -1 = never */
    double last_price; /* 0 = none */
};

/* An immutable list of assets shared by the cache and the cycles using it. */
struct asset_list {
    int refs;
    size_t n;
    struct asset a[];
};

struct asset_cache {
    struct asset_list *list; /* NULL before the first successful read */
    char (*ccy)[4];          /* currencies needing a USD rate */
    size_t nccy;
};

/* One asset's answer, compact: a cycle may hold ten thousand. */
struct item {
    struct cycle *c;
    const struct asset *a;
    int64_t submitted_ms;
    int64_t price_time;
    double price;
    char *error; /* the reason (malloc'd) when it failed, else NULL */
    int32_t duration_ms;
    int16_t http_status;
    uint8_t kind; /* enum quote_error_kind */
    uint8_t skipped;
    uint8_t time_basis; /* enum quote_time_basis */
    char currency[8];
    char quoted_currency[8];
    /* where the listing trades, when the answer said (malloc'd; only
     * Yahoo's answers carry it, so most items keep a NULL here) */
    struct quote_market *market;
    char source[16]; /* the provider that answered */
    char *failover;  /* why the first source did not (malloc'd), or NULL */
};

/* An exchange rate the cycle asks for (USD → ccy). */
struct rate_item {
    struct cycle *c;
    char ccy[4];
    struct quote q;
};

struct cycle {
    struct daemon *d;
    struct asset_cache *ac;
    int refs;
    int64_t seq; /* 0 for an on-demand refresh: no cycle row */
    int refresh;
    char client[64]; /* who asked for a refresh */
    char trigger[16];
    int priority;
    int64_t started_wall_ms, started_mono_ms;
    uint64_t upstream_at_start; /* fetcher_requests() when it started */
    struct asset_list *list;    /* the assets of this cycle (a reference) */
    struct item *items;
    size_t n, done, skipped;
    int64_t last_progress_ms;
    struct rate_item *rates;
    size_t nrates, answered; /* answered: assets and rates */
    int fetching;            /* 1 until every answer is in */
    int results_pending;     /* record_updates chunks not yet written */
    int recalc_pending;
    cycle_done_cb cb;
    void *cls;
};

/* ---- asset lists and the cache ---------------------------------------- */

static struct asset_list *list_new(size_t n)
{
    struct asset_list *l = calloc(1, sizeof *l + n * sizeof l->a[0]);
    if (l != NULL)
        l->refs = 1;
    return l;
}

static struct asset_list *list_ref(struct asset_list *l)
{
    if (l)
        l->refs++;
    return l;
}

static void list_release(struct asset_list *l)
{
    if (l != NULL && --l->refs == 0)
        free(l);
}

struct asset_cache *asset_cache_new(void)
{
    return calloc(1, sizeof(struct asset_cache));
}

void asset_cache_free(struct asset_cache *ac)
{
    if (ac == NULL)
        return;
    list_release(ac->list);
    free(ac->ccy);
    free(ac);
}

int asset_cache_count(const struct asset_cache *ac)
{
    return ac->list ? (int)ac->list->n : -1;
}

/* ---- lifetime and progress --------------------------------------------- */

static void cycle_ref(struct cycle *c)
{
    c->refs++;
}

void cycle_release(struct cycle *c)
{
    if (c == NULL || --c->refs > 0)
        return;
    for (size_t i = 0; i < c->n; i++) {
        free(c->items[i].error);
        free(c->items[i].market);
        free(c->items[i].failover);
    }
    free(c->items);
    list_release(c->list);
    free(c->rates);
    free(c);
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

/* ---- writing the results ----------------------------------------------- */

static const char *status_name(enum cycle_status st)
{
    static const char *const names[] = {"succeeded", "partial", "failed", "aborted"};
    return names[st];
}

/* Says in the log which portfolios were valued with a gap (no price yet:
 * average buy price used; no exchange rate: left out) — one line per
 * portfolio, not per position. */
static void on_recalc_written(int written, const PGresult *res, void *cls)
{
    struct cycle *c = cls;
    for (int i = 0; written && res && i < PQntuples(res); i++) {
        int64_t gaps = 0;
        if (util_parse_i64(PQgetvalue(res, i, 1), 0, INT64_MAX, &gaps) != 0 || gaps == 0)
            continue;
        json_object *ctx = json_object_new_object();
        json_object_object_add(ctx, "portfolio_id", json_object_new_string(PQgetvalue(res, i, 0)));
        json_object *missing = json_tokener_parse(PQgetvalue(res, i, 2));
        json_object_object_add(ctx, "missing", missing);
        writer_log(c->d->writer, LOG_WARNING, c->seq, ctx,
                   "Portfolio %s: %lld positions valued without a current price or rate",
                   PQgetvalue(res, i, 0), (long long)gaps);
    }
    c->recalc_pending--;
    cycle_release(c);
}

static void on_results_written(int written, const PGresult *res, void *cls)
{
    (void)written;
    (void)res;
    struct cycle *c = cls;
    c->results_pending--;
    cycle_release(c);
}

/* Hands b's text to the writer. cb, when given, runs exactly once. */
static void write_json(struct cycle *c, enum writer_kind kind, const char *stmt, struct jbuf *b,
                       size_t rows, writer_cb cb)
{
    char *json = jbuf_take(b);
    if (json == NULL) {
        writer_log(c->d->writer, LOG_ERROR, c->seq, NULL, "cycle %lld: out of memory building %s",
                   (long long)c->seq, stmt);
    } else if (writer_submit_take(c->d->writer, kind, stmt, json, rows, cb, c) == 0) {
        return;
    }
    free(json);
    if (cb)
        cb(0, NULL, c);
}

static void result_row(struct cycle *c, struct jbuf *b, const struct item *it, const char *ts)
{
    int ok = it->kind == QUOTE_OK;
    jbuf_obj(b);
    jbuf_key(b, "asset_id");
    jbuf_int(b, it->a->id);
    jbuf_key(b, "symbol");
    jbuf_str(b, it->a->symbol);
    jbuf_key(b, "ok");
    jbuf_bool(b, ok);
    jbuf_key(b, "price");
    if (ok)
        jbuf_num(b, it->price);
    else
        jbuf_null(b);
    jbuf_key(b, "currency");
    jbuf_str(b, ok ? it->currency : it->a->currency);
    jbuf_key(b, "price_time");
    if (ok && it->price_time > 0) {
        char pt[32];
        util_fmt_time(it->price_time * 1000, pt, sizeof pt);
        jbuf_str(b, pt);
    } else {
        jbuf_str(b, ok ? ts : NULL);
    }
    jbuf_key(b, "error");
    jbuf_str(b, ok ? NULL : (it->error ? it->error : "unknown error"));
    jbuf_key(b, "duration_ms");
    jbuf_int(b, it->duration_ms);
    jbuf_key(b, "instance_id");
    jbuf_str(b, c->d->instance_id);
    jbuf_key(b, "seq");
    jbuf_int(b, writer_next_seq(c->d->writer));
    jbuf_key(b, "price_seq");
    jbuf_int(b, writer_next_seq(c->d->writer));
    jbuf_key(b, "cycle_seq");
    jbuf_int(b, c->seq);
    jbuf_key(b, "ts");
    jbuf_str(b, ts);
    jbuf_key(b, "source");
    jbuf_str(b, it->source[0] ? it->source : it->a->provider);
    jbuf_key(b, "failover_reason");
    jbuf_str(b, it->failover);
    if (ok) {
        static const char *const basis[] = {"market", "bar", "date"};
        jbuf_key(b, "time_basis");
        jbuf_str(b,
                 it->price_time <= 0 ? "fetched" : basis[it->time_basis < 3 ? it->time_basis : 0]);
        jbuf_key(b, "quoted_currency");
        jbuf_str(b, it->quoted_currency[0] ? it->quoted_currency : NULL);
    }
    if (ok && it->market) {
        const struct quote_market *m = it->market;
        jbuf_key(b, "exchange");
        jbuf_str(b, m->exchange);
        jbuf_key(b, "instrument_type");
        jbuf_str(b, m->instrument_type[0] ? m->instrument_type : NULL);
        jbuf_key(b, "exchange_tz");
        jbuf_str(b, m->timezone[0] ? m->timezone : NULL);
        jbuf_key(b, "session_start");
        jbuf_int(b, m->session_start);
        jbuf_key(b, "session_end");
        jbuf_int(b, m->session_end);
        jbuf_key(b, "gmtoffset");
        jbuf_int(b, m->gmtoffset);
    }
    jbuf_obj_end(b);
}

/* A chunk of results, built when the writer is ready to send it. */
struct chunk {
    struct cycle *c;
    size_t from, to; /* items [from, to) */
    char ts[32];
};

static char *build_chunk(void *cls)
{
    struct chunk *k = cls;
    struct jbuf b;
    jbuf_init(&b);
    jbuf_arr(&b);
    for (size_t i = k->from; i < k->to; i++)
        if (!k->c->items[i].skipped)
            result_row(k->c, &b, &k->c->items[i], k->ts);
    jbuf_arr_end(&b);
    return jbuf_take(&b);
}

static void on_chunk_written(int written, const PGresult *res, void *cls)
{
    struct chunk *k = cls;
    struct cycle *c = k->c;
    free(k);
    on_results_written(written, res, c);
}

static void write_results(struct cycle *c, int64_t now_wall)
{
    size_t i = 0;
    while (i < c->n) {
        size_t from = i, rows = 0;
        /* a chunk never fills more than a quarter of the write buffer */
        size_t chunk = (size_t)cfg->write_buffer_rows / 4;
        if (chunk > CYCLE_WRITE_CHUNK)
            chunk = CYCLE_WRITE_CHUNK;
        if (chunk < 1)
            chunk = 1;
        for (; i < c->n && rows < chunk; i++)
            rows += !c->items[i].skipped;
        if (rows == 0)
            continue;
        struct chunk *k = calloc(1, sizeof *k);
        c->results_pending++;
        cycle_ref(c);
        if (k == NULL) {
            log_msg(LOG_ERROR, "cycle: out of memory; %zu result rows lost", rows);
            on_results_written(0, NULL, c);
            continue;
        }
        k->c = c;
        k->from = from;
        k->to = i;
        util_fmt_time(now_wall, k->ts, sizeof k->ts);
        if (writer_submit_lazy(c->d->writer, WRITE_PRICES, SQL_RECORD_UPDATES, rows, build_chunk,
                               on_chunk_written, k) != 0)
            on_chunk_written(0, NULL, k);
    }
}

static void write_cycle_row(struct cycle *c, const char *stmt, const char *status, int64_t now_wall,
                            int ok, int failed, const char *error)
{
    char ts[32], started[32];
    util_fmt_time(now_wall, ts, sizeof ts);
    util_fmt_time(c->started_wall_ms, started, sizeof started);
    struct queue_counters qc;
    queue_get_counters(c->d->queue, &qc);
    struct jbuf b;
    jbuf_init(&b);
    jbuf_obj(&b);
    jbuf_key(&b, "instance_id");
    jbuf_str(&b, c->d->instance_id);
    jbuf_key(&b, "seq");
    jbuf_int(&b, c->seq);
    jbuf_key(&b, "trigger");
    jbuf_str(&b, c->trigger);
    jbuf_key(&b, "started_at");
    jbuf_str(&b, started);
    jbuf_key(&b, "status");
    jbuf_str(&b, status);
    jbuf_key(&b, "finished_at");
    jbuf_str(&b, ts);
    jbuf_key(&b, "duration_ms");
    jbuf_int(&b, loop_now(c->d->loop) - c->started_mono_ms);
    jbuf_key(&b, "assets_total");
    jbuf_int(&b, (int64_t)c->n);
    jbuf_key(&b, "assets_succeeded");
    jbuf_int(&b, ok);
    jbuf_key(&b, "assets_failed");
    jbuf_int(&b, failed);
    jbuf_key(&b, "assets_skipped");
    jbuf_int(&b, (int64_t)c->skipped);
    jbuf_key(&b, "upstream_requests");
    jbuf_int(&b, (int64_t)(fetcher_requests(c->d->fetcher) - c->upstream_at_start));
    jbuf_key(&b, "error");
    jbuf_str(&b, error);
    jbuf_obj_end(&b);
    write_json(c, WRITE_PRICES, stmt, &b, 1, NULL);
    jbuf_free(&b);
}

static void log_failures(struct cycle *c)
{
    size_t logged = 0, more = 0;
    for (size_t i = 0; i < c->n; i++) {
        const struct item *it = &c->items[i];
        if (it->kind == QUOTE_OK || it->skipped)
            continue;
        if (logged == CYCLE_LOG_FAILURES) {
            more++;
            continue;
        }
        logged++;
        const char *why = it->error ? it->error : "unknown error";
        json_object *ctx = json_object_new_object();
        json_object_object_add(ctx, "symbol", json_object_new_string(it->a->symbol));
        json_object_object_add(ctx, "provider", json_object_new_string(it->a->provider));
        json_object_object_add(ctx, "provider_symbol", json_object_new_string(it->a->psym));
        json_object_object_add(ctx, "error", json_object_new_string(why));
        if (it->http_status)
            json_object_object_add(ctx, "http_status", json_object_new_int(it->http_status));
        writer_log(c->d->writer, LOG_ERROR, c->seq, ctx, "Failed to update %s: %s", it->a->symbol,
                   why);
    }
    if (more > 0) {
        json_object *ctx = json_object_new_object();
        json_object_object_add(ctx, "not_listed", json_object_new_int64((int64_t)more));
        writer_log(c->d->writer, LOG_ERROR, c->seq, ctx,
                   "%zu more assets failed in cycle %lld (see price_update_log)", more,
                   (long long)c->seq);
    }
}

/* Stores the rates that came back; a missing one is a WARNING (portfolios
 * then list the positions they could not convert). Returns how many. */
static int write_rates(struct cycle *c)
{
    int ok = 0;
    struct jbuf b;
    jbuf_init(&b);
    jbuf_arr(&b);
    for (size_t i = 0; i < c->nrates; i++) {
        const struct rate_item *r = &c->rates[i];
        if (r->q.kind != QUOTE_OK) {
            json_object *ctx = json_object_new_object();
            json_object_object_add(ctx, "currency", json_object_new_string(r->ccy));
            json_object_object_add(ctx, "error", json_object_new_string(r->q.error));
            writer_log(c->d->writer, LOG_WARNING, c->seq, ctx, "No exchange rate USD->%s: %s",
                       r->ccy, r->q.error);
            continue;
        }
        char day[32];
        util_fmt_time((r->q.price_time > 0 ? r->q.price_time * 1000 : util_wall_ms()), day,
                      sizeof day);
        day[10] = '\0'; /* the date part */
        jbuf_obj(&b);
        jbuf_key(&b, "base");
        jbuf_str(&b, "USD");
        jbuf_key(&b, "quote");
        jbuf_str(&b, r->ccy);
        jbuf_key(&b, "rate");
        jbuf_num(&b, r->q.price);
        jbuf_key(&b, "rate_date");
        jbuf_str(&b, day);
        jbuf_obj_end(&b);
        ok++;
    }
    jbuf_arr_end(&b);
    if (ok > 0)
        write_json(c, WRITE_DATA, SQL_RECORD_RATES, &b, (size_t)ok, NULL);
    jbuf_free(&b);
    return ok;
}

void cycle_persist_stats(struct daemon *d)
{
    char uptime[24];
    snprintf(uptime, sizeof uptime, "%lld",
             (long long)((loop_now(d->loop) - d->started_mono_ms) / 1000));
    struct queue_counters qc;
    queue_get_counters(d->queue, &qc);
    char q[256];
    snprintf(q, sizeof q,
             "{\"upstream_requests\":%llu,\"deduplicated\":%llu,\"cache_hits\":%llu,"
             "\"errors\":%llu,\"retries\":%llu}",
             (unsigned long long)fetcher_requests(d->fetcher), (unsigned long long)qc.deduplicated,
             (unsigned long long)qc.cache_hits, (unsigned long long)qc.errors,
             (unsigned long long)qc.retries);
    const char *params[3] = {d->instance_id, uptime, q};
    if (writer_submit(d->writer, WRITE_DATA, SQL_PERSIST_STATS, 3, params, 1, NULL, NULL) != 0)
        log_msg(LOG_ERROR, "cycle: cannot queue statistics (out of memory)");
}

/* ---- events --------------------------------------------------------------- */

static void send_progress(struct cycle *c)
{
    if (c->refresh)
        return;
    c->last_progress_ms = loop_now(c->d->loop);
    /* Progress is news only now: sent if the database is there, never
     * buffered. */
    if (!dbconn_is_up(c->d->db))
        return;
    struct jbuf b;
    jbuf_init(&b);
    jbuf_obj(&b);
    jbuf_key(&b, "type");
    jbuf_str(&b, "progress");
    jbuf_key(&b, "instance_id");
    jbuf_str(&b, c->d->instance_id);
    jbuf_key(&b, "seq");
    jbuf_int(&b, c->seq);
    jbuf_key(&b, "done");
    jbuf_int(&b, (int64_t)c->done);
    jbuf_key(&b, "total");
    jbuf_int(&b, (int64_t)c->n);
    jbuf_key(&b, "phase");
    jbuf_str(&b, c->fetching ? "fetching" : "writing");
    jbuf_obj_end(&b);
    const char *text = jbuf_text(&b);
    char seq[24];
    snprintf(seq, sizeof seq, "%lld", (long long)c->seq);
    const char *params[3] = {text, c->d->instance_id, seq};
    if (text && dbconn_query(c->d->db, SQL_NOTIFY_EVENT, 3, params, NULL, NULL) != 0)
        log_msg(LOG_DEBUG, "cycle: progress event dropped (database queue full)");
    jbuf_free(&b);
}

/* ---- the end of a cycle --------------------------------------------------- */

static void finish(struct cycle *c)
{
    c->fetching = 0;
    int64_t now_wall = util_wall_ms();
    int ok = 0, failed = 0, cancelled = 0;
    for (size_t i = 0; i < c->n; i++) {
        if (c->items[i].skipped)
            continue;
        if (c->items[i].kind == QUOTE_OK)
            ok++;
        else
            failed++;
        if (c->items[i].kind == QUOTE_CANCELLED)
            cancelled++;
    }
    enum cycle_status st = cancelled     ? CYCLE_ABORTED
                           : failed == 0 ? CYCLE_SUCCEEDED
                           : ok > 0      ? CYCLE_PARTIAL
                                         : CYCLE_FAILED;
    send_progress(c);
    write_results(c, now_wall);
    int rates_ok = write_rates(c);
    if (ok > 0 || rates_ok > 0) {
        char seq[24];
        snprintf(seq, sizeof seq, "%lld", (long long)c->seq);
        const char *params[2] = {c->d->instance_id, seq};
        c->recalc_pending++;
        cycle_ref(c);
        if (writer_submit(c->d->writer, WRITE_DATA, SQL_RECALC_PORTFOLIOS, 2, params, 1,
                          on_recalc_written, c) != 0)
            on_recalc_written(0, NULL, c);
    }
    log_failures(c);
    double secs = (double)(loop_now(c->d->loop) - c->started_mono_ms) / 1000.0;
    if (c->refresh) {
        json_object *ctx = json_object_new_object();
        json_object_object_add(ctx, "client", json_object_new_string(c->client));
        json_object_object_add(ctx, "assets", json_object_new_int64((int64_t)c->n));
        json_object_object_add(ctx, "assets_succeeded", json_object_new_int(ok));
        writer_log(c->d->writer, LOG_INFO, 0, ctx,
                   "On-demand refresh for %s: %d/%zu assets updated in %.2fs", c->client, ok, c->n,
                   secs);
    } else {
        write_cycle_row(c, SQL_CYCLE_FINISH, status_name(st), now_wall, ok, failed,
                        st == CYCLE_ABORTED ? "fetcherd shut down during the cycle" : NULL);
        struct queue_counters qc;
        queue_get_counters(c->d->queue, &qc);
        json_object *ctx = json_object_new_object();
        json_object_object_add(ctx, "status", json_object_new_string(status_name(st)));
        json_object_object_add(ctx, "assets_total", json_object_new_int64((int64_t)c->n));
        json_object_object_add(ctx, "assets_succeeded", json_object_new_int(ok));
        json_object_object_add(ctx, "assets_failed", json_object_new_int(failed));
        json_object_object_add(ctx, "assets_skipped", json_object_new_int64((int64_t)c->skipped));
        json_object_object_add(ctx, "upstream_requests",
                               json_object_new_int64((int64_t)(fetcher_requests(c->d->fetcher) -
                                                               c->upstream_at_start)));
        json_object_object_add(ctx, "duration_seconds", json_object_new_double(secs));
        writer_log(c->d->writer, st == CYCLE_FAILED ? LOG_ERROR : LOG_INFO, c->seq, ctx,
                   "Cycle %lld %s: %d/%zu assets updated in %.2fs", (long long)c->seq,
                   status_name(st), ok, c->n - c->skipped, secs);
        cycle_persist_stats(c->d);
    }
    c->cb(st, c->cls);
    cycle_release(c); /* the fetching phase's reference */
}

/* ---- fetching ------------------------------------------------------------- */

static void answered(struct cycle *c)
{
    if (++c->answered == c->n + c->nrates)
        finish(c);
    else if (loop_now(c->d->loop) - c->last_progress_ms >= CYCLE_PROGRESS_MS)
        send_progress(c);
}

static void set_failure(struct item *it, enum quote_error_kind kind, const char *why)
{
    it->kind = (uint8_t)kind;
    free(it->error);
    it->error = strdup(why); /* NULL (out of memory) reads as "unknown error" */
}

static void on_quote(const struct quote *answer, void *cls)
{
    struct item *it = cls;
    struct cycle *c = it->c;
    struct quote q = *answer;
    it->duration_ms = (int32_t)(loop_now(c->d->loop) - it->submitted_ms);
    validate_quote(&q, it->a->currency, util_wall_ms() / 1000, cfg->price_max_age_s);
    it->http_status = (int16_t)q.http_status;
    util_strlcpy(it->source, q.source, sizeof it->source);
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
        set_failure(it, q.kind, q.error);
    }
    c->done++;
    answered(c);
}

static void on_rate(const struct quote *q, void *cls)
{
    struct rate_item *r = cls;
    r->q = *q;
    validate_quote(&r->q, r->ccy, util_wall_ms() / 1000, cfg->price_max_age_s);
    answered(r->c);
}

static void fail_item(struct item *it, const char *fmt, const char *arg)
{
    char why[200];
    snprintf(why, sizeof why, fmt, arg);
    set_failure(it, QUOTE_PERMANENT, why);
}

/* Scheduled cycles honour FETCH_STALENESS; a manual trigger, --once and an
 * on-demand refresh fetch everything they name. */
static int honours_staleness(const struct cycle *c)
{
    return !c->refresh &&
           (strcmp(c->trigger, "schedule") == 0 || strcmp(c->trigger, "startup") == 0);
}

/* Asks the queue for the first of the asset's sources that answers
 * (daemon/sources.h decides which, in which order, under which symbol).
 * Returns 0, or -1 with why (when there is room for it). */
static int submit_sources(struct cycle *c, enum source_class cls, const char *provider,
                          const char *psym, const char *override, int64_t ttl, queue_cb cb,
                          void *cls_arg, char *why, size_t whylen)
{
    struct source_choice ch[SOURCES_MAX];
    char err[200];
    size_t n = sources_resolve(c->d->sources, cls, provider, psym, override, ch, err, sizeof err);
    const char *pv[SOURCES_MAX], *sv[SOURCES_MAX];
    for (size_t i = 0; i < n; i++) {
        pv[i] = ch[i].provider;
        sv[i] = ch[i].symbol;
    }
    if (n > 0 && queue_submit_chain(c->d->queue, pv, sv, n, c->priority, ttl, cb, cls_arg) == 0)
        return 0;
    if (why != NULL)
        snprintf(why, whylen, "%s", n > 0 ? "could not queue it (out of memory)" : err);
    return -1;
}

static int submit_asset(struct cycle *c, struct item *it, int64_t ttl)
{
    char why[200];
    if (submit_sources(c, sources_class_of(it->a->type), it->a->provider, it->a->psym,
                       it->a->sources, ttl, on_quote, it, why, sizeof why) == 0)
        return 0;
    fail_item(it, "%s", why);
    return -1;
}

static void fetch_all(struct cycle *c)
{
    /* Within one cycle a key is fetched once (coalescing). A scheduled
     * cycle accepts no cached answer at all, however late it starts after
     * the last one; a manual trigger, --once and a refresh accept answers
     * at most a few seconds old (one a running cycle just got). */
    int64_t ttl = honours_staleness(c) ? 0 : 5000;
    size_t immediate = 0;
    for (size_t i = 0; i < c->n; i++) {
        struct item *it = &c->items[i];
        it->c = c;
        it->a = &c->list->a[i];
        it->submitted_ms = loop_now(c->d->loop);
        if (c->d->stopping) {
            /* the asset list came back after shutdown began: nothing is
             * fetched, and the cycle is recorded as aborted */
            set_failure(it, QUOTE_CANCELLED, "cancelled: fetcherd is shutting down");
            immediate++;
            continue;
        }
        if (honours_staleness(c) &&
            !staleness_due(it->a->age_s, staleness_bound(c->d->staleness, it->a->type),
                           cfg->fetch_interval_s)) {
            it->skipped = 1;
            c->skipped++;
            immediate++;
            continue;
        }
        if (submit_asset(c, it, ttl) == 0)
            continue;
        immediate++;
    }
    size_t immediate_assets = immediate;
    for (size_t i = 0; i < c->nrates; i++) {
        struct rate_item *r = &c->rates[i];
        r->c = c;
        if (c->d->stopping) {
            r->q.kind = QUOTE_CANCELLED;
            snprintf(r->q.error, sizeof r->q.error, "cancelled: fetcherd is shutting down");
            immediate++;
        } else if (submit_sources(c, SRC_FX, NULL, r->ccy, NULL, ttl, on_rate, r, NULL, 0) != 0) {
            r->q.kind = QUOTE_PERMANENT;
            snprintf(r->q.error, sizeof r->q.error, "could not queue the rate");
            immediate++;
        }
    }
    c->done += immediate_assets;
    c->answered += immediate;
    if (c->answered == c->n + c->nrates)
        finish(c);
}

/* Starts fetching the assets of list (a reference the cycle takes over;
 * NULL = none). */
static void begin(struct cycle *c, struct asset_list *list, const char *note)
{
    c->list = list;
    c->n = list ? list->n : 0;
    c->items = c->n ? calloc(c->n, sizeof *c->items) : NULL;
    if (c->n && c->items == NULL) {
        log_msg(LOG_ERROR, "cycle: out of memory for %zu assets", c->n);
        c->n = 0; /* recorded as an empty cycle; the next one tries again */
    }
    const struct asset_cache *ac = c->ac;
    c->rates = !c->refresh && ac->nccy ? calloc(ac->nccy, sizeof *c->rates) : NULL;
    if (c->rates != NULL) {
        c->nrates = ac->nccy;
        for (size_t i = 0; i < c->nrates; i++)
            memcpy(c->rates[i].ccy, ac->ccy[i], sizeof c->rates[i].ccy);
    }
    json_object *ctx = json_object_new_object();
    json_object_object_add(ctx, "assets", json_object_new_int64((int64_t)c->n));
    if (c->refresh) {
        json_object_object_add(ctx, "client", json_object_new_string(c->client));
        writer_log(c->d->writer, LOG_INFO, 0, ctx, "On-demand refresh of %zu assets for %s", c->n,
                   c->client);
    } else {
        write_cycle_row(c, SQL_CYCLE_START, "running", c->started_wall_ms, 0, 0, NULL);
        json_object_object_add(ctx, "trigger", json_object_new_string(c->trigger));
        if (note)
            json_object_object_add(ctx, "note", json_object_new_string(note));
        writer_log(c->d->writer, LOG_INFO, c->seq, ctx, "Cycle %lld started (%s): %zu assets",
                   (long long)c->seq, c->trigger, c->n);
    }
    c->last_progress_ms = loop_now(c->d->loop);
    cycle_ref(c); /* held by the fetching phase; released at the end of finish() */
    fetch_all(c);
}

static void fail_early(struct cycle *c, const char *why)
{
    c->fetching = 0;
    if (c->refresh) {
        writer_log(c->d->writer, LOG_ERROR, 0, NULL, "On-demand refresh for %s failed: %s",
                   c->client, why);
        c->cb(CYCLE_FAILED, c->cls);
        return;
    }
    write_cycle_row(c, SQL_CYCLE_START, "running", c->started_wall_ms, 0, 0, NULL);
    write_cycle_row(c, SQL_CYCLE_FINISH, "failed", util_wall_ms(), 0, 0, why);
    writer_log(c->d->writer, LOG_ERROR, c->seq, NULL, "Cycle %lld failed: %s", (long long)c->seq,
               why);
    cycle_persist_stats(c->d);
    c->cb(CYCLE_FAILED, c->cls);
}

/* ---- reading the assets ----------------------------------------------------- */

static void copy_field(char *dst, size_t n, const PGresult *r, int row, int col)
{
    util_strlcpy(dst, PQgetvalue(r, row, col), n);
}

/* Rows of SQL_TRACKED_ASSETS / SQL_ASSETS_BY_SYMBOL → a new list (one
 * reference for the caller), or NULL when memory ran out. */
static struct asset_list *read_assets(const PGresult *res)
{
    size_t rows = (size_t)PQntuples(res);
    struct asset_list *l = list_new(rows);
    if (l == NULL)
        return NULL;
    for (size_t i = 0; i < rows; i++) {
        int row = (int)i;
        struct asset *x = &l->a[l->n];
        if (util_parse_i64(PQgetvalue(res, row, 0), 1, INT64_MAX, &x->id) != 0)
            continue;
        copy_field(x->symbol, sizeof x->symbol, res, row, 1);
        copy_field(x->type, sizeof x->type, res, row, 2);
        copy_field(x->currency, sizeof x->currency, res, row, 3);
        copy_field(x->provider, sizeof x->provider, res, row, 4);
        copy_field(x->psym, sizeof x->psym, res, row, 5);
        copy_field(x->sources, sizeof x->sources, res, row, 8);
        if (util_parse_i64(PQgetvalue(res, row, 6), -1, INT64_MAX, &x->age_s) != 0)
            x->age_s = -1;
        x->last_price = PQgetisnull(res, row, 7) ? 0 : strtod(PQgetvalue(res, row, 7), NULL);
        l->n++;
    }
    return l;
}

static void use_cache(struct cycle *c, const char *err)
{
    if (c->ac->list != NULL) {
        char note[300];
        snprintf(note, sizeof note, "database unavailable (%s); using the last known asset list",
                 err);
        begin(c, list_ref(c->ac->list), note);
    } else {
        char why[300];
        snprintf(why, sizeof why, "cannot read tracked assets: %s", err);
        fail_early(c, why);
    }
}

static void on_currencies(const PGresult *res, enum db_status st, const char *err, void *cls)
{
    struct cycle *c = cls;
    struct asset_cache *ac = c->ac;
    if (st == DB_OK) {
        size_t n = (size_t)PQntuples(res);
        char(*ccy)[4] = n ? calloc(n, sizeof *ccy) : NULL;
        if (n == 0 || ccy != NULL) {
            for (size_t i = 0; i < n; i++)
                copy_field(ccy[i], sizeof ccy[i], res, (int)i, 0);
            free(ac->ccy);
            ac->ccy = ccy;
            ac->nccy = n;
        }
    } else {
        log_msg(LOG_WARNING, "cycle: cannot read currencies in use (%s); using the last list", err);
    }
    begin(c, list_ref(ac->list), NULL);
    cycle_release(c);
}

static void on_assets(const PGresult *res, enum db_status st, const char *err, void *cls)
{
    struct cycle *c = cls;
    struct asset_cache *ac = c->ac;
    if (st == DB_OK) {
        struct asset_list *l = read_assets(res);
        if (l != NULL) {
            list_release(ac->list);
            ac->list = l;
            /* the reference moves on to the currencies query */
            if (dbconn_query(c->d->db, SQL_CURRENCIES, 0, NULL, on_currencies, c) == 0)
                return;
            begin(c, list_ref(l), NULL);
            cycle_release(c);
            return;
        }
        err = "out of memory reading the asset list";
    }
    use_cache(c, err);
    cycle_release(c);
}

static void on_refresh_assets(const PGresult *res, enum db_status st, const char *err, void *cls)
{
    struct cycle *c = cls;
    if (st != DB_OK)
        fail_early(c, err);
    else
        begin(c, read_assets(res), NULL);
    cycle_release(c);
}

/* ---- starting --------------------------------------------------------------- */

static struct cycle *new_cycle(struct daemon *d, struct asset_cache *ac, int64_t seq,
                               const char *trigger, int priority, cycle_done_cb done, void *cls)
{
    struct cycle *c = calloc(1, sizeof *c);
    if (c == NULL)
        return NULL;
    c->d = d;
    c->ac = ac;
    c->refs = 1;
    c->seq = seq;
    util_strlcpy(c->trigger, trigger, sizeof c->trigger);
    c->priority = priority;
    c->started_wall_ms = util_wall_ms();
    c->started_mono_ms = loop_now(d->loop);
    c->fetching = 1;
    c->cb = done;
    c->cls = cls;
    struct queue_counters qc;
    queue_get_counters(d->queue, &qc);
    /* Requests as sent (a spark batch, its chart fallbacks), not batches. */
    c->upstream_at_start = fetcher_requests(d->fetcher);
    return c;
}

struct cycle *cycle_start(struct daemon *d, struct asset_cache *ac, int64_t seq,
                          const char *trigger, int priority, cycle_done_cb done, void *cls)
{
    struct cycle *c = new_cycle(d, ac, seq, trigger, priority, done, cls);
    if (c == NULL)
        return NULL;
    if (dbconn_is_up(d->db)) {
        cycle_ref(c); /* held by the query */
        if (dbconn_query(d->db, SQL_TRACKED_ASSETS, 0, NULL, on_assets, c) == 0)
            return c;
        c->refs--;
    }
    cycle_ref(c);
    on_assets(NULL, DB_RETRY,
              dbconn_last_error(d->db)[0] ? dbconn_last_error(d->db) : "database not connected", c);
    return c;
}

struct cycle *cycle_start_refresh(struct daemon *d, struct asset_cache *ac,
                                  const char *symbols_json, const char *client, cycle_done_cb done,
                                  void *cls)
{
    struct cycle *c = new_cycle(d, ac, 0, "refresh", QPRIO_ON_DEMAND, done, cls);
    if (c == NULL)
        return NULL;
    c->refresh = 1;
    util_strlcpy(c->client, client, sizeof c->client);
    const char *params[1] = {symbols_json};
    cycle_ref(c);
    if (dbconn_query(d->db, SQL_ASSETS_BY_SYMBOL, 1, params, on_refresh_assets, c) != 0)
        on_refresh_assets(NULL, DB_RETRY, "database queue full", c);
    return c;
}
