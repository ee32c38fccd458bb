/*
 * ep_logs — what fetcherd did: /api/fetcher/logs, /recent-updates,
 * /cycles and /cycles/{id}. Each handler parses its parameters strictly
 * (query.h), then runs one statement that returns the whole JSON document.
 *
 * Pages are newest first by id, not by timestamp: ids are assigned in
 * insertion order and indexed, and the keyset cursor (before_id, with
 * next_before_id in every answer) stays stable while new rows arrive and
 * costs the same however deep the page, which offsets do not: an offset
 * walks every row it skips (fine for the first few thousand rows, slow
 * past them; it stays for the reference shapes).
 *
 * A log query with filters beyond the level (q, since/until, cycle_id) has
 * its time bounded (API_LOG_QUERY_TIMEOUT_MS, 2 s: long enough for any
 * search the trigram index serves, milliseconds at 50 million rows): one
 * the indexes cannot narrow gets 503 naming the parameter instead of
 * holding a worker and a database backend for seconds. 503, not 400: the
 * request is valid, the server declines the work it would take.
 */
#include "apidb.h"
#include "config.h"
#include "handlers.h"
#include "query.h"

#include <stdio.h>

#define LOGS_LIMIT_DEFAULT 100
#define LOGS_LIMIT_MAX 1000
#define UPDATES_LIMIT_DEFAULT 50
#define UPDATES_LIMIT_MAX 500
#define CYCLES_LIMIT_DEFAULT 50
#define CYCLES_LIMIT_MAX 500
/* Deep offsets cost a scan of everything skipped; the cursor is the way to
 * go deep. */
#define OFFSET_MAX 1000000
#define ID_MAX INT64_MAX
#define SEARCH_MAX 200

/* min_level=N → the levels at or above it, as a PostgreSQL array literal. */
static const char *const levels_from[] = {
    "{DEBUG,INFO,WARNING,ERROR,CRITICAL}", "{INFO,WARNING,ERROR,CRITICAL}",
    "{WARNING,ERROR,CRITICAL}", "{ERROR,CRITICAL}", "{CRITICAL}"};

enum MHD_Result ep_logs(struct MHD_Connection *conn, const struct api_request *req)
{
    (void)req;
    char msg[128];
    int64_t limit, offset, cycle_id, before_id;
    const char *level, *min_level;
    int rank, min_rank, has_since, has_until, has_q;
    char since[48], until[48];
    const char *q = http_arg(conn, "q");

    if (query_uint(http_arg(conn, "limit"), 1, LOGS_LIMIT_MAX, LOGS_LIMIT_DEFAULT, &limit, msg,
                   sizeof msg) != QUERY_OK)
        return http_bad_param(conn, "limit", msg);
    if (query_uint(http_arg(conn, "offset"), 0, OFFSET_MAX, 0, &offset, msg, sizeof msg) !=
        QUERY_OK)
        return http_bad_param(conn, "offset", msg);
    if (query_level(http_arg(conn, "level"), &level, &rank, msg, sizeof msg) != QUERY_OK)
        return http_bad_param(conn, "level", msg);
    if (query_level(http_arg(conn, "min_level"), &min_level, &min_rank, msg, sizeof msg) !=
        QUERY_OK)
        return http_bad_param(conn, "min_level", msg);
    if (query_time(http_arg(conn, "since"), since, sizeof since, &has_since, msg, sizeof msg) !=
        QUERY_OK)
        return http_bad_param(conn, "since", msg);
    if (query_time(http_arg(conn, "until"), until, sizeof until, &has_until, msg, sizeof msg) !=
        QUERY_OK)
        return http_bad_param(conn, "until", msg);
    if (query_uint(http_arg(conn, "cycle_id"), 1, ID_MAX, -1, &cycle_id, msg, sizeof msg) !=
        QUERY_OK)
        return http_bad_param(conn, "cycle_id", msg);
    if (query_text(q, SEARCH_MAX, &has_q, msg, sizeof msg) != QUERY_OK)
        return http_bad_param(conn, "q", msg);
    if (query_uint(http_arg(conn, "before_id"), 1, ID_MAX, -1, &before_id, msg, sizeof msg) !=
        QUERY_OK)
        return http_bad_param(conn, "before_id", msg);

    char s_limit[24], s_offset[24], s_cycle[24], s_before[24];
    snprintf(s_limit, sizeof s_limit, "%lld", (long long)limit);
    snprintf(s_offset, sizeof s_offset, "%lld", (long long)offset);
    snprintf(s_cycle, sizeof s_cycle, "%lld", (long long)cycle_id);
    snprintf(s_before, sizeof s_before, "%lld", (long long)before_id);
    if (!has_since && !has_until && cycle_id < 0 && !has_q) {
        /* Level filters only: the exact total comes from the counters kept
         * by migration 003's triggers instead of a count(*). */
        const char *fast[5] = {s_limit, s_offset, level,
                               min_level != NULL ? levels_from[min_rank] : NULL,
                               before_id >= 0 ? s_before : NULL};
        return ep_reply_document(conn, SQL_LOGS_FAST, fast, "no logs");
    }
    const char *params[9] = {
        s_limit,
        s_offset,
        level,
        min_level != NULL ? levels_from[min_rank] : NULL,
        has_since ? since : NULL,
        has_until ? until : NULL,
        cycle_id >= 0 ? s_cycle : NULL,
        has_q ? q : NULL,
        before_id >= 0 ? s_before : NULL,
    };
    /* q with no time or cycle filter: no day a custom plan could prune,
     * so the search's generic plan (SQL_LOGS_SEARCH) */
    int search = has_q && cycle_id < 0 && !has_since && !has_until;
    PGresult *r = NULL;
    int timed_out = 0;
    enum db_status st =
        apidb_exec_bounded(search                   ? SQL_LOGS_SEARCH
                           : cycle_id >= 0 || has_q ? SQL_LOGS_NARROW
                                                    : SQL_LOGS,
                           params, (int)cfg->api_log_query_timeout_ms, &r, &timed_out);
    if (timed_out) {
        snprintf(msg, sizeof msg,
                 "the log query took longer than %d ms; narrow it (since/until, level, a longer q)",
                 (int)cfg->api_log_query_timeout_ms);
        return reply_error(conn, MHD_HTTP_SERVICE_UNAVAILABLE, has_q ? "q" : NULL, msg);
    }
    if (st != DB_OK)
        return http_reply_db(conn, st);
    enum MHD_Result ret =
        http_reply_json(conn, MHD_HTTP_OK, PQgetvalue(r, 0, 0), (size_t)PQgetlength(r, 0, 0));
    PQclear(r);
    return ret;
}

enum MHD_Result ep_recent_updates(struct MHD_Connection *conn, const struct api_request *req)
{
    (void)req;
    char msg[128];
    int64_t limit;
    int has_symbol, success;
    const char *symbol = http_arg(conn, "symbol");
    if (query_uint(http_arg(conn, "limit"), 1, UPDATES_LIMIT_MAX, UPDATES_LIMIT_DEFAULT, &limit,
                   msg, sizeof msg) != QUERY_OK)
        return http_bad_param(conn, "limit", msg);
    if (query_symbol(symbol, &has_symbol, msg, sizeof msg) != QUERY_OK)
        return http_bad_param(conn, "symbol", msg);
    if (query_bool(http_arg(conn, "success"), &success, msg, sizeof msg) != QUERY_OK)
        return http_bad_param(conn, "success", msg);
    int64_t before_id;
    if (query_uint(http_arg(conn, "before_id"), 1, ID_MAX, -1, &before_id, msg, sizeof msg) !=
        QUERY_OK)
        return http_bad_param(conn, "before_id", msg);
    char s_limit[24], s_before[24];
    snprintf(s_limit, sizeof s_limit, "%lld", (long long)limit);
    snprintf(s_before, sizeof s_before, "%lld", (long long)before_id);
    const char *params[4] = {s_limit, has_symbol ? symbol : NULL,
                             success < 0 ? NULL : (success ? "true" : "false"),
                             before_id >= 0 ? s_before : NULL};
    return ep_reply_document(conn, SQL_RECENT_UPDATES, params, "no updates");
}

static const char *const cycle_statuses[] = {"running", "succeeded", "partial", "failed",
                                             "aborted"};

enum MHD_Result ep_cycles(struct MHD_Connection *conn, const struct api_request *req)
{
    (void)req;
    char msg[128];
    int64_t limit, offset;
    const char *status = http_arg(conn, "status");
    if (query_uint(http_arg(conn, "limit"), 1, CYCLES_LIMIT_MAX, CYCLES_LIMIT_DEFAULT, &limit, msg,
                   sizeof msg) != QUERY_OK)
        return http_bad_param(conn, "limit", msg);
    if (query_uint(http_arg(conn, "offset"), 0, OFFSET_MAX, 0, &offset, msg, sizeof msg) !=
        QUERY_OK)
        return http_bad_param(conn, "offset", msg);
    const char *canon = NULL;
    for (size_t i = 0; status != NULL && i < ARRAY_LEN(cycle_statuses); i++)
        if (util_streq_nocase(status, cycle_statuses[i]))
            canon = cycle_statuses[i];
    if (status != NULL && canon == NULL)
        return http_bad_param(conn, "status",
                              "must be one of running, succeeded, partial, failed, aborted");
    int64_t before_id;
    if (query_uint(http_arg(conn, "before_id"), 1, ID_MAX, -1, &before_id, msg, sizeof msg) !=
        QUERY_OK)
        return http_bad_param(conn, "before_id", msg);
    char s_limit[24], s_offset[24], s_before[24];
    snprintf(s_limit, sizeof s_limit, "%lld", (long long)limit);
    snprintf(s_offset, sizeof s_offset, "%lld", (long long)offset);
    snprintf(s_before, sizeof s_before, "%lld", (long long)before_id);
    const char *params[4] = {s_limit, s_offset, canon, before_id >= 0 ? s_before : NULL};
    return ep_reply_document(conn, SQL_CYCLES, params, "no cycles");
}

enum MHD_Result ep_cycle(struct MHD_Connection *conn, const struct api_request *req)
{
    char msg[128];
    int64_t id;
    const char *tail = routes_tail(req);
    if (tail[0] == '\0')
        return reply_error(conn, MHD_HTTP_NOT_FOUND, NULL, "not found");
    if (query_uint(tail, 1, ID_MAX, 0, &id, msg, sizeof msg) != QUERY_OK)
        return http_bad_param(conn, "id", msg);
    char s_id[24];
    snprintf(s_id, sizeof s_id, "%lld", (long long)id);
    const char *params[1] = {s_id};
    return ep_reply_document(conn, SQL_CYCLE, params, "cycle not found");
}
