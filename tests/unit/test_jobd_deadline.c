//  The deadline policy: defaults, core/deadline_*, per kind and kind/backend (core/deadlines), per
//  job in its spec, the last one winning; a malformed setting refused with its key; the timer a
//  state's entry arms, and none for a final state.
#include "jobd_deadline.h"
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include "../store_dir.h"
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

typedef struct {
    char dir[64];
    jobd_store_t *store;
} s_fixture_t;

static int
s_setup (void **state)
{
    s_fixture_t *self = (s_fixture_t *)calloc (1, sizeof *self);
    self->store = store_dir_open (self->dir, sizeof self->dir, "deadline");
    *state = self;
    return 0;
}

static int
s_teardown (void **state)
{
    s_fixture_t *self = (s_fixture_t *)*state;
    jobd_store_destroy (&self->store);
    store_dir_remove (self->dir);
    free (self);
    return 0;
}

//  A policy from core section text; returns its code, the policy in *deadline_p.
static int
s_policy (const char *core, jobd_deadline_t **deadline_p, char *reason, size_t size)
{
    char path[64], text[1024];
    snprintf (path, sizeof path, "/tmp/jobd-deadline-cfg-XXXXXX");
    int fd = mkstemp (path);
    assert_true (fd >= 0);
    snprintf (text, sizeof text, "core\n%s", core);
    assert_int_equal (write (fd, text, strlen (text)), (ssize_t)strlen (text));
    close (fd);
    jobd_config_t *config = NULL;
    assert_int_equal (jobd_config_load (path, &config, reason, size), 0);
    unlink (path);
    assert_int_equal (jobd_config_check (config, "core", jobd_config_core_map, reason, size), 0);
    int rc = jobd_deadline_new (config, deadline_p, reason, size);
    jobd_config_destroy (&config);
    return rc;
}

//  Enters a job of kind/backend with spec into state (a track, in its own commit) under policy;
//  returns its deadline timer's due minus the entry time (0: none armed).
static int64_t
s_limit (s_fixture_t *self, jobd_deadline_t *deadline, const char *kind, const char *backend,
         const char *spec, jobd_state_t state)
{
    static int count = 0;
    char ext[32];
    snprintf (ext, sizeof ext, "app-%d", ++count);
    jobd_store_set_arm_fn (self->store, jobd_deadline_arm, deadline);
    jobd_event_t *track = jobd_event_new (JOBD_EVENT_TRACK);
    jobd_event_set (&track->source, "test");
    jobd_event_set (&track->kind, kind);
    jobd_event_set (&track->backend, backend);
    jobd_event_set (&track->ext, ext);
    jobd_event_set (&track->spec, spec);
    track->state = state;
    jobd_apply_result_t result;
    assert_int_equal (jobd_store_begin (self->store), 0);
    assert_int_equal (jobd_store_apply (self->store, track, &result), 0);
    assert_int_equal (jobd_store_commit (self->store), 0);
    jobd_event_destroy (&track);
    jobd_store_set_arm_fn (self->store, NULL, NULL);
    jobd_job_t *job = NULL;
    assert_int_equal (jobd_store_job_get (self->store, result.job, &job), 0);
    jobd_store_timer_t timers[2];
    size_t found = 0;
    assert_int_equal (jobd_store_timer_list (self->store, result.job, timers, 2, &found), 0);
    int64_t limit = found ? timers[0].due - job->updated_at : 0;
    jobd_job_destroy (&job);
    jobd_apply_result_clear (&result);
    return limit;
}

static void
test_defaults_and_final_states (void **state)
{
    s_fixture_t *self = (s_fixture_t *)*state;
    jobd_deadline_t *deadline = NULL;
    char reason[256];
    assert_int_equal (jobd_deadline_new (NULL, &deadline, reason, sizeof reason), 0);
    assert_int_equal (s_limit (self, deadline, "spark", "b", NULL, JOBD_STATE_QUEUED), 120000);
    assert_int_equal (s_limit (self, deadline, "spark", "b", NULL, JOBD_STATE_SUBMITTED), 900000);
    assert_int_equal (s_limit (self, deadline, "spark", "b", NULL, JOBD_STATE_RUNNING), 0);
    assert_int_equal (s_limit (self, deadline, "spark", "b", NULL, JOBD_STATE_SUCCEEDED), 0);
    jobd_deadline_destroy (&deadline);
}

static void
test_kind_backend_and_spec_override (void **state)
{
    s_fixture_t *self = (s_fixture_t *)*state;
    jobd_deadline_t *deadline = NULL;
    char reason[256];
    assert_int_equal (s_policy ("    deadline_submitted = 10m\n"
                                "    deadlines = \"spark running=2h; spark/livy running=3h "
                                "submitted=1m; kafka queued=0\"\n",
                                &deadline, reason, sizeof reason),
                      0);
    assert_int_equal (s_limit (self, deadline, "other", "b", NULL, JOBD_STATE_SUBMITTED), 600000);
    assert_int_equal (s_limit (self, deadline, "spark", "yarn", NULL, JOBD_STATE_RUNNING),
                      2 * 3600000);
    //  kind/backend wins over kind, whatever the order of the entries.
    assert_int_equal (s_limit (self, deadline, "spark", "livy", NULL, JOBD_STATE_RUNNING),
                      3 * 3600000);
    assert_int_equal (s_limit (self, deadline, "spark", "livy", NULL, JOBD_STATE_SUBMITTED), 60000);
    assert_int_equal (s_limit (self, deadline, "kafka", "k", NULL, JOBD_STATE_QUEUED), 0);
    //  The job's spec wins over all.
    assert_int_equal (
        s_limit (self, deadline, "spark", "livy", "{\"max_runtime\":\"45m\"}", JOBD_STATE_RUNNING),
        45 * 60000);
    assert_int_equal (
        s_limit (self, deadline, "spark", "livy", "{\"max_runtime\":90000}", JOBD_STATE_RUNNING),
        90000);
    assert_int_equal (s_limit (self, deadline, "spark", "livy",
                               "{\"deadlines\":{\"submitted\":\"0\"}}", JOBD_STATE_SUBMITTED),
                      0);
    jobd_deadline_destroy (&deadline);
}

static void
test_malformed_settings_are_refused (void **state)
{
    (void)state;
    jobd_deadline_t *deadline = NULL;
    char reason[512];
    assert_int_equal (
        s_policy ("    deadline_action = explode\n", &deadline, reason, sizeof reason),
        JOBD_ECONFIG);
    assert_non_null (strstr (reason, "core/deadline_action"));
    assert_null (deadline);
    assert_int_equal (
        s_policy ("    deadlines = \"spark runing=2h\"\n", &deadline, reason, sizeof reason),
        JOBD_ECONFIG);
    assert_non_null (strstr (reason, "core/deadlines"));
    assert_non_null (strstr (reason, "runing=2h"));
    assert_int_equal (
        s_policy ("    deadlines = \"spark running=soon\"\n", &deadline, reason, sizeof reason),
        JOBD_ECONFIG);
}

//  Takes the timers due now and fires them in one commit; returns how many stale events.
static int
s_fire_due (s_fixture_t *self, jobd_deadline_t *deadline)
{
    jobd_store_timer_t timers[8];
    size_t count = 0;
    int stale = 0;
    assert_int_equal (jobd_store_begin (self->store), 0);
    assert_int_equal (jobd_store_timer_take (self->store, jobd_now_ms (), 8, timers, &count), 0);
    for (size_t index = 0; index < count; index++) {
        jobd_deadline_fired_t fired;
        assert_int_equal (jobd_deadline_fire (deadline, self->store, &timers[index], &fired), 0);
        if (fired.stale) {
            assert_non_null (strstr (fired.stale->error, "no word from its source"));
            stale++;
        }
        jobd_deadline_fired_clear (&fired);
    }
    assert_int_equal (jobd_store_commit (self->store), 0);
    return stale;
}

//  Freshness: a source that keeps confirming the job moves its check on (one timer rewrite per
//  check, none per observation); one silent past the limit makes the job stale.
static void
test_silent_source_makes_the_job_stale (void **state)
{
    s_fixture_t *self = (s_fixture_t *)*state;
    jobd_deadline_t *deadline = NULL;
    char reason[256];
    assert_int_equal (s_policy ("    deadline_fresh = 100ms\n    deadline_submitted = 0\n",
                                &deadline, reason, sizeof reason),
                      0);
    assert_int_equal (s_limit (self, deadline, "spark", "b", NULL, JOBD_STATE_SUBMITTED), 100);
    const char *job = "job-1";
    jobd_store_timer_t timers[2];
    size_t count = 0;
    assert_int_equal (jobd_store_timer_list (self->store, job, timers, 2, &count), 0);
    assert_int_equal (count, 1);
    assert_string_equal (timers[0].name, "fresh");
    int64_t due = timers[0].due;
    //  The source confirms it just before the check falls due: the check moves on.
    while (jobd_now_ms () < due)
        zclock_sleep (5);
    jobd_event_t *observed = jobd_event_new (JOBD_EVENT_OBSERVED);
    jobd_event_set (&observed->source, "test");
    jobd_event_set (&observed->job, job);
    observed->state = JOBD_STATE_SUBMITTED;
    jobd_apply_result_t result;
    assert_int_equal (jobd_store_begin (self->store), 0);
    assert_int_equal (jobd_store_apply (self->store, observed, &result), 0);
    assert_int_equal (jobd_store_commit (self->store), 0);
    assert_int_equal (result.outcome, JOBD_APPLY_DUPLICATE);
    jobd_event_destroy (&observed);
    assert_int_equal (s_fire_due (self, deadline), 0);
    jobd_job_t *record = NULL;
    assert_int_equal (jobd_store_job_get (self->store, job, &record), 0);
    assert_null (record->stale);
    assert_int_equal (jobd_store_timer_list (self->store, job, timers, 2, &count), 0);
    assert_int_equal (count, 1);
    assert_int_equal (timers[0].due, record->confirmed_at + 100);
    jobd_job_destroy (&record);
    //  Then silence past the limit: stale, once.
    while (jobd_now_ms () < timers[0].due)
        zclock_sleep (5);
    assert_int_equal (s_fire_due (self, deadline), 1);
    assert_int_equal (jobd_store_job_get (self->store, job, &record), 0);
    assert_non_null (record->stale);
    assert_non_null (strstr (record->stale, "core/deadline_fresh"));
    jobd_job_destroy (&record);
    assert_int_equal (jobd_store_timer_list (self->store, job, timers, 2, &count), 0);
    assert_int_equal (count, 0);
    jobd_deadline_destroy (&deadline);
}

//  Applies an observation of job (created when unknown, as kafka-listener sends them) in its own
//  commit; heartbeat and grace its promise (0: none). Returns the outcome.
static jobd_apply_outcome_t
s_observe (s_fixture_t *self, jobd_deadline_t *deadline, jobd_state_t state, int64_t heartbeat,
           int64_t grace)
{
    jobd_store_set_arm_fn (self->store, jobd_deadline_arm, deadline);
    jobd_event_t *observed = jobd_event_new (JOBD_EVENT_OBSERVED);
    jobd_event_set (&observed->source, "kafka-listener");
    jobd_event_set (&observed->kind, "kafka");
    jobd_event_set (&observed->backend, "kafka");
    jobd_event_set (&observed->ext, "beating");
    observed->create = true;
    observed->state = state;
    observed->heartbeat = heartbeat;
    observed->heartbeat_grace = grace;
    jobd_apply_result_t result;
    assert_int_equal (jobd_store_begin (self->store), 0);
    assert_int_equal (jobd_store_apply (self->store, observed, &result), 0);
    assert_int_equal (jobd_store_commit (self->store), 0);
    jobd_event_destroy (&observed);
    jobd_apply_outcome_t outcome = result.outcome;
    jobd_apply_result_clear (&result);
    return outcome;
}

//  The job's one timer (its name and due), after checking there is one.
static jobd_store_timer_t
s_only_timer (s_fixture_t *self, const char *job)
{
    jobd_store_timer_t timers[2];
    size_t count = 0;
    assert_int_equal (jobd_store_timer_list (self->store, job, timers, 2, &count), 0);
    assert_int_equal (count, 1);
    return timers[0];
}

//  Fires what is due at the timer's due.
static int
s_fire_at (s_fixture_t *self, jobd_deadline_t *deadline, jobd_store_timer_t timer)
{
    while (jobd_now_ms () < timer.due)
        zclock_sleep (5);
    return s_fire_due (self, deadline);
}

//  A running job's heartbeat promise (kafka-listener's events carry it) is kept on its record and
//  is its freshness, armed in the store: silent past it, the job is stale; a word within the
//  grace ends the flag; silent through the grace, it is LOST. A new promise re-arms the check in
//  the commit of the observation that makes it.
static void
test_heartbeat_promise_is_kept_in_the_store (void **state)
{
    s_fixture_t *self = (s_fixture_t *)*state;
    jobd_deadline_t *deadline = NULL;
    char reason[256];
    assert_int_equal (s_policy ("    deadline_submitted = 0\n", &deadline, reason, sizeof reason),
                      0);
    assert_int_equal (s_observe (self, deadline, JOBD_STATE_RUNNING, 100, 200), JOBD_APPLY_CHANGED);
    const char *job = "job-1";
    jobd_job_t *record = NULL;
    assert_int_equal (jobd_store_job_get (self->store, job, &record), 0);
    assert_int_equal (record->heartbeat, 100);
    assert_int_equal (record->heartbeat_grace, 200);
    jobd_store_timer_t timer = s_only_timer (self, job);
    assert_string_equal (timer.name, "fresh");
    //  (Checked from the later of its entry and its source's word: the job's creation may take
    //  one and then the other in successive milliseconds.)
    int64_t last =
        record->confirmed_at > record->updated_at ? record->confirmed_at : record->updated_at;
    assert_int_equal (timer.due, last + 100);
    jobd_job_destroy (&record);
    //  Silent past its promise: stale, and LOST armed after the grace.
    assert_int_equal (s_fire_at (self, deadline, timer), 1);
    assert_int_equal (jobd_store_job_get (self->store, job, &record), 0);
    assert_non_null (record->stale);
    assert_non_null (strstr (record->stale, "(its heartbeat); action lost in 200ms"));
    timer = s_only_timer (self, job);
    assert_string_equal (timer.name, "deadline.action");
    assert_int_equal (timer.due, record->stale_at + 200);
    jobd_job_destroy (&record);
    //  It speaks within the grace: no LOST, the flag ends, its silence is checked from that word.
    assert_int_equal (s_observe (self, deadline, JOBD_STATE_RUNNING, 0, 0), JOBD_APPLY_DUPLICATE);
    assert_int_equal (s_fire_at (self, deadline, timer), 0);
    assert_int_equal (jobd_store_job_get (self->store, job, &record), 0);
    assert_int_equal (record->state, JOBD_STATE_RUNNING);
    assert_null (record->stale);
    assert_int_equal (record->heartbeat, 100); //  an event without a promise keeps it
    timer = s_only_timer (self, job);
    assert_string_equal (timer.name, "fresh");
    assert_int_equal (timer.due, record->confirmed_at + 100);
    jobd_job_destroy (&record);
    //  Silent again, through the grace: stale, then LOST with the reason.
    assert_int_equal (s_fire_at (self, deadline, timer), 1);
    assert_int_equal (s_fire_at (self, deadline, s_only_timer (self, job)), 0);
    assert_int_equal (jobd_store_job_get (self->store, job, &record), 0);
    assert_int_equal (record->state, JOBD_STATE_LOST);
    assert_non_null (strstr (record->error, "RUNNING and no word from its source for more than "
                                            "100ms (its heartbeat), then 200ms of grace"));
    jobd_job_destroy (&record);
    //  Back with a longer promise: checked a minute on; a shorter one in a repeat re-arms it.
    assert_int_equal (s_observe (self, deadline, JOBD_STATE_RUNNING, 60000, 0), JOBD_APPLY_CHANGED);
    timer = s_only_timer (self, job);
    assert_int_equal (jobd_store_job_get (self->store, job, &record), 0);
    assert_int_equal (timer.due, record->updated_at + 60000);
    jobd_job_destroy (&record);
    assert_int_equal (s_observe (self, deadline, JOBD_STATE_RUNNING, 300, 0), JOBD_APPLY_DUPLICATE);
    timer = s_only_timer (self, job);
    assert_int_equal (jobd_store_job_get (self->store, job, &record), 0);
    assert_int_equal (timer.due, record->confirmed_at + 300);
    jobd_job_destroy (&record);
    //  It ends: the promise goes with it, and no timer is left.
    assert_int_equal (s_observe (self, deadline, JOBD_STATE_SUCCEEDED, 0, 0), JOBD_APPLY_CHANGED);
    assert_int_equal (jobd_store_job_get (self->store, job, &record), 0);
    assert_int_equal (record->heartbeat, 0);
    jobd_job_destroy (&record);
    jobd_store_timer_t timers[2];
    size_t count = 9;
    assert_int_equal (jobd_store_timer_list (self->store, job, timers, 2, &count), 0);
    assert_int_equal (count, 0);
    jobd_deadline_destroy (&deadline);
}

//  A job waiting for its retry has no source to hear from (the wait is jobd's own timer): no
//  freshness check is armed while it waits; one at a backend gets one.
static void
test_retry_wait_has_no_freshness_check (void **state)
{
    s_fixture_t *self = (s_fixture_t *)*state;
    jobd_deadline_t *deadline = NULL;
    char reason[256];
    assert_int_equal (s_policy ("    deadline_fresh = 100ms\n    deadline_submitted = 0\n",
                                &deadline, reason, sizeof reason),
                      0);
    jobd_job_t job = {.id = (char *)"job-7",
                      .kind = (char *)"spark",
                      .state = JOBD_STATE_RETRY_WAIT,
                      .updated_at = jobd_now_ms ()};
    jobd_store_timer_t timers[2];
    size_t count = 9;
    assert_int_equal (jobd_store_begin (self->store), 0);
    assert_int_equal (jobd_deadline_arm (self->store, &job, deadline), 0);
    assert_int_equal (jobd_store_commit (self->store), 0);
    assert_int_equal (jobd_store_timer_list (self->store, "job-7", timers, 2, &count), 0);
    assert_int_equal (count, 0);
    job.state = JOBD_STATE_SUBMITTED;
    assert_int_equal (jobd_store_begin (self->store), 0);
    assert_int_equal (jobd_deadline_arm (self->store, &job, deadline), 0);
    assert_int_equal (jobd_store_commit (self->store), 0);
    assert_int_equal (jobd_store_timer_list (self->store, "job-7", timers, 2, &count), 0);
    assert_int_equal (count, 1);
    assert_string_equal (timers[0].name, "fresh");
    jobd_deadline_destroy (&deadline);
}

int
main (void)
{
#define T(name) cmocka_unit_test_setup_teardown (name, s_setup, s_teardown)
    const struct CMUnitTest tests[] = {T (test_retry_wait_has_no_freshness_check),
                                       T (test_defaults_and_final_states),
                                       T (test_kind_backend_and_spec_override),
                                       T (test_malformed_settings_are_refused),
                                       T (test_silent_source_makes_the_job_stale),
                                       T (test_heartbeat_promise_is_kept_in_the_store)};
    return cmocka_run_group_tests (tests, NULL, NULL);
}
