/*
 * twelvedata — Twelve Data's /quote for stocks and ETFs, the second stock
 * source, used only when TWELVEDATA_API_KEY is set (why this provider and
 * not Finnhub or Alpha Vantage: tests/fixtures/real/NOTE_stock_providers.txt).
 * GET {TWELVEDATA_BASE_URL}/quote?symbol=AAPL,VOO with the key in the
 * header "Authorization: apikey KEY" (as Twelve Data's own Go client sends
 * it), never in the URL, so it cannot reach a log line.
 *
 * One symbol answers a flat quote: {"symbol":"AAPL","exchange":"NASDAQ",
 * "mic_code":"XNGS","currency":"USD","datetime":"2026-09-08",
 * "timestamp":1788874200,"last_quote_at":1788893340,"close":"315.02",…}
 * (twelvedata_quote_AAPL_2026-09-08). Several, comma-separated, answer an
 * object keyed by symbol whose members are such quotes or per-symbol error
 * objects (Twelve Data's batch documentation). Numbers are strings.
 *
 * The price is "close" (during a session, the latest price: the recorded
 * answer has is_market_open true and close 315.02 between low and high),
 * in "currency" as the answer states it ("GBp" stays "GBp": validate.c
 * converts minor units, as for Yahoo). The time is last_quote_at, the time
 * of that price (QTIME_MARKET); "timestamp" is the day bar's start (13:30
 * UTC for a US session in both 2026 recordings), used only when
 * last_quote_at is absent, and then said so (QTIME_BAR).
 *
 * Errors are {"code":N,"message":…,"status":"error"}, at HTTP 200 as well
 * as with the code as status (twelvedata_error_*): 429 (credits spent for
 * the minute or the day) is transient for every key; 401/403 (bad key, plan)
 * is a refusal that pauses the provider; 400/404 for one symbol (unknown,
 * or "available starting with the Grow or Venture plan") fails that symbol
 * alone.
 *
 * Symbols come in Yahoo's form (the assets' psym): "AAPL" is "AAPL", and a
 * listing suffix becomes Twelve Data's SYMBOL:EXCHANGE form through the
 * short table below; a suffix not in it is refused rather than guessed
 * (a per-asset override can name the Twelve Data form directly). Yahoo's
 * indices (^GSPC), futures (CL=F) and currency pairs (EURUSD=X) have no
 * stock-quote equivalent here and are refused too.
 *
 * Credits, not requests, are what the free plan counts: each symbol costs
 * one, 8 a minute and 800 a day (the 429 messages say so). A batch of 8
 * at one request a minute spends exactly the minute's credits.
 */
#include "provider.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

/* Symbols per request: the free plan's credits for one minute. */
#define TWELVEDATA_BATCH 8

static int td_batch(const struct config *c)
{
    (void)c;
    return TWELVEDATA_BATCH;
}

/* Yahoo's listing suffix → Twelve Data's exchange name after the colon.
 * Evidence per row: NSE and TSX are the examples of Twelve Data's batch
 * documentation ("SBIN:NSE", "TRP:TSX"); LSE is the exchange a recorded
 * London-shaped quote carries ("exchange":"LSE","mic_code":"XLON"); XETR
 * is Twelve Data's name for Xetra in its exchange list (not recorded in an
 * answer here: verify with a key before relying on it). */
static const struct {
    const char *suffix;
    const char *exchange;
} td_suffixes[] = {
    {"NS", "NSE"},
    {"TO", "TSX"},
    {"L", "LSE"},
    {"DE", "XETR"},
};

static int td_normalize(const char *in, char *out, size_t outlen)
{
    size_t n = strlen(in);
    if (n == 0 || n > 32 || n >= outlen)
        return -1;
    char up[40];
    for (size_t i = 0; i <= n; i++) {
        unsigned char ch = (unsigned char)in[i];
        if (ch && !isalnum(ch) && !strchr(".-:", ch))
            return -1; /* ^GSPC, CL=F, EURUSD=X: not a stock quote */
        up[i] = (char)toupper(ch);
    }
    if (strchr(up, ':') != NULL) /* already Twelve Data's form */
        return util_strlcpy(out, up, outlen) < outlen ? 0 : -1;
    char *dot = strrchr(up, '.');
    if (dot == NULL)
        return util_strlcpy(out, up, outlen) < outlen ? 0 : -1;
    for (size_t i = 0; i < ARRAY_LEN(td_suffixes); i++) {
        if (strcmp(dot + 1, td_suffixes[i].suffix) == 0) {
            *dot = '\0';
            if (up[0] == '\0')
                return -1;
            int w = snprintf(out, outlen, "%s:%s", up, td_suffixes[i].exchange);
            return (w < 0 || (size_t)w >= outlen) ? -1 : 0;
        }
    }
    return -1;
}

static int td_url(const struct config *c, const char *const *symbols, size_t n, char *url,
                  size_t urllen)
{
    if (n == 0 || n > TWELVEDATA_BATCH)
        return -1;
    int w = snprintf(url, urllen, "%s/quote?symbol=", c->twelvedata_base_url);
    if (w < 0 || (size_t)w >= urllen)
        return -1;
    size_t o = (size_t)w;
    for (size_t i = 0; i < n; i++) {
        if (i > 0) {
            if (o + 1 >= urllen)
                return -1;
            url[o++] = ','; /* literal, as the batch documentation writes it */
            url[o] = '\0';
        }
        int e = util_urlencode(symbols[i], url + o, urllen - o);
        if (e < 0)
            return -1;
        o += (size_t)e;
    }
    return 0;
}

static size_t td_headers(const struct config *c, char out[][PROVIDER_HEADER_MAX], size_t max)
{
    if (c->twelvedata_api_key[0] == '\0' || max < 1)
        return 0;
    int w =
        snprintf(out[0], PROVIDER_HEADER_MAX, "Authorization: apikey %s", c->twelvedata_api_key);
    /* a truncated key would only be refused: send none instead */
    return (w < 0 || w >= PROVIDER_HEADER_MAX) ? 0 : 1;
}

/* obj is an error object: {"code":N,"message":…,"status":"error"}. Its
 * code into *code (0 when absent), its message into msg. */
static int td_error(json_object *obj, int *code, char *msg, size_t msglen)
{
    json_object *st = provider_get(obj, "status");
    json_object *m = provider_get(obj, "message");
    json_object *c = provider_get(obj, "code");
    int is_err = st != NULL && json_object_is_type(st, json_type_string) &&
                 strcmp(json_object_get_string(st), "error") == 0;
    if (!is_err && !(c != NULL && m != NULL && provider_get(obj, "symbol") == NULL))
        return 0;
    *code = c != NULL && json_object_is_type(c, json_type_int) ? json_object_get_int(c) : 0;
    const char *ms = m != NULL && json_object_is_type(m, json_type_string)
                         ? json_object_get_string(m)
                         : "error without a message";
    util_snippet(ms, strlen(ms), 120, msg, msglen);
    return 1;
}

static void td_fail(struct quote *q, int code, const char *msg)
{
    if (code == 429) {
        q->kind = QUOTE_TRANSIENT;
    } else {
        q->kind = QUOTE_PERMANENT;
        q->refused = code == 401 || code == 403;
    }
    snprintf(q->error, sizeof q->error, "twelvedata %d: %s", code, msg);
}

static void td_read(json_object *e, struct quote *q)
{
    char why[160];
    json_object *cur = provider_get(e, "currency");
    if (cur == NULL || !json_object_is_type(cur, json_type_string) ||
        json_object_get_string_len(cur) == 0) {
        /* never priced on the asset's word */
        q->kind = QUOTE_PERMANENT;
        snprintf(q->error, sizeof q->error, "quote has no currency");
        return;
    }
    if (provider_decimal_string(provider_get(e, "close"), "close", &q->price, why, sizeof why) !=
        0) {
        q->kind = QUOTE_PERMANENT;
        snprintf(q->error, sizeof q->error, "%s", why);
        return;
    }
    util_strlcpy(q->currency, json_object_get_string(cur), sizeof q->currency);
    double t = 0;
    if (provider_number(provider_get(e, "last_quote_at"), "time", &t, why, sizeof why) == 0 &&
        t > 0 && t < 9.2e18) {
        q->price_time = (int64_t)t;
        q->time_basis = QTIME_MARKET;
    } else if (provider_number(provider_get(e, "timestamp"), "time", &t, why, sizeof why) == 0 &&
               t > 0 && t < 9.2e18) {
        q->price_time = (int64_t)t;
        q->time_basis = QTIME_BAR;
    }
    json_object *ex = provider_get(e, "exchange");
    if (ex != NULL && json_object_is_type(ex, json_type_string))
        util_strlcpy(q->market.exchange, json_object_get_string(ex), sizeof q->market.exchange);
    q->kind = QUOTE_OK;
}

/* The batch member that answers sym ("SAP:XETR" or "AAPL"): by key, else
 * by the quote's own symbol (and exchange, when sym names one). */
static json_object *td_member(json_object *root, const char *sym)
{
    json_object *v = provider_get(root, sym);
    if (v != NULL)
        return v;
    char base[40];
    util_strlcpy(base, sym, sizeof base);
    char *colon = strchr(base, ':');
    const char *exch = NULL;
    if (colon != NULL) {
        *colon = '\0';
        exch = colon + 1;
    }
    json_object_object_foreach(root, key, val)
    {
        (void)key;
        json_object *s = provider_get(val, "symbol");
        if (s == NULL || !json_object_is_type(s, json_type_string) ||
            strcasecmp(json_object_get_string(s), base) != 0)
            continue;
        json_object *e = provider_get(val, "exchange");
        if (exch == NULL || (e != NULL && json_object_is_type(e, json_type_string) &&
                             strcasecmp(json_object_get_string(e), exch) == 0))
            return val;
    }
    return NULL;
}

static int td_parse(json_object *root, const char *const *symbols, size_t n, struct quote *out,
                    unsigned char *found, char *err, size_t errlen)
{
    if (!json_object_is_type(root, json_type_object)) {
        snprintf(err, errlen, "answer is not a JSON object (unexpected shape)");
        return -1;
    }
    int code = 0;
    char msg[140];
    if (td_error(root, &code, msg, sizeof msg)) {
        /* the whole request's error: the key, the credits, or (asked for
         * one symbol) that symbol */
        for (size_t i = 0; i < n; i++) {
            found[i] = 1;
            td_fail(&out[i], code, msg);
        }
        return 0;
    }
    if (n == 1 && provider_get(root, "symbol") != NULL) {
        found[0] = 1;
        td_read(root, &out[0]);
        return 0;
    }
    int members = 0;
    for (size_t i = 0; i < n; i++) {
        json_object *e = td_member(root, symbols[i]);
        if (e == NULL || !json_object_is_type(e, json_type_object))
            continue;
        members++;
        found[i] = 1;
        if (td_error(e, &code, msg, sizeof msg))
            td_fail(&out[i], code, msg);
        else
            td_read(e, &out[i]);
    }
    if (members == 0 && provider_get(root, "close") != NULL) {
        /* one flat quote for a request of several: not a batch answer */
        snprintf(err, errlen, "answer is one quote for %zu symbols (unexpected shape)", n);
        return -1;
    }
    return 0;
}

const struct provider provider_twelvedata = {
    .name = "twelvedata",
    .batch_size = td_batch,
    .concurrency = 1,
    .normalize = td_normalize,
    .build_url = td_url,
    .headers = td_headers,
    .parse = td_parse,
};
