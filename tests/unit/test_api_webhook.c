/*
 * Unit tests of api/webhook.c's rules — what a URL looks like in the log
 * (no user, password, path or query), what an answer means (deliver,
 * retry, reject), the backoff, and both payloads: the json document's
 * fields, and Slack's message with &, < and > escaped and texts cut to
 * fit, never inside a UTF-8 character.
 */
#include "webhook.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

static void redacted(const char *url, const char *want)
{
    char out[160];
    webhook_redact(url, out, sizeof out);
    assert_string_equal(out, want);
}

static void test_redact(void **state)
{
    (void)state;
    redacted("https://hooks.slack.com/services/T000/B000/XXXXSECRET", "https://hooks.slack.com/…");
    redacted("http://user:pass@127.0.0.1:8099/hook?token=abc#frag", "http://127.0.0.1:8099/…");
    redacted("https://example.com", "https://example.com");
    redacted("https://example.com/", "https://example.com");
    redacted("https://example.com?key=secret", "https://example.com/…");
    redacted("https://a@b@example.com:444/x", "https://example.com:444/…");
    redacted("http://[::1]:9000/p", "http://[::1]:9000/…");
    /* nothing of the secret survives, whatever the shape */
    const char *urls[] = {"https://u:s3cret@h/s3cret?s3cret", "http://h/p/s3cret",
                          "http://h?q=s3cret", "http://s3cret@h"};
    for (size_t i = 0; i < 4; i++) {
        char out[160];
        webhook_redact(urls[i], out, sizeof out);
        assert_null(strstr(out, "s3cret"));
    }
}

static void test_judge_and_backoff(void **state)
{
    (void)state;
    assert_int_equal(webhook_judge(200), WEBHOOK_DELIVERED);
    assert_int_equal(webhook_judge(204), WEBHOOK_DELIVERED);
    assert_int_equal(webhook_judge(0), WEBHOOK_RETRY);
    assert_int_equal(webhook_judge(500), WEBHOOK_RETRY);
    assert_int_equal(webhook_judge(503), WEBHOOK_RETRY);
    assert_int_equal(webhook_judge(408), WEBHOOK_RETRY);
    assert_int_equal(webhook_judge(429), WEBHOOK_RETRY);
    assert_int_equal(webhook_judge(400), WEBHOOK_REJECTED);
    assert_int_equal(webhook_judge(404), WEBHOOK_REJECTED);
    assert_int_equal(webhook_judge(410), WEBHOOK_REJECTED);
    assert_int_equal(webhook_judge(301), WEBHOOK_REJECTED);
    assert_int_equal(webhook_backoff_ms(1, 0), 1000);
    assert_int_equal(webhook_backoff_ms(2, 0), 2000);
    assert_int_equal(webhook_backoff_ms(5, 0), 16000);
    assert_int_equal(webhook_backoff_ms(40, 0), WEBHOOK_BACKOFF_MAX_MS);
    assert_int_equal(webhook_backoff_ms(1, 30), 30000); /* the receiver asks for longer */
    assert_int_equal(webhook_backoff_ms(6, 2), 32000);  /* … never shorter */
    assert_int_equal(webhook_backoff_ms(1, 86400), WEBHOOK_BACKOFF_MAX_MS);
}

static json_object *payload(const char *format, const struct webhook_notice *n)
{
    struct jbuf b;
    jbuf_init(&b);
    webhook_payload(format, n, &b);
    assert_true(jbuf_ok(&b));
    json_object *o = json_tokener_parse(jbuf_text(&b));
    if (o == NULL)
        fail_msg("not JSON: %s", jbuf_text(&b));
    jbuf_free(&b);
    return o;
}

static const char *str(json_object *o, const char *key)
{
    json_object *v = NULL;
    if (!json_object_object_get_ex(o, key, &v))
        fail_msg("no %s", key);
    return json_object_get_string(v);
}

static void test_json_payload(void **state)
{
    (void)state;
    struct webhook_notice n = {.id = 12,
                               .kind = ALERT_PROVIDER_OFFLINE,
                               .subject = "yahoo",
                               .severity = "warning",
                               .summary = "yahoo has failed as a whole for 10m",
                               .started_ms = 1796569200000};
    json_object *o = payload("json", &n);
    assert_string_equal(str(o, "source"), "fetcherd");
    assert_string_equal(str(o, "alert"), "provider_offline");
    assert_string_equal(str(o, "title"), "provider offline");
    assert_string_equal(str(o, "subject"), "yahoo");
    assert_string_equal(str(o, "status"), "firing");
    assert_string_equal(str(o, "severity"), "warning");
    assert_string_equal(str(o, "summary"), "yahoo has failed as a whole for 10m");
    assert_string_equal(str(o, "started_at"), "2026-12-06T15:00:00.000Z");
    json_object *v = NULL;
    assert_true(json_object_object_get_ex(o, "resolved_at", &v));
    assert_null(v);
    assert_true(json_object_object_get_ex(o, "id", &v));
    assert_int_equal(json_object_get_int64(v), 12);
    json_object_put(o);
    n.resolved = 1;
    n.resolved_ms = n.started_ms + 90500;
    o = payload("json", &n);
    assert_string_equal(str(o, "status"), "resolved");
    assert_string_equal(str(o, "resolved_at"), "2026-12-06T15:01:30.500Z");
    assert_true(json_object_object_get_ex(o, "duration_seconds", &v));
    assert_float_equal(json_object_get_double(v), 90.5, 1e-9);
    json_object_put(o);
}

static void test_slack_payload(void **state)
{
    (void)state;
    struct webhook_notice n = {.id = 3,
                               .kind = ALERT_PRICES_STALE,
                               .subject = "stock",
                               .severity = "warning",
                               .summary = "AT&T <b> 2 > 1",
                               .started_ms = 1796569200000};
    json_object *o = payload("slack", &n);
    assert_string_equal(str(o, "text"),
                        "[FIRING] fetcherd: prices stale (stock) — AT&amp;T &lt;b&gt; 2 &gt; 1");
    json_object *blocks = NULL, *b0, *b1, *t, *el;
    assert_true(json_object_object_get_ex(o, "blocks", &blocks));
    assert_int_equal(json_object_array_length(blocks), 2);
    b0 = json_object_array_get_idx(blocks, 0);
    b1 = json_object_array_get_idx(blocks, 1);
    assert_string_equal(str(b0, "type"), "section");
    assert_true(json_object_object_get_ex(b0, "text", &t));
    assert_string_equal(str(t, "type"), "mrkdwn");
    assert_non_null(strstr(str(t, "text"), "*[FIRING] fetcherd: prices stale — stock*\n"));
    assert_string_equal(str(b1, "type"), "context");
    assert_true(json_object_object_get_ex(b1, "elements", &el));
    assert_int_equal(json_object_array_length(el), 1);
    assert_string_equal(str(json_object_array_get_idx(el, 0), "text"),
                        "alert #3 · warning · started 2026-12-06T15:00:00.000Z");
    json_object_put(o);
    /* a long summary of escapes and multi-byte characters is cut, within
     * Slack's 3000 and on a character boundary (json-c would refuse
     * invalid UTF-8 otherwise) */
    for (size_t i = 0; i + 3 < sizeof n.summary; i += 3)
        memcpy(n.summary + i, i % 2 ? "&&&" : "\xc3\xa9&", 3);
    n.summary[sizeof n.summary - 1] = '\0';
    n.resolved = 1;
    n.resolved_ms = n.started_ms + 1000;
    o = payload("slack", &n);
    assert_true(strlen(str(o, "text")) < 1100);
    assert_true(json_object_object_get_ex(o, "blocks", &blocks));
    b0 = json_object_array_get_idx(blocks, 0);
    assert_true(json_object_object_get_ex(b0, "text", &t));
    assert_true(strlen(str(t, "text")) <= 3000);
    assert_non_null(strstr(str(o, "text"), "[RESOLVED]"));
    json_object_put(o);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_redact),
        cmocka_unit_test(test_judge_and_backoff),
        cmocka_unit_test(test_json_payload),
        cmocka_unit_test(test_slack_payload),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
