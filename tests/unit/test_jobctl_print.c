//  jobctl's output: causes and links in watch, ls and show; and its JSON output: a record an older
//  jobd stored with bytes that are not UTF-8 is still written, whole (the bytes as U+FFFD), and an
//  output that cannot be written is an error.
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

//  Reads what print wrote into file back into out.
static void
s_read_back (FILE *file, char *out, size_t size)
{
    rewind (file);
    size_t used = fread (out, 1, size - 1, file);
    out[used] = 0;
    fclose (file);
}

//  watch prints a transition's one-line cause (an older jobd's: its error's first line); ls the
//  cause at the row's end; show the cause, the whole error and the links.
static void
test_causes_and_links (void **state)
{
    char out[4096];
    jobd_event_t *event = jobd_event_new (JOBD_EVENT_TRANSITION);
    jobd_event_set (&event->source, "spark-poller");
    jobd_event_set (&event->job, "job-7");
    jobd_event_set (&event->error, "Exception from the cluster:\nSparkException: x\n\tat a.b(C:1)");
    jobd_event_set (&event->cause, "SparkException: x");
    event->state = JOBD_STATE_FAILED;
    event->from = JOBD_STATE_RUNNING;
    event->seq = 3;
    FILE *file = tmpfile ();
    jobctl_print_transition (file, event);
    s_read_back (file, out, sizeof out);
    assert_non_null (strstr (out, "  cause: SparkException: x\n"));
    assert_null (strstr (out, "Exception from the cluster"));
    jobd_event_set (&event->cause, NULL);
    file = tmpfile ();
    jobctl_print_transition (file, event);
    s_read_back (file, out, sizeof out);
    assert_non_null (strstr (out, "  error: Exception from the cluster: [...]\n"));
    jobd_event_destroy (&event);

    jobd_job_t *job = jobd_job_new ();
    jobd_event_set (&job->id, "job-7");
    jobd_event_set (&job->kind, "spark");
    jobd_event_set (&job->name, "nightly");
    jobd_event_set (&job->error,
                    "stdout: \n\nstderr: \nException in thread main SparkException: x");
    jobd_event_set (&job->cause, "SparkException: x");
    jobd_event_set (&job->app_id, "application_1_0007");
    jobd_event_set (&job->app_url, "http://rm:8088/proxy/application_1_0007/");
    jobd_event_set (&job->log_url, "http://nm:8042/node/containerlogs/c_7/alice");
    job->state = JOBD_STATE_FAILED;
    file = tmpfile ();
    jobctl_print_job_header (file);
    jobctl_print_job_row (file, job);
    s_read_back (file, out, sizeof out);
    assert_non_null (strstr (out, "NAME             CAUSE\n"));
    assert_non_null (strstr (out, " nightly          SparkException: x\n"));
    file = tmpfile ();
    jobctl_print_job (file, job);
    s_read_back (file, out, sizeof out);
    assert_non_null (strstr (out, "cause:        SparkException: x\n"));
    assert_non_null (strstr (out, "last error:   stdout: \n\nstderr: \nException in thread main"));
    assert_non_null (strstr (out, "app id:       application_1_0007\n"));
    assert_non_null (strstr (out, "app UI:       http://rm:8088/proxy/application_1_0007/\n"));
    assert_non_null (strstr (out, "driver log:   http://nm:8042/node/containerlogs/c_7/alice\n"));
    //  Retried and running again: the old cause is no longer the row's; nor with no cause.
    job->state = JOBD_STATE_RUNNING;
    file = tmpfile ();
    jobctl_print_job_row (file, job);
    s_read_back (file, out, sizeof out);
    assert_non_null (strstr (out, " nightly\n"));
    job->state = JOBD_STATE_FAILED;
    jobd_event_set (&job->cause, NULL);
    file = tmpfile ();
    jobctl_print_job_row (file, job);
    s_read_back (file, out, sizeof out);
    assert_non_null (strstr (out, " nightly\n"));
    jobd_job_destroy (&job);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test (test_old_records_are_written_whole),
                                       cmocka_unit_test (test_ls_shows_freshness_and_stale),
                                       cmocka_unit_test (test_causes_and_links)};
    return cmocka_run_group_tests (tests, NULL, NULL);
}
