/*
 * check — `fetcherd check`: one request per provider for a symbol it
 * certainly knows (yahoo AAPL, coingecko bitcoin, fx EUR), printing what
 * came back (price, currency, market time, latency) or exactly why not: the
 * host name, the connection, TLS, the HTTP status, a refusal (401/403, a
 * block or consent page), an answer of the wrong shape. The first thing to
 * run when `make run` or `docker compose up` shows failed updates.
 *
 * What it is not: a cycle. It touches no database, goes around the fetch
 * queue (one request each, no retries), and reads the same configuration
 * (base URLs, keys, timeouts) the daemon would.
 */
#ifndef FETCHER_CHECK_H
#define FETCHER_CHECK_H

#include "config.h"

/* Runs the checks, printing one line per provider to stdout. Returns 0
 * when every provider gave a valid price, 1 when one did not, 2 when the
 * check itself could not run (out of memory). */
int check_run(const struct config *c);

#endif
