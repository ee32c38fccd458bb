/*
 * watchdog — see watchdog.h. Only async-signal-safe, lock-free things
 * happen on this thread: an atomic read, write(2), _exit(2).
 */
#include "watchdog.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

struct watch {
    const struct loop *loop;
    int64_t seconds;
};

static struct watch the_watch;

static void *watch_thread(void *arg)
{
    struct watch *w = arg;
    uint64_t last = loop_iterations(w->loop);
    int64_t still = 0;
    for (;;) {
        struct timespec ts = {1, 0};
        nanosleep(&ts, NULL);
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
    pthread_t t;
    pthread_attr_t attr;
    if (pthread_attr_init(&attr) != 0)
        return -1;
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    pthread_attr_setstacksize(&attr, 64 * 1024);
    int rc = pthread_create(&t, &attr, watch_thread, &the_watch);
    pthread_attr_destroy(&attr);
    return rc == 0 ? 0 : -1;
}
