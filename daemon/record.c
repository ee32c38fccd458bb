/*
 * record — see record.h.
 *
 * The JSON is written with jbuf, which validates UTF-8 as it goes: symbols
 * and error texts come from outside.
 */
#include "record.h"
#include "config.h"
#include "jbuf.h"
#include "log.h"
#include "sql.h"

#include <json-c/json.h>
#include <stddef.h>
#include <stdlib.h>

/* Rows per record_updates statement: a few hundred KB of JSON, so neither
 * our buffers nor libpq's grow with the size of the cycle. */
#define RECORD_CHUNK_ROWS 500

/* Hands b's text to the writer. */
static void record_submit(const struct record_owner *o, enum writer_kind kind, const char *stmt,
                          struct jbuf *b, size_t rows, int64_t unit)
{
    char *json = jbuf_take(b);
    if (json == NULL) {
        writer_log(o->writer, LOG_ERROR, o->cycle_seq, NULL,
                   "cycle %lld: out of memory building %s", (long long)o->cycle_seq, stmt);
    } else if (writer_submit_take(o->writer, kind, stmt, json, rows, unit, NULL, NULL) == 0) {
        return;
    }
    free(json);
}

/* ---- per-asset rows ---------------------------------------------------- */

/* A chunk of results, built when the writer is ready to send it. */
struct record_chunk {
    struct writer *writer;
    char instance_id[64];
    int64_t cycle_seq;
    char asked[40];
    const struct asset_result *results; /* [from, to) */
    size_t from, to;
    char ts[32];
    writer_cb done;
    void *cls;
};

/* What the provider says about the listing (sql.c keeps it on assets). */
static void record_market(struct jbuf *b, const struct quote_market *m)
{
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

static void record_result_row(const struct record_chunk *k, struct jbuf *b,
                              const struct asset_result *it)
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
        jbuf_str(b, ok ? k->ts : NULL);
    }
    jbuf_key(b, "error");
    jbuf_str(b, ok ? NULL : (it->error ? it->error : "unknown error"));
    jbuf_key(b, "duration_ms");
    jbuf_int(b, it->duration_ms);
    jbuf_key(b, "instance_id");
    jbuf_str(b, k->instance_id);
    jbuf_key(b, "seq");
    jbuf_int(b, writer_next_seq(k->writer));
    jbuf_key(b, "price_seq");
    jbuf_int(b, writer_next_seq(k->writer));
    jbuf_key(b, "cycle_seq");
    jbuf_int(b, k->cycle_seq);
    jbuf_key(b, "ts");
    jbuf_str(b, k->ts);
    jbuf_key(b, "source");
    jbuf_str(b, it->source[0] ? it->source : it->a->provider);
    jbuf_key(b, "failover_reason");
    jbuf_str(b, it->failover);
    jbuf_key(b, "source_count");
    if (it->source_count)
        jbuf_int(b, it->source_count);
    else
        jbuf_null(b);
    if (it->crosscheck) {
        /* built by cycle.c with jbuf: valid JSON */
        jbuf_key(b, "crosscheck");
        jbuf_raw(b, it->crosscheck);
    }
    jbuf_key(b, "asked");
    jbuf_str(b, k->asked[0] ? k->asked : NULL);
    if (ok) {
        static const char *const basis[] = {"market", "bar", "date"};
        jbuf_key(b, "time_basis");
        jbuf_str(b,
                 it->price_time <= 0 ? "fetched" : basis[it->time_basis < 3 ? it->time_basis : 0]);
        jbuf_key(b, "quoted_currency");
        jbuf_str(b, it->quoted_currency[0] ? it->quoted_currency : NULL);
    }
    if (ok && it->market)
        record_market(b, it->market);
    jbuf_obj_end(b);
}

/* An asset the cycle skipped (fresh enough), or did not fetch because
 * fetcherd stopped, has no row: neither is an update, nor a failure. */
static int record_row_wanted(const struct asset_result *it)
{
    return !it->skipped && it->kind != QUOTE_CANCELLED;
}

static char *record_build_chunk(void *cls)
{
    struct record_chunk *k = cls;
    struct jbuf b;
    jbuf_init(&b);
    jbuf_arr(&b);
    for (size_t i = k->from; i < k->to; i++)
        if (record_row_wanted(&k->results[i]))
            record_result_row(k, &b, &k->results[i]);
    jbuf_arr_end(&b);
    return jbuf_take(&b);
}

static void record_on_chunk_written(int written, const PGresult *res, void *cls)
{
    struct record_chunk *k = cls;
    writer_cb done = k->done;
    void *done_cls = k->cls;
    free(k);
    done(written, res, done_cls);
}

size_t record_results(const struct record_owner *o, const struct asset_result *results, size_t n,
                      int64_t now_wall, writer_cb done, void *cls)
{
    /* a chunk never fills more than a quarter of the write buffer */
    size_t chunk = (size_t)cfg->write_buffer_rows / 4;
    if (chunk > RECORD_CHUNK_ROWS)
        chunk = RECORD_CHUNK_ROWS;
    if (chunk < 1)
        chunk = 1;
    size_t queued = 0, i = 0;
    while (i < n) {
        size_t from = i, rows = 0;
        for (; i < n && rows < chunk; i++)
            rows += (size_t)record_row_wanted(&results[i]);
        if (rows == 0)
            continue;
        struct record_chunk *k = calloc(1, sizeof *k);
        if (k == NULL) {
            log_msg(LOG_ERROR, "cycle: out of memory; %zu result rows lost", rows);
            continue;
        }
        k->writer = o->writer;
        util_strlcpy(k->instance_id, o->instance_id, sizeof k->instance_id);
        k->cycle_seq = o->cycle_seq;
        util_strlcpy(k->asked, o->asked ? o->asked : "", sizeof k->asked);
        k->results = results;
        k->from = from;
        k->to = i;
        k->done = done;
        k->cls = cls;
        util_fmt_time(now_wall, k->ts, sizeof k->ts);
        /* one unit with the cycle's row: results never outlive it */
        if (writer_submit_lazy(o->writer, WRITE_PRICES, SQL_RECORD_UPDATES, rows, o->cycle_seq,
                               record_build_chunk, record_on_chunk_written, k) != 0) {
            free(k);
            continue;
        }
        queued++;
    }
    return queued;
}

/* ---- the cycle row ----------------------------------------------------- */

/* The row as the statements unpack it, owner included. */
struct record_cycle_doc {
    const char *instance_id;
    int64_t seq;
    struct record_cycle r;
};

#define RECORD_CYCLE_FIELD(name, type, member)                                                     \
    {                                                                                              \
        name, type, offsetof(struct record_cycle_doc, member)                                      \
    }

static const struct jbuf_field record_cycle_fields[] = {
    RECORD_CYCLE_FIELD("instance_id", JBUF_STR, instance_id),
    RECORD_CYCLE_FIELD("seq", JBUF_INT, seq),
    RECORD_CYCLE_FIELD("id", JBUF_INT_OR_NULL, r.id),
    RECORD_CYCLE_FIELD("trigger", JBUF_STR, r.trigger),
    RECORD_CYCLE_FIELD("started_at", JBUF_TIME, r.started_wall_ms),
    RECORD_CYCLE_FIELD("status", JBUF_STR, r.status),
    RECORD_CYCLE_FIELD("finished_at", JBUF_TIME, r.finished_wall_ms),
    RECORD_CYCLE_FIELD("duration_ms", JBUF_INT, r.duration_ms),
    RECORD_CYCLE_FIELD("assets_total", JBUF_INT, r.total),
    RECORD_CYCLE_FIELD("assets_succeeded", JBUF_INT, r.succeeded),
    RECORD_CYCLE_FIELD("assets_failed", JBUF_INT, r.failed),
    RECORD_CYCLE_FIELD("assets_skipped", JBUF_INT, r.skipped),
    RECORD_CYCLE_FIELD("upstream_requests", JBUF_INT, r.upstream_requests),
    RECORD_CYCLE_FIELD("assets_market_closed", JBUF_INT, r.market_closed),
    RECORD_CYCLE_FIELD("error", JBUF_STR, r.error),
};

void record_cycle_row(const struct record_owner *o, const char *stmt,
                      const struct record_cycle *row)
{
    struct record_cycle_doc doc = {o->instance_id, o->cycle_seq, *row};
    struct jbuf b;
    jbuf_init(&b);
    jbuf_obj(&b);
    jbuf_fields(&b, record_cycle_fields, ARRAY_LEN(record_cycle_fields), &doc);
    jbuf_obj_end(&b);
    record_submit(o, WRITE_PRICES, stmt, &b, 1, o->cycle_seq);
    jbuf_free(&b);
}

/* ---- exchange rates ---------------------------------------------------- */

int record_rates(const struct record_owner *o, const struct rate_result *rates, size_t n)
{
    int ok = 0;
    struct jbuf b;
    jbuf_init(&b);
    jbuf_arr(&b);
    for (size_t i = 0; i < n; i++) {
        const struct rate_result *r = &rates[i];
        if (r->q.kind == QUOTE_CANCELLED)
            continue; /* not asked for: fetcherd is stopping */
        if (r->q.kind != QUOTE_OK) {
            json_object *ctx = json_object_new_object();
            json_object_object_add(ctx, "currency", json_object_new_string(r->ccy));
            json_object_object_add(ctx, "error", json_object_new_string(r->q.error));
            writer_log(o->writer, LOG_WARNING, o->cycle_seq, ctx, "No exchange rate USD->%s: %s",
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
        record_submit(o, WRITE_DATA, SQL_RECORD_RATES, &b, (size_t)ok, 0);
    jbuf_free(&b);
    return ok;
}
