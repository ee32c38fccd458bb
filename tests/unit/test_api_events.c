/*
 * Unit tests of api/events.c's payload rule: what the daemon sends on
 * fetcher_events becomes an SSE event only when it is a JSON object with a
 * lower-case "type", re-serialised on one line (an SSE data line cannot
 * hold a newline). The stream machinery runs against real MHD and
 * PostgreSQL in tests/integration/api_control.sh.
 */
#include "events.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

static void test_valid(void **state)
{
    (void)state;
    char type[33];
    char *s = events_parse_payload("{\"type\":\"cycle_started\",\n  \"seq\": 1}", type);
    assert_non_null(s);
    assert_string_equal(type, "cycle_started");
    assert_null(strchr(s, '\n'));
    assert_string_equal(s, "{\"type\":\"cycle_started\",\"seq\":1}");
    free(s);
    s = events_parse_payload("{\"type\":\"log\",\"message\":\"a\\nb / c\"}", type);
    assert_non_null(s);
    assert_null(strchr(s, '\n'));
    free(s);
}

static void test_invalid(void **state)
{
    (void)state;
    static const char *const bad[] = {
        "",
        "garbage",
        "[]",
        "1",
        "\"type\"",
        "{}",
        "{\"type\":1}",
        "{\"type\":\"\"}",
        "{\"type\":\"Cycle\"}",
        "{\"type\":\"a b\"}",
        "{\"type\":\"a\\nb\"}",
        "{\"type\":\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\"}",
        "{\"type\":\"x\"",
        "{\"type\":null}",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char type[33];
        char *s = events_parse_payload(bad[i], type);
        if (s != NULL)
            fail_msg("accepted '%s'", bad[i]);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_valid),
        cmocka_unit_test(test_invalid),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
