/*
 * apidb — see apidb.h.
 */
#include "apidb.h"
#include "config.h"
#include "log.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Long enough for any of our queries on a big table, short enough that a
 * stuck query frees its worker before the client gives up. */
#define APIDB_STATEMENT_TIMEOUT_MS 10000
/* After a failed connect, every thread answers 503 at once for this long;
 * then one request (one thread at a time) tries again. */
#define APIDB_CONNECT_BACKOFF_MS 1000
/* How long a connect waits for the host name's lookup (resolve.h): a
 * resolver that never answers (the `db` container gone) costs the one
 * probing request this, not the resolver's own timeout. */
#define APIDB_RESOLVE_MS 2000
/* Warnings about a dead database: at most one per this period, all threads. */
#define APIDB_WARN_EVERY_MS 5000
/* The plan settings every connection runs with (connect_prepared sets
 * them); the log search changes them for its statement, and
 * apidb_set_timeout(c, 0, ...) puts back exactly these, not the server's
 * defaults (plan_cache_mode = auto would let a statement's plan turn
 * generic after five runs, and lose its optional filters' indexes). */
#define APIDB_PLAN_CACHE_MODE "force_custom_plan"
#define APIDB_ENABLE_SEQSCAN "on"

struct apidb_thread {
    PGconn *conn;
    int64_t connected_at_ms; /* monotonic */
};

static pthread_key_t thread_key;
static _Atomic int64_t last_warn_ms;
/* The database as all threads know it: the monotonic time of the last
 * failed connect (0 = not known down), and whether a thread is trying to
 * connect now. While it is known down, requests answer 503 at once instead
 * of each waiting for its own connect to fail. */
static _Atomic int64_t down_at_ms;
static atomic_int probing;

static void thread_free(void *p)
{
    struct apidb_thread *t = p;
    if (t == NULL)
        return;
    if (t->conn != NULL)
        PQfinish(t->conn);
    free(t);
}

int apidb_init(void)
{
    return pthread_key_create(&thread_key, thread_free) == 0 ? 0 : -1;
}

static void warn_limited(const char *what, const char *err)
{
    int64_t now = util_mono_ms();
    int64_t last = atomic_load(&last_warn_ms);
    if (now - last < APIDB_WARN_EVERY_MS && last != 0)
        return;
    if (atomic_compare_exchange_strong(&last_warn_ms, &last, now))
        log_msg(LOG_WARNING, "database: %s: %s", what, err);
}

static struct apidb_thread *thread_state(void)
{
    struct apidb_thread *t = pthread_getspecific(thread_key);
    if (t != NULL)
        return t;
    t = calloc(1, sizeof *t);
    if (t == NULL)
        return NULL;
    if (pthread_setspecific(thread_key, t) != 0) {
        free(t);
        return NULL;
    }
    return t;
}

static PGconn *connect_prepared(struct apidb_thread *t)
{
    char err[512];
    int64_t now = util_mono_ms();
    int64_t down = atomic_load(&down_at_ms);
    /* A connection older than the outage another thread found may lead to
     * a server that is gone without a word (a killed container): a query
     * on it would wait for TCP to give up. */
    if (t->conn != NULL && down != 0 && t->connected_at_ms <= down) {
        PQfinish(t->conn);
        t->conn = NULL;
    }
    if (t->conn != NULL)
        return t->conn;
    if (down != 0 && now - down < APIDB_CONNECT_BACKOFF_MS)
        return NULL;
    /* Known down: one thread tries again, the others answer 503 now. */
    int expected = 0;
    if (down != 0 && !atomic_compare_exchange_strong(&probing, &expected, 1))
        return NULL;
    int probe = down != 0;
    PGconn *c = db_connect_resolved(cfg->database_url, "fetcher-api", APIDB_STATEMENT_TIMEOUT_MS,
                                    APIDB_RESOLVE_MS, NULL, err, sizeof err);
    if (c == NULL)
        goto fail;
    /* Custom plans: our statements carry optional filters as
     * "$n IS NULL OR …", which only a plan made for the actual values can
     * turn into index scans. No parallel workers: the API's parallelism is
     * its worker threads; helpers per query would multiply backends under
     * load and slow every request down. */
    PGresult *r = PQexec(c, "SET plan_cache_mode = " APIDB_PLAN_CACHE_MODE ";"
                            " SET enable_seqscan = " APIDB_ENABLE_SEQSCAN ";"
                            " SET max_parallel_workers_per_gather = 0");
    if (db_classify(c, r) != DB_OK) {
        util_strlcpy(err, PQerrorMessage(c), sizeof err);
        PQclear(r);
        goto fail;
    }
    PQclear(r);
    if (db_prepare_all(c, api_sql, ARRAY_LEN(api_sql), err, sizeof err) != DB_OK)
        goto fail;
    t->conn = c;
    t->connected_at_ms = util_mono_ms();
    atomic_store(&down_at_ms, 0);
    if (probe)
        atomic_store(&probing, 0);
    return c;
fail:
    warn_limited("connect", err);
    if (c != NULL)
        PQfinish(c);
    now = util_mono_ms();
    atomic_store(&down_at_ms, now != 0 ? now : 1);
    if (probe)
        atomic_store(&probing, 0);
    return NULL;
}

PGconn *apidb_conn(void)
{
    struct apidb_thread *t = thread_state();
    return t != NULL ? connect_prepared(t) : NULL;
}

void apidb_discard(void)
{
    struct apidb_thread *t = pthread_getspecific(thread_key);
    if (t != NULL && t->conn != NULL) {
        PQfinish(t->conn);
        t->conn = NULL;
    }
}

/* One attempt of st on c; *timed_out when the server cancelled it for its
 * statement_timeout (SQLSTATE 57014). */
static enum db_status apidb_once(PGconn *c, enum api_stmt st, const char *const *params,
                                 PGresult **res, int *timed_out, char *err, size_t errlen)
{
    *res = NULL;
    PGresult *r = PQexecPrepared(c, api_sql[st].name, api_sql[st].nparams, params, NULL, NULL, 0);
    enum db_status rc = db_classify(c, r);
    if (rc == DB_OK) {
        *res = r;
        return DB_OK;
    }
    const char *state = r != NULL ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : NULL;
    *timed_out = state != NULL && strcmp(state, "57014") == 0;
    snprintf(err, errlen, "%s: %s", api_sql[st].name,
             r != NULL ? PQresultErrorMessage(r) : PQerrorMessage(c));
    char *nl = strchr(err, '\n');
    if (nl != NULL)
        *nl = '\0';
    PQclear(r);
    return rc;
}

/* The session's statement_timeout and plan settings, in one round trip;
 * 0 restores the connection's own (its timeout, APIDB_PLAN_CACHE_MODE,
 * APIDB_ENABLE_SEQSCAN, as connect_prepared set them). The
 * log search (SQL_LOGS_SEARCH) runs with a generic plan, planned once per
 * connection: planned per search across every day's trigram index it cost
 * as much as running it. Without sequential scans, so that a day that was
 * still empty when the plan was made (today, at midnight) is searched
 * through its index too once it fills. */
static enum db_status apidb_set_timeout(PGconn *c, int ms, enum api_stmt st)
{
    char v[24], err[256];
    snprintf(v, sizeof v, "%d", ms > 0 ? ms : APIDB_STATEMENT_TIMEOUT_MS);
    int generic = ms > 0 && st == SQL_LOGS_SEARCH;
    const char *params[3] = {v, generic ? "force_generic_plan" : APIDB_PLAN_CACHE_MODE,
                             generic ? "off" : APIDB_ENABLE_SEQSCAN};
    PGresult *r = NULL;
    int ignored = 0;
    enum db_status rc = apidb_once(c, SQL_SET_TIMEOUT, params, &r, &ignored, err, sizeof err);
    PQclear(r);
    return rc;
}

static enum db_status apidb_run(enum api_stmt st, const char *const *params, int timeout_ms,
                                PGresult **res, int *timed_out)
{
    char err[512];
    enum db_status rc = DB_RETRY;
    *res = NULL;
    *timed_out = 0;
    struct apidb_thread *t = thread_state();
    if (t == NULL)
        return DB_HARD;
    /* Two attempts: the first may run on a connection the server closed
     * since the last request (restart, idle timeout); that is the one case
     * a fresh connection fixes at once. A statement the server cancelled
     * for its time would only be cancelled again. */
    for (int attempt = 0; attempt < 2; attempt++) {
        PGconn *c = connect_prepared(t);
        if (c == NULL)
            return DB_RETRY;
        if (timeout_ms > 0)
            rc = apidb_set_timeout(c, timeout_ms, st);
        if (timeout_ms <= 0 || rc == DB_OK)
            rc = apidb_once(c, st, params, res, timed_out, err, sizeof err);
        if (timeout_ms > 0 && PQstatus(c) == CONNECTION_OK &&
            apidb_set_timeout(c, 0, st) != DB_OK) {
            /* a connection left with the short bound would cut the next
             * request's statement short: start afresh */
            PQfinish(c);
            t->conn = NULL;
        }
        if (rc == DB_OK)
            return DB_OK;
        if (rc == DB_HARD) {
            /* Our bug (bad SQL, bad cast): say so loudly, but only in our log. */
            log_msg(LOG_ERROR, "database: %s", err);
            return DB_HARD;
        }
        if (*timed_out)
            return DB_RETRY;
        warn_limited(api_sql[st].name, err);
        if (t->conn != NULL && PQstatus(c) != CONNECTION_OK) {
            PQfinish(c);
            t->conn = NULL;
        }
    }
    return rc;
}

enum db_status apidb_exec(enum api_stmt st, const char *const *params, PGresult **res)
{
    int timed_out;
    return apidb_run(st, params, 0, res, &timed_out);
}

enum db_status apidb_exec_bounded(enum api_stmt st, const char *const *params, int timeout_ms,
                                  PGresult **res, int *timed_out)
{
    return apidb_run(st, params, timeout_ms, res, timed_out);
}
