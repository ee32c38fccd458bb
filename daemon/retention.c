/*
 * retention — see retention.h.
 */
#include "retention.h"
#include "log.h"
#include "sql.h"

#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Rows per DELETE: small enough to take milliseconds. */
#define RETAIN_BATCH 5000
#define RETAIN_FIRST_MS 2000
#define RETAIN_EVERY_MS (24LL * 3600 * 1000)
#define RETAIN_RETRY_MS 60000
/* Partitions are checked hourly: a day ahead is created 3 days early, so
 * even a daemon away for days finds its partitions there when it returns
 * (and a row without one waits in the default partition, never lost). */
#define ENSURE_FIRST_MS 1000
#define ENSURE_EVERY_MS (3600LL * 1000)
#define ENSURE_RETRY_MS 60000

/* What goes, in this order: the monitoring tables after LOG_RETENTION_DAYS,
 * intraday prices after PRICE_INTRADAY_DAYS. A partitioned table goes one
 * day partition at a time in one statement, whose answer says how many
 * rows went; the others in batches of RETAIN_BATCH rows until a batch
 * comes back short. */
static const struct ret_table {
    const char *sql, *name;
    int intraday;
    int partitioned;
} tables[] = {
    {SQL_RETAIN_LOGS, "fetcher_logs", 0, 1},
    {SQL_RETAIN_UPDATES, "price_update_log", 0, 1},
    {SQL_RETAIN_STATS, "fetcher_statistics", 0, 0},
    {SQL_RETAIN_PRICES, "asset_prices", 1, 0},
};
#define RET_NTABLES (sizeof tables / sizeof tables[0])

static int64_t ret_days(const struct ret_table *t)
{
    return t->intraday ? cfg->price_intraday_days : cfg->log_retention_days;
}

struct retention {
    struct daemon *d;
    int64_t timer, ensure_timer;
    int running, ensuring;
    size_t table;
    int64_t deleted[RET_NTABLES];
};

static void ret_step(struct retention *r);

static void ret_report(struct retention *r)
{
    r->running = 0;
    int64_t total = 0;
    json_object *ctx = json_object_new_object();
    for (size_t i = 0; i < RET_NTABLES; i++) {
        total += r->deleted[i];
        json_object_object_add(ctx, tables[i].name, json_object_new_int64(r->deleted[i]));
    }
    json_object_object_add(ctx, "retention_days", json_object_new_int64(cfg->log_retention_days));
    json_object_object_add(ctx, "price_intraday_days",
                           json_object_new_int64(cfg->price_intraday_days));
    writer_log(r->d->writer, LOG_INFO, 0, ctx,
               "Retention: deleted %lld rows older than %lld days (intraday prices: %lld days)",
               (long long)total, (long long)cfg->log_retention_days,
               (long long)cfg->price_intraday_days);
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
    const struct ret_table *t = &tables[r->table];
    const char *count = t->partitioned ? (PQntuples(res) == 1 ? PQgetvalue(res, 0, 0) : "")
                                       : PQcmdTuples((PGresult *)res);
    if (util_parse_i64(count, 0, INT64_MAX, &n) != 0)
        n = 0;
    r->deleted[r->table] += n;
    if (t->partitioned || n < RETAIN_BATCH)
        r->table++;
    if (r->table == RET_NTABLES)
        ret_report(r);
    else
        ret_step(r);
}

static void ret_step(struct retention *r)
{
    char days[24], batch[24];
    snprintf(days, sizeof days, "%lld", (long long)ret_days(&tables[r->table]));
    snprintf(batch, sizeof batch, "%d", RETAIN_BATCH);
    /* partitioned: $2 is "now", NULL for the database's own */
    const char *params[2] = {days, tables[r->table].partitioned ? NULL : batch};
    if (dbconn_query(r->d->db, tables[r->table].sql, 2, params, ret_on_deleted, r) != 0) {
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
    memset(r->deleted, 0, sizeof r->deleted);
    ret_step(r);
    /* a step that could not even be queued retries soon, not in a day */
    return r->running ? RETAIN_EVERY_MS : RETAIN_RETRY_MS;
}

static void ret_on_ensured(const PGresult *res, enum db_status st, const char *err, void *cls)
{
    struct retention *r = cls;
    r->ensuring = 0;
    if (st != DB_OK) {
        log_msg(LOG_WARNING, "partitions: %s; trying again in %d s", err, ENSURE_RETRY_MS / 1000);
        loop_timer_reset(r->d->loop, r->ensure_timer, ENSURE_RETRY_MS);
        return;
    }
    int64_t made = 0;
    if (PQntuples(res) == 1 && util_parse_i64(PQgetvalue(res, 0, 0), 0, INT64_MAX, &made) == 0 &&
        made > 0)
        log_msg(LOG_INFO, "partitions: %lld created (up to %d days ahead)", (long long)made,
                RETENTION_DAYS_AHEAD);
}

static int64_t ret_on_ensure_timer(struct loop *l, void *cls)
{
    (void)l;
    struct retention *r = cls;
    if (r->ensuring || r->d->stopping)
        return ENSURE_EVERY_MS;
    char ahead[16];
    snprintf(ahead, sizeof ahead, "%d", RETENTION_DAYS_AHEAD);
    const char *params[1] = {ahead};
    if (dbconn_query(r->d->db, SQL_PARTITIONS_ENSURE, 1, params, ret_on_ensured, r) != 0)
        return ENSURE_RETRY_MS; /* the database is away: soon, not in an hour */
    r->ensuring = 1;
    return ENSURE_EVERY_MS;
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
    r->ensure_timer = loop_timer_add(d->loop, ENSURE_FIRST_MS, ret_on_ensure_timer, r);
    if (r->ensure_timer < 0) {
        loop_timer_del(d->loop, r->timer);
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
    loop_timer_del(r->d->loop, r->ensure_timer);
    free(r);
}
