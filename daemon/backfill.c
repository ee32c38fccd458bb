/*
 * backfill — see backfill.h.
 *
 * An item is one asset being backfilled; the queue's waiter points at it.
 * The series arrives first, from the transport (backfill_on_series), and
 * waits in the store under its key until the item's quote says how the
 * request ended; then the item writes it (or its failure) and goes.
 */
#include "backfill.h"
#include "jbuf.h"
#include "log.h"
#include "provider.h"
#include "sources.h"
#include "sql.h"

#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>

/* How often tracked assets are looked at for a missing history: a track
 * whose NOTIFY was missed, and failures due for their retry (an hour
 * after, in SQL_BACKFILL_TODO), start within this. */
#define BACKFILL_LOOK_MS 60000
/* Failures logged one by one per round; the rest are counted. */
#define BACKFILL_LOG_FAILURES 10

struct bf_item {
    struct backfill *b;
    int64_t asset_id;
    char symbol[33];
    char currency[4];
    char provider[16];
    char psym[SOURCES_SYMBOL_MAX];
    TAILQ_ENTRY(bf_item) link;
};

/* A series that came before its key's waiter ran. */
struct bf_stored {
    char provider[16];
    char psym[SOURCES_SYMBOL_MAX];
    struct history_series *s;
    TAILQ_ENTRY(bf_stored) link;
};

TAILQ_HEAD(bf_items, bf_item);
TAILQ_HEAD(bf_store, bf_stored);

struct backfill {
    struct daemon *d;
    struct bf_items items; /* in the queue */
    struct bf_store store;
    int looking; /* SQL_BACKFILL_TODO in flight */
    int again;   /* poked while looking: look again after */
    int64_t timer;
    struct backfill_info info;
    int64_t round_started_mono;
    int64_t logged_failures;
};

/* ---- the round ------------------------------------------------------ */

static void bf_on_recalc(int written, const PGresult *res, void *cls)
{
    (void)res;
    struct backfill *b = cls;
    if (!written)
        writer_log(b->d->writer, LOG_WARNING, 0, NULL,
                   "Portfolio recalculation after the backfill not done (database away)");
}

/* Every item of the round has answered. */
static void bf_round_end(struct backfill *b)
{
    b->info.active = 0;
    double secs = (double)(loop_now(b->d->loop) - b->round_started_mono) / 1000.0;
    json_object *ctx = json_object_new_object();
    json_object_object_add(ctx, "assets", json_object_new_int64(b->info.total));
    json_object_object_add(ctx, "failed", json_object_new_int64(b->info.failed));
    json_object_object_add(ctx, "closes", json_object_new_int64(b->info.closes));
    json_object_object_add(ctx, "duration_seconds", json_object_new_double(secs));
    writer_log(b->d->writer, b->info.failed ? LOG_WARNING : LOG_INFO, 0, ctx,
               "Backfill done: %lld of %lld assets got their daily history (%lld closes), %lld "
               "failed, in %.2fs",
               (long long)(b->info.total - b->info.failed), (long long)b->info.total,
               (long long)b->info.closes, (long long)b->info.failed, secs);
    if (b->info.total > b->info.failed) {
        /* the day/week/month/year changes exist from now on */
        const char *params[2] = {b->d->instance_id, "0"};
        if (writer_submit(b->d->writer, WRITE_DATA, SQL_RECALC_PORTFOLIOS, 2, params, 1,
                          bf_on_recalc, b) != 0)
            log_msg(LOG_WARNING, "backfill: portfolio recalculation not queued (out of memory)");
    }
}

static void bf_item_done(struct bf_item *it, int failed)
{
    struct backfill *b = it->b;
    TAILQ_REMOVE(&b->items, it, link);
    free(it);
    b->info.done++;
    if (failed)
        b->info.failed++;
    if (TAILQ_EMPTY(&b->items) && !b->looking)
        bf_round_end(b);
}

/* ---- writing -------------------------------------------------------- */

static void bf_on_written(int written, const PGresult *res, void *cls)
{
    (void)res;
    struct backfill *b = cls;
    if (!written)
        log_msg(LOG_WARNING, "backfill: a history batch was dropped (database away, buffer full)");
    (void)b;
}

static void bf_write_failure(struct bf_item *it, const char *why)
{
    struct backfill *b = it->b;
    struct jbuf j;
    jbuf_init(&j);
    jbuf_obj(&j);
    jbuf_key(&j, "asset_id");
    jbuf_int(&j, it->asset_id);
    jbuf_key(&j, "error");
    jbuf_str(&j, why);
    jbuf_obj_end(&j);
    char *json = jbuf_take(&j);
    if (json == NULL || writer_submit_take(b->d->writer, WRITE_DATA, SQL_BACKFILL_FAILED, json, 1,
                                           0, bf_on_written, b) != 0)
        free(json);
    if (b->logged_failures++ < BACKFILL_LOG_FAILURES) {
        json_object *ctx = json_object_new_object();
        json_object_object_add(ctx, "symbol", json_object_new_string(it->symbol));
        json_object_object_add(ctx, "provider", json_object_new_string(it->provider));
        json_object_object_add(ctx, "error", json_object_new_string(why));
        writer_log(b->d->writer, LOG_WARNING, 0, ctx,
                   "Backfill of %s failed: %s (retried in an hour)", it->symbol, why);
    }
}

/* The series as SQL_BACKFILL_STORE takes it. NULL when out of memory. */
static char *bf_rows_json(const struct bf_item *it, const struct history_series *s)
{
    struct jbuf j;
    jbuf_init(&j);
    jbuf_obj(&j);
    jbuf_key(&j, "asset_id");
    jbuf_int(&j, it->asset_id);
    jbuf_key(&j, "currency");
    jbuf_str(&j, s->currency);
    jbuf_key(&j, "source");
    jbuf_str(&j, it->provider);
    jbuf_key(&j, "closes");
    jbuf_int(&j, (int64_t)s->n);
    jbuf_key(&j, "rows");
    jbuf_arr(&j);
    for (size_t k = 0; k < s->n; k++) {
        char day[16], t[32];
        history_fmt_day(s->p[k].day, day, sizeof day);
        util_fmt_time(s->p[k].price_time * 1000, t, sizeof t);
        jbuf_obj(&j);
        jbuf_key(&j, "day");
        jbuf_str(&j, day);
        jbuf_key(&j, "close");
        jbuf_num(&j, s->p[k].close);
        jbuf_key(&j, "t");
        jbuf_str(&j, t);
        jbuf_obj_end(&j);
    }
    jbuf_arr_end(&j);
    jbuf_obj_end(&j);
    return jbuf_take(&j);
}

/* Takes the stored series of provider:psym out of the store, or NULL. */
static struct history_series *bf_take_series(struct backfill *b, const char *provider,
                                             const char *psym)
{
    struct bf_stored *st;
    TAILQ_FOREACH(st, &b->store, link)
    {
        if (strcmp(st->provider, provider) == 0 && strcmp(st->psym, psym) == 0) {
            struct history_series *s = st->s;
            TAILQ_REMOVE(&b->store, st, link);
            free(st);
            return s;
        }
    }
    return NULL;
}

static void bf_on_quote(const struct quote *q, void *cls)
{
    struct bf_item *it = cls;
    struct backfill *b = it->b;
    struct history_series *s = bf_take_series(b, it->provider, it->psym);
    char why[240];
    int failed = 1;
    if (q->kind == QUOTE_CANCELLED) {
        history_free(s);
        bf_item_done(it, 1); /* shutting down: nothing written, tried again at start */
        return;
    }
    if (q->kind != QUOTE_OK) {
        snprintf(why, sizeof why, "%s", q->error[0] ? q->error : "unknown error");
    } else if (s == NULL) {
        snprintf(why, sizeof why, "%s: the history answer was lost (out of memory)", it->provider);
    } else {
        history_to_major(s);
        if (strcmp(s->currency, it->currency) != 0) {
            snprintf(why, sizeof why,
                     "%s: currency mismatch: history in %.7s, asset is priced in %s", it->provider,
                     s->currency, it->currency);
        } else {
            char *json = bf_rows_json(it, s);
            if (json != NULL && writer_submit_take(b->d->writer, WRITE_DATA, SQL_BACKFILL_STORE,
                                                   json, s->n, 0, bf_on_written, b) == 0) {
                b->info.closes += (int64_t)s->n;
                failed = 0;
            } else {
                free(json);
                snprintf(why, sizeof why, "out of memory writing the history");
            }
        }
    }
    if (failed)
        bf_write_failure(it, why);
    history_free(s);
    bf_item_done(it, failed);
}

void backfill_on_series(const char *provider, const char *symbol, struct history_series *s,
                        void *cls)
{
    struct backfill *b = cls;
    /* a retried request answers again: the newer answer replaces the older */
    history_free(bf_take_series(b, provider, symbol));
    struct bf_stored *st = calloc(1, sizeof *st);
    if (st == NULL) {
        history_free(s); /* the item then fails as "lost" */
        return;
    }
    util_strlcpy(st->provider, provider, sizeof st->provider);
    util_strlcpy(st->psym, symbol, sizeof st->psym);
    st->s = s;
    TAILQ_INSERT_TAIL(&b->store, st, link);
}

/* ---- looking -------------------------------------------------------- */

static int bf_known(const struct backfill *b, int64_t id)
{
    const struct bf_item *it;
    TAILQ_FOREACH(it, &b->items, link)
    {
        if (it->asset_id == id)
            return 1;
    }
    return 0;
}

/* The first of the asset's sources with a history request, into it. */
static int bf_choose_source(const struct backfill *b, struct bf_item *it, const char *type,
                            const char *provider, const char *psym, const char *override, char *why,
                            size_t whylen)
{
    struct source_choice ch[SOURCES_MAX];
    char err[200];
    size_t n = sources_resolve(b->d->sources, sources_class_of(type), provider, psym, override, ch,
                               err, sizeof err);
    for (size_t i = 0; i < n; i++) {
        const struct provider *p = provider_find(ch[i].provider);
        if (p != NULL && p->history_url != NULL && p->history_parse != NULL) {
            util_strlcpy(it->provider, ch[i].provider, sizeof it->provider);
            util_strlcpy(it->psym, ch[i].symbol, sizeof it->psym);
            return 0;
        }
    }
    snprintf(why, whylen, "%s",
             n == 0 ? err : "none of its sources has a daily history (yahoo, coingecko do)");
    return -1;
}

static void bf_start_item(struct backfill *b, const PGresult *res, int row)
{
    int64_t id;
    if (util_parse_i64(PQgetvalue(res, row, 0), 1, INT64_MAX, &id) != 0 || bf_known(b, id))
        return;
    struct bf_item *it = calloc(1, sizeof *it);
    if (it == NULL)
        return; /* found again at the next look */
    it->b = b;
    it->asset_id = id;
    util_strlcpy(it->symbol, PQgetvalue(res, row, 1), sizeof it->symbol);
    util_strlcpy(it->currency, PQgetvalue(res, row, 3), sizeof it->currency);
    char why[240];
    if (!b->info.active) {
        b->info = (struct backfill_info){.active = 1};
        b->round_started_mono = loop_now(b->d->loop);
        b->logged_failures = 0;
    }
    b->info.total++;
    TAILQ_INSERT_TAIL(&b->items, it, link);
    if (bf_choose_source(b, it, PQgetvalue(res, row, 2), PQgetvalue(res, row, 4),
                         PQgetvalue(res, row, 5), PQgetvalue(res, row, 6), why, sizeof why) != 0) {
        util_strlcpy(it->provider, PQgetvalue(res, row, 4), sizeof it->provider);
        bf_write_failure(it, why);
        bf_item_done(it, 1);
        return;
    }
    if (queue_submit_history(b->d->queue, it->provider, it->psym, bf_on_quote, it) != 0) {
        bf_write_failure(it, "could not queue the history request");
        bf_item_done(it, 1);
    }
}

static void bf_on_todo(const PGresult *res, enum db_status st, const char *err, void *cls)
{
    struct backfill *b = cls;
    b->looking = 0;
    if (st != DB_OK) {
        log_msg(LOG_DEBUG, "backfill: cannot look for assets without history: %s", err);
    } else {
        int n = PQntuples(res);
        int64_t before = b->info.active ? b->info.total : 0;
        for (int i = 0; i < n && !b->d->stopping; i++)
            bf_start_item(b, res, i);
        int64_t added = (b->info.active ? b->info.total : 0) - before;
        if (added > 0) {
            json_object *ctx = json_object_new_object();
            json_object_object_add(ctx, "assets", json_object_new_int64(added));
            writer_log(b->d->writer, LOG_INFO, 0, ctx,
                       "Backfill: %lld tracked assets have no daily history yet; fetching it",
                       (long long)added);
        }
    }
    if (b->info.active && TAILQ_EMPTY(&b->items))
        bf_round_end(b);
    if (b->again) {
        b->again = 0;
        backfill_poke(b);
    }
}

void backfill_poke(struct backfill *b)
{
    if (b->d->stopping)
        return;
    if (b->looking) {
        b->again = 1;
        return;
    }
    if (dbconn_query(b->d->db, SQL_BACKFILL_TODO, 0, NULL, bf_on_todo, b) == 0)
        b->looking = 1;
}

static int64_t bf_on_timer(struct loop *l, void *cls)
{
    (void)l;
    backfill_poke(cls);
    return BACKFILL_LOOK_MS;
}

/* ---- lifetime ------------------------------------------------------- */

struct backfill *backfill_new(struct daemon *d)
{
    struct backfill *b = calloc(1, sizeof *b);
    if (b == NULL)
        return NULL;
    b->d = d;
    TAILQ_INIT(&b->items);
    TAILQ_INIT(&b->store);
    return b;
}

int backfill_setup(struct backfill *b)
{
    b->timer = loop_timer_add(b->d->loop, BACKFILL_LOOK_MS, bf_on_timer, b);
    return b->timer > 0 ? 0 : -1;
}

void backfill_free(struct backfill *b)
{
    if (b == NULL)
        return;
    struct bf_item *it;
    while ((it = TAILQ_FIRST(&b->items)) != NULL) {
        TAILQ_REMOVE(&b->items, it, link);
        free(it);
    }
    struct bf_stored *st;
    while ((st = TAILQ_FIRST(&b->store)) != NULL) {
        TAILQ_REMOVE(&b->store, st, link);
        history_free(st->s);
        free(st);
    }
    free(b);
}

void backfill_get(const struct backfill *b, struct backfill_info *out)
{
    *out = b->info;
}
