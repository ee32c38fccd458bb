/*
 * searchwire — the providers' own symbol search answers, read into hits
 * fetcher-api can offer for tracking. Pure (json-c only): tested against
 * the real recordings in tests/fixtures/real/ (yahoo_search_*.json,
 * coingecko_search_*.json, yahoo_spark_v7_*.json).
 *
 * Yahoo /v1/finance/search?q=… answers {"quotes": [{symbol, shortname,
 * longname, quoteType, typeDisp, exchange, exchDisp, isYahooFinance,
 * …}], "news": […], …}. Kept: Yahoo Finance quotes of a type fetcherd
 * prices through Yahoo (EQUITY → stock, ETF → etf, MUTUALFUND → fund,
 * INDEX → index, FUTURE → commodity). Left out, and counted: options (they
 * expire), CRYPTOCURRENCY (CoinGecko's search offers those, priced by the
 * crypto sources), CURRENCY (exchange rates are the FX provider's),
 * anything else, and entries that are not Yahoo Finance quotes. The
 * search carries no currency: searchwire_yahoo_currencies() reads it from
 * a v7 spark answer for the same symbols (meta.currency, minor units as
 * their major unit: what the asset is priced in once stored).
 *
 * CoinGecko /search?query=… answers {"coins": [{id, name, api_symbol,
 * symbol, market_cap_rank, thumb, large}], "exchanges": […], …}. Every
 * coin is a crypto hit: symbol is the coin's ticker (upper case, cut to
 * what assets.symbol allows), provider_symbol the coin's id, currency USD
 * (what fetcherd asks CoinGecko for). Coins whose ticker or id cannot be
 * an asset's (characters outside assets.symbol's set) are left out.
 */
#ifndef FETCHER_API_SEARCHWIRE_H
#define FETCHER_API_SEARCHWIRE_H

#include "util.h"

#include <stddef.h>

struct search_hit {
    char symbol[33]; /* the asset symbol it would be tracked as */
    char name[201];
    char type[16];         /* assets.asset_type */
    char type_display[33]; /* the provider's word: "Equity", "ETF", "Crypto" */
    char exchange[41];     /* "" when none (CoinGecko) */
    char currency[4];      /* "" when not known */
    char provider[16];     /* "yahoo" or "coingecko" */
    char provider_symbol[65];
    int rank; /* CoinGecko's market-cap rank, 0 when none */
};

/* Reads Yahoo's search answer (len bytes) into at most max hits (*n), the
 * left-out quotes counted in *skipped. 0, or -1 with a reason in why when
 * the answer is not a search answer (not JSON, no quotes array). */
int searchwire_yahoo(const char *body, size_t len, struct search_hit *hits, size_t max, size_t *n,
                     size_t *skipped, char *why, size_t whylen) MUST_CHECK;

/* Sets the currency of the hits (n of them) from a Yahoo v7 spark answer
 * for their symbols; hits it does not mention keep "". 0, or -1 with a
 * reason when the answer is not a spark answer. */
int searchwire_yahoo_currencies(const char *body, size_t len, struct search_hit *hits, size_t n,
                                char *why, size_t whylen) MUST_CHECK;

/* Reads CoinGecko's search answer as above. */
int searchwire_coingecko(const char *body, size_t len, struct search_hit *hits, size_t max,
                         size_t *n, size_t *skipped, char *why, size_t whylen) MUST_CHECK;

#endif
