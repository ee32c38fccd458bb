/*
 * procstat — see procstat.h.
 */
#include "procstat.h"

#include <dirent.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

/* /proc/self/stat is one line of about 300 bytes; the command name, the
 * only free text in it, is at most 16. */
#define PROCSTAT_LINE 1024

int procstat_parse(const char *stat, long tick_hz, long page_bytes, int64_t boot_time,
                   struct procstat *out)
{
    /* Fields after the command name, which is in parentheses and may hold
     * spaces and parentheses itself: start after the last ')'. Field 3
     * (state) comes first; we want 14 utime, 15 stime, 22 starttime,
     * 23 vsize, 24 rss (man 5 proc). */
    const char *p = strrchr(stat, ')');
    if (p == NULL || tick_hz <= 0)
        return -1;
    p++;
    unsigned long long v[25] = {0};
    int field = 3;
    while (*p != '\0' && field <= 24) {
        while (*p == ' ')
            p++;
        if (*p == '\0')
            break;
        char *end = NULL;
        if (field == 3) {
            end = (char *)p;
            while (*end != ' ' && *end != '\0')
                end++;
        } else {
            v[field] = strtoull(p, &end, 10);
            if (end == p)
                return -1;
        }
        p = end;
        field++;
    }
    if (field <= 24)
        return -1;
    out->cpu_seconds = (double)(v[14] + v[15]) / (double)tick_hz;
    out->start_time_seconds = (double)boot_time + (double)v[22] / (double)tick_hz;
    out->virtual_bytes = (int64_t)v[23];
    out->resident_bytes = (int64_t)v[24] * page_bytes;
    return 0;
}

static int64_t procstat_boot_time(void)
{
    FILE *f = fopen("/proc/stat", "re");
    if (f == NULL)
        return 0;
    char line[256];
    int64_t bt = 0;
    while (fgets(line, sizeof line, f) != NULL)
        if (sscanf(line, "btime %" SCNd64, &bt) == 1)
            break;
    fclose(f);
    return bt;
}

static int64_t procstat_open_fds(void)
{
    DIR *d = opendir("/proc/self/fd");
    if (d == NULL)
        return 0;
    int64_t n = 0;
    const struct dirent *e;
    while ((e = readdir(d)) != NULL)
        if (e->d_name[0] != '.')
            n++;
    closedir(d);
    return n > 0 ? n - 1 : 0; /* not the directory's own descriptor */
}

int procstat_read(struct procstat *out)
{
    memset(out, 0, sizeof *out);
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0)
        out->max_fds = rl.rlim_cur == RLIM_INFINITY ? INT64_MAX : (int64_t)rl.rlim_cur;
    out->open_fds = procstat_open_fds();
    FILE *f = fopen("/proc/self/stat", "re");
    if (f == NULL)
        return -1;
    char line[PROCSTAT_LINE];
    int ok = fgets(line, sizeof line, f) != NULL;
    fclose(f);
    if (!ok)
        return -1;
    struct procstat s = *out;
    if (procstat_parse(line, sysconf(_SC_CLK_TCK), sysconf(_SC_PAGESIZE), procstat_boot_time(),
                       &s) != 0)
        return -1;
    *out = s;
    return 0;
}
