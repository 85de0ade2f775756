//  Cancels (spark-poller): the kill at the backend, and what comes of it.
#include "sp_poller_internal.h"
#include <string.h>

//  ---------------------------------------------------------------------------------------------
//  Cancel: the kill at the backend, and what comes of it. A refusal, or a kill that does not
//  take effect, is logged and sent to the broker (cancel.failed), which records it on the job.

//  Tells the broker (and the log) that the job's kill did not work: status "refused" or
//  "failed" end the cancel, "retrying" says it is sent again.
static void
s_cancel_failed (sp_poller_t *self, const char *id, sp_backend_t *backend, const char *ext,
                 const char *status, const char *reason)
{
    self->host->log (self->host, JOBD_LOG_WARN, "%s: cancel %s at backend %s: %s", id, status,
                     backend ? backend->name : "(none)", reason);
    jobd_event_t *event = jobd_event_new (JOBD_EVENT_CANCEL_FAILED);
    if (!event || jobd_event_set (&event->source, self->host->plugin_name) ||
        jobd_event_set (&event->job, id) || jobd_event_set (&event->status, status) ||
        jobd_event_set (&event->error, reason) ||
        jobd_event_set (&event->backend, backend ? backend->name : NULL) ||
        jobd_event_set (&event->ext, ext && *ext ? ext : NULL) ||
        jobd_plugin_send (self->bus, event))
        self->host->log (self->host, JOBD_LOG_ERROR, "%s: cannot send the cancel's failure", id);
    jobd_event_destroy (&event);
}

static void
s_kill_send (sp_poller_t *self, sp_job_t *job)
{
    const char *method, *body;
    char url[1024];
    job->kill_at = 0;
    job->kill_accepted = false;
    sp_backend_kill (job->backend, job->ext, &method, url, sizeof url, &body);
    if (!method) {
        job->killing = false;
        s_cancel_failed (self, job->id, job->backend, job->ext, "refused",
                         "a history server cannot kill an application: kill it where it runs");
        return;
    }
    job->kill_tries++;
    if (!sp_call_start (self, job->backend, job, SP_KILL, method, url, body))
        job->kill_at = zclock_time () + self->interval_min; //  tried again at the next walk
}

//  The kill did not work this time: sent again after a while, or, past cancel_retries, given up.
static void
s_kill_again (sp_poller_t *self, sp_job_t *job, const char *why, int64_t delay)
{
    char reason[SP_ERROR_MAX + 200];
    if (job->kill_tries > self->cancel_retries) {
        job->killing = false;
        snprintf (reason, sizeof reason, "%s (gave up after %d kill%s)", why, job->kill_tries,
                  job->kill_tries > 1 ? "s" : "");
        s_cancel_failed (self, job->id, job->backend, job->ext, "failed", reason);
        return;
    }
    snprintf (reason, sizeof reason, "%s; sending the kill again %s%.1f s (%d of %d)", why,
              delay ? "in " : "now, then waiting ",
              (double)(delay
                           ? delay
                           : self->cancel_timeout << (job->kill_tries < 5 ? job->kill_tries : 4)) /
                  1000,
              job->kill_tries + 1, self->cancel_retries + 1);
    s_cancel_failed (self, job->id, job->backend, job->ext, "retrying", reason);
    job->kill_at = zclock_time () + delay;
    job->kill_accepted = false;
}

void
sp_kill_track_cancel (sp_poller_t *self, sp_job_t *job, const jobd_event_t *event)
{
    if (!job || !job->ext[0]) {
        char reason[400];
        snprintf (reason, sizeof reason, "spark-poller %s: nothing was killed",
                  !job ? "does not follow this job (no backend of that name, or it is not at one)"
                       : "has no backend id for this job yet");
        s_cancel_failed (self, event->job,
                         job ? job->backend : sp_poller_backend (self, event->backend), event->ext,
                         "refused", reason);
        return;
    }
    self->host->log (self->host, JOBD_LOG_INFO, "%s: killing %s at backend %s", job->id, job->ext,
                     job->backend->name);
    job->killing = true;
    job->kill_tries = 0;
    s_kill_send (self, job);
}

void
sp_kill_track_due (sp_poller_t *self, sp_job_t *job)
{
    if (job->kill_accepted) {
        char why[400];
        snprintf (
            why, sizeof why, "the kill was accepted but %s is still %s at backend %s %.1f s later",
            job->ext, jobd_state_name (job->state), job->backend->name,
            (double)(self->cancel_timeout << (job->kill_tries < 5 ? job->kill_tries - 1 : 4)) /
                1000);
        s_kill_again (self, job, why, 0);
        if (!job->killing)
            return;
    }
    s_kill_send (self, job);
}

int
sp_kill_track_done (sp_poller_t *self, sp_job_t *job, long http, const char *body, size_t size,
                    const char *error, char *why, size_t why_size)
{
    sp_status_t status;
    sp_status_reset (&status);
    if (!job || !job->killing) {
        snprintf (why, why_size, "%s", error ? error : "");
        return 0; //  the job ended meanwhile: nothing to say
    }
    sp_kind_t kind = job->backend->kind;
    sp_kill_t verdict = error             ? SP_KILL_UNCLEAR
                        : kind == SP_YARN ? sp_yarn_kill (body, size, http, &status)
                        : kind == SP_LIVY ? sp_livy_kill (body, size, http, &status)
                        : kind == SP_STANDALONE
                            ? sp_standalone_kill_verdict (body, size, http, &status)
                            : SP_KILL_UNCLEAR;
    snprintf (why, why_size, "%s", error ? error : status.error);
    if (kind == SP_LIVY && verdict == SP_KILL_REFUSED && http == 404 && job->kill_tries > 1) {
        //  A DELETE sent again after one that got no answer, and the batch is gone: the first
        //  one stopped it (Livy answers once the stop finishes, which can outlast a timeout).
        verdict = SP_KILL_DONE;
        status.state = JOBD_STATE_CANCELLED;
    }
    char reason[SP_ERROR_MAX + 200];
    switch (verdict) {
        case SP_KILL_ACCEPTED:
            job->kill_accepted = true;
            job->kill_at = zclock_time () + (self->cancel_timeout
                                             << (job->kill_tries < 5 ? job->kill_tries - 1 : 4));
            job->due = 0; //  look at once, then as usual: the state will show the kill
            return 0;
        case SP_KILL_DONE:
            job->killing = false;
            job->due = 0;
            if (status.state == JOBD_STATE_CANCELLED)
                sp_job_observe (self, job, JOBD_STATE_CANCELLED, NULL,
                                kind == SP_LIVY ? "deleted through Livy" : "killed through YARN");
            else
                self->host->log (self->host, JOBD_LOG_INFO, "%s: %s", job->id, status.error);
            return 0;
        case SP_KILL_REFUSED:
            job->killing = false;
            job->due = 0;
            snprintf (reason, sizeof reason, "backend %s refused to kill %s: %s",
                      job->backend->name, job->ext, status.error);
            s_cancel_failed (self, job->id, job->backend, job->ext, "refused", reason);
            return 0;
        case SP_KILL_UNCLEAR:
            break;
    }
    snprintf (reason, sizeof reason, "no usable answer from backend %s to the kill of %s: %s",
              job->backend->name, job->ext, why);
    int64_t delay = self->interval_min << (job->kill_tries < 8 ? job->kill_tries : 8);
    s_kill_again (self, job, reason, delay < self->cancel_timeout ? delay : self->cancel_timeout);
    return error || http >= 500 ? -1 : 0;
}
