//  spark-poller across a crash and a relaunch: jobd SIGKILLed while its create request is at the
//  backend is restarted and neither duplicates the job nor forgets it (Livy: found again by its
//  batch name; standalone: marked for the operator); a supervised standalone driver relaunched
//  under a new id is followed to its end through the master's /json/, or LOST without it.
#include "harness_spark.h"
#include "jobd_map.h"
#include "jobd_plugin.h"
#include "jobd_store.h"
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <jansson.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

static harness_proc_t s_sim;
static int s_port;

//  ---------------------------------------------------------------------------------------------
//  The simulator's control API (harness_spark).

//  Sends one request to the simulator; returns the reply as JSON (fresh) or fails the test.
static json_t *
s_sim_call (const char *method, const char *path, const char *body)
{
    json_t *reply = harness_spark_call (s_port, method, path, body);
    if (!reply)
        fail_msg ("spark-sim %s %s failed (above)", method, path);
    return reply;
}

//  A driver's state in the master's /json/, or "" when it is not listed.
static void
s_sim_driver_state (const char *id, char *state, size_t size)
{
    json_t *master = s_sim_call ("GET", "/json/", NULL);
    snprintf (state, size, "%s", "");
    const char *lists[] = {"activedrivers", "completeddrivers"};
    for (int list = 0; list < 2; list++) {
        size_t index;
        json_t *driver;
        json_array_foreach (json_object_get (master, lists[list]), index, driver)
        {
            if (strcmp (json_string_value (json_object_get (driver, "id")), id) == 0)
                snprintf (state, size, "%s", json_string_value (json_object_get (driver, "state")));
        }
    }
    json_decref (master);
}

//  ---------------------------------------------------------------------------------------------
//  jobd

static int
s_setup (void **state)
{
    static harness_t sim_dir;
    harness_init (&sim_dir, "spark-resume-sim");
    s_port = harness_spark_sim (&s_sim, &sim_dir, NULL);
    assert_true (s_port > 0);
    *state = &sim_dir;
    return 0;
}

static int
s_teardown (void **state)
{
    kill (s_sim.pid, SIGTERM);
    harness_proc_finish (&s_sim, 10000);
    harness_fini ((harness_t *)*state);
    return 0;
}

//  Writes jobd's config: a standalone master without and with its web UI, and Livy, all on the
//  simulator.
static void
s_config (harness_t *harness, const char *list_interval, const char *lost_after)
{
    char extra[2048];
    snprintf (extra, sizeof extra,
              "plugins\n"
              "    spark-poller\n"
              "        path = %s/plugins/spark-poller.so\n"
              "        interval_min = 50ms\n"
              "        interval_max = 200ms\n"
              "        list_interval = %s\n"
              "        lost_after = %s\n"
              "        backend\n"
              "            master\n"
              "                type = standalone\n"
              "                url = http://127.0.0.1:%d\n"
              "                master = spark://127.0.0.1:7077\n"
              "            masterui\n"
              "                type = standalone\n"
              "                url = http://127.0.0.1:%d\n"
              "                ui_url = http://127.0.0.1:%d\n"
              "                master = spark://127.0.0.1:7077\n"
              "            livy\n"
              "                type = livy\n"
              "                url = http://127.0.0.1:%d\n",
              harness_build_dir (), list_interval, lost_after, s_port, s_port, s_port, s_port);
    harness_write_config (harness, extra);
}

//  Submits a job through the admin endpoint; writes its id.
static void
s_submit (harness_t *harness, const char *backend, const char *main_class, const char *scenario,
          char *id, size_t size)
{
    assert_int_equal (harness_spark_submit (harness, backend, main_class, scenario, id, size), 0);
}

//  The job's record and history from the store (jobd stopped). Fresh: free both.
static jobd_job_t *
s_stored (harness_t *harness, const char *id, jobd_event_t ***history_p, size_t *count_p)
{
    jobd_job_t *job = harness_stored (harness, id, history_p, count_p);
    assert_non_null (job);
    return job;
}

//  Starts jobd, submits one job to backend with its create request slowed, and SIGKILLs jobd
//  while that request is at the simulator; returns once the simulator has handled it (the job
//  exists at the backend, jobd never heard of it). create: the endpoint, for /sim/stats. first:
//  the scenario of a job of that class to submit before (it is SUBMITTED: the backend answered
//  its create), or NULL. count jobs are caught so, their ids written to ids, size bytes each.
static void
s_kill_mid_create (harness_t *harness, const char *backend, const char *sim_backend,
                   const char *prefix, const char *create, const char *main_class,
                   const char *first, int count, char *ids, size_t size)
{
    //  A long list interval: the slow rule must catch the create, not a list of the same path.
    s_config (harness, "60s", "60s");
    assert_true (harness_start (harness) > 0);
    assert_true (harness_wait_ready (harness, 10000));
    if (first) {
        char before[64];
        s_submit (harness, backend, main_class, first, before, sizeof before);
        assert_true (harness_wait_count (harness, JOBD_STATE_SUBMITTED, 1, 10000));
    }
    int64_t creates = harness_spark_count (s_port, create);
    if (strcmp (sim_backend, "livy") == 0)
        assert_true (harness_spark_wait (s_port, "GET /batches", NULL, 1,
                                         5000)); //  the start-up list is done
    char fault[256];
    snprintf (fault, sizeof fault,
              "{\"mode\":\"slow\",\"backend\":\"%s\",\"prefix\":\"%s\",\"count\":%d,"
              "\"delay_ms\":1500}",
              sim_backend, prefix, count);
    json_decref (s_sim_call ("POST", "/sim/fault", fault));
    for (int index = 0; index < count; index++)
        s_submit (harness, backend, main_class, "queue=100,run=300,outcome=success",
                  ids + index * size, size);
    assert_true (harness_spark_wait_fault_taken (s_port, 5000));
    assert_int_equal (harness_stop (harness, SIGKILL, 5000), 128 + SIGKILL);
    //  The simulator finishes the requests jobd no longer waits for: the jobs are at the backend.
    assert_true (harness_spark_wait (s_port, create, NULL, creates + count, 5000));
    //  What jobd recorded: still QUEUED, with the submission mark.
    for (int index = 0; index < count; index++) {
        jobd_job_t *job = s_stored (harness, ids + index * size, NULL, NULL);
        assert_int_equal (job->state, JOBD_STATE_QUEUED);
        char mark[200];
        snprintf (mark, sizeof mark, "jobd-%s", ids + index * size);
        assert_non_null (job->ext);
        assert_string_equal (job->ext, mark);
        jobd_job_destroy (&job);
    }
}

//  (a) Livy: the batch created before the crash is found by its name and followed to its end.
static void
test_livy_restart_finds_the_batch (void **state)
{
    harness_t harness;
    harness_init (&harness, "spark-resume-livy");
    char id[64];
    int64_t creates = harness_spark_count (s_port, "POST /batches");
    s_kill_mid_create (&harness, "livy", "livy", "/batches", "POST /batches", "com.example.Etl",
                       NULL, 1, id, sizeof id);

    s_config (&harness, "200ms", "60s");
    assert_true (harness_start (&harness) > 0);
    assert_true (harness_wait_ready (&harness, 10000));
    assert_true (harness_wait_count (&harness, JOBD_STATE_SUCCEEDED, 1, 15000));
    assert_int_equal (harness_stop (&harness, SIGTERM, 10000), 0);

    //  One create in all, one batch of that name, and the job followed it.
    assert_int_equal (harness_spark_count (s_port, "POST /batches"), creates + 1);
    char tag[200];
    snprintf (tag, sizeof tag, "jobd-%s", id);
    json_t *batches = s_sim_call ("GET", "/batches?from=0&size=100000", NULL);
    size_t index, named = 0;
    json_t *batch, *found = NULL;
    json_array_foreach (json_object_get (batches, "sessions"), index, batch)
    {
        const char *name = json_string_value (json_object_get (batch, "name"));
        if (name && strcmp (name, tag) == 0) {
            named++;
            found = batch;
        }
    }
    assert_int_equal (named, 1);
    //  The job's ext is the batch id with its name (spark-poller README, "Incarnations").
    char batch_id[256];
    snprintf (batch_id, sizeof batch_id, "%" JSON_INTEGER_FORMAT "@%s",
              json_integer_value (json_object_get (found, "id")), tag);
    jobd_event_t **history = NULL;
    size_t count = 0;
    jobd_job_t *job = s_stored (&harness, id, &history, &count);
    assert_int_equal (job->state, JOBD_STATE_SUCCEEDED);
    assert_string_equal (job->ext, batch_id);
    //  QUEUED, then the batch's states: never a second QUEUED or a failure on the way.
    assert_true (count >= 2);
    assert_int_equal (history[0]->state, JOBD_STATE_QUEUED);
    for (size_t each = 1; each < count; each++)
        assert_true (history[each]->state == JOBD_STATE_SUBMITTED ||
                     history[each]->state == JOBD_STATE_RUNNING ||
                     history[each]->state == JOBD_STATE_SUCCEEDED);
    print_message ("livy: job %s adopted batch %s after the restart, %zu transitions\n", id,
                   batch_id, count);
    jobd_store_history_free (&history, count);
    jobd_job_destroy (&job);
    json_decref (batches);
    harness_fini (&harness);
}

//  (b) Standalone: the master cannot be searched; the job is not sent again, and it says why.
static void
test_standalone_restart_is_not_resent (void **state)
{
    harness_t harness;
    harness_init (&harness, "spark-resume-standalone");
    char id[64];
    const char *create = "POST /v1/submissions/create";
    int64_t creates = harness_spark_count (s_port, create);
    s_kill_mid_create (&harness, "master", "standalone", "/v1/submissions/create", create,
                       "com.example.Etl", NULL, 1, id, sizeof id);

    s_config (&harness, "200ms", "60s");
    assert_true (harness_start (&harness) > 0);
    assert_true (harness_wait_ready (&harness, 10000));
    assert_true (harness_wait_count (&harness, JOBD_STATE_FAILED, 1, 10000));
    //  A job submitted after the restart goes out as usual.
    char fresh[64];
    s_submit (&harness, "master", "com.example.Etl", "queue=50,run=100,outcome=success", fresh,
              sizeof fresh);
    assert_true (harness_wait_count (&harness, JOBD_STATE_SUCCEEDED, 1, 10000));
    assert_int_equal (harness_stop (&harness, SIGTERM, 10000), 0);

    assert_int_equal (harness_spark_count (s_port, create),
                      creates + 2); //  the crashed one once, the fresh one
    jobd_job_t *job = s_stored (&harness, id, NULL, NULL);
    assert_int_equal (job->state, JOBD_STATE_FAILED);
    assert_non_null (job->error);
    assert_non_null (strstr (job->error, "may have reached the master"));
    assert_non_null (strstr (job->error, "jobctl track"));
    assert_non_null (strstr (job->error, "jobctl retry"));
    print_message ("standalone: %s\n", job->error);
    jobd_job_destroy (&job);
    harness_fini (&harness);
}

//  (b2) Standalone, stopped (SIGTERM) while the create is at the master: jobd waits for the
//  answer and records it (SUBMITTED, with the driver's id) before it stops, so the next start
//  follows the driver; nothing is left marked for the operator, nothing is sent twice.
static void
test_standalone_stop_waits_for_the_create (void **state)
{
    harness_t harness;
    harness_init (&harness, "spark-resume-stop");
    const char *create = "POST /v1/submissions/create";
    int64_t creates = harness_spark_count (s_port, create);
    s_config (&harness, "60s", "60s");
    assert_true (harness_start (&harness) > 0);
    assert_true (harness_wait_ready (&harness, 10000));
    json_decref (s_sim_call ("POST", "/sim/fault",
                             "{\"mode\":\"slow\",\"backend\":\"standalone\",\"prefix\":"
                             "\"/v1/submissions/create\",\"count\":1,\"delay_ms\":1500}"));
    char id[64];
    s_submit (&harness, "master", "com.example.Etl", "queue=100,run=300,outcome=success", id,
              sizeof id);
    assert_true (harness_spark_wait_fault_taken (s_port, 5000));
    assert_int_equal (harness_stop (&harness, SIGTERM, 10000), 0);
    jobd_job_t *job = s_stored (&harness, id, NULL, NULL);
    char mark[200];
    snprintf (mark, sizeof mark, "jobd-%s", id);
    assert_int_equal (job->state, JOBD_STATE_SUBMITTED);
    assert_non_null (job->ext);
    assert_string_not_equal (job->ext, mark);
    jobd_job_destroy (&job);

    s_config (&harness, "200ms", "60s");
    assert_true (harness_start (&harness) > 0);
    assert_true (harness_wait_ready (&harness, 10000));
    assert_true (harness_wait_count (&harness, JOBD_STATE_SUCCEEDED, 1, 10000));
    assert_int_equal (harness_stop (&harness, SIGTERM, 10000), 0);
    assert_int_equal (harness_spark_count (s_port, create), creates + 1);
    harness_fini (&harness);
}

//  (c) Standalone with the master's UI: the driver the lost create made is in /json/ (its main
//  class, cores and memory, newer than the drivers jobd had before the mark, followed by no
//  job); the job follows it to its end instead of failing, and nothing is sent twice. An older
//  driver of the same description that no job follows (made outside jobd) is not taken for it.
static void
test_standalone_restart_adopts_the_driver (void **state)
{
    harness_t harness;
    harness_init (&harness, "spark-resume-adopt");
    json_decref (s_sim_call ("POST", "/sim/jobs",
                             "{\"backend\":\"standalone\",\"count\":1,\"main_class\":"
                             "\"com.example.Adopted\",\"cores\":1,\"memory_mb\":1024,"
                             "\"scenario\":\"queue=50,run=100\"}"));
    char id[64];
    const char *create = "POST /v1/submissions/create";
    int64_t creates = harness_spark_count (s_port, create);
    s_kill_mid_create (&harness, "masterui", "standalone", "/v1/submissions/create", create,
                       "com.example.Adopted", "queue=50,run=100,outcome=success", 1, id, sizeof id);

    s_config (&harness, "200ms", "60s");
    assert_true (harness_start (&harness) > 0);
    assert_true (harness_wait_ready (&harness, 10000));
    assert_true (harness_wait_count (&harness, JOBD_STATE_SUCCEEDED, 2, 15000));
    assert_int_equal (harness_stop (&harness, SIGTERM, 10000), 0);

    assert_int_equal (harness_spark_count (s_port, create),
                      creates + 2); //  the first job, the lost create
    jobd_event_t **history = NULL;
    size_t count = 0;
    jobd_job_t *job = s_stored (&harness, id, &history, &count);
    assert_int_equal (job->state, JOBD_STATE_SUCCEEDED);
    assert_non_null (job->ext);
    char driver_state[32];
    s_sim_driver_state (job->ext, driver_state, sizeof driver_state);
    assert_string_equal (driver_state, "FINISHED");
    for (size_t each = 0; each < count; each++)
        assert_int_not_equal (history[each]->state, JOBD_STATE_FAILED);
    assert_true (harness_log_contains (&harness, "is the one its lost create made"));
    print_message ("standalone with ui_url: job %s adopted driver %s after the restart\n", id,
                   job->ext);
    jobd_store_history_free (&history, count);
    jobd_job_destroy (&job);
    harness_fini (&harness);
}

//  (d) Two creates of one description lost together: /json/ cannot say which driver is whose,
//  but both ran to FINISHED, so each job ends SUCCEEDED (paired in order, logged), not FAILED.
static void
test_standalone_restart_pairs_alike_drivers (void **state)
{
    harness_t harness;
    harness_init (&harness, "spark-resume-pairs");
    char ids[2][64];
    const char *create = "POST /v1/submissions/create";
    int64_t creates = harness_spark_count (s_port, create);
    s_kill_mid_create (&harness, "masterui", "standalone", "/v1/submissions/create", create,
                       "com.example.Twin", NULL, 2, ids[0], sizeof ids[0]);

    s_config (&harness, "200ms", "60s");
    assert_true (harness_start (&harness) > 0);
    assert_true (harness_wait_ready (&harness, 10000));
    assert_true (harness_wait_count (&harness, JOBD_STATE_SUCCEEDED, 2, 15000));
    assert_int_equal (harness_stop (&harness, SIGTERM, 10000), 0);

    assert_int_equal (harness_spark_count (s_port, create), creates + 2);
    jobd_job_t *first = s_stored (&harness, ids[0], NULL, NULL);
    jobd_job_t *second = s_stored (&harness, ids[1], NULL, NULL);
    assert_non_null (first->ext);
    assert_non_null (second->ext);
    assert_string_not_equal (first->ext, second->ext);
    assert_true (harness_log_contains (&harness, "paired in order of creation"));
    print_message ("standalone, two alike lost creates: %s -> %s, %s -> %s\n", ids[0], first->ext,
                   ids[1], second->ext);
    jobd_job_destroy (&first);
    jobd_job_destroy (&second);
    harness_fini (&harness);
}

//  The transition of job into state among those received on sub (waits for it), or NULL.
static jobd_event_t *
s_wait_transition (zsock_t *sub, zlistx_t *seen, const char *job, jobd_state_t state,
                   int timeout_ms)
{
    int64_t deadline = zclock_mono () + timeout_ms;
    zpoller_t *poller = zpoller_new (sub, NULL);
    jobd_event_t *found = NULL;
    while (!found) {
        for (jobd_event_t *event = (jobd_event_t *)zlistx_first (seen); event && !found;
             event = (jobd_event_t *)zlistx_next (seen))
            if (strcmp (event->job, job) == 0 && event->state == state)
                found = jobd_event_dup (event);
        if (found || zclock_mono () >= deadline)
            break;
        if (zpoller_wait (poller, 100) != sub)
            continue;
        zmsg_t *msg = zmsg_recv (sub);
        zframe_t *payload = zmsg_last (msg);
        jobd_event_t *event = NULL;
        if (zmsg_size (msg) == 2 &&
            jobd_event_decode (zframe_data (payload), zframe_size (payload), &event, NULL, 0) == 0)
            zlistx_add_end (seen, event);
        zmsg_destroy (&msg);
    }
    zpoller_destroy (&poller);
    if (!found)
        fail_msg ("%s never reached %s", job, jobd_state_name (state));
    return found;
}

//  (c) and (d): a supervised driver relaunched under a new id. With the master's UI the job
//  follows the new driver to SUCCEEDED; without, it is UNKNOWN, then LOST, saying why.
static void
test_relaunch (void **state)
{
    harness_t harness;
    harness_init (&harness, "spark-resume-relaunch");
    s_config (&harness, "200ms", "2s");
    assert_true (harness_start (&harness) > 0);
    assert_true (harness_wait_ready (&harness, 10000));
    zsock_t *sub = zsock_new_sub (harness.events, "job.");
    zsock_set_subscribe (sub, JOBD_WELCOME_TOPIC);
    zsock_set_rcvtimeo (sub, 10000);
    char *welcome = zstr_recv (sub);
    assert_non_null (welcome);
    zstr_free (&welcome);
    zlistx_t *seen = zlistx_new ();
    zlistx_set_destructor (seen, (zlistx_destructor_fn *)jobd_event_destroy);

    char followed[64], blind[64];
    s_submit (&harness, "masterui", "com.example.Relaunched",
              "queue=100,run=300,outcome=relaunch,then=success", followed, sizeof followed);
    s_submit (&harness, "master", "com.example.Blind",
              "queue=100,run=300,outcome=relaunch,then=success", blind, sizeof blind);

    jobd_event_t *submitted = s_wait_transition (sub, seen, followed, JOBD_STATE_SUBMITTED, 5000);
    jobd_event_t *unknown = s_wait_transition (sub, seen, followed, JOBD_STATE_UNKNOWN, 10000);
    jobd_event_t *done = s_wait_transition (sub, seen, followed, JOBD_STATE_SUCCEEDED, 10000);
    //  The job ends on the replacement's id; the first driver ended RELAUNCHING.
    assert_non_null (submitted->ext);
    assert_non_null (done->ext);
    assert_string_not_equal (done->ext, submitted->ext);
    char driver_state[32];
    s_sim_driver_state (submitted->ext, driver_state, sizeof driver_state);
    assert_string_equal (driver_state, "RELAUNCHING");
    s_sim_driver_state (done->ext, driver_state, sizeof driver_state);
    assert_string_equal (driver_state, "FINISHED");
    assert_non_null (unknown->error);
    assert_non_null (strstr (unknown->error, "relaunched"));
    print_message ("relaunch: %s followed from %s to %s\n", followed, submitted->ext, done->ext);

    jobd_event_t *lost = s_wait_transition (sub, seen, blind, JOBD_STATE_LOST, 10000);
    assert_non_null (lost->error);
    assert_non_null (strstr (lost->error, "cannot see"));
    print_message ("relaunch without ui_url: %s\n", lost->error);

    jobd_event_destroy (&submitted);
    jobd_event_destroy (&unknown);
    jobd_event_destroy (&done);
    jobd_event_destroy (&lost);
    zlistx_destroy (&seen);
    zsock_destroy (&sub);
    assert_int_equal (harness_stop (&harness, SIGTERM, 10000), 0);
    //  What a restart reads: the new driver's id.
    jobd_job_t *job = s_stored (&harness, followed, NULL, NULL);
    s_sim_driver_state (job->ext, driver_state, sizeof driver_state);
    assert_string_equal (driver_state, "FINISHED");
    jobd_job_destroy (&job);
    harness_fini (&harness);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_livy_restart_finds_the_batch),
        cmocka_unit_test (test_standalone_restart_is_not_resent),
        cmocka_unit_test (test_standalone_stop_waits_for_the_create),
        cmocka_unit_test (test_standalone_restart_adopts_the_driver),
        cmocka_unit_test (test_standalone_restart_pairs_alike_drivers),
        cmocka_unit_test (test_relaunch),
    };
    return cmocka_run_group_tests (tests, s_setup, s_teardown);
}
