/*
 * Unit tests of daemon/cycle.c: a cycle's bookkeeping when fetches fail,
 * when the database refuses its rows, when the database goes away in the
 * middle of it or is away when it starts, and when fetcherd shuts down
 * during it. The real modules, wired as main.c wires them
 * (tests/unit/daemon_rig.c): the real queue, upstream and providers talk
 * HTTP over loopback to a server of the test's own that answers with the
 * real providers' recorded answers or fails; the real writer and dbconn
 * write to a database of the test's own in tests/run.sh's PostgreSQL
 * (skipped without PGLOCAL_PORT), through a relay the test can cut. Every
 * expectation is read back from the tables the API serves.
 */
#include "cycle.h"
#include "daemon_rig.h"
#include "log.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#define REAL "tests/fixtures/real/"

static PGconn *db;
static char dbname[64];
static char *spark_msft_aapl, *chart_404, *cg_bitcoin, *html_500;

static int group_setup(void **state)
{
    (void)state;
    if (pgf_port() == 0) {
        fprintf(stderr, "PGLOCAL_PORT unset: run through tests/run.sh\n");
        return 0;
    }
    db = pgf_create_db("t_unit_cycle", dbname, sizeof dbname);
    spark_msft_aapl =
        ws_fixture(REAL "yahoo_spark_v7_MSFT_AAPL_meta_2026-07-27_TRIMMED.json", NULL);
    chart_404 = ws_fixture(REAL "yahoo_chart_v8_404_unknown_symbol.json", NULL);
    cg_bitcoin = ws_fixture(REAL "coingecko_simple_price_bitcoin_usd_2025-10-12.json", NULL);
    html_500 = ws_fixture(REAL "yahoo_search_500_html_error_report_2025-11-10.html", NULL);
    return db && spark_msft_aapl && chart_404 && cg_bitcoin && html_500 ? 0 : -1;
}

static int group_teardown(void **state)
{
    (void)state;
    if (db != NULL)
        pgf_drop_db(db, dbname);
    free(spark_msft_aapl);
    free(chart_404);
    free(cg_bitcoin);
    free(html_500);
    return 0;
}

/* The tracked assets: symbols of the recordings (NVDA is in none). */
static void seed(const char *const *symbols)
{
    assert_int_equal(pgf_exec(db, "DELETE FROM assets"), 0);
    for (size_t i = 0; symbols[i]; i++) {
        char q[400];
        int crypto = strcmp(symbols[i], "BTC") == 0;
        snprintf(q, sizeof q,
                 "INSERT INTO assets (symbol, name, asset_type, currency, provider, "
                 "provider_symbol) VALUES ('%s', '%s', '%s', 'USD', '%s', '%s')",
                 symbols[i], symbols[i], crypto ? "crypto" : "stock",
                 crypto ? "coingecko" : "yahoo", crypto ? "bitcoin" : symbols[i]);
        assert_int_equal(pgf_exec(db, q), 0);
    }
    assert_int_equal(pgf_exec(db, "INSERT INTO tracked_assets (asset_id) SELECT id FROM assets"),
                     0);
}

/* A number from the database, the query written printf-style. */
static long long num(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static long long num(const char *fmt, ...)
{
    char q[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(q, sizeof q, fmt, ap);
    va_end(ap);
    return pgf_value(db, q);
}

static void open_rig(struct rig *r, const char *instance)
{
    if (db == NULL)
        skip();
    if (rig_open(r, dbname, instance, NULL) != 0)
        fail_msg("the daemon's modules could not be wired");
}

struct run {
    struct rig *r;
    struct cycle *c;
    long long id; /* the fetcher_cycles.id reserved for it */
    int done;
    enum cycle_status st;
};

static void on_done(enum cycle_status st, void *cls)
{
    struct run *u = cls;
    u->done++;
    u->st = st;
}

static int is_done(void *cls)
{
    return ((struct run *)cls)->done > 0;
}

/* Done, every row written, and the cycle idle (nothing it waits for). */
static int is_settled(void *cls)
{
    struct run *u = cls;
    struct cycle_progress p;
    cycle_get_progress(u->c, &p);
    return u->done > 0 && rig_writes_done(u->r) && strcmp(p.phase, "idle") == 0;
}

static void start(struct run *u, struct rig *r, int64_t seq)
{
    memset(u, 0, sizeof *u);
    u->r = r;
    u->c = cycle_start(&r->d, r->ac, seq, WORK_SCHEDULE, CYCLE_FULL, on_done, u);
    assert_non_null(u->c);
    assert_int_equal(u->done, 0); /* never inside cycle_start */
    /* as the scheduler does: the id its row gets and its log lines name */
    u->id = num("SELECT nextval(pg_get_serial_sequence('fetcher_cycles', 'id'))");
    cycle_set_id(u->c, u->id);
}

static void settle(struct run *u)
{
    if (!rig_run_until(u->r, is_settled, u, 20000))
        fail_msg("cycle not settled: done %d, writer idle %d", u->done, rig_writes_done(u->r));
    assert_int_equal(u->done, 1);
}

static int ws_arrived(struct wire_server *ws, const char *match)
{
    return ws_count(ws, match) > 0;
}

struct arrival {
    struct wire_server *ws;
    const char *match;
};

static int has_arrived(void *cls)
{
    struct arrival *a = cls;
    return ws_arrived(a->ws, a->match);
}

/* ---- fetches fail --------------------------------------------------------- */

/* Two of four assets fail, each its own way: the cycle is partial, its
 * row counts 2 + 2 and the requests the server saw, every asset has its
 * update row (a failure with the provider's reason), each failure a log
 * line of the cycle, and a statistics row follows. */
static void test_failed_fetches_are_counted(void **state)
{
    (void)state;
    struct rig r;
    open_rig(&r, "t-cycle-partial");
    static const char *const syms[] = {"MSFT", "AAPL", "NVDA", "BTC", NULL};
    seed(syms);
    struct ws_rule rules[] = {
        {.match = "/v7/finance/spark", .body = spark_msft_aapl},
        {.match = "/v8/finance/chart/NVDA", .status = 404, .body = chart_404},
        {.match = "/api/v3/simple/price",
         .status = 500,
         .content_type = "text/html",
         .body = html_500},
    };
    ws_set_rules(r.ws, rules, 3);
    struct run u;
    start(&u, &r, 1);
    settle(&u);
    assert_int_equal(u.st, CYCLE_PARTIAL);

    const char *me = "instance_id = 't-cycle-partial'";
    long long id = num("SELECT id FROM fetcher_cycles WHERE %s AND seq = 1", me);
    assert_true(id > 0);
    assert_int_equal(id, u.id); /* the row has the id reserved for it */
    assert_int_equal(num("SELECT count(*) FROM fetcher_cycles WHERE id = %lld AND status = "
                         "'partial' AND finished_at IS NOT NULL AND assets_total = 4 AND "
                         "assets_succeeded = 2 AND assets_failed = 2 AND assets_skipped = 0",
                         id),
                     1);
    assert_int_equal(num("SELECT upstream_requests FROM fetcher_cycles WHERE id = %lld", id),
                     (long long)ws_count(r.ws, NULL));
    assert_int_equal(ws_count(r.ws, NULL), 3); /* spark, NVDA's chart, coingecko */
    assert_int_equal(num("SELECT count(*) FROM price_update_log WHERE cycle_id = %lld", id), 4);
    assert_int_equal(num("SELECT count(*) FROM price_update_log WHERE %s AND cycle_id IS NULL", me),
                     0);
    assert_int_equal(num("SELECT count(*) FROM price_update_log WHERE cycle_id = %lld AND success "
                         "AND symbol IN ('MSFT', 'AAPL') AND price > 0",
                         id),
                     2);
    assert_int_equal(num("SELECT count(*) FROM price_update_log WHERE cycle_id = %lld AND NOT "
                         "success AND symbol = 'NVDA' AND error = 'yahoo: HTTP 404: No data "
                         "found, symbol may be delisted'",
                         id),
                     1);
    assert_int_equal(num("SELECT count(*) FROM price_update_log WHERE cycle_id = %lld AND NOT "
                         "success AND symbol = 'BTC' AND error = 'coingecko: HTTP 500 (server "
                         "error)'",
                         id),
                     1);
    assert_int_equal(num("SELECT count(*) FROM asset_prices WHERE instance_id = "
                         "'t-cycle-partial'"),
                     2);
    assert_int_equal(num("SELECT count(*) FROM fetcher_logs WHERE cycle_id = %lld AND level = "
                         "'ERROR' AND message LIKE 'Failed to update %%'",
                         id),
                     2);
    assert_int_equal(num("SELECT count(*) FROM fetcher_logs WHERE cycle_id = %lld AND message "
                         "LIKE 'Cycle %lld partial: 2/4 assets updated%%'",
                         id, id),
                     1);
    assert_true(num("SELECT count(*) FROM fetcher_statistics WHERE %s", me) >= 1);
    cycle_release(u.c);
    rig_close(&r);
}

/* Nothing answers: failed, and no portfolio recalculation (nothing to
 * value with). */
static void test_every_fetch_fails(void **state)
{
    (void)state;
    struct rig r;
    open_rig(&r, "t-cycle-failed");
    static const char *const syms[] = {"MSFT", "AAPL", "BTC", NULL};
    seed(syms);
    struct ws_rule rules[] = {{.status = 503, .content_type = "text/html", .body = html_500}};
    ws_set_rules(r.ws, rules, 1);
    struct run u;
    start(&u, &r, 1);
    settle(&u);
    assert_int_equal(u.st, CYCLE_FAILED);
    const char *me = "instance_id = 't-cycle-failed'";
    assert_int_equal(num("SELECT count(*) FROM fetcher_cycles WHERE %s AND seq = 1 AND status = "
                         "'failed' AND assets_succeeded = 0 AND assets_failed = 3",
                         me),
                     1);
    assert_int_equal(num("SELECT count(*) FROM price_update_log WHERE %s AND NOT success AND error "
                         "LIKE '%%HTTP 503 (server error)'",
                         me),
                     3);
    assert_int_equal(num("SELECT count(*) FROM fetcher_logs WHERE %s AND message LIKE "
                         "'Portfolio recalculation%%'",
                         me),
                     0);
    assert_int_equal(num("SELECT count(*) FROM fetcher_logs WHERE %s AND level = 'ERROR' AND "
                         "message LIKE 'Cycle %lld failed: 0/3%%'",
                         me, u.id),
                     1);
    cycle_release(u.c);
    rig_close(&r);
}

/* ---- the writer refuses ---------------------------------------------------- */

/* The database refuses the cycle's update rows (a trigger raises, as a
 * constraint would): that statement is dropped, the cycle still reaches
 * its end (its row, its summary, the recalculation), lets go of its
 * results, and the writer goes on with what follows. */
static void test_refused_rows_do_not_stall_the_cycle(void **state)
{
    (void)state;
    struct rig r;
    open_rig(&r, "t-cycle-refused");
    static const char *const syms[] = {"MSFT", "AAPL", NULL};
    seed(syms);
    assert_int_equal(pgf_exec(db, "CREATE OR REPLACE FUNCTION t_refuse() RETURNS trigger "
                                  "LANGUAGE plpgsql AS $$ BEGIN IF NEW.instance_id = "
                                  "'t-cycle-refused' THEN RAISE EXCEPTION 'test: refused'; "
                                  "END IF; RETURN NEW; END $$"),
                     0);
    assert_int_equal(pgf_exec(db, "CREATE TRIGGER t_refuse BEFORE INSERT ON price_update_log "
                                  "FOR EACH ROW EXECUTE FUNCTION t_refuse()"),
                     0);
    struct ws_rule rules[] = {{.match = "/v7/finance/spark", .body = spark_msft_aapl}};
    ws_set_rules(r.ws, rules, 1);
    struct run u;
    start(&u, &r, 1);
    settle(&u);
    assert_int_equal(pgf_exec(db, "DROP TRIGGER t_refuse ON price_update_log"), 0);
    assert_int_equal(u.st, CYCLE_SUCCEEDED);
    struct writer_stats ws;
    writer_get_stats(r.d.writer, &ws);
    assert_true(ws.dropped_rows >= 2);
    assert_int_equal(ws.buffered_rows, 0);
    const char *me = "instance_id = 't-cycle-refused'";
    assert_int_equal(num("SELECT count(*) FROM price_update_log WHERE %s", me), 0);
    assert_int_equal(num("SELECT count(*) FROM fetcher_cycles WHERE %s AND seq = 1 AND status = "
                         "'succeeded' AND finished_at IS NOT NULL",
                         me),
                     1);
    assert_int_equal(num("SELECT count(*) FROM fetcher_logs WHERE %s AND message LIKE "
                         "'Portfolio recalculation done%%'",
                         me),
                     1);
    /* what comes after is written: the writer is not stuck */
    writer_log(r.d.writer, LOG_INFO, 0, NULL, "after the refusal");
    struct run after = {.r = &r, .done = 1, .c = NULL};
    assert_true(rig_run_until(&r, is_settled, &after, 5000));
    assert_int_equal(num("SELECT count(*) FROM fetcher_logs WHERE %s AND message = 'after the "
                         "refusal'",
                         me),
                     1);
    cycle_release(u.c);
    rig_close(&r);
}

/* ---- the database goes away --------------------------------------------- */

/* The connection is cut while the cycle fetches: the cycle ends on time
 * (fetching needs no database), its rows wait in the writer, and when the
 * database is back they are written exactly once, with their cycle. */
static void test_database_lost_mid_cycle(void **state)
{
    (void)state;
    struct rig r;
    open_rig(&r, "t-cycle-midway");
    static const char *const syms[] = {"MSFT", "AAPL", "BTC", NULL};
    seed(syms);
    struct ws_rule rules[] = {
        {.match = "/v7/finance/spark", .body = spark_msft_aapl, .stall_ms = 1200},
        {.match = "/api/v3/simple/price", .body = cg_bitcoin},
    };
    ws_set_rules(r.ws, rules, 2);
    struct run u;
    start(&u, &r, 1);
    struct arrival a = {r.ws, "/v7/finance/spark"};
    assert_true(rig_run_until(&r, has_arrived, &a, 5000));
    pgr_cut(r.relay);
    assert_true(rig_run_until(&r, is_done, &u, 10000));
    assert_int_equal(u.st, CYCLE_SUCCEEDED);
    assert_false(dbconn_is_up(r.d.db));
    assert_int_equal(r.db_downs, 1);
    struct cycle_progress p;
    cycle_get_progress(u.c, &p);
    assert_string_equal(p.phase, "writing"); /* its results wait for the database */
    assert_false(rig_writes_done(&r));
    rig_run_for(&r, 300);
    assert_false(rig_writes_done(&r));

    pgr_restore(r.relay);
    settle(&u);
    assert_true(r.db_ups >= 2);
    const char *me = "instance_id = 't-cycle-midway'";
    long long id = num("SELECT id FROM fetcher_cycles WHERE %s AND seq = 1", me);
    assert_int_equal(num("SELECT count(*) FROM fetcher_cycles WHERE %s", me), 1);
    assert_int_equal(num("SELECT count(*) FROM fetcher_cycles WHERE id = %lld AND status = "
                         "'succeeded' AND assets_succeeded = 3 AND assets_failed = 0",
                         id),
                     1);
    assert_int_equal(num("SELECT count(*) FROM price_update_log WHERE %s", me), 3);
    assert_int_equal(num("SELECT count(DISTINCT asset_id) FROM price_update_log WHERE cycle_id = "
                         "%lld AND success",
                         id),
                     3);
    assert_int_equal(num("SELECT count(*) FROM asset_prices WHERE %s", me), 3);
    assert_int_equal(num("SELECT count(*) FROM fetcher_logs WHERE cycle_id = %lld AND message "
                         "LIKE 'Cycle %lld started%%'",
                         id, id),
                     1);
    assert_int_equal(num("SELECT count(*) FROM fetcher_logs WHERE cycle_id = %lld AND message "
                         "LIKE 'Cycle %lld succeeded: 3/3%%'",
                         id, id),
                     1);
    cycle_release(u.c);
    rig_close(&r);
}

struct downs {
    struct rig *r;
    int want;
};

static int has_gone_down(void *cls)
{
    struct downs *d = cls;
    return d->r->db_downs >= d->want;
}

/* The database is away when a cycle starts. Before any list was ever
 * read the cycle fails at once, and its row says why once the database is
 * back; after one was read, the next cycle fetches that list (and says so
 * in its start line), and its rows follow when the database returns. */
static void test_database_away_at_start(void **state)
{
    (void)state;
    struct rig r;
    open_rig(&r, "t-cycle-away");
    static const char *const syms[] = {"MSFT", "AAPL", NULL};
    seed(syms);
    struct ws_rule rules[] = {{.match = "/v7/finance/spark", .body = spark_msft_aapl}};
    ws_set_rules(r.ws, rules, 1);
    const char *me = "instance_id = 't-cycle-away'";

    pgr_cut(r.relay);
    struct downs d = {&r, 1};
    assert_true(rig_run_until(&r, has_gone_down, &d, 5000));
    struct run u1;
    start(&u1, &r, 1);
    assert_true(rig_run_until(&r, is_done, &u1, 5000));
    assert_int_equal(u1.st, CYCLE_FAILED);
    assert_int_equal(ws_count(r.ws, NULL), 0);
    pgr_restore(r.relay);
    settle(&u1);
    assert_int_equal(num("SELECT count(*) FROM fetcher_cycles WHERE %s AND seq = 1 AND status = "
                         "'failed' AND error LIKE 'cannot read tracked assets: %%'",
                         me),
                     1);
    cycle_release(u1.c);

    struct run u2;
    start(&u2, &r, 2); /* reads the list */
    settle(&u2);
    assert_int_equal(u2.st, CYCLE_SUCCEEDED);

    pgr_cut(r.relay);
    d.want = 2;
    assert_true(rig_run_until(&r, has_gone_down, &d, 5000));
    struct run u3;
    start(&u3, &r, 3);
    assert_true(rig_run_until(&r, is_done, &u3, 5000));
    assert_int_equal(u3.st, CYCLE_SUCCEEDED);
    assert_int_equal(ws_count(r.ws, NULL), 2); /* cycles 2 and 3 fetched */
    pgr_restore(r.relay);
    settle(&u3);
    long long id3 = num("SELECT id FROM fetcher_cycles WHERE %s AND seq = 3", me);
    assert_int_equal(num("SELECT count(*) FROM fetcher_cycles WHERE id = %lld AND status = "
                         "'succeeded' AND assets_succeeded = 2",
                         id3),
                     1);
    assert_int_equal(num("SELECT count(*) FROM price_update_log WHERE cycle_id = %lld", id3), 2);
    /* its own request, not the process's since start (cycle 2 made one) */
    assert_int_equal(num("SELECT upstream_requests FROM fetcher_cycles WHERE id = %lld", id3), 1);
    assert_int_equal(num("SELECT count(*) FROM fetcher_logs WHERE cycle_id = %lld AND message "
                         "LIKE 'Cycle %lld started%%' AND context->>'note' LIKE 'database "
                         "unavailable%%using the last known asset list'",
                         id3, id3),
                     1);
    cycle_release(u2.c);
    cycle_release(u3.c);
    rig_close(&r);
}

/* ---- shutdown ------------------------------------------------------------- */

static int one_answered(void *cls)
{
    struct cycle_progress p;
    cycle_get_progress(((struct run *)cls)->c, &p);
    return p.done >= 1;
}

static void test_shutdown_mid_cycle_is_aborted(void **state)
{
    (void)state;
    struct rig r;
    open_rig(&r, "t-cycle-abort");
    static const char *const syms[] = {"MSFT", "AAPL", "BTC", NULL};
    seed(syms);
    struct ws_rule rules[] = {
        {.match = "/v7/finance/spark", .action = WS_STALL, .stall_ms = 5000},
        {.match = "/api/v3/simple/price", .body = cg_bitcoin},
    };
    ws_set_rules(r.ws, rules, 2);
    struct run u;
    start(&u, &r, 1);
    struct arrival a = {r.ws, "/v7/finance/spark"};
    assert_true(rig_run_until(&r, has_arrived, &a, 5000));
    assert_true(rig_run_until(&r, one_answered, &u, 5000)); /* bitcoin answers */
    assert_int_equal(u.done, 0);
    r.d.stopping = 1; /* what begin_shutdown does */
    queue_cancel_all(r.d.queue);
    settle(&u);
    assert_int_equal(u.st, CYCLE_ABORTED);
    /* a stop is no failure (issue 19): the two assets not fetched are
     * counted in the reason, not as failed, and have no update row */
    assert_int_equal(num("SELECT count(*) FROM fetcher_cycles WHERE instance_id = "
                         "'t-cycle-abort' AND status = 'aborted' AND assets_succeeded = 1 AND "
                         "assets_failed = 0 AND error = 'aborted by shutdown: fetcherd stopped "
                         "during the cycle; 2 assets not fetched'"),
                     1);
    assert_int_equal(num("SELECT count(*) FROM price_update_log WHERE instance_id = "
                         "'t-cycle-abort' AND NOT success"),
                     0);
    assert_int_equal(num("SELECT count(*) FROM price_update_log WHERE instance_id = "
                         "'t-cycle-abort' AND success"),
                     1);
    assert_int_equal(num("SELECT count(*) FROM fetcher_logs WHERE instance_id = 't-cycle-abort' "
                         "AND level IN ('ERROR', 'CRITICAL')"),
                     0);
    assert_int_equal(num("SELECT count(*) FROM fetcher_logs WHERE instance_id = 't-cycle-abort' "
                         "AND level = 'INFO' AND message LIKE 'Cycle %lld aborted by shutdown%%'",
                         u.id),
                     1);
    cycle_release(u.c);
    rig_close(&r);
}

/* ---- work without a cycle row -------------------------------------------- */

/* An on-demand refresh: its update rows have no cycle, and it writes no
 * cycle row (the only rows with a NULL cycle). */
static void test_refresh_rows_have_no_cycle(void **state)
{
    (void)state;
    struct rig r;
    open_rig(&r, "t-cycle-refresh");
    static const char *const syms[] = {"MSFT", "AAPL", NULL};
    seed(syms);
    struct ws_rule rules[] = {{.match = "/v7/finance/spark", .body = spark_msft_aapl}};
    ws_set_rules(r.ws, rules, 1);
    struct run u;
    memset(&u, 0, sizeof u);
    u.r = &r;
    u.c = cycle_start_refresh(&r.d, "[\"msft\"]", "test client", on_done, &u);
    assert_non_null(u.c);
    settle(&u);
    assert_int_equal(u.st, CYCLE_SUCCEEDED);
    const char *me = "instance_id = 't-cycle-refresh'";
    assert_int_equal(num("SELECT count(*) FROM fetcher_cycles WHERE %s", me), 0);
    assert_int_equal(num("SELECT count(*) FROM price_update_log WHERE %s AND cycle_id IS NULL AND "
                         "symbol = 'MSFT' AND success",
                         me),
                     1);
    assert_int_equal(num("SELECT count(*) FROM price_update_log WHERE %s", me), 1);
    assert_int_equal(num("SELECT count(*) FROM fetcher_logs WHERE %s AND message LIKE "
                         "'On-demand refresh for test client: 1/1 assets updated%%'",
                         me),
                     1);
    cycle_release(u.c);
    rig_close(&r);
}

int main(void)
{
    if (getenv("CYCLE_DEBUG") == NULL)
        log_set_min_level(LOG_CRITICAL);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_failed_fetches_are_counted),
        cmocka_unit_test(test_every_fetch_fails),
        cmocka_unit_test(test_refused_rows_do_not_stall_the_cycle),
        cmocka_unit_test(test_database_lost_mid_cycle),
        cmocka_unit_test(test_database_away_at_start),
        cmocka_unit_test(test_shutdown_mid_cycle_is_aborted),
        cmocka_unit_test(test_refresh_rows_have_no_cycle),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
