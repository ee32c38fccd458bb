/*
 * test_sql — the daemon's statements (daemon/sql.c) keep the rule sql.h
 * states: every row written carries (instance_id, seq) and ON CONFLICT DO
 * NOTHING, so a statement the writer sends again after an ambiguous failure
 * stores nothing twice.
 *
 * The table check needs no database. The replay runs the real statement
 * twice, with the same parameters, against a database of its own in
 * tests/run.sh's PostgreSQL (PGLOCAL_PORT; skipped without it), migrated
 * from migrations/ by the real migrate_run.
 */
#include "db.h"
#include "migrate.h"
#include "sql.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

/* Every INSERT in the table is idempotent: ON CONFLICT, and, unless it is
 * an upsert of a row keyed otherwise (the heartbeat's instance), a seq. */
static void every_insert_is_idempotent(void **state)
{
    (void)state;
    size_t inserts = 0;
    for (size_t i = 0; i < sql_statement_count; i++) {
        const struct db_stmt *s = &sql_statements[i];
        if (strstr(s->sql, "INSERT INTO") == NULL)
            continue;
        inserts++;
        if (strstr(s->sql, "ON CONFLICT") == NULL)
            fail_msg("statement %s inserts without ON CONFLICT", s->name);
        if (strstr(s->sql, "DO UPDATE") == NULL && strstr(s->sql, "seq") == NULL)
            fail_msg("statement %s inserts without a seq", s->name);
    }
    assert_true(inserts >= 4); /* the table was read: records, logs, cycles, stats */
}

static PGconn *admin;
static PGconn *conn;
static char dbname[64];

static int db_setup(void **state)
{
    (void)state;
    const char *p = getenv("PGLOCAL_PORT");
    if (p == NULL || *p == '\0') {
        fprintf(stderr, "PGLOCAL_PORT unset: run through tests/run.sh\n");
        return 0;
    }
    char url[256];
    snprintf(url, sizeof url, "postgresql://fetcher@127.0.0.1:%s/postgres", p);
    admin = PQconnectdb(url);
    if (PQstatus(admin) != CONNECTION_OK)
        return -1;
    snprintf(dbname, sizeof dbname, "t_unit_sql_%ld", (long)getpid());
    char q[128];
    snprintf(q, sizeof q, "CREATE DATABASE %s", dbname);
    PGresult *r = PQexec(admin, q);
    int ok = PQresultStatus(r) == PGRES_COMMAND_OK;
    PQclear(r);
    if (!ok)
        return -1;
    snprintf(url, sizeof url, "postgresql://fetcher@127.0.0.1:%s/%s", p, dbname);
    conn = PQconnectdb(url);
    if (PQstatus(conn) != CONNECTION_OK)
        return -1;
    char err[512];
    if (migrate_run(conn, "migrations", NULL, err, sizeof err) != 0) {
        fprintf(stderr, "migrate: %s\n", err);
        return -1;
    }
    if (db_prepare_all(conn, sql_statements, sql_statement_count, err, sizeof err) != DB_OK) {
        fprintf(stderr, "prepare: %s\n", err);
        return -1;
    }
    return 0;
}

static int db_teardown(void **state)
{
    (void)state;
    if (conn != NULL)
        PQfinish(conn);
    if (admin != NULL) {
        char q[128];
        snprintf(q, sizeof q, "DROP DATABASE IF EXISTS %s", dbname);
        PQclear(PQexec(admin, q));
        PQfinish(admin);
    }
    return 0;
}

static long long count_of(const char *q)
{
    PGresult *r = PQexec(conn, q);
    assert_int_equal(PQresultStatus(r), PGRES_TUPLES_OK);
    long long n = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
    PQclear(r);
    return n;
}

static void exec_stmt(const char *name, int n, const char *const *params)
{
    PGresult *res = NULL;
    char err[512];
    if (db_exec(conn, name, n, params, &res, err, sizeof err) != DB_OK)
        fail_msg("%s: %s", name, err);
    PQclear(res);
}

/* A statistics row sent twice (the writer's retry) is one row; the next
 * seq is a new row. */
static void persist_stats_sent_twice_is_one_row(void **state)
{
    (void)state;
    if (conn == NULL)
        skip();
    const char *params[4] = {"test-sql", "42", "{\"errors\":0}", "1000"};
    exec_stmt(SQL_PERSIST_STATS, 4, params);
    exec_stmt(SQL_PERSIST_STATS, 4, params);
    assert_int_equal(
        count_of("SELECT count(*) FROM fetcher_statistics WHERE instance_id = 'test-sql'"), 1);
    params[3] = "1001";
    exec_stmt(SQL_PERSIST_STATS, 4, params);
    assert_int_equal(
        count_of("SELECT count(*) FROM fetcher_statistics WHERE instance_id = 'test-sql'"), 2);
}

/* The same for a log batch and a cycle's update rows: the rule the table
 * check reads, run for real. */
static void logs_and_updates_sent_twice_are_one_row(void **state)
{
    (void)state;
    if (conn == NULL)
        skip();
    const char *logs[1] = {"[{\"ts\":\"2026-12-06T01:00:00Z\",\"level\":\"INFO\","
                           "\"message\":\"twice\",\"context\":null,\"instance_id\":\"test-sql\","
                           "\"seq\":7,\"cycle_seq\":0}]"};
    exec_stmt(SQL_LOGS, 1, logs);
    exec_stmt(SQL_LOGS, 1, logs);
    assert_int_equal(count_of("SELECT count(*) FROM fetcher_logs WHERE message = 'twice'"), 1);
    const char *upd[1] = {"[{\"asset_id\":null,\"symbol\":\"GONE\",\"ok\":false,\"price\":null,"
                          "\"currency\":\"USD\",\"price_time\":null,\"error\":\"x\","
                          "\"duration_ms\":1,\"instance_id\":\"test-sql\",\"seq\":8,"
                          "\"price_seq\":9,\"cycle_seq\":0,\"ts\":\"2026-12-06T01:00:00Z\","
                          "\"source\":\"yahoo\",\"failover_reason\":null}]"};
    exec_stmt(SQL_RECORD_UPDATES, 1, upd);
    exec_stmt(SQL_RECORD_UPDATES, 1, upd);
    assert_int_equal(count_of("SELECT count(*) FROM price_update_log WHERE symbol = 'GONE'"), 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(every_insert_is_idempotent),
        cmocka_unit_test(persist_stats_sent_twice_is_one_row),
        cmocka_unit_test(logs_and_updates_sent_twice_are_one_row),
    };
    return cmocka_run_group_tests_name("sql", tests, db_setup, db_teardown);
}
