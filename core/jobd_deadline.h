//  Deadlines: how long a job may stay in a state (per state, per kind and backend, per job in
//  its spec), armed as store timers by the commit that enters the state, and what firing one
//  does: the job is flagged stale once, then an optional action after a grace.
#ifndef JOBD_DEADLINE_H_INCLUDED
#define JOBD_DEADLINE_H_INCLUDED

#include "jobd_config.h"
#include "jobd_store.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct _jobd_deadline_t jobd_deadline_t;

//  Reads the policy from config (core/deadline_* and core/deadlines; config may be NULL: the
//  defaults). Returns 0 and sets *self_p, or JOBD_ECONFIG with a reason naming the key.
int jobd_deadline_new (jobd_config_t *config, jobd_deadline_t **self_p, char *reason,
                       size_t reason_size);

//  Destroys the policy; NULL-safe; sets *self_p to NULL.
void jobd_deadline_destroy (jobd_deadline_t **self_p);

//  Sets the deadline of state (all kinds), action (NULL: keep) and grace (ms; negative: keep).
//  For tests and the benchmark, which run without a config file.
void jobd_deadline_set (jobd_deadline_t *self, jobd_state_t state, int64_t limit,
                        const char *action, int64_t grace);

//  The store's arm function (jobd_store_arm_fn): arms the deadline of the state job enters.
//  arg is the policy.
int jobd_deadline_arm (jobd_store_t *store, const jobd_job_t *job, void *arg);

//  What firing one timer did, in the open batch: to publish after its commit.
typedef struct {
    jobd_event_t *stale;        //  the stale event to publish (fresh), or NULL
    jobd_event_t *action;       //  the event the action applied (fresh), or NULL
    jobd_apply_result_t result; //  what applying it did
    int rc;                     //  0, or why the action could not apply (logged by the caller)
} jobd_deadline_fired_t;

//  Fires one timer taken from the store (jobd_store_timer_take) in the open batch: a deadline
//  flags its job stale and arms the action after the grace; an action applies (lost: an
//  observed LOST; cancel: a cancel). Timers of other names are left alone. Returns 0, or an
//  error that killed the batch. The caller clears fired with jobd_deadline_fired_clear.
int jobd_deadline_fire (jobd_deadline_t *self, jobd_store_t *store, const jobd_store_timer_t *timer,
                        jobd_deadline_fired_t *fired);

//  Frees what fired holds and zeroes it.
void jobd_deadline_fired_clear (jobd_deadline_fired_t *fired);

#ifdef __cplusplus
}
#endif
#endif
