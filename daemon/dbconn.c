/*
 * dbconn — see dbconn.h.
 *
 * States: DOWN (a reconnect timer is armed), RESOLVING (the URL's host
 * names are being looked up in a thread of their own, resolve.h: libpq
 * would look them up synchronously, on the loop, for as long as the
 * resolver takes), CONNECTING (PQconnectPoll on the socket), UP (commands
 * flow). After every (re)connect the socket is read again with PQsocket():
 * libpq may hand us a different fd.
 */
#include "dbconn.h"
#include "log.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>

#define DBCONN_MAX_QUEUED 100000
#define DBCONN_MAX_PARAMS 16
/* A lookup that takes longer is a failed attempt (the reconnect backoff
 * follows): the system resolver's own timeout is 5 s per try, two tries. */
#define DBCONN_RESOLVE_MS 10000

enum cmd_kind { CMD_PREPARE, CMD_EXEC, CMD_SIMPLE };
enum conn_state { DOWN, RESOLVING, CONNECTING, UP };

struct cmd {
    TAILQ_ENTRY(cmd) link;
    enum cmd_kind kind;
    int internal; /* set-up work of this connection: dropped when it breaks */
    char name[64];
    const char *sql; /* PREPARE: borrowed from the table; SIMPLE: owned */
    char *owned_sql;
    int nparams;
    char *params[DBCONN_MAX_PARAMS];
    int borrowed; /* params belong to the caller */
    dbconn_cb cb;
    void *cls;
    char *fail_err; /* on the failed list: the error its callback gets */
};

struct dbconn {
    struct loop *loop;
    char *url;
    const struct db_stmt *stmts;
    size_t nstmts;
    const char *const *channels;
    struct dbconn_events ev;
    PGconn *conn;
    int fd;
    enum conn_state state;
    int ever_up;
    TAILQ_HEAD(dbconn_cmds, cmd) cmds; /* FIFO; the one in flight is first */
    size_t queued;
    struct cmd *inflight; /* the first of cmds while a command runs */
    /* Failed commands whose callbacks are still owed: go_down can run
     * inside dbconn_query (a send that fails at once), where the caller
     * has not yet recorded that it waits; the loop delivers them. */
    TAILQ_HEAD(dbconn_failed, cmd) failed;
    int64_t deliver_timer;
    int lost_owed;    /* the state(0) event, owed with them */
    PGresult *result; /* first result of the command in flight */
    int64_t reconnect_timer;
    struct db_hosts hosts; /* the URL's hosts; hosts.lookups == 0: libpq as is */
    int resolve_fd;        /* the lookup of hosts.name[resolve_i], or -1 */
    int resolve_i;
    int64_t resolve_timer;
    int attempts;
    char last_error[256];
};

static void dbc_start_connect(struct dbconn *d);
static void dbc_send_next(struct dbconn *d);
static void dbc_stop_resolving(struct dbconn *d);

static void dbc_cmd_free(struct cmd *c)
{
    for (int i = 0; i < c->nparams && !c->borrowed; i++)
        free(c->params[i]);
    free(c->owned_sql);
    free(c->fail_err);
    free(c);
}

static void dbc_push(struct dbconn *d, struct cmd *c, int front)
{
    if (front)
        TAILQ_INSERT_HEAD(&d->cmds, c, link);
    else
        TAILQ_INSERT_TAIL(&d->cmds, c, link);
    d->queued++;
}

static struct cmd *dbc_pop(struct dbconn *d)
{
    struct cmd *c = TAILQ_FIRST(&d->cmds);
    if (c) {
        TAILQ_REMOVE(&d->cmds, c, link);
        d->queued--;
    }
    return c;
}

static void dbc_set_error(struct dbconn *d, const char *msg)
{
    util_strlcpy(d->last_error, msg ? msg : "unknown error", sizeof d->last_error);
    char *nl = strchr(d->last_error, '\n');
    if (nl)
        *nl = '\0';
}

/* ---- connection loss and reconnection ------------------------------- */

static int64_t dbc_on_deliver(struct loop *l, void *cls)
{
    (void)l;
    struct dbconn *d = cls;
    d->deliver_timer = 0;
    struct cmd *c;
    while ((c = TAILQ_FIRST(&d->failed)) != NULL) {
        TAILQ_REMOVE(&d->failed, c, link);
        /* A later go_down may have replaced last_error: each command gets
         * the error of the outage that failed it. */
        if (c->cb)
            c->cb(NULL, DB_RETRY, c->fail_err ? c->fail_err : "connection lost", c->cls);
        dbc_cmd_free(c);
    }
    if (d->lost_owed) {
        d->lost_owed = 0;
        if (d->ev.state)
            d->ev.state(0, d->ev.cls);
    }
    return LOOP_TIMER_STOP;
}

static int64_t dbc_on_reconnect(struct loop *l, void *cls)
{
    struct dbconn *d = cls;
    d->reconnect_timer = 0;
    if (d->deliver_timer == 0 && (!TAILQ_EMPTY(&d->failed) || d->lost_owed))
        dbc_on_deliver(l, d);
    dbc_start_connect(d);
    return LOOP_TIMER_STOP;
}

static void dbc_go_down(struct dbconn *d, const char *why)
{
    int was_up = d->state == UP;
    dbc_set_error(d, why);
    dbc_stop_resolving(d);
    if (d->fd >= 0)
        loop_unwatch(d->loop, d->fd);
    d->fd = -1;
    if (d->conn)
        PQfinish(d->conn);
    d->conn = NULL;
    PQclear(d->result);
    d->result = NULL;
    d->state = DOWN;

    /* The command in flight has an unknown outcome, and the queued ones
     * would wait for as long as the outage lasts: all of them fail now with
     * DB_RETRY, and each owner decides (the writer sends again, a cycle
     * uses its last asset list). The connection's own set-up commands are
     * redone on the next connect. */
    struct dbconn_cmds failed = TAILQ_HEAD_INITIALIZER(failed);
    TAILQ_CONCAT(&failed, &d->cmds, link);
    d->queued = 0;
    d->inflight = NULL;
    d->attempts++;
    int64_t delay = 1000;
    for (int i = 1; i < d->attempts && delay < 30000; i++)
        delay *= 2;
    if (delay > 30000)
        delay = 30000;
    log_msg(LOG_WARNING, "database: %s; reconnecting in %llds (attempt %d)", d->last_error,
            (long long)(delay / 1000), d->attempts);
    d->reconnect_timer = loop_timer_add(d->loop, delay, dbc_on_reconnect, d);

    /* Callbacks and the state event run from the loop, never here: this
     * function runs inside dbconn_query when a send fails at once. */
    struct cmd *c;
    while ((c = TAILQ_FIRST(&failed)) != NULL) {
        TAILQ_REMOVE(&failed, c, link);
        if (c->internal || c->cb == NULL) {
            dbc_cmd_free(c);
            continue;
        }
        c->fail_err = strdup(d->last_error); /* NULL: a generic text */
        TAILQ_INSERT_TAIL(&d->failed, c, link);
    }
    if (was_up)
        d->lost_owed = 1;
    if ((!TAILQ_EMPTY(&d->failed) || d->lost_owed) && d->deliver_timer == 0) {
        /* Out of timers: the reconnect timer delivers them instead. */
        int64_t t = loop_timer_add(d->loop, 0, dbc_on_deliver, d);
        d->deliver_timer = t > 0 ? t : 0;
    }
}

/* ---- commands ------------------------------------------------------- */

static void dbc_watch(struct dbconn *d, int mask);

static void dbc_on_socket(struct loop *l, int fd, int events, void *cls);

static void dbc_watch(struct dbconn *d, int mask)
{
    if (loop_watch(d->loop, d->fd, mask, dbc_on_socket, d) != 0)
        dbc_go_down(d, "cannot watch the database socket");
}

static void dbc_send_next(struct dbconn *d)
{
    if (d->state != UP || d->inflight != NULL || TAILQ_EMPTY(&d->cmds))
        return;
    struct cmd *c = TAILQ_FIRST(&d->cmds);
    int ok;
    switch (c->kind) {
    case CMD_PREPARE:
        ok = PQsendPrepare(d->conn, c->name, c->sql, c->nparams, NULL);
        break;
    case CMD_SIMPLE:
        ok = PQsendQuery(d->conn, c->sql);
        break;
    default:
        ok = PQsendQueryPrepared(d->conn, c->name, c->nparams, (const char *const *)c->params, NULL,
                                 NULL, 0);
        break;
    }
    if (!ok) {
        d->inflight = c; /* so go_down reports it */
        dbc_go_down(d, PQerrorMessage(d->conn));
        return;
    }
    d->inflight = c;
    int f = PQflush(d->conn);
    if (f < 0) {
        dbc_go_down(d, PQerrorMessage(d->conn));
        return;
    }
    dbc_watch(d, LOOP_READABLE | (f == 1 ? LOOP_WRITABLE : 0));
}

static void dbc_finish_command(struct dbconn *d)
{
    struct cmd *c = dbc_pop(d);
    d->inflight = NULL;
    PGresult *r = d->result;
    d->result = NULL;
    enum db_status st = db_classify(d->conn, r);
    char err[256] = "";
    if (st != DB_OK) {
        snprintf(err, sizeof err, "%s: %s", c->name,
                 r ? PQresultErrorMessage(r) : PQerrorMessage(d->conn));
        char *nl = strchr(err, '\n');
        if (nl)
            *nl = '\0';
        if (c->internal)
            log_msg(LOG_ERROR, "database set-up failed: %s", err);
    }
    if (c->cb)
        c->cb(st == DB_OK ? r : NULL, st, err, c->cls);
    PQclear(r);
    dbc_cmd_free(c);
}

static void dbc_read_notifies(struct dbconn *d)
{
    PGnotify *n;
    while (d->conn && (n = PQnotifies(d->conn)) != NULL) {
        if (d->ev.notify)
            d->ev.notify(n->relname, n->extra ? n->extra : "", d->ev.cls);
        PQfreemem(n);
    }
}

static void dbc_on_up(struct dbconn *d)
{
    d->state = UP;
    if (PQsetnonblocking(d->conn, 1) != 0) {
        dbc_go_down(d, "cannot make the connection non-blocking");
        return;
    }
    /* Set-up runs before anything queued: LISTEN first, then the statement
     * table (pushed to the front in reverse so they run in order). */
    for (size_t i = d->nstmts; i-- > 0;) {
        struct cmd *c = calloc(1, sizeof *c);
        if (c == NULL) {
            dbc_go_down(d, "out of memory");
            return;
        }
        c->kind = CMD_PREPARE;
        c->internal = 1;
        util_strlcpy(c->name, d->stmts[i].name, sizeof c->name);
        c->sql = d->stmts[i].sql;
        c->nparams = 0;
        dbc_push(d, c, 1);
    }
    for (size_t i = 0; d->channels && d->channels[i]; i++) {
        struct cmd *c = calloc(1, sizeof *c);
        char *sql = malloc(128);
        if (c == NULL || sql == NULL) {
            free(c);
            free(sql);
            dbc_go_down(d, "out of memory");
            return;
        }
        /* Channel names come from our own constant table, never from input. */
        snprintf(sql, 128, "LISTEN %s", d->channels[i]);
        c->kind = CMD_SIMPLE;
        c->internal = 1;
        util_strlcpy(c->name, "listen", sizeof c->name);
        c->sql = c->owned_sql = sql;
        dbc_push(d, c, 1);
    }
    if (d->attempts > 0 || !d->ever_up)
        log_msg(LOG_INFO, "database: connected%s", d->ever_up ? " again" : "");
    d->attempts = 0;
    d->ever_up = 1;
    d->last_error[0] = '\0';
    dbc_watch(d, LOOP_READABLE);
    if (d->ev.state)
        d->ev.state(1, d->ev.cls);
    dbc_send_next(d);
}

static void dbc_on_socket(struct loop *l, int fd, int events, void *cls)
{
    (void)l;
    (void)fd;
    struct dbconn *d = cls;
    if (d->state == CONNECTING) {
        PostgresPollingStatusType p = PQconnectPoll(d->conn);
        if (p == PGRES_POLLING_FAILED) {
            dbc_go_down(d, PQerrorMessage(d->conn));
            return;
        }
        int nfd = PQsocket(d->conn);
        if (nfd != d->fd) {
            loop_unwatch(d->loop, d->fd);
            d->fd = nfd;
        }
        if (p == PGRES_POLLING_OK)
            dbc_on_up(d);
        else
            dbc_watch(d, p == PGRES_POLLING_WRITING ? LOOP_WRITABLE : LOOP_READABLE);
        return;
    }
    if (d->state != UP)
        return;
    if (events & LOOP_WRITABLE) {
        int f = PQflush(d->conn);
        if (f < 0) {
            dbc_go_down(d, PQerrorMessage(d->conn));
            return;
        }
        if (f == 0)
            dbc_watch(d, LOOP_READABLE);
    }
    if (!(events & LOOP_READABLE))
        return;
    if (!PQconsumeInput(d->conn)) {
        dbc_go_down(d, PQerrorMessage(d->conn));
        return;
    }
    while (d->inflight != NULL && !PQisBusy(d->conn)) {
        PGresult *r = PQgetResult(d->conn);
        if (r == NULL) {
            dbc_finish_command(d);
            if (d->state != UP)
                return;
            dbc_send_next(d);
            continue;
        }
        if (d->result == NULL)
            d->result = r;
        else
            PQclear(r); /* our statements return one result each */
    }
    dbc_read_notifies(d);
    if (d->conn && PQstatus(d->conn) == CONNECTION_BAD)
        dbc_go_down(d, PQerrorMessage(d->conn));
}

static void dbc_connect_now(struct dbconn *d)
{
    char err[256] = "out of memory";
    d->conn = db_connect_start_hosts(d->url, "fetcherd", 30000, &d->hosts, err, sizeof err);
    if (d->conn == NULL || PQstatus(d->conn) == CONNECTION_BAD) {
        dbc_go_down(d, d->conn ? PQerrorMessage(d->conn) : err);
        return;
    }
    d->state = CONNECTING;
    d->fd = PQsocket(d->conn);
    if (d->fd < 0) {
        dbc_go_down(d, "no socket");
        return;
    }
    dbc_watch(d, LOOP_WRITABLE);
}

/* ---- looking the host names up, off the loop --------------------------- */

static void dbc_stop_resolving(struct dbconn *d)
{
    if (d->resolve_fd >= 0) {
        loop_unwatch(d->loop, d->resolve_fd);
        resolve_cancel(d->resolve_fd);
    }
    d->resolve_fd = -1;
    if (d->resolve_timer > 0)
        loop_timer_del(d->loop, d->resolve_timer);
    d->resolve_timer = 0;
}

static void dbc_resolve_next(struct dbconn *d);

static void dbc_on_resolved(struct loop *l, int fd, int events, void *cls)
{
    (void)l;
    (void)fd;
    (void)events;
    struct dbconn *d = cls;
    int i = d->resolve_i;
    loop_unwatch(d->loop, d->resolve_fd);
    if (resolve_finish(d->resolve_fd, &d->hosts.found[i]) != 0) {
        memset(&d->hosts.found[i], 0, sizeof d->hosts.found[i]);
        util_strlcpy(d->hosts.found[i].error, "the lookup ended without an answer",
                     sizeof d->hosts.found[i].error);
    }
    d->resolve_fd = -1;
    d->resolve_i++;
    dbc_resolve_next(d);
}

static int64_t dbc_on_resolve_timeout(struct loop *l, void *cls)
{
    (void)l;
    struct dbconn *d = cls;
    d->resolve_timer = 0;
    char why[300];
    snprintf(why, sizeof why,
             "cannot resolve database host \"%.100s\": no answer from the resolver within %ds",
             d->hosts.name[d->resolve_i], DBCONN_RESOLVE_MS / 1000);
    dbc_go_down(d, why);
    return LOOP_TIMER_STOP;
}

/* Looks up the next name of the host list, or connects when all are done. */
static void dbc_resolve_next(struct dbconn *d)
{
    while (d->resolve_i < d->hosts.n && !d->hosts.lookup[d->resolve_i])
        d->resolve_i++;
    if (d->resolve_i >= d->hosts.n) {
        dbc_stop_resolving(d);
        dbc_connect_now(d);
        return;
    }
    d->resolve_fd = resolve_start(d->hosts.name[d->resolve_i]);
    if (d->resolve_fd < 0) {
        dbc_go_down(d, "cannot start a host-name lookup (out of threads or descriptors)");
        return;
    }
    if (loop_watch(d->loop, d->resolve_fd, LOOP_READABLE, dbc_on_resolved, d) != 0) {
        dbc_go_down(d, "cannot watch the host-name lookup");
        return;
    }
    if (d->resolve_timer == 0) {
        int64_t t = loop_timer_add(d->loop, DBCONN_RESOLVE_MS, dbc_on_resolve_timeout, d);
        d->resolve_timer = t > 0 ? t : 0;
    }
}

static void dbc_start_connect(struct dbconn *d)
{
    if (d->hosts.lookups == 0) {
        dbc_connect_now(d);
        return;
    }
    d->state = RESOLVING;
    d->resolve_i = 0;
    for (int i = 0; i < d->hosts.n; i++)
        memset(&d->hosts.found[i], 0, sizeof d->hosts.found[i]);
    dbc_resolve_next(d);
}

/* ---- public --------------------------------------------------------- */

struct dbconn *dbconn_new(struct loop *l, const char *url, const struct db_stmt *stmts, size_t n,
                          const char *const *channels, const struct dbconn_events *ev)
{
    struct dbconn *d = calloc(1, sizeof *d);
    if (d == NULL)
        return NULL;
    d->url = strdup(url);
    if (d->url == NULL) {
        free(d);
        return NULL;
    }
    d->loop = l;
    d->stmts = stmts;
    d->nstmts = n;
    d->channels = channels;
    if (ev)
        d->ev = *ev;
    d->fd = -1;
    d->resolve_fd = -1;
    db_hosts_parse(url, &d->hosts);
    TAILQ_INIT(&d->cmds);
    TAILQ_INIT(&d->failed);
    dbc_start_connect(d);
    return d;
}

void dbconn_free(struct dbconn *d)
{
    if (d == NULL)
        return;
    if (d->fd >= 0)
        loop_unwatch(d->loop, d->fd);
    dbc_stop_resolving(d);
    if (d->reconnect_timer > 0)
        loop_timer_del(d->loop, d->reconnect_timer);
    if (d->deliver_timer > 0)
        loop_timer_del(d->loop, d->deliver_timer);
    if (d->conn)
        PQfinish(d->conn);
    PQclear(d->result);
    struct cmd *c;
    while ((c = dbc_pop(d)) != NULL)
        dbc_cmd_free(c);
    while ((c = TAILQ_FIRST(&d->failed)) != NULL) {
        TAILQ_REMOVE(&d->failed, c, link);
        dbc_cmd_free(c);
    }
    free(d->url);
    free(d);
}

static int dbc_query(struct dbconn *d, const char *name, int nparams, const char *const *params,
                     int borrow, dbconn_cb cb, void *cls)
{
    /* Nothing waits through an outage it does not know of: go_down fails
     * what was queued, and nothing is queued while the connection is not
     * up. */
    if (d->state != UP || d->queued >= DBCONN_MAX_QUEUED || nparams > DBCONN_MAX_PARAMS ||
        nparams < 0)
        return -1;
    struct cmd *c = calloc(1, sizeof *c);
    if (c == NULL)
        return -1;
    c->kind = CMD_EXEC;
    util_strlcpy(c->name, name, sizeof c->name);
    c->cb = cb;
    c->cls = cls;
    c->borrowed = borrow;
    for (int i = 0; i < nparams; i++) {
        if (borrow) {
            c->params[i] = (char *)params[i];
        } else if (params[i] != NULL) {
            c->params[i] = strdup(params[i]);
            if (c->params[i] == NULL) {
                c->nparams = i;
                dbc_cmd_free(c);
                return -1;
            }
        }
        c->nparams = i + 1;
    }
    dbc_push(d, c, 0);
    dbc_send_next(d);
    return 0;
}

int dbconn_query(struct dbconn *d, const char *name, int nparams, const char *const *params,
                 dbconn_cb cb, void *cls)
{
    return dbc_query(d, name, nparams, params, 0, cb, cls);
}

int dbconn_query_borrowed(struct dbconn *d, const char *name, int nparams,
                          const char *const *params, dbconn_cb cb, void *cls)
{
    return dbc_query(d, name, nparams, params, 1, cb, cls);
}

void dbconn_retry_now(struct dbconn *d)
{
    if (d->state != DOWN || d->reconnect_timer == 0)
        return;
    loop_timer_del(d->loop, d->reconnect_timer);
    d->reconnect_timer = 0;
    dbc_on_reconnect(d->loop, d);
}

int dbconn_is_up(const struct dbconn *d)
{
    return d->state == UP;
}

size_t dbconn_queued(const struct dbconn *d)
{
    return d->queued;
}

const char *dbconn_state(const struct dbconn *d)
{
    if (d->state == UP)
        return "ok";
    return d->ever_up ? "reconnecting" : "connecting";
}

const char *dbconn_last_error(const struct dbconn *d)
{
    return d->last_error;
}
