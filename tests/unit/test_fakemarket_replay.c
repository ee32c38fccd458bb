/*
 * Unit tests of tests/fakemarket/replay.c: a replay serves the file's
 * bytes as they were when it was set, with its status and a content type
 * by extension; every refusal names its parameter; clear empties the
 * table; no directory means no replays at all.
 */
#include "../fakemarket/replay.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

static char dir[64];

static void write_file(const char *name, const char *text, size_t n)
{
    char path[128];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(text, 1, n, f), n);
    fclose(f);
}

static int setup(void **state)
{
    (void)state;
    snprintf(dir, sizeof dir, "/tmp/fm-replay-XXXXXX");
    if (mkdtemp(dir) == NULL)
        return -1;
    write_file("a.json", "{\"a\":1}\n", 8);
    write_file("b.txt", "Edge: Too Many Requests", 23);
    write_file("c.html", "<html></html>", 13);
    write_file("d.bin", "\x00\x01", 2);
    write_file(".hidden.json", "{}", 2);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    static const char *const names[] = {"a.json", "b.txt",        "c.html",
                                        "d.bin",  ".hidden.json", "big.json"};
    char path[128];
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        snprintf(path, sizeof path, "%s/%s", dir, names[i]);
        unlink(path);
    }
    return rmdir(dir);
}

static void test_set_and_copy(void **state)
{
    (void)state;
    char err[256];
    const char *param;
    struct fm_body b;
    struct fm_replays *r = fm_replays_new(dir);
    assert_non_null(r);
    assert_int_equal(
        fm_replays_set(r, "/v7/finance/spark", "a.json", NULL, err, sizeof err, &param), 0);
    assert_int_equal(fm_replays_set(r, "/x", "b.txt", "429", err, sizeof err, &param), 0);
    assert_int_equal(fm_replays_copy(r, "/v7/finance/spark", &b), 1);
    assert_int_equal(b.status, 200);
    assert_int_equal(b.len, 8);
    assert_memory_equal(b.data, "{\"a\":1}\n", 8);
    assert_string_equal(b.content_type, "application/json;charset=utf-8");
    fm_body_clear(&b);
    assert_int_equal(fm_replays_copy(r, "/x", &b), 1);
    assert_int_equal(b.status, 429);
    assert_string_equal(b.content_type, "text/plain;charset=utf-8");
    fm_body_clear(&b);
    /* exact path only: no prefix, no query */
    assert_int_equal(fm_replays_copy(r, "/v7/finance/spark/", &b), 0);
    assert_int_equal(fm_replays_copy(r, "/v7/finance", &b), 0);
    /* read at set time: changing the file later changes nothing */
    write_file("a.json", "{\"a\":2}\n", 8);
    assert_int_equal(fm_replays_copy(r, "/v7/finance/spark", &b), 1);
    assert_memory_equal(b.data, "{\"a\":1}\n", 8);
    fm_body_clear(&b);
    /* setting a path again replaces its replay */
    assert_int_equal(fm_replays_set(r, "/x", "c.html", "200", err, sizeof err, &param), 0);
    assert_int_equal(fm_replays_copy(r, "/x", &b), 1);
    assert_string_equal(b.content_type, "text/html;charset=utf-8");
    fm_body_clear(&b);

    size_t len;
    char *list = fm_replays_render(r, NULL, &len);
    assert_non_null(list);
    assert_non_null(strstr(list, "\"replays\":[{\"path\":\"/v7/finance/spark\",\"file\":\"a.json\","
                                 "\"status\":200,\"bytes\":8,"));
    assert_non_null(strstr(list, "{\"path\":\"/x\",\"file\":\"c.html\",\"status\":200,\"bytes\":13,"
                                 "\"content_type\":\"text/html;charset=utf-8\"}]}"));
    free(list);
    char *one = fm_replays_render(r, "/x", &len);
    assert_non_null(one);
    assert_memory_equal(one, "{\"ok\":true,\"path\":\"/x\"", 22);
    free(one);

    assert_int_equal(fm_replays_clear(r), 2);
    assert_int_equal(fm_replays_copy(r, "/x", &b), 0);
    assert_int_equal(fm_replays_clear(r), 0);
    fm_replays_free(r);
    fm_replays_free(NULL);
}

static void test_refusals(void **state)
{
    (void)state;
    static const struct {
        const char *path, *file, *status, *param;
    } cases[] = {
        {NULL, "a.json", NULL, "path"},
        {"v8/finance/chart/X", "a.json", NULL, "path"},
        {"/_stats", "a.json", NULL, "path"},
        {"/x", NULL, NULL, "file"},
        {"/x", "", NULL, "file"},
        {"/x", "../a.json", NULL, "file"},
        {"/x", "sub/a.json", NULL, "file"},
        {"/x", ".hidden.json", NULL, "file"},
        {"/x", "..", NULL, "file"},
        {"/x", "nope.json", NULL, "file"},
        {"/x", "a.json", "99", "status"},
        {"/x", "a.json", "600", "status"},
        {"/x", "a.json", "2xx", "status"},
    };
    char err[256];
    const char *param;
    struct fm_replays *r = fm_replays_new(dir);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        err[0] = '\0';
        assert_int_equal(fm_replays_set(r, cases[i].path, cases[i].file, cases[i].status, err,
                                        sizeof err, &param),
                         -1);
        assert_non_null(param);
        assert_string_equal(param, cases[i].param);
        /* the message names the parameter */
        if (strncmp(err, cases[i].param, strlen(cases[i].param)) != 0)
            fail_msg("case %zu: message '%s' does not name '%s'", i, err, cases[i].param);
    }
    /* larger than 4 MiB */
    char *big = calloc(1, FM_REPLAY_MAX_BYTES + 1);
    assert_non_null(big);
    write_file("big.json", big, FM_REPLAY_MAX_BYTES + 1);
    free(big);
    assert_int_equal(fm_replays_set(r, "/x", "big.json", NULL, err, sizeof err, &param), -1);
    assert_string_equal(param, "file");
    assert_non_null(strstr(err, "4 MiB"));
    /* exactly 4 MiB is fine */
    big = calloc(1, FM_REPLAY_MAX_BYTES);
    assert_non_null(big);
    write_file("big.json", big, FM_REPLAY_MAX_BYTES);
    free(big);
    assert_int_equal(fm_replays_set(r, "/x", "big.json", NULL, err, sizeof err, &param), 0);
    /* any other extension is served as octet-stream */
    assert_int_equal(fm_replays_set(r, "/y", "d.bin", NULL, err, sizeof err, &param), 0);
    struct fm_body b;
    assert_int_equal(fm_replays_copy(r, "/y", &b), 1);
    assert_string_equal(b.content_type, "application/octet-stream");
    assert_int_equal(b.len, 2);
    fm_body_clear(&b);
    fm_replays_free(r);

    /* without --fixtures nothing can be replayed */
    r = fm_replays_new(NULL);
    assert_int_equal(fm_replays_set(r, "/x", "a.json", NULL, err, sizeof err, &param), -1);
    assert_string_equal(err, "fakemarket was started without --fixtures");
    size_t len;
    char *list = fm_replays_render(r, NULL, &len);
    assert_string_equal(list, "{\"fixtures\":null,\"replays\":[]}");
    free(list);
    fm_replays_free(r);
}

static void test_table_full(void **state)
{
    (void)state;
    char err[256], path[32];
    const char *param;
    struct fm_replays *r = fm_replays_new(dir);
    for (int i = 0; i < FM_REPLAY_MAX; i++) {
        snprintf(path, sizeof path, "/p%d", i);
        assert_int_equal(fm_replays_set(r, path, "a.json", NULL, err, sizeof err, &param), 0);
    }
    assert_int_equal(fm_replays_set(r, "/one-more", "a.json", NULL, err, sizeof err, &param), -1);
    assert_string_equal(param, "path");
    /* replacing an existing path still works when full */
    assert_int_equal(fm_replays_set(r, "/p0", "b.txt", NULL, err, sizeof err, &param), 0);
    assert_int_equal(fm_replays_clear(r), FM_REPLAY_MAX);
    fm_replays_free(r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_set_and_copy),
        cmocka_unit_test(test_refusals),
        cmocka_unit_test(test_table_full),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
