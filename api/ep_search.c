/*
 * ep_search — GET /api/fetcher/search?q=apple[&provider=yahoo|coingecko|all]:
 * the providers' own symbol search (search.h does the asking), each hit
 * ready to be tracked with POST /api/fetcher/assets (its symbol, type,
 * currency, provider, provider_symbol and exchange are that request's
 * fields) and marked with what this database already has: "tracked", and
 * "conflict" when the symbol is taken by an asset of another provider or
 * provider symbol (tracking it would track that one).
 *
 * 400 names q or provider; 503 when SEARCH_MAX_CONCURRENT searches run
 * already; 502 when no provider answered, with each one's reason. A
 * provider that failed while another answered is listed in "errors".
 */
#include "apidb.h"
#include "handlers.h"
#include "portreq.h"
#include "query.h"
#include "search.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Longest query: a name or a symbol, not a sentence. */
#define EPS_QUERY_MAX 64

static struct json_object *eps_str_or_null(const char *s)
{
    return s[0] != '\0' ? json_object_new_string(s) : NULL;
}

static struct json_object *eps_errors(const struct search_answer *a)
{
    static const char *const names[2] = {"yahoo", "coingecko"};
    struct json_object *errs = json_object_new_array();
    for (int i = 0; i < 2; i++) {
        if (!a->asked[i] || a->error[i][0] == '\0')
            continue;
        struct json_object *e = json_object_new_object();
        json_object_object_add(e, "provider", json_object_new_string(names[i]));
        json_object_object_add(e, "error", json_object_new_string(a->error[i]));
        json_object_array_add(errs, e);
    }
    return errs;
}

/* What the database knows of the hits' symbols: {symbol: {tracked,
 * provider, provider_symbol}}; NULL after queueing the error answer. */
static struct json_object *eps_known(struct MHD_Connection *conn, const struct search_answer *a,
                                     enum MHD_Result *ret)
{
    struct json_object *syms = json_object_new_array();
    for (size_t i = 0; i < a->n; i++)
        json_object_array_add(syms, json_object_new_string(a->hits[i].symbol));
    const char *params[1] = {json_object_to_json_string_ext(syms, JSON_C_TO_STRING_PLAIN)};
    PGresult *r = NULL;
    struct json_object *known = NULL;
    /* NULL: out of memory (every hit would read as untracked) */
    enum db_status st = params[0] != NULL ? apidb_exec(SQL_SEARCH_KNOWN, params, &r) : DB_OK;
    if (st == DB_OK && r != NULL && PQntuples(r) == 1)
        known = json_tokener_parse(PQgetvalue(r, 0, 0));
    if (st != DB_OK)
        *ret = http_reply_db(conn, st);
    else if (known == NULL)
        *ret = reply_error(conn, MHD_HTTP_INTERNAL_SERVER_ERROR, NULL, "internal error");
    PQclear(r);
    json_object_put(syms);
    return known;
}

static struct json_object *eps_hit(const struct search_hit *h, struct json_object *known)
{
    struct json_object *o = json_object_new_object(), *k = NULL, *v;
    json_object_object_add(o, "symbol", json_object_new_string(h->symbol));
    json_object_object_add(o, "name", json_object_new_string(h->name));
    json_object_object_add(o, "type", json_object_new_string(h->type));
    json_object_object_add(o, "type_display", eps_str_or_null(h->type_display));
    json_object_object_add(o, "exchange", eps_str_or_null(h->exchange));
    json_object_object_add(o, "currency", eps_str_or_null(h->currency));
    json_object_object_add(o, "provider", json_object_new_string(h->provider));
    json_object_object_add(o, "provider_symbol", json_object_new_string(h->provider_symbol));
    json_object_object_add(o, "market_cap_rank", h->rank > 0 ? json_object_new_int(h->rank) : NULL);
    int tracked = 0;
    const char *conflict = NULL;
    char why[200];
    if (json_object_object_get_ex(known, h->symbol, &k)) {
        const char *prov =
            json_object_object_get_ex(k, "provider", &v) ? json_object_get_string(v) : "";
        const char *psym =
            json_object_object_get_ex(k, "provider_symbol", &v) ? json_object_get_string(v) : "";
        if (strcmp(prov, h->provider) != 0 || strcmp(psym, h->provider_symbol) != 0) {
            snprintf(why, sizeof why, "the symbol %s is taken by an asset on %s (%s)", h->symbol,
                     prov, psym);
            conflict = why;
        } else {
            tracked = json_object_object_get_ex(k, "tracked", &v) && json_object_get_boolean(v);
        }
    }
    json_object_object_add(o, "tracked", json_object_new_boolean(tracked));
    json_object_object_add(o, "conflict", conflict ? json_object_new_string(conflict) : NULL);
    return o;
}

enum MHD_Result ep_search(struct MHD_Connection *conn, const struct api_request *req)
{
    (void)req;
    char msg[160];
    int present;
    size_t chars = 0;
    const char *q = http_arg(conn, "q");
    if (q == NULL || q[0] == '\0')
        return http_bad_param(conn, "q", "is required: a name or symbol to search for");
    if (query_text(q, EPS_QUERY_MAX * 4, &present, msg, sizeof msg) != QUERY_OK ||
        portreq_utf8(q, strlen(q), &chars) != 0 || chars > EPS_QUERY_MAX ||
        strspn(q, " ") == strlen(q))
        return http_bad_param(conn, "q", "must be 1 to 64 characters of text");
    const char *prov = http_arg(conn, "provider");
    int mask = SEARCH_YAHOO | SEARCH_COINGECKO;
    if (prov != NULL) {
        if (strcmp(prov, "yahoo") == 0)
            mask = SEARCH_YAHOO;
        else if (strcmp(prov, "coingecko") == 0)
            mask = SEARCH_COINGECKO;
        else if (strcmp(prov, "all") != 0)
            return http_bad_param(conn, "provider", "must be yahoo, coingecko or all");
    }
    struct search_answer *a = malloc(sizeof *a);
    if (a == NULL)
        return MHD_NO;
    enum MHD_Result ret = MHD_NO;
    struct json_object *known = NULL;
    enum search_status st = search_run(q, mask, a);
    if (st == SEARCH_BUSY) {
        ret = reply_error(conn, MHD_HTTP_SERVICE_UNAVAILABLE, NULL,
                          "searches are busy: try again in a moment");
        goto out;
    }
    if (st == SEARCH_FAILED) {
        struct json_object *o = json_object_new_object();
        snprintf(msg, sizeof msg, "no provider answered the search");
        json_object_object_add(o, "error", json_object_new_string(msg));
        json_object_object_add(o, "errors", eps_errors(a));
        ret = http_reply_obj_take(conn, MHD_HTTP_BAD_GATEWAY, o);
        goto out;
    }
    known = eps_known(conn, a, &ret);
    if (known == NULL)
        goto out;
    struct json_object *o = json_object_new_object();
    struct json_object *list = json_object_new_array();
    for (size_t i = 0; i < a->n; i++)
        json_object_array_add(list, eps_hit(&a->hits[i], known));
    json_object_object_add(o, "query", json_object_new_string(q));
    json_object_object_add(o, "results", list);
    json_object_object_add(o, "skipped", json_object_new_int64((int64_t)a->skipped));
    json_object_object_add(o, "errors", eps_errors(a));
    ret = http_reply_obj_take(conn, MHD_HTTP_OK, o);
out:
    json_object_put(known);
    free(a);
    return ret;
}
