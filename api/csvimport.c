/*
 * csvimport — see csvimport.h.
 */
#include "csvimport.h"
#include "query.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { COL_SYMBOL, COL_QUANTITY, COL_PRICE, COL_CURRENCY, COL_COUNT };
static const char *const csv_col_names[COL_COUNT] = {"symbol", "quantity", "average_buy_price",
                                                     "currency"};

/* Longest field kept; longer ones are an error of their line. */
#define CSV_FIELD_MAX 64
#define CSV_FIELDS_MAX 16

struct csv_line {
    int nf;
    int too_long;  /* a field did not fit */
    int bad_quote; /* an unterminated or misplaced quote */
    char f[CSV_FIELDS_MAX][CSV_FIELD_MAX + 1];
};

/* Splits one line (without its line end) into fields. */
static void csv_split(const char *s, size_t len, struct csv_line *out)
{
    memset(out, 0, sizeof *out);
    size_t i = 0;
    for (;;) {
        char buf[CSV_FIELD_MAX + 1];
        size_t bl = 0;
        while (i < len && (s[i] == ' ' || s[i] == '\t'))
            i++;
        if (i < len && s[i] == '"') {
            i++;
            int closed = 0;
            while (i < len) {
                if (s[i] == '"') {
                    if (i + 1 < len && s[i + 1] == '"') {
                        if (bl < CSV_FIELD_MAX)
                            buf[bl] = '"';
                        bl++;
                        i += 2;
                        continue;
                    }
                    closed = 1;
                    i++;
                    break;
                }
                if (bl < CSV_FIELD_MAX)
                    buf[bl] = s[i];
                bl++;
                i++;
            }
            if (!closed)
                out->bad_quote = 1;
            /* spaces inside the quotes are no part of a value either */
            size_t kept = bl < CSV_FIELD_MAX ? bl : CSV_FIELD_MAX, lead = 0;
            while (lead < kept && (buf[lead] == ' ' || buf[lead] == '\t'))
                lead++;
            while (kept > lead && (buf[kept - 1] == ' ' || buf[kept - 1] == '\t'))
                kept--;
            if (bl <= CSV_FIELD_MAX) {
                memmove(buf, buf + lead, kept - lead);
                bl = kept - lead;
            }
            while (i < len && (s[i] == ' ' || s[i] == '\t'))
                i++;
            if (i < len && s[i] != ',')
                out->bad_quote = 1; /* text after the closing quote */
            while (i < len && s[i] != ',')
                i++;
        } else {
            size_t start = i;
            while (i < len && s[i] != ',') {
                if (s[i] == '"')
                    out->bad_quote = 1;
                i++;
            }
            size_t end = i;
            while (end > start && (s[end - 1] == ' ' || s[end - 1] == '\t'))
                end--;
            bl = end - start;
            memcpy(buf, s + start, bl < CSV_FIELD_MAX ? bl : CSV_FIELD_MAX);
        }
        if (bl > CSV_FIELD_MAX)
            out->too_long = 1;
        if (out->nf < CSV_FIELDS_MAX) {
            size_t keep = bl < CSV_FIELD_MAX ? bl : CSV_FIELD_MAX;
            memcpy(out->f[out->nf], buf, keep);
            out->f[out->nf][keep] = '\0';
        }
        out->nf++;
        if (i >= len)
            break;
        i++; /* the ',' */
    }
}

static int csv_blank(const char *s, size_t len)
{
    for (size_t i = 0; i < len; i++)
        if (s[i] != ' ' && s[i] != '\t')
            return 0;
    return 1;
}

static int csv_header(const struct csv_line *h, int col[COL_COUNT], char *msg, size_t msglen)
{
    for (int c = 0; c < COL_COUNT; c++)
        col[c] = -1;
    if (h->too_long || h->bad_quote || h->nf > CSV_FIELDS_MAX) {
        snprintf(msg, msglen,
                 "line 1: the header must be symbol,quantity,average_buy_price[,currency]");
        return -1;
    }
    for (int i = 0; i < h->nf; i++) {
        int found = -1;
        for (int c = 0; c < COL_COUNT; c++)
            if (util_streq_nocase(h->f[i], csv_col_names[c]))
                found = c;
        if (found < 0) {
            snprintf(msg, msglen,
                     "header: unknown column '%.40s' (columns: symbol, quantity, "
                     "average_buy_price, currency)",
                     h->f[i]);
            return -1;
        }
        if (col[found] >= 0) {
            snprintf(msg, msglen, "header: column '%s' appears twice", csv_col_names[found]);
            return -1;
        }
        col[found] = i;
    }
    for (int c = 0; c < COL_CURRENCY; c++)
        if (col[c] < 0) {
            snprintf(msg, msglen, "header: the column '%s' is missing", csv_col_names[c]);
            return -1;
        }
    return 0;
}

static void csv_row_fill(const struct csv_line *l, const int col[COL_COUNT], struct csv_row *r)
{
    char why[120];
    int present;
    int ncols = 0;
    for (int c = 0; c < COL_COUNT; c++)
        ncols += col[c] >= 0;
    const char *sym = col[COL_SYMBOL] < l->nf ? l->f[col[COL_SYMBOL]] : "";
    util_strlcpy(r->raw_symbol, sym, sizeof r->raw_symbol);
    if (l->bad_quote) {
        snprintf(r->error, sizeof r->error, "a quote is not closed, or text follows it");
        return;
    }
    if (l->nf != ncols) {
        snprintf(r->error, sizeof r->error, "has %d fields, the header %d", l->nf, ncols);
        return;
    }
    if (l->too_long) {
        snprintf(r->error, sizeof r->error, "a field is longer than %d characters", CSV_FIELD_MAX);
        return;
    }
    if (query_symbol(sym, &present, why, sizeof why) != QUERY_OK) {
        snprintf(r->error, sizeof r->error, "symbol %s", sym[0] ? why : "is empty");
        return;
    }
    util_strlcpy(r->symbol, sym, sizeof r->symbol);
    if (portreq_decimal(l->f[col[COL_QUANTITY]], r->quantity, why, sizeof why) != 0) {
        snprintf(r->error, sizeof r->error, "quantity '%.20s' %s", l->f[col[COL_QUANTITY]], why);
        return;
    }
    if (portreq_decimal(l->f[col[COL_PRICE]], r->price, why, sizeof why) != 0) {
        snprintf(r->error, sizeof r->error, "average_buy_price '%.20s' %s", l->f[col[COL_PRICE]],
                 why);
        return;
    }
    if (col[COL_CURRENCY] >= 0 && l->f[col[COL_CURRENCY]][0] != '\0') {
        if (!portreq_currency(l->f[col[COL_CURRENCY]])) {
            snprintf(r->error, sizeof r->error,
                     "currency '%.8s' must be a three-letter upper-case code, or empty",
                     l->f[col[COL_CURRENCY]]);
            return;
        }
        util_strlcpy(r->currency, l->f[col[COL_CURRENCY]], sizeof r->currency);
    }
}

int csvimport_parse(const char *text, size_t len, struct csv_row **rows, size_t *n, char *msg,
                    size_t msglen)
{
    struct csv_row *out = NULL;
    size_t nrows = 0;
    int col[COL_COUNT];
    int have_header = 0;
    int line = 0;
    *rows = NULL;
    *n = 0;
    if (len > CSV_MAX_BYTES) {
        snprintf(msg, msglen, "the file is larger than %d bytes", CSV_MAX_BYTES);
        return -1;
    }
    if (portreq_utf8(text, len, NULL) != 0) {
        snprintf(msg, msglen, "the file is not UTF-8 text (or holds a NUL byte)");
        return -1;
    }
    struct csv_line *l = malloc(sizeof *l);
    if (l == NULL)
        goto oom;
    size_t pos = 0;
    /* a UTF-8 byte order mark, as spreadsheets write it */
    if (len >= 3 && memcmp(text, "\xEF\xBB\xBF", 3) == 0)
        pos = 3;
    while (pos < len) {
        const char *s = text + pos;
        const char *nl = memchr(s, '\n', len - pos);
        size_t ll = nl != NULL ? (size_t)(nl - s) : len - pos;
        pos += ll + (nl != NULL);
        line++;
        if (ll > 0 && s[ll - 1] == '\r')
            ll--;
        if (csv_blank(s, ll))
            continue;
        csv_split(s, ll, l);
        if (!have_header) {
            if (line != 1) {
                /* blank lines above the header would shift every number */
                snprintf(msg, msglen, "line 1 must be the header");
                goto fail;
            }
            if (csv_header(l, col, msg, msglen) != 0)
                goto fail;
            have_header = 1;
            continue;
        }
        if (nrows == CSV_MAX_ROWS) {
            snprintf(msg, msglen, "more than %d positions in one file", CSV_MAX_ROWS);
            goto fail;
        }
        struct csv_row *grown = realloc(out, (nrows + 1) * sizeof *out);
        if (grown == NULL)
            goto oom;
        out = grown;
        struct csv_row *r = &out[nrows++];
        memset(r, 0, sizeof *r);
        r->line = line;
        csv_row_fill(l, col, r);
        for (size_t k = 0; r->error[0] == '\0' && k + 1 < nrows; k++)
            if (out[k].error[0] == '\0' && strcmp(out[k].symbol, r->symbol) == 0)
                snprintf(r->error, sizeof r->error, "%s is already on line %d", r->symbol,
                         out[k].line);
    }
    if (!have_header) {
        snprintf(msg, msglen,
                 "the file is empty: its first line must be the header "
                 "symbol,quantity,average_buy_price[,currency]");
        goto fail;
    }
    free(l);
    *rows = out;
    *n = nrows;
    return 0;
oom:
    snprintf(msg, msglen, "out of memory");
fail:
    free(l);
    free(out);
    return -1;
}
