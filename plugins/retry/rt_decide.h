//  retry: the decision on one failed job: a `retry.plan` RETRY_WAIT (when, which class and
//  policy, what changes) or FAILED (why no retry follows). Pure but for the slots it takes.
#ifndef RT_DECIDE_H_INCLUDED
#define RT_DECIDE_H_INCLUDED

#include "rt_class.h"
#include "rt_policy.h"
#include "rt_slots.h"

#ifdef __cplusplus
extern "C" {
#endif

//  Why the decision is asked for.
typedef enum {
    RT_DECIDE_FAILED, //  the job just failed (or went LOST)
    RT_DECIDE_MANUAL, //  a retry command: no attempt limit, no "never" class (policy "manual")
    RT_DECIDE_RESCAN  //  found at start without a decision: as FAILED, unless older than catch_up
} rt_decide_why_t;

//  What a decision reads.
typedef struct {
    const rt_policy_t *policy;
    const rt_classes_t *classes;
    rt_slots_t *slots;
    const char *source; //  the plugin's name, the plan's src
    int64_t now;        //  ms
    int64_t started;    //  ms: when the plugin started (RT_DECIDE_RESCAN)
    int64_t catch_up;   //  ms: a job failed longer than this before start is not retried
    uint64_t random;    //  64 random bits, for the jitter
} rt_decide_t;

//  The plan for job, or NULL when there is none to make: the job is not FAILED or LOST, a LOST
//  job whose policy does not retry lost jobs, a job with a final decision already (retry_final;
//  but for RT_DECIDE_MANUAL). The plan (fresh) has reply set; a RETRY_WAIT one took a slot of
//  the job's backend at its due time.
jobd_event_t *rt_decide (const rt_decide_t *self, const jobd_job_t *job, rt_decide_why_t why);

#ifdef __cplusplus
}
#endif
#endif
