/*
 * pg_fault — the real PostgreSQL of tests/run.sh (PGLOCAL_PORT), for unit
 * tests that link the daemon's database modules: a database of the test's
 * own, migrated by the real migrate_run, and a TCP relay on the test's
 * loop between the code under test and the server, through which the
 * connection fails for real:
 *
 *   pgr_half_close  the relay says goodbye (FIN) and stops reading, as a
 *                   server does that is going away: a send larger than the
 *                   socket buffers then fails inside PQsendQueryPrepared,
 *                   and any later read finds the end of the stream;
 *   pgr_cut         both sides closed, and every new connection closed at
 *                   once (the database is unreachable) until pgr_restore.
 *
 * No hook inside dbconn, no fake libpq: libpq sees what it would see.
 */
#ifndef FETCHER_TEST_PG_FAULT_H
#define FETCHER_TEST_PG_FAULT_H

#include "loop.h"

#include <libpq-fe.h>

/* PGLOCAL_PORT, or 0 when the test does not run under tests/run.sh. */
int pgf_port(void);

/* Creates database <prefix>_<pid> and applies migrations/ to it. Returns
 * a blocking connection to it for the test's own checks (NULL on
 * failure, with the reason on stderr); *dbname gets its name. */
PGconn *pgf_create_db(const char *prefix, char *dbname, size_t len);
/* Closes conn and drops the database. */
void pgf_drop_db(PGconn *conn, const char *dbname);
/* The value of a one-value query as a number; -1 on error (printed). */
long long pgf_value(PGconn *conn, const char *sql);
/* Runs sql; 0 or -1 (printed). */
int pgf_exec(PGconn *conn, const char *sql);

struct pg_relay;

/* Listens on an ephemeral loopback port and relays each connection to
 * the server at pg_port, on loop. NULL on failure. */
struct pg_relay *pgr_start(struct loop *l, int pg_port);
int pgr_port(const struct pg_relay *r);
/* Connections relayed so far. */
int pgr_accepted(const struct pg_relay *r);
void pgr_half_close(struct pg_relay *r);
void pgr_cut(struct pg_relay *r);
void pgr_restore(struct pg_relay *r);
void pgr_stop(struct pg_relay *r);

#endif
