/*
 * wire_server — a small HTTP/1.1 server on 127.0.0.1 for the unit tests of
 * daemon/fetch.c, daemon/upstream.c and daemon/cycle.c: real sockets, real
 * bytes, and the ways a real upstream misbehaves (a reset, a stall, a body
 * cut short or too large, a bad redirect). Each request is answered by the
 * first rule whose `match` is a substring of its target (path and query);
 * bodies that stand for a provider's answer are the recordings under
 * tests/fixtures/real/ (ws_fixture), never made-up shapes.
 *
 * One thread per connection (so a stalled answer holds no other request
 * up), "Connection: close" on every answer. What it is not: a fake of any
 * module of ours; the code under test talks to it through libcurl.
 */
#ifndef FETCHER_TEST_WIRE_SERVER_H
#define FETCHER_TEST_WIRE_SERVER_H

#include <stddef.h>

enum ws_action {
    WS_REPLY,      /* status, content_type, headers, body; after stall_ms */
    WS_RESET,      /* reads the request, then resets the connection (RST) */
    WS_CLOSE,      /* reads the request, then closes without a word */
    WS_STALL,      /* reads the request, says nothing for stall_ms, closes */
    WS_STALL_BODY, /* sends the headers (length `size`) and 16 bytes, stalls */
    WS_TRUNCATE,   /* announces `size` bytes, sends the body (shorter), closes */
    WS_BIG,        /* a 200 of `size` bytes, announced unless no_length */
    WS_REDIRECT,   /* 302 to location */
};

struct ws_rule {
    const char *match; /* NULL matches every request */
    enum ws_action action;
    int status;               /* WS_REPLY (200 when 0) */
    const char *content_type; /* WS_REPLY; NULL: application/json */
    const char *headers;      /* extra header lines, each ending "\r\n"; may be NULL */
    const char *body;         /* WS_REPLY, WS_TRUNCATE; NULL = empty */
    size_t size;
    int no_length;
    int stall_ms;
    const char *location;
};

struct wire_server;

/* Starts listening on an ephemeral loopback port; NULL on failure. */
struct wire_server *ws_start(void);
/* Replaces the rules (borrowed: they must stay valid until the next call
 * or ws_stop). Requests already being answered keep their rule. */
void ws_set_rules(struct wire_server *s, const struct ws_rule *rules, size_t n);
int ws_port(const struct wire_server *s);
/* "http://127.0.0.1:PORT" */
const char *ws_url(const struct wire_server *s);
/* Requests received so far, and how many of them contain `match` in
 * their target (NULL: all). */
size_t ws_count(struct wire_server *s, const char *match);
/* Copies the target of request i (0-based) into out; "" if there is none. */
void ws_target(struct wire_server *s, size_t i, char *out, size_t outlen);
/* Forgets the requests received so far. */
void ws_reset_log(struct wire_server *s);
/* Ends every stall, closes every connection, joins every thread, frees. */
void ws_stop(struct wire_server *s);

/* The contents of a fixture file (malloc'd, NUL-terminated; *len gets its
 * length when len is not NULL), or NULL. Paths are relative to the
 * repository root, where tests/run.sh runs the unit tests. */
char *ws_fixture(const char *path, size_t *len);

#endif
