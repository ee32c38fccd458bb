/*
 * Unit tests of common/procstat.c — /proc/<pid>/stat parsed as the
 * process_* series need it (CPU seconds from utime + stime, start time
 * from boot time + starttime, virtual and resident memory), also when the
 * command name holds spaces and parentheses; malformed text refused; and
 * this process's own figures plausible.
 */
#include "procstat.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

/* fields 1…24 of proc(5): pid (comm) state ppid pgrp session tty_nr tpgid
 * flags minflt cminflt majflt cmajflt utime stime cutime cstime priority
 * nice num_threads itrealvalue starttime vsize rss … */
static const char *const stat_line =
    "4242 (fetcher-api) S 1 4242 4242 0 -1 4194560 900 0 0 0 250 150 7 9 20 0 6 0 "
    "123450 482365440 2926 18446744073709551615 1 1 0 0 0 0 0 4096 0 0 0 0 17 1 0 0 0 0 0\n";

static void test_parse(void **state)
{
    (void)state;
    struct procstat s = {0};
    assert_int_equal(procstat_parse(stat_line, 100, 4096, 1796500000, &s), 0);
    assert_float_equal(s.cpu_seconds, 4.0, 1e-9); /* (250 + 150) / 100; children not ours */
    assert_float_equal(s.start_time_seconds, 1796500000 + 1234.5, 1e-6);
    assert_int_equal(s.virtual_bytes, 482365440);
    assert_int_equal(s.resident_bytes, 2926 * 4096);
}

static void test_parse_odd_name(void **state)
{
    (void)state;
    const char *odd = "7 (a) b (c) d) R 1 7 7 0 -1 0 0 0 0 0 10 20 0 0 20 0 1 0 500 1000 3 0\n";
    struct procstat s = {0};
    assert_int_equal(procstat_parse(odd, 100, 4096, 0, &s), 0);
    assert_float_equal(s.cpu_seconds, 0.3, 1e-9);
    assert_int_equal(s.virtual_bytes, 1000);
    assert_int_equal(s.resident_bytes, 3 * 4096);
}

static void test_parse_bad(void **state)
{
    (void)state;
    struct procstat s = {0};
    assert_int_equal(procstat_parse("no parenthesis here", 100, 4096, 0, &s), -1);
    assert_int_equal(procstat_parse("1 (x) S 1 2 3", 100, 4096, 0, &s), -1); /* cut short */
    assert_int_equal(procstat_parse("1 (x) S 1 2 3 4 5 6 7 8 9 10 x 12 13 14 15 16 17 18 19 20 21",
                                    100, 4096, 0, &s),
                     -1); /* not a number */
    assert_int_equal(procstat_parse(stat_line, 0, 4096, 0, &s), -1);
}

static void test_self(void **state)
{
    (void)state;
    struct procstat s;
    assert_int_equal(procstat_read(&s), 0);
    assert_true(s.resident_bytes > 100 * 1024);
    assert_true(s.virtual_bytes >= s.resident_bytes);
    assert_true(s.open_fds >= 3); /* stdin, stdout, stderr */
    assert_true(s.max_fds >= s.open_fds);
    assert_true(s.cpu_seconds >= 0);
    assert_true(s.start_time_seconds > 1.6e9);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse),
        cmocka_unit_test(test_parse_odd_name),
        cmocka_unit_test(test_parse_bad),
        cmocka_unit_test(test_self),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
