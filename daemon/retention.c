/*
 * retention — see retention.h.
 */
#include "retention.h"
#include "log.h"
#include "sql.h"

#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>

/* Rows per DELETE: small enough to take milliseconds. */
#define RETAIN_BATCH 5000
#define RETAIN_FIRST_MS 2000
#define RETAIN_EVERY_MS (24LL * 3600 * 1000)
#define RETAIN_RETRY_MS 60000

static const char *const tables[] = {SQL_RETAIN_LOGS, SQL_RETAIN_UPDATES, SQL_RETAIN_STATS};
static const char *const names[] = {"fetcher_logs", "price_update_log", "fetcher_statistics"};

struct retention {
    struct daemon *d;
    int64_t timer;
    int running;
    size_t table;
    int64_t deleted[3];
};

static void ret_step(struct retention *r);

static void ret_report(struct retention *r)
{
    r->running = 0;
    int64_t total = r->deleted[0] + r->deleted[1] + r->deleted[2];
    json_object *ctx = json_object_new_object();
    for (size_t i = 0; i < 3; i++)
        json_object_object_add(ctx, names[i], json_object_new_int64(r->deleted[i]));
    json_object_object_add(ctx, "retention_days", json_object_new_int64(cfg->log_retention_days));
    writer_log(r->d->writer, LOG_INFO, 0, ctx, "Retention: deleted %lld rows older than %lld days",
               (long long)total, (long long)cfg->log_retention_days);
}

static void ret_on_deleted(const PGresult *res, enum db_status st, const char *err, void *cls)
{
    struct retention *r = cls;
    if (st != DB_OK) {
        log_msg(LOG_WARNING, "retention: %s; trying again later", err);
        r->running = 0;
        loop_timer_reset(r->d->loop, r->timer, RETAIN_RETRY_MS);
        return;
    }
    int64_t n = 0;
    if (util_parse_i64(PQcmdTuples((PGresult *)res), 0, INT64_MAX, &n) != 0)
        n = 0;
    r->deleted[r->table] += n;
    if (n < RETAIN_BATCH)
        r->table++;
    if (r->table == 3)
        ret_report(r);
    else
        ret_step(r);
}

static void ret_step(struct retention *r)
{
    char days[24], batch[24];
    snprintf(days, sizeof days, "%lld", (long long)cfg->log_retention_days);
    snprintf(batch, sizeof batch, "%d", RETAIN_BATCH);
    const char *params[2] = {days, batch};
    if (dbconn_query(r->d->db, tables[r->table], 2, params, ret_on_deleted, r) != 0) {
        r->running = 0;
        loop_timer_reset(r->d->loop, r->timer, RETAIN_RETRY_MS);
    }
}

static int64_t ret_on_timer(struct loop *l, void *cls)
{
    (void)l;
    struct retention *r = cls;
    if (r->running || r->d->stopping)
        return RETAIN_EVERY_MS;
    r->running = 1;
    r->table = 0;
    r->deleted[0] = r->deleted[1] = r->deleted[2] = 0;
    ret_step(r);
    /* a step that could not even be queued retries soon, not in a day */
    return r->running ? RETAIN_EVERY_MS : RETAIN_RETRY_MS;
}

struct retention *retention_setup(struct daemon *d)
{
    struct retention *r = calloc(1, sizeof *r);
    if (r == NULL)
        return NULL;
    r->d = d;
    r->timer = loop_timer_add(d->loop, RETAIN_FIRST_MS, ret_on_timer, r);
    if (r->timer < 0) {
        free(r);
        return NULL;
    }
    return r;
}

void retention_free(struct retention *r)
{
    if (r == NULL)
        return;
    loop_timer_del(r->d->loop, r->timer);
    free(r);
}
