/*
 * auth — see auth.h.
 */
#include "auth.h"
#include "config.h"
#include "http.h"

#include <string.h>
#include <strings.h>

int auth_token_equal(const char *given, size_t glen, const char *expected)
{
    size_t elen = strlen(expected);
    unsigned char diff = (unsigned char)(glen != elen);
    for (size_t i = 0; i < elen; i++) {
        unsigned char g = glen > 0 ? (unsigned char)given[i % glen] : 0;
        diff |= (unsigned char)(g ^ (unsigned char)expected[i]);
    }
    return diff == 0;
}

static int bearer_ok(struct MHD_Connection *conn)
{
    const char *h =
        MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION);
    static const char scheme[] = "Bearer ";
    if (h == NULL || strncasecmp(h, scheme, sizeof scheme - 1) != 0)
        return 0;
    const char *tok = h + sizeof scheme - 1;
    return auth_token_equal(tok, strlen(tok), cfg->api_token);
}

int auth_write_allowed(struct MHD_Connection *conn, char *client, size_t clientlen,
                       enum MHD_Result *reply)
{
    int loopback;
    http_client_addr(conn, client, clientlen, &loopback);
    if (cfg->api_token[0] != '\0') {
        if (bearer_ok(conn))
            return 1;
        *reply = reply_error(conn, MHD_HTTP_UNAUTHORIZED, NULL,
                             "a valid 'Authorization: Bearer <token>' header is required");
        return 0;
    }
    if (loopback)
        return 1;
    *reply = reply_error(conn, MHD_HTTP_FORBIDDEN, NULL,
                         "writes are allowed from localhost only unless FETCHER_API_TOKEN is set");
    return 0;
}
