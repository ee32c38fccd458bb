/*
 * loop — fetcherd's one event loop: fd watchers (epoll), timers whose
 * callbacks return their next interval, and before-sleep hooks. In the
 * manner of Redis's ae, and small on purpose.
 *
 * Each iteration: before-sleep hooks (reap finished work, start queued work,
 * flush writes) → epoll_wait until the nearest timer → read "now" once →
 * fd callbacks → due timers. Not thread-safe: everything runs on the one
 * thread that calls loop_run().
 */
#ifndef FETCHER_LOOP_H
#define FETCHER_LOOP_H

#include "util.h"

#include <stdint.h>

struct loop;

#define LOOP_READABLE 1
#define LOOP_WRITABLE 2
/* A timer callback returns this to stop, or its next delay in ms (>= 0). */
#define LOOP_TIMER_STOP (-1)

typedef void (*loop_fd_cb)(struct loop *l, int fd, int events, void *cls);
typedef int64_t (*loop_timer_cb)(struct loop *l, void *cls);
typedef void (*loop_hook_cb)(struct loop *l, void *cls);

/* Returns a new loop or NULL (out of memory / epoll unavailable). */
struct loop *loop_new(void);
/* Frees the loop; watchers and timers simply vanish (their owners free
 * their own state). NULL is a no-op. */
void loop_free(struct loop *l);

/* Watches fd for mask (LOOP_READABLE|LOOP_WRITABLE), replacing any earlier
 * watch of the same fd; mask 0 removes it. Returns 0 or -1. */
int loop_watch(struct loop *l, int fd, int mask, loop_fd_cb cb, void *cls) MUST_CHECK;
/* Stops watching fd (no-op if not watched). Call before closing the fd. */
void loop_unwatch(struct loop *l, int fd);

/* Arms a timer firing after delay_ms; returns its id (> 0) or -1. The
 * callback's return value re-arms it (relative to this iteration's now). */
int64_t loop_timer_add(struct loop *l, int64_t delay_ms, loop_timer_cb cb, void *cls);
/* Disarms a timer; unknown or already-stopped ids are ignored. Legal from
 * inside any callback, including the timer's own. */
void loop_timer_del(struct loop *l, int64_t id);
/* Moves an armed timer to fire after delay_ms. Returns 0 or -1 (unknown). */
int loop_timer_reset(struct loop *l, int64_t id, int64_t delay_ms);

/* Registers a hook run at the start of every iteration, in registration
 * order. Returns 0 or -1. */
int loop_hook_add(struct loop *l, loop_hook_cb cb, void *cls) MUST_CHECK;

/* The monotonic time in ms read once at this iteration's wake-up. */
int64_t loop_now(const struct loop *l);
/* Number of iterations so far. The one function safe to call from another
 * thread: the watchdog reads it to detect stalls. */
uint64_t loop_iterations(const struct loop *l);

/* Runs until loop_stop(). */
void loop_run(struct loop *l);
/* Runs one iteration, waiting at most max_wait_ms (tests). */
void loop_run_once(struct loop *l, int64_t max_wait_ms);
void loop_stop(struct loop *l);

#endif
