/*
 * fuzz_config — config_load_from() with a lookup fed by the fuzz input.
 *
 * The input is split into lines "NAME=VALUE"; the lookup answers the value
 * of the first line naming the variable asked for (NULL when none does), so
 * the fuzzer reaches every variable's parser (durations, integers with
 * ranges, URLs, levels, bounded strings) with any bytes.
 *
 * Checked beyond "no crash, no sanitizer report":
 *  - it returns 0 or -1, nothing else;
 *  - on -1 the error is a non-empty, NUL-terminated line inside err;
 *  - on 0 every string field is NUL-terminated inside its buffer and every
 *    number is inside the range the table promises (spot checks below).
 */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_LINES 64

struct kv {
    size_t n;
    char *name[MAX_LINES];
    char *value[MAX_LINES];
};

static const char *lookup(const char *name, void *cls)
{
    const struct kv *kv = cls;
    for (size_t i = 0; i < kv->n; i++)
        if (strcmp(kv->name[i], name) == 0)
            return kv->value[i];
    return NULL;
}

#define TERMINATED(field) (memchr(c.field, '\0', sizeof c.field) != NULL)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *buf = malloc(size + 1);
    if (buf == NULL)
        return 0;
    memcpy(buf, data, size);
    buf[size] = '\0';
    struct kv kv = {0};
    char *save = NULL;
    for (char *line = strtok_r(buf, "\n", &save); line != NULL && kv.n < MAX_LINES;
         line = strtok_r(NULL, "\n", &save)) {
        char *eq = strchr(line, '=');
        if (eq == NULL)
            continue;
        *eq = '\0';
        kv.name[kv.n] = line;
        kv.value[kv.n] = eq + 1;
        kv.n++;
    }

    struct config c;
    char err[256];
    memset(err, 'X', sizeof err);
    err[sizeof err - 1] = '\0';
    err[0] = '\0';
    int rc = config_load_from(&c, lookup, &kv, err, sizeof err);
    if (rc != 0 && rc != -1)
        abort();
    if (rc == -1) {
        if (err[0] == '\0' || memchr(err, '\0', sizeof err) == NULL)
            abort();
    } else {
        if (!TERMINATED(database_url) || !TERMINATED(api_bind) || !TERMINATED(api_token) ||
            !TERMINATED(yahoo_base_url) || !TERMINATED(coingecko_base_url) ||
            !TERMINATED(coingecko_api_key) || !TERMINATED(fx_base_url) ||
            !TERMINATED(rate_limits) || !TERMINATED(staleness) || !TERMINATED(instance_id) ||
            !TERMINATED(log_level) || !TERMINATED(dashboard_dir) || !TERMINATED(migrations_dir) ||
            !TERMINATED(api_cors_origin))
            abort();
        if (c.fetch_interval_s < 1 || c.fetch_interval_s > 7 * 86400)
            abort();
        if (c.api_port < 1 || c.api_port > 65535)
            abort();
        if (c.api_threads < 1 || c.api_threads > 64)
            abort();
        if (c.fetch_concurrency < 1 || c.fetch_concurrency > 256)
            abort();
        if (c.coingecko_batch < 1 || c.coingecko_batch > 500)
            abort();
        if (strncmp(c.yahoo_base_url, "http://", 7) != 0 &&
            strncmp(c.yahoo_base_url, "https://", 8) != 0)
            abort();
    }
    free(buf);
    return 0;
}
