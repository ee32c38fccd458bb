/*
 * deadline — the scheduler's deadline arithmetic, pure so a unit test can
 * drive it with an injected clock. Cycles are due at start + k × interval on
 * the monotonic clock, so the schedule never drifts however long a cycle
 * takes; deadlines that pass while the loop is stalled are counted, not run.
 *
 * What it is not: it arms no timer and starts no cycle (scheduler.c does).
 */
#ifndef FETCHER_DEADLINE_H
#define FETCHER_DEADLINE_H

#include <stdint.h>

/* With deadlines at start + k × interval (interval <= 0 counts as 1) and the
 * deadline `fired` just handled at time now, returns the first deadline after
 * now, and in *missed how many deadlines after fired and not after now
 * passed unhandled (the loop was stalled). */
int64_t deadline_next(int64_t start, int64_t interval, int64_t fired, int64_t now, int64_t *missed);

#endif
