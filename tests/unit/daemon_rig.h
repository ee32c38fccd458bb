/*
 * daemon_rig — fetcherd's modules wired as daemon/main.c wires them (loop,
 * fetcher, upstream, queue, sources, staleness, dbconn, writer, the
 * before-sleep step that runs the queue and flushes the writer), for unit
 * tests of the modules that need more than one of them (cycle,
 * heartbeat). Every provider's base URL is a wire_server of the rig's
 * own; the database is reached through a pg_fault relay, so a test can
 * take it away. What it is not: main.c's signals, scheduler timers,
 * retention or watchdog.
 */
#ifndef FETCHER_TEST_DAEMON_RIG_H
#define FETCHER_TEST_DAEMON_RIG_H

#include "assets.h"
#include "config.h"
#include "daemon.h"
#include "pg_fault.h"
#include "sources.h"
#include "staleness.h"
#include "upstream.h"
#include "wire_server.h"

struct rig {
    struct config c;
    struct daemon d;
    struct wire_server *ws;
    struct pg_relay *relay;
    struct upstream *up;
    struct sources *src;
    struct staleness stale;
    struct asset_cache *ac;
    int db_ups, db_downs;
};

/* Wires everything against database dbname (through the relay) and
 * waits (at most 10 s) for the connection. instance becomes the daemon's
 * instance id; extra (may be NULL) is "NAME=VALUE" settings over the
 * rig's own, NULL-terminated. Returns 0 or -1. */
int rig_open(struct rig *r, const char *dbname, const char *instance, const char *const *extra);
/* Runs the loop until done(cls) returns non-zero or ms pass; returns
 * done's last value. */
int rig_run_until(struct rig *r, int (*done)(void *cls), void *cls, int64_t ms);
/* Runs the loop for ms. */
void rig_run_for(struct rig *r, int64_t ms);
/* 1 when the writer has nothing buffered or in flight. */
int rig_writes_done(struct rig *r);
void rig_close(struct rig *r);

#endif
