/*
 * alert_rules — when fetcher-api raises an alert, and when it ends. Pure
 * (json-c only): given what the database says now (SQL_ALERT_INPUT) it
 * returns the conditions that hold; alerts.c opens and resolves the
 * fetcher_alerts rows and sends the notifications. Unit-tested on its own.
 *
 * The conditions (kind, subject):
 *   daemon_stopped ("")      a daemon has written heartbeats, and none is
 *                            live now (the /status rule: stopped, or no
 *                            heartbeat within the live window);
 *   prices_stale (type)      tracked prices of the type older than their
 *                            bound plus one interval (see sql.c,
 *                            STALENESS_JSON);
 *   provider_offline (name)  the live daemon's provider is down (fails as
 *                            a whole; its assets fail over);
 *   provider_offline ("")    no provider reachable at all (the queue is
 *                            offline): one alert, not one per provider;
 *   provider_blocked (name)  paused: it refused us (401/403, a block page)
 *                            or rate limited us (429);
 *   cycles_failing ("")      the newest N finished cycles all failed.
 * The provider conditions count only after they have held for ALERT_AFTER
 * without a break (a pause or a probe's worth of trouble is no news); the
 * others hold at once, because their own definitions already wait (the
 * live window, the staleness bound, N cycles). A provider that is paused
 * is "blocked" even when it is also down (a 429 or a refusal makes it
 * both); once open, a provider's alert keeps its kind while the provider
 * is unavailable either way, so it does not flap between the two.
 *
 * What is unknown is not resolved: with no live daemon the provider
 * conditions are "held" (an open one stays open, none starts); while the
 * network is offline a per-provider condition that is not open yet does
 * not start (the "" one says it all), and an open one stays open.
 */
#ifndef FETCHER_API_ALERT_RULES_H
#define FETCHER_API_ALERT_RULES_H

#include <json-c/json.h>
#include <stddef.h>
#include <stdint.h>

enum alert_kind {
    ALERT_DAEMON_STOPPED = 0,
    ALERT_PRICES_STALE,
    ALERT_PROVIDER_OFFLINE,
    ALERT_PROVIDER_BLOCKED,
    ALERT_CYCLES_FAILING,
    ALERT_KINDS
};

#define ALERT_SUBJECT_MAX 64
#define ALERT_SUMMARY_MAX 300

/* "daemon_stopped", … (the fetcher_alerts.alert values); NULL past the end. */
const char *alert_kind_name(size_t kind);
/* "daemon stopped", … for people. */
const char *alert_kind_title(size_t kind);
/* "critical" (daemon_stopped, cycles_failing) or "warning". */
const char *alert_kind_severity(size_t kind);
/* The kind called name, or -1. */
int alert_kind_parse(const char *name);

struct alert_cond {
    enum alert_kind kind;
    char subject[ALERT_SUBJECT_MAX];
    char summary[ALERT_SUMMARY_MAX];
};

/* Conditions seen but not yet held for ALERT_AFTER, and since when. */
#define ALERT_PENDING_MAX 32
struct alert_pending {
    struct {
        int used;
        enum alert_kind kind;
        char subject[ALERT_SUBJECT_MAX];
        int64_t since_ms;
    } e[ALERT_PENDING_MAX];
};

/* Is (kind, subject) open now? (alerts.c asks its fetcher_alerts rows.) */
typedef int (*alert_is_open_fn)(enum alert_kind kind, const char *subject, void *cls);

#define ALERT_ACTIVE_MAX 48
enum alert_hold { HOLD_NONE = 0, HOLD_ALL, HOLD_NAMED };
struct alert_verdict {
    struct alert_cond active[ALERT_ACTIVE_MAX];
    size_t n;
    /* Per kind: open alerts of that kind that are not active stay open
     * (HOLD_ALL), or those with a non-empty subject do (HOLD_NAMED). */
    enum alert_hold hold[ALERT_KINDS];
};

struct alert_settings {
    int64_t after_ms;      /* ALERT_AFTER */
    int64_t failed_cycles; /* ALERT_FAILED_CYCLES */
};

/* Judges input (SQL_ALERT_INPUT's document, borrowed; NULL is judged as
 * "nothing known": everything held) at now_ms (monotonic or wall, as long
 * as it is always the same clock), updating pending. is_open may be NULL
 * (nothing open). */
void alert_rules_evaluate(json_object *input, int64_t now_ms, const struct alert_settings *s,
                          struct alert_pending *pending, alert_is_open_fn is_open, void *cls,
                          struct alert_verdict *out);

/* Whether an open (kind, subject) not among v's active conditions is to be
 * resolved, given the holds. */
int alert_rules_resolves(const struct alert_verdict *v, enum alert_kind kind, const char *subject);

/* "2h", "10m", "45s": a duration for people (seconds rounded down). */
void alert_fmt_duration(int64_t seconds, char *out, size_t outlen);

#endif
