/*
 * alert_rules — see alert_rules.h.
 */
#include "alert_rules.h"
#include "heartbeat_schema.h"
#include "util.h"

#include <stdio.h>
#include <string.h>

static const struct {
    const char *name, *title, *severity;
} kinds[ALERT_KINDS] = {
    [ALERT_DAEMON_STOPPED] = {"daemon_stopped", "daemon stopped", "critical"},
    [ALERT_PRICES_STALE] = {"prices_stale", "prices stale", "warning"},
    [ALERT_PROVIDER_OFFLINE] = {"provider_offline", "provider offline", "warning"},
    [ALERT_PROVIDER_BLOCKED] = {"provider_blocked", "provider blocked", "warning"},
    [ALERT_CYCLES_FAILING] = {"cycles_failing", "cycles failing", "critical"},
};

const char *alert_kind_name(size_t kind)
{
    return kind < ALERT_KINDS ? kinds[kind].name : NULL;
}

const char *alert_kind_title(size_t kind)
{
    return kind < ALERT_KINDS ? kinds[kind].title : NULL;
}

const char *alert_kind_severity(size_t kind)
{
    return kind < ALERT_KINDS ? kinds[kind].severity : NULL;
}

int alert_kind_parse(const char *name)
{
    for (size_t i = 0; i < ALERT_KINDS; i++)
        if (strcmp(kinds[i].name, name) == 0)
            return (int)i;
    return -1;
}

void alert_fmt_duration(int64_t s, char *out, size_t outlen)
{
    if (s < 0)
        s = 0;
    if (s >= 2 * 86400)
        snprintf(out, outlen, "%lldd", (long long)(s / 86400));
    else if (s >= 2 * 3600)
        snprintf(out, outlen, "%lldh", (long long)(s / 3600));
    else if (s >= 120)
        snprintf(out, outlen, "%lldm", (long long)(s / 60));
    else
        snprintf(out, outlen, "%llds", (long long)s);
}

static json_object *ar_get(json_object *o, const char *key)
{
    json_object *v = NULL;
    if (o == NULL || !json_object_is_type(o, json_type_object) ||
        !json_object_object_get_ex(o, key, &v))
        return NULL;
    return v;
}

static const char *ar_str(json_object *o, const char *key)
{
    json_object *v = ar_get(o, key);
    return v != NULL && json_object_is_type(v, json_type_string) ? json_object_get_string(v) : "";
}

static int ar_true(json_object *o, const char *key)
{
    json_object *v = ar_get(o, key);
    return v != NULL && json_object_is_type(v, json_type_boolean) && json_object_get_boolean(v);
}

static struct alert_cond *ar_add(struct alert_verdict *v, enum alert_kind kind, const char *subject)
{
    if (v->n == ALERT_ACTIVE_MAX)
        return NULL;
    struct alert_cond *c = &v->active[v->n++];
    memset(c, 0, sizeof *c);
    c->kind = kind;
    util_strlcpy(c->subject, subject, sizeof c->subject);
    return c;
}

/* The pending entry of (kind, subject), made when new; NULL when full. */
static int ar_pending_slot(struct alert_pending *p, enum alert_kind kind, const char *subject,
                           int64_t now)
{
    int free_slot = -1;
    for (int i = 0; i < ALERT_PENDING_MAX; i++) {
        if (!p->e[i].used) {
            if (free_slot < 0)
                free_slot = i;
            continue;
        }
        if (p->e[i].kind == kind && strcmp(p->e[i].subject, subject) == 0)
            return i;
    }
    if (free_slot >= 0) {
        p->e[free_slot].used = 1;
        p->e[free_slot].kind = kind;
        util_strlcpy(p->e[free_slot].subject, subject, sizeof p->e[free_slot].subject);
        p->e[free_slot].since_ms = now;
    }
    return free_slot;
}

struct ar_ctx {
    struct alert_verdict *v;
    struct alert_pending *p;
    unsigned char seen[ALERT_PENDING_MAX];
    int64_t now, after;
    alert_is_open_fn is_open;
    void *cls;
};

static int ar_open(const struct ar_ctx *x, enum alert_kind kind, const char *subject)
{
    return x->is_open != NULL && x->is_open(kind, subject, x->cls);
}

/* A condition seen now: active as `kind` once it has held for ALERT_AFTER
 * (pending under `pkind`, so one provider's trouble is timed once whether
 * it shows as a pause or as down), or at once when it is open already (an
 * open alert's condition is simply still true). */
static struct alert_cond *ar_after(struct ar_ctx *x, enum alert_kind pkind, enum alert_kind kind,
                                   const char *subject, int64_t *held_ms)
{
    int i = ar_pending_slot(x->p, pkind, subject, x->now);
    if (i < 0)
        return NULL;
    x->seen[i] = 1;
    *held_ms = x->now - x->p->e[i].since_ms;
    if (*held_ms < x->after && !ar_open(x, kind, subject))
        return NULL;
    return ar_add(x->v, kind, subject);
}

static void ar_providers(struct ar_ctx *x, json_object *live)
{
    json_object *detail = ar_get(live, "detail");
    json_object *list = ar_get(ar_get(live, "queue"), HBS_QUEUE_PROVIDERS);
    int offline = ar_true(detail, HBS_DETAIL_OFFLINE);
    int64_t held = 0;
    char d[16];
    if (offline) {
        struct alert_cond *c =
            ar_after(x, ALERT_PROVIDER_OFFLINE, ALERT_PROVIDER_OFFLINE, "", &held);
        if (c != NULL) {
            alert_fmt_duration(held / 1000, d, sizeof d);
            const char *why = ar_str(detail, HBS_DETAIL_DEGRADED_REASON);
            snprintf(c->summary, sizeof c->summary, "no provider reachable for %s%s%.200s", d,
                     why[0] ? ": " : "", why);
        }
    }
    size_t n = list != NULL && json_object_is_type(list, json_type_array)
                   ? json_object_array_length(list)
                   : 0;
    for (size_t i = 0; i < n; i++) {
        json_object *p = json_object_array_get_idx(list, i);
        const char *name = ar_str(p, "name"), *state = ar_str(p, "state");
        if (name[0] == '\0')
            continue;
        int down = ar_true(p, "down") || strcmp(state, "down") == 0;
        /* (while offline every state reads "offline"; a pause still has
         * its end time) */
        int paused = strcmp(state, "paused") == 0 ||
                     json_object_is_type(ar_get(p, "paused_until"), json_type_string);
        if (!down && !paused)
            continue;
        /* A pause (429, refusal) says more than "down", which it causes
         * too; the kind an alert opened with stays while the provider is
         * unavailable either way (a pause ends, a probe fails, it pauses
         * again), so it neither flaps nor waits ALERT_AFTER again. */
        enum alert_kind k = paused ? ALERT_PROVIDER_BLOCKED : ALERT_PROVIDER_OFFLINE;
        if (ar_open(x, ALERT_PROVIDER_BLOCKED, name))
            k = ALERT_PROVIDER_BLOCKED;
        else if (ar_open(x, ALERT_PROVIDER_OFFLINE, name))
            k = ALERT_PROVIDER_OFFLINE;
        /* While nothing is reachable the "" alert speaks for every
         * provider: a per-provider one starts only after the network is
         * back (an open one stays). */
        if (offline && !ar_open(x, k, name))
            continue;
        struct alert_cond *c = ar_after(x, ALERT_PROVIDER_BLOCKED, k, name, &held);
        if (c == NULL)
            continue;
        alert_fmt_duration(held / 1000, d, sizeof d);
        if (!paused)
            snprintf(c->summary, sizeof c->summary,
                     "%s has failed as a whole for %s; its assets go to their next source", name,
                     d);
        else if (ar_true(p, "refused"))
            snprintf(c->summary, sizeof c->summary, "%s has refused us for %s: %.200s", name, d,
                     ar_str(p, "pause_reason"));
        else
            snprintf(c->summary, sizeof c->summary, "%s has rate limited us (HTTP 429) for %s",
                     name, d);
    }
}

static void ar_stale(struct ar_ctx *x, json_object *st)
{
    if (st == NULL || !json_object_is_type(st, json_type_object))
        return;
    json_object_object_foreach(st, type, t)
    {
        int64_t stale = json_object_get_int64(ar_get(t, "stale"));
        if (stale <= 0)
            continue;
        struct alert_cond *c = ar_add(x->v, ALERT_PRICES_STALE, type);
        if (c == NULL)
            return;
        char bound[16], oldest[16];
        alert_fmt_duration(json_object_get_int64(ar_get(t, "bound_s")), bound, sizeof bound);
        alert_fmt_duration((int64_t)json_object_get_double(ar_get(t, "max_age_s")), oldest,
                           sizeof oldest);
        snprintf(c->summary, sizeof c->summary,
                 "%lld of %lld %s prices are older than %s (the oldest: %s)", (long long)stale,
                 (long long)json_object_get_int64(ar_get(t, "assets")), type, bound, oldest);
    }
}

static void ar_cycles(struct ar_ctx *x, json_object *cycles, int64_t want)
{
    if (cycles == NULL || !json_object_is_type(cycles, json_type_array) || want < 1 ||
        (int64_t)json_object_array_length(cycles) < want)
        return;
    for (int64_t i = 0; i < want; i++)
        if (strcmp(ar_str(json_object_array_get_idx(cycles, (size_t)i), "status"), "failed") != 0)
            return;
    struct alert_cond *c = ar_add(x->v, ALERT_CYCLES_FAILING, "");
    if (c != NULL) {
        const char *err = ar_str(json_object_array_get_idx(cycles, 0), "error");
        snprintf(c->summary, sizeof c->summary, "the last %lld cycles failed%s%.200s",
                 (long long)want, err[0] ? "; the newest: " : "", err);
    }
}

void alert_rules_evaluate(json_object *input, int64_t now_ms, const struct alert_settings *s,
                          struct alert_pending *pending, alert_is_open_fn is_open, void *cls,
                          struct alert_verdict *out)
{
    memset(out, 0, sizeof *out);
    struct ar_ctx x = {.v = out,
                       .p = pending,
                       .now = now_ms,
                       .after = s->after_ms,
                       .is_open = is_open,
                       .cls = cls};
    if (input == NULL || !json_object_is_type(input, json_type_object)) {
        for (size_t k = 0; k < ALERT_KINDS; k++)
            out->hold[k] = HOLD_ALL;
        return;
    }
    json_object *live = ar_get(input, "live");
    json_object *newest = ar_get(input, "newest");
    if (live != NULL && json_object_is_type(live, json_type_object)) {
        ar_providers(&x, live);
    } else {
        /* No live daemon: what its providers do now is unknown. */
        out->hold[ALERT_PROVIDER_OFFLINE] = HOLD_ALL;
        out->hold[ALERT_PROVIDER_BLOCKED] = HOLD_ALL;
        if (newest != NULL && json_object_is_type(newest, json_type_object)) {
            struct alert_cond *c = ar_add(out, ALERT_DAEMON_STOPPED, "");
            if (c != NULL) {
                char d[16];
                alert_fmt_duration((int64_t)json_object_get_double(ar_get(newest, "age_s")), d,
                                   sizeof d);
                if (strcmp(ar_str(newest, "state"), "stopped") == 0)
                    snprintf(c->summary, sizeof c->summary,
                             "fetcherd stopped: instance %.64s shut down %s ago, and no other "
                             "is running",
                             ar_str(newest, "id"), d);
                else
                    snprintf(c->summary, sizeof c->summary,
                             "fetcherd stopped: no heartbeat for %s (instance %.64s)", d,
                             ar_str(newest, "id"));
            }
        }
    }
    ar_stale(&x, ar_get(input, "staleness"));
    ar_cycles(&x, ar_get(input, "cycles"), s->failed_cycles);
    /* A pending condition not seen now has ended before ALERT_AFTER. */
    for (int i = 0; i < ALERT_PENDING_MAX; i++)
        if (pending->e[i].used && !x.seen[i])
            pending->e[i].used = 0;
}

int alert_rules_resolves(const struct alert_verdict *v, enum alert_kind kind, const char *subject)
{
    if (kind >= ALERT_KINDS)
        return 0;
    for (size_t i = 0; i < v->n; i++)
        if (v->active[i].kind == kind && strcmp(v->active[i].subject, subject) == 0)
            return 0;
    if (v->hold[kind] == HOLD_ALL)
        return 0;
    if (v->hold[kind] == HOLD_NAMED && subject[0] != '\0')
        return 0;
    return 1;
}
