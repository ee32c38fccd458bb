/*
 * ep_health — liveness and readiness, for Docker and orchestrators.
 *
 * /healthz says "the process answers HTTP" and never touches the database:
 * a database outage must not make the orchestrator restart a healthy API.
 * /readyz says "requests would succeed": the database answers and the
 * schema has every migration this build ships.
 */
#include "apidb.h"
#include "config.h"
#include "handlers.h"
#include "log.h"
#include "migrate.h"
#include "paths.h"

#include <limits.h>
#include <stdio.h>

enum MHD_Result ep_healthz(struct MHD_Connection *conn, const struct api_request *req)
{
    (void)req;
    static const char body[] = "{\"status\":\"ok\"}";
    return http_reply_json(conn, MHD_HTTP_OK, body, sizeof body - 1);
}

enum MHD_Result ep_readyz(struct MHD_Connection *conn, const struct api_request *req)
{
    (void)req;
    char dir[PATH_MAX];
    char err[512];
    int pending = 0;
    if (paths_find(cfg->migrations_dir, "migrations", dir, sizeof dir) != 0)
        return reply_error(conn, MHD_HTTP_SERVICE_UNAVAILABLE, NULL,
                           "migrations directory not found");
    PGconn *db = apidb_conn();
    if (db == NULL)
        return reply_error(conn, MHD_HTTP_SERVICE_UNAVAILABLE, NULL, "database unavailable");
    if (migrate_pending(db, dir, &pending, err, sizeof err) != 0) {
        if (PQstatus(db) != CONNECTION_OK) {
            apidb_discard();
            return reply_error(conn, MHD_HTTP_SERVICE_UNAVAILABLE, NULL, "database unavailable");
        }
        log_msg(LOG_WARNING, "readyz: %s", err);
        return reply_error(conn, MHD_HTTP_SERVICE_UNAVAILABLE, NULL, "schema not migrated");
    }
    if (pending > 0) {
        char msg[64];
        snprintf(msg, sizeof msg, "%d migration%s pending", pending, pending == 1 ? "" : "s");
        return reply_error(conn, MHD_HTTP_SERVICE_UNAVAILABLE, NULL, msg);
    }
    static const char body[] = "{\"status\":\"ready\"}";
    return http_reply_json(conn, MHD_HTTP_OK, body, sizeof body - 1);
}
