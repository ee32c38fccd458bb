/*
 * cache — identical GET answers shared for a short time (API_CACHE_MS,
 * default 500 ms; 0 turns it off).
 *
 * Why: a dashboard fleet or a scraper asking the same URL many times a
 * second would otherwise cost a database round trip each; within the TTL
 * they get the stored body. What a client sees: "Age: <s>" and
 * "X-Cache: hit" on a stored answer, Cache-Control: no-store as always (no
 * one downstream may keep it). An answer is served for TTL; after that the
 * first request computes a new one and, only while it does, the others
 * still get the old one (so never older than 2 × TTL), rather than every
 * worker asking the database the same question at once. Any write request
 * through this API (track, pause, …) that was not refused (4xx) empties the
 * cache, so a client sees its own write at once; a refused one leaves it,
 * so a client cannot make every reader go to the database by sending
 * writes it may not make.
 *
 * Generations: a reader that missed computes its answer while a write may
 * commit and empty the cache; storing that answer afterwards would serve
 * the pre-write state for a whole TTL. So every clear starts a new
 * generation, a reader takes the generation before it asks the database,
 * and cache_put() drops an answer computed in an older one.
 *
 * Bounded: CACHE_SLOTS answers of at most CACHE_BODY_MAX bytes each, keyed
 * by path and query string as sent. Thread-safe (one mutex; the critical
 * sections copy a body and nothing else).
 */
#ifndef FETCHER_API_CACHE_H
#define FETCHER_API_CACHE_H

#include "util.h"

#include <stddef.h>
#include <stdint.h>

#define CACHE_SLOTS 32
#define CACHE_BODY_MAX (128 * 1024)
#define CACHE_KEY_MAX 512

/* Sets the TTL (ms, 0 = off). Call before the server starts. */
void cache_setup(int64_t ttl_ms);

/* The clock ages are measured with, monotonic milliseconds: NULL restores
 * util_mono_ms. For tests, which must not wait for real time to pass. */
void cache_set_clock(int64_t (*now_ms)(void));

/* The current generation; take it before computing an answer to store. */
uint64_t cache_generation(void);

/* 1 when caching is on. */
int cache_enabled(void);

/* On a servable entry for key: returns a malloc'd copy of the body (the
 * caller frees it), its length in *len and its age in *age_ms. Otherwise
 * NULL: the caller computes the answer (and stores it with cache_put). */
char *cache_get(const char *key, size_t *len, int64_t *age_ms);

/* Stores a copy of body under key (replacing an older one), when it was
 * computed in generation gen and no clear happened since. Too large, out
 * of memory or an older generation: not stored. */
void cache_put(const char *key, const char *body, size_t len, uint64_t gen);

/* Forgets every entry and starts a new generation. */
void cache_clear(void);

#endif
