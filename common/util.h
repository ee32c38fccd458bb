/*
 * util — small pure helpers both programs share: clocks, bounded string
 * copies and strict number parsing. Nothing here allocates or does I/O.
 *
 * Strict parsing exists because input comes from environment variables, query
 * strings and upstream bodies: "12abc", " 12", "" and overflow are errors,
 * never a silent 0 the way the classic ato-family functions would have it.
 */
#ifndef FETCHER_UTIL_H
#define FETCHER_UTIL_H

#include <stddef.h>
#include <stdint.h>

#define MUST_CHECK __attribute__((warn_unused_result))
#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

/* Milliseconds on the monotonic clock (for deadlines and durations). */
int64_t util_mono_ms(void);
/* Milliseconds since the Unix epoch (for timestamps written to rows). */
int64_t util_wall_ms(void);

/* Copies at most dstlen-1 bytes and always NUL-terminates (dstlen > 0).
 * Returns the length of src, so a result >= dstlen means truncation. */
size_t util_strlcpy(char *dst, const char *src, size_t dstlen);

/* Parses a whole base-10 integer in [min, max]: digits with an optional
 * leading '-', nothing else. Returns 0 and sets *out, or -1. */
int util_parse_i64(const char *s, int64_t min, int64_t max, int64_t *out) MUST_CHECK;

/* Parses a duration: "90" (seconds), "30s", "10m", "1h", "1d". Result in
 * seconds in [min_s, max_s]. Returns 0 or -1. */
int util_parse_duration(const char *s, int64_t min_s, int64_t max_s, int64_t *out) MUST_CHECK;

/* Formats epoch milliseconds as RFC 3339 UTC with milliseconds
 * ("2026-11-21T05:15:46.123Z") into buf (at least 25 bytes). */
void util_fmt_time(int64_t wall_ms, char *buf, size_t buflen);

/* Percent-encodes src (RFC 3986 unreserved characters pass) into dst.
 * Returns the length written, or -1 if dst is too small. */
int util_urlencode(const char *src, char *dst, size_t dstlen) MUST_CHECK;

/* Copies at most max bytes of src into dst (dstlen > max) replacing
 * anything but printable ASCII with '?', for quoting untrusted text in
 * error messages. */
void util_snippet(const char *src, size_t srclen, size_t max, char *dst, size_t dstlen);

/* ASCII case-insensitive equality. */
int util_streq_nocase(const char *a, const char *b);

#endif
