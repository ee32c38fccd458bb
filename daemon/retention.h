/*
 * retention — once a day (and shortly after start) deletes rows of
 * fetcher_logs, price_update_log and fetcher_statistics older than
 * LOG_RETENTION_DAYS, and asset_prices (intraday) rows older than
 * PRICE_INTRADAY_DAYS except each asset's newest, in small batches so no
 * long lock blocks the API, and logs how many went. Daily closes
 * (asset_prices_daily) and cycles are history and are kept.
 */
#ifndef FETCHER_RETENTION_H
#define FETCHER_RETENTION_H

#include "daemon.h"

struct retention;

struct retention *retention_setup(struct daemon *d);
void retention_free(struct retention *r);

#endif
