/*
 * Unit tests of daemon/writer.c's buffer while the database is away: a
 * dbconn pointed at a port where nothing listens stays down, so every
 * statement waits in the buffer and the drop rules can be watched one
 * statement at a time. What is written once the database is back is the
 * integration tests' business (buffer_full, db_outage).
 */
#include "alloc_fail.h"
#include "dbconn.h"
#include "loop.h"
#include "writer.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

struct wr_test_op {
    int done;    /* the callback ran */
    int written; /* with this */
};

static void on_done(int written, const PGresult *res, void *cls)
{
    (void)res;
    struct wr_test_op *t = cls;
    t->done++;
    t->written = written;
}

struct wr_fixture {
    struct loop *loop;
    struct dbconn *db;
    struct writer *w;
};

static void fx_open(struct wr_fixture *f, size_t max_rows)
{
    f->loop = loop_new();
    assert_non_null(f->loop);
    /* port 1: connection refused at once, and the dbconn stays down */
    f->db = dbconn_new(f->loop, "postgresql://nobody@127.0.0.1:1/none", NULL, 0, NULL, NULL);
    assert_non_null(f->db);
    f->w = writer_new(f->loop, f->db, "test-instance", max_rows);
    assert_non_null(f->w);
}

static void fx_close(struct wr_fixture *f)
{
    dbconn_free(f->db);
    writer_free(f->w);
    loop_free(f->loop);
}

static void submit(struct wr_fixture *f, int64_t unit, enum writer_kind kind, const char *stmt,
                   size_t rows, struct wr_test_op *t)
{
    char *p = strdup("[]");
    assert_non_null(p);
    assert_int_equal(writer_submit_take(f->w, kind, stmt, p, rows, unit, on_done, t), 0);
}

/* The buffer is exactly full when the next cycle's one-row start arrives:
 * the oldest cycle goes as a whole, its results with its row, and what it
 * submits later is dropped on arrival. Dropping only its start (enough
 * room for one row) would leave its results to be written without a
 * cycle. */
static void test_full_buffer_drops_a_cycle_whole(void **state)
{
    (void)state;
    struct wr_fixture f;
    fx_open(&f, 100);
    struct wr_test_op start7 = {0}, upd7 = {0}, fin7 = {0}, start8 = {0}, upd8 = {0}, start9 = {0};
    submit(&f, 7, WRITE_PRICES, "cycle_start", 1, &start7);
    submit(&f, 7, WRITE_PRICES, "record_updates", 49, &upd7);
    submit(&f, 8, WRITE_PRICES, "cycle_start", 1, &start8);
    submit(&f, 8, WRITE_PRICES, "record_updates", 49, &upd8);
    struct writer_stats st;
    writer_get_stats(f.w, &st);
    assert_int_equal(st.buffered_rows, 100);
    assert_int_equal(start7.done + upd7.done + start8.done + upd8.done, 0);

    submit(&f, 9, WRITE_PRICES, "cycle_start", 1, &start9);
    assert_int_equal(start7.done, 1);
    assert_int_equal(start7.written, 0);
    assert_int_equal(upd7.done, 1); /* with its cycle, not later without it */
    assert_int_equal(upd7.written, 0);
    assert_int_equal(start8.done + upd8.done + start9.done, 0);
    writer_get_stats(f.w, &st);
    assert_int_equal(st.buffered_rows, 51);
    assert_int_equal(st.dropped_rows, 50);

    /* cycle 7's last statement finds its cycle gone and follows it */
    submit(&f, 7, WRITE_PRICES, "cycle_finish", 1, &fin7);
    assert_int_equal(fin7.done, 1);
    assert_int_equal(fin7.written, 0);
    writer_get_stats(f.w, &st);
    assert_int_equal(st.buffered_rows, 51);
    fx_close(&f);
}

/* Statements of no unit (logs, other data) still go one at a time, and
 * before any cycle's. */
static void test_other_kinds_go_first_and_alone(void **state)
{
    (void)state;
    struct wr_fixture f;
    fx_open(&f, 100);
    struct wr_test_op start = {0}, upd = {0}, d1 = {0}, d2 = {0}, start2 = {0};
    submit(&f, 3, WRITE_PRICES, "cycle_start", 1, &start);
    submit(&f, 3, WRITE_PRICES, "record_updates", 60, &upd);
    submit(&f, 0, WRITE_DATA, "record_rates", 20, &d1);
    submit(&f, 0, WRITE_DATA, "record_rates", 19, &d2);
    submit(&f, 4, WRITE_PRICES, "cycle_start", 1, &start2);
    assert_int_equal(d1.done, 1);
    assert_int_equal(d1.written, 0);
    assert_int_equal(d2.done + start.done + upd.done + start2.done, 0);
    fx_close(&f);
}

/* The new statement's own cycle may be the one that has to go. */
static void test_own_cycle_dropped_to_make_room(void **state)
{
    (void)state;
    struct wr_fixture f;
    fx_open(&f, 100);
    struct wr_test_op start = {0}, upd = {0}, upd2 = {0};
    submit(&f, 5, WRITE_PRICES, "cycle_start", 1, &start);
    submit(&f, 5, WRITE_PRICES, "record_updates", 99, &upd);
    submit(&f, 5, WRITE_PRICES, "record_updates", 10, &upd2);
    assert_int_equal(start.done + upd.done + upd2.done, 3);
    assert_int_equal(start.written + upd.written + upd2.written, 0);
    struct writer_stats st;
    writer_get_stats(f.w, &st);
    assert_int_equal(st.buffered_rows, 0);
    fx_close(&f);
}

/* Out of memory printing a log line's context (json-c's printer returns
 * NULL): the line still goes out, saying so, never "(null)". */
static void test_log_context_out_of_memory(void **state)
{
    (void)state;
    struct wr_fixture f;
    fx_open(&f, 100);
    json_object *ctx = json_object_new_object();
    json_object_object_add(ctx, "symbol", json_object_new_string("AAPL"));
    FILE *out = tmpfile();
    assert_non_null(out);
    fflush(stdout);
    int saved = dup(1);
    assert_true(saved >= 0);
    assert_true(dup2(fileno(out), 1) >= 0);
    af_arm_only("json_object_to_json_string_ext", 1);
    writer_log(f.w, LOG_WARNING, 0, ctx, "a line with a context");
    int failed = af_failed();
    af_disarm();
    fflush(stdout);
    assert_true(dup2(saved, 1) >= 0);
    close(saved);
    char text[512] = "";
    rewind(out);
    size_t n = fread(text, 1, sizeof text - 1, out);
    text[n] = '\0';
    fclose(out);
    assert_true(failed);
    assert_non_null(strstr(text, "a line with a context (context not printed: out of memory)"));
    assert_null(strstr(text, "(null)"));
    fx_close(&f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_full_buffer_drops_a_cycle_whole),
        cmocka_unit_test(test_other_kinds_go_first_and_alone),
        cmocka_unit_test(test_own_cycle_dropped_to_make_room),
        cmocka_unit_test(test_log_context_out_of_memory),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
