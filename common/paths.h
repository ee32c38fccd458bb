/*
 * paths — finds the directories a program ships with (migrations, dashboard):
 * the configured one if set, else beside the binary in the source tree
 * (build/fetcherd → migrations/) or in an installed tree
 * (PREFIX/bin/fetcherd → PREFIX/share/fetcherd/migrations/).
 */
#ifndef FETCHER_PATHS_H
#define FETCHER_PATHS_H

#include "util.h"

#include <stddef.h>

/* Writes the first existing directory to out. Returns 0, or -1 when none
 * exists (out then names what was looked for). */
int paths_find(const char *configured, const char *subdir, char *out, size_t outlen) MUST_CHECK;

#endif
