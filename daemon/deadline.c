/*
 * deadline — see deadline.h. A file of its own, apart from the scheduler,
 * so that its unit test links this arithmetic alone.
 */
#include "deadline.h"

int64_t deadline_next(int64_t start, int64_t interval, int64_t fired, int64_t now, int64_t *missed)
{
    if (interval <= 0)
        interval = 1;
    /* Index of the last deadline <= now (and <= fired); -1 before start.
     * C division truncates toward zero, hence the explicit guard. */
    int64_t k_now = now < start ? -1 : (now - start) / interval;
    int64_t k_fired = fired < start ? -1 : (fired - start) / interval;
    *missed = k_now > k_fired ? k_now - k_fired : 0;
    return start + (k_now + 1) * interval;
}
