//  The store's retries: retry.plan (RETRY_WAIT with its timer in the same commit, or final), the
//  retry command with now, stop or neither (forwarded), and the retry timer that starts the next
//  attempt in the commit that takes it.
#include "jobd_store.h"
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include "../store_dir.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    char dir[64];
    jobd_store_t *store;
} s_fixture_t;

static int
s_setup (void **state)
{
    s_fixture_t *self = (s_fixture_t *)calloc (1, sizeof *self);
    self->store = store_dir_open (self->dir, sizeof self->dir, "retry");
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

static jobd_event_t *
s_event (jobd_event_type_t type, const char *job)
{
    jobd_event_t *event = jobd_event_new (type);
    assert_non_null (event);
    jobd_event_set (&event->source, "test");
    jobd_event_set (&event->job, job);
    return event;
}

//  Applies event (consumed) in a batch of its own into result; returns apply's code.
static int
s_apply (s_fixture_t *self, jobd_event_t *event, jobd_apply_result_t *result)
{
    assert_int_equal (jobd_store_begin (self->store), 0);
    int rc = jobd_store_apply (self->store, event, result);
    assert_int_equal (jobd_store_commit (self->store), 0);
    jobd_event_destroy (&event);
    return rc;
}

//  Applies event (consumed), expecting rc; returns the outcome.
static jobd_apply_outcome_t
s_expect (s_fixture_t *self, jobd_event_t *event, int rc)
{
    jobd_apply_result_t result;
    assert_int_equal (s_apply (self, event, &result), rc);
    jobd_apply_outcome_t outcome = result.outcome;
    jobd_apply_result_clear (&result);
    return outcome;
}

static void
s_observe (s_fixture_t *self, const char *job, jobd_state_t state, uint32_t attempt)
{
    jobd_event_t *observed = s_event (JOBD_EVENT_OBSERVED, job);
    observed->state = state;
    observed->attempt = attempt;
    jobd_event_set (&observed->backend, "yarn");
    if (state == JOBD_STATE_SUBMITTED) {
        char ext[64];
        snprintf (ext, sizeof ext, "app-%s", job);
        jobd_event_set (&observed->ext, ext);
    }
    if (state == JOBD_STATE_FAILED)
        jobd_event_set (&observed->error, "java.lang.OutOfMemoryError: Java heap space");
    s_expect (self, observed, 0);
}

//  A job submitted, then at its backend, then in state (FAILED, LOST or RUNNING); its id into id.
static void
s_job_in (s_fixture_t *self, jobd_state_t state, char *id, size_t size)
{
    jobd_event_t *submit = s_event (JOBD_EVENT_SUBMIT, NULL);
    jobd_event_set (&submit->kind, "spark");
    jobd_event_set (&submit->spec, "{\"memory\":\"4g\"}");
    jobd_apply_result_t result;
    assert_int_equal (s_apply (self, submit, &result), 0);
    snprintf (id, size, "%s", result.job);
    jobd_apply_result_clear (&result);
    s_observe (self, id, JOBD_STATE_SUBMITTED, 1);
    if (state == JOBD_STATE_LOST)
        s_observe (self, id, JOBD_STATE_UNKNOWN, 1);
    if (state != JOBD_STATE_SUBMITTED)
        s_observe (self, id, state, 1);
}

static jobd_event_t *
s_plan (const char *job, uint32_t attempt, jobd_state_t state, int64_t due)
{
    jobd_event_t *plan = s_event (JOBD_EVENT_RETRY_PLAN, job);
    jobd_event_set (&plan->source, "retry");
    plan->attempt = attempt;
    plan->state = state;
    plan->due = due;
    jobd_event_set (&plan->failure_class, "oom");
    jobd_event_set (&plan->policy, "kind spark");
    if (state == JOBD_STATE_FAILED)
        jobd_event_set (&plan->error, "class user: never retried");
    return plan;
}

static jobd_event_t *
s_retry (const char *job, bool now, bool stop)
{
    jobd_event_t *retry = s_event (JOBD_EVENT_RETRY, job);
    retry->now = now;
    retry->stop = stop;
    return retry;
}

static jobd_job_t *
s_job (s_fixture_t *self, const char *id)
{
    jobd_job_t *job = NULL;
    assert_int_equal (jobd_store_job_get (self->store, id, &job), 0);
    return job;
}

static size_t
s_history_length (s_fixture_t *self, const char *job)
{
    jobd_event_t **history = NULL;
    size_t count = 0;
    assert_int_equal (jobd_store_history (self->store, job, &history, &count), 0);
    jobd_store_history_free (&history, count);
    return count;
}

//  The job's timers (committed): how many, and the first one in *timer.
static size_t
s_timers (s_fixture_t *self, const char *job, jobd_store_timer_t *timer)
{
    jobd_store_timer_t timers[4];
    size_t count = 0;
    assert_int_equal (jobd_store_timer_list (self->store, job, timers, 4, &count), 0);
    if (count && timer)
        *timer = timers[0];
    return count;
}

//  ---------------------------------------------------------------------------------------------

//  A RETRY_WAIT plan: the move carries due, class, policy and change; the record its retry
//  fields and the new spec; the retry timer is armed at due in the same commit (an aborted batch
//  leaves neither).
static void
test_plan_waits_with_its_timer_in_one_commit (void **state)
{
    s_fixture_t *self = (s_fixture_t *)*state;
    char job[32];
    s_job_in (self, JOBD_STATE_FAILED, job, sizeof job);
    int64_t due = jobd_now_ms () + 3600000;
    jobd_event_t *plan = s_plan (job, 1, JOBD_STATE_RETRY_WAIT, due);
    jobd_event_set (&plan->change, "spark.executor.memory 4g -> 6g");
    jobd_event_set (&plan->spec, "{\"memory\":\"6g\"}");

    jobd_apply_result_t result;
    assert_int_equal (jobd_store_begin (self->store), 0);
    assert_int_equal (jobd_store_apply (self->store, plan, &result), 0);
    jobd_apply_result_clear (&result);
    jobd_store_abort (self->store);
    jobd_job_t *record = s_job (self, job);
    assert_int_equal (record->state, JOBD_STATE_FAILED);
    jobd_job_destroy (&record);
    assert_int_equal (s_timers (self, job, NULL), 0);

    assert_int_equal (s_apply (self, plan, &result), 0);
    assert_int_equal (result.outcome, JOBD_APPLY_CHANGED);
    assert_int_equal (result.transition_count, 1);
    assert_int_equal (result.transitions[0].from, JOBD_STATE_FAILED);
    assert_int_equal (result.transitions[0].to, JOBD_STATE_RETRY_WAIT);
    jobd_event_t *moved = NULL;
    assert_int_equal (
        jobd_event_decode (result.transitions[0].data, result.transitions[0].size, &moved, NULL, 0),
        0);
    assert_int_equal (moved->due, due);
    assert_string_equal (moved->failure_class, "oom");
    assert_string_equal (moved->policy, "kind spark");
    assert_string_equal (moved->change, "spark.executor.memory 4g -> 6g");
    assert_string_equal (moved->source, "retry");
    assert_int_equal (moved->attempt, 1);
    jobd_event_destroy (&moved);
    jobd_apply_result_clear (&result);

    record = s_job (self, job);
    assert_int_equal (record->state, JOBD_STATE_RETRY_WAIT);
    assert_int_equal (record->retry_at, due);
    assert_string_equal (record->retry_class, "oom");
    assert_string_equal (record->retry_policy, "kind spark");
    assert_null (record->retry_final);
    assert_string_equal (record->spec, "{\"memory\":\"6g\"}");
    assert_non_null (strstr (record->error, "OutOfMemoryError")); //  the failure stays
    jobd_job_destroy (&record);
    jobd_store_timer_t timer;
    assert_int_equal (s_timers (self, job, &timer), 1);
    assert_string_equal (timer.name, JOBD_STORE_TIMER_RETRY);
    assert_int_equal (timer.due, due);
    //  The history keeps what the plan said (jobctl show reads it there).
    jobd_event_t **history = NULL;
    size_t count = 0;
    assert_int_equal (jobd_store_history (self->store, job, &history, &count), 0);
    assert_int_equal (history[count - 1]->due, due);
    assert_string_equal (history[count - 1]->change, "spark.executor.memory 4g -> 6g");
    jobd_store_history_free (&history, count);
}

//  A plan for an attempt the job is not in, or for a job no longer failed, writes nothing; so
//  does the same plan again once it applied.
static void
test_plan_for_another_attempt_or_state_is_a_duplicate (void **state)
{
    s_fixture_t *self = (s_fixture_t *)*state;
    char failed[32], running[32];
    s_job_in (self, JOBD_STATE_FAILED, failed, sizeof failed);
    s_job_in (self, JOBD_STATE_RUNNING, running, sizeof running);
    int64_t due = jobd_now_ms () + 60000;
    size_t length = s_history_length (self, failed);
    assert_int_equal (s_expect (self, s_plan (failed, 2, JOBD_STATE_RETRY_WAIT, due), 0),
                      JOBD_APPLY_DUPLICATE);
    assert_int_equal (s_expect (self, s_plan (failed, 2, JOBD_STATE_FAILED, 0), 0),
                      JOBD_APPLY_DUPLICATE);
    assert_int_equal (s_expect (self, s_plan (running, 1, JOBD_STATE_RETRY_WAIT, due), 0),
                      JOBD_APPLY_DUPLICATE);
    assert_int_equal (s_history_length (self, failed), length);
    assert_int_equal (s_timers (self, failed, NULL), 0);
    jobd_job_t *record = s_job (self, failed);
    assert_null (record->retry_final);
    assert_null (record->retry_class);
    jobd_job_destroy (&record);

    assert_int_equal (s_expect (self, s_plan (failed, 1, JOBD_STATE_RETRY_WAIT, due), 0),
                      JOBD_APPLY_CHANGED);
    assert_int_equal (s_expect (self, s_plan (failed, 1, JOBD_STATE_RETRY_WAIT, due + 5), 0),
                      JOBD_APPLY_DUPLICATE);
    jobd_store_timer_t timer;
    assert_int_equal (s_timers (self, failed, &timer), 1);
    assert_int_equal (timer.due, due);
    //  An unknown job is refused like any command on one.
    assert_int_equal (
        s_expect (self, s_plan ("job-99", 1, JOBD_STATE_RETRY_WAIT, due), JOBD_ENOTFOUND), 0);
}

//  A LOST job (where the policy retries those) waits the same way.
static void
test_lost_job_can_be_planned (void **state)
{
    s_fixture_t *self = (s_fixture_t *)*state;
    char job[32];
    s_job_in (self, JOBD_STATE_LOST, job, sizeof job);
    jobd_apply_result_t result;
    assert_int_equal (
        s_apply (self, s_plan (job, 1, JOBD_STATE_RETRY_WAIT, jobd_now_ms () + 1000), &result), 0);
    assert_int_equal (result.transition_count, 1);
    assert_int_equal (result.transitions[0].from, JOBD_STATE_LOST);
    assert_int_equal (result.transitions[0].to, JOBD_STATE_RETRY_WAIT);
    jobd_apply_result_clear (&result);
    assert_int_equal (s_timers (self, job, NULL), 1);
}

//  A final plan: no transition, the record says why no retry follows; the same plan again is a
//  duplicate, another reason replaces it. A new attempt clears it.
static void
test_final_plan_is_kept_once (void **state)
{
    s_fixture_t *self = (s_fixture_t *)*state;
    char job[32];
    s_job_in (self, JOBD_STATE_FAILED, job, sizeof job);
    size_t length = s_history_length (self, job);
    jobd_apply_result_t result;
    assert_int_equal (s_apply (self, s_plan (job, 1, JOBD_STATE_FAILED, 0), &result), 0);
    assert_int_equal (result.outcome, JOBD_APPLY_CHANGED);
    assert_int_equal (result.transition_count, 0);
    jobd_apply_result_clear (&result);
    assert_int_equal (s_history_length (self, job), length);
    jobd_job_t *record = s_job (self, job);
    assert_int_equal (record->state, JOBD_STATE_FAILED);
    assert_string_equal (record->retry_final, "class user: never retried");
    assert_string_equal (record->retry_class, "oom");
    assert_int_equal (record->retry_at, 0);
    jobd_job_destroy (&record);
    assert_int_equal (s_timers (self, job, NULL), 0);

    assert_int_equal (s_expect (self, s_plan (job, 1, JOBD_STATE_FAILED, 0), 0),
                      JOBD_APPLY_DUPLICATE);
    jobd_event_t *other = s_plan (job, 1, JOBD_STATE_FAILED, 0);
    jobd_event_set (&other->error, "3 attempts made, the most the policy allows");
    assert_int_equal (s_expect (self, other, 0), JOBD_APPLY_CHANGED);
    record = s_job (self, job);
    assert_string_equal (record->retry_final, "3 attempts made, the most the policy allows");
    jobd_job_destroy (&record);

    //  A manual retry still runs it, and the new attempt has no final word yet.
    assert_int_equal (s_expect (self, s_retry (job, true, false), 0), JOBD_APPLY_CHANGED);
    record = s_job (self, job);
    assert_int_equal (record->attempt, 2);
    assert_null (record->retry_final);
    jobd_job_destroy (&record);
}

//  The retry timer, taken in a batch, starts the next attempt in that batch: QUEUED, attempt + 1,
//  src retry, the old backend id dropped, retry_at cleared. Once: an aborted batch keeps it, a
//  second firing of the same timer finds the job moved on.
static void
test_timer_starts_the_next_attempt_once (void **state)
{
    s_fixture_t *self = (s_fixture_t *)*state;
    char job[32];
    s_job_in (self, JOBD_STATE_FAILED, job, sizeof job);
    int64_t due = jobd_now_ms () - 10;
    s_expect (self, s_plan (job, 1, JOBD_STATE_RETRY_WAIT, due), 0);
    jobd_store_timer_t timers[4];
    size_t count = 0;
    jobd_apply_result_t result;
    assert_int_equal (jobd_store_begin (self->store), 0);
    assert_int_equal (jobd_store_timer_take (self->store, jobd_now_ms (), 4, timers, &count), 0);
    assert_int_equal (count, 1);
    assert_int_equal (jobd_store_retry_fire (self->store, &timers[0], &result), 0);
    jobd_apply_result_clear (&result);
    jobd_store_abort (self->store);
    assert_int_equal (s_timers (self, job, NULL), 1);

    assert_int_equal (jobd_store_begin (self->store), 0);
    assert_int_equal (jobd_store_timer_take (self->store, jobd_now_ms (), 4, timers, &count), 0);
    assert_int_equal (count, 1);
    assert_int_equal (jobd_store_retry_fire (self->store, &timers[0], &result), 0);
    assert_int_equal (jobd_store_commit (self->store), 0);
    assert_int_equal (result.outcome, JOBD_APPLY_CHANGED);
    assert_int_equal (result.transition_count, 1);
    assert_int_equal (result.transitions[0].from, JOBD_STATE_RETRY_WAIT);
    assert_int_equal (result.transitions[0].to, JOBD_STATE_QUEUED);
    jobd_event_t *moved = NULL;
    assert_int_equal (
        jobd_event_decode (result.transitions[0].data, result.transitions[0].size, &moved, NULL, 0),
        0);
    assert_int_equal (moved->attempt, 2);
    assert_string_equal (moved->source, JOBD_STORE_SOURCE_RETRY);
    assert_null (moved->ext);
    jobd_event_destroy (&moved);
    jobd_apply_result_clear (&result);
    jobd_job_t *record = s_job (self, job);
    assert_int_equal (record->state, JOBD_STATE_QUEUED);
    assert_int_equal (record->attempt, 2);
    assert_int_equal (record->retry_at, 0);
    assert_null (record->ext);
    assert_string_equal (record->retry_class, "oom"); //  the last decision stays readable
    jobd_job_destroy (&record);
    assert_int_equal (s_timers (self, job, NULL), 0);

    //  The same timer again (an older jobd's leftover): the job moved on, nothing written.
    size_t length = s_history_length (self, job);
    assert_int_equal (jobd_store_begin (self->store), 0);
    assert_int_equal (jobd_store_retry_fire (self->store, &timers[0], &result), JOBD_ESTATE);
    assert_int_equal (jobd_store_commit (self->store), 0);
    assert_int_equal (s_history_length (self, job), length);
    //  A value this jobd cannot read is refused, not guessed at.
    jobd_store_timer_t odd = timers[0];
    odd.value_size = 2;
    assert_int_equal (jobd_store_begin (self->store), 0);
    assert_int_equal (jobd_store_retry_fire (self->store, &odd, &result), JOBD_EPROTO);
    assert_int_equal (jobd_store_commit (self->store), 0);
}

//  A cancel or a retry with stop ends the wait and removes the timer in its own commit; stop
//  says who stopped it, and is refused with a reason on a job that is not waiting.
static void
test_cancel_and_stop_remove_the_timer (void **state)
{
    s_fixture_t *self = (s_fixture_t *)*state;
    char cancelled[32], stopped[32];
    s_job_in (self, JOBD_STATE_FAILED, cancelled, sizeof cancelled);
    s_job_in (self, JOBD_STATE_FAILED, stopped, sizeof stopped);
    int64_t due = jobd_now_ms () + 60000;
    jobd_apply_result_t result;
    assert_int_equal (s_apply (self, s_retry (stopped, false, true), &result), JOBD_ESTATE);
    assert_non_null (result.reason);
    assert_non_null (strstr (result.reason, "not in RETRY_WAIT"));
    s_expect (self, s_plan (cancelled, 1, JOBD_STATE_RETRY_WAIT, due), 0);
    s_expect (self, s_plan (stopped, 1, JOBD_STATE_RETRY_WAIT, due), 0);
    assert_int_equal (jobd_store_timer_next (self->store), due);

    assert_int_equal (s_expect (self, s_event (JOBD_EVENT_CANCEL, cancelled), 0),
                      JOBD_APPLY_CHANGED);
    jobd_job_t *record = s_job (self, cancelled);
    assert_int_equal (record->state, JOBD_STATE_CANCELLED);
    assert_int_equal (record->retry_at, 0);
    jobd_job_destroy (&record);
    assert_int_equal (s_timers (self, cancelled, NULL), 0);

    assert_int_equal (s_apply (self, s_retry (stopped, false, true), &result), 0);
    assert_int_equal (result.transition_count, 1);
    assert_int_equal (result.transitions[0].from, JOBD_STATE_RETRY_WAIT);
    assert_int_equal (result.transitions[0].to, JOBD_STATE_FAILED);
    jobd_apply_result_clear (&result);
    record = s_job (self, stopped);
    assert_int_equal (record->state, JOBD_STATE_FAILED);
    assert_int_equal (record->retry_at, 0);
    assert_string_equal (record->retry_final, "retry stopped by test");
    assert_int_equal (record->attempt, 1);
    jobd_job_destroy (&record);
    assert_int_equal (s_timers (self, stopped, NULL), 0);
    //  Nothing fires later: no timer is left at all.
    assert_int_equal (jobd_store_begin (self->store), 0);
    jobd_store_timer_t timers[4];
    size_t count = 9;
    assert_int_equal (jobd_store_timer_take (self->store, due + 1, 4, timers, &count), 0);
    assert_int_equal (count, 0);
    assert_int_equal (jobd_store_commit (self->store), 0);
}

//  retry now: a failed job through RETRY_WAIT to QUEUED at once, a waiting one skips its wait.
//  Plain retry: forwarded to the retry plugin while it runs (nothing written), the same as now
//  without it; a waiting job answers with what to do.
static void
test_retry_now_plain_and_forwarded (void **state)
{
    s_fixture_t *self = (s_fixture_t *)*state;
    char failed[32], waiting[32], lost[32], running[32];
    s_job_in (self, JOBD_STATE_FAILED, failed, sizeof failed);
    s_job_in (self, JOBD_STATE_FAILED, waiting, sizeof waiting);
    s_job_in (self, JOBD_STATE_LOST, lost, sizeof lost);
    s_job_in (self, JOBD_STATE_RUNNING, running, sizeof running);
    s_expect (self, s_plan (waiting, 1, JOBD_STATE_RETRY_WAIT, jobd_now_ms () + 60000), 0);

    jobd_store_set_retry_forward (self->store, true);
    size_t length = s_history_length (self, failed);
    assert_int_equal (s_expect (self, s_retry (failed, false, false), 0), JOBD_APPLY_FORWARD);
    assert_int_equal (s_expect (self, s_retry (lost, false, false), 0), JOBD_APPLY_FORWARD);
    assert_int_equal (s_history_length (self, failed), length);
    assert_int_equal (s_expect (self, s_retry (running, false, false), JOBD_ESTATE), 0);
    jobd_apply_result_t result;
    assert_int_equal (s_apply (self, s_retry (waiting, false, false), &result), JOBD_ESTATE);
    assert_non_null (result.reason);
    assert_non_null (strstr (result.reason, "waits in RETRY_WAIT"));
    assert_non_null (strstr (result.reason, "'now'"));
    assert_int_equal (s_timers (self, waiting, NULL), 1);

    assert_int_equal (s_apply (self, s_retry (waiting, true, false), &result), 0);
    assert_int_equal (result.transition_count, 1);
    assert_int_equal (result.transitions[0].to, JOBD_STATE_QUEUED);
    jobd_apply_result_clear (&result);
    assert_int_equal (s_timers (self, waiting, NULL), 0);
    jobd_job_t *record = s_job (self, waiting);
    assert_int_equal (record->attempt, 2);
    assert_int_equal (record->retry_at, 0);
    jobd_job_destroy (&record);

    assert_int_equal (s_apply (self, s_retry (lost, true, false), &result), 0);
    assert_int_equal (result.transition_count, 2);
    assert_int_equal (result.transitions[0].from, JOBD_STATE_LOST);
    assert_int_equal (result.transitions[1].to, JOBD_STATE_QUEUED);
    jobd_apply_result_clear (&result);
    assert_int_equal (s_apply (self, s_retry (running, true, false), &result), JOBD_ESTATE);
    assert_non_null (result.reason);

    jobd_store_set_retry_forward (self->store, false);
    assert_int_equal (s_apply (self, s_retry (failed, false, false), &result), 0);
    assert_int_equal (result.outcome, JOBD_APPLY_CHANGED);
    assert_int_equal (result.transition_count, 2);
    jobd_apply_result_clear (&result);
    record = s_job (self, failed);
    assert_int_equal (record->state, JOBD_STATE_QUEUED);
    assert_int_equal (record->attempt, 2);
    jobd_job_destroy (&record);
}

//  While a job waits for jobd's retry (a plan's), the failure it waits after, heard again (a
//  redelivered message, a poller's late look), does not end the wait; a later attempt's failure
//  does, and so does a producer's FAILED after a RETRY_WAIT of its own.
static void
test_failure_heard_again_keeps_the_wait (void **state)
{
    s_fixture_t *self = (s_fixture_t *)*state;
    char job[32];
    s_job_in (self, JOBD_STATE_FAILED, job, sizeof job);
    s_expect (self, s_plan (job, 1, JOBD_STATE_RETRY_WAIT, jobd_now_ms () + 60000), 0);
    size_t length = s_history_length (self, job);
    jobd_event_t *again = s_event (JOBD_EVENT_OBSERVED, job);
    again->state = JOBD_STATE_FAILED;
    again->attempt = 1;
    assert_int_equal (s_expect (self, jobd_event_dup (again), 0), JOBD_APPLY_DUPLICATE);
    again->attempt = 0;
    assert_int_equal (s_expect (self, jobd_event_dup (again), 0), JOBD_APPLY_DUPLICATE);
    assert_int_equal (s_history_length (self, job), length);
    assert_int_equal (s_timers (self, job, NULL), 1);
    again->attempt = 2;
    assert_int_equal (s_expect (self, jobd_event_dup (again), 0), JOBD_APPLY_CHANGED);
    jobd_job_t *record = s_job (self, job);
    assert_int_equal (record->state, JOBD_STATE_FAILED);
    assert_int_equal (record->retry_at, 0);
    jobd_job_destroy (&record);
    assert_int_equal (s_timers (self, job, NULL), 0);

    //  A producer that retries itself (Kafka: RETRYING) and then gives up: its FAILED, with no
    //  attempt, ends its own wait.
    char producer[32];
    s_job_in (self, JOBD_STATE_FAILED, producer, sizeof producer);
    s_observe (self, producer, JOBD_STATE_RETRY_WAIT, 0);
    jobd_event_set (&again->job, producer);
    again->attempt = 0;
    assert_int_equal (s_expect (self, again, 0), JOBD_APPLY_CHANGED);
    record = s_job (self, producer);
    assert_int_equal (record->state, JOBD_STATE_FAILED);
    jobd_job_destroy (&record);
}

//  A late automatic plan does not undo a stop or a final decision of the same attempt (a manual
//  plan, policy `manual`, still may: a user asked); a plan due past 10 years is refused.
static void
test_stop_and_final_win_over_a_late_plan (void **state)
{
    s_fixture_t *self = (s_fixture_t *)*state;
    char job[32];
    s_job_in (self, JOBD_STATE_FAILED, job, sizeof job);
    int64_t due = jobd_now_ms () + 60000;
    s_expect (self, s_plan (job, 1, JOBD_STATE_RETRY_WAIT, due), 0);
    jobd_apply_result_t result;
    assert_int_equal (s_apply (self, s_retry (job, false, true), &result), 0);
    jobd_apply_result_clear (&result);
    assert_int_equal (s_expect (self, s_plan (job, 1, JOBD_STATE_RETRY_WAIT, due), 0),
                      JOBD_APPLY_DUPLICATE);
    jobd_job_t *record = s_job (self, job);
    assert_int_equal (record->state, JOBD_STATE_FAILED);
    assert_non_null (record->retry_final);
    jobd_job_destroy (&record);
    assert_int_equal (s_timers (self, job, NULL), 0);
    jobd_event_t *manual = s_plan (job, 1, JOBD_STATE_RETRY_WAIT, due);
    jobd_event_set (&manual->policy, "manual");
    assert_int_equal (s_expect (self, manual, 0), JOBD_APPLY_CHANGED);
    assert_int_equal (s_timers (self, job, NULL), 1);

    char far[32];
    s_job_in (self, JOBD_STATE_FAILED, far, sizeof far);
    int64_t decade = 10LL * 366 * 86400 * 1000;
    assert_int_equal (
        s_apply (self, s_plan (far, 1, JOBD_STATE_RETRY_WAIT, jobd_now_ms () + decade), &result),
        JOBD_EPROTO);
    jobd_apply_result_clear (&result);
    assert_int_equal (s_timers (self, far, NULL), 0);
    record = s_job (self, far);
    assert_int_equal (record->state, JOBD_STATE_FAILED);
    jobd_job_destroy (&record);
}

//  While jobd's own retry waits, an observed QUEUED of the attempt that failed (a redelivered
//  message, a stray `jobctl observe`) is a repeat: it does not skip the wait.
static void
test_queued_heard_while_waiting_keeps_the_wait (void **state)
{
    s_fixture_t *self = (s_fixture_t *)*state;
    char job[32];
    s_job_in (self, JOBD_STATE_FAILED, job, sizeof job);
    s_expect (self, s_plan (job, 1, JOBD_STATE_RETRY_WAIT, jobd_now_ms () + 60000), 0);
    jobd_event_t *queued = s_event (JOBD_EVENT_OBSERVED, job);
    queued->state = JOBD_STATE_QUEUED;
    queued->attempt = 1;
    s_expect (self, queued, 0);
    jobd_job_t *record = s_job (self, job);
    assert_int_equal (record->state, JOBD_STATE_RETRY_WAIT);
    assert_int_equal (record->attempt, 1);
    jobd_job_destroy (&record);
    assert_int_equal (s_timers (self, job, NULL), 1);
}

//  A final decision taken while the job was LOST ends when the job comes back: its next
//  failure is decided anew.
static void
test_final_of_a_lost_job_ends_when_it_returns (void **state)
{
    s_fixture_t *self = (s_fixture_t *)*state;
    char job[32];
    s_job_in (self, JOBD_STATE_LOST, job, sizeof job);
    s_expect (self, s_plan (job, 1, JOBD_STATE_FAILED, 0), 0);
    s_observe (self, job, JOBD_STATE_RUNNING, 1);
    jobd_job_t *record = s_job (self, job);
    assert_int_equal (record->state, JOBD_STATE_RUNNING);
    assert_null (record->retry_final);
    jobd_job_destroy (&record);
}

int
main (void)
{
#define T(test) cmocka_unit_test_setup_teardown (test, s_setup, s_teardown)
    const struct CMUnitTest tests[] = {
        T (test_plan_waits_with_its_timer_in_one_commit),
        T (test_plan_for_another_attempt_or_state_is_a_duplicate),
        T (test_lost_job_can_be_planned),
        T (test_final_plan_is_kept_once),
        T (test_timer_starts_the_next_attempt_once),
        T (test_cancel_and_stop_remove_the_timer),
        T (test_retry_now_plain_and_forwarded),
        T (test_failure_heard_again_keeps_the_wait),
        T (test_stop_and_final_win_over_a_late_plan),
        T (test_queued_heard_while_waiting_keeps_the_wait),
        T (test_final_of_a_lost_job_ends_when_it_returns),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
