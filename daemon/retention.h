/*
 * retention — the upkeep of fetcherd's growing tables, on the loop:
 *
 * - Partitions (migration 009): every hour (and shortly after start) makes
 *   sure fetcher_logs and price_update_log have their day partitions from
 *   yesterday to RETENTION_DAYS_AHEAD days ahead. Several fetcherd may do
 *   it at once: the database function takes an advisory lock.
 * - Retention: once a day (and shortly after start) drops the day
 *   partitions of fetcher_logs and price_update_log whose whole UTC day is
 *   older than LOG_RETENTION_DAYS — so no row older than the start of the
 *   bound's day is left, and rows younger than the bound stay; deletes
 *   fetcher_statistics rows older than LOG_RETENTION_DAYS and asset_prices
 *   (intraday) rows older than PRICE_INTRADAY_DAYS except each asset's
 *   newest, in small batches so no long lock blocks the API; and logs how
 *   many rows went. Daily closes (asset_prices_daily) and cycles are
 *   history and are kept.
 */
#ifndef FETCHER_RETENTION_H
#define FETCHER_RETENTION_H

#include "daemon.h"

/* Days of partitions created ahead of today. */
#define RETENTION_DAYS_AHEAD 3

struct retention;

struct retention *retention_setup(struct daemon *d);
void retention_free(struct retention *r);

#endif
