/*
 * events — GET /api/fetcher/events: Server-Sent Events fed by
 * LISTEN fetcher_events.
 *
 * One listener thread with its own PostgreSQL connection (LISTEN, then poll
 * on PQsocket; reconnect with backoff 1 s … 30 s) turns each notification
 * into an event with this process's next id (1, 2, …) and keeps the last
 * EVENTS_RING of them in memory. Streams are MHD callback responses: a
 * stream with nothing to send suspends its connection (no worker thread is
 * held, no busy loop) and the listener resumes it when an event or the
 * keep-alive is due. A client's pending events are the part of the shared
 * ring it has not sent yet; one that falls EVENTS_MAX_BEHIND events behind
 * is ended (counted) and may reconnect with Last-Event-ID.
 *
 * Last-Event-ID: events after it are replayed when it is still in the ring;
 * otherwise (too old, or from an earlier process) the stream starts with an
 * event "reset" telling the client to reload its state. After the listener
 * lost its connection a "reset" is broadcast too: notifications may have
 * been missed meanwhile.
 *
 * Not here: what the daemon sends (DESIGN: JSON objects with a "type").
 */
#ifndef FETCHER_API_EVENTS_H
#define FETCHER_API_EVENTS_H

#include "http.h"

#include <microhttpd.h>
#include <stdint.h>

#define EVENTS_RING 256
#define EVENTS_MAX_BEHIND 200
#define EVENTS_KEEPALIVE_S 15

/* Starts the listener thread; max_clients streams at once (more get 503).
 * Returns 0/-1. */
int events_start(int max_clients) MUST_CHECK;

/* Stops the listener and ends every stream (resuming suspended ones, as MHD
 * requires before MHD_stop_daemon). Waits up to wait_ms for them to close. */
void events_stop(int wait_ms);

/* The handler of GET /api/fetcher/events. */
enum MHD_Result events_serve(struct MHD_Connection *conn, const struct api_request *req) MUST_CHECK;

/* Counters for /metrics. */
struct events_stats {
    int64_t clients;      /* streams open now */
    int64_t received;     /* notifications turned into events */
    int64_t invalid;      /* notifications dropped: not an object with a type */
    int64_t dropped_slow; /* streams ended for falling behind */
    int64_t refused;      /* streams refused at the client cap */
    int64_t listener_up;  /* 1 while the LISTEN connection is up */
};
void events_get_stats(struct events_stats *s);

/* Validates a notification payload: a JSON object whose "type" is 1..32 of
 * [a-z_]. Returns the payload re-serialised on one line (malloc'd, the
 * caller frees) and the type in type (at least 33 bytes); NULL when invalid.
 * Pure, for tests and fuzzing. */
char *events_parse_payload(const char *payload, char *type);

#endif
