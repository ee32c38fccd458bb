/*
 * stats — see stats.h.
 */
#include "stats.h"
#include "log.h"
#include "sql.h"

#include <json-c/json.h>
#include <stdio.h>

void stats_persist(struct daemon *d)
{
    char uptime[24];
    snprintf(uptime, sizeof uptime, "%lld",
             (long long)((loop_now(d->loop) - d->started_mono_ms) / 1000));
    struct queue_counters qc;
    queue_get_counters(d->queue, &qc);
    json_object *q = json_object_new_object();
    json_object_object_add(q, "upstream_requests",
                           json_object_new_int64((int64_t)fetcher_requests(d->fetcher)));
    json_object_object_add(q, "deduplicated", json_object_new_int64((int64_t)qc.deduplicated));
    json_object_object_add(q, "cache_hits", json_object_new_int64((int64_t)qc.cache_hits));
    json_object_object_add(q, "errors", json_object_new_int64((int64_t)qc.errors));
    json_object_object_add(q, "retries", json_object_new_int64((int64_t)qc.retries));
    const char *text = json_object_to_json_string_ext(q, JSON_C_TO_STRING_PLAIN);
    char seq[24];
    snprintf(seq, sizeof seq, "%lld", (long long)writer_next_seq(d->writer));
    const char *params[4] = {d->instance_id, uptime, text, seq};
    if (text == NULL ||
        writer_submit(d->writer, WRITE_DATA, SQL_PERSIST_STATS, 4, params, 1, NULL, NULL) != 0)
        log_msg(LOG_ERROR, "stats: cannot queue statistics (out of memory)");
    json_object_put(q);
}
