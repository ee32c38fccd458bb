/*
 * writer — everything fetcherd writes to PostgreSQL goes through here, in
 * order: log rows, cycle rows, per-asset results, statistics, portfolio
 * recalculation. Statements wait in a bounded in-memory FIFO and are sent one
 * at a time through dbconn; while the database is away they stay buffered
 * and are sent, in order, when it returns. Rows carry idempotency keys
 * (instance_id, seq), so a statement re-sent after an ambiguous failure
 * never writes a row twice.
 *
 * The one ordering rule of fetcherd's database traffic: statements reach
 * PostgreSQL in the order they were submitted here. So every write, and
 * every event that names a written row (heartbeats, progress NOTIFYs), goes
 * through the writer; dbconn_query directly is only for reads and for
 * maintenance that names no row of ours (retention, the stale-cycle check).
 *
 * Log rows of one loop iteration travel as one statement. When the buffer
 * is full the oldest log statements are dropped first (and counted); data
 * (cycles, prices, updates) goes last, and a cycle's row and results go
 * together (see `unit` below): never results without their cycle.
 */
#ifndef FETCHER_WRITER_H
#define FETCHER_WRITER_H

#include "dbconn.h"
#include "log.h"
#include "loop.h"

#include <json-c/json.h>
#include <stdint.h>

struct writer;

/* What a statement holds decides what goes first when the buffer is full:
 * DEBUG/INFO logs, then other logs, then other data, and price / update
 * rows last of all. */
enum writer_kind { WRITE_LOG_LOW, WRITE_LOG, WRITE_DATA, WRITE_PRICES };

/* written = 1 once committed, 0 if dropped (buffer full, or refused by the
 * database as invalid — logged as an error). res is the statement's result
 * when written (borrowed for the call), else NULL. */
typedef void (*writer_cb)(int written, const PGresult *res, void *cls);

struct writer_stats {
    size_t buffered_rows, buffered_statements;
    uint64_t written_rows, dropped_rows, retries;
    uint64_t dropped_by_kind[4];
};

/* instance_id is copied. max_rows bounds the buffer. */
struct writer *writer_new(struct loop *l, struct dbconn *db, const char *instance_id,
                          size_t max_rows);
/* Frees the writer; statements still buffered are lost, and their callbacks
 * run with written = 0 (so owners release what they hold). Free the dbconn
 * first: nothing may be in flight. */
void writer_free(struct writer *w);

/* Queues statement stmt with nparams params (copied) standing for `rows`
 * rows. cb (may be NULL) runs exactly once. Returns 0 or -1 (out of memory;
 * cb never runs). */
int writer_submit(struct writer *w, enum writer_kind kind, const char *stmt, int nparams,
                  const char *const *params, size_t rows, writer_cb cb, void *cls) MUST_CHECK;

/* A statement that is news only now (a heartbeat, a progress NOTIFY):
 * refused (-1, cb never runs) unless the database is up, and dropped
 * (cb gets 0) if the connection goes before it is sent; never buffered
 * across an outage, never retried, takes no room in the buffer. Like
 * every statement here it reaches the database after everything
 * submitted before it, so an event never precedes the row it names. */
int writer_submit_news(struct writer *w, const char *stmt, int nparams, const char *const *params,
                       writer_cb cb, void *cls) MUST_CHECK;

/* Same for a one-parameter statement whose parameter (malloc'd) the writer
 * takes, to spare a copy of a large batch. On -1 the caller still owns it.
 * unit > 0 (a cycle's number) ties the statement to every other one of the
 * same unit: when the buffer is full they are dropped together, and those
 * submitted after are dropped on arrival (cb gets 0, from inside this
 * call); unless one of them is already in flight, when none is dropped.
 * 0: a statement of its own. */
int writer_submit_take(struct writer *w, enum writer_kind kind, const char *stmt, char *param,
                       size_t rows, int64_t unit, writer_cb cb, void *cls) MUST_CHECK;

/* Queues a one-parameter statement whose parameter is built by build(cls)
 * only when it reaches the head of the FIFO (its place in the order is
 * taken now). A large batch then exists in memory only while it is being
 * written, not for as long as the statements before it wait. build returns
 * a malloc'd string the writer frees, or NULL (out of memory: the
 * statement is dropped and cb gets 0). */
int writer_submit_lazy(struct writer *w, enum writer_kind kind, const char *stmt, size_t rows,
                       int64_t unit, char *(*build)(void *cls), writer_cb cb, void *cls) MUST_CHECK;

/* Prints the event on stdout and queues a fetcher_logs row. cycle_seq is
 * this instance's cycle number or 0; context (may be NULL) is taken. */
void writer_log(struct writer *w, enum log_level level, int64_t cycle_seq, json_object *context,
                const char *fmt, ...) __attribute__((format(printf, 5, 6)));

/* A fresh per-instance sequence number for an idempotency key. */
int64_t writer_next_seq(struct writer *w);

/* Seals the pending log rows into a statement and sends the next statement
 * if the database is up. Called from the loop's before-sleep step. */
void writer_flush(struct writer *w);

/* 1 when nothing is buffered or in flight. */
int writer_idle(const struct writer *w);
void writer_get_stats(const struct writer *w, struct writer_stats *out);
/* Rows dropped since the last call (and resets the count), for a log row
 * once the database is back. */
uint64_t writer_take_dropped(struct writer *w);

#endif
