/*
 * webhook — one alert notification as the receiver gets it, and the POST
 * that delivers it to ALERT_WEBHOOK_URL. Used by the alerts thread only
 * (api/alerts.c); the payload, URL redaction, verdict and backoff rules are
 * pure and unit-tested.
 *
 * Formats (ALERT_WEBHOOK_FORMAT):
 *   json   {"source": "fetcherd", "id", "alert", "title", "subject",
 *           "status": "firing"|"resolved", "severity", "summary",
 *           "started_at", "resolved_at" (RFC 3339 UTC, null while firing),
 *           "duration_seconds"}
 *   slack  a Slack incoming-webhook message: "text" (the notification in
 *          one line, also what Slack shows in notifications) and "blocks"
 *          (a section with the same in mrkdwn, a context line with the
 *          alert's id, severity and times); &, < and > escaped as Slack
 *          asks, texts cut to Slack's limits.
 *
 * What it is not: no queue and no retry policy of its own beyond saying
 * what an answer means (alerts.c keeps the queue and the schedule).
 */
#ifndef FETCHER_API_WEBHOOK_H
#define FETCHER_API_WEBHOOK_H

#include "alert_rules.h"
#include "jbuf.h"

#include <stdatomic.h>
#include <stdint.h>

struct webhook_notice {
    int64_t id; /* fetcher_alerts.id */
    int resolved;
    enum alert_kind kind;
    char subject[ALERT_SUBJECT_MAX];
    char severity[16];
    char summary[ALERT_SUMMARY_MAX];
    int64_t started_ms, resolved_ms; /* wall-clock ms; resolved_ms 0 while firing */
};

/* Writes n's payload in format ("json" or "slack") into b (initialised by
 * the caller). */
void webhook_payload(const char *format, const struct webhook_notice *n, struct jbuf *b);

/* The URL as it may be logged: scheme, host and port; a path becomes
 * "/…", and userinfo, query and fragment are left out ("https://user:pw@
 * hooks.example/T0/B1/xyz?k=1" → "https://hooks.example/…"). */
void webhook_redact(const char *url, char *out, size_t outlen);

enum webhook_verdict {
    WEBHOOK_DELIVERED, /* 2xx */
    WEBHOOK_RETRY,     /* no answer, 5xx, 408, 429: try again later */
    WEBHOOK_REJECTED,  /* another 4xx (or 3xx): the same request will not do better */
};

/* What an answer means: http_status 0 = no answer at all. */
enum webhook_verdict webhook_judge(long http_status);

/* The wait before the next attempt after `failures` failed ones in a row
 * (1 → WEBHOOK_BACKOFF_MIN_MS, doubling up to WEBHOOK_BACKOFF_MAX_MS); a
 * receiver's Retry-After (s, 0 = none) when it asks for longer. */
#define WEBHOOK_BACKOFF_MIN_MS 1000
#define WEBHOOK_BACKOFF_MAX_MS (5 * 60 * 1000)
int64_t webhook_backoff_ms(int failures, long retry_after_s);

struct webhook_result {
    long http_status;   /* 0: no answer */
    long retry_after_s; /* from the answer, 0 = none */
    char error[160];    /* for the log: "HTTP 500", "connection refused", … never the URL */
};

/* POSTs body (JSON) to url and waits for the answer, at most
 * WEBHOOK_TIMEOUT_MS in all; gives up early when *stop becomes non-zero.
 * Blocking: the alerts thread's own, never a request-serving thread. */
#define WEBHOOK_TIMEOUT_MS 10000
void webhook_post(const char *url, const char *body, const atomic_int *stop,
                  struct webhook_result *r);

#endif
