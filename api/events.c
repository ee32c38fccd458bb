/*
 * events — see events.h.
 *
 * Locking: one mutex guards the ring, the client list and every client's
 * state. The content reader suspends its connection while holding it (so a
 * publisher cannot see "suspended" before MHD does); publishers never call
 * into MHD while holding it: they collect the connections to resume and
 * resume them after unlocking. A suspended connection cannot be closed by
 * MHD, so it stays valid until the one publisher that cleared its flag
 * resumes it.
 */
#include "events.h"
#include "config.h"
#include "db.h"
#include "log.h"

#include <errno.h>
#include <json-c/json.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/queue.h>
#include <unistd.h>

#define LISTEN_BACKOFF_MIN_MS 1000
#define LISTEN_BACKOFF_MAX_MS 30000
/* The listener's connect waits this long for the host name (resolve.h). */
#define EVENTS_RESOLVE_MS 2000
/* Streams have their own idle timeout, comfortably above the keep-alive
 * period, so a quiet stream is never timed out by MHD. */
#define SSE_CONNECTION_TIMEOUT_S (4 * EVENTS_KEEPALIVE_S)

struct event {
    uint64_t id;
    char type[33];
    char *data; /* one line of JSON, owned */
};

struct sse_client {
    TAILQ_ENTRY(sse_client) link;
    struct MHD_Connection *conn;
    uint64_t next_id; /* the next event to send */
    char *out;        /* formatted bytes not yet handed to MHD */
    size_t out_len, out_off, out_cap;
    int suspended, keepalive_due, closing;
};

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static struct event ring[EVENTS_RING];
static uint64_t last_id; /* 0: none yet */
static TAILQ_HEAD(sse_clients, sse_client) clients = TAILQ_HEAD_INITIALIZER(clients);
static int nclients, max_clients;
static int stopping;

static pthread_t listener;
static int listener_started;
static int stop_fd = -1;

static _Atomic int64_t n_received, n_invalid, n_dropped, n_refused, listener_up;

static uint64_t ev_oldest_id(void)
{
    return last_id >= EVENTS_RING ? last_id - EVENTS_RING + 1 : 1;
}

/* Appends to c's staging buffer. Returns 0/-1 (out of memory). */
static int ev_out_append(struct sse_client *c, const char *s, size_t n)
{
    if (c->out_len + n > c->out_cap) {
        size_t cap = c->out_cap ? c->out_cap : 1024;
        while (cap < c->out_len + n)
            cap *= 2;
        char *p = realloc(c->out, cap);
        if (p == NULL)
            return -1;
        c->out = p;
        c->out_cap = cap;
    }
    memcpy(c->out + c->out_len, s, n);
    c->out_len += n;
    return 0;
}

static int ev_out_event(struct sse_client *c, uint64_t id, const char *type, const char *data)
{
    char head[96];
    int n =
        snprintf(head, sizeof head, "id: %llu\nevent: %s\ndata: ", (unsigned long long)id, type);
    if (ev_out_append(c, head, (size_t)n) != 0 || ev_out_append(c, data, strlen(data)) != 0 ||
        ev_out_append(c, "\n\n", 2) != 0)
        return -1;
    return 0;
}

static ssize_t ev_reader(void *cls, uint64_t pos, char *buf, size_t max)
{
    (void)pos;
    struct sse_client *c = cls;
    ssize_t ret;
    pthread_mutex_lock(&lock);
    if (c->out_off == c->out_len) {
        c->out_off = c->out_len = 0;
        if (c->closing || stopping) {
            ret = MHD_CONTENT_READER_END_OF_STREAM;
            goto out;
        }
        int fail = 0;
        if (c->next_id <= last_id) {
            const struct event *e = &ring[c->next_id % EVENTS_RING];
            fail = ev_out_event(c, e->id, e->type, e->data);
            c->next_id++;
        } else if (c->keepalive_due) {
            c->keepalive_due = 0;
            fail = ev_out_append(c, ": keepalive\n\n", 13);
        } else {
            /* Nothing to send: leave MHD's loop until a publisher resumes
             * us, instead of being asked again at once. */
            c->suspended = 1;
            MHD_suspend_connection(c->conn);
            ret = 0;
            goto out;
        }
        if (fail) {
            ret = MHD_CONTENT_READER_END_WITH_ERROR;
            goto out;
        }
    }
    size_t n = c->out_len - c->out_off;
    if (n > max)
        n = max;
    memcpy(buf, c->out + c->out_off, n);
    c->out_off += n;
    ret = (ssize_t)n;
out:
    pthread_mutex_unlock(&lock);
    return ret;
}

static void ev_reader_free(void *cls)
{
    struct sse_client *c = cls;
    pthread_mutex_lock(&lock);
    TAILQ_REMOVE(&clients, c, link);
    nclients--;
    pthread_mutex_unlock(&lock);
    free(c->out);
    free(c);
}

/* Wakes every suspended stream (called with the lock held); the caller
 * resumes the returned connections after unlocking and frees the array. */
static struct MHD_Connection **ev_collect_resumable(int *n)
{
    *n = 0;
    struct MHD_Connection **v = malloc(sizeof *v * (size_t)(nclients > 0 ? nclients : 1));
    for (struct sse_client *c = TAILQ_FIRST(&clients); c != NULL; c = TAILQ_NEXT(c, link)) {
        if (!c->suspended)
            continue;
        if (v == NULL)
            break; /* out of memory: it wakes at the next event */
        c->suspended = 0;
        v[(*n)++] = c->conn;
    }
    return v;
}

static void ev_resume_all(struct MHD_Connection **v, int n)
{
    for (int i = 0; i < n; i++)
        MHD_resume_connection(v[i]);
    free(v);
}

/* Adds an event to the ring (taking data) and wakes the streams. */
static void ev_publish(const char *type, char *data)
{
    int n;
    if (data == NULL)
        return; /* out of memory: the event is lost, the stream is not */
    pthread_mutex_lock(&lock);
    uint64_t id = ++last_id;
    struct event *e = &ring[id % EVENTS_RING];
    free(e->data);
    e->id = id;
    util_strlcpy(e->type, type, sizeof e->type);
    e->data = data;
    for (struct sse_client *c = TAILQ_FIRST(&clients); c != NULL; c = TAILQ_NEXT(c, link)) {
        if (!c->closing && id >= c->next_id + EVENTS_MAX_BEHIND) {
            /* Too slow: end its stream rather than buffer without bound;
             * it can come back with Last-Event-ID while that is in the
             * ring. */
            c->closing = 1;
            atomic_fetch_add(&n_dropped, 1);
        }
    }
    struct MHD_Connection **v = ev_collect_resumable(&n);
    pthread_mutex_unlock(&lock);
    ev_resume_all(v, n);
}

static void ev_keepalive_all(void)
{
    int n;
    pthread_mutex_lock(&lock);
    for (struct sse_client *c = TAILQ_FIRST(&clients); c != NULL; c = TAILQ_NEXT(c, link))
        c->keepalive_due = 1;
    struct MHD_Connection **v = ev_collect_resumable(&n);
    pthread_mutex_unlock(&lock);
    ev_resume_all(v, n);
}

char *events_parse_payload(const char *payload, char *type)
{
    char *out = NULL;
    struct json_object *o = json_tokener_parse(payload);
    struct json_object *t;
    if (o == NULL || !json_object_is_type(o, json_type_object) ||
        !json_object_object_get_ex(o, "type", &t) || !json_object_is_type(t, json_type_string))
        goto done;
    const char *ts = json_object_get_string(t);
    size_t len = strlen(ts);
    if (len == 0 || len > 32 || strspn(ts, "abcdefghijklmnopqrstuvwxyz_") != len)
        goto done;
    memcpy(type, ts, len + 1);
    /* Plain serialisation is one line: an SSE "data:" line cannot hold a
     * newline, and the daemon may have pretty-printed. */
    const char *s =
        json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
    out = s != NULL ? strdup(s) : NULL;
done:
    json_object_put(o);
    return out;
}

static void ev_on_notify(const char *payload)
{
    char type[33];
    char *data = events_parse_payload(payload, type);
    if (data == NULL) {
        atomic_fetch_add(&n_invalid, 1);
        return;
    }
    atomic_fetch_add(&n_received, 1);
    ev_publish(type, data);
}

static PGconn *ev_listen_connect(void)
{
    char err[256];
    PGconn *c = db_connect_resolved(cfg->database_url, "fetcher-api-events", 0, EVENTS_RESOLVE_MS,
                                    NULL, err, sizeof err);
    if (c == NULL) {
        log_msg(LOG_WARNING, "events: cannot connect: %s", err);
        return NULL;
    }
    PGresult *r = PQexec(c, "LISTEN fetcher_events");
    if (db_classify(c, r) != DB_OK) {
        log_msg(LOG_WARNING, "events: LISTEN failed: %s", PQerrorMessage(c));
        PQclear(r);
        PQfinish(c);
        return NULL;
    }
    PQclear(r);
    return c;
}

static void *ev_listener_main(void *arg)
{
    (void)arg;
    PGconn *db = NULL;
    int ever_connected = 0;
    int64_t backoff = LISTEN_BACKOFF_MIN_MS;
    int64_t next_connect = 0;
    int64_t next_keepalive = util_mono_ms() + EVENTS_KEEPALIVE_S * 1000;
    for (;;) {
        int64_t now = util_mono_ms();
        if (db == NULL && now >= next_connect) {
            db = ev_listen_connect();
            now = util_mono_ms();
            if (db == NULL) {
                next_connect = now + backoff;
                backoff = backoff * 2 > LISTEN_BACKOFF_MAX_MS ? LISTEN_BACKOFF_MAX_MS : backoff * 2;
            } else {
                backoff = LISTEN_BACKOFF_MIN_MS;
                atomic_store(&listener_up, 1);
                if (ever_connected) {
                    /* Notifications sent while we were away are lost. */
                    log_msg(LOG_INFO, "events: listening again");
                    ev_publish("reset",
                               strdup("{\"type\":\"reset\",\"reason\":\"listener reconnected\"}"));
                }
                ever_connected = 1;
            }
        }
        int64_t wake = next_keepalive;
        if (db == NULL && next_connect < wake)
            wake = next_connect;
        int timeout = wake > now ? (int)(wake - now) : 0;
        struct pollfd fds[2] = {{.fd = stop_fd, .events = POLLIN},
                                {.fd = db != NULL ? PQsocket(db) : -1, .events = POLLIN}};
        int rc = poll(fds, 2, timeout);
        if (rc < 0 && errno != EINTR)
            break;
        if (rc > 0 && (fds[0].revents & POLLIN))
            break;
        if (db != NULL && rc > 0 && fds[1].revents != 0) {
            if (PQconsumeInput(db) == 0) {
                log_msg(LOG_WARNING, "events: connection lost: %s", PQerrorMessage(db));
                PQfinish(db);
                db = NULL;
                atomic_store(&listener_up, 0);
                next_connect = util_mono_ms() + backoff;
            } else {
                PGnotify *nt;
                while ((nt = PQnotifies(db)) != NULL) {
                    ev_on_notify(nt->extra);
                    PQfreemem(nt);
                }
            }
        }
        now = util_mono_ms();
        if (now >= next_keepalive) {
            ev_keepalive_all();
            next_keepalive = now + EVENTS_KEEPALIVE_S * 1000;
        }
    }
    if (db != NULL)
        PQfinish(db);
    atomic_store(&listener_up, 0);
    return NULL;
}

int events_start(int max)
{
    max_clients = max;
    stop_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (stop_fd < 0)
        return -1;
    if (pthread_create(&listener, NULL, ev_listener_main, NULL) != 0) {
        close(stop_fd);
        stop_fd = -1;
        return -1;
    }
    listener_started = 1;
    return 0;
}

void events_stop(int wait_ms)
{
    if (listener_started) {
        uint64_t one = 1;
        if (write(stop_fd, &one, sizeof one) < 0)
            log_msg(LOG_WARNING, "events: cannot wake the listener");
        pthread_join(listener, NULL);
        listener_started = 0;
    }
    int n;
    pthread_mutex_lock(&lock);
    stopping = 1;
    struct MHD_Connection **v = ev_collect_resumable(&n);
    pthread_mutex_unlock(&lock);
    ev_resume_all(v, n);
    for (int waited = 0; waited < wait_ms; waited += 10) {
        pthread_mutex_lock(&lock);
        int left = nclients;
        pthread_mutex_unlock(&lock);
        if (left == 0)
            break;
        usleep(10000);
    }
    if (stop_fd >= 0)
        close(stop_fd);
    stop_fd = -1;
    pthread_mutex_lock(&lock);
    for (size_t i = 0; i < EVENTS_RING; i++) {
        free(ring[i].data);
        ring[i].data = NULL;
    }
    pthread_mutex_unlock(&lock);
}

void events_get_stats(struct events_stats *s)
{
    pthread_mutex_lock(&lock);
    s->clients = nclients;
    pthread_mutex_unlock(&lock);
    s->received = atomic_load(&n_received);
    s->invalid = atomic_load(&n_invalid);
    s->dropped_slow = atomic_load(&n_dropped);
    s->refused = atomic_load(&n_refused);
    s->listener_up = atomic_load(&listener_up);
}

enum MHD_Result events_serve(struct MHD_Connection *conn, const struct api_request *req)
{
    (void)req;
    int64_t last_seen = -1;
    const char *h = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Last-Event-ID");
    if (h != NULL && util_parse_i64(h, 0, INT64_MAX, &last_seen) != 0)
        return reply_error(conn, MHD_HTTP_BAD_REQUEST, "Last-Event-ID",
                           "Last-Event-ID must be an event id this server sent");
    struct sse_client *c = calloc(1, sizeof *c);
    if (c == NULL)
        return MHD_NO;
    c->conn = conn;
    static const char hello[] = ": connected\nretry: 3000\n\n";
    if (ev_out_append(c, hello, sizeof hello - 1) != 0) {
        free(c);
        return MHD_NO;
    }
    pthread_mutex_lock(&lock);
    if (stopping || nclients >= max_clients) {
        pthread_mutex_unlock(&lock);
        free(c->out);
        free(c);
        atomic_fetch_add(&n_refused, 1);
        return reply_error(conn, MHD_HTTP_SERVICE_UNAVAILABLE, NULL,
                           "too many event streams open; try again later");
    }
    int reset = 0;
    if (last_seen < 0) {
        c->next_id = last_id + 1;
    } else if ((uint64_t)last_seen > last_id || (uint64_t)last_seen + 1 < ev_oldest_id()) {
        /* From an earlier run of this process, or older than the ring:
         * what happened in between is unknown. */
        reset = 1;
        c->next_id = last_id + 1;
    } else {
        c->next_id = (uint64_t)last_seen + 1;
    }
    if (reset) {
        char data[128];
        snprintf(data, sizeof data,
                 "{\"type\":\"reset\",\"reason\":\"event %lld is not among the events this "
                 "server keeps; reload\"}",
                 (long long)last_seen);
        if (ev_out_event(c, last_id, "reset", data) != 0) {
            pthread_mutex_unlock(&lock);
            free(c->out);
            free(c);
            return MHD_NO;
        }
    }
    /* Linked before the response exists: ev_reader_free() unlinks. */
    TAILQ_INSERT_HEAD(&clients, c, link);
    nclients++;
    pthread_mutex_unlock(&lock);

    struct MHD_Response *resp = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 16 * 1024,
                                                                  ev_reader, c, ev_reader_free);
    if (resp == NULL) {
        ev_reader_free(c);
        return MHD_NO;
    }
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, "text/event-stream");
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
    MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
    /* Proxies such as nginx must pass events on as they come. */
    MHD_add_response_header(resp, "X-Accel-Buffering", "no");
    http_add_common_headers(resp);
    MHD_set_connection_option(conn, MHD_CONNECTION_OPTION_TIMEOUT,
                              (unsigned)SSE_CONNECTION_TIMEOUT_S);
    return http_queue(conn, MHD_HTTP_OK, resp);
}
