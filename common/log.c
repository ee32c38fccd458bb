/*
 * log — see log.h. A single fprintf per line keeps lines whole when the API's
 * worker threads log at the same time (stdio locks the stream per call).
 */
#include "log.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static enum log_level min_level = LOG_INFO;
static const char *program = "fetcher";

static const char *const level_names[] = {"DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"};

const char *log_level_name(enum log_level level)
{
    if ((unsigned)level >= ARRAY_LEN(level_names))
        return "INFO";
    return level_names[level];
}

int log_level_parse(const char *name, enum log_level *out)
{
    for (size_t i = 0; i < ARRAY_LEN(level_names); i++) {
        if (util_streq_nocase(name, level_names[i])) {
            *out = (enum log_level)i;
            return 0;
        }
    }
    if (util_streq_nocase(name, "WARN")) {
        *out = LOG_WARNING;
        return 0;
    }
    return -1;
}

void log_set_min_level(enum log_level level)
{
    min_level = level;
}

void log_set_program(const char *name)
{
    program = name;
}

void log_msg(enum log_level level, const char *fmt, ...)
{
    if (level < min_level)
        return;
    char msg[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    for (char *p = msg; *p; p++)
        if ((unsigned char)*p < 0x20)
            *p = ' ';
    char ts[32];
    util_fmt_time(util_wall_ms(), ts, sizeof ts);
    fprintf(stdout, "%s %s %s %s\n", ts, program, log_level_name(level), msg);
    fflush(stdout);
}

void log_bug(const char *cond, const char *file, int line)
{
    log_msg(LOG_CRITICAL, "bug: FETCHER_ASSERT(%s) failed at %s:%d", cond, file, line);
#ifdef FETCHER_TEST_BUILD
    abort();
#endif
}
