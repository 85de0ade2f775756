//  jobctl's times as operators type them (ls --since, --until): durations and ISO 8601, and
//  the times it prints: ISO 8601 with their zone, UTC or local with TZ.
#include "jobctl_print.h"
#include "jobctl_time.h"
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

//  2026-12-03T23:30:00Z.
#define T0 1796340600000LL

static int64_t
s_duration (const char *text)
{
    int64_t ms = -1;
    char reason[256] = "";
    if (jobctl_duration_parse (text, &ms, reason, sizeof reason))
        return -1;
    return ms;
}

static void
test_durations (void **state)
{
    assert_int_equal (s_duration ("45s"), 45000);
    assert_int_equal (s_duration ("30m"), 1800000);
    assert_int_equal (s_duration ("1h"), 3600000);
    assert_int_equal (s_duration ("1h30m"), 5400000);
    assert_int_equal (s_duration ("2d"), 172800000);
    assert_int_equal (s_duration ("500ms"), 500);
    assert_int_equal (s_duration ("1m500ms"), 60500);
    assert_int_equal (s_duration ("0s"), 0);
    //  Refused: no unit, an unknown unit, units out of order or twice, signs, overflow.
    const char *bad[] = {"",
                         "10",
                         "h",
                         "1x",
                         "30m1h",
                         "1h1h",
                         "-1h",
                         "1 h",
                         "1h ",
                         "1.5h",
                         "99999999999999999999d",
                         "36600000d"};
    for (size_t index = 0; index < sizeof bad / sizeof bad[0]; index++) {
        int64_t ms;
        char reason[256] = "";
        if (jobctl_duration_parse (bad[index], &ms, reason, sizeof reason) != -1)
            fail_msg ("'%s' was read as %lld ms", bad[index], (long long)ms);
        assert_non_null (strstr (reason, "is not a duration"));
    }
}

static int64_t
s_time (const char *text, int64_t now)
{
    int64_t ms = -1;
    char reason[256] = "";
    if (jobctl_time_parse (text, now, &ms, reason, sizeof reason)) {
        assert_non_null (strstr (reason, "is not a time"));
        return -1;
    }
    return ms;
}

static void
test_times (void **state)
{
    unsetenv ("TZ");
    assert_int_equal (s_time ("1h", T0), T0 - 3600000);
    assert_int_equal (s_time ("2026-12-03", T0), T0 - 23 * 3600000LL - 1800000);
    assert_int_equal (s_time ("2026-12-03T23:30Z", 0), T0);
    assert_int_equal (s_time ("2026-12-03T23:30:00Z", 0), T0);
    assert_int_equal (s_time ("2026-12-03 23:30:00", 0), T0); //  no zone: UTC without TZ
    assert_int_equal (s_time ("2026-12-03T23:30:07.25Z", 0), T0 + 7250);
    assert_int_equal (s_time ("2026-12-04T00:30:00+01:00", 0), T0);
    assert_int_equal (s_time ("2026-12-04T00:30:00+0100", 0), T0);
    assert_int_equal (s_time ("2026-12-03T18:30:00-05", 0), T0);
    assert_int_equal (s_time ("2024-02-29", 0), 1709164800000LL);
    const char *bad[] = {"yesterday",
                         "2026-13-01",
                         "2026-02-30",
                         "2025-02-29",
                         "2026-12-03T24:00Z",
                         "2026-12-03T23:60Z",
                         "2026-12-03T23:30:61",
                         "2026-12-03Z",
                         "2026-12-3",
                         "2026-12-03T23:30+25",
                         "2026-12-03T23:30:00.",
                         "1969-12-31",
                         "2026-12-03T23:30:00Zx"};
    for (size_t index = 0; index < sizeof bad / sizeof bad[0]; index++)
        if (s_time (bad[index], T0) != -1)
            fail_msg ("'%s' was read as a time", bad[index]);
    //  With TZ, a time without a zone is local, as jobctl prints it.
    setenv ("TZ", "Europe/Paris", 1);
    tzset ();
    assert_int_equal (s_time ("2026-12-04T00:30:00", 0), T0);
    assert_int_equal (s_time ("2026-12-03T23:30:00Z", 0), T0);
    unsetenv ("TZ");
    tzset ();
}

static void
test_printed_times_have_their_zone (void **state)
{
    char text[64];
    unsetenv ("TZ");
    assert_string_equal (jobctl_format_time (T0 + 7000, text, sizeof text), "2026-12-03T23:30:07Z");
    assert_string_equal (jobctl_format_time_ms (T0 + 7042, text, sizeof text),
                         "2026-12-03T23:30:07.042Z");
    setenv ("TZ", "Europe/Paris", 1);
    tzset ();
    assert_string_equal (jobctl_format_time (T0 + 7000, text, sizeof text),
                         "2026-12-04T00:30:07+01:00");
    assert_string_equal (jobctl_format_time_ms (T0 + 7042, text, sizeof text),
                         "2026-12-04T00:30:07.042+01:00");
    setenv ("TZ", "UTC", 1);
    tzset ();
    assert_string_equal (jobctl_format_time (T0, text, sizeof text), "2026-12-03T23:30:00+00:00");
    unsetenv ("TZ");
    tzset ();
    //  What jobctl prints, it reads back.
    int64_t ms;
    assert_int_equal (
        jobctl_time_parse (jobctl_format_time_ms (T0 + 7042, text, sizeof text), 0, &ms, NULL, 0),
        0);
    assert_int_equal (ms, T0 + 7042);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test (test_durations),
                                       cmocka_unit_test (test_times),
                                       cmocka_unit_test (test_printed_times_have_their_zone)};
    return cmocka_run_group_tests (tests, NULL, NULL);
}
