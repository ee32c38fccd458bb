/*
 * fetcherd — the background price fetcher. Wires the modules together and
 * runs the loop:
 *
 *   fetcherd            migrate, then run cycles every FETCH_INTERVAL
 *   fetcherd --once     migrate, run one cycle, write it, exit (0 = ok, 1 = the
 *                       cycle failed, 4 = its rows not written in time)
 *   fetcherd migrate    apply pending migrations and exit
 *   fetcherd check      one request per provider, print what came back, exit
 *
 * Start-up is the only place that may give up: a bad setting exits 2 with
 * one line. A database that is not there yet is waited for (with backoff),
 * never a reason to exit.
 */
#include "backfill.h"
#include "config.h"
#include "cycle.h"
#include "daemon.h"
#include "db.h"
#include "dbconn.h"
#include "fetch.h"
#include "fleet.h"
#include "heartbeat.h"
#include "log.h"
#include "loop.h"
#include "check.h"
#include "migrate.h"
#include "paths.h"
#include "provider.h"
#include "retention.h"
#include "queue.h"
#include "scheduler.h"
#include "sources.h"
#include "staleness.h"
#include "stats.h"
#include "sql.h"
#include "upstream.h"
#include "watchdog.h"
#include "writer.h"

#include <errno.h>
#include <json-c/json.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/signalfd.h>
#include <time.h>
#include <unistd.h>

/* How long shutdown may spend flushing buffered writes: inside docker's
 * 10 s grace period with room to spare. */
#define SHUTDOWN_FLUSH_MS 5000
/* With the database away at shutdown, how long it has to come back (one
 * connection attempt, started at once) before its rows are given up: a
 * stop during an outage is prompt, a database that restarts alongside
 * still gets them. Once connected, SHUTDOWN_FLUSH_MS applies. */
#define SHUTDOWN_DB_GRACE_MS 2000
/* fetcherd --once's exit code when the cycle's rows could not be written
 * in time (1 is a failed cycle, 2 a bad configuration; README). */
#define ONCE_EXIT_ROWS_LOST 4
/* How long the start-up connection waits for a host-name lookup. */
#define MIGRATE_RESOLVE_MS 10000
/* How often unfinished cycles of dead instances are looked for. */
#define STALE_CHECK_MS 5000

static const char *const listen_channels[] = {"fetcher_trigger", "fetcher_refresh",
                                              "fetcher_control", "fetcher_backfill",
                                              "fetcher_work",    NULL};

struct app {
    struct daemon d;
    struct upstream *up;
    struct heartbeat *hb;
    struct retention *ret;
    struct scheduler *sched;
    struct fleet *fleet;
    int sigfd;
    int once_ok;
    size_t rows_lost; /* still buffered at the shutdown deadline */
    int64_t shutdown_deadline;
    int64_t shutdown_db_deadline; /* the database must be up by then */
    int shutdown_limit_s;         /* the deadline that applied, for messages */
    int64_t queue_timer;          /* armed at the queue's next timed event */
    int stale_inflight;
};

static void app_usage(void)
{
    printf("usage: fetcherd [--once] | fetcherd migrate | fetcherd check | fetcherd --help |\n"
           "       fetcherd --version\n\n"
           "Refreshes the prices of tracked assets every FETCH_INTERVAL and records\n"
           "every cycle in PostgreSQL. `fetcherd check` asks each provider once for a\n"
           "known symbol and prints what it answered, or why not.\n\n");
    config_print_help();
}

/* FETCH_RATE_LIMITS: "yahoo=60,coingecko=10" → per-minute limits. An
 * unknown provider or a bad number is a start-up error naming it. */
static int apply_rate_limits(struct fetch_queue *q, const char *spec, char *err, size_t errlen)
{
    char buf[256];
    util_strlcpy(buf, spec, sizeof buf);
    char *save = NULL;
    for (char *tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        char *eq = strchr(tok, '=');
        int64_t n;
        if (eq == NULL || util_parse_i64(eq + 1, 0, 100000, &n) != 0) {
            snprintf(err, errlen, "FETCH_RATE_LIMITS: '%.60s' is not provider=requests_per_minute",
                     tok);
            return -1;
        }
        *eq = '\0';
        size_t np;
        const struct provider *const *ps = provider_all(&np);
        int found = -1;
        for (size_t i = 0; i < np; i++)
            if (strcmp(ps[i]->name, tok) == 0)
                found = (int)i;
        if (found < 0) {
            snprintf(err, errlen, "FETCH_RATE_LIMITS: unknown provider '%.40s'", tok);
            return -1;
        }
        queue_set_rate_limit(q, found, (int)n);
    }
    /* A demo or pro key buys CoinGecko's keyed rate, unless the limits were
     * set by hand. */
    if (strcmp(spec, CONFIG_DEFAULT_RATE_LIMITS) == 0 && cfg->coingecko_api_key[0]) {
        size_t np;
        const struct provider *const *ps = provider_all(&np);
        for (size_t i = 0; i < np; i++)
            if (strcmp(ps[i]->name, "coingecko") == 0)
                queue_set_rate_limit(q, (int)i, CONFIG_COINGECKO_KEYED_RATE);
    }
    return 0;
}

static int make_instance_id(char *out, size_t len, const char *host)
{
    if (cfg->instance_id[0]) {
        util_strlcpy(out, cfg->instance_id, len);
        return 0;
    }
    unsigned char r[4];
    if (getrandom(r, sizeof r, 0) != (ssize_t)sizeof r)
        return -1;
    snprintf(out, len, "%.40s-%d-%02x%02x%02x%02x", host, (int)getpid(), r[0], r[1], r[2], r[3]);
    return 0;
}

/* The cycle number to start after (a fixed FETCHER_INSTANCE_ID reuses its
 * (instance_id, seq) keys across restarts; a generated id is new). */
static int64_t start_seq;

static void resume_instance(PGconn *conn)
{
    const char *params[1] = {cfg->instance_id};
    PGresult *r = PQexecParams(conn, sql_resume_instance, 1, NULL, params, NULL, NULL, 0);
    if (db_classify(conn, r) == DB_OK && PQntuples(r) == 1) {
        if (util_parse_i64(PQgetvalue(r, 0, 0), 0, INT64_MAX, &start_seq) != 0)
            start_seq = 0;
        if (strcmp(PQgetvalue(r, 0, 1), "0") != 0)
            log_msg(LOG_WARNING, "instance %s: %s unfinished cycles of its previous run aborted",
                    cfg->instance_id, PQgetvalue(r, 0, 1));
    } else {
        log_msg(LOG_WARNING, "instance %s: could not read its last cycle number", cfg->instance_id);
    }
    PQclear(r);
}

/* The day partitions of the monitoring tables, before the first write (a
 * database migrated days ago has none for today yet; its rows would wait
 * in the default partition). Not fatal: retention's hourly upkeep tries
 * again from the loop. */
static void ensure_partitions(PGconn *conn)
{
    char ahead[16];
    snprintf(ahead, sizeof ahead, "%d", RETENTION_DAYS_AHEAD);
    const char *params[1] = {ahead};
    PGresult *r = PQexecParams(conn, sql_partitions_ensure, 1, NULL, params, NULL, NULL, 0);
    if (db_classify(conn, r) != DB_OK) {
        const char *m = r ? PQresultErrorMessage(r) : PQerrorMessage(conn);
        log_msg(LOG_WARNING, "partitions: %.200s", m);
    }
    PQclear(r);
}

/* Blocking, before the loop: waits for the database (backoff up to 30 s,
 * interrupted by SIGTERM/SIGINT), then applies pending migrations. */
static volatile sig_atomic_t early_stop; /* the signal that came, or 0 */

static void on_early_signal(int sig)
{
    early_stop = sig;
}

static int run_migrations(int wait_for_db)
{
    char dir[1024];
    if (paths_find(cfg->migrations_dir, "migrations", dir, sizeof dir) != 0) {
        fprintf(stderr,
                "fetcherd: migrations directory not found: %s (set FETCHER_MIGRATIONS_DIR)\n", dir);
        return 2;
    }
    int delay = 1;
    for (int attempt = 1;; attempt++) {
        char err[512];
        /* The host name is looked up in a thread (resolve.h) so that a
         * SIGTERM during a lookup the resolver never answers stops us at
         * once, not at the resolver's timeout. */
        PGconn *conn = db_connect_resolved(cfg->database_url, "fetcherd-migrate", 0,
                                           MIGRATE_RESOLVE_MS, &early_stop, err, sizeof err);
        if (conn == NULL && early_stop)
            return 3;
        if (conn != NULL) {
            int applied = 0;
            int rc = migrate_run(conn, dir, &applied, err, sizeof err);
            if (rc == 0)
                ensure_partitions(conn);
            if (rc == 0 && cfg->instance_id[0])
                resume_instance(conn);
            PQfinish(conn);
            if (rc != 0) {
                fprintf(stderr, "fetcherd: migration failed: %s\n", err);
                return 1;
            }
            log_msg(LOG_INFO, "migrations: %d applied from %s", applied, dir);
            return 0;
        }
        if (!wait_for_db) {
            fprintf(stderr, "fetcherd: cannot connect to the database: %s\n", err);
            return 1;
        }
        log_msg(LOG_WARNING, "database: %s; retrying in %ds (attempt %d)", err, delay, attempt);
        struct timespec ts = {delay, 0};
        while (!early_stop && nanosleep(&ts, &ts) != 0 && errno == EINTR)
            ;
        if (early_stop)
            return 3;
        delay = delay < 30 ? delay * 2 : 30;
        if (delay > 30)
            delay = 30;
    }
}

/* ---- the running daemon --------------------------------------------- */

/* Wakes the loop at the shutdown deadline even when nothing else happens. */
static int64_t on_shutdown_timer(struct loop *l, void *cls)
{
    (void)l;
    (void)cls;
    return LOOP_TIMER_STOP;
}

static void begin_shutdown(struct app *a, const char *why)
{
    if (a->d.stopping)
        return;
    a->d.stopping = 1;
    log_msg(LOG_INFO, "shutting down: %s", why);
    scheduler_stop(a->sched);
    queue_cancel_all(a->d.queue);
    queue_run(a->d.queue, loop_now(a->d.loop)); /* delivers the cancellations */
    writer_log(a->d.writer, LOG_INFO, 0, NULL, "fetcherd %s stopping (%s)", a->d.instance_id, why);
    fleet_final(a->fleet); /* after the cancelled shares' rows, before the last heartbeat */
    heartbeat_final(a->hb);
    a->shutdown_deadline = loop_now(a->d.loop) + SHUTDOWN_FLUSH_MS;
    a->shutdown_db_deadline = loop_now(a->d.loop) + SHUTDOWN_DB_GRACE_MS;
    (void)loop_timer_add(a->d.loop, SHUTDOWN_FLUSH_MS, on_shutdown_timer, a);
    if (!dbconn_is_up(a->d.db)) {
        dbconn_retry_now(a->d.db);
        (void)loop_timer_add(a->d.loop, SHUTDOWN_DB_GRACE_MS, on_shutdown_timer, a);
    }
}

static void on_signal(struct loop *l, int fd, int events, void *cls)
{
    (void)l;
    (void)events;
    struct app *a = cls;
    struct signalfd_siginfo si;
    while (read(fd, &si, sizeof si) == (ssize_t)sizeof si)
        begin_shutdown(a, si.ssi_signo == SIGINT ? "SIGINT" : "SIGTERM");
}

static void on_settings(const PGresult *res, enum db_status st, const char *err, void *cls)
{
    struct app *a = cls;
    if (st != DB_OK || PQntuples(res) != 1) {
        log_msg(LOG_DEBUG, "settings: %s", st != DB_OK ? err : "no row");
        return;
    }
    int paused = strcmp(PQgetvalue(res, 0, 0), "t") == 0;
    scheduler_set_paused(a->sched, paused, paused ? util_wall_ms() : 0);
}

static void read_settings(struct app *a)
{
    /* refused while the database is away: on_db_state reads them again */
    if (dbconn_query(a->d.db, SQL_SETTINGS, 0, NULL, on_settings, a) != 0)
        log_msg(LOG_DEBUG, "settings not read (%s)", dbconn_state(a->d.db));
}

/* fetcher_trigger: a cycle now (or, with "symbols", a refresh of those);
 * fetcher_refresh: a refresh of the named symbols; fetcher_control: the
 * pause flag changed. Payloads come from fetcher-api; anything unexpected
 * in them is ignored, never trusted. */
static void on_notify(const char *channel, const char *payload, void *cls)
{
    struct app *a = cls;
    if (a->d.stopping)
        return;
    if (strcmp(channel, "fetcher_control") == 0) {
        read_settings(a);
        return;
    }
    if (strcmp(channel, "fetcher_work") == 0) {
        fleet_on_notify(a->fleet, payload);
        return;
    }
    if (strcmp(channel, "fetcher_backfill") == 0) {
        /* an asset was tracked: its history, if it has none */
        if (a->d.backfill)
            backfill_poke(a->d.backfill);
        return;
    }
    char source[96] = "a NOTIFY";
    json_object *p = json_tokener_parse(payload);
    json_object *v = NULL, *syms = NULL;
    if (p && json_object_object_get_ex(p, "client", &v) && json_object_is_type(v, json_type_string))
        snprintf(source, sizeof source, "%.60s", json_object_get_string(v));
    if (p && json_object_object_get_ex(p, "symbols", &syms) &&
        (!json_object_is_type(syms, json_type_array) || json_object_array_length(syms) == 0))
        syms = NULL;
    const char *list =
        syms != NULL ? json_object_to_json_string_ext(syms, JSON_C_TO_STRING_PLAIN) : NULL;
    if (syms != NULL && list == NULL)
        log_msg(LOG_ERROR, "refresh asked for by %s not done: out of memory reading its symbols",
                source);
    else if (syms != NULL)
        scheduler_refresh(a->sched, list, source);
    else if (strcmp(channel, "fetcher_trigger") == 0)
        scheduler_trigger(a->sched, source);
    json_object_put(p);
}

static void on_abort_stale(const PGresult *res, enum db_status st, const char *err, void *cls)
{
    struct app *a = cls;
    a->stale_inflight = 0;
    if (st != DB_OK) {
        log_msg(LOG_WARNING, "could not check for aborted cycles: %s", err);
        return;
    }
    for (int i = 0; i < PQntuples(res); i++) {
        json_object *ctx = json_object_new_object();
        json_object_object_add(ctx, "cycle_id", json_object_new_string(PQgetvalue(res, i, 0)));
        json_object_object_add(ctx, "instance_id", json_object_new_string(PQgetvalue(res, i, 1)));
        writer_log(a->d.writer, LOG_WARNING, 0, ctx,
                   "Cycle %s of instance %s was left unfinished (killed?); marked aborted",
                   PQgetvalue(res, i, 0), PQgetvalue(res, i, 1));
    }
}

static void check_stale(struct app *a)
{
    if (a->stale_inflight)
        return;
    const char *params[1] = {a->d.instance_id};
    if (dbconn_query(a->d.db, SQL_ABORT_STALE, 1, params, on_abort_stale, a) == 0)
        a->stale_inflight = 1;
}

static void on_db_state(int up, void *cls)
{
    struct app *a = cls;
    if (!up)
        return;
    if (a->hb)
        heartbeat_now(a->hb);
    check_stale(a);
    read_settings(a);
    if (a->d.backfill)
        backfill_poke(a->d.backfill);
    uint64_t dropped = writer_take_dropped(a->d.writer);
    if (dropped > 0) {
        json_object *ctx = json_object_new_object();
        json_object_object_add(ctx, "rows_dropped", json_object_new_int64((int64_t)dropped));
        writer_log(a->d.writer, LOG_WARNING, 0, ctx,
                   "%llu rows were dropped while the database was away (write buffer full)",
                   (unsigned long long)dropped);
    }
}

static int64_t on_stats_timer(struct loop *l, void *cls)
{
    (void)l;
    struct app *a = cls;
    if (!a->d.stopping)
        stats_persist(&a->d);
    return cfg->stats_persist_s * 1000;
}

/* Another instance killed mid-cycle is noticed within a few of its
 * heartbeat intervals, not only when some fetcherd next starts. */
static int64_t on_stale_timer(struct loop *l, void *cls)
{
    (void)l;
    check_stale(cls);
    return STALE_CHECK_MS;
}

static int64_t on_queue_timer(struct loop *l, void *cls)
{
    (void)l;
    struct app *a = cls;
    a->queue_timer = 0;
    return LOOP_TIMER_STOP; /* queue_run() happens in before_sleep */
}

/* Logs what the queue learnt: a provider paused by a 429 or a refusal, down
 * or back, the network gone or back. */
static void app_on_queue_event(const struct queue_event *ev, void *cls)
{
    struct app *a = cls;
    long long secs = (long long)((ev->pause_ms + 999) / 1000);
    json_object *ctx = NULL;
    if (ev->provider) {
        ctx = json_object_new_object();
        json_object_object_add(ctx, "provider", json_object_new_string(ev->provider));
        if (ev->reason[0])
            json_object_object_add(ctx, "reason", json_object_new_string(ev->reason));
    }
    switch (ev->type) {
    case QEV_PAUSED:
        json_object_object_add(ctx, "pause_seconds", json_object_new_int64(secs));
        if (ev->refused)
            writer_log(a->d.writer, LOG_WARNING, 0, ctx,
                       "%s refused us (%.160s): pausing %s for %llds", ev->provider, ev->reason,
                       ev->provider, secs);
        else
            writer_log(a->d.writer, LOG_WARNING, 0, ctx,
                       "%s answered HTTP 429 (rate limited): pausing %s for %llds", ev->provider,
                       ev->provider, secs);
        break;
    case QEV_DOWN:
        writer_log(a->d.writer, LOG_WARNING, 0, ctx,
                   "%s is down (%.160s): its assets go to their next source; probing every %llds",
                   ev->provider, ev->reason, (long long)cfg->probe_interval_s);
        break;
    case QEV_UP:
        if (ev->reason[0] != '\0')
            writer_log(a->d.writer, LOG_INFO, 0, ctx, "%s is no longer counted down: %s",
                       ev->provider, ev->reason);
        else
            writer_log(a->d.writer, LOG_INFO, 0, ctx, "%s answers again", ev->provider);
        break;
    case QEV_OFFLINE:
        writer_log(a->d.writer, LOG_ERROR, 0, ctx,
                   "Offline: no upstream reachable at the connection level; probing every %llds",
                   (long long)cfg->probe_interval_s);
        break;
    case QEV_ONLINE:
        writer_log(a->d.writer, LOG_INFO, 0, ctx, "Online again: an upstream answered");
        break;
    }
}

static void app_before_sleep(struct loop *l, void *cls)
{
    struct app *a = cls;
    queue_run(a->d.queue, loop_now(l));
    int64_t next = queue_next_event(a->d.queue);
    if (next >= 0) {
        int64_t wait = next - loop_now(l);
        if (a->queue_timer > 0)
            (void)loop_timer_reset(l, a->queue_timer, wait);
        else
            a->queue_timer = loop_timer_add(l, wait, on_queue_timer, a);
    }
    writer_flush(a->d.writer);
    if (a->d.stopping) {
        if (dbconn_is_up(a->d.db))
            a->shutdown_db_deadline = a->shutdown_deadline;
        int64_t limit = a->shutdown_db_deadline < a->shutdown_deadline ? a->shutdown_db_deadline
                                                                       : a->shutdown_deadline;
        if (writer_idle(a->d.writer) && dbconn_queued(a->d.db) == 0) {
            loop_stop(l);
        } else if (loop_now(l) >= limit) {
            struct writer_stats ws;
            writer_get_stats(a->d.writer, &ws);
            a->shutdown_limit_s = limit == a->shutdown_deadline ? SHUTDOWN_FLUSH_MS / 1000
                                                                : SHUTDOWN_DB_GRACE_MS / 1000;
            if (limit == a->shutdown_deadline)
                log_msg(LOG_ERROR, "shutdown: %zu rows could not be written within %ds; lost",
                        ws.buffered_rows, a->shutdown_limit_s);
            else
                log_msg(LOG_ERROR,
                        "shutdown: the database is away (%s); %zu buffered rows lost after "
                        "waiting %ds for it",
                        dbconn_last_error(a->d.db)[0] ? dbconn_last_error(a->d.db) : "connecting",
                        ws.buffered_rows, a->shutdown_limit_s);
            /* in flight, a statement may hold no rows of the buffer's count
             * and still be unwritten */
            a->rows_lost = ws.buffered_rows > 0 ? ws.buffered_rows : 1;
            loop_stop(l);
        }
    }
}

/* Test hook: FETCHERD_TEST_STALL=N blocks the loop for N seconds after the
 * first cycle, so the watchdog test can see it fire. Never set in
 * production; nothing else reads it. */
static void app_maybe_stall(void)
{
    const char *v = getenv("FETCHERD_TEST_STALL");
    int64_t secs;
    if (v == NULL || util_parse_i64(v, 1, 3600, &secs) != 0)
        return;
    log_msg(LOG_WARNING, "FETCHERD_TEST_STALL: blocking the loop for %llds", (long long)secs);
    struct timespec ts = {(time_t)secs, 0};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

static int64_t on_stall_timer(struct loop *l, void *cls)
{
    (void)l;
    (void)cls;
    app_maybe_stall();
    return LOOP_TIMER_STOP;
}

/* A cycle's phase changed at its end: the heartbeat tells the dashboard
 * now, not at its next tick ("fetching 31/31" after the cycle ended). */
static void app_on_cycle_change(void *cls)
{
    struct app *a = cls;
    if (a->hb)
        heartbeat_now(a->hb);
}

static void on_once_done(int ok, void *cls)
{
    struct app *a = cls;
    a->once_ok = ok;
    begin_shutdown(a, "one cycle done (--once)");
}

static int setup_signals(struct app *a)
{
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    if (sigprocmask(SIG_BLOCK, &set, NULL) != 0)
        return -1;
    signal(SIGPIPE, SIG_IGN);
    a->sigfd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
    if (a->sigfd < 0)
        return -1;
    return loop_watch(a->d.loop, a->sigfd, LOOP_READABLE, on_signal, a);
}

/* FETCH_SOURCES, parsed before anything waits for the database, so a bad
 * value is one line and exit 2 at once. */
static struct sources *main_sources;

static int app_run(int once)
{
    struct app a;
    memset(&a, 0, sizeof a);
    a.sigfd = -1;
    int rc = 1;
    struct daemon *d = &a.d;
    const struct sources *srcs = main_sources;
    if (gethostname(d->host, sizeof d->host) != 0)
        util_strlcpy(d->host, "unknown", sizeof d->host);
    d->host[sizeof d->host - 1] = '\0';
    d->pid = (int)getpid();
    if (make_instance_id(d->instance_id, sizeof d->instance_id, d->host) != 0) {
        fprintf(stderr, "fetcherd: cannot generate an instance id\n");
        return 1;
    }
    d->started_wall_ms = util_wall_ms();

    d->loop = loop_new();
    if (d->loop == NULL)
        goto out;
    d->started_mono_ms = loop_now(d->loop);
    if (setup_signals(&a) != 0)
        goto out;
    /* A SIGTERM that came during the migrations (or before the mask) went
     * to on_early_signal, not to the signalfd: raised again now that it is
     * blocked, it waits there and the loop's first iteration shuts down. */
    if (early_stop && raise(early_stop) != 0)
        goto out;
    struct fetch_options fo = {
        .timeout_ms = cfg->fetch_timeout_s * 1000,
        .connect_timeout_ms = 5000,
        .max_body = (size_t)cfg->max_body_bytes,
        .max_connections = (int)cfg->fetch_concurrency,
    };
    d->fetcher = fetcher_new(d->loop, &fo);
    a.up = d->fetcher ? upstream_new(d->loop, d->fetcher, cfg) : NULL;
    if (a.up == NULL)
        goto out;
    struct queue_transport tr = upstream_transport(a.up);
    struct queue_limits lim = {
        .concurrency = (int)cfg->fetch_concurrency,
        .max_retries = (int)cfg->fetch_retries,
        .backoff_ms = 500,
        .backoff_max_ms = 30000,
        .probe_ms = cfg->probe_interval_s * 1000,
        .request_timeout_ms = fo.timeout_ms,
    };
    d->queue = queue_new(&tr, &lim);
    if (d->queue == NULL)
        goto out;
    upstream_attach(a.up, d->queue);
    queue_set_event_cb(d->queue, app_on_queue_event, &a);
    size_t np;
    const struct provider *const *ps = provider_all(&np);
    for (size_t i = 0; i < np; i++) {
        int conc = ps[i]->concurrency < cfg->fetch_concurrency ? ps[i]->concurrency
                                                               : (int)cfg->fetch_concurrency;
        if (queue_add_provider(d->queue, ps[i]->name, ps[i]->batch_size(cfg), conc) < 0)
            goto out;
    }
    char rerr[200];
    static struct staleness stale;
    if (staleness_parse(cfg->staleness, cfg->fetch_interval_s, &stale, rerr, sizeof rerr) != 0 ||
        apply_rate_limits(d->queue, cfg->rate_limits, rerr, sizeof rerr) != 0) {
        fprintf(stderr, "fetcherd: %s\n", rerr);
        rc = 2;
        a.d.stopping = 1; /* not a start-up crash: a clear config error */
        goto out;
    }
    d->staleness = &stale;
    d->sources = srcs;
    struct dbconn_events ev = {.notify = on_notify, .state = on_db_state, .cls = &a};
    d->db = dbconn_new(d->loop, cfg->database_url, sql_statements, sql_statement_count,
                       listen_channels, &ev);
    d->writer =
        d->db ? writer_new(d->loop, d->db, d->instance_id, (size_t)cfg->write_buffer_rows) : NULL;
    if (d->writer == NULL)
        goto out;
    /* A --once run fetches one cycle and exits: no backfill. */
    int want_backfill = !once && cfg->backfill;
    d->backfill = want_backfill ? backfill_new(d) : NULL;
    if (want_backfill && (d->backfill == NULL || backfill_setup(d->backfill) != 0))
        goto out;
    if (d->backfill)
        upstream_set_history_sink(a.up, backfill_on_series, d->backfill);
    a.sched = scheduler_new(d, once, start_seq, on_once_done, &a);
    d->sched = a.sched;
    /* a --once run fetches alone: it takes no part in the fleet */
    a.fleet = once ? NULL : fleet_new(d);
    d->fleet = a.fleet;
    if (a.sched == NULL || (!once && (a.fleet == NULL || fleet_setup(a.fleet) != 0)) ||
        scheduler_setup(a.sched) != 0)
        goto out;
    a.hb = heartbeat_setup(d, a.sched);
    scheduler_on_change(a.sched, app_on_cycle_change, &a);
    a.ret = once ? NULL : retention_setup(d);
    if (a.hb == NULL || (!once && a.ret == NULL) ||
        loop_hook_add(d->loop, app_before_sleep, &a) != 0 ||
        loop_timer_add(d->loop, STALE_CHECK_MS, on_stale_timer, &a) < 0 ||
        loop_timer_add(d->loop, cfg->stats_persist_s * 1000, on_stats_timer, &a) < 0)
        goto out;

    if (getenv("FETCHERD_TEST_STALL") && loop_timer_add(d->loop, 3000, on_stall_timer, &a) < 0)
        goto out;
    if (watchdog_start(d->loop, cfg->watchdog_s) != 0)
        goto out;
    writer_log(d->writer, LOG_INFO, 0, NULL,
               "fetcherd %s started (instance %s, interval %llds, %zu providers)", FETCHER_VERSION,
               d->instance_id, (long long)cfg->fetch_interval_s, np);
    {
        char st[96], cr[96], fx[96];
        sources_describe(srcs, SRC_STOCK, st, sizeof st);
        sources_describe(srcs, SRC_CRYPTO, cr, sizeof cr);
        sources_describe(srcs, SRC_FX, fx, sizeof fx);
        /* said once, so "stocks have no second source" is not a surprise */
        writer_log(d->writer, LOG_INFO, 0, NULL, "sources: stock=%s crypto=%s fx=%s", st, cr, fx);
    }
    loop_run(d->loop);
    rc = once ? (a.once_ok ? 0 : 1) : 0;
    if (once && a.rows_lost > 0) {
        /* The cycle ran but its record did not reach the database: for a
         * caller of --once (a test, a cron job) that is not success. */
        fprintf(stderr,
                "fetcherd --once: %zu rows were not written before the %ds deadline; exit %d\n",
                a.rows_lost, a.shutdown_limit_s, ONCE_EXIT_ROWS_LOST);
        rc = ONCE_EXIT_ROWS_LOST;
    }
    log_msg(LOG_INFO, "stopped");
out:
    watchdog_stop();
    if (rc != 0 && !a.d.stopping)
        fprintf(stderr, "fetcherd: start-up failed (out of memory or no epoll/signalfd)\n");
    scheduler_free(a.sched);
    queue_free(d->queue);
    upstream_free(a.up);
    fetcher_free(d->fetcher);
    dbconn_free(d->db);
    retention_free(a.ret);
    /* writer_free runs the callbacks of what is still buffered or in
     * flight (a heartbeat held up by a slow database at the shutdown
     * deadline): their owners must still be there */
    writer_free(d->writer);
    heartbeat_free(a.hb);
    backfill_free(d->backfill); /* after every module whose callbacks point into it */
    fleet_free(a.fleet);
    if (a.sigfd >= 0)
        close(a.sigfd);
    loop_free(d->loop);
    return rc;
}

int main(int argc, char **argv)
{
    static struct config config;
    char err[512];
    log_set_program("fetcherd");
    int once = 0, migrate_only = 0, check = 0;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            app_usage();
            return 0;
        } else if (strcmp(argv[i], "--version") == 0) {
            printf("fetcherd %s\n", FETCHER_VERSION);
            return 0;
        } else if (strcmp(argv[i], "--once") == 0) {
            once = 1;
        } else if (strcmp(argv[i], "migrate") == 0) {
            migrate_only = 1;
        } else if (strcmp(argv[i], "check") == 0) {
            check = 1;
        } else {
            fprintf(stderr, "fetcherd: unknown argument '%s' (see --help)\n", argv[i]);
            return 2;
        }
    }
    if (config_load(&config, err, sizeof err) != 0) {
        fprintf(stderr, "fetcherd: %s\n", err);
        return 2;
    }
    cfg = &config;
    main_sources =
        sources_parse(cfg->fetch_sources, cfg->twelvedata_api_key[0] != '\0', err, sizeof err);
    if (main_sources == NULL) {
        fprintf(stderr, "fetcherd: %s\n", err);
        return 2;
    }
    /* json-c prints doubles with 17 digits (0.0040000000000000001); six
     * significant digits say all a log context needs. */
    json_c_set_serialization_double_format("%.6g", JSON_C_OPTION_GLOBAL);
    enum log_level lv;
    if (log_level_parse(cfg->log_level, &lv) == 0)
        log_set_min_level(lv);
    if (check)
        return check_run(cfg);

    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_early_signal;
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    int mrc = run_migrations(!migrate_only);
    if (mrc == 3) {
        sources_free(main_sources);
        return 0; /* stopped while waiting for the database */
    }
    int rc = mrc != 0 || migrate_only ? mrc : app_run(once);
    sources_free(main_sources);
    return rc;
}
