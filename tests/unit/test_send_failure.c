/*
 * The synchronous send failure, at the daemon's level: the real writer and
 * heartbeat (and scheduler, dbconn, loop; tests/unit/daemon_rig.c) against
 * a database of the test's own in tests/run.sh's PostgreSQL (skipped
 * without PGLOCAL_PORT), reached through a relay that says goodbye and
 * stops reading (tests/unit/pg_fault.c). The writer's next batch is
 * larger than the socket buffers, so PQsendQueryPrepared fails inside
 * dbconn_query, while the writer is still sending it. dbconn must deliver
 * that failure from the loop: delivered inside the call, the writer's
 * in-flight mark would be set after its callback had cleared it, and
 * neither writes nor heartbeats (which go through the writer) would ever
 * be sent again. Here both must resume once the database is back, and the
 * batch be written exactly once.
 */
#include "daemon_rig.h"
#include "heartbeat.h"
#include "jbuf.h"
#include "log.h"
#include "scheduler.h"
#include "sql.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

static PGconn *db;
static char dbname[64];

static int group_setup(void **state)
{
    (void)state;
    if (pgf_port() == 0) {
        fprintf(stderr, "PGLOCAL_PORT unset: run through tests/run.sh\n");
        return 0;
    }
    db = pgf_create_db("t_unit_sendfail", dbname, sizeof dbname);
    return db ? 0 : -1;
}

static int group_teardown(void **state)
{
    (void)state;
    if (db != NULL)
        pgf_drop_db(db, dbname);
    return 0;
}

/* Rows of the big batch, and the size of each message: 30 MB in all,
 * larger than any loopback socket buffer. */
#define SF_ROWS 3000
#define SF_MSG 10000

/* A log batch as writer_log makes them, SF_ROWS rows of SF_MSG bytes. */
static char *big_batch(struct writer *w, const char *instance)
{
    char *msg = malloc(SF_MSG + 1);
    assert_non_null(msg);
    memset(msg, 'x', SF_MSG);
    msg[SF_MSG] = '\0';
    char ts[32];
    util_fmt_time(util_wall_ms(), ts, sizeof ts);
    struct jbuf b;
    jbuf_init(&b);
    jbuf_arr(&b);
    for (int i = 0; i < SF_ROWS; i++) {
        jbuf_obj(&b);
        jbuf_key(&b, "ts");
        jbuf_str(&b, ts);
        jbuf_key(&b, "level");
        jbuf_str(&b, "INFO");
        jbuf_key(&b, "message");
        jbuf_str(&b, msg);
        jbuf_key(&b, "context");
        jbuf_null(&b);
        jbuf_key(&b, "instance_id");
        jbuf_str(&b, instance);
        jbuf_key(&b, "seq");
        jbuf_int(&b, writer_next_seq(w));
        jbuf_key(&b, "cycle_seq");
        jbuf_null(&b);
        jbuf_obj_end(&b);
    }
    jbuf_arr_end(&b);
    free(msg);
    char *p = jbuf_take(&b);
    assert_non_null(p);
    return p;
}

struct op {
    int done, written;
};

static void on_written(int written, const PGresult *res, void *cls)
{
    (void)res;
    struct op *o = cls;
    o->done++;
    o->written = written;
}

struct waiting {
    struct rig *r;
    struct op *op;
    const char *sql;
};

static int writes_done(void *cls)
{
    return rig_writes_done(((struct waiting *)cls)->r);
}

static int op_done(void *cls)
{
    return ((struct waiting *)cls)->op->done > 0;
}

static int db_says(void *cls)
{
    return pgf_value(db, ((struct waiting *)cls)->sql) == 1;
}

static void test_writes_and_heartbeats_resume(void **state)
{
    (void)state;
    if (db == NULL)
        skip();
    static const char *const extra[] = {"HEARTBEAT_INTERVAL=1", NULL};
    struct rig r;
    if (rig_open(&r, dbname, "t-send-fail", extra) != 0)
        fail_msg("the daemon's modules could not be wired");
    struct scheduler *s = scheduler_new(&r.d, 0, 0, NULL, NULL);
    assert_non_null(s);
    r.d.sched = s;
    struct heartbeat *hb = heartbeat_setup(&r.d, s);
    assert_non_null(hb);

    struct waiting w = {.r = &r,
                        .sql = "SELECT count(*) FROM fetcher_instances WHERE instance_id = "
                               "'t-send-fail' AND state = 'running'"};
    assert_true(rig_run_until(&r, db_says, &w, 5000)); /* the first heartbeat */
    assert_true(rig_run_until(&r, writes_done, &w, 5000));

    /* The server goes away while the loop is not looking; the writer's
     * next batch cannot fit in the socket. */
    pgr_half_close(r.relay);
    usleep(50 * 1000); /* the FIN reaches the writer's socket */
    struct op big = {0};
    char *batch = big_batch(r.d.writer, "t-send-fail");
    assert_int_equal(
        writer_submit_take(r.d.writer, WRITE_LOG, SQL_LOGS, batch, SF_ROWS, 0, on_written, &big),
        0);
    writer_flush(r.d.writer);
    /* The send failed inside that call (the connection is down already),
     * and no callback ran there. */
    assert_false(dbconn_is_up(r.d.db));
    assert_int_equal(big.done, 0);
    assert_int_equal(r.db_downs, 0);

    /* Reconnected (1 s backoff), the writer sends the batch again, and
     * the heartbeats (through the writer) go on. Both are waited for and
     * reported together, so a failure says which did not resume. */
    assert_int_equal(pgf_exec(db, "UPDATE fetcher_instances SET last_heartbeat = "
                                  "'2000-01-01' WHERE instance_id = 't-send-fail'"),
                     0);
    w.op = &big;
    int batch_ok = rig_run_until(&r, op_done, &w, 20000);
    w.sql = "SELECT count(*) FROM fetcher_instances WHERE instance_id = 't-send-fail' AND "
            "last_heartbeat > now() - interval '5 seconds'";
    int beat_ok = rig_run_until(&r, db_says, &w, 5000);
    if (!batch_ok || !beat_ok)
        fail_msg("after the reconnection: batch written %d, heartbeat refreshed %d", batch_ok,
                 beat_ok);
    assert_int_equal(big.done, 1);
    assert_int_equal(big.written, 1);
    assert_int_equal(r.db_downs, 1);
    assert_true(r.db_ups >= 2);
    assert_true(pgr_accepted(r.relay) >= 2);
    assert_int_equal(pgf_value(db, "SELECT count(*) FROM fetcher_logs WHERE instance_id = "
                                   "'t-send-fail' AND length(message) = 10000"),
                     SF_ROWS);

    /* Writes go on: a row logged now is written. */
    writer_log(r.d.writer, LOG_WARNING, 0, NULL, "written after the failure");
    w.sql = "SELECT count(*) FROM fetcher_logs WHERE instance_id = 't-send-fail' AND message = "
            "'written after the failure'";
    assert_true(rig_run_until(&r, db_says, &w, 5000));

    /* Heartbeats go on, again and again (HEARTBEAT_INTERVAL=1). */
    assert_int_equal(pgf_exec(db, "UPDATE fetcher_instances SET last_heartbeat = "
                                  "'2000-01-01' WHERE instance_id = 't-send-fail'"),
                     0);
    w.sql = "SELECT count(*) FROM fetcher_instances WHERE instance_id = 't-send-fail' AND "
            "last_heartbeat > now() - interval '5 seconds'";
    assert_true(rig_run_until(&r, db_says, &w, 5000));

    /* main.c's order: the writer runs the callbacks of what it still
     * holds (a heartbeat may be in flight), so it goes before their
     * owners, after the dbconn */
    dbconn_free(r.d.db);
    r.d.db = NULL;
    writer_free(r.d.writer);
    r.d.writer = NULL;
    heartbeat_free(hb);
    scheduler_free(s);
    rig_close(&r);
}

int main(void)
{
    if (getenv("SEND_FAILURE_DEBUG") == NULL)
        log_set_min_level(LOG_CRITICAL);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_writes_and_heartbeats_resume),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
