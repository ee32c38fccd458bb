/*
 * csvimport — the positions file of POST /api/fetcher/portfolios/{id}/import,
 * read strictly into rows, each with its own error. Pure (no I/O, no
 * database), so every rule is unit-tested on its own; whether a symbol is
 * a known asset is the endpoint's question (ep_portfolios.c asks the
 * database for all rows at once).
 *
 * The format (README, "Import positions from CSV"):
 *
 *   symbol,quantity,average_buy_price,currency
 *   AAPL,10,150.25,USD
 *   BTC,0.5,30000
 *
 * - The first non-blank line is the header: the column names symbol,
 *   quantity and average_buy_price (required) and currency (optional), in
 *   any order, any case. Another name is an error of the whole file.
 * - One position a line, fields separated by ',', each trimmed of spaces;
 *   a field may be double-quoted ("1,5" is one field; "" inside quotes is
 *   a quote). Lines end in LF or CRLF; blank lines are skipped.
 * - symbol: as assets.symbol (1 to 32 of A-Z a-z 0-9 . ^ = _ -);
 *   quantity, average_buy_price: plain decimals (portreq_decimal);
 *   currency: empty (the asset's) or a three-letter upper-case code.
 * - A symbol twice in one file is an error on its second line.
 * - At most CSV_MAX_ROWS data lines and CSV_MAX_BYTES bytes.
 *
 * Line numbers count every line of the file, the header being line 1, so
 * they are what an editor shows.
 */
#ifndef FETCHER_API_CSVIMPORT_H
#define FETCHER_API_CSVIMPORT_H

#include "portreq.h"
#include "util.h"

#include <stddef.h>

/* A portfolio has tens of positions, a large one hundreds; the request
 * body cap (64 KiB) bounds the file anyway. */
#define CSV_MAX_ROWS 1000
#define CSV_MAX_BYTES (60 * 1024)

struct csv_row {
    int line;
    char symbol[33];
    char quantity[PORTREQ_DECIMAL_MAX];
    char price[PORTREQ_DECIMAL_MAX];
    char currency[4];    /* "" = the asset's currency */
    char raw_symbol[33]; /* what the line said, cut to fit, for the report */
    char error[200];     /* "" when the line is valid */
};

/* Parses text (len bytes). Returns 0 with *rows (malloc'd, caller frees;
 * NULL when *n is 0) and *n, each row valid or with its error; or -1 with
 * a reason for the whole file in msg (no header, an unknown or missing
 * column, too many lines or bytes, a NUL byte, invalid UTF-8, out of
 * memory). */
int csvimport_parse(const char *text, size_t len, struct csv_row **rows, size_t *n, char *msg,
                    size_t msglen) MUST_CHECK;

#endif
