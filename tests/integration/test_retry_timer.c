//  Retry timers in the real jobd, across SIGKILL: a failed job's retry plan (from the test plugin
//  "planner") is durable once committed, its timer fires after a restart when it fell due while
//  jobd was down, and a kill at the due moment neither loses the retry nor runs it twice: one
//  RETRY_WAIT -> QUEUED, attempt 2, in the job's history.
#include "harness.h"
#include "jobd_map.h"
#include "jobd_store.h"
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <signal.h>
#include <string.h>

#define S_WAIT_MS 1500 //  the planner's wait from a failure to its retry

static harness_t s_harness;

static int
s_setup (void **state)
{
    harness_init (&s_harness, "retry-timer");
    char extra[128];
    snprintf (extra, sizeof extra, "plugins\n    planner\n        wait = %d\n", S_WAIT_MS);
    harness_write_config (&s_harness, extra);
    return 0;
}

static int
s_teardown (void **state)
{
    harness_fini (&s_harness);
    return 0;
}

//  Sends event (consumed) to the admin endpoint; the reply must be ok. The job it names (or made)
//  into job, when job is not NULL.
static void
s_request (jobd_event_t *event, char *job, size_t size)
{
    jobd_event_set (&event->source, "test");
    uint8_t *data;
    size_t data_size;
    assert_int_equal (jobd_event_encode (event, &data, &data_size, NULL, 0), 0);
    jobd_event_destroy (&event);
    msgpack_unpacked reply;
    msgpack_unpacked_init (&reply);
    assert_int_equal (harness_request (&s_harness, data, data_size, &reply, 5000), 0);
    free (data);
    const msgpack_object *ok = jobd_map_lookup (&reply.data, "ok");
    assert_true (ok && ok->via.boolean);
    if (job)
        assert_true (jobd_map_string (&reply.data, "job", job, size));
    msgpack_unpacked_destroy (&reply);
}

//  A job of a kind no plugin takes, tracked at a backend, then observed FAILED: the planner
//  plans its retry. Its id into job.
static void
s_failed_job (const char *ext, char *job, size_t size)
{
    jobd_event_t *track = jobd_event_new (JOBD_EVENT_TRACK);
    jobd_event_set (&track->kind, "flink");
    jobd_event_set (&track->backend, "b");
    jobd_event_set (&track->ext, ext);
    s_request (track, job, size);
    jobd_event_t *failed = jobd_event_new (JOBD_EVENT_OBSERVED);
    jobd_event_set (&failed->job, job);
    jobd_event_set (&failed->error, "lost executor 3: Connection refused");
    failed->state = JOBD_STATE_FAILED;
    s_request (failed, NULL, 0);
}

//  The job's record as committed (a read-only open beside jobd, or while it is down).
static jobd_job_t *
s_record (const char *job)
{
    jobd_store_t *store = NULL;
    assert_int_equal (jobd_store_open (s_harness.store, JOBD_STORE_RDONLY, 0, &store, NULL, 0), 0);
    jobd_job_t *record = NULL;
    assert_int_equal (jobd_store_job_get (store, job, &record), 0);
    jobd_store_destroy (&store);
    return record;
}

//  Waits until the job's record is in state, up to timeout_ms; returns the record then, or the
//  last one read.
static jobd_job_t *
s_wait_state (const char *job, jobd_state_t state, int timeout_ms)
{
    int64_t until = zclock_mono () + timeout_ms;
    jobd_job_t *record = s_record (job);
    while (record->state != state && zclock_mono () < until) {
        jobd_job_destroy (&record);
        zclock_sleep (10);
        record = s_record (job);
    }
    return record;
}

//  How many RETRY_WAIT -> QUEUED moves the job's history holds; the last one's attempt and src
//  into *attempt_p and source.
static size_t
s_requeued (const char *job, uint32_t *attempt_p, char *source, size_t size)
{
    jobd_store_t *store = NULL;
    assert_int_equal (jobd_store_open (s_harness.store, JOBD_STORE_RDONLY, 0, &store, NULL, 0), 0);
    jobd_event_t **history = NULL;
    size_t count = 0, moves = 0;
    assert_int_equal (jobd_store_history (store, job, &history, &count), 0);
    for (size_t index = 0; index < count; index++)
        if (history[index]->from == JOBD_STATE_RETRY_WAIT &&
            history[index]->state == JOBD_STATE_QUEUED) {
            moves++;
            *attempt_p = history[index]->attempt;
            snprintf (source, size, "%s", history[index]->source);
        }
    jobd_store_history_free (&history, count);
    jobd_store_destroy (&store);
    return moves;
}

//  Killed right after the plan's commit, down while the retry falls due: the timer is on disk,
//  and fires at the restart's first turn, once.
static void
test_retry_due_while_killed_fires_once_after_restart (void **state)
{
    harness_start (&s_harness);
    assert_true (harness_wait_ready (&s_harness, 10000));
    char job[64];
    s_failed_job ("app-1", job, sizeof job);
    jobd_job_t *record = s_wait_state (job, JOBD_STATE_RETRY_WAIT, 5000);
    assert_int_equal (record->state, JOBD_STATE_RETRY_WAIT);
    int64_t due = record->retry_at;
    jobd_job_destroy (&record);
    assert_int_equal (harness_stop (&s_harness, SIGKILL, 10000), 128 + SIGKILL);
    //  What the kill left: the wait and its timer, nothing fired yet.
    record = s_record (job);
    assert_int_equal (record->state, JOBD_STATE_RETRY_WAIT);
    assert_int_equal (record->attempt, 1);
    assert_string_equal (record->retry_class, "test");
    assert_true (due > 0);
    jobd_job_destroy (&record);
    //  Down while it falls due (the clock is what this waits for).
    while (jobd_now_ms () < due + 200)
        zclock_sleep (20);
    harness_start (&s_harness);
    assert_true (harness_wait_ready (&s_harness, 10000));
    record = s_wait_state (job, JOBD_STATE_QUEUED, 5000);
    assert_int_equal (record->state, JOBD_STATE_QUEUED);
    assert_int_equal (record->attempt, 2);
    assert_int_equal (record->retry_at, 0);
    jobd_job_destroy (&record);
    //  Once, also across a clean stop and another start.
    assert_int_equal (harness_stop (&s_harness, SIGTERM, 10000), 0);
    harness_start (&s_harness);
    assert_true (harness_wait_ready (&s_harness, 10000));
    uint32_t attempt = 0;
    char source[64] = "";
    assert_int_equal (s_requeued (job, &attempt, source, sizeof source), 1);
    assert_int_equal (attempt, 2);
    assert_string_equal (source, "retry");
    assert_int_equal (harness_stop (&s_harness, SIGTERM, 10000), 0);
}

//  Killed around the due moment (before, at, just after: whichever the firing commit met), then
//  restarted: the job ends QUEUED in attempt 2 with one requeue in its history, never two.
static void
test_kill_at_the_due_moment_neither_loses_nor_repeats (void **state)
{
    static const int offsets[] = {-30, 0, 20, 60};
    for (size_t round = 0; round < sizeof offsets / sizeof offsets[0]; round++) {
        harness_start (&s_harness);
        assert_true (harness_wait_ready (&s_harness, 10000));
        char job[64], ext[32];
        snprintf (ext, sizeof ext, "app-due-%zu", round);
        s_failed_job (ext, job, sizeof job);
        jobd_job_t *record = s_wait_state (job, JOBD_STATE_RETRY_WAIT, 5000);
        assert_int_equal (record->state, JOBD_STATE_RETRY_WAIT);
        int64_t kill_at = record->retry_at + offsets[round];
        jobd_job_destroy (&record);
        while (jobd_now_ms () < kill_at)
            zclock_sleep (1);
        assert_int_equal (harness_stop (&s_harness, SIGKILL, 10000), 128 + SIGKILL);
        uint32_t attempt = 0;
        char source[64] = "";
        assert_true (s_requeued (job, &attempt, source, sizeof source) <= 1);
        harness_start (&s_harness);
        assert_true (harness_wait_ready (&s_harness, 10000));
        record = s_wait_state (job, JOBD_STATE_QUEUED, 5000);
        assert_int_equal (record->state, JOBD_STATE_QUEUED);
        assert_int_equal (record->attempt, 2);
        jobd_job_destroy (&record);
        assert_int_equal (s_requeued (job, &attempt, source, sizeof source), 1);
        assert_int_equal (attempt, 2);
        assert_int_equal (harness_stop (&s_harness, SIGTERM, 10000), 0);
    }
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown (test_retry_due_while_killed_fires_once_after_restart,
                                         s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_kill_at_the_due_moment_neither_loses_nor_repeats,
                                         s_setup, s_teardown),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
