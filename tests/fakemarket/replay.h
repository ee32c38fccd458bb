/*
 * replay — fakemarket's recorded answers: a table from an exact URL path
 * (no query) to the bytes of a file in the --fixtures directory, served
 * verbatim instead of fakemarket's own answer. It lets a test put a real
 * provider's recording (tests/fixtures/real/) on the wire as it was, so a
 * client is checked against the provider and not against our model of it.
 *
 * What it is not: a proxy or a recorder (nothing is fetched or written),
 * nor a pattern matcher (one path, one file; the query is ignored).
 *
 * Files are read into memory when a replay is set (at most
 * FM_REPLAY_MAX_BYTES each, FM_REPLAY_MAX of them), so a test may delete
 * or change the file afterwards and the answer stays what it was.
 * Thread-safe: one mutex, held only to copy in or out.
 */
#ifndef FAKEMARKET_REPLAY_H
#define FAKEMARKET_REPLAY_H

#include <stddef.h>

#include "util.h"
#include "wire.h"

/* 4 MiB: larger than any recording we keep (the biggest is ~30 KB) and
 * than the daemon's body cap, so a replay can test that cap. */
#define FM_REPLAY_MAX_BYTES (4u * 1024u * 1024u)
/* Paths replayed at once: a test replays a handful. */
#define FM_REPLAY_MAX 64
#define FM_REPLAY_MAX_PATH 1024

struct fm_replays;

/* A new, empty table reading files from dir (copied; NULL: fakemarket
 * has no --fixtures, and every set fails). NULL when out of memory. */
struct fm_replays *fm_replays_new(const char *dir);

/* Frees the table and every body; NULL is a no-op. */
void fm_replays_free(struct fm_replays *r);

/* Replays file (a plain name in the directory) with status (NULL: 200)
 * for requests whose URL path is exactly path, replacing any replay of
 * that path. 0, or -1 with a message naming the parameter in err
 * ("file: ..."); *param is then the parameter's name (static) or NULL
 * when out of memory. */
int fm_replays_set(struct fm_replays *r, const char *path, const char *file, const char *status,
                   char *err, size_t errlen, const char **param) MUST_CHECK;

/* Removes every replay; returns how many there were. */
size_t fm_replays_clear(struct fm_replays *r);

/* A copy of the replay of path in *out (data malloc'd, content type by
 * the file's extension). 1 when there is one, 0 when not, -1 when out of
 * memory. */
int fm_replays_copy(struct fm_replays *r, const char *path, struct fm_body *out) MUST_CHECK;

/* {"fixtures":DIR|null,"replays":[{"path":…,"file":…,"status":N,
 * "bytes":N,"content_type":…}]} in the order they were set; or, with
 * path non-NULL, {"ok":true,"path":…,…} for that one replay (the answer
 * to a successful set). Caller frees; NULL when out of memory. */
char *fm_replays_render(struct fm_replays *r, const char *path, size_t *len) MUST_CHECK;

/* .json → application/json;charset=utf-8, .txt → text/plain;…, .html →
 * text/html;…, anything else application/octet-stream. Static. */
const char *fm_replays_content_type(const char *file);

#endif
