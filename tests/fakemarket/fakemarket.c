/*
 * fakemarket — our stand-in for the internet in tests, benchmarks and
 * `make demo`: a small HTTP server that speaks the wire formats of the
 * price providers fetcherd uses, answers with chosen latency and faults,
 * and counts what it was asked. Think of GNU Taler's fakebank.
 *
 * What it is not: a market (prices are a deterministic function of symbol
 * and second, see prices.h), a full copy of any provider's API (only the
 * endpoints and fields below; no dividends, no intraday bars), or
 * production code (it trusts its operator:
 * no TLS, no authentication on the control endpoints).
 *
 *   fakemarket --port N [--bind 127.0.0.1] [--latency-ms N] [--fixtures DIR]
 *              [--verbose]
 *
 * prints "fakemarket listening on ADDR:PORT" once it accepts connections
 * (--port 0 picks a free port and prints it), exits 0 on SIGTERM/SIGINT,
 * 2 on a bad argument, 1 if it cannot listen.
 *
 * Why a thread per connection: latency and the HANG/SLOWDRIP faults are
 * implemented by waiting inside the request, and that must never delay
 * another request (10,000 requests with 50 ms latency at concurrency 64 have
 * to finish in seconds, not in 10,000 × 50 ms). With one thread per
 * connection a wait costs one sleeping thread; every wait also watches the
 * client socket (a client that gives up frees its thread at once) and a
 * stop pipe (SIGTERM never waits for a 120 s HANG).
 *
 * Wire shapes served. Each follows a real recording in tests/fixtures/real/
 * (named here; wire.c cites it beside the code); what no recording shows
 * is marked "not recorded". JSON is application/json;charset=utf-8 (as
 * Yahoo sends it), one line, no spaces; `now` is the current Unix second.
 * Prices are in the listing's quoted unit (see Listings below).
 *
 * Day bars. Every Yahoo series is a list of day bars stamped at the bar's
 * START, the session open in UTC (13:30 for a US equity, 08:00 London and
 * XETRA, 05:00 for futures, 00:00 for currency pairs), weekdays only;
 * regularMarketTime is the last trade (`now`). Every series of two or
 * more bars holds at least one null bar (close and the other quote fields
 * null) before its last, as real answers do. range=1d answers carry two
 * bars: the previous session's (null) and today's.
 *
 * GET /v7/finance/spark?symbols=A,B&range=1d&interval=1d  (the batch
 *   endpoint; yahoo_spark_v7_TSLA.json, key for key)
 *   200 {"spark":{"result":[{"symbol":"AAPL","response":[{"meta":{
 *        "currency":"USD","symbol":"AAPL","exchangeName":"NMS",
 *        "instrumentType":"EQUITY","firstTradeDate":345479400,
 *        "regularMarketTime":now,"gmtoffset":-14400,"timezone":"EDT",
 *        "exchangeTimezoneName":"America/New_York","regularMarketPrice":189.84,
 *        "chartPreviousClose":187.2,"priceHint":2,"currentTradingPeriod":{
 *        "pre":{"timezone":"EDT","start":…,"end":…,"gmtoffset":-14400},
 *        "regular":{…},"post":{…}},"dataGranularity":"1d","range":"1d",
 *        "validRanges":["1d","5d","1mo","3mo","6mo","1y","2y","5y","10y",
 *        "ytd","max"]},"timestamp":[open,now],"indicators":{"quote":[{
 *        "close":[null,189.84]}]}}]},…],"error":null}}
 *   (no previousClose, scale or tradingPeriods: the recording has none.)
 *   A future's series is [previous open, today's open] and its last close
 *   is NOT regularMarketPrice. Unknown symbols are left out of result;
 *   none known: 404 {"spark":{"result":null,"error":{"code":"Not Found",
 *   "description":"No data found for spark symbols"}}}
 *   (yahoo_spark_v7_404_none_pricehist.json). More than 20 symbols: 400
 *   {"spark":{"result":null,"error":{"code":"Bad Request","description":
 *   "Too many symbols: 21, at most 20"}}} (the status is reported by a
 *   client, the body is not recorded). No symbols parameter: 400
 *   {"error":"missing parameter symbols"} (ours).
 *
 * GET /v8/finance/spark?symbols=A,B  (yahoo_spark_v8_AAPL_VTI_via_yfapi.json:
 *   flat, no meta, so no currency and no regularMarketPrice)
 *   200 {"AAPL":{"end":null,"start":null,"timestamp":[open,now],
 *        "previousClose":null,"chartPreviousClose":187.2,"symbol":"AAPL",
 *        "close":[null,189.84],"dataGranularity":300},"MSFT":{…}}
 *   Same series as v7 (a future's last close is a bar's, not the price);
 *   same 404, 400 and 20-symbol limit.
 *
 * GET /v8/finance/chart/{SYMBOL}[?range=R | ?period1=T1&period2=T2]
 *   (yahoo2_fixture_chart-AAPL.json; futures as
 *   yahoo_chart_v8_GC=F_future_2020-01-02.json, without longName; pairs as
 *   yahoo_chart_v8_EURUSD=X_2020-01-01_to_03.json; London as
 *   yahoo_chart_v8_OCDO.L_GBp.json; XETRA as
 *   yahoo_chart_v8_WSU.DE_XETRA_EUR_2023-08.json)
 *   200 {"chart":{"result":[{"meta":{"currency","symbol","exchangeName",
 *        "fullExchangeName","instrumentType","firstTradeDate",
 *        "regularMarketTime","hasPrePostMarketData","gmtoffset","timezone",
 *        "exchangeTimezoneName","regularMarketPrice","fiftyTwoWeekHigh",
 *        "fiftyTwoWeekLow","regularMarketDayHigh","regularMarketDayLow",
 *        "regularMarketVolume","longName","shortName","chartPreviousClose",
 *        "priceHint","currentTradingPeriod","dataGranularity","range",
 *        "validRanges"},"timestamp":[…],"indicators":{"quote":[{"high":[…],
 *        "volume":[…],"low":[…],"open":[…],"close":[…]}],"adjclose":[{
 *        "adjclose":[…]}]}}],"error":null}}
 *   range: 1d (default) 5d 1mo 3mo 6mo 1y 2y 5y 10y ytd max (max = 10y);
 *   period1/period2: the bars starting in [period1, period2), meta.range
 *   "" (as recorded); interval is ignored (day bars only). A window
 *   without bars has no "timestamp" and quote [{}]
 *   (yahoo_chart_v8_AAPL_1m_weekend_no_bars.json). A range Yahoo does not
 *   list: 400 {"chart":{"result":null,"error":{"code":"Bad Request",…}}}
 *   (not recorded). Unknown (NOSUCH*, MISSING*, or no symbol): 404
 *   {"chart":{"result":null,"error":{"code":"Not Found","description":
 *   "No data found, symbol may be delisted"}}}
 *   (yahoo_chart_v8_404_unknown_symbol.json, byte for byte).
 *
 * Listings (prices.c has the evidence for each): a plain symbol is USD on
 *   NMS; .DE/.PA/.AS/.MI EUR; .L GBp (pence), .JO ZAc (cents), .TA ILA
 *   (agorot): regularMarketPrice and closes are 100 × the major-unit price
 *   (fm_price_major() gives the price a correct client stores); futures
 *   SYM=F are FUTURE in USD, except KC=F ZC=F ZS=F ZW=F CT=F SB=F in USX (US
 *   cents, also × 100); pairs XXXYYY=X are CURRENCY quoted in YYY
 *   (EURUSD=X: "USD"), at the fixed FX table's rate.
 *
 * GET /api/v3/simple/price?ids=bitcoin,ethereum&vs_currencies=usd,eur
 *     [&include_last_updated_at=true]       (also at /simple/price;
 *     coingecko_simple_price_docs_example.json)
 *   200 {"bitcoin":{"usd":61234.56,"eur":56335.8,"last_updated_at":now},
 *        "ethereum":{...}}
 *   Keys are the vs currencies asked for, lowercase, in the order asked;
 *   unknown vs currencies are left out of each coin; last_updated_at only
 *   when asked for. Unknown ids (nosuch*, missing*) are left out: all
 *   unknown → {}. Prices: 2 decimals from 100, 4 from 1, 6 from 0.01, else 8.
 *   Missing ids or vs_currencies: 422 {"error":"Missing parameter ids"}
 *   (recorded in coingecko_error_422_missing_vs_currency.json's note).
 *   A request carrying x-cg-demo-api-key or x-cg-pro-api-key counts in
 *   /_stats api_key_requests.
 *
 * GET /v1/latest?from=USD&to=EUR,GBP  (or base=/symbols=; also at /latest;
 *   frankfurter_v1_latest_base_USD.json)
 *   200 {"amount":1.0,"base":"USD","date":"2026-11-21",
 *        "rates":{"EUR":0.92,"GBP":0.79}}
 *   Only the ECB's 31 currencies of that recording are known; rates in
 *   alphabetical order; base defaults to EUR; no to/symbols → every other
 *   currency. An unknown code among the targets is simply absent; none
 *   known, or an unknown base: 404 {"message":"not found"}
 *   (frankfurter_v1_404_not_found.json); only the base itself (from=USD&
 *   to=USD): 422 {"message":"bad currency pair"}. Rates never move; each
 *   is per_usd[to] / per_usd[base] from one fixed table (prices.c),
 *   rounded to 6 significant digits.
 *
 * The second sources, each priced like its first source's listing (a
 * Kraken pair or Coinbase product like the CoinGecko id of the coin,
 * SAP:XETR like Yahoo's SAP.DE), so two sources agree:
 *
 * GET /0/public/Ticker?pair=XBTUSD,ETHUSD  (kraken_ticker_xbtusd_ethusd.json,
 *   key for key)
 *   200 {"error":[],"result":{"XXBTZUSD":{"a":["…","1","1.000"],"b":[…],
 *        "c":["64547.20000","0.00702654"],"v":[…],"p":[…],"t":[56856,62595],
 *        "l":[…],"h":[…],"o":"…"},"XETHZUSD":{…}}}
 *   Numbers are strings with five decimals; keys are Kraken's canonical
 *   names (XBTUSD → XXBTZUSD, ETHUSD → XETHZUSD, LTC, XMR, XRP, ETC
 *   likewise; SOLUSD, XDGUSD, EOSUSD as asked: NOTE_kraken_pairs.txt). A
 *   pair named NOSUCH* or MISSING* fails the whole request, as an unknown
 *   pair does: 200 {"error":["EQuery:Unknown asset pair"]}
 *   (kraken_error_unknown_pair.json, byte for byte).
 *
 * GET /v6/latest/USD  (erapi_latest_usd_2024-08-19.json: its top-level keys
 *   in order)
 *   200 {"result":"success","provider":…,"documentation":…,"terms_of_use":…,
 *        "time_last_update_unix":T,"time_last_update_utc":"…",
 *        "time_next_update_unix":T+86400,…,"time_eol_unix":0,
 *        "base_code":"USD","rates":{"USD":1,"EUR":0.92,…,"TWD":32.092281}}
 *   T is 00:02:31 UTC of today (the recording's update time of day); the
 *   rates are the Frankfurter table's plus AED, SAR, TWD, ARS, NGN, VND,
 *   EGP, KES at the recording's figures (the ones the ECB lacks). Another
 *   base: 200 {"result":"error","error-type":"unsupported-code"}
 *   (erapi_error_unsupported_code.json). Content faults as for /latest.
 *
 * GET /quote?symbol=AAPL[,SAP:XETR…]  with "Authorization: apikey KEY"
 *   (twelvedata_quote_AAPL_2026-09-08.json, key for key)
 *   200 {"symbol":"AAPL","name":…,"exchange":…,"mic_code":…,"currency":"USD",
 *        "datetime":"YYYY-MM-DD","timestamp":session open,"last_quote_at":now,
 *        "open":"…","high":"…","low":"…","close":"…",…,"is_market_open":true,
 *        "fifty_two_week":{…}}
 *   for one symbol; several: {"AAPL":{…},"SAP:XETR":{…}}. NOSUCH* or MISSING*
 *   get {"code":404,"message":"**symbol** or **figi** parameter is missing
 *   or invalid. …","status":"error"}
 *   (twelvedata_error_404_invalid_symbol_2026-09-16.json; alone it is the
 *   whole answer, HTTP 200: the recording kept no status). Without the
 *   header: 401 with twelvedata_error_401_bad_key_2026-09-16.json's body.
 *
 * GET /v2/prices/BTC-USD/spot  (coinbase_spot_btc_usd_2026-08-01.json)
 *   200 {"data":{"amount":"62993.975","base":"BTC","currency":"USD"}}
 *   A NOSUCH* or MISSING* base or a quote other than USD: 404
 *   {"errors":[{"id":"not_found","message":"Invalid base currency"}]}
 *   (coinbase_error_invalid_base_currency.json, byte for byte; the status
 *   is the one other clients handle).
 *
 * GET /api/v3/ticker/price?symbols=["BTCUSDT","BNBUSDT"]  (percent-encoded
 *   on the wire; binance_ticker_price_symbols_BTCUSDT_BNBUSDT.json)
 *   200 [{"symbol":"BTCUSDT","price":"46707.03000000"},{"symbol":"BNBUSDT",…}]
 *   in the order asked, each price a string with 8 decimals, in USDT, priced
 *   like the CoinGecko id of the coin; ?symbol=BNBUSDT: the one object
 *   (binance_ticker_price_symbol_BNBUSDT.json). A NOSUCH* or MISSING* pair,
 *   or one not quoted in USDT, fails the whole request: 400
 *   {"code":-1121,"msg":"Invalid symbol."} (binance_error_invalid_symbol_
 *   400.json, byte for byte). Counted in by_path as /api/v3/ticker/price.
 *
 * GET /_stats
 *   200 {"requests_total":4,"by_path":{"/v8/finance/chart":1,
 *        "/v8/finance/spark":1,"/v7/finance/spark":0,
 *        "/api/v3/simple/price":1,"/latest":0,"/0/public/Ticker":1,…},
 *        "by_symbol":{"AAPL":2,"MSFT":1,"bitcoin":1,"XBTUSD":1},
 *        "by_asset":{"AAPL":2,"MSFT":1,"bitcoin":2},"api_key_requests":0}
 *   Every provider request counts (faulted ones too, at arrival, before
 *   latency); control endpoints (/_...) do not. by_path uses the endpoint
 *   without its symbol, /simple/price as /api/v3/simple/price, /v1/latest
 *   as /latest, /v6/latest/USD as /v6/latest and /v2/prices/BTC-USD/spot
 *   as /v2/prices/spot; an unknown path counts as "(unknown)". by_symbol
 *   counts each distinct symbol/id (FX: each target code named) once per
 *   request. by_asset adds by_symbol up per asset: a Kraken, Coinbase or
 *   Binance name of a coin fakemarket prices like a CoinGecko id counts
 *   under that id (XBTUSD, BTC-USD, BTCUSDT → bitcoin), any other name
 *   under itself, so a test counts an asset's fetches whichever source
 *   failover asked. After 100,000 distinct symbols new ones are counted in
 *   an extra "untracked_symbols" key, present only when non-zero.
 * POST /_reset                → {"ok":true}: every counter back to zero.
 * POST /_mode?fault=NAME|none → {"ok":true,"fault":"ERR500"}: a global fault
 *   for every provider request until fault=none.
 * POST /_mode?fault=NAME|none&provider=P → {"ok":true,"fault":…,
 *   "provider":P}: the same for the paths of one provider only (yahoo,
 *   coingecko, fx or frankfurter, kraken, erapi, twelvedata, coinbase,
 *   binance), so
 *   one source is down while the others answer; the global fault, when
 *   set, wins. GET /_mode → {"fault":"none","latency_ms":0,
 *   "providers":{"yahoo":"none",…}}.
 * POST /_latency?ms=N         → {"ok":true,"latency_ms":N} (0..600000).
 * POST /_offset?provider=P&pct=N → {"ok":true,"provider":P,"offset_pct":N}:
 *   from then on that provider's prices are N % off (-90..1000, two
 *   decimals; 0 = true again), so one source disagrees with the others
 *   (the cross-check's tests). Applies to coingecko, kraken, coinbase,
 *   binance and twelvedata answers; yahoo, fx and erapi ignore it.
 *
 * Replay (`--fixtures DIR`): POST /_replay?path=P&file=F[&status=N] →
 *   {"ok":true,"path":P,"file":F,"status":N,"bytes":…,"content_type":…};
 *   from then on every request whose URL path (no query) is exactly P is
 *   answered with the bytes of DIR/F, read at POST time, verbatim, with
 *   status N (default 200) and the content type of F's extension (.json
 *   application/json;charset=utf-8, .txt text/plain;charset=utf-8, .html
 *   text/html;charset=utf-8, else application/octet-stream). Replayed
 *   requests are counted in /_stats as usual (by_path, by_symbol from the
 *   path or query), the global latency applies, faults do not. A path
 *   fakemarket does not serve may be replayed too (counted as
 *   "(unknown)"). Several paths at once (up to 64); the same path again
 *   replaces it; POST /_replay?clear=1 → {"ok":true,"cleared":N}; GET
 *   /_replay → {"fixtures":DIR|null,"replays":[{path,file,status,bytes,
 *   content_type}…]}; /_reset leaves replays alone. F must be a plain
 *   file name (no '/', no leading '.'), exist, and be at most 4 MiB, else
 *   400 {"error":"file: …"}; path must start with '/' and not be /_…
 *   ({"error":"path: …"}); status 100..599 ({"error":"status: …"});
 *   without --fixtures: 400 {"error":"fakemarket was started without
 *   --fixtures"}.
 * Anything else: 404 {"error":"not found"}; a known path with the wrong
 * method: 405 with Allow.
 *
 * Faults: a symbol or id starting with a fault name (any case) asks for it;
 * see faults.h for the two kinds and fault_answer() below for what each does.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "faults.h"
#include "log.h"
#include "replay.h"
#include "stats.h"
#include "util.h"
#include "wire.h"

/* Request targets longer than this get 414: real provider URLs are well
 * under 2 KiB even for a 100-symbol batch. MHD's own memory limit (below)
 * refuses anything larger than fits a connection's pool. */
#define FM_MAX_URI 8192
/* Request bodies are read and dropped; a chunked upload is still bounded
 * by the connection timeout. */
#define FM_MAX_BODY (64 * 1024)
#define FM_MAX_SYMBOLS 200
/* Yahoo's spark batch limit: a client's 2026 measurement of v8 spark,
 * "20 symbols ok, from 22 HTTP 400" (in the source note of
 * yahoo_spark_v8_AAPL_VTI_via_yfapi.json); 21 is taken as refused too. */
#define FM_SPARK_MAX 20
#define FM_MAX_SYMBOL_LEN 64
#define FM_MAX_TRACKED_SYMBOLS 100000
#define FM_MAX_LATENCY_MS 600000
#define FM_HANG_MS 120000
#define FM_DRIP_INTERVAL_MS 2000
#define FM_HUGE_BYTES (2u * 1024u * 1024u)
/* Each connection is a thread: a thousand covers benchmarks at
 * concurrency 64 plus a few hundred hung clients, and bounds the damage of
 * a runaway test. */
#define FM_CONN_LIMIT 1024u
/* Idle keep-alive connections close after a minute; waits inside a request
 * (latency, HANG) are bounded separately. */
#define FM_CONN_TIMEOUT_S 60u
#define FM_CONN_MEMORY (64u * 1024u)
#define FM_THREAD_STACK (1024u * 1024u)

#define PATH_CHART "/v8/finance/chart"
#define PATH_SPARK "/v8/finance/spark"
#define PATH_SPARK7 "/v7/finance/spark"
#define PATH_PRICE "/api/v3/simple/price"
#define PATH_FX "/latest"
#define PATH_KRAKEN "/0/public/Ticker"
#define PATH_ERAPI "/v6/latest"
#define PATH_TWELVEDATA "/quote"
#define PATH_COINBASE "/v2/prices/spot"
#define PATH_BINANCE "/api/v3/ticker/price"
#define PATH_MARKET_CHART "/api/v3/coins/market_chart"
#define PATH_UNKNOWN "(unknown)"

#define JSON_TYPE "application/json;charset=utf-8"
#define TEXT_TYPE "text/plain;charset=utf-8"
#define HTML_TYPE "text/html;charset=utf-8"

/* The providers /_mode?provider= names: which endpoints each one owns. */
enum fm_provider {
    FM_PROV_YAHOO,
    FM_PROV_COINGECKO,
    FM_PROV_FX,
    FM_PROV_KRAKEN,
    FM_PROV_ERAPI,
    FM_PROV_TWELVEDATA,
    FM_PROV_COINBASE,
    FM_PROV_BINANCE,
    FM_PROV_COUNT
};

static const char *const fm_provider_names[FM_PROV_COUNT] = {
    "yahoo", "coingecko", "fx", "kraken", "erapi", "twelvedata", "coinbase", "binance"};

static enum fm_provider provider_of(enum fm_endpoint ep)
{
    switch (ep) {
    case FM_EP_CHART:
    case FM_EP_SPARK:
    case FM_EP_SPARK7:
        return FM_PROV_YAHOO;
    case FM_EP_SIMPLE_PRICE:
    case FM_EP_MARKET_CHART:
        return FM_PROV_COINGECKO;
    case FM_EP_FX:
        return FM_PROV_FX;
    case FM_EP_KRAKEN:
        return FM_PROV_KRAKEN;
    case FM_EP_ERAPI:
        return FM_PROV_ERAPI;
    case FM_EP_TWELVEDATA:
        return FM_PROV_TWELVEDATA;
    case FM_EP_COINBASE:
        return FM_PROV_COINBASE;
    case FM_EP_BINANCE:
        return FM_PROV_BINANCE;
    }
    return FM_PROV_YAHOO;
}

struct fm_server {
    struct fm_stats *stats;
    atomic_int fault; /* enum fm_fault: the global /_mode fault */
    /* /_mode?provider=NAME: a fault for that provider's paths only (one
     * source down while the others answer); the global one wins when set */
    atomic_int provider_fault[FM_PROV_COUNT];
    /* POST /_offset: each provider's prices off by this many hundredths of
     * a percent (one source disagreeing with the others) */
    atomic_int provider_offset_bp[FM_PROV_COUNT];
    atomic_llong latency_ms;
    struct fm_replays *replays;
    /* Written once at shutdown and never read, so it stays readable and
     * every wait, present or future, returns at once. */
    int stop_pipe[2];
};

/* Per-request state, created by the URI log callback (the only place MHD
 * shows the raw request target, which REDIRLOOP sends back) and freed in
 * the completion callback. */
struct fm_request {
    bool headers_seen;
    bool too_long;
    char uri[];
};

/* One provider request, parsed. Names point into `list` or into MHD's
 * connection memory, both alive until the answer is queued. */
struct fm_call {
    enum fm_endpoint ep;
    const char *stats_path;
    struct fm_entry entries[FM_MAX_SYMBOLS];
    const char *names[FM_MAX_SYMBOLS];
    size_t n;
    /* simple/price */
    const char *vs[FM_MAX_SYMBOLS];
    size_t n_vs;
    bool with_ts;
    /* chart */
    struct fm_window window;
    /* market_chart */
    int days;
    /* latest, v6/latest */
    const char *base;
    bool api_key;
    bool td_key; /* Authorization: apikey … (Twelve Data) */
    bool single; /* Binance: ?symbol= (one object), not ?symbols=[…] */
    char list[FM_MAX_URI + 1];
    char vs_list[FM_MAX_URI + 1];
};

/* What a replayed request needs of its route: how to count it. stats_path
 * NULL: not a provider path (counted as "(unknown)"). */
struct route_view {
    enum fm_endpoint ep;
    const char *stats_path;
};

/* ---- waiting -------------------------------------------------------- */

/* Waits ms, or less if the client hangs up or the server is stopping.
 * Returns 0 if the whole time passed, -1 if cut short. fd < 0: no client
 * to watch. Only POLLRDHUP is asked of the client socket: POLLIN would
 * spin on a pipelined request the client already sent. */
static int hold(struct fm_server *srv, int fd, int64_t ms)
{
    int64_t deadline = util_mono_ms() + ms;
    for (;;) {
        int64_t left = deadline - util_mono_ms();
        if (left <= 0)
            return 0;
        struct pollfd p[2] = {{.fd = srv->stop_pipe[0], .events = POLLIN},
                              {.fd = fd, .events = POLLRDHUP}};
        int n = poll(p, fd >= 0 ? 2 : 1, left > INT_MAX ? INT_MAX : (int)left);
        if (n < 0 && errno != EINTR)
            return -1;
        if (n <= 0)
            continue;
        if (p[0].revents != 0)
            return -1;
        if (fd >= 0 && (p[1].revents & (POLLRDHUP | POLLHUP | POLLERR | POLLNVAL)) != 0)
            return -1;
    }
}

static int client_fd(struct MHD_Connection *conn)
{
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);
    return ci != NULL ? ci->connect_fd : -1;
}

/* ---- answering ------------------------------------------------------ */

static enum MHD_Result queue(struct MHD_Connection *conn, unsigned status,
                             struct MHD_Response *resp, const char *ctype)
{
    enum MHD_Result ret = MHD_NO;
    if (resp == NULL)
        return MHD_NO;
    if (ctype != NULL &&
        MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, ctype) != MHD_YES)
        goto out;
    ret = MHD_queue_response(conn, status, resp);
out:
    MHD_destroy_response(resp);
    return ret;
}

/* A body that outlives the request (string literals). */
static enum MHD_Result send_static(struct MHD_Connection *conn, unsigned status, const char *ctype,
                                   const char *body)
{
    struct MHD_Response *r =
        MHD_create_response_from_buffer(strlen(body), (void *)body, MHD_RESPMEM_PERSISTENT);
    return queue(conn, status, r, ctype);
}

static enum MHD_Result send_oom(struct MHD_Connection *conn)
{
    return send_static(conn, MHD_HTTP_SERVICE_UNAVAILABLE, TEXT_TYPE,
                       "fakemarket: out of memory\n");
}

/* Takes b->data: MHD frees it once the response is gone. */
static enum MHD_Result send_body(struct MHD_Connection *conn, struct fm_body *b)
{
    struct MHD_Response *r =
        MHD_create_response_from_buffer(b->len, b->data, MHD_RESPMEM_MUST_FREE);
    if (r == NULL) {
        fm_body_clear(b);
        return send_oom(conn);
    }
    unsigned status = b->status;
    const char *ctype = b->content_type;
    b->data = NULL;
    fm_body_clear(b);
    return queue(conn, status, r, ctype);
}

static enum MHD_Result send_error(struct MHD_Connection *conn, unsigned status, const char *msg)
{
    struct fm_body b;
    if (fm_wire_error(status, msg, &b) != 0)
        return send_oom(conn);
    return send_body(conn, &b);
}

static enum MHD_Result send_json_text(struct MHD_Connection *conn, unsigned status,
                                      const char *text)
{
    struct fm_body b = {0};
    size_t n = strlen(text);
    b.data = malloc(n + 1);
    if (b.data == NULL)
        return send_oom(conn);
    memcpy(b.data, text, n + 1);
    b.len = n;
    b.status = status;
    b.content_type = JSON_TYPE;
    return send_body(conn, &b);
}

/* The body of SLOWDRIP and TRUNC, handed out by a content reader. */
struct fm_stream {
    struct fm_server *srv;
    int fd;
    char *data;
    size_t len;
    size_t cut;          /* bytes sent before failing: len for SLOWDRIP */
    int64_t interval_ms; /* pause before each byte after the first; 0: no pause */
};

/* Runs in the connection's own thread, so blocking here (SLOWDRIP) is
 * allowed and delays nobody else. */
static ssize_t stream_read(void *cls, uint64_t pos, char *buf, size_t max)
{
    struct fm_stream *s = cls;
    if (pos >= s->cut)
        return pos >= s->len ? MHD_CONTENT_READER_END_OF_STREAM : MHD_CONTENT_READER_END_WITH_ERROR;
    if (s->interval_ms > 0) {
        if (pos > 0 && hold(s->srv, s->fd, s->interval_ms) != 0)
            return MHD_CONTENT_READER_END_WITH_ERROR;
        buf[0] = s->data[pos];
        return 1;
    }
    size_t n = s->cut - (size_t)pos;
    if (n > max)
        n = max;
    memcpy(buf, s->data + pos, n);
    return (ssize_t)n;
}

static void stream_free(void *cls)
{
    struct fm_stream *s = cls;
    free(s->data);
    free(s);
}

/* Declares b->len bytes but sends `cut` of them, with `interval_ms`
 * between bytes. Takes b->data. */
static enum MHD_Result send_stream(struct fm_server *srv, struct MHD_Connection *conn,
                                   struct fm_body *b, size_t cut, int64_t interval_ms)
{
    struct fm_stream *s = malloc(sizeof *s);
    if (s == NULL) {
        fm_body_clear(b);
        return send_oom(conn);
    }
    *s = (struct fm_stream){.srv = srv,
                            .fd = client_fd(conn),
                            .data = b->data,
                            .len = b->len,
                            .cut = cut,
                            .interval_ms = interval_ms};
    unsigned status = b->status;
    const char *ctype = b->content_type;
    b->data = NULL;
    fm_body_clear(b);
    struct MHD_Response *r = MHD_create_response_from_callback(s->len, interval_ms > 0 ? 1 : 4096,
                                                               &stream_read, s, &stream_free);
    if (r == NULL) {
        stream_free(s);
        return send_oom(conn);
    }
    return queue(conn, status, r, ctype);
}

/* "http://HOST" + the raw request target, or the target alone when the
 * Host header is missing or odd: a relative Location is legal too. */
static enum MHD_Result send_redirect_self(struct MHD_Connection *conn, const struct fm_request *req)
{
    char loc[FM_MAX_URI + 300];
    const char *host = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_HOST);
    bool host_ok = host != NULL && host[0] != '\0' && strlen(host) < 256 && req->uri[0] == '/';
    for (const char *p = host; host_ok && *p; p++)
        host_ok = (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
                  (*p >= '0' && *p <= '9') || strchr(".-:[]", *p) != NULL;
    if (host_ok)
        snprintf(loc, sizeof loc, "http://%s%s", host, req->uri);
    else
        util_strlcpy(loc, req->uri, sizeof loc);
    struct MHD_Response *r = MHD_create_response_from_buffer(0, (void *)"", MHD_RESPMEM_PERSISTENT);
    if (r == NULL)
        return MHD_NO;
    if (MHD_add_response_header(r, MHD_HTTP_HEADER_LOCATION, loc) != MHD_YES) {
        MHD_destroy_response(r);
        return MHD_NO;
    }
    return queue(conn, MHD_HTTP_FOUND, r, TEXT_TYPE);
}

static enum MHD_Result send_with_header(struct MHD_Connection *conn, unsigned status,
                                        const char *ctype, const char *body, const char *hname,
                                        const char *hvalue)
{
    struct MHD_Response *r =
        MHD_create_response_from_buffer(strlen(body), (void *)body, MHD_RESPMEM_PERSISTENT);
    if (r == NULL)
        return MHD_NO;
    if (MHD_add_response_header(r, hname, hvalue) != MHD_YES) {
        MHD_destroy_response(r);
        return MHD_NO;
    }
    return queue(conn, status, r, ctype);
}

/* ---- provider requests --------------------------------------------- */

/* Splits a comma list in place into up to FM_MAX_SYMBOLS names, skipping
 * empty items and surrounding spaces. Returns the count, or -1 with *why
 * set when an item is too long, holds a control character or space, or
 * there are too many. */
static int split_list(char *s, const char **out, const char **why)
{
    int n = 0;
    char *save = s;
    while (save != NULL) {
        char *item = save;
        char *comma = strchr(item, ',');
        save = comma != NULL ? comma + 1 : NULL;
        if (comma != NULL)
            *comma = '\0';
        while (*item == ' ')
            item++;
        size_t len = strlen(item);
        while (len > 0 && item[len - 1] == ' ')
            item[--len] = '\0';
        if (len == 0)
            continue;
        if (len > FM_MAX_SYMBOL_LEN) {
            *why = "a symbol is longer than 64 characters";
            return -1;
        }
        for (size_t i = 0; i < len; i++) {
            if ((unsigned char)item[i] <= 0x20 || (unsigned char)item[i] == 0x7f) {
                *why = "a symbol contains a space or control character";
                return -1;
            }
        }
        if (n == FM_MAX_SYMBOLS) {
            *why = "more than 200 symbols";
            return -1;
        }
        out[n++] = item;
    }
    return n;
}

static const char *query(struct MHD_Connection *conn, const char *key)
{
    return MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND, key);
}

static bool is_true(const char *v)
{
    return v != NULL && util_streq_nocase(v, "true");
}

/* Puts symbols into call->list/names. 0, or -1 with *why set. */
static int parse_names(struct fm_call *call, const char *raw, const char **why)
{
    if (util_strlcpy(call->list, raw, sizeof call->list) >= sizeof call->list) {
        *why = "list too long";
        return -1;
    }
    int n = split_list(call->list, call->names, why);
    if (n < 0)
        return -1;
    call->n = (size_t)n;
    return 0;
}

static void upper_in_place(char *s)
{
    for (; *s; s++)
        if (*s >= 'a' && *s <= 'z')
            *s = (char)(*s - 'a' + 'A');
}

/* The body for a request without a request fault, or with one that still
 * sends the real answer (SLOWDRIP, TRUNC, HUGE). */
static int build_answer(const struct fm_call *call, enum fm_fault global, int64_t now,
                        struct fm_body *b)
{
    switch (call->ep) {
    case FM_EP_CHART:
        return fm_wire_chart(&call->entries[0], &call->window, now, b);
    case FM_EP_SPARK:
        return fm_wire_spark(call->entries, call->n, now, b);
    case FM_EP_SPARK7:
        return fm_wire_spark7(call->entries, call->n, now, b);
    case FM_EP_SIMPLE_PRICE:
        return fm_wire_simple_price(call->entries, call->n, call->vs, call->n_vs, call->with_ts,
                                    now, b);
    case FM_EP_FX:
        return fm_wire_fx_latest(call->base, call->names, call->n,
                                 fm_fault_for_entry(FM_FAULT_NONE, global), now, b);
    case FM_EP_KRAKEN:
        return fm_wire_kraken_ticker(call->entries, call->n, now, b);
    case FM_EP_ERAPI:
        return fm_wire_erapi_latest(call->base, fm_fault_for_entry(FM_FAULT_NONE, global), now, b);
    case FM_EP_TWELVEDATA:
        return fm_wire_twelvedata_quote(call->entries, call->n, call->td_key, now, b);
    case FM_EP_COINBASE:
        return fm_wire_coinbase_spot(&call->entries[0], now, b);
    case FM_EP_BINANCE:
        return fm_wire_binance_price(call->entries, call->n, call->single, now, b);
    case FM_EP_MARKET_CHART:
        return fm_wire_market_chart(&call->entries[0], call->days, now, b);
    }
    return -1;
}

static const char html_500[] = "<html><head><title>500 Internal Server Error</title></head>"
                               "<body><h1>Internal Server Error</h1></body></html>\n";
static const char html_502[] = "<html><head><title>502 Bad Gateway</title></head>"
                               "<body><h1>Bad Gateway</h1></body></html>\n";
static const char html_503[] = "<html><head><title>503 Service Unavailable</title></head>"
                               "<body><h1>Service Unavailable</h1></body></html>\n";
static const char html_page[] =
    "<!DOCTYPE html>\n<html><head><title>Market data</title></head>"
    "<body><h1>Welcome</h1><p>Please enable JavaScript to continue.</p></body></html>\n";

/* yahoo_429_edge_too_many_requests.txt: the whole body, plain text, no
 * Retry-After (none is documented in the reports it comes from). */
static const char yahoo_429[] = "Edge: Too Many Requests";
/* yahoo_v7_quote_401_invalid_crumb.json. */
static const char yahoo_401[] =
    "{\"finance\":{\"result\":null,\"error\":{\"code\":\"Unauthorized\","
    "\"description\":\"Invalid Crumb\"}}}";
/* coingecko_429_rate_limit.json (187 bytes, as logged). */
static const char cg_429[] =
    "{\"status\":{\"error_code\":429,\"error_message\":\"You've exceeded the Rate Limit. "
    "Please visit https://www.coingecko.com/en/api/pricing to subscribe to our API plans for "
    "higher rate limits.\"}}";
/* Yahoo's consent wall, an HTTP 200 text/html;charset=UTF-8 page, cut
 * down from yahoo_consent_collectConsent_200_EXCERPT.html (itself an
 * excerpt of a ~92 KB recorded page): its doctype, title, the
 * consent-page form with the recorded hidden fields and the agree /
 * reject buttons, its first sentences; no styles, scripts or beacons. */
static const char block_page[] =
    "<!DOCTYPE html>\n<html dir=\"ltr\" class=\"ltr  yahoo-page height100\">\n<head>\n"
    "    <title>Yahoo is part of the Yahoo family of brands</title>\n</head>\n<body>\n"
    "<div id=\"consent-page\" class=\"theme-2 v4 brandtype-yahoo \">\n"
    "<div class=\"con-wizard\">\n<form method=\"post\" class=\"consent-form\" action=\"\">\n"
    "<div class=\"consent-text\" id=\"consent-text\">\n"
    "<p>We, Yahoo, are part of the Yahoo family of brands.</p>\n"
    "<p>If you do not want us and our partners to use cookies and personal data for these "
    "additional purposes, click '<strong>Reject all</strong>'.</p>\n</div>\n"
    "<div class=\"actions couple\">\n"
    "    <input type=\"hidden\" name=\"csrfToken\" value=\"GoNrer0\">\n"
    "    <input type=\"hidden\" name=\"sessionId\" "
    "value=\"3_cc-session_dcf322f7-c2b7-4e77-9e32-36143f8f7c5d\">\n"
    "    <input type=\"hidden\" name=\"originalDoneUrl\" "
    "value=\"https://finance.yahoo.com/quote/AAPL?guccounter&#x3D;1\">\n"
    "    <input type=\"hidden\" name=\"namespace\" value=\"yahoo\">\n"
    "    <button type=\"submit\" class=\"btn secondary accept-all \" name=\"agree\" "
    "value=\"agree\">Accept all</button>\n"
    "    <button type=\"submit\" class=\"btn secondary reject-all\" name=\"reject\" "
    "value=\"reject\">Reject all</button>\n"
    "</div>\n</form>\n</div>\n</div>\n</body>\n</html>\n";
#define CONSENT_TYPE "text/html;charset=UTF-8"
/* Not recorded: a CDN's 403 page; only the status and the HTML type
 * matter to a client. */
static const char html_403[] = "<html><head><title>403 Forbidden</title></head>"
                               "<body><h1>Forbidden</h1></body></html>\n";

/* CoinGecko's 401 for a missing or bad key: error_code 10002 with a
 * timestamp, as a 2026-05-17 probe logged it ({"status":{"timestamp":
 * "2026-05-17T01:39:44.892+00:00","error_code":10002,"error_message":
 * "API Key Missing. Please make sure you're using the right
 * authentication method. For Pro API, please visit: https://docs.
 * coingecko.com/reference/authentication. For Public/Demo API, please v…"
 * — cut there by the probe, so the message ends at the last whole
 * sentence); two clients' tests quote the same {"status":{…10002…}}
 * object at the top level, so no "error" wrapper. */
static int cg_401_body(int64_t now_ms, char *buf, size_t len)
{
    time_t secs = (time_t)(now_ms / 1000);
    struct tm tm;
    gmtime_r(&secs, &tm);
    return snprintf(buf, len,
                    "{\"status\":{\"timestamp\":\"%04d-%02d-%02dT%02d:%02d:%02d.%03d+00:00\","
                    "\"error_code\":10002,\"error_message\":\"API Key Missing. Please make sure "
                    "you're using the right authentication method. For Pro API, please visit: "
                    "https://docs.coingecko.com/reference/authentication.\"}}",
                    (tm.tm_year + 1900) % 10000, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min,
                    tm.tm_sec, (int)(now_ms % 1000));
}

static bool is_yahoo(enum fm_endpoint ep)
{
    return ep == FM_EP_CHART || ep == FM_EP_SPARK || ep == FM_EP_SPARK7;
}

/*
 * What each request fault does (named by a symbol or by /_mode):
 *   ERR500/502/503  that status, small text/html body
 *   ERR429          429, Retry-After: 2, text/plain "Too Many Requests";
 *                   on CoinGecko paths its real JSON body (with the header,
 *                   as recorded: CoinGecko sends retry-after; 2 s, not
 *                   the recorded 119, so tests stay fast)
 *   ERR429NR        429 without Retry-After; on Yahoo paths Yahoo's real
 *                   plain-text "Edge: Too Many Requests"
 *   CRUMB401        401 Yahoo's {"finance":{"result":null,"error":{"code":
 *                   "Unauthorized","description":"Invalid Crumb"}}}
 *   BLOCKPAGE       200 text/html;charset=UTF-8: Yahoo's consent wall, cut
 *                   down from the recorded page
 *   ERR403          403 text/html
 *   CGKEY401        401 CoinGecko's {"status":{"timestamp":…,"error_code":
 *                   10002,"error_message":"API Key Missing. …"}}
 *   HANG            no answer at all: hold 120 s (or until the client
 *                   leaves), then close the connection (handled in serve())
 *   SLOWDRIP        200 with the real body, one byte every 2 s
 *   TRUNC           200, Content-Length of the real body, half of it sent,
 *                   then the connection closes (curl: error 18)
 *   BADJSON         200 application/json that breaks off into garbage
 *   WRONGSHAPE      200 {"data":[1,2,3]}
 *   HUGE            200, the real answer padded to exactly 2 MiB, valid JSON
 *   HTMLCT          200 text/html page
 *   LIMIT200        200 text/plain "Rate limit exceeded. Please try again later."
 *   REDIRLOOP       302 Location: this same URL
 *   REDIRFTP        302 Location: ftp://127.0.0.1/x
 *   EMPTY           200 {"chart":{"result":[],"error":null}} for chart,
 *                   {"spark":{"result":[],"error":null}} for v7 spark, {} else
 * Content faults (wire.c) change one entry: NULLPRICE null, NEGPRICE -5.0,
 * ZEROPRICE 0, NANPRICE "NaN" (price and last close), NULLCLOSE the last
 * close (and that bar's other fields) null while meta keeps its price,
 * FUTURETS timestamp +1
 * day, OLDTS timestamp -30 days, WRONGCCY currency JPY (chart meta.currency,
 * CoinGecko's key, Frankfurter's base; spark has no currency field),
 * MISSING and NOSUCH leave the entry out (chart: 404).
 */
static enum MHD_Result fault_answer(struct fm_server *srv, struct MHD_Connection *conn,
                                    const struct fm_request *req, const struct fm_call *call,
                                    enum fm_fault rf, enum fm_fault global)
{
    struct fm_body b;
    int64_t now = util_wall_ms() / 1000;
    switch (rf) {
    case FM_FAULT_ERR500:
        return send_static(conn, 500, HTML_TYPE, html_500);
    case FM_FAULT_ERR502:
        return send_static(conn, 502, HTML_TYPE, html_502);
    case FM_FAULT_ERR503:
        return send_static(conn, 503, HTML_TYPE, html_503);
    case FM_FAULT_ERR429:
        if (call->ep == FM_EP_SIMPLE_PRICE)
            return send_with_header(conn, 429, JSON_TYPE, cg_429, MHD_HTTP_HEADER_RETRY_AFTER, "2");
        return send_with_header(conn, 429, TEXT_TYPE, "Too Many Requests",
                                MHD_HTTP_HEADER_RETRY_AFTER, "2");
    case FM_FAULT_ERR429NR:
        return send_static(conn, 429, TEXT_TYPE,
                           is_yahoo(call->ep) ? yahoo_429 : "Too Many Requests");
    case FM_FAULT_CRUMB401:
        return send_static(conn, 401, JSON_TYPE, yahoo_401);
    case FM_FAULT_BLOCKPAGE:
        return send_static(conn, 200, CONSENT_TYPE, block_page);
    case FM_FAULT_ERR403:
        return send_static(conn, 403, HTML_TYPE, html_403);
    case FM_FAULT_CGKEY401: {
        char buf[512];
        int n = cg_401_body(util_wall_ms(), buf, sizeof buf);
        if (n < 0 || (size_t)n >= sizeof buf)
            return send_oom(conn);
        return send_json_text(conn, 401, buf);
    }
    case FM_FAULT_WRONGSHAPE:
        return send_static(conn, 200, JSON_TYPE, "{\"data\":[1,2,3]}");
    case FM_FAULT_HTMLCT:
        return send_static(conn, 200, HTML_TYPE, html_page);
    case FM_FAULT_LIMIT200:
        return send_static(conn, 200, TEXT_TYPE, "Rate limit exceeded. Please try again later.");
    case FM_FAULT_REDIRLOOP:
        return send_redirect_self(conn, req);
    case FM_FAULT_REDIRFTP:
        return send_with_header(conn, MHD_HTTP_FOUND, TEXT_TYPE, "", MHD_HTTP_HEADER_LOCATION,
                                "ftp://127.0.0.1/x");
    case FM_FAULT_EMPTY:
        if (fm_wire_empty(call->ep, &b) != 0)
            return send_oom(conn);
        return send_body(conn, &b);
    case FM_FAULT_BADJSON:
        if (fm_wire_bad_json(call->ep, &b) != 0)
            return send_oom(conn);
        return send_body(conn, &b);
    default:
        break;
    }
    if (build_answer(call, global, now, &b) != 0)
        return send_oom(conn);
    if (rf == FM_FAULT_HUGE && b.status == 200 && fm_wire_pad(&b, FM_HUGE_BYTES) != 0) {
        fm_body_clear(&b);
        return send_oom(conn);
    }
    if (rf == FM_FAULT_SLOWDRIP)
        return send_stream(srv, conn, &b, b.len, FM_DRIP_INTERVAL_MS);
    if (rf == FM_FAULT_TRUNC)
        return send_stream(srv, conn, &b, b.len / 2, 0);
    return send_body(conn, &b);
}

/* Counts, works out the faults, waits, answers. */
static enum MHD_Result serve(struct fm_server *srv, struct MHD_Connection *conn,
                             const struct fm_request *req, struct fm_call *call)
{
    if (fm_stats_count(srv->stats, call->stats_path, call->names, call->n, call->api_key) != 0)
        log_msg(LOG_WARNING, "fakemarket: out of memory counting symbols");
    enum fm_fault global = (enum fm_fault)atomic_load(&srv->fault);
    if (global == FM_FAULT_NONE)
        global = (enum fm_fault)atomic_load(&srv->provider_fault[provider_of(call->ep)]);
    enum fm_fault rf = fm_fault_is_request(global) ? global : FM_FAULT_NONE;
    for (size_t i = 0; i < call->n; i++) {
        /* FX codes are three letters and never name a fault. */
        enum fm_fault own = call->ep == FM_EP_FX || call->ep == FM_EP_ERAPI
                                ? FM_FAULT_NONE
                                : fm_fault_of_symbol(call->names[i]);
        if (rf == FM_FAULT_NONE && fm_fault_is_request(own))
            rf = own;
        call->entries[i] = (struct fm_entry){
            call->names[i], fm_fault_for_entry(own, global),
            1.0 + atomic_load(&srv->provider_offset_bp[provider_of(call->ep)]) / 10000.0};
    }
    log_msg(LOG_DEBUG, "%s (%zu symbols) fault=%s", req->uri, call->n, fm_fault_name(rf));
    int fd = client_fd(conn);
    if (rf == FM_FAULT_HANG) {
        hold(srv, fd, FM_HANG_MS);
        return MHD_NO; /* close without a word */
    }
    int64_t latency = atomic_load(&srv->latency_ms);
    if (latency > 0 && hold(srv, fd, latency) != 0)
        return MHD_NO;
    return fault_answer(srv, conn, req, call, rf, global);
}

static struct fm_call *call_new(enum fm_endpoint ep, const char *stats_path,
                                struct MHD_Connection *conn)
{
    struct fm_call *call = calloc(1, sizeof *call);
    if (call == NULL)
        return NULL;
    call->ep = ep;
    call->stats_path = stats_path;
    call->api_key =
        MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "x-cg-demo-api-key") != NULL ||
        MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "x-cg-pro-api-key") != NULL;
    const char *auth = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Authorization");
    call->td_key = auth != NULL && strncmp(auth, "apikey ", 7) == 0 && auth[7] != '\0';
    return call;
}

/* Counts a request that could not be parsed (its path only) and refuses it. */
static enum MHD_Result refuse(struct fm_server *srv, struct MHD_Connection *conn,
                              struct fm_call *call, unsigned status, const char *msg)
{
    call->n = 0;
    (void)fm_stats_count(srv->stats, call->stats_path, NULL, 0, call->api_key);
    return send_error(conn, status, msg);
}

typedef enum MHD_Result (*fm_handler)(struct fm_server *srv, struct MHD_Connection *conn,
                                      const struct fm_request *req, const char *url,
                                      struct fm_call *call);

static enum MHD_Result on_chart(struct fm_server *srv, struct MHD_Connection *conn,
                                const struct fm_request *req, const char *url, struct fm_call *call)
{
    const char *sym = url + strlen(PATH_CHART "/");
    const char *why = NULL;
    if (strchr(sym, ',') != NULL || strchr(sym, '/') != NULL)
        return refuse(srv, conn, call, 404, "not found");
    if (parse_names(call, sym, &why) != 0)
        return refuse(srv, conn, call, 400, why);
    if (call->n > 0 &&
        fm_wire_window(query(conn, "range"), query(conn, "period1"), query(conn, "period2"),
                       util_wall_ms() / 1000, &call->window) != 0) {
        struct fm_body b;
        (void)fm_stats_count(srv->stats, call->stats_path, call->names, call->n, call->api_key);
        if (fm_wire_chart_bad_window(&b) != 0)
            return send_oom(conn);
        return send_body(conn, &b);
    }
    if (call->n == 0) {
        /* /v8/finance/chart/ with no symbol: Yahoo's 404, counted, no symbol. */
        call->names[0] = "";
        call->entries[0] = (struct fm_entry){"", FM_FAULT_NOSUCH};
        struct fm_body b;
        (void)fm_stats_count(srv->stats, call->stats_path, NULL, 0, call->api_key);
        if (fm_wire_chart(&call->entries[0], NULL, 0, &b) != 0)
            return send_oom(conn);
        return send_body(conn, &b);
    }
    return serve(srv, conn, req, call);
}

static enum MHD_Result on_spark(struct fm_server *srv, struct MHD_Connection *conn,
                                const struct fm_request *req, const char *url, struct fm_call *call)
{
    const char *why = NULL;
    const char *symbols = query(conn, "symbols");
    (void)url;
    if (symbols == NULL)
        return refuse(srv, conn, call, 400, "missing parameter symbols");
    if (parse_names(call, symbols, &why) != 0)
        return refuse(srv, conn, call, 400, why);
    if (call->n > FM_SPARK_MAX) {
        struct fm_body b;
        (void)fm_stats_count(srv->stats, call->stats_path, call->names, call->n, call->api_key);
        if (fm_wire_spark_too_many(call->n, FM_SPARK_MAX, &b) != 0)
            return send_oom(conn);
        return send_body(conn, &b);
    }
    return serve(srv, conn, req, call);
}

static enum MHD_Result on_simple_price(struct fm_server *srv, struct MHD_Connection *conn,
                                       const struct fm_request *req, const char *url,
                                       struct fm_call *call)
{
    const char *why = NULL;
    const char *ids = query(conn, "ids");
    const char *vs = query(conn, "vs_currencies");
    (void)url;
    /* 422 {"error":"Missing parameter ids"}: the answer recorded in the
     * source note of coingecko_error_422_missing_vs_currency.json. */
    if (ids == NULL)
        return refuse(srv, conn, call, 422, "Missing parameter ids");
    if (vs == NULL)
        return refuse(srv, conn, call, 422, "Missing parameter vs_currencies");
    if (parse_names(call, ids, &why) != 0)
        return refuse(srv, conn, call, 400, why);
    if (util_strlcpy(call->vs_list, vs, sizeof call->vs_list) >= sizeof call->vs_list)
        return refuse(srv, conn, call, 400, "vs_currencies too long");
    int n_vs = split_list(call->vs_list, call->vs, &why);
    if (n_vs < 0)
        return refuse(srv, conn, call, 400, why);
    call->n_vs = (size_t)n_vs;
    call->with_ts = is_true(query(conn, "include_last_updated_at"));
    return serve(srv, conn, req, call);
}

/* /api/v3/coins/{id}/market_chart: the id from the path, counted as a
 * symbol; vs_currency and days are required, as CoinGecko's 422 says
 * (coingecko_error_422_missing_vs_currency.json, byte for byte for
 * vs_currency). Only usd is priced; days=max is served as 3650. */
static enum MHD_Result on_market_chart(struct fm_server *srv, struct MHD_Connection *conn,
                                       const struct fm_request *req, const char *url,
                                       struct fm_call *call)
{
    const char *why = NULL;
    const char *id = url + strlen("/api/v3/coins/");
    const char *slash = strchr(id, '/');
    if (slash == NULL || strcmp(slash, "/market_chart") != 0 || slash == id ||
        (size_t)(slash - id) >= sizeof call->list)
        return refuse(srv, conn, call, 404, "not found");
    char one[sizeof call->list];
    memcpy(one, id, (size_t)(slash - id));
    one[slash - id] = '\0';
    if (strchr(one, ',') != NULL || parse_names(call, one, &why) != 0 || call->n != 1)
        return refuse(srv, conn, call, 404, "not found");
    const char *vs = query(conn, "vs_currency");
    const char *days = query(conn, "days");
    if (vs == NULL)
        return refuse(srv, conn, call, 422, "Missing parameter vs_currency");
    if (days == NULL)
        return refuse(srv, conn, call, 422, "Missing parameter days");
    int64_t n = 0;
    if (strcmp(days, "max") == 0)
        n = 3650;
    else if (util_parse_i64(days, 1, 100000, &n) != 0)
        return refuse(srv, conn, call, 400, "invalid days");
    if (strcmp(vs, "usd") != 0)
        return refuse(srv, conn, call, 400, "only vs_currency=usd is served");
    call->days = (int)n;
    return serve(srv, conn, req, call);
}

static enum MHD_Result on_fx(struct fm_server *srv, struct MHD_Connection *conn,
                             const struct fm_request *req, const char *url, struct fm_call *call)
{
    const char *why = NULL;
    const char *to = query(conn, "to");
    (void)url;
    if (to == NULL)
        to = query(conn, "symbols");
    call->base = query(conn, "from");
    if (call->base == NULL)
        call->base = query(conn, "base");
    if (to != NULL && parse_names(call, to, &why) != 0)
        return refuse(srv, conn, call, 400, why);
    /* Counted as "EUR" whether asked as "eur" or "EUR". */
    for (size_t i = 0; i < call->n; i++)
        upper_in_place((char *)call->names[i]);
    return serve(srv, conn, req, call);
}

static enum MHD_Result on_kraken(struct fm_server *srv, struct MHD_Connection *conn,
                                 const struct fm_request *req, const char *url,
                                 struct fm_call *call)
{
    const char *why = NULL;
    const char *pair = query(conn, "pair");
    (void)url;
    if (pair == NULL) /* not recorded; Kraken's own wording for it */
        return send_static(conn, 200, JSON_TYPE, "{\"error\":[\"EGeneral:Invalid arguments\"]}");
    if (parse_names(call, pair, &why) != 0)
        return refuse(srv, conn, call, 400, why);
    return serve(srv, conn, req, call);
}

static enum MHD_Result on_erapi(struct fm_server *srv, struct MHD_Connection *conn,
                                const struct fm_request *req, const char *url, struct fm_call *call)
{
    call->base = url + strlen(PATH_ERAPI "/");
    if (strchr(call->base, '/') != NULL)
        return refuse(srv, conn, call, 404, "not found");
    return serve(srv, conn, req, call);
}

static enum MHD_Result on_twelvedata(struct fm_server *srv, struct MHD_Connection *conn,
                                     const struct fm_request *req, const char *url,
                                     struct fm_call *call)
{
    const char *why = NULL;
    const char *sym = query(conn, "symbol");
    (void)url;
    if (sym == NULL || sym[0] == '\0') {
        struct fm_body b;
        call->n = 0;
        (void)fm_stats_count(srv->stats, call->stats_path, NULL, 0, call->api_key);
        struct fm_entry none = {"", FM_FAULT_NOSUCH};
        if (fm_wire_twelvedata_quote(&none, 1, true, 0, &b) != 0)
            return send_oom(conn);
        return send_body(conn, &b);
    }
    if (parse_names(call, sym, &why) != 0)
        return refuse(srv, conn, call, 400, why);
    return serve(srv, conn, req, call);
}

/* /v2/prices/{PRODUCT}/spot: the product is the only name. */
static enum MHD_Result on_coinbase(struct fm_server *srv, struct MHD_Connection *conn,
                                   const struct fm_request *req, const char *url,
                                   struct fm_call *call)
{
    const char *why = NULL;
    const char *prod = url + strlen("/v2/prices/");
    const char *slash = strchr(prod, '/');
    if (slash == NULL || strcmp(slash, "/spot") != 0 || slash == prod ||
        (size_t)(slash - prod) > FM_MAX_SYMBOL_LEN)
        return refuse(srv, conn, call, 404, "not found");
    char name[FM_MAX_SYMBOL_LEN + 1];
    memcpy(name, prod, (size_t)(slash - prod));
    name[slash - prod] = '\0';
    if (strchr(name, ',') != NULL || parse_names(call, name, &why) != 0)
        return refuse(srv, conn, call, 404, "not found");
    return serve(srv, conn, req, call);
}

/* Binance's pairs: ?symbol=A, or ?symbols=["A","B"] (MHD has decoded the
 * %5B%22 of the wire) read into call->names without the brackets and
 * quotes. 0, or -1 with *why. */
static int binance_names(struct MHD_Connection *conn, struct fm_call *call, const char **why)
{
    const char *one = query(conn, "symbol");
    const char *many = query(conn, "symbols");
    if ((one == NULL) == (many == NULL)) {
        /* Binance: both is an error; neither lists every pair, which
         * fetcherd never asks for */
        *why = "give symbol or symbols (not both, not neither)";
        return -1;
    }
    call->single = one != NULL;
    if (one != NULL) {
        if (strchr(one, ',') != NULL || parse_names(call, one, why) != 0 || call->n != 1) {
            *why = "symbol names one pair";
            return -1;
        }
        return 0;
    }
    size_t len = strlen(many);
    char inner[sizeof call->list];
    if (len < 2 || many[0] != '[' || many[len - 1] != ']' || len - 2 >= sizeof inner) {
        *why = "symbols is not a JSON array of pairs";
        return -1;
    }
    /* the quotes go, the commas stay: ["A","B"] → A,B */
    size_t o = 0;
    for (size_t i = 1; i + 1 < len; i++)
        if (many[i] != '"')
            inner[o++] = many[i];
    inner[o] = '\0';
    if (parse_names(call, inner, why) != 0)
        return -1;
    if (call->n == 0) {
        *why = "symbols is an empty array";
        return -1;
    }
    return 0;
}

/* /api/v3/ticker/price: the pairs from symbol= or symbols=[…]. */
static enum MHD_Result on_binance(struct fm_server *srv, struct MHD_Connection *conn,
                                  const struct fm_request *req, const char *url,
                                  struct fm_call *call)
{
    const char *why = NULL;
    (void)url;
    if (binance_names(conn, call, &why) != 0)
        return refuse(srv, conn, call, 400, why);
    return serve(srv, conn, req, call);
}

/* ---- control endpoints --------------------------------------------- */

static enum MHD_Result on_stats(struct fm_server *srv, struct MHD_Connection *conn)
{
    struct fm_body b = {.status = 200, .content_type = JSON_TYPE};
    b.data = fm_stats_render(srv->stats, &b.len);
    if (b.data == NULL)
        return send_oom(conn);
    return send_body(conn, &b);
}

static enum MHD_Result on_reset(struct fm_server *srv, struct MHD_Connection *conn)
{
    fm_stats_reset(srv->stats);
    return send_static(conn, 200, JSON_TYPE, "{\"ok\":true}");
}

static enum MHD_Result on_mode_get(struct fm_server *srv, struct MHD_Connection *conn)
{
    char buf[512];
    int n = snprintf(buf, sizeof buf, "{\"fault\":\"%s\",\"latency_ms\":%lld,\"providers\":{",
                     fm_fault_name((enum fm_fault)atomic_load(&srv->fault)),
                     (long long)atomic_load(&srv->latency_ms));
    for (int i = 0; i < FM_PROV_COUNT; i++)
        n += snprintf(buf + n, sizeof buf - (size_t)n, "%s\"%s\":\"%s\"", i ? "," : "",
                      fm_provider_names[i],
                      fm_fault_name((enum fm_fault)atomic_load(&srv->provider_fault[i])));
    snprintf(buf + n, sizeof buf - (size_t)n, "}}");
    return send_json_text(conn, 200, buf);
}

static enum MHD_Result on_mode_set(struct fm_server *srv, struct MHD_Connection *conn)
{
    char buf[160];
    enum fm_fault f;
    const char *name = query(conn, "fault");
    if (name == NULL)
        return send_error(conn, 400, "missing parameter fault");
    if (fm_fault_parse(name, &f) != 0) {
        snprintf(buf, sizeof buf, "unknown fault '%.40s' (names in tests/fakemarket/faults.h)",
                 name);
        return send_error(conn, 400, buf);
    }
    const char *prov = query(conn, "provider");
    if (prov != NULL) {
        int pi = -1;
        for (int i = 0; i < FM_PROV_COUNT; i++)
            if (strcmp(prov, fm_provider_names[i]) == 0 ||
                (i == FM_PROV_FX && strcmp(prov, "frankfurter") == 0))
                pi = i;
        if (pi < 0) {
            snprintf(buf, sizeof buf,
                     "unknown provider '%.40s' (yahoo, coingecko, fx, kraken, erapi, twelvedata, "
                     "coinbase, binance)",
                     prov);
            return send_error(conn, 400, buf);
        }
        atomic_store(&srv->provider_fault[pi], (int)f);
        log_msg(LOG_INFO, "%s fault now %s", fm_provider_names[pi], fm_fault_name(f));
        snprintf(buf, sizeof buf, "{\"ok\":true,\"fault\":\"%s\",\"provider\":\"%s\"}",
                 fm_fault_name(f), fm_provider_names[pi]);
        return send_json_text(conn, 200, buf);
    }
    atomic_store(&srv->fault, (int)f);
    log_msg(LOG_INFO, "global fault now %s", fm_fault_name(f));
    snprintf(buf, sizeof buf, "{\"ok\":true,\"fault\":\"%s\"}", fm_fault_name(f));
    return send_json_text(conn, 200, buf);
}

/* The provider /_mode and /_offset name, or -1 (frankfurter is fx). */
static int provider_index(const char *prov)
{
    for (int i = 0; i < FM_PROV_COUNT; i++)
        if (strcmp(prov, fm_provider_names[i]) == 0 ||
            (i == FM_PROV_FX && strcmp(prov, "frankfurter") == 0))
            return i;
    return -1;
}

static enum MHD_Result on_offset(struct fm_server *srv, struct MHD_Connection *conn)
{
    char buf[160];
    const char *prov = query(conn, "provider"), *pct = query(conn, "pct");
    if (prov == NULL)
        return send_error(conn, 400, "missing parameter provider");
    int pi = provider_index(prov);
    if (pi < 0) {
        snprintf(buf, sizeof buf, "unknown provider '%.40s'", prov);
        return send_error(conn, 400, buf);
    }
    /* a decimal with at most two places: "5", "-2.5" */
    char *end = NULL;
    double v = pct != NULL ? strtod(pct, &end) : 0;
    if (pct == NULL || end == pct || *end != '\0' || !(v >= -90 && v <= 1000))
        return send_error(conn, 400, "pct must be a number from -90 to 1000");
    int bp = (int)(v * 100 + (v < 0 ? -0.5 : 0.5));
    atomic_store(&srv->provider_offset_bp[pi], bp);
    log_msg(LOG_INFO, "%s prices now %+.2f%% off", fm_provider_names[pi], bp / 100.0);
    snprintf(buf, sizeof buf, "{\"ok\":true,\"provider\":\"%s\",\"offset_pct\":%.2f}",
             fm_provider_names[pi], bp / 100.0);
    return send_json_text(conn, 200, buf);
}

static enum MHD_Result on_latency(struct fm_server *srv, struct MHD_Connection *conn)
{
    char buf[128];
    int64_t ms;
    const char *v = query(conn, "ms");
    if (v == NULL)
        return send_error(conn, 400, "missing parameter ms");
    if (util_parse_i64(v, 0, FM_MAX_LATENCY_MS, &ms) != 0)
        return send_error(conn, 400, "ms must be an integer 0..600000");
    atomic_store(&srv->latency_ms, (long long)ms);
    snprintf(buf, sizeof buf, "{\"ok\":true,\"latency_ms\":%lld}", (long long)ms);
    return send_json_text(conn, 200, buf);
}

/* ---- replay --------------------------------------------------------- */

/* Counts a replayed request as its endpoint would count it (by_symbol
 * from the path or the query as usual), waits the global latency, then
 * sends the replay's bytes. Faults never apply to a replay: it is the
 * recording, not fakemarket's answer. */
static enum MHD_Result serve_replay(struct fm_server *srv, struct MHD_Connection *conn,
                                    const struct route_view *rv, const char *url, struct fm_body *b)
{
    struct fm_call *call = call_new(rv->ep, rv->stats_path, conn);
    const char *why = NULL;
    const char *list = NULL;
    if (call == NULL) {
        fm_body_clear(b);
        return send_oom(conn);
    }
    if (rv->stats_path == NULL)
        call->stats_path = PATH_UNKNOWN;
    else if (rv->ep == FM_EP_CHART)
        list = url + strlen(PATH_CHART "/");
    else if (rv->ep == FM_EP_SPARK || rv->ep == FM_EP_SPARK7)
        list = query(conn, "symbols");
    else if (rv->ep == FM_EP_SIMPLE_PRICE)
        list = query(conn, "ids");
    else if (rv->ep != FM_EP_BINANCE && (list = query(conn, "to")) == NULL)
        list = query(conn, "symbols");
    if (list != NULL && parse_names(call, list, &why) != 0)
        call->n = 0;
    if (rv->ep == FM_EP_BINANCE && binance_names(conn, call, &why) != 0)
        call->n = 0;
    if (rv->ep == FM_EP_FX)
        for (size_t i = 0; i < call->n; i++)
            upper_in_place((char *)call->names[i]);
    if (fm_stats_count(srv->stats, call->stats_path, call->names, call->n, call->api_key) != 0)
        log_msg(LOG_WARNING, "fakemarket: out of memory counting symbols");
    free(call);
    int64_t latency = atomic_load(&srv->latency_ms);
    if (latency > 0 && hold(srv, client_fd(conn), latency) != 0) {
        fm_body_clear(b);
        return MHD_NO;
    }
    return send_body(conn, b);
}

static enum MHD_Result on_replay_get(struct fm_server *srv, struct MHD_Connection *conn)
{
    struct fm_body b = {.status = 200, .content_type = JSON_TYPE};
    b.data = fm_replays_render(srv->replays, NULL, &b.len);
    if (b.data == NULL)
        return send_oom(conn);
    return send_body(conn, &b);
}

static enum MHD_Result on_replay_set(struct fm_server *srv, struct MHD_Connection *conn)
{
    char err[512];
    const char *param;
    const char *clear = query(conn, "clear");
    if (clear != NULL) {
        if (strcmp(clear, "1") != 0 && !util_streq_nocase(clear, "true"))
            return send_error(conn, 400, "clear: must be 1");
        snprintf(err, sizeof err, "{\"ok\":true,\"cleared\":%zu}", fm_replays_clear(srv->replays));
        return send_json_text(conn, 200, err);
    }
    const char *path = query(conn, "path");
    if (fm_replays_set(srv->replays, path, query(conn, "file"), query(conn, "status"), err,
                       sizeof err, &param) != 0) {
        if (param == NULL)
            return send_oom(conn);
        return send_error(conn, 400, err);
    }
    log_msg(LOG_INFO, "replaying %s for %s", query(conn, "file"), path);
    struct fm_body b = {.status = 200, .content_type = JSON_TYPE};
    b.data = fm_replays_render(srv->replays, path, &b.len);
    if (b.data == NULL)
        return send_oom(conn);
    return send_body(conn, &b);
}

/* ---- routing ------------------------------------------------------- */

struct route {
    const char *method;
    const char *path;
    bool prefix;
    enum fm_endpoint ep;
    const char *stats_path; /* provider routes only */
    fm_handler provider;
    enum MHD_Result (*control)(struct fm_server *srv, struct MHD_Connection *conn);
};

static const struct route routes[] = {
    {"GET", PATH_CHART "/", true, FM_EP_CHART, PATH_CHART, on_chart, NULL},
    {"GET", PATH_SPARK, false, FM_EP_SPARK, PATH_SPARK, on_spark, NULL},
    {"GET", PATH_SPARK7, false, FM_EP_SPARK7, PATH_SPARK7, on_spark, NULL},
    {"GET", "/api/v3/simple/price", false, FM_EP_SIMPLE_PRICE, PATH_PRICE, on_simple_price, NULL},
    {"GET", "/simple/price", false, FM_EP_SIMPLE_PRICE, PATH_PRICE, on_simple_price, NULL},
    {"GET", "/latest", false, FM_EP_FX, PATH_FX, on_fx, NULL},
    {"GET", "/v1/latest", false, FM_EP_FX, PATH_FX, on_fx, NULL},
    {"GET", PATH_KRAKEN, false, FM_EP_KRAKEN, PATH_KRAKEN, on_kraken, NULL},
    {"GET", PATH_ERAPI "/", true, FM_EP_ERAPI, PATH_ERAPI, on_erapi, NULL},
    {"GET", PATH_TWELVEDATA, false, FM_EP_TWELVEDATA, PATH_TWELVEDATA, on_twelvedata, NULL},
    {"GET", "/v2/prices/", true, FM_EP_COINBASE, PATH_COINBASE, on_coinbase, NULL},
    {"GET", PATH_BINANCE, false, FM_EP_BINANCE, PATH_BINANCE, on_binance, NULL},
    {"GET", "/api/v3/coins/", true, FM_EP_MARKET_CHART, PATH_MARKET_CHART, on_market_chart, NULL},
    {"GET", "/_stats", false, 0, NULL, NULL, on_stats},
    {"POST", "/_reset", false, 0, NULL, NULL, on_reset},
    {"GET", "/_mode", false, 0, NULL, NULL, on_mode_get},
    {"POST", "/_mode", false, 0, NULL, NULL, on_mode_set},
    {"POST", "/_latency", false, 0, NULL, NULL, on_latency},
    {"POST", "/_offset", false, 0, NULL, NULL, on_offset},
    {"GET", "/_replay", false, 0, NULL, NULL, on_replay_get},
    {"POST", "/_replay", false, 0, NULL, NULL, on_replay_set},
};

static const char *const seed_paths[] = {PATH_CHART,    PATH_SPARK,  PATH_SPARK7, PATH_PRICE,
                                         PATH_FX,       PATH_KRAKEN, PATH_ERAPI,  PATH_TWELVEDATA,
                                         PATH_COINBASE, PATH_BINANCE};

static bool path_matches(const struct route *r, const char *url)
{
    if (r->prefix)
        return strncmp(url, r->path, strlen(r->path)) == 0;
    return strcmp(url, r->path) == 0;
}

static enum MHD_Result dispatch(struct fm_server *srv, struct MHD_Connection *conn,
                                const struct fm_request *req, const char *url, const char *method)
{
    /* MHD answers HEAD with the GET response minus its body. */
    const char *m = strcmp(method, MHD_HTTP_METHOD_HEAD) == 0 ? MHD_HTTP_METHOD_GET : method;
    const struct route *known = NULL;
    char allow[64] = "";
    for (size_t i = 0; i < ARRAY_LEN(routes); i++) {
        const struct route *r = &routes[i];
        if (!path_matches(r, url))
            continue;
        if (strcmp(m, r->method) != 0) {
            known = r;
            size_t used = strlen(allow);
            snprintf(allow + used, sizeof allow - used, "%s%s%s", used ? ", " : "", r->method,
                     strcmp(r->method, "GET") == 0 ? ", HEAD" : "");
            continue;
        }
        if (r->control != NULL)
            return r->control(srv, conn);
        struct fm_body rb;
        int hit = fm_replays_copy(srv->replays, url, &rb);
        if (hit < 0)
            return send_oom(conn);
        if (hit > 0) {
            struct route_view rv = {r->ep, r->stats_path};
            return serve_replay(srv, conn, &rv, url, &rb);
        }
        struct fm_call *call = call_new(r->ep, r->stats_path, conn);
        if (call == NULL)
            return send_oom(conn);
        enum MHD_Result ret = req->too_long ? refuse(srv, conn, call, 414, "URI too long")
                                            : r->provider(srv, conn, req, url, call);
        free(call);
        return ret;
    }
    if (known != NULL) {
        if (known->stats_path != NULL)
            (void)fm_stats_count(srv->stats, known->stats_path, NULL, 0, false);
        struct fm_body b;
        if (fm_wire_error(405, "method not allowed", &b) != 0)
            return send_oom(conn);
        struct MHD_Response *r =
            MHD_create_response_from_buffer(b.len, b.data, MHD_RESPMEM_MUST_FREE);
        if (r == NULL) {
            fm_body_clear(&b);
            return send_oom(conn);
        }
        if (MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, allow) != MHD_YES) {
            MHD_destroy_response(r);
            return MHD_NO;
        }
        return queue(conn, 405, r, JSON_TYPE);
    }
    if (strncmp(url, "/_", 2) != 0) {
        /* A path fakemarket does not serve can still be replayed (a
         * recording of an endpoint we have no model of). */
        struct fm_body rb;
        int hit = strcmp(m, MHD_HTTP_METHOD_GET) == 0 ? fm_replays_copy(srv->replays, url, &rb) : 0;
        if (hit < 0)
            return send_oom(conn);
        if (hit > 0) {
            struct route_view rv = {FM_EP_CHART, NULL};
            return serve_replay(srv, conn, &rv, url, &rb);
        }
        (void)fm_stats_count(srv->stats, PATH_UNKNOWN, NULL, 0, false);
    }
    return send_error(conn, 404, "not found");
}

/* MHD calls this once when the headers are in, once per piece of body, and
 * once more at the end of the request; answering only at the end keeps the
 * connection reusable (an answer queued earlier makes MHD close it, since
 * it cannot tell where the unread body ends). */
static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
                                  const char *method, const char *version, const char *upload_data,
                                  size_t *upload_data_size, void **req_cls)
{
    struct fm_server *srv = cls;
    struct fm_request *req = *req_cls;
    (void)version;
    (void)upload_data;
    if (req == NULL)
        return send_oom(conn);
    if (!req->headers_seen) {
        req->headers_seen = true;
        /* Nothing here reads a body (control endpoints take the query), so
         * a large one is refused up front rather than read and dropped. */
        const char *cl =
            MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
        int64_t body_len;
        if (cl != NULL &&
            (util_parse_i64(cl, 0, INT64_MAX, &body_len) != 0 || body_len > FM_MAX_BODY))
            return send_error(conn, 413, "request body too large");
        return MHD_YES;
    }
    if (*upload_data_size != 0) {
        *upload_data_size = 0;
        return MHD_YES;
    }
    return dispatch(srv, conn, req, url, method);
}

static void *on_uri(void *cls, const char *uri, struct MHD_Connection *conn)
{
    (void)cls;
    (void)conn;
    size_t n = strnlen(uri, FM_MAX_URI + 1);
    bool too_long = n > FM_MAX_URI;
    if (too_long)
        n = 0;
    struct fm_request *req = malloc(sizeof *req + n + 1);
    if (req == NULL)
        return NULL;
    req->headers_seen = false;
    req->too_long = too_long;
    memcpy(req->uri, uri, n);
    req->uri[n] = '\0';
    return req;
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **req_cls,
                         enum MHD_RequestTerminationCode toe)
{
    (void)cls;
    (void)conn;
    (void)toe;
    free(*req_cls);
    *req_cls = NULL;
}

static void on_mhd_log(void *cls, const char *fmt, va_list ap)
{
    char msg[512];
    (void)cls;
    vsnprintf(msg, sizeof msg, fmt, ap);
    size_t n = strlen(msg);
    while (n > 0 && msg[n - 1] == '\n')
        msg[--n] = '\0';
    log_msg(LOG_DEBUG, "mhd: %s", msg);
}

/* ---- start-up ------------------------------------------------------ */

struct options {
    const char *bind;
    const char *fixtures;
    int64_t port;
    int64_t latency_ms;
    bool verbose;
};

static const char usage[] =
    "usage: fakemarket --port N [--bind 127.0.0.1] [--latency-ms N] [--fixtures DIR] [--verbose]";

/* 0: run; 1: --help printed; -1: bad arguments (one line on stderr). */
static int parse_args(int argc, char **argv, struct options *o)
{
    static const struct option longopts[] = {
        {"port", required_argument, NULL, 'p'},
        {"bind", required_argument, NULL, 'b'},
        {"latency-ms", required_argument, NULL, 'l'},
        {"fixtures", required_argument, NULL, 'f'},
        {"verbose", no_argument, NULL, 'v'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    bool have_port = false;
    *o = (struct options){.bind = "127.0.0.1"};
    opterr = 0;
    for (;;) {
        int c = getopt_long(argc, argv, "", longopts, NULL);
        if (c == -1)
            break;
        switch (c) {
        case 'p':
            if (util_parse_i64(optarg, 0, 65535, &o->port) != 0) {
                fprintf(stderr, "fakemarket: --port must be 0..65535, got '%s'\n", optarg);
                return -1;
            }
            have_port = true;
            break;
        case 'b':
            o->bind = optarg;
            break;
        case 'l':
            if (util_parse_i64(optarg, 0, FM_MAX_LATENCY_MS, &o->latency_ms) != 0) {
                fprintf(stderr, "fakemarket: --latency-ms must be 0..600000, got '%s'\n", optarg);
                return -1;
            }
            break;
        case 'f': {
            struct stat st;
            if (stat(optarg, &st) != 0 || !S_ISDIR(st.st_mode)) {
                fprintf(stderr, "fakemarket: --fixtures must be a directory, got '%s'\n", optarg);
                return -1;
            }
            o->fixtures = optarg;
            break;
        }
        case 'v':
            o->verbose = true;
            break;
        case 'h':
            puts(usage);
            return 1;
        default:
            fprintf(stderr, "fakemarket: bad option '%s' (%s)\n", argv[optind - 1], usage);
            return -1;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "fakemarket: unexpected argument '%s' (%s)\n", argv[optind], usage);
        return -1;
    }
    if (!have_port) {
        fprintf(stderr, "fakemarket: --port is required (%s)\n", usage);
        return -1;
    }
    return 0;
}

/* One thread per connection needs one descriptor per connection. */
static void raise_fd_limit(void)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        (void)setrlimit(RLIMIT_NOFILE, &rl);
    }
}

int main(int argc, char **argv)
{
    int rc = 1;
    struct options opt;
    struct fm_server srv = {.stop_pipe = {-1, -1}};
    struct MHD_Daemon *daemon = NULL;
    struct sockaddr_in sin;
    struct sockaddr_in6 sin6;
    struct sockaddr *sa;
    unsigned flags = MHD_USE_AUTO_INTERNAL_THREAD | MHD_USE_THREAD_PER_CONNECTION;
    sigset_t sigs;
    int sig;

    /* Blocked first thing, so a signal during start-up waits for the
     * sigwait() below instead of killing a half-started server; every
     * thread MHD starts inherits this mask, so only sigwait() sees them. */
    sigemptyset(&sigs);
    sigaddset(&sigs, SIGINT);
    sigaddset(&sigs, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &sigs, NULL);
    signal(SIGPIPE, SIG_IGN);

    int prc = parse_args(argc, argv, &opt);
    if (prc != 0)
        return prc > 0 ? 0 : 2;
    memset(&sin, 0, sizeof sin);
    memset(&sin6, 0, sizeof sin6);
    if (inet_pton(AF_INET, opt.bind, &sin.sin_addr) == 1) {
        sin.sin_family = AF_INET;
        sin.sin_port = htons((uint16_t)opt.port);
        sa = (struct sockaddr *)&sin;
    } else if (inet_pton(AF_INET6, opt.bind, &sin6.sin6_addr) == 1) {
        sin6.sin6_family = AF_INET6;
        sin6.sin6_port = htons((uint16_t)opt.port);
        sa = (struct sockaddr *)&sin6;
        flags |= MHD_USE_IPv6;
    } else {
        fprintf(stderr, "fakemarket: --bind must be an IPv4 or IPv6 address, got '%s'\n", opt.bind);
        return 2;
    }

    log_set_program("fakemarket");
    log_set_min_level(opt.verbose ? LOG_DEBUG : LOG_INFO);
    atomic_init(&srv.fault, FM_FAULT_NONE);
    atomic_init(&srv.latency_ms, (long long)opt.latency_ms);
    srv.stats =
        fm_stats_new(FM_MAX_TRACKED_SYMBOLS, seed_paths, ARRAY_LEN(seed_paths), fm_wire_asset_of);
    srv.replays = fm_replays_new(opt.fixtures);
    if (srv.stats == NULL || srv.replays == NULL ||
        pipe2(srv.stop_pipe, O_CLOEXEC | O_NONBLOCK) != 0) {
        fprintf(stderr, "fakemarket: cannot allocate: %s\n", strerror(errno));
        goto out;
    }
    raise_fd_limit();

    errno = 0;
    /* One option and its value per line: MHD reads them as varargs, so a
     * value in the wrong slot (or of the wrong width) is silent trouble. */
    /* clang-format off */
    daemon = MHD_start_daemon(flags | MHD_USE_ERROR_LOG, (uint16_t)opt.port,
                              NULL, NULL, &on_request, &srv,
                              /* first, or MHD logs its own messages until it is seen */
                              MHD_OPTION_EXTERNAL_LOGGER, &on_mhd_log, &srv,
                              MHD_OPTION_SOCK_ADDR, sa,
                              MHD_OPTION_URI_LOG_CALLBACK, &on_uri, &srv,
                              MHD_OPTION_NOTIFY_COMPLETED, &on_completed, &srv,
                              MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)FM_CONN_TIMEOUT_S,
                              MHD_OPTION_CONNECTION_LIMIT, (unsigned int)FM_CONN_LIMIT,
                              MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)FM_CONN_MEMORY,
                              MHD_OPTION_THREAD_STACK_SIZE, (size_t)FM_THREAD_STACK,
                              MHD_OPTION_END);
    /* clang-format on */
    if (daemon == NULL) {
        fprintf(stderr, "fakemarket: cannot listen on %s:%lld: %s\n", opt.bind, (long long)opt.port,
                errno != 0 ? strerror(errno) : "libmicrohttpd refused");
        goto out;
    }
    const union MHD_DaemonInfo *di = MHD_get_daemon_info(daemon, MHD_DAEMON_INFO_BIND_PORT);
    unsigned port = di != NULL ? di->port : (unsigned)opt.port;
    if (sa->sa_family == AF_INET6)
        printf("fakemarket listening on [%s]:%u\n", opt.bind, port);
    else
        printf("fakemarket listening on %s:%u\n", opt.bind, port);
    fflush(stdout);

    while (sigwait(&sigs, &sig) != 0)
        ;
    log_msg(LOG_DEBUG, "signal %d, stopping", sig);
    if (write(srv.stop_pipe[1], "x", 1) != 1)
        log_msg(LOG_WARNING, "cannot wake waiting requests: %s", strerror(errno));
    MHD_stop_daemon(daemon);
    rc = 0;
out:
    if (srv.stop_pipe[0] >= 0)
        close(srv.stop_pipe[0]);
    if (srv.stop_pipe[1] >= 0)
        close(srv.stop_pipe[1]);
    fm_stats_free(srv.stats);
    fm_replays_free(srv.replays);
    return rc;
}
