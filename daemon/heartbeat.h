/*
 * heartbeat — fetcherd's row in fetcher_instances, refreshed every
 * HEARTBEAT_INTERVAL: phase, next cycle time, running cycle's progress,
 * queue counters, database state. The API derives running / stopped /
 * degraded from it, never from guesses. A heartbeat is skipped, not
 * buffered, while the database is away: only the latest state matters.
 */
#ifndef FETCHER_HEARTBEAT_H
#define FETCHER_HEARTBEAT_H

#include "daemon.h"
#include "scheduler.h"

struct heartbeat;

struct heartbeat *heartbeat_setup(struct daemon *d, struct scheduler *s);
/* Sends a heartbeat now (e.g. the moment the database is reachable, so a
 * fresh start is not shown as stopped for a whole interval). */
void heartbeat_now(struct heartbeat *h);
/* Queues the final "stopped" row behind every pending write, and stops the
 * timer. */
void heartbeat_final(struct heartbeat *h);
void heartbeat_free(struct heartbeat *h);

#endif
