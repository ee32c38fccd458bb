/*
 * cache — see cache.h.
 */
#include "cache.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

struct slot {
    char key[CACHE_KEY_MAX];
    char *body; /* NULL = empty slot */
    size_t len;
    int64_t stored_ms; /* monotonic */
    int refreshing;    /* one request is computing a newer answer */
};

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static struct slot slots[CACHE_SLOTS];
static int64_t ttl;
static uint64_t generation; /* under lock; cache_clear() advances it */
static int64_t (*clock_ms)(void) = util_mono_ms;

void cache_setup(int64_t ttl_ms)
{
    ttl = ttl_ms;
}

void cache_set_clock(int64_t (*now_ms)(void))
{
    clock_ms = now_ms != NULL ? now_ms : util_mono_ms;
}

uint64_t cache_generation(void)
{
    pthread_mutex_lock(&lock);
    uint64_t g = generation;
    pthread_mutex_unlock(&lock);
    return g;
}

int cache_enabled(void)
{
    return ttl > 0;
}

char *cache_get(const char *key, size_t *len, int64_t *age_ms)
{
    char *copy = NULL;
    if (ttl <= 0)
        return NULL;
    int64_t now = clock_ms();
    pthread_mutex_lock(&lock);
    for (size_t i = 0; i < CACHE_SLOTS; i++) {
        struct slot *s = &slots[i];
        if (s->body == NULL || strcmp(s->key, key) != 0)
            continue;
        int64_t age = now - s->stored_ms;
        if (age >= 2 * ttl)
            break; /* too old to serve even while refreshing: everyone computes */
        if (age >= ttl && !s->refreshing) {
            /* The first request after expiry refreshes; the others keep
             * getting this answer until it has, instead of all asking the
             * database at once. */
            s->refreshing = 1;
            break;
        }
        copy = malloc(s->len + 1);
        if (copy != NULL) {
            memcpy(copy, s->body, s->len + 1);
            *len = s->len;
            *age_ms = now - s->stored_ms;
        }
        break;
    }
    pthread_mutex_unlock(&lock);
    return copy;
}

void cache_put(const char *key, const char *body, size_t len, uint64_t gen)
{
    if (ttl <= 0 || len > CACHE_BODY_MAX || strlen(key) >= CACHE_KEY_MAX)
        return;
    char *copy = malloc(len + 1);
    if (copy == NULL)
        return;
    memcpy(copy, body, len);
    copy[len] = '\0';
    int64_t now = clock_ms();
    pthread_mutex_lock(&lock);
    if (gen != generation) {
        /* Computed before a write emptied the cache: it may show the state
         * before that write. */
        pthread_mutex_unlock(&lock);
        free(copy);
        return;
    }
    /* The same key, else an empty or expired slot, else the oldest. */
    struct slot *victim = NULL;
    for (size_t i = 0; i < CACHE_SLOTS && victim == NULL; i++)
        if (slots[i].body != NULL && strcmp(slots[i].key, key) == 0)
            victim = &slots[i];
    for (size_t i = 0; i < CACHE_SLOTS && victim == NULL; i++)
        if (slots[i].body == NULL || now - slots[i].stored_ms >= 2 * ttl)
            victim = &slots[i];
    if (victim == NULL) {
        victim = &slots[0];
        for (size_t i = 1; i < CACHE_SLOTS; i++)
            if (slots[i].stored_ms < victim->stored_ms)
                victim = &slots[i];
    }
    char *old = victim->body;
    util_strlcpy(victim->key, key, sizeof victim->key);
    victim->body = copy;
    victim->len = len;
    victim->stored_ms = now;
    victim->refreshing = 0;
    pthread_mutex_unlock(&lock);
    free(old);
}

void cache_clear(void)
{
    pthread_mutex_lock(&lock);
    generation++;
    for (size_t i = 0; i < CACHE_SLOTS; i++) {
        free(slots[i].body);
        slots[i].body = NULL;
    }
    pthread_mutex_unlock(&lock);
}
