/*
 * status_rule — see status_rule.h.
 */
#include "status_rule.h"
#include "heartbeat_schema.h"

#include <stddef.h>
#include <string.h>

/* Below this a missed heartbeat or two is ordinary jitter, not an outage. */
#define STATUS_MIN_WINDOW_S 15

int status_live_window_s(int64_t heartbeat_s)
{
    int64_t w = 3 * heartbeat_s;
    return w < STATUS_MIN_WINDOW_S ? STATUS_MIN_WINDOW_S : (int)w;
}

enum status_state status_evaluate(int live, struct json_object *detail, const char **reason)
{
    const char *why = NULL;
    struct json_object *v = NULL;
    enum status_state st = STATUS_STOPPED;
    if (!live)
        goto out;
    st = STATUS_DEGRADED;
    /* The daemon's own words first: it knows why better than we do. */
    if (json_object_object_get_ex(detail, HBS_DETAIL_DEGRADED_REASON, &v) &&
        json_object_is_type(v, json_type_string)) {
        why = json_object_get_string(v);
        goto out;
    }
    if (json_object_object_get_ex(detail, HBS_DETAIL_OFFLINE, &v) &&
        json_object_is_type(v, json_type_boolean) && json_object_get_boolean(v)) {
        why = "offline: no upstream reachable";
        goto out;
    }
    if (json_object_object_get_ex(detail, HBS_DETAIL_DB, &v) &&
        json_object_is_type(v, json_type_string) && strcmp(json_object_get_string(v), "ok") != 0) {
        why = "fetcherd cannot reach the database";
        goto out;
    }
    st = STATUS_RUNNING;
out:
    if (reason != NULL)
        *reason = why;
    return st;
}

enum status_state status_idle(enum status_state st, long long tracked, const char **reason)
{
    if (st != STATUS_RUNNING || tracked != 0)
        return st;
    if (reason != NULL)
        *reason = "no assets tracked";
    return STATUS_IDLE;
}

const char *status_name(enum status_state s)
{
    switch (s) {
    case STATUS_IDLE:
        return "idle";
    case STATUS_RUNNING:
        return "running";
    case STATUS_DEGRADED:
        return "degraded";
    case STATUS_STOPPED:
        break;
    }
    return "stopped";
}
