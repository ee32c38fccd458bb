/*
 * webhook — see webhook.h.
 *
 * Why libcurl's easy interface, blocking, here: a notification is rare
 * (one when a condition starts, one when it ends) and is sent from the
 * alerts thread, which exists to wait on the database and on the receiver
 * so that no request-serving thread ever does. A multi handle and an event
 * loop would buy concurrency nobody needs; a raw socket would need TLS.
 * Every wait is bounded (WEBHOOK_TIMEOUT_MS for the whole transfer, name
 * lookup included; CURLOPT_NOSIGNAL, as a thread must) and a progress
 * callback ends a transfer at once when fetcher-api stops. curl's own error
 * text is never logged: it can quote the URL, and the URL holds the secret.
 */
#include "webhook.h"
#include "util.h"

#include <curl/curl.h>
#include <stdio.h>
#include <string.h>

/* ---- payloads -------------------------------------------------------- */

static void wh_time(int64_t ms, char *out, size_t outlen)
{
    if (ms > 0)
        util_fmt_time(ms, out, outlen);
    else
        out[0] = '\0';
}

/* Slack's mrkdwn: &, < and > are control characters (links, mentions)
 * and must be sent as entities; cut at max bytes, never inside a UTF-8
 * sequence. */
static void wh_slack_escape(const char *s, char *out, size_t max)
{
    size_t w = 0;
    for (; *s != '\0'; s++) {
        const char *rep = *s == '&' ? "&amp;" : *s == '<' ? "&lt;" : *s == '>' ? "&gt;" : NULL;
        size_t need = rep != NULL ? strlen(rep) : 1;
        if (w + need + 1 > max)
            break;
        if (rep != NULL) {
            memcpy(out + w, rep, need);
            w += need;
        } else {
            out[w++] = *s;
        }
    }
    while (w > 0 && ((unsigned char)out[w - 1] & 0xC0) == 0x80)
        w--; /* a cut continuation byte … */
    if (w > 0 && ((unsigned char)out[w - 1] & 0xC0) == 0xC0)
        w--; /* … and its lead byte */
    out[w] = '\0';
}

static void wh_json(const struct webhook_notice *n, struct jbuf *b)
{
    char started[32], resolved[32];
    wh_time(n->started_ms, started, sizeof started);
    wh_time(n->resolved ? n->resolved_ms : 0, resolved, sizeof resolved);
    jbuf_obj(b);
    jbuf_key(b, "source");
    jbuf_str(b, "fetcherd");
    jbuf_key(b, "id");
    jbuf_int(b, n->id);
    jbuf_key(b, "alert");
    jbuf_str(b, alert_kind_name(n->kind));
    jbuf_key(b, "title");
    jbuf_str(b, alert_kind_title(n->kind));
    jbuf_key(b, "subject");
    jbuf_str(b, n->subject);
    jbuf_key(b, "status");
    jbuf_str(b, n->resolved ? "resolved" : "firing");
    jbuf_key(b, "severity");
    jbuf_str(b, n->severity);
    jbuf_key(b, "summary");
    jbuf_str(b, n->summary);
    jbuf_key(b, "started_at");
    jbuf_str(b, started[0] ? started : NULL);
    jbuf_key(b, "resolved_at");
    jbuf_str(b, resolved[0] ? resolved : NULL);
    jbuf_key(b, "duration_seconds");
    if (n->resolved && n->resolved_ms >= n->started_ms)
        jbuf_num(b, (double)(n->resolved_ms - n->started_ms) / 1000.0);
    else
        jbuf_null(b);
    jbuf_obj_end(b);
}

/* Slack's limits (Block Kit reference): a section's text 3000 characters, a
 * context element's text likewise; we stay well inside them. */
#define WH_SLACK_TEXT 1024

static void wh_slack(const struct webhook_notice *n, struct jbuf *b)
{
    /* escaped texts are cut, never the line around them */
    char subject[ALERT_SUBJECT_MAX * 2], summary[ALERT_SUMMARY_MAX * 2];
    char line[WH_SLACK_TEXT], text[WH_SLACK_TEXT], ctx[WH_SLACK_TEXT];
    char started[32], resolved[32];
    wh_slack_escape(n->subject, subject, sizeof subject);
    wh_slack_escape(n->summary, summary, sizeof summary);
    wh_time(n->started_ms, started, sizeof started);
    wh_time(n->resolved_ms, resolved, sizeof resolved);
    const char *status = n->resolved ? "RESOLVED" : "FIRING";
    snprintf(line, sizeof line, "[%s] fetcherd: %s%s%s%s — %s", status, alert_kind_title(n->kind),
             subject[0] ? " (" : "", subject, subject[0] ? ")" : "", summary);
    snprintf(text, sizeof text, "%s *[%s] fetcherd: %s%s%s*\n%s",
             n->resolved ? ":large_green_circle:" : ":red_circle:", status,
             alert_kind_title(n->kind), subject[0] ? " — " : "", subject, summary);
    if (n->resolved)
        snprintf(ctx, sizeof ctx, "alert #%lld · %s · started %s · resolved %s", (long long)n->id,
                 n->severity, started, resolved);
    else
        snprintf(ctx, sizeof ctx, "alert #%lld · %s · started %s", (long long)n->id, n->severity,
                 started);
    jbuf_obj(b);
    jbuf_key(b, "text");
    jbuf_str(b, line);
    jbuf_key(b, "blocks");
    jbuf_arr(b);
    jbuf_obj(b);
    jbuf_key(b, "type");
    jbuf_str(b, "section");
    jbuf_key(b, "text");
    jbuf_obj(b);
    jbuf_key(b, "type");
    jbuf_str(b, "mrkdwn");
    jbuf_key(b, "text");
    jbuf_str(b, text);
    jbuf_obj_end(b);
    jbuf_obj_end(b);
    jbuf_obj(b);
    jbuf_key(b, "type");
    jbuf_str(b, "context");
    jbuf_key(b, "elements");
    jbuf_arr(b);
    jbuf_obj(b);
    jbuf_key(b, "type");
    jbuf_str(b, "mrkdwn");
    jbuf_key(b, "text");
    jbuf_str(b, ctx);
    jbuf_obj_end(b);
    jbuf_arr_end(b);
    jbuf_obj_end(b);
    jbuf_arr_end(b);
    jbuf_obj_end(b);
}

void webhook_payload(const char *format, const struct webhook_notice *n, struct jbuf *b)
{
    if (strcmp(format, "slack") == 0)
        wh_slack(n, b);
    else
        wh_json(n, b);
}

/* ---- rules ------------------------------------------------------------ */

void webhook_redact(const char *url, char *out, size_t outlen)
{
    const char *rest = strstr(url, "://");
    size_t scheme = rest != NULL ? (size_t)(rest - url) + 3 : 0;
    const char *auth = url + scheme;
    /* the authority ends at the first '/', '?' or '#'; userinfo is what
     * comes before its last '@' */
    size_t alen = strcspn(auth, "/?#");
    const char *host = auth;
    for (size_t i = 0; i < alen; i++)
        if (auth[i] == '@')
            host = auth + i + 1;
    size_t hlen = alen - (size_t)(host - auth);
    const char *after = auth + alen;
    int more = after[0] != '\0' && !(after[0] == '/' && after[1] == '\0');
    snprintf(out, outlen, "%.*s%.*s%s", (int)scheme, url, (int)hlen, host, more ? "/…" : "");
}

enum webhook_verdict webhook_judge(long http_status)
{
    if (http_status >= 200 && http_status < 300)
        return WEBHOOK_DELIVERED;
    if (http_status == 0 || http_status >= 500 || http_status == 408 || http_status == 429)
        return WEBHOOK_RETRY;
    return WEBHOOK_REJECTED;
}

int64_t webhook_backoff_ms(int failures, long retry_after_s)
{
    int64_t ms = WEBHOOK_BACKOFF_MIN_MS;
    for (int i = 1; i < failures && ms < WEBHOOK_BACKOFF_MAX_MS; i++)
        ms *= 2;
    if (ms > WEBHOOK_BACKOFF_MAX_MS)
        ms = WEBHOOK_BACKOFF_MAX_MS;
    if (retry_after_s > 0 && retry_after_s * 1000 > ms)
        ms = retry_after_s * 1000 < WEBHOOK_BACKOFF_MAX_MS ? retry_after_s * 1000
                                                           : WEBHOOK_BACKOFF_MAX_MS;
    return ms;
}

/* ---- the POST --------------------------------------------------------- */

static size_t wh_discard(char *p, size_t size, size_t n, void *cls)
{
    (void)p;
    (void)cls;
    return size * n; /* the receiver's answer body is not ours to keep */
}

static int wh_progress(void *cls, curl_off_t dt, curl_off_t dn, curl_off_t ut, curl_off_t un)
{
    (void)dt;
    (void)dn;
    (void)ut;
    (void)un;
    const atomic_int *stop = cls;
    return stop != NULL && atomic_load(stop) ? 1 : 0;
}

void webhook_post(const char *url, const char *body, const atomic_int *stop,
                  struct webhook_result *r)
{
    memset(r, 0, sizeof *r);
    CURL *e = curl_easy_init();
    struct curl_slist *hdr = NULL;
    if (e == NULL) {
        snprintf(r->error, sizeof r->error, "out of memory");
        return;
    }
    hdr = curl_slist_append(hdr, "Content-Type: application/json");
    if (hdr != NULL)
        hdr = curl_slist_append(hdr, "User-Agent: fetcher-api/" FETCHER_VERSION);
    curl_easy_setopt(e, CURLOPT_URL, url);
    curl_easy_setopt(e, CURLOPT_HTTPHEADER, hdr);
    curl_easy_setopt(e, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, (long)WEBHOOK_TIMEOUT_MS);
    curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, (long)WEBHOOK_TIMEOUT_MS / 2);
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L); /* a redirect would resend elsewhere */
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, wh_discard);
    curl_easy_setopt(e, CURLOPT_NOPROGRESS, 0L);
    curl_easy_setopt(e, CURLOPT_XFERINFOFUNCTION, wh_progress);
    curl_easy_setopt(e, CURLOPT_XFERINFODATA, (void *)stop);
    CURLcode rc = curl_easy_perform(e);
    if (rc == CURLE_OK) {
        curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &r->http_status);
        curl_off_t ra = 0;
        if (curl_easy_getinfo(e, CURLINFO_RETRY_AFTER, &ra) == CURLE_OK && ra > 0)
            r->retry_after_s = (long)ra;
        snprintf(r->error, sizeof r->error, "HTTP %ld", r->http_status);
    } else {
        /* our words, not curl's buffer (which may quote the URL) */
        const char *why = rc == CURLE_OPERATION_TIMEDOUT         ? "no answer within 10 s"
                          : rc == CURLE_COULDNT_CONNECT          ? "cannot connect"
                          : rc == CURLE_COULDNT_RESOLVE_HOST     ? "cannot resolve the host"
                          : rc == CURLE_ABORTED_BY_CALLBACK      ? "stopped: fetcher-api ends"
                          : rc == CURLE_PEER_FAILED_VERIFICATION ? "TLS certificate not trusted"
                          : rc == CURLE_SSL_CONNECT_ERROR        ? "TLS handshake failed"
                          : rc == CURLE_GOT_NOTHING              ? "empty answer"
                          : rc == CURLE_SEND_ERROR || rc == CURLE_RECV_ERROR ? "connection broken"
                                                                             : "request failed";
        snprintf(r->error, sizeof r->error, "%s (curl %d)", why, (int)rc);
    }
    curl_slist_free_all(hdr);
    curl_easy_cleanup(e);
}
