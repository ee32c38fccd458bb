/*
 * quote — the result of fetching one symbol: a price or the reason there is
 * none. Shared by the queue (which copies it to every waiter), the providers
 * (which fill it) and the cycle (which records it). Plain data, no pointers,
 * so copying it is always safe.
 */
#ifndef FETCHER_QUOTE_H
#define FETCHER_QUOTE_H

#include <stdint.h>

enum quote_error_kind {
    QUOTE_OK = 0,
    QUOTE_PERMANENT,  /* 4xx, bad answer, unknown symbol: retrying won't help */
    QUOTE_TRANSIENT,  /* 5xx, 429, timeout: may succeed later */
    QUOTE_CONNECTION, /* could not reach the host at all (offline detection) */
    QUOTE_CANCELLED,  /* shutdown */
};

/* What price_time is: the market's own time of the price (Yahoo's
 * regularMarketTime, CoinGecko's last_updated_at), the start of the bar
 * whose close it is (only when the answer has no market time), or the day
 * a daily rate is for (FX). */
enum quote_time_basis { QTIME_MARKET = 0, QTIME_BAR, QTIME_DATE };

/* Where and how the listing trades, as the provider describes it (Yahoo's
 * meta); empty strings and zeros when the answer does not say. */
struct quote_market {
    char exchange[16];        /* exchangeName: "NMS", "LSE", "NYM" */
    char instrument_type[16]; /* instrumentType: "EQUITY", "FUTURE", "CURRENCY" */
    char timezone[40];        /* exchangeTimezoneName: "America/New_York" */
    int64_t session_start;    /* currentTradingPeriod.regular, unix seconds */
    int64_t session_end;
    int32_t gmtoffset; /* seconds */
};

struct quote {
    enum quote_error_kind kind;
    double price;
    char currency[8];
    /* The currency as the answer gave it, before a minor unit became the
     * major one ("GBp" for a price now in GBP); empty when the same. */
    char quoted_currency[8];
    int64_t price_time; /* upstream timestamp, unix seconds; 0 = unknown */
    uint8_t time_basis; /* enum quote_time_basis */
    struct quote_market market;
    int http_status;   /* 0 when no HTTP answer */
    int retry_after_s; /* from a 429's Retry-After, else 0 */
    /* The provider refused the request itself (401/403, a block or
     * consent page): the queue pauses the provider instead of asking
     * again per symbol. */
    uint8_t refused;
    char error[200]; /* for people: "HTTP 503 from yahoo", … */
    /* The provider that gave this answer (the queue fills it in), and, when
     * the key failed over from the asset's first source, why that one did
     * not answer ("yahoo: HTTP 503 from yahoo"); empty otherwise. */
    char source[16];
    char failover_reason[200];
    /* The queue sent this key to a provider that was down, as its probe,
     * and it answered: the first answer from a source that just came
     * back (the cycle cross-checks it). */
    uint8_t probe;
};

#endif
