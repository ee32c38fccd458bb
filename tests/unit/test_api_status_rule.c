/*
 * Unit tests of api/status_rule.c: the live window and the
 * running/degraded/stopped decision from a live instance's detail.
 */
#include "status_rule.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

static void test_window(void **state)
{
    (void)state;
    static const struct {
        int64_t heartbeat;
        int want;
    } cases[] = {{1, 15}, {5, 15}, {6, 18}, {10, 30}, {60, 180}};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        assert_int_equal(status_live_window_s(cases[i].heartbeat), cases[i].want);
}

static void test_evaluate(void **state)
{
    (void)state;
    static const struct {
        int live;
        const char *detail; /* JSON, NULL = no detail */
        enum status_state want;
        const char *reason; /* NULL = none */
    } cases[] = {
        {0, NULL, STATUS_STOPPED, NULL},
        {0, "{\"offline\":true}", STATUS_STOPPED, NULL}, /* not live: detail is moot */
        {1, NULL, STATUS_RUNNING, NULL},
        {1, "{}", STATUS_RUNNING, NULL},
        {1, "{\"db\":\"ok\",\"offline\":false,\"degraded_reason\":null,\"paused\":false}",
         STATUS_RUNNING, NULL},
        {1, "{\"paused\":true}", STATUS_RUNNING, NULL},
        {1, "{\"db\":\"ok\",\"offline\":true}", STATUS_DEGRADED, "offline: no upstream reachable"},
        {1, "{\"db\":\"reconnecting\"}", STATUS_DEGRADED, "fetcherd cannot reach the database"},
        {1, "{\"degraded_reason\":\"yahoo rate-limited\"}", STATUS_DEGRADED, "yahoo rate-limited"},
        /* the daemon's reason wins over ours */
        {1, "{\"offline\":true,\"degraded_reason\":\"dns down\"}", STATUS_DEGRADED, "dns down"},
        /* garbage types are ignored, not guessed at */
        {1, "{\"offline\":\"yes\",\"db\":5,\"degraded_reason\":7}", STATUS_RUNNING, NULL},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct json_object *d = cases[i].detail ? json_tokener_parse(cases[i].detail) : NULL;
        if (cases[i].detail != NULL)
            assert_non_null(d);
        const char *reason = "unset";
        enum status_state st = status_evaluate(cases[i].live, d, &reason);
        if (st != cases[i].want)
            fail_msg("case %zu: got %s, want %s", i, status_name(st), status_name(cases[i].want));
        if (cases[i].reason == NULL)
            assert_null(reason);
        else
            assert_string_equal(reason, cases[i].reason);
        json_object_put(d);
    }
}

static void test_names(void **state)
{
    (void)state;
    assert_string_equal(status_name(STATUS_STOPPED), "stopped");
    assert_string_equal(status_name(STATUS_RUNNING), "running");
    assert_string_equal(status_name(STATUS_DEGRADED), "degraded");
    assert_string_equal(status_name(STATUS_IDLE), "idle");
}

/* Nothing tracked: a running daemon is idle and says why; a degraded or
 * stopped one keeps saying that, and any tracked asset makes it running. */
static void test_idle(void **state)
{
    (void)state;
    const char *why = NULL;
    assert_int_equal(status_idle(STATUS_RUNNING, 0, &why), STATUS_IDLE);
    assert_string_equal(why, "no assets tracked");
    why = NULL;
    assert_int_equal(status_idle(STATUS_RUNNING, 1, &why), STATUS_RUNNING);
    assert_null(why);
    assert_int_equal(status_idle(STATUS_DEGRADED, 0, &why), STATUS_DEGRADED);
    assert_int_equal(status_idle(STATUS_STOPPED, 0, &why), STATUS_STOPPED);
    assert_null(why);
    assert_int_equal(status_idle(STATUS_RUNNING, 0, NULL), STATUS_IDLE);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_window),
        cmocka_unit_test(test_evaluate),
        cmocka_unit_test(test_names),
        cmocka_unit_test(test_idle),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
