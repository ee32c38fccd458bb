/*
 * assets — see assets.h.
 *
 * A read holds no reference to anything but the cache it refreshes. When
 * it cannot even ask the database, its answer waits for a zero-delay loop
 * timer, so that the callback never runs inside the call that started the
 * read (the starter has not yet stored the handle).
 */
#include "assets.h"
#include "log.h"
#include "sql.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct asset_list {
    int refs;
    size_t n;
    char checked_at[40];
    struct asset a[];
};

struct asset_cache {
    struct due_params due;
    struct asset_list *list; /* NULL before the first successful read */
    char (*ccy)[4];          /* currencies needing a USD rate */
    size_t nccy;
};

struct assets_read {
    struct loop *loop;
    struct dbconn *db;
    struct asset_cache *ac; /* NULL for a read of named assets */
    assets_cb cb;
    void *cls;
    int cancelled; /* the owner went away; the database still answers us */
    int64_t timer; /* a deferred answer, or 0 */
    char why[300]; /* the deferred answer's reason */
};

/* ---- lists and the cache ----------------------------------------------- */

static struct asset_list *assets_list_new(size_t n)
{
    struct asset_list *l = calloc(1, sizeof *l + n * sizeof l->a[0]);
    if (l != NULL)
        l->refs = 1;
    return l;
}

size_t asset_list_len(const struct asset_list *l)
{
    return l ? l->n : 0;
}

const struct asset *asset_list_at(const struct asset_list *l, size_t i)
{
    return &l->a[i];
}

struct asset_list *asset_list_ref(struct asset_list *l)
{
    if (l)
        l->refs++;
    return l;
}

void asset_list_release(struct asset_list *l)
{
    if (l != NULL && --l->refs == 0)
        free(l);
}

const char *asset_list_checked_at(const struct asset_list *l)
{
    return l ? l->checked_at : "";
}

struct asset_cache *asset_cache_new(void)
{
    struct asset_cache *ac = calloc(1, sizeof *ac);
    if (ac != NULL) {
        /* every asset due at every read, until the scheduler says more */
        ac->due = (struct due_params){.check_s = 1, .default_s = 0, .bounds_json = "{}"};
    }
    return ac;
}

void asset_cache_set_due(struct asset_cache *ac, const struct due_params *p)
{
    ac->due = *p;
}

void asset_cache_free(struct asset_cache *ac)
{
    if (ac == NULL)
        return;
    asset_list_release(ac->list);
    free(ac->ccy);
    free(ac);
}

int asset_cache_count(const struct asset_cache *ac)
{
    return ac->list ? (int)ac->list->n : -1;
}

/* ---- reading rows ------------------------------------------------------ */

static void assets_copy_field(char *dst, size_t n, const PGresult *r, int row, int col)
{
    util_strlcpy(dst, PQgetvalue(r, row, col), n);
}

/* Rows of SQL_TRACKED_ASSETS / SQL_ASSETS_BY_SYMBOL → a new list (one
 * reference for the caller), or NULL when memory ran out. A row whose id
 * does not parse is left out. */
static struct asset_list *assets_parse(const PGresult *res)
{
    size_t rows = (size_t)PQntuples(res);
    struct asset_list *l = assets_list_new(rows);
    if (l == NULL)
        return NULL;
    for (size_t i = 0; i < rows; i++) {
        int row = (int)i;
        struct asset *x = &l->a[l->n];
        if (util_parse_i64(PQgetvalue(res, row, 0), 1, INT64_MAX, &x->id) != 0)
            continue;
        assets_copy_field(x->symbol, sizeof x->symbol, res, row, 1);
        assets_copy_field(x->type, sizeof x->type, res, row, 2);
        assets_copy_field(x->currency, sizeof x->currency, res, row, 3);
        assets_copy_field(x->provider, sizeof x->provider, res, row, 4);
        assets_copy_field(x->psym, sizeof x->psym, res, row, 5);
        assets_copy_field(x->sources, sizeof x->sources, res, row, 8);
        if (util_parse_i64(PQgetvalue(res, row, 6), -1, INT64_MAX, &x->age_s) != 0)
            x->age_s = -1;
        x->last_price = PQgetisnull(res, row, 7) ? 0 : strtod(PQgetvalue(res, row, 7), NULL);
        x->due_known = 1;
        x->due = strcmp(PQgetvalue(res, row, 9), "t") == 0;
        x->market_closed = strcmp(PQgetvalue(res, row, 10), "t") == 0;
        x->never = strcmp(PQgetvalue(res, row, 12), "t") == 0;
        if (l->n == 0 && !PQgetisnull(res, row, 11))
            util_strlcpy(l->checked_at, PQgetvalue(res, row, 11), sizeof l->checked_at);
        l->n++;
    }
    return l;
}

struct asset_list *assets_from_rows(const PGresult *res)
{
    return assets_parse(res);
}

/* ---- answering --------------------------------------------------------- */

/* Runs the callback (unless cancelled) and frees the read. list is a
 * reference handed to the callback. */
static void assets_answer(struct assets_read *r, struct asset_list *list, const char *note,
                          const char *error)
{
    if (!r->cancelled) {
        struct asset_answer a = {.list = list, .note = note, .error = error};
        if (r->ac != NULL) {
            a.ccy = (const char(*)[4])r->ac->ccy;
            a.nccy = r->ac->nccy;
        }
        r->cb(&a, r->cls);
    } else {
        asset_list_release(list);
    }
    free(r);
}

/* The database could not give the tracked list: the cache answers. */
static void assets_answer_cached(struct assets_read *r, const char *err)
{
    char text[300];
    if (r->ac->list != NULL) {
        snprintf(text, sizeof text, "database unavailable (%s); using the last known asset list",
                 err);
        assets_answer(r, asset_list_ref(r->ac->list), text, NULL);
    } else {
        snprintf(text, sizeof text, "cannot read tracked assets: %s", err);
        assets_answer(r, NULL, NULL, text);
    }
}

static int64_t assets_on_deferred(struct loop *l, void *cls)
{
    (void)l;
    struct assets_read *r = cls;
    r->timer = 0;
    if (r->ac != NULL)
        assets_answer_cached(r, r->why);
    else
        assets_answer(r, NULL, NULL, r->why);
    return LOOP_TIMER_STOP;
}

/* Answers from the loop with why as the reason the database did not.
 * Returns r, or NULL (no timer: r is freed and its callback never runs). */
static struct assets_read *assets_defer(struct assets_read *r, const char *why)
{
    util_strlcpy(r->why, why, sizeof r->why);
    r->timer = loop_timer_add(r->loop, 0, assets_on_deferred, r);
    if (r->timer > 0)
        return r;
    free(r);
    return NULL;
}

static void assets_on_currencies(const PGresult *res, enum db_status st, const char *err, void *cls)
{
    struct assets_read *r = cls;
    struct asset_cache *ac = r->ac;
    if (st == DB_OK) {
        size_t n = (size_t)PQntuples(res);
        char(*ccy)[4] = n ? calloc(n, sizeof *ccy) : NULL;
        if (n == 0 || ccy != NULL) {
            for (size_t i = 0; i < n; i++)
                assets_copy_field(ccy[i], sizeof ccy[i], res, (int)i, 0);
            free(ac->ccy);
            ac->ccy = ccy;
            ac->nccy = n;
        }
    } else {
        log_msg(LOG_WARNING, "cycle: cannot read currencies in use (%s); using the last list", err);
    }
    assets_answer(r, asset_list_ref(ac->list), NULL, NULL);
}

static void assets_on_tracked(const PGresult *res, enum db_status st, const char *err, void *cls)
{
    struct assets_read *r = cls;
    struct asset_cache *ac = r->ac;
    if (st == DB_OK) {
        struct asset_list *l = assets_parse(res);
        if (l != NULL) {
            asset_list_release(ac->list);
            ac->list = l;
            if (dbconn_query(r->db, SQL_CURRENCIES, 0, NULL, assets_on_currencies, r) == 0)
                return;
            assets_answer(r, asset_list_ref(l), NULL, NULL);
            return;
        }
        err = "out of memory reading the asset list";
    }
    assets_answer_cached(r, err);
}

static void assets_on_named(const PGresult *res, enum db_status st, const char *err, void *cls)
{
    struct assets_read *r = cls;
    if (st != DB_OK) {
        assets_answer(r, NULL, NULL, err);
        return;
    }
    struct asset_list *l = assets_parse(res);
    assets_answer(r, l, NULL, l ? NULL : "out of memory reading the asset list");
}

/* ---- starting ---------------------------------------------------------- */

static struct assets_read *assets_read_new(struct loop *l, struct dbconn *db,
                                           struct asset_cache *ac, assets_cb cb, void *cls)
{
    struct assets_read *r = malloc(sizeof *r);
    if (r != NULL)
        *r = (struct assets_read){.loop = l, .db = db, .ac = ac, .cb = cb, .cls = cls};
    return r;
}

struct assets_read *assets_read_tracked(struct loop *l, struct dbconn *db, struct asset_cache *ac,
                                        assets_cb cb, void *cls)
{
    struct assets_read *r = assets_read_new(l, db, ac, cb, cls);
    if (r == NULL)
        return NULL;
    char check[24], def[24];
    snprintf(check, sizeof check, "%lld", (long long)ac->due.check_s);
    snprintf(def, sizeof def, "%lld", (long long)ac->due.default_s);
    const char *params[4] = {check, ac->due.bounds_json, def,
                             ac->due.market_hours ? "true" : "false"};
    if (dbconn_query(db, SQL_TRACKED_ASSETS, 4, params, assets_on_tracked, r) == 0)
        return r;
    return assets_defer(r, dbconn_last_error(db)[0] ? dbconn_last_error(db)
                                                    : "database not connected");
}

struct assets_read *assets_read_named(struct loop *l, struct dbconn *db, const char *symbols_json,
                                      assets_cb cb, void *cls)
{
    struct assets_read *r = assets_read_new(l, db, NULL, cb, cls);
    if (r == NULL)
        return NULL;
    const char *params[1] = {symbols_json};
    if (dbconn_query(db, SQL_ASSETS_BY_SYMBOL, 1, params, assets_on_named, r) == 0)
        return r;
    return assets_defer(r, "database queue full");
}

void assets_read_cancel(struct assets_read *r)
{
    if (r == NULL)
        return;
    if (r->timer > 0) {
        loop_timer_del(r->loop, r->timer);
        free(r);
        return;
    }
    /* the query is queued and will call back: it frees r then */
    r->cancelled = 1;
}
