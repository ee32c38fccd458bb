/*
 * util — see util.h. Pure helpers; the only system calls are the clocks.
 */
#include "util.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

int64_t util_mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Test hook: FETCHER_TEST_CLOCK_SKEW_MS shifts this process's wall clock,
 * so a test can run instances whose clocks disagree (the fleet's rules use
 * the database's clock and must not care). Read once, before main. */
static int64_t util_skew_ms;

__attribute__((constructor)) static void util_read_skew(void)
{
    const char *v = getenv("FETCHER_TEST_CLOCK_SKEW_MS");
    int64_t ms;
    if (v != NULL && util_parse_i64(v, -86400000, 86400000, &ms) == 0)
        util_skew_ms = ms;
}

int64_t util_wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000 + util_skew_ms;
}

size_t util_strlcpy(char *dst, const char *src, size_t dstlen)
{
    size_t n = strlen(src);
    if (dstlen > 0) {
        size_t c = n < dstlen - 1 ? n : dstlen - 1;
        memcpy(dst, src, c);
        dst[c] = '\0';
    }
    return n;
}

int util_parse_i64(const char *s, int64_t min, int64_t max, int64_t *out)
{
    if (s == NULL || *s == '\0')
        return -1;
    const char *p = s;
    if (*p == '-')
        p++;
    if (*p == '\0')
        return -1;
    for (const char *q = p; *q; q++)
        if (*q < '0' || *q > '9')
            return -1;
    if (strlen(p) > 19)
        return -1;
    errno = 0;
    char *end = NULL;
    long long v = strtoll(s, &end, 10);
    if (errno != 0 || end == NULL || *end != '\0')
        return -1;
    if (v < min || v > max)
        return -1;
    *out = v;
    return 0;
}

int util_parse_duration(const char *s, int64_t min_s, int64_t max_s, int64_t *out)
{
    if (s == NULL)
        return -1;
    size_t len = strlen(s);
    if (len == 0 || len > 20)
        return -1;
    char num[24];
    memcpy(num, s, len + 1);
    int64_t mult = 1;
    char unit = num[len - 1];
    if (unit < '0' || unit > '9') {
        switch (unit) {
        case 's':
            mult = 1;
            break;
        case 'm':
            mult = 60;
            break;
        case 'h':
            mult = 3600;
            break;
        case 'd':
            mult = 86400;
            break;
        default:
            return -1;
        }
        num[len - 1] = '\0';
    }
    int64_t v;
    if (num[0] == '-' || util_parse_i64(num, 0, INT64_MAX / 86400, &v) != 0)
        return -1;
    v *= mult;
    if (v < min_s || v > max_s)
        return -1;
    *out = v;
    return 0;
}

void util_fmt_time(int64_t wall_ms, char *buf, size_t buflen)
{
    time_t secs = (time_t)(wall_ms / 1000);
    struct tm tm;
    gmtime_r(&secs, &tm);
    snprintf(buf, buflen, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1,
             tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (int)(wall_ms % 1000));
}

int util_streq_nocase(const char *a, const char *b)
{
    for (; *a && *b; a++, b++)
        if (tolower((unsigned char)*a) != tolower((unsigned char)*b))
            return 0;
    return *a == *b;
}

int util_urlencode(const char *src, char *dst, size_t dstlen)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t o = 0;
    for (const unsigned char *p = (const unsigned char *)src; *p; p++) {
        int plain = isalnum(*p) || *p == '-' || *p == '.' || *p == '_' || *p == '~';
        size_t need = plain ? 1 : 3;
        if (o + need >= dstlen)
            return -1;
        if (plain) {
            dst[o++] = (char)*p;
        } else {
            dst[o++] = '%';
            dst[o++] = hex[*p >> 4];
            dst[o++] = hex[*p & 15];
        }
    }
    if (dstlen == 0)
        return -1;
    dst[o] = '\0';
    return (int)o;
}

void util_snippet(const char *src, size_t srclen, size_t max, char *dst, size_t dstlen)
{
    size_t n = srclen < max ? srclen : max;
    if (n >= dstlen)
        n = dstlen - 1;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)src[i];
        dst[i] = (c >= 0x20 && c < 0x7f) ? (char)c : (c == '\n' || c == '\t') ? ' ' : '?';
    }
    dst[n] = '\0';
}
