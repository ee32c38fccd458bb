/*
 * resolve — see resolve.h.
 *
 * One detached thread per lookup and one socketpair: the thread owns its
 * copy of the name and its end of the pair, writes one fixed-size answer
 * (smaller than the pair's buffer, so the write never blocks and arrives
 * whole) and exits; the caller owns the other end. Nothing is shared
 * beyond the pair, so abandoning a lookup is closing a descriptor: the
 * thread's send then fails (MSG_NOSIGNAL: no SIGPIPE) and it frees what it
 * holds. Lookups are rare (one per database connect), so a thread each is
 * cheaper than a pool to reason about.
 */
#include "resolve.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

struct rs_job {
    char host[256];
    int fd; /* the thread's end */
};

static void *rs_thread(void *arg)
{
    struct rs_job *j = arg;
    struct resolve_answer a;
    memset(&a, 0, sizeof a);
    struct addrinfo hints, *res = NULL;
    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_ADDRCONFIG;
    int rc = getaddrinfo(j->host, NULL, &hints, &res);
    if (rc != 0) {
        snprintf(a.error, sizeof a.error, "%s",
                 rc == EAI_SYSTEM ? strerror(errno) : gai_strerror(rc));
    } else {
        for (struct addrinfo *ai = res; ai && a.n < RESOLVE_MAX_ADDRS; ai = ai->ai_next) {
            char buf[RESOLVE_ADDR_LEN];
            if (getnameinfo(ai->ai_addr, ai->ai_addrlen, buf, sizeof buf, NULL, 0,
                            NI_NUMERICHOST) != 0)
                continue;
            int dup = 0;
            for (int i = 0; i < a.n; i++)
                dup |= strcmp(a.addr[i], buf) == 0;
            if (!dup)
                util_strlcpy(a.addr[a.n++], buf, sizeof a.addr[0]);
        }
        if (a.n == 0)
            snprintf(a.error, sizeof a.error, "no usable address");
        freeaddrinfo(res);
    }
    /* A closed other end (the lookup was abandoned) is not an error. */
    (void)send(j->fd, &a, sizeof a, MSG_NOSIGNAL);
    close(j->fd);
    free(j);
    return NULL;
}

int resolve_start(const char *host)
{
    int sv[2];
    struct rs_job *j = calloc(1, sizeof *j);
    if (j == NULL)
        return -1;
    if (util_strlcpy(j->host, host, sizeof j->host) >= sizeof j->host ||
        socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0) {
        free(j);
        return -1;
    }
    j->fd = sv[1];
    pthread_attr_t attr;
    pthread_t t;
    /* The thread takes no signals: the daemon reads them from a signalfd
     * and the start-up wait from its own handler, in the main thread. */
    sigset_t all, old;
    sigfillset(&all);
    int ok = pthread_attr_init(&attr) == 0;
    if (ok) {
        pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
        pthread_attr_setstacksize(&attr, 256 * 1024);
        pthread_sigmask(SIG_SETMASK, &all, &old);
        ok = pthread_create(&t, &attr, rs_thread, j) == 0;
        pthread_sigmask(SIG_SETMASK, &old, NULL);
        pthread_attr_destroy(&attr);
    }
    if (!ok) {
        close(sv[0]);
        close(sv[1]);
        free(j);
        return -1;
    }
    return sv[0];
}

int resolve_finish(int fd, struct resolve_answer *out)
{
    memset(out, 0, sizeof *out);
    ssize_t got = 0;
    while (got < (ssize_t)sizeof *out) {
        ssize_t r = recv(fd, (char *)out + got, sizeof *out - (size_t)got, MSG_DONTWAIT);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break;
        got += r;
    }
    close(fd);
    if (got != (ssize_t)sizeof *out)
        return -1;
    out->error[sizeof out->error - 1] = '\0';
    if (out->n < 0 || out->n > RESOLVE_MAX_ADDRS)
        out->n = 0;
    for (int i = 0; i < out->n; i++)
        out->addr[i][RESOLVE_ADDR_LEN - 1] = '\0';
    return 0;
}

void resolve_cancel(int fd)
{
    if (fd >= 0)
        close(fd);
}

int resolve_wait(const char *host, int timeout_ms, volatile const int *stop,
                 struct resolve_answer *out)
{
    int fd = resolve_start(host);
    if (fd < 0)
        return -1;
    int64_t end = util_mono_ms() + timeout_ms;
    for (;;) {
        if (stop != NULL && *stop) {
            resolve_cancel(fd);
            return -1;
        }
        int64_t left = end - util_mono_ms();
        if (left <= 0) {
            resolve_cancel(fd);
            memset(out, 0, sizeof *out);
            snprintf(out->error, sizeof out->error, "no answer from the resolver within %d ms",
                     timeout_ms);
            return 0;
        }
        struct pollfd p = {.fd = fd, .events = POLLIN};
        int r = poll(&p, 1, left < 100 ? (int)left : 100);
        if (r > 0) {
            if (resolve_finish(fd, out) != 0) {
                memset(out, 0, sizeof *out);
                snprintf(out->error, sizeof out->error, "the lookup ended without an answer");
            }
            return 0;
        }
        if (r < 0 && errno != EINTR) {
            resolve_cancel(fd);
            return -1;
        }
    }
}

int resolve_is_numeric(const char *host)
{
    unsigned char buf[sizeof(struct in6_addr)];
    return inet_pton(AF_INET, host, buf) == 1 || inet_pton(AF_INET6, host, buf) == 1;
}
