//  The retry plugin, unit-tested through the mock host: the built retry.so, its descriptor run
//  as jobd runs it, and the test in the broker's place: it publishes failures and retry commands
//  and reads the retry.plan events the plugin sends (the broker applies them: core/).
#include "jobd_error.h"
#include "jobd_mock_host.h"
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <string.h>

#define S_DEADLINE 5000 //  ms: any wait for the plugin, at most

static jobd_mock_host_t *
s_host (const char *const *config, const jobd_plugin_t **plugin_p)
{
    char reason[256] = "";
    jobd_mock_host_t *host = jobd_mock_host_open ("retry", config, plugin_p, reason, sizeof reason);
    if (!host)
        fail_msg ("cannot load: %s", reason);
    return host;
}

static void
s_run (jobd_mock_host_t *host, const jobd_plugin_t *plugin)
{
    char reason[256] = "";
    if (jobd_mock_host_start (host, plugin, reason, sizeof reason))
        fail_msg ("retry refused to start: %s", reason);
    assert_true (jobd_mock_host_subscribed (host, "job.FAILED.x", S_DEADLINE));
    assert_true (jobd_mock_host_subscribed (host, "job.LOST.x", S_DEADLINE));
    assert_true (jobd_mock_host_subscribed (host, "cmd.retry", S_DEADLINE));
    //  The store is scanned once at start: jobs put after that are news to it.
    assert_true (jobd_mock_host_log_wait (host, "started: ", S_DEADLINE));
}

static void
s_stop (jobd_mock_host_t **host_p)
{
    assert_int_equal (jobd_mock_host_stop (*host_p), 0);
    jobd_mock_host_destroy (host_p);
}

//  Puts a job in the store: kind spark on backend local, in state and attempt.
static void
s_put (jobd_mock_host_t *host, const char *id, jobd_state_t state, uint32_t attempt,
       const char *error, const char *spec)
{
    jobd_job_t *job = jobd_job_new ();
    jobd_event_set (&job->id, id);
    jobd_event_set (&job->kind, "spark");
    jobd_event_set (&job->backend, "local");
    jobd_event_set (&job->error, error);
    jobd_event_set (&job->spec, spec);
    job->state = state;
    job->attempt = attempt;
    job->finished_at = job->updated_at = jobd_now_ms ();
    jobd_mock_host_job_put (host, job);
    jobd_job_destroy (&job);
}

//  Publishes the transition of job to state (attempt), as the broker does after its commit.
static void
s_publish_failed (jobd_mock_host_t *host, const char *id, jobd_state_t state, uint32_t attempt)
{
    jobd_event_t *event = jobd_event_new (JOBD_EVENT_TRANSITION);
    jobd_event_set (&event->source, "spark-poller");
    jobd_event_set (&event->job, id);
    jobd_event_set (&event->kind, "spark");
    event->from = JOBD_STATE_RUNNING;
    event->state = state;
    event->attempt = attempt;
    event->seq = 4;
    char topic[256];
    snprintf (topic, sizeof topic, "job.%s.%s", jobd_state_name (state), id);
    assert_int_equal (jobd_mock_host_publish (host, topic, event), 0);
    jobd_event_destroy (&event);
}

//  The next plan, for job.
static jobd_event_t *
s_plan (jobd_mock_host_t *host, const char *id)
{
    jobd_event_t *plan = jobd_mock_host_expect (host, JOBD_EVENT_RETRY_PLAN, S_DEADLINE);
    if (!plan)
        fail_msg ("no retry.plan for %s came", id);
    assert_string_equal (plan->job, id);
    assert_string_equal (plan->source, "retry");
    assert_true (plan->reply);
    return plan;
}

//  An OOM failure: RETRY_WAIT with more memory; a user error: final. Each plan answered.
static void
test_failures_planned (void **state)
{
    (void)state;
    const char *config[] = {"jitter", "none", "backoff_initial", "10s", NULL};
    const jobd_plugin_t *plugin;
    jobd_mock_host_t *host = s_host (config, &plugin);
    s_run (host, plugin);
    s_put (host, "job-1", JOBD_STATE_FAILED, 1, "java.lang.OutOfMemoryError: Java heap space",
           "{\"file\":\"x.jar\",\"executorMemory\":\"2g\",\"driverMemory\":\"1g\"}");
    int64_t before = jobd_now_ms ();
    s_publish_failed (host, "job-1", JOBD_STATE_FAILED, 1);
    jobd_event_t *plan = s_plan (host, "job-1");
    assert_int_equal (plan->state, JOBD_STATE_RETRY_WAIT);
    assert_int_equal (plan->attempt, 1);
    assert_true (plan->due >= before + 10000 && plan->due <= jobd_now_ms () + 10000);
    assert_string_equal (plan->failure_class, "oom");
    assert_string_equal (plan->policy, "default");
    assert_string_equal (plan->change, "executorMemory 2g -> 3g (class oom); driverMemory 1g -> "
                                       "1536m (class oom)");
    assert_non_null (strstr (plan->spec, "\"executorMemory\":\"3g\""));
    assert_int_equal (jobd_mock_host_reply (host, plan->id, NULL, NULL, "job-1", "changed"), 0);
    jobd_event_destroy (&plan);

    s_put (host, "job-2", JOBD_STATE_FAILED, 1,
           "org.apache.spark.sql.AnalysisException: Table or view not found: sales",
           "{\"file\":\"x.jar\"}");
    s_publish_failed (host, "job-2", JOBD_STATE_FAILED, 1);
    plan = s_plan (host, "job-2");
    assert_int_equal (plan->state, JOBD_STATE_FAILED);
    assert_string_equal (plan->error,
                         "class user: never retried (AnalysisException: Table or view not found: "
                         "sales)");
    assert_int_equal (jobd_mock_host_reply (host, plan->id, NULL, NULL, "job-2", "changed"), 0);
    jobd_event_destroy (&plan);

    //  A failure published for an attempt the job has left is old news: no plan.
    s_publish_failed (host, "job-2", JOBD_STATE_FAILED, 7);
    //  A refusal is logged with its reason.
    s_put (host, "job-3", JOBD_STATE_FAILED, 3, "Connection refused", "{\"file\":\"x.jar\"}");
    s_publish_failed (host, "job-3", JOBD_STATE_FAILED, 3);
    plan = s_plan (host, "job-3");
    assert_int_equal (plan->state, JOBD_STATE_FAILED);
    assert_string_equal (plan->error, "3 of 3 attempts failed");
    assert_int_equal (
        jobd_mock_host_reply (host, plan->id, "ESTATE", "job-3 is RUNNING", "job-3", NULL), 0);
    assert_true (jobd_mock_host_log_wait (host, "job-3 is RUNNING", S_DEADLINE));
    jobd_event_destroy (&plan);
    //  The status says what was decided.
    jobd_event_t *status = NULL;
    while (!status || !strstr (status->detail, "last refusal")) {
        jobd_event_destroy (&status);
        status = jobd_mock_host_expect (host, JOBD_EVENT_PLUGIN_STATUS, S_DEADLINE);
        assert_non_null (status);
    }
    assert_non_null (strstr (status->detail, "1 retries planned, 1 failed for good"));
    assert_non_null (strstr (status->detail, "1 pending"));
    jobd_event_destroy (&status);
    //  And its figures (the same status: the last one received).
    double value = -1;
    assert_true (jobd_mock_host_figure (host, "retry_plans_applied_total", 1, &value, S_DEADLINE,
                                        "decision", "retry", NULL));
    assert_true (value == 1);
    assert_true (jobd_mock_host_figure (host, "retry_plans_applied_total", 1, &value, S_DEADLINE,
                                        "decision", "final", NULL));
    assert_true (value == 1);
    assert_true (
        jobd_mock_host_figure (host, "retry_plans_refused_total", 1, &value, S_DEADLINE, NULL));
    assert_true (jobd_mock_host_figure (host, "retry_waiting", 1, &value, S_DEADLINE, NULL));
    assert_true (value == 1);
    s_stop (&host);
}

//  A manual retry (cmd.retry) of a job past its attempts: planned by its class's backoff.
static void
test_manual_retry (void **state)
{
    (void)state;
    const char *config[] = {"jitter", "none", NULL};
    const jobd_plugin_t *plugin;
    jobd_mock_host_t *host = s_host (config, &plugin);
    s_run (host, plugin);
    s_put (host, "job-5", JOBD_STATE_FAILED, 3, "Connection refused", "{\"file\":\"x.jar\"}");
    jobd_event_t *retry = jobd_event_new (JOBD_EVENT_RETRY);
    jobd_event_set (&retry->source, "jobctl");
    jobd_event_set (&retry->job, "job-5");
    assert_int_equal (jobd_mock_host_publish (host, "cmd.retry", retry), 0);
    jobd_event_destroy (&retry);
    jobd_event_t *plan = s_plan (host, "job-5");
    assert_int_equal (plan->state, JOBD_STATE_RETRY_WAIT);
    assert_string_equal (plan->policy, "manual");
    assert_string_equal (plan->failure_class, "transient");
    assert_true (plan->due - jobd_now_ms () > 110000); //  30 s * 2^2
    jobd_event_destroy (&plan);
    s_stop (&host);
}

//  A change that would grow the spec past its limit: the plan goes without it, and says so.
static void
test_change_over_the_limit (void **state)
{
    (void)state;
    const jobd_plugin_t *plugin;
    jobd_mock_host_t *host = s_host (NULL, &plugin);
    s_run (host, plugin);
    //  {"executorMemory":"1g","driverMemory":"8g","x":"aaa..."}: exactly JOBD_SPEC_MAX bytes;
    //  1g -> 1536m adds 3.
    static char spec[JOBD_SPEC_MAX + 1];
    const char *head = "{\"executorMemory\":\"1g\",\"driverMemory\":\"8g\",\"x\":\"";
    size_t length = strlen (head);
    memcpy (spec, head, length);
    memset (spec + length, 'a', JOBD_SPEC_MAX - length - 2);
    memcpy (spec + JOBD_SPEC_MAX - 2, "\"}", 3);
    assert_int_equal (strlen (spec), JOBD_SPEC_MAX);
    s_put (host, "job-9", JOBD_STATE_FAILED, 1, "java.lang.OutOfMemoryError", spec);
    s_publish_failed (host, "job-9", JOBD_STATE_FAILED, 1);
    jobd_event_t *plan = s_plan (host, "job-9");
    assert_int_equal (plan->state, JOBD_STATE_RETRY_WAIT);
    assert_null (plan->spec);
    assert_string_equal (plan->change, "the changed spec is over its size limit: unchanged");
    jobd_event_destroy (&plan);
    s_stop (&host);
}

//  A LOST job is left alone by default; with on_lost it is retried.
static void
test_lost (void **state)
{
    (void)state;
    const char *config[] = {"policies", "spark on_lost=true rate=0", NULL};
    const jobd_plugin_t *plugin;
    jobd_mock_host_t *host = s_host (config, &plugin);
    s_run (host, plugin);
    s_put (host, "job-8", JOBD_STATE_LOST, 1, "no word from its source", "{\"file\":\"x.jar\"}");
    s_publish_failed (host, "job-8", JOBD_STATE_LOST, 1);
    jobd_event_t *plan = s_plan (host, "job-8");
    assert_int_equal (plan->state, JOBD_STATE_RETRY_WAIT);
    assert_string_equal (plan->policy, "kind spark");
    jobd_event_destroy (&plan);
    s_stop (&host);
}

//  At start: a recent failure without a decision is planned, an old one gets a final plan
//  (catch_up), a decided one and a RETRY_WAIT one are left alone (the latter takes its slot).
static void
test_restart_rescan (void **state)
{
    (void)state;
    const char *config[] = {"catch_up", "1h", "rate", "1", "jitter", "none", NULL};
    const jobd_plugin_t *plugin;
    jobd_mock_host_t *host = s_host (config, &plugin);
    s_put (host, "job-10", JOBD_STATE_FAILED, 1, "Connection reset", "{\"file\":\"x.jar\"}");
    jobd_job_t *job = jobd_job_new ();
    jobd_event_set (&job->id, "job-11");
    jobd_event_set (&job->kind, "spark");
    jobd_event_set (&job->spec, "{\"file\":\"x.jar\"}");
    job->state = JOBD_STATE_FAILED;
    job->attempt = 1;
    job->finished_at = jobd_now_ms () - 3 * 3600000;
    jobd_mock_host_job_put (host, job);
    jobd_event_set (&job->id, "job-12");
    jobd_event_set (&job->retry_final, "3 of 3 attempts failed");
    jobd_mock_host_job_put (host, job);
    jobd_event_set (&job->id, "job-13");
    jobd_event_set (&job->backend, "local");
    jobd_event_set (&job->retry_final, NULL);
    job->state = JOBD_STATE_RETRY_WAIT;
    //  Its second is taken: the next retry of backend local (rate 1) comes a second later.
    job->retry_at = (jobd_now_ms () / 1000 + 30) * 1000;
    jobd_mock_host_job_put (host, job);
    int64_t taken = job->retry_at;
    jobd_job_destroy (&job);
    s_run (host, plugin);
    jobd_event_t *plans[2] = {jobd_mock_host_expect (host, JOBD_EVENT_RETRY_PLAN, S_DEADLINE),
                              jobd_mock_host_expect (host, JOBD_EVENT_RETRY_PLAN, S_DEADLINE)};
    assert_non_null (plans[0]);
    assert_non_null (plans[1]);
    int recent = strcmp (plans[0]->job, "job-10") == 0 ? 0 : 1;
    assert_string_equal (plans[recent]->job, "job-10");
    assert_int_equal (plans[recent]->state, JOBD_STATE_RETRY_WAIT);
    assert_true (plans[recent]->due >= taken + 1000);
    assert_string_equal (plans[1 - recent]->job, "job-11");
    assert_int_equal (plans[1 - recent]->state, JOBD_STATE_FAILED);
    assert_non_null (strstr (plans[1 - recent]->error, "before the retry plugin started"));
    jobd_event_destroy (&plans[0]);
    jobd_event_destroy (&plans[1]);
    assert_null (jobd_mock_host_expect (host, JOBD_EVENT_RETRY_PLAN, 200));
    s_stop (&host);
}

//  A malformed policy, class or change stops the plugin at init, naming the key.
static void
test_config_errors (void **state)
{
    (void)state;
    static const char *cases[][5] = {
        {"multiplier", "0.5", NULL, NULL, "plugins/retry/multiplier '0.5'"},
        {"jitter", "half", NULL, NULL, "plugins/retry/jitter 'half'"},
        {"max_attempts", "0", NULL, NULL, "plugins/retry/max_attempts '0'"},
        {"policies", "spark tries=2", NULL, NULL, "plugins/retry/policies: entry 'spark'"},
        {"classes/bad/match", "(unclosed", NULL, NULL, "plugins/retry/classes/bad: match"},
        {"classes/big/match", "x", "classes/big/change", "spark.x*lots",
         "plugins/retry/classes/big: change"},
        {"classes/slow/match", "x", "classes/slow/backoff_initial", "soon",
         "plugins/retry/classes/slow/backoff_initial"},
    };
    for (size_t index = 0; index < sizeof cases / sizeof cases[0]; index++) {
        const char *config[] = {cases[index][0], cases[index][1], cases[index][2], cases[index][3],
                                NULL};
        const jobd_plugin_t *plugin;
        jobd_mock_host_t *host = s_host (config, &plugin);
        char reason[512] = "";
        assert_int_equal (jobd_mock_host_start (host, plugin, reason, sizeof reason), JOBD_ECONFIG);
        if (!strstr (reason, cases[index][4]))
            fail_msg ("reason '%s' does not name '%s'", reason, cases[index][4]);
        jobd_mock_host_destroy (&host);
    }
}

//  Configured classes replace the built-in ones, in their order, with their own settings.
static void
test_configured_classes (void **state)
{
    (void)state;
    const char *config[] = {"jitter",
                            "none",
                            "classes/a_quota/match",
                            "quota exceeded",
                            "classes/a_quota/backoff_initial",
                            "5m",
                            "classes/b_never/match",
                            "OutOfMemoryError",
                            "classes/b_never/max_attempts",
                            "1",
                            NULL};
    const jobd_plugin_t *plugin;
    jobd_mock_host_t *host = s_host (config, &plugin);
    s_run (host, plugin);
    s_put (host, "job-20", JOBD_STATE_FAILED, 1, "Quota Exceeded for queue q",
           "{\"file\":\"x.jar\"}");
    s_publish_failed (host, "job-20", JOBD_STATE_FAILED, 1);
    jobd_event_t *plan = s_plan (host, "job-20");
    assert_string_equal (plan->failure_class, "a_quota");
    assert_true (plan->due - jobd_now_ms () > 290000);
    jobd_event_destroy (&plan);
    s_put (host, "job-21", JOBD_STATE_FAILED, 1, "OutOfMemoryError", "{\"file\":\"x.jar\"}");
    s_publish_failed (host, "job-21", JOBD_STATE_FAILED, 1);
    plan = s_plan (host, "job-21");
    assert_int_equal (plan->state, JOBD_STATE_FAILED);
    assert_string_equal (plan->error, "class b_never: never retried (OutOfMemoryError)");
    jobd_event_destroy (&plan);
    s_stop (&host);
}

//  A plan the store could not take (ESTORE: the batch it was in failed) leaves the failure
//  undecided: it is decided again, a plan for the same failure comes back. A refusal against
//  the plan itself (EPROTO) is not tried again.
static void
test_refused_plan_decided_again (void **state)
{
    (void)state;
    const char *config[] = {"jitter", "none", NULL};
    const jobd_plugin_t *plugin;
    jobd_mock_host_t *host = s_host (config, &plugin);
    s_run (host, plugin);
    s_put (host, "job-7", JOBD_STATE_FAILED, 1, "Connection refused", "{\"file\":\"x.jar\"}");
    s_publish_failed (host, "job-7", JOBD_STATE_FAILED, 1);
    jobd_event_t *plan = s_plan (host, "job-7");
    assert_int_equal (
        jobd_mock_host_reply (host, plan->id, "ESTORE", "the disk said no", "job-7", NULL), 0);
    jobd_event_destroy (&plan);
    plan = s_plan (host, "job-7");
    assert_int_equal (plan->state, JOBD_STATE_RETRY_WAIT);
    assert_int_equal (plan->attempt, 1);
    assert_int_equal (jobd_mock_host_reply (host, plan->id, NULL, NULL, "job-7", "changed"), 0);
    jobd_event_destroy (&plan);
    s_stop (&host);
}

//  At start, many failures without a decision: at most 1,000 plans wait for their answer at a
//  time (the rest are queued, the status says how many), and every one is planned in the end.
static void
test_rescan_keeps_plans_in_flight_bounded (void **state)
{
    (void)state;
    const char *config[] = {"jitter", "none", "rate", "0", "status_interval", "100ms", NULL};
    const jobd_plugin_t *plugin;
    jobd_mock_host_t *host = s_host (config, &plugin);
    enum { JOBS = 1200, IN_FLIGHT = 1000 };
    for (int index = 0; index < JOBS; index++) {
        char id[32];
        snprintf (id, sizeof id, "job-r%d", index);
        s_put (host, id, JOBD_STATE_FAILED, 1, "Connection refused", "{\"file\":\"x.jar\"}");
    }
    s_run (host, plugin);
    static char ids[JOBS][48];
    for (int index = 0; index < IN_FLIGHT; index++) {
        jobd_event_t *plan = jobd_mock_host_expect (host, JOBD_EVENT_RETRY_PLAN, S_DEADLINE);
        assert_non_null (plan);
        snprintf (ids[index], sizeof ids[index], "%s", plan->id);
        jobd_event_destroy (&plan);
    }
    jobd_event_t *status = NULL;
    while (!status || !strstr (status->detail, "1000 undecided, 200 queued")) {
        jobd_event_destroy (&status);
        status = jobd_mock_host_expect (host, JOBD_EVENT_PLUGIN_STATUS, S_DEADLINE);
        if (!status)
            fail_msg ("no status with 1000 plans in flight and 200 queued");
    }
    jobd_event_destroy (&status);
    for (int index = 0; index < JOBS; index++) {
        if (index >= IN_FLIGHT) {
            jobd_event_t *plan = jobd_mock_host_expect (host, JOBD_EVENT_RETRY_PLAN, S_DEADLINE);
            assert_non_null (plan);
            snprintf (ids[index], sizeof ids[index], "%s", plan->id);
            jobd_event_destroy (&plan);
        }
        assert_int_equal (jobd_mock_host_reply (host, ids[index], NULL, NULL, NULL, "changed"), 0);
    }
    s_stop (&host);
}

//  Cluster mode (ABI 1.7): only the jobs this instance acts on are planned; when another's
//  partition comes to it, its failed jobs without a decision get one.
static void
test_cluster_plans_acted_on_jobs_only (void **state)
{
    (void)state;
    const char *config[] = {"jitter", "none", NULL};
    const jobd_plugin_t *plugin;
    jobd_mock_host_t *host = s_host (config, &plugin);
    jobd_mock_host_cluster (host, "node-a");
    //  job-20 is another instance's, job-21 this one's: at start only job-21 is planned.
    s_put (host, "job-20", JOBD_STATE_FAILED, 1, "Connection reset", "{\"file\":\"x.jar\"}");
    s_put (host, "job-21", JOBD_STATE_FAILED, 1, "Connection reset", "{\"file\":\"x.jar\"}");
    jobd_mock_host_acting (host, "job-20", false);
    s_run (host, plugin);
    jobd_event_t *plan = s_plan (host, "job-21");
    assert_int_equal (jobd_mock_host_reply (host, plan->id, NULL, NULL, "job-21", "changed"), 0);
    jobd_event_destroy (&plan);
    s_put (host, "job-21", JOBD_STATE_RETRY_WAIT, 1, NULL, "{\"file\":\"x.jar\"}"); //  applied
    //  A failure of another's job published (every instance sees it) is not planned here: the
    //  next plan is job-22's, published after it.
    s_put (host, "job-23", JOBD_STATE_FAILED, 1, "Connection reset", "{\"file\":\"x.jar\"}");
    jobd_mock_host_acting (host, "job-23", false);
    s_publish_failed (host, "job-23", JOBD_STATE_FAILED, 1);
    s_put (host, "job-22", JOBD_STATE_FAILED, 1, "Connection reset", "{\"file\":\"x.jar\"}");
    s_publish_failed (host, "job-22", JOBD_STATE_FAILED, 1);
    plan = s_plan (host, "job-22");
    assert_int_equal (jobd_mock_host_reply (host, plan->id, NULL, NULL, "job-22", "changed"), 0);
    jobd_event_destroy (&plan);
    s_put (host, "job-22", JOBD_STATE_RETRY_WAIT, 1, NULL, "{\"file\":\"x.jar\"}");
    //  job-20's partition comes to this instance: its failure, undecided, is planned now.
    jobd_mock_host_acting (host, "job-20", true);
    plan = s_plan (host, "job-20");
    assert_int_equal (plan->state, JOBD_STATE_RETRY_WAIT);
    jobd_event_destroy (&plan);
    assert_true (jobd_mock_host_log_wait (host, "partitions moved: 1 failed jobs", S_DEADLINE));
    s_stop (&host);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown (test_failures_planned, jobd_mock_host_teardown),
        cmocka_unit_test_teardown (test_manual_retry, jobd_mock_host_teardown),
        cmocka_unit_test_teardown (test_change_over_the_limit, jobd_mock_host_teardown),
        cmocka_unit_test_teardown (test_lost, jobd_mock_host_teardown),
        cmocka_unit_test_teardown (test_restart_rescan, jobd_mock_host_teardown),
        cmocka_unit_test_teardown (test_config_errors, jobd_mock_host_teardown),
        cmocka_unit_test_teardown (test_configured_classes, jobd_mock_host_teardown),
        cmocka_unit_test_teardown (test_refused_plan_decided_again, jobd_mock_host_teardown),
        cmocka_unit_test_teardown (test_rescan_keeps_plans_in_flight_bounded,
                                   jobd_mock_host_teardown),
        cmocka_unit_test_teardown (test_cluster_plans_acted_on_jobs_only, jobd_mock_host_teardown),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
