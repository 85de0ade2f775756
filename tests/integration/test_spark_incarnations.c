//  spark-poller across backend restarts that reuse ids (issue 13, item 4): Livy restarted without
//  recovery numbers its batches from 0 again while jobs are in flight and finished jobs hold the
//  same ids; new jobs are followed to their end, the job whose batch Livy forgot goes LOST saying
//  why, and no observation is refused. The YARN RM's new cluster timestamp keeps its ids apart. A
//  restarted standalone master that gives a finished job's driver id again (same second): the
//  refused observation is kept on the new job's record and `jobctl show` prints it.
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
#include <time.h>
#include <unistd.h>

static harness_proc_t s_sim;
static int s_port;

static json_t *
s_sim_call (const char *method, const char *path, const char *body)
{
    json_t *reply = harness_spark_call (s_port, method, path, body);
    if (!reply)
        fail_msg ("spark-sim %s %s failed (above)", method, path);
    return reply;
}

static int
s_setup (void **state)
{
    static harness_t sim_dir;
    harness_init (&sim_dir, "spark-incarnations-sim");
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

//  jobd with Livy, YARN and a standalone master on the simulator. With a long lost_after, a job
//  that goes LOST within the tests' deadlines did so because the poller knew its batch was gone,
//  not after the grace.
static void
s_start_losing (harness_t *harness, const char *lost_after)
{
    char extra[2048];
    snprintf (extra, sizeof extra,
              "plugins\n"
              "    spark-poller\n"
              "        path = %s/plugins/spark-poller.so\n"
              "        interval_min = 50ms\n"
              "        interval_max = 200ms\n"
              "        list_interval = 200ms\n"
              "        lost_after = %s\n"
              "        backend\n"
              "            livy\n"
              "                type = livy\n"
              "                url = http://127.0.0.1:%d\n"
              "            yarn\n"
              "                type = yarn\n"
              "                url = http://127.0.0.1:%d\n"
              "            master\n"
              "                type = standalone\n"
              "                url = http://127.0.0.1:%d\n"
              "                master = spark://127.0.0.1:7077\n",
              harness_build_dir (), lost_after, s_port, s_port, s_port);
    harness_write_config (harness, extra);
    assert_true (harness_start (harness) > 0);
    assert_true (harness_wait_ready (harness, 10000));
}

static void
s_start (harness_t *harness)
{
    s_start_losing (harness, "120s");
}

//  Sends one event (consumed) to the admin endpoint; writes the job it names to id.
static void
s_send (harness_t *harness, jobd_event_t *event, char *id, size_t size)
{
    uint8_t *data;
    size_t data_size;
    assert_int_equal (jobd_event_encode (event, &data, &data_size, NULL, 0), 0);
    msgpack_unpacked reply;
    msgpack_unpacked_init (&reply);
    assert_int_equal (harness_request (harness, data, data_size, &reply, 5000), 0);
    assert_true (jobd_map_string (&reply.data, "job", id, size));
    msgpack_unpacked_destroy (&reply);
    free (data);
    jobd_event_destroy (&event);
}

static void
s_submit_to (harness_t *harness, const char *backend, const char *scenario, char *id, size_t size)
{
    assert_int_equal (
        harness_spark_submit (harness, backend, "com.example.Etl", scenario, id, size), 0);
}

static void
s_submit (harness_t *harness, const char *scenario, char *id, size_t size)
{
    s_submit_to (harness, "livy", scenario, id, size);
}

//  The job's record from the store (jobd stopped). Fresh.
static jobd_job_t *
s_stored (harness_t *harness, const char *id)
{
    jobd_store_t *store = NULL;
    char reason[256];
    assert_int_equal (
        jobd_store_open (harness->store, JOBD_STORE_RDONLY, 0, &store, reason, sizeof reason), 0);
    jobd_job_t *job = NULL;
    assert_int_equal (jobd_store_job_get (store, id, &job), 0);
    jobd_store_destroy (&store);
    return job;
}

//  The batch id of a Livy job's ext ("ID@NAME").
static long
s_batch (const jobd_job_t *job)
{
    assert_non_null (job->ext);
    return strtol (job->ext, NULL, 10);
}

static void
test_livy_restart_reuses_ids (void **state)
{
    (void)state;
    harness_t harness;
    harness_init (&harness, "spark-incarnations-livy");
    s_start (&harness);
    //  Before: one job finished (batch 0), one running (batch 1).
    char done[64], flying[64], late[64], later[64];
    s_submit (&harness, "queue=50,run=100,outcome=success", done, sizeof done);
    assert_true (harness_wait_count (&harness, JOBD_STATE_SUCCEEDED, 1, 10000));
    s_submit (&harness, "queue=50,run=600000,outcome=success", flying, sizeof flying);
    assert_true (harness_wait_count (&harness, JOBD_STATE_RUNNING, 1, 10000));

    //  Livy restarts without recovery: batch ids start at 0 again.
    json_decref (s_sim_call ("POST", "/sim/restart", "{\"backend\":\"livy\"}"));
    s_submit (&harness, "queue=50,run=600000,outcome=success", late, sizeof late);
    s_submit (&harness, "queue=50,run=600000,outcome=success", later, sizeof later);

    //  The new jobs run (their batches took ids 0 and 1); the job whose batch Livy forgot is LOST
    //  long before lost_after, saying why.
    //  LOST first: until the forgotten job is LOST it counts among the RUNNING (under load the
    //  two RUNNING could be it and one new job, the other still on its way).
    assert_true (harness_wait_count (&harness, JOBD_STATE_LOST, 1, 10000));
    assert_true (harness_wait_count (&harness, JOBD_STATE_RUNNING, 2, 10000));
    assert_int_equal (harness_count (&harness, JOBD_STATE_QUEUED), 0);
    assert_int_equal (harness_stop (&harness, SIGTERM, 10000), 0);

    jobd_job_t *old_done = s_stored (&harness, done), *old_flying = s_stored (&harness, flying);
    jobd_job_t *new_late = s_stored (&harness, late), *new_later = s_stored (&harness, later);
    assert_int_equal (old_done->state, JOBD_STATE_SUCCEEDED);
    assert_int_equal (old_flying->state, JOBD_STATE_LOST);
    assert_non_null (old_flying->error);
    assert_non_null (strstr (old_flying->error, "restarted"));
    assert_int_equal (new_late->state, JOBD_STATE_RUNNING);
    assert_int_equal (new_later->state, JOBD_STATE_RUNNING);
    //  The ids were reused, and every job kept its own ext.
    assert_int_equal (s_batch (new_late), s_batch (old_done));
    assert_int_equal (s_batch (new_later), s_batch (old_flying));
    assert_string_not_equal (new_late->ext, old_done->ext);
    assert_string_not_equal (new_later->ext, old_flying->ext);
    jobd_job_t *all[] = {old_done, old_flying, new_late, new_later};
    for (int index = 0; index < 4; index++) {
        assert_null (all[index]->conflict); //  no observation was refused
        print_message ("livy restart: %s %s ext %s%s%s\n", all[index]->id,
                       jobd_state_name (all[index]->state), all[index]->ext,
                       all[index]->error ? ": " : "", all[index]->error ? all[index]->error : "");
        jobd_job_destroy (&all[index]);
    }
    assert_false (harness_log_contains (&harness, "already exists"));
    harness_fini (&harness);
}

//  Tracks a backend's job in state (NONE: the default, SUBMITTED); writes the job id.
static void
s_track_on (harness_t *harness, const char *backend, const char *ext, jobd_state_t state, char *id,
            size_t size)
{
    jobd_event_t *track = jobd_event_new (JOBD_EVENT_TRACK);
    jobd_event_set (&track->source, "test");
    jobd_event_set (&track->kind, "spark");
    jobd_event_set (&track->backend, backend);
    jobd_event_set (&track->ext, ext);
    track->state = state;
    s_send (harness, track, id, size);
}

static void
s_track (harness_t *harness, const char *app, char *id, size_t size)
{
    s_track_on (harness, "yarn", app, JOBD_STATE_NONE, id, size);
}

//  A new YARN application of the simulator; writes its id.
static void
s_yarn_app (const char *scenario, char *app, size_t size)
{
    char body[256];
    snprintf (body, sizeof body,
              "{\"backend\":\"yarn\",\"count\":1,\"tags\":[\"jobd\"],\"scenario\":\"%s\"}",
              scenario);
    json_t *made = s_sim_call ("POST", "/sim/jobs", body);
    snprintf (app, size, "%s",
              json_string_value (json_array_get (json_object_get (made, "ids"), 0)));
    json_decref (made);
}

//  YARN: the RM's ids carry its cluster timestamp (its start time): after a restart without
//  recovery the sequence numbers start at 1 again, but no id is reused, so tracking the new
//  applications never collides with the old jobs, finished or in flight. The job whose
//  application the RM forgot goes LOST after the grace, saying the RM restarted.
static void
test_yarn_restart_new_cluster_timestamp (void **state)
{
    (void)state;
    harness_t harness;
    harness_init (&harness, "spark-incarnations-yarn");
    s_start_losing (&harness, "2s");
    char done_app[128], flying_app[128], done[64], flying[64];
    s_yarn_app ("queue=10,run=50,outcome=success", done_app, sizeof done_app);
    s_yarn_app ("queue=10,run=600000,outcome=success", flying_app, sizeof flying_app);
    s_track (&harness, done_app, done, sizeof done);
    s_track (&harness, flying_app, flying, sizeof flying);
    assert_true (harness_wait_count (&harness, JOBD_STATE_SUCCEEDED, 1, 10000));
    assert_true (harness_wait_count (&harness, JOBD_STATE_RUNNING, 1, 10000));

    json_decref (s_sim_call ("POST", "/sim/restart", "{\"backend\":\"yarn\"}"));
    char new_done_app[128], new_flying_app[128], new_done[64], new_flying[64];
    s_yarn_app ("queue=10,run=50,outcome=success", new_done_app, sizeof new_done_app);
    s_yarn_app ("queue=10,run=600000,outcome=success", new_flying_app, sizeof new_flying_app);
    //  Numbered from 1 again, under a new cluster timestamp.
    assert_string_equal (strrchr (new_done_app, '_'), "_0001");
    assert_true (strncmp (new_done_app, done_app, strrchr (done_app, '_') - done_app) != 0);
    s_track (&harness, new_done_app, new_done, sizeof new_done);
    s_track (&harness, new_flying_app, new_flying, sizeof new_flying);
    assert_true (harness_wait_count (&harness, JOBD_STATE_SUCCEEDED, 2, 10000));
    assert_true (harness_wait_count (&harness, JOBD_STATE_LOST, 1, 10000));
    assert_true (harness_wait_count (&harness, JOBD_STATE_RUNNING, 1, 10000));
    assert_int_equal (harness_stop (&harness, SIGTERM, 10000), 0);
    jobd_job_t *old_flying = s_stored (&harness, flying), *young = s_stored (&harness, new_flying);
    //  The old job did not take the new application's states: LOST after the grace, saying why.
    assert_int_equal (old_flying->state, JOBD_STATE_LOST);
    assert_int_equal (young->state, JOBD_STATE_RUNNING);
    assert_non_null (old_flying->error);
    print_message ("yarn restart: %s: %s\n", old_flying->id, old_flying->error);
    assert_non_null (strstr (old_flying->error, "ResourceManager restarted"));
    assert_string_equal (old_flying->ext, flying_app);
    assert_string_equal (young->ext, new_flying_app);
    assert_null (old_flying->conflict);
    assert_null (young->conflict);
    jobd_job_destroy (&old_flying);
    jobd_job_destroy (&young);
    harness_fini (&harness);
}

//  A new Livy batch of the simulator named name; returns its id.
static long
s_livy_batch (const char *name, const char *scenario)
{
    char body[256];
    snprintf (body, sizeof body,
              "{\"backend\":\"livy\",\"count\":1,\"name\":\"%s\",\"scenario\":\"%s\"}", name,
              scenario);
    json_t *made = s_sim_call ("POST", "/sim/jobs", body);
    long id =
        strtol (json_string_value (json_array_get (json_object_get (made, "ids"), 0)), NULL, 10);
    json_decref (made);
    return id;
}

//  Livy, a batch jobd did not create (`jobctl track`, a plain id): Livy restarts and gives its
//  id to a batch of another name; the job goes LOST saying so, instead of taking the other
//  batch's states.
static void
test_livy_restart_tracked_batch (void **state)
{
    (void)state;
    harness_t harness;
    harness_init (&harness, "spark-incarnations-livy-track");
    s_start (&harness);
    json_decref (s_sim_call ("POST", "/sim/restart", "{\"backend\":\"livy\"}"));
    long id = s_livy_batch ("etl-nightly", "queue=10,run=600000,outcome=success");
    char ext[32], tracked[64];
    snprintf (ext, sizeof ext, "%ld", id);
    s_track_on (&harness, "livy", ext, JOBD_STATE_NONE, tracked, sizeof tracked);
    assert_true (harness_wait_count (&harness, JOBD_STATE_RUNNING, 1, 10000));
    json_decref (s_sim_call ("POST", "/sim/restart", "{\"backend\":\"livy\"}"));
    assert_int_equal (s_livy_batch ("someone-else", "queue=10,run=50,outcome=fail"), id);
    assert_true (harness_wait_count (&harness, JOBD_STATE_LOST, 1, 10000));
    assert_int_equal (harness_stop (&harness, SIGTERM, 10000), 0);
    jobd_job_t *job = s_stored (&harness, tracked);
    assert_int_equal (job->state, JOBD_STATE_LOST);
    assert_non_null (job->error);
    assert_non_null (strstr (job->error, "someone-else"));
    print_message ("livy restart, tracked: %s: %s\n", job->id, job->error);
    jobd_job_destroy (&job);
    harness_fini (&harness);
}

//  Writes, into the store of a stopped jobd, a new job and an observation that gives it the ext
//  another job holds, as a source that knows nothing of restarts would; writes the job's id and
//  returns the store's code for the observation.
static int
s_observe_taken (harness_t *harness, const char *ext, char *id, size_t size)
{
    jobd_store_t *store = NULL;
    char reason[256];
    assert_int_equal (jobd_store_open (harness->store, 0, 0, &store, reason, sizeof reason), 0);
    jobd_event_t *submit = jobd_event_new (JOBD_EVENT_SUBMIT);
    jobd_event_set (&submit->source, "test");
    jobd_event_set (&submit->kind, "elsewhere");
    jobd_event_set (&submit->spec, "{}");
    jobd_apply_result_t result;
    assert_int_equal (jobd_store_begin (store), 0);
    assert_int_equal (jobd_store_apply (store, submit, &result), 0);
    snprintf (id, size, "%s", result.job);
    jobd_apply_result_clear (&result);
    jobd_event_t *observed = jobd_event_new (JOBD_EVENT_OBSERVED);
    jobd_event_set (&observed->source, "elsewhere");
    jobd_event_set (&observed->job, id);
    jobd_event_set (&observed->backend, "master");
    jobd_event_set (&observed->ext, ext);
    observed->state = JOBD_STATE_RUNNING;
    int rc = jobd_store_apply (store, observed, &result);
    assert_int_equal (jobd_store_commit (store), 0);
    jobd_apply_result_clear (&result);
    jobd_event_destroy (&submit);
    jobd_event_destroy (&observed);
    jobd_store_destroy (&store);
    return rc;
}

//  Restarts the master, then, at the start of a simulated second, tracks a finished job holding
//  the driver id the master will give next (done) and submits a job (young) that gets it.
//  Returns true when it did (within that second); the driver id is written to driver.
static bool
s_reuse_a_driver_id (harness_t *harness, int tries, char *done, char *young, char *driver)
{
    json_decref (s_sim_call ("POST", "/sim/restart", "{\"backend\":\"standalone\"}"));
    json_t *clock = s_sim_call ("GET", "/sim/clock", NULL);
    int64_t now = json_integer_value (json_object_get (clock, "now"));
    json_decref (clock);
    char advance[64];
    snprintf (advance, sizeof advance, "{\"advance_ms\":%lld}", (long long)(1000 - now % 1000));
    json_decref (s_sim_call ("POST", "/sim/clock", advance));
    time_t second = (time_t)(now / 1000 + 1);
    struct tm tm;
    localtime_r (&second, &tm);
    char stamp[16], given[128];
    strftime (stamp, sizeof stamp, "%Y%m%d%H%M%S", &tm);
    snprintf (driver, 64, "driver-%s-0000", stamp);
    s_track_on (harness, "master", driver, JOBD_STATE_SUCCEEDED, done, 64);
    s_submit_to (harness, "master", "queue=50,run=100,outcome=success", young, 64);
    assert_true (harness_wait_count (harness, JOBD_STATE_SUCCEEDED, 2 * tries, 10000));
    snprintf (given, sizeof given, "gave driver id %s", driver);
    return harness_log_contains (harness, given);
}

//  Standalone: a restarted master numbers its drivers from 0 again; within the same second it
//  gives a finished job's driver id again. The new job follows its driver under "ID@TAG" to its
//  end, the finished job keeps its record; an observation that still collides (from a source
//  that knows nothing of it) is refused, kept on the job's record, and `jobctl show` prints it.
static void
test_standalone_restart_reuses_a_driver_id (void **state)
{
    (void)state;
    harness_t harness;
    harness_init (&harness, "spark-incarnations-standalone");
    s_start (&harness);
    //  A create answered in a later second than the one predicted (a loaded machine) gets a
    //  fresh id: the master is restarted and the case set up again, a few times at most.
    char done[64], young[64], driver[64];
    bool reused = false;
    for (int tries = 1; !reused && tries <= 5; tries++)
        reused = s_reuse_a_driver_id (&harness, tries, done, young, driver);
    assert_true (reused);
    assert_false (harness_log_contains (&harness, "already exists"));
    assert_int_equal (harness_stop (&harness, SIGTERM, 10000), 0);

    jobd_job_t *finished = s_stored (&harness, done), *followed = s_stored (&harness, young);
    assert_int_equal (finished->state, JOBD_STATE_SUCCEEDED);
    assert_string_equal (finished->ext, driver);
    char ext[200];
    snprintf (ext, sizeof ext, "%s@jobd-%s", driver, young);
    assert_string_equal (followed->ext, ext);
    assert_null (finished->conflict);
    assert_null (followed->conflict);
    print_message ("standalone restart: %s %s, %s %s\n", finished->id, finished->ext, followed->id,
                   followed->ext);
    jobd_job_destroy (&finished);
    jobd_job_destroy (&followed);

    //  Never silently: a colliding observation is kept on the job's record.
    char other[64];
    assert_int_equal (s_observe_taken (&harness, driver, other, sizeof other), JOBD_EEXIST);
    char binary[512], out[65536], err[4096];
    char *argv[] = {(char *)harness_bin ("jobctl", binary, sizeof binary),
                    "--run-dir",
                    harness.run_dir,
                    "--store",
                    harness.store,
                    "show",
                    other,
                    NULL};
    assert_int_equal (harness_run (argv, out, sizeof out, err, sizeof err, 10000), 0);
    char *line = strstr (out, "conflict:     ");
    if (!line || !strstr (line, driver) || !strstr (line, done))
        fail_msg ("jobctl show %s has no conflict naming %s and %s:\n%s%s", other, driver, done,
                  out, err);
    print_message ("%s", line);
    harness_fini (&harness);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_livy_restart_reuses_ids),
        cmocka_unit_test (test_livy_restart_tracked_batch),
        cmocka_unit_test (test_yarn_restart_new_cluster_timestamp),
        cmocka_unit_test (test_standalone_restart_reuses_a_driver_id),
    };
    return cmocka_run_group_tests (tests, s_setup, s_teardown);
}
