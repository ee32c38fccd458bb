/*
 * ep_status — is fetcherd running, and how well: /api/fetcher/status,
 * /api/fetcher/statistics and /api/fetcher/queue.
 *
 * "Running" is read from heartbeats, never guessed from the age of the last
 * price: an instance is live when its row says state = 'running' and its
 * last heartbeat is younger than the live window (three missed heartbeats,
 * at least 15 s). A live instance whose detail reports offline upstreams, a
 * database it cannot reach, or a degraded_reason makes the status
 * "degraded"; no live instance means "stopped"; a running one with nothing
 * tracked is "idle" (idle_reason "no assets tracked").
 */
#include "apidb.h"
#include "config.h"
#include "handlers.h"
#include "heartbeat_schema.h"
#include "status_rule.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Columns of SQL_INSTANCES. */
enum {
    I_ID,
    I_HOST,
    I_PID,
    I_STARTED,
    I_HEARTBEAT,
    I_AGE,
    I_STATE,
    I_PHASE,
    I_INTERVAL,
    I_NEXT_IN,
    I_CYCLE_ID,
    I_CYCLE_STARTED,
    I_CYCLE_DONE,
    I_CYCLE_TOTAL,
    I_TRACKED,
    I_QUEUE,
    I_DETAIL,
    I_UPTIME,
    I_LIVE,
    I_VERSION,
    I_STOPPED_AT,
    I_ROLE,
    I_SHARE
};

int ep_live_window_s(void)
{
    return status_live_window_s(cfg->heartbeat_s);
}

static struct json_object *col_str(const PGresult *r, int row, int col)
{
    return PQgetisnull(r, row, col) ? NULL : json_object_new_string(PQgetvalue(r, row, col));
}

static struct json_object *col_int(const PGresult *r, int row, int col)
{
    if (PQgetisnull(r, row, col))
        return NULL;
    return json_object_new_int64(strtoll(PQgetvalue(r, row, col), NULL, 10));
}

/* numeric → JSON number, written exactly as PostgreSQL printed it. */
static struct json_object *col_num(const PGresult *r, int row, int col)
{
    if (PQgetisnull(r, row, col))
        return NULL;
    const char *s = PQgetvalue(r, row, col);
    return json_object_new_double_s(strtod(s, NULL), s);
}

static int col_true(const PGresult *r, int row, int col)
{
    return !PQgetisnull(r, row, col) && PQgetvalue(r, row, col)[0] == 't';
}

/* Parses a jsonb column; a non-object (or garbage) becomes an empty object:
 * the daemon's detail is advice, not something to fail a request over. */
static struct json_object *col_object(const PGresult *r, int row, int col)
{
    struct json_object *o = NULL;
    if (!PQgetisnull(r, row, col))
        o = json_tokener_parse(PQgetvalue(r, row, col));
    if (o != NULL && !json_object_is_type(o, json_type_object)) {
        json_object_put(o);
        o = NULL;
    }
    return o != NULL ? o : json_object_new_object();
}

/* The queue object of column col, as heartbeat_schema.h says readers see
 * it (r NULL: all counters zero). */
static struct json_object *queue_object(const PGresult *r, int row, int col)
{
    struct json_object *src = r != NULL ? col_object(r, row, col) : NULL;
    struct json_object *q = hbs_read_queue(src);
    json_object_put(src);
    return q;
}

static struct json_object *instance_object(const PGresult *r, int row)
{
    struct json_object *o = json_object_new_object();
    const char *status = "stopped";
    if (col_true(r, row, I_LIVE)) {
        struct json_object *detail = col_object(r, row, I_DETAIL);
        status = status_name(status_evaluate(1, detail, NULL));
        json_object_put(detail);
    } else if (strcmp(PQgetvalue(r, row, I_STATE), "running") == 0) {
        status = "stale"; /* says running, but its heartbeats stopped */
    }
    json_object_object_add(o, "instance_id", col_str(r, row, I_ID));
    json_object_object_add(o, "host", col_str(r, row, I_HOST));
    json_object_object_add(o, "pid", col_int(r, row, I_PID));
    json_object_object_add(o, "version", col_str(r, row, I_VERSION));
    json_object_object_add(o, "started_at", col_str(r, row, I_STARTED));
    json_object_object_add(o, "last_heartbeat", col_str(r, row, I_HEARTBEAT));
    json_object_object_add(o, "heartbeat_age_seconds", col_num(r, row, I_AGE));
    json_object_object_add(o, "stopped_at", col_str(r, row, I_STOPPED_AT));
    json_object_object_add(o, "phase", col_str(r, row, I_PHASE));
    json_object_object_add(o, "status", json_object_new_string(status));
    /* several instances (daemon/fleet.h): what this one is to the fleet,
     * and how many assets it recorded in the last finished cycle */
    json_object_object_add(o, "role", col_true(r, row, I_LIVE) ? col_str(r, row, I_ROLE) : NULL);
    json_object_object_add(o, "share", col_int(r, row, I_SHARE));
    return o;
}

static struct json_object *interval_minutes(int64_t seconds)
{
    if (seconds % 60 == 0)
        return json_object_new_int64(seconds / 60);
    char s[32];
    snprintf(s, sizeof s, "%.2f", (double)seconds / 60.0);
    return json_object_new_double_s((double)seconds / 60.0, s);
}

/* The daily-history backfill's round from the live daemon's detail:
 * {active, total, done, failed} ("backfilling done of total"), or null. */
static struct json_object *backfill_object(struct json_object *detail)
{
    static const char *const keys[][2] = {
        {"backfill_total", "total"}, {"backfill_done", "done"}, {"backfill_failed", "failed"}};
    struct json_object *v = NULL;
    if (detail == NULL || !json_object_object_get_ex(detail, "backfill_active", &v))
        return NULL;
    struct json_object *b = json_object_new_object();
    json_object_object_add(b, "active", json_object_new_boolean(json_object_get_boolean(v)));
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
        int64_t n = 0;
        if (json_object_object_get_ex(detail, keys[i][0], &v))
            n = json_object_get_int64(v);
        json_object_object_add(b, keys[i][1], json_object_new_int64(n));
    }
    return b;
}

enum MHD_Result ep_status(struct MHD_Connection *conn, const struct api_request *req)
{
    (void)req;
    PGresult *inst = NULL, *sum = NULL;
    struct json_object *o = NULL;
    enum MHD_Result ret;
    char window[16];
    snprintf(window, sizeof window, "%d", ep_live_window_s());
    const char *params[] = {window};
    enum db_status st = apidb_exec(SQL_INSTANCES, params, &inst);
    if (st == DB_OK)
        st = apidb_exec(SQL_STATUS_SUMMARY, NULL, &sum);
    if (st != DB_OK) {
        ret = http_reply_db(conn, st);
        goto out;
    }
    /* The instance the status speaks for: the leader of the schedule when
     * it is live (it knows the next cycle and the shared cycle's progress),
     * else the live one with the newest heartbeat. */
    int live = -1, newest = -1;
    for (int i = 0; i < PQntuples(inst) && newest < 0; i++)
        if (col_true(inst, i, I_LIVE))
            newest = i;
    const char *leader = PQgetisnull(sum, 0, 5) ? NULL : PQgetvalue(sum, 0, 5);
    for (int i = 0; i < PQntuples(inst) && leader != NULL; i++)
        if (col_true(inst, i, I_LIVE) && strcmp(PQgetvalue(inst, i, I_ID), leader) == 0)
            live = i;
    if (live < 0)
        live = newest;

    o = json_object_new_object();
    const char *reason = NULL;
    struct json_object *detail = live >= 0 ? col_object(inst, live, I_DETAIL) : NULL;
    enum status_state state = status_evaluate(live >= 0, detail, &reason);
    const char *idle_reason = NULL;
    state = status_idle(state, strtoll(PQgetvalue(sum, 0, 0), NULL, 10), &idle_reason);
    json_object_object_add(o, "status", json_object_new_string(status_name(state)));
    json_object_object_add(o, "idle_reason",
                           idle_reason != NULL ? json_object_new_string(idle_reason) : NULL);
    /* uptime: the newest live instance's (the statistics' rule) */
    json_object_object_add(o, "uptime_seconds",
                           newest >= 0 ? col_int(inst, newest, I_UPTIME) : json_object_new_int(0));
    json_object_object_add(o, "last_update", col_str(sum, 0, 1));
    json_object_object_add(o, "next_update_in_seconds",
                           live >= 0 ? col_int(inst, live, I_NEXT_IN) : NULL);
    json_object_object_add(o, "tracked_assets_count", col_int(sum, 0, 0));
    json_object_object_add(
        o, "update_interval_minutes",
        interval_minutes(live >= 0 ? strtoll(PQgetvalue(inst, live, I_INTERVAL), NULL, 10)
                                   : cfg->fetch_interval_s));
    json_object_object_add(o, "phase", live >= 0 ? col_str(inst, live, I_PHASE) : NULL);
    struct json_object *cycle = NULL;
    if (live >= 0 && !PQgetisnull(inst, live, I_CYCLE_ID)) {
        cycle = json_object_new_object();
        json_object_object_add(cycle, "id", col_int(inst, live, I_CYCLE_ID));
        json_object_object_add(cycle, "started_at", col_str(inst, live, I_CYCLE_STARTED));
        json_object_object_add(cycle, "done", col_int(inst, live, I_CYCLE_DONE));
        json_object_object_add(cycle, "total", col_int(inst, live, I_CYCLE_TOTAL));
    }
    json_object_object_add(o, "cycle", cycle);
    json_object_object_add(o, "queue", queue_object(live >= 0 ? inst : NULL, live, I_QUEUE));
    /* We just read the database, so from here it is fine; what fetcherd
     * thinks of it is in degraded_reason. */
    json_object_object_add(o, "database", json_object_new_string("ok"));
    struct json_object *v = NULL;
    int offline = detail != NULL && json_object_object_get_ex(detail, HBS_DETAIL_OFFLINE, &v) &&
                  json_object_get_boolean(v);
    json_object_object_add(o, "offline", json_object_new_boolean(offline));
    /* fetcher_settings is the truth about pausing (the daemon's heartbeat
     * detail only echoes it, and is absent while no daemon runs). */
    json_object_object_add(o, "paused", json_object_new_boolean(col_true(sum, 0, 2)));
    json_object_object_add(o, "paused_since", col_str(sum, 0, 3));
    json_object_object_add(o, "paused_by", col_str(sum, 0, 4));
    json_object_object_add(o, "degraded_reason",
                           reason != NULL ? json_object_new_string(reason) : NULL);
    json_object_object_add(o, "backfill", backfill_object(detail));
    json_object_put(detail); /* reason pointed into it; copied above */
    json_object_object_add(o, "instance_id", live >= 0 ? col_str(inst, live, I_ID) : NULL);
    json_object_object_add(o, "leader", col_str(sum, 0, 5));
    struct json_object *list = json_object_new_array();
    for (int i = 0; i < PQntuples(inst); i++)
        json_object_array_add(list, instance_object(inst, i));
    json_object_object_add(o, "instances", list);
    ret = http_reply_obj_take(conn, MHD_HTTP_OK, o);
out:
    PQclear(inst);
    PQclear(sum);
    return ret;
}

enum MHD_Result ep_reply_document(struct MHD_Connection *conn, enum api_stmt stmt,
                                  const char *const *params, const char *not_found)
{
    PGresult *r = NULL;
    enum db_status st = apidb_exec(stmt, params, &r);
    if (st != DB_OK)
        return http_reply_db(conn, st);
    enum MHD_Result ret;
    if (PQntuples(r) < 1 || PQgetisnull(r, 0, 0))
        ret = reply_error(conn, MHD_HTTP_NOT_FOUND, NULL, not_found);
    else
        ret = http_reply_json(conn, MHD_HTTP_OK, PQgetvalue(r, 0, 0), (size_t)PQgetlength(r, 0, 0));
    PQclear(r);
    return ret;
}

enum MHD_Result ep_statistics(struct MHD_Connection *conn, const struct api_request *req)
{
    (void)req;
    char window[16];
    snprintf(window, sizeof window, "%d", ep_live_window_s());
    const char *params[] = {window};
    return ep_reply_document(conn, SQL_STATISTICS, params, "no statistics");
}

/* Adds to each of q's providers what the last finished cycle's rows say
 * it did (cyc: SQL_QUEUE's last column, borrowed; NULL: no cycle yet):
 * assets served, its share of the cycle's assets, failovers in and out. */
static void queue_add_cycle(struct json_object *q, struct json_object *cyc)
{
    struct json_object *list = NULL, *per = NULL, *assets = NULL;
    if (cyc == NULL || !json_object_object_get_ex(q, "providers", &list) ||
        !json_object_is_type(list, json_type_array) ||
        !json_object_object_get_ex(cyc, "providers", &per) ||
        !json_object_object_get_ex(cyc, "assets", &assets))
        return;
    int64_t total = json_object_get_int64(assets);
    for (size_t i = 0; i < json_object_array_length(list); i++) {
        struct json_object *p = json_object_array_get_idx(list, i), *name = NULL, *mine = NULL;
        if (!json_object_is_type(p, json_type_object) ||
            !json_object_object_get_ex(p, "name", &name))
            continue;
        json_object_object_get_ex(per, json_object_get_string(name), &mine);
        static const char *const keys[][2] = {{"served", "served_last_cycle"},
                                              {"failovers_in", "failovers_in_last_cycle"},
                                              {"failovers_out", "failovers_out_last_cycle"}};
        int64_t served = 0;
        for (size_t k = 0; k < sizeof keys / sizeof keys[0]; k++) {
            struct json_object *v = NULL;
            int64_t n = mine != NULL && json_object_object_get_ex(mine, keys[k][0], &v)
                            ? json_object_get_int64(v)
                            : 0;
            if (k == 0)
                served = n;
            json_object_object_add(p, keys[k][1], json_object_new_int64(n));
        }
        json_object_object_add(
            p, "share_last_cycle",
            json_object_new_double(total > 0 ? (double)served / (double)total : 0.0));
    }
}

enum MHD_Result ep_queue(struct MHD_Connection *conn, const struct api_request *req)
{
    (void)req;
    PGresult *r = NULL;
    char window[16];
    snprintf(window, sizeof window, "%d", ep_live_window_s());
    const char *params[] = {window};
    enum db_status st = apidb_exec(SQL_QUEUE, params, &r);
    if (st != DB_OK)
        return http_reply_db(conn, st);
    struct json_object *o = json_object_new_object();
    int live = PQntuples(r) > 0;
    json_object_object_add(o, "status", json_object_new_string(live ? "running" : "stopped"));
    json_object_object_add(o, "instance_id", live ? col_str(r, 0, 0) : NULL);
    json_object_object_add(o, "updated_at", live ? col_str(r, 0, 1) : NULL);
    json_object_object_add(o, "phase", live ? col_str(r, 0, 2) : NULL);
    struct json_object *q = queue_object(live ? r : NULL, 0, 3);
    struct json_object *cyc = live && !PQgetisnull(r, 0, 4) ? col_object(r, 0, 4) : NULL;
    queue_add_cycle(q, cyc);
    json_object_object_add(o, "queue", q);
    json_object_object_add(o, "last_cycle", cyc);
    PQclear(r);
    return http_reply_obj_take(conn, MHD_HTTP_OK, o);
}
