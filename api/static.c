/*
 * static — the dashboard's files (index.html, app.js, style.css, …) from
 * one flat directory, found once at start-up with paths_find().
 *
 * Deliberately small and strict: no subdirectories, no listings, names of
 * [A-Za-z0-9._-] only and never starting with '.', so "..", NUL and encoded
 * slashes cannot name anything (the route only matches one path segment,
 * and server.c keeps %00 undecoded). Symlinks are not followed. Every file
 * goes out with a Content-Security-Policy that allows our own scripts and
 * styles only, which is what makes an XSS in the dashboard's data harmless.
 */
#include "config.h"
#include "handlers.h"
#include "log.h"
#include "paths.h"

#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define STATIC_NAME_MAX 128

static char dashboard_dir[PATH_MAX];
static int have_dir;

static const struct {
    const char *ext;
    const char *type;
} mime_types[] = {
    {".html", "text/html; charset=utf-8"},
    {".js", "text/javascript; charset=utf-8"},
    {".mjs", "text/javascript; charset=utf-8"},
    {".css", "text/css; charset=utf-8"},
    {".json", "application/json; charset=utf-8"},
    {".map", "application/json; charset=utf-8"},
    {".svg", "image/svg+xml"},
    {".png", "image/png"},
    {".jpg", "image/jpeg"},
    {".jpeg", "image/jpeg"},
    {".gif", "image/gif"},
    {".webp", "image/webp"},
    {".ico", "image/x-icon"},
    {".woff2", "font/woff2"},
    {".txt", "text/plain; charset=utf-8"},
};

int static_setup(void)
{
    have_dir =
        paths_find(cfg->dashboard_dir, "dashboard", dashboard_dir, sizeof dashboard_dir) == 0;
    if (have_dir)
        log_msg(LOG_INFO, "dashboard from %s", dashboard_dir);
    return have_dir ? 0 : -1;
}

static const char *mime_type(const char *name)
{
    size_t len = strlen(name);
    for (size_t i = 0; i < ARRAY_LEN(mime_types); i++) {
        size_t elen = strlen(mime_types[i].ext);
        if (len > elen && util_streq_nocase(name + len - elen, mime_types[i].ext))
            return mime_types[i].type;
    }
    return "application/octet-stream";
}

static int valid_name(const char *name)
{
    size_t len = strlen(name);
    return len > 0 && len <= STATIC_NAME_MAX && name[0] != '.' &&
           strspn(name, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-") == len;
}

enum MHD_Result static_serve(struct MHD_Connection *conn, const struct api_request *req)
{
    const char *name = routes_tail(req);
    if (name[0] == '\0')
        name = "index.html";
    if (!valid_name(name) || !have_dir)
        return reply_error(conn, MHD_HTTP_NOT_FOUND, NULL, "not found");
    char path[PATH_MAX + STATIC_NAME_MAX + 2];
    snprintf(path, sizeof path, "%s/%s", dashboard_dir, name);
    int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        if (fd >= 0)
            close(fd);
        return reply_error(conn, MHD_HTTP_NOT_FOUND, NULL, "not found");
    }
    /* MHD owns fd from here and closes it with the response. */
    struct MHD_Response *resp = MHD_create_response_from_fd((uint64_t)st.st_size, fd);
    if (resp == NULL) {
        close(fd);
        return MHD_NO;
    }
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, mime_type(name));
    MHD_add_response_header(resp, "Content-Security-Policy",
                            "default-src 'self'; script-src 'self'; style-src 'self'; "
                            "img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'");
    MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
    MHD_add_response_header(resp, "Referrer-Policy", "no-referrer");
    /* Revalidate each time: the dashboard changes with a new release and is
     * tiny, so a stale app.js is worse than a few bytes saved. */
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-cache");
    return http_queue(conn, MHD_HTTP_OK, resp);
}
