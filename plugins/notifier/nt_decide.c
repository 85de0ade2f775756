//  notifier: the facts of a transition (see nt_decide.h).
#include "nt_decide.h"
#include <string.h>

static void
s_labels (const jobd_event_t *event, nt_facts_t *facts)
{
    facts->state = event->state;
    facts->kind = event->kind;
    facts->backend = event->backend;
    facts->name = event->name;
}

int64_t
nt_decide (const jobd_event_t *transition, const jobd_job_t *record, int64_t now,
           int64_t final_wait, nt_facts_t *facts)
{
    memset (facts, 0, sizeof *facts);
    s_labels (transition, facts);
    facts->events = 1u << NT_EVENT_STATE;
    jobd_state_t state = transition->state;
    if (state == JOBD_STATE_FAILED || state == JOBD_STATE_LOST) {
        facts->events |= 1u << NT_EVENT_FAILED;
        bool holds = record &&
                     (record->state == JOBD_STATE_FAILED || record->state == JOBD_STATE_LOST) &&
                     (!transition->attempt || record->attempt == transition->attempt) &&
                     record->last_seq <= transition->seq;
        if (!record)
            facts->events |= 1u << NT_EVENT_FINAL; //  gone: nothing can follow
        else if (holds && record->retry_final)
            facts->events |= 1u << NT_EVENT_FINAL;
        else if (holds) {
            int64_t due = transition->ts + final_wait;
            if (now < due)
                return due - now;
            facts->events |= 1u << NT_EVENT_FINAL;
        }
    } else if (state == JOBD_STATE_SUCCEEDED) {
        facts->events |= 1u << NT_EVENT_SUCCEEDED;
        if (transition->attempt > 1 || transition->from == JOBD_STATE_FAILED ||
            transition->from == JOBD_STATE_LOST)
            facts->events |= 1u << NT_EVENT_RECOVERED;
    } else if (state == JOBD_STATE_CANCELLED)
        facts->events |= 1u << NT_EVENT_CANCELLED;
    return 0;
}

void
nt_decide_stale (const jobd_event_t *stale, nt_facts_t *facts)
{
    memset (facts, 0, sizeof *facts);
    s_labels (stale, facts);
    facts->events = 1u << NT_EVENT_STALE;
}
