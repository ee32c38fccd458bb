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

/* Starts watching l. Returns 0 or -1 (no thread). */
int watchdog_start(const struct loop *l, int64_t seconds) MUST_CHECK;
/* Stops the thread and waits for it (at once, not at its next tick); call
 * before freeing the loop. A no-op if it was never started. */
void watchdog_stop(void);

#endif
