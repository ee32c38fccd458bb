/*
 * watchdog — a thread outside the loop that watches it turn. Docker restarts
 * a container that exits, not one that merely hangs; so if the loop makes no
 * iteration for WATCHDOG_SECONDS (the loop wakes at least every 200 ms when
 * healthy), the watchdog says so on stderr and exits the process with
 * status 70 for the restart policy to act on.
 */
#ifndef FETCHER_WATCHDOG_H
#define FETCHER_WATCHDOG_H

#include "loop.h"

/* Starts watching l. Returns 0 or -1 (no thread). The thread lives as long
 * as the process. */
int watchdog_start(const struct loop *l, int64_t seconds) MUST_CHECK;

#endif
