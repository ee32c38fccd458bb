/*
 * daemon — the handles one fetcherd process is made of, wired together in
 * main.c and passed to the modules that need more than one of them
 * (scheduler, cycle, heartbeat). Each handle's module owns its insides;
 * this struct only says who is who. Not a place for new state: a module
 * keeps its own.
 */
#ifndef FETCHER_DAEMON_H
#define FETCHER_DAEMON_H

#include "config.h"
#include "dbconn.h"
#include "fetch.h"
#include "loop.h"
#include "queue.h"
#include "writer.h"

#include <stdint.h>

struct scheduler;
struct cycle;
struct staleness;
struct sources;
struct fleet;
struct backfill;

struct daemon {
    struct loop *loop;
    struct dbconn *db;
    struct writer *writer;
    struct fetch_queue *queue;
    struct fetcher *fetcher;
    struct scheduler *sched;
    struct fleet *fleet;               /* NULL in a --once run */
    struct backfill *backfill;         /* NULL in a --once run */
    const struct staleness *staleness; /* parsed FETCH_STALENESS */
    const struct sources *sources;     /* parsed FETCH_SOURCES */
    char instance_id[64];
    char host[128];
    int pid;
    int64_t started_wall_ms;
    int64_t started_mono_ms;
    int stopping;
};

#endif
