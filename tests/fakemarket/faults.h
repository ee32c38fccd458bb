/*
 * faults — the names of fakemarket's misbehaviours and which symbols ask
 * for them. A symbol or CoinGecko id that starts with a fault name
 * (case-insensitively: "ERR500", "err500-coin", "Hang1") carries that fault;
 * the longest matching name wins, so "ERR429NR" is not "ERR429".
 *
 * Two kinds, because a batch answer can fail as a whole or per entry:
 *  - request faults spoil the whole HTTP answer (status, headers, body,
 *    timing) and apply to a batch if any of its symbols names one;
 *  - content faults change only that symbol's entry (its price, its
 *    timestamp, its currency, or whether it is present at all).
 * The same names set the global fault of POST /_mode?fault=NAME.
 *
 * Pure: a table and string matching, nothing else.
 */
#ifndef FAKEMARKET_FAULTS_H
#define FAKEMARKET_FAULTS_H

#include <stdbool.h>

#include "util.h"

enum fm_fault {
    FM_FAULT_NONE = 0,
    /* request faults */
    FM_FAULT_ERR500,
    FM_FAULT_ERR502,
    FM_FAULT_ERR503,
    FM_FAULT_ERR429,
    FM_FAULT_ERR429NR,
    FM_FAULT_HANG,
    FM_FAULT_SLOWDRIP,
    FM_FAULT_TRUNC,
    FM_FAULT_BADJSON,
    FM_FAULT_WRONGSHAPE,
    FM_FAULT_HUGE,
    FM_FAULT_HTMLCT,
    FM_FAULT_LIMIT200,
    FM_FAULT_REDIRLOOP,
    FM_FAULT_REDIRFTP,
    FM_FAULT_EMPTY,
    FM_FAULT_CRUMB401,
    FM_FAULT_BLOCKPAGE,
    FM_FAULT_ERR403,
    FM_FAULT_CGKEY401,
    /* content faults */
    FM_FAULT_NULLPRICE,
    FM_FAULT_NEGPRICE,
    FM_FAULT_ZEROPRICE,
    FM_FAULT_NANPRICE,
    FM_FAULT_FUTURETS,
    FM_FAULT_OLDTS,
    FM_FAULT_WRONGCCY,
    FM_FAULT_NULLCLOSE,
    FM_FAULT_MISSING,
    FM_FAULT_NOSUCH,
    FM_FAULT_COUNT
};

/* The fault a symbol asks for by its prefix, or FM_FAULT_NONE. */
enum fm_fault fm_fault_of_symbol(const char *symbol);

/* Exact name (case-insensitive, "none" included) → fault. 0 or -1. */
int fm_fault_parse(const char *name, enum fm_fault *out) MUST_CHECK;

/* Upper-case name ("ERR500"), "none" for FM_FAULT_NONE. Static string. */
const char *fm_fault_name(enum fm_fault f);

/* True for request faults (see above), false for content faults and NONE. */
bool fm_fault_is_request(enum fm_fault f);

/* True for MISSING and NOSUCH: the symbol is left out of the answer. */
bool fm_fault_is_absent(enum fm_fault f);

/* The fault that governs one entry of an answer: the symbol's own content
 * fault if it has one, else the global fault if that is a content fault. */
enum fm_fault fm_fault_for_entry(enum fm_fault own, enum fm_fault global);

#endif
