/*
 * replay — see replay.h.
 */
#include "replay.h"

#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

struct replay {
    char *path;
    char *file;
    char *data;
    size_t len;
    unsigned status;
    const char *ctype;
};

struct fm_replays {
    char *dir;
    pthread_mutex_t lock;
    size_t n;
    struct replay items[FM_REPLAY_MAX];
};

struct fm_replays *fm_replays_new(const char *dir)
{
    struct fm_replays *r = calloc(1, sizeof *r);
    if (r == NULL)
        return NULL;
    if (dir != NULL) {
        r->dir = strdup(dir);
        if (r->dir == NULL) {
            free(r);
            return NULL;
        }
    }
    pthread_mutex_init(&r->lock, NULL);
    return r;
}

static void replay_clear(struct replay *it)
{
    free(it->path);
    free(it->file);
    free(it->data);
    *it = (struct replay){0};
}

void fm_replays_free(struct fm_replays *r)
{
    if (r == NULL)
        return;
    (void)fm_replays_clear(r);
    pthread_mutex_destroy(&r->lock);
    free(r->dir);
    free(r);
}

static bool ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), k = strlen(suffix);
    return n >= k && util_streq_nocase(s + n - k, suffix);
}

const char *fm_replays_content_type(const char *file)
{
    if (ends_with(file, ".json"))
        return "application/json;charset=utf-8";
    if (ends_with(file, ".txt"))
        return "text/plain;charset=utf-8";
    if (ends_with(file, ".html"))
        return "text/html;charset=utf-8";
    return "application/octet-stream";
}

/* Reads dir/file whole. 0, or -1 with err filled. */
static int read_fixture(const char *dir, const char *file, char **data, size_t *len, char *err,
                        size_t errlen)
{
    char full[4096];
    struct stat st;
    int rc = -1;
    int fd = -1;
    char *buf = NULL;
    if ((size_t)snprintf(full, sizeof full, "%s/%s", dir, file) >= sizeof full) {
        snprintf(err, errlen, "file: the path to '%s' is too long", file);
        goto out;
    }
    fd = open(full, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0) {
        snprintf(err, errlen, "file: cannot open '%.200s' in the fixtures directory: %s", file,
                 strerror(errno));
        goto out;
    }
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        snprintf(err, errlen, "file: '%.200s' is not a regular file", file);
        goto out;
    }
    if ((uint64_t)st.st_size > FM_REPLAY_MAX_BYTES) {
        snprintf(err, errlen, "file: '%.200s' is larger than 4 MiB", file);
        goto out;
    }
    size_t want = (size_t)st.st_size, got = 0;
    buf = malloc(want + 1);
    if (buf == NULL) {
        snprintf(err, errlen, "out of memory");
        goto out;
    }
    while (got < want) {
        ssize_t k = read(fd, buf + got, want - got);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0) {
            snprintf(err, errlen, "file: cannot read '%.200s'", file);
            goto out;
        }
        got += (size_t)k;
    }
    buf[got] = '\0';
    *data = buf;
    *len = got;
    buf = NULL;
    rc = 0;
out:
    free(buf);
    if (fd >= 0)
        close(fd);
    return rc;
}

/* A plain name: no directory part, not hidden (so neither "." nor ".."),
 * printable ASCII only. */
static bool plain_name(const char *file)
{
    size_t n = strlen(file);
    if (n == 0 || n > 255 || file[0] == '.')
        return false;
    for (size_t i = 0; i < n; i++)
        if (file[i] == '/' || (unsigned char)file[i] < 0x21 || (unsigned char)file[i] > 0x7e)
            return false;
    return true;
}

int fm_replays_set(struct fm_replays *r, const char *path, const char *file, const char *status,
                   char *err, size_t errlen, const char **param)
{
    int64_t st = 200;
    struct replay it = {0};
    *param = NULL;
    if (r->dir == NULL) {
        *param = "fixtures";
        snprintf(err, errlen, "fakemarket was started without --fixtures");
        return -1;
    }
    if (path == NULL || path[0] != '/' || strlen(path) > FM_REPLAY_MAX_PATH ||
        strncmp(path, "/_", 2) == 0) {
        *param = "path";
        snprintf(err, errlen, "path: %s",
                 path == NULL ? "missing parameter"
                              : "must be a URL path starting with '/', "
                                "at most 1024 bytes, not a /_ endpoint");
        return -1;
    }
    if (file == NULL || !plain_name(file)) {
        *param = "file";
        snprintf(err, errlen, "file: %s",
                 file == NULL ? "missing parameter"
                              : "must be a plain file name (no '/', no leading '.')");
        return -1;
    }
    if (status != NULL && util_parse_i64(status, 100, 599, &st) != 0) {
        *param = "status";
        snprintf(err, errlen, "status: must be an integer 100..599");
        return -1;
    }
    if (read_fixture(r->dir, file, &it.data, &it.len, err, errlen) != 0) {
        *param = it.data == NULL && strcmp(err, "out of memory") == 0 ? NULL : "file";
        return -1;
    }
    it.path = strdup(path);
    it.file = strdup(file);
    it.status = (unsigned)st;
    it.ctype = fm_replays_content_type(file);
    if (it.path == NULL || it.file == NULL) {
        replay_clear(&it);
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    int rc = 0;
    pthread_mutex_lock(&r->lock);
    size_t i = 0;
    while (i < r->n && strcmp(r->items[i].path, path) != 0)
        i++;
    if (i < r->n) {
        replay_clear(&r->items[i]);
        r->items[i] = it;
    } else if (r->n < FM_REPLAY_MAX) {
        r->items[r->n++] = it;
    } else {
        rc = -1;
    }
    pthread_mutex_unlock(&r->lock);
    if (rc != 0) {
        replay_clear(&it);
        *param = "path";
        snprintf(err, errlen, "path: at most %d paths are replayed at once", FM_REPLAY_MAX);
    }
    return rc;
}

size_t fm_replays_clear(struct fm_replays *r)
{
    pthread_mutex_lock(&r->lock);
    size_t n = r->n;
    for (size_t i = 0; i < r->n; i++)
        replay_clear(&r->items[i]);
    r->n = 0;
    pthread_mutex_unlock(&r->lock);
    return n;
}

int fm_replays_copy(struct fm_replays *r, const char *path, struct fm_body *out)
{
    int rc = 0;
    pthread_mutex_lock(&r->lock);
    for (size_t i = 0; i < r->n; i++) {
        const struct replay *it = &r->items[i];
        if (strcmp(it->path, path) != 0)
            continue;
        char *d = malloc(it->len + 1);
        if (d == NULL) {
            rc = -1;
            break;
        }
        memcpy(d, it->data, it->len + 1);
        *out = (struct fm_body){
            .status = it->status, .content_type = it->ctype, .data = d, .len = it->len};
        rc = 1;
        break;
    }
    pthread_mutex_unlock(&r->lock);
    return rc;
}

static struct json_object *replay_json(const struct replay *it, bool ok)
{
    struct json_object *o = json_object_new_object();
    if (o == NULL)
        return NULL;
    if ((ok && json_object_object_add(o, "ok", json_object_new_boolean(1)) != 0) ||
        json_object_object_add(o, "path", json_object_new_string(it->path)) != 0 ||
        json_object_object_add(o, "file", json_object_new_string(it->file)) != 0 ||
        json_object_object_add(o, "status", json_object_new_int(it->status)) != 0 ||
        json_object_object_add(o, "bytes", json_object_new_int64((int64_t)it->len)) != 0 ||
        json_object_object_add(o, "content_type", json_object_new_string(it->ctype)) != 0) {
        json_object_put(o);
        return NULL;
    }
    return o;
}

char *fm_replays_render(struct fm_replays *r, const char *path, size_t *len)
{
    char *res = NULL;
    struct json_object *root = NULL;
    pthread_mutex_lock(&r->lock);
    if (path != NULL) {
        for (size_t i = 0; i < r->n && root == NULL; i++)
            if (strcmp(r->items[i].path, path) == 0)
                root = replay_json(&r->items[i], true);
    } else {
        root = json_object_new_object();
        struct json_object *arr = json_object_new_array();
        bool ok =
            root != NULL && arr != NULL &&
            json_object_object_add(root, "fixtures",
                                   r->dir != NULL ? json_object_new_string(r->dir) : NULL) == 0;
        for (size_t i = 0; ok && i < r->n; i++) {
            struct json_object *o = replay_json(&r->items[i], false);
            ok = o != NULL && json_object_array_add(arr, o) == 0;
            if (!ok)
                json_object_put(o);
        }
        if (ok && json_object_object_add(root, "replays", arr) == 0)
            arr = NULL;
        else
            ok = false;
        json_object_put(arr);
        if (!ok) {
            json_object_put(root);
            root = NULL;
        }
    }
    pthread_mutex_unlock(&r->lock);
    if (root == NULL)
        return NULL;
    const char *s = json_object_to_json_string_length(
        root, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE, len);
    if (s != NULL)
        res = strdup(s);
    json_object_put(root);
    return res;
}
