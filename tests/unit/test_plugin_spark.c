//  The spark-poller plugin, unit-tested through the mock host: the built spark-poller.so against
//  tools/spark-sim (a standalone master), with the test in the broker's place on the bus.
#include "harness_spark.h"
#include "jobd_error.h"
#include "jobd_mock_host.h"
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <signal.h>
#include <string.h>

#define S_DEADLINE 10000 //  ms: any wait for the plugin, at most

static harness_t s_harness;
static harness_proc_t s_sim;
static int s_port;

static int
s_setup (void **state)
{
    harness_init (&s_harness, "plugin_spark");
    const char *const args[] = {"--scenario", "queue=50,run=1000,outcome=success", NULL};
    s_port = harness_spark_sim (&s_sim, &s_harness, args);
    return s_port > 0 ? 0 : -1;
}

static int
s_teardown (void **state)
{
    kill (s_sim.pid, SIGTERM);
    harness_proc_finish (&s_sim, 10000);
    harness_fini (&s_harness);
    return 0;
}

//  A mock host with spark-poller.so loaded and one standalone backend, "master", on spark-sim.
static jobd_mock_host_t *
s_host (const jobd_plugin_t **plugin_p)
{
    jobd_mock_host_t *host = jobd_mock_host_new ("spark-poller");
    assert_non_null (host);
    char url[64], reason[256] = "";
    snprintf (url, sizeof url, "http://127.0.0.1:%d", s_port);
    jobd_mock_host_set (host, "interval_min", "50ms");
    jobd_mock_host_set (host, "interval_max", "200ms");
    jobd_mock_host_set (host, "status_interval", "100ms");
    jobd_mock_host_set (host, "backend/master/type", "standalone");
    jobd_mock_host_set (host, "backend/master/url", url);
    jobd_mock_host_set (host, "backend/master/master", "spark://127.0.0.1:7077");
    *plugin_p = jobd_mock_host_load (host, "spark-poller", reason, sizeof reason);
    if (!*plugin_p)
        fail_msg ("cannot load: %s", reason);
    return host;
}

static jobd_job_t *
s_queued_job (const char *id)
{
    jobd_job_t *job = jobd_job_new ();
    jobd_event_set (&job->id, id);
    jobd_event_set (&job->name, "etl");
    jobd_event_set (&job->kind, "spark");
    jobd_event_set (&job->backend, "master");
    jobd_event_set (&job->spec, "{\"appResource\":\"hdfs:///jobs/etl.jar\",\"mainClass\":"
                                "\"com.example.Etl\",\"args\":[],\"sparkProperties\":{}}");
    job->state = JOBD_STATE_QUEUED;
    job->attempt = 1;
    return job;
}

//  Publishes job's transition to state, as the broker does once it is durable.
static void
s_publish (jobd_mock_host_t *host, const jobd_job_t *job, jobd_state_t from, uint64_t seq)
{
    jobd_event_t *event = jobd_event_new (JOBD_EVENT_TRANSITION);
    jobd_event_set (&event->source, "test");
    jobd_event_set (&event->job, job->id);
    jobd_event_set (&event->kind, job->kind);
    jobd_event_set (&event->backend, job->backend);
    jobd_event_set (&event->ext, job->ext);
    event->from = from;
    event->state = job->state;
    event->attempt = job->attempt;
    event->seq = seq;
    char topic[256];
    snprintf (topic, sizeof topic, "job.%s.%s", jobd_state_name (job->state), job->id);
    assert_true (jobd_mock_host_subscribed (host, topic, S_DEADLINE));
    assert_int_equal (jobd_mock_host_publish (host, topic, event), 0);
    jobd_event_destroy (&event);
}

//  Starts the plugin with job queued in the store and publishes its QUEUED transition. Returns
//  the submission mark that comes first: an observation of QUEUED with the job's tag as ext,
//  asking for a reply.
static jobd_event_t *
s_start_queued (jobd_mock_host_t *host, const jobd_plugin_t *plugin, const jobd_job_t *job)
{
    char reason[256] = "";
    jobd_mock_host_job_put (host, job);
    assert_int_equal (jobd_mock_host_start (host, plugin, reason, sizeof reason), 0);
    s_publish (host, job, JOBD_STATE_NONE, 1);
    jobd_event_t *mark = jobd_mock_host_expect (host, JOBD_EVENT_OBSERVED, S_DEADLINE);
    assert_non_null (mark);
    assert_string_equal (mark->job, job->id);
    assert_int_equal (mark->state, JOBD_STATE_QUEUED);
    assert_true (mark->reply);
    assert_non_null (mark->ext);
    return mark;
}

//  The store, as the broker keeps it: the mark (the reply says it is durable), then the driver
//  the create made (SUBMITTED, published). Returns the driver id (fresh).
static char *
s_mark_and_create (jobd_mock_host_t *host, jobd_job_t *job, jobd_event_t **mark_p, uint64_t seq)
{
    jobd_event_t *mark = *mark_p;
    jobd_event_set (&job->ext, mark->ext);
    jobd_mock_host_job_put (host, job);
    assert_int_equal (jobd_mock_host_reply (host, mark->id, NULL, NULL, job->id, "duplicate"), 0);
    jobd_event_destroy (mark_p);
    jobd_event_t *event = jobd_mock_host_expect (host, JOBD_EVENT_OBSERVED, S_DEADLINE);
    assert_non_null (event);
    assert_string_equal (event->job, job->id);
    assert_string_equal (jobd_state_name (event->state), "SUBMITTED");
    assert_non_null (event->ext);
    assert_non_null (strstr (event->ext, "driver-"));
    jobd_event_set (&job->ext, event->ext);
    job->state = JOBD_STATE_SUBMITTED;
    jobd_mock_host_job_put (host, job);
    s_publish (host, job, JOBD_STATE_QUEUED, seq);
    char *driver = strdup (event->ext);
    jobd_event_destroy (&event);
    return driver;
}

//  A submitted job followed: RUNNING, then its end (each seen by a poll, recorded and published
//  from seq on). A short run may end between two polls: then the end comes without RUNNING.
static void
s_follow (jobd_mock_host_t *host, jobd_job_t *job, jobd_state_t end, uint64_t seq)
{
    jobd_state_t expected[] = {JOBD_STATE_RUNNING, end};
    for (size_t index = 0; index < 2; index++) {
        jobd_event_t *event = jobd_mock_host_expect (host, JOBD_EVENT_OBSERVED, S_DEADLINE);
        assert_non_null (event);
        if (index == 0 && event->state == end)
            index++;
        assert_string_equal (jobd_state_name (event->state), jobd_state_name (expected[index]));
        job->state = event->state;
        jobd_mock_host_job_put (host, job);
        s_publish (host, job, index ? JOBD_STATE_RUNNING : JOBD_STATE_SUBMITTED, seq + index);
        jobd_event_destroy (&event);
    }
}

//  A queued job: the submission mark first (an observation of QUEUED with the job's tag, which
//  asks for a reply); once the broker says it is durable, the create goes to the master and the
//  driver id it answers comes back as SUBMITTED; then the driver's run is followed to its end.
static void
test_submits_a_queued_job (void **state)
{
    const jobd_plugin_t *plugin;
    jobd_mock_host_t *host = s_host (&plugin);
    jobd_job_t *job = s_queued_job ("job-1");
    jobd_event_t *mark = s_start_queued (host, plugin, job);
    //  The store keeps the mark; the broker says so; the create goes out.
    char *driver = s_mark_and_create (host, job, &mark, 2);
    free (driver);

    //  spark-sim runs it, then it succeeds: each seen by a poll.
    s_follow (host, job, JOBD_STATE_SUCCEEDED, 3);
    //  The figures count those polls (each answered, none failed) for the backend.
    double value = 0;
    assert_true (jobd_mock_host_figure (host, "spark_polls_total", 2, &value, S_DEADLINE, "backend",
                                        "master", NULL));
    assert_true (jobd_mock_host_figure (host, "spark_poll_errors_total", 0, &value, S_DEADLINE,
                                        "backend", "master", NULL));
    assert_true (value == 0);
    assert_true (jobd_mock_host_figure (host, "spark_backend_up", 1, &value, S_DEADLINE, "backend",
                                        "master", NULL));
    assert_true (jobd_mock_host_figure (host, "spark_poll_seconds", 0, &value, S_DEADLINE,
                                        "backend", "master", NULL));
    assert_true (value > 0 && value < 10);
    jobd_job_destroy (&job);
    assert_int_equal (jobd_mock_host_stop (host), 0);
    jobd_mock_host_destroy (&host);
}

//  A QUEUED transition that comes late (in a cluster, a job taken up from the store before its
//  transition was published), after the create was answered and before the store has its
//  SUBMITTED: the job is at the master already; no second mark, no second create.
static void
test_late_queued_is_not_created_twice (void **state)
{
    const jobd_plugin_t *plugin;
    jobd_mock_host_t *host = s_host (&plugin);
    jobd_job_t *job = s_queued_job ("job-late");
    const char *create = "POST /v1/submissions/create";
    int64_t creates = harness_spark_count (s_port, create);
    jobd_event_t *mark = s_start_queued (host, plugin, job);
    jobd_event_set (&job->ext, mark->ext);
    jobd_mock_host_job_put (host, job);
    assert_int_equal (jobd_mock_host_reply (host, mark->id, NULL, NULL, job->id, "duplicate"), 0);
    jobd_event_destroy (&mark);
    jobd_event_t *submitted = jobd_mock_host_expect (host, JOBD_EVENT_OBSERVED, S_DEADLINE);
    assert_non_null (submitted);
    assert_string_equal (jobd_state_name (submitted->state), "SUBMITTED");
    //  The store still has it QUEUED with its mark when the QUEUED transition comes again.
    s_publish (host, job, JOBD_STATE_NONE, 1);
    jobd_event_set (&job->ext, submitted->ext);
    jobd_event_destroy (&submitted);
    job->state = JOBD_STATE_SUBMITTED;
    jobd_mock_host_job_put (host, job);
    s_publish (host, job, JOBD_STATE_QUEUED, 2);
    //  What it sends next is the run's RUNNING and its end: no mark came in between.
    s_follow (host, job, JOBD_STATE_SUCCEEDED, 3);
    assert_int_equal (harness_spark_count (s_port, create), creates + 1);
    jobd_job_destroy (&job);
    assert_int_equal (jobd_mock_host_stop (host), 0);
    jobd_mock_host_destroy (&host);
}

//  A submission mark the broker refuses: nothing is sent to the master, and the log says why.
static void
test_refused_mark_is_not_submitted (void **state)
{
    const jobd_plugin_t *plugin;
    jobd_mock_host_t *host = s_host (&plugin);
    jobd_job_t *job = s_queued_job ("job-2");
    jobd_event_t *mark = s_start_queued (host, plugin, job);
    assert_int_equal (jobd_mock_host_reply (host, mark->id, "ESTORE", "store is full", NULL, NULL),
                      0);
    jobd_event_destroy (&mark);
    assert_true (jobd_mock_host_log_wait (host, "job-2 not submitted", S_DEADLINE));
    assert_true (jobd_mock_host_log_wait (host, "store is full", S_DEADLINE));
    jobd_job_destroy (&job);
    assert_int_equal (jobd_mock_host_stop (host), 0);
    jobd_mock_host_destroy (&host);
}

//  plugin.status at start: "running", with a line about the backend.
static void
test_reports_status (void **state)
{
    const jobd_plugin_t *plugin;
    jobd_mock_host_t *host = s_host (&plugin);
    char reason[256] = "";
    assert_int_equal (jobd_mock_host_start (host, plugin, reason, sizeof reason), 0);
    jobd_event_t *event = jobd_mock_host_expect (host, JOBD_EVENT_PLUGIN_STATUS, S_DEADLINE);
    assert_non_null (event);
    assert_string_equal (event->name, "spark-poller");
    assert_string_equal (event->status, "running");
    assert_non_null (event->detail);
    assert_non_null (strstr (event->detail, "master"));
    jobd_event_destroy (&event);
    //  Its figures: the backend answers, no job followed yet.
    double value = -1;
    assert_true (jobd_mock_host_figure (host, "spark_jobs_followed", 0, &value, S_DEADLINE,
                                        "backend", "master", NULL));
    assert_true (value == 0);
    assert_int_equal (jobd_mock_host_stop (host), 0);
    jobd_mock_host_destroy (&host);
}

//  A config init refuses, with its reason.
static void
test_refuses_bad_cancel_retries (void **state)
{
    const jobd_plugin_t *plugin;
    jobd_mock_host_t *host = s_host (&plugin);
    jobd_mock_host_set (host, "cancel_retries", "101");
    char reason[256] = "";
    assert_int_equal (jobd_mock_host_start (host, plugin, reason, sizeof reason), JOBD_ECONFIG);
    assert_non_null (strstr (reason, "cancel_retries"));
    jobd_mock_host_destroy (&host);
}

//  ABI 1.4: spark-poller takes kind spark, and checks the backend and the spec for it.
static void
test_validates_submissions (void **state)
{
    const jobd_plugin_t *plugin;
    jobd_mock_host_t *host = s_host (&plugin);
    jobd_mock_host_set (host, "backend/livy/type", "livy");
    jobd_mock_host_set (host, "backend/livy/url", "http://127.0.0.1:9");
    jobd_mock_host_set (host, "backend/rm/type", "yarn");
    jobd_mock_host_set (host, "backend/rm/url", "http://127.0.0.1:9");
    assert_string_equal (plugin->kinds[0], "spark");
    char reason[256] = "";
    assert_int_equal (jobd_mock_host_start (host, plugin, reason, sizeof reason), 0);
    const char *livy = "{\"file\":\"a.jar\",\"numExecutors\":2,\"proxyUser\":\"a\"}";
    assert_int_equal (
        jobd_mock_host_validate (host, "spark", "livy", "n", livy, reason, sizeof reason), 0);
    const struct {
        const char *backend, *spec, *words;
    } refused[] = {
        {NULL, "{\"file\":\"a.jar\"}", "no backend given"},
        {"nope", "{\"file\":\"a.jar\"}",
         "no backend named 'nope'; backends that take "
         "submissions: "},
        {"rm", "{\"file\":\"a.jar\"}", "backend 'rm' (yarn) follows jobs only"},
        {"master", livy, "'proxyUser' is not taken by a standalone backend"},
        {"livy", "{\"file\":\"a.jar\",\"numExecutors\":\"2\"}", "'numExecutors' must be"},
    };
    for (size_t index = 0; index < sizeof refused / sizeof refused[0]; index++) {
        assert_int_equal (jobd_mock_host_validate (host, "spark", refused[index].backend, "n",
                                                   refused[index].spec, reason, sizeof reason),
                          JOBD_EINVAL);
        if (!strstr (reason, refused[index].words))
            fail_msg ("%s: '%s' lacks '%s'", refused[index].spec, reason, refused[index].words);
    }
    //  The backends that take submissions are named (in config order), never rm.
    jobd_mock_host_validate (host, "spark", "nope", "n", livy, reason, sizeof reason);
    assert_non_null (strstr (reason, "master"));
    assert_non_null (strstr (reason, "livy"));
    assert_null (strstr (reason, "rm"));
    assert_int_equal (jobd_mock_host_stop (host), 0);
    jobd_mock_host_destroy (&host);
}

//  A job's next attempt runs with the record's spec as it is then, not attempt 1's: the retry
//  plugin may change it in the commit that schedules the retry (more executor memory after an
//  OutOfMemoryError). spark-sim's min_memory fails a run with less than 6g.
static void
test_next_attempt_reads_the_spec_of_its_time (void **state)
{
    const jobd_plugin_t *plugin;
    jobd_mock_host_t *host = s_host (&plugin);
    jobd_job_t *job = s_queued_job ("job-70");
    const char *spec =
        "{\"appResource\":\"hdfs:///jobs/etl.jar\",\"mainClass\":\"com.example.Etl\","
        "\"executorMemory\":\"%s\",\"sparkProperties\":{\"spark.sim.scenario\":"
        "\"queue=50,run=100,min_memory=6g\"}}";
    char text[512];
    snprintf (text, sizeof text, spec, "4g");
    jobd_event_set (&job->spec, text);
    jobd_event_t *mark = s_start_queued (host, plugin, job);
    assert_string_equal (mark->ext, "jobd-job-70");
    char *first = s_mark_and_create (host, job, &mark, 2);
    s_follow (host, job, JOBD_STATE_FAILED, 3);
    //  The retry's commits: RETRY_WAIT with the new spec, then QUEUED in attempt 2 (no ext).
    snprintf (text, sizeof text, spec, "6g");
    jobd_event_set (&job->spec, text);
    jobd_event_set (&job->ext, NULL);
    job->attempt = 2;
    job->state = JOBD_STATE_QUEUED;
    jobd_mock_host_job_put (host, job);
    s_publish (host, job, JOBD_STATE_RETRY_WAIT, 6);
    mark = jobd_mock_host_expect (host, JOBD_EVENT_OBSERVED, S_DEADLINE);
    assert_non_null (mark);
    assert_int_equal (mark->attempt, 2);
    assert_string_equal (mark->ext, "jobd-job-70-2"); //  its own tag
    char *second = s_mark_and_create (host, job, &mark, 7);
    assert_string_not_equal (first, second);
    s_follow (host, job, JOBD_STATE_SUCCEEDED, 8); //  with 6g: attempt 1's 4g would fail again
    assert_int_equal (harness_spark_creates (s_port, "jobd-job-70"), 1);
    assert_int_equal (harness_spark_creates (s_port, "jobd-job-70-2"), 1);
    free (first);
    free (second);
    jobd_job_destroy (&job);
    assert_int_equal (jobd_mock_host_stop (host), 0);
    jobd_mock_host_destroy (&host);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown (test_submits_a_queued_job, jobd_mock_host_teardown),
        cmocka_unit_test_teardown (test_late_queued_is_not_created_twice, jobd_mock_host_teardown),
        cmocka_unit_test_teardown (test_refused_mark_is_not_submitted, jobd_mock_host_teardown),
        cmocka_unit_test_teardown (test_reports_status, jobd_mock_host_teardown),
        cmocka_unit_test_teardown (test_refuses_bad_cancel_retries, jobd_mock_host_teardown),
        cmocka_unit_test_teardown (test_validates_submissions, jobd_mock_host_teardown),
        cmocka_unit_test_teardown (test_next_attempt_reads_the_spec_of_its_time,
                                   jobd_mock_host_teardown),
    };
    return cmocka_run_group_tests (tests, s_setup, s_teardown);
}
