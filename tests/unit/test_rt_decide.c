//  retry: failure classes and the decision on one failed job (plugins/retry/rt_class.c,
//  rt_decide.c): each built-in class, the attempt limit, manual retries, jobs jobd cannot
//  resubmit, LOST jobs, the spec's own settings, the catch-up at start.
#include "rt_decide.h"
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <string.h>

#define NOW 1700000000000LL

typedef struct {
    rt_policy_t *policy;
    rt_classes_t *classes;
    rt_slots_t *slots;
    rt_decide_t context;
} s_fixture_t;

static int
s_setup (void **state)
{
    s_fixture_t *self = (s_fixture_t *)calloc (1, sizeof (s_fixture_t));
    rt_rule_t base;
    rt_rule_unset (&base);
    char reason[256];
    rt_rule_set (&base, "max_attempts", "3", reason, sizeof reason);
    rt_rule_set (&base, "backoff_initial", "30s", reason, sizeof reason);
    rt_rule_set (&base, "backoff_max", "30m", reason, sizeof reason);
    rt_rule_set (&base, "multiplier", "2", reason, sizeof reason);
    rt_rule_set (&base, "jitter", "none", reason, sizeof reason);
    rt_rule_set (&base, "on_lost", "false", reason, sizeof reason);
    rt_rule_set (&base, "rate", "0", reason, sizeof reason);
    assert_int_equal (
        rt_policy_new (&base, "spark/livy max_attempts=4", &self->policy, reason, sizeof reason),
        0);
    self->classes = rt_classes_new ();
    rt_classes_add_defaults (self->classes);
    self->slots = rt_slots_new ();
    self->context = (rt_decide_t){.policy = self->policy,
                                  .classes = self->classes,
                                  .slots = self->slots,
                                  .source = "retry",
                                  .now = NOW,
                                  .started = NOW,
                                  .catch_up = 3600000,
                                  .random = 12345};
    *state = self;
    return 0;
}

static int
s_teardown (void **state)
{
    s_fixture_t *self = (s_fixture_t *)*state;
    rt_policy_destroy (&self->policy);
    rt_classes_destroy (&self->classes);
    rt_slots_destroy (&self->slots);
    free (self);
    return 0;
}

//  A FAILED spark job on backend local, in attempt, with error.
static jobd_job_t *
s_job (const char *error, uint32_t attempt, const char *spec)
{
    jobd_job_t *job = jobd_job_new ();
    job->id = strdup ("job-7");
    job->kind = strdup ("spark");
    job->backend = strdup ("local");
    job->state = JOBD_STATE_FAILED;
    job->attempt = attempt;
    job->error = error ? strdup (error) : NULL;
    job->spec = spec ? strdup (spec) : NULL;
    job->finished_at = NOW - 1000;
    return job;
}

static void
s_expect_final (jobd_event_t *plan, const char *error)
{
    assert_non_null (plan);
    assert_int_equal (plan->type, JOBD_EVENT_RETRY_PLAN);
    assert_int_equal (plan->state, JOBD_STATE_FAILED);
    assert_string_equal (plan->error, error);
    assert_int_equal (plan->due, 0);
    assert_true (plan->reply);
    assert_int_equal (jobd_event_validate (plan, NULL, 0), 0);
}

static void
test_classes (void **state)
{
    s_fixture_t *self = (s_fixture_t *)*state;
    static const struct {
        const char *error, *class_name;
    } cases[] = {
        {"java.lang.OutOfMemoryError: Java heap space", "oom"},
        {"Container killed by YARN for exceeding memory limits", "oom"},
        {"Executor exited with exit code 137", "oom"},
        {"java.lang.OutOfMemoryError: GC overhead limit exceeded", "oom"},
        {"ExecutorLostFailure: lost executor 3", "transient"},
        {"java.net.ConnectException: Connection refused", "transient"},
        {"HTTP 503 Service Unavailable", "transient"},
        {"org.apache.spark.shuffle.FetchFailedException", "transient"},
        {"org.apache.spark.sql.AnalysisException: Table not found: x", "user"},
        {"java.io.FileNotFoundException: /data/in", "user"},
        {"java.lang.ClassNotFoundException: com.example.Main", "user"},
        {"something else entirely", "default"},
    };
    for (size_t index = 0; index < sizeof cases / sizeof cases[0]; index++) {
        const rt_class_t *class = rt_classes_match (self->classes, NULL, cases[index].error);
        if (strcmp (class->name, cases[index].class_name))
            fail_msg ("'%s': class %s, wanted %s", cases[index].error, class->name,
                      cases[index].class_name);
    }
    //  The cause is matched too, and case does not matter.
    assert_string_equal (rt_classes_match (self->classes, "outofmemoryerror", NULL)->name, "oom");
    //  A configured list is tried in its order; the default comes last.
    rt_classes_t *classes = rt_classes_new ();
    char reason[256] = "";
    assert_int_equal (rt_classes_add (classes, "first", "Error", NULL, NULL, reason, sizeof reason),
                      0);
    assert_int_equal (
        rt_classes_add (classes, "second", "OutOfMemoryError", NULL, NULL, reason, sizeof reason),
        0);
    assert_string_equal (rt_classes_match (classes, NULL, "OutOfMemoryError")->name, "first");
    assert_string_equal (rt_classes_match (classes, NULL, "nothing")->name, "default");
    assert_int_equal (rt_classes_size (classes), 2);
    //  A broken regex or change is refused with the reason.
    assert_int_not_equal (
        rt_classes_add (classes, "bad", "(unclosed", NULL, NULL, reason, sizeof reason), 0);
    assert_non_null (strstr (reason, "match '(unclosed'"));
    assert_int_not_equal (
        rt_classes_add (classes, "bad", "x", NULL, "spark.x*zero", reason, sizeof reason), 0);
    assert_non_null (strstr (reason, "change: "));
    assert_int_equal (rt_classes_size (classes), 2);
    rt_classes_destroy (&classes);
}

static void
test_oom_retried_with_more_memory (void **state)
{
    s_fixture_t *self = (s_fixture_t *)*state;
    jobd_job_t *job = s_job ("java.lang.OutOfMemoryError: Java heap space", 1,
                             "{\"file\":\"x.jar\",\"executorMemory\":\"4g\"}");
    jobd_event_t *plan = rt_decide (&self->context, job, RT_DECIDE_FAILED);
    assert_non_null (plan);
    assert_int_equal (plan->state, JOBD_STATE_RETRY_WAIT);
    assert_int_equal (plan->attempt, 1);
    assert_int_equal (plan->due, NOW + 30000); //  jitter none, attempt 1: backoff_initial
    assert_string_equal (plan->failure_class, "oom");
    assert_string_equal (plan->policy, "default");
    assert_string_equal (plan->change, "executorMemory 4g -> 6g (class oom); driverMemory 1g "
                                       "(absent: Spark's default) -> 1536m (class oom)");
    assert_non_null (strstr (plan->spec, "\"executorMemory\":\"6g\""));
    assert_string_equal (plan->source, "retry");
    assert_string_equal (plan->job, "job-7");
    assert_int_equal (jobd_event_validate (plan, NULL, 0), 0);
    jobd_event_destroy (&plan);
    //  A transient failure: retried with the same spec, a longer wait each attempt.
    free (job->error);
    job->error = strdup ("Connection refused");
    job->attempt = 2;
    plan = rt_decide (&self->context, job, RT_DECIDE_FAILED);
    assert_int_equal (plan->due, NOW + 60000);
    assert_string_equal (plan->failure_class, "transient");
    assert_null (plan->spec);
    assert_null (plan->change);
    jobd_event_destroy (&plan);
    jobd_job_destroy (&job);
}

static void
test_limits (void **state)
{
    s_fixture_t *self = (s_fixture_t *)*state;
    jobd_job_t *job = s_job ("Connection refused", 3, "{\"file\":\"x.jar\"}");
    jobd_event_t *plan = rt_decide (&self->context, job, RT_DECIDE_FAILED);
    s_expect_final (plan, "3 of 3 attempts failed");
    assert_string_equal (plan->failure_class, "transient");
    jobd_event_destroy (&plan);
    //  Its backend's policy allows 4.
    free (job->backend);
    job->backend = strdup ("livy");
    plan = rt_decide (&self->context, job, RT_DECIDE_FAILED);
    assert_int_equal (plan->state, JOBD_STATE_RETRY_WAIT);
    assert_string_equal (plan->policy, "backend livy");
    jobd_event_destroy (&plan);
    //  A manual retry ignores the limit, and says so in its policy.
    free (job->backend);
    job->backend = strdup ("local");
    plan = rt_decide (&self->context, job, RT_DECIDE_MANUAL);
    assert_int_equal (plan->state, JOBD_STATE_RETRY_WAIT);
    assert_string_equal (plan->policy, "manual");
    assert_int_equal (plan->due, NOW + 120000); //  the class's backoff for attempt 3
    jobd_event_destroy (&plan);
    //  The spec's own retry object overrides the policy.
    free (job->spec);
    job->spec = strdup ("{\"file\":\"x.jar\",\"retry\":{\"max_attempts\":5,\"backoff_initial\":"
                        "\"1m\",\"multiplier\":1.5}}");
    plan = rt_decide (&self->context, job, RT_DECIDE_FAILED);
    assert_int_equal (plan->state, JOBD_STATE_RETRY_WAIT);
    assert_string_equal (plan->policy, "spec");
    assert_int_equal (plan->due, NOW + 135000); //  60 s * 1.5^2
    jobd_event_destroy (&plan);
    jobd_job_destroy (&job);
}

static void
test_never (void **state)
{
    s_fixture_t *self = (s_fixture_t *)*state;
    jobd_job_t *job = s_job ("org.apache.spark.sql.AnalysisException: Table or view not found: "
                             "sales\n\tat org.apache.spark...",
                             1, "{\"file\":\"x.jar\",\"retry\":{\"max_attempts\":9}}");
    jobd_event_t *plan = rt_decide (&self->context, job, RT_DECIDE_FAILED);
    s_expect_final (plan, "class user: never retried (AnalysisException: Table or view not "
                          "found: sales)");
    assert_string_equal (plan->failure_class, "user");
    jobd_event_destroy (&plan);
    //  The cause, when the job has one, says it.
    job->cause = strdup ("AnalysisException: no table");
    plan = rt_decide (&self->context, job, RT_DECIDE_FAILED);
    assert_string_equal (plan->error, "class user: never retried (AnalysisException: no table)");
    jobd_event_destroy (&plan);
    //  A manual retry runs it anyway.
    plan = rt_decide (&self->context, job, RT_DECIDE_MANUAL);
    assert_int_equal (plan->state, JOBD_STATE_RETRY_WAIT);
    assert_string_equal (plan->failure_class, "user");
    jobd_event_destroy (&plan);
    jobd_job_destroy (&job);
}

static void
test_not_resubmittable (void **state)
{
    s_fixture_t *self = (s_fixture_t *)*state;
    jobd_job_t *job = s_job ("Connection refused", 1, NULL);
    jobd_event_t *plan = rt_decide (&self->context, job, RT_DECIDE_FAILED);
    s_expect_final (plan, "a tracked job (no spec): jobd cannot resubmit it");
    jobd_event_destroy (&plan);
    free (job->kind);
    job->kind = strdup ("kafka");
    plan = rt_decide (&self->context, job, RT_DECIDE_MANUAL);
    s_expect_final (plan, "kafka jobs are retried by their producers, not by jobd");
    jobd_event_destroy (&plan);
    jobd_job_destroy (&job);
}

static void
test_lost_and_done (void **state)
{
    s_fixture_t *self = (s_fixture_t *)*state;
    jobd_job_t *job = s_job ("no word from its source", 1, "{\"file\":\"x.jar\"}");
    job->state = JOBD_STATE_LOST;
    //  Off by default: a lost job may still be running.
    assert_null (rt_decide (&self->context, job, RT_DECIDE_FAILED));
    //  A manual retry, or on_lost in the spec, retries it.
    jobd_event_t *plan = rt_decide (&self->context, job, RT_DECIDE_MANUAL);
    assert_int_equal (plan->state, JOBD_STATE_RETRY_WAIT);
    jobd_event_destroy (&plan);
    free (job->spec);
    job->spec = strdup ("{\"file\":\"x.jar\",\"retry\":{\"on_lost\":true}}");
    plan = rt_decide (&self->context, job, RT_DECIDE_FAILED);
    assert_int_equal (plan->state, JOBD_STATE_RETRY_WAIT);
    jobd_event_destroy (&plan);
    //  Decided already, or not failed: nothing to plan.
    job->state = JOBD_STATE_FAILED;
    job->retry_final = strdup ("3 of 3 attempts failed");
    assert_null (rt_decide (&self->context, job, RT_DECIDE_FAILED));
    assert_null (rt_decide (&self->context, job, RT_DECIDE_RESCAN));
    job->state = JOBD_STATE_RETRY_WAIT;
    assert_null (rt_decide (&self->context, job, RT_DECIDE_MANUAL));
    jobd_job_destroy (&job);
}

static void
test_catch_up (void **state)
{
    s_fixture_t *self = (s_fixture_t *)*state;
    jobd_job_t *job = s_job ("Connection refused", 1, "{\"file\":\"x.jar\"}");
    job->finished_at = NOW - 2 * 3600000 - 60000;
    jobd_event_t *plan = rt_decide (&self->context, job, RT_DECIDE_RESCAN);
    s_expect_final (plan, "it failed 2h1m before the retry plugin started, more than its "
                          "catch_up (1h0m): not retried");
    jobd_event_destroy (&plan);
    //  Recent enough: retried. And a live failure is never caught up.
    plan = rt_decide (&self->context, job, RT_DECIDE_FAILED);
    assert_int_equal (plan->state, JOBD_STATE_RETRY_WAIT);
    jobd_event_destroy (&plan);
    job->finished_at = NOW - 60000;
    plan = rt_decide (&self->context, job, RT_DECIDE_RESCAN);
    assert_int_equal (plan->state, JOBD_STATE_RETRY_WAIT);
    jobd_event_destroy (&plan);
    jobd_job_destroy (&job);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown (test_classes, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_oom_retried_with_more_memory, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_limits, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_never, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_not_resubmittable, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_lost_and_done, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_catch_up, s_setup, s_teardown),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
