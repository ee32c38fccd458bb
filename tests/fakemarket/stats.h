/*
 * stats — fakemarket's request counters, the answer of GET /_stats:
 *
 *   {"requests_total":N,"by_path":{"/v8/finance/chart":n,...},
 *    "by_symbol":{"AAPL":n,"bitcoin":n,"XBTUSD":n,...},
 *    "by_asset":{"AAPL":n,"bitcoin":n,...},"api_key_requests":n}
 *
 * Tests read them to prove what the daemon did upstream: one spark request
 * for a batch of ten, no second request within the cache TTL, the API key
 * header sent. Every provider request counts once in requests_total and
 * once under its path; each distinct symbol named in it counts once.
 * by_asset adds up by_symbol per asset, under the name asset_of() gives a
 * symbol (fakemarket's: the CoinGecko id for another source's name of the
 * same coin, XBTUSD, BTC-USD and BTCUSDT → bitcoin): the fetches of an
 * asset whichever source was asked, which is what a test that counts rows
 * per asset needs once failover may ask another source.
 *
 * Thread-safe (one mutex; the server answers from a thread per connection)
 * and bounded: after max_symbols distinct symbols, new ones only raise an
 * "untracked_symbols" figure, which appears in the JSON only when non-zero
 * so the normal answer keeps exactly the five keys above.
 */
#ifndef FAKEMARKET_STATS_H
#define FAKEMARKET_STATS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util.h"

struct fm_stats;

/* Names the asset a symbol stands for (a static string or the symbol). */
typedef const char *(*fm_asset_of)(const char *symbol);

/* A new, zeroed set of counters; the paths in seed_paths (static strings,
 * may be NULL when n_seed is 0) always appear in by_path, even at zero, so
 * readers need not treat a missing key as zero. asset_of (NULL: every
 * symbol is its own asset) names the keys of by_asset. NULL on allocation
 * failure. */
struct fm_stats *fm_stats_new(size_t max_symbols, const char *const *seed_paths, size_t n_seed,
                              fm_asset_of asset_of);

/* Frees everything; NULL is a no-op. No other thread may still use it. */
void fm_stats_free(struct fm_stats *st);

/* Counts one provider request for path (a static string: it is kept, not
 * copied) naming symbols[0..n) (copied when first seen; duplicates within
 * the request count once). api_key: the request carried a CoinGecko key.
 * Returns 0, or -1 if a symbol could not be stored (out of memory): the
 * request and the other symbols are still counted. */
int fm_stats_count(struct fm_stats *st, const char *path, const char *const *symbols, size_t n,
                   bool api_key);

/* Zeroes every counter and forgets every symbol. */
void fm_stats_reset(struct fm_stats *st);

/* The /_stats JSON. Caller frees the returned string with free(); *len
 * gets its length. NULL on allocation failure. */
char *fm_stats_render(struct fm_stats *st, size_t *len) MUST_CHECK;

/* Read single figures (for tests and logs). Unknown path or symbol → 0. */
uint64_t fm_stats_total(struct fm_stats *st);
uint64_t fm_stats_path(struct fm_stats *st, const char *path);
uint64_t fm_stats_symbol(struct fm_stats *st, const char *symbol);
uint64_t fm_stats_untracked(struct fm_stats *st);

#endif
