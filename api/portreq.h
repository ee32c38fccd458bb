/*
 * portreq — the bodies of the portfolio endpoints, parsed strictly. Pure
 * (json-c and query.h only), so every rule is unit-tested on its own; the
 * CSV import shares the value rules (portreq_decimal, portreq_currency).
 *
 * Portfolio: {"name", "currency"?}. name: 1 to 100 characters, no control
 * characters, not only spaces; currency: three upper-case letters (USD
 * when absent on create).
 * Position: {"symbol", "quantity", "average_buy_price", "currency"?} on
 * create; {"quantity"?, "average_buy_price"?, "currency"?} on update (the
 * symbol is the path's), at least one of them. Amounts are JSON numbers or
 * strings holding a plain decimal ("12.5"): digits with an optional '.'
 * and up to 10 decimals, at most 20 digits before it (the columns are
 * numeric(30, 10)); no sign, no exponent, so no value is rounded or
 * refused later by the database. A position's currency is the currency of
 * its average buy price; null (update) or absent (create) means the
 * asset's own.
 *
 * Any other key, a wrong JSON type, or a value the tables would refuse is
 * an error naming the field ("body" for the document itself).
 */
#ifndef FETCHER_API_PORTREQ_H
#define FETCHER_API_PORTREQ_H

#include "util.h"

#include <stddef.h>

#define PORTREQ_NAME_MAX 100
#define PORTREQ_DECIMAL_MAX 40

struct portfolio_req {
    int has_name, has_currency;
    char name[PORTREQ_NAME_MAX * 4 + 1]; /* UTF-8: up to 4 bytes a character */
    char currency[4];
};

struct position_req {
    int has_symbol, has_quantity, has_price, has_currency;
    char symbol[33];
    char quantity[PORTREQ_DECIMAL_MAX];
    char price[PORTREQ_DECIMAL_MAX];
    char currency[4]; /* "" with has_currency: null, back to the asset's currency */
};

/* Parses a portfolio body (len bytes, NUL-terminated). create: name is
 * required and currency defaults to USD; otherwise at least one field.
 * Returns 0, or -1 with *field (static) and a reason in msg. */
int portreq_portfolio(const char *body, size_t len, int create, struct portfolio_req *out,
                      const char **field, char *msg, size_t msglen) MUST_CHECK;

/* Parses a position body; create as above (symbol, quantity and
 * average_buy_price required). */
int portreq_position(const char *body, size_t len, int create, struct position_req *out,
                     const char **field, char *msg, size_t msglen) MUST_CHECK;

/* A plain non-negative decimal as above, copied normalised (no leading
 * zeros but one, no trailing '.') into out (PORTREQ_DECIMAL_MAX bytes).
 * 0, or -1 with a reason in msg ("must be …"). */
int portreq_decimal(const char *s, char *out, char *msg, size_t msglen) MUST_CHECK;

/* 0 when s (len bytes) is valid UTF-8 without NUL bytes, overlong forms
 * or surrogates, with the number of characters in *chars (may be NULL);
 * else -1. */
int portreq_utf8(const char *s, size_t len, size_t *chars) MUST_CHECK;

/* 1 when s is three upper-case ASCII letters. */
int portreq_currency(const char *s);

/* A portfolio id from a path segment: 1 to 18 digits, not 0. 0 with the
 * id in *id, or -1. */
int portreq_id(const char *seg, long long *id) MUST_CHECK;

#endif
