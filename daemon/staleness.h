/*
 * staleness — how old an asset's price may get before a scheduled cycle
 * fetches it again, per asset type (FETCH_STALENESS="stock=10m,bond=1d";
 * every type defaults to the fetch interval). Pure: parsing and the "is it
 * due" rule, for the cycle and the unit tests.
 */
#ifndef FETCHER_STALENESS_H
#define FETCHER_STALENESS_H

#include "util.h"

#include <stdint.h>

#define STALENESS_TYPES 8

struct staleness {
    int64_t bound_s[STALENESS_TYPES];
};

/* The asset types of the schema, in table order. */
extern const char *const staleness_type_names[STALENESS_TYPES];

/* Parses spec over default_s for every type. An unknown type or a bad
 * duration → -1 with one line in err naming it. */
int staleness_parse(const char *spec, int64_t default_s, struct staleness *out, char *err,
                    size_t errlen) MUST_CHECK;

/* The bound for type (an unknown type gets the largest bound's opposite:
 * always due, so nothing is silently never fetched). */
int64_t staleness_bound(const struct staleness *s, const char *type);

/* The bounds as the database's fetcher_due_assets takes them:
 * {"stock":600,"etf":600,…} (seconds). Returns 0, or -1 when out does not
 * hold it. */
int staleness_json(const struct staleness *s, char *out, size_t outlen) MUST_CHECK;

/* Whether an asset last updated age_s ago (-1: never) is due now, when the
 * next chance comes interval_s later: due if waiting for that chance would
 * leave it older than bound_s (or exactly at it). With bound = interval every asset is due
 * every cycle. */
int staleness_due(int64_t age_s, int64_t bound_s, int64_t interval_s);

#endif
