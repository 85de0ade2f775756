//  sim_clock: the simulated clock (wall clock plus a fast-forward offset) and Spark's date formats.
#include "sim.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static int64_t s_offset_ms;

int64_t
sim_clock_now (void)
{
    struct timespec ts;
    clock_gettime (CLOCK_REALTIME, &ts);
    int64_t now = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
    return now + __atomic_load_n (&s_offset_ms, __ATOMIC_RELAXED);
}

int64_t
sim_clock_offset (void)
{
    return __atomic_load_n (&s_offset_ms, __ATOMIC_RELAXED);
}

void
sim_clock_advance (int64_t ms)
{
    __atomic_add_fetch (&s_offset_ms, ms, __ATOMIC_RELAXED);
}

static struct tm
s_tm (int64_t ms, bool local)
{
    time_t secs = (time_t)(ms >= 0 ? ms / 1000 : (ms - 999) / 1000);
    struct tm tm;
    if (local)
        localtime_r (&secs, &tm);
    else
        gmtime_r (&secs, &tm);
    return tm;
}

void
sim_clock_compact (int64_t ms, char *buf)
{
    struct tm tm = s_tm (ms, true);
    strftime (buf, 16, "%Y%m%d%H%M%S", &tm);
}

void
sim_clock_javadate (int64_t ms, char *buf)
{
    static const char *days[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
    static const char *months[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                   "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    struct tm tm = s_tm (ms, true);
    snprintf (buf, 40, "%s %s %02d %02d:%02d:%02d %s %04d", days[tm.tm_wday], months[tm.tm_mon],
              tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, tm.tm_zone ? tm.tm_zone : "UTC",
              tm.tm_year + 1900);
}

void
sim_clock_gmt (int64_t ms, char *buf)
{
    struct tm tm = s_tm (ms, false);
    int millis = (int)(((ms % 1000) + 1000) % 1000);
    snprintf (buf, 32, "%04d-%02d-%02dT%02d:%02d:%02d.%03dGMT", tm.tm_year + 1900, tm.tm_mon + 1,
              tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, millis);
}

void
sim_clock_log (int64_t ms, char *buf)
{
    struct tm tm = s_tm (ms, true);
    strftime (buf, 24, "%y/%m/%d %H:%M:%S", &tm);
}

//  Reads exactly n digits.
static bool
s_digits (const char **p, int n, int *value)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (!isdigit ((unsigned char)(*p)[i]))
            return false;
        v = v * 10 + ((*p)[i] - '0');
    }
    *p += n;
    *value = v;
    return true;
}

//  A general time zone as SimpleDateFormat's 'z' reads it: GMT, UTC, GMT+hh:mm, +hhmm.
static bool
s_zone (const char *p, int *offset_min)
{
    *offset_min = 0;
    if (strncmp (p, "GMT", 3) == 0 || strncmp (p, "UTC", 3) == 0) {
        p += 3;
        if (!*p)
            return true;
    }
    if (*p != '+' && *p != '-')
        return false;
    int sign = *p++ == '-' ? -1 : 1;
    int hh, mm;
    if (!s_digits (&p, 2, &hh))
        return false;
    if (*p == ':')
        p++;
    if (!s_digits (&p, 2, &mm) || *p)
        return false;
    *offset_min = sign * (hh * 60 + mm);
    return true;
}

int
sim_clock_parse (const char *text, int64_t *ms_p)
{
    const char *p = text;
    struct tm tm = {0};
    int y, mo, d, h = 0, mi = 0, s = 0, ms = 0, offset = 0;
    if (!s_digits (&p, 4, &y) || *p++ != '-' || !s_digits (&p, 2, &mo) || *p++ != '-' ||
        !s_digits (&p, 2, &d))
        return -1;
    if (*p) {
        if (*p++ != 'T' || !s_digits (&p, 2, &h) || *p++ != ':' || !s_digits (&p, 2, &mi) ||
            *p++ != ':' || !s_digits (&p, 2, &s) || *p++ != '.' || !s_digits (&p, 3, &ms) ||
            !s_zone (p, &offset))
            return -1;
    }
    tm.tm_year = y - 1900;
    tm.tm_mon = mo - 1;
    tm.tm_mday = d;
    tm.tm_hour = h;
    tm.tm_min = mi;
    tm.tm_sec = s;
    *ms_p = ((int64_t)timegm (&tm) - (int64_t)offset * 60) * 1000 + ms;
    return 0;
}
