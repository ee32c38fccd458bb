/*
 * db — see db.h.
 */
#include "db.h"

#include <stdio.h>
#include <string.h>

enum db_status db_classify(PGconn *conn, const PGresult *res)
{
    if (conn != NULL && PQstatus(conn) == CONNECTION_BAD)
        return DB_RETRY;
    if (res == NULL)
        return DB_RETRY;
    switch (PQresultStatus(res)) {
    case PGRES_COMMAND_OK:
    case PGRES_TUPLES_OK:
    case PGRES_SINGLE_TUPLE:
    case PGRES_PIPELINE_SYNC:
        return DB_OK;
    default:
        break;
    }
    const char *state = PQresultErrorField(res, PG_DIAG_SQLSTATE);
    if (state == NULL)
        return DB_RETRY; /* no SQLSTATE: a client-side (connection) failure */
    /* 08: connection exception; 40001/40P01: serialization / deadlock;
     * 57P0x: shutdown or crash of the server; 53: insufficient resources;
     * 57014: statement timeout (the server was slow, not wrong). */
    if (strncmp(state, "08", 2) == 0 || strcmp(state, "40001") == 0 ||
        strcmp(state, "40P01") == 0 || strncmp(state, "57P0", 4) == 0 ||
        strncmp(state, "53", 2) == 0 || strcmp(state, "57014") == 0)
        return DB_RETRY;
    return DB_HARD;
}

static void db_first_line(char *err, size_t errlen, const char *prefix, const char *msg)
{
    snprintf(err, errlen, "%s%s", prefix, msg ? msg : "unknown error");
    char *nl = strchr(err, '\n');
    if (nl)
        *nl = '\0';
}

/* NOTICEs ("relation already exists, skipping") are chatter, not events. */
static void db_ignore_notice(void *arg, const char *message)
{
    (void)arg;
    (void)message;
}

static PGconn *db_connect_with(const char *url, const char *app_name, int statement_timeout_ms,
                               int nonblocking)
{
    char options[96];
    /* JIT compilation costs a second on statements the planner misjudges
     * as huge (the portfolio recalculation) and never pays off on ours,
     * which are short. */
    snprintf(options, sizeof options, "-c statement_timeout=%d -c jit=off", statement_timeout_ms);
    /* expand_dbname lets DATABASE_URL be a URI or key=value string; the later
     * keywords fill in what it does not say. Keepalives make a dead server
     * visible within seconds instead of at the next write. */
    const char *keys[] = {"dbname",           "application_name", "connect_timeout",
                          "keepalives",       "keepalives_idle",  "keepalives_interval",
                          "keepalives_count", "options",          NULL};
    const char *vals[] = {url, app_name, "5", "1", "5", "2", "3", options, NULL};
    PGconn *c =
        nonblocking ? PQconnectStartParams(keys, vals, 1) : PQconnectdbParams(keys, vals, 1);
    if (c != NULL)
        PQsetNoticeProcessor(c, db_ignore_notice, NULL);
    return c;
}

PGconn *db_connect_start(const char *url, const char *app_name, int statement_timeout_ms)
{
    return db_connect_with(url, app_name, statement_timeout_ms, 1);
}

PGconn *db_connect(const char *url, const char *app_name, int statement_timeout_ms, char *err,
                   size_t errlen)
{
    PGconn *conn = db_connect_with(url, app_name, statement_timeout_ms, 0);
    if (conn == NULL) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    if (PQstatus(conn) != CONNECTION_OK) {
        db_first_line(err, errlen, "", PQerrorMessage(conn));
        PQfinish(conn);
        return NULL;
    }
    return conn;
}

enum db_status db_prepare_all(PGconn *conn, const struct db_stmt *table, size_t n, char *err,
                              size_t errlen)
{
    for (size_t i = 0; i < n; i++) {
        PGresult *r = PQprepare(conn, table[i].name, table[i].sql, table[i].nparams, NULL);
        enum db_status st = db_classify(conn, r);
        if (st != DB_OK) {
            char prefix[96];
            snprintf(prefix, sizeof prefix, "prepare %s: ", table[i].name);
            db_first_line(err, errlen, prefix, r ? PQresultErrorMessage(r) : PQerrorMessage(conn));
            PQclear(r);
            return st;
        }
        PQclear(r);
    }
    return DB_OK;
}

enum db_status db_exec(PGconn *conn, const char *name, int nparams, const char *const *params,
                       PGresult **res, char *err, size_t errlen)
{
    *res = NULL;
    PGresult *r = PQexecPrepared(conn, name, nparams, params, NULL, NULL, 0);
    enum db_status st = db_classify(conn, r);
    if (st != DB_OK) {
        char prefix[96];
        snprintf(prefix, sizeof prefix, "%s: ", name);
        db_first_line(err, errlen, prefix, r ? PQresultErrorMessage(r) : PQerrorMessage(conn));
        PQclear(r);
        return st;
    }
    *res = r;
    return DB_OK;
}

static enum db_status db_simple(PGconn *conn, const char *sql, char *err, size_t errlen)
{
    PGresult *r = PQexec(conn, sql);
    enum db_status st = db_classify(conn, r);
    if (st != DB_OK)
        db_first_line(err, errlen, "", r ? PQresultErrorMessage(r) : PQerrorMessage(conn));
    PQclear(r);
    return st;
}

enum db_status db_run_tx(PGconn *conn, int max_tries,
                         enum db_status (*fn)(PGconn *, void *, char *, size_t), void *cls,
                         char *err, size_t errlen)
{
    enum db_status st = DB_HARD;
    for (int attempt = 0; attempt < max_tries; attempt++) {
        if (PQstatus(conn) == CONNECTION_BAD) {
            PQreset(conn);
            if (PQstatus(conn) != CONNECTION_OK) {
                db_first_line(err, errlen, "", PQerrorMessage(conn));
                st = DB_RETRY;
                continue;
            }
        }
        st = db_simple(conn, "BEGIN", err, errlen);
        if (st == DB_OK)
            st = fn(conn, cls, err, errlen);
        if (st == DB_OK)
            st = db_simple(conn, "COMMIT", err, errlen);
        if (st == DB_OK)
            return DB_OK;
        if (PQtransactionStatus(conn) != PQTRANS_IDLE && PQstatus(conn) == CONNECTION_OK) {
            char ignored[8];
            (void)db_simple(conn, "ROLLBACK", ignored, sizeof ignored);
        }
        if (st != DB_RETRY)
            return st;
    }
    return st;
}
