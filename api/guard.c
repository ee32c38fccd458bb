/*
 * guard — see guard.h.
 *
 * The tracked connections form a list under one mutex; MHD notifies
 * "closed" before it closes the descriptor, and removal takes the same
 * mutex, so the sweeper never shuts down a descriptor that was reused.
 */
#include "guard.h"

#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

struct guarded {
    int fd;
    int waiting; /* headers not yet complete */
    int64_t deadline_ms;
    struct guarded *prev, *next;
};

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static struct guarded *head;
static uint64_t expired;
static int wake[2] = {-1, -1};
static pthread_t sweeper;
static int running;

static struct guarded *of(struct MHD_Connection *conn)
{
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(conn, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
    return ci ? ci->socket_context : NULL;
}

void guard_notify(void *cls, struct MHD_Connection *conn, void **socket_context,
                  enum MHD_ConnectionNotificationCode code)
{
    (void)cls;
    if (code == MHD_CONNECTION_NOTIFY_STARTED) {
        const union MHD_ConnectionInfo *ci =
            MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);
        struct guarded *g = calloc(1, sizeof *g);
        if (g == NULL || ci == NULL) {
            free(g); /* unguarded: the idle timeout still applies */
            return;
        }
        g->fd = ci->connect_fd;
        g->waiting = 1;
        g->deadline_ms = util_mono_ms() + GUARD_FIRST_S * 1000;
        pthread_mutex_lock(&lock);
        g->next = head;
        if (head)
            head->prev = g;
        head = g;
        pthread_mutex_unlock(&lock);
        *socket_context = g;
    } else if (code == MHD_CONNECTION_NOTIFY_CLOSED) {
        struct guarded *g = *socket_context;
        if (g == NULL)
            return;
        pthread_mutex_lock(&lock);
        if (g->prev)
            g->prev->next = g->next;
        else
            head = g->next;
        if (g->next)
            g->next->prev = g->prev;
        pthread_mutex_unlock(&lock);
        free(g);
        *socket_context = NULL;
    }
}

void guard_headers_done(struct MHD_Connection *conn)
{
    struct guarded *g = of(conn);
    if (g == NULL)
        return;
    pthread_mutex_lock(&lock);
    g->waiting = 0;
    pthread_mutex_unlock(&lock);
}

void guard_request_done(struct MHD_Connection *conn)
{
    struct guarded *g = of(conn);
    if (g == NULL)
        return;
    pthread_mutex_lock(&lock);
    g->waiting = 1;
    g->deadline_ms = util_mono_ms() + GUARD_NEXT_S * 1000;
    pthread_mutex_unlock(&lock);
}

uint64_t guard_expired(void)
{
    pthread_mutex_lock(&lock);
    uint64_t n = expired;
    pthread_mutex_unlock(&lock);
    return n;
}

static void *sweep(void *arg)
{
    (void)arg;
    for (;;) {
        struct pollfd p = {.fd = wake[0], .events = POLLIN};
        if (poll(&p, 1, 1000) > 0)
            return NULL;
        int64_t now = util_mono_ms();
        pthread_mutex_lock(&lock);
        for (struct guarded *g = head; g; g = g->next) {
            if (g->waiting && now > g->deadline_ms) {
                shutdown(g->fd, SHUT_RDWR);
                g->waiting = 0;
                expired++;
            }
        }
        pthread_mutex_unlock(&lock);
    }
}

int guard_start(void)
{
    if (pipe(wake) != 0)
        return -1;
    if (pthread_create(&sweeper, NULL, sweep, NULL) != 0)
        return -1;
    running = 1;
    return 0;
}

void guard_stop(void)
{
    if (!running)
        return;
    char c = 1;
    if (write(wake[1], &c, 1) == 1)
        pthread_join(sweeper, NULL);
    running = 0;
    close(wake[0]);
    close(wake[1]);
}
