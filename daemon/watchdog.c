/*
 * watchdog — see watchdog.h. Only async-signal-safe, lock-free things
 * happen on this thread: an atomic read, poll(2), write(2), _exit(2). It
 * sleeps in poll() on a pipe so that watchdog_stop() wakes it at once.
 */
#include "watchdog.h"

#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <fcntl.h>
#include <unistd.h>

struct watch {
    const struct loop *loop;
    int64_t seconds;
    int wake[2]; /* watchdog_stop() writes; the thread polls */
    pthread_t thread;
    int running;
};

static struct watch the_watch = {.wake = {-1, -1}};

static void *wd_thread(void *arg)
{
    struct watch *w = arg;
    uint64_t last = loop_iterations(w->loop);
    int64_t still = 0;
    for (;;) {
        struct pollfd p = {.fd = w->wake[0], .events = POLLIN};
        if (poll(&p, 1, 1000) > 0)
            return NULL; /* told to stop */
        uint64_t now = loop_iterations(w->loop);
        still = now == last ? still + 1 : 0;
        last = now;
        if (still >= w->seconds) {
            char msg[160];
            int n = snprintf(msg, sizeof msg,
                             "fetcherd: watchdog: the event loop has not turned for %llds; "
                             "exiting so the supervisor restarts fetcherd\n",
                             (long long)still);
            if (n > 0 && write(STDERR_FILENO, msg, (size_t)n) < 0)
                _exit(70);
            _exit(70);
        }
    }
    return NULL;
}

int watchdog_start(const struct loop *l, int64_t seconds)
{
    the_watch.loop = l;
    the_watch.seconds = seconds;
    if (pipe2(the_watch.wake, O_CLOEXEC) != 0)
        return -1;
    pthread_attr_t attr;
    if (pthread_attr_init(&attr) != 0)
        return -1;
    pthread_attr_setstacksize(&attr, 64 * 1024);
    int rc = pthread_create(&the_watch.thread, &attr, wd_thread, &the_watch);
    pthread_attr_destroy(&attr);
    the_watch.running = rc == 0;
    return rc == 0 ? 0 : -1;
}

void watchdog_stop(void)
{
    if (!the_watch.running)
        return;
    char c = 1;
    if (write(the_watch.wake[1], &c, 1) == 1)
        pthread_join(the_watch.thread, NULL);
    the_watch.running = 0;
    close(the_watch.wake[0]);
    close(the_watch.wake[1]);
}
