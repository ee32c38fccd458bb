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
 *
 * The fleet's statements (daemon/fleet.h) run there too, two connections
 * standing for two instances: a plan needs the lease, two claims at once
 * take disjoint chunks, a result is recorded only while its claim holds,
 * a cycle is finished once.
 */
#include "db.h"
#include "migrate.h"
#include "sql.h"
#include "staleness.h"
#include "util.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
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
static PGconn *conn2; /* the fleet's tests: a second instance */
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
    conn2 = PQconnectdb(url);
    if (PQstatus(conn2) != CONNECTION_OK ||
        db_prepare_all(conn2, sql_statements, sql_statement_count, err, sizeof err) != DB_OK)
        return -1;
    return 0;
}

static int db_teardown(void **state)
{
    (void)state;
    if (conn != NULL)
        PQfinish(conn);
    if (conn2 != NULL)
        PQfinish(conn2);
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

/* ---- retention, as a property ------------------------------------------
 * For 100 generated mixes (PROPERTY_SEED replays one; the seed is printed
 * on failure) of rows around the bounds — ages in minutes, within four
 * days of the bound, bounds of 1 to 45 days, batch sizes smaller and larger than the
 * rows — the daemon's own retention statements, run as fetcherd runs them
 * (the partitioned tables once, the others until a batch comes back
 * short), leave exactly:
 *
 * - fetcher_logs, price_update_log (partitioned by UTC day, migration
 *   009): the rows whose timestamp is at or after the start (00:00 UTC) of
 *   the day holding the bound, now - days. A day goes only whole, so that
 *   day's rows older than the bound stay until the next day's run; every
 *   partition of an older day is gone (dropped, not emptied), the
 *   statement says how many rows went, and the per-day log counters still
 *   add up to the table.
 * - fetcher_statistics: the rows younger than the bound.
 * - asset_prices: the rows younger than the bound, and each asset's newest
 *   row whatever its age.
 *
 * "now" is fixed per case (the statements take it as a parameter), so a
 * case that runs across midnight UTC tests the same bound it computed. */

static uint64_t prop_state;

static uint32_t prop_rnd(uint32_t n)
{
    prop_state = prop_state * 6364136223846793005ull + 1442695040888963407ull;
    return (uint32_t)(prop_state >> 33) % n;
}

static void exec_ok(const char *q)
{
    PGresult *r = PQexec(conn, q);
    if (PQresultStatus(r) != PGRES_COMMAND_OK && PQresultStatus(r) != PGRES_TUPLES_OK)
        fail_msg("%s: %s", q, PQerrorMessage(conn));
    PQclear(r);
}

/* Runs stmt with (days, batch) until a step deletes fewer than batch rows;
 * returns how many went. */
static long long retain_all(const char *stmt, int days, int batch)
{
    char d[16], b[16];
    snprintf(d, sizeof d, "%d", days);
    snprintf(b, sizeof b, "%d", batch);
    const char *params[2] = {d, b};
    long long total = 0;
    for (int step = 0; step < 10000; step++) {
        PGresult *res = NULL;
        char err[512];
        if (db_exec(conn, stmt, 2, params, &res, err, sizeof err) != DB_OK)
            fail_msg("%s: %s", stmt, err);
        long long n = strtoll(PQcmdTuples(res), NULL, 10);
        PQclear(res);
        total += n;
        if (n < batch)
            return total;
    }
    fail_msg("%s never finished", stmt);
    return -1;
}

/* Runs a partition-dropping stmt once with (days, now); returns the rows
 * it says went. */
static long long retain_partitions(const char *stmt, int days, const char *now)
{
    char d[16];
    snprintf(d, sizeof d, "%d", days);
    const char *params[2] = {d, now};
    PGresult *res = NULL;
    char err[512];
    if (db_exec(conn, stmt, 2, params, &res, err, sizeof err) != DB_OK)
        fail_msg("%s: %s", stmt, err);
    long long n = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
    PQclear(res);
    return n;
}

static void retention_deletes_exactly_the_old_rows(void **state)
{
    (void)state;
    if (conn == NULL)
        skip();
    const char *env = getenv("PROPERTY_SEED");
    uint64_t seed = env != NULL && *env ? strtoull(env, NULL, 10) : (uint64_t)time(NULL);
    exec_ok("INSERT INTO assets (symbol, name, asset_type, currency, provider, provider_symbol)"
            " SELECT 'RP' || i, 'rp', 'stock', 'USD', 'yahoo', 'RP' || i"
            " FROM generate_series(1, 5) i");
    exec_ok("CREATE TEMP TABLE IF NOT EXISTS ages (i int, m int, a int)");
    for (int c = 0; c < 100; c++) {
        prop_state = seed * 1000003u + (uint64_t)c;
        int days = 1 + (int)prop_rnd(45), batch = 1 + (int)prop_rnd(60);
        int rows = (int)prop_rnd(250);
        exec_ok("TRUNCATE fetcher_logs, price_update_log, fetcher_statistics, asset_prices");
        /* this case's "now", and the minutes from the start of the bound's
         * UTC day to the bound */
        char now[64], q[1024];
        /* floor, not a cast: a cast rounds, and half a minute's rounding
         * would put a row on the wrong side of the day's start */
        PGresult *r =
            PQexec(conn, "SELECT now()::text, floor(extract(epoch FROM now() - (date_trunc("
                         "'day', now() AT TIME ZONE 'UTC') AT TIME ZONE 'UTC')))::int");
        assert_int_equal(PQresultStatus(r), PGRES_TUPLES_OK);
        snprintf(now, sizeof now, "%s", PQgetvalue(r, 0, 0));
        int into_day = (int)strtol(PQgetvalue(r, 0, 1), NULL, 10) / 60;
        PQclear(r);
        /* one row of each table per generated age (minutes, up to 60
         * days); a third of them a minute either side of the bound or of
         * the start of its day. A row is older than the bound exactly when
         * its age is over days * 1440 minutes (one aged exactly that is
         * older by the time retention runs, for the tables that use the
         * database's clock); it is in a day older than the bound's when
         * its age is over days * 1440 + into_day. */
        exec_ok("TRUNCATE ages");
        static char ins[64 + 250 * 40];
        size_t off = (size_t)snprintf(ins, sizeof ins, "INSERT INTO ages VALUES (0, 0, 1)");
        for (int i = 1; i <= rows; i++) {
            int edge = prop_rnd(2) == 0 ? days * 1440 : days * 1440 + into_day;
            /* the others within four days of the bound: each day is a
             * partition to make and drop, and those far off test nothing
             * the near ones do not */
            int lo = days > 4 ? (days - 4) * 1440 : 0;
            int m = prop_rnd(3) == 0 ? edge + (int)prop_rnd(3) - 1
                                     : lo + (int)prop_rnd((uint32_t)((days + 4) * 1440 - lo));
            off +=
                (size_t)snprintf(ins + off, sizeof ins - off, ",(%d,%d,%u)", i, m, prop_rnd(5) + 1);
        }
        exec_ok(ins);
        snprintf(q, sizeof q,
                 "INSERT INTO fetcher_logs (\"timestamp\", level, message, instance_id, seq)"
                 " SELECT '%s'::timestamptz - make_interval(mins => m),"
                 " (ARRAY['DEBUG', 'INFO', 'ERROR'])[1 + i %% 3], 'p', 'prop', i FROM ages",
                 now);
        exec_ok(q);
        snprintf(q, sizeof q,
                 "INSERT INTO price_update_log (\"timestamp\", symbol, success, instance_id, seq)"
                 " SELECT '%s'::timestamptz - make_interval(mins => m), 'RP', true, 'prop', i"
                 " FROM ages",
                 now);
        exec_ok(q);
        exec_ok(
            "INSERT INTO fetcher_statistics (instance_id, recorded_at, uptime_seconds,"
            " total_cycles, successful_cycles, failed_cycles, success_rate, assets_tracked, seq)"
            " SELECT 'prop', now() - make_interval(mins => m), 1, 1, 1, 0, 100, 1, i FROM ages");
        exec_ok(
            "INSERT INTO asset_prices (asset_id, price, currency, price_time, fetched_at,"
            " source, instance_id, seq) SELECT a.id, 1, 'USD', now() - make_interval(mins => m),"
            " now() - make_interval(mins => m), 'yahoo', 'prop', i"
            " FROM ages JOIN assets a ON a.symbol = 'RP' || ages.a");
        /* what must stay, computed from the ages, not by the statements */
        snprintf(q, sizeof q, "SELECT count(*) FROM ages WHERE m < %d * 1440", days);
        long long young = count_of(q);
        snprintf(q, sizeof q, "SELECT count(*) FROM ages WHERE m <= %d * 1440 + %d", days,
                 into_day);
        long long in_kept_days = count_of(q);
        /* assets whose newest row (least age) is past the bound keep it */
        snprintf(q, sizeof q,
                 "SELECT count(*) FROM (SELECT a, min(m) AS m FROM ages GROUP BY a) n"
                 " WHERE n.m >= %d * 1440",
                 days);
        long long old_newest = count_of(q);
        long long gone_logs = retain_partitions(SQL_RETAIN_LOGS, days, now);
        long long gone_upd = retain_partitions(SQL_RETAIN_UPDATES, days, now);
        (void)retain_all(SQL_RETAIN_STATS, days, batch);
        (void)retain_all(SQL_RETAIN_PRICES, days, batch);
        static const char *const part[] = {"fetcher_logs", "price_update_log"};
        long long gone[] = {gone_logs, gone_upd};
        for (size_t t = 0; t < 2; t++) {
            snprintf(q, sizeof q, "SELECT count(*) FROM %s", part[t]);
            long long n = count_of(q);
            if (n != in_kept_days || gone[t] != rows + 1 - in_kept_days)
                fail_msg("seed %llu case %d (%d days, %d rows, %d min into the day): %s keeps"
                         " %lld, said %lld went; want %lld kept",
                         (unsigned long long)seed, c, days, rows, into_day, part[t], n, gone[t],
                         in_kept_days);
            /* no partition of a day wholly older than the bound is left */
            snprintf(q, sizeof q,
                     "SELECT count(*) FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid"
                     " WHERE i.inhparent = '%s'::regclass AND c.relname ~ '_p[0-9]{8}$'"
                     " AND (to_date(right(c.relname, 8), 'YYYYMMDD') + 1)::timestamp"
                     "  AT TIME ZONE 'UTC' <= '%s'::timestamptz - make_interval(days => %d)",
                     part[t], now, days);
            if (count_of(q) != 0)
                fail_msg("seed %llu case %d: a partition of %s older than %d days is left",
                         (unsigned long long)seed, c, part[t], days);
        }
        if (count_of("SELECT count(*) FROM fetcher_logs") !=
            count_of("SELECT coalesce(sum(n), 0) FROM fetcher_log_counts"))
            fail_msg("seed %llu case %d: fetcher_log_counts no longer adds up",
                     (unsigned long long)seed, c);
        long long st = count_of("SELECT count(*) FROM fetcher_statistics");
        if (st != young)
            fail_msg("seed %llu case %d (%d days, batch %d): fetcher_statistics %lld, want %lld",
                     (unsigned long long)seed, c, days, batch, st, young);
        long long p = count_of("SELECT count(*) FROM asset_prices");
        if (p != young + old_newest)
            fail_msg("seed %llu case %d (%d days, batch %d): asset_prices %lld, want %lld young"
                     " + %lld newest-of-an-asset",
                     (unsigned long long)seed, c, days, batch, p, young, old_newest);
        snprintf(q, sizeof q,
                 "SELECT count(*) FROM assets a WHERE a.symbol LIKE 'RP%%' AND"
                 " EXISTS (SELECT 1 FROM ages WHERE 'RP' || ages.a = a.symbol) AND NOT EXISTS"
                 " (SELECT 1 FROM asset_prices p WHERE p.asset_id = a.id)");
        if (count_of(q) != 0)
            fail_msg("seed %llu case %d: an asset lost its newest price", (unsigned long long)seed,
                     c);
    }
}

/* ---- the fleet's statements ---------------------------------------------- */

static PGresult *run_on(PGconn *c, const char *name, int n, const char *const *params)
{
    PGresult *res = NULL;
    char err[512];
    if (db_exec(c, name, n, params, &res, err, sizeof err) != DB_OK)
        fail_msg("%s: %s", name, err);
    return res;
}

static void fleet_setup_assets(void)
{
    exec_ok("DELETE FROM fetcher_work");
    exec_ok("INSERT INTO assets (symbol, name, asset_type, currency, provider, provider_symbol)"
            " SELECT 'FL' || i, 'Fleet ' || i, 'stock', 'USD', 'yahoo', 'FL' || i"
            " FROM generate_series(1, 50) i ON CONFLICT DO NOTHING");
    exec_ok("INSERT INTO tracked_assets (asset_id) SELECT id FROM assets WHERE symbol LIKE 'FL%'"
            " ON CONFLICT DO NOTHING");
}

static const char *fl_plan_doc(const char *who, int seq)
{
    static char doc[256];
    snprintf(doc, sizeof doc,
             "{\"instance_id\":\"%s\",\"seq\":%d,\"trigger\":\"manual\",\"check_s\":60,"
             "\"bounds\":{},\"default_s\":60,\"market_hours\":false,\"honour\":false,"
             "\"full_check\":true}",
             who, seq);
    return doc;
}

/* Only the lease's holder opens a cycle: a plan that arrives after the
 * lease went to another instance writes nothing. */
static void fleet_plan_needs_the_lease(void **state)
{
    (void)state;
    if (conn == NULL)
        skip();
    fleet_setup_assets();
    exec_ok("UPDATE fetcher_lease SET holder = 'fl-b', expires_at = now() + interval '1 minute'");
    const char *p1[1] = {fl_plan_doc("fl-a", 1)};
    PGresult *r = run_on(conn, SQL_FLEET_PLAN, 1, p1);
    assert_int_equal(PQntuples(r), 1);
    assert_true(PQgetisnull(r, 0, 0));             /* no cycle */
    assert_string_equal(PQgetvalue(r, 0, 2), "f"); /* the lease is not ours */
    PQclear(r);
    assert_int_equal(count_of("SELECT count(*) FROM fetcher_cycles WHERE instance_id = 'fl-a'"), 0);
    assert_int_equal(count_of("SELECT count(*) FROM fetcher_work"), 0);
    const char *p2[1] = {fl_plan_doc("fl-b", 1)};
    r = run_on(conn, SQL_FLEET_PLAN, 1, p2);
    assert_int_equal(PQntuples(r), 1);
    assert_false(PQgetisnull(r, 0, 0));
    PQclear(r);
    assert_int_equal(count_of("SELECT count(*) FROM fetcher_work"),
                     count_of("SELECT count(*) FROM tracked_assets"));
}

/* Two instances claiming at the same instant (the first's transaction
 * still open, its rows locked) take disjoint chunks of at most a batch;
 * claims go on until every row is someone's, none twice. */
static void fleet_claims_at_once_are_disjoint(void **state)
{
    (void)state;
    if (conn == NULL || conn2 == NULL)
        skip();
    const char *batch = "{\"yahoo\": 7, \"coingecko\": 7, \"fx\": 7}";
    /* one batch a chunk, two live instances */
    const char *pa[4] = {"fl-a", batch, "1", "2"}, *pb[4] = {"fl-b", batch, "1", "2"};
    long long total = count_of("SELECT count(*) FROM fetcher_work");
    assert_true(total > 14);
    exec_ok("BEGIN");
    PGresult *ra = run_on(conn, SQL_FLEET_CLAIM, 4, pa);
    PGresult *rb = run_on(conn2, SQL_FLEET_CLAIM, 4, pb); /* while a's locks hold */
    assert_true(PQntuples(ra) > 0 && PQntuples(ra) <= 7);
    assert_true(PQntuples(rb) > 0 && PQntuples(rb) <= 7);
    for (int i = 0; i < PQntuples(ra); i++)
        for (int j = 0; j < PQntuples(rb); j++)
            if (strcmp(PQgetvalue(ra, i, 0), PQgetvalue(rb, j, 0)) == 0)
                fail_msg("asset %s claimed by both", PQgetvalue(ra, i, 0));
    PQclear(ra);
    PQclear(rb);
    exec_ok("COMMIT");
    for (int round = 0; round < 100; round++) {
        PGresult *r = run_on(round % 2 ? conn2 : conn, SQL_FLEET_CLAIM, 4, round % 2 ? pb : pa);
        int n = PQntuples(r);
        PQclear(r);
        if (n == 0)
            break;
    }
    assert_int_equal(count_of("SELECT count(*) FROM fetcher_work WHERE owner IS NULL"), 0);
    assert_int_equal(count_of("SELECT count(*) FROM fetcher_work"), total);
}

static char *fl_result_doc(const char *who, long long cycle, long long asset, int seq)
{
    static char doc[512];
    snprintf(doc, sizeof doc,
             "[{\"asset_id\":%lld,\"symbol\":\"FL\",\"ok\":true,\"price\":1.5,"
             "\"currency\":\"USD\",\"price_time\":\"2026-12-06T01:00:00Z\",\"error\":null,"
             "\"duration_ms\":1,\"instance_id\":\"%s\",\"seq\":%d,\"price_seq\":%d,"
             "\"cycle_seq\":%lld,\"ts\":\"2026-12-06T01:00:00Z\",\"source\":\"yahoo\","
             "\"failover_reason\":null,\"time_basis\":\"market\"}]",
             asset, who, seq, seq + 1, -cycle);
    return doc;
}

/* A result is recorded only while its claim is the recorder's: after the
 * claim went back to the pool and to another instance, the first one's
 * late row is refused and the second one's recorded; sent twice, once. */
static void fleet_record_only_while_the_claim_holds(void **state)
{
    (void)state;
    if (conn == NULL)
        skip();
    long long cycle = count_of("SELECT max(cycle_id) FROM fetcher_work");
    long long asset = count_of("SELECT min(asset_id) FROM fetcher_work WHERE owner = 'fl-a'");
    exec_ok("UPDATE fetcher_work SET owner = 'fl-b' WHERE owner = 'fl-a'"); /* reaped, retaken */
    const char *late[1] = {fl_result_doc("fl-a", cycle, asset, 100)};
    exec_stmt(SQL_RECORD_UPDATES, 1, late);
    char q[160];
    snprintf(q, sizeof q, "SELECT count(*) FROM price_update_log WHERE cycle_id = %lld", cycle);
    assert_int_equal(count_of(q), 0);
    assert_int_equal(count_of("SELECT count(*) FROM fetcher_work WHERE done_at IS NOT NULL"), 0);
    const char *mine[1] = {fl_result_doc("fl-b", cycle, asset, 200)};
    exec_stmt(SQL_RECORD_UPDATES, 1, mine);
    exec_stmt(SQL_RECORD_UPDATES, 1, mine);
    assert_int_equal(count_of(q), 1);
    assert_int_equal(count_of("SELECT count(*) FROM fetcher_work WHERE done_at IS NOT NULL"), 1);
}

/* The finish check closes the cycle only when no work is open, once
 * however many instances run it, and removes the cycle's work. */
static void fleet_finish_once_when_nothing_is_open(void **state)
{
    (void)state;
    if (conn == NULL || conn2 == NULL)
        skip();
    long long cycle = count_of("SELECT max(cycle_id) FROM fetcher_work");
    char id[24];
    snprintf(id, sizeof id, "%lld", cycle);
    const char *p[2] = {id, "3"};
    PGresult *r = run_on(conn, SQL_FLEET_FINISH, 2, p);
    assert_int_equal(PQntuples(r), 0); /* claimed, not done */
    PQclear(r);
    exec_ok("UPDATE fetcher_work SET done_at = now(), success = (asset_id % 2 = 0)"
            " WHERE done_at IS NULL AND asset_id <> (SELECT max(asset_id) FROM fetcher_work)");
    r = run_on(conn, SQL_FLEET_FINISH, 2, p);
    assert_int_equal(PQntuples(r), 0); /* one still claimed */
    PQclear(r);
    exec_ok("UPDATE fetcher_work SET owner = NULL WHERE done_at IS NULL"); /* back to the pool */
    r = run_on(conn, SQL_FLEET_FINISH, 2, p);
    assert_int_equal(PQntuples(r), 0); /* one open */
    PQclear(r);
    exec_ok("UPDATE fetcher_work SET done_at = now(), success = true WHERE done_at IS NULL");
    long long ok = count_of("SELECT count(*) FROM fetcher_work WHERE success");
    long long failed = count_of("SELECT count(*) FROM fetcher_work WHERE NOT success");
    exec_ok("BEGIN");
    r = run_on(conn, SQL_FLEET_FINISH, 2, p);
    assert_int_equal(PQntuples(r), 1);
    assert_int_equal(strtoll(PQgetvalue(r, 0, 4), NULL, 10), ok);
    assert_int_equal(strtoll(PQgetvalue(r, 0, 5), NULL, 10), failed);
    assert_string_equal(PQgetvalue(r, 0, 3), "partial");
    PQclear(r);
    /* the other instance's check waits on the cycle row, then finds it
     * finished: sent now, answered after the commit */
    assert_int_equal(PQsendQueryPrepared(conn2, SQL_FLEET_FINISH, 2, p, NULL, NULL, 0), 1);
    exec_ok("COMMIT");
    int rows = -1;
    PGresult *x;
    while ((x = PQgetResult(conn2)) != NULL) {
        if (PQresultStatus(x) == PGRES_TUPLES_OK)
            rows = PQntuples(x);
        else
            fail_msg("second finish: %s", PQerrorMessage(conn2));
        PQclear(x);
    }
    assert_int_equal(rows, 0);
    char q[160];
    snprintf(q, sizeof q,
             "SELECT count(*) FROM fetcher_cycles WHERE id = %lld AND status = 'partial'"
             " AND upstream_requests = 4 * 3", /* each check added its chunk's requests */
             cycle);
    assert_int_equal(count_of(q), 1);
    assert_int_equal(count_of("SELECT count(*) FROM fetcher_work"), 0);
}

/* ---- the schedule's rule, as a property ------------------------------------
 * For 100 generated universes (40 tracked assets of random types, half
 * with their own bound — never, always, 45 s … 1 d —, last asked for at
 * random ages, a third of them within a second of their bound, some never)
 * and random FETCH_STALENESS bounds and check intervals, the daemon's own
 * statement (SQL_TRACKED_ASSETS over fetcher_due_assets) says an asset is
 * due exactly when staleness_due(), the rule the scheduler's unit test
 * drives, says so. Market hours off: that rule is market_hours.sh's. */

static int64_t own_bound(const char *own, const struct staleness *st, const char *type)
{
    int64_t s;
    if (own == NULL)
        return staleness_bound(st, type);
    if (strcmp(own, "never") == 0)
        return STALENESS_NEVER;
    if (strcmp(own, "always") == 0)
        return STALENESS_ALWAYS;
    if (util_parse_duration(own, 1, 365 * 86400, &s) != 0)
        fail_msg("bad own bound %s", own);
    return s;
}

static void due_rule_is_the_schedulers(void **state)
{
    (void)state;
    if (conn == NULL)
        skip();
    const char *env = getenv("PROPERTY_SEED");
    uint64_t seed = env != NULL && *env ? strtoull(env, NULL, 10) : (uint64_t)time(NULL);
    enum { N = 40 };
    static const char *const owns[] = {"never", "always", "45s", "90s", "10m", "1h", "1d"};
    static const char *const specs[] = {"", "crypto=1m,stock=10m", "crypto=1m,stock=10m,bond=1d",
                                        "bond=never,fx=always", "etf=90s,fund=never"};
    static const int64_t checks[] = {1, 2, 30, 60, 600};
    exec_ok("INSERT INTO assets (symbol, name, asset_type, currency, provider, provider_symbol)"
            " SELECT 'DP' || i, 'dp', 'stock', 'USD', 'yahoo', 'DP' || i"
            " FROM generate_series(1, 40) i");
    exec_ok("DELETE FROM tracked_assets");
    exec_ok("INSERT INTO tracked_assets (asset_id) SELECT id FROM assets WHERE symbol LIKE 'DP%'");
    for (int c = 0; c < 100; c++) {
        prop_state = seed * 1000003u + (uint64_t)c;
        struct staleness st;
        char err[200], bounds[512], q[512];
        int64_t def = 60 + 60 * (int64_t)prop_rnd(20);
        const char *spec = specs[prop_rnd(ARRAY_LEN(specs))];
        if (staleness_parse(spec, def, &st, err, sizeof err) != 0 ||
            staleness_json(&st, bounds, sizeof bounds) != 0)
            fail_msg("%s", err);
        int64_t check = checks[prop_rnd(ARRAY_LEN(checks))];
        const char *type[N], *own[N];
        int64_t ago_ms[N];
        exec_ok("BEGIN");
        for (int i = 0; i < N; i++) {
            type[i] = staleness_type_names[prop_rnd(STALENESS_TYPES)];
            own[i] = prop_rnd(2) ? owns[prop_rnd(ARRAY_LEN(owns))] : NULL;
            int64_t b = own_bound(own[i], &st, type[i]);
            int64_t edge = (b > 0 ? b * 1000 : 60000) - check * 500;
            uint32_t k = prop_rnd(10);
            ago_ms[i] = k == 0  ? -1
                        : k < 4 ? edge + (int64_t)prop_rnd(2001) - 1000
                                : (int64_t)prop_rnd(3 * 86400) * 1000;
            if (ago_ms[i] < -1)
                ago_ms[i] = 0;
            snprintf(
                q, sizeof q,
                "UPDATE assets SET asset_type = '%s', staleness = %s%s%s WHERE symbol = 'DP%d'",
                type[i], own[i] ? "'" : "", own[i] ? own[i] : "NULL", own[i] ? "'" : "", i + 1);
            exec_ok(q);
            if (ago_ms[i] < 0)
                snprintf(q, sizeof q,
                         "UPDATE tracked_assets t SET last_attempt_at = NULL FROM assets a"
                         " WHERE a.id = t.asset_id AND a.symbol = 'DP%d'",
                         i + 1);
            else
                snprintf(q, sizeof q,
                         "UPDATE tracked_assets t SET last_attempt_at = now() - make_interval("
                         "secs => %lld / 1000.0) FROM assets a WHERE a.id = t.asset_id AND"
                         " a.symbol = 'DP%d'",
                         (long long)ago_ms[i], i + 1);
            exec_ok(q);
        }
        char s_check[24], s_def[24];
        snprintf(s_check, sizeof s_check, "%lld", (long long)check);
        snprintf(s_def, sizeof s_def, "%lld", (long long)def);
        const char *params[4] = {s_check, bounds, s_def, "false"};
        PGresult *res = NULL;
        if (db_exec(conn, SQL_TRACKED_ASSETS, 4, params, &res, err, sizeof err) != DB_OK)
            fail_msg("%s", err);
        exec_ok("COMMIT");
        assert_int_equal(PQntuples(res), N);
        for (int r = 0; r < N; r++) {
            int i = (int)strtol(PQgetvalue(res, r, 1) + 2, NULL, 10) - 1;
            int sql_due = strcmp(PQgetvalue(res, r, 9), "t") == 0;
            int c_due = staleness_due(ago_ms[i], own_bound(own[i], &st, type[i]), check);
            if (sql_due != c_due)
                fail_msg("seed %llu case %d: DP%d (%s, own %s, spec '%s', default %llds, check"
                         " %llds, asked %lld ms ago): SQL says %s, the rule %s",
                         (unsigned long long)seed, c, i + 1, type[i], own[i] ? own[i] : "-", spec,
                         (long long)def, (long long)check, (long long)ago_ms[i],
                         sql_due ? "due" : "not due", c_due ? "due" : "not due");
        }
        PQclear(res);
    }
    exec_ok("DELETE FROM tracked_assets");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(every_insert_is_idempotent),
        cmocka_unit_test(persist_stats_sent_twice_is_one_row),
        cmocka_unit_test(logs_and_updates_sent_twice_are_one_row),
        cmocka_unit_test(retention_deletes_exactly_the_old_rows),
        cmocka_unit_test(fleet_plan_needs_the_lease),
        cmocka_unit_test(fleet_claims_at_once_are_disjoint),
        cmocka_unit_test(fleet_record_only_while_the_claim_holds),
        cmocka_unit_test(fleet_finish_once_when_nothing_is_open),
        cmocka_unit_test(due_rule_is_the_schedulers),
    };
    return cmocka_run_group_tests_name("sql", tests, db_setup, db_teardown);
}
