//  A submission is checked before it is stored (issue 13): jobctl submit of a kind nobody takes,
//  of a kind whose plugin failed to start, and of each spec error exits 1 with the reason on
//  stderr, and nothing is stored; the example specs in the repository are accepted.
#include "harness.h"
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

static harness_t s_harness;

//  demo and spark-poller (its backends need not answer: a check does no I/O). retries: the
//  spark-poller's cancel_retries, where 500 makes its init fail.
static void
s_config (int retries)
{
    char extra[2048];
    snprintf (extra, sizeof extra,
              "plugins\n"
              "    demo\n"
              "        path = %s/plugins/demo.so\n"
              "    spark-poller\n"
              "        path = %s/plugins/spark-poller.so\n"
              "        cancel_retries = %d\n"
              "        backend\n"
              "            livy\n"
              "                type = livy\n"
              "                url = http://127.0.0.1:9\n"
              "            standalone\n"
              "                type = standalone\n"
              "                url = http://127.0.0.1:9\n"
              "            rm\n"
              "                type = yarn\n"
              "                url = http://127.0.0.1:9\n",
              harness_build_dir (), harness_build_dir (), retries);
    harness_write_config (&s_harness, extra);
}

static int
s_setup (void **state)
{
    harness_init (&s_harness, "submit-check");
    return 0;
}

static int
s_teardown (void **state)
{
    harness_fini (&s_harness);
    return 0;
}

//  Waits until jobd's plugin table shows plugin with status (the loader tells the broker its
//  plugins, then that it knows them all: a check holds from then on).
static void
s_wait_plugin (const char *plugin, const char *wanted)
{
    char status[64] = "";
    int64_t deadline = zclock_mono () + 10000;
    while (zclock_mono () < deadline) {
        if (harness_plugin (&s_harness, plugin, status, sizeof status, NULL, 0) == 0 &&
            (strcmp (status, wanted) == 0 ||
             (strcmp (wanted, "running") == 0 && strcmp (status, "degraded") == 0)))
            return;
        zclock_sleep (20); //  polling a query: no event says a plugin started
    }
    fail_msg ("plugin %s is '%s', not %s", plugin, status, wanted);
}

//  Submits the spec file at path with jobctl; returns its exit code, stdout in out, stderr in err.
static int
s_submit_file (const char *path, char *out, size_t out_size, char *err, size_t err_size)
{
    const char *args[] = {"--run-dir", s_harness.run_dir, "submit", path, NULL};
    return harness_run_bin ("jobctl", args, out, out_size, err, err_size);
}

//  Submits spec (a JSON text) with jobctl; returns its exit code, stderr in err.
static int
s_submit (const char *spec, char *out, size_t out_size, char *err, size_t err_size)
{
    char path[400];
    snprintf (path, sizeof path, "%s/spec.json", s_harness.dir);
    FILE *file = fopen (path, "w");
    assert_non_null (file);
    fputs (spec, file);
    fclose (file);
    return s_submit_file (path, out, out_size, err, err_size);
}

//  Each submission is refused: exit 1, words in the reason on stderr.
static void
s_refused (const char *spec, const char *words)
{
    char out[1024] = "", err[2048] = "";
    int code = s_submit (spec, out, sizeof out, err, sizeof err);
    if (code != 1 || !strstr (err, words) || out[0])
        fail_msg ("%s: exit %d, out '%s', err '%s' (wanted '%s')", spec, code, out, err, words);
}

//  Nothing was stored: jobctl ls lists no job, and stats count none.
static void
s_nothing_stored (void)
{
    char out[4096] = "";
    const char *args[] = {"--run-dir", s_harness.run_dir, "ls", NULL};
    assert_int_equal (harness_run_bin ("jobctl", args, out, sizeof out, NULL, 0), 0);
    if (strstr (out, "job-"))
        fail_msg ("jobs were stored: %s", out);
    assert_int_equal (harness_count (&s_harness, JOBD_STATE_QUEUED), 0);
}

static void
test_refused_before_stored (void **state)
{
    s_config (3);
    assert_true (harness_start (&s_harness) > 0);
    assert_true (harness_wait_ready (&s_harness, 10000));
    s_wait_plugin ("demo", "running");
    s_wait_plugin ("spark-poller", "running");

    //  Kinds nobody takes: named, with the kinds that are taken.
    s_refused ("{\"kind\":\"flink\",\"name\":\"f\"}",
               "no running plugin takes jobs of kind 'flink'; kinds taken: demo, spark");
    s_refused ("{\"kind\":\"kafka\",\"name\":\"k\"}", "kind 'kafka'");
    //  The backend: missing, unknown, one that only follows jobs.
    s_refused ("{\"name\":\"x\"}", "no backend given (key 'backend'); backends that take "
                                   "submissions: livy, standalone");
    s_refused ("{\"backend\":\"nope\",\"file\":\"a.jar\"}", "no backend named 'nope'");
    s_refused ("{\"backend\":\"rm\",\"file\":\"a.jar\"}", "backend 'rm' (yarn) follows jobs only");
    //  Each spec error, with the key it is about.
    const struct {
        const char *spec, *words;
    } cases[] = {
        {"{\"backend\":\"livy\"}", "no 'file'"},
        {"{\"backend\":\"livy\",\"file\":\"a.jar\",\"driverMemroy\":\"2g\"}",
         "unknown key 'driverMemroy'"},
        {"{\"backend\":\"livy\",\"file\":[\"a.jar\"]}", "'file' must be a string"},
        {"{\"backend\":\"livy\",\"file\":\"a.jar\",\"numExecutors\":\"4\"}",
         "'numExecutors' must be an integer"},
        {"{\"backend\":\"livy\",\"file\":\"a.jar\",\"args\":\"--date x\"}",
         "'args' must be an array of strings"},
        {"{\"backend\":\"livy\",\"file\":\"a.jar\",\"conf\":{\"spark.a\":[1]}}",
         "'conf': 'spark.a' must be a string"},
        {"{\"backend\":\"livy\",\"file\":\"a.jar\",\"environmentVariables\":{}}",
         "'environmentVariables' is not taken by a livy backend"},
        {"{\"backend\":\"standalone\",\"file\":\"a.jar\",\"proxyUser\":\"bob\"}",
         "'proxyUser' is not taken by a standalone backend"},
        {"{\"backend\":\"standalone\",\"file\":\"a.jar\",\"appResource\":\"b.jar\"}",
         "give 'file' or 'appResource', not both"},
        {"{\"kind\":\"demo\",\"appResource\":\"a.jar\"}", "demo refused the demo job: unknown "
                                                          "key 'appResource'"},
        {"{\"kind\":\"demo\",\"backend\":\"livy\"}", "demo jobs run on backend 'demo' only"},
        {"{\"kind\":\"demo\",\"demo\":\"yes\"}", "key 'demo' must be a boolean"},
    };
    for (size_t index = 0; index < sizeof cases / sizeof cases[0]; index++)
        s_refused (cases[index].spec, cases[index].words);
    s_nothing_stored ();

    //  The examples in the repository are accepted as they are.
    const char *examples[] = {"livy.json", "livy-python.json", "standalone.json"};
    for (size_t index = 0; index < 3; index++) {
        char path[600], out[256] = "", err[1024] = "";
        snprintf (path, sizeof path, "%s/plugins/spark-poller/examples/%s",
                  getenv ("JOBD_SOURCE_DIR"), examples[index]);
        if (s_submit_file (path, out, sizeof out, err, sizeof err) != 0)
            fail_msg ("%s refused: %s", examples[index], err);
        assert_non_null (strstr (out, "job-"));
    }
    char out[256], err[256];
    assert_int_equal (s_submit ("{\"kind\":\"demo\",\"name\":\"d\",\"demo\":true}", out, sizeof out,
                                err, sizeof err),
                      0);
    assert_int_equal (harness_stop (&s_harness, SIGTERM, 10000), 0);
}

//  A plugin that failed to start takes nothing: its kind is refused, saying so.
static void
test_failed_plugin_takes_nothing (void **state)
{
    s_config (500); //  cancel_retries over 100: spark-poller's init fails
    assert_true (harness_start (&s_harness) > 0);
    assert_true (harness_wait_ready (&s_harness, 10000));
    s_wait_plugin ("demo", "running");
    s_wait_plugin ("spark-poller", "failed");
    s_refused ("{\"backend\":\"livy\",\"file\":\"a.jar\"}",
               "kind 'spark' is taken by plugin spark-poller, which is not running (failed); "
               "kinds taken now: demo");
    s_nothing_stored ();
    assert_int_equal (harness_stop (&s_harness, SIGTERM, 10000), 0);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown (test_refused_before_stored, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_failed_plugin_takes_nothing, s_setup, s_teardown),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
