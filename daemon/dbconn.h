/*
 * dbconn — fetcherd's PostgreSQL connection, driven by the loop: connects
 * without blocking, prepares the daemon's statement table, LISTENs for
 * notifications, runs queued statements one at a time, and reconnects with
 * exponential backoff (1, 2, 4 … 30 s) whenever the server goes away.
 *
 * Statements run in FIFO order. When the connection breaks, the one in
 * flight and every queued one fail with DB_RETRY: the in-flight one's effect
 * is unknown (callers make writes idempotent and send them again), and a
 * queued read must not wait for the whole outage (a cycle then uses its
 * last asset list).
 */
#ifndef FETCHER_DBCONN_H
#define FETCHER_DBCONN_H

#include "db.h"
#include "loop.h"

#include <libpq-fe.h>

struct dbconn;

/* res is borrowed for the call and non-NULL only when st == DB_OK. */
typedef void (*dbconn_cb)(const PGresult *res, enum db_status st, const char *err, void *cls);

struct dbconn_events {
    /* A NOTIFY arrived on one of the LISTEN channels (strings borrowed). */
    void (*notify)(const char *channel, const char *payload, void *cls);
    /* The connection became usable (up = 1) or was lost (up = 0). Runs
     * from the loop, never inside dbconn_query. */
    void (*state)(int up, void *cls);
    void *cls;
};

/* Starts connecting at once. stmts and channels are borrowed and must
 * outlive the dbconn. Returns NULL when out of memory. */
struct dbconn *dbconn_new(struct loop *l, const char *url, const struct db_stmt *stmts, size_t n,
                          const char *const *channels, const struct dbconn_events *ev);
/* Closes the connection; queued statements are dropped without their
 * callbacks (their owners are being torn down too). NULL is a no-op. */
void dbconn_free(struct dbconn *d);

/* Queues prepared statement name with params (copied; NULL entries are SQL
 * NULL). cb runs exactly once, always from the loop and never inside this
 * call, even when the send fails at once (the socket already reset): a
 * caller may record that it waits after this returns 0. Returns 0, or -1
 * (the connection is not up, queue full, out of memory) and cb never runs:
 * callers need not check dbconn_is_up() first. Writes and events go through the writer instead
 * (see writer.h for the ordering rule). */
int dbconn_query(struct dbconn *d, const char *name, int nparams, const char *const *params,
                 dbconn_cb cb, void *cls) MUST_CHECK;

/* Same, but the parameter strings are borrowed, not copied: they must stay
 * valid until cb runs (or the dbconn is freed). For large batches whose
 * owner keeps them until written anyway. */
int dbconn_query_borrowed(struct dbconn *d, const char *name, int nparams,
                          const char *const *params, dbconn_cb cb, void *cls) MUST_CHECK;

/* For the few that decide on it (the writer: retry or drop; the
 * scheduler: wait for the first connection), not as a guard before
 * dbconn_query. */
int dbconn_is_up(const struct dbconn *d);
/* While down and waiting out the reconnect backoff: tries now (shutdown
 * gives a database that is away one chance to take the last rows). */
void dbconn_retry_now(struct dbconn *d);
/* Statements waiting or in flight. */
size_t dbconn_queued(const struct dbconn *d);
/* "ok", "connecting" or "reconnecting"; and the last connection error. */
const char *dbconn_state(const struct dbconn *d);
const char *dbconn_last_error(const struct dbconn *d);

#endif
