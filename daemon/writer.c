/*
 * writer — see writer.h.
 */
#include "writer.h"
#include "jbuf.h"
#include "sql.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>

#define WRITER_MAX_PARAMS 4
/* Log rows per statement: large enough to batch a busy cycle, small enough
 * that one statement stays well under any timeout. */
#define WRITER_LOG_BATCH 500
/* After a retryable failure, wait this long before sending again, so a
 * statement that times out does not hammer a struggling server. */
#define WRITER_RETRY_MS 1000
/* A statement that fails retryably this often while the connection stays
 * up (a statement timeout, every time) is dropped, so it cannot block
 * every write behind it for ever. */
#define WRITER_MAX_REFUSALS 5

struct op {
    TAILQ_ENTRY(op) link;
    enum writer_kind kind;
    char stmt[48];
    int nparams;
    char *params[WRITER_MAX_PARAMS];
    size_t rows;
    char *(*build)(void *cls); /* lazy: params[0] made when first sent */
    int refusals;              /* retryable failures with the database up */
    int news;                  /* writer_submit_news: never kept across an outage */
    int64_t unit;              /* > 0: dropped only with every op of the same unit */
    writer_cb cb;
    void *cls;
};

struct writer {
    struct loop *loop;
    struct dbconn *db;
    char instance_id[64];
    size_t max_rows;
    TAILQ_HEAD(writer_ops, op) ops; /* the FIFO; the one in flight is first */
    struct op *inflight;
    size_t rows, nops;
    struct jbuf logs; /* rows not yet sealed into a statement (an open array) */
    size_t nlogs;
    enum log_level logs_max; /* highest level among them */
    uint64_t dropped_unreported;
    /* Units dropped lately: their later statements are dropped on arrival,
     * so a unit is never written in part. A few suffice: units are cycles,
     * one or two at a time. */
    int64_t dropped_units[8];
    unsigned dropped_units_next;
    int64_t seq;
    int64_t retry_at;
    int64_t retry_timer;
    struct writer_stats st;
};

static void wr_op_free(struct op *o)
{
    for (int i = 0; i < o->nparams; i++)
        free(o->params[i]);
    free(o);
}

struct writer *writer_new(struct loop *l, struct dbconn *db, const char *instance_id,
                          size_t max_rows)
{
    struct writer *w = calloc(1, sizeof *w);
    if (w == NULL)
        return NULL;
    w->loop = l;
    w->db = db;
    util_strlcpy(w->instance_id, instance_id, sizeof w->instance_id);
    w->max_rows = max_rows;
    jbuf_init(&w->logs);
    TAILQ_INIT(&w->ops);
    /* Sequence numbers only need to be unique per instance id; starting
     * from the wall clock keeps them unique even if an id is reused. */
    w->seq = util_wall_ms() * 1000;
    return w;
}

void writer_free(struct writer *w)
{
    if (w == NULL)
        return;
    struct op *o;
    while ((o = TAILQ_FIRST(&w->ops)) != NULL) {
        TAILQ_REMOVE(&w->ops, o, link);
        if (o->cb)
            o->cb(0, NULL, o->cls);
        wr_op_free(o);
    }
    jbuf_free(&w->logs);
    if (w->retry_timer > 0)
        loop_timer_del(w->loop, w->retry_timer);
    free(w);
}

int64_t writer_next_seq(struct writer *w)
{
    return ++w->seq;
}

static void wr_unlink_op(struct writer *w, struct op *o)
{
    TAILQ_REMOVE(&w->ops, o, link);
    w->rows -= o->rows;
    w->nops--;
}

static void wr_drop_op(struct writer *w, struct op *o, const char *why)
{
    wr_unlink_op(w, o);
    w->st.dropped_rows += o->rows;
    w->st.dropped_by_kind[o->kind] += o->rows;
    w->dropped_unreported += o->rows;
    if (o->rows > 0)
        log_msg(LOG_ERROR, "writer: buffer full (%zu rows); dropped %zu rows (%s%s)", w->max_rows,
                o->rows, o->stmt, why);
    if (o->cb)
        o->cb(0, NULL, o->cls);
    wr_op_free(o);
}

static int wr_unit_dropped(const struct writer *w, int64_t unit)
{
    for (size_t i = 0; unit > 0 && i < ARRAY_LEN(w->dropped_units); i++)
        if (w->dropped_units[i] == unit)
            return 1;
    return 0;
}

/* Drops every buffered op of the unit and remembers it, so that a cycle's
 * results never reach the table without its row (they would be written
 * with no cycle, as if they were on-demand refreshes). */
static void wr_drop_unit(struct writer *w, int64_t unit)
{
    w->dropped_units[w->dropped_units_next++ % ARRAY_LEN(w->dropped_units)] = unit;
    struct op *o = TAILQ_FIRST(&w->ops);
    while (o) {
        struct op *next = TAILQ_NEXT(o, link);
        if (o->unit == unit && o != w->inflight)
            wr_drop_op(w, o, ", with the rest of its cycle");
        o = next;
    }
}

/* Makes room for `need` rows, dropping whole statements, oldest first, in
 * the order of enum writer_kind; never the statement in flight, nor a unit
 * one of whose statements is in flight (it is partly written already). */
static void wr_make_room(struct writer *w, size_t need)
{
    for (int victim = WRITE_LOG_LOW; victim <= WRITE_PRICES && w->rows + need > w->max_rows;
         victim++) {
        struct op *o = TAILQ_FIRST(&w->ops);
        while (o && w->rows + need > w->max_rows) {
            struct op *next = TAILQ_NEXT(o, link);
            if (o == w->inflight || (int)o->kind != victim) {
                o = next;
                continue;
            }
            if (o->unit == 0) {
                wr_drop_op(w, o, "");
            } else if (w->inflight == NULL || w->inflight->unit != o->unit) {
                wr_drop_unit(w, o->unit);
                next = TAILQ_FIRST(&w->ops); /* the unit's ops may follow */
            }
            o = next;
        }
    }
}

/* Queues an op, taking params_take. Returns 0 (the op may already have
 * been dropped, its cb run) or -1 (out of memory; nothing taken). */
static int wr_enqueue(struct writer *w, enum writer_kind kind, const char *stmt, int nparams,
                      char **params_take, size_t rows, int64_t unit, char *(*build)(void *cls),
                      writer_cb cb, void *cls)
{
    struct op *o = calloc(1, sizeof *o);
    if (o == NULL)
        return -1;
    o->kind = kind;
    o->unit = unit;
    o->build = build;
    util_strlcpy(o->stmt, stmt, sizeof o->stmt);
    o->nparams = nparams;
    for (int i = 0; i < nparams; i++)
        o->params[i] = params_take[i];
    o->rows = rows;
    o->cb = cb;
    o->cls = cls;
    if (wr_unit_dropped(w, unit)) {
        TAILQ_INSERT_TAIL(&w->ops, o, link);
        w->nops++;
        w->rows += rows;
        wr_drop_op(w, o, ", the rest of a dropped cycle");
        return 0;
    }
    wr_make_room(w, rows);
    if (wr_unit_dropped(w, unit)) {
        /* its own unit went to make room: it goes too */
        TAILQ_INSERT_TAIL(&w->ops, o, link);
        w->nops++;
        w->rows += rows;
        wr_drop_op(w, o, ", with the rest of its cycle");
        return 0;
    }
    TAILQ_INSERT_TAIL(&w->ops, o, link);
    w->rows += rows;
    w->nops++;
    return 0;
}

static void wr_seal_logs(struct writer *w)
{
    if (w->nlogs == 0)
        return;
    size_t n = w->nlogs;
    w->nlogs = 0;
    jbuf_arr_end(&w->logs);
    char *p = jbuf_take(&w->logs); /* and a fresh buffer for the next rows */
    enum writer_kind kind = w->logs_max <= LOG_INFO ? WRITE_LOG_LOW : WRITE_LOG;
    w->logs_max = LOG_DEBUG;
    if (p == NULL || wr_enqueue(w, kind, SQL_LOGS, 1, &p, n, 0, NULL, NULL, NULL) != 0) {
        free(p);
        w->st.dropped_rows += n;
    }
}

int writer_submit(struct writer *w, enum writer_kind kind, const char *stmt, int nparams,
                  const char *const *params, size_t rows, writer_cb cb, void *cls)
{
    if (nparams < 0 || nparams > WRITER_MAX_PARAMS)
        return -1;
    /* Logs written before this statement must reach the table before it. */
    wr_seal_logs(w);
    char *copies[WRITER_MAX_PARAMS] = {0};
    for (int i = 0; i < nparams; i++) {
        copies[i] = params[i] ? strdup(params[i]) : NULL;
        if (params[i] && copies[i] == NULL) {
            for (int j = 0; j < i; j++)
                free(copies[j]);
            return -1;
        }
    }
    if (wr_enqueue(w, kind, stmt, nparams, copies, rows, 0, NULL, cb, cls) != 0) {
        for (int i = 0; i < nparams; i++)
            free(copies[i]);
        return -1;
    }
    return 0;
}

int writer_submit_news(struct writer *w, const char *stmt, int nparams, const char *const *params,
                       writer_cb cb, void *cls)
{
    if (!dbconn_is_up(w->db))
        return -1;
    /* no rows: news takes no room from the buffer */
    if (writer_submit(w, WRITE_DATA, stmt, nparams, params, 0, cb, cls) != 0)
        return -1;
    TAILQ_LAST(&w->ops, writer_ops)->news = 1;
    return 0;
}

int writer_submit_take(struct writer *w, enum writer_kind kind, const char *stmt, char *param,
                       size_t rows, int64_t unit, writer_cb cb, void *cls)
{
    wr_seal_logs(w);
    return wr_enqueue(w, kind, stmt, 1, &param, rows, unit, NULL, cb, cls);
}

int writer_submit_lazy(struct writer *w, enum writer_kind kind, const char *stmt, size_t rows,
                       int64_t unit, char *(*build)(void *cls), writer_cb cb, void *cls)
{
    wr_seal_logs(w);
    char *none = NULL;
    return wr_enqueue(w, kind, stmt, 1, &none, rows, unit, build, cb, cls);
}

void writer_log(struct writer *w, enum log_level level, int64_t cycle_seq, json_object *context,
                const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (context) {
        /* NULL: json-c ran out of memory printing it; the line still goes
         * out, and the row below carries the context (jbuf_json) */
        const char *text = json_object_to_json_string_ext(context, JSON_C_TO_STRING_PLAIN);
        log_msg(level, "%s %s", msg, text != NULL ? text : "(context not printed: out of memory)");
    } else {
        log_msg(level, "%s", msg);
    }

    char ts[32];
    util_fmt_time(util_wall_ms(), ts, sizeof ts);
    struct jbuf *b = &w->logs;
    if (w->nlogs == 0)
        jbuf_arr(b);
    jbuf_obj(b);
    jbuf_key(b, "ts");
    jbuf_str(b, ts);
    jbuf_key(b, "level");
    jbuf_str(b, log_level_name(level));
    jbuf_key(b, "message");
    jbuf_str(b, msg);
    jbuf_key(b, "context");
    jbuf_json(b, context); /* NULL is JSON null */
    jbuf_key(b, "instance_id");
    jbuf_str(b, w->instance_id);
    jbuf_key(b, "seq");
    jbuf_int(b, writer_next_seq(w));
    jbuf_key(b, "cycle_seq");
    if (cycle_seq > 0)
        jbuf_int(b, cycle_seq);
    else
        jbuf_null(b);
    jbuf_obj_end(b);
    json_object_put(context);
    w->nlogs++;
    if (level > w->logs_max)
        w->logs_max = level;
    if (w->nlogs >= WRITER_LOG_BATCH)
        wr_seal_logs(w);
}

static void wr_send_head(struct writer *w);

/* Wakes the loop when a retry is due (nothing else may). */
static int64_t wr_on_retry_timer(struct loop *l, void *cls)
{
    (void)l;
    struct writer *w = cls;
    w->retry_timer = 0;
    wr_send_head(w);
    return LOOP_TIMER_STOP;
}

static void wr_on_written(const PGresult *res, enum db_status st, const char *err, void *cls)
{
    struct writer *w = cls;
    struct op *o = w->inflight;
    w->inflight = NULL;
    /* the in-flight statement is never dropped, and nothing else is sent */
    if (!FETCHER_ASSERT(o != NULL && o == TAILQ_FIRST(&w->ops)))
        return;
    if (st == DB_RETRY && !o->news &&
        !(dbconn_is_up(w->db) && ++o->refusals >= WRITER_MAX_REFUSALS)) {
        /* Unknown outcome; it is idempotent, so it is simply sent again. */
        w->st.retries++;
        w->retry_at = loop_now(w->loop) + WRITER_RETRY_MS;
        if (w->retry_timer == 0)
            w->retry_timer = loop_timer_add(w->loop, WRITER_RETRY_MS, wr_on_retry_timer, w);
        return;
    }
    wr_unlink_op(w, o);
    if (st == DB_OK) {
        w->st.written_rows += o->rows;
    } else {
        /* Refused as invalid (our bug or bad data), or timed out again and
         * again: retrying cannot help; say so loudly and go on. */
        w->st.dropped_rows += o->rows;
        log_msg(LOG_ERROR, "writer: %zu rows refused by the database: %s", o->rows, err);
    }
    if (o->cb)
        o->cb(st == DB_OK, st == DB_OK ? res : NULL, o->cls);
    wr_op_free(o);
    wr_send_head(w);
}

/* The database is away: news submitted before it went is stale now. */
static void wr_drop_news(struct writer *w)
{
    struct op *o = TAILQ_FIRST(&w->ops);
    while (o) {
        struct op *next = TAILQ_NEXT(o, link);
        if (o->news && o != w->inflight) {
            wr_unlink_op(w, o);
            if (o->cb)
                o->cb(0, NULL, o->cls);
            wr_op_free(o);
        }
        o = next;
    }
}

static void wr_send_head(struct writer *w)
{
    if (!dbconn_is_up(w->db)) {
        wr_drop_news(w);
        return;
    }
    if (w->inflight || TAILQ_EMPTY(&w->ops))
        return;
    if (w->retry_at > loop_now(w->loop))
        return;
    struct op *o = TAILQ_FIRST(&w->ops);
    if (o->build != NULL && o->params[0] == NULL) {
        o->params[0] = o->build(o->cls);
        if (o->params[0] == NULL) {
            wr_unlink_op(w, o);
            w->st.dropped_rows += o->rows;
            log_msg(LOG_ERROR, "writer: out of memory building %s; %zu rows lost", o->stmt,
                    o->rows);
            if (o->cb)
                o->cb(0, NULL, o->cls);
            wr_op_free(o);
            wr_send_head(w);
            return;
        }
    }
    /* The op keeps its parameters until on_written: dbconn may borrow them
     * (a cycle's batch is not copied again). */
    if (dbconn_query_borrowed(w->db, o->stmt, o->nparams, (const char *const *)o->params,
                              wr_on_written, w) != 0)
        return; /* dbconn full: try again next iteration */
    w->inflight = o;
}

void writer_flush(struct writer *w)
{
    wr_seal_logs(w);
    wr_send_head(w);
}

int writer_idle(const struct writer *w)
{
    return TAILQ_EMPTY(&w->ops) && w->nlogs == 0;
}

uint64_t writer_take_dropped(struct writer *w)
{
    uint64_t n = w->dropped_unreported;
    w->dropped_unreported = 0;
    return n;
}

void writer_get_stats(const struct writer *w, struct writer_stats *out)
{
    *out = w->st;
    out->buffered_rows = w->rows + w->nlogs;
    out->buffered_statements = w->nops;
}
