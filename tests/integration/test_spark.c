//  spark-poller against spark-sim: jobs submitted through jobd succeed, fail with the backend's
//  reason, and get cancelled, on a standalone master and on Livy, each change seen within
//  seconds; all through the real jobd, the real plugin and real HTTP. A failure on a master, on
//  Livy and on YARN shows its one-line cause in `jobctl watch --json`, `ls` and `show`.
#include "harness_spark.h"
#include "jobd_map.h"
#include "jobd_plugin.h"
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

static harness_t s_harness;
static harness_proc_t s_sim;
static int s_port;
static zlistx_t *s_seen; //  every transition received so far: a wait looks here first

static int
s_setup (void **state)
{
    harness_init (&s_harness, "spark");
    s_seen = zlistx_new ();
    zlistx_set_destructor (s_seen, (zlistx_destructor_fn *)jobd_event_destroy);
    const char *const args[] = {"--scenario", "queue=100,run=300,outcome=success", NULL};
    s_port = harness_spark_sim (&s_sim, &s_harness, args);
    assert_true (s_port > 0);
    char extra[2048];
    snprintf (extra, sizeof extra,
              "plugins\n"
              "    spark-poller\n"
              "        path = %s/plugins/spark-poller.so\n"
              "        interval_min = 50ms\n"
              "        interval_max = 200ms\n"
              "        list_interval = 200ms\n"
              "        backend\n"
              "            master\n"
              "                type = standalone\n"
              "                url = http://127.0.0.1:%d\n"
              "                master = spark://127.0.0.1:7077\n"
              "                ui_url = http://127.0.0.1:%d\n"
              "            livy\n"
              "                type = livy\n"
              "                url = http://127.0.0.1:%d\n"
              "            yarn\n"
              "                type = yarn\n"
              "                url = http://127.0.0.1:%d\n",
              harness_build_dir (), s_port, s_port, s_port, s_port);
    harness_write_config (&s_harness, extra);
    return 0;
}

static int
s_teardown (void **state)
{
    kill (s_sim.pid, SIGTERM);
    harness_proc_finish (&s_sim, 10000);
    harness_fini (&s_harness);
    zlistx_destroy (&s_seen);
    return 0;
}

//  Submits a spec through the admin endpoint; returns the job id in id.
static void
s_submit (const char *backend, const char *scenario, char *id, size_t size)
{
    jobd_event_t *submit = jobd_event_new (JOBD_EVENT_SUBMIT);
    jobd_event_set (&submit->source, "test");
    jobd_event_set (&submit->kind, "spark");
    jobd_event_set (&submit->backend, backend);
    jobd_event_set (&submit->name, scenario);
    char spec[1024];
    snprintf (spec, sizeof spec,
              "{\"appResource\":\"hdfs:///jobs/etl.jar\",\"mainClass\":\"com.example.Etl\","
              "\"args\":[\"2026-11-28\"],\"sparkProperties\":{\"spark.sim.scenario\":\"%s\","
              "\"spark.driver.memory\":\"1g\"}}",
              scenario);
    jobd_event_set (&submit->spec, spec);
    assert_int_equal (harness_request_job (&s_harness, &submit, id, size), 0);
}

static jobd_event_t *
s_find (const char *job, jobd_state_t state)
{
    for (jobd_event_t *event = (jobd_event_t *)zlistx_first (s_seen); event;
         event = (jobd_event_t *)zlistx_next (s_seen))
        if (strcmp (event->job, job) == 0 && event->state == state)
            return jobd_event_dup (event);
    return NULL;
}

//  Waits for job to reach state (harness_wait_job_state); returns the transition (fresh) or
//  fails the test.
static jobd_event_t *
s_wait_state (zsock_t *sub, const char *job, jobd_state_t state, int timeout_ms)
{
    if (!harness_wait_job_state (sub, s_seen, job, state, timeout_ms))
        fail_msg ("%s never reached %s", job, jobd_state_name (state));
    return s_find (job, state);
}

static zsock_t *
s_subscribe (void)
{
    zsock_t *sub = zsock_new_sub (s_harness.events, "job.");
    zsock_set_subscribe (sub, JOBD_WELCOME_TOPIC);
    char *welcome = NULL;
    zsock_set_rcvtimeo (sub, 10000);
    welcome = zstr_recv (sub);
    assert_non_null (welcome);
    zstr_free (&welcome);
    return sub;
}

//  fail_scenario: how a job fails on this backend (standalone: ERROR carries the exception).
static void
s_lifecycle (const char *backend, const char *fail_scenario)
{
    zsock_t *sub = s_subscribe ();
    char ok[64], failed[64], cancelled[64];
    s_submit (backend, "queue=100,run=300,outcome=success", ok, sizeof ok);
    s_submit (backend, fail_scenario, failed, sizeof failed);
    s_submit (backend, "queue=50,run=60000,outcome=success", cancelled, sizeof cancelled);

    jobd_event_t *event = s_wait_state (sub, ok, JOBD_STATE_SUBMITTED, 5000);
    assert_non_null (event->ext);
    jobd_event_destroy (&event);
    event = s_wait_state (sub, ok, JOBD_STATE_SUCCEEDED, 10000);
    jobd_event_destroy (&event);
    event = s_wait_state (sub, failed, JOBD_STATE_FAILED, 10000);
    //  The backend's own reason travels with the failure.
    assert_non_null (event->error);
    assert_non_null (strstr (event->error, "no input"));
    jobd_event_destroy (&event);

    event = s_wait_state (sub, cancelled, JOBD_STATE_RUNNING, 10000);
    jobd_event_destroy (&event);
    jobd_event_t *cancel = jobd_event_new (JOBD_EVENT_CANCEL);
    jobd_event_set (&cancel->source, "test");
    jobd_event_set (&cancel->job, cancelled);
    uint8_t *data;
    size_t size;
    assert_int_equal (jobd_event_encode (cancel, &data, &size, NULL, 0), 0);
    msgpack_unpacked reply;
    msgpack_unpacked_init (&reply);
    assert_int_equal (harness_request (&s_harness, data, size, &reply, 5000), 0);
    msgpack_unpacked_destroy (&reply);
    free (data);
    jobd_event_destroy (&cancel);
    event = s_wait_state (sub, cancelled, JOBD_STATE_CANCELLED, 10000);
    jobd_event_destroy (&event);
    zsock_destroy (&sub);
}

static void
test_standalone_and_livy (void **state)
{
    assert_true (harness_start (&s_harness) > 0);
    assert_true (harness_wait_ready (&s_harness, 10000));
    s_lifecycle ("master", "queue=100,run=200,outcome=fail,final=ERROR,"
                           "error=java.lang.IllegalStateException: no input");
    s_lifecycle ("livy", "queue=100,run=200,outcome=fail,"
                         "error=java.lang.IllegalStateException: no input");
    //  Every request named jobd: Spark's, Livy's and YARN's logs (and a proxy) can tell.
    json_t *stats = harness_spark_call (s_port, "GET", "/sim/stats", NULL);
    json_t *agents = json_object_get (stats, "agents");
    assert_true (
        json_integer_value (json_object_get (agents, "jobd/" JOBD_VERSION " spark-poller")) > 0);
    assert_null (json_object_get (agents, "(none)"));
    json_decref (stats);
    assert_int_equal (harness_stop (&s_harness, SIGTERM, 10000), 0);
}

#define S_ABORTED  "org.apache.spark.SparkException: Job aborted: stage 3 failed 4 times"
#define S_CAUSE    "SparkException: Job aborted: stage 3 failed 4 times"
#define S_NO_INPUT "java.lang.IllegalStateException: no input"

//  An application made in spark-sim's YARN that fails as scenario says, tracked by jobd.
static void
s_yarn_app (const char *scenario, char *job, size_t size)
{
    char body[512];
    snprintf (body, sizeof body, "{\"backend\":\"yarn\",\"count\":1,\"scenario\":\"%s\"}",
              scenario);
    json_t *json = harness_spark_call (s_port, "POST", "/sim/jobs", body);
    assert_non_null (json);
    jobd_event_t *track = jobd_event_new (JOBD_EVENT_TRACK);
    jobd_event_set (&track->source, "test");
    jobd_event_set (&track->kind, "spark");
    jobd_event_set (&track->backend, "yarn");
    jobd_event_set (&track->ext,
                    json_string_value (json_array_get (json_object_get (json, "ids"), 0)));
    json_decref (json);
    assert_int_equal (harness_request_job (&s_harness, &track, job, size), 0);
}

//  Runs jobctl against this jobd (a, b, c: its arguments, NULL-terminated early): its exit
//  code, stdout in out.
static int
s_jobctl (char *out, size_t out_size, const char *a, const char *b, const char *c)
{
    char err[4096];
    const char *args[] = {"--run-dir", s_harness.run_dir, a, b, c, NULL};
    out[0] = 0;
    return harness_run_bin ("jobctl", args, out, out_size, err, sizeof err);
}

//  The line of out (JSON lines of watch) about job; returns it parsed (decref it) or NULL.
static json_t *
s_watched (const char *out, const char *job)
{
    const char *line = out;
    while (line && *line) {
        json_t *value = json_loads (line, JSON_DISABLE_EOF_CHECK, NULL);
        if (value && !strcmp (json_string_value (json_object_get (value, "job")), job))
            return value;
        json_decref (value);
        line = strchr (line, '\n');
        line = line ? line + 1 : NULL;
    }
    return NULL;
}

static void
test_causes_everywhere (void **state)
{
    assert_true (harness_start (&s_harness) > 0);
    assert_true (harness_wait_ready (&s_harness, 10000));
    //  The watch starts first: it sees every failure as it is committed.
    char binary[512];
    char *watch_argv[] = {(char *)harness_bin ("jobctl", binary, sizeof binary),
                          "--run-dir",
                          s_harness.run_dir,
                          "--json",
                          "watch",
                          "--state",
                          "FAILED",
                          "--count",
                          "3",
                          NULL};
    harness_proc_t watch;
    assert_int_equal (harness_spawn (&watch, watch_argv), 0);
    assert_true (harness_proc_wait_err (&watch, "watching", 10000));

    char master[64], livy[64], yarn[64];
    s_submit ("master", "queue=100,run=300,outcome=fail,final=ERROR,error=" S_ABORTED, master,
              sizeof master);
    s_submit ("livy", "queue=100,run=300,outcome=fail,error=" S_ABORTED, livy, sizeof livy);
    s_yarn_app ("queue=100,run=300,outcome=fail,error=" S_NO_INPUT, yarn, sizeof yarn);
    assert_int_equal (harness_proc_finish (&watch, 20000), 0);

    //  watch --json: each failure with its cause beside the full error.
    const struct {
        const char *job, *cause, *in_error;
    } expected[] = {{master, S_CAUSE, "Exception from the cluster:"},
                    {livy, S_CAUSE, "stdout:"},
                    {yarn, "IllegalStateException: no input", "User class threw exception"}};
    for (size_t index = 0; index < 3; index++) {
        json_t *event = s_watched (watch.out, expected[index].job);
        if (!event)
            fail_msg ("watch printed no failure of %s: %s", expected[index].job, watch.out);
        assert_string_equal (json_string_value (json_object_get (event, "cause")),
                             expected[index].cause);
        assert_non_null (strstr (json_string_value (json_object_get (event, "error")),
                                 expected[index].in_error));
        json_decref (event);
    }

    //  ls: the cause in the row; the long error is not there.
    static char out[65536];
    assert_int_equal (s_jobctl (out, sizeof out, "ls", "--state", "FAILED"), 0);
    assert_non_null (strstr (out, "CAUSE"));
    for (size_t index = 0; index < 3; index++) {
        //  The row's end, after the name (here the scenario, which holds the exception too).
        char tail[256];
        snprintf (tail, sizeof tail, " %s\n", expected[index].cause);
        const char *row = strstr (out, expected[index].job);
        assert_non_null (row);
        const char *cause = strstr (row, tail);
        assert_true (cause && cause < strchr (row, '\n'));
    }
    assert_null (strstr (out, "Exception from the cluster"));

    //  show: both, and the backend's links.
    assert_int_equal (s_jobctl (out, sizeof out, "show", livy, NULL), 0);
    assert_non_null (strstr (out, "cause:        " S_CAUSE "\n"));
    assert_non_null (strstr (out, "last error:   "));
    assert_non_null (strstr (out, "app id:       application_"));
    assert_non_null (strstr (out, "app UI:       http://127.0.0.1:"));
    assert_non_null (strstr (out, "driver log:   http://127.0.0.1:8042/node/containerlogs/"));
    assert_int_equal (s_jobctl (out, sizeof out, "show", yarn, NULL), 0);
    assert_non_null (strstr (out, "cause:        IllegalStateException: no input\n"));
    assert_non_null (strstr (out, "app UI:       "));
    //  The master's web UI, which lists the driver: its REST API links nothing.
    char master_ui[128];
    snprintf (master_ui, sizeof master_ui, "app UI:       http://127.0.0.1:%d\n", s_port);
    assert_int_equal (s_jobctl (out, sizeof out, "show", master, NULL), 0);
    assert_non_null (strstr (out, master_ui));
    assert_int_equal (s_jobctl (out, sizeof out, "--json", "show", master), 0);
    json_t *shown = json_loads (out, 0, NULL);
    assert_non_null (shown);
    assert_non_null (strstr (out, "\"cause\":"));
    assert_non_null (strstr (out, S_CAUSE));
    json_decref (shown);
    //  The poller's figures, per backend, in jobctl plugins --json.
    assert_int_equal (s_jobctl (out, sizeof out, "plugins", "--json", NULL), 0);
    const char *wanted[] = {"[\"spark_backend_up\",1,{\"backend\":\"master\"}",
                            "[\"spark_polls_total\",",
                            "{\"backend\":\"livy\"}",
                            "[\"spark_jobs_followed\",",
                            "{\"backend\":\"yarn\"}",
                            "[\"spark_last_list_timestamp_seconds\","};
    for (size_t index = 0; index < sizeof wanted / sizeof wanted[0]; index++)
        if (!strstr (out, wanted[index]))
            fail_msg ("jobctl plugins --json lacks %s:\n%s", wanted[index], out);
    assert_int_equal (harness_stop (&s_harness, SIGTERM, 10000), 0);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test (test_standalone_and_livy),
                                       cmocka_unit_test (test_causes_everywhere)};
    return cmocka_run_group_tests (tests, s_setup, s_teardown);
}
