/*
 * crosssite — what keeps other web pages from using fetcher-api through
 * the user's browser. The API trusts loopback clients when no token is
 * set (auth.h), and every page the user opens runs on that loopback too;
 * this module tells a browser page of another site from a script or our
 * own dashboard, using only what browsers send and pages cannot forge.
 *
 * The rules (the README's "Security" section says the same for users):
 *
 *  - Host, on every request but /healthz: a host name must be in
 *    API_ALLOWED_HOSTS ("localhost" by default; an entry with ":port"
 *    matches that port only); an IPv4 or bracketed IPv6 address is always
 *    served. Why: DNS rebinding makes a name the attacker's DNS answers
 *    (attacker.example) point at 127.0.0.1, so the attacker's page reads
 *    the API as its own origin; the browser still sends the page's name
 *    in Host, and a name we do not serve is refused. A page can only send
 *    an address literal in Host when it was itself loaded from that
 *    address, i.e. from us, so literals need no list (the bind address,
 *    127.0.0.1 and [::1] are covered by it). A missing Host (HTTP/1.0) is
 *    served: every browser sends Host, so its absence is never a page.
 *  - Writes (any method but GET and HEAD):
 *    - an Origin header must be the API's own origin, http:// or https://
 *      followed by the Host the request was addressed to (https: behind a
 *      TLS proxy that forwards Host), or API_CORS_ORIGIN;
 *    - Sec-Fetch-Site other than same-origin or none ("same-site" is
 *      another port or subdomain, "cross-site" another site) is refused
 *      unless the Origin is API_CORS_ORIGIN, the one cross-site caller the
 *      operator allowed;
 *    - Content-Type must be application/json, bodiless writes included.
 *      This is the rule that stops a page even in a browser that sends
 *      neither header: the forms and no-cors fetches a page may send
 *      without asking can only carry text/plain, form or multipart bodies;
 *      a JSON content type makes the browser ask first (a CORS preflight),
 *      and preflights are granted to API_CORS_ORIGIN only.
 *  - Preflights (OPTIONS): an Origin that is not ours or API_CORS_ORIGIN
 *    is refused outright, so no browser goes on to send the write.
 *
 * What it is not: authentication (auth.h decides who may write once a
 * request is known to come from a script or our own pages), and it never
 * reads MHD's connection: callers pass the header values (NULL = absent),
 * so the rules are testable alone.
 */
#ifndef FETCHER_API_CROSSSITE_H
#define FETCHER_API_CROSSSITE_H

#include "util.h"

#include <stddef.h>

/* API_ALLOWED_HOSTS entries kept; a longer list is a start-up error. */
#define CROSSSITE_HOSTS_MAX 16

/* Parses allowed_hosts ("name[:port],…", spaces around commas ignored) and
 * keeps cors_origin (NULL or "" = none, a trailing '/' ignored); copies
 * both. Call once before serving. Returns 0, or -1 with a one-line reason
 * naming API_ALLOWED_HOSTS in err. */
int crosssite_setup(const char *allowed_hosts, const char *cors_origin, char *err,
                    size_t errlen) MUST_CHECK;

/* Each returns the status of a refusal (0 = allowed), the header to blame in *param
 * and a sentence for the client in msg (the offending value quoted, cut
 * and reduced to printable ASCII). */

/* Host of any request: 0 or 421. */
unsigned crosssite_check_host(const char *host, const char **param, char *msg, size_t msglen);

/* A write (host already checked): 0, 403 (Origin, Sec-Fetch-Site) or 415
 * (Content-Type), checked in that order. */
unsigned crosssite_check_write(const char *host, const char *origin, const char *fetch_site,
                               const char *content_type, const char **param, char *msg,
                               size_t msglen);

/* A CORS preflight: 0 or 403 for a foreign Origin. */
unsigned crosssite_check_preflight(const char *host, const char *origin, const char **param,
                                   char *msg, size_t msglen);

#endif
