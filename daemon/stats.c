/*
 * stats — see stats.h.
 */
#include "stats.h"
#include "log.h"
#include "sql.h"

#include <stdio.h>

void stats_persist(struct daemon *d)
{
    char uptime[24];
    snprintf(uptime, sizeof uptime, "%lld",
             (long long)((loop_now(d->loop) - d->started_mono_ms) / 1000));
    struct queue_counters qc;
    queue_get_counters(d->queue, &qc);
    char q[256];
    snprintf(q, sizeof q,
             "{\"upstream_requests\":%llu,\"deduplicated\":%llu,\"cache_hits\":%llu,"
             "\"errors\":%llu,\"retries\":%llu}",
             (unsigned long long)fetcher_requests(d->fetcher), (unsigned long long)qc.deduplicated,
             (unsigned long long)qc.cache_hits, (unsigned long long)qc.errors,
             (unsigned long long)qc.retries);
    const char *params[3] = {d->instance_id, uptime, q};
    if (writer_submit(d->writer, WRITE_DATA, SQL_PERSIST_STATS, 3, params, 1, NULL, NULL) != 0)
        log_msg(LOG_ERROR, "cycle: cannot queue statistics (out of memory)");
}
