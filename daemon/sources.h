/*
 * sources — which providers may price an asset, in which order, and under
 * which symbol each one knows it. The fetch queue walks the resulting
 * chain (queue_submit_chain) when a source fails; this module only decides
 * the chain.
 *
 * Every asset has a class: "crypto" for asset_type crypto, "fx" for
 * asset_type fx and for the exchange rates a cycle needs, "stock" for
 * every other type (stock, etf, index, fund, bond, commodity: what Yahoo
 * and Twelve Data quote). A class has an ordered list of sources, by
 * default
 *
 *     stock=yahoo,twelvedata  crypto=coingecko,kraken,coinbase,binance
 *     fx=fx,erapi
 *
 * and FETCH_SOURCES replaces any of them: classes separated by ';', each
 * "class=source,source…", e.g. "crypto=kraken,coingecko;fx=erapi". A class
 * it does not name keeps its default. "frankfurter" is another name for
 * the provider registered as "fx" (the queue keys, rate limits and stored
 * rows keep saying "fx").
 *
 * An asset's chain is its own sources (assets.sources, when set) or its
 * class's list, with the asset's own provider first if the list does not
 * name it: an asset someone put on yahoo is asked of yahoo first. Each
 * source gets the symbol its provider's normalize() makes of the asset's
 * provider_symbol (kraken and coinbase map CoinGecko ids through their
 * tables, twelvedata maps Yahoo's listing suffixes); a source that cannot
 * map the symbol, or twelvedata without TWELVEDATA_API_KEY, is left out
 * for that asset, never guessed.
 *
 * What it is not: it knows nothing of the queue's state (which provider is
 * paused or down); that is the queue's business when it walks the chain.
 */
#ifndef FETCHER_SOURCES_H
#define FETCHER_SOURCES_H

#include "util.h"

#include <stddef.h>

/* Sources per chain: crypto's four default sources plus an asset's own
 * provider when the list does not name it (a coin kept on yahoo). */
#define SOURCES_MAX 5
#define SOURCES_SYMBOL_MAX 80

enum source_class { SRC_STOCK = 0, SRC_CRYPTO, SRC_FX, SRC_CLASSES };

struct sources;

/* One step of a chain: the provider's registered name (static storage) and
 * the symbol it knows the asset by. */
struct source_choice {
    const char *provider;
    char symbol[SOURCES_SYMBOL_MAX];
};

/* Parses spec (FETCH_SOURCES; NULL or "" = the defaults). have_td_key says
 * whether TWELVEDATA_API_KEY is set. Returns the table (free with
 * sources_free) or NULL with one line naming the bad part in err: an
 * unknown class or provider, a source listed twice in a class, an empty
 * list, more than SOURCES_MAX sources, or out of memory. */
struct sources *sources_parse(const char *spec, int have_td_key, char *err,
                              size_t errlen) MUST_CHECK;
void sources_free(struct sources *s);

/* The class of an asset_type ("crypto", "fx", anything else is stock). */
enum source_class sources_class_of(const char *asset_type);

/* Fills out[0..SOURCES_MAX) with the chain for an asset of class cls whose
 * own provider and symbol are provider/psym (provider may be NULL or "":
 * an exchange rate, psym the currency). override is the asset's own list,
 * comma-separated (assets.sources), or NULL/"" for none; its unknown names
 * are skipped. Returns the number of sources (0: none can price it; then
 * err says why). */
size_t sources_resolve(const struct sources *s, enum source_class cls, const char *provider,
                       const char *psym, const char *override, struct source_choice *out, char *err,
                       size_t errlen);

/* The class's name: "stock", "crypto" or "fx". */
const char *sources_class_name(enum source_class cls);

/* How many of class cls's sources can be asked (twelvedata without its
 * key cannot); when fewer than two, why in note (static text, e.g. "no
 * second source: TWELVEDATA_API_KEY is not set"), else note = NULL. A
 * single asset may still have fewer (a coin no second source can map). */
size_t sources_usable(const struct sources *s, enum source_class cls, const char **note);

/* The sources of class cls as configured, comma-separated, for start-up
 * logs ("yahoo,twelvedata"; twelvedata marked "(no key)" when unusable). */
void sources_describe(const struct sources *s, enum source_class cls, char *out, size_t outlen);

#endif
