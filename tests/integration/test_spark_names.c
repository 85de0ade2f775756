//  Names reach the backend (issue 13, item 6) and the example specs run (item 2): the examples
//  under plugins/spark-poller/examples, submitted with jobctl, are taken by spark-sim's Livy and
//  standalone master, and Spark shows the job's name (Livy's batch name, spark.app.name) with
//  jobd's id beside it (the batch name's tag, spark.yarn.tags).
#include "harness_spark.h"
#include "jobd_plugin.h"
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

static harness_t s_harness;
static harness_proc_t s_sim;
static int s_port;

static int
s_setup (void **state)
{
    harness_init (&s_harness, "spark-names");
    const char *const args[] = {"--scenario", "queue=100,run=60000,outcome=success", NULL};
    s_port = harness_spark_sim (&s_sim, &s_harness, args);
    assert_true (s_port > 0);
    char extra[2048];
    //  The backend names the examples use.
    snprintf (extra, sizeof extra,
              "plugins\n"
              "    spark-poller\n"
              "        path = %s/plugins/spark-poller.so\n"
              "        interval_min = 50ms\n"
              "        interval_max = 200ms\n"
              "        list_interval = 200ms\n"
              "        backend\n"
              "            standalone\n"
              "                type = standalone\n"
              "                url = http://127.0.0.1:%d\n"
              "                master = spark://127.0.0.1:7077\n"
              "            livy\n"
              "                type = livy\n"
              "                url = http://127.0.0.1:%d\n",
              harness_build_dir (), s_port, s_port);
    harness_write_config (&s_harness, extra);
    return 0;
}

static int
s_teardown (void **state)
{
    kill (s_sim.pid, SIGTERM);
    harness_proc_finish (&s_sim, 10000);
    harness_fini (&s_harness);
    return 0;
}

//  Submits an example with jobctl; writes the job id into id.
static void
s_submit_example (const char *example, char *id, size_t size)
{
    char path[600], out[256] = "", err[1024] = "";
    snprintf (path, sizeof path, "%s/plugins/spark-poller/examples/%s", getenv ("JOBD_SOURCE_DIR"),
              example);
    const char *args[] = {"--run-dir", s_harness.run_dir, "submit", path, NULL};
    if (harness_run_bin ("jobctl", args, out, sizeof out, err, sizeof err) != 0)
        fail_msg ("%s refused: %s", example, err);
    out[strcspn (out, "\n")] = 0;
    snprintf (id, size, "%s", out);
}

//  Waits until job is RUNNING and returns its ext (fresh).
static char *
s_wait_running (zsock_t *sub, zlistx_t *seen, const char *job)
{
    if (!harness_wait_job_state (sub, seen, job, JOBD_STATE_RUNNING, 15000))
        fail_msg ("%s never ran", job);
    for (jobd_event_t *event = (jobd_event_t *)zlistx_first (seen); event;
         event = (jobd_event_t *)zlistx_next (seen))
        if (strcmp (event->job, job) == 0 && event->ext)
            return strdup (event->ext);
    fail_msg ("%s ran without an ext", job);
    return NULL;
}

//  The running application the master's UI (/json/) shows under name, or NULL.
static json_t *
s_master_app (const char *name)
{
    long status = 0;
    char *body = harness_spark_http (s_port, "GET", "/json/", NULL, &status);
    json_t *state = body ? json_loads (body, 0, NULL) : NULL;
    json_t *apps = json_incref (json_object_get (state, "activeapps"));
    json_decref (state);
    free (body);
    json_t *found = NULL, *app;
    size_t index;
    json_array_foreach (apps, index, app)
    {
        if (strcmp (json_string_value (json_object_get (app, "name")) ?: "", name) == 0)
            found = json_incref (app);
    }
    json_decref (apps);
    return found;
}

static void
test_examples_run_under_their_names (void **state)
{
    assert_true (harness_start (&s_harness) > 0);
    assert_true (harness_wait_ready (&s_harness, 10000));
    zsock_t *sub = zsock_new_sub (s_harness.events, "job.");
    zsock_set_subscribe (sub, JOBD_WELCOME_TOPIC);
    zsock_set_rcvtimeo (sub, 10000);
    char *welcome = zstr_recv (sub);
    assert_non_null (welcome);
    zstr_free (&welcome);
    zlistx_t *seen = zlistx_new ();
    zlistx_set_destructor (seen, (zlistx_destructor_fn *)jobd_event_destroy);

    char livy[64], python[64], standalone[64];
    s_submit_example ("livy.json", livy, sizeof livy);
    s_submit_example ("livy-python.json", python, sizeof python);
    s_submit_example ("standalone.json", standalone, sizeof standalone);

    //  Livy: the batch is named after the job, with jobd's tag that keeps it unique.
    char *ext = s_wait_running (sub, seen, livy);
    char path[200], wanted[300];
    //  A Livy ext is ID@TAG (the batch id, then the tag in its name): Livy knows the id.
    snprintf (path, sizeof path, "/batches/%.*s", (int)strcspn (ext, "@"), ext);
    snprintf (wanted, sizeof wanted, "@jobd-%s", livy);
    assert_non_null (strstr (ext, wanted));
    long status = 0;
    char *body = harness_spark_http (s_port, "GET", path, NULL, &status);
    json_t *batch = body ? json_loads (body, 0, NULL) : NULL;
    assert_int_equal (status, 200);
    snprintf (wanted, sizeof wanted, "nightly-orders-etl [jobd-%s]", livy);
    assert_string_equal (json_string_value (json_object_get (batch, "name")), wanted);
    assert_string_equal (json_string_value (json_object_get (batch, "proxyUser")), "etl-bot");
    json_decref (batch);
    free (body);
    free (ext);
    ext = s_wait_running (sub, seen, python);
    free (ext);

    //  Standalone: spark.app.name is the job's name, as Spark's own UI shows it.
    ext = s_wait_running (sub, seen, standalone);
    assert_true (strncmp (ext, "driver-", 7) == 0);
    free (ext);
    json_t *app = s_master_app ("clickstream-sessionize");
    assert_non_null (app);
    json_decref (app);

    zlistx_destroy (&seen);
    zsock_destroy (&sub);
    assert_int_equal (harness_stop (&s_harness, SIGTERM, 10000), 0);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown (test_examples_run_under_their_names, s_setup, s_teardown),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
