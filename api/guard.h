/*
 * guard — a deadline for a request's headers. libmicrohttpd's connection
 * timeout counts idle time, so a client that trickles one header byte every
 * few seconds (slowloris) holds its connection for ever; spread over many
 * addresses, such clients fill the connection limit and lock everyone out.
 * The guard gives the first request of a connection GUARD_FIRST_S and each
 * later one (keep-alive) GUARD_NEXT_S from the end of the previous one to
 * arrive whole; a sweeper thread then shuts the socket down (shutdown(2),
 * never close: the descriptor stays MHD's, which sees end-of-file and
 * closes the connection itself).
 *
 * What it is not: a rate limiter. Requests whose headers arrived, event
 * streams included, are never touched.
 */
#ifndef FETCHER_API_GUARD_H
#define FETCHER_API_GUARD_H

#include "util.h"

#include <microhttpd.h>

#define GUARD_FIRST_S 10
#define GUARD_NEXT_S 30

/* Starts the sweeper thread. Returns 0 or -1. */
int guard_start(void) MUST_CHECK;
/* Stops and joins it (after MHD_stop_daemon). */
void guard_stop(void);

/* For MHD_OPTION_NOTIFY_CONNECTION. */
void guard_notify(void *cls, struct MHD_Connection *conn, void **socket_context,
                  enum MHD_ConnectionNotificationCode code);
/* A request's headers are complete (the access handler runs). */
void guard_headers_done(struct MHD_Connection *conn);
/* A request ended: the next one on this connection gets GUARD_NEXT_S. */
void guard_request_done(struct MHD_Connection *conn);
/* Connections shut down for missing their deadline so far. */
uint64_t guard_expired(void);

#endif
