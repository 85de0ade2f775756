//  The state machine, every pair of states, against a table written out here independently.
#include "jobd_fsm.h"
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <string.h>

//  Rows: from (NONE, QUEUED, SUBMITTED, RUNNING, SUCCEEDED, FAILED, CANCELLED, RETRY_WAIT,
//  UNKNOWN, LOST); columns: to, same order. A = allowed, R = repeat, . = refused. NONE -> NONE
//  is no state at all: refused, not a repeat.
static const char *s_expected[JOBD_STATE_COUNT] = {
    //          NQSRDFCWUL
    /* NONE */ ".AAAAAA.AA",
    /* QUEU */ ".RAAAAA...",
    /* SUBM */ "..RAAAA.AA",
    /* RUNN */ "...RAAA.AA",
    /* SUCC */ "....R.....",
    /* FAIL */ ".....R.A..",
    /* CANC */ "......R...",
    /* RWAI */ ".A...AAR..",
    /* UNKN */ "..AAAAA.RA",
    /* LOST */ "...AAAAA.R",
};

static void
test_every_pair (void **state)
{
    for (int from = 0; from < JOBD_STATE_COUNT; from++)
        for (int to = 0; to < JOBD_STATE_COUNT; to++) {
            char expected = s_expected[from][to];
            jobd_fsm_verdict_t verdict = jobd_fsm_check ((jobd_state_t)from, (jobd_state_t)to);
            jobd_fsm_verdict_t wanted = expected == 'A'   ? JOBD_FSM_ALLOW
                                        : expected == 'R' ? JOBD_FSM_REPEAT
                                                          : JOBD_FSM_REFUSE;
            if (verdict != wanted)
                fail_msg ("%s -> %s: got %d, want %d", jobd_state_name ((jobd_state_t)from),
                          jobd_state_name ((jobd_state_t)to), verdict, wanted);
        }
}

//  Values outside the enum, on either side, against every state and each other.
static void
test_out_of_range_is_refused (void **state)
{
    const int outside[] = {JOBD_STATE_COUNT, JOBD_STATE_COUNT + 1, 99, 255, 256, -1, -1000};
    const size_t count = sizeof outside / sizeof outside[0];
    for (size_t index = 0; index < count; index++) {
        jobd_state_t bad = (jobd_state_t)outside[index];
        for (int valid = 0; valid < JOBD_STATE_COUNT; valid++) {
            assert_int_equal (jobd_fsm_check (bad, (jobd_state_t)valid), JOBD_FSM_REFUSE);
            assert_int_equal (jobd_fsm_check ((jobd_state_t)valid, bad), JOBD_FSM_REFUSE);
        }
        for (size_t other = 0; other < count; other++)
            assert_int_equal (jobd_fsm_check (bad, (jobd_state_t)outside[other]), JOBD_FSM_REFUSE);
    }
}

static void
test_final_states_are_final (void **state)
{
    for (int to = 0; to < JOBD_STATE_COUNT; to++) {
        if (to != JOBD_STATE_SUCCEEDED)
            assert_int_equal (jobd_fsm_check (JOBD_STATE_SUCCEEDED, (jobd_state_t)to),
                              JOBD_FSM_REFUSE);
        if (to != JOBD_STATE_CANCELLED)
            assert_int_equal (jobd_fsm_check (JOBD_STATE_CANCELLED, (jobd_state_t)to),
                              JOBD_FSM_REFUSE);
    }
    assert_true (jobd_state_is_final (JOBD_STATE_FAILED));
    assert_false (jobd_state_is_final (JOBD_STATE_LOST));
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_every_pair),
        cmocka_unit_test (test_out_of_range_is_refused),
        cmocka_unit_test (test_final_states_are_final),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
