/*
 * loop — see loop.h.
 *
 * Timers live in a small unsorted array: fetcherd arms about ten (curl,
 * scheduler, heartbeat, statistics, reconnect, writer retry), so a linear
 * scan per iteration costs less than keeping a heap ordered. Watchers are
 * indexed by fd.
 */
#include "loop.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

struct watcher {
    loop_fd_cb cb;
    void *cls;
    int mask;
};

struct timer {
    int64_t id;
    int64_t when; /* monotonic ms */
    loop_timer_cb cb;
    void *cls;
    uint64_t ran; /* the iteration it last fired in */
};

struct hook {
    loop_hook_cb cb;
    void *cls;
};

struct loop {
    int epfd;
    struct watcher *watchers;
    int nwatchers; /* capacity, indexed by fd */
    struct timer *timers;
    int ntimers, captimers;
    int64_t next_timer_id;
    struct hook *hooks;
    int nhooks;
    int64_t now;
    uint64_t iterations;
    int stop;
};

struct loop *loop_new(void)
{
    struct loop *l = calloc(1, sizeof *l);
    if (l == NULL)
        return NULL;
    l->epfd = epoll_create1(EPOLL_CLOEXEC);
    if (l->epfd < 0) {
        free(l);
        return NULL;
    }
    l->next_timer_id = 1;
    l->now = util_mono_ms();
    return l;
}

void loop_free(struct loop *l)
{
    if (l == NULL)
        return;
    close(l->epfd);
    free(l->watchers);
    free(l->timers);
    free(l->hooks);
    free(l);
}

int loop_watch(struct loop *l, int fd, int mask, loop_fd_cb cb, void *cls)
{
    if (fd < 0)
        return -1;
    if (mask == 0) {
        loop_unwatch(l, fd);
        return 0;
    }
    if (fd >= l->nwatchers) {
        int n = l->nwatchers ? l->nwatchers : 64;
        while (n <= fd)
            n *= 2;
        struct watcher *w = realloc(l->watchers, (size_t)n * sizeof *w);
        if (w == NULL)
            return -1;
        memset(w + l->nwatchers, 0, (size_t)(n - l->nwatchers) * sizeof *w);
        l->watchers = w;
        l->nwatchers = n;
    }
    struct epoll_event ev = {0};
    ev.events = ((mask & LOOP_READABLE) ? EPOLLIN : 0) | ((mask & LOOP_WRITABLE) ? EPOLLOUT : 0);
    ev.data.fd = fd;
    int op = l->watchers[fd].mask ? EPOLL_CTL_MOD : EPOLL_CTL_ADD;
    if (epoll_ctl(l->epfd, op, fd, &ev) != 0) {
        /* The fd may have been closed and reused behind our back (libpq
         * reconnects do that): forget the stale entry and add afresh. */
        if (op == EPOLL_CTL_MOD && errno == ENOENT)
            op = EPOLL_CTL_ADD;
        else if (op == EPOLL_CTL_ADD && errno == EEXIST)
            op = EPOLL_CTL_MOD;
        else
            return -1;
        if (epoll_ctl(l->epfd, op, fd, &ev) != 0)
            return -1;
    }
    l->watchers[fd] = (struct watcher){cb, cls, mask};
    return 0;
}

void loop_unwatch(struct loop *l, int fd)
{
    if (fd < 0 || fd >= l->nwatchers || l->watchers[fd].mask == 0)
        return;
    (void)epoll_ctl(l->epfd, EPOLL_CTL_DEL, fd, NULL);
    l->watchers[fd] = (struct watcher){0};
}

int64_t loop_timer_add(struct loop *l, int64_t delay_ms, loop_timer_cb cb, void *cls)
{
    if (l->ntimers == l->captimers) {
        int n = l->captimers ? l->captimers * 2 : 16;
        struct timer *t = realloc(l->timers, (size_t)n * sizeof *t);
        if (t == NULL)
            return -1;
        l->timers = t;
        l->captimers = n;
    }
    int64_t id = l->next_timer_id++;
    l->timers[l->ntimers++] =
        (struct timer){id, l->now + (delay_ms < 0 ? 0 : delay_ms), cb, cls, 0};
    return id;
}

static int loop_find_timer(const struct loop *l, int64_t id)
{
    for (int i = 0; i < l->ntimers; i++)
        if (l->timers[i].id == id)
            return i;
    return -1;
}

void loop_timer_del(struct loop *l, int64_t id)
{
    int i = loop_find_timer(l, id);
    if (i < 0)
        return;
    l->timers[i] = l->timers[--l->ntimers];
}

int loop_timer_reset(struct loop *l, int64_t id, int64_t delay_ms)
{
    int i = loop_find_timer(l, id);
    if (i < 0)
        return -1;
    l->timers[i].when = l->now + (delay_ms < 0 ? 0 : delay_ms);
    return 0;
}

int loop_hook_add(struct loop *l, loop_hook_cb cb, void *cls)
{
    struct hook *h = realloc(l->hooks, (size_t)(l->nhooks + 1) * sizeof *h);
    if (h == NULL)
        return -1;
    l->hooks = h;
    l->hooks[l->nhooks++] = (struct hook){cb, cls};
    return 0;
}

int64_t loop_now(const struct loop *l)
{
    return l->now;
}

uint64_t loop_iterations(const struct loop *l)
{
    /* read by the watchdog thread */
    return __atomic_load_n(&l->iterations, __ATOMIC_RELAXED);
}

static void loop_run_timers(struct loop *l)
{
    /* A callback may add or delete timers (its own included), so find each
     * due timer afresh by id rather than trusting an index across calls.
     * Each timer fires at most once per iteration: one returning 0 would
     * otherwise spin here forever, starving fds and hooks. */
    int64_t horizon = l->next_timer_id; /* timers added now wait a turn */
    for (;;) {
        int due = -1;
        for (int i = 0; i < l->ntimers; i++)
            if (l->timers[i].id < horizon && l->timers[i].when <= l->now &&
                l->timers[i].ran != l->iterations &&
                (due < 0 || l->timers[i].when < l->timers[due].when))
                due = i;
        if (due < 0)
            return;
        l->timers[due].ran = l->iterations;
        struct timer t = l->timers[due];
        /* Park it in the future while it runs so a failure to find it
         * again cannot make it fire twice in this pass. */
        l->timers[due].when = INT64_MAX;
        int64_t next = t.cb(l, t.cls);
        int i = loop_find_timer(l, t.id);
        if (i < 0)
            continue; /* deleted itself */
        if (next == LOOP_TIMER_STOP)
            l->timers[i] = l->timers[--l->ntimers];
        else
            l->timers[i].when = l->now + (next < 0 ? 0 : next);
    }
}

void loop_run_once(struct loop *l, int64_t max_wait_ms)
{
    for (int i = 0; i < l->nhooks; i++)
        l->hooks[i].cb(l, l->hooks[i].cls);
    if (l->stop)
        return;

    int64_t wait = max_wait_ms;
    int64_t now = util_mono_ms();
    for (int i = 0; i < l->ntimers; i++) {
        int64_t d = l->timers[i].when - now;
        if (d < 0)
            d = 0;
        if (wait < 0 || d < wait)
            wait = d;
    }
    struct epoll_event evs[64];
    int n = epoll_wait(l->epfd, evs, 64, wait > 60000 ? 60000 : (int)wait);
    l->now = util_mono_ms();
    __atomic_store_n(&l->iterations, l->iterations + 1, __ATOMIC_RELAXED);
    for (int i = 0; i < n; i++) {
        int fd = evs[i].data.fd;
        if (fd >= l->nwatchers || l->watchers[fd].mask == 0)
            continue; /* unwatched by an earlier callback of this batch */
        int events = 0;
        if (evs[i].events & (EPOLLIN | EPOLLHUP | EPOLLERR))
            events |= LOOP_READABLE;
        if (evs[i].events & (EPOLLOUT | EPOLLHUP | EPOLLERR))
            events |= LOOP_WRITABLE;
        struct watcher w = l->watchers[fd];
        w.cb(l, fd, events & (w.mask | ((evs[i].events & (EPOLLHUP | EPOLLERR)) ? 3 : 0)), w.cls);
    }
    loop_run_timers(l);
}

void loop_run(struct loop *l)
{
    l->stop = 0;
    while (!l->stop)
        loop_run_once(l, -1);
}

void loop_stop(struct loop *l)
{
    l->stop = 1;
}
