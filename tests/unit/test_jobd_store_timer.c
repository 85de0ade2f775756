//  The store's durable timers: keyed by due time, taken in the batch that fires them, removed by
//  their job's next transition, armed by the arm function in the commit that enters a state, kept
//  across a reopen; and the stale flag with its count.
#include "jobd_store.h"
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include "../store_dir.h"
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    char dir[64];
    jobd_store_t *store;
    int armed; //  calls of the arm function
} s_fixture_t;

static int
s_setup (void **state)
{
    s_fixture_t *self = (s_fixture_t *)calloc (1, sizeof *self);
    self->store = store_dir_open (self->dir, sizeof self->dir, "timer");
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

//  Submits one job in its own commit; its id into id.
static void
s_new_job (s_fixture_t *self, char *id, size_t size)
{
    jobd_event_t *submit = jobd_event_new (JOBD_EVENT_SUBMIT);
    jobd_event_set (&submit->source, "test");
    jobd_event_set (&submit->kind, "spark");
    jobd_event_set (&submit->spec, "{}");
    jobd_apply_result_t result;
    assert_int_equal (jobd_store_begin (self->store), 0);
    assert_int_equal (jobd_store_apply (self->store, submit, &result), 0);
    assert_int_equal (jobd_store_commit (self->store), 0);
    snprintf (id, size, "%s", result.job);
    jobd_apply_result_clear (&result);
    jobd_event_destroy (&submit);
}

//  Observes job in state (a transition or a duplicate) in its own commit.
static void
s_observe (s_fixture_t *self, const char *id, jobd_state_t state)
{
    jobd_event_t *observed = jobd_event_new (JOBD_EVENT_OBSERVED);
    jobd_event_set (&observed->source, "test");
    jobd_event_set (&observed->job, id);
    observed->state = state;
    jobd_apply_result_t result;
    assert_int_equal (jobd_store_begin (self->store), 0);
    assert_int_equal (jobd_store_apply (self->store, observed, &result), 0);
    assert_int_equal (jobd_store_commit (self->store), 0);
    jobd_apply_result_clear (&result);
    jobd_event_destroy (&observed);
}

static void
s_set (s_fixture_t *self, const char *id, const char *name, int64_t due)
{
    assert_int_equal (jobd_store_begin (self->store), 0);
    assert_int_equal (jobd_store_timer_set (self->store, id, name, due, name, strlen (name)), 0);
    assert_int_equal (jobd_store_commit (self->store), 0);
}

static size_t
s_take (s_fixture_t *self, int64_t now, size_t max, jobd_store_timer_t *timers)
{
    size_t count = 99;
    assert_int_equal (jobd_store_begin (self->store), 0);
    assert_int_equal (jobd_store_timer_take (self->store, now, max, timers, &count), 0);
    assert_int_equal (jobd_store_commit (self->store), 0);
    return count;
}

static void
test_due_order_bounded_take_and_next (void **state)
{
    s_fixture_t *self = (s_fixture_t *)*state;
    assert_int_equal (jobd_store_timer_next (self->store), 0);
    s_set (self, "job-2", "b", 3000);
    s_set (self, "job-1", "a", 2000);
    s_set (self, "job-3", "c", 1000);
    s_set (self, "job-9", "late", 900000);
    assert_int_equal (jobd_store_timer_next (self->store), 1000);
    //  Setting a name again replaces it: job-3's "c" is now due later.
    s_set (self, "job-3", "c", 4000);
    jobd_store_timer_t timers[8];
    assert_int_equal (s_take (self, 999, 8, timers), 0);
    //  Bounded per call: two of the three due, first due first.
    assert_int_equal (s_take (self, 5000, 2, timers), 2);
    assert_string_equal (timers[0].job, "job-1");
    assert_string_equal (timers[0].name, "a");
    assert_int_equal (timers[0].due, 2000);
    assert_memory_equal (timers[0].value, "a", 1);
    assert_string_equal (timers[1].job, "job-2");
    assert_int_equal (jobd_store_timer_next (self->store), 4000);
    assert_int_equal (s_take (self, 5000, 8, timers), 1);
    assert_string_equal (timers[0].job, "job-3");
    assert_int_equal (timers[0].due, 4000);
    //  Taken timers are gone, from both indexes.
    size_t count = 9;
    assert_int_equal (jobd_store_timer_list (self->store, "job-3", timers, 8, &count), 0);
    assert_int_equal (count, 0);
    assert_int_equal (jobd_store_timer_next (self->store), 900000);
}

static void
test_aborted_take_keeps_timers (void **state)
{
    s_fixture_t *self = (s_fixture_t *)*state;
    s_set (self, "job-1", "a", 1000);
    jobd_store_timer_t timers[4];
    size_t count = 0;
    assert_int_equal (jobd_store_begin (self->store), 0);
    assert_int_equal (jobd_store_timer_take (self->store, 5000, 4, timers, &count), 0);
    assert_int_equal (count, 1);
    jobd_store_abort (self->store);
    //  A crash before the commit is an abort: the timer fires at the next try, and only then.
    assert_int_equal (jobd_store_timer_next (self->store), 1000);
    assert_int_equal (s_take (self, 5000, 4, timers), 1);
    assert_int_equal (s_take (self, 5000, 4, timers), 0);
}

static void
test_timers_survive_reopen (void **state)
{
    s_fixture_t *self = (s_fixture_t *)*state;
    s_set (self, "job-1", "deadline", 1234);
    jobd_store_destroy (&self->store);
    assert_int_equal (jobd_store_open (self->dir, 0, 0, &self->store, NULL, 0), 0);
    assert_int_equal (jobd_store_timer_next (self->store), 1234);
    jobd_store_timer_t timers[2];
    assert_int_equal (s_take (self, 2000, 2, timers), 1);
    assert_string_equal (timers[0].name, "deadline");
}

//  The arm function used here: one timer per state entered, due at the state's number.
static int
s_arm (jobd_store_t *store, const jobd_job_t *job, void *arg)
{
    s_fixture_t *self = (s_fixture_t *)arg;
    self->armed++;
    return jobd_store_timer_set (store, job->id, "deadline", 100 + job->state, "x", 1);
}

static void
test_transition_replaces_its_jobs_timers (void **state)
{
    s_fixture_t *self = (s_fixture_t *)*state;
    jobd_store_set_arm_fn (self->store, s_arm, self);
    char id[32], other[32];
    s_new_job (self, id, sizeof id);
    s_new_job (self, other, sizeof other);
    assert_int_equal (self->armed, 2);
    s_set (self, id, "extra", 50000);
    jobd_store_timer_t timers[4];
    size_t count = 0;
    assert_int_equal (jobd_store_timer_list (self->store, id, timers, 4, &count), 0);
    assert_int_equal (count, 2);
    //  QUEUED -> SUBMITTED: every timer of the job goes, the new state's is armed; the other
    //  job's stays.
    s_observe (self, id, JOBD_STATE_SUBMITTED);
    assert_int_equal (jobd_store_timer_list (self->store, id, timers, 4, &count), 0);
    assert_int_equal (count, 1);
    assert_int_equal (timers[0].due, 100 + JOBD_STATE_SUBMITTED);
    assert_int_equal (jobd_store_timer_list (self->store, other, timers, 4, &count), 0);
    assert_int_equal (count, 1);
    assert_int_equal (timers[0].due, 100 + JOBD_STATE_QUEUED);
    //  A duplicate is no transition: nothing re-armed, but freshness is recorded.
    int armed = self->armed;
    s_observe (self, id, JOBD_STATE_SUBMITTED);
    assert_int_equal (self->armed, armed);
    jobd_job_t *job = NULL;
    assert_int_equal (jobd_store_job_get (self->store, id, &job), 0);
    assert_true (job->confirmed_at > 0);
    jobd_job_destroy (&job);
    assert_int_equal (jobd_store_job_get (self->store, other, &job), 0);
    assert_int_equal (job->confirmed_at, 0); //  a submit is nobody's confirmation
    jobd_job_destroy (&job);
    jobd_store_set_arm_fn (self->store, NULL, NULL);
}

static void
test_stale_once_cleared_by_transition (void **state)
{
    s_fixture_t *self = (s_fixture_t *)*state;
    char id[32];
    s_new_job (self, id, sizeof id);
    const jobd_job_t *flagged = NULL;
    assert_int_equal (jobd_store_begin (self->store), 0);
    //  Not in that state: nothing.
    assert_int_equal (jobd_store_stale_set (self->store, id, JOBD_STATE_RUNNING, "r", &flagged),
                      JOBD_ESTATE);
    assert_int_equal (jobd_store_stale_set (self->store, id, JOBD_STATE_QUEUED, "late", &flagged),
                      0);
    assert_string_equal (flagged->stale, "late");
    //  Once per state entered.
    assert_int_equal (jobd_store_stale_set (self->store, id, JOBD_STATE_QUEUED, "again", &flagged),
                      JOBD_ESTATE);
    assert_int_equal (jobd_store_commit (self->store), 0);
    uint64_t count = 0;
    assert_int_equal (jobd_store_stale_count (self->store, &count), 0);
    assert_int_equal (count, 1);
    jobd_job_t *job = NULL;
    assert_int_equal (jobd_store_job_get (self->store, id, &job), 0);
    assert_string_equal (job->stale, "late");
    assert_true (job->stale_at > 0);
    jobd_job_destroy (&job);
    s_observe (self, id, JOBD_STATE_RUNNING);
    assert_int_equal (jobd_store_job_get (self->store, id, &job), 0);
    assert_null (job->stale);
    jobd_job_destroy (&job);
    assert_int_equal (jobd_store_stale_count (self->store, &count), 0);
    assert_int_equal (count, 0);
}

int
main (void)
{
#define T(name) cmocka_unit_test_setup_teardown (name, s_setup, s_teardown)
    const struct CMUnitTest tests[] = {
        T (test_due_order_bounded_take_and_next), T (test_aborted_take_keeps_timers),
        T (test_timers_survive_reopen), T (test_transition_replaces_its_jobs_timers),
        T (test_stale_once_cleared_by_transition)};
    return cmocka_run_group_tests (tests, NULL, NULL);
}
