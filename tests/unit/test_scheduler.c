/*
 * Unit tests of the scheduler's deadline arithmetic (daemon/deadline.c),
 * with an injected clock: a table of (start, interval, fired, now) and the
 * next deadline and missed count that must come out, then a simulated run
 * of many cycles of random length checking that the schedule never drifts
 * and every deadline is either handled or counted as missed.
 */
#include "deadline.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

struct dl_case {
    int64_t start, interval, fired, now;
    int64_t want_next, want_missed;
};

static void test_table(void **state)
{
    (void)state;
    static const struct dl_case cases[] = {
        /* on time: the next deadline, nothing missed */
        {1000, 600, 1000, 1000, 1600, 0},
        {1000, 600, 1600, 1600, 2200, 0},
        /* fired late but before the next deadline: no drift */
        {1000, 600, 1600, 1650, 2200, 0},
        {1000, 600, 1600, 2199, 2200, 0},
        /* exactly on the next deadline: that one counts as missed */
        {1000, 600, 1600, 2200, 2800, 1},
        /* an overrun past two deadlines */
        {1000, 600, 1600, 3000, 3400, 2},
        {0, 10, 10, 35, 40, 2},
        /* a long stall */
        {0, 1000, 0, 1000000, 1001000, 1000},
        /* before the start (the first deadline is start itself) */
        {1000, 600, 1000, 999, 1000, 0},
        /* interval <= 0 counts as 1 ms */
        {0, 0, 5, 5, 6, 0},
        {0, -7, 5, 8, 9, 3},
        /* large monotonic values */
        {INT64_C(9000000000000), 600000, INT64_C(9000000000000), INT64_C(9000000600001),
         INT64_C(9000001200000), 1},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const struct dl_case *c = &cases[i];
        int64_t missed = -1;
        int64_t next = deadline_next(c->start, c->interval, c->fired, c->now, &missed);
        if (next != c->want_next || missed != c->want_missed)
            fail_msg("case %zu: next %lld missed %lld, want %lld %lld", i, (long long)next,
                     (long long)missed, (long long)c->want_next, (long long)c->want_missed);
    }
}

/* A simulated scheduler on a fake clock: each deadline fires when the clock
 * reaches it (or later, after a long cycle); every deadline between start
 * and the end is handled once or missed once, and handled deadlines are
 * exactly start + k × interval. */
static void test_simulated_run(void **state)
{
    (void)state;
    uint64_t rng = 7;
    const int64_t start = 123456, interval = 600000;
    int64_t now = start, deadline = start;
    int64_t handled = 0, missed_total = 0;
    for (int i = 0; i < 100000; i++) {
        /* the timer fires at the deadline, plus the loop's latency */
        rng = rng * 6364136223846793005ull + 1442695040888963407ull;
        int64_t latency = (int64_t)(rng >> 33) % 50;
        if (now < deadline)
            now = deadline;
        now += latency;
        assert_int_equal((deadline - start) % interval, 0); /* never drifts */
        handled++;
        /* the cycle run now sometimes overruns several intervals */
        rng = rng * 6364136223846793005ull + 1442695040888963407ull;
        int64_t work = (rng >> 33) % 10 == 0 ? (int64_t)(rng >> 40) % (5 * interval) : 1000;
        now += work;
        int64_t m;
        int64_t next = deadline_next(start, interval, deadline, now, &m);
        assert_true(next > now);
        assert_true(next - now <= interval);
        assert_int_equal(m, (next - deadline) / interval - 1);
        missed_total += m;
        deadline = next;
    }
    /* every deadline before the last is accounted for exactly once */
    assert_int_equal(handled + missed_total, (deadline - start) / interval);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_table),
        cmocka_unit_test(test_simulated_run),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
