//  jobctl against the real jobd and the demo plugin: submit, watch live, ls, show, cancel,
//  retry, and ls/show from the store when jobd is down.
#include "harness.h"
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <signal.h>
#include <string.h>

static harness_t s_harness;

static int
s_setup (void **state)
{
    harness_init (&s_harness, "jobctl");
    char extra[1024];
    //  Demo jobs move every 100 ms; every second one fails.
    snprintf (extra, sizeof extra,
              "plugins\n"
              "    demo\n"
              "        path = %s/plugins/demo.so\n"
              "        step = 100ms\n"
              "        fail_every = 2\n",
              harness_build_dir ());
    harness_write_config (&s_harness, extra);
    return 0;
}

static int
s_teardown (void **state)
{
    harness_fini (&s_harness);
    return 0;
}

//  Runs jobctl with the harness's endpoints and store; returns its exit code.
static int
s_jobctl (char *out, size_t out_size, char *err, size_t err_size, ...)
{
    char binary[512];
    char *argv[32] = {(char *)harness_bin ("jobctl", binary, sizeof binary), "--run-dir",
                      s_harness.run_dir, "--store", s_harness.store};
    size_t count = 5;
    va_list args;
    va_start (args, err_size);
    for (char *arg = va_arg (args, char *); arg && count < 31; arg = va_arg (args, char *))
        argv[count++] = arg;
    va_end (args);
    argv[count] = NULL;
    return harness_run (argv, out, out_size, err, err_size, 20000);
}

static void
s_write (const char *path, const char *text)
{
    FILE *file = fopen (path, "w");
    fputs (text, file);
    fclose (file);
}

static void
test_lifecycle_through_jobctl (void **state)
{
    assert_true (harness_start (&s_harness) > 0);
    assert_true (harness_wait_ready (&s_harness, 10000));
    static char out[65536], err[8192];

    //  watch runs first and says when it is connected.
    char binary[512];
    char *watch_argv[] = {(char *)harness_bin ("jobctl", binary, sizeof binary),
                          "--run-dir",
                          s_harness.run_dir,
                          "watch",
                          "--count",
                          "8",
                          NULL};
    harness_proc_t *watch = (harness_proc_t *)malloc (sizeof (harness_proc_t));
    assert_int_equal (harness_spawn (watch, watch_argv), 0);
    assert_true (harness_proc_wait_err (watch, "watching", 10000));

    //  Two demo jobs: demo-1 (job-1) succeeds, job-2 fails with a reason.
    char spec[400];
    snprintf (spec, sizeof spec, "%s/spec.json", s_harness.dir);
    //  A demo spec takes demo's own keys only (issue 13: unknown keys are refused).
    s_write (spec, "{\"name\": \"nightly-etl\", \"kind\": \"demo\", \"backend\": \"demo\", "
                   "\"demo\": true}");
    assert_int_equal (s_jobctl (out, sizeof out, err, sizeof err, "submit", spec, NULL), 0);
    assert_string_equal (out, "job-1\n");
    assert_int_equal (s_jobctl (out, sizeof out, err, sizeof err, "submit", spec, NULL), 0);
    assert_string_equal (out, "job-2\n");

    //  8 transitions: QUEUED, SUBMITTED, RUNNING and a final state for each.
    assert_int_equal (harness_proc_finish (watch, 20000), 0);
    assert_non_null (strstr (watch->out, "job-1"));
    assert_non_null (strstr (watch->out, "-> SUCCEEDED"));
    assert_non_null (strstr (watch->out, "-> FAILED"));
    assert_non_null (strstr (watch->out, "simulated failure"));
    free (watch);

    assert_int_equal (s_jobctl (out, sizeof out, err, sizeof err, "ls", NULL), 0);
    assert_non_null (strstr (out, "nightly-etl"));
    assert_int_equal (
        s_jobctl (out, sizeof out, err, sizeof err, "ls", "--state", "FAILED", "--json", NULL), 0);
    assert_non_null (strstr (out, "\"id\":\"job-2\""));
    assert_null (strstr (out, "\"id\":\"job-1\""));
    assert_int_equal (s_jobctl (out, sizeof out, err, sizeof err, "show", "job-2", NULL), 0);
    assert_non_null (strstr (out, "last error:   demo: the job exited with code 1"));
    assert_non_null (strstr (out, "RUNNING    -> FAILED"));

    //  retry: FAILED -> RETRY_WAIT -> QUEUED, attempt 2, and the demo runs it again. Without a
    //  retry plugin a plain retry is a retry --now: the two transitions, printed.
    assert_int_equal (s_jobctl (out, sizeof out, err, sizeof err, "retry", "job-2", NULL), 0);
    assert_non_null (strstr (out, "#5   FAILED     -> RETRY_WAIT attempt 1  jobctl"));
    assert_non_null (strstr (out, "#6   RETRY_WAIT -> QUEUED     attempt 2  jobctl"));
    assert_int_equal (s_jobctl (out, sizeof out, err, sizeof err, "show", "job-2", "--json", NULL),
                      0);
    assert_non_null (strstr (out, "\"attempt\":2"));
    assert_non_null (strstr (out, "\"state\":\"RETRY_WAIT\""));
    //  Retrying a job that did not fail is refused with a reason.
    assert_int_equal (s_jobctl (out, sizeof out, err, sizeof err, "retry", "job-1", NULL), 1);
    assert_non_null (strstr (err, "jobctl: job-1 is SUCCEEDED: only a FAILED, LOST or RETRY_WAIT "
                                  "job can be retried\n"));
    assert_int_equal (
        s_jobctl (out, sizeof out, err, sizeof err, "retry", "job-1", "--now", "--cancel", NULL),
        2);
    assert_int_equal (s_jobctl (out, sizeof out, err, sizeof err, "ls", "--now", NULL), 2);
    assert_string_equal (err, "jobctl: ls: unknown option '--now' (see jobctl ls --help)\n");
    assert_int_equal (s_jobctl (out, sizeof out, err, sizeof err, "retry", "job-77", NULL), 4);
    assert_int_equal (s_jobctl (out, sizeof out, err, sizeof err, "show", "job-77", NULL), 4);

    //  cancel while it runs: the demo backend carries it out. The job is tracked and seen
    //  RUNNING, so the demo backend does not move it on by itself: only its kill can end it,
    //  however slow the machine.
    assert_int_equal (s_jobctl (out, sizeof out, err, sizeof err, "track", "demo-ext-3", "--kind",
                                "demo", "--backend", "demo", NULL),
                      0);
    assert_string_equal (out, "job-3\n");
    assert_int_equal (
        s_jobctl (out, sizeof out, err, sizeof err, "observe", "job-3", "RUNNING", NULL), 0);
    assert_int_equal (s_jobctl (out, sizeof out, err, sizeof err, "cancel", "job-3", NULL), 0);
    assert_true (harness_wait_count (&s_harness, JOBD_STATE_CANCELLED, 1, 10000));

    assert_int_equal (s_jobctl (out, sizeof out, err, sizeof err, "stats", "--json", NULL), 0);
    assert_non_null (strstr (out, "\"CANCELLED\":1"));
    //  plugins --json shows each plugin's last figures (the demo reports its first at start).
    int64_t deadline = zclock_mono () + 10000;
    do
        assert_int_equal (s_jobctl (out, sizeof out, err, sizeof err, "plugins", "--json", NULL),
                          0);
    while (!strstr (out, "\"figures\"") && zclock_mono () < deadline);
    assert_non_null (strstr (out, "[\"demo_observations_total\","));

    //  cancel stops a pending retry: RETRY_WAIT -> CANCELLED, and then nothing retries it.
    assert_int_equal (s_jobctl (out, sizeof out, err, sizeof err, "track", "demo-ext-4", "--kind",
                                "demo", "--backend", "demo", NULL),
                      0);
    assert_string_equal (out, "job-4\n");
    const char *states[] = {"RUNNING", "FAILED", "RETRY_WAIT"};
    for (size_t index = 0; index < 3; index++)
        assert_int_equal (
            s_jobctl (out, sizeof out, err, sizeof err, "observe", "job-4", states[index], NULL),
            0);
    assert_int_equal (
        s_jobctl (out, sizeof out, err, sizeof err, "ls", "--state", "RETRY_WAIT", NULL), 0);
    assert_non_null (strstr (out, "job-4 RETRY_WAIT"));
    assert_int_equal (s_jobctl (out, sizeof out, err, sizeof err, "cancel", "job-4", NULL), 0);
    assert_int_equal (s_jobctl (out, sizeof out, err, sizeof err, "show", "job-4", NULL), 0);
    assert_non_null (strstr (out, "state:        CANCELLED"));
    assert_non_null (strstr (out, "RETRY_WAIT -> CANCELLED"));
    assert_int_equal (s_jobctl (out, sizeof out, err, sizeof err, "retry", "job-4", NULL), 1);
    assert_non_null (strstr (err, "job-4 is CANCELLED: only a FAILED"));

    //  jobd down: ls and show read the store.
    assert_int_equal (harness_stop (&s_harness, SIGTERM, 10000), 0);
    assert_int_equal (s_jobctl (out, sizeof out, err, sizeof err, "ls", NULL), 0);
    assert_non_null (strstr (err, "reading the store"));
    assert_non_null (strstr (out, "job-3"));
    assert_int_equal (s_jobctl (out, sizeof out, err, sizeof err, "show", "job-1", NULL), 0);
    assert_non_null (strstr (out, "state:        SUCCEEDED"));
    //  Commands that need jobd say so and exit 3.
    assert_int_equal (s_jobctl (out, sizeof out, err, sizeof err, "cancel", "job-1", NULL), 3);
    assert_non_null (strstr (err, "jobd is not running"));
}

int
main (void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test (test_lifecycle_through_jobctl)};
    return cmocka_run_group_tests (tests, s_setup, s_teardown);
}
