//  spark-poller against spark-sim: jobs submitted through jobd succeed, fail with the backend's
//  reason, and get cancelled, on a standalone master and on Livy, each change seen within
//  seconds; all through the real jobd, the real plugin and real HTTP.
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
    uint8_t *data;
    size_t data_size;
    assert_int_equal (jobd_event_encode (submit, &data, &data_size, NULL, 0), 0);
    msgpack_unpacked reply;
    msgpack_unpacked_init (&reply);
    assert_int_equal (harness_request (&s_harness, data, data_size, &reply, 5000), 0);
    assert_true (jobd_map_string (&reply.data, "job", id, size));
    msgpack_unpacked_destroy (&reply);
    free (data);
    jobd_event_destroy (&submit);
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
    assert_int_equal (harness_stop (&s_harness, SIGTERM, 10000), 0);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test (test_standalone_and_livy)};
    return cmocka_run_group_tests (tests, s_setup, s_teardown);
}
