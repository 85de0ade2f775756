//  jobctl's output: causes and links in watch, ls and show; and its JSON output: a record an older
//  jobd stored with bytes that are not UTF-8 is still written, whole (the bytes as U+FFFD), and an
//  output that cannot be written is an error.
#include "jobctl_jobs.h"
#include "jobctl_print.h"
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

//  ls's table of one job (no width limit, no colour); wide adds FRESH, STALE, ...
static void
s_row (FILE *file, const jobd_job_t *job, bool wide)
{
    jobd_job_t *jobs[] = {(jobd_job_t *)job};
    assert_int_equal (jobctl_jobs_table (file, jobs, 1, wide, jobd_now_ms (), 0, false), 0);
}

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
    s_row (file, job, true);
    s_row (file, job, false);
    jobctl_print_job (file, job);
    fclose (file);
    assert_non_null (strstr (text, "FRESH NAME CAUSE"));
    assert_non_null (strstr (text, "    5s -    stale\n"));
    //  Without -o wide too, the flag leads the cause.
    assert_non_null (strstr (text, " -    stale\n"));
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
    s_row (file, job, false);
    s_read_back (file, out, sizeof out);
    assert_non_null (strstr (out, "NAME    CAUSE\n"));
    assert_non_null (strstr (out, " nightly SparkException: x\n"));
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
    s_row (file, job, false);
    s_read_back (file, out, sizeof out);
    assert_non_null (strstr (out, " nightly -\n"));
    job->state = JOBD_STATE_FAILED;
    jobd_event_set (&job->cause, NULL);
    file = tmpfile ();
    s_row (file, job, false);
    s_read_back (file, out, sizeof out);
    assert_non_null (strstr (out, " nightly -\n"));
    jobd_job_destroy (&job);
}

//  Retries: 2026-12-03T23:30:00Z, and the seconds after it.
#define T0 1796340600000LL

//  A transition of job-9 in a synthetic history.
static jobd_event_t *
s_transition (uint64_t seq, uint32_t attempt, jobd_state_t from, jobd_state_t to, int64_t ts,
              const char *source)
{
    jobd_event_t *event = jobd_event_new (JOBD_EVENT_TRANSITION);
    jobd_event_set (&event->job, "job-9");
    jobd_event_set (&event->source, source);
    event->seq = seq;
    event->attempt = attempt;
    event->from = from;
    event->state = to;
    event->ts = ts;
    return event;
}

//  A spark job record, job-9, in state.
static jobd_job_t *
s_job (jobd_state_t state, uint32_t attempt)
{
    jobd_job_t *job = jobd_job_new ();
    jobd_event_set (&job->id, "job-9");
    jobd_event_set (&job->kind, "spark");
    job->state = state;
    job->attempt = attempt;
    return job;
}

//  Times are ISO 8601 UTC, with a two-unit countdown; table columns keep one unit.
static void
test_retry_times (void **state)
{
    char text[64];
    assert_string_equal (jobctl_format_time (T0 + 67000, text, sizeof text),
                         "2026-12-03T23:31:07Z");
    assert_string_equal (jobctl_format_time_ms (T0 + 67042, text, sizeof text),
                         "2026-12-03T23:31:07.042Z");
    assert_string_equal (jobctl_format_time (0, text, sizeof text), "-");
    assert_string_equal (jobctl_format_countdown (T0 + 100000, T0, text, sizeof text), "in 1m40s");
    assert_string_equal (jobctl_format_countdown (T0 + 120000, T0, text, sizeof text), "in 2m");
    assert_string_equal (jobctl_format_countdown (T0, T0 + 7500000, text, sizeof text), "2h5m ago");
    assert_string_equal (jobctl_format_countdown (T0 + 400, T0, text, sizeof text), "now");
    assert_string_equal (jobctl_format_span (90061000, text, sizeof text), "1d1h");
    assert_string_equal (jobctl_format_age (T0, T0 + 100000, text, sizeof text), "1m");
}

//  Reads what print wrote into a buffer back into out.
static void
s_read_text (FILE *file, char *out, size_t size)
{
    s_read_back (file, out, size);
    assert_true (strlen (out) < size - 1); //  not cut
}

//  How many times text holds what.
static size_t
s_count (const char *text, const char *what)
{
    size_t count = 0;
    for (const char *at = strstr (text, what); at; at = strstr (at + 1, what))
        count++;
    return count;
}

//  show: one block per attempt (its start, end, end state, cause, the retry planned after it)
//  and the current attempt's next retry.
static void
test_attempts_and_next_retry (void **state)
{
    jobd_event_t *history[9];
    history[0] = s_transition (1, 1, JOBD_STATE_NONE, JOBD_STATE_QUEUED, T0, "jobctl");
    history[1] = s_transition (2, 1, JOBD_STATE_QUEUED, JOBD_STATE_RUNNING, T0 + 5000, "spark");
    history[2] = s_transition (3, 1, JOBD_STATE_RUNNING, JOBD_STATE_FAILED, T0 + 75000, "spark");
    jobd_event_set (&history[2]->error, "Job aborted\njava.lang.OutOfMemoryError: Java heap");
    jobd_event_set (&history[2]->cause, "java.lang.OutOfMemoryError: Java heap space");
    history[3] = s_transition (4, 1, JOBD_STATE_FAILED, JOBD_STATE_RETRY_WAIT, T0 + 75100, "retry");
    history[3]->due = T0 + 105000;
    jobd_event_set (&history[3]->failure_class, "oom");
    jobd_event_set (&history[3]->policy, "kind spark");
    jobd_event_set (&history[3]->change, "spark.executor.memory 4g -> 6g");
    history[4] =
        s_transition (5, 2, JOBD_STATE_RETRY_WAIT, JOBD_STATE_QUEUED, T0 + 105200, "retry");
    history[5] = s_transition (6, 2, JOBD_STATE_QUEUED, JOBD_STATE_RUNNING, T0 + 110000, "spark");
    history[6] = s_transition (7, 2, JOBD_STATE_RUNNING, JOBD_STATE_FAILED, T0 + 200000, "spark");
    jobd_event_set (&history[6]->error, "Connection refused\n\tat x.y(Z:1)");
    history[7] =
        s_transition (8, 2, JOBD_STATE_FAILED, JOBD_STATE_RETRY_WAIT, T0 + 200100, "retry");
    history[7]->due = T0 + 300100;
    jobd_event_set (&history[7]->failure_class, "transient");
    jobd_event_set (&history[7]->policy, "default");
    jobd_job_t *job = s_job (JOBD_STATE_RETRY_WAIT, 2);
    job->retry_at = T0 + 300100;
    char out[8192];
    FILE *file = tmpfile ();
    jobctl_print_attempts (file, job, history, 8, T0 + 200100);
    s_read_text (file, out, sizeof out);
    assert_non_null (strstr (out, "attempts:\n"
                                  "  attempt 1: FAILED\n"
                                  "    started:  2026-12-03T23:30:00Z\n"
                                  "    ended:    2026-12-03T23:31:15Z, after 1m15s\n"
                                  "    cause:    java.lang.OutOfMemoryError: Java heap space\n"
                                  "    retry:    planned 2026-12-03T23:31:15Z by retry, class oom, "
                                  "policy kind spark\n"
                                  "    change:   spark.executor.memory 4g -> 6g\n"
                                  "    due:      attempt 2 at 2026-12-03T23:31:45Z\n"
                                  "  attempt 2: FAILED\n"
                                  "    started:  2026-12-03T23:31:45Z\n"));
    //  No cause: the error's first line. The next retry counts down from now.
    assert_non_null (strstr (out, "    cause:    Connection refused\n"));
    assert_null (strstr (out, "x.y(Z:1)"));
    assert_non_null (strstr (out, "class transient, policy default\n"
                                  "    next attempt 3 at 2026-12-03T23:35:00Z, in 1m40s\n"));
    assert_null (strstr (out, "no retry"));
    //  The record says the same, in show's head.
    job->retry_at = jobd_now_ms () + 100900;
    jobd_event_set (&job->retry_class, "transient");
    jobd_event_set (&job->retry_policy, "default");
    file = tmpfile ();
    jobctl_print_job (file, job);
    s_read_text (file, out, sizeof out);
    assert_non_null (strstr (out, "next retry:   attempt 3 at "));
    assert_non_null (strstr (out, "Z, in 1m40s\n"
                                  "retry by:     class transient, policy default\n"));
    //  Still running, its retry stopped, its first transition not from this jobd: no attempt.
    history[8] =
        s_transition (9, 2, JOBD_STATE_RETRY_WAIT, JOBD_STATE_FAILED, T0 + 250000, "jobctl");
    job->state = JOBD_STATE_FAILED;
    job->retry_at = 0;
    jobd_event_set (&job->retry_final, "retry stopped by jobctl");
    history[5]->attempt = 0; //  written without one: the attempt before's
    file = tmpfile ();
    jobctl_print_attempts (file, job, history, 9, T0 + 260000);
    s_read_text (file, out, sizeof out);
    assert_int_equal (s_count (out, "\n  attempt "), 2);
    assert_int_equal (s_count (out, "no retry"), 1); //  the current attempt's only
    assert_null (strstr (out, "next attempt"));
    assert_non_null (strstr (out, "    retry stopped: 2026-12-03T23:34:10Z by jobctl (FAILED)\n"
                                  "    no retry: retry stopped by jobctl\n"));
    history[0]->attempt = 0;
    job->state = JOBD_STATE_RUNNING;
    file = tmpfile ();
    jobctl_print_attempts (file, job, history, 2, T0 + 260000);
    s_read_text (file, out, sizeof out);
    assert_string_equal (out, "attempts:\n"
                              "  attempt 1: RUNNING (now)\n"
                              "    started:  2026-12-03T23:30:00Z\n"
                              "    no retry: retry stopped by jobctl\n");
    for (size_t index = 0; index < 9; index++)
        jobd_event_destroy (&history[index]);
    jobd_job_destroy (&job);
}

//  A job that failed for good says why, in show and ls; ls tells it from one still being
//  decided, and gives a RETRY_WAIT job's countdown and class.
static void
test_final_and_ls_retry_column (void **state)
{
    jobd_job_t *job = s_job (JOBD_STATE_FAILED, 3);
    jobd_event_set (&job->name, "nightly");
    jobd_event_set (&job->cause, "AnalysisException: no table t");
    char out[4096];
    FILE *file = tmpfile ();
    s_row (file, job, false);
    jobd_event_set (&job->retry_final, "3 of 3 attempts failed");
    s_row (file, job, false);
    jobctl_print_job (file, job);
    jobd_event_t *only = s_transition (1, 3, JOBD_STATE_RUNNING, JOBD_STATE_FAILED, T0, "spark");
    jobctl_print_attempts (file, job, &only, 1, T0);
    s_read_text (file, out, sizeof out);
    assert_non_null (strstr (out, " nightly AnalysisException: no table t\n"));
    assert_non_null (strstr (out, " nightly no retry: AnalysisException: no table t\n"));
    assert_non_null (strstr (out, "\nno retry:     3 of 3 attempts failed\n"));
    assert_non_null (strstr (out, "  attempt 3: FAILED\n"));
    assert_non_null (strstr (out, "    no retry: 3 of 3 attempts failed\n"));
    //  Without a cause, the final reason itself.
    jobd_event_set (&job->cause, NULL);
    file = tmpfile ();
    s_row (file, job, false);
    s_read_text (file, out, sizeof out);
    assert_non_null (strstr (out, " nightly no retry: 3 of 3 attempts failed\n"));
    //  RETRY_WAIT: the countdown and class first; due already (jobd was down): how late.
    job->state = JOBD_STATE_RETRY_WAIT;
    jobd_event_set (&job->retry_final, NULL);
    jobd_event_set (&job->cause, "OutOfMemoryError");
    jobd_event_set (&job->retry_class, "oom");
    job->retry_at = jobd_now_ms () + 100900;
    file = tmpfile ();
    s_row (file, job, false);
    job->retry_at = jobd_now_ms () - 5000;
    s_row (file, job, false);
    s_read_text (file, out, sizeof out);
    assert_non_null (strstr (out, "TRY AGE DURATION NAME    CAUSE\n"));
    assert_non_null (strstr (out, " nightly retry in 1m40s (oom): OutOfMemoryError\n"));
    assert_non_null (strstr (out, " nightly retry due 5s ago (oom): OutOfMemoryError\n"));
    jobd_event_destroy (&only);
    jobd_job_destroy (&job);
}

//  watch: a RETRY_WAIT transition's line gives its due time and class; a final failure
//  (retry.final) its own line.
static void
test_watch_retry_lines (void **state)
{
    jobd_event_t *event =
        s_transition (4, 1, JOBD_STATE_FAILED, JOBD_STATE_RETRY_WAIT, T0 + 75042, "retry");
    event->due = jobd_now_ms () + 100900;
    jobd_event_set (&event->failure_class, "oom");
    jobd_event_set (&event->cause, "OutOfMemoryError");
    char out[4096];
    FILE *file = tmpfile ();
    jobctl_print_transition (file, event);
    jobd_event_t *final = jobd_event_new (JOBD_EVENT_RETRY_PLAN);
    jobd_event_set (&final->job, "job-9");
    jobd_event_set (&final->source, "retry");
    jobd_event_set (&final->error, "3 of 3 attempts failed");
    final->state = JOBD_STATE_FAILED;
    final->attempt = 3;
    final->ts = T0;
    jobctl_print_retry_final (file, final);
    s_read_text (file, out, sizeof out);
    assert_non_null (strstr (out, "2026-12-03T23:31:15.042Z  job-9      #4   FAILED     -> "
                                  "RETRY_WAIT attempt 1  retry  due 2026-"));
    assert_non_null (strstr (out, "Z (in 1m40s), class oom  cause: OutOfMemoryError\n"));
    assert_non_null (strstr (out, "2026-12-03T23:30:00.000Z  job-9      NO RETRY after attempt 3: "
                                  "3 of 3 attempts failed  retry\n"));
    //  In a history, without the countdown: the wait may have been skipped since.
    file = tmpfile ();
    jobctl_print_history (file, &event, 1);
    s_read_text (file, out, sizeof out);
    assert_non_null (strstr (out, "RETRY_WAIT attempt 1  retry  due 2026-"));
    assert_non_null (strstr (out, "Z, class oom  cause: OutOfMemoryError\n"));
    jobd_event_destroy (&final);
    jobd_event_destroy (&event);
}

//  jobctl retry's answer: forwarded to the retry plugin, the transitions it made, or (ESTATE)
//  the state that refused it.
static void
test_retry_answers (void **state)
{
    jobd_event_t *history[3];
    history[0] = s_transition (3, 1, JOBD_STATE_RUNNING, JOBD_STATE_FAILED, T0, "spark");
    history[1] = s_transition (4, 1, JOBD_STATE_FAILED, JOBD_STATE_RETRY_WAIT, T0 + 10, "jobctl");
    history[2] = s_transition (5, 2, JOBD_STATE_RETRY_WAIT, JOBD_STATE_QUEUED, T0 + 10, "jobctl");
    char out[4096];
    FILE *file = tmpfile ();
    jobctl_print_retry_outcome (file, "job-9", "forwarded", history, 3, 3);
    jobctl_print_retry_outcome (file, "job-9", "changed", history, 3, 3);
    jobctl_print_retry_outcome (file, "job-9", "duplicate", history, 3, 3);
    //  Refused: jobd's reason (an older jobd's says only what ESTATE means), with the state.
    jobd_job_t *job = s_job (JOBD_STATE_RUNNING, 1);
    jobctl_print_retry_refused (file, job, "not allowed in the job's current state", false, T0);
    job->state = JOBD_STATE_FAILED;
    jobctl_print_retry_refused (file, job, "", true, T0);
    job->state = JOBD_STATE_RETRY_WAIT;
    job->retry_at = T0 + 100000;
    jobctl_print_retry_refused (file, job, "the job waits in RETRY_WAIT", false, T0);
    s_read_text (file, out, sizeof out);
    assert_non_null (strstr (out, "job-9: retry asked of the retry plugin; `jobctl show job-9` "
                                  "shows when\n"));
    assert_null (strstr (out, "RUNNING    -> FAILED"));
    assert_non_null (strstr (out, "FAILED     -> RETRY_WAIT attempt 1  jobctl\n"));
    assert_non_null (strstr (out, "RETRY_WAIT -> QUEUED     attempt 2  jobctl\n"));
    assert_non_null (strstr (out, "job-9: nothing to do (duplicate)\n"));
    assert_non_null (strstr (out, "jobctl: job-9 is RUNNING: only a FAILED, LOST or RETRY_WAIT "
                                  "job can be retried\n"));
    assert_non_null (strstr (out, "jobctl: job-9 is FAILED: only a RETRY_WAIT job has a pending "
                                  "retry to cancel\n"));
    assert_non_null (strstr (out, "jobctl: job-9 is RETRY_WAIT: the job waits in RETRY_WAIT\n"
                                  "jobctl: job-9: next attempt 2 at 2026-12-03T23:31:40Z, in "
                                  "1m40s\n"));
    jobd_job_destroy (&job);
    for (size_t index = 0; index < 3; index++)
        jobd_event_destroy (&history[index]);
}

//  --json carries the retry fields of records and transitions, as on the wire.
static void
test_retry_fields_in_json (void **state)
{
    jobd_job_t *job = s_job (JOBD_STATE_RETRY_WAIT, 1);
    job->retry_at = T0;
    jobd_event_set (&job->retry_class, "oom");
    jobd_event_set (&job->retry_policy, "default");
    jobd_event_set (&job->retry_final, "never");
    json_t *json = jobctl_json_from_job (job);
    assert_int_equal (json_integer_value (json_object_get (json, "retry_at")), T0);
    assert_string_equal (json_string_value (json_object_get (json, "retry_class")), "oom");
    assert_string_equal (json_string_value (json_object_get (json, "retry_policy")), "default");
    assert_string_equal (json_string_value (json_object_get (json, "retry_final")), "never");
    json_decref (json);
    jobd_event_t *event =
        s_transition (4, 1, JOBD_STATE_FAILED, JOBD_STATE_RETRY_WAIT, T0, "retry");
    event->due = T0 + 1000;
    jobd_event_set (&event->failure_class, "oom");
    jobd_event_set (&event->policy, "spec");
    jobd_event_set (&event->change, "spark.executor.memory 4g -> 6g");
    json = jobctl_json_from_event (event);
    assert_int_equal (json_integer_value (json_object_get (json, "due")), T0 + 1000);
    assert_string_equal (json_string_value (json_object_get (json, "class")), "oom");
    assert_string_equal (json_string_value (json_object_get (json, "policy")), "spec");
    assert_string_equal (json_string_value (json_object_get (json, "change")),
                         "spark.executor.memory 4g -> 6g");
    json_decref (json);
    jobd_event_destroy (&event);
    jobd_job_destroy (&job);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test (test_old_records_are_written_whole),
                                       cmocka_unit_test (test_ls_shows_freshness_and_stale),
                                       cmocka_unit_test (test_causes_and_links),
                                       cmocka_unit_test (test_retry_times),
                                       cmocka_unit_test (test_attempts_and_next_retry),
                                       cmocka_unit_test (test_final_and_ls_retry_column),
                                       cmocka_unit_test (test_watch_retry_lines),
                                       cmocka_unit_test (test_retry_answers),
                                       cmocka_unit_test (test_retry_fields_in_json)};
    return cmocka_run_group_tests (tests, NULL, NULL);
}
