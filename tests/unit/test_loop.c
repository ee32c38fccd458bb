/*
 * Unit tests of daemon/loop.c with real pipes and real (short) timers: the
 * loop is the one piece whose job is to wait, so these tests wait too, but
 * only a few milliseconds each, through loop_run_once()'s bounded wait.
 */
#include "loop.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include <fcntl.h>

static struct loop *mkloop(void)
{
    struct loop *l = loop_new();
    assert_non_null(l);
    return l;
}

/* Runs iterations until cond(cls) or deadline_ms pass. */
static void run_until(struct loop *l, int (*cond)(void *), void *cls, int64_t deadline_ms)
{
    int64_t end = util_mono_ms() + deadline_ms;
    while (!cond(cls) && util_mono_ms() < end)
        loop_run_once(l, 5);
}

/* ---- watchers --------------------------------------------------------- */

struct rd {
    int calls, events, fd;
    char buf[16];
    size_t got;
};

static void on_readable(struct loop *l, int fd, int events, void *cls)
{
    (void)l;
    struct rd *r = cls;
    r->calls++;
    r->events = events;
    r->fd = fd;
    ssize_t n = read(fd, r->buf + r->got, sizeof r->buf - 1 - r->got);
    if (n > 0)
        r->got += (size_t)n;
}

static int got_bytes(void *cls)
{
    return ((struct rd *)cls)->got > 0;
}

static void test_watch_readable(void **state)
{
    (void)state;
    struct loop *l = mkloop();
    int p[2];
    assert_int_equal(pipe2(p, O_NONBLOCK), 0);
    struct rd r = {0};
    assert_int_equal(loop_watch(l, p[0], LOOP_READABLE, on_readable, &r), 0);
    loop_run_once(l, 10); /* nothing written: no call */
    assert_int_equal(r.calls, 0);
    assert_int_equal(write(p[1], "hi", 2), 2);
    run_until(l, got_bytes, &r, 1000);
    assert_int_equal(r.calls, 1);
    assert_int_equal(r.fd, p[0]);
    assert_true(r.events & LOOP_READABLE);
    assert_false(r.events & LOOP_WRITABLE); /* not asked for */
    assert_memory_equal(r.buf, "hi", 2);
    /* unwatched: no more calls */
    loop_unwatch(l, p[0]);
    loop_unwatch(l, p[0]); /* twice is harmless */
    assert_int_equal(write(p[1], "x", 1), 1);
    loop_run_once(l, 10);
    assert_int_equal(r.calls, 1);
    /* watched again (mask 0 also unwatches) */
    assert_int_equal(loop_watch(l, p[0], LOOP_READABLE, on_readable, &r), 0);
    loop_run_once(l, 10);
    assert_int_equal(r.calls, 2);
    assert_int_equal(loop_watch(l, p[0], 0, on_readable, &r), 0);
    assert_int_equal(write(p[1], "y", 1), 1);
    loop_run_once(l, 10);
    assert_int_equal(r.calls, 2);
    assert_int_equal(loop_watch(l, -1, LOOP_READABLE, on_readable, &r), -1);
    close(p[0]);
    close(p[1]);
    loop_free(l);
}

static void on_writable(struct loop *l, int fd, int events, void *cls)
{
    int *calls = cls;
    (*calls)++;
    assert_true(events & LOOP_WRITABLE);
    loop_unwatch(l, fd);
}

static void test_watch_writable_and_replace(void **state)
{
    (void)state;
    struct loop *l = mkloop();
    int p[2];
    assert_int_equal(pipe2(p, O_NONBLOCK), 0);
    int wcalls = 0;
    struct rd r = {0};
    assert_int_equal(loop_watch(l, p[1], LOOP_WRITABLE, on_writable, &wcalls), 0);
    loop_run_once(l, 10);
    assert_int_equal(wcalls, 1); /* an empty pipe is writable */
    /* a second watch of the same fd replaces the first (callback too) */
    assert_int_equal(loop_watch(l, p[0], LOOP_READABLE, on_writable, &wcalls), 0);
    assert_int_equal(loop_watch(l, p[0], LOOP_READABLE, on_readable, &r), 0);
    assert_int_equal(write(p[1], "z", 1), 1);
    loop_run_once(l, 10);
    assert_int_equal(wcalls, 1);
    assert_int_equal(r.calls, 1);
    /* a high fd number grows the watcher table */
    int hi = dup2(p[0], 300);
    assert_int_equal(hi, 300);
    struct rd r2 = {0};
    assert_int_equal(loop_watch(l, hi, LOOP_READABLE, on_readable, &r2), 0);
    assert_int_equal(write(p[1], "w", 1), 1);
    loop_run_once(l, 10);
    assert_int_equal(r2.calls, 1);
    assert_int_equal(r.got + r2.got, 2); /* "z", then "w" by one of the two */
    loop_unwatch(l, hi);
    close(hi);
    loop_unwatch(l, p[0]);
    close(p[0]);
    close(p[1]);
    loop_free(l);
}

/* The read end sees the writer close (EPOLLHUP) as readable. */
static void test_watch_hangup(void **state)
{
    (void)state;
    struct loop *l = mkloop();
    int p[2];
    assert_int_equal(pipe2(p, O_NONBLOCK), 0);
    struct rd r = {0};
    assert_int_equal(loop_watch(l, p[0], LOOP_READABLE, on_readable, &r), 0);
    close(p[1]);
    loop_run_once(l, 50);
    assert_int_equal(r.calls, 1);
    assert_true(r.events & LOOP_READABLE);
    loop_unwatch(l, p[0]);
    close(p[0]);
    loop_free(l);
}

/* An fd closed without loop_unwatch (libpq does that on reconnect) and
 * reused by a new pipe: watching it again must work. */
static void test_watch_reused_fd(void **state)
{
    (void)state;
    struct loop *l = mkloop();
    int p[2], q[2];
    assert_int_equal(pipe2(p, O_NONBLOCK), 0);
    struct rd r = {0};
    assert_int_equal(loop_watch(l, p[0], LOOP_READABLE, on_readable, &r), 0);
    int fd = p[0];
    close(p[0]);
    close(p[1]);
    assert_int_equal(pipe2(q, O_NONBLOCK), 0);
    assert_int_equal(q[0], fd); /* the lowest free number comes back */
    struct rd r2 = {0};
    assert_int_equal(loop_watch(l, q[0], LOOP_READABLE, on_readable, &r2), 0);
    assert_int_equal(write(q[1], "n", 1), 1);
    loop_run_once(l, 50);
    assert_int_equal(r.calls, 0);
    assert_int_equal(r2.calls, 1);
    loop_unwatch(l, q[0]);
    close(q[0]);
    close(q[1]);
    loop_free(l);
}

/* A callback unwatching another fd ready in the same batch: that one's
 * callback is not called. */
struct pair {
    int fds[2];
    int calls;
};

static void on_unwatch_other(struct loop *l, int fd, int events, void *cls)
{
    (void)events;
    struct pair *pr = cls;
    pr->calls++;
    for (int i = 0; i < 2; i++)
        loop_unwatch(l, pr->fds[i]);
    char c;
    assert_int_equal(read(fd, &c, 1), 1);
}

static void test_unwatch_in_callback(void **state)
{
    (void)state;
    struct loop *l = mkloop();
    int a[2], b[2];
    assert_int_equal(pipe2(a, O_NONBLOCK), 0);
    assert_int_equal(pipe2(b, O_NONBLOCK), 0);
    struct pair pr = {{a[0], b[0]}, 0};
    assert_int_equal(loop_watch(l, a[0], LOOP_READABLE, on_unwatch_other, &pr), 0);
    assert_int_equal(loop_watch(l, b[0], LOOP_READABLE, on_unwatch_other, &pr), 0);
    assert_int_equal(write(a[1], "1", 1), 1);
    assert_int_equal(write(b[1], "1", 1), 1);
    loop_run_once(l, 50);
    loop_run_once(l, 10);
    assert_int_equal(pr.calls, 1);
    int fds[] = {a[0], a[1], b[0], b[1]};
    for (size_t i = 0; i < ARRAY_LEN(fds); i++)
        close(fds[i]);
    loop_free(l);
}

/* ---- timers ----------------------------------------------------------- */

#define MAX_FIRES 64

struct tlog {
    int order[MAX_FIRES];
    int64_t when[MAX_FIRES];
    int n;
};

struct tspec {
    struct tlog *log;
    int tag;
    int64_t next[8]; /* return values, in turn; then LOOP_TIMER_STOP */
    int fired;
    int64_t del; /* timer id to delete when fired (0 = none) */
    int64_t self;
};

static int64_t on_timer(struct loop *l, void *cls)
{
    struct tspec *t = cls;
    if (t->log->n < MAX_FIRES) {
        t->log->order[t->log->n] = t->tag;
        t->log->when[t->log->n] = loop_now(l);
        t->log->n++;
    }
    if (t->del)
        loop_timer_del(l, t->del);
    int64_t r = t->fired < 8 ? t->next[t->fired] : LOOP_TIMER_STOP;
    t->fired++;
    return r;
}

static int log_has(void *cls)
{
    struct tlog *g = cls;
    return g->n >= g->order[MAX_FIRES - 1];
}

static void run_fires(struct loop *l, struct tlog *g, int n, int64_t max_ms)
{
    g->order[MAX_FIRES - 1] = n; /* slot used as the target */
    run_until(l, log_has, g, max_ms);
}

static void test_timers_in_order(void **state)
{
    (void)state;
    struct loop *l = mkloop();
    struct tlog g = {0};
    struct tspec t[4] = {
        {&g, 30, {LOOP_TIMER_STOP}},
        {&g, 10, {LOOP_TIMER_STOP}},
        {&g, 20, {LOOP_TIMER_STOP}},
        {&g, 0, {LOOP_TIMER_STOP}},
    };
    int64_t start = util_mono_ms();
    /* armed out of order; they must fire by due time */
    assert_true(loop_timer_add(l, 30, on_timer, &t[0]) > 0);
    assert_true(loop_timer_add(l, 10, on_timer, &t[1]) > 0);
    assert_true(loop_timer_add(l, 20, on_timer, &t[2]) > 0);
    assert_true(loop_timer_add(l, -5, on_timer, &t[3]) > 0); /* negative = now */
    run_fires(l, &g, 4, 2000);
    assert_int_equal(g.n, 4);
    assert_int_equal(g.order[0], 0);
    assert_int_equal(g.order[1], 10);
    assert_int_equal(g.order[2], 20);
    assert_int_equal(g.order[3], 30);
    assert_true(g.when[3] - start >= 30);
    for (int i = 0; i < 4; i++)
        assert_int_equal(t[i].fired, 1); /* STOP: once each */
    loop_run_once(l, 20);
    assert_int_equal(g.n, 4);
    loop_free(l);
}

/* Due timers of one iteration fire earliest first. */
static void test_timers_same_iteration(void **state)
{
    (void)state;
    struct loop *l = mkloop();
    struct tlog g = {0};
    struct tspec t[3] = {
        {&g, 3, {LOOP_TIMER_STOP}},
        {&g, 1, {LOOP_TIMER_STOP}},
        {&g, 2, {LOOP_TIMER_STOP}},
    };
    assert_true(loop_timer_add(l, 3, on_timer, &t[0]) > 0);
    assert_true(loop_timer_add(l, 1, on_timer, &t[1]) > 0);
    assert_true(loop_timer_add(l, 2, on_timer, &t[2]) > 0);
    usleep(10000); /* all due before the next iteration */
    loop_run_once(l, 0);
    assert_int_equal(g.n, 3);
    assert_int_equal(g.order[0], 1);
    assert_int_equal(g.order[1], 2);
    assert_int_equal(g.order[2], 3);
    loop_free(l);
}

static void test_timer_rearm(void **state)
{
    (void)state;
    struct loop *l = mkloop();
    struct tlog g = {0};
    struct tspec t = {&g, 1, {5, 5, 0, 5, LOOP_TIMER_STOP}};
    assert_true(loop_timer_add(l, 5, on_timer, &t) > 0);
    run_fires(l, &g, 5, 2000);
    assert_int_equal(t.fired, 5);
    for (int i = 1; i < 5; i++) {
        /* each re-arm is relative to the firing iteration's now */
        int64_t want = t.next[i - 1];
        assert_true(g.when[i] - g.when[i - 1] >= want);
    }
    /* a re-armed timer fires at most once per iteration, even at 0 */
    loop_run_once(l, 30);
    loop_run_once(l, 30);
    assert_int_equal(t.fired, 5);
    loop_free(l);
}

static void test_timer_delete(void **state)
{
    (void)state;
    struct loop *l = mkloop();
    struct tlog g = {0};
    /* a deletes itself while returning a re-arm; b deletes c (due later);
     * d is deleted before it fires; e keeps ticking until deleted from
     * outside. */
    struct tspec a = {&g, 1, {1, 1, 1}};
    struct tspec b = {&g, 2, {LOOP_TIMER_STOP}};
    struct tspec c = {&g, 3, {LOOP_TIMER_STOP}};
    struct tspec d = {&g, 4, {LOOP_TIMER_STOP}};
    int64_t ida = loop_timer_add(l, 1, on_timer, &a);
    a.del = ida;
    int64_t idc = loop_timer_add(l, 20, on_timer, &c);
    b.del = idc;
    assert_true(loop_timer_add(l, 5, on_timer, &b) > 0);
    int64_t idd = loop_timer_add(l, 5, on_timer, &d);
    assert_true(ida > 0 && idc > 0 && idd > 0);
    assert_int_not_equal(ida, idc);
    loop_timer_del(l, idd);
    loop_timer_del(l, idd);    /* already gone: ignored */
    loop_timer_del(l, 999999); /* unknown: ignored */
    assert_int_equal(loop_timer_reset(l, idd, 1), -1);
    int64_t end = util_mono_ms() + 60;
    while (util_mono_ms() < end)
        loop_run_once(l, 5);
    assert_int_equal(a.fired, 1);
    assert_int_equal(b.fired, 1);
    assert_int_equal(c.fired, 0);
    assert_int_equal(d.fired, 0);
    loop_free(l);
}

/* loop_timer_reset moves a timer. */
static void test_timer_reset(void **state)
{
    (void)state;
    struct loop *l = mkloop();
    struct tlog g = {0};
    struct tspec a = {&g, 1, {LOOP_TIMER_STOP}};
    struct tspec b = {&g, 2, {LOOP_TIMER_STOP}};
    int64_t ida = loop_timer_add(l, 5, on_timer, &a);
    assert_true(loop_timer_add(l, 15, on_timer, &b) > 0);
    assert_int_equal(loop_timer_reset(l, ida, 40), 0);
    run_fires(l, &g, 2, 2000);
    assert_int_equal(g.order[0], 2);
    assert_int_equal(g.order[1], 1);
    loop_free(l);
}

/* A timer returning 0 fires again on the next iteration, not in the same
 * pass: otherwise it would spin inside one iteration, starving fds and
 * hooks. */
static int64_t on_zero(struct loop *l, void *cls)
{
    (void)l;
    int *n = cls;
    (*n)++;
    return *n < 100 ? 0 : LOOP_TIMER_STOP; /* bounded, so a failure ends */
}

static void test_timer_zero_no_spin(void **state)
{
    (void)state;
    struct loop *l = mkloop();
    int n = 0;
    assert_true(loop_timer_add(l, 0, on_zero, &n) > 0);
    loop_run_once(l, 0);
    assert_int_equal(n, 1);
    loop_run_once(l, 0);
    assert_int_equal(n, 2);
    loop_free(l);
}

/* A timer added from a callback waits for a later iteration. */
struct adder {
    struct tspec *child;
    int fired;
};

static int64_t on_adder(struct loop *l, void *cls)
{
    struct adder *a = cls;
    a->fired++;
    assert_true(loop_timer_add(l, 0, on_timer, a->child) > 0);
    return LOOP_TIMER_STOP;
}

static void test_timer_added_in_callback(void **state)
{
    (void)state;
    struct loop *l = mkloop();
    struct tlog g = {0};
    struct tspec child = {&g, 7, {LOOP_TIMER_STOP}};
    struct adder a = {&child, 0};
    assert_true(loop_timer_add(l, 0, on_adder, &a) > 0);
    loop_run_once(l, 0);
    assert_int_equal(a.fired, 1);
    assert_int_equal(child.fired, 0);
    loop_run_once(l, 0);
    assert_int_equal(child.fired, 1);
    loop_free(l);
}

/* Many timers: the table grows. */
static void test_many_timers(void **state)
{
    (void)state;
    struct loop *l = mkloop();
    struct tlog g = {0};
    enum { N = 50 };
    struct tspec t[N];
    for (int i = 0; i < N; i++) {
        t[i] = (struct tspec){&g, i, {LOOP_TIMER_STOP}};
        assert_true(loop_timer_add(l, (N - i) % 7, on_timer, &t[i]) > 0);
    }
    int64_t end = util_mono_ms() + 100;
    while (util_mono_ms() < end)
        loop_run_once(l, 5);
    for (int i = 0; i < N; i++)
        assert_int_equal(t[i].fired, 1);
    loop_free(l);
}

/* ---- hooks and stop --------------------------------------------------- */

struct hk {
    int calls;
    int *seq;
    int order;
    int stop_at;
};

static void on_hook(struct loop *l, void *cls)
{
    struct hk *h = cls;
    h->calls++;
    h->order = ++*h->seq;
    if (h->stop_at && h->calls == h->stop_at)
        loop_stop(l);
}

static void test_hooks(void **state)
{
    (void)state;
    struct loop *l = mkloop();
    int seq = 0;
    struct hk a = {0, &seq, 0, 0}, b = {0, &seq, 0, 0};
    assert_int_equal(loop_hook_add(l, on_hook, &a), 0);
    assert_int_equal(loop_hook_add(l, on_hook, &b), 0);
    uint64_t it0 = loop_iterations(l);
    for (int i = 0; i < 5; i++)
        loop_run_once(l, 0);
    assert_int_equal(a.calls, 5);
    assert_int_equal(b.calls, 5);
    assert_true(a.order < b.order); /* registration order */
    assert_int_equal(loop_iterations(l) - it0, 5);
    loop_free(l);
}

static void test_stop_from_hook(void **state)
{
    (void)state;
    struct loop *l = mkloop();
    int seq = 0;
    struct hk h = {0, &seq, 0, 3};
    assert_int_equal(loop_hook_add(l, on_hook, &h), 0);
    struct tlog g = {0};
    struct tspec t = {&g, 1, {1, 1, 1, 1, 1, 1, 1, 1}}; /* keeps the loop waking */
    assert_true(loop_timer_add(l, 1, on_timer, &t) > 0);
    loop_run(l);
    assert_int_equal(h.calls, 3);
    loop_free(l);
}

static int64_t on_stop_timer(struct loop *l, void *cls)
{
    int *n = cls;
    (*n)++;
    loop_stop(l);
    return 5;
}

static void on_stop_watch(struct loop *l, int fd, int events, void *cls)
{
    (void)events;
    int *n = cls;
    (*n)++;
    char c;
    assert_int_equal(read(fd, &c, 1), 1);
    loop_stop(l);
}

static void test_stop_from_callbacks(void **state)
{
    (void)state;
    struct loop *l = mkloop();
    int tn = 0;
    int64_t before = loop_now(l);
    int64_t id = loop_timer_add(l, 5, on_stop_timer, &tn);
    assert_true(id > 0);
    loop_run(l); /* returns after the timer's iteration */
    assert_int_equal(tn, 1);
    assert_true(loop_now(l) - before >= 5);
    loop_run(l); /* runs again until the re-armed timer stops it again */
    assert_int_equal(tn, 2);
    loop_timer_del(l, id);

    int p[2];
    assert_int_equal(pipe2(p, O_NONBLOCK), 0);
    int wn = 0;
    assert_int_equal(loop_watch(l, p[0], LOOP_READABLE, on_stop_watch, &wn), 0);
    assert_int_equal(write(p[1], "s", 1), 1);
    loop_run(l);
    assert_int_equal(wn, 1);
    loop_unwatch(l, p[0]);
    close(p[0]);
    close(p[1]);
    loop_free(l);
    loop_free(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_watch_readable),
        cmocka_unit_test(test_watch_writable_and_replace),
        cmocka_unit_test(test_watch_hangup),
        cmocka_unit_test(test_watch_reused_fd),
        cmocka_unit_test(test_unwatch_in_callback),
        cmocka_unit_test(test_timers_in_order),
        cmocka_unit_test(test_timers_same_iteration),
        cmocka_unit_test(test_timer_rearm),
        cmocka_unit_test(test_timer_delete),
        cmocka_unit_test(test_timer_reset),
        cmocka_unit_test(test_timer_zero_no_spin),
        cmocka_unit_test(test_timer_added_in_callback),
        cmocka_unit_test(test_many_timers),
        cmocka_unit_test(test_hooks),
        cmocka_unit_test(test_stop_from_hook),
        cmocka_unit_test(test_stop_from_callbacks),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
