//  The notifier plugin, unit-tested through the mock host: the built notifier.so with a webhook
//  channel to the test's webhook_sink. The test appends transitions to the mock transition log
//  and puts the job records; it reads the notes the sink got, the cursor events the plugin sent
//  and its status. Ordered delivery, the final-failure decision (retry_final, RETRY_WAIT,
//  final_wait), recovered, a channel down then back (nothing lost, order kept), stale events.
#include "jobd_error.h"
#include "jobd_mock_host.h"
#include "webhook_sink.h"
#include <jansson.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <string.h>

#define S_DEADLINE 10000 //  ms: any wait for the plugin, at most

static webhook_sink_t *s_sink;
static jobd_mock_host_t *s_host;
static uint64_t s_seq[16];

static int
s_setup (void **state)
{
    s_sink = webhook_sink_new ();
    return s_sink ? 0 : -1;
}

static int
s_teardown (void **state)
{
    jobd_mock_host_destroy (&s_host);
    webhook_sink_destroy (&s_sink);
    memset (s_seq, 0, sizeof s_seq);
    return 0;
}

//  Starts the notifier with a webhook channel "hook" to the sink, and extra config pairs.
static void
s_start (const char *const *extra)
{
    const char *config[64] = {
        "channels/hook/type", "webhook", "channels/hook/url", webhook_sink_url (s_sink),
        "backoff_max",        "400ms",   "final_wait",        "300ms",
        "status_interval",    "0"};
    size_t used = 10;
    for (size_t index = 0; extra && extra[index]; index++)
        config[used++] = extra[index];
    config[used] = NULL;
    const jobd_plugin_t *plugin = NULL;
    char reason[256] = "";
    s_host = jobd_mock_host_open ("notifier", config, &plugin, reason, sizeof reason);
    if (!s_host)
        fail_msg ("cannot load: %s", reason);
    if (jobd_mock_host_start (s_host, plugin, reason, sizeof reason))
        fail_msg ("notifier refused to start: %s", reason);
    //  The first start: its cursor at the log's head.
    jobd_event_t *cursor = jobd_mock_host_expect (s_host, JOBD_EVENT_CURSOR, S_DEADLINE);
    assert_non_null (cursor);
    assert_string_equal (cursor->name, "notifier/hook");
    jobd_event_destroy (&cursor);
}

//  Puts job (index n: "job-n") in the store in state, attempt, with retry_final.
static void
s_put (int n, jobd_state_t state, uint32_t attempt, const char *retry_final)
{
    jobd_job_t *job = jobd_job_new ();
    char id[32];
    snprintf (id, sizeof id, "job-%d", n);
    jobd_event_set (&job->id, id);
    jobd_event_set (&job->kind, "spark");
    jobd_event_set (&job->name, "etl");
    jobd_event_set (&job->retry_final, retry_final);
    job->state = state;
    job->attempt = attempt;
    job->last_seq = s_seq[n];
    jobd_mock_host_job_put (s_host, job);
    jobd_job_destroy (&job);
}

//  Appends job-n's next transition from -> to (attempt) to the log, after putting its record
//  (state to, attempt, retry_final) in the store. Returns its position.
static uint64_t
s_append (int n, jobd_state_t from, jobd_state_t to, uint32_t attempt, const char *retry_final)
{
    s_seq[n]++;
    s_put (n, to, attempt, retry_final);
    jobd_event_t *event = jobd_event_new (JOBD_EVENT_TRANSITION);
    char id[32];
    snprintf (id, sizeof id, "job-%d", n);
    jobd_event_set (&event->source, "test");
    jobd_event_set (&event->job, id);
    jobd_event_set (&event->kind, "spark");
    jobd_event_set (&event->name, "etl");
    jobd_event_set (&event->error, to == JOBD_STATE_FAILED ? "java.lang.OutOfMemoryError" : NULL);
    event->from = from;
    event->state = to;
    event->attempt = attempt;
    event->seq = s_seq[n];
    event->ts = jobd_now_ms ();
    uint64_t position = jobd_mock_host_log_event (s_host, NULL, event);
    assert_true (position > 0);
    jobd_event_destroy (&event);
    return position;
}

//  The sink's note index: its key and event.
static void
s_assert_note (size_t index, const char *key, const char *event)
{
    char *body = webhook_sink_body (s_sink, index);
    assert_non_null (body);
    json_t *root = json_loads (body, 0, NULL);
    assert_non_null (root);
    assert_string_equal (json_string_value (json_object_get (root, "key")), key);
    assert_string_equal (json_string_value (json_object_get (root, "event")), event);
    char *header = webhook_sink_header (s_sink, index, "Idempotency-Key");
    assert_string_equal (header, key);
    free (header);
    json_decref (root);
    free (body);
}

//  Waits for a cursor event at position or past it.
static void
s_wait_cursor (uint64_t position)
{
    int64_t until = zclock_mono () + S_DEADLINE;
    while (zclock_mono () < until) {
        jobd_event_t *cursor = jobd_mock_host_expect (s_host, JOBD_EVENT_CURSOR, 200);
        bool reached = cursor && cursor->seq >= position;
        jobd_event_destroy (&cursor);
        if (reached)
            return;
    }
    fail_msg ("no cursor at %llu", (unsigned long long)position);
}

static void
test_default_rule_final_and_recovered_in_order (void **state)
{
    s_start (NULL);
    s_append (1, JOBD_STATE_NONE, JOBD_STATE_QUEUED, 1, NULL);
    s_append (1, JOBD_STATE_QUEUED, JOBD_STATE_RUNNING, 1, NULL);
    //  job-2 failed, then a retry was planned: not final, no note.
    s_append (2, JOBD_STATE_RUNNING, JOBD_STATE_FAILED, 1, NULL);
    s_put (2, JOBD_STATE_RETRY_WAIT, 1, NULL);
    s_seq[2]++;
    s_put (2, JOBD_STATE_RETRY_WAIT, 1, NULL);
    //  job-1 failed for good (the retry plugin's final decision on its record): a note at once.
    s_append (1, JOBD_STATE_RUNNING, JOBD_STATE_FAILED, 1, "1 of 1 attempts failed");
    //  job-3 succeeded in its second attempt: recovered.
    s_append (3, JOBD_STATE_RUNNING, JOBD_STATE_SUCCEEDED, 2, NULL);
    uint64_t last = s_append (4, JOBD_STATE_RUNNING, JOBD_STATE_CANCELLED, 1, NULL);
    assert_true (webhook_sink_wait (s_sink, 2, S_DEADLINE));
    s_wait_cursor (last);
    assert_int_equal (webhook_sink_count (s_sink), 2);
    s_assert_note (0, "job-1/3", "final");
    s_assert_note (1, "job-3/1", "recovered");
    assert_int_equal (jobd_mock_host_stop (s_host), 0);
}

static void
test_undecided_failure_is_final_after_final_wait (void **state)
{
    s_start (NULL);
    int64_t started = zclock_mono ();
    s_append (5, JOBD_STATE_RUNNING, JOBD_STATE_FAILED, 1, NULL);
    //  Ordered: a later note waits behind the undecided one.
    s_append (6, JOBD_STATE_RUNNING, JOBD_STATE_FAILED, 1, "no retry");
    assert_true (webhook_sink_wait (s_sink, 2, S_DEADLINE));
    assert_true (zclock_mono () - started >= 250);
    s_assert_note (0, "job-5/1", "final");
    s_assert_note (1, "job-6/1", "final");
    assert_int_equal (jobd_mock_host_stop (s_host), 0);
}

//  A rule that asks for failed, not final: the decision would not change the note, so it is
//  not waited for (final_wait is longer than the test's deadline).
static void
test_failed_rule_does_not_wait_for_the_decision (void **state)
{
    const char *rules[] = {
        "final_wait", "1h", "rules/all/events", "failed", "rules/all/digest_window", "0", NULL};
    s_start (rules);
    s_append (8, JOBD_STATE_RUNNING, JOBD_STATE_FAILED, 1, NULL);
    assert_true (webhook_sink_wait (s_sink, 1, S_DEADLINE));
    s_assert_note (0, "job-8/1", "failed");
    assert_int_equal (jobd_mock_host_stop (s_host), 0);
}

static void
test_channel_down_then_back_keeps_order (void **state)
{
    const char *rules[] = {"rules/all/events", "failed, state:RUNNING", "rules/all/digest_window",
                           "0", NULL};
    s_start (rules);
    webhook_sink_fail (s_sink, 503);
    for (int n = 1; n <= 5; n++)
        s_append (n, JOBD_STATE_QUEUED, JOBD_STATE_RUNNING, 1, NULL);
    uint64_t last = 0;
    for (int n = 1; n <= 5; n++)
        last = s_append (n, JOBD_STATE_RUNNING, JOBD_STATE_FAILED, 1, NULL);
    //  Tried again and again, nothing taken, and the plugin says it is failing.
    assert_true (webhook_sink_wait_refused (s_sink, 3, S_DEADLINE));
    assert_int_equal (webhook_sink_count (s_sink), 0);
    bool degraded = false;
    int64_t until = zclock_mono () + S_DEADLINE;
    while (!degraded && zclock_mono () < until) {
        jobd_event_t *status = jobd_mock_host_expect (s_host, JOBD_EVENT_PLUGIN_STATUS, 200);
        degraded = status && streq (status->status, "degraded") &&
                   strstr (status->detail, "hook: 0 delivered") &&
                   strstr (status->detail, "failing for ") &&
                   strstr (status->detail, "HTTP 503 from http://127.0.0.1:");
        jobd_event_destroy (&status);
    }
    assert_true (degraded);
    //  Its figures say so too: failing, nothing delivered, what waits and since when.
    double value = -1;
    assert_true (jobd_mock_host_figure (s_host, "notifier_failing", 1, &value, S_DEADLINE,
                                        "channel", "hook", NULL));
    assert_true (jobd_mock_host_figure (s_host, "notifier_delivered_total", 0, &value, S_DEADLINE,
                                        "channel", "hook", NULL));
    assert_true (value == 0);
    assert_true (jobd_mock_host_figure (s_host, "notifier_pending", 1, &value, S_DEADLINE,
                                        "channel", "hook", NULL));
    webhook_sink_fail (s_sink, 0);
    assert_true (webhook_sink_wait (s_sink, 10, S_DEADLINE));
    s_wait_cursor (last);
    assert_int_equal (webhook_sink_count (s_sink), 10);
    assert_true (jobd_mock_host_figure (s_host, "notifier_delivered_total", 10, &value, S_DEADLINE,
                                        "channel", "hook", NULL));
    assert_true (value == 10);
    assert_true (jobd_mock_host_figure (s_host, "notifier_failing", 0, &value, S_DEADLINE,
                                        "channel", "hook", NULL));
    assert_true (value == 0);
    char key[32];
    for (int n = 1; n <= 5; n++) {
        snprintf (key, sizeof key, "job-%d/1", n);
        s_assert_note ((size_t)n - 1, key, "state");
        snprintf (key, sizeof key, "job-%d/2", n);
        s_assert_note ((size_t)n + 4, key, "failed");
    }
    assert_int_equal (jobd_mock_host_stop (s_host), 0);
}

static void
test_storm_becomes_a_digest (void **state)
{
    const char *rules[] = {"rules/storm/events",
                           "failed",
                           "rules/storm/digest_after",
                           "3",
                           "rules/storm/digest_window",
                           "3s",
                           NULL};
    s_start (rules);
    for (int n = 1; n <= 12; n++)
        s_append (n, JOBD_STATE_RUNNING, JOBD_STATE_FAILED, 1, NULL);
    //  While the window runs, the nine folded ones are pending.
    bool pending = false;
    int64_t until = zclock_mono () + S_DEADLINE;
    while (!pending && zclock_mono () < until && webhook_sink_count (s_sink) < 4) {
        jobd_event_t *status = jobd_mock_host_expect (s_host, JOBD_EVENT_PLUGIN_STATUS, 200);
        pending = status && strstr (status->detail, "hook: 3 delivered, 9 pending");
        jobd_event_destroy (&status);
    }
    assert_true (pending);
    //  The first three one by one, the other nine in one digest at the window's end.
    assert_true (webhook_sink_wait (s_sink, 4, S_DEADLINE));
    s_assert_note (0, "job-1/1", "failed");
    s_assert_note (2, "job-3/1", "failed");
    s_assert_note (3, "digest/storm/job-4/1", "digest");
    char *body = webhook_sink_body (s_sink, 3);
    json_t *root = json_loads (body, 0, NULL);
    assert_int_equal (
        json_integer_value (json_object_get (json_object_get (root, "digest"), "count")), 9);
    json_decref (root);
    free (body);
    assert_int_equal (jobd_mock_host_stop (s_host), 0);
    assert_int_equal (webhook_sink_count (s_sink), 4);
}

//  A storm while the channel is down still becomes a digest when it comes back: windows are
//  closed by the events' own time while the reader catches up, not by the clock (which had
//  closed each window at once: twelve notes).
static void
test_storm_during_an_outage_becomes_a_digest (void **state)
{
    const char *rules[] = {"rules/storm/events",
                           "failed",
                           "rules/storm/digest_after",
                           "3",
                           "rules/storm/digest_window",
                           "1s",
                           NULL};
    s_start (rules);
    webhook_sink_fail (s_sink, 503);
    for (int n = 1; n <= 12; n++)
        s_append (n, JOBD_STATE_RUNNING, JOBD_STATE_FAILED, 1, NULL);
    //  Down past the window's end: tried every 400 ms (backoff_max), four times is over 1.2 s.
    assert_true (webhook_sink_wait_refused (s_sink, 4, S_DEADLINE));
    webhook_sink_fail (s_sink, 0);
    assert_true (webhook_sink_wait (s_sink, 4, S_DEADLINE));
    s_assert_note (0, "job-1/1", "failed");
    s_assert_note (2, "job-3/1", "failed");
    s_assert_note (3, "digest/storm/job-4/1", "digest");
    assert_int_equal (jobd_mock_host_stop (s_host), 0);
    assert_int_equal (webhook_sink_count (s_sink), 4);
}

static void
test_stale_event (void **state)
{
    s_start (NULL);
    s_append (7, JOBD_STATE_QUEUED, JOBD_STATE_RUNNING, 1, NULL);
    jobd_event_t *stale = jobd_event_new (JOBD_EVENT_STALE);
    jobd_event_set (&stale->source, "deadline");
    jobd_event_set (&stale->job, "job-7");
    jobd_event_set (&stale->kind, "spark");
    jobd_event_set (&stale->error, "RUNNING for 2m0s, past its deadline");
    stale->state = JOBD_STATE_RUNNING;
    stale->ts = jobd_now_ms ();
    //  From the log (ABI 1.6), as transitions: the notifier subscribes to nothing.
    assert_int_equal (jobd_mock_host_log_event (s_host, NULL, stale), 2);
    jobd_event_destroy (&stale);
    assert_true (webhook_sink_wait (s_sink, 1, S_DEADLINE));
    s_assert_note (0, "job-7/1/stale", "stale");
    assert_int_equal (jobd_mock_host_stop (s_host), 0);
}

//  The other channel types run in the plugin too: a slack channel (its URL a secret, from a
//  variable) to the same receiver, beside the webhook: each gets the note once.
static void
test_slack_channel_beside_the_webhook (void **state)
{
    setenv ("NT_TEST_SLACK_URL", webhook_sink_url (s_sink), 1);
    const char *extra[] = {"channels/chat/type", "slack", "channels/chat/url_env",
                           "NT_TEST_SLACK_URL", NULL};
    const char *config[64] = {"channels/hook/type",      "webhook",    "channels/hook/url",
                              webhook_sink_url (s_sink), "final_wait", "300ms",
                              "status_interval",         "0",          NULL};
    size_t used = 8;
    for (size_t index = 0; extra[index]; index++)
        config[used++] = extra[index];
    config[used] = NULL;
    const jobd_plugin_t *plugin = NULL;
    char reason[256] = "";
    s_host = jobd_mock_host_open ("notifier", config, &plugin, reason, sizeof reason);
    assert_non_null (s_host);
    if (jobd_mock_host_start (s_host, plugin, reason, sizeof reason))
        fail_msg ("notifier refused to start: %s", reason);
    //  Both channels' cursors, before the first transition.
    for (int cursors = 0; cursors < 2; cursors++) {
        jobd_event_t *cursor = jobd_mock_host_expect (s_host, JOBD_EVENT_CURSOR, S_DEADLINE);
        assert_non_null (cursor);
        jobd_event_destroy (&cursor);
    }
    s_append (9, JOBD_STATE_RUNNING, JOBD_STATE_FAILED, 1, "no retry");
    assert_true (webhook_sink_wait (s_sink, 2, S_DEADLINE));
    bool slack = false, webhook = false;
    for (size_t index = 0; index < 2; index++) {
        char *body = webhook_sink_body (s_sink, index);
        char *key = webhook_sink_header (s_sink, index, "Idempotency-Key");
        assert_string_equal (key, "job-9/1");
        slack |= strstr (body, "\"blocks\"") != NULL;
        webhook |= strstr (body, "\"event\":\"final\"") != NULL;
        free (key);
        free (body);
    }
    assert_true (slack && webhook);
    assert_int_equal (jobd_mock_host_stop (s_host), 0);
    unsetenv ("NT_TEST_SLACK_URL");
}

static void
test_config_errors (void **state)
{
    const char *cases[][5] = {
        {"channels/x/type", "pigeon", NULL, NULL, "channels/x/type: unknown type 'pigeon'"},
        {"rules/r/channels", "nope", NULL, NULL, "rules: no channel 'nope'"},
        {"rules/r/events", "final, boom", NULL, NULL, "rules/r/events: unknown event 'boom'"},
        {"rules/r/names", "~(", NULL, NULL, "rules/r/names: bad regular expression"},
        {"channels/hook/secret", "abc", "channels/hook/secret_env", "HOME",
         "channels/hook/secret: set only one of"},
    };
    for (size_t index = 0; index < sizeof cases / sizeof cases[0]; index++) {
        const char *config[] = {"channels/hook/type",      "webhook",       "channels/hook/url",
                                webhook_sink_url (s_sink), cases[index][0], cases[index][1],
                                cases[index][2],           cases[index][3], NULL};
        const jobd_plugin_t *plugin = NULL;
        char reason[512] = "";
        s_host = jobd_mock_host_open ("notifier", config, &plugin, reason, sizeof reason);
        assert_non_null (s_host);
        assert_int_equal (jobd_mock_host_start (s_host, plugin, reason, sizeof reason),
                          JOBD_ECONFIG);
        if (!strstr (reason, cases[index][4]))
            fail_msg ("case %zu: %s", index, reason);
        assert_null (strstr (reason, "abc"));
        jobd_mock_host_destroy (&s_host);
    }
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown (test_default_rule_final_and_recovered_in_order, s_setup,
                                         s_teardown),
        cmocka_unit_test_setup_teardown (test_undecided_failure_is_final_after_final_wait, s_setup,
                                         s_teardown),
        cmocka_unit_test_setup_teardown (test_failed_rule_does_not_wait_for_the_decision, s_setup,
                                         s_teardown),
        cmocka_unit_test_setup_teardown (test_channel_down_then_back_keeps_order, s_setup,
                                         s_teardown),
        cmocka_unit_test_setup_teardown (test_storm_during_an_outage_becomes_a_digest, s_setup,
                                         s_teardown),
        cmocka_unit_test_setup_teardown (test_storm_becomes_a_digest, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_stale_event, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_slack_channel_beside_the_webhook, s_setup,
                                         s_teardown),
        cmocka_unit_test_setup_teardown (test_config_errors, s_setup, s_teardown),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
