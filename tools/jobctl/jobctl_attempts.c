//  jobctl show's attempts section: a job's history grouped by attempt, with each attempt's end,
//  its cause and the retry planned after it.
#include "jobctl_print.h"

//  One attempt's transitions, history[first..last], and the ones that matter in them.
typedef struct {
    uint32_t attempt;
    size_t first, last;
    const jobd_event_t *end;     //  its last move outside RETRY_WAIT: the state it reached
    const jobd_event_t *plan;    //  its last move to RETRY_WAIT: the retry planned after it
    const jobd_event_t *stopped; //  a move out of RETRY_WAIT but to QUEUED: retry stopped
} s_attempt_t;

//  A transition without an attempt (never written by this jobd) belongs to the one before.
static uint32_t
s_attempt_of (const jobd_event_t *transition, uint32_t previous)
{
    return transition->attempt ? transition->attempt : previous ? previous : 1;
}

static void
s_attempt_scan (s_attempt_t *self, jobd_event_t *const *history)
{
    self->end = self->plan = self->stopped = NULL;
    for (size_t index = self->first; index <= self->last; index++) {
        const jobd_event_t *transition = history[index];
        if (transition->state == JOBD_STATE_RETRY_WAIT)
            self->plan = transition;
        else if (transition->from == JOBD_STATE_RETRY_WAIT) {
            //  Its QUEUED starts this attempt (the wait was the one before's); anything else
            //  ends the wait without a next attempt.
            if (transition->state != JOBD_STATE_QUEUED)
                self->stopped = transition;
        } else
            self->end = transition;
    }
}

static bool
s_ended (jobd_state_t state)
{
    return jobd_state_is_final (state) || state == JOBD_STATE_LOST;
}

//  The retry planned after the attempt: who and what decided it, what changes, when.
static void
s_print_plan (FILE *out, const jobd_job_t *job, const s_attempt_t *attempt, bool current,
              int64_t now)
{
    const jobd_event_t *plan = attempt->plan;
    char when[32], countdown[48];
    fprintf (out, "    retry:    planned %s by %s",
             jobctl_format_time (plan->ts, when, sizeof when), plan->source ? plan->source : "?");
    if (plan->failure_class)
        fprintf (out, ", class %s", plan->failure_class);
    if (plan->policy)
        fprintf (out, ", policy %s", plan->policy);
    fprintf (out, "%s\n", plan->due > 0 ? "" : ", at once");
    if (plan->change)
        fprintf (out, "    change:   %s\n", plan->change);
    bool pending = current && job->state == JOBD_STATE_RETRY_WAIT;
    int64_t due = pending && job->retry_at > 0 ? job->retry_at : plan->due;
    if (pending && due > 0)
        fprintf (out, "    next attempt %u at %s, %s\n", attempt->attempt + 1,
                 jobctl_format_time (due, when, sizeof when),
                 jobctl_format_countdown (due, now, countdown, sizeof countdown));
    else if (due > 0 && !attempt->stopped)
        fprintf (out, "    due:      attempt %u at %s\n", attempt->attempt + 1,
                 jobctl_format_time (due, when, sizeof when));
}

static void
s_print_attempt (FILE *out, const jobd_job_t *job, const s_attempt_t *attempt,
                 jobd_event_t *const *history, bool current, int64_t now)
{
    const jobd_event_t *end = attempt->end;
    const jobd_event_t *start = history[attempt->first];
    bool ended = end && s_ended (end->state);
    char when[32], span[48];
    fprintf (out, "  attempt %u: %s%s\n", attempt->attempt,
             end ? jobd_state_name (end->state) : jobd_state_name (start->state),
             ended || !current ? "" : " (now)");
    fprintf (out, "    started:  %s\n", jobctl_format_time (start->ts, when, sizeof when));
    if (ended) {
        fprintf (out, "    ended:    %s, after %s\n",
                 jobctl_format_time (end->ts, when, sizeof when),
                 jobctl_format_span (end->ts - start->ts, span, sizeof span));
        const char *reason = end->cause ? end->cause : end->error;
        if (reason)
            fprintf (out, "    cause:    %.*s\n", jobctl_line_length (reason), reason);
    }
    if (attempt->plan)
        s_print_plan (out, job, attempt, current, now);
    else if (current && job->state == JOBD_STATE_RETRY_WAIT && job->retry_at > 0) {
        char countdown[48]; //  its plan is older than the history shown
        fprintf (out, "    next attempt %u at %s, %s\n", attempt->attempt + 1,
                 jobctl_format_time (job->retry_at, when, sizeof when),
                 jobctl_format_countdown (job->retry_at, now, countdown, sizeof countdown));
    }
    if (attempt->stopped)
        fprintf (out, "    retry stopped: %s by %s (%s)\n",
                 jobctl_format_time (attempt->stopped->ts, when, sizeof when),
                 attempt->stopped->source ? attempt->stopped->source : "?",
                 jobd_state_name (attempt->stopped->state));
    if (current && job->retry_final)
        fprintf (out, "    no retry: %s\n", job->retry_final);
}

void
jobctl_print_attempts (FILE *out, const jobd_job_t *job, jobd_event_t *const *history, size_t count,
                       int64_t now)
{
    if (count == 0)
        return;
    fprintf (out, "attempts:\n");
    s_attempt_t attempt = {.attempt = s_attempt_of (history[0], 0)};
    for (size_t index = 0; index < count; index++) {
        bool last = index + 1 == count;
        uint32_t next = last ? 0 : s_attempt_of (history[index + 1], attempt.attempt);
        if (!last && next == attempt.attempt)
            continue;
        attempt.last = index;
        s_attempt_scan (&attempt, history);
        s_print_attempt (out, job, &attempt, history, last, now);
        attempt.attempt = next;
        attempt.first = index + 1;
    }
}
