/*
 * Unit tests of api/cache.c: fresh entries are served; an expired one is
 * refreshed by one caller while the others still get it, up to 2 × TTL;
 * cleared ones are not served; an answer computed before a clear is not
 * stored after it (generations); replacement stays within CACHE_SLOTS,
 * oversized bodies are never stored, and the TTL 0 turns it all off.
 * Time is the test's own clock (cache_set_clock), moved by hand: no test
 * depends on how fast this machine runs.
 */
#include "cache.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

static int64_t fake_now_ms = 1000000;

static int64_t fake_clock(void)
{
    return fake_now_ms;
}

static int setup(void **state)
{
    (void)state;
    cache_set_clock(fake_clock);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    cache_clear();
    cache_set_clock(NULL);
    return 0;
}

/* Stores body under key in the current generation, as the dispatcher does. */
static void put(const char *key, const char *body)
{
    cache_put(key, body, strlen(body), cache_generation());
}

/* The served body for key ("" when none) and its age. */
static const char *got(const char *key, int64_t *age)
{
    static char buf[64];
    size_t len;
    int64_t a = -1;
    char *b = cache_get(key, &len, &a);
    if (age != NULL)
        *age = a;
    if (b == NULL)
        return "";
    assert_int_equal(len, strlen(b));
    snprintf(buf, sizeof buf, "%s", b);
    free(b);
    return buf;
}

static void test_hit_expire_clear(void **state)
{
    (void)state;
    int64_t age;
    cache_setup(150);
    assert_true(cache_enabled());
    assert_string_equal(got("/a", NULL), "");
    put("/a", "{\"x\":1}");
    assert_string_equal(got("/a", &age), "{\"x\":1}");
    assert_int_equal(age, 0);
    assert_string_equal(got("/a?x=1", NULL), ""); /* query is part of the key */
    put("/a", "{\"x\":2}");                       /* replaces */
    fake_now_ms += 149;
    assert_string_equal(got("/a", &age), "{\"x\":2}"); /* fresh up to the TTL */
    assert_int_equal(age, 149);
    fake_now_ms += 1;
    assert_string_equal(got("/a", NULL), ""); /* expired: this caller refreshes */
    fake_now_ms += 100;
    assert_string_equal(got("/a", &age), "{\"x\":2}"); /* the others get it meanwhile */
    assert_int_equal(age, 250);
    put("/a", "{\"x\":3}"); /* refreshed */
    assert_string_equal(got("/a", &age), "{\"x\":3}");
    assert_int_equal(age, 0);
    fake_now_ms += 150;
    assert_string_equal(got("/a", NULL), ""); /* expired again: one refreshes… */
    fake_now_ms += 150;
    assert_string_equal(got("/a", NULL), ""); /* …but past 2 × TTL nobody gets it */
    assert_string_equal(got("/a", NULL), "");
    put("/a", "1");
    cache_clear();
    assert_string_equal(got("/a", NULL), "");
}

/* A reader misses, a write clears while the reader asks the database, then
 * the reader's (pre-write) answer arrives: it must not be served. */
static void test_generation(void **state)
{
    (void)state;
    cache_setup(10000);
    uint64_t g0 = cache_generation();
    assert_string_equal(got("/s", NULL), "");
    cache_clear();
    assert_true(cache_generation() != g0);
    cache_put("/s", "{\"pre\":1}", 9, g0);
    assert_string_equal(got("/s", NULL), "");
    /* An answer computed after the clear is stored as usual. */
    uint64_t g1 = cache_generation();
    cache_put("/s", "{\"post\":1}", 10, g1);
    assert_string_equal(got("/s", NULL), "{\"post\":1}");
    /* An old generation does not replace a newer answer either. */
    cache_put("/s", "{\"pre\":2}", 9, g0);
    assert_string_equal(got("/s", NULL), "{\"post\":1}");
    /* Expired and being refreshed by a reader when a write clears: that
     * reader's answer is dropped too, and the next reader computes. */
    fake_now_ms += 10000;
    uint64_t g2 = cache_generation();
    assert_string_equal(got("/s", NULL), ""); /* this reader refreshes */
    cache_clear();
    cache_put("/s", "{\"pre\":3}", 9, g2);
    assert_string_equal(got("/s", NULL), "");
}

static void test_bounds(void **state)
{
    (void)state;
    size_t len;
    int64_t age;
    cache_setup(10000);
    char key[32];
    for (int i = 0; i < CACHE_SLOTS * 3; i++) {
        snprintf(key, sizeof key, "/k%d", i);
        put(key, "v");
        fake_now_ms++; /* distinct ages: the oldest is replaced */
    }
    int found = 0;
    for (int i = 0; i < CACHE_SLOTS * 3; i++) {
        snprintf(key, sizeof key, "/k%d", i);
        const char *b = got(key, NULL);
        found += b[0] != '\0';
        if (i >= CACHE_SLOTS * 2 && b[0] == '\0')
            fail_msg("%s, one of the newest %d, was replaced", key, CACHE_SLOTS);
    }
    assert_int_equal(found, CACHE_SLOTS);
    char *big = calloc(1, CACHE_BODY_MAX + 2);
    memset(big, 'a', CACHE_BODY_MAX + 1);
    cache_put("/big", big, CACHE_BODY_MAX + 1, cache_generation());
    assert_null(cache_get("/big", &len, &age));
    free(big);
    cache_clear();
    cache_setup(0);
    assert_false(cache_enabled());
    put("/off", "v");
    assert_null(cache_get("/off", &len, &age));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_hit_expire_clear, setup, teardown),
        cmocka_unit_test_setup_teardown(test_generation, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bounds, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
