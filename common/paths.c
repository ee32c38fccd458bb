/*
 * paths — see paths.h.
 */
#include "paths.h"

#include <limits.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int is_dir(const char *p)
{
    struct stat st;
    return stat(p, &st) == 0 && S_ISDIR(st.st_mode);
}

int paths_find(const char *configured, const char *subdir, char *out, size_t outlen)
{
    if (configured != NULL && configured[0] != '\0') {
        util_strlcpy(out, configured, outlen);
        return is_dir(out) ? 0 : -1;
    }
    char exe[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n <= 0)
        return -1;
    exe[n] = '\0';
    char *slash = strrchr(exe, '/');
    if (slash == NULL)
        return -1;
    *slash = '\0';
    /* Order: source tree (build/, build/asan/), then the installed layout. */
    const char *const fmts[] = {"%s/../%s", "%s/../../%s", "%s/../share/fetcherd/%s"};
    for (size_t i = 0; i < ARRAY_LEN(fmts); i++) {
        char cand[PATH_MAX + 64];
        snprintf(cand, sizeof cand, fmts[i], exe, subdir);
        if (is_dir(cand)) {
            char real[PATH_MAX];
            if (realpath(cand, real) == NULL)
                continue;
            if (util_strlcpy(out, real, outlen) >= outlen)
                return -1;
            return 0;
        }
    }
    snprintf(out, outlen, "%s (beside %s)", subdir, exe);
    return -1;
}
