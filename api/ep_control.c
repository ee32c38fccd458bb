/*
 * ep_control — the write endpoints besides trigger-update:
 *
 *   POST   /api/fetcher/assets                 track an asset (201, 409)
 *   DELETE /api/fetcher/assets/{symbol}        untrack it, history kept (204, 404)
 *   POST   /api/fetcher/assets/{symbol}/refresh  NOTIFY fetcher_refresh (202, 404)
 *   POST   /api/fetcher/pause, /resume         fetcher_settings + NOTIFY (200)
 *
 * Same rule as trigger-update for who may (auth.h). Each one runs a single
 * statement (sql.c), so the change, its fetcher_logs row (INFO, the client
 * in context) and its notifications commit together or not at all. The
 * daemon learns of them through PostgreSQL only: fetcher_settings is the
 * truth about pausing, the NOTIFY is the nudge.
 */
#include "apidb.h"
#include "assetreq.h"
#include "auth.h"
#include "handlers.h"
#include "query.h"

#include <stdio.h>
#include <string.h>

enum MHD_Result ep_track(struct MHD_Connection *conn, const struct api_request *req)
{
    char client[64], msg[160];
    enum MHD_Result ret;
    PGresult *r = NULL;
    if (!auth_write_allowed(conn, client, sizeof client, &ret))
        return ret;
    struct asset_req a;
    const char *field;
    int prc = assetreq_parse(req->body, req->body_len, &a, &field, msg, sizeof msg);
    if (prc != 0)
        return reply_error(conn, prc == -2 ? MHD_HTTP_SERVICE_UNAVAILABLE : MHD_HTTP_BAD_REQUEST,
                           prc == -2 ? NULL : field, msg);
    const char *params[8] = {a.symbol,   a.name,
                             a.type,     a.currency,
                             a.provider, a.provider_symbol,
                             client,     a.exchange[0] != '\0' ? a.exchange : NULL};
    enum db_status st = apidb_exec(SQL_TRACK, params, &r);
    if (st != DB_OK)
        return http_reply_db(conn, st);
    if (PQntuples(r) != 1 || strcmp(PQgetvalue(r, 0, 0), "1") != 0 || PQgetisnull(r, 0, 1))
        ret = reply_error(conn, MHD_HTTP_CONFLICT, "symbol", "symbol is already tracked");
    else
        ret = http_reply_json(conn, MHD_HTTP_CREATED, PQgetvalue(r, 0, 1),
                              (size_t)PQgetlength(r, 0, 1));
    PQclear(r);
    return ret;
}

/* The {symbol} segment, validated; NULL after queueing a 400 in *ret. */
static const char *symbol_segment(struct MHD_Connection *conn, const struct api_request *req,
                                  enum MHD_Result *ret)
{
    char msg[128];
    int present;
    const char *sym = routes_tail(req);
    if (query_symbol(sym, &present, msg, sizeof msg) != QUERY_OK) {
        *ret = http_bad_param(conn, "symbol", msg);
        return NULL;
    }
    return sym;
}

enum MHD_Result ep_untrack(struct MHD_Connection *conn, const struct api_request *req)
{
    char client[64];
    enum MHD_Result ret;
    PGresult *r = NULL;
    if (!auth_write_allowed(conn, client, sizeof client, &ret))
        return ret;
    const char *sym = symbol_segment(conn, req, &ret);
    if (sym == NULL)
        return ret;
    const char *params[2] = {sym, client};
    enum db_status st = apidb_exec(SQL_UNTRACK, params, &r);
    if (st != DB_OK)
        return http_reply_db(conn, st);
    if (PQntuples(r) == 1 && strcmp(PQgetvalue(r, 0, 0), "0") != 0)
        ret = http_reply_empty(conn, MHD_HTTP_NO_CONTENT);
    else
        ret = reply_error(conn, MHD_HTTP_NOT_FOUND, "symbol", "symbol is not tracked");
    PQclear(r);
    return ret;
}

enum MHD_Result ep_refresh(struct MHD_Connection *conn, const struct api_request *req)
{
    char client[64];
    enum MHD_Result ret;
    PGresult *r = NULL;
    if (!auth_write_allowed(conn, client, sizeof client, &ret))
        return ret;
    const char *sym = symbol_segment(conn, req, &ret);
    if (sym == NULL)
        return ret;
    struct json_object *p = json_object_new_object();
    struct json_object *syms = json_object_new_array();
    json_object_array_add(syms, json_object_new_string(sym));
    json_object_object_add(p, "symbols", syms);
    json_object_object_add(p, "client", json_object_new_string(client));
    const char *params[2] = {sym, json_object_to_json_string_ext(
                                      p, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE)};
    /* NULL: out of memory; nothing asked of fetcherd (an empty NOTIFY
     * would be answered 202 and do nothing) */
    enum db_status st = params[1] != NULL ? apidb_exec(SQL_REFRESH, params, &r) : DB_OK;
    if (params[1] == NULL) {
        ret = reply_error(conn, MHD_HTTP_INTERNAL_SERVER_ERROR, NULL, "out of memory");
    } else if (st != DB_OK) {
        ret = http_reply_db(conn, st);
    } else if (PQntuples(r) == 0) {
        ret = reply_error(conn, MHD_HTTP_NOT_FOUND, "symbol", "symbol is not tracked");
    } else {
        char body[160];
        int n = snprintf(body, sizeof body,
                         "{\"success\":true,\"message\":\"Refresh of %s requested\"}", sym);
        ret = http_reply_json(conn, MHD_HTTP_ACCEPTED, body, (size_t)n);
    }
    PQclear(r);
    json_object_put(p);
    return ret;
}

static enum MHD_Result set_paused(struct MHD_Connection *conn, int pause)
{
    char client[64];
    enum MHD_Result ret;
    PGresult *r = NULL;
    if (!auth_write_allowed(conn, client, sizeof client, &ret))
        return ret;
    const char *action = pause ? "pause" : "resume";
    struct json_object *control = json_object_new_object();
    json_object_object_add(control, "action", json_object_new_string(action));
    json_object_object_add(control, "client", json_object_new_string(client));
    struct json_object *event = json_object_new_object();
    json_object_object_add(event, "type", json_object_new_string(pause ? "paused" : "resumed"));
    json_object_object_add(event, "client", json_object_new_string(client));
    const int f = JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE;
    const char *params[3] = {client, json_object_to_json_string_ext(control, f),
                             json_object_to_json_string_ext(event, f)};
    if (params[1] == NULL || params[2] == NULL) {
        /* out of memory: the setting is not changed without its notices */
        ret = reply_error(conn, MHD_HTTP_INTERNAL_SERVER_ERROR, NULL, "out of memory");
        goto out;
    }
    enum db_status st = apidb_exec(pause ? SQL_PAUSE : SQL_RESUME, params, &r);
    if (st != DB_OK) {
        ret = http_reply_db(conn, st);
        goto out;
    }
    if (PQntuples(r) != 1) {
        ret = reply_error(conn, MHD_HTTP_INTERNAL_SERVER_ERROR, NULL, "internal error");
        goto out;
    }
    struct json_object *o = json_object_new_object();
    json_object_object_add(o, "success", json_object_new_boolean(1));
    json_object_object_add(o, "paused", json_object_new_boolean(PQgetvalue(r, 0, 0)[0] == 't'));
    json_object_object_add(
        o, "since", PQgetisnull(r, 0, 1) ? NULL : json_object_new_string(PQgetvalue(r, 0, 1)));
    json_object_object_add(
        o, "message",
        json_object_new_string(pause ? "Scheduled cycles paused" : "Scheduled cycles resumed"));
    ret = http_reply_obj_take(conn, MHD_HTTP_OK, o);
out:
    PQclear(r);
    json_object_put(control);
    json_object_put(event);
    return ret;
}

enum MHD_Result ep_pause(struct MHD_Connection *conn, const struct api_request *req)
{
    (void)req;
    return set_paused(conn, 1);
}

enum MHD_Result ep_resume(struct MHD_Connection *conn, const struct api_request *req)
{
    (void)req;
    return set_paused(conn, 0);
}
