//  The state machine: the one transition table every state change goes through.
#include "jobd_fsm.h"
#include <stdint.h>

#define BIT(state) (1u << JOBD_STATE_##state)

//  For each state, the states it may move to. Read a row as "from X, a job may become ...".
static const uint32_t s_allowed[JOBD_STATE_COUNT] = {
    //  A new job: registered in any state but RETRY_WAIT (a retry needs a failure first).
    [JOBD_STATE_NONE] = BIT (QUEUED) | BIT (SUBMITTED) | BIT (RUNNING) | BIT (SUCCEEDED) |
                        BIT (FAILED) | BIT (CANCELLED) | BIT (UNKNOWN) | BIT (LOST),
    //  Not yet at a backend: the backend takes it, refuses it, or it is cancelled. Short jobs
    //  may already be running or done when first seen.
    [JOBD_STATE_QUEUED] =
        BIT (SUBMITTED) | BIT (RUNNING) | BIT (SUCCEEDED) | BIT (FAILED) | BIT (CANCELLED),
    [JOBD_STATE_SUBMITTED] = BIT (RUNNING) | BIT (SUCCEEDED) | BIT (FAILED) | BIT (CANCELLED) |
                             BIT (UNKNOWN) | BIT (LOST),
    [JOBD_STATE_RUNNING] =
        BIT (SUCCEEDED) | BIT (FAILED) | BIT (CANCELLED) | BIT (UNKNOWN) | BIT (LOST),
    [JOBD_STATE_SUCCEEDED] = 0,
    //  Failed: only a scheduled retry moves it on.
    [JOBD_STATE_FAILED] = BIT (RETRY_WAIT),
    [JOBD_STATE_CANCELLED] = 0,
    //  Waiting for the next attempt: its timer (or `retry now`) starts it, a cancel ends it, and
    //  `retry stop` (or a later attempt's failure, told by its producer) makes it final.
    [JOBD_STATE_RETRY_WAIT] = BIT (QUEUED) | BIT (CANCELLED) | BIT (FAILED),
    //  The backend does not know the current state: any news is better.
    [JOBD_STATE_UNKNOWN] = BIT (SUBMITTED) | BIT (RUNNING) | BIT (SUCCEEDED) | BIT (FAILED) |
                           BIT (CANCELLED) | BIT (LOST),
    //  Lost, then heard of again; or retried (where the retry policy says so: it may still run).
    [JOBD_STATE_LOST] =
        BIT (RUNNING) | BIT (SUCCEEDED) | BIT (FAILED) | BIT (CANCELLED) | BIT (RETRY_WAIT),
};

jobd_fsm_verdict_t
jobd_fsm_check (jobd_state_t from, jobd_state_t to)
{
    if ((unsigned)from >= JOBD_STATE_COUNT || (unsigned)to >= JOBD_STATE_COUNT ||
        to == JOBD_STATE_NONE)
        return JOBD_FSM_REFUSE;
    if (from == to)
        return JOBD_FSM_REPEAT;
    return (s_allowed[from] & (1u << to)) ? JOBD_FSM_ALLOW : JOBD_FSM_REFUSE;
}
