/*
 * alerts — see alerts.h.
 *
 * Why a thread of its own, with blocking libpq and libcurl calls: the
 * judging needs the database every few seconds and the receiver may take
 * its time (WEBHOOK_TIMEOUT_MS) or be down for hours; neither may ever
 * hold a request-serving worker. One thread, one connection, one transfer
 * at a time is all this needs; it sleeps on a condition variable between
 * its turns and wakes at once when fetcher-api stops.
 */
#include "alerts.h"
#include "apidb.h"
#include "config.h"
#include "jbuf.h"
#include "log.h"
#include "status_rule.h"
#include "webhook.h"

#include <curl/curl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* How often the database is judged: the heartbeat's pace, at most every
 * 5 s (a condition cannot be seen sooner than a heartbeat shows it). */
#define ALERTS_TICK_MAX_S 5
/* Notifications sent in one turn before the database is judged again. */
#define ALERTS_BURST 16
/* Resolved alerts are deleted after LOG_RETENTION_DAYS, checked hourly. */
#define ALERTS_PURGE_MS (3600 * 1000)

static pthread_t thread;
static int started;
static atomic_int stopping;
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv;

static _Atomic uint64_t st_delivered, st_rejected, st_dropped, st_ok, st_failed, st_queued;

/* ---- the queue (alerts thread only) ---------------------------------- */

static struct webhook_notice queue[ALERTS_QUEUE_MAX];
static size_t qhead, qlen;
static int head_attempts;    /* attempts at the head notice */
static int failures;         /* failed attempts in a row (the backoff) */
static int64_t next_attempt; /* monotonic ms */
static char url_shown[160];  /* the webhook as logged */

/* The open (kind, subject) pairs, as read this turn. */
#define ALERTS_OPEN_MAX 64
static struct {
    int kind;
    char subject[ALERT_SUBJECT_MAX];
} open_now[ALERTS_OPEN_MAX];
static size_t nopen;

static int al_webhook(void)
{
    return cfg->alert_webhook_url[0] != '\0';
}

static void al_notice_db(int64_t id, int resolved, const char *notice, int attempts,
                         const char *error)
{
    char s_id[24], s_att[16];
    snprintf(s_id, sizeof s_id, "%lld", (long long)id);
    snprintf(s_att, sizeof s_att, "%d", attempts);
    const char *params[5] = {s_id, resolved ? "resolve" : "fire", notice, s_att, error};
    PGresult *r = NULL;
    if (apidb_exec(SQL_ALERT_NOTICE, params, &r) == DB_OK)
        PQclear(r);
    /* else: logged by apidb; the row keeps 'pending' and is sent again by
     * the next fetcher-api, which is the safe side */
}

/* "provider_offline yahoo firing", for the log. */
static const char *al_what(const struct webhook_notice *n, char *buf, size_t len)
{
    snprintf(buf, len, "%s%s%s %s", alert_kind_name(n->kind), n->subject[0] ? " " : "", n->subject,
             n->resolved ? "resolved" : "firing");
    return buf;
}

static void al_enqueue(const struct webhook_notice *n)
{
    if (qlen == ALERTS_QUEUE_MAX) {
        const struct webhook_notice *old = &queue[qhead];
        char what[ALERT_SUBJECT_MAX + 48];
        log_msg(LOG_ERROR,
                "alerts: notification queue full (%d): dropped notice #%lld (%s), the oldest",
                ALERTS_QUEUE_MAX, (long long)old->id, al_what(old, what, sizeof what));
        al_notice_db(old->id, old->resolved, "dropped", 0, "notification queue full");
        atomic_fetch_add(&st_dropped, 1);
        qhead = (qhead + 1) % ALERTS_QUEUE_MAX;
        qlen--;
        head_attempts = 0;
    }
    queue[(qhead + qlen) % ALERTS_QUEUE_MAX] = *n;
    qlen++;
    atomic_store(&st_queued, qlen);
}

static void al_pop(void)
{
    qhead = (qhead + 1) % ALERTS_QUEUE_MAX;
    qlen--;
    head_attempts = 0;
    atomic_store(&st_queued, qlen);
}

/* Sends what is due, at most ALERTS_BURST. */
static void al_deliver(void)
{
    for (int sent = 0; sent < ALERTS_BURST && qlen > 0 && !atomic_load(&stopping); sent++) {
        if (util_mono_ms() < next_attempt)
            return;
        const struct webhook_notice *n = &queue[qhead];
        struct jbuf b;
        jbuf_init(&b);
        webhook_payload(cfg->alert_webhook_format, n, &b);
        if (!jbuf_ok(&b)) {
            jbuf_free(&b);
            log_msg(LOG_ERROR, "alerts: out of memory building notice #%lld", (long long)n->id);
            next_attempt = util_mono_ms() + WEBHOOK_BACKOFF_MIN_MS; /* not a spin */
            return;
        }
        struct webhook_result r;
        webhook_post(cfg->alert_webhook_url, jbuf_text(&b), &stopping, &r);
        jbuf_free(&b);
        if (atomic_load(&stopping) && r.http_status == 0)
            return; /* abandoned, not failed: it stays pending for the next start */
        head_attempts++;
        enum webhook_verdict v = webhook_judge(r.http_status);
        char what[ALERT_SUBJECT_MAX + 48];
        al_what(n, what, sizeof what);
        if (v == WEBHOOK_DELIVERED) {
            atomic_fetch_add(&st_ok, 1);
            atomic_fetch_add(&st_delivered, 1);
            failures = 0;
            log_msg(LOG_INFO, "alerts: webhook %s: notice #%lld (%s) attempt %d: delivered (%s)",
                    url_shown, (long long)n->id, what, head_attempts, r.error);
            al_notice_db(n->id, n->resolved, "sent", 1, NULL);
            al_pop();
            continue;
        }
        atomic_fetch_add(&st_failed, 1);
        if (v == WEBHOOK_REJECTED) {
            atomic_fetch_add(&st_rejected, 1);
            failures = 0;
            log_msg(LOG_ERROR,
                    "alerts: webhook %s: notice #%lld (%s) attempt %d: rejected (%s); not sent "
                    "again",
                    url_shown, (long long)n->id, what, head_attempts, r.error);
            al_notice_db(n->id, n->resolved, "rejected", 1, r.error);
            al_pop();
            continue;
        }
        failures++;
        int64_t wait = webhook_backoff_ms(failures, r.retry_after_s);
        next_attempt = util_mono_ms() + wait;
        log_msg(LOG_WARNING,
                "alerts: webhook %s: notice #%lld (%s) attempt %d: %s; next attempt in %lld ms "
                "(%zu waiting)",
                url_shown, (long long)n->id, what, head_attempts, r.error, (long long)wait, qlen);
        al_notice_db(n->id, n->resolved, "pending", 1, r.error);
        return;
    }
}

/* ---- judging ------------------------------------------------------------ */

static int al_is_open(enum alert_kind kind, const char *subject, void *cls)
{
    (void)cls;
    for (size_t i = 0; i < nopen; i++)
        if (open_now[i].kind == (int)kind && strcmp(open_now[i].subject, subject) == 0)
            return 1;
    return 0;
}

static int al_load_open(void)
{
    PGresult *r = NULL;
    if (apidb_exec(SQL_ALERT_OPEN_LIST, NULL, &r) != DB_OK)
        return -1;
    nopen = 0;
    for (int i = 0; i < PQntuples(r) && nopen < ALERTS_OPEN_MAX; i++) {
        int k = alert_kind_parse(PQgetvalue(r, i, 0));
        if (k < 0)
            continue; /* a kind this version does not know: leave it alone */
        open_now[nopen].kind = k;
        util_strlcpy(open_now[nopen].subject, PQgetvalue(r, i, 1), ALERT_SUBJECT_MAX);
        nopen++;
    }
    PQclear(r);
    return 0;
}

static int64_t al_i64(const PGresult *r, int row, int col)
{
    return PQgetisnull(r, row, col) ? 0 : strtoll(PQgetvalue(r, row, col), NULL, 10);
}

static void al_open(const struct alert_cond *c)
{
    const char *notice = al_webhook() ? "pending" : "off";
    const char *params[5] = {alert_kind_name(c->kind), c->subject, alert_kind_severity(c->kind),
                             c->summary, notice};
    PGresult *r = NULL;
    if (apidb_exec(SQL_ALERT_OPEN, params, &r) != DB_OK)
        return;
    if (PQntuples(r) == 1) {
        struct webhook_notice n = {
            .id = al_i64(r, 0, 0), .kind = c->kind, .started_ms = al_i64(r, 0, 1)};
        util_strlcpy(n.subject, c->subject, sizeof n.subject);
        util_strlcpy(n.severity, alert_kind_severity(c->kind), sizeof n.severity);
        util_strlcpy(n.summary, c->summary, sizeof n.summary);
        log_msg(LOG_WARNING, "alerts: #%lld %s%s%s firing: %s", (long long)n.id,
                alert_kind_name(c->kind), c->subject[0] ? " " : "", c->subject, c->summary);
        if (al_webhook())
            al_enqueue(&n);
    }
    PQclear(r);
}

static void al_resolve(int kind, const char *subject)
{
    const char *notice = al_webhook() ? "pending" : "off";
    const char *params[3] = {alert_kind_name((size_t)kind), subject, notice};
    PGresult *r = NULL;
    if (apidb_exec(SQL_ALERT_RESOLVE, params, &r) != DB_OK)
        return;
    if (PQntuples(r) == 1) {
        struct webhook_notice n = {.id = al_i64(r, 0, 0),
                                   .resolved = 1,
                                   .kind = (enum alert_kind)kind,
                                   .started_ms = al_i64(r, 0, 3),
                                   .resolved_ms = al_i64(r, 0, 4)};
        util_strlcpy(n.subject, subject, sizeof n.subject);
        util_strlcpy(n.severity, PQgetvalue(r, 0, 1), sizeof n.severity);
        char d[16];
        alert_fmt_duration((n.resolved_ms - n.started_ms) / 1000, d, sizeof d);
        snprintf(n.summary, sizeof n.summary, "resolved after %s (was: %.200s)", d,
                 PQgetvalue(r, 0, 2));
        log_msg(LOG_INFO, "alerts: #%lld %s%s%s resolved after %s", (long long)n.id,
                alert_kind_name((size_t)kind), subject[0] ? " " : "", subject, d);
        if (al_webhook())
            al_enqueue(&n);
    }
    PQclear(r);
}

static struct alert_pending pending;

/* One turn: read, judge, open and resolve. Returns 0, or -1 when the
 * database did not answer (nothing is judged then: unknown is not
 * resolved). */
static int al_judge(int64_t since_start_ms)
{
    char window[16], bound[24], ncyc[24];
    snprintf(window, sizeof window, "%d", status_live_window_s(cfg->heartbeat_s));
    snprintf(bound, sizeof bound, "%lld", (long long)cfg->fetch_interval_s);
    snprintf(ncyc, sizeof ncyc, "%lld", (long long)cfg->alert_failed_cycles);
    const char *params[3] = {window, bound, ncyc};
    PGresult *r = NULL;
    if (apidb_exec(SQL_ALERT_INPUT, params, &r) != DB_OK)
        return -1;
    json_object *in = PQntuples(r) == 1 ? json_tokener_parse(PQgetvalue(r, 0, 0)) : NULL;
    PQclear(r);
    if (in == NULL || al_load_open() != 0) {
        json_object_put(in);
        return -1;
    }
    struct alert_settings s = {.after_ms = cfg->alert_after_s * 1000,
                               .failed_cycles = cfg->alert_failed_cycles};
    static struct alert_verdict v;
    alert_rules_evaluate(in, util_mono_ms(), &s, &pending, al_is_open, NULL, &v);
    json_object_put(in);
    /* A daemon started with us (docker compose up) has had no chance to
     * beat yet: "stopped" is judged from one live window after our start. */
    if (since_start_ms < (int64_t)status_live_window_s(cfg->heartbeat_s) * 1000) {
        v.hold[ALERT_DAEMON_STOPPED] = HOLD_ALL;
        size_t kept = 0;
        for (size_t i = 0; i < v.n; i++)
            if (v.active[i].kind != ALERT_DAEMON_STOPPED)
                v.active[kept++] = v.active[i];
        v.n = kept;
    }
    for (size_t i = 0; i < v.n; i++)
        if (!al_is_open(v.active[i].kind, v.active[i].subject, NULL))
            al_open(&v.active[i]);
    for (size_t i = 0; i < nopen; i++)
        if (alert_rules_resolves(&v, (enum alert_kind)open_now[i].kind, open_now[i].subject))
            al_resolve(open_now[i].kind, open_now[i].subject);
    return 0;
}

/* Notices a previous fetcher-api left pending go out first. */
static int al_requeue_pending(void)
{
    PGresult *r = NULL;
    if (apidb_exec(SQL_ALERT_PENDING, NULL, &r) != DB_OK)
        return -1;
    for (int i = 0; i < PQntuples(r); i++) {
        int k = alert_kind_parse(PQgetvalue(r, i, 1));
        if (k < 0)
            continue;
        struct webhook_notice n = {.id = al_i64(r, i, 0),
                                   .kind = (enum alert_kind)k,
                                   .started_ms = al_i64(r, i, 5),
                                   .resolved_ms = al_i64(r, i, 6),
                                   .resolved = strcmp(PQgetvalue(r, i, 7), "resolve") == 0};
        util_strlcpy(n.subject, PQgetvalue(r, i, 2), sizeof n.subject);
        util_strlcpy(n.severity, PQgetvalue(r, i, 3), sizeof n.severity);
        if (n.resolved)
            snprintf(n.summary, sizeof n.summary, "resolved (was: %.200s)", PQgetvalue(r, i, 4));
        else
            util_strlcpy(n.summary, PQgetvalue(r, i, 4), sizeof n.summary);
        al_enqueue(&n);
    }
    if (PQntuples(r) > 0)
        log_msg(LOG_INFO, "alerts: %d notification(s) left pending by an earlier run queued",
                PQntuples(r));
    PQclear(r);
    return 0;
}

static void al_purge(void)
{
    char days[24];
    snprintf(days, sizeof days, "%lld", (long long)cfg->log_retention_days);
    const char *params[1] = {days};
    PGresult *r = NULL;
    if (apidb_exec(SQL_ALERT_PURGE, params, &r) == DB_OK)
        PQclear(r);
}

/* Sleeps until ms (monotonic) or until told to stop. */
static void al_sleep_until(int64_t ms)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    int64_t wait = ms - util_mono_ms();
    if (wait <= 0)
        return;
    ts.tv_sec += wait / 1000;
    ts.tv_nsec += (long)(wait % 1000) * 1000000L;
    if (ts.tv_nsec >= 1000000000L) {
        ts.tv_sec++;
        ts.tv_nsec -= 1000000000L;
    }
    pthread_mutex_lock(&mu);
    while (!atomic_load(&stopping))
        if (pthread_cond_timedwait(&cv, &mu, &ts) != 0)
            break;
    pthread_mutex_unlock(&mu);
}

static void *al_main(void *arg)
{
    (void)arg;
    int64_t tick =
        (cfg->heartbeat_s < ALERTS_TICK_MAX_S ? cfg->heartbeat_s : ALERTS_TICK_MAX_S) * 1000;
    int64_t start = util_mono_ms(), next_purge = start, next_judge = start;
    int requeued = !al_webhook(), db_down = 0;
    while (!atomic_load(&stopping)) {
        int64_t now = util_mono_ms();
        if (now >= next_judge) {
            if (!requeued)
                requeued = al_requeue_pending() == 0;
            int rc = requeued ? al_judge(now - start) : -1;
            if (rc != 0 && !db_down)
                log_msg(LOG_WARNING, "alerts: cannot read the database; alerts wait for it");
            else if (rc == 0 && db_down)
                log_msg(LOG_INFO, "alerts: the database answers again");
            db_down = rc != 0;
            if (rc == 0 && now >= next_purge) {
                al_purge();
                next_purge = now + ALERTS_PURGE_MS;
            }
            next_judge = now + tick;
        }
        al_deliver();
        int64_t wake = next_judge;
        if (qlen > 0 && next_attempt < wake)
            wake = next_attempt;
        al_sleep_until(wake);
    }
    return NULL;
}

int alerts_start(void)
{
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
        log_msg(LOG_ERROR, "alerts: libcurl cannot start");
        return -1;
    }
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&cv, &ca);
    pthread_condattr_destroy(&ca);
    if (al_webhook()) {
        webhook_redact(cfg->alert_webhook_url, url_shown, sizeof url_shown);
        log_msg(LOG_INFO, "alerts: notifications go to %s (%s), after %llds for providers",
                url_shown, cfg->alert_webhook_format, (long long)cfg->alert_after_s);
    } else {
        log_msg(LOG_INFO, "alerts: no ALERT_WEBHOOK_URL; alerts are kept and shown, not sent");
    }
    atomic_store(&stopping, 0);
    if (pthread_create(&thread, NULL, al_main, NULL) != 0) {
        pthread_cond_destroy(&cv);
        curl_global_cleanup();
        return -1;
    }
    started = 1;
    return 0;
}

void alerts_stop(void)
{
    if (!started)
        return;
    pthread_mutex_lock(&mu);
    atomic_store(&stopping, 1);
    pthread_cond_broadcast(&cv);
    pthread_mutex_unlock(&mu);
    pthread_join(thread, NULL);
    pthread_cond_destroy(&cv);
    curl_global_cleanup();
    started = 0;
}

void alerts_get_stats(struct alerts_stats *out)
{
    out->delivered = atomic_load(&st_delivered);
    out->rejected = atomic_load(&st_rejected);
    out->dropped = atomic_load(&st_dropped);
    out->attempts_ok = atomic_load(&st_ok);
    out->attempts_failed = atomic_load(&st_failed);
    out->queued = atomic_load(&st_queued);
}
