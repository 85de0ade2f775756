//  jobctl's times as operators type them: durations ("90s", "1h30m") and ISO 8601 dates and
//  times, for ls --since and --until.
#include "jobctl_time.h"
#include <ctype.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define S_DURATION_MAX (100LL * 366 * 86400000LL)

int
jobctl_duration_parse (const char *text, int64_t *ms_p, char *reason, size_t reason_size)
{
    static const struct {
        const char *unit;
        int64_t ms;
    } units[] = {{"d", 86400000}, {"h", 3600000}, {"ms", 1}, {"m", 60000}, {"s", 1000}};
    const char *at = text;
    int64_t total = 0;
    int64_t last_unit = INT64_MAX; //  units largest first, each once: "1h30m", never "30m1h"
    while (*at) {
        if (!isdigit ((unsigned char)*at))
            break;
        int64_t value = 0;
        while (isdigit ((unsigned char)*at) && value <= S_DURATION_MAX)
            value = value * 10 + (*at++ - '0');
        size_t index = 0, count = sizeof units / sizeof units[0];
        while (index < count && strncmp (at, units[index].unit, strlen (units[index].unit)))
            index++;
        //  "m" must not take the "m" of "ms": "ms" is tried first.
        if (index == count || units[index].ms >= last_unit || value > S_DURATION_MAX ||
            value > (S_DURATION_MAX - total) / units[index].ms) {
            at = text; //  refused below
            total = -1;
            break;
        }
        last_unit = units[index].ms;
        total += value * units[index].ms;
        at += strlen (units[index].unit);
    }
    if (at == text || *at || total < 0) {
        snprintf (reason, reason_size,
                  "'%s' is not a duration (a number and a unit: 45s, 30m, 1h30m, 2d, 500ms)", text);
        return -1;
    }
    *ms_p = total;
    return 0;
}

//  Reads exactly count digits at *at into *value; moves *at past them.
static bool
s_digits (const char **at, int count, int *value)
{
    *value = 0;
    for (int index = 0; index < count; index++) {
        if (!isdigit ((unsigned char)(*at)[index]))
            return false;
        *value = *value * 10 + ((*at)[index] - '0');
    }
    *at += count;
    return true;
}

//  Days from 1970-01-01 to year-month-day in the proleptic Gregorian calendar (H. Hinnant's
//  days_from_civil).
static int64_t
s_days (int year, int month, int day)
{
    year -= month <= 2;
    int64_t era = (year >= 0 ? year : year - 399) / 400;
    int64_t year_of_era = year - era * 400;
    int64_t day_of_year = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1;
    int64_t day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    return era * 146097 + day_of_era - 719468;
}

static int
s_month_days (int year, int month)
{
    static const int days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
    return month == 2 && leap ? 29 : days[month - 1];
}

//  Reads a zone at at ("Z", "+01:00", "+0100", "+01"): returns true with *offset_s (east of UTC)
//  and *at moved past it.
static bool
s_zone (const char **at, int *offset_s)
{
    if (**at == 'Z' || **at == 'z') {
        (*at)++;
        *offset_s = 0;
        return true;
    }
    if (**at != '+' && **at != '-')
        return false;
    int sign = **at == '-' ? -1 : 1;
    (*at)++;
    int hours, minutes = 0;
    if (!s_digits (at, 2, &hours) || hours > 23)
        return false;
    if (**at == ':')
        (*at)++;
    if (isdigit ((unsigned char)**at) && (!s_digits (at, 2, &minutes) || minutes > 59))
        return false;
    *offset_s = sign * (hours * 3600 + minutes * 60);
    return true;
}

//  ISO 8601, as jobctl_time_parse says. Returns 0 with *ms_p, or -1.
static int
s_iso_parse (const char *text, int64_t *ms_p)
{
    const char *at = text;
    int year, month, day, hour = 0, minute = 0, second = 0, milli = 0;
    if (!s_digits (&at, 4, &year) || *at++ != '-' || !s_digits (&at, 2, &month) || *at++ != '-' ||
        !s_digits (&at, 2, &day))
        return -1;
    if (year < 1970 || month < 1 || month > 12 || day < 1 || day > s_month_days (year, month))
        return -1;
    bool has_time = *at == 'T' || *at == 't' || *at == ' ';
    if (has_time) {
        at++;
        if (!s_digits (&at, 2, &hour) || *at++ != ':' || !s_digits (&at, 2, &minute) || hour > 23 ||
            minute > 59)
            return -1;
        if (*at == ':') {
            at++;
            if (!s_digits (&at, 2, &second) || second > 59)
                return -1;
            if (*at == '.' || *at == ',') {
                at++;
                int digits = 0;
                for (; isdigit ((unsigned char)*at); at++, digits++)
                    if (digits < 3)
                        milli = milli * 10 + (*at - '0');
                if (digits == 0)
                    return -1;
                for (; digits < 3; digits++)
                    milli *= 10;
            }
        }
    }
    int offset = 0;
    const char *zone = at; //  moved only when the zone reads whole
    bool zoned = has_time && *at && s_zone (&zone, &offset);
    if (zoned)
        at = zone;
    if (*at)
        return -1;
    const char *tz = getenv ("TZ");
    if (!zoned && tz && *tz) {
        //  Local time, as jobctl prints it with TZ set.
        struct tm tm = {.tm_year = year - 1900,
                        .tm_mon = month - 1,
                        .tm_mday = day,
                        .tm_hour = hour,
                        .tm_min = minute,
                        .tm_sec = second,
                        .tm_isdst = -1};
        time_t local = mktime (&tm);
        if (local == (time_t)-1)
            return -1;
        *ms_p = (int64_t)local * 1000 + milli;
        return 0;
    }
    int64_t seconds = s_days (year, month, day) * 86400 + hour * 3600 + minute * 60 + second;
    *ms_p = (seconds - offset) * 1000 + milli;
    return 0;
}

int
jobctl_time_parse (const char *text, int64_t now, int64_t *ms_p, char *reason, size_t reason_size)
{
    int64_t ago;
    if (jobctl_duration_parse (text, &ago, NULL, 0) == 0) {
        *ms_p = now - ago;
        return 0;
    }
    if (s_iso_parse (text, ms_p) == 0)
        return 0;
    snprintf (reason, reason_size,
              "'%s' is not a time: a duration before now (1h, 30m, 2d) or ISO 8601 "
              "(2026-12-03, 2026-12-03T15:37:57Z, 2026-12-03T15:37+01:00)",
              text);
    return -1;
}
