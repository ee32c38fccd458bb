/*
 * staleness — see staleness.h.
 */
#include "staleness.h"

#include <stdio.h>
#include <string.h>

const char *const staleness_type_names[STALENESS_TYPES] = {"stock", "etf",  "crypto", "fx",
                                                           "bond",  "fund", "index",  "commodity"};

static int type_index(const char *t, size_t len)
{
    for (int i = 0; i < STALENESS_TYPES; i++)
        if (strlen(staleness_type_names[i]) == len && strncmp(staleness_type_names[i], t, len) == 0)
            return i;
    return -1;
}

int staleness_parse(const char *spec, int64_t default_s, struct staleness *out, char *err,
                    size_t errlen)
{
    for (int i = 0; i < STALENESS_TYPES; i++)
        out->bound_s[i] = default_s;
    const char *p = spec;
    while (p && *p) {
        const char *comma = strchr(p, ',');
        size_t len = comma ? (size_t)(comma - p) : strlen(p);
        const char *eq = memchr(p, '=', len);
        char val[32];
        int t = eq ? type_index(p, (size_t)(eq - p)) : -1;
        size_t vlen = eq ? len - (size_t)(eq - p) - 1 : 0;
        int64_t secs;
        if (t < 0 || vlen == 0 || vlen >= sizeof val) {
            snprintf(err, errlen,
                     "FETCH_STALENESS: '%.*s' is not type=duration (types: stock, etf, crypto, "
                     "fx, bond, fund, index, commodity)",
                     (int)(len > 60 ? 60 : len), p);
            return -1;
        }
        memcpy(val, eq + 1, vlen);
        val[vlen] = '\0';
        if (strcmp(val, "never") == 0) {
            secs = STALENESS_NEVER;
        } else if (strcmp(val, "always") == 0) {
            secs = STALENESS_ALWAYS;
        } else if (util_parse_duration(val, 1, 365 * 86400, &secs) != 0) {
            snprintf(err, errlen,
                     "FETCH_STALENESS: '%s' is not a duration (use e.g. 1m, 10m, 1d), never or "
                     "always",
                     val);
            return -1;
        }
        out->bound_s[t] = secs;
        p = comma ? comma + 1 : NULL;
    }
    return 0;
}

int64_t staleness_bound(const struct staleness *s, const char *type)
{
    int t = type_index(type, strlen(type));
    return t < 0 ? 0 : s->bound_s[t];
}

int staleness_json(const struct staleness *s, char *out, size_t outlen)
{
    size_t o = 0;
    for (int i = 0; i < STALENESS_TYPES; i++) {
        int w = snprintf(out + o, outlen - o, "%s\"%s\":%lld", i ? "," : "{",
                         staleness_type_names[i], (long long)s->bound_s[i]);
        if (w < 0 || (size_t)w >= outlen - o)
            return -1;
        o += (size_t)w;
    }
    if (o + 2 > outlen)
        return -1;
    out[o++] = '}';
    out[o] = '\0';
    return 0;
}

int64_t staleness_check_s(const struct staleness *s, int64_t check_s)
{
    for (int i = 0; s != NULL && i < STALENESS_TYPES; i++)
        if (s->bound_s[i] > 0 && s->bound_s[i] < check_s)
            check_s = s->bound_s[i];
    return check_s;
}

int staleness_due(int64_t ago_ms, int64_t bound_s, int64_t check_s)
{
    if (bound_s < 0)
        return 0;
    return ago_ms < 0 || bound_s == 0 || ago_ms >= bound_s * 1000 - check_s * 500;
}
