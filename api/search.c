/*
 * search — see search.h.
 *
 * Why these bounds: fetcher-api serves from a fixed pool of API_THREADS
 * workers (server.c), and a search holds one of them for as long as the
 * providers take. So:
 *   - every transfer has a total deadline (SEARCH_TIMEOUT_MS) and a connect
 *     deadline, and the whole search one deadline for its two rounds (the
 *     search, then the spark request for currencies): a worker is never
 *     held longer than SEARCH_DEADLINE_MS, however slow or silent a
 *     provider is (host-name lookups included: libcurl's threaded
 *     resolver honours the timeouts);
 *   - an answer is read into a buffer capped at SEARCH_MAX_BODY; a bigger
 *     one aborts its transfer ("answer too large") instead of growing
 *     memory at a provider's say-so;
 *   - at most SEARCH_MAX_CONCURRENT searches run at once (the rest get
 *     503 at once), so searches can take at most that many workers and
 *     the dashboard's reads always find one free (API_THREADS is 4);
 *   - no redirects, http(s) only, and the providers run concurrently on
 *     one curl multi handle inside the request (no thread per provider).
 * The fetch queue's rate limits are the daemon's and are not shared with
 * this process; a person typing makes a handful of searches a minute, and
 * the dashboard only searches on submit.
 */
#include "search.h"
#include "config.h"
#include "log.h"

#include <curl/curl.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SEARCH_TIMEOUT_MS 5000
#define SEARCH_CONNECT_TIMEOUT_MS 3000
#define SEARCH_DEADLINE_MS 8000
/* Yahoo's answer with news is ~10 KB, CoinGecko's up to ~30 KB. */
#define SEARCH_MAX_BODY (512 * 1024)

static atomic_int search_running;

int search_setup(void)
{
    return curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK ? 0 : -1;
}

void search_cleanup(void)
{
    curl_global_cleanup();
}

struct sr_transfer {
    CURL *easy;
    struct curl_slist *headers;
    char *body;
    size_t len;
    int too_large;
    int done;
    CURLcode code;
    long status;
};

static size_t sr_write(char *ptr, size_t size, size_t nmemb, void *cls)
{
    struct sr_transfer *t = cls;
    size_t n = size * nmemb;
    if (t->len + n > SEARCH_MAX_BODY) {
        t->too_large = 1;
        return 0; /* aborts the transfer */
    }
    char *b = realloc(t->body, t->len + n + 1);
    if (b == NULL)
        return 0;
    memcpy(b + t->len, ptr, n);
    t->body = b;
    t->len += n;
    t->body[t->len] = '\0';
    return n;
}

static void sr_free(struct sr_transfer *t)
{
    if (t->easy != NULL)
        curl_easy_cleanup(t->easy);
    curl_slist_free_all(t->headers);
    free(t->body);
    memset(t, 0, sizeof *t);
}

static int sr_start(CURLM *m, struct sr_transfer *t, const char *url, const char *header)
{
    memset(t, 0, sizeof *t);
    t->easy = curl_easy_init();
    if (t->easy == NULL)
        return -1;
    CURL *e = t->easy;
    curl_easy_setopt(e, CURLOPT_URL, url);
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, sr_write);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, t);
    curl_easy_setopt(e, CURLOPT_PRIVATE, t);
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, (long)SEARCH_TIMEOUT_MS);
    curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, (long)SEARCH_CONNECT_TIMEOUT_MS);
    curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(e, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)SEARCH_MAX_BODY);
    curl_easy_setopt(e, CURLOPT_ACCEPT_ENCODING, "");
    curl_easy_setopt(e, CURLOPT_USERAGENT, "fetcherd/" FETCHER_VERSION " (price fetcher; libcurl)");
    if (header != NULL) {
        t->headers = curl_slist_append(NULL, header);
        curl_easy_setopt(e, CURLOPT_HTTPHEADER, t->headers);
    }
    return curl_multi_add_handle(m, e) == CURLM_OK ? 0 : -1;
}

/* 0 when t finished with a 200, else -1 with the reason in why. */
static int sr_outcome(const struct sr_transfer *t, const char *who, char *why, size_t whylen)
{
    why[0] = '\0';
    if (!t->done)
        snprintf(why, whylen, "%s: no answer within %d ms", who, SEARCH_TIMEOUT_MS);
    else if (t->too_large)
        snprintf(why, whylen, "%s: answer larger than %d bytes", who, SEARCH_MAX_BODY);
    else if (t->code == CURLE_OPERATION_TIMEDOUT)
        snprintf(why, whylen, "%s: no answer within %d ms", who, SEARCH_TIMEOUT_MS);
    else if (t->code != CURLE_OK)
        snprintf(why, whylen, "%s: %s", who, curl_easy_strerror(t->code));
    else if (t->status != 200)
        snprintf(why, whylen, "%s: HTTP %ld", who, t->status);
    return why[0] != '\0' ? -1 : 0;
}

/* Runs the transfers on m until all are done or the deadline passes;
 * done ones are marked. */
static void sr_wait(CURLM *m, int64_t deadline_ms)
{
    int running = 1;
    while (running > 0) {
        if (curl_multi_perform(m, &running) != CURLM_OK)
            break;
        CURLMsg *msg;
        int left;
        while ((msg = curl_multi_info_read(m, &left)) != NULL) {
            if (msg->msg != CURLMSG_DONE)
                continue;
            struct sr_transfer *t = NULL;
            curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&t);
            if (t == NULL)
                continue;
            t->done = 1;
            t->code = msg->data.result;
            curl_easy_getinfo(msg->easy_handle, CURLINFO_RESPONSE_CODE, &t->status);
        }
        int64_t left_ms = deadline_ms - util_mono_ms();
        if (running == 0 || left_ms <= 0)
            break;
        curl_multi_poll(m, NULL, 0, left_ms < 100 ? (int)left_ms : 100, NULL);
    }
}

static void sr_detach(CURLM *m, struct sr_transfer *t)
{
    if (t->easy != NULL)
        curl_multi_remove_handle(m, t->easy);
    sr_free(t);
}

enum search_status search_run(const char *q, int mask, struct search_answer *out)
{
    memset(out, 0, sizeof *out);
    if (atomic_fetch_add(&search_running, 1) >= SEARCH_MAX_CONCURRENT) {
        atomic_fetch_sub(&search_running, 1);
        return SEARCH_BUSY;
    }
    enum search_status rc = SEARCH_FAILED;
    struct sr_transfer ty = {0}, tc = {0}, ts = {0};
    char *eq = NULL;
    char url[1024], why[160];
    int64_t deadline = util_mono_ms() + SEARCH_DEADLINE_MS;
    CURLM *m = curl_multi_init();
    if (m == NULL)
        goto out;
    eq = curl_easy_escape(NULL, q, 0);
    if (eq == NULL)
        goto out;
    if (mask & SEARCH_YAHOO) {
        out->asked[0] = 1;
        snprintf(url, sizeof url,
                 "%s/v1/finance/search?q=%s&quotesCount=%d&newsCount=0&listsCount=0"
                 "&enableFuzzyQuery=false",
                 cfg->yahoo_base_url, eq, SEARCH_MAX_HITS);
        if (sr_start(m, &ty, url, NULL) != 0)
            snprintf(out->error[0], sizeof out->error[0], "yahoo: could not start the request");
    }
    if (mask & SEARCH_COINGECKO) {
        char key[320];
        const char *hdr = NULL;
        out->asked[1] = 1;
        if (cfg->coingecko_api_key[0] != '\0') {
            snprintf(key, sizeof key, "%s: %s",
                     strstr(cfg->coingecko_base_url, "pro-api") ? "x-cg-pro-api-key"
                                                                : "x-cg-demo-api-key",
                     cfg->coingecko_api_key);
            hdr = key;
        }
        snprintf(url, sizeof url, "%s/search?query=%s", cfg->coingecko_base_url, eq);
        if (sr_start(m, &tc, url, hdr) != 0)
            snprintf(out->error[1], sizeof out->error[1], "coingecko: could not start the request");
    }
    sr_wait(m, deadline);

    struct search_hit yh[SEARCH_MAX_HITS], ch[SEARCH_MAX_HITS];
    size_t ny = 0, nc = 0, skipped;
    int y_ok = 0, c_ok = 0;
    if (ty.easy != NULL) {
        if (sr_outcome(&ty, "yahoo", why, sizeof why) != 0)
            util_strlcpy(out->error[0], why, sizeof out->error[0]);
        else if (searchwire_yahoo(ty.body, ty.len, yh, SEARCH_MAX_HITS, &ny, &skipped, why,
                                  sizeof why) != 0)
            snprintf(out->error[0], sizeof out->error[0], "yahoo: %.150s", why);
        else {
            y_ok = 1;
            out->skipped += skipped;
        }
    }
    if (tc.easy != NULL) {
        if (sr_outcome(&tc, "coingecko", why, sizeof why) != 0)
            util_strlcpy(out->error[1], why, sizeof out->error[1]);
        else if (searchwire_coingecko(tc.body, tc.len, ch, SEARCH_MAX_HITS, &nc, &skipped, why,
                                      sizeof why) != 0)
            snprintf(out->error[1], sizeof out->error[1], "coingecko: %.150s", why);
        else {
            c_ok = 1;
            out->skipped += skipped;
        }
    }
    sr_detach(m, &ty);
    sr_detach(m, &tc);

    /* The search has no currency; one spark request (20 symbols at most,
     * we have 10) says what each hit is quoted in. Without it the hits
     * still come back, currency unknown. */
    if (y_ok && ny > 0) {
        size_t used = (size_t)snprintf(
            url, sizeof url,
            "%s/v7/finance/spark?range=1d&interval=1d&symbols=", cfg->yahoo_base_url);
        for (size_t i = 0; i < ny && used < sizeof url; i++) {
            char *es = curl_easy_escape(NULL, yh[i].provider_symbol, 0);
            if (es == NULL)
                break;
            used += (size_t)snprintf(url + used, sizeof url - used, "%s%s", i ? "," : "", es);
            curl_free(es);
        }
        if (used < sizeof url && sr_start(m, &ts, url, NULL) == 0) {
            sr_wait(m, deadline);
            if (sr_outcome(&ts, "yahoo spark", why, sizeof why) != 0 ||
                searchwire_yahoo_currencies(ts.body, ts.len, yh, ny, why, sizeof why) != 0)
                log_msg(LOG_INFO, "search: currencies unknown: %s", why);
        }
        sr_detach(m, &ts);
    }
    for (size_t i = 0; i < ny; i++)
        out->hits[out->n++] = yh[i];
    for (size_t i = 0; i < nc; i++)
        out->hits[out->n++] = ch[i];
    rc = y_ok || c_ok ? SEARCH_OK : SEARCH_FAILED;
out:
    sr_detach(m, &ty);
    sr_detach(m, &tc);
    sr_detach(m, &ts);
    curl_free(eq);
    if (m != NULL)
        curl_multi_cleanup(m);
    atomic_fetch_sub(&search_running, 1);
    return rc;
}
