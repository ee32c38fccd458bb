/*
 * staleness — how long after it was last asked for an asset is due again,
 * per asset type (FETCH_STALENESS="crypto=1m,stock=10m,bond=1d", plus
 * "never" and "always"; every type defaults to FETCH_INTERVAL; an asset's
 * own assets.staleness overrides its type's), and how often the scheduler
 * checks (FETCH_CHECK_INTERVAL, never longer than the shortest bound).
 * Pure: parsing, the bounds as the database takes them, and the rule.
 *
 * The rule itself runs in the database (fetcher_due_assets, migration
 * 010), over its clock. staleness_due() is the same rule in C, for the
 * scheduler's unit test; test_sql checks that the two agree.
 */
#ifndef FETCHER_STALENESS_H
#define FETCHER_STALENESS_H

#include "util.h"

#include <stdint.h>

#define STALENESS_TYPES 8
/* Bounds that are not durations: never due by the schedule (only when
 * someone asks), and due at every check. */
#define STALENESS_NEVER (-1)
#define STALENESS_ALWAYS 0

struct staleness {
    int64_t bound_s[STALENESS_TYPES];
};

/* The asset types of the schema, in table order. */
extern const char *const staleness_type_names[STALENESS_TYPES];

/* Parses spec over default_s for every type: type=duration (10m, 1d),
 * type=never or type=always. An unknown type or a bad value → -1 with one
 * line in err naming it. */
int staleness_parse(const char *spec, int64_t default_s, struct staleness *out, char *err,
                    size_t errlen) MUST_CHECK;

/* The bound for type (an unknown type gets the largest bound's opposite:
 * always due, so nothing is silently never fetched). */
int64_t staleness_bound(const struct staleness *s, const char *type);

/* The bounds as the database's fetcher_due_assets takes them:
 * {"stock":600,"etf":600,…} (seconds). Returns 0, or -1 when out does not
 * hold it. */
int staleness_json(const struct staleness *s, char *out, size_t outlen) MUST_CHECK;

/* The check interval: check_s, or the shortest positive bound when that
 * is shorter (so that a bound shorter than the check is still met). */
int64_t staleness_check_s(const struct staleness *s, int64_t check_s);

/* fetcher_due_assets's rule: an asset last asked for ago_ms ago (-1:
 * never) is due at a check when its bound is not "never" and it was never
 * asked, its bound is "always", or ago reaches the bound less half a check
 * (checks fall on a grid check_s apart: an asset asked at one check is due
 * at the check nearest its bound, neither a check early nor a check late). */
int staleness_due(int64_t ago_ms, int64_t bound_s, int64_t check_s);

#endif
