/*
 * Unit tests of api/metrics.c: request counting by code (unknown codes as
 * "other"), the cumulative latency histogram, and that formatting never
 * writes past its buffer.
 */
#include "metrics.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

static void test_counts(void **state)
{
    (void)state;
    metrics_record(200, 100, 1);     /* ≤ 250 µs */
    metrics_record(200, 3000, 1);    /* ≤ 5 ms */
    metrics_record(404, 2000000, 1); /* +Inf */
    metrics_record(418, 10, 1);      /* other */
    metrics_record(200, 50, 0);      /* a stream: counted, no latency */
    static char buf[8192];
    size_t len = 0;
    metrics_format_requests(buf, sizeof buf, &len);
    assert_true(len < sizeof buf);
    assert_non_null(strstr(buf, "fetcherd_api_requests_total{code=\"200\"} 3\n"));
    assert_non_null(strstr(buf, "fetcherd_api_requests_total{code=\"404\"} 1\n"));
    assert_non_null(strstr(buf, "fetcherd_api_requests_total{code=\"other\"} 1\n"));
    assert_non_null(
        strstr(buf, "fetcherd_api_request_duration_seconds_bucket{le=\"0.00025\"} 2\n"));
    assert_non_null(strstr(buf, "fetcherd_api_request_duration_seconds_bucket{le=\"0.005\"} 3\n"));
    assert_non_null(strstr(buf, "fetcherd_api_request_duration_seconds_bucket{le=\"1\"} 3\n"));
    assert_non_null(strstr(buf, "fetcherd_api_request_duration_seconds_bucket{le=\"+Inf\"} 4\n"));
    assert_non_null(strstr(buf, "fetcherd_api_request_duration_seconds_count 4\n"));
    assert_non_null(strstr(buf, "# TYPE fetcherd_api_request_duration_seconds histogram\n"));
}

static void test_bounded(void **state)
{
    (void)state;
    char buf[64];
    memset(buf, 'x', sizeof buf);
    size_t len = 0;
    metrics_format_requests(buf, 40, &len);
    assert_int_equal(len, 40);
    assert_int_equal(buf[39], '\0');
    assert_int_equal(buf[40], 'x');
    metrics_appendf(buf, 40, &len, "more");
    assert_int_equal(len, 40);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_counts),
        cmocka_unit_test(test_bounded),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
