/*
 * Unit tests of common/jbuf.c — the exact text for small documents (commas,
 * nesting, escaping, numbers), then random strings and random documents
 * checked by json-c, the reader every consumer of this text uses.
 */
#include "jbuf.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <json-c/json.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

static void test_nesting_commas(void **state)
{
    (void)state;
    struct jbuf b;
    jbuf_init(&b);
    assert_string_equal(jbuf_text(&b), "");
    jbuf_obj(&b);
    jbuf_key(&b, "a");
    jbuf_int(&b, 1);
    jbuf_key(&b, "list");
    jbuf_arr(&b);
    jbuf_int(&b, 1);
    jbuf_str(&b, "x");
    jbuf_obj(&b);
    jbuf_obj_end(&b);
    jbuf_arr(&b);
    jbuf_arr_end(&b);
    jbuf_null(&b);
    jbuf_bool(&b, 1);
    jbuf_bool(&b, 0);
    jbuf_arr_end(&b);
    jbuf_key(&b, "o");
    jbuf_obj(&b);
    jbuf_key(&b, "k");
    jbuf_raw(&b, "{\"r\":[1,2]}");
    jbuf_key(&b, "n");
    jbuf_str(&b, NULL);
    jbuf_obj_end(&b);
    jbuf_obj_end(&b);
    assert_true(jbuf_ok(&b));
    assert_string_equal(jbuf_text(&b), "{\"a\":1,\"list\":[1,\"x\",{},[],null,true,false],"
                                       "\"o\":{\"k\":{\"r\":[1,2]},\"n\":null}}");
    char *t = jbuf_take(&b);
    assert_non_null(t);
    assert_string_equal(jbuf_text(&b), ""); /* reset */
    free(t);
    /* a buffer reused after take starts fresh */
    jbuf_arr(&b);
    jbuf_int(&b, 2);
    jbuf_arr_end(&b);
    assert_string_equal(jbuf_text(&b), "[2]");
    jbuf_free(&b);
    assert_string_equal(jbuf_text(&b), "");
    /* take of an empty buffer gives an empty string, not NULL */
    t = jbuf_take(&b);
    assert_non_null(t);
    assert_string_equal(t, "");
    free(t);
}

/* Top-level values in sequence are comma-separated too (a stream of
 * values), and the text grows past the first allocation. */
static void test_growth(void **state)
{
    (void)state;
    struct jbuf b;
    jbuf_init(&b);
    jbuf_arr(&b);
    for (int i = 0; i < 10000; i++)
        jbuf_int(&b, i);
    jbuf_arr_end(&b);
    assert_true(jbuf_ok(&b));
    json_object *o = json_tokener_parse(jbuf_text(&b));
    assert_non_null(o);
    assert_int_equal(json_object_array_length(o), 10000);
    assert_int_equal(json_object_get_int(json_object_array_get_idx(o, 9999)), 9999);
    json_object_put(o);
    jbuf_free(&b);
}

struct str_case {
    const char *in;
    const char *want; /* the JSON text written */
};

static void test_escaping(void **state)
{
    (void)state;
    static const struct str_case cases[] = {
        {"", "\"\""},
        {"plain", "\"plain\""},
        {"say \"hi\"", "\"say \\\"hi\\\"\""},
        {"back\\slash", "\"back\\\\slash\""},
        {"a/b", "\"a/b\""},
        {"line\nbreak\ttab\rcr", "\"line\\u000abreak\\u0009tab\\u000dcr\""},
        {"\x01\x1f", "\"\\u0001\\u001f\""},
        {"\x7f", "\"\x7f\""},                          /* DEL is legal in JSON */
        {"caf\xc3\xa9", "\"caf\xc3\xa9\""},            /* 2-byte UTF-8 kept */
        {"\xe2\x82\xac 5", "\"\xe2\x82\xac 5\""},      /* € kept */
        {"\xf0\x9f\x93\x88", "\"\xf0\x9f\x93\x88\""},  /* 4-byte (emoji) kept */
        {"\xef\xbf\xbd", "\"\xef\xbf\xbd\""},          /* U+FFFD itself kept */
        {"\xff", "\"\\ufffd\""},                       /* never valid */
        {"a\x80z", "\"a\\ufffdz\""},                   /* lone continuation */
        {"\xc3", "\"\\ufffd\""},                       /* truncated at the end */
        {"\xc3z", "\"\\ufffdz\""},                     /* truncated mid-string */
        {"\xe2\x82", "\"\\ufffd\\ufffd\""},            /* truncated 3-byte: 2 bad bytes */
        {"\xc0\xaf", "\"\\ufffd\\ufffd\""},            /* overlong '/' */
        {"\xe0\x80\xaf", "\"\\ufffd\\ufffd\\ufffd\""}, /* overlong 3-byte */
        {"\xed\xa0\x80", "\"\\ufffd\\ufffd\\ufffd\""}, /* surrogate D800 */
        {"\xf4\x90\x80\x80", "\"\\ufffd\\ufffd\\ufffd\\ufffd\""},            /* > U+10FFFF */
        {"\xf8\x88\x80\x80\x80", "\"\\ufffd\\ufffd\\ufffd\\ufffd\\ufffd\""}, /* 5-byte form */
        {"\xf4\x8f\xbf\xbf", "\"\xf4\x8f\xbf\xbf\""},                        /* U+10FFFF kept */
    };
    for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
        struct jbuf b;
        jbuf_init(&b);
        jbuf_str(&b, cases[i].in);
        assert_true(jbuf_ok(&b));
        assert_string_equal(jbuf_text(&b), cases[i].want);
        json_object *o = json_tokener_parse(jbuf_text(&b));
        assert_non_null(o);
        json_object_put(o);
        /* keys are escaped the same way */
        jbuf_free(&b);
        jbuf_obj(&b);
        jbuf_key(&b, cases[i].in);
        jbuf_int(&b, 1);
        jbuf_obj_end(&b);
        o = json_tokener_parse(jbuf_text(&b));
        assert_non_null(o);
        json_object_put(o);
        jbuf_free(&b);
    }
}

struct num_case {
    double in;
    const char *want;
};

static void test_numbers(void **state)
{
    (void)state;
    static const struct num_case cases[] = {
        {0, "0"},
        {189.84, "189.84"},
        {67187.34, "67187.34"},
        {0.1 + 0.2, "0.3"}, /* 15 digits: no ...0000004 tail */
        {-1.5, "-1.5"},
        {1e300, "1e+300"},
        {1e-7, "1e-07"},
        {NAN, "null"},
        {INFINITY, "null"},
        {-INFINITY, "null"},
        /* %.15g would round this up to 1.79769313486232e+308: infinity */
        {DBL_MAX, "1.7976931348623157e+308"},
    };
    for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
        struct jbuf b;
        jbuf_init(&b);
        jbuf_num(&b, cases[i].in);
        assert_string_equal(jbuf_text(&b), cases[i].want);
        jbuf_free(&b);
    }
    struct jbuf b;
    jbuf_init(&b);
    jbuf_arr(&b);
    jbuf_int(&b, INT64_MIN);
    jbuf_int(&b, INT64_MAX);
    jbuf_num(&b, NAN);
    jbuf_num(&b, 2.5);
    jbuf_arr_end(&b);
    assert_string_equal(jbuf_text(&b), "[-9223372036854775808,9223372036854775807,null,2.5]");
    json_object *o = json_tokener_parse(jbuf_text(&b));
    assert_non_null(o);
    assert_true(json_object_get_int64(json_object_array_get_idx(o, 0)) == INT64_MIN);
    assert_true(json_object_get_int64(json_object_array_get_idx(o, 1)) == INT64_MAX);
    json_object_put(o);
    jbuf_free(&b);
}

/* Deeper than JBUF_MAX_DEPTH is our bug: reported through jbuf_ok(). */
/* ---- texts cut inside a UTF-8 sequence -------------------------------- */

/* Error and log texts are cut with "%.60s", "%.150s" and 256- or
 * 1024-byte buffers, which can end inside a multi-byte character. Rows
 * travel as one jsonb parameter of a batch (500 log rows, a cycle's
 * updates): one invalid byte would fail all of them. jbuf replaces each
 * byte of the cut sequence with U+FFFD, so the batch stays valid UTF-8 and
 * valid JSON, whatever the cut. */
static void test_cut_inside_utf8(void **state)
{
    (void)state;
    static const char *const chars[] = {"\xc3\xa9", "\xe2\x82\xac", "\xf0\x9f\x93\x88"};
    static const int limits[] = {60, 150, 160, 170, 255, 1023};
    int cases = 0;
    for (size_t ci = 0; ci < ARRAY_LEN(chars); ci++) {
        for (size_t li = 0; li < ARRAY_LEN(limits); li++) {
            for (int shift = 0; shift < 4; shift++) {
                /* a provider's error text: ASCII, then multi-byte from shift */
                char text[2048];
                size_t n = 0;
                for (int i = 0; i < shift; i++)
                    text[n++] = 'x';
                while (n + 4 < sizeof text) {
                    size_t k = strlen(chars[ci]);
                    memcpy(text + n, chars[ci], k);
                    n += k;
                }
                text[n] = '\0';
                char cut[1100];
                snprintf(cut, sizeof cut, "yahoo: HTTP 502: %.*s", limits[li], text);
                struct jbuf b;
                jbuf_init(&b);
                jbuf_arr(&b);
                for (int row = 0; row < 3; row++) {
                    jbuf_obj(&b);
                    jbuf_key(&b, "error");
                    jbuf_str(&b, cut);
                    jbuf_obj_end(&b);
                }
                jbuf_arr_end(&b);
                char *doc = jbuf_take(&b);
                assert_non_null(doc);
                struct json_tokener *tok = json_tokener_new();
                json_tokener_set_flags(tok, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
                json_object *v = json_tokener_parse_ex(tok, doc, (int)strlen(doc));
                if (json_tokener_get_error(tok) != json_tokener_success)
                    fail_msg("char %zu limit %d shift %d: not valid JSON/UTF-8: %s", ci, limits[li],
                             shift, doc);
                assert_int_equal(json_object_array_length(v), 3);
                const char *back = json_object_get_string(
                    json_object_object_get(json_object_array_get_idx(v, 0), "error"));
                /* the text is kept up to the cut, the cut bytes replaced */
                size_t whole = strlen(cut);
                while (whole > 0 && ((unsigned char)cut[whole - 1] & 0x80))
                    whole--;
                assert_memory_equal(back, cut, whole);
                json_object_put(v);
                json_tokener_free(tok);
                free(doc);
                jbuf_free(&b);
                cases++;
            }
        }
    }
    assert_int_equal(cases, 72);
}

/* ---- our own bugs: FETCHER_ASSERT ---------------------------------------- */

/* Runs fn in a child with stdout (where log lines go) into a pipe; returns
 * the wait status and what it printed. A bug must be loud: a CRITICAL line
 * naming jbuf.c and a line, and in the test build an abort. */
static int run_child(void (*fn)(void), char *out, size_t outlen)
{
    int fds[2];
    assert_int_equal(pipe(fds), 0);
    fflush(stdout);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        dup2(fds[1], STDOUT_FILENO);
        close(fds[0]);
        fn();
        fflush(stdout);
        _exit(0);
    }
    close(fds[1]);
    size_t got = 0;
    ssize_t n;
    while (got + 1 < outlen && (n = read(fds[0], out + got, outlen - 1 - got)) > 0)
        got += (size_t)n;
    out[got] = '\0';
    close(fds[0]);
    int status = 0;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    return status;
}

static void child_too_deep(void)
{
    struct jbuf b;
    jbuf_init(&b);
    for (int i = 0; i < JBUF_MAX_DEPTH - 1; i++)
        jbuf_arr(&b);
    if (!jbuf_ok(&b))
        _exit(10);
    jbuf_arr(&b);
    /* production: the document fails, and take frees what there was */
    if (jbuf_ok(&b) || jbuf_text(&b) != NULL || jbuf_take(&b) != NULL || !jbuf_ok(&b))
        _exit(11);
    jbuf_free(&b);
}

static void child_close_without_open(void)
{
    struct jbuf b;
    jbuf_init(&b);
    jbuf_arr_end(&b);
    if (jbuf_ok(&b) || jbuf_take(&b) != NULL)
        _exit(12);
    jbuf_free(&b);
}

static void expect_bug(void (*fn)(void))
{
    char out[4096];
    int status = run_child(fn, out, sizeof out);
    assert_non_null(strstr(out, " CRITICAL bug: FETCHER_ASSERT("));
    assert_non_null(strstr(out, "common/jbuf.c:"));
#ifdef FETCHER_TEST_BUILD
    assert_true(WIFSIGNALED(status));
    assert_int_equal(WTERMSIG(status), SIGABRT);
#else
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
#endif
}

static void test_too_deep(void **state)
{
    (void)state;
    expect_bug(child_too_deep);
}

static void test_close_without_open(void **state)
{
    (void)state;
    expect_bug(child_close_without_open);
}

/* ---- random strings through json-c ----------------------------------- */

static uint64_t rng = 42;

static uint32_t rnd(uint32_t n)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (uint32_t)(rng % n);
}

/* Random bytes biased toward the interesting ones: control characters,
 * quotes, backslashes, UTF-8 lead and continuation bytes. */
static void random_string(char *s, size_t len)
{
    static const unsigned char pick[] = {'"',  '\\', '/',  '\n', 0x01, 0x1f, 0x7f, 0x80, 0xbf,
                                         0xc0, 0xc3, 0xa9, 0xe2, 0x82, 0xac, 0xed, 0xa0, 0xf0,
                                         0x9f, 0xf4, 0x90, 0xf8, 0xff, 'a',  'Z',  ' '};
    for (size_t i = 0; i < len; i++) {
        unsigned char c;
        switch (rnd(3)) {
        case 0:
            c = pick[rnd(sizeof pick)];
            break;
        case 1:
            c = (unsigned char)(0x20 + rnd(0x5f));
            break;
        default:
            c = (unsigned char)(1 + rnd(255));
            break;
        }
        s[i] = (char)c;
    }
    s[len] = '\0';
}

/* Is s valid UTF-8 (json-c hands back what we wrote; check the bytes)? */
static int valid_utf8(const unsigned char *s)
{
    while (*s) {
        if (*s < 0x80) {
            s++;
            continue;
        }
        int n = (*s & 0xe0) == 0xc0 ? 2 : (*s & 0xf0) == 0xe0 ? 3 : (*s & 0xf8) == 0xf0 ? 4 : 0;
        if (n == 0)
            return 0;
        uint32_t cp = *s & (0x7f >> n);
        for (int i = 1; i < n; i++) {
            if ((s[i] & 0xc0) != 0x80)
                return 0;
            cp = (cp << 6) | (s[i] & 0x3f);
        }
        if ((n == 2 && cp < 0x80) || (n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) ||
            (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff)
            return 0;
        s += n;
    }
    return 1;
}

static void test_random_strings(void **state)
{
    (void)state;
    char s[65];
    for (int iter = 0; iter < 20000; iter++) {
        size_t len = rnd(64);
        random_string(s, len);
        struct jbuf b;
        jbuf_init(&b);
        jbuf_obj(&b);
        jbuf_key(&b, s);
        jbuf_str(&b, s);
        jbuf_key(&b, "n");
        jbuf_num(&b, (double)rnd(1000000) / 100.0);
        jbuf_obj_end(&b);
        assert_true(jbuf_ok(&b));
        const char *t = jbuf_text(&b);
        json_tokener *tok = json_tokener_new();
        assert_non_null(tok);
        json_tokener_set_flags(tok, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
        json_object *o = json_tokener_parse_ex(tok, t, (int)strlen(t) + 1);
        if (o == NULL)
            fail_msg("json-c refused %s: %s", t,
                     json_tokener_error_desc(json_tokener_get_error(tok)));
        json_tokener_free(tok);
        assert_true(json_object_is_type(o, json_type_object));
        assert_true(json_object_object_length(o) <= 2);
        /* the value read back is valid UTF-8, and equal to the input when
         * the input was valid UTF-8 */
        json_object_object_foreach(o, k, v)
        {
            if (strcmp(k, "n") == 0)
                continue; /* the number (an int when whole) */
            assert_true(json_object_is_type(v, json_type_string));
            const char *back = json_object_get_string(v);
            assert_true(valid_utf8((const unsigned char *)back));
            assert_true(valid_utf8((const unsigned char *)k));
            if (valid_utf8((const unsigned char *)s))
                assert_string_equal(back, s);
        }
        json_object_put(o);
        jbuf_free(&b);
    }
}

/* Random documents: random nesting of every value kind; json-c must
 * accept each and agree on the number of top-level members. */
static void random_value(struct jbuf *b, int depth, int *count)
{
    char s[17];
    switch (depth >= 6 ? rnd(5) : rnd(7)) {
    case 0:
        jbuf_int(b, (int64_t)rnd(UINT32_MAX) - INT32_MAX);
        break;
    case 1:
        jbuf_num(b, rnd(4) == 0 ? NAN : (double)rnd(100000) / 7.0);
        break;
    case 2:
        jbuf_bool(b, (int)rnd(2));
        break;
    case 3:
        jbuf_null(b);
        break;
    case 4:
        random_string(s, rnd(16));
        jbuf_str(b, s);
        break;
    case 5: {
        jbuf_arr(b);
        int n = (int)rnd(5), c = 0;
        for (int i = 0; i < n; i++)
            random_value(b, depth + 1, &c);
        jbuf_arr_end(b);
        break;
    }
    default: {
        jbuf_obj(b);
        int n = (int)rnd(5), c = 0;
        for (int i = 0; i < n; i++) {
            snprintf(s, sizeof s, "k%d", i);
            jbuf_key(b, s);
            random_value(b, depth + 1, &c);
        }
        jbuf_obj_end(b);
        break;
    }
    }
    (*count)++;
}

static void test_random_documents(void **state)
{
    (void)state;
    for (int iter = 0; iter < 3000; iter++) {
        struct jbuf b;
        jbuf_init(&b);
        jbuf_arr(&b);
        int n = (int)rnd(8), c = 0;
        for (int i = 0; i < n; i++)
            random_value(&b, 1, &c);
        jbuf_arr_end(&b);
        assert_true(jbuf_ok(&b));
        json_object *o = json_tokener_parse(jbuf_text(&b));
        if (o == NULL)
            fail_msg("json-c refused %s", jbuf_text(&b));
        assert_int_equal(json_object_array_length(o), (size_t)c);
        json_object_put(o);
        jbuf_free(&b);
    }
}

/* A json-c tree written through jbuf reads back as the same tree, and an
 * invalid byte in one of its strings cannot spoil the document. */
static void test_json_c_values(void **state)
{
    (void)state;
    const char *doc = "{\"a\":[1,-2,3.25,true,false,null,{\"b\":\"x\\\"y\"}],"
                      "\"big\":9007199254740993,\"s\":\"\\u00e9t\\u00e9\"}";
    json_object *in = json_tokener_parse(doc);
    assert_non_null(in);
    struct jbuf b;
    jbuf_init(&b);
    jbuf_json(&b, in);
    json_object *out = json_tokener_parse(jbuf_text(&b));
    assert_non_null(out);
    assert_true(json_object_equal(in, out));
    json_object_put(out);
    json_object_put(in);
    jbuf_free(&b);

    json_object *bad = json_object_new_object();
    json_object_object_add(bad, "error", json_object_new_string("HTTP 500: \xff\xfe"));
    jbuf_init(&b);
    jbuf_json(&b, bad);
    jbuf_json(&b, NULL);
    assert_string_equal(jbuf_text(&b), "{\"error\":\"HTTP 500: \\ufffd\\ufffd\"},null");
    json_object_put(bad);
    jbuf_free(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_nesting_commas), cmocka_unit_test(test_growth),
        cmocka_unit_test(test_escaping),       cmocka_unit_test(test_numbers),
        cmocka_unit_test(test_too_deep),       cmocka_unit_test(test_close_without_open),
        cmocka_unit_test(test_random_strings), cmocka_unit_test(test_random_documents),
        cmocka_unit_test(test_json_c_values),  cmocka_unit_test(test_cut_inside_utf8),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
