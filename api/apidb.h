/*
 * apidb — one PostgreSQL connection per worker thread of fetcher-api.
 *
 * Each of MHD's pool threads lazily opens its own connection on its first
 * request, prepares the whole statement table (sql.h) once, and keeps it
 * until the thread ends (a pthread key destructor closes it). No locks: a
 * connection is never shared, so a slow query stalls one worker only.
 *
 * Failure policy: a retryable failure (db_classify() == DB_RETRY, e.g. the
 * server restarted) drops a broken connection, reconnects once and runs the
 * statement again (not one cancelled by its statement_timeout); a second failure is reported to the
 * caller, who answers 503. After a failed connect the thread does not try again for a second, so a
 * dead database costs each request one refused connect at most.
 */
#ifndef FETCHER_API_APIDB_H
#define FETCHER_API_APIDB_H

#include "db.h"
#include "sql.h"
#include "util.h"

#include <libpq-fe.h>

/* Creates the thread key. Call once before the server starts. Returns 0/-1. */
int apidb_init(void) MUST_CHECK;

/* Runs statement st with params (text, NULL = SQL NULL; api_sql[st].nparams
 * of them). DB_OK: *res is the result, the caller PQclear()s it. Otherwise
 * *res is NULL and the reason has been logged (never shown to clients). */
enum db_status apidb_exec(enum api_stmt st, const char *const *params, PGresult **res) MUST_CHECK;

/* The same, with the statement's time bounded to timeout_ms (> 0) instead
 * of the connection's 10 s. When the server cancels it for that bound the
 * answer is DB_RETRY with *timed_out = 1, and it is not run again. */
enum db_status apidb_exec_bounded(enum api_stmt st, const char *const *params, int timeout_ms,
                                  PGresult **res, int *timed_out) MUST_CHECK;

/* This thread's connection (connecting if needed), for the few callers that
 * run their own unprepared SQL (migrate_pending for /readyz). NULL when the
 * database is unreachable. Borrowed: valid until this thread's next apidb
 * call. */
PGconn *apidb_conn(void);

/* After a borrower saw a connection-level failure: drop the connection so the
 * next call reconnects. */
void apidb_discard(void);

#endif
