/*
 * migrate — applies migrations/NNN_name.sql in order, each in its own
 * transaction, recorded in schema_migrations with an md5 checksum, under a
 * PostgreSQL advisory lock so two starting instances never race. A file that
 * changed after it was applied is refused: history is not rewritten silently.
 *
 * Blocking; runs before fetcherd's loop starts, and for /readyz.
 */
#ifndef FETCHER_MIGRATE_H
#define FETCHER_MIGRATE_H

#include "util.h"

#include <libpq-fe.h>

/* Applies every pending migration in dir. *applied (may be NULL) gets the
 * number applied now. Returns 0, or -1 with one line in err. */
int migrate_run(PGconn *conn, const char *dir, int *applied, char *err, size_t errlen) MUST_CHECK;

/* Counts migration files in dir not (yet) recorded as applied. Returns 0 and
 * sets *pending, or -1 with err. Does not lock or change anything. */
int migrate_pending(PGconn *conn, const char *dir, int *pending, char *err,
                    size_t errlen) MUST_CHECK;

#endif
