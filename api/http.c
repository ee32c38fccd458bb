/*
 * http — see http.h.
 */
#include "http.h"
#include "cache.h"
#include "log.h"
#include "query.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

static const char *cors_origin; /* NULL = no CORS headers */

void http_setup(const char *cors)
{
    cors_origin = (cors != NULL && cors[0] != '\0') ? cors : NULL;
}

void http_request_free(struct api_request *req)
{
    if (req == NULL)
        return;
    free(req->body);
    free(req);
}

void http_add_common_headers(struct MHD_Response *resp)
{
    if (cors_origin == NULL)
        return;
    MHD_add_response_header(resp, "Access-Control-Allow-Origin", cors_origin);
    /* The answer differs by Origin only in this header, but caches must not
     * hand one origin's answer to another. */
    MHD_add_response_header(resp, "Vary", "Origin");
    MHD_add_response_header(resp, "Access-Control-Expose-Headers", "ETag");
}

/* FNV-1a: cheap, and an ETag only has to change when the body does. */
static unsigned long long fnv1a(const char *s, size_t len)
{
    unsigned long long h = 0xcbf29ce484222325ULL;
    for (size_t i = 0; i < len; i++) {
        h ^= (unsigned char)s[i];
        h *= 0x100000001b3ULL;
    }
    return h;
}

/* If-None-Match is a list of quoted tags or "*"; a W/ prefix still matches
 * (weak comparison is what RFC 9110 asks for on GET). */
static int etag_matches(const char *header, const char *etag)
{
    if (header == NULL)
        return 0;
    if (strcmp(header, "*") == 0)
        return 1;
    return strstr(header, etag) != NULL;
}

/* Thread-local: MHD calls the handler and this on the same worker thread,
 * and the handler's answer is queued before the handler returns. */
static __thread unsigned tl_status;
static __thread const char *tl_cache_key;
static __thread uint64_t tl_cache_gen;

enum MHD_Result http_queue(struct MHD_Connection *conn, unsigned status, struct MHD_Response *resp)
{
    if (resp == NULL)
        return MHD_NO; /* out of memory: MHD closes the connection */
    enum MHD_Result r = MHD_queue_response(conn, status, resp);
    MHD_destroy_response(resp);
    if (r == MHD_YES)
        tl_status = status;
    return r;
}

#define queue http_queue

unsigned http_take_status(void)
{
    unsigned s = tl_status;
    tl_status = 0;
    return s;
}

unsigned http_peek_status(void)
{
    return tl_status;
}

void http_cache_capture(const char *key, uint64_t gen)
{
    tl_cache_key = key;
    tl_cache_gen = gen;
}

enum MHD_Result http_reply_empty(struct MHD_Connection *conn, unsigned status)
{
    struct MHD_Response *resp = MHD_create_response_from_buffer(0, NULL, MHD_RESPMEM_PERSISTENT);
    if (resp == NULL)
        return MHD_NO;
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
    http_add_common_headers(resp);
    return queue(conn, status, resp);
}

enum MHD_Result http_reply_text(struct MHD_Connection *conn, unsigned status,
                                const char *content_type, const char *body, size_t len)
{
    struct MHD_Response *resp =
        MHD_create_response_from_buffer(len, (void *)body, MHD_RESPMEM_MUST_COPY);
    if (resp == NULL)
        return MHD_NO;
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, content_type);
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
    MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
    http_add_common_headers(resp);
    return queue(conn, status, resp);
}

static enum MHD_Result reply_json_hdr(struct MHD_Connection *conn, unsigned status,
                                      const char *json, size_t len, const char *hname,
                                      const char *hval)
{
    char etag[24] = "";
    int cacheable = status == MHD_HTTP_OK && hname == NULL;
    if (cacheable && tl_cache_key != NULL && hval == NULL)
        cache_put(tl_cache_key, json, len, tl_cache_gen);
    if (cacheable) {
        snprintf(etag, sizeof etag, "\"%016llx\"", fnv1a(json, len));
        const char *inm =
            MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_IF_NONE_MATCH);
        if (etag_matches(inm, etag)) {
            struct MHD_Response *nm =
                MHD_create_response_from_buffer(0, NULL, MHD_RESPMEM_PERSISTENT);
            if (nm == NULL)
                return MHD_NO;
            MHD_add_response_header(nm, MHD_HTTP_HEADER_ETAG, etag);
            MHD_add_response_header(nm, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
            http_add_common_headers(nm);
            return queue(conn, MHD_HTTP_NOT_MODIFIED, nm);
        }
    }
    struct MHD_Response *resp =
        MHD_create_response_from_buffer(len, (void *)json, MHD_RESPMEM_MUST_COPY);
    if (resp == NULL)
        return MHD_NO;
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, "application/json; charset=utf-8");
    /* Monitoring data is stale the moment it is read; intermediaries must
     * not serve it later. Clients still get ETag to skip unchanged bodies. */
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
    MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
    if (etag[0] != '\0')
        MHD_add_response_header(resp, MHD_HTTP_HEADER_ETAG, etag);
    if (hname != NULL)
        MHD_add_response_header(resp, hname, hval);
    else if (hval != NULL) {
        /* A stored answer (cache.h): its age, and that it was one. */
        MHD_add_response_header(resp, MHD_HTTP_HEADER_AGE, hval);
        MHD_add_response_header(resp, "X-Cache", "hit");
    }
    http_add_common_headers(resp);
    return queue(conn, status, resp);
}

enum MHD_Result http_reply_cached(struct MHD_Connection *conn, const char *json, size_t len,
                                  int64_t age_ms)
{
    /* Stored answers are not stored again; the ETag still applies. */
    const char *key = tl_cache_key;
    tl_cache_key = NULL;
    char age[24];
    snprintf(age, sizeof age, "%lld", (long long)(age_ms / 1000));
    enum MHD_Result r = reply_json_hdr(conn, MHD_HTTP_OK, json, len, NULL, age);
    tl_cache_key = key;
    return r;
}

enum MHD_Result http_reply_json(struct MHD_Connection *conn, unsigned status, const char *json,
                                size_t len)
{
    return reply_json_hdr(conn, status, json, len, NULL, NULL);
}

enum MHD_Result http_reply_obj_take(struct MHD_Connection *conn, unsigned status,
                                    struct json_object *obj)
{
    enum MHD_Result r = MHD_NO;
    if (obj == NULL)
        goto out;
    size_t len = 0;
    const char *s = json_object_to_json_string_length(
        obj, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE, &len);
    if (s == NULL)
        goto out;
    r = http_reply_json(conn, status, s, len);
out:
    json_object_put(obj);
    return r;
}

static enum MHD_Result error_hdr(struct MHD_Connection *conn, unsigned status,
                                 const char *parameter, const char *message, const char *hname,
                                 const char *hval)
{
    enum MHD_Result r = MHD_NO;
    struct json_object *o = json_object_new_object();
    if (o == NULL)
        return MHD_NO;
    json_object_object_add(o, "error", json_object_new_string(message));
    if (parameter != NULL)
        json_object_object_add(o, "parameter", json_object_new_string(parameter));
    size_t len = 0;
    const char *s = json_object_to_json_string_length(
        o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE, &len);
    if (s != NULL)
        r = reply_json_hdr(conn, status, s, len, hname, hval);
    json_object_put(o);
    return r;
}

enum MHD_Result reply_error(struct MHD_Connection *conn, unsigned status, const char *parameter,
                            const char *message)
{
    return error_hdr(conn, status, parameter, message, NULL, NULL);
}

enum MHD_Result http_reply_405(struct MHD_Connection *conn, const char *allow)
{
    return error_hdr(conn, MHD_HTTP_METHOD_NOT_ALLOWED, NULL, "method not allowed",
                     MHD_HTTP_HEADER_ALLOW, allow);
}

enum MHD_Result http_reply_db(struct MHD_Connection *conn, enum db_status st)
{
    /* Retry-After: the connect back-off and the database's own restart
     * are both a matter of seconds; clients need not hammer us sooner. */
    if (st == DB_RETRY)
        return error_hdr(conn, MHD_HTTP_SERVICE_UNAVAILABLE, NULL, "database unavailable",
                         MHD_HTTP_HEADER_RETRY_AFTER, "5");
    return reply_error(conn, MHD_HTTP_INTERNAL_SERVER_ERROR, NULL, "internal error");
}

enum MHD_Result http_reply_preflight(struct MHD_Connection *conn, const char *allow)
{
    struct MHD_Response *resp = MHD_create_response_from_buffer(0, NULL, MHD_RESPMEM_PERSISTENT);
    if (resp == NULL)
        return MHD_NO;
    http_add_common_headers(resp);
    MHD_add_response_header(resp, "Access-Control-Allow-Methods", allow);
    MHD_add_response_header(resp, "Access-Control-Allow-Headers",
                            "Authorization, Content-Type, If-None-Match");
    MHD_add_response_header(resp, "Access-Control-Max-Age", "600");
    MHD_add_response_header(resp, MHD_HTTP_HEADER_ALLOW, allow);
    return queue(conn, MHD_HTTP_NO_CONTENT, resp);
}

void http_client_addr(struct MHD_Connection *conn, char *buf, size_t buflen, int *loopback)
{
    *loopback = 0;
    util_strlcpy(buf, "unknown", buflen);
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    if (ci == NULL || ci->client_addr == NULL)
        return;
    const struct sockaddr *sa = ci->client_addr;
    if (sa->sa_family == AF_INET) {
        const struct sockaddr_in *in = (const struct sockaddr_in *)(const void *)sa;
        inet_ntop(AF_INET, &in->sin_addr, buf, (socklen_t)buflen);
        *loopback = (ntohl(in->sin_addr.s_addr) >> 24) == 127;
    } else if (sa->sa_family == AF_INET6) {
        const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)(const void *)sa;
        inet_ntop(AF_INET6, &in6->sin6_addr, buf, (socklen_t)buflen);
        const unsigned char *b = in6->sin6_addr.s6_addr;
        *loopback = IN6_IS_ADDR_LOOPBACK(&in6->sin6_addr) ||
                    (IN6_IS_ADDR_V4MAPPED(&in6->sin6_addr) && b[12] == 127);
    }
}

const char *http_arg(struct MHD_Connection *conn, const char *name)
{
    const char *v = MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND, name);
    /* A value of QUERY_VALUE_MAX + 1 '?' characters fails every parser. */
    static const char too_long[QUERY_VALUE_MAX + 2] = {[0 ... QUERY_VALUE_MAX] = '?'};
    if (v != NULL && strnlen(v, QUERY_VALUE_MAX + 1) > QUERY_VALUE_MAX)
        return too_long;
    return v;
}

enum MHD_Result http_bad_param(struct MHD_Connection *conn, const char *name, const char *why)
{
    char msg[256];
    snprintf(msg, sizeof msg, "%s %s", name, why);
    return reply_error(conn, MHD_HTTP_BAD_REQUEST, name, msg);
}
