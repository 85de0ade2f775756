//  Resubmission, never twice (issue 14, item 4): a job's next attempt is submitted by the
//  spark-poller under its own tag, exactly once, whenever jobd is SIGKILLed: right after the
//  attempt's QUEUED transition, while its create is at the backend, and after the backend
//  answered it but before SUBMITTED was committed. Attempt 1's driver or batch is never taken
//  for attempt 2's, nor created again. A job in RETRY_WAIT is never submitted; cancelled there,
//  it never runs again. Standalone (with the master's UI) and Livy, on spark-sim.
#include "harness_spark.h"
#include "jobd_map.h"
#include "jobd_store.h"
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <jansson.h>
#include <signal.h>
#include <string.h>

static harness_proc_t s_sim;
static int s_port;

//  Every attempt fails for too little memory (spark-sim's min_memory): what the sim says of it
//  is the job's end. A standalone failure shows its reason only as ERROR (spark-sim README).
//  Each attempt runs for longer than the poller's clock slack (SP_SEEK_CLOCK_SLACK), so that
//  attempt 1's driver started well before attempt 2 was queued.
#define S_SCENARIO_STANDALONE "queue=50,run=600,min_memory=6g,final=ERROR"
#define S_SCENARIO_LIVY       "queue=50,run=600,min_memory=6g"
#define S_OOM                 "java.lang.OutOfMemoryError: Java heap space"

typedef struct {
    const char *backend;  //  jobd's backend name
    const char *sim;      //  spark-sim's backend, for faults
    const char *prefix;   //  the create's path, for faults
    const char *create;   //  the create's endpoint, for /sim/stats
    const char *scenario; //  spark.sim.scenario
} s_backend_t;

static const s_backend_t s_standalone = {"masterui", "standalone", "/v1/submissions/create",
                                         "POST /v1/submissions/create", S_SCENARIO_STANDALONE};
static const s_backend_t s_livy = {"livy", "livy", "/batches", "POST /batches", S_SCENARIO_LIVY};

static int
s_setup (void **state)
{
    static harness_t sim_dir;
    harness_init (&sim_dir, "retry-resubmit-sim");
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

//  jobd's config: a standalone master with its web UI, and Livy, on the simulator.
static void
s_start (harness_t *harness, const char *list_interval)
{
    char extra[2048];
    snprintf (extra, sizeof extra,
              "plugins\n"
              "    spark-poller\n"
              "        path = %s/plugins/spark-poller.so\n"
              "        interval_min = 50ms\n"
              "        interval_max = 200ms\n"
              "        list_interval = %s\n"
              "        lost_after = 60s\n"
              "        backend\n"
              "            masterui\n"
              "                type = standalone\n"
              "                url = http://127.0.0.1:%d\n"
              "                ui_url = http://127.0.0.1:%d\n"
              "                master = spark://127.0.0.1:7077\n"
              "            livy\n"
              "                type = livy\n"
              "                url = http://127.0.0.1:%d\n",
              harness_build_dir (), list_interval, s_port, s_port, s_port);
    harness_write_config (harness, extra);
    assert_true (harness_start (harness) > 0);
    assert_true (harness_wait_ready (harness, 10000));
}

//  Sends one event (consumed) to the admin endpoint; writes the reply's outcome, or its error
//  name, into outcome.
static void
s_send (harness_t *harness, jobd_event_t **event_p, char *outcome, size_t size)
{
    uint8_t *data;
    size_t data_size;
    assert_int_equal (jobd_event_encode (*event_p, &data, &data_size, NULL, 0), 0);
    msgpack_unpacked reply;
    msgpack_unpacked_init (&reply);
    assert_int_equal (harness_request (harness, data, data_size, &reply, 5000), 0);
    if (!jobd_map_string (&reply.data, "error", outcome, size))
        assert_true (jobd_map_string (&reply.data, "outcome", outcome, size));
    msgpack_unpacked_destroy (&reply);
    free (data);
    jobd_event_destroy (event_p);
}

//  A command (retry, cancel) or an observation of job in state (0: none) from the test.
static void
s_command (harness_t *harness, jobd_event_type_t type, const char *job, jobd_state_t state,
           char *outcome, size_t size)
{
    jobd_event_t *event = jobd_event_new (type);
    jobd_event_set (&event->source, "test");
    jobd_event_set (&event->job, job);
    event->state = state;
    s_send (harness, &event, outcome, size);
}

//  Submits one job of 4g executors to backend; writes its id.
static void
s_submit (harness_t *harness, const s_backend_t *backend, char *id, size_t size)
{
    jobd_event_t *submit = jobd_event_new (JOBD_EVENT_SUBMIT);
    jobd_event_set (&submit->source, "test");
    jobd_event_set (&submit->kind, "spark");
    jobd_event_set (&submit->backend, backend->backend);
    char spec[1024];
    snprintf (spec, sizeof spec,
              "{\"appResource\":\"hdfs:///jobs/etl.jar\",\"mainClass\":\"com.example.Retried\","
              "\"executorMemory\":\"4g\",\"sparkProperties\":{\"spark.sim.scenario\":\"%s\"}}",
              backend->scenario);
    jobd_event_set (&submit->spec, spec);
    assert_int_equal (harness_request_job (harness, &submit, id, size), 0);
}

//  One retried job's test: jobd, a subscription, the job failed in attempt 1, and what the
//  simulator said of its creates before attempt 2.
typedef struct {
    harness_t harness;
    const s_backend_t *backend;
    zsock_t *sub;
    zlistx_t *seen;
    char id[64];
    char tags[2][128]; //  the creates' keys in /sim/stats of attempts 1 and 2
    int64_t creates;   //  the create endpoint's count before attempt 2
} s_case_t;

static void
s_subscribe (s_case_t *self)
{
    self->sub = harness_subscribe (&self->harness, "job.", 10000);
    assert_non_null (self->sub);
}

//  jobd runs; the job was submitted and failed (attempt 1) at the simulator.
static void
s_case_start (s_case_t *self, const char *name, const s_backend_t *backend)
{
    memset (self, 0, sizeof *self);
    //  Each test's store numbers its jobs from job-1 again: the simulator starts afresh too.
    json_decref (harness_spark_call (s_port, "DELETE", "/sim/jobs", NULL));
    json_decref (harness_spark_call (s_port, "POST", "/sim/stats/reset", NULL));
    harness_init (&self->harness, name);
    self->backend = backend;
    self->seen = zlistx_new ();
    zlistx_set_destructor (self->seen, (zlistx_destructor_fn *)jobd_event_destroy);
    s_start (&self->harness, "200ms");
    s_subscribe (self);
    s_submit (&self->harness, backend, self->id, sizeof self->id);
    assert_true (
        harness_wait_job_attempt (self->sub, self->seen, self->id, JOBD_STATE_FAILED, 1, 10000));
    //  The creates' keys: standalone spark.jobd.tag, Livy the batch name (the tag, no name).
    snprintf (self->tags[0], sizeof self->tags[0], "jobd-%s", self->id);
    snprintf (self->tags[1], sizeof self->tags[1], "jobd-%s-2", self->id);
    assert_int_equal (harness_spark_creates (s_port, self->tags[0]), 1);
    self->creates = harness_spark_count (s_port, backend->create);
}

//  Retries the job (without the retry plugin: at once, FAILED -> RETRY_WAIT -> QUEUED, attempt
//  2), its create slowed at the simulator by delay_ms (0: not), and waits until the create is
//  there (with a delay) or attempt 2's QUEUED transition is published (without).
static void
s_case_retry (s_case_t *self, int delay_ms)
{
    if (delay_ms) {
        char fault[256]; //  POST: the create, not Livy's list on the same path
        snprintf (fault, sizeof fault,
                  "{\"mode\":\"slow\",\"backend\":\"%s\",\"prefix\":\"%s\",\"method\":\"POST\","
                  "\"count\":1,\"delay_ms\":%d}",
                  self->backend->sim, self->backend->prefix, delay_ms);
        json_decref (harness_spark_call (s_port, "POST", "/sim/fault", fault));
    }
    char outcome[32];
    s_command (&self->harness, JOBD_EVENT_RETRY, self->id, 0, outcome, sizeof outcome);
    assert_string_equal (outcome, "changed");
    if (delay_ms)
        assert_true (harness_spark_wait_fault_taken (s_port, 5000));
    else
        assert_true (
            harness_wait_job_attempt (self->sub, self->seen, self->id, JOBD_STATE_QUEUED, 2, 5000));
}

//  jobd runs again (after it was killed) until the job ends in attempt 2; then it stops, and
//  the record (fresh) and its history are read.
static jobd_job_t *
s_case_restart (s_case_t *self, jobd_event_t ***history_p, size_t *count_p)
{
    zsock_destroy (&self->sub);
    s_start (&self->harness, "200ms");
    s_subscribe (self);
    //  Its end: the simulator's verdict, or (standalone, killed before the create went out) the
    //  operator's question: either is FAILED in attempt 2.
    assert_true (
        harness_wait_job_attempt (self->sub, self->seen, self->id, JOBD_STATE_FAILED, 2, 15000));
    zsock_destroy (&self->sub);
    assert_int_equal (harness_stop (&self->harness, SIGTERM, 10000), 0);
    jobd_job_t *job = harness_stored (&self->harness, self->id, history_p, count_p);
    assert_non_null (job);
    return job;
}

//  What never happens, whenever jobd was killed: attempt 1 created again, attempt 2 created
//  twice, attempt 2 following attempt 1's driver or batch, a transition applied twice.
static void
s_case_check (s_case_t *self, const jobd_job_t *job, jobd_event_t **history, size_t count)
{
    assert_int_equal (job->attempt, 2);
    assert_int_equal (job->state, JOBD_STATE_FAILED);
    assert_int_equal (harness_spark_creates (s_port, self->tags[0]), 1);
    int64_t creates = harness_spark_creates (s_port, self->tags[1]);
    assert_true (creates == 0 || creates == 1);
    assert_int_equal (harness_spark_count (s_port, self->backend->create), self->creates + creates);
    //  Attempt 1's id is never attempt 2's.
    const char *first = NULL;
    for (size_t index = 0; index < count; index++)
        if (history[index]->attempt == 1 && history[index]->state == JOBD_STATE_SUBMITTED)
            first = history[index]->ext;
    assert_non_null (first);
    assert_true (!job->ext || strcmp (job->ext, first) != 0);
    //  Each attempt's history: QUEUED once, then onwards; never the same move twice.
    size_t queued[3] = {0};
    for (size_t index = 0; index < count; index++) {
        jobd_event_t *step = history[index];
        assert_true (step->attempt == 1 || step->attempt == 2);
        queued[step->attempt] += step->state == JOBD_STATE_QUEUED;
        if (index)
            assert_false (step->state == history[index - 1]->state &&
                          step->attempt == history[index - 1]->attempt);
    }
    assert_int_equal (queued[1], 1);
    assert_int_equal (queued[2], 1);
    if (creates == 1) {
        //  Created once: the job ended as the simulator ran it, on attempt 2's own id.
        assert_non_null (job->error);
        assert_non_null (strstr (job->error, S_OOM));
        assert_non_null (job->ext);
        if (strcmp (self->backend->sim, "livy") == 0)
            assert_non_null (strstr (job->ext, self->tags[1]));
    } else {
        //  Never created: only a standalone master, killed between the mark and the request,
        //  leaves jobd unable to tell; it asks the operator rather than risk a second driver.
        assert_string_equal (self->backend->sim, "standalone");
        assert_non_null (job->error);
        assert_non_null (strstr (job->error, "may have reached the master"));
    }
    print_message ("%s %s: attempt 2 created %lld time(s), ended: %.120s\n", self->backend->sim,
                   self->id, (long long)creates, job->error ? job->error : "");
}

static void
s_case_end (s_case_t *self)
{
    zsock_destroy (&self->sub);
    zlistx_destroy (&self->seen);
    harness_fini (&self->harness);
}

//  After jobd was killed: restarted until the job ends in attempt 2, then checked (s_case_check);
//  created: attempt 2's create certainly reached the simulator before the kill.
static void
s_case_finish (s_case_t *self, bool created)
{
    jobd_event_t **history = NULL;
    size_t count = 0;
    jobd_job_t *job = s_case_restart (self, &history, &count);
    if (created)
        assert_int_equal (harness_spark_creates (s_port, self->tags[1]), 1);
    s_case_check (self, job, history, count);
    jobd_store_history_free (&history, count);
    jobd_job_destroy (&job);
    s_case_end (self);
}

//  (a) SIGKILL right after attempt 2's QUEUED transition is published.
static void
s_killed_at_queued (const s_backend_t *backend)
{
    s_case_t self;
    s_case_start (&self, "retry-resubmit-queued", backend);
    s_case_retry (&self, 0);
    assert_int_equal (harness_stop (&self.harness, SIGKILL, 5000), 128 + SIGKILL);
    s_case_finish (&self, false);
}

//  (b) SIGKILL while attempt 2's create is at the backend, which makes the job after jobd died.
static void
s_killed_mid_create (const s_backend_t *backend)
{
    s_case_t self;
    s_case_start (&self, "retry-resubmit-create", backend);
    s_case_retry (&self, 1000);
    assert_int_equal (harness_stop (&self.harness, SIGKILL, 5000), 128 + SIGKILL);
    assert_true (harness_spark_wait (s_port, NULL, self.tags[1], 1, 5000));
    //  jobd's record: attempt 2, QUEUED with its mark (the tag), no backend id.
    jobd_job_t *job = harness_stored (&self.harness, self.id, NULL, NULL);
    assert_non_null (job);
    assert_int_equal (job->attempt, 2);
    assert_int_equal (job->state, JOBD_STATE_QUEUED);
    assert_string_equal (job->ext, self.tags[1]);
    jobd_job_destroy (&job);
    s_case_finish (&self, true);
}

//  (c) SIGKILL after the backend answered attempt 2's create, before SUBMITTED was committed:
//  jobd is stopped (SIGSTOP) while the create is at the simulator, the answer is sent to the
//  stopped process, and it is killed without reading it.
static void
s_killed_after_answer (const s_backend_t *backend)
{
    s_case_t self;
    s_case_start (&self, "retry-resubmit-answered", backend);
    s_case_retry (&self, 300);
    assert_int_equal (kill (self.harness.pid, SIGSTOP), 0);
    assert_true (harness_spark_wait (s_port, backend->create, NULL, self.creates + 1, 5000));
    assert_int_equal (harness_stop (&self.harness, SIGKILL, 5000), 128 + SIGKILL);
    jobd_job_t *job = harness_stored (&self.harness, self.id, NULL, NULL);
    assert_non_null (job);
    assert_int_equal (job->state, JOBD_STATE_QUEUED); //  the answer was never applied
    jobd_job_destroy (&job);
    s_case_finish (&self, true);
}

static void
test_standalone_killed_at_queued (void **state)
{
    s_killed_at_queued (&s_standalone);
}

static void
test_livy_killed_at_queued (void **state)
{
    s_killed_at_queued (&s_livy);
}

static void
test_standalone_killed_mid_create (void **state)
{
    s_killed_mid_create (&s_standalone);
}

static void
test_livy_killed_mid_create (void **state)
{
    s_killed_mid_create (&s_livy);
}

static void
test_standalone_killed_after_answer (void **state)
{
    s_killed_after_answer (&s_standalone);
}

static void
test_livy_killed_after_answer (void **state)
{
    s_killed_after_answer (&s_livy);
}

//  Livy still holds attempt 1's batch under its name when attempt 2 is created: attempt 2's
//  name carries its own tag, so Livy does not refuse it as a duplicate (reference 3.3).
static void
test_livy_names_per_attempt (void **state)
{
    s_case_t self;
    s_case_start (&self, "retry-resubmit-names", &s_livy);
    s_case_retry (&self, 0);
    assert_true (
        harness_wait_job_attempt (self.sub, self.seen, self.id, JOBD_STATE_FAILED, 2, 10000));
    json_t *batches = harness_spark_call (s_port, "GET", "/batches?from=0&size=100000", NULL);
    size_t index, named = 0;
    json_t *batch;
    json_array_foreach (json_object_get (batches, "sessions"), index, batch)
    {
        const char *name = json_string_value (json_object_get (batch, "name"));
        named += name && (!strcmp (name, self.tags[0]) || !strcmp (name, self.tags[1]));
    }
    json_decref (batches);
    assert_int_equal (named, 2); //  both held at once
    assert_int_equal (harness_spark_creates (s_port, self.tags[1]), 1);
    assert_int_equal (harness_stop (&self.harness, SIGTERM, 10000), 0);
    s_case_end (&self);
}

//  A job in RETRY_WAIT is not submitted, also across a SIGKILL and a restart; cancelled there,
//  it never runs again; only its QUEUED attempt is submitted. Without the retry plugin, the
//  test moves the job itself (observations: the store's state machine takes FAILED ->
//  RETRY_WAIT -> QUEUED as the retry timer would).
static void
s_retry_wait (const s_backend_t *backend)
{
    s_case_t self;
    s_case_start (&self, "retry-resubmit-wait", backend);
    char outcome[32];
    s_command (&self.harness, JOBD_EVENT_OBSERVED, self.id, JOBD_STATE_RETRY_WAIT, outcome,
               sizeof outcome);
    assert_string_equal (outcome, "changed");
    assert_true (
        harness_wait_job_attempt (self.sub, self.seen, self.id, JOBD_STATE_RETRY_WAIT, 1, 5000));
    assert_int_equal (harness_stop (&self.harness, SIGKILL, 5000), 128 + SIGKILL);
    zsock_destroy (&self.sub);
    s_start (&self.harness, "200ms");
    s_subscribe (&self);
    //  A second job submitted and created after the restart: by then the poller has looked at
    //  every stored job (its start-up scan comes first), and the waiting one was not sent.
    char other[64];
    s_submit (&self.harness, backend, other, sizeof other);
    assert_true (harness_wait_job_state (self.sub, self.seen, other, JOBD_STATE_SUBMITTED, 5000));
    assert_int_equal (harness_spark_creates (s_port, self.tags[1]), 0);
    assert_int_equal (harness_spark_count (s_port, backend->create), self.creates + 1);

    //  Cancelled while waiting: CANCELLED, and no retry, submit or restart brings it back.
    s_command (&self.harness, JOBD_EVENT_CANCEL, self.id, 0, outcome, sizeof outcome);
    assert_string_equal (outcome, "changed");
    assert_true (harness_wait_job_state (self.sub, self.seen, self.id, JOBD_STATE_CANCELLED, 5000));
    s_command (&self.harness, JOBD_EVENT_RETRY, self.id, 0, outcome, sizeof outcome);
    assert_string_equal (outcome, "ESTATE");
    s_command (&self.harness, JOBD_EVENT_OBSERVED, self.id, JOBD_STATE_QUEUED, outcome,
               sizeof outcome);
    assert_string_equal (outcome, "backward");
    assert_int_equal (harness_stop (&self.harness, SIGKILL, 5000), 128 + SIGKILL);
    zsock_destroy (&self.sub);
    s_start (&self.harness, "200ms");
    s_subscribe (&self);
    assert_true (harness_wait_job_state (self.sub, self.seen, other, JOBD_STATE_FAILED, 10000));
    assert_int_equal (harness_stop (&self.harness, SIGTERM, 10000), 0);
    assert_int_equal (harness_spark_creates (s_port, self.tags[1]), 0);
    assert_int_equal (harness_spark_creates (s_port, self.tags[0]), 1);
    jobd_job_t *job = harness_stored (&self.harness, self.id, NULL, NULL);
    assert_non_null (job);
    assert_int_equal (job->state, JOBD_STATE_CANCELLED);
    assert_int_equal (job->attempt, 1);
    jobd_job_destroy (&job);
    s_case_end (&self);
}

static void
test_standalone_retry_wait (void **state)
{
    s_retry_wait (&s_standalone);
}

static void
test_livy_retry_wait (void **state)
{
    s_retry_wait (&s_livy);
}

//  A job jobd did not submit (registered with track: no spec) is not submitted again when it is
//  retried: its next attempt fails at once, saying why, and nothing reaches the master.
static void
test_tracked_job_is_not_resubmitted (void **state)
{
    harness_t harness;
    json_decref (harness_spark_call (s_port, "POST", "/sim/stats/reset", NULL));
    harness_init (&harness, "retry-resubmit-tracked");
    json_t *made = harness_spark_call (s_port, "POST", "/sim/jobs",
                                       "{\"backend\":\"standalone\",\"count\":1,\"scenario\":"
                                       "\"queue=50,run=100,outcome=fail\"}");
    assert_non_null (made);
    char driver[128];
    snprintf (driver, sizeof driver, "%s",
              json_string_value (json_array_get (json_object_get (made, "ids"), 0)));
    json_decref (made);
    s_start (&harness, "200ms");
    zsock_t *sub = harness_subscribe (&harness, "job.", 10000);
    assert_non_null (sub);
    zlistx_t *seen = zlistx_new ();
    zlistx_set_destructor (seen, (zlistx_destructor_fn *)jobd_event_destroy);
    jobd_event_t *track = jobd_event_new (JOBD_EVENT_TRACK);
    jobd_event_set (&track->source, "test");
    jobd_event_set (&track->kind, "spark");
    jobd_event_set (&track->backend, "masterui");
    jobd_event_set (&track->ext, driver);
    char id[64], outcome[32];
    assert_int_equal (harness_request_job (&harness, &track, id, sizeof id), 0);
    assert_true (harness_wait_job_attempt (sub, seen, id, JOBD_STATE_FAILED, 1, 10000));
    s_command (&harness, JOBD_EVENT_RETRY, id, 0, outcome, sizeof outcome);
    assert_string_equal (outcome, "changed");
    assert_true (harness_wait_job_attempt (sub, seen, id, JOBD_STATE_FAILED, 2, 10000));
    zsock_destroy (&sub);
    zlistx_destroy (&seen);
    assert_int_equal (harness_stop (&harness, SIGTERM, 10000), 0);
    assert_int_equal (harness_spark_count (s_port, s_standalone.create), 0);
    jobd_job_t *job = harness_stored (&harness, id, NULL, NULL);
    assert_non_null (job);
    assert_non_null (job->error);
    assert_non_null (strstr (job->error, "cannot submit it again"));
    print_message ("tracked %s, retried: %s\n", id, job->error);
    jobd_job_destroy (&job);
    harness_fini (&harness);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_standalone_killed_at_queued),
        cmocka_unit_test (test_livy_killed_at_queued),
        cmocka_unit_test (test_standalone_killed_mid_create),
        cmocka_unit_test (test_livy_killed_mid_create),
        cmocka_unit_test (test_standalone_killed_after_answer),
        cmocka_unit_test (test_livy_killed_after_answer),
        cmocka_unit_test (test_livy_names_per_attempt),
        cmocka_unit_test (test_standalone_retry_wait),
        cmocka_unit_test (test_livy_retry_wait),
        cmocka_unit_test (test_tracked_job_is_not_resubmitted),
    };
    return cmocka_run_group_tests (tests, s_setup, s_teardown);
}
