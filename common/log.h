/*
 * log — one line per event on stdout, for people and for `docker compose
 * logs`. Not the fetcher_logs table: the daemon's writer stores those rows;
 * this module only prints (and is what remains when the database is away).
 */
#ifndef FETCHER_LOG_H
#define FETCHER_LOG_H

#include "util.h"

enum log_level { LOG_DEBUG = 0, LOG_INFO, LOG_WARNING, LOG_ERROR, LOG_CRITICAL };

/* "DEBUG" … "CRITICAL"; the names stored in fetcher_logs.level. */
const char *log_level_name(enum log_level level);
/* Case-insensitive name → level. Returns 0 or -1 for an unknown name. */
int log_level_parse(const char *name, enum log_level *out) MUST_CHECK;

/* Lines below this level are not printed (default INFO). */
void log_set_min_level(enum log_level level);
/* Prefix for every line, e.g. the program name. Borrowed; must outlive use. */
void log_set_program(const char *name);

/* Prints "2026-11-21T05:15:46.123Z fetcherd INFO message" and a newline;
 * the message is cut at 2 KiB and control characters are replaced, so one
 * event is always one line. */
void log_msg(enum log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* For every "cannot happen": FETCHER_ASSERT(cond) is 1 when cond holds;
 * otherwise it logs "CRITICAL bug: FETCHER_ASSERT(cond) failed at
 * file:line" and, in a test build (FETCHER_TEST_BUILD: the SAN=1 build),
 * aborts, so a test sees our bug as a crash; in production it is 0 and the
 * caller takes its safe way out (never a silent one, never "out of
 * memory"):  if (!FETCHER_ASSERT(o == first)) return;  */
#define FETCHER_ASSERT(cond) ((cond) ? 1 : (log_bug(#cond, __FILE__, __LINE__), 0))
void log_bug(const char *cond, const char *file, int line);

#endif
