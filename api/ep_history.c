/*
 * ep_history — price history for people and charts:
 *
 *   GET /api/fetcher/assets/{symbol}/history?range=1d|1m|3m|1y|5y|max
 *       &interval=1d&currency=EUR
 *     range 1m (default) and longer: the daily closes (asset_prices_daily,
 *     filled by the backfill and by every cycle), interval=1d; range=1d:
 *     the last day's intraday prices (asset_prices), no interval. In the
 *     asset's currency, or in `currency`, converted day by day with the
 *     stored USD rates.
 *   GET /api/fetcher/history?symbols=A,B&range=…&points=N
 *     the same series for many symbols at once (every tracked one without
 *     `symbols`), thinned to at most N points each: the dashboard's
 *     sparklines in one request.
 *
 * Every parameter is checked here; a bad one is a 400 naming it. The
 * documents are built by PostgreSQL (sql.c).
 */
#include "apidb.h"
#include "handlers.h"
#include "query.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

#define HISTORY_POINTS_DEFAULT 60
#define HISTORY_POINTS_MAX 500
#define HISTORY_SYMBOLS_MAX 200

/* The ranges, as asked and as an interval back from today (NULL: all). */
static const struct {
    const char *name;
    const char *back;
} hist_ranges[] = {
    {"1d", NULL},     {"1m", "1 month"}, {"3m", "3 months"},
    {"1y", "1 year"}, {"5y", "5 years"}, {"max", NULL},
};

/* range → its index (absent: 1m); -1 with msg when unknown. */
static int hist_range(const char *val, char *msg, size_t msglen)
{
    if (val == NULL)
        return 1;
    for (size_t i = 0; i < ARRAY_LEN(hist_ranges); i++)
        if (strcmp(val, hist_ranges[i].name) == 0)
            return (int)i;
    snprintf(msg, msglen, "must be one of 1d, 1m, 3m, 1y, 5y, max");
    return -1;
}

/* interval: only 1d, and only for the daily ranges (range=1d is every
 * intraday price). */
static int hist_interval(const char *val, int intraday, char *msg, size_t msglen)
{
    if (val == NULL)
        return 0;
    if (strcmp(val, "1d") != 0) {
        snprintf(msg, msglen, "must be 1d (daily closes)");
        return -1;
    }
    if (intraday) {
        snprintf(msg, msglen, "range=1d answers the day's intraday prices; leave interval out");
        return -1;
    }
    return 0;
}

/* currency: three letters (upper-cased into out), and a rate we hold. */
static int hist_currency(const char *val, char out[4], const char **param, char *msg, size_t msglen)
{
    *param = "currency";
    if (val == NULL) {
        out[0] = '\0';
        return 0;
    }
    if (strlen(val) != 3 || !isalpha((unsigned char)val[0]) || !isalpha((unsigned char)val[1]) ||
        !isalpha((unsigned char)val[2])) {
        snprintf(msg, msglen, "must be a three-letter currency code (EUR)");
        return -1;
    }
    for (int i = 0; i < 3; i++)
        out[i] = (char)toupper((unsigned char)val[i]);
    out[3] = '\0';
    return 0;
}

/* 400 unless a USD rate for ccy is stored; 1 when it answered. */
static int hist_need_rate(struct MHD_Connection *conn, const char *ccy, enum MHD_Result *ret)
{
    PGresult *r = NULL;
    const char *params[1] = {ccy};
    enum db_status st = apidb_exec(SQL_RATE_KNOWN, params, &r);
    if (st != DB_OK) {
        *ret = http_reply_db(conn, st);
        return 1;
    }
    int known = PQntuples(r) == 1 && strcmp(PQgetvalue(r, 0, 0), "0") != 0;
    PQclear(r);
    if (known)
        return 0;
    char msg[96];
    snprintf(msg, sizeof msg, "no exchange rate for %s is stored (fetcherd fetches those in use)",
             ccy);
    *ret = http_bad_param(conn, "currency", msg);
    return 1;
}

enum MHD_Result ep_history(struct MHD_Connection *conn, const struct api_request *req)
{
    char msg[128], ccy[4];
    int present;
    const char *param = NULL;
    enum MHD_Result ret;
    const char *sym = routes_tail(req);
    if (query_symbol(sym, &present, msg, sizeof msg) != QUERY_OK)
        return http_bad_param(conn, "symbol", msg);
    int ri = hist_range(http_arg(conn, "range"), msg, sizeof msg);
    if (ri < 0)
        return http_bad_param(conn, "range", msg);
    int intraday = ri == 0;
    if (hist_interval(http_arg(conn, "interval"), intraday, msg, sizeof msg) != 0)
        return http_bad_param(conn, "interval", msg);
    if (hist_currency(http_arg(conn, "currency"), ccy, &param, msg, sizeof msg) != 0)
        return http_bad_param(conn, param, msg);
    if (ccy[0] && hist_need_rate(conn, ccy, &ret))
        return ret;
    const char *c = ccy[0] ? ccy : NULL;
    if (intraday) {
        const char *params[3] = {sym, c, hist_ranges[ri].name};
        return ep_reply_document(conn, SQL_HISTORY_INTRADAY, params, "no such asset");
    }
    const char *params[4] = {sym, hist_ranges[ri].back, c, hist_ranges[ri].name};
    return ep_reply_document(conn, SQL_HISTORY_DAILY, params, "no such asset");
}

/* symbols=A,B,… → a PostgreSQL array literal in out ("{A,B}"); each symbol
 * checked as the assets table would (so it needs no quoting). */
static int hist_symbols(const char *val, char *out, size_t outlen, char *msg, size_t msglen)
{
    char one[64];
    size_t o = 0, n = 0;
    const char *p = val;
    if (*p == '\0') {
        snprintf(msg, msglen, "must list at least one symbol");
        return -1;
    }
    out[o++] = '{';
    while (*p) {
        size_t len = strcspn(p, ",");
        int present;
        if (len == 0 || len >= sizeof one) {
            snprintf(msg, msglen, "an empty or too long symbol in the list");
            return -1;
        }
        memcpy(one, p, len);
        one[len] = '\0';
        if (query_symbol(one, &present, msg, msglen) != QUERY_OK)
            return -1;
        if (++n > HISTORY_SYMBOLS_MAX) {
            snprintf(msg, msglen, "at most %d symbols", HISTORY_SYMBOLS_MAX);
            return -1;
        }
        if (o + len + 2 >= outlen) {
            snprintf(msg, msglen, "list too long");
            return -1;
        }
        if (n > 1)
            out[o++] = ',';
        memcpy(out + o, one, len);
        o += len;
        p += len;
        if (*p == ',')
            p++;
    }
    out[o++] = '}';
    out[o] = '\0';
    return 0;
}

enum MHD_Result ep_history_batch(struct MHD_Connection *conn, const struct api_request *req)
{
    (void)req;
    char msg[128], list[HISTORY_SYMBOLS_MAX * 34 + 4], s_points[16];
    int64_t points;
    const char *syms = http_arg(conn, "symbols");
    if (syms != NULL && hist_symbols(syms, list, sizeof list, msg, sizeof msg) != 0)
        return http_bad_param(conn, "symbols", msg);
    int ri = hist_range(http_arg(conn, "range"), msg, sizeof msg);
    if (ri < 0)
        return http_bad_param(conn, "range", msg);
    if (hist_interval(http_arg(conn, "interval"), ri == 0, msg, sizeof msg) != 0)
        return http_bad_param(conn, "interval", msg);
    if (query_uint(http_arg(conn, "points"), 2, HISTORY_POINTS_MAX, HISTORY_POINTS_DEFAULT, &points,
                   msg, sizeof msg) != QUERY_OK)
        return http_bad_param(conn, "points", msg);
    snprintf(s_points, sizeof s_points, "%lld", (long long)points);
    const char *params[5] = {syms ? list : NULL, hist_ranges[ri].back, ri == 0 ? "true" : "false",
                             s_points, hist_ranges[ri].name};
    return ep_reply_document(conn, SQL_HISTORY_BATCH, params, "no history");
}
