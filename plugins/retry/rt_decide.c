//  retry: the decision on one failed job (rt_decide.h).
#include "rt_decide.h"
#include "jobd_cause.h"
#include <stdio.h>
#include <stdlib.h>

//  "1h30m", "2m0s", "45s", "800ms".
static void
s_duration (int64_t ms, char *out, size_t size)
{
    if (ms >= 3600000)
        snprintf (out, size, "%lldh%lldm", (long long)(ms / 3600000),
                  (long long)(ms % 3600000 / 60000));
    else if (ms >= 60000)
        snprintf (out, size, "%lldm%llds", (long long)(ms / 60000), (long long)(ms % 60000 / 1000));
    else if (ms >= 1000)
        snprintf (out, size, "%llds", (long long)(ms / 1000));
    else
        snprintf (out, size, "%lldms", (long long)ms);
}

static jobd_event_t *
s_plan (const rt_decide_t *self, const jobd_job_t *job, jobd_state_t state)
{
    jobd_event_t *plan = jobd_event_new (JOBD_EVENT_RETRY_PLAN);
    if (!plan)
        return NULL;
    jobd_event_set (&plan->source, self->source);
    jobd_event_set (&plan->job, job->id);
    jobd_event_set (&plan->kind, job->kind);
    jobd_event_set (&plan->backend, job->backend);
    plan->attempt = job->attempt ? job->attempt : 1;
    plan->state = state;
    plan->reply = true;
    return plan;
}

//  A plan FAILED: no retry follows, and why.
static jobd_event_t *
s_final (const rt_decide_t *self, const jobd_job_t *job, const char *class_name, const char *policy,
         const char *why)
{
    jobd_event_t *plan = s_plan (self, job, JOBD_STATE_FAILED);
    if (plan) {
        jobd_event_set (&plan->error, why);
        jobd_event_set (&plan->failure_class, class_name);
        jobd_event_set (&plan->policy, policy);
    }
    return plan;
}

//  Why jobd cannot run job again itself, or NULL when it can.
static const char *
s_not_resubmittable (const jobd_job_t *job)
{
    if (job->kind && strcmp (job->kind, "kafka") == 0)
        return "kafka jobs are retried by their producers, not by jobd";
    if (!job->spec || !*job->spec)
        return "a tracked job (no spec): jobd cannot resubmit it";
    return NULL;
}

jobd_event_t *
rt_decide (const rt_decide_t *self, const jobd_job_t *job, rt_decide_why_t why)
{
    bool lost = job->state == JOBD_STATE_LOST;
    bool manual = why == RT_DECIDE_MANUAL;
    if ((job->state != JOBD_STATE_FAILED && !lost) || (job->retry_final && !manual))
        return NULL;
    rt_rule_t rule;
    char policy[RT_POLICY_NAME_MAX + 1];
    rt_policy_resolve (self->policy, job->kind, job->backend, &rule, policy, sizeof policy);
    const rt_class_t *class = rt_classes_match (self->classes, job->cause, job->error);
    jobd_sdk_retry_t settings = rule.retry;
    jobd_sdk_retry_over (&settings, &class->retry);
    jobd_sdk_retry_t spec;
    jobd_sdk_retry_unset (&spec);
    char why_not[256];
    if (jobd_sdk_retry_from_spec (&spec, job->spec, why_not, sizeof why_not) == 0) {
        jobd_sdk_retry_over (&settings, &spec);
        rt_rule_t given = {.retry = spec, .rate = -1};
        if (rt_rule_sets (&given))
            snprintf (policy, sizeof policy, "spec");
    }
    if (lost && !manual && settings.on_lost != 1)
        return NULL; //  a lost job may still be running: not retried unless the policy says so
    if (manual)
        snprintf (policy, sizeof policy, "manual");
    char text[512];
    const char *cannot = s_not_resubmittable (job);
    if (cannot)
        return s_final (self, job, class->name, policy, cannot);
    uint32_t attempt = job->attempt ? job->attempt : 1;
    int64_t failed_at = job->finished_at ? job->finished_at : job->updated_at;
    if (why == RT_DECIDE_RESCAN && self->catch_up > 0 && failed_at &&
        self->started - failed_at > self->catch_up) {
        char ago[32], limit[32];
        s_duration (self->started - failed_at, ago, sizeof ago);
        s_duration (self->catch_up, limit, sizeof limit);
        snprintf (text, sizeof text,
                  "it failed %s before the retry plugin started, more than its catch_up (%s): "
                  "not retried",
                  ago, limit);
        return s_final (self, job, class->name, policy, text);
    }
    //  A class that sets max_attempts 1 is never retried, whatever the spec says.
    if (!manual && class->retry.max_attempts == 1) {
        char cause[JOBD_CAUSE_CUT + 8] = "";
        if (job->cause && *job->cause)
            snprintf (cause, sizeof cause, "%s", job->cause);
        else
            jobd_cause_generic (job->error, cause, sizeof cause);
        snprintf (text, sizeof text, "class %s: never retried%s%s%s", class->name,
                  *cause ? " (" : "", cause, *cause ? ")" : "");
        return s_final (self, job, class->name, policy, text);
    }
    if (!manual && settings.max_attempts >= 0 && attempt >= settings.max_attempts) {
        snprintf (text, sizeof text, "%u of %lld attempts failed", attempt,
                  (long long)settings.max_attempts);
        return s_final (self, job, class->name, policy, text);
    }
    int64_t due = self->now + rt_policy_backoff (&settings, attempt, self->random);
    due = rt_slots_take (self->slots, job->backend, rule.rate > 0 ? rule.rate : 0, due, self->now);
    jobd_event_t *plan = s_plan (self, job, JOBD_STATE_RETRY_WAIT);
    if (!plan)
        return NULL;
    plan->due = due > 0 ? due : 1;
    jobd_event_set (&plan->failure_class, class->name);
    jobd_event_set (&plan->policy, policy);
    char line[JOBD_CHANGE_MAX];
    char *spec_text = rt_change_apply (class->change, job->spec, class->name, line, sizeof line);
    if (spec_text)
        jobd_event_set (&plan->spec, spec_text);
    if (*line)
        jobd_event_set (&plan->change, line);
    free (spec_text);
    return plan;
}
