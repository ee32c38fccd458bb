/*
 * wire — the bodies fakemarket answers, in the providers' own wire formats
 * (Yahoo v8 chart, v7 and v8 spark, CoinGecko /simple/price, Frankfurter
 * /v1/latest; Kraken's Ticker, open.er-api v6, Twelve Data /quote,
 * Coinbase spot, Binance's price ticker), with content faults applied per entry. Each shape follows
 * a real recording in tests/fixtures/real/ (wire.c names it beside the
 * code, and tests/unit/test_fakemarket_wire.c compares with it); the
 * shapes are listed at the top of fakemarket.c, where provider authors
 * look for them.
 *
 * Pure: given the same symbols, faults and second, the same bytes. No HTTP
 * here (status and content type are only carried along in struct fm_body),
 * no clock, no shared state; request faults that spoil the whole HTTP
 * answer (errors, hangs, truncation) are fakemarket.c's business.
 */
#ifndef FAKEMARKET_WIRE_H
#define FAKEMARKET_WIRE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "faults.h"
#include "util.h"

enum fm_endpoint {
    FM_EP_CHART,
    FM_EP_SPARK,
    FM_EP_SPARK7,
    FM_EP_SIMPLE_PRICE,
    FM_EP_FX,
    /* the second sources */
    FM_EP_KRAKEN,
    FM_EP_ERAPI,
    FM_EP_TWELVEDATA,
    FM_EP_COINBASE,
    FM_EP_BINANCE,
    /* daily history (a backfill) */
    FM_EP_MARKET_CHART,
};

/* An answer. data is malloc'd and NUL-terminated (len excludes the NUL);
 * content_type is static. fm_body_clear() frees data and zeroes the rest. */
struct fm_body {
    unsigned status;
    const char *content_type;
    char *data;
    size_t len;
};
void fm_body_clear(struct fm_body *b);

/* One requested symbol or id, with the content fault that governs its
 * entry (already resolved with fm_fault_for_entry; NONE for none).
 * MISSING and NOSUCH leave the entry out; request faults are ignored. */
struct fm_entry {
    const char *name;
    enum fm_fault fault;
    /* The provider's price offset (POST /_offset): prices are multiplied
     * by this; 0 (an entry built without one) means 1. Applied by the
     * coingecko, kraken, coinbase and twelvedata builders. */
    double scale;
};

/* Every builder returns 0 with *out filled, or -1 when out of memory (then
 * *out holds nothing to free). `now` is the wall clock in Unix seconds. */

/* Which day bars a chart answer holds: range (a static name, "1d" …
 * "max", days back from now) or, when range is NULL, the bars starting in
 * [period1, period2). */
struct fm_window {
    const char *range;
    int64_t days;
    int64_t period1, period2;
};

/* The window of a chart request's range/period1/period2 parameters (each
 * may be NULL; none → range 1d). 0, or -1 for a range Yahoo does not list
 * or periods that are not Unix seconds with period1 < period2. */
int fm_wire_window(const char *range, const char *period1, const char *period2, int64_t now,
                   struct fm_window *out) MUST_CHECK;

/* GET /v8/finance/chart/{symbol}: 200 with one result over window w (NULL:
 * range 1d), or 404 when the entry is absent. */
int fm_wire_chart(const struct fm_entry *symbol, const struct fm_window *w, int64_t now,
                  struct fm_body *out) MUST_CHECK;

/* The 400 for a window fm_wire_window() refused. */
int fm_wire_chart_bad_window(struct fm_body *out) MUST_CHECK;

/* GET /v8/finance/spark?symbols=…: 200 with one flat member per present
 * entry, 404 Yahoo-style when none is present. */
int fm_wire_spark(const struct fm_entry *e, size_t n, int64_t now, struct fm_body *out) MUST_CHECK;

/* GET /v7/finance/spark?symbols=…: the wrapped answer with one result per
 * present entry (absent ones left out), 404 when none is present. */
int fm_wire_spark7(const struct fm_entry *e, size_t n, int64_t now, struct fm_body *out) MUST_CHECK;

/* The 400 for a spark request naming n > max symbols. */
int fm_wire_spark_too_many(size_t n, size_t max, struct fm_body *out) MUST_CHECK;

/* GET /api/v3/simple/price: 200, one member per present id holding the
 * requested vs currencies the FX table knows (lowercase keys), plus
 * last_updated_at when with_ts. Absent ids are left out; none → {}. */
int fm_wire_simple_price(const struct fm_entry *ids, size_t n, const char *const *vs, size_t n_vs,
                         bool with_ts, int64_t now, struct fm_body *out) MUST_CHECK;

/* GET /v1/latest: rates of `to` per 1 `base` (NULL base → EUR, the
 * Frankfurter default; n_to 0 → every currency of the table), keys in
 * alphabetical order. The base itself is never listed; unknown targets
 * are left out. Unknown base, no known target, or fault NOSUCH → 404
 * {"message":"not found"}; only the base asked for → 422. fault is a content fault for the whole
 * answer: price faults hit every rate, FUTURETS/OLDTS the date, WRONGCCY the base, MISSING empties
 * the rates. */
int fm_wire_fx_latest(const char *base, const char *const *to, size_t n_to, enum fm_fault fault,
                      int64_t now, struct fm_body *out) MUST_CHECK;

/* GET /0/public/Ticker?pair=…: Kraken's {"error":[],"result":{KEY:{a,b,c,
 * v,p,t,l,h,o}}} with every number a string, KEY the canonical name
 * (XBTUSD answers as XXBTZUSD). One absent pair (MISSING, NOSUCH) fails
 * the whole request: 200 {"error":["EQuery:Unknown asset pair"]}. */
int fm_wire_kraken_ticker(const struct fm_entry *pairs, size_t n, int64_t now,
                          struct fm_body *out) MUST_CHECK;

/* GET /v6/latest/{base}: open.er-api's {"result":"success",…,
 * "time_last_update_unix":…,"base_code":"USD","rates":{…}} with the FX
 * table's currencies plus the ones the ECB lacks (TWD, AED, SAR, …); a base
 * other than USD: 200 {"result":"error","error-type":"unsupported-code"}.
 * fault as for fm_wire_fx_latest (price faults hit every rate). */
int fm_wire_erapi_latest(const char *base, enum fm_fault fault, int64_t now,
                         struct fm_body *out) MUST_CHECK;

/* GET /quote?symbol=A,B: Twelve Data's flat quote for one symbol, an
 * object keyed by symbol for several; an absent symbol is its 404 error
 * object (alone: the whole answer, HTTP 200). keyed false (no
 * "Authorization: apikey …"): 401 with the recorded bad-key body. */
int fm_wire_twelvedata_quote(const struct fm_entry *syms, size_t n, bool keyed, int64_t now,
                             struct fm_body *out) MUST_CHECK;

/* GET /v2/prices/{BASE-USD}/spot: Coinbase's {"data":{"amount":"…",
 * "base":"BTC","currency":"USD"}}; an absent base, or a quote other than
 * USD: 404 {"errors":[{"id":"not_found","message":"Invalid base
 * currency"}]}. */
int fm_wire_coinbase_spot(const struct fm_entry *product, int64_t now,
                          struct fm_body *out) MUST_CHECK;

/* GET /api/v3/ticker/price?symbols=["A","B"] (single false): Binance's
 * [{"symbol":"BTCUSDT","price":"46707.03000000"},…] in the order asked;
 * ?symbol=A (single true): the one object. Prices are strings with 8
 * decimals, in USDT (priced as the coin's USD price: the demo's pairs map
 * to their CoinGecko ids). One absent pair (MISSING, NOSUCH) or a pair not
 * quoted in USDT fails the whole request: 400 {"code":-1121,"msg":
 * "Invalid symbol."}. There is no currency or time on this wire, so
 * WRONGCCY, FUTURETS and OLDTS change nothing. */
int fm_wire_binance_price(const struct fm_entry *pairs, size_t n, bool single, int64_t now,
                          struct fm_body *out) MUST_CHECK;

/* The asset a provider's name stands for: the CoinGecko id of the coin
 * for a Kraken pair (XBTUSD), a Coinbase product (BTC-USD) or a Binance
 * pair (BTCUSDT) that fakemarket prices like that id; any other name is
 * its own asset. The /_stats by_asset keys. */
const char *fm_wire_asset_of(const char *name);

/* The EMPTY fault: a well-formed answer with nothing in it. */
/* CoinGecko's /coins/{id}/market_chart?vs_currency=usd&days=N&interval=
 * daily (coingecko_market_chart_bitcoin_90d_daily_2021-05-15.json): a
 * point at each of the last N midnights (UTC, today's included) and one at
 * now, as [ms, value] pairs in prices, market_caps and total_volumes. An
 * unknown id (MISSING*, NOSUCH*): 404 {"error":"coin not found"} (not
 * recorded). A NULLPRICE id has a null price at the second midnight, as
 * real series may. */
int fm_wire_market_chart(const struct fm_entry *coin, int days, int64_t now,
                         struct fm_body *out) MUST_CHECK;

int fm_wire_empty(enum fm_endpoint ep, struct fm_body *out) MUST_CHECK;

/* The BADJSON fault: the endpoint's answer broken off into garbage. */
int fm_wire_bad_json(enum fm_endpoint ep, struct fm_body *out) MUST_CHECK;

/* fakemarket's own errors: {"error": message} with the given status. */
int fm_wire_error(unsigned status, const char *message, struct fm_body *out) MUST_CHECK;

/* The HUGE fault: grows a JSON object body to exactly `size` bytes by
 * adding a leading "padding" array of zeros, so it stays valid JSON of the
 * right shape and only a size cap can refuse it. -1 if the body is not an
 * object, is already too big, or memory runs out (body left unchanged). */
int fm_wire_pad(struct fm_body *b, size_t size) MUST_CHECK;

#endif
