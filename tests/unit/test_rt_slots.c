//  retry: per-backend resubmission slots (plugins/retry/rt_slots.c): a storm of retries is spread
//  so that no second starts more than the rate.
#include "rt_policy.h"
#include "rt_slots.h"
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#define NOW 1700000000000LL //  ms, on a second

//  10,000 failures at once, full jitter over 30 s, rate 50: no second over 50, and the last
//  start at least 200 s out (10,000 / 50).
static void
test_storm (void **state)
{
    (void)state;
    rt_slots_t *slots = rt_slots_new ();
    jobd_sdk_retry_t settings;
    jobd_sdk_retry_unset (&settings);
    settings.backoff_initial = 30000;
    settings.backoff_max = 1800000;
    settings.multiplier = 2;
    settings.jitter = JOBD_SDK_JITTER_FULL;
    uint64_t random = 0x9E3779B97F4A7C15ULL;
    int64_t last = 0;
    enum { SECONDS = 400 };
    static uint32_t per_second[SECONDS];
    memset (per_second, 0, sizeof per_second);
    for (int index = 0; index < 10000; index++) {
        random ^= random << 13, random ^= random >> 7, random ^= random << 17;
        int64_t due = NOW + rt_policy_backoff (&settings, 1, random);
        int64_t slot = rt_slots_take (slots, "livy", 50, due, NOW);
        assert_true (slot >= due);
        assert_true (slot - NOW < SECONDS * 1000);
        per_second[(slot - NOW) / 1000]++;
        last = slot > last ? slot : last;
    }
    for (int second = 0; second < SECONDS; second++)
        assert_true (per_second[second] <= 50);
    assert_true (last - NOW >= 199000);
    assert_int_equal (rt_slots_pending (slots, NOW), 10000);
    //  Another backend has its own slots.
    assert_int_equal (rt_slots_take (slots, "local", 50, NOW + 10, NOW), NOW + 10);
    assert_int_equal (rt_slots_at (slots, "local", NOW), 1);
    rt_slots_destroy (&slots);
    rt_slots_destroy (&slots);
}

static void
test_rate_and_time (void **state)
{
    (void)state;
    rt_slots_t *slots = rt_slots_new ();
    //  No limit: the due time as is, counted.
    for (int index = 0; index < 100; index++)
        assert_int_equal (rt_slots_take (slots, NULL, 0, NOW + 1500, NOW), NOW + 1500);
    assert_int_equal (rt_slots_at (slots, NULL, NOW + 1000), 100);
    //  Rate 2: the third in a second moves to the next second's start.
    assert_int_equal (rt_slots_take (slots, "b", 2, NOW + 500, NOW), NOW + 500);
    assert_int_equal (rt_slots_take (slots, "b", 2, NOW + 700, NOW), NOW + 700);
    assert_int_equal (rt_slots_take (slots, "b", 2, NOW + 900, NOW), NOW + 1000);
    //  A slot given back is free again.
    rt_slots_give (slots, "b", NOW + 700, NOW);
    assert_int_equal (rt_slots_take (slots, "b", 2, NOW + 800, NOW), NOW + 800);
    //  The second retry moved to a second takes its place half a second in (rate 2), not the
    //  second's start with the first.
    assert_int_equal (rt_slots_take (slots, "b", 2, NOW + 900, NOW), NOW + 1500);
    assert_int_equal (rt_slots_take (slots, "b", 2, NOW + 100, NOW), NOW + 2000);
    //  Retries found at start count, without moving.
    rt_slots_count (slots, "c", NOW + 5000, NOW);
    rt_slots_count (slots, "c", NOW + 5000, NOW);
    assert_int_equal (rt_slots_take (slots, "c", 2, NOW + 5000, NOW), NOW + 6000);
    //  Time passes: seconds gone are dropped, later ones kept.
    assert_int_equal (rt_slots_pending (slots, NOW), 100 + 5 + 3);
    assert_int_equal (rt_slots_take (slots, "c", 2, NOW + 6000, NOW + 5500), NOW + 6000);
    assert_int_equal (rt_slots_pending (slots, NOW + 5500), 4);
    assert_int_equal (rt_slots_at (slots, "c", NOW + 6000), 2);
    assert_int_equal (rt_slots_take (slots, "c", 2, NOW + 5100, NOW + 5500), NOW + 7000);
    //  Far ahead (over 30 days): not counted, not moved.
    int64_t far = NOW + 40LL * 86400 * 1000;
    assert_int_equal (rt_slots_take (slots, "c", 1, far, NOW + 5500), far);
    assert_int_equal (rt_slots_take (slots, "c", 1, far, NOW + 5500), far);
    rt_slots_destroy (&slots);
}

//  Rate 1, 20,000 retries due now: one a second, in order (the full seconds are skipped as a
//  run, not scanned again for each retry); a slot given back in the run is taken by the next.
static void
test_low_rate_run (void **state)
{
    (void)state;
    rt_slots_t *slots = rt_slots_new ();
    for (int64_t index = 0; index < 20000; index++)
        assert_int_equal (rt_slots_take (slots, "yarn", 1, NOW, NOW), NOW + index * 1000);
    rt_slots_give (slots, "yarn", NOW + 5000, NOW);
    assert_int_equal (rt_slots_take (slots, "yarn", 1, NOW, NOW), NOW + 5000);
    assert_int_equal (rt_slots_take (slots, "yarn", 1, NOW + 3000, NOW), NOW + 20000 * 1000LL);
    //  Another rate on the same backend counts the same seconds.
    assert_int_equal (rt_slots_take (slots, "yarn", 2, NOW + 7000, NOW), NOW + 7000);
    rt_slots_destroy (&slots);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_storm),
        cmocka_unit_test (test_rate_and_time),
        cmocka_unit_test (test_low_rate_run),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
