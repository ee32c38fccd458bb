/*
 * alerts — fetcher-api tells people when prices go stale, without
 * Prometheus: one thread that judges the database every few seconds
 * (alert_rules.h), keeps each condition's occurrence in fetcher_alerts
 * (migration 011: the history the dashboard shows, and the dedupe), and
 * POSTs one notification when a condition starts and one when it ends to
 * ALERT_WEBHOOK_URL (webhook.h), in ALERT_WEBHOOK_FORMAT.
 *
 * Never a storm: a condition that persists is one open row, so one
 * notification (an INSERT … ON CONFLICT DO NOTHING on the open-row index
 * decides, also between several fetcher-api processes); notifications
 * wait in a bounded FIFO (ALERTS_QUEUE_MAX; past it the oldest is dropped,
 * logged and counted); a failing receiver is retried with a doubling
 * backoff (1 s … 5 min, or its Retry-After), one notification at a time,
 * in order, so nothing is lost and nothing floods; a 4xx other than 408
 * and 429 rejects that one notification for good. Every attempt is logged
 * with the URL's scheme and host only (webhook_redact). A notification
 * still pending when fetcher-api stops is sent by the next one.
 *
 * Threading: the alerts thread is the only one that talks to the receiver
 * and the only user of the queue; it has its own database connection
 * (apidb.c's per-thread one). Request-serving threads only read the
 * counters (atomics) and fetcher_alerts.
 */
#ifndef FETCHER_API_ALERTS_H
#define FETCHER_API_ALERTS_H

#include "alert_rules.h"
#include "util.h"

#include <stdint.h>

#define ALERTS_QUEUE_MAX 64

/* Starts the thread (also without a webhook: alerts are still kept and
 * shown). Call after apidb_init() and before the HTTP server starts (it
 * initialises libcurl, which must happen before other threads run).
 * Returns 0 or -1. */
int alerts_start(void) MUST_CHECK;
/* Stops and joins the thread; a transfer in progress is abandoned at once
 * (its notification stays pending in the database). No-op when not started. */
void alerts_stop(void);

struct alerts_stats {
    uint64_t delivered, rejected, dropped; /* notifications, by what became of them */
    uint64_t attempts_ok, attempts_failed; /* POSTs */
    uint64_t queued;                       /* waiting now */
};
void alerts_get_stats(struct alerts_stats *out);

#endif
