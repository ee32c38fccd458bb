/*
 * crosssite — see crosssite.h.
 *
 * Set once before the server's threads start and read-only after, so the
 * workers read the tables without a lock.
 */
#include "crosssite.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

/* DNS names are at most 253 characters; an IPv6 literal with brackets
 * fits too. */
#define CROSSSITE_NAME_MAX 256
/* Shown values are cut here: enough to recognise an origin or a type, and
 * a client's kilobyte of header never grows into our answer. */
#define CROSSSITE_SHOW_MAX 100

struct allowed_host {
    char name[CROSSSITE_NAME_MAX]; /* lower case, no trailing dot */
    long port;                     /* 0 = any */
};

static struct allowed_host hosts[CROSSSITE_HOSTS_MAX];
static size_t nhosts;
static char cors_origin[256]; /* "" = none */

/* A host[:port] split into its parts. Returns 0, or -1 when it is not one
 * (empty name, a bad port, characters no host name has). */
static int cs_split(const char *s, size_t len, char *name, size_t namelen, long *port, int *literal)
{
    const char *end = s + len;
    const char *colon = NULL;
    size_t nlen;
    *port = 0;
    *literal = 0;
    if (len > 0 && s[0] == '[') {
        const char *close = memchr(s, ']', len);
        if (close == NULL)
            return -1;
        nlen = (size_t)(close - s) + 1;
        if (close + 1 != end) {
            if (close[1] != ':')
                return -1;
            colon = close + 1;
        }
    } else {
        colon = memchr(s, ':', len);
        nlen = colon != NULL ? (size_t)(colon - s) : len;
        if (colon != NULL && memchr(colon + 1, ':', (size_t)(end - colon - 1)) != NULL)
            return -1; /* a bare IPv6 address, or garbage */
    }
    if (nlen == 0 || nlen >= namelen)
        return -1;
    if (colon != NULL) {
        size_t plen = (size_t)(end - colon - 1);
        long p = 0;
        if (plen == 0 || plen > 5)
            return -1;
        for (size_t i = 0; i < plen; i++) {
            if (colon[1 + i] < '0' || colon[1 + i] > '9')
                return -1;
            p = p * 10 + (colon[1 + i] - '0');
        }
        if (p < 1 || p > 65535)
            return -1;
        *port = p;
    }
    for (size_t i = 0; i < nlen; i++) {
        char c = s[i];
        name[i] = (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
    }
    name[nlen] = '\0';
    if (name[0] == '[') {
        char inner[CROSSSITE_NAME_MAX];
        unsigned char addr[16];
        memcpy(inner, name + 1, nlen - 2);
        inner[nlen - 2] = '\0';
        if (inet_pton(AF_INET6, inner, addr) != 1)
            return -1;
        *literal = 1;
        return 0;
    }
    /* "localhost." is the same name as "localhost". */
    if (nlen > 1 && name[nlen - 1] == '.')
        name[--nlen] = '\0';
    if (strspn(name, "abcdefghijklmnopqrstuvwxyz0123456789.-_") != nlen)
        return -1;
    unsigned char addr4[4];
    *literal = inet_pton(AF_INET, name, addr4) == 1;
    return 0;
}

int crosssite_setup(const char *allowed_hosts, const char *cors, char *err, size_t errlen)
{
    nhosts = 0;
    const char *p = allowed_hosts != NULL ? allowed_hosts : "";
    while (*p != '\0') {
        p += strspn(p, " \t");
        size_t len = strcspn(p, ",");
        size_t trimmed = len;
        while (trimmed > 0 && (p[trimmed - 1] == ' ' || p[trimmed - 1] == '\t'))
            trimmed--;
        if (trimmed > 0) {
            struct allowed_host h;
            int literal;
            if (cs_split(p, trimmed, h.name, sizeof h.name, &h.port, &literal) != 0) {
                snprintf(err, errlen,
                         "API_ALLOWED_HOSTS: '%.*s' is not a host name with an optional :port",
                         (int)(trimmed > 80 ? 80 : trimmed), p);
                return -1;
            }
            if (nhosts == CROSSSITE_HOSTS_MAX) {
                snprintf(err, errlen, "API_ALLOWED_HOSTS: more than %d entries",
                         CROSSSITE_HOSTS_MAX);
                return -1;
            }
            hosts[nhosts++] = h;
        }
        p += len;
        if (*p == ',')
            p++;
    }
    cors_origin[0] = '\0';
    if (cors != NULL) {
        if (util_strlcpy(cors_origin, cors, sizeof cors_origin) >= sizeof cors_origin) {
            snprintf(err, errlen, "API_CORS_ORIGIN: longer than %zu characters",
                     sizeof cors_origin - 1);
            return -1;
        }
        /* Browsers send an origin without a path; "https://x.example/" in
         * the setting means the same origin. */
        size_t n = strlen(cors_origin);
        while (n > 0 && cors_origin[n - 1] == '/')
            cors_origin[--n] = '\0';
    }
    return 0;
}

/* A header value as we quote it back: printable ASCII only (a header may
 * carry any byte, our JSON must stay valid UTF-8) and cut. */
static void cs_show(const char *v, char *out, size_t outlen)
{
    size_t n = 0;
    for (; v[n] != '\0' && n < CROSSSITE_SHOW_MAX && n + 1 < outlen; n++)
        out[n] = (v[n] >= 0x20 && v[n] < 0x7f) ? v[n] : '?';
    out[n] = '\0';
    if (v[n] != '\0' && n >= 3)
        memcpy(out + n - 3, "...", 3);
}

unsigned crosssite_check_host(const char *host, const char **param, char *msg, size_t msglen)
{
    char name[CROSSSITE_NAME_MAX];
    long port;
    int literal;
    if (host == NULL)
        return 0;
    if (cs_split(host, strlen(host), name, sizeof name, &port, &literal) == 0) {
        if (literal)
            return 0;
        for (size_t i = 0; i < nhosts; i++)
            if (strcmp(hosts[i].name, name) == 0 && (hosts[i].port == 0 || hosts[i].port == port))
                return 0;
    }
    char shown[CROSSSITE_SHOW_MAX + 1];
    cs_show(host, shown, sizeof shown);
    *param = "Host";
    snprintf(msg, msglen,
             "Host '%s' is not one this API serves (a name must be listed in API_ALLOWED_HOSTS)",
             shown);
    return 421;
}

/* 1 when origin is ours (the scheme, "://" and the Host we were asked
 * under) or the configured CORS origin. */
static int cs_origin_allowed(const char *host, const char *origin)
{
    if (cors_origin[0] != '\0' && strcasecmp(origin, cors_origin) == 0)
        return 1;
    if (host == NULL || host[0] == '\0')
        return 0;
    const char *rest = NULL;
    if (strncasecmp(origin, "http://", 7) == 0)
        rest = origin + 7;
    else if (strncasecmp(origin, "https://", 8) == 0)
        rest = origin + 8;
    return rest != NULL && strcasecmp(rest, host) == 0;
}

static unsigned cs_refuse_origin(const char *origin, const char **param, char *msg, size_t msglen)
{
    char shown[CROSSSITE_SHOW_MAX + 1];
    cs_show(origin, shown, sizeof shown);
    *param = "Origin";
    snprintf(msg, msglen, "cross-site request refused: Origin %s is not allowed", shown);
    return 403;
}

unsigned crosssite_check_write(const char *host, const char *origin, const char *fetch_site,
                               const char *content_type, const char **param, char *msg,
                               size_t msglen)
{
    char shown[CROSSSITE_SHOW_MAX + 1];
    if (origin != NULL && !cs_origin_allowed(host, origin))
        return cs_refuse_origin(origin, param, msg, msglen);
    if (fetch_site != NULL && strcasecmp(fetch_site, "same-origin") != 0 &&
        strcasecmp(fetch_site, "none") != 0) {
        /* Another site's page, or another port of this one (same-site
         * ignores ports): only the operator's API_CORS_ORIGIN may. */
        int cors = origin != NULL && cors_origin[0] != '\0' && strcasecmp(origin, cors_origin) == 0;
        if (!cors) {
            cs_show(fetch_site, shown, sizeof shown);
            *param = "Sec-Fetch-Site";
            snprintf(msg, msglen,
                     "cross-site request refused: Sec-Fetch-Site is %s and the Origin is not "
                     "API_CORS_ORIGIN",
                     shown);
            return 403;
        }
    }
    /* The media type, without parameters (charset=utf-8 is fine). */
    static const char json[] = "application/json";
    int is_json = 0;
    if (content_type != NULL) {
        const char *p = content_type + strspn(content_type, " \t");
        size_t n = strcspn(p, ";");
        while (n > 0 && (p[n - 1] == ' ' || p[n - 1] == '\t'))
            n--;
        is_json = n == sizeof json - 1 && strncasecmp(p, json, n) == 0;
    }
    if (!is_json) {
        int none = content_type == NULL || content_type[0] == '\0';
        if (!none)
            cs_show(content_type, shown, sizeof shown);
        *param = "Content-Type";
        snprintf(msg, msglen,
                 "writes must be sent with Content-Type: application/json, even without a body "
                 "(got %s)",
                 none ? "none" : shown);
        return 415;
    }
    return 0;
}

unsigned crosssite_check_preflight(const char *host, const char *origin, const char **param,
                                   char *msg, size_t msglen)
{
    if (origin != NULL && !cs_origin_allowed(host, origin))
        return cs_refuse_origin(origin, param, msg, msglen);
    return 0;
}
