//  jobctl's JSON output: a record an older jobd stored with bytes that are not UTF-8 is still
//  written, whole (the bytes as U+FFFD), and an output that cannot be written is an error.
#include "jobctl_print.h"
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

static void
test_old_records_are_written_whole (void **state)
{
    jobd_job_t *job = jobd_job_new ();
    jobd_event_set (&job->id, "job-1");
    jobd_event_set (&job->kind, "kafka");
    jobd_event_set (&job->name, "caf\xe9");
    jobd_event_set (&job->ext, "\xff\xfe");
    jobd_event_set (&job->error, "boom \xc3");
    job->state = JOBD_STATE_FAILED;
    json_t *json = jobctl_json_from_job (job);
    assert_non_null (json);
    assert_string_equal (json_string_value (json_object_get (json, "name")), "caf\xef\xbf\xbd");
    assert_string_equal (json_string_value (json_object_get (json, "ext")),
                         "\xef\xbf\xbd\xef\xbf\xbd");
    assert_string_equal (json_string_value (json_object_get (json, "error")), "boom \xef\xbf\xbd");
    FILE *file = tmpfile ();
    assert_int_equal (jobctl_print_json (file, json), 0);
    rewind (file);
    char line[1024] = "";
    assert_non_null (fgets (line, sizeof line, file));
    assert_non_null (strstr (line, "\"name\":\"caf\\uFFFD\""));
    assert_non_null (strstr (line, "\"error\":\"boom \\uFFFD\""));
    fclose (file);
    //  A transition from the same store.
    jobd_event_t *event = jobd_event_new (JOBD_EVENT_TRANSITION);
    jobd_event_set (&event->source, "kafka-listener");
    jobd_event_set (&event->job, "job-1");
    jobd_event_set (&event->name, "caf\xe9");
    event->state = JOBD_STATE_FAILED;
    event->seq = 1;
    json_t *transition = jobctl_json_from_event (event);
    assert_string_equal (json_string_value (json_object_get (transition, "name")),
                         "caf\xef\xbf\xbd");
    json_decref (transition);
    jobd_event_destroy (&event);
    //  Output that cannot be written, or nothing to write: an error, said on stderr.
    FILE *full = fopen ("/dev/full", "w");
    assert_non_null (full);
    assert_int_equal (jobctl_print_json (full, json), -1);
    fclose (full);
    assert_int_equal (jobctl_print_json (stdout, NULL), -1);
    json_decref (json);
    jobd_job_destroy (&job);
}

//  `ls` shows freshness as an age and a stale job flagged in its column; `show` says both.
static void
test_ls_shows_freshness_and_stale (void **state)
{
    char age[16];
    int64_t now = 1000000000;
    assert_string_equal (jobctl_format_age (0, now, age, sizeof age), "-");
    assert_string_equal (jobctl_format_age (now - 45000, now, age, sizeof age), "45s");
    assert_string_equal (jobctl_format_age (now - 12 * 60000, now, age, sizeof age), "12m");
    assert_string_equal (jobctl_format_age (now - 3 * 3600000LL, now, age, sizeof age), "3h");
    assert_string_equal (jobctl_format_age (now + 500, now, age, sizeof age), "0s");
    jobd_job_t *job = jobd_job_new ();
    jobd_event_set (&job->id, "job-7");
    jobd_event_set (&job->kind, "spark");
    jobd_event_set (&job->stale, "QUEUED for more than 2m0s: past its deadline");
    job->state = JOBD_STATE_QUEUED;
    job->confirmed_at = jobd_now_ms () - 5000;
    char text[4096] = "";
    FILE *file = fmemopen (text, sizeof text, "w");
    jobctl_print_job_header (file);
    jobctl_print_job_row (file, job);
    jobctl_print_job (file, job);
    fclose (file);
    assert_non_null (strstr (text, "FRESH STALE NAME"));
    assert_non_null (strstr (text, " 5s    stale "));
    assert_non_null (strstr (text, "stale:        since"));
    assert_non_null (strstr (text, "past its deadline"));
    jobd_job_destroy (&job);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test (test_old_records_are_written_whole),
                                       cmocka_unit_test (test_ls_shows_freshness_and_stale)};
    return cmocka_run_group_tests (tests, NULL, NULL);
}
