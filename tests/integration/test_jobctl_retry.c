//  jobctl's view of retries against the real jobd, the retry plugin and the demo backend (every
//  demo job fails): ls and show a planned retry, watch its line, retry refused while waiting,
//  --now, a final failure, a plain retry forwarded to the plugin, --cancel, and cancel while
//  waiting. Built when plugins/retry is.
#include "harness.h"
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <signal.h>
#include <string.h>

static harness_t s_harness;
static char s_out[65536], s_err[8192];

static int
s_setup (void **state)
{
    harness_init (&s_harness, "jobctl-retry");
    char extra[1024];
    //  Two attempts, the second an hour after the first fails (no jitter): a retry stays
    //  pending for the whole test unless jobctl moves it.
    snprintf (extra, sizeof extra,
              "plugins\n"
              "    demo\n"
              "        path = %s/plugins/demo.so\n"
              "        step = 50ms\n"
              "        fail_every = 1\n"
              "    retry\n"
              "        path = %s/plugins/retry.so\n"
              "        max_attempts = 2\n"
              "        backoff_initial = 1h\n"
              "        backoff_max = 2h\n"
              "        jitter = none\n",
              harness_build_dir (), harness_build_dir ());
    harness_write_config (&s_harness, extra);
    return 0;
}

static int
s_teardown (void **state)
{
    harness_fini (&s_harness);
    return 0;
}

//  Runs jobctl COMMAND JOB [FLAG] on the harness's jobd; its output in s_out and s_err.
static int
s_jobctl (const char *command, const char *job, const char *flag)
{
    const char *args[] = {
        "--run-dir", s_harness.run_dir, "--store", s_harness.store, command, job, flag, NULL};
    return harness_run_bin ("jobctl", args, s_out, sizeof s_out, s_err, sizeof s_err);
}

static void
test_retries_through_jobctl (void **state)
{
    assert_true (harness_start (&s_harness) > 0);
    assert_true (harness_wait_ready (&s_harness, 10000));
    char binary[512];
    char *watch_argv[] = {(char *)harness_bin ("jobctl", binary, sizeof binary),
                          "--run-dir",
                          s_harness.run_dir,
                          "watch",
                          "--job",
                          "job-1",
                          NULL};
    harness_proc_t *watch = (harness_proc_t *)calloc (1, sizeof (harness_proc_t));
    assert_int_equal (harness_spawn (watch, watch_argv), 0);
    assert_true (harness_proc_wait_err (watch, "watching", 10000));
    char spec[400];
    snprintf (spec, sizeof spec, "%s/spec.json", s_harness.dir);
    FILE *file = fopen (spec, "w");
    fputs ("{\"name\": \"etl\", \"kind\": \"demo\", \"backend\": \"demo\", \"demo\": true}", file);
    fclose (file);
    assert_int_equal (s_jobctl ("submit", spec, NULL), 0);
    assert_string_equal (s_out, "job-1\n");

    //  It fails; the plugin plans attempt 2 an hour later. watch gives the due time and class.
    assert_true (harness_proc_wait_out (watch, "-> RETRY_WAIT attempt 1  retry  etl  due ", 20000));
    assert_true (harness_proc_wait_out (watch, "(in 59m", 5000));
    assert_true (harness_proc_wait_out (watch, "), class default", 5000));
    assert_int_equal (s_jobctl ("ls", NULL, NULL), 0);
    assert_non_null (strstr (s_out, "job-1 RETRY_WAIT demo"));
    assert_non_null (strstr (s_out, " etl  retry in 59m"));
    assert_non_null (strstr (s_out, "s (default): "));
    assert_int_equal (s_jobctl ("show", "job-1", NULL), 0);
    assert_non_null (strstr (s_out, "next retry:   attempt 2 at "));
    assert_non_null (strstr (s_out, "retry by:     class default, policy default\n"));
    assert_non_null (strstr (s_out, "attempts:\n  attempt 1: FAILED\n"));
    assert_non_null (strstr (s_out, "  attempt 1: FAILED\n    started:  "));
    assert_non_null (strstr (s_out, "simulated failure"));
    assert_non_null (strstr (s_out, "by retry, class default, policy default\n"
                                    "    next attempt 2 at "));

    //  Waiting: a plain retry is refused with what to do and when the next attempt starts.
    assert_int_equal (s_jobctl ("retry", "job-1", NULL), 1);
    assert_non_null (strstr (s_err, "jobctl: job-1 is RETRY_WAIT: "));
    assert_non_null (strstr (s_err, "jobctl retry --now"));
    assert_non_null (strstr (s_err, "jobctl: job-1: next attempt 2 at "));
    //  --now: attempt 2 at once; it fails too, and that was the last: failed for good.
    assert_int_equal (s_jobctl ("retry", "job-1", "--now"), 0);
    assert_non_null (strstr (s_out, "RETRY_WAIT -> QUEUED     attempt 2  jobctl  etl\n"));
    assert_true (harness_proc_wait_out (
        watch, "job-1      NO RETRY after attempt 2: 2 of 2 attempts failed", 20000));
    assert_int_equal (s_jobctl ("ls", NULL, NULL), 0);
    assert_non_null (strstr (s_out, " etl  no retry: "));
    assert_int_equal (s_jobctl ("show", "job-1", NULL), 0);
    assert_non_null (strstr (s_out, "\nno retry:     2 of 2 attempts failed\n"));
    assert_non_null (strstr (s_out, "  attempt 2: FAILED\n"));
    assert_non_null (strstr (s_out, "    no retry: 2 of 2 attempts failed\n"));

    //  A plain retry goes to the plugin, which plans it (policy manual: the limit does not bind).
    assert_int_equal (s_jobctl ("retry", "job-1", NULL), 0);
    assert_string_equal (s_out, "job-1: retry asked of the retry plugin; `jobctl show job-1` "
                                "shows when\n");
    assert_true (harness_wait_count (&s_harness, JOBD_STATE_RETRY_WAIT, 1, 10000));
    assert_int_equal (s_jobctl ("show", "job-1", NULL), 0);
    assert_non_null (strstr (s_out, "policy manual\n    next attempt 3 at "));
    //  --cancel (alias --stop): FAILED for good, and says so; a second one has nothing to stop.
    assert_int_equal (s_jobctl ("retry", "job-1", "--cancel"), 0);
    assert_non_null (strstr (s_out, "RETRY_WAIT -> FAILED     attempt 2  jobctl  etl\n"));
    assert_non_null (strstr (s_out, "job-1: no retry: retry stopped by jobctl\n"));
    assert_int_equal (s_jobctl ("retry", "job-1", "--stop"), 1);
    assert_non_null (strstr (s_err, "jobctl: job-1 is FAILED: "));
    assert_int_equal (s_jobctl ("show", "job-1", NULL), 0);
    assert_non_null (strstr (s_out, "    retry stopped: "));

    //  cancel while waiting: CANCELLED, and nothing runs it again.
    assert_int_equal (s_jobctl ("retry", "job-1", NULL), 0);
    assert_true (harness_wait_count (&s_harness, JOBD_STATE_RETRY_WAIT, 1, 10000));
    assert_int_equal (s_jobctl ("cancel", "job-1", NULL), 0);
    assert_int_equal (s_jobctl ("show", "job-1", NULL), 0);
    assert_non_null (strstr (s_out, "state:        CANCELLED\n"));
    assert_non_null (strstr (s_out, "RETRY_WAIT -> CANCELLED"));
    assert_int_equal (s_jobctl ("retry", "job-1", "--now"), 1);
    assert_non_null (strstr (s_err, "jobctl: job-1 is CANCELLED: "));
    kill (watch->pid, SIGTERM);
    harness_proc_finish (watch, 10000);
    free (watch);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test (test_retries_through_jobctl)};
    return cmocka_run_group_tests (tests, s_setup, s_teardown);
}
