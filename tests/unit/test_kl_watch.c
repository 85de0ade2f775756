//  kafka-listener's heartbeat deadlines: a RUNNING job that promised to report and stays silent
//  is stale once, then lost after the grace; a sign of life or a new state resets it.
#include "kl_watch.h"
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>

typedef struct {
    char job[64];
    kl_watch_verdict_t verdict;
    int64_t last_heard, deadline;
    int count;
} s_seen_t;

static void
s_record (const char *job, kl_watch_verdict_t verdict, int64_t last_heard, int64_t deadline,
          void *arg)
{
    s_seen_t *seen = (s_seen_t *)arg;
    snprintf (seen->job, sizeof seen->job, "%s", job);
    seen->verdict = verdict;
    seen->last_heard = last_heard;
    seen->deadline = deadline;
    seen->count++;
}

static void
test_kind_deadline_stale_then_lost (void **state)
{
    kl_watch_t *watch = kl_watch_new (500);
    kl_watch_set_kind (watch, "stream", 1000);
    s_seen_t seen = {0};
    kl_watch_state (watch, "job-1", "stream", JOBD_STATE_RUNNING, 10000);
    kl_watch_state (watch, "job-2", "batch", JOBD_STATE_RUNNING, 10000); //  no deadline
    assert_int_equal (kl_watch_size (watch), 1);
    //  The next line is the deadline: 1000 ms away.
    assert_int_equal (kl_watch_check (watch, 10000, s_record, &seen), 1000);
    assert_int_equal (kl_watch_check (watch, 10999, s_record, &seen), 1);
    assert_int_equal (seen.count, 0);
    kl_watch_check (watch, 11000, s_record, &seen);
    assert_int_equal (seen.count, 1);
    assert_string_equal (seen.job, "job-1");
    assert_int_equal (seen.verdict, KL_WATCH_STALE);
    assert_int_equal (seen.last_heard, 10000);
    assert_int_equal (seen.deadline, 1000);
    assert_int_equal (kl_watch_stale (watch), 1);
    //  Stale is said once; lost after the grace.
    assert_int_equal (kl_watch_check (watch, 11200, s_record, &seen), 300);
    assert_int_equal (seen.count, 1);
    kl_watch_check (watch, 11500, s_record, &seen);
    assert_int_equal (seen.count, 2);
    assert_int_equal (seen.verdict, KL_WATCH_LOST);
    kl_watch_check (watch, 20000, s_record, &seen);
    assert_int_equal (seen.count, 2);
    kl_watch_destroy (&watch);
    assert_null (watch);
}

static void
test_heard_resets_and_promise_overrides (void **state)
{
    kl_watch_t *watch = kl_watch_new (500);
    assert_true (kl_watch_idle (watch));
    kl_watch_set_kind (watch, "stream", 1000);
    assert_false (kl_watch_idle (watch));
    s_seen_t seen = {0};
    kl_watch_state (watch, "job-1", "stream", JOBD_STATE_RUNNING, 0);
    kl_watch_heard (watch, "job-1", 0, 900);
    kl_watch_check (watch, 1500, s_record, &seen);
    assert_int_equal (seen.count, 0);
    kl_watch_check (watch, 1900, s_record, &seen);
    assert_int_equal (seen.count, 1);
    //  A sign of life from a stale job clears it; its own promise replaces the kind's.
    kl_watch_heard (watch, "job-1", 5000, 2000);
    assert_int_equal (kl_watch_stale (watch), 0);
    kl_watch_check (watch, 6999, s_record, &seen);
    assert_int_equal (seen.count, 1);
    kl_watch_check (watch, 7000, s_record, &seen);
    assert_int_equal (seen.count, 2);
    assert_int_equal (seen.deadline, 5000);
    //  A job of a kind without a deadline is watched once it promises.
    kl_watch_t *other = kl_watch_new (0);
    kl_watch_heard (other, "job-9", 0, 0);
    assert_true (kl_watch_idle (other)); //  a sign of life without a promise: nothing to watch
    kl_watch_heard (other, "job-9", 100, 0);
    assert_false (kl_watch_idle (other));
    kl_watch_destroy (&other);
    kl_watch_heard (watch, "job-3", 200, 0);
    kl_watch_state (watch, "job-3", "batch", JOBD_STATE_RUNNING, 100);
    seen.count = 0;
    kl_watch_check (watch, 299, s_record, &seen);
    assert_int_equal (seen.count, 0);
    kl_watch_check (watch, 300, s_record, &seen);
    assert_int_equal (seen.count, 1);
    assert_string_equal (seen.job, "job-3");
    kl_watch_destroy (&watch);
}

static void
test_other_states_are_not_watched (void **state)
{
    kl_watch_t *watch = kl_watch_new (0);
    kl_watch_set_kind (watch, "stream", 100);
    s_seen_t seen = {0};
    kl_watch_state (watch, "job-1", "stream", JOBD_STATE_SUBMITTED, 0);
    kl_watch_check (watch, 10000, s_record, &seen);
    assert_int_equal (seen.count, 0);
    //  RUNNING starts the clock at that moment, not at the first sight.
    kl_watch_state (watch, "job-1", "stream", JOBD_STATE_RUNNING, 10000);
    kl_watch_check (watch, 10050, s_record, &seen);
    assert_int_equal (seen.count, 0);
    //  A final state forgets the job.
    kl_watch_state (watch, "job-1", "stream", JOBD_STATE_SUCCEEDED, 10060);
    assert_int_equal (kl_watch_size (watch), 0);
    kl_watch_check (watch, 99999, s_record, &seen);
    assert_int_equal (seen.count, 0);
    //  LOST comes back to RUNNING: watched again, from then.
    kl_watch_state (watch, "job-2", "stream", JOBD_STATE_RUNNING, 0);
    kl_watch_check (watch, 100, s_record, &seen);
    assert_int_equal (seen.count, 2); //  stale and, with no grace, lost
    kl_watch_state (watch, "job-2", "stream", JOBD_STATE_LOST, 100);
    kl_watch_state (watch, "job-2", "stream", JOBD_STATE_RUNNING, 5000);
    kl_watch_check (watch, 5099, s_record, &seen);
    assert_int_equal (seen.count, 2);
    kl_watch_check (watch, 5100, s_record, &seen);
    assert_int_equal (seen.count, 4);
    kl_watch_destroy (&watch);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_kind_deadline_stale_then_lost),
        cmocka_unit_test (test_heard_resets_and_promise_overrides),
        cmocka_unit_test (test_other_states_are_not_watched),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
