/*
 * stats — see stats.h. Symbols live in one open-addressing table (linear
 * probing, power-of-two size, at most half full) that doubles as it fills
 * up to the bound; paths are a handful of static strings in a small array.
 */
#include "stats.h"

#include <json-c/json.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

/* Paths come from fakemarket's route table, so a dozen is plenty; the cap
 * only guards against a future route list growing past it unnoticed. */
#define FM_STATS_MAX_PATHS 32
#define FM_STATS_MIN_SLOTS 1024

struct sym_slot {
    char *key;
    uint64_t count;
};

struct path_count {
    const char *path;
    uint64_t count;
};

struct fm_stats {
    pthread_mutex_t lock;
    uint64_t total;
    uint64_t api_key;
    uint64_t untracked;
    struct path_count paths[FM_STATS_MAX_PATHS];
    size_t n_paths;
    size_t n_seed;
    struct sym_slot *slots;
    size_t n_slots; /* power of two */
    size_t n_syms;
    size_t max_syms;
    fm_asset_of asset_of;
};

static uint64_t key_hash(const char *s)
{
    uint64_t h = 1469598103934665603ULL;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        h ^= *p;
        h *= 1099511628211ULL;
    }
    return h ^ (h >> 31);
}

static struct sym_slot *slot_find(struct sym_slot *slots, size_t n_slots, const char *key)
{
    size_t mask = n_slots - 1;
    size_t i = (size_t)key_hash(key) & mask;
    while (slots[i].key != NULL && strcmp(slots[i].key, key) != 0)
        i = (i + 1) & mask;
    return &slots[i];
}

struct fm_stats *fm_stats_new(size_t max_symbols, const char *const *seed_paths, size_t n_seed,
                              fm_asset_of asset_of)
{
    struct fm_stats *st = calloc(1, sizeof *st);
    if (st == NULL)
        return NULL;
    if (pthread_mutex_init(&st->lock, NULL) != 0) {
        free(st);
        return NULL;
    }
    st->max_syms = max_symbols;
    st->asset_of = asset_of;
    st->n_slots = FM_STATS_MIN_SLOTS;
    st->slots = calloc(st->n_slots, sizeof *st->slots);
    if (st->slots == NULL) {
        fm_stats_free(st);
        return NULL;
    }
    for (size_t i = 0; i < n_seed && i < FM_STATS_MAX_PATHS; i++)
        st->paths[st->n_paths++].path = seed_paths[i];
    st->n_seed = st->n_paths;
    return st;
}

static void forget_symbols(struct fm_stats *st)
{
    for (size_t i = 0; i < st->n_slots; i++) {
        free(st->slots[i].key);
        st->slots[i].key = NULL;
        st->slots[i].count = 0;
    }
    st->n_syms = 0;
}

void fm_stats_free(struct fm_stats *st)
{
    if (st == NULL)
        return;
    if (st->slots != NULL)
        forget_symbols(st);
    free(st->slots);
    pthread_mutex_destroy(&st->lock);
    free(st);
}

/* Doubles the table; on allocation failure the old one stays (still at
 * most half full, so still correct) and -1 tells the caller to stop adding. */
static int grow(struct fm_stats *st)
{
    size_t n = st->n_slots * 2;
    struct sym_slot *slots = calloc(n, sizeof *slots);
    if (slots == NULL)
        return -1;
    for (size_t i = 0; i < st->n_slots; i++)
        if (st->slots[i].key != NULL)
            *slot_find(slots, n, st->slots[i].key) = st->slots[i];
    free(st->slots);
    st->slots = slots;
    st->n_slots = n;
    return 0;
}

/* Called with the lock held. */
static int count_symbol(struct fm_stats *st, const char *sym)
{
    struct sym_slot *s = slot_find(st->slots, st->n_slots, sym);
    if (s->key != NULL) {
        s->count++;
        return 0;
    }
    if (st->n_syms >= st->max_syms) {
        st->untracked++;
        return 0;
    }
    if ((st->n_syms + 1) * 2 > st->n_slots) {
        if (grow(st) != 0) {
            st->untracked++;
            return -1;
        }
        s = slot_find(st->slots, st->n_slots, sym);
    }
    s->key = strdup(sym);
    if (s->key == NULL) {
        st->untracked++;
        return -1;
    }
    s->count = 1;
    st->n_syms++;
    return 0;
}

static bool seen_before(const char *const *symbols, size_t i)
{
    for (size_t j = 0; j < i; j++)
        if (strcmp(symbols[j], symbols[i]) == 0)
            return true;
    return false;
}

int fm_stats_count(struct fm_stats *st, const char *path, const char *const *symbols, size_t n,
                   bool api_key)
{
    int rc = 0;
    pthread_mutex_lock(&st->lock);
    st->total++;
    if (api_key)
        st->api_key++;
    size_t p = 0;
    while (p < st->n_paths && strcmp(st->paths[p].path, path) != 0)
        p++;
    if (p == st->n_paths && p < FM_STATS_MAX_PATHS)
        st->paths[st->n_paths++].path = path;
    if (p < st->n_paths)
        st->paths[p].count++;
    /* A batch names each symbol at most a few hundred times, so the
     * quadratic duplicate check costs less than any set would. */
    for (size_t i = 0; i < n; i++)
        if (!seen_before(symbols, i) && count_symbol(st, symbols[i]) != 0)
            rc = -1;
    pthread_mutex_unlock(&st->lock);
    return rc;
}

void fm_stats_reset(struct fm_stats *st)
{
    pthread_mutex_lock(&st->lock);
    st->total = 0;
    st->api_key = 0;
    st->untracked = 0;
    for (size_t i = 0; i < st->n_paths; i++)
        st->paths[i].count = 0;
    st->n_paths = st->n_seed;
    forget_symbols(st);
    pthread_mutex_unlock(&st->lock);
}

/* Adds key → n to obj; json-c takes the reference of the new int. */
static int add_count(struct json_object *obj, const char *key, uint64_t n)
{
    struct json_object *v = json_object_new_int64((int64_t)n);
    if (v == NULL)
        return -1;
    if (json_object_object_add(obj, key, v) != 0) {
        json_object_put(v);
        return -1;
    }
    return 0;
}

/* Adds n to obj[key], creating it at n. */
static int add_to_count(struct json_object *obj, const char *key, uint64_t n)
{
    struct json_object *v;
    if (!json_object_object_get_ex(obj, key, &v))
        return add_count(obj, key, n);
    return json_object_set_int64(v, json_object_get_int64(v) + (int64_t)n) ? 0 : -1;
}

static int add_object(struct json_object *obj, const char *key, struct json_object *child)
{
    if (json_object_object_add(obj, key, child) != 0) {
        json_object_put(child);
        return -1;
    }
    return 0;
}

char *fm_stats_render(struct fm_stats *st, size_t *len)
{
    char *out = NULL;
    struct json_object *root = json_object_new_object();
    struct json_object *by_path = json_object_new_object();
    struct json_object *by_symbol = json_object_new_object();
    struct json_object *by_asset = json_object_new_object();
    pthread_mutex_lock(&st->lock);
    if (root == NULL || by_path == NULL || by_symbol == NULL || by_asset == NULL)
        goto out;
    for (size_t i = 0; i < st->n_paths; i++)
        if (add_count(by_path, st->paths[i].path, st->paths[i].count) != 0)
            goto out;
    for (size_t i = 0; i < st->n_slots; i++)
        if (st->slots[i].key != NULL &&
            add_count(by_symbol, st->slots[i].key, st->slots[i].count) != 0)
            goto out;
    for (size_t i = 0; i < st->n_slots; i++)
        if (st->slots[i].key != NULL &&
            add_to_count(by_asset,
                         st->asset_of != NULL ? st->asset_of(st->slots[i].key) : st->slots[i].key,
                         st->slots[i].count) != 0)
            goto out;
    if (add_count(root, "requests_total", st->total) != 0)
        goto out;
    int rc = add_object(root, "by_path", by_path);
    by_path = NULL;
    if (rc != 0)
        goto out;
    rc = add_object(root, "by_symbol", by_symbol);
    by_symbol = NULL;
    if (rc != 0)
        goto out;
    rc = add_object(root, "by_asset", by_asset);
    by_asset = NULL;
    if (rc != 0)
        goto out;
    if (add_count(root, "api_key_requests", st->api_key) != 0)
        goto out;
    if (st->untracked > 0 && add_count(root, "untracked_symbols", st->untracked) != 0)
        goto out;
    size_t n = 0;
    const char *s = json_object_to_json_string_length(
        root, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE, &n);
    if (s == NULL)
        goto out;
    out = malloc(n + 1);
    if (out == NULL)
        goto out;
    memcpy(out, s, n + 1);
    *len = n;
out:
    pthread_mutex_unlock(&st->lock);
    json_object_put(by_asset);
    json_object_put(by_symbol);
    json_object_put(by_path);
    json_object_put(root);
    return out;
}

uint64_t fm_stats_total(struct fm_stats *st)
{
    pthread_mutex_lock(&st->lock);
    uint64_t n = st->total;
    pthread_mutex_unlock(&st->lock);
    return n;
}

uint64_t fm_stats_path(struct fm_stats *st, const char *path)
{
    uint64_t n = 0;
    pthread_mutex_lock(&st->lock);
    for (size_t i = 0; i < st->n_paths; i++)
        if (strcmp(st->paths[i].path, path) == 0)
            n = st->paths[i].count;
    pthread_mutex_unlock(&st->lock);
    return n;
}

uint64_t fm_stats_symbol(struct fm_stats *st, const char *symbol)
{
    pthread_mutex_lock(&st->lock);
    struct sym_slot *s = slot_find(st->slots, st->n_slots, symbol);
    uint64_t n = s->key != NULL ? s->count : 0;
    pthread_mutex_unlock(&st->lock);
    return n;
}

uint64_t fm_stats_untracked(struct fm_stats *st)
{
    pthread_mutex_lock(&st->lock);
    uint64_t n = st->untracked;
    pthread_mutex_unlock(&st->lock);
    return n;
}
