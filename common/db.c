/*
 * db — see db.h.
 */
#include "db.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum db_status db_classify(PGconn *conn, const PGresult *res)
{
    if (conn != NULL && PQstatus(conn) == CONNECTION_BAD)
        return DB_RETRY;
    if (res == NULL)
        return DB_RETRY;
    switch (PQresultStatus(res)) {
    case PGRES_COMMAND_OK:
    case PGRES_TUPLES_OK:
    case PGRES_SINGLE_TUPLE:
    case PGRES_PIPELINE_SYNC:
        return DB_OK;
    default:
        break;
    }
    const char *state = PQresultErrorField(res, PG_DIAG_SQLSTATE);
    if (state == NULL)
        return DB_RETRY; /* no SQLSTATE: a client-side (connection) failure */
    /* 08: connection exception; 40001/40P01: serialization / deadlock;
     * 57P0x: shutdown or crash of the server; 53: insufficient resources;
     * 57014: statement timeout (the server was slow, not wrong). */
    if (strncmp(state, "08", 2) == 0 || strcmp(state, "40001") == 0 ||
        strcmp(state, "40P01") == 0 || strncmp(state, "57P0", 4) == 0 ||
        strncmp(state, "53", 2) == 0 || strcmp(state, "57014") == 0)
        return DB_RETRY;
    return DB_HARD;
}

static void db_first_line(char *err, size_t errlen, const char *prefix, const char *msg)
{
    snprintf(err, errlen, "%s%s", prefix, msg ? msg : "unknown error");
    char *nl = strchr(err, '\n');
    if (nl)
        *nl = '\0';
}

/* NOTICEs ("relation already exists, skipping") are chatter, not events. */
static void db_ignore_notice(void *arg, const char *message)
{
    (void)arg;
    (void)message;
}

/* host, hostaddr and port lists for libpq from h (NULL: none), or -1 when
 * no host is left (err says which name did not resolve). */
struct db_lists {
    char host[DB_MAX_HOSTS * RESOLVE_MAX_ADDRS * 257];
    char hostaddr[DB_MAX_HOSTS * RESOLVE_MAX_ADDRS * (RESOLVE_ADDR_LEN + 1)];
    char port[DB_MAX_HOSTS * RESOLVE_MAX_ADDRS * 17];
    int any_port;
};

/* Appends ",item" (or "item" for the first entry) to list. */
static void db_list_add(char *list, size_t size, int first, const char *item)
{
    size_t len = strlen(list);
    snprintf(list + len, size - len, "%s%s", first ? "" : ",", item);
}

static int db_build_lists(const struct db_hosts *h, struct db_lists *l, char *err, size_t errlen)
{
    memset(l, 0, sizeof *l);
    int entries = 0;
    for (int i = 0; i < h->n; i++) {
        int naddr = h->lookup[i] ? h->found[i].n : 1;
        for (int k = 0; k < naddr; k++, entries++) {
            /* an empty hostaddr entry: libpq uses host as it is */
            db_list_add(l->host, sizeof l->host, entries == 0, h->name[i]);
            db_list_add(l->hostaddr, sizeof l->hostaddr, entries == 0,
                        h->lookup[i] ? h->found[i].addr[k] : "");
            db_list_add(l->port, sizeof l->port, entries == 0, h->port[i]);
            l->any_port |= h->port[i][0] != '\0';
        }
    }
    if (entries > 0)
        return 0;
    for (int i = 0; i < h->n; i++)
        if (h->lookup[i]) {
            snprintf(err, errlen, "cannot resolve database host \"%.100s\": %s", h->name[i],
                     h->found[i].error[0] ? h->found[i].error : "no address");
            break;
        }
    return -1;
}

static PGconn *db_connect_with(const char *url, const char *app_name, int statement_timeout_ms,
                               int nonblocking, const struct db_lists *l)
{
    char options[96];
    /* JIT compilation costs a second on statements the planner misjudges
     * as huge (the portfolio recalculation) and never pays off on ours,
     * which are short. */
    snprintf(options, sizeof options, "-c statement_timeout=%d -c jit=off", statement_timeout_ms);
    /* expand_dbname lets DATABASE_URL be a URI or key=value string; the later
     * keywords override what it says. Keepalives make a dead server
     * visible within seconds instead of at the next write. Looked-up
     * addresses (l) override the URL's hosts: libpq would otherwise look
     * the names up itself, synchronously. */
    const char *keys[12] = {"dbname",           "application_name", "connect_timeout",
                            "keepalives",       "keepalives_idle",  "keepalives_interval",
                            "keepalives_count", "options"};
    const char *vals[12] = {url, app_name, "5", "1", "5", "2", "3", options};
    int n = 8;
    if (l != NULL) {
        keys[n] = "host";
        vals[n++] = l->host;
        keys[n] = "hostaddr";
        vals[n++] = l->hostaddr;
        if (l->any_port) {
            keys[n] = "port";
            vals[n++] = l->port;
        }
    }
    keys[n] = NULL;
    vals[n] = NULL;
    PGconn *c =
        nonblocking ? PQconnectStartParams(keys, vals, 1) : PQconnectdbParams(keys, vals, 1);
    if (c != NULL)
        PQsetNoticeProcessor(c, db_ignore_notice, NULL);
    return c;
}

void db_hosts_parse(const char *url, struct db_hosts *h)
{
    memset(h, 0, sizeof *h);
    char *perr = NULL;
    PQconninfoOption *opts = PQconninfoParse(url, &perr);
    PQfreemem(perr);
    if (opts == NULL)
        return; /* libpq will say what is wrong with it when connecting */
    const char *host = NULL, *port = NULL, *hostaddr = NULL;
    for (PQconninfoOption *o = opts; o->keyword; o++) {
        if (o->val == NULL || o->val[0] == '\0')
            continue;
        if (strcmp(o->keyword, "host") == 0)
            host = o->val;
        else if (strcmp(o->keyword, "port") == 0)
            port = o->val;
        else if (strcmp(o->keyword, "hostaddr") == 0)
            hostaddr = o->val;
    }
    if (host == NULL)
        host = getenv("PGHOST");
    if (port == NULL)
        port = getenv("PGPORT");
    if (hostaddr != NULL || host == NULL || getenv("PGHOSTADDR") != NULL)
        goto out; /* addresses given, or the default socket */
    char hosts[1100], ports[200] = "";
    if (util_strlcpy(hosts, host, sizeof hosts) >= sizeof hosts ||
        (port && util_strlcpy(ports, port, sizeof ports) >= sizeof ports))
        goto out;
    int nports = 0;
    char portv[DB_MAX_HOSTS][16];
    /* strtok_r would fold empty entries; libpq keeps them */
    for (char *p = ports, *next; p && nports <= DB_MAX_HOSTS; p = next) {
        next = strchr(p, ',');
        if (next)
            *next++ = '\0';
        if (nports < DB_MAX_HOSTS)
            util_strlcpy(portv[nports], p, sizeof portv[0]);
        nports++;
        if (!port)
            break;
    }
    int n = 0;
    for (char *p = hosts, *next; p; p = next, n++) {
        next = strchr(p, ',');
        if (next)
            *next++ = '\0';
        if (n == DB_MAX_HOSTS) {
            h->lookups = 0; /* more than we handle: libpq as is */
            goto out;
        }
        util_strlcpy(h->name[n], p, sizeof h->name[0]);
        if (port && nports > 1 && n < nports)
            util_strlcpy(h->port[n], portv[n], sizeof h->port[0]);
        else if (port && nports == 1)
            util_strlcpy(h->port[n], portv[0], sizeof h->port[0]);
        h->lookup[n] = p[0] != '\0' && p[0] != '/' && p[0] != '@' && !resolve_is_numeric(p);
        h->lookups += h->lookup[n];
    }
    h->n = n;
out:
    if (h->lookups == 0)
        memset(h, 0, sizeof *h);
    PQconninfoFree(opts);
}

PGconn *db_connect_start(const char *url, const char *app_name, int statement_timeout_ms)
{
    return db_connect_with(url, app_name, statement_timeout_ms, 1, NULL);
}

PGconn *db_connect_start_hosts(const char *url, const char *app_name, int statement_timeout_ms,
                               const struct db_hosts *h, char *err, size_t errlen)
{
    if (h == NULL || h->lookups == 0)
        return db_connect_start(url, app_name, statement_timeout_ms);
    struct db_lists *l = malloc(sizeof *l);
    if (l == NULL) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    PGconn *c = NULL;
    if (db_build_lists(h, l, err, errlen) == 0)
        c = db_connect_with(url, app_name, statement_timeout_ms, 1, l);
    else
        goto out;
    if (c == NULL)
        snprintf(err, errlen, "out of memory");
out:
    free(l);
    return c;
}

static PGconn *db_finish_connect(PGconn *conn, char *err, size_t errlen)
{
    if (conn == NULL) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    if (PQstatus(conn) != CONNECTION_OK) {
        db_first_line(err, errlen, "", PQerrorMessage(conn));
        PQfinish(conn);
        return NULL;
    }
    return conn;
}

PGconn *db_connect(const char *url, const char *app_name, int statement_timeout_ms, char *err,
                   size_t errlen)
{
    return db_finish_connect(db_connect_with(url, app_name, statement_timeout_ms, 0, NULL), err,
                             errlen);
}

PGconn *db_connect_resolved(const char *url, const char *app_name, int statement_timeout_ms,
                            int resolve_ms, volatile const int *stop, char *err, size_t errlen)
{
    struct db_hosts *h = malloc(sizeof *h);
    struct db_lists *l = malloc(sizeof *l);
    PGconn *c = NULL;
    if (h == NULL || l == NULL) {
        snprintf(err, errlen, "out of memory");
        goto out;
    }
    db_hosts_parse(url, h);
    if (h->lookups == 0) {
        c = db_connect(url, app_name, statement_timeout_ms, err, errlen);
        goto out;
    }
    for (int i = 0; i < h->n; i++) {
        if (!h->lookup[i])
            continue;
        if (resolve_wait(h->name[i], resolve_ms, stop, &h->found[i]) != 0) {
            snprintf(err, errlen, "cannot resolve database host \"%.100s\": %s", h->name[i],
                     stop && *stop ? "stopped" : "cannot start the lookup");
            goto out;
        }
    }
    if (db_build_lists(h, l, err, errlen) != 0)
        goto out;
    c = db_finish_connect(db_connect_with(url, app_name, statement_timeout_ms, 0, l), err, errlen);
out:
    free(h);
    free(l);
    return c;
}

enum db_status db_prepare_all(PGconn *conn, const struct db_stmt *table, size_t n, char *err,
                              size_t errlen)
{
    for (size_t i = 0; i < n; i++) {
        PGresult *r = PQprepare(conn, table[i].name, table[i].sql, table[i].nparams, NULL);
        enum db_status st = db_classify(conn, r);
        if (st != DB_OK) {
            char prefix[96];
            snprintf(prefix, sizeof prefix, "prepare %s: ", table[i].name);
            db_first_line(err, errlen, prefix, r ? PQresultErrorMessage(r) : PQerrorMessage(conn));
            PQclear(r);
            return st;
        }
        PQclear(r);
    }
    return DB_OK;
}

enum db_status db_exec(PGconn *conn, const char *name, int nparams, const char *const *params,
                       PGresult **res, char *err, size_t errlen)
{
    *res = NULL;
    PGresult *r = PQexecPrepared(conn, name, nparams, params, NULL, NULL, 0);
    enum db_status st = db_classify(conn, r);
    if (st != DB_OK) {
        char prefix[96];
        snprintf(prefix, sizeof prefix, "%s: ", name);
        db_first_line(err, errlen, prefix, r ? PQresultErrorMessage(r) : PQerrorMessage(conn));
        PQclear(r);
        return st;
    }
    *res = r;
    return DB_OK;
}

static enum db_status db_simple(PGconn *conn, const char *sql, char *err, size_t errlen)
{
    PGresult *r = PQexec(conn, sql);
    enum db_status st = db_classify(conn, r);
    if (st != DB_OK)
        db_first_line(err, errlen, "", r ? PQresultErrorMessage(r) : PQerrorMessage(conn));
    PQclear(r);
    return st;
}

enum db_status db_run_tx(PGconn *conn, int max_tries,
                         enum db_status (*fn)(PGconn *, void *, char *, size_t), void *cls,
                         char *err, size_t errlen)
{
    enum db_status st = DB_HARD;
    for (int attempt = 0; attempt < max_tries; attempt++) {
        if (PQstatus(conn) == CONNECTION_BAD) {
            PQreset(conn);
            if (PQstatus(conn) != CONNECTION_OK) {
                db_first_line(err, errlen, "", PQerrorMessage(conn));
                st = DB_RETRY;
                continue;
            }
        }
        st = db_simple(conn, "BEGIN", err, errlen);
        if (st == DB_OK)
            st = fn(conn, cls, err, errlen);
        if (st == DB_OK)
            st = db_simple(conn, "COMMIT", err, errlen);
        if (st == DB_OK)
            return DB_OK;
        if (PQtransactionStatus(conn) != PQTRANS_IDLE && PQstatus(conn) == CONNECTION_OK) {
            char ignored[8];
            (void)db_simple(conn, "ROLLBACK", ignored, sizeof ignored);
        }
        if (st != DB_RETRY)
            return st;
    }
    return st;
}
