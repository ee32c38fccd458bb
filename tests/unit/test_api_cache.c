/*
 * Unit tests of api/cache.c: fresh entries are served; an expired one is
 * refreshed by one caller while the others still get it, up to 2 × TTL;
 * cleared ones are not served; replacement stays within CACHE_SLOTS, oversized bodies are
 * never stored, and the TTL 0 turns it all off.
 */
#include "cache.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

static void test_hit_expire_clear(void **state)
{
    (void)state;
    size_t len;
    int64_t age;
    cache_setup(150);
    assert_true(cache_enabled());
    assert_null(cache_get("/a", &len, &age));
    cache_put("/a", "{\"x\":1}", 7);
    char *b = cache_get("/a", &len, &age);
    assert_non_null(b);
    assert_int_equal(len, 7);
    assert_string_equal(b, "{\"x\":1}");
    assert_true(age >= 0 && age < 150);
    free(b);
    assert_null(cache_get("/a?x=1", &len, &age)); /* query is part of the key */
    cache_put("/a", "{\"x\":2}", 7);              /* replaces */
    b = cache_get("/a", &len, &age);
    assert_string_equal(b, "{\"x\":2}");
    free(b);
    usleep(200 * 1000);
    assert_null(cache_get("/a", &len, &age)); /* expired: this caller refreshes */
    b = cache_get("/a", &len, &age);          /* the others get it meanwhile */
    assert_non_null(b);
    assert_true(age >= 150 && age < 300);
    free(b);
    cache_put("/a", "{\"x\":3}", 7); /* refreshed */
    b = cache_get("/a", &len, &age);
    assert_string_equal(b, "{\"x\":3}");
    assert_true(age < 150);
    free(b);
    usleep(310 * 1000);
    assert_null(cache_get("/a", &len, &age)); /* past 2 × TTL: nobody gets it */
    assert_null(cache_get("/a", &len, &age));
    cache_put("/a", "1", 1);
    cache_clear();
    assert_null(cache_get("/a", &len, &age));
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
        cache_put(key, "v", 1);
    }
    int found = 0;
    for (int i = 0; i < CACHE_SLOTS * 3; i++) {
        snprintf(key, sizeof key, "/k%d", i);
        char *b = cache_get(key, &len, &age);
        found += b != NULL;
        free(b);
    }
    assert_int_equal(found, CACHE_SLOTS);
    char *big = calloc(1, CACHE_BODY_MAX + 2);
    memset(big, 'a', CACHE_BODY_MAX + 1);
    cache_put("/big", big, CACHE_BODY_MAX + 1);
    assert_null(cache_get("/big", &len, &age));
    free(big);
    cache_clear();
    cache_setup(0);
    assert_false(cache_enabled());
    cache_put("/off", "v", 1);
    assert_null(cache_get("/off", &len, &age));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hit_expire_clear),
        cmocka_unit_test(test_bounds),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
