/*
 * db — what both programs need from libpq: connecting with our session
 * settings, preparing a table of named statements, tri-state results and
 * the one transaction helper.
 *
 * Blocking by design: fetcher-api's worker threads each own a connection and
 * `fetcherd migrate` runs before the loop starts. The daemon's loop never
 * calls these blocking functions; it talks to PostgreSQL through
 * daemon/dbconn.c, which uses the same statement tables and db_classify().
 */
#ifndef FETCHER_DB_H
#define FETCHER_DB_H

#include "resolve.h"
#include "util.h"

#include <libpq-fe.h>

/* Hard: our bug or bad data (syntax, constraint) — retrying will not help.
 * Retry: the environment (connection lost, serialization failure, deadlock,
 * admin shutdown) — the same work may succeed later. */
enum db_status { DB_OK = 0, DB_RETRY = -1, DB_HARD = -2 };

struct db_stmt {
    const char *name;
    const char *sql;
    int nparams; /* parameter types are inferred by the server */
};

/* Classifies a finished result (NULL = connection-level failure). */
enum db_status db_classify(PGconn *conn, const PGresult *res);

/* Connects with keepalives, a connect timeout, application_name and a
 * statement_timeout (ms, 0 = none). Returns NULL with err filled. The caller
 * owns the connection (PQfinish). */
PGconn *db_connect(const char *url, const char *app_name, int statement_timeout_ms, char *err,
                   size_t errlen);

/* Starts a non-blocking connection with the same settings (PQconnectPoll
 * finishes it). Returns NULL only when out of memory. */
PGconn *db_connect_start(const char *url, const char *app_name, int statement_timeout_ms);

/* The hosts of a connection string, for looking their names up off the
 * connecting thread (resolve.h): libpq then gets each address as hostaddr,
 * with host kept for TLS, SNI and .pgpass. */
#define DB_MAX_HOSTS 4
struct db_hosts {
    int n;       /* entries of the URL's host list (or PGHOST) */
    int lookups; /* how many of them are names to look up; 0: connect as is */
    char name[DB_MAX_HOSTS][256];
    char port[DB_MAX_HOSTS][16];               /* "" when the URL names none for it */
    int lookup[DB_MAX_HOSTS];                  /* 1: a name (not an address, not a socket dir) */
    struct resolve_answer found[DB_MAX_HOSTS]; /* filled by the caller */
};

/* Fills h from url. h->lookups == 0 (an address, a socket, hostaddr given,
 * more hosts than DB_MAX_HOSTS, a string libpq will reject itself): connect
 * with the URL as it is. */
void db_hosts_parse(const char *url, struct db_hosts *h);

/* db_connect_start for a URL whose names h has looked up: each address of
 * a name becomes a host entry of its own (libpq tries them in turn). A
 * name that did not resolve is left out; when nothing is left, returns NULL
 * with err saying which name did not resolve and why. */
PGconn *db_connect_start_hosts(const char *url, const char *app_name, int statement_timeout_ms,
                               const struct db_hosts *h, char *err, size_t errlen);

/* db_connect, with the host names looked up by resolve_wait() first (at
 * most resolve_ms each; *stop, may be NULL, cuts the wait short): a
 * resolver that does not answer costs resolve_ms, never its own timeout. */
PGconn *db_connect_resolved(const char *url, const char *app_name, int statement_timeout_ms,
                            int resolve_ms, volatile const int *stop, char *err, size_t errlen);

/* Prepares every statement of the table on conn. */
enum db_status db_prepare_all(PGconn *conn, const struct db_stmt *table, size_t n, char *err,
                              size_t errlen) MUST_CHECK;

/* Runs a prepared statement. On DB_OK *res holds the result (caller clears it);
 * otherwise *res is NULL and err says why. */
enum db_status db_exec(PGconn *conn, const char *name, int nparams, const char *const *params,
                       PGresult **res, char *err, size_t errlen) MUST_CHECK;

/* Runs fn inside BEGIN … COMMIT, retrying the whole transaction up to
 * max_tries times while it (or the commit) fails with DB_RETRY. fn returns a
 * db_status; anything but DB_OK rolls back. */
enum db_status db_run_tx(PGconn *conn, int max_tries,
                         enum db_status (*fn)(PGconn *conn, void *cls, char *err, size_t errlen),
                         void *cls, char *err, size_t errlen) MUST_CHECK;

#endif
