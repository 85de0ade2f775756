//  Logging: one line per message on stderr, with time, level and source.
#include "jobd_log.h"
#include <stdio.h>
#include <string.h>
#include <time.h>

static jobd_log_level_t s_level = JOBD_LOG_INFO;
static const char *s_names[] = {"error", "warn", "info", "debug"};

void
jobd_log_set_level (jobd_log_level_t level)
{
    s_level = level;
}

int
jobd_log_level_parse (const char *name, jobd_log_level_t *level_p)
{
    for (int level = JOBD_LOG_ERROR; level <= JOBD_LOG_DEBUG; level++)
        if (strcmp (name, s_names[level]) == 0) {
            *level_p = (jobd_log_level_t)level;
            return 0;
        }
    return JOBD_ECONFIG;
}

void
jobd_logv (jobd_log_level_t level, const char *source, const char *format, va_list args)
{
    if (level > s_level || level < JOBD_LOG_ERROR)
        return;
    struct timespec now;
    clock_gettime (CLOCK_REALTIME, &now);
    struct tm tm;
    gmtime_r (&now.tv_sec, &tm);
    char line[2048];
    int used = snprintf (line, sizeof line,
                         "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ %-5s %s: ", tm.tm_year + 1900,
                         tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                         now.tv_nsec / 1000000, s_names[level], source);
    if (used < 0 || (size_t)used >= sizeof line)
        used = 0;
    vsnprintf (line + used, sizeof line - used, format, args);
    //  One fputs per line: stdio's lock keeps lines from different threads whole.
    flockfile (stderr);
    fputs (line, stderr);
    fputc ('\n', stderr);
    funlockfile (stderr);
}

void
jobd_log (jobd_log_level_t level, const char *source, const char *format, ...)
{
    va_list args;
    va_start (args, format);
    jobd_logv (level, source, format, args);
    va_end (args);
}
