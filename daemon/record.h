/*
 * record — the rows a piece of work hands to the writer: one
 * price_update_log (and asset_prices) row per asset answer, the
 * fetcher_cycles row, the exchange rates. Serialises them as the JSON
 * batches sql.c's statements unpack, and queues them.
 *
 * What it is not: it decides nothing about a cycle (cycle.c) and holds no
 * SQL text (sql.c).
 */
#ifndef FETCHER_RECORD_H
#define FETCHER_RECORD_H

#include "assets.h"
#include "quote.h"
#include "writer.h"

#include <stddef.h>
#include <stdint.h>

/* One asset's answer, compact: a cycle may hold ten thousand. */
struct asset_result {
    const struct asset *a;
    int64_t price_time;
    double price;
    char *error; /* the reason (malloc'd) when it failed, else NULL */
    int32_t duration_ms;
    int16_t http_status;
    uint8_t kind; /* enum quote_error_kind */
    uint8_t skipped;
    uint8_t time_basis; /* enum quote_time_basis */
    char currency[8];
    char quoted_currency[8]; /* "GBp" when a minor unit was converted */
    /* where the listing trades, when the answer said (malloc'd, owned by
     * the cycle; only Yahoo's answers carry it, so most keep NULL here) */
    struct quote_market *market;
    char source[16]; /* the provider that answered */
    char *failover;  /* why the first source did not (malloc'd), or NULL */
    uint8_t probe;   /* the answer was a down provider's probe (quote.h) */
    /* sources the asset had this time (daemon/sources.h; 1 = no second
     * source), 0 when none was resolved */
    uint8_t source_count;
    /* the cross-check's record (price_update_log.crosscheck: a JSON
     * object, malloc'd), or NULL when the asset was not cross-checked */
    char *crosscheck;
};

/* An exchange rate asked for (USD → ccy) and its answer. */
struct rate_result {
    char ccy[4];
    struct quote q;
};

/* Who the rows belong to. instance_id is borrowed for the call. */
struct record_owner {
    struct writer *writer;
    const char *instance_id;
    int64_t cycle_seq; /* 0: rows without a cycle */
    /* The database's time of the check that found the assets due (their
     * last_attempt_at), or NULL/"": the time of the write. Borrowed. */
    const char *asked;
};

/* Queues results[0, n) (the skipped ones left out, and those cancelled by
 * shutdown: neither was an update nor a failure) as record_updates
 * statements of at most a few hundred rows each, stamped now_wall. Each
 * statement's JSON is built only when the writer is ready to send it, so
 * results are borrowed until every done has run. Returns how many
 * statements were queued: done(cls) runs exactly once for each, never
 * inside this call. */
size_t record_results(const struct record_owner *o, const struct asset_result *results, size_t n,
                      int64_t now_wall, writer_cb done, void *cls);

/* The fetcher_cycles row, as stmt (SQL_CYCLE_START or SQL_CYCLE_FINISH)
 * takes it. Strings are borrowed for the call; error may be NULL; times
 * are wall-clock ms. */
struct record_cycle {
    int64_t id; /* the reserved fetcher_cycles.id, or 0: the database picks */
    const char *trigger, *status, *error;
    int64_t started_wall_ms, finished_wall_ms, duration_ms;
    int64_t total, succeeded, failed, skipped, upstream_requests;
    int64_t market_closed; /* of skipped: market closed */
};
void record_cycle_row(const struct record_owner *o, const char *stmt,
                      const struct record_cycle *row);

/* Queues the rates that came back; logs a WARNING for each missing one
 * (portfolios then list the positions they could not convert). Returns
 * how many were queued. */
int record_rates(const struct record_owner *o, const struct rate_result *rates, size_t n);

#endif
