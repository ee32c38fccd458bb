/*
 * sources — see sources.h.
 *
 * The table is tiny (three classes of a few names each) and read-only once
 * parsed, so it is plain arrays of provider pointers; resolution allocates
 * nothing and may run for every asset of every cycle.
 */
#include "sources.h"
#include "provider.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct sources {
    const struct provider *list[SRC_CLASSES][SOURCES_MAX];
    size_t n[SRC_CLASSES];
    int have_td_key;
};

static const char *const src_class_names[SRC_CLASSES] = {"stock", "crypto", "fx"};

/* The defaults: each class's first source is the one fetcherd always had;
 * the others are the second sources whose recorded answers the providers
 * were written from (tests/fixtures/real/NOTE_*.txt). */
static const char *const src_defaults[SRC_CLASSES] = {
    "yahoo,twelvedata",
    "coingecko,kraken,coinbase,binance",
    "fx,erapi",
};

/* A provider by the name a user writes: the registered name, or
 * "frankfurter" for "fx", the name Frankfurter has always had here. */
static const struct provider *src_find(const char *name, size_t len)
{
    char buf[32];
    if (len == 0 || len >= sizeof buf)
        return NULL;
    memcpy(buf, name, len);
    buf[len] = '\0';
    if (strcmp(buf, "frankfurter") == 0)
        return provider_find("fx");
    return provider_find(buf);
}

/* Parses "a,b,c" (len bytes) into s->list[cls]. */
static int src_parse_list(struct sources *s, enum source_class cls, const char *list, size_t len,
                          char *err, size_t errlen)
{
    s->n[cls] = 0;
    const char *p = list, *end = list + len;
    while (p <= end) {
        const char *comma = memchr(p, ',', (size_t)(end - p));
        const char *stop = comma ? comma : end;
        size_t l = (size_t)(stop - p);
        const struct provider *pv = src_find(p, l);
        if (pv == NULL) {
            snprintf(err, errlen, "FETCH_SOURCES: %s: unknown source '%.*s'", src_class_names[cls],
                     (int)(l > 40 ? 40 : l), p);
            return -1;
        }
        for (size_t i = 0; i < s->n[cls]; i++)
            if (s->list[cls][i] == pv) {
                snprintf(err, errlen, "FETCH_SOURCES: %s: source '%s' listed twice",
                         src_class_names[cls], pv->name);
                return -1;
            }
        if (s->n[cls] == SOURCES_MAX) {
            snprintf(err, errlen, "FETCH_SOURCES: %s: more than %d sources", src_class_names[cls],
                     SOURCES_MAX);
            return -1;
        }
        s->list[cls][s->n[cls]++] = pv;
        if (comma == NULL)
            break;
        p = comma + 1;
    }
    return 0;
}

struct sources *sources_parse(const char *spec, int have_td_key, char *err, size_t errlen)
{
    struct sources *s = calloc(1, sizeof *s);
    if (s == NULL) {
        snprintf(err, errlen, "FETCH_SOURCES: out of memory");
        return NULL;
    }
    s->have_td_key = have_td_key;
    for (int c = 0; c < SRC_CLASSES; c++)
        if (src_parse_list(s, (enum source_class)c, src_defaults[c], strlen(src_defaults[c]), err,
                           errlen) != 0)
            goto fail; /* our own defaults: cannot happen unless the registry lost one */
    if (spec == NULL || spec[0] == '\0')
        return s;
    unsigned seen = 0;
    const char *p = spec, *end = spec + strlen(spec);
    while (p < end) {
        const char *semi = memchr(p, ';', (size_t)(end - p));
        const char *stop = semi ? semi : end;
        const char *eq = memchr(p, '=', (size_t)(stop - p));
        int cls = -1;
        if (eq != NULL)
            for (int c = 0; c < SRC_CLASSES; c++)
                if ((size_t)(eq - p) == strlen(src_class_names[c]) &&
                    memcmp(p, src_class_names[c], (size_t)(eq - p)) == 0)
                    cls = c;
        if (eq == NULL || cls < 0) {
            size_t l = (size_t)((eq ? eq : stop) - p);
            snprintf(err, errlen,
                     "FETCH_SOURCES: '%.*s' is not a class (stock, crypto or fx) followed by "
                     "=source,…",
                     (int)(l > 40 ? 40 : l), p);
            goto fail;
        }
        if (seen & (1u << cls)) {
            snprintf(err, errlen, "FETCH_SOURCES: class '%s' given twice", src_class_names[cls]);
            goto fail;
        }
        seen |= 1u << cls;
        if (eq + 1 == stop) {
            snprintf(err, errlen, "FETCH_SOURCES: %s: no sources listed", src_class_names[cls]);
            goto fail;
        }
        if (src_parse_list(s, (enum source_class)cls, eq + 1, (size_t)(stop - eq - 1), err,
                           errlen) != 0)
            goto fail;
        if (semi == NULL)
            break;
        p = semi + 1;
    }
    return s;
fail:
    free(s);
    return NULL;
}

void sources_free(struct sources *s)
{
    free(s);
}

enum source_class sources_class_of(const char *asset_type)
{
    if (asset_type != NULL && strcmp(asset_type, "crypto") == 0)
        return SRC_CRYPTO;
    if (asset_type != NULL && strcmp(asset_type, "fx") == 0)
        return SRC_FX;
    return SRC_STOCK;
}

/* Twelve Data is a source only with its key: without one every request
 * would be a 401, a refusal that pauses it for nothing. */
static int src_usable(const struct sources *s, const struct provider *p)
{
    return strcmp(p->name, "twelvedata") != 0 || s->have_td_key;
}

/* Appends p to out (unless there already or unusable) with psym mapped. */
static void src_add(const struct sources *s, const struct provider *p, const char *psym,
                    struct source_choice *out, size_t *n)
{
    if (p == NULL || *n == SOURCES_MAX || !src_usable(s, p))
        return;
    for (size_t i = 0; i < *n; i++)
        if (strcmp(out[i].provider, p->name) == 0)
            return;
    if (p->normalize(psym, out[*n].symbol, sizeof out[*n].symbol) != 0)
        return; /* this source does not know the symbol: skipped, never guessed */
    out[*n].provider = p->name;
    (*n)++;
}

size_t sources_resolve(const struct sources *s, enum source_class cls, const char *provider,
                       const char *psym, const char *override, struct source_choice *out, char *err,
                       size_t errlen)
{
    size_t n = 0;
    const struct provider *own =
        provider != NULL && provider[0] ? src_find(provider, strlen(provider)) : NULL;
    if (override != NULL && override[0]) {
        /* The asset's own list, in its order; it is the whole chain. */
        const char *p = override;
        for (;;) {
            const char *comma = strchr(p, ',');
            size_t l = comma ? (size_t)(comma - p) : strlen(p);
            src_add(s, src_find(p, l), psym, out, &n);
            if (comma == NULL)
                break;
            p = comma + 1;
        }
    } else {
        int listed = own == NULL;
        for (size_t i = 0; i < s->n[cls]; i++)
            if (s->list[cls][i] == own)
                listed = 1;
        if (!listed)
            src_add(s, own, psym, out, &n);
        for (size_t i = 0; i < s->n[cls]; i++)
            src_add(s, s->list[cls][i], psym, out, &n);
    }
    if (n == 0) {
        if (provider != NULL && provider[0] && own == NULL)
            snprintf(err, errlen, "unknown provider '%.40s'", provider);
        else
            snprintf(err, errlen, "no configured source knows the symbol '%.64s'", psym);
    }
    return n;
}

void sources_describe(const struct sources *s, enum source_class cls, char *out, size_t outlen)
{
    size_t used = 0;
    out[0] = '\0';
    for (size_t i = 0; i < s->n[cls]; i++) {
        const struct provider *p = s->list[cls][i];
        int w = snprintf(out + used, outlen - used, "%s%s%s", i ? "," : "", p->name,
                         src_usable(s, p) ? "" : " (no key)");
        if (w < 0 || (size_t)w >= outlen - used)
            return;
        used += (size_t)w;
    }
}

const char *sources_class_name(enum source_class cls)
{
    return cls < SRC_CLASSES ? src_class_names[cls] : "?";
}

size_t sources_usable(const struct sources *s, enum source_class cls, const char **note)
{
    size_t n = 0;
    int keyless_td = 0;
    for (size_t i = 0; i < s->n[cls]; i++) {
        if (src_usable(s, s->list[cls][i]))
            n++;
        else
            keyless_td = 1;
    }
    *note = n >= 2       ? NULL
            : keyless_td ? "no second source: TWELVEDATA_API_KEY is not set"
                         : "no second source configured (FETCH_SOURCES)";
    return n;
}
