//  kafka-listener's positions in flight: sent in order, delivered in any order, and the cursor
//  moves only over the contiguous delivered run.
#include "kl_outbox.h"
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

static void
test_cursor_moves_over_the_delivered_run (void **state)
{
    kl_outbox_t *outbox = kl_outbox_new (10);
    assert_int_equal (kl_outbox_done_upto (outbox), 10);
    assert_false (kl_outbox_sent (outbox, 12)); //  a gap
    for (uint64_t position = 11; position <= 15; position++)
        assert_true (kl_outbox_sent (outbox, position));
    assert_int_equal (kl_outbox_sent_upto (outbox), 15);
    //  13 and 12 arrive before 11: the cursor waits for 11.
    assert_true (kl_outbox_done (outbox, 13));
    assert_true (kl_outbox_done (outbox, 12));
    assert_int_equal (kl_outbox_done_upto (outbox), 10);
    assert_true (kl_outbox_done (outbox, 11));
    assert_int_equal (kl_outbox_done_upto (outbox), 13);
    //  Twice, or never sent: refused.
    assert_false (kl_outbox_done (outbox, 12));
    assert_false (kl_outbox_done (outbox, 16));
    assert_true (kl_outbox_done (outbox, 15));
    assert_int_equal (kl_outbox_done_upto (outbox), 13);
    assert_true (kl_outbox_done (outbox, 14));
    assert_int_equal (kl_outbox_done_upto (outbox), 15);
    kl_outbox_destroy (&outbox);
    assert_null (outbox);
}

static void
test_room_is_bounded_and_the_ring_wraps (void **state)
{
    kl_outbox_t *outbox = kl_outbox_new (0);
    uint64_t position = 0;
    while (kl_outbox_room (outbox) > 0)
        assert_true (kl_outbox_sent (outbox, ++position));
    assert_int_equal (position, KL_OUTBOX_MAX);
    assert_false (kl_outbox_sent (outbox, position + 1));
    //  Around the ring three times, delivered newest first in pairs.
    for (int round = 0; round < 3 * KL_OUTBOX_MAX / 2; round++) {
        uint64_t first = kl_outbox_done_upto (outbox) + 1;
        assert_true (kl_outbox_done (outbox, first + 1));
        assert_int_equal (kl_outbox_done_upto (outbox), first - 1);
        assert_true (kl_outbox_done (outbox, first));
        assert_int_equal (kl_outbox_done_upto (outbox), first + 1);
        assert_true (kl_outbox_sent (outbox, ++position));
        assert_true (kl_outbox_sent (outbox, ++position));
    }
    assert_int_equal (kl_outbox_room (outbox), 0);
    kl_outbox_destroy (&outbox);
}

//  A gap in the log (jobd dropped entries after our cursor was removed) is moved past only once
//  nothing is in flight, and the cursor then goes over it.
static void
test_a_gap_is_skipped_once_nothing_is_in_flight (void **state)
{
    kl_outbox_t *outbox = kl_outbox_new (10);
    assert_true (kl_outbox_sent (outbox, 11));
    assert_false (kl_outbox_skip_to (outbox, 40)); //  11 is in flight
    assert_int_equal (kl_outbox_sent_upto (outbox), 11);
    assert_true (kl_outbox_done (outbox, 11));
    assert_false (kl_outbox_skip_to (outbox, 12)); //  no gap
    assert_true (kl_outbox_skip_to (outbox, 40));
    assert_int_equal (kl_outbox_sent_upto (outbox), 39);
    assert_int_equal (kl_outbox_done_upto (outbox), 39);
    assert_true (kl_outbox_sent (outbox, 40));
    assert_true (kl_outbox_done (outbox, 40));
    assert_int_equal (kl_outbox_done_upto (outbox), 40);
    assert_int_equal (kl_outbox_room (outbox), KL_OUTBOX_MAX);
    kl_outbox_destroy (&outbox);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_cursor_moves_over_the_delivered_run),
        cmocka_unit_test (test_room_is_bounded_and_the_ring_wraps),
        cmocka_unit_test (test_a_gap_is_skipped_once_nothing_is_in_flight),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
