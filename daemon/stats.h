/*
 * stats — the fetcher_statistics rows: a snapshot of what fetcher_cycles
 * says (totals, success rate, durations), written after every cycle and
 * every STATS_PERSIST_INTERVAL, with the daemon's own counters beside it.
 *
 * What it is not: the formulas are SQL (sql.c, SQL_PERSIST_STATS); this
 * only supplies the instance's figures.
 */
#ifndef FETCHER_STATS_H
#define FETCHER_STATS_H

#include "daemon.h"

/* Queues one fetcher_statistics row through the writer. */
void stats_persist(struct daemon *d);

#endif
