/*
 * currency — the minor currency units providers quote in, and their major
 * unit: Yahoo quotes London in pence ("GBp", also "GBX"), Johannesburg in
 * cents ("ZAc"), Tel Aviv in agorot ("ILA") and US cents futures in "USX";
 * each is a hundredth of its major unit. Shared by the daemon (validate.c
 * converts prices) and the API (the search tells which currency an asset
 * is priced in once stored). Pure.
 */
#ifndef FETCHER_CURRENCY_H
#define FETCHER_CURRENCY_H

/* The major unit of a minor-unit code (static; case matters: "GBp" is
 * pence, "GBP" pounds), or NULL when code is not a minor unit. */
const char *currency_major(const char *code);

#endif
