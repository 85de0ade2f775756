//  The demo plugin, unit-tested through the mock host: the built demo.so, its descriptor run as
//  jobd runs it, and the test in the broker's place on the bus.
#include "jobd_error.h"
#include "jobd_mock_host.h"
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <string.h>

#define S_DEADLINE 5000 //  ms: any wait for the plugin, at most

//  A mock host with demo.so loaded and the config pairs (NULL-terminated) set.
static jobd_mock_host_t *
s_host (const char *const *config, const jobd_plugin_t **plugin_p)
{
    char reason[256] = "";
    jobd_mock_host_t *host = jobd_mock_host_open ("demo", config, plugin_p, reason, sizeof reason);
    if (!host)
        fail_msg ("cannot load: %s", reason);
    return host;
}

//  A mock host running demo.so with the config pairs, subscribed to what it consumes.
static jobd_mock_host_t *
s_start (const char *const *config)
{
    const jobd_plugin_t *plugin;
    jobd_mock_host_t *host = s_host (config, &plugin);
    char reason[256] = "";
    if (jobd_mock_host_start (host, plugin, reason, sizeof reason))
        fail_msg ("demo refused to start: %s", reason);
    assert_true (jobd_mock_host_subscribed (host, "job.QUEUED.x", S_DEADLINE));
    assert_true (jobd_mock_host_subscribed (host, "cmd.cancel.demo", S_DEADLINE));
    return host;
}

//  Publishes what the broker publishes when job is queued.
static void
s_queue (jobd_mock_host_t *host, const char *job)
{
    jobd_event_t *event = jobd_event_new (JOBD_EVENT_TRANSITION);
    jobd_event_set (&event->source, "jobctl");
    jobd_event_set (&event->job, job);
    jobd_event_set (&event->kind, "demo");
    jobd_event_set (&event->backend, "demo");
    event->from = JOBD_STATE_NONE;
    event->state = JOBD_STATE_QUEUED;
    event->seq = 1;
    char topic[256];
    snprintf (topic, sizeof topic, "job.QUEUED.%s", job);
    assert_int_equal (jobd_mock_host_publish (host, topic, event), 0);
    jobd_event_destroy (&event);
}

//  The next observation must be job in state.
static jobd_event_t *
s_expect (jobd_mock_host_t *host, const char *job, jobd_state_t state)
{
    jobd_event_t *event = jobd_mock_host_expect (host, JOBD_EVENT_OBSERVED, S_DEADLINE);
    if (!event)
        fail_msg ("no observation of %s (%s) came", job, jobd_state_name (state));
    assert_string_equal (event->job, job);
    assert_string_equal (jobd_state_name (event->state), jobd_state_name (state));
    assert_string_equal (event->source, "demo");
    return event;
}

static void
s_stop (jobd_mock_host_t **host_p)
{
    assert_int_equal (jobd_mock_host_stop (*host_p), 0);
    jobd_mock_host_destroy (host_p);
}

//  A queued demo job moves one state per step and succeeds (no job fails).
static void
test_queued_job_succeeds (void **state)
{
    const char *config[] = {"step", "10ms", "fail_every", "0", NULL};
    jobd_mock_host_t *host = s_start (config);
    s_queue (host, "job-7");
    jobd_event_t *event = s_expect (host, "job-7", JOBD_STATE_SUBMITTED);
    assert_string_equal (event->ext, "demo-job-7");
    jobd_event_destroy (&event);
    event = s_expect (host, "job-7", JOBD_STATE_RUNNING);
    jobd_event_destroy (&event);
    event = s_expect (host, "job-7", JOBD_STATE_SUCCEEDED);
    assert_null (event->error);
    jobd_event_destroy (&event);
    s_stop (&host);
}

//  Every fail_every-th job (by number) fails, with a reason.
static void
test_every_nth_job_fails (void **state)
{
    const char *config[] = {"step", "10ms", "fail_every", "3", NULL};
    jobd_mock_host_t *host = s_start (config);
    s_queue (host, "job-6");
    jobd_event_t *event = s_expect (host, "job-6", JOBD_STATE_SUBMITTED);
    jobd_event_destroy (&event);
    event = s_expect (host, "job-6", JOBD_STATE_RUNNING);
    jobd_event_destroy (&event);
    event = s_expect (host, "job-6", JOBD_STATE_FAILED);
    assert_non_null (event->error);
    assert_non_null (strstr (event->error, "simulated failure"));
    jobd_event_destroy (&event);
    s_stop (&host);
}

//  A cancel of a demo job is observed CANCELLED at once; a cancel of another kind is not ours.
static void
test_cancel (void **state)
{
    const char *config[] = {"step", "1h", NULL};
    jobd_mock_host_t *host = s_start (config);
    jobd_event_t *cancel = jobd_event_new (JOBD_EVENT_CANCEL);
    jobd_event_set (&cancel->source, "jobctl");
    jobd_event_set (&cancel->job, "job-other");
    jobd_event_set (&cancel->kind, "spark");
    assert_int_equal (jobd_mock_host_publish (host, "cmd.cancel.demo", cancel), 0);
    jobd_event_set (&cancel->job, "job-2");
    jobd_event_set (&cancel->kind, "demo");
    assert_int_equal (jobd_mock_host_publish (host, "cmd.cancel.demo", cancel), 0);
    jobd_event_destroy (&cancel);
    jobd_event_t *event = s_expect (host, "job-2", JOBD_STATE_CANCELLED);
    jobd_event_destroy (&event);
    s_stop (&host);
}

//  After a restart, a demo job the store has RUNNING carries on to its end; others are left.
static void
test_resume_from_store (void **state)
{
    const char *config[] = {"step", "10ms", "fail_every", "0", NULL};
    const jobd_plugin_t *plugin;
    jobd_mock_host_t *host = s_host (config, &plugin);
    const char *kinds[] = {"spark", "demo"};
    const char *ids[] = {"job-1", "job-4"};
    for (size_t index = 0; index < 2; index++) {
        jobd_job_t *job = jobd_job_new ();
        jobd_event_set (&job->id, ids[index]);
        jobd_event_set (&job->kind, kinds[index]);
        job->state = JOBD_STATE_RUNNING;
        jobd_mock_host_job_put (host, job);
        jobd_job_destroy (&job);
    }
    char reason[256] = "";
    assert_int_equal (jobd_mock_host_start (host, plugin, reason, sizeof reason), 0);
    jobd_event_t *event = s_expect (host, "job-4", JOBD_STATE_SUCCEEDED);
    jobd_event_destroy (&event);
    s_stop (&host);
}

//  jobs = 2: two submissions of kind demo at start.
static void
test_submits_jobs_at_start (void **state)
{
    const char *config[] = {"jobs", "2", "step", "1h", NULL};
    jobd_mock_host_t *host = s_start (config);
    for (int count = 0; count < 2; count++) {
        jobd_event_t *event = jobd_mock_host_expect (host, JOBD_EVENT_SUBMIT, S_DEADLINE);
        assert_non_null (event);
        assert_string_equal (event->kind, "demo");
        assert_string_equal (event->backend, "demo");
        assert_non_null (event->name);
        jobd_event_destroy (&event);
    }
    s_stop (&host);
}

//  The demo reports its figures with its status, every status_interval: observations sent (a
//  counter) and jobs moving (a gauge, by backend).
static void
test_reports_figures (void **state)
{
    const char *config[] = {"step", "10ms", "fail_every", "0", "status_interval", "20ms", NULL};
    jobd_mock_host_t *host = s_start (config);
    double value = -1;
    assert_true (jobd_mock_host_figure (host, "demo_jobs_moving", 0, &value, S_DEADLINE, "backend",
                                        "demo", NULL));
    assert_true (value == 0);
    s_queue (host, "job-1");
    //  SUBMITTED, RUNNING, SUCCEEDED: three observations, counted once sent.
    assert_true (
        jobd_mock_host_figure (host, "demo_observations_total", 3, &value, S_DEADLINE, NULL));
    assert_true (value == 3);
    s_stop (&host);
}

//  A negative count is refused at init, with a reason for the operator.
static void
test_refuses_negative_jobs (void **state)
{
    const char *config[] = {"jobs", "-1", NULL};
    const jobd_plugin_t *plugin;
    jobd_mock_host_t *host = s_host (config, &plugin);
    char reason[256] = "";
    assert_int_equal (jobd_mock_host_start (host, plugin, reason, sizeof reason), JOBD_ECONFIG);
    assert_non_null (strstr (reason, "must not be negative"));
    jobd_mock_host_destroy (&host);
}

//  ABI 1.4: demo takes kind demo, and checks its backend, its keys and their types.
static void
test_validates_submissions (void **state)
{
    const char *config[] = {"step", "1h", NULL};
    const jobd_plugin_t *plugin;
    jobd_mock_host_t *host = s_host (config, &plugin);
    assert_true (JOBD_PLUGIN_HAS (plugin, kinds) && JOBD_PLUGIN_HAS (plugin, validate));
    assert_string_equal (plugin->kinds[0], "demo");
    assert_null (plugin->kinds[1]);
    jobd_mock_host_destroy (&host);
    host = s_start (config);
    char reason[256];
    assert_int_equal (jobd_mock_host_validate (host, "demo", "demo", "n",
                                               "{\"kind\":\"demo\",\"name\":\"n\",\"demo\":true,"
                                               "\"max_runtime\":\"1h\"}",
                                               reason, sizeof reason),
                      0);
    assert_int_equal (jobd_mock_host_validate (host, "demo", NULL, NULL,
                                               "{\"demo\":true,\"retry\":{\"on_lost\":true}}",
                                               reason, sizeof reason),
                      0);
    assert_int_equal (
        jobd_mock_host_validate (host, "demo", NULL, NULL, NULL, reason, sizeof reason), 0);
    const struct {
        const char *backend, *spec, *words;
    } refused[] = {
        {"livy", "{}", "backend 'livy': demo jobs run on backend 'demo' only"},
        {NULL, "{\"appResource\":\"a.jar\"}", "unknown key 'appResource'"},
        {NULL, "{\"demo\":1}", "key 'demo' must be a boolean"},
        {NULL, "{\"name\":2}", "key 'name' must be a string"},
        {NULL, "[]", "not a JSON object"},
        {NULL, "{", "not a JSON object"},
        {NULL, "{\"retry\":{\"max_attempts\":0}}", "key 'retry': max_attempts '0'"},
    };
    for (size_t index = 0; index < sizeof refused / sizeof refused[0]; index++) {
        assert_int_equal (jobd_mock_host_validate (host, "demo", refused[index].backend, NULL,
                                                   refused[index].spec, reason, sizeof reason),
                          JOBD_EINVAL);
        if (!strstr (reason, refused[index].words))
            fail_msg ("%s: '%s' lacks '%s'", refused[index].spec, reason, refused[index].words);
    }
    s_stop (&host);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown (test_queued_job_succeeds, jobd_mock_host_teardown),
        cmocka_unit_test_teardown (test_every_nth_job_fails, jobd_mock_host_teardown),
        cmocka_unit_test_teardown (test_cancel, jobd_mock_host_teardown),
        cmocka_unit_test_teardown (test_resume_from_store, jobd_mock_host_teardown),
        cmocka_unit_test_teardown (test_submits_jobs_at_start, jobd_mock_host_teardown),
        cmocka_unit_test_teardown (test_reports_figures, jobd_mock_host_teardown),
        cmocka_unit_test_teardown (test_refuses_negative_jobs, jobd_mock_host_teardown),
        cmocka_unit_test_teardown (test_validates_submissions, jobd_mock_host_teardown),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
