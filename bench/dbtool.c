/*
 * dbtool — two things bench/scale.sh needs from the programs' own SQL:
 *
 *   dbtool sql
 *       prints every statement of fetcher-api (api/sql.c) and of fetcherd
 *       (daemon/sql.c) as "PREPARE name AS …;" lines, so psql can EXPLAIN
 *       (ANALYZE, BUFFERS) EXECUTE exactly what the programs run.
 *   dbtool write ROWS INSTANCE CYCLE_SEQ
 *       writes one cycle of ROWS per-asset results (assets 1..ROWS) the way
 *       fetcherd does: its cycle_start row, then record_updates in chunks of
 *       RECORD_CHUNK_ROWS, each one JSONB batch (daemon/record.c's shape),
 *       then cycle_finish; prints "write_ms <ms> statements <n>" (the
 *       record_updates statements only). DATABASE_URL names the database.
 *
 * Not a test: no assertion beyond "the statements succeeded".
 */
#include "../api/sql.h"
#include "db.h"
#include "jbuf.h"
#include "util.h"

#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* daemon/sql.h: included by name it would collide with api/sql.h */
extern const struct db_stmt sql_statements[];
extern const size_t sql_statement_count;

/* daemon/record.c's chunk size */
#define RECORD_CHUNK_ROWS 500

static double dbt_now_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec * 1000.0 + (double)t.tv_nsec / 1e6;
}

static void dbt_print(const struct db_stmt *s)
{
    printf("PREPARE %s AS %s;\n", s->name, s->sql);
}

static int dbt_sql(void)
{
    for (size_t i = 0; i < SQL_COUNT_; i++)
        dbt_print(&api_sql[i]);
    for (size_t i = 0; i < sql_statement_count; i++)
        dbt_print(&sql_statements[i]);
    return 0;
}

static int dbt_exec(PGconn *c, const char *name, const char *param)
{
    PGresult *r = NULL;
    char err[512];
    const char *params[1] = {param};
    if (db_exec(c, name, 1, params, &r, err, sizeof err) != DB_OK) {
        fprintf(stderr, "dbtool: %s\n", err);
        return -1;
    }
    PQclear(r);
    return 0;
}

static int dbt_write(long rows, const char *instance, long cycle_seq)
{
    const char *url = getenv("DATABASE_URL");
    char err[512];
    PGconn *c = db_connect(url != NULL ? url : "", "dbtool", 0, err, sizeof err);
    if (c == NULL) {
        fprintf(stderr, "dbtool: %s\n", err);
        return 1;
    }
    int rc = 1;
    if (db_prepare_all(c, sql_statements, sql_statement_count, err, sizeof err) != DB_OK) {
        fprintf(stderr, "dbtool: %s\n", err);
        goto out;
    }
    char ts[32];
    util_fmt_time(util_wall_ms(), ts, sizeof ts);
    char doc[512];
    snprintf(doc, sizeof doc,
             "{\"instance_id\":\"%s\",\"seq\":%ld,\"trigger\":\"schedule\",\"started_at\":\"%s\","
             "\"assets_total\":%ld}",
             instance, cycle_seq, ts, rows);
    if (dbt_exec(c, "cycle_start", doc) != 0)
        goto out;
    int64_t seq = util_wall_ms() * 1000;
    double ms = 0;
    int statements = 0;
    for (long from = 1; from <= rows; from += RECORD_CHUNK_ROWS) {
        struct jbuf b;
        jbuf_init(&b);
        jbuf_arr(&b);
        for (long a = from; a < from + RECORD_CHUNK_ROWS && a <= rows; a++) {
            char sym[24];
            snprintf(sym, sizeof sym, "S%ld", a);
            int ok = a % 50 != 0;
            jbuf_obj(&b);
            jbuf_key(&b, "asset_id");
            jbuf_int(&b, a);
            jbuf_key(&b, "symbol");
            jbuf_str(&b, sym);
            jbuf_key(&b, "ok");
            jbuf_bool(&b, ok);
            jbuf_key(&b, "price");
            if (ok)
                jbuf_num(&b, 100.0 + (double)(a % 997) / 7.0 + (double)(cycle_seq % 13));
            else
                jbuf_null(&b);
            jbuf_key(&b, "currency");
            jbuf_str(&b, "USD");
            jbuf_key(&b, "price_time");
            jbuf_str(&b, ok ? ts : NULL);
            jbuf_key(&b, "error");
            jbuf_str(&b, ok ? NULL : "HTTP 503 from yahoo");
            jbuf_key(&b, "duration_ms");
            jbuf_int(&b, 40 + a % 60);
            jbuf_key(&b, "instance_id");
            jbuf_str(&b, instance);
            jbuf_key(&b, "seq");
            jbuf_int(&b, ++seq);
            jbuf_key(&b, "price_seq");
            jbuf_int(&b, ++seq);
            jbuf_key(&b, "cycle_seq");
            jbuf_int(&b, cycle_seq);
            jbuf_key(&b, "ts");
            jbuf_str(&b, ts);
            jbuf_key(&b, "source");
            jbuf_str(&b, "yahoo");
            jbuf_key(&b, "failover_reason");
            jbuf_null(&b);
            if (ok) {
                jbuf_key(&b, "time_basis");
                jbuf_str(&b, "market");
                jbuf_key(&b, "quoted_currency");
                jbuf_null(&b);
            }
            jbuf_obj_end(&b);
        }
        jbuf_arr_end(&b);
        char *json = jbuf_take(&b);
        jbuf_free(&b);
        if (json == NULL) {
            fprintf(stderr, "dbtool: out of memory\n");
            goto out;
        }
        double t0 = dbt_now_ms();
        int st = dbt_exec(c, "record_updates", json);
        ms += dbt_now_ms() - t0;
        free(json);
        if (st != 0)
            goto out;
        statements++;
    }
    snprintf(doc, sizeof doc,
             "{\"instance_id\":\"%s\",\"seq\":%ld,\"status\":\"succeeded\",\"finished_at\":\"%s\","
             "\"duration_ms\":1000,\"assets_total\":%ld,\"assets_succeeded\":%ld,"
             "\"assets_failed\":%ld,\"assets_skipped\":0,\"upstream_requests\":%ld,"
             "\"error\":null}",
             instance, cycle_seq, ts, rows, rows - rows / 50, rows / 50, rows / 20 + 1);
    if (dbt_exec(c, "cycle_finish", doc) != 0)
        goto out;
    printf("write_ms %.1f statements %d\n", ms, statements);
    rc = 0;
out:
    PQfinish(c);
    return rc;
}

int main(int argc, char **argv)
{
    if (argc == 2 && strcmp(argv[1], "sql") == 0)
        return dbt_sql();
    if (argc == 5 && strcmp(argv[1], "write") == 0) {
        int64_t rows, seq;
        if (util_parse_i64(argv[2], 1, 10000000, &rows) != 0 ||
            util_parse_i64(argv[4], 1, INT64_MAX, &seq) != 0) {
            fprintf(stderr, "dbtool write: ROWS and CYCLE_SEQ are positive integers\n");
            return 2;
        }
        return dbt_write((long)rows, argv[3], (long)seq);
    }
    fprintf(stderr, "usage: dbtool sql | dbtool write ROWS INSTANCE CYCLE_SEQ\n");
    return 2;
}
