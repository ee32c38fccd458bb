/*
 * resolve — a host-name lookup in a thread of its own, answered through a
 * file descriptor, so that a resolver that does not answer (the `db`
 * container gone, a DNS server that drops queries) stalls nobody: the
 * daemon's loop watches the descriptor like any other, fetcher-api and the
 * start-up migration wait on it with a bound.
 *
 * Why not in libpq: PQconnectStart() resolves the host synchronously
 * (getaddrinfo), for up to the resolver's timeout. We look the name up here
 * and hand libpq the addresses (hostaddr), keeping host for TLS, SNI and
 * .pgpass (db.h's struct db_hosts).
 *
 * What it is not: no cache, no DNS of its own — the system's resolver
 * (getaddrinfo: /etc/hosts, resolv.conf) in a detached thread. A lookup
 * abandoned with resolve_cancel() finishes in its thread and frees itself.
 */
#ifndef FETCHER_RESOLVE_H
#define FETCHER_RESOLVE_H

#include "util.h"

#include <stddef.h>

/* Addresses kept per name: enough for a dual-stack host with a few of each. */
#define RESOLVE_MAX_ADDRS 4
/* A numeric IPv6 address with a scope id fits. */
#define RESOLVE_ADDR_LEN 64

struct resolve_answer {
    int n; /* addresses found; 0 with error set when the lookup failed */
    char addr[RESOLVE_MAX_ADDRS][RESOLVE_ADDR_LEN];
    char error[128]; /* gai_strerror's text, for people */
};

/* Starts looking up host (copied; at most 255 bytes) for a TCP connection.
 * Returns a descriptor that becomes readable once the answer is in
 * (resolve_finish reads it), or -1 (out of threads, memory or
 * descriptors). The caller owns the descriptor: resolve_finish or
 * resolve_cancel closes it. */
int resolve_start(const char *host) MUST_CHECK;

/* Reads the answer from fd and closes it. Returns 0 with out filled (out->n
 * may be 0: the name did not resolve, out->error says why), or -1 when the
 * answer is not there (call after fd is readable). */
int resolve_finish(int fd, struct resolve_answer *out) MUST_CHECK;

/* Abandons the lookup: closes fd; the thread exits when getaddrinfo
 * returns. fd < 0 is a no-op. */
void resolve_cancel(int fd);

/* Blocking with a bound, for threads that may wait (fetcher-api, start-up):
 * looks host up and waits at most timeout_ms, or until *stop becomes
 * non-zero (checked every 100 ms; stop may be NULL). Returns 0 with out
 * filled as resolve_finish does (a lookup that did not finish in time is
 * n = 0 with error "no answer from the resolver within N ms"), or -1 when
 * the lookup could not start or was stopped. */
int resolve_wait(const char *host, int timeout_ms, volatile const int *stop,
                 struct resolve_answer *out) MUST_CHECK;

/* 1 when host is a numeric IPv4 or IPv6 address (nothing to look up). */
int resolve_is_numeric(const char *host);

#endif
