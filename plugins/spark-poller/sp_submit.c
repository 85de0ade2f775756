//  Submissions (spark-poller): the submission mark, the create request, and its answer.
#include "sp_poller_internal.h"
#include "sp_spec.h"
#include <stdlib.h>
#include <string.h>

//  A create on this master was answered with driver id: the newest known, on every backend with
//  this url, when it is newer.
static void
s_note_created (sp_poller_t *self, const sp_backend_t *backend, const char *id)
{
    for (size_t index = 0; index < self->backend_count; index++) {
        sp_backend_t *each = &self->backends[index];
        int order = 1;
        if (strcmp (each->url, backend->url) == 0 &&
            (!each->last_created[0] ||
             (sp_driver_id_order (id, each->last_created, &order) == 0 && order > 0)))
            snprintf (each->last_created, sizeof each->last_created, "%s", id);
    }
}

//  A create answered after its job stopped being followed (cancelled, or ended otherwise, while
//  the request was out): the backend made a driver or batch nobody wants. It is killed, once and
//  best effort, and the log says so; else it would run to its end unseen.
static void
s_kill_unwanted (sp_poller_t *self, sp_backend_t *backend, const char *job_id, const char *id)
{
    const char *method, *body;
    char url[1024];
    sp_backend_kill (backend, id, &method, url, sizeof url, &body);
    self->host->log (self->host, JOBD_LOG_WARN,
                     "%s ended while its create was out; backend %s made it as %s: %s", job_id,
                     backend->name, id, method ? "killing that" : "kill it by hand");
    if (method)
        sp_call_start (self, backend, NULL, SP_KILL, method, url, body);
}

//  A restarted master numbers its drivers from 0 again, under the second of each submission:
//  within the second of an earlier one (or with a clock set back) it gives a driver id another
//  job already holds. That job's record keeps it; this one follows the new driver as
//  "ID@TAG" (sp_backend.h), so that neither takes the other's id. Logged.
static void
s_reused_driver (sp_poller_t *self, sp_job_t *job, const char *id, char *ext, size_t ext_size)
{
    char *owner = NULL;
    if (self->host->job_find (self->host, job->backend->name, id, &owner) == 0 && owner &&
        strcmp (owner, job->id) != 0) {
        sp_backend_tagged_ext (id, job->tag, ext, ext_size);
        self->host->log (self->host, JOBD_LOG_WARN,
                         "%s: backend %s gave driver id %s, which %s already holds (the master "
                         "restarted and numbers its drivers from 0 again): following it as %s",
                         job->id, job->backend->name, id, owner, ext);
    }
    free (owner);
}

int
sp_submit_create_done (sp_poller_t *self, sp_backend_t *backend, const char *job_id, sp_job_t *job,
                       long http, const char *body, size_t size, const char *error, bool sent,
                       char *why, size_t why_size)
{
    sp_status_t status;
    sp_status_reset (&status);
    int rc = -1;
    if (!error)
        rc = backend->kind == SP_STANDALONE ? sp_standalone_create (body, size, http, &status)
                                            : sp_livy_batch (body, size, http, &status);
    snprintf (why, why_size, "%s",
              error             ? error
              : status.error[0] ? status.error
                                : "unreadable reply to a create");
    if (!job) {
        if (rc == 0 && status.id[0])
            s_kill_unwanted (self, backend, job_id, status.id);
        return rc == 0 || rc == JOBD_ESTATE ? 0 : -1;
    }
    if (rc == 0) {
        char ext[JOBD_ID_MAX + 1];
        snprintf (ext, sizeof ext, "%s", status.id);
        if (job->backend->kind == SP_STANDALONE) {
            s_note_created (self, job->backend, status.id);
            s_reused_driver (self, job, status.id, ext, sizeof ext);
        } else //  the name Livy gave the batch (the one sent: sp_backend_create)
            sp_backend_tagged_ext (status.id, status.name[0] ? status.name : job->tag, ext,
                                   sizeof ext);
        sp_job_set_ext (self, job, ext);
        sp_job_observe (self, job, JOBD_STATE_SUBMITTED, ext, NULL);
        return 0;
    }
    if (rc == JOBD_ESTATE && !status.standby) {
        sp_job_observe (self, job, JOBD_STATE_FAILED, NULL, status.error);
        return 0; //  the backend answered: a refusal is the job's failure, not the backend's
    }
    //  Not taken, or no usable answer. Sent again only when it certainly was not taken: never
    //  sent, a standby master, a 503 (the server did not process it).
    if (!sent || status.standby || http == 503)
        job->submit = true; //  again once the backend answers (it backs off)
    else if (job->backend->kind == SP_LIVY)
        sp_list_resume (self, job); //  found by its batch name, or sent again after a whole list
    else {
        char when[SP_ERROR_MAX + 64];
        snprintf (when, sizeof when, "without a usable answer (%.*s)", 200, why);
        jobd_job_t *record = NULL;
        jobd_host_job_get (self->host, job->id, &record);
        sp_seek_start (self, job, record ? record->spec : NULL, job->floor, when);
        jobd_job_destroy (&record);
    }
    return -1;
}

bool
sp_submit_marked (const sp_job_t *job, const jobd_job_t *record)
{
    return record->ext && strcmp (record->ext, job->tag) == 0;
}

void
sp_submit_send_create (sp_poller_t *self, sp_job_t *job, const jobd_job_t *record)
{
    const char *method;
    char url[1024], reason[512];
    char *body = NULL;
    sp_job_set_ext (self, job, NULL);
    job->submit = false;
    free (job->floor);
    job->floor = job->backend->kind == SP_STANDALONE ? strdup (job->backend->last_created) : NULL;
    job->sent_at = zclock_time ();
    if (sp_backend_submit (job->backend, record->id, job->tag, record->name, record->spec, &method,
                           url, sizeof url, &body, reason, sizeof reason)) {
        sp_job_observe (self, job, JOBD_STATE_FAILED, NULL, reason);
        return;
    }
    sp_call_start (self, job->backend, job, SP_SUBMIT, method, url, body);
    free (body);
}

//  The submission mark: before its create is sent, a job records its tag as its ext (an
//  observation of QUEUED, the state it is in: the store keeps the backend id a job lacked, and
//  nothing else). The create goes out once the broker replies that the mark is durable, so that
//  after a crash a queued job without the mark was certainly never sent (README, "Restart").
static void
s_mark (sp_poller_t *self, sp_job_t *job)
{
    jobd_event_t *event = jobd_event_new (JOBD_EVENT_OBSERVED);
    jobd_event_set (&event->source, self->host->plugin_name);
    jobd_event_set (&event->job, job->id);
    jobd_event_set (&event->ext, job->tag);
    jobd_event_set (&event->detail, "submission mark: the create request is about to be sent");
    event->state = JOBD_STATE_QUEUED;
    event->attempt = job->attempt;
    event->reply = true;
    if (jobd_plugin_send (self->bus, event) == 0) {
        zhashx_update (self->marks, event->id, strdup (job->id));
        job->marking = true;
        job->submit = false;
    } else
        self->host->log (self->host, JOBD_LOG_WARN, "cannot send the submission mark of %s",
                         job->id);
    jobd_event_destroy (&event);
}

void
sp_submit_job (sp_poller_t *self, const jobd_job_t *record)
{
    if (!jobd_host_acting (self->host, record->id))
        return; //  cluster mode: the instance that acts on it submits it
    //  This attempt already on its way (marking, its create out), at the backend (the create
    //  answered: the store may not have its SUBMITTED yet), or looked for there: a QUEUED
    //  transition that comes late (in a cluster, a job taken up from the store before its
    //  transition was published) must not send it again. Following it anew would forget all that.
    sp_job_t *known = (sp_job_t *)zhashx_lookup (self->jobs, record->id);
    if (known && known->attempt == record->attempt &&
        (known->marking || known->in_flight || known->ext[0] || known->seek || known->resume))
        return;
    sp_job_t *job = sp_job_follow (self, record);
    if (!job) {
        //  Not one of ours to submit: tell the operator rather than leave it queued for ever.
        sp_job_t orphan = {.attempt = record->attempt, .state = record->state};
        snprintf (orphan.id, sizeof orphan.id, "%s", record->id);
        char error[256];
        snprintf (error, sizeof error, "spark-poller has no backend named '%s'",
                  record->backend ? record->backend : "(none)");
        orphan.backend = NULL;
        jobd_event_t *event = jobd_event_new (JOBD_EVENT_OBSERVED);
        jobd_event_set (&event->source, self->host->plugin_name);
        jobd_event_set (&event->job, record->id);
        jobd_event_set (&event->error, error);
        event->state = JOBD_STATE_FAILED;
        event->attempt = record->attempt;
        jobd_plugin_send (self->bus, event);
        jobd_event_destroy (&event);
        return;
    }
    if (job->marking || job->in_flight)
        return; //  already on its way
    if (sp_submit_marked (job, record))
        sp_submit_send_create (self, job, record);
    else
        s_mark (self, job);
}

int
sp_submit_validate (void *state, const jobd_host_t *host, const jobd_submission_t *submission,
                    char *reason, size_t reason_size)
{
    (void)host;
    sp_poller_t *self = (sp_poller_t *)state;
    //  Only what init set and run never changes: the backends' names and kinds.
    const char *name = submission->backend;
    sp_backend_t *backend = name ? sp_poller_backend (self, name) : NULL;
    if (!backend) {
        char names[400] = "";
        size_t used = 0;
        for (size_t index = 0; index < self->backend_count && used < sizeof names; index++)
            if (self->backends[index].kind == SP_STANDALONE ||
                self->backends[index].kind == SP_LIVY)
                used += (size_t)snprintf (names + used, sizeof names - used, "%s%s",
                                          used ? ", " : "", self->backends[index].name);
        if (name)
            snprintf (reason, reason_size,
                      "no backend named '%s'; backends that take submissions: %s", name,
                      names[0] ? names : "none");
        else
            snprintf (reason, reason_size,
                      "no backend given (key 'backend'); backends that take submissions: %s",
                      names[0] ? names : "none");
        return JOBD_EINVAL;
    }
    if (backend->kind != SP_STANDALONE && backend->kind != SP_LIVY) {
        snprintf (reason, reason_size,
                  "backend '%s' (%s) follows jobs only: submit through a standalone or livy "
                  "backend, or `jobctl track` the application",
                  backend->name, backend->kind == SP_YARN ? "yarn" : "history");
        return JOBD_EINVAL;
    }
    return sp_spec_check (submission->spec,
                          backend->kind == SP_LIVY ? SP_SPEC_LIVY : SP_SPEC_STANDALONE, reason,
                          reason_size);
}
