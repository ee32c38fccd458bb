/*
 * alloc_fail — allocation failure on demand, in the spirit of curl's
 * torture tests: armed, it counts the allocations the code under test
 * asks for and fails the Nth (one only), so a test can run an input for
 * N = 1 … total and see every allocation fail once.
 *
 * What counts as an allocation: every malloc, calloc, realloc, strdup and
 * strndup our own objects call (the test binary is linked with
 * -Wl,--wrap=… for each, UNIT_LDFLAGS_… in tests/unit/deps_*.mk), and the
 * json-c calls of ours that allocate: json_tokener_new(_ex), which returns
 * NULL when out of memory, and json_tokener_parse(_ex) and
 * json_object_to_json_string_ext, which return NULL (the tokener's error
 * left at json_tokener_success: json-c 0.16, Debian 12's, reports an
 * allocation failure inside the parser no other way).
 *
 * What does not: allocations inside json-c, libcurl, libpq and libc
 * themselves. json-c 0.16 cannot survive its own: a failed strdup of an
 * object key crashes its tokener, and a failed number or string object
 * is dropped from the document without a word (and leaked). Those are
 * json-c's defects (fixed in 0.17), not ours to test.
 */
#ifndef FETCHER_TEST_ALLOC_FAIL_H
#define FETCHER_TEST_ALLOC_FAIL_H

#include <stddef.h>

/* Starts counting; the nth allocation from now fails (0: none fails). */
void af_arm(long nth);
/* The same, counting only the calls of fn ("malloc",
 * "json_tokener_parse_ex", …): a test of one failure's consequence. */
void af_arm_only(const char *fn, long nth);
/* Stops counting; returns the number of allocations counted. */
long af_disarm(void);
/* Whether the armed failure happened (the nth allocation was reached). */
int af_failed(void);

#endif
