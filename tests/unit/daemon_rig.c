/*
 * daemon_rig — see daemon_rig.h.
 */
#include "daemon_rig.h"
#include "log.h"
#include "provider.h"
#include "sql.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct rig_lookup {
    const char *const *pairs; /* NAME=VALUE, NULL-terminated */
    const char *const *extra;
};

static const char *rig_find(const char *const *pairs, const char *name)
{
    size_t n = strlen(name);
    for (size_t i = 0; pairs && pairs[i]; i++)
        if (strncmp(pairs[i], name, n) == 0 && pairs[i][n] == '=')
            return pairs[i] + n + 1;
    return NULL;
}

static const char *rig_lookup(const char *name, void *cls)
{
    struct rig_lookup *l = cls;
    const char *v = rig_find(l->extra, name);
    return v ? v : rig_find(l->pairs, name);
}

static void rig_on_state(int up, void *cls)
{
    struct rig *r = cls;
    if (up)
        r->db_ups++;
    else
        r->db_downs++;
}

static void rig_before_sleep(struct loop *l, void *cls)
{
    struct rig *r = cls;
    queue_run(r->d.queue, loop_now(l));
    writer_flush(r->d.writer);
}

int rig_open(struct rig *r, const char *dbname, const char *instance, const char *const *extra)
{
    memset(r, 0, sizeof *r);
    r->d.loop = loop_new();
    r->ws = ws_start();
    if (r->d.loop == NULL || r->ws == NULL || pgf_port() == 0)
        return -1;
    r->relay = pgr_start(r->d.loop, pgf_port());
    if (r->relay == NULL)
        return -1;
    char db[256], yahoo[128], cg[128], fx[128], kr[128], er[128], td[128], cb[128], bn[128];
    snprintf(db, sizeof db, "DATABASE_URL=postgresql://fetcher@127.0.0.1:%d/%s", pgr_port(r->relay),
             dbname);
    snprintf(yahoo, sizeof yahoo, "YAHOO_BASE_URL=%s", ws_url(r->ws));
    snprintf(cg, sizeof cg, "COINGECKO_BASE_URL=%s/api/v3", ws_url(r->ws));
    snprintf(fx, sizeof fx, "FX_BASE_URL=%s/v1", ws_url(r->ws));
    snprintf(kr, sizeof kr, "KRAKEN_BASE_URL=%s/0/public", ws_url(r->ws));
    snprintf(er, sizeof er, "ERAPI_BASE_URL=%s/erapi", ws_url(r->ws));
    snprintf(td, sizeof td, "TWELVEDATA_BASE_URL=%s/td", ws_url(r->ws));
    snprintf(cb, sizeof cb, "COINBASE_BASE_URL=%s/cb", ws_url(r->ws));
    snprintf(bn, sizeof bn, "BINANCE_BASE_URL=%s/bn", ws_url(r->ws));
    /* one source per class: a failing provider fails its assets (failover
     * is the queue's subject), no retries, no staleness limit (the
     * recordings are months old) */
    const char *pairs[] = {db,
                           yahoo,
                           cg,
                           fx,
                           kr,
                           er,
                           td,
                           cb,
                           bn,
                           "FETCH_SOURCES=stock=yahoo;crypto=coingecko;fx=fx",
                           "FETCH_RETRIES=0",
                           "FETCH_TIMEOUT=3",
                           "PRICE_MAX_AGE=0",
                           "HEARTBEAT_INTERVAL=1",
                           NULL};
    struct rig_lookup lk = {pairs, extra};
    char err[300];
    if (config_load_from(&r->c, rig_lookup, &lk, err, sizeof err) != 0) {
        fprintf(stderr, "rig: %s\n", err);
        return -1;
    }
    cfg = &r->c;
    util_strlcpy(r->d.instance_id, instance, sizeof r->d.instance_id);
    util_strlcpy(r->d.host, "rig", sizeof r->d.host);
    r->d.pid = (int)getpid();
    r->d.started_wall_ms = util_wall_ms();
    r->d.started_mono_ms = loop_now(r->d.loop);
    struct fetch_options fo = {.timeout_ms = r->c.fetch_timeout_s * 1000,
                               .connect_timeout_ms = 2000,
                               .max_body = (size_t)r->c.max_body_bytes,
                               .max_connections = (int)r->c.fetch_concurrency};
    r->d.fetcher = fetcher_new(r->d.loop, &fo);
    r->up = r->d.fetcher ? upstream_new(r->d.loop, r->d.fetcher, &r->c) : NULL;
    if (r->up == NULL)
        return -1;
    struct queue_transport tr = upstream_transport(r->up);
    struct queue_limits lim = {.concurrency = (int)r->c.fetch_concurrency,
                               .max_retries = (int)r->c.fetch_retries,
                               .backoff_ms = 200,
                               .backoff_max_ms = 1000,
                               .probe_ms = r->c.probe_interval_s * 1000,
                               .request_timeout_ms = fo.timeout_ms};
    r->d.queue = queue_new(&tr, &lim);
    if (r->d.queue == NULL)
        return -1;
    upstream_attach(r->up, r->d.queue);
    size_t np;
    const struct provider *const *ps = provider_all(&np);
    for (size_t i = 0; i < np; i++)
        if (queue_add_provider(r->d.queue, ps[i]->name, ps[i]->batch_size(&r->c),
                               ps[i]->concurrency) < 0)
            return -1;
    if (staleness_parse(r->c.staleness, r->c.fetch_interval_s, &r->stale, err, sizeof err) != 0)
        return -1;
    r->d.staleness = &r->stale;
    r->src = sources_parse(r->c.fetch_sources, 0, err, sizeof err);
    if (r->src == NULL)
        return -1;
    r->d.sources = r->src;
    struct dbconn_events ev = {.state = rig_on_state, .cls = r};
    r->d.db =
        dbconn_new(r->d.loop, r->c.database_url, sql_statements, sql_statement_count, NULL, &ev);
    r->d.writer =
        r->d.db ? writer_new(r->d.loop, r->d.db, r->d.instance_id, (size_t)r->c.write_buffer_rows)
                : NULL;
    r->ac = asset_cache_new();
    if (r->d.writer == NULL || r->ac == NULL || loop_hook_add(r->d.loop, rig_before_sleep, r) != 0)
        return -1;
    int64_t end = util_mono_ms() + 10000;
    while (r->db_ups == 0 && util_mono_ms() < end)
        loop_run_once(r->d.loop, 20);
    /* the statement table is prepared before anything of ours runs */
    rig_run_for(r, 100);
    return r->db_ups > 0 ? 0 : -1;
}

int rig_run_until(struct rig *r, int (*done)(void *cls), void *cls, int64_t ms)
{
    int64_t end = util_mono_ms() + ms;
    int v;
    while (!(v = done(cls)) && util_mono_ms() < end)
        loop_run_once(r->d.loop, 20);
    return v;
}

void rig_run_for(struct rig *r, int64_t ms)
{
    int64_t end = util_mono_ms() + ms;
    while (util_mono_ms() < end)
        loop_run_once(r->d.loop, 10);
}

int rig_writes_done(struct rig *r)
{
    return writer_idle(r->d.writer) && dbconn_queued(r->d.db) == 0;
}

void rig_close(struct rig *r)
{
    queue_free(r->d.queue);
    upstream_free(r->up);
    fetcher_free(r->d.fetcher);
    dbconn_free(r->d.db);
    writer_free(r->d.writer);
    asset_cache_free(r->ac);
    sources_free(r->src);
    pgr_stop(r->relay);
    ws_stop(r->ws);
    loop_free(r->d.loop);
    cfg = NULL;
    memset(r, 0, sizeof *r);
}
