/*
 * Unit tests of common/config.c through config_load_from() with a lookup
 * table instead of the environment: defaults, each kind of value, and the
 * one-line error naming the variable for each kind of bad value.
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

struct kv {
    const char *name, *value;
};

/* cls is a NULL-terminated kv array. */
static const char *lookup(const char *name, void *cls)
{
    for (const struct kv *e = cls; e->name; e++)
        if (strcmp(e->name, name) == 0)
            return e->value;
    return NULL;
}

static void test_defaults(void **state)
{
    (void)state;
    struct kv none[] = {{NULL, NULL}};
    struct config c;
    char err[256] = "";
    assert_int_equal(config_load_from(&c, lookup, none, err, sizeof err), 0);
    assert_string_equal(c.database_url, "postgresql://fetcher@127.0.0.1:5433/fetcher");
    assert_int_equal(c.fetch_interval_s, 600);
    assert_int_equal(c.log_retention_days, 30);
    assert_int_equal(c.heartbeat_s, 5);
    assert_string_equal(c.alert_webhook_url, "");
    assert_string_equal(c.alert_webhook_format, "json");
    assert_int_equal(c.alert_after_s, 600);
    assert_int_equal(c.alert_failed_cycles, 3);
    assert_int_equal(c.api_port, 8080);
    assert_string_equal(c.api_token, "");
    assert_string_equal(c.yahoo_base_url, "https://query1.finance.yahoo.com");
    assert_string_equal(c.coingecko_base_url, "https://api.coingecko.com/api/v3");
    assert_int_equal(c.fetch_concurrency, 8);
    assert_int_equal(c.coingecko_batch, 100);
    assert_int_equal(c.max_body_bytes, 1048576);
    assert_string_equal(c.log_level, "INFO");
}

/* Good values: variable, value, and a check of the field. */
struct good_case {
    const char *name, *value;
    size_t offset; /* of the field in struct config */
    int is_int;
    int64_t want_i;
    const char *want_s;
};

#define F(field) offsetof(struct config, field)

static void test_good_values(void **state)
{
    (void)state;
    static const struct good_case cases[] = {
        {"FETCH_INTERVAL", "10m", F(fetch_interval_s), 1, 600, NULL},
        {"FETCH_INTERVAL", "30s", F(fetch_interval_s), 1, 30, NULL},
        {"FETCH_INTERVAL", "1h", F(fetch_interval_s), 1, 3600, NULL},
        {"FETCH_INTERVAL", "90", F(fetch_interval_s), 1, 90, NULL},
        {"FETCH_INTERVAL", "7d", F(fetch_interval_s), 1, 7 * 86400, NULL},
        {"FETCH_INTERVAL", "1s", F(fetch_interval_s), 1, 1, NULL},
        {"HEARTBEAT_INTERVAL", "1m", F(heartbeat_s), 1, 60, NULL},
        {"API_PORT", "1", F(api_port), 1, 1, NULL},
        {"API_PORT", "65535", F(api_port), 1, 65535, NULL},
        {"LOG_RETENTION_DAYS", "3650", F(log_retention_days), 1, 3650, NULL},
        {"FETCH_CONCURRENCY", "256", F(fetch_concurrency), 1, 256, NULL},
        {"COINGECKO_BATCH", "1", F(coingecko_batch), 1, 1, NULL},
        {"FETCH_MAX_BODY", "1024", F(max_body_bytes), 1, 1024, NULL},
        {"YAHOO_BASE_URL", "http://127.0.0.1:9000", F(yahoo_base_url), 0, 0,
         "http://127.0.0.1:9000"},
        {"YAHOO_BASE_URL", "http://127.0.0.1:9000///", F(yahoo_base_url), 0, 0,
         "http://127.0.0.1:9000"}, /* trailing slashes dropped */
        {"COINGECKO_BASE_URL", "https://pro-api.coingecko.com/api/v3/", F(coingecko_base_url), 0, 0,
         "https://pro-api.coingecko.com/api/v3"},
        {"FX_BASE_URL", "https://fx.example", F(fx_base_url), 0, 0, "https://fx.example"},
        {"LOG_LEVEL", "DEBUG", F(log_level), 0, 0, "DEBUG"},
        {"LOG_LEVEL", "warning", F(log_level), 0, 0, "warning"}, /* any case */
        {"FETCHER_API_TOKEN", "s3cret", F(api_token), 0, 0, "s3cret"},
        {"API_BIND", "0.0.0.0", F(api_bind), 0, 0, "0.0.0.0"},
        {"FETCHER_API_TOKEN", "", F(api_token), 0, 0, ""},
        {"ALERT_WEBHOOK_URL", "https://hooks.slack.com/services/T0/B0/x?y=1", F(alert_webhook_url),
         0, 0, "https://hooks.slack.com/services/T0/B0/x?y=1"}, /* kept whole, slashes too */
        {"ALERT_WEBHOOK_URL", "", F(alert_webhook_url), 0, 0, ""},
        {"ALERT_WEBHOOK_FORMAT", "slack", F(alert_webhook_format), 0, 0, "slack"},
        {"ALERT_WEBHOOK_FORMAT", "json", F(alert_webhook_format), 0, 0, "json"},
        {"ALERT_AFTER", "30s", F(alert_after_s), 1, 30, NULL},
        {"ALERT_FAILED_CYCLES", "1", F(alert_failed_cycles), 1, 1, NULL},
    };
    for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
        const struct good_case *g = &cases[i];
        struct kv env[] = {{g->name, g->value}, {NULL, NULL}};
        struct config c;
        char err[256] = "";
        int rc = config_load_from(&c, lookup, env, err, sizeof err);
        if (rc != 0)
            fail_msg("%s=%s refused: %s", g->name, g->value, err);
        const char *field = (const char *)&c + g->offset;
        if (g->is_int) {
            int64_t v;
            memcpy(&v, field, sizeof v);
            assert_true(v == g->want_i);
        } else {
            assert_string_equal(field, g->want_s);
        }
    }
}

struct bad_case {
    const char *name, *value;
    const char *also; /* another substring the message must hold, or NULL */
};

static void test_bad_values(void **state)
{
    (void)state;
    char longv[1100];
    memset(longv, 'a', sizeof longv - 1);
    longv[sizeof longv - 1] = '\0';
    static char longurl[600];
    memcpy(longurl, "https://", 8);
    memset(longurl + 8, 'h', sizeof longurl - 9);
    longurl[sizeof longurl - 1] = '\0';
    const struct bad_case cases[] = {
        {"FETCH_INTERVAL", "abc", "'abc'"},
        {"FETCH_INTERVAL", "12abc", "duration"},
        {"FETCH_INTERVAL", "", NULL},
        {"FETCH_INTERVAL", "-", NULL},
        {"FETCH_INTERVAL", "0s", NULL}, /* below the minimum */
        {"FETCH_INTERVAL", "0", NULL},
        {"FETCH_INTERVAL", "8d", NULL}, /* above the maximum */
        {"FETCH_INTERVAL", "-10m", NULL},
        {"FETCH_INTERVAL", "10 m", NULL},
        {"FETCH_INTERVAL", "99999999999999999999", NULL},
        {"HEARTBEAT_INTERVAL", "2m", NULL},
        {"STATS_PERSIST_INTERVAL", "1w", NULL},
        {"FETCH_TIMEOUT", "0", NULL},
        {"API_PORT", "0", "1 to 65535"},
        {"API_PORT", "65536", NULL},
        {"API_PORT", "80x", NULL},
        {"API_PORT", "-1", NULL},
        {"API_PORT", " 80", NULL},
        {"API_PORT", "99999999999999999999999", NULL},
        {"API_THREADS", "65", NULL},
        {"LOG_RETENTION_DAYS", "0", NULL},
        {"COINGECKO_BATCH", "501", NULL},
        {"FETCH_CONCURRENCY", "0", NULL},
        {"FETCH_MAX_BODY", "1023", NULL},
        {"YAHOO_BASE_URL", "ftp://example.com", "http"},
        {"YAHOO_BASE_URL", "query1.finance.yahoo.com", NULL},
        {"YAHOO_BASE_URL", "", NULL},
        {"YAHOO_BASE_URL", "https://", NULL}, /* no host */
        {"YAHOO_BASE_URL", "http:///", NULL},
        {"COINGECKO_BASE_URL", "javascript:alert(1)", NULL},
        {"FX_BASE_URL", "file:///etc/passwd", NULL},
        {"YAHOO_BASE_URL", longurl, "longer than"},
        {"LOG_LEVEL", "VERBOSE", "DEBUG"},
        {"LOG_LEVEL", "", NULL},
        {"DATABASE_URL", longv, "longer than"},
        {"API_BIND", longv, NULL},
        {"ALERT_WEBHOOK_FORMAT", "xml", "json|slack"},
        {"ALERT_WEBHOOK_FORMAT", "", NULL},
        {"ALERT_WEBHOOK_FORMAT", "jsonx", NULL},
        {"ALERT_WEBHOOK_URL", "hooks.example/x", "not shown"},
        {"ALERT_WEBHOOK_URL", "https://", NULL},
        {"ALERT_AFTER", "0s", NULL},
        {"ALERT_FAILED_CYCLES", "0", NULL},
    };
    for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
        const struct bad_case *b = &cases[i];
        struct kv env[] = {{b->name, b->value}, {NULL, NULL}};
        struct config c;
        char err[256] = "";
        int rc = config_load_from(&c, lookup, env, err, sizeof err);
        if (rc != -1)
            fail_msg("%s='%.40s' accepted", b->name, b->value);
        /* one line, starting with the variable's name */
        assert_true(strncmp(err, b->name, strlen(b->name)) == 0);
        assert_int_equal(err[strlen(b->name)], ':');
        assert_null(strchr(err, '\n'));
        if (b->also && strstr(err, b->also) == NULL)
            fail_msg("%s: '%s' lacks '%s'", b->name, err, b->also);
        /* a webhook URL may hold a secret: never repeated */
        if (strcmp(b->name, "ALERT_WEBHOOK_URL") == 0 && strlen(b->value) > 8 &&
            strstr(err, b->value))
            fail_msg("%s: '%s' repeats the value", b->name, err);
    }
}

/* The message fits any buffer (truncated, still terminated). */
static void test_small_err_buffer(void **state)
{
    (void)state;
    struct kv env[] = {{"FETCH_INTERVAL", "abc"}, {NULL, NULL}};
    struct config c;
    char err[16];
    memset(err, 'X', sizeof err);
    assert_int_equal(config_load_from(&c, lookup, env, err, 10), -1);
    assert_int_equal(strlen(err), 9);
    assert_string_equal(err, "FETCH_INT");
    assert_int_equal(err[10], 'X');
}

/* config_load reads the real environment. */
static void test_getenv(void **state)
{
    (void)state;
    struct config c;
    char err[256] = "";
    assert_int_equal(setenv("FETCH_INTERVAL", "2m", 1), 0);
    assert_int_equal(config_load(&c, err, sizeof err), 0);
    assert_int_equal(c.fetch_interval_s, 120);
    assert_int_equal(setenv("FETCH_INTERVAL", "abc", 1), 0);
    assert_int_equal(config_load(&c, err, sizeof err), -1);
    assert_non_null(strstr(err, "FETCH_INTERVAL"));
    unsetenv("FETCH_INTERVAL");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults),   cmocka_unit_test(test_good_values),
        cmocka_unit_test(test_bad_values), cmocka_unit_test(test_small_err_buffer),
        cmocka_unit_test(test_getenv),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
