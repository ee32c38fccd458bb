/*
 * auth — see auth.h.
 */
#include "auth.h"
#include "config.h"
#include "http.h"

#include <stdio.h>
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
    /* Through Docker's published port a request from the host's own
     * browser arrives from the bridge's gateway, not from loopback: say
     * where it came from and what to do, not just "localhost only". */
    char msg[400];
    snprintf(msg, sizeof msg,
             "writes without a token are accepted from loopback clients only, and this request "
             "came from %.64s (through Docker's published port even a request from this machine "
             "arrives from the bridge): set FETCHER_API_TOKEN for fetcher-api and send "
             "'Authorization: Bearer <token>'",
             client);
    *reply = reply_error(conn, MHD_HTTP_FORBIDDEN, NULL, msg);
    return 0;
}
