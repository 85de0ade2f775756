//  kafka-listener's messages waiting for the broker's answer: answered in the order sent, the
//  ring grows and wraps, and an answer past older entries drops them (they never will be).
#include "kl_pending.h"
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <stdio.h>

static void
s_push (kl_pending_queue_t *queue, int number)
{
    kl_pending_t *entry = kl_pending_queue_push (queue);
    assert_non_null (entry);
    snprintf (entry->id, sizeof entry->id, "e-%d", number);
    entry->offset = number;
}

static void
test_answers_in_order_across_growth_and_wrap (void **state)
{
    kl_pending_queue_t *queue = kl_pending_queue_new ();
    int next = 0, answered = 0;
    //  Pushed and answered in waves, so that the ring wraps and grows more than once.
    for (int wave = 1; wave <= 4; wave++) {
        for (int count = 0; count < 900 * wave; count++)
            s_push (queue, next++);
        while (answered < next - 100) {
            char id[32];
            snprintf (id, sizeof id, "e-%d", answered);
            size_t skipped = 99;
            kl_pending_t *entry = kl_pending_queue_answer (queue, id, &skipped);
            assert_non_null (entry);
            assert_int_equal (skipped, 0);
            assert_int_equal (entry->offset, answered);
            kl_pending_queue_pop (queue);
            answered++;
        }
        assert_int_equal (kl_pending_queue_size (queue), 100);
    }
    kl_pending_queue_destroy (&queue);
    assert_null (queue);
}

static void
test_unknown_and_skipped_answers (void **state)
{
    kl_pending_queue_t *queue = kl_pending_queue_new ();
    for (int number = 0; number < 5; number++)
        s_push (queue, number);
    size_t skipped = 99;
    //  An id nobody waits for (a whole batch refused): nothing moves.
    assert_null (kl_pending_queue_answer (queue, "batch-1", &skipped));
    assert_int_equal (skipped, 0);
    assert_int_equal (kl_pending_queue_size (queue), 5);
    //  The answer to e-3: e-0 to e-2 never will be.
    kl_pending_t *entry = kl_pending_queue_answer (queue, "e-3", &skipped);
    assert_non_null (entry);
    assert_int_equal (entry->offset, 3);
    assert_int_equal (skipped, 3);
    kl_pending_queue_pop (queue);
    assert_int_equal (kl_pending_queue_size (queue), 1);
    assert_null (kl_pending_queue_answer (queue, "e-0", &skipped));
    kl_pending_queue_pop (queue);
    kl_pending_queue_pop (queue); //  empty: nothing happens
    assert_int_equal (kl_pending_queue_size (queue), 0);
    kl_pending_queue_destroy (&queue);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_answers_in_order_across_growth_and_wrap),
        cmocka_unit_test (test_unknown_and_skipped_answers),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
