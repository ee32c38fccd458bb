/*
 * validate — the sanity check every upstream quote passes before it is
 * recorded: price finite and > 0, currency as the asset expects, time
 * neither in the future nor too old. Pure (the clock is an argument), so the
 * unit test can pin every rule with a table.
 *
 * What it is not: it does not know providers or assets; the cycle passes in
 * what the asset expects.
 */
#ifndef FETCHER_VALIDATE_H
#define FETCHER_VALIDATE_H

#include "quote.h"

#include <stddef.h>
#include <stdint.h>

/* Prices outside asset_prices.price's numeric(30,10) are refused. */
#define VALIDATE_PRICE_MIN 1e-10
#define VALIDATE_PRICE_MAX 1e20
/* Rates outside exchange_rates.rate's numeric(30,12): 18 integer digits. */
#define VALIDATE_RATE_MAX 1e18
/* A quote stamped more than this in the future is refused (clock skew). */
#define VALIDATE_FUTURE_SLACK_S 300

/* Turns a bad QUOTE_OK quote into a QUOTE_PERMANENT one with the reason in
 * q->error; leaves failures alone. now_s is the wall clock in unix seconds;
 * max_age_s <= 0 disables the staleness check; price_time 0 means unknown
 * and passes, a negative one fails. A good quote without a currency gets expected_currency. */
void validate_quote(struct quote *q, const char *expected_currency, int64_t now_s,
                    int64_t max_age_s);

/* Only the currency rule of validate_quote(): returns 1 when q's currency
 * (a minor unit read as its major one: "GBp" is GBP) is expected_currency
 * or either is unknown (empty/NULL), else 0 with the same reason
 * validate_quote() would give ("currency mismatch: answer in EUR, asset
 * is priced in USD"). q is not changed. The fetch queue asks it of each
 * answer before it takes it, so a wrong currency fails over. */
int validate_currency(const struct quote *q, const char *expected_currency, char *why,
                      size_t whylen);

/* validate_quote() for an exchange rate (USD → ccy), which must also fit
 * its column: one rate the column cannot hold would make the database
 * refuse the whole statement with every other rate in it. */
void validate_rate(struct quote *q, const char *ccy, int64_t now_s, int64_t max_age_s);

/* Whether a price moved suspiciously far since the last one: returns 1 when
 * |now - last| / last > max_ratio (a relative move, so 0.5 flags 100 -> 151
 * and 100 -> 49, not 100 -> 150 or 100 -> 50), with a sentence for the log in
 * why ("price moved +62.0% since the last one (100 -> 162), more than 50%");
 * else 0 and why = "". Never flags when there is nothing to compare with:
 * last not finite or <= 0 (no previous price), now not finite or <= 0
 * (validate_quote refuses those anyway), max_ratio not finite or <= 0
 * (check disabled). Pure. The price is still stored; the caller logs a
 * WARNING. */
int validate_move(double last, double now, double max_ratio, char *why, size_t whylen);

#endif
