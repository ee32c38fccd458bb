/*
 * pg_fault — see pg_fault.h.
 *
 * The relay copies bytes with blocking writes: on loopback, to a server
 * that reads as fast as we write, that is simple and enough for a test.
 */
#include "pg_fault.h"
#include "migrate.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

int pgf_port(void)
{
    const char *p = getenv("PGLOCAL_PORT");
    if (p == NULL || *p == '\0')
        return 0;
    return (int)strtol(p, NULL, 10);
}

static PGconn *pgf_connect(const char *db)
{
    char url[256];
    snprintf(url, sizeof url, "postgresql://fetcher@127.0.0.1:%d/%s", pgf_port(), db);
    PGconn *c = PQconnectdb(url);
    if (PQstatus(c) != CONNECTION_OK) {
        fprintf(stderr, "pg_fault: cannot connect to %s: %s", db, PQerrorMessage(c));
        PQfinish(c);
        return NULL;
    }
    PQclear(PQexec(c, "SET client_min_messages = warning"));
    return c;
}

int pgf_exec(PGconn *conn, const char *sql)
{
    PGresult *r = PQexec(conn, sql);
    int ok = PQresultStatus(r) == PGRES_COMMAND_OK || PQresultStatus(r) == PGRES_TUPLES_OK;
    if (!ok)
        fprintf(stderr, "pg_fault: %s: %s", sql, PQresultErrorMessage(r));
    PQclear(r);
    return ok ? 0 : -1;
}

long long pgf_value(PGconn *conn, const char *sql)
{
    PGresult *r = PQexec(conn, sql);
    long long v = -1;
    if (PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1 && !PQgetisnull(r, 0, 0))
        v = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
    else
        fprintf(stderr, "pg_fault: %s: %s (%d rows)\n", sql, PQresultErrorMessage(r), PQntuples(r));
    PQclear(r);
    return v;
}

PGconn *pgf_create_db(const char *prefix, char *dbname, size_t len)
{
    if (pgf_port() == 0)
        return NULL;
    snprintf(dbname, len, "%s_%ld", prefix, (long)getpid());
    PGconn *admin = pgf_connect("postgres");
    if (admin == NULL)
        return NULL;
    char q[160];
    snprintf(q, sizeof q, "DROP DATABASE IF EXISTS %s", dbname);
    (void)pgf_exec(admin, q);
    snprintf(q, sizeof q, "CREATE DATABASE %s", dbname);
    int rc = pgf_exec(admin, q);
    PQfinish(admin);
    if (rc != 0)
        return NULL;
    PGconn *c = pgf_connect(dbname);
    if (c == NULL)
        return NULL;
    char err[512];
    if (migrate_run(c, "migrations", NULL, err, sizeof err) != 0) {
        fprintf(stderr, "pg_fault: migrate: %s\n", err);
        PQfinish(c);
        return NULL;
    }
    return c;
}

void pgf_drop_db(PGconn *conn, const char *dbname)
{
    if (conn != NULL)
        PQfinish(conn);
    PGconn *admin = pgf_connect("postgres");
    if (admin == NULL)
        return;
    char q[160];
    snprintf(q, sizeof q, "DROP DATABASE IF EXISTS %s WITH (FORCE)", dbname);
    (void)pgf_exec(admin, q);
    PQfinish(admin);
}

/* ---- the relay ------------------------------------------------------ */

struct pg_relay {
    struct loop *loop;
    int listen_fd;
    int port;
    int pg_port;
    int client_fd, server_fd; /* one connection at a time; -1 when none */
    int accepted;
    int refusing;
};

static void pgr_close_pair(struct pg_relay *r)
{
    if (r->client_fd >= 0) {
        loop_unwatch(r->loop, r->client_fd);
        close(r->client_fd);
    }
    if (r->server_fd >= 0) {
        loop_unwatch(r->loop, r->server_fd);
        close(r->server_fd);
    }
    r->client_fd = r->server_fd = -1;
}

static void pgr_on_data(struct loop *l, int fd, int events, void *cls)
{
    (void)l;
    (void)events;
    struct pg_relay *r = cls;
    int to = fd == r->client_fd ? r->server_fd : r->client_fd;
    char buf[65536];
    ssize_t n = read(fd, buf, sizeof buf);
    if (n <= 0) {
        pgr_close_pair(r);
        return;
    }
    for (ssize_t off = 0; off < n;) {
        ssize_t w = write(to, buf + off, (size_t)(n - off));
        if (w <= 0) {
            pgr_close_pair(r);
            return;
        }
        off += w;
    }
}

static void pgr_on_accept(struct loop *l, int fd, int events, void *cls)
{
    (void)events;
    struct pg_relay *r = cls;
    int c = accept(fd, NULL, NULL);
    if (c < 0)
        return;
    if (r->refusing) {
        close(c);
        return;
    }
    pgr_close_pair(r);
    int s = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)r->pg_port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (s < 0 || connect(s, (struct sockaddr *)&a, sizeof a) != 0) {
        close(c);
        if (s >= 0)
            close(s);
        return;
    }
    r->client_fd = c;
    r->server_fd = s;
    r->accepted++;
    if (loop_watch(l, c, LOOP_READABLE, pgr_on_data, r) != 0 ||
        loop_watch(l, s, LOOP_READABLE, pgr_on_data, r) != 0)
        pgr_close_pair(r);
}

struct pg_relay *pgr_start(struct loop *l, int pg_port)
{
    struct pg_relay *r = calloc(1, sizeof *r);
    if (r == NULL)
        return NULL;
    r->loop = l;
    r->pg_port = pg_port;
    r->client_fd = r->server_fd = -1;
    r->listen_fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    if (r->listen_fd < 0 || bind(r->listen_fd, (struct sockaddr *)&a, sizeof a) != 0 ||
        listen(r->listen_fd, 8) != 0 ||
        getsockname(r->listen_fd, (struct sockaddr *)&a, &len) != 0 ||
        loop_watch(l, r->listen_fd, LOOP_READABLE, pgr_on_accept, r) != 0) {
        if (r->listen_fd >= 0)
            close(r->listen_fd);
        free(r);
        return NULL;
    }
    r->port = ntohs(a.sin_port);
    return r;
}

int pgr_port(const struct pg_relay *r)
{
    return r->port;
}

int pgr_accepted(const struct pg_relay *r)
{
    return r->accepted;
}

void pgr_half_close(struct pg_relay *r)
{
    if (r->client_fd < 0)
        return;
    loop_unwatch(r->loop, r->client_fd);
    loop_unwatch(r->loop, r->server_fd);
    shutdown(r->client_fd, SHUT_WR);
}

void pgr_cut(struct pg_relay *r)
{
    r->refusing = 1;
    pgr_close_pair(r);
}

void pgr_restore(struct pg_relay *r)
{
    r->refusing = 0;
}

void pgr_stop(struct pg_relay *r)
{
    if (r == NULL)
        return;
    pgr_close_pair(r);
    loop_unwatch(r->loop, r->listen_fd);
    close(r->listen_fd);
    free(r);
}
