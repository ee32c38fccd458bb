/*
 * ep_start — what a new user needs before there is any data:
 *
 *   GET  /api/fetcher/openapi.json   the API's contract (OpenAPI 3.1)
 *   POST /api/fetcher/demo           load the demo data into an empty database
 *
 * Both files are built into the binary (the assembler's .incbin, below), so
 * the answer is the document the binary was built with, wherever it runs:
 * no path to find at run time, no copy to fall out of date. The Makefile
 * makes this object depend on both files.
 *
 * The demo load is a write like any other (auth.h, crosssite.h). It runs
 * demo/seed.sql — the file `make run` and the Docker demo load — in one
 * transaction of its own (the file's BEGIN … COMMIT), only into a database
 * without assets or portfolios (409 otherwise: demo data mixed into a
 * user's own would be hard to take out again), then logs it and asks for a
 * cycle (NOTIFY fetcher_trigger), as trigger-update does.
 */
#include "apidb.h"
#include "auth.h"
#include "handlers.h"
#include "log.h"

#include <stdio.h>
#include <string.h>

/* The embedded files, each NUL-terminated; _end is one past the NUL. */
extern const char ept_openapi_json[], ept_openapi_json_end[];
extern const char ept_demo_sql[], ept_demo_sql_end[];
__asm__(".section .rodata\n"
        ".global ept_openapi_json\n"
        ".global ept_openapi_json_end\n"
        "ept_openapi_json:\n"
        ".incbin \"api/openapi.json\"\n"
        ".byte 0\n"
        "ept_openapi_json_end:\n"
        ".global ept_demo_sql\n"
        ".global ept_demo_sql_end\n"
        "ept_demo_sql:\n"
        ".incbin \"demo/seed.sql\"\n"
        ".byte 0\n"
        "ept_demo_sql_end:\n"
        ".previous\n");

enum MHD_Result ep_openapi(struct MHD_Connection *conn, const struct api_request *req)
{
    (void)req;
    size_t len = (size_t)(ept_openapi_json_end - ept_openapi_json) - 1;
    return http_reply_json(conn, MHD_HTTP_OK, ept_openapi_json, len);
}

enum MHD_Result ep_demo_load(struct MHD_Connection *conn, const struct api_request *req)
{
    (void)req;
    char client[64], msg[160];
    enum MHD_Result ret;
    PGresult *r = NULL;
    if (!auth_write_allowed(conn, client, sizeof client, &ret))
        return ret;
    enum db_status st = apidb_exec(SQL_DEMO_CHECK, NULL, &r);
    if (st != DB_OK)
        return http_reply_db(conn, st);
    int empty = PQntuples(r) == 1 && strcmp(PQgetvalue(r, 0, 0), "0") == 0 &&
                strcmp(PQgetvalue(r, 0, 1), "0") == 0;
    PQclear(r);
    r = NULL;
    if (!empty)
        return reply_error(conn, MHD_HTTP_CONFLICT, NULL,
                           "the demo data loads into an empty database only: this one already "
                           "has assets or portfolios");
    PGconn *c = apidb_conn();
    if (c == NULL)
        return http_reply_db(conn, DB_RETRY);
    /* The seed is a script (BEGIN … COMMIT), not one statement: the simple
     * query protocol runs it as the file says, as psql would. */
    PGresult *res = PQexec(c, ept_demo_sql);
    enum db_status rs = db_classify(c, res);
    PQclear(res);
    if (rs != DB_OK) {
        /* an error inside the script leaves its transaction open, aborted */
        PQclear(PQexec(c, "ROLLBACK"));
        if (PQstatus(c) != CONNECTION_OK)
            apidb_discard();
        log_msg(LOG_WARNING, "demo data not loaded (another client loaded some data first?)");
        return reply_error(conn, rs == DB_RETRY ? MHD_HTTP_SERVICE_UNAVAILABLE : MHD_HTTP_CONFLICT,
                           NULL,
                           "the demo data could not be loaded: the database is no longer empty");
    }
    char payload[128];
    snprintf(payload, sizeof payload, "{\"source\":\"api\",\"client\":\"%s\",\"reason\":\"demo\"}",
             client);
    const char *params[2] = {client, payload};
    st = apidb_exec(SQL_DEMO_DONE, params, &r);
    if (st != DB_OK)
        return http_reply_db(conn, st);
    snprintf(msg, sizeof msg,
             "{\"success\":true,\"message\":\"Demo data loaded; a cycle was triggered\","
             "\"assets\":%s,\"portfolios\":%s,\"tracked\":%s}",
             PQgetvalue(r, 0, 0), PQgetvalue(r, 0, 1), PQgetvalue(r, 0, 2));
    ret = http_reply_json(conn, MHD_HTTP_CREATED, msg, strlen(msg));
    PQclear(r);
    return ret;
}
