/*
 * search — asks the providers' own keyless symbol search, for
 * GET /api/fetcher/search: Yahoo's /v1/finance/search (then one v7 spark
 * request for the hits' currencies) at YAHOO_BASE_URL and CoinGecko's
 * /search at COINGECKO_BASE_URL, read by searchwire.h.
 *
 * fetcher-api makes these outgoing requests from an MHD worker thread
 * (unlike the alerts' webhook, which has a thread of its own): the thread is blocked while
 * they run, so every request is bounded (see search.c for the limits and
 * why) and at most SEARCH_MAX_CONCURRENT searches run at once in the whole
 * process; one more is refused at once (SEARCH_BUSY), never queued, so a
 * burst of searches cannot take every worker away from the dashboard.
 *
 * Thread-safe. search_setup() before the server starts (libcurl's global
 * initialisation is not), search_cleanup() after it stopped.
 */
#ifndef FETCHER_API_SEARCH_H
#define FETCHER_API_SEARCH_H

#include "searchwire.h"
#include "util.h"

#include <stddef.h>

enum { SEARCH_YAHOO = 1, SEARCH_COINGECKO = 2 };

/* Hits kept per provider: a list a person reads, not a data set. */
#define SEARCH_MAX_HITS 10
#define SEARCH_MAX_CONCURRENT 2

struct search_answer {
    struct search_hit hits[2 * SEARCH_MAX_HITS]; /* Yahoo's first, then CoinGecko's */
    size_t n;
    size_t skipped; /* results left out (options, currencies, …) */
    /* why a provider gave nothing ("" when it answered): index 0 Yahoo, 1
     * CoinGecko */
    char error[2][200];
    int asked[2]; /* whether the provider was asked */
};

enum search_status { SEARCH_OK = 0, SEARCH_BUSY, SEARCH_FAILED };

int search_setup(void) MUST_CHECK;
void search_cleanup(void);

/* Searches q (already validated: 1 to 64 characters of text) with the
 * providers in mask. SEARCH_OK when at least one provider answered (its
 * hits in out; the others' reasons in out->error); SEARCH_FAILED when none
 * did (reasons in out->error); SEARCH_BUSY when SEARCH_MAX_CONCURRENT
 * searches are running. */
enum search_status search_run(const char *q, int mask, struct search_answer *out) MUST_CHECK;

#endif
