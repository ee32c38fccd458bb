/*
 * backfill — gives a tracked asset its daily history: five years of daily
 * closes from Yahoo's chart, a year from CoinGecko's market_chart, stored
 * in asset_prices_daily (upserted, the newest price_time of a day wins),
 * so that a newly tracked asset has its week, month and year change from
 * its first cycle on, not after a year.
 *
 * Which assets: the tracked ones whose assets.history_backfilled_at is
 * NULL (a failed one again an hour after its failure), looked for at
 * start, when fetcher-api tracks an asset (NOTIFY fetcher_backfill), and
 * every minute. Each goes through the fetch queue as a history request
 * (queue_submit_history: QPRIO_BACKGROUND, only into the gaps of scheduled
 * work) to the first of its sources that has one (providers with a
 * history request: yahoo, coingecko). Its answer is written in one
 * statement, and the round's end recalculates the portfolios.
 *
 * A round is the set of assets found while none was being backfilled; its
 * progress ("backfilling 12 of 40") goes out with the heartbeat.
 *
 * What it is not: it does no HTTP and parses no answer (upstream.c and the
 * providers hand it series), and holds no SQL text (sql.c).
 */
#ifndef FETCHER_BACKFILL_H
#define FETCHER_BACKFILL_H

#include "daemon.h"
#include "history.h"

#include <stdint.h>

struct backfill;

struct backfill_info {
    int64_t total;  /* assets in the current (or last) round */
    int64_t done;   /* of which answered: stored or failed */
    int64_t failed; /* of which failed */
    int64_t closes; /* daily closes received in the round */
    int active;     /* a round is running */
};

/* d is borrowed and must outlive it. NULL when out of memory. */
struct backfill *backfill_new(struct daemon *d);
/* Free after the queue, the dbconn and the writer (their callbacks point
 * here). NULL ok. */
void backfill_free(struct backfill *b);
/* Arms the once-a-minute look. Returns 0 or -1. */
int backfill_setup(struct backfill *b) MUST_CHECK;
/* Looks for assets to backfill now (a no-op while a look is in flight). */
void backfill_poke(struct backfill *b);
/* The upstream's history sink (upstream_set_history_sink, cls = b). */
void backfill_on_series(const char *provider, const char *symbol, struct history_series *s,
                        void *cls);
void backfill_get(const struct backfill *b, struct backfill_info *out);

#endif
