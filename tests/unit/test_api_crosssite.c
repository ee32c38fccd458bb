/*
 * Unit tests of api/crosssite.c, table-driven: which Host values are
 * served (names from the list, with and without a port; address literals;
 * none), which writes pass (own origin under http and https, the CORS
 * origin, no Origin; Sec-Fetch-Site; the JSON content type and its look-
 * alikes), preflights, and that bad API_ALLOWED_HOSTS values are start-up
 * errors naming the setting.
 */
#include "crosssite.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

static void test_host(void **state)
{
    (void)state;
    char err[160], msg[256];
    const char *param = NULL;
    assert_int_equal(crosssite_setup("localhost, api,dash.example:8443", NULL, err, sizeof err), 0);
    static const struct {
        const char *host;
        unsigned want;
    } cases[] = {
        {NULL, 0}, /* HTTP/1.0 without Host: never a browser */
        {"localhost", 0},
        {"localhost:8080", 0},
        {"LOCALHOST:8080", 0},
        {"localhost.:8080", 0},
        {"api:8080", 0},
        {"dash.example:8443", 0},
        {"dash.example:8080", 421}, /* listed with another port */
        {"dash.example", 421},
        {"127.0.0.1:8080", 0},
        {"10.1.2.3", 0},
        {"[::1]:8080", 0},
        {"[::1]", 0},
        {"evil.example", 421},
        {"attacker.example:8080", 421},
        {"localhost.evil.example", 421},
        {"evil.localhost", 421},
        {"", 421},
        {"::1", 421},         /* an IPv6 address needs brackets */
        {"[evil]:8080", 421}, /* not an address */
        {"127.0.0.1.evil.example", 421},
        {"localhost:0", 421},
        {"localhost:65536", 421},
        {"localhost:", 421},
        {"local host", 421},
        {"user@localhost", 421},
        {"localhost/x", 421},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        msg[0] = '\0';
        unsigned got = crosssite_check_host(cases[i].host, &param, msg, sizeof msg);
        if (got != cases[i].want)
            fail_msg("Host '%s': got %u, want %u", cases[i].host ? cases[i].host : "(none)", got,
                     cases[i].want);
        if (got != 0) {
            assert_string_equal(param, "Host");
            assert_non_null(strstr(msg, "API_ALLOWED_HOSTS"));
        }
    }
    /* The message quotes the value, printable and cut. */
    char long_host[400];
    memset(long_host, 'a', sizeof long_host - 1);
    long_host[sizeof long_host - 1] = '\0';
    long_host[5] = '\x01';
    assert_int_equal(crosssite_check_host(long_host, &param, msg, sizeof msg), 421);
    assert_null(strchr(msg, '\x01'));
    assert_non_null(strstr(msg, "aaaaa?aaa"));
    assert_true(strlen(msg) < 200);
}

static void test_write(void **state)
{
    (void)state;
    char err[160], msg[256];
    const char *param;
    assert_int_equal(crosssite_setup("localhost", "https://dash.example/", err, sizeof err), 0);
    static const char J[] = "application/json";
    static const struct {
        const char *host, *origin, *site, *type;
        unsigned want;
        const char *param;
    } cases[] = {
        /* scripts: no Origin, no Sec-Fetch-Site */
        {"localhost:8080", NULL, NULL, J, 0, NULL},
        {NULL, NULL, NULL, J, 0, NULL},
        {"localhost:8080", NULL, NULL, "application/json; charset=utf-8", 0, NULL},
        {"localhost:8080", NULL, NULL, " Application/JSON ;charset=utf-8", 0, NULL},
        /* our own pages */
        {"localhost:8080", "http://localhost:8080", "same-origin", J, 0, NULL},
        {"127.0.0.1:8080", "http://127.0.0.1:8080", "same-origin", J, 0, NULL},
        {"localhost:8080", "https://localhost:8080", "same-origin", J, 0, NULL},
        {"localhost:8080", "http://LOCALHOST:8080", NULL, J, 0, NULL},
        {"localhost:8080", NULL, "none", J, 0, NULL},
        /* the operator's CORS origin, cross-site by nature */
        {"localhost:8080", "https://dash.example", "cross-site", J, 0, NULL},
        {"localhost:8080", "https://dash.example", "same-site", J, 0, NULL},
        /* other pages */
        {"localhost:8080", "https://evil.example", NULL, J, 403, "Origin"},
        {"localhost:8080", "https://evil.example", "cross-site", "text/plain", 403, "Origin"},
        {"localhost:8080", "http://localhost:3000", "same-site", J, 403, "Origin"},
        {"localhost:8080", "http://localhost:8080.evil.example", NULL, J, 403, "Origin"},
        {"localhost:8080", "http://localhost", NULL, J, 403, "Origin"},
        {"localhost:8080", "null", NULL, J, 403, "Origin"},
        {"localhost:8080", "", NULL, J, 403, "Origin"},
        {"localhost:8080", "ftp://localhost:8080", NULL, J, 403, "Origin"},
        {"localhost:8080", "https://dash.example.evil", NULL, J, 403, "Origin"},
        {NULL, "http://localhost:8080", NULL, J, 403, "Origin"}, /* no Host: nothing is ours */
        {"localhost:8080", NULL, "cross-site", J, 403, "Sec-Fetch-Site"},
        {"localhost:8080", NULL, "same-site", J, 403, "Sec-Fetch-Site"},
        {"localhost:8080", NULL, "someday-site", J, 403, "Sec-Fetch-Site"},
        {"localhost:8080", "http://localhost:8080", "cross-site", J, 403, "Sec-Fetch-Site"},
        /* what pages may send without a preflight, and none at all */
        {"localhost:8080", NULL, NULL, NULL, 415, "Content-Type"},
        {"localhost:8080", NULL, NULL, "", 415, "Content-Type"},
        {"localhost:8080", NULL, NULL, "text/plain", 415, "Content-Type"},
        {"localhost:8080", NULL, NULL, "text/plain; charset=utf-8", 415, "Content-Type"},
        {"localhost:8080", NULL, NULL, "application/x-www-form-urlencoded", 415, "Content-Type"},
        {"localhost:8080", NULL, NULL, "multipart/form-data; boundary=x", 415, "Content-Type"},
        {"localhost:8080", NULL, NULL, "application/jsonx", 415, "Content-Type"},
        {"localhost:8080", NULL, NULL, "application/json-patch+json", 415, "Content-Type"},
        {"localhost:8080", NULL, NULL, "text/plain; x=application/json", 415, "Content-Type"},
        {"localhost:8080", "http://localhost:8080", "same-origin", "text/plain", 415,
         "Content-Type"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        param = NULL;
        msg[0] = '\0';
        unsigned got = crosssite_check_write(cases[i].host, cases[i].origin, cases[i].site,
                                             cases[i].type, &param, msg, sizeof msg);
        if (got != cases[i].want)
            fail_msg("case %zu (origin %s, site %s, type %s): got %u (%s), want %u", i,
                     cases[i].origin ? cases[i].origin : "-", cases[i].site ? cases[i].site : "-",
                     cases[i].type ? cases[i].type : "-", got, msg, cases[i].want);
        if (cases[i].want != 0)
            assert_string_equal(param, cases[i].param);
    }
    crosssite_check_write("localhost:8080", "https://evil.example", NULL, J, &param, msg,
                          sizeof msg);
    assert_string_equal(msg,
                        "cross-site request refused: Origin https://evil.example is not allowed");
    crosssite_check_write("localhost:8080", NULL, NULL, NULL, &param, msg, sizeof msg);
    assert_non_null(strstr(msg, "(got none)"));
    crosssite_check_write("localhost:8080", NULL, NULL, "text/plain", &param, msg, sizeof msg);
    assert_non_null(strstr(msg, "(got text/plain)"));

    /* Without a CORS origin, nothing cross-site passes. */
    assert_int_equal(crosssite_setup("localhost", "", err, sizeof err), 0);
    assert_int_equal(crosssite_check_write("localhost:8080", "https://dash.example", "cross-site",
                                           J, &param, msg, sizeof msg),
                     403);
}

static void test_preflight(void **state)
{
    (void)state;
    char err[160], msg[256];
    const char *param;
    assert_int_equal(crosssite_setup("localhost", "https://dash.example", err, sizeof err), 0);
    assert_int_equal(crosssite_check_preflight("localhost:8080", "https://dash.example", &param,
                                               msg, sizeof msg),
                     0);
    assert_int_equal(crosssite_check_preflight("localhost:8080", NULL, &param, msg, sizeof msg), 0);
    assert_int_equal(crosssite_check_preflight("localhost:8080", "https://evil.example", &param,
                                               msg, sizeof msg),
                     403);
    assert_string_equal(param, "Origin");
}

static void test_setup(void **state)
{
    (void)state;
    char err[160];
    static const char *const good[] = {"",    "localhost",  " localhost , api ", "a,,b",
                                       "x:1", "[::1]:8080", "host.example.:443", "127.0.0.1"};
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++)
        if (crosssite_setup(good[i], NULL, err, sizeof err) != 0)
            fail_msg("'%s' refused: %s", good[i], err);
    static const char *const bad[] = {"local host", "x:0", "x:99999", "x:",   ":80",
                                      "http://x",   "x/y", "[nope]",  "a:b:c"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        err[0] = '\0';
        if (crosssite_setup(bad[i], NULL, err, sizeof err) == 0)
            fail_msg("'%s' accepted", bad[i]);
        assert_non_null(strstr(err, "API_ALLOWED_HOSTS"));
    }
    char many[512] = "";
    for (int i = 0; i <= CROSSSITE_HOSTS_MAX; i++) {
        size_t n = strlen(many);
        snprintf(many + n, sizeof many - n, "%sh%d", i ? "," : "", i);
    }
    assert_int_equal(crosssite_setup(many, NULL, err, sizeof err), -1);
    assert_non_null(strstr(err, "API_ALLOWED_HOSTS"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_host),
        cmocka_unit_test(test_write),
        cmocka_unit_test(test_preflight),
        cmocka_unit_test(test_setup),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
