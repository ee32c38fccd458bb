/*
 * fuzz_provider_common.h — the body of every provider parser fuzz target
 * (tests/fuzz/fuzz_provider_*.c): bytes from libFuzzer go through
 * provider_parse_json() and, when they are JSON, through one of the
 * provider's parse functions with a few symbols, as daemon/upstream.c does
 * with an upstream answer. A crash, a sanitizer report, or a quote that
 * breaks the contract (an unterminated string, an OK quote without a
 * finite price, a failed one without a reason) aborts.
 *
 * Included by exactly one .c per provider, which defines FUZZ_PROVIDER and
 * the symbols; not a header for anything else.
 */
#ifndef FUZZ_PROVIDER_COMMON_H
#define FUZZ_PROVIDER_COMMON_H

#include "provider.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define FUZZ_MAX_SYMS 8

static void fuzz_check(int rc, const char *err, size_t errlen, const struct quote *out,
                       const unsigned char *found, size_t n)
{
    if (memchr(err, '\0', errlen) == NULL)
        abort();
    if (rc != 0) {
        if (err[0] == '\0') /* a refusal always says why */
            abort();
        return;
    }
    for (size_t i = 0; i < n; i++) {
        if (!found[i])
            continue;
        const struct quote *q = &out[i];
        if (memchr(q->error, '\0', sizeof q->error) == NULL ||
            memchr(q->currency, '\0', sizeof q->currency) == NULL)
            abort();
        if (q->kind == QUOTE_OK && !isfinite(q->price))
            abort();
        if (q->kind != QUOTE_OK && q->error[0] == '\0')
            abort();
    }
}

static void fuzz_parse(int (*parse)(json_object *, const char *const *, size_t, struct quote *,
                                    unsigned char *, char *, size_t),
                       json_object *root, const char *const *syms, size_t n)
{
    struct quote out[FUZZ_MAX_SYMS];
    unsigned char found[FUZZ_MAX_SYMS];
    char err[160];
    memset(out, 0, sizeof out);
    memset(found, 0, sizeof found);
    memset(err, 0, sizeof err);
    int rc = parse(root, syms, n, out, found, err, sizeof err);
    fuzz_check(rc, err, sizeof err, out, found, n);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const struct provider *p = provider_find(FUZZ_PROVIDER);
    if (p == NULL)
        abort();
    /* an exact-size copy: no NUL after the body, as curl's buffer may not
     * be trusted to have one either */
    char *body = malloc(size ? size : 1);
    if (body == NULL)
        return 0;
    if (size)
        memcpy(body, data, size);
    char err[160];
    json_object *root = provider_parse_json(body, size, "application/json", err, sizeof err);
    if (memchr(err, '\0', sizeof err) == NULL && root == NULL)
        abort();
    if (root != NULL) {
        static const char *const syms[] = {FUZZ_SYMBOLS};
        size_t n = sizeof syms / sizeof syms[0];
        fuzz_parse(p->parse, root, syms, n);
        fuzz_parse(p->parse, root, syms, 1);
        if (p->fallback_parse)
            fuzz_parse(p->fallback_parse, root, syms, 1);
        if (p->history_parse) {
            /* a history answer: every stored close finite and > 0 */
            struct history_series *hs = history_new();
            struct quote hq;
            memset(&hq, 0, sizeof hq);
            memset(err, 0, sizeof err);
            if (hs != NULL) {
                int rc = p->history_parse(root, syms[0], hs, &hq, err, sizeof err);
                unsigned char one = 1;
                fuzz_check(rc, err, sizeof err, &hq, &one, rc == 0 ? 1 : 0);
                for (size_t k = 0; k < hs->n; k++)
                    if (!(isfinite(hs->p[k].close) && hs->p[k].close > 0))
                        abort();
                history_free(hs);
            }
        }
        json_object_put(root);
    } else {
        /* the text-only path, as for a 4xx/HTML answer */
        provider_parse_json(body, size, "text/html; charset=utf-8", err, sizeof err);
    }
    free(body);
    return 0;
}

#endif
