/*
 * status_rule — how fetcher-api decides that fetcherd is running, degraded
 * or stopped. Pure (json-c only), so the rule is unit-tested on its own.
 *
 * An instance is live while its row says state = 'running' and its last
 * heartbeat is younger than the live window: three missed heartbeats, and
 * never less than 15 s so one slow database write is not an outage. The
 * window comparison itself runs in SQL (the database's clock, not ours);
 * this module gives its length and judges a live instance's detail.
 */
#ifndef FETCHER_API_STATUS_RULE_H
#define FETCHER_API_STATUS_RULE_H

#include <json-c/json.h>
#include <stdint.h>

enum status_state { STATUS_STOPPED = 0, STATUS_RUNNING, STATUS_DEGRADED, STATUS_IDLE };

/* max(3 × heartbeat_s, 15), in seconds. */
int status_live_window_s(int64_t heartbeat_s);

/* The state of the service given whether an instance is live and that
 * instance's detail object (may be NULL). A live instance is degraded when
 * its detail has a degraded_reason string, offline = true, or a "db" other
 * than "ok". *reason (may be NULL) gets the daemon's reason, or ours when it
 * gave none; NULL when not degraded. The string is borrowed from detail or
 * static. */
enum status_state status_evaluate(int live, struct json_object *detail, const char **reason);

/* A running service with nothing to fetch says so: STATUS_IDLE when st is
 * STATUS_RUNNING and tracked is 0, with *reason (may be NULL) "no assets
 * tracked" (static); otherwise st unchanged and *reason untouched. Degraded
 * and stopped are kept as they are: they say more than "idle" would. */
enum status_state status_idle(enum status_state st, long long tracked, const char **reason);

/* "stopped", "running", "degraded", "idle". */
const char *status_name(enum status_state s);

#endif
