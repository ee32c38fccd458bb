/*
 * ep_alerts — GET /api/fetcher/alerts: the alerts fetcher-api has raised
 * (api/alerts.c), newest first, firing and resolved, with what became of
 * their notifications; the dashboard's alerts panel reads it.
 */
#include "handlers.h"
#include "util.h"
#include "http.h"
#include "query.h"

#include <stdio.h>

#define ALERTS_LIMIT_DEFAULT 50
#define ALERTS_LIMIT_MAX 500

enum MHD_Result ep_alerts(struct MHD_Connection *conn, const struct api_request *req)
{
    (void)req;
    char msg[128];
    int64_t limit;
    if (query_uint(http_arg(conn, "limit"), 1, ALERTS_LIMIT_MAX, ALERTS_LIMIT_DEFAULT, &limit, msg,
                   sizeof msg) != QUERY_OK)
        return http_bad_param(conn, "limit", msg);
    const char *status = http_arg(conn, "status"), *canon = NULL;
    if (status != NULL) {
        if (util_streq_nocase(status, "firing"))
            canon = "firing";
        else if (util_streq_nocase(status, "resolved"))
            canon = "resolved";
        else
            return http_bad_param(conn, "status", "must be firing or resolved");
    }
    char s_limit[24];
    snprintf(s_limit, sizeof s_limit, "%lld", (long long)limit);
    const char *params[2] = {s_limit, canon};
    return ep_reply_document(conn, SQL_ALERTS, params, "no alerts");
}
