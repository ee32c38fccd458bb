/*
 * auth — who may call fetcher-api's write endpoints (trigger-update, track,
 * untrack, refresh, pause, resume).
 *
 * With FETCHER_API_TOKEN set: a client presenting it as a Bearer token,
 * compared in constant time. Without it: clients on the loopback address
 * only, so a default install cannot be steered from the network.
 *
 * Loopback is not "this user": every web page the user opens runs on it
 * too. crosssite.h refuses what such a page could send before any write
 * reaches these checks.
 *
 * Not here: what the endpoints do.
 */
#ifndef FETCHER_API_AUTH_H
#define FETCHER_API_AUTH_H

#include "util.h"

#include <microhttpd.h>
#include <stddef.h>

/* 1 when given equals expected, in time that depends on expected's length
 * only. */
int auth_token_equal(const char *given, size_t glen, const char *expected);

/* Checks the request. Returns 1 when it may write (client gets the
 * numeric client address, for logs and payloads); otherwise 0 after
 * queueing the 401/403 answer, whose result is in *reply. */
int auth_write_allowed(struct MHD_Connection *conn, char *client, size_t clientlen,
                       enum MHD_Result *reply) MUST_CHECK;

#endif
