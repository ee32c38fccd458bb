/*
 * procstat — this process's CPU time, memory, open files and start time,
 * read from /proc the way Prometheus's client libraries read them, for the
 * standard process_* series (fetcher-api serves its own; fetcherd's travel
 * in its heartbeat). Reading /proc/self is a few small reads from the
 * kernel, never a wait on a device or the network, so the daemon's loop
 * may call it once a heartbeat.
 *
 * What it is not: a general /proc parser; Linux only (elsewhere every
 * figure is 0 and procstat_read returns -1).
 */
#ifndef FETCHER_PROCSTAT_H
#define FETCHER_PROCSTAT_H

#include "util.h"

#include <stddef.h>
#include <stdint.h>

struct procstat {
    double cpu_seconds;        /* user + system */
    int64_t resident_bytes;    /* resident set size */
    int64_t virtual_bytes;     /* virtual memory size */
    int64_t open_fds, max_fds; /* descriptors open; the soft limit */
    double start_time_seconds; /* Unix time the process started */
};

/* Fills *out (zeros where a figure cannot be read). Returns 0, or -1 when
 * /proc/self/stat cannot be read or parsed. */
int procstat_read(struct procstat *out) MUST_CHECK;

/* Parses the text of a /proc/<pid>/stat file (pure, for the unit test):
 * tick_hz clock ticks a second, page_bytes the page size, boot_time the
 * Unix time of boot (/proc/stat's btime). Returns 0 or -1. */
int procstat_parse(const char *stat, long tick_hz, long page_bytes, int64_t boot_time,
                   struct procstat *out) MUST_CHECK;

#endif
