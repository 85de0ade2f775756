//  The state machine: the one transition table every state change goes through.
#ifndef JOBD_FSM_H_INCLUDED
#define JOBD_FSM_H_INCLUDED

#include "jobd_state.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum {
    JOBD_FSM_ALLOW = 0, //  a legal transition
    JOBD_FSM_REPEAT,    //  to == from: a duplicate observation, not a transition
    JOBD_FSM_REFUSE     //  a backward or impossible move (RUNNING after SUCCEEDED, ...)
} jobd_fsm_verdict_t;

//  Returns the verdict for moving a job from `from` to `to`. JOBD_STATE_NONE as `from` means a
//  new job. Any state outside the enum is refused.
jobd_fsm_verdict_t jobd_fsm_check (jobd_state_t from, jobd_state_t to);

#ifdef __cplusplus
}
#endif
#endif
