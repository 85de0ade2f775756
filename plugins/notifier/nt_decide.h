//  notifier: what a transition of the log is, as the rules see it (nt_facts_t), given the job's
//  record as it is now: a FAILED (or LOST) is "final" when no retry follows, "recovered" is a
//  SUCCEEDED after a failed attempt. Pure: the reader passes the record and the time.
#ifndef NT_DECIDE_H_INCLUDED
#define NT_DECIDE_H_INCLUDED

#include "nt_rules.h"

//  Fills facts for transition (its strings borrowed from it). record is the job's record now (NULL:
//  the job is gone), now the time in ms, final_wait how long a FAILED without a retry decision
//  waits before it is called final. Returns 0 when the facts are known, or the ms to wait before
//  asking again (a FAILED of the record's last transition, with neither a retry nor a final
//  decision yet, younger than final_wait).
//
//  A FAILED or LOST is final when the record still holds that transition (same attempt, its seq
//  the record's last) and the record says no retry follows (retry_final), or when no decision came
//  within final_wait of the transition; not final when the job went on (RETRY_WAIT, a later
//  attempt, any later transition). A SUCCEEDED recovers when its attempt is past the first, or it
//  came from FAILED or LOST.
int64_t nt_decide (const jobd_event_t *transition, const jobd_job_t *record, int64_t now,
                   int64_t final_wait, nt_facts_t *facts);

//  The same for a stale event (events: stale only).
void nt_decide_stale (const jobd_event_t *stale, nt_facts_t *facts);

#endif
