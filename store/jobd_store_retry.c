//  Retries in the store: the retry plugin's decisions (`retry.plan`), the `retry` command (now,
//  stop, or neither: forwarded to the plugin), and the `retry` timer that starts the next attempt
//  in the commit that takes it (README.md, "Retries").
#include "jobd_store_internal.h"
#include <stdio.h>
#include <string.h>

#define S_DUE_MAX_MS (10LL * 365 * 86400 * 1000) //  a plan's wait: at most about 10 years

//  A `retry` timer's value: a version byte, then the attempt it leads from (be32). The firing
//  checks the job is still waiting in that attempt.
#define S_TIMER_VERSION    1
#define S_TIMER_VALUE_SIZE 5

//  Refusals an operator can act on, for the reply (static: result->reason borrows them).
static const char s_due_too_far[] = "retry.plan: 'due' more than 10 years ahead";
static const char s_waiting[] =
    "the job waits in RETRY_WAIT for its next attempt (retry_at): retry with 'now' starts it at "
    "once (jobctl retry --now), with 'stop' ends it (jobctl retry --cancel)";
static const char s_not_waiting[] =
    "'stop' ends a pending retry, and the job is not in RETRY_WAIT: nothing to stop";
static const char s_not_failed[] = "only a FAILED, LOST or RETRY_WAIT job can be retried";

void
jobd_store_set_retry_forward (jobd_store_t *self, bool forward)
{
    self->retry_forward = forward;
}

//  RETRY_WAIT -> QUEUED with attempt + 1: a `now`, a plain retry without the plugin, or the timer.
static int
s_next_attempt (jobd_store_t *self, jobd_job_t *job, const jobd_event_t *cause,
                jobd_apply_result_t *result)
{
    int rc = jobd_store_new_attempt (self, job);
    return rc ? rc : jobd_store_move (self, job, JOBD_STATE_QUEUED, cause, result);
}

//  A failed (or lost) job goes through RETRY_WAIT to its next attempt at once (two transitions);
//  a waiting one skips the rest of its wait. Any other state: the state machine refuses, before
//  anything is written.
static int
s_now (jobd_store_t *self, jobd_job_t *job, const jobd_event_t *event, jobd_apply_result_t *result)
{
    int rc = 0;
    if (job->state != JOBD_STATE_RETRY_WAIT)
        rc = jobd_store_move (self, job, JOBD_STATE_RETRY_WAIT, event, result);
    if (rc == JOBD_ESTATE)
        result->reason = s_not_failed;
    return rc ? rc : s_next_attempt (self, job, event, result);
}

//  A pending retry stopped: RETRY_WAIT -> FAILED for good (the move removes the timer), and the
//  record says who stopped it.
static int
s_stop (jobd_store_t *self, jobd_job_t *job, const jobd_event_t *event, jobd_apply_result_t *result)
{
    if (job->state != JOBD_STATE_RETRY_WAIT) {
        result->reason = s_not_waiting;
        return JOBD_ESTATE;
    }
    char final[JOBD_ID_MAX + 32];
    snprintf (final, sizeof final, "retry stopped by %s", event->source);
    self->writes++; //  the batch's copy changes: a failure from here on costs the batch
    if (jobd_event_set (&job->retry_final, final))
        return -ENOMEM;
    return jobd_store_move (self, job, JOBD_STATE_FAILED, event, result);
}

int
jobd_store_retry_apply (jobd_store_t *self, jobd_job_t *job, const jobd_event_t *event,
                        jobd_apply_result_t *result)
{
    if (event->stop)
        return s_stop (self, job, event, result);
    //  Waiting already: a plain retry would either do nothing or skip the wait; the operator
    //  says which.
    if (!event->now && job->state == JOBD_STATE_RETRY_WAIT) {
        result->reason = s_waiting;
        return JOBD_ESTATE;
    }
    bool failed = job->state == JOBD_STATE_FAILED || job->state == JOBD_STATE_LOST;
    if (event->now || !self->retry_forward)
        return s_now (self, job, event, result);
    if (!failed) {
        result->reason = s_not_failed;
        return JOBD_ESTATE;
    }
    //  The retry plugin plans it by its policy, and answers with a retry.plan.
    result->outcome = JOBD_APPLY_FORWARD;
    return 0;
}

//  A plan's next attempt: FAILED/LOST -> RETRY_WAIT (the transition carries due, class, policy,
//  change), the record's retry fields and spec, then the `retry` timer, after the move (which
//  removed the job's old timers and armed its deadline), all in this batch.
static int
s_plan_wait (jobd_store_t *self, jobd_job_t *job, const jobd_event_t *event,
             jobd_apply_result_t *result)
{
    int rc = jobd_store_move (self, job, JOBD_STATE_RETRY_WAIT, event, result);
    if (rc)
        return rc;
    job->retry_at = event->due;
    if (jobd_event_set (&job->retry_class, event->failure_class) ||
        jobd_event_set (&job->retry_policy, event->policy) ||
        jobd_event_set (&job->retry_final, NULL) ||
        (event->spec && jobd_event_set (&job->spec, event->spec)))
        return -ENOMEM;
    uint8_t value[S_TIMER_VALUE_SIZE] = {S_TIMER_VERSION};
    jobd_store_put_be (value + 1, 4, job->attempt);
    return jobd_store_timer_set (self, job->id, JOBD_STORE_TIMER_RETRY, event->due, value,
                                 sizeof value);
}

//  A plan that no retry follows: no transition, the record says why (once: a repeat is a
//  duplicate).
static int
s_plan_final (jobd_store_t *self, jobd_job_t *job, const jobd_event_t *event,
              jobd_apply_result_t *result)
{
    if (job->retry_final && strcmp (job->retry_final, event->error) == 0) {
        result->outcome = JOBD_APPLY_DUPLICATE;
        return 0;
    }
    self->writes++; //  the batch's copy changes: a failure from here on costs the batch
    if (jobd_event_set (&job->retry_final, event->error) ||
        (event->failure_class && jobd_event_set (&job->retry_class, event->failure_class)) ||
        (event->policy && jobd_event_set (&job->retry_policy, event->policy)))
        return -ENOMEM;
    jobd_store_batch_dirty (self, job);
    result->outcome = JOBD_APPLY_CHANGED;
    return 0;
}

int
jobd_store_retry_plan (jobd_store_t *self, jobd_job_t *job, const jobd_event_t *event,
                       jobd_apply_result_t *result)
{
    //  Decided on a failure the job has left (a retry, a cancel, a newer attempt), or decided
    //  twice: nothing to do.
    bool failed = job->state == JOBD_STATE_FAILED || job->state == JOBD_STATE_LOST;
    if (!failed || event->attempt != job->attempt) {
        result->outcome = JOBD_APPLY_DUPLICATE;
        return 0;
    }
    if (event->state == JOBD_STATE_FAILED)
        return s_plan_final (self, job, event, result);
    //  A wait past S_DUE_MAX_MS is no retry anyone means (and would overflow the timers' sums).
    if (event->due > jobd_now_ms () + S_DUE_MAX_MS) {
        result->reason = s_due_too_far;
        return JOBD_EPROTO;
    }
    //  This attempt's retry was stopped or decided final: a plan still in flight does not undo
    //  that, but one a user asked for (policy manual) does.
    if (job->retry_final && !(event->policy && strcmp (event->policy, "manual") == 0)) {
        result->outcome = JOBD_APPLY_DUPLICATE;
        return 0;
    }
    return s_plan_wait (self, job, event, result);
}

//  A firing that failed for want of memory or of the store (not for the job: it moved on, its
//  record is damaged) fails the batch, so that the commit does not take the timer with it: the
//  broker fires it again (a job left in RETRY_WAIT without its timer would wait for ever).
static int
s_keep_timer (jobd_store_t *self, int rc)
{
    if (rc == -ENOMEM || rc == JOBD_ESTORE || rc == JOBD_EFULL)
        self->failed = rc;
    return rc;
}

int
jobd_store_retry_fire (jobd_store_t *self, const jobd_store_timer_t *timer,
                       jobd_apply_result_t *result)
{
    memset (result, 0, sizeof *result);
    if (!self->txn)
        return JOBD_ESTORE;
    if (self->failed)
        return self->failed;
    snprintf (result->job, sizeof result->job, "%s", timer->job);
    if (timer->value_size != S_TIMER_VALUE_SIZE || timer->value[0] != S_TIMER_VERSION)
        return JOBD_EPROTO;
    uint32_t attempt = (uint32_t)jobd_store_get_be (timer->value + 1, 4);
    jobd_job_t *job = NULL;
    int rc = jobd_store_batch_get (self, timer->job, &job);
    if (rc) {
        rc = jobd_store_damaged (self, rc, "firing the retry timer of job '%.64s'", timer->job);
        return s_keep_timer (self, rc);
    }
    //  It moved on (its move would have removed the timer: one an older jobd left behind).
    if (job->state != JOBD_STATE_RETRY_WAIT || job->attempt != attempt)
        return JOBD_ESTATE;
    jobd_event_t cause = {.version = JOBD_PROTO_VERSION,
                          .type = JOBD_EVENT_RETRY,
                          .source = JOBD_STORE_SOURCE_RETRY,
                          .job = job->id,
                          .now = true};
    unsigned writes = self->writes;
    rc = s_next_attempt (self, job, &cause, result);
    if (rc && self->writes != writes)
        self->failed = rc;
    s_keep_timer (self, rc);
    if (rc)
        jobd_apply_result_clear (result);
    else
        result->outcome = JOBD_APPLY_CHANGED;
    return rc;
}
