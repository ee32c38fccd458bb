/*
 * query — see query.h.
 */
#include "query.h"

#include <stdio.h>
#include <string.h>

static int is_digit(char c)
{
    return c >= '0' && c <= '9';
}

static enum query_result bad(char *msg, size_t msglen, const char *why)
{
    snprintf(msg, msglen, "%s", why);
    return QUERY_BAD;
}

enum query_result query_uint(const char *val, int64_t min, int64_t max, int64_t def, int64_t *out,
                             char *msg, size_t msglen)
{
    if (val == NULL) {
        *out = def;
        return QUERY_OK;
    }
    size_t len = strlen(val);
    if (len == 0 || strspn(val, "0123456789") != len)
        return bad(msg, msglen, "must be a whole number (digits only)");
    /* Leading zeros are skipped so "007" is 7; more than 18 significant
     * digits is out of range for every parameter and could overflow. */
    while (len > 1 && *val == '0') {
        val++;
        len--;
    }
    int64_t n = 0;
    if (len <= 18)
        for (size_t i = 0; i < len; i++)
            n = n * 10 + (val[i] - '0');
    if (len > 18 || n < min || n > max) {
        snprintf(msg, msglen, "must be a whole number from %lld to %lld", (long long)min,
                 (long long)max);
        return QUERY_BAD;
    }
    *out = n;
    return QUERY_OK;
}

static const char *const levels[] = {"DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"};

enum query_result query_level(const char *val, const char **out, int *rank, char *msg,
                              size_t msglen)
{
    *out = NULL;
    *rank = -1;
    if (val == NULL)
        return QUERY_OK;
    for (size_t i = 0; i < ARRAY_LEN(levels); i++) {
        if (util_streq_nocase(val, levels[i])) {
            *out = levels[i];
            *rank = (int)i;
            return QUERY_OK;
        }
    }
    return bad(msg, msglen, "must be one of DEBUG, INFO, WARNING, ERROR, CRITICAL");
}

enum query_result query_bool(const char *val, int *out, char *msg, size_t msglen)
{
    *out = -1;
    if (val == NULL)
        return QUERY_OK;
    if (util_streq_nocase(val, "true") || strcmp(val, "1") == 0) {
        *out = 1;
        return QUERY_OK;
    }
    if (util_streq_nocase(val, "false") || strcmp(val, "0") == 0) {
        *out = 0;
        return QUERY_OK;
    }
    return bad(msg, msglen, "must be true or false");
}

/* Reads exactly n digits at *p into *v and advances *p. */
static int digits(const char **p, int n, int *v)
{
    int x = 0;
    for (int i = 0; i < n; i++) {
        if (!is_digit((*p)[i]))
            return -1;
        x = x * 10 + ((*p)[i] - '0');
    }
    *p += n;
    *v = x;
    return 0;
}

static int days_in_month(int y, int m)
{
    static const int d[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    return m == 2 && leap ? 29 : d[m - 1];
}

enum query_result query_time(const char *val, char *out, size_t outlen, int *present, char *msg,
                             size_t msglen)
{
    static const char why[] = "must be an RFC 3339 date-time, e.g. 2026-11-21T05:15:46Z";
    *present = 0;
    if (val == NULL)
        return QUERY_OK;
    size_t len = strlen(val);
    if (len < 20 || len >= outlen || len > 35)
        return bad(msg, msglen, why);
    const char *p = val;
    int y, mo, d, h, mi, s;
    if (digits(&p, 4, &y) || *p++ != '-' || digits(&p, 2, &mo) || *p++ != '-' || digits(&p, 2, &d))
        return bad(msg, msglen, why);
    if (*p != 'T' && *p != 't')
        return bad(msg, msglen, why);
    p++;
    if (digits(&p, 2, &h) || *p++ != ':' || digits(&p, 2, &mi) || *p++ != ':' || digits(&p, 2, &s))
        return bad(msg, msglen, why);
    if (y < 1 || mo < 1 || mo > 12 || d < 1 || d > days_in_month(y, mo) || h > 23 || mi > 59 ||
        s > 60)
        return bad(msg, msglen, why);
    if (*p == '.') {
        p++;
        if (!is_digit(*p))
            return bad(msg, msglen, why);
        for (int n = 0; is_digit(*p); p++)
            if (++n > 9)
                return bad(msg, msglen, why);
    }
    if (*p == 'Z' || *p == 'z') {
        p++;
    } else if (*p == '+' || *p == '-') {
        int oh, om;
        p++;
        if (digits(&p, 2, &oh) || *p++ != ':' || digits(&p, 2, &om) || oh > 23 || om > 59)
            return bad(msg, msglen, why);
    } else {
        return bad(msg, msglen, why);
    }
    if (*p != '\0')
        return bad(msg, msglen, why);
    for (size_t i = 0; i <= len; i++)
        out[i] = (val[i] == 't' || val[i] == 'z') ? (char)(val[i] - 32) : val[i];
    *present = 1;
    return QUERY_OK;
}

enum query_result query_text(const char *val, size_t max_len, int *present, char *msg,
                             size_t msglen)
{
    *present = 0;
    if (val == NULL)
        return QUERY_OK;
    size_t len = strlen(val);
    if (len == 0 || len > max_len) {
        snprintf(msg, msglen, "must be 1 to %zu characters", max_len);
        return QUERY_BAD;
    }
    for (size_t i = 0; i < len; i++)
        if ((unsigned char)val[i] < 0x20 || val[i] == 0x7f)
            return bad(msg, msglen, "must not contain control characters");
    *present = 1;
    return QUERY_OK;
}

enum query_result query_symbol(const char *val, int *present, char *msg, size_t msglen)
{
    *present = 0;
    if (val == NULL)
        return QUERY_OK;
    size_t len = strlen(val);
    if (len == 0 || len > 32 ||
        strspn(val, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789.^=_-") != len)
        return bad(msg, msglen, "must be 1 to 32 of A-Z a-z 0-9 . ^ = _ -");
    *present = 1;
    return QUERY_OK;
}
