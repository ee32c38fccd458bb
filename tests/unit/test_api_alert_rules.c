/*
 * Unit tests of api/alert_rules.c — when each alert starts and ends, from
 * documents shaped like SQL_ALERT_INPUT's, on a clock the test moves:
 * daemon_stopped (never before a daemon ran), prices_stale per type,
 * provider_offline / provider_blocked only after ALERT_AFTER and reset by a
 * break, one "" alert while the network is offline (per-provider ones held
 * back unless open), provider alerts held while no daemon is live, and
 * cycles_failing after exactly N failed cycles.
 */
#include "alert_rules.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

static const struct alert_settings S = {.after_ms = 4000, .failed_cycles = 3};

/* "open" alerts for is_open, as "kind/subject" strings */
static const char *open_set[8];
static int is_open(enum alert_kind kind, const char *subject, void *cls)
{
    (void)cls;
    char key[96];
    snprintf(key, sizeof key, "%s/%s", alert_kind_name(kind), subject);
    for (size_t i = 0; i < 8 && open_set[i] != NULL; i++)
        if (strcmp(open_set[i], key) == 0)
            return 1;
    return 0;
}

static json_object *doc(const char *text)
{
    json_object *o = json_tokener_parse(text);
    if (o == NULL)
        fail_msg("bad test JSON: %s", text);
    return o;
}

static void eval(const char *text, int64_t now, struct alert_pending *p, struct alert_verdict *v)
{
    json_object *o = text != NULL ? doc(text) : NULL;
    alert_rules_evaluate(o, now, &S, p, is_open, NULL, v);
    json_object_put(o);
}

static const struct alert_cond *find(const struct alert_verdict *v, enum alert_kind k,
                                     const char *subject)
{
    for (size_t i = 0; i < v->n; i++)
        if (v->active[i].kind == k && strcmp(v->active[i].subject, subject) == 0)
            return &v->active[i];
    return NULL;
}

#define LIVE_OK                                                                                    \
    "\"live\": {\"id\": \"a\", \"detail\": {\"offline\": false}, \"queue\": {\"providers\": ["     \
    "{\"name\": \"yahoo\", \"state\": \"ok\", \"down\": false, \"paused_until\": null}]}}"

static void test_names(void **state)
{
    (void)state;
    for (size_t k = 0; k < ALERT_KINDS; k++) {
        assert_int_equal(alert_kind_parse(alert_kind_name(k)), (int)k);
        assert_non_null(alert_kind_title(k));
        const char *sev = alert_kind_severity(k);
        assert_true(strcmp(sev, "warning") == 0 || strcmp(sev, "critical") == 0);
    }
    assert_null(alert_kind_name(ALERT_KINDS));
    assert_int_equal(alert_kind_parse("nope"), -1);
    char d[16];
    alert_fmt_duration(45, d, sizeof d);
    assert_string_equal(d, "45s");
    alert_fmt_duration(600, d, sizeof d);
    assert_string_equal(d, "10m");
    alert_fmt_duration(3 * 3600, d, sizeof d);
    assert_string_equal(d, "3h");
    alert_fmt_duration(3 * 86400, d, sizeof d);
    assert_string_equal(d, "3d");
}

static void test_all_well(void **state)
{
    (void)state;
    struct alert_pending p = {0};
    struct alert_verdict v;
    eval("{" LIVE_OK ", \"newest\": {\"id\": \"a\", \"state\": \"running\", \"age_s\": 1},"
         " \"cycles\": [{\"status\": \"succeeded\"}], \"staleness\": {\"stock\": {\"assets\": 3, "
         "\"stale\": 0, \"bound_s\": 1200, \"max_age_s\": 300}}}",
         0, &p, &v);
    assert_int_equal(v.n, 0);
    for (size_t k = 0; k < ALERT_KINDS; k++)
        assert_int_equal(v.hold[k], HOLD_NONE);
}

static void test_daemon_stopped(void **state)
{
    (void)state;
    struct alert_pending p = {0};
    struct alert_verdict v;
    /* never ran: nothing to say */
    eval("{\"live\": null, \"newest\": null}", 0, &p, &v);
    assert_null(find(&v, ALERT_DAEMON_STOPPED, ""));
    /* silent: no heartbeat for a while */
    eval("{\"live\": null, \"newest\": {\"id\": \"host-1\", \"state\": \"running\", \"age_s\": "
         "40.5}}",
         0, &p, &v);
    const struct alert_cond *c = find(&v, ALERT_DAEMON_STOPPED, "");
    assert_non_null(c);
    assert_non_null(strstr(c->summary, "no heartbeat for 40s"));
    assert_non_null(strstr(c->summary, "host-1"));
    /* shut down */
    eval("{\"live\": null, \"newest\": {\"id\": \"host-1\", \"state\": \"stopped\", \"age_s\": 3}}",
         0, &p, &v);
    c = find(&v, ALERT_DAEMON_STOPPED, "");
    assert_non_null(c);
    assert_non_null(strstr(c->summary, "shut down"));
    /* with no live daemon, what providers do is unknown: held */
    assert_int_equal(v.hold[ALERT_PROVIDER_OFFLINE], HOLD_ALL);
    assert_int_equal(v.hold[ALERT_PROVIDER_BLOCKED], HOLD_ALL);
    assert_false(alert_rules_resolves(&v, ALERT_PROVIDER_OFFLINE, "yahoo"));
    assert_false(alert_rules_resolves(&v, ALERT_DAEMON_STOPPED, ""));
    /* live again: resolves */
    eval("{" LIVE_OK ", \"newest\": {\"id\": \"a\", \"state\": \"running\", \"age_s\": 1}}", 0, &p,
         &v);
    assert_null(find(&v, ALERT_DAEMON_STOPPED, ""));
    assert_true(alert_rules_resolves(&v, ALERT_DAEMON_STOPPED, ""));
    assert_true(alert_rules_resolves(&v, ALERT_PROVIDER_OFFLINE, "yahoo"));
}

static void test_prices_stale(void **state)
{
    (void)state;
    struct alert_pending p = {0};
    struct alert_verdict v;
    eval("{" LIVE_OK ", \"staleness\": {"
         " \"stock\": {\"assets\": 18, \"stale\": 2, \"bound_s\": 1200, \"max_age_s\": 86400.5},"
         " \"crypto\": {\"assets\": 10, \"stale\": 0, \"bound_s\": 1200, \"max_age_s\": 30}}}",
         0, &p, &v);
    const struct alert_cond *c = find(&v, ALERT_PRICES_STALE, "stock");
    assert_non_null(c);
    assert_string_equal(c->summary, "2 of 18 stock prices are older than 20m (the oldest: 24h)");
    assert_null(find(&v, ALERT_PRICES_STALE, "crypto"));
    assert_true(alert_rules_resolves(&v, ALERT_PRICES_STALE, "crypto"));
    assert_false(alert_rules_resolves(&v, ALERT_PRICES_STALE, "stock"));
}

#define PROVIDERS(yahoo_state, yahoo_down, yahoo_until, yahoo_refused)                             \
    "{\"live\": {\"id\": \"a\", \"detail\": {\"offline\": false}, \"queue\": {\"providers\": ["    \
    "{\"name\": \"yahoo\", \"state\": \"" yahoo_state "\", \"down\": " yahoo_down                  \
    ", \"paused_until\": " yahoo_until ", \"refused\": " yahoo_refused                             \
    ", \"pause_reason\": \"HTTP 403\"},"                                                           \
    "{\"name\": \"coingecko\", \"state\": \"ok\", \"down\": false, \"paused_until\": null}]}}}"

static void test_provider_offline_after(void **state)
{
    (void)state;
    struct alert_pending p = {0};
    struct alert_verdict v;
    const char *down = PROVIDERS("down", "true", "null", "false");
    const char *ok = PROVIDERS("ok", "false", "null", "false");
    eval(down, 1000, &p, &v);
    assert_null(find(&v, ALERT_PROVIDER_OFFLINE, "yahoo")); /* pending */
    eval(down, 4999, &p, &v);
    assert_null(find(&v, ALERT_PROVIDER_OFFLINE, "yahoo"));
    eval(down, 5000, &p, &v); /* ALERT_AFTER (4 s) held */
    const struct alert_cond *c = find(&v, ALERT_PROVIDER_OFFLINE, "yahoo");
    assert_non_null(c);
    assert_non_null(strstr(c->summary, "yahoo has failed as a whole for 4s"));
    assert_null(find(&v, ALERT_PROVIDER_OFFLINE, "coingecko"));
    /* a break resets the clock */
    eval(ok, 6000, &p, &v);
    assert_null(find(&v, ALERT_PROVIDER_OFFLINE, "yahoo"));
    eval(down, 7000, &p, &v);
    eval(down, 10999, &p, &v);
    assert_null(find(&v, ALERT_PROVIDER_OFFLINE, "yahoo"));
    eval(down, 11000, &p, &v);
    assert_non_null(find(&v, ALERT_PROVIDER_OFFLINE, "yahoo"));
}

static void test_provider_blocked(void **state)
{
    (void)state;
    struct alert_pending p = {0};
    struct alert_verdict v;
    /* a refusal pauses (and, failing as a whole, makes it down too):
     * blocked, with the reason */
    const char *refused = PROVIDERS("paused", "true", "\"2026-12-06T15:00:00.000Z\"", "true");
    eval(refused, 0, &p, &v);
    eval(refused, 4000, &p, &v);
    const struct alert_cond *c = find(&v, ALERT_PROVIDER_BLOCKED, "yahoo");
    assert_non_null(c);
    assert_string_equal(c->summary, "yahoo has refused us for 4s: HTTP 403");
    assert_null(find(&v, ALERT_PROVIDER_OFFLINE, "yahoo"));
    /* a 429 */
    struct alert_pending p2 = {0};
    const char *limited = PROVIDERS("paused", "false", "\"2026-12-06T15:00:00.000Z\"", "false");
    eval(limited, 0, &p2, &v);
    eval(limited, 4000, &p2, &v);
    c = find(&v, ALERT_PROVIDER_BLOCKED, "yahoo");
    assert_non_null(c);
    assert_non_null(strstr(c->summary, "rate limited us (HTTP 429)"));
    /* open as blocked, the pause ends but a probe fails (down): still
     * blocked, not a new offline alert */
    open_set[0] = "provider_blocked/yahoo";
    eval(PROVIDERS("down", "true", "null", "false"), 5000, &p2, &v);
    assert_non_null(find(&v, ALERT_PROVIDER_BLOCKED, "yahoo"));
    assert_null(find(&v, ALERT_PROVIDER_OFFLINE, "yahoo"));
    open_set[0] = NULL;
    /* the pause and the trouble are timed together: pause 2 s, down 2 s */
    struct alert_pending p3 = {0};
    eval(limited, 0, &p3, &v);
    eval(PROVIDERS("down", "true", "null", "false"), 2000, &p3, &v);
    assert_null(find(&v, ALERT_PROVIDER_OFFLINE, "yahoo"));
    eval(PROVIDERS("down", "true", "null", "false"), 4000, &p3, &v);
    assert_non_null(find(&v, ALERT_PROVIDER_OFFLINE, "yahoo"));
}

#define OFFLINE_DOC                                                                                \
    "{\"live\": {\"id\": \"a\", \"detail\": {\"offline\": true, \"degraded_reason\": \"offline: "  \
    "no upstream reachable\"}, \"queue\": {\"providers\": ["                                       \
    "{\"name\": \"yahoo\", \"state\": \"offline\", \"down\": true, \"paused_until\": null},"       \
    "{\"name\": \"coingecko\", \"state\": \"offline\", \"down\": true, \"paused_until\": "         \
    "null}]}}}"

static void test_offline_one_alert(void **state)
{
    (void)state;
    struct alert_pending p = {0};
    struct alert_verdict v;
    eval(OFFLINE_DOC, 0, &p, &v);
    eval(OFFLINE_DOC, 4000, &p, &v);
    const struct alert_cond *c = find(&v, ALERT_PROVIDER_OFFLINE, "");
    assert_non_null(c);
    assert_string_equal(c->summary, "no provider reachable for 4s: offline: no upstream reachable");
    assert_int_equal(v.n, 1); /* not one per provider */
    /* yahoo's own alert, opened before the network went, stays open */
    open_set[0] = "provider_offline/yahoo";
    eval(OFFLINE_DOC, 5000, &p, &v);
    assert_non_null(find(&v, ALERT_PROVIDER_OFFLINE, "yahoo"));
    assert_null(find(&v, ALERT_PROVIDER_OFFLINE, "coingecko"));
    assert_false(alert_rules_resolves(&v, ALERT_PROVIDER_OFFLINE, "yahoo"));
    open_set[0] = NULL;
    /* the network back, everything answers: the "" one resolves */
    eval("{" LIVE_OK "}", 6000, &p, &v);
    assert_true(alert_rules_resolves(&v, ALERT_PROVIDER_OFFLINE, ""));
    assert_true(alert_rules_resolves(&v, ALERT_PROVIDER_OFFLINE, "yahoo"));
}

static void test_cycles_failing(void **state)
{
    (void)state;
    struct alert_pending p = {0};
    struct alert_verdict v;
    eval("{" LIVE_OK ", \"cycles\": [{\"status\": \"failed\", \"error\": \"x\"}, "
         "{\"status\": \"failed\"}]}",
         0, &p, &v);
    assert_null(find(&v, ALERT_CYCLES_FAILING, "")); /* 2 of 3 */
    eval("{" LIVE_OK ", \"cycles\": [{\"status\": \"failed\"}, {\"status\": \"partial\"}, "
         "{\"status\": \"failed\"}]}",
         0, &p, &v);
    assert_null(find(&v, ALERT_CYCLES_FAILING, "")); /* a break */
    eval("{" LIVE_OK ", \"cycles\": [{\"status\": \"failed\", \"error\": \"no provider "
         "answered\"}, {\"status\": \"failed\"}, {\"status\": \"failed\"}]}",
         0, &p, &v);
    const struct alert_cond *c = find(&v, ALERT_CYCLES_FAILING, "");
    assert_non_null(c);
    assert_string_equal(c->summary, "the last 3 cycles failed; the newest: no provider answered");
    /* the daemon stopped meanwhile: cycles are still judged */
    eval("{\"live\": null, \"newest\": {\"id\": \"a\", \"state\": \"stopped\", \"age_s\": 1}, "
         "\"cycles\": [{\"status\": \"failed\"}, {\"status\": \"failed\"}, {\"status\": "
         "\"failed\"}]}",
         0, &p, &v);
    assert_non_null(find(&v, ALERT_CYCLES_FAILING, ""));
}

static void test_nothing_known(void **state)
{
    (void)state;
    struct alert_pending p = {0};
    struct alert_verdict v;
    eval(NULL, 0, &p, &v);
    assert_int_equal(v.n, 0);
    for (size_t k = 0; k < ALERT_KINDS; k++)
        assert_false(alert_rules_resolves(&v, (enum alert_kind)k, "x"));
    json_object *garbage = json_object_new_string("nope");
    alert_rules_evaluate(garbage, 0, &S, &p, NULL, NULL, &v);
    json_object_put(garbage);
    assert_int_equal(v.n, 0);
    assert_false(alert_rules_resolves(&v, ALERT_PRICES_STALE, "stock"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_names),
        cmocka_unit_test(test_all_well),
        cmocka_unit_test(test_daemon_stopped),
        cmocka_unit_test(test_prices_stale),
        cmocka_unit_test(test_provider_offline_after),
        cmocka_unit_test(test_provider_blocked),
        cmocka_unit_test(test_offline_one_alert),
        cmocka_unit_test(test_cycles_failing),
        cmocka_unit_test(test_nothing_known),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
