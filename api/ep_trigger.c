/*
 * ep_trigger — POST /api/fetcher/trigger-update: asks fetcherd for a cycle
 * now, through NOTIFY fetcher_trigger (PostgreSQL is the only channel
 * between the two programs). The answer is 202: the request is delivered to
 * every listening fetcherd, but the cycle itself runs later, in the daemon.
 *
 * Who may: see auth.h (the token, or loopback when none is set), so a
 * default install cannot be made to hammer the upstream APIs from the
 * network.
 *
 * Body (optional): {"symbols": ["AAPL", …]} to ask for some assets only.
 */
#include "apidb.h"
#include "auth.h"
#include "config.h"
#include "handlers.h"
#include "query.h"

#include <stdio.h>
#include <string.h>

/* Enough for any portfolio's worth of symbols, and far inside NOTIFY's
 * 8000-byte payload limit (100 × 32-byte symbols). */
#define TRIGGER_MAX_SYMBOLS 100

/* Validates the optional body and adds "symbols" to payload. Returns NULL
 * or the reason the body is refused (static), with *param the part named. */
static const char *read_symbols(const struct api_request *req, struct json_object *payload,
                                const char **param)
{
    *param = "body";
    const char *why = NULL;
    if (req->body == NULL || req->body_len == 0)
        return NULL;
    if (strlen(req->body) != req->body_len)
        return "must be a JSON object";
    struct json_object *body = json_tokener_parse(req->body);
    struct json_object *syms = NULL;
    if (body == NULL || !json_object_is_type(body, json_type_object)) {
        why = "must be a JSON object";
        goto out;
    }
    if (!json_object_object_get_ex(body, "symbols", &syms))
        goto out;
    *param = "symbols";
    if (!json_object_is_type(syms, json_type_array) || json_object_array_length(syms) == 0 ||
        json_object_array_length(syms) > TRIGGER_MAX_SYMBOLS) {
        why = "must be an array of 1 to 100 symbols";
        goto out;
    }
    for (size_t i = 0; i < json_object_array_length(syms); i++) {
        struct json_object *s = json_object_array_get_idx(syms, i);
        char msg[96];
        int present;
        if (!json_object_is_type(s, json_type_string) ||
            query_symbol(json_object_get_string(s), &present, msg, sizeof msg) != QUERY_OK) {
            why = "must be an array of symbols (A-Z a-z 0-9 . ^ = _ -, up to 32 characters)";
            goto out;
        }
    }
    json_object_object_add(payload, "symbols", json_object_get(syms));
out:
    json_object_put(body);
    return why;
}

enum MHD_Result ep_trigger_update(struct MHD_Connection *conn, const struct api_request *req)
{
    char client[64];
    enum MHD_Result ret;
    PGresult *r = NULL;
    if (!auth_write_allowed(conn, client, sizeof client, &ret))
        return ret;
    struct json_object *payload = json_object_new_object();
    json_object_object_add(payload, "source", json_object_new_string("api"));
    json_object_object_add(payload, "client", json_object_new_string(client));
    const char *param;
    const char *why = read_symbols(req, payload, &param);
    if (why != NULL) {
        ret = http_bad_param(conn, param, why);
        goto out;
    }
    const char *params[1] = {json_object_to_json_string_ext(
        payload, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE)};
    if (params[0] == NULL) {
        ret = reply_error(conn, MHD_HTTP_INTERNAL_SERVER_ERROR, NULL, "out of memory");
        goto out;
    }
    enum db_status st = apidb_exec(SQL_TRIGGER, params, &r);
    if (st != DB_OK) {
        ret = http_reply_db(conn, st);
        goto out;
    }
    static const char body[] = "{\"success\":true,\"message\":\"Update triggered\"}";
    ret = http_reply_json(conn, MHD_HTTP_ACCEPTED, body, sizeof body - 1);
out:
    PQclear(r);
    json_object_put(payload);
    return ret;
}
