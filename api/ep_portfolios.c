/*
 * ep_portfolios — portfolios and their positions, from the API:
 *
 *   POST   /api/fetcher/portfolios                      create (201; 409 name taken)
 *   GET    /api/fetcher/portfolios/{id}                 one, with positions and valuation
 *   PATCH  /api/fetcher/portfolios/{id}                 rename / change currency (200)
 *   DELETE /api/fetcher/portfolios/{id}                 delete, positions too (204)
 *   POST   /api/fetcher/portfolios/{id}/positions       add a position (201; 409 held)
 *   PATCH  /api/fetcher/portfolios/{id}/positions/{symbol}  change it (200)
 *   DELETE /api/fetcher/portfolios/{id}/positions/{symbol}  remove it (204)
 *   POST   /api/fetcher/portfolios/{id}/import          CSV: preview, or commit
 *
 * (GET /api/fetcher/portfolios, the list with valuations, is ep_data.c's.)
 *
 * Who may write: auth.h, as for every write. Bodies are parsed strictly
 * (portreq.h, csvimport.h) before the database sees anything, so a 400
 * names the field and the database never refuses a value. Each write is
 * one statement (sql.c): the change, portfolios.updated_at and the
 * fetcher_logs row commit together or not at all.
 *
 * Values are fetcherd's: the daemon recalculates every portfolio after a
 * cycle that priced something (trigger-update starts one). Until then a
 * changed portfolio's valuation says "stale": true.
 */
#include "apidb.h"
#include "auth.h"
#include "csvimport.h"
#include "handlers.h"
#include "portreq.h"
#include "query.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The {id} segment; 0 after queueing a 400 in *ret. */
static int ept_id(struct MHD_Connection *conn, const struct api_request *req, char *buf,
                  size_t buflen, enum MHD_Result *ret)
{
    long long id;
    if (portreq_id(routes_tail(req), &id) != 0) {
        *ret = http_bad_param(conn, "id", "must be a portfolio id (a positive integer)");
        return 0;
    }
    snprintf(buf, buflen, "%lld", id);
    return 1;
}

static enum MHD_Result ept_not_found(struct MHD_Connection *conn, const char *id)
{
    char msg[96];
    snprintf(msg, sizeof msg, "portfolio %s not found", id);
    return reply_error(conn, MHD_HTTP_NOT_FOUND, "id", msg);
}

static int ept_true(const PGresult *r, int col)
{
    return !PQgetisnull(r, 0, col) && PQgetvalue(r, 0, col)[0] == 't';
}

static enum MHD_Result ept_document(struct MHD_Connection *conn, unsigned status, const PGresult *r,
                                    int col)
{
    return http_reply_json(conn, status, PQgetvalue(r, 0, col), (size_t)PQgetlength(r, 0, col));
}

enum MHD_Result ep_portfolio_create(struct MHD_Connection *conn, const struct api_request *req)
{
    char client[64], msg[200];
    enum MHD_Result ret;
    PGresult *r = NULL;
    if (!auth_write_allowed(conn, client, sizeof client, &ret))
        return ret;
    struct portfolio_req p;
    const char *field;
    if (portreq_portfolio(req->body, req->body_len, 1, &p, &field, msg, sizeof msg) != 0)
        return reply_error(conn, MHD_HTTP_BAD_REQUEST, field, msg);
    const char *params[3] = {p.name, p.currency, client};
    enum db_status st = apidb_exec(SQL_PORTFOLIO_CREATE, params, &r);
    if (st != DB_OK)
        return http_reply_db(conn, st);
    if (PQntuples(r) == 1 && !PQgetisnull(r, 0, 0))
        ret = ept_document(conn, MHD_HTTP_CREATED, r, 0);
    else
        ret = reply_error(conn, MHD_HTTP_CONFLICT, "name", "a portfolio with this name exists");
    PQclear(r);
    return ret;
}

enum MHD_Result ep_portfolio_get(struct MHD_Connection *conn, const struct api_request *req)
{
    char id[24];
    enum MHD_Result ret;
    PGresult *r = NULL;
    if (!ept_id(conn, req, id, sizeof id, &ret))
        return ret;
    const char *params[1] = {id};
    enum db_status st = apidb_exec(SQL_PORTFOLIO_GET, params, &r);
    if (st != DB_OK)
        return http_reply_db(conn, st);
    if (PQntuples(r) == 1 && !PQgetisnull(r, 0, 0))
        ret = ept_document(conn, MHD_HTTP_OK, r, 0);
    else
        ret = ept_not_found(conn, id);
    PQclear(r);
    return ret;
}

enum MHD_Result ep_portfolio_update(struct MHD_Connection *conn, const struct api_request *req)
{
    char client[64], msg[200], id[24];
    enum MHD_Result ret;
    PGresult *r = NULL;
    if (!auth_write_allowed(conn, client, sizeof client, &ret))
        return ret;
    if (!ept_id(conn, req, id, sizeof id, &ret))
        return ret;
    struct portfolio_req p;
    const char *field;
    if (portreq_portfolio(req->body, req->body_len, 0, &p, &field, msg, sizeof msg) != 0)
        return reply_error(conn, MHD_HTTP_BAD_REQUEST, field, msg);
    const char *params[4] = {id, p.has_name ? p.name : NULL, p.has_currency ? p.currency : NULL,
                             client};
    enum db_status st = apidb_exec(SQL_PORTFOLIO_UPDATE, params, &r);
    if (st != DB_OK)
        return http_reply_db(conn, st);
    if (PQntuples(r) != 1 || !ept_true(r, 0))
        ret = ept_not_found(conn, id);
    else if (ept_true(r, 1) || PQgetisnull(r, 0, 2))
        ret = reply_error(conn, MHD_HTTP_CONFLICT, "name", "a portfolio with this name exists");
    else
        ret = ept_document(conn, MHD_HTTP_OK, r, 2);
    PQclear(r);
    return ret;
}

enum MHD_Result ep_portfolio_delete(struct MHD_Connection *conn, const struct api_request *req)
{
    char client[64], id[24];
    enum MHD_Result ret;
    PGresult *r = NULL;
    if (!auth_write_allowed(conn, client, sizeof client, &ret))
        return ret;
    if (!ept_id(conn, req, id, sizeof id, &ret))
        return ret;
    const char *params[2] = {id, client};
    enum db_status st = apidb_exec(SQL_PORTFOLIO_DELETE, params, &r);
    if (st != DB_OK)
        return http_reply_db(conn, st);
    if (PQntuples(r) == 1 && strcmp(PQgetvalue(r, 0, 0), "0") != 0)
        ret = http_reply_empty(conn, MHD_HTTP_NO_CONTENT);
    else
        ret = ept_not_found(conn, id);
    PQclear(r);
    return ret;
}

enum MHD_Result ep_position_add(struct MHD_Connection *conn, const struct api_request *req)
{
    char client[64], msg[200], id[24];
    enum MHD_Result ret;
    PGresult *r = NULL;
    if (!auth_write_allowed(conn, client, sizeof client, &ret))
        return ret;
    if (!ept_id(conn, req, id, sizeof id, &ret))
        return ret;
    struct position_req p;
    const char *field;
    if (portreq_position(req->body, req->body_len, 1, &p, &field, msg, sizeof msg) != 0)
        return reply_error(conn, MHD_HTTP_BAD_REQUEST, field, msg);
    const char *params[6] = {
        id, p.symbol, p.quantity, p.price, p.has_currency ? p.currency : NULL, client};
    enum db_status st = apidb_exec(SQL_POSITION_ADD, params, &r);
    if (st != DB_OK)
        return http_reply_db(conn, st);
    if (PQntuples(r) != 1 || !ept_true(r, 0)) {
        ret = ept_not_found(conn, id);
    } else if (!ept_true(r, 1)) {
        snprintf(msg, sizeof msg,
                 "symbol %s is not a known asset: track it first (POST /api/fetcher/assets)",
                 p.symbol);
        ret = reply_error(conn, MHD_HTTP_BAD_REQUEST, "symbol", msg);
    } else if (PQgetisnull(r, 0, 2)) {
        snprintf(msg, sizeof msg, "portfolio %s already holds %s: change that position instead", id,
                 p.symbol);
        ret = reply_error(conn, MHD_HTTP_CONFLICT, "symbol", msg);
    } else {
        ret = ept_document(conn, MHD_HTTP_CREATED, r, 2);
    }
    PQclear(r);
    return ret;
}

/* The {symbol} segment of …/positions/{symbol}; NULL after a 400. */
static const char *ept_symbol(struct MHD_Connection *conn, const struct api_request *req,
                              enum MHD_Result *ret)
{
    char msg[128];
    int present;
    const char *sym = routes_tail2(req);
    if (query_symbol(sym, &present, msg, sizeof msg) != QUERY_OK) {
        *ret = http_bad_param(conn, "symbol", msg);
        return NULL;
    }
    return sym;
}

static enum MHD_Result ept_no_position(struct MHD_Connection *conn, const char *id, const char *sym)
{
    char msg[128];
    snprintf(msg, sizeof msg, "portfolio %s holds no %s", id, sym);
    return reply_error(conn, MHD_HTTP_NOT_FOUND, "symbol", msg);
}

enum MHD_Result ep_position_update(struct MHD_Connection *conn, const struct api_request *req)
{
    char client[64], msg[200], id[24];
    enum MHD_Result ret;
    PGresult *r = NULL;
    if (!auth_write_allowed(conn, client, sizeof client, &ret))
        return ret;
    if (!ept_id(conn, req, id, sizeof id, &ret))
        return ret;
    const char *sym = ept_symbol(conn, req, &ret);
    if (sym == NULL)
        return ret;
    struct position_req p;
    const char *field;
    if (portreq_position(req->body, req->body_len, 0, &p, &field, msg, sizeof msg) != 0)
        return reply_error(conn, MHD_HTTP_BAD_REQUEST, field, msg);
    const char *params[7] = {id,
                             sym,
                             p.has_quantity ? p.quantity : NULL,
                             p.has_price ? p.price : NULL,
                             p.has_currency && p.currency[0] != '\0' ? p.currency : NULL,
                             p.has_currency ? "true" : "false",
                             client};
    enum db_status st = apidb_exec(SQL_POSITION_UPDATE, params, &r);
    if (st != DB_OK)
        return http_reply_db(conn, st);
    if (PQntuples(r) != 1 || !ept_true(r, 0))
        ret = ept_not_found(conn, id);
    else if (PQgetisnull(r, 0, 1))
        ret = ept_no_position(conn, id, sym);
    else
        ret = ept_document(conn, MHD_HTTP_OK, r, 1);
    PQclear(r);
    return ret;
}

enum MHD_Result ep_position_delete(struct MHD_Connection *conn, const struct api_request *req)
{
    char client[64], id[24];
    enum MHD_Result ret;
    PGresult *r = NULL;
    if (!auth_write_allowed(conn, client, sizeof client, &ret))
        return ret;
    if (!ept_id(conn, req, id, sizeof id, &ret))
        return ret;
    const char *sym = ept_symbol(conn, req, &ret);
    if (sym == NULL)
        return ret;
    const char *params[3] = {id, sym, client};
    enum db_status st = apidb_exec(SQL_POSITION_DELETE, params, &r);
    if (st != DB_OK)
        return http_reply_db(conn, st);
    if (PQntuples(r) != 1 || !ept_true(r, 0))
        ret = ept_not_found(conn, id);
    else if (strcmp(PQgetvalue(r, 0, 1), "0") == 0)
        ret = ept_no_position(conn, id, sym);
    else
        ret = http_reply_empty(conn, MHD_HTTP_NO_CONTENT);
    PQclear(r);
    return ret;
}

/* ---- import ------------------------------------------------------------- */

/* The import body: {"csv": text, "commit": bool?, "skip_invalid": bool?}. */
struct ept_import {
    const char *csv; /* borrowed from the parsed body */
    size_t csv_len;
    int commit, skip_invalid;
};

static struct json_object *ept_import_body(const struct api_request *req, struct ept_import *in,
                                           const char **field, const char **why)
{
    static const char *const keys[] = {"csv", "commit", "skip_invalid"};
    struct json_object *o = NULL, *v;
    memset(in, 0, sizeof *in);
    *field = "body";
    *why = "body must be a JSON object";
    if (req->body == NULL || req->body_len == 0 || strlen(req->body) != req->body_len)
        return NULL;
    struct json_tokener *tok = json_tokener_new();
    if (tok == NULL)
        return NULL;
    o = json_tokener_parse_ex(tok, req->body, (int)req->body_len);
    int trailing =
        o != NULL && tok->char_offset < (int)req->body_len &&
        strspn(req->body + tok->char_offset, " \t\r\n") != req->body_len - (size_t)tok->char_offset;
    json_tokener_free(tok);
    if (o == NULL || trailing || !json_object_is_type(o, json_type_object))
        goto bad;
    json_object_object_foreach(o, key, val)
    {
        (void)val;
        int known = 0;
        for (size_t i = 0; i < ARRAY_LEN(keys); i++)
            known |= strcmp(key, keys[i]) == 0;
        if (!known) {
            *why = "body has an unknown field (fields: csv, commit, skip_invalid)";
            goto bad;
        }
    }
    if (!json_object_object_get_ex(o, "csv", &v) || !json_object_is_type(v, json_type_string)) {
        *field = "csv";
        *why = "csv must be a string holding the file (header line first)";
        goto bad;
    }
    in->csv = json_object_get_string(v);
    in->csv_len = (size_t)json_object_get_string_len(v);
    for (int k = 0; k < 2; k++) {
        const char *name = k == 0 ? "commit" : "skip_invalid";
        if (!json_object_object_get_ex(o, name, &v))
            continue;
        if (!json_object_is_type(v, json_type_boolean)) {
            *field = name;
            *why = k == 0 ? "commit must be true or false" : "skip_invalid must be true or false";
            goto bad;
        }
        *(k == 0 ? &in->commit : &in->skip_invalid) = json_object_get_boolean(v);
    }
    return o;
bad:
    json_object_put(o);
    return NULL;
}

/* Marks the rows the database does not know (unknown assets) and says
 * whether each replaces a held position; adds the report's lines to
 * lines. Returns the number of invalid rows, or -1 when the answer is
 * not what the statement promises. */
static int ept_judge(struct csv_row *rows, size_t n, const char *check, struct json_object *lines,
                     int *replaced)
{
    struct json_object *arr = json_tokener_parse(check);
    int bad = 0;
    size_t k = 0;
    *replaced = 0;
    if (arr == NULL || !json_object_is_type(arr, json_type_array)) {
        json_object_put(arr);
        return -1;
    }
    for (size_t i = 0; i < n; i++) {
        struct csv_row *r = &rows[i];
        int held = 0, tracked = 0;
        if (r->error[0] == '\0') {
            struct json_object *e = json_object_array_get_idx(arr, k++), *v;
            int known = e != NULL && json_object_object_get_ex(e, "known", &v) &&
                        json_object_get_boolean(v);
            held =
                e != NULL && json_object_object_get_ex(e, "held", &v) && json_object_get_boolean(v);
            tracked = e != NULL && json_object_object_get_ex(e, "tracked", &v) &&
                      json_object_get_boolean(v);
            if (!known)
                snprintf(r->error, sizeof r->error,
                         "%s is not a known asset: track it first (search above)", r->symbol);
        }
        struct json_object *l = json_object_new_object();
        json_object_object_add(l, "line", json_object_new_int(r->line));
        json_object_object_add(l, "symbol",
                               json_object_new_string(r->symbol[0] ? r->symbol : r->raw_symbol));
        if (r->error[0] != '\0') {
            bad++;
            json_object_object_add(l, "status", json_object_new_string("error"));
            json_object_object_add(l, "error", json_object_new_string(r->error));
        } else {
            *replaced += held;
            json_object_object_add(l, "status", json_object_new_string(held ? "replace" : "add"));
            json_object_object_add(
                l, "quantity", json_object_new_double_s(strtod(r->quantity, NULL), r->quantity));
            json_object_object_add(l, "average_buy_price",
                                   json_object_new_double_s(strtod(r->price, NULL), r->price));
            json_object_object_add(l, "currency",
                                   r->currency[0] ? json_object_new_string(r->currency) : NULL);
            json_object_object_add(l, "tracked", json_object_new_boolean(tracked));
        }
        json_object_array_add(lines, l);
    }
    json_object_put(arr);
    return bad;
}

/* JSON of the rows as the statements take them. which: 0 for the check
 * ({line, symbol} of every syntactically valid row), 1 for the commit
 * (the valid rows' values). */
static char *ept_rows_json(const struct csv_row *rows, size_t n, int which)
{
    struct json_object *a = json_object_new_array();
    for (size_t i = 0; i < n; i++) {
        if (rows[i].error[0] != '\0')
            continue;
        struct json_object *o = json_object_new_object();
        json_object_object_add(o, "symbol", json_object_new_string(rows[i].symbol));
        if (which == 0) {
            json_object_object_add(o, "line", json_object_new_int(rows[i].line));
        } else {
            json_object_object_add(o, "quantity", json_object_new_string(rows[i].quantity));
            json_object_object_add(o, "average_buy_price", json_object_new_string(rows[i].price));
            json_object_object_add(o, "currency",
                                   rows[i].currency[0] ? json_object_new_string(rows[i].currency)
                                                       : NULL);
        }
        json_object_array_add(a, o);
    }
    const char *s = json_object_to_json_string_ext(a, JSON_C_TO_STRING_PLAIN);
    char *copy = s != NULL ? strdup(s) : NULL;
    json_object_put(a);
    return copy;
}

enum MHD_Result ep_portfolio_import(struct MHD_Connection *conn, const struct api_request *req)
{
    char client[64], id[24], msg[200];
    enum MHD_Result ret;
    PGresult *r = NULL;
    struct csv_row *rows = NULL;
    size_t n = 0;
    char *check = NULL, *commit = NULL;
    struct json_object *report = NULL;
    if (!auth_write_allowed(conn, client, sizeof client, &ret))
        return ret;
    if (!ept_id(conn, req, id, sizeof id, &ret))
        return ret;
    struct ept_import in;
    const char *field, *why;
    struct json_object *body = ept_import_body(req, &in, &field, &why);
    if (body == NULL)
        return reply_error(conn, MHD_HTTP_BAD_REQUEST, field, why);
    if (csvimport_parse(in.csv, in.csv_len, &rows, &n, msg, sizeof msg) != 0) {
        ret = reply_error(conn, MHD_HTTP_BAD_REQUEST, "csv", msg);
        goto out;
    }
    check = ept_rows_json(rows, n, 0);
    if (check == NULL) {
        ret = reply_error(conn, MHD_HTTP_INTERNAL_SERVER_ERROR, NULL, "internal error");
        goto out;
    }
    const char *cparams[2] = {id, check};
    enum db_status st = apidb_exec(SQL_IMPORT_CHECK, cparams, &r);
    if (st != DB_OK) {
        ret = http_reply_db(conn, st);
        goto out;
    }
    if (PQntuples(r) != 1 || !ept_true(r, 0)) {
        ret = ept_not_found(conn, id);
        goto out;
    }
    report = json_object_new_object();
    struct json_object *lines = json_object_new_array();
    int replaced = 0;
    int bad = ept_judge(rows, n, PQgetvalue(r, 0, 1), lines, &replaced);
    PQclear(r);
    r = NULL;
    json_object_object_add(report, "portfolio_id", json_object_new_int64(strtoll(id, NULL, 10)));
    json_object_object_add(report, "lines", lines);
    if (bad < 0) {
        ret = reply_error(conn, MHD_HTTP_INTERNAL_SERVER_ERROR, NULL, "internal error");
        goto out;
    }
    int valid = (int)n - bad;
    json_object_object_add(report, "valid", json_object_new_int(valid));
    json_object_object_add(report, "invalid", json_object_new_int(bad));
    json_object_object_add(report, "replaces", json_object_new_int(replaced));
    if (!in.commit) {
        json_object_object_add(report, "committed", json_object_new_boolean(0));
        json_object_object_add(report, "imported", json_object_new_int(0));
        ret = http_reply_obj_take(conn, MHD_HTTP_OK, report);
        report = NULL;
        goto out;
    }
    if (bad > 0 && !in.skip_invalid) {
        snprintf(msg, sizeof msg,
                 "csv has %d bad line%s: nothing was imported (fix them, or send "
                 "\"skip_invalid\": true to import the %d valid ones)",
                 bad, bad == 1 ? "" : "s", valid);
        json_object_object_add(report, "error", json_object_new_string(msg));
        json_object_object_add(report, "parameter", json_object_new_string("csv"));
        json_object_object_add(report, "committed", json_object_new_boolean(0));
        json_object_object_add(report, "imported", json_object_new_int(0));
        ret = http_reply_obj_take(conn, MHD_HTTP_BAD_REQUEST, report);
        report = NULL;
        goto out;
    }
    if (valid == 0) {
        ret = reply_error(conn, MHD_HTTP_BAD_REQUEST, "csv", "csv has no valid line to import");
        goto out;
    }
    commit = ept_rows_json(rows, n, 1);
    if (commit == NULL) {
        ret = reply_error(conn, MHD_HTTP_INTERNAL_SERVER_ERROR, NULL, "internal error");
        goto out;
    }
    const char *params[3] = {id, commit, client};
    st = apidb_exec(SQL_IMPORT_COMMIT, params, &r);
    if (st != DB_OK) {
        ret = http_reply_db(conn, st);
        goto out;
    }
    if (PQntuples(r) != 1 || !ept_true(r, 0)) {
        ret = ept_not_found(conn, id); /* deleted between the check and the commit */
        goto out;
    }
    json_object_object_add(report, "committed", json_object_new_boolean(1));
    json_object_object_add(report, "imported",
                           json_object_new_int((int)strtol(PQgetvalue(r, 0, 1), NULL, 10)));
    ret = http_reply_obj_take(conn, MHD_HTTP_OK, report);
    report = NULL;
out:
    PQclear(r);
    json_object_put(report);
    json_object_put(body);
    free(rows);
    free(check);
    free(commit);
    return ret;
}
