//  jobctl's times as operators type them: durations ("90s", "1h30m") and ISO 8601 dates and
//  times, for ls --since and --until.
#ifndef JOBCTL_TIME_H_INCLUDED
#define JOBCTL_TIME_H_INCLUDED

#include <stddef.h>
#include <stdint.h>

//  Parses a duration: one or more whole numbers each with a unit, ms, s, m, h or d, largest
//  first ("45s", "30m", "1h30m", "2d", "500ms"), up to 100 years. Returns 0 with *ms_p, or -1
//  with a reason naming text.
int jobctl_duration_parse (const char *text, int64_t *ms_p, char *reason, size_t reason_size);

//  Parses a point in time for --since and --until: a duration, meaning that long before now
//  ("1h": an hour ago), or ISO 8601: a date ("2026-12-03"), or a date and time with 'T' or a
//  space, minutes or seconds, optional fraction ("2026-12-03T15:37", "2026-12-03 15:37:57.250"),
//  and a zone ("Z", "+01:00", "+0100", "-05"). A time without a zone is UTC, or local time
//  when the TZ environment variable is set (as jobctl prints times). Returns 0 with *ms_p (ms
//  since the epoch), or -1 with a reason naming text.
int jobctl_time_parse (const char *text, int64_t now, int64_t *ms_p, char *reason,
                       size_t reason_size);

#endif
