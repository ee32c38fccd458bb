/*
 * assets — the tracked assets a piece of work fetches: read from the
 * database, or, while it is away, the last list read (so fetching goes on
 * on schedule), together with the currencies that need a USD rate.
 *
 * What it is not: it fetches no prices and writes nothing; the SQL text is
 * in sql.c.
 */
#ifndef FETCHER_ASSETS_H
#define FETCHER_ASSETS_H

#include "dbconn.h"
#include "loop.h"

#include <stddef.h>
#include <stdint.h>

/* One tracked asset. Field sizes follow the schema's CHECKs (symbol ≤ 32,
 * provider ≤ 32 but ours are short, provider_symbol ≤ 64, currency 3
 * letters): a list may hold ten thousand of these. */
struct asset {
    int64_t id;
    char symbol[33];
    char type[12];
    char currency[4];
    char provider[16];
    char psym[65];
    char sources[64];  /* assets.sources, comma-separated; "" = its class's */
    int64_t age_s;     /* since its last update when read; -1 = never */
    double last_price; /* 0 = none */
    /* What the schedule's question (fetcher_due_assets) said when read:
     * due now; or stale but its market is closed (skipped, counted). A
     * list from the cache (database away) says neither: due_known = 0. */
    uint8_t due_known, due, market_closed;
    uint8_t never; /* its bound is 'never': fetched only when someone asks */
};

/* An immutable, reference-counted list of assets, shared by the cache and
 * the work using it. */
struct asset_list;
size_t asset_list_len(const struct asset_list *l);
/* i < asset_list_len(l); borrowed for as long as the caller's reference. */
const struct asset *asset_list_at(const struct asset_list *l, size_t i);
/* Adds a reference and returns l. NULL is passed through. */
struct asset_list *asset_list_ref(struct asset_list *l);
/* Drops a reference; the last one frees. NULL is a no-op. */
void asset_list_release(struct asset_list *l);
/* The database's time of the check that read the list (RFC 3339), or ""
 * (a cached list, or named assets): what the rows' last_attempt_at gets. */
const char *asset_list_checked_at(const struct asset_list *l);

/* The rows of a statement whose first nine columns are
 * SQL_TRACKED_ASSETS' (the fleet's claims) as a new list, one reference
 * for the caller; NULL when out of memory. */
struct asset_list *assets_from_rows(const PGresult *res);

/* The last list and currencies read successfully, kept between cycles. */
struct asset_cache;
struct asset_cache *asset_cache_new(void);
void asset_cache_free(struct asset_cache *ac);
/* Assets known, or -1 before the first successful read. */
int asset_cache_count(const struct asset_cache *ac);

/* What the schedule asks the database (fetcher_due_assets, migration
 * 010): the check interval, the bounds per type as JSON ({"crypto": 60,
 * "bond": -1}), the default bound, whether markets have hours. Copied. */
struct due_params {
    int64_t check_s, default_s;
    char bounds_json[512];
    int market_hours;
};
void asset_cache_set_due(struct asset_cache *ac, const struct due_params *p);

/* What a read delivers. list is a reference the callback takes over (NULL
 * when there is none: error then says why). ccy (nccy currencies other
 * than USD, three letters each) is borrowed for the callback only. note is
 * NULL, or says that the cached list stands in for the database's. */
struct asset_answer {
    struct asset_list *list;
    const char (*ccy)[4];
    size_t nccy;
    const char *note;
    const char *error;
};

typedef void (*assets_cb)(const struct asset_answer *answer, void *cls);

struct assets_read;

/* Reads the tracked assets and the currencies in use, refreshing ac; with
 * the database away (or the read failing) answers with ac's last list and
 * a note, or with an error before the first successful read. ac is
 * borrowed and must outlive the read. Returns a handle, or NULL (out of
 * memory: cb never runs); cb then runs exactly once, never inside this
 * call. */
struct assets_read *assets_read_tracked(struct loop *l, struct dbconn *db, struct asset_cache *ac,
                                        assets_cb cb, void *cls);
/* Reads the tracked assets named in symbols_json (a JSON array of
 * symbols; copied). No cache, no currencies: a failure is an error. Same
 * contract as assets_read_tracked. */
struct assets_read *assets_read_named(struct loop *l, struct dbconn *db, const char *symbols_json,
                                      assets_cb cb, void *cls);
/* Stops a read whose callback has not run; the callback never runs. */
void assets_read_cancel(struct assets_read *r);

#endif
